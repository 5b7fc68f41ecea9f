/**
 * Big-endian reads and writes on a Uint8Array, and the base class of the
 * header views. Views are thin (buffer + offset + length) and reusable:
 * `reset(buf, off, len)` repoints one without allocating.
 */

export function get16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function get32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** A little-endian 32-bit read (netlink attribute payloads). */
export function get32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** True when `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The parts one after another in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `v` as `n` big-endian bytes (the low `n` bytes of it). */
export function bigToBytes(v: bigint, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** Big-endian bytes as one number. */
export function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function set16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function set32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** A view over `len` bytes of `buf` from `off`. Accessors do not check bounds: use the checked constructors. */
export class HeaderView {
  constructor(
    public buf: Uint8Array,
    public off: number,
    public len: number,
  ) {}

  /** Repoints the view (no allocation). */
  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  protected u8(o: number): number {
    return this.buf[this.off + o]!;
  }
  protected setU8(o: number, v: number): void {
    this.buf[this.off + o] = v & 0xff;
  }
  protected u16(o: number): number {
    return get16(this.buf, this.off + o);
  }
  protected setU16(o: number, v: number): void {
    set16(this.buf, this.off + o, v);
  }
  protected u32(o: number): number {
    return get32(this.buf, this.off + o);
  }
  protected setU32(o: number, v: number): void {
    set32(this.buf, this.off + o, v);
  }
  /** A copy of `n` bytes at `o` (control path). */
  protected bytesAt(o: number, n: number): Uint8Array {
    return this.buf.slice(this.off + o, this.off + o + n);
  }
  protected setBytesAt(o: number, v: Uint8Array): void {
    this.buf.set(v, this.off + o);
  }
}

/* ---------- text forms of addresses (control path) ---------- */

export function macToString(m: Uint8Array, off = 0): string {
  let s = "";
  for (let i = 0; i < 6; i++) s += (i ? ":" : "") + m[off + i]!.toString(16).padStart(2, "0");
  return s;
}

export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(":");
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}

export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

export function parseIpv4Addr(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** Text of a 16-byte IPv6 address exactly as glibc inet_ntop (and so OVS) prints it. */
export function ipv6ToString(a: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((a[off + 2 * i]! << 8) | a[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  // Like glibc inet_ntop: six leading zero groups (or five and ffff) print the tail as dotted IPv4.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    return `::${bestLen === 5 ? "ffff:" : ""}${a[off + 12]}.${a[off + 13]}.${a[off + 14]}.${a[off + 15]}`;
  }
  if (bestStart < 0) return w.map(hex).join(":");
  const head = w.slice(0, bestStart).map(hex).join(":");
  const tail = w.slice(bestStart + bestLen).map(hex).join(":");
  return `${head}::${tail}`;
}

export function parseIpv6Addr(s: string): Uint8Array | null {
  let text = s;
  const out = new Uint8Array(16);
  let tailV4: number | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".") && lastColon >= 0) {
    tailV4 = parseIpv4Addr(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = text.indexOf("::");
  if (dbl !== text.lastIndexOf("::")) return null;
  const parseGroups = (t: string): number[] | null => {
    if (t === "") return [];
    const g = t.split(":");
    const r: number[] = [];
    for (const x of g) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return null;
      r.push(parseInt(x, 16));
    }
    return r;
  };
  let groups: number[];
  if (dbl >= 0) {
    const a = parseGroups(text.slice(0, dbl));
    const b = parseGroups(text.slice(dbl + 2));
    if (a === null || b === null || a.length + b.length > 7) return null;
    groups = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  } else {
    const a = parseGroups(text);
    if (a === null || a.length !== 8) return null;
    groups = a;
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >>> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (tailV4 !== null) {
    out[12] = tailV4 >>> 24;
    out[13] = (tailV4 >>> 16) & 0xff;
    out[14] = (tailV4 >>> 8) & 0xff;
    out[15] = tailV4 & 0xff;
  }
  return out;
}
