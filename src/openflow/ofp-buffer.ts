/**
 * Byte buffers for the OpenFlow codec: a growable big-endian writer whose
 * length fields are filled in after the body (`fork()` / `join()`), and a
 * bounds-checked reader for untrusted input.
 *
 * The reader never throws on short input: every read past the end sets
 * `overrun` and yields zeros, so a decoder reads its whole fixed part and
 * checks `overrun` once (the caller turns it into OFPBRC_BAD_LEN or the
 * error that fits). Writers are for messages we build, so misuse (joining a
 * fork twice) throws.
 */

/** A length field to be patched once the bytes it covers are written. */
export interface OfpFork {
  /** Offset of the length field itself. */
  readonly at: number;
  /** Offset from which the covered length is counted. */
  readonly from: number;
  /** Width of the length field in bytes (2 or 4). */
  readonly width: 2 | 4;
}

export class OfpWriter {
  private buf: Uint8Array;
  /** DataView over `buf` for 64-bit writes, made on first use; dropped when the buffer grows. */
  private view: DataView | null = null;
  private len = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const at = this.len;
    const need = at + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(0, at));
      this.buf = nb;
      this.view = null;
    }
    this.len = need;
    return at;
  }

  /**
   * Reserves `n` bytes and returns their offset in `buffer`, for encoders
   * that write many small fields in place (a match per flow in a dump).
   */
  alloc(n: number): number {
    return this.reserve(n);
  }
  /** The backing bytes; valid until the next write (which may grow them). */
  get buffer(): Uint8Array {
    return this.buf;
  }
  /** Drops everything written after offset `len`. */
  truncate(len: number): void {
    if (len < this.len) this.len = len;
  }

  u8(v: number): this {
    const at = this.reserve(1);
    this.buf[at] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    const at = this.reserve(2);
    this.setU16(at, v);
    return this;
  }
  u32(v: number): this {
    const at = this.reserve(4);
    this.setU32(at, v);
    return this;
  }
  u64(v: bigint): this {
    this.setU64(this.reserve(8), v);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }
  zeros(n: number): this {
    const at = this.reserve(n);
    const b = this.buf;
    // Padding is a few bytes: stores cost less than a call to fill.
    if (n <= 16) for (let i = at; i < at + n; i++) b[i] = 0;
    else b.fill(0, at, at + n);
    return this;
  }
  /** Writes `s` as a NUL-padded fixed-width field (truncated to width-1). */
  fixedString(s: string, width: number): this {
    const enc = new TextEncoder().encode(s);
    const n = Math.min(enc.length, width - 1);
    const at = this.reserve(width);
    this.buf.fill(0, at, at + width);
    this.buf.set(enc.subarray(0, n), at);
    return this;
  }
  /** Pads with zeros to a multiple of `align` counted from `from`. */
  padTo(align: number, from = 0): this {
    const rem = (this.len - from) % align;
    if (rem !== 0) this.zeros(align - rem);
    return this;
  }
  /** Overwrites a u16 already written at `at`. */
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }
  setU32(at: number, v: number): void {
    const b = this.buf;
    b[at] = (v >>> 24) & 0xff;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
  }
  setU64(at: number, v: bigint): void {
    if (v === 0n) {
      // The usual cookie and counter (a dump writes three per flow): no DataView call.
      const b = this.buf;
      for (let i = at; i < at + 8; i++) b[i] = 0;
      return;
    }
    if (this.view === null) this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.view.setBigUint64(at, v === 0n ? 0n : BigInt.asUintN(64, v));
  }
  setU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  /**
   * Starts a length-prefixed region: writes a placeholder length field of
   * `width` bytes and remembers where the covered region starts (`from`,
   * default: the start of the length field minus `back` bytes, for TLVs
   * whose length counts their own type field).
   */
  fork(width: 2 | 4 = 2, back = 0): OfpFork {
    const at = this.len;
    width === 2 ? this.u16(0) : this.u32(0);
    return { at, from: at - back, width };
  }
  /** Fills the fork's length field with the bytes written since `from`. */
  join(f: OfpFork, extra = 0): number {
    const n = this.len - f.from + extra;
    if (f.width === 2) this.setU16(f.at, n);
    else this.setU32(f.at, n);
    return n;
  }

  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class OfpReader {
  readonly data: Uint8Array;
  // No DataView: readers are made per message and per action, and a
  // DataView each was a visible part of decoding a flow_mod (bench ofcodec).
  pos: number;
  readonly end: number;
  /** Set when any read went past `end`; reads then return zeros. */
  overrun = false;

  constructor(data: Uint8Array, start = 0, end = data.length) {
    this.data = data;
    this.pos = start;
    this.end = Math.min(end, data.length);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.end) {
      this.overrun = true;
      this.pos = this.end;
      return -1;
    }
    this.pos = at + n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.data[at]!;
  }
  u16(): number {
    const at = this.take(2);
    const d = this.data;
    return at < 0 ? 0 : (d[at]! << 8) | d[at + 1]!;
  }
  u32(): number {
    const at = this.take(4);
    const d = this.data;
    return at < 0 ? 0 : ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  }
  u64(): bigint {
    const at = this.take(8);
    if (at < 0) return 0n;
    const d = this.data;
    const hi = ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
    const lo = ((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) >>> 0;
    // Two 32-bit halves: no DataView per reader (readers are made per action).
    if (hi === 0) return BigInt(lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(n) : this.data.slice(at, at + n);
  }
  /**
   * The next `n` bytes without copying (zeros when short), for decoders
   * that copy what they keep: a view of the message, not to be retained.
   */
  bytesView(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(n) : this.data.subarray(at, at + n);
  }
  skip(n: number): void {
    this.take(n);
  }
  /** A NUL-terminated string in a fixed-width field. */
  fixedString(width: number): string {
    const b = this.bytes(width);
    let n = b.indexOf(0);
    if (n < 0) n = width;
    return new TextDecoder("latin1").decode(b.subarray(0, n));
  }
  /** A sub-reader over the next `n` bytes (advancing this one). */
  sub(n: number): OfpReader {
    const at = this.take(n);
    if (at < 0) return new OfpReader(this.data, this.end, this.end);
    return new OfpReader(this.data, at, at + n);
  }
  /** The rest of the bytes (advancing to the end). */
  rest(): Uint8Array {
    const b = this.data.slice(this.pos, this.end);
    this.pos = this.end;
    return b;
  }
  peekU16(off = 0): number {
    const at = this.pos + off;
    return at + 2 <= this.end ? (this.data[at]! << 8) | this.data[at + 1]! : 0;
  }
}

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(clean.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** OVS's hex dump: offset, 16 bytes with a '-' after the 8th, and ASCII. */
export function hexDump(b: Uint8Array, ofs = 0, ascii = true): string {
  const perLine = 16;
  let out = "";
  let size = b.length;
  let p = 0;
  while (size > 0) {
    const start = ofs % perLine;
    let end = perLine;
    if (end - start > size) end = start + size;
    const n = end - start;
    out += (ofs - start).toString(16).padStart(8, "0") + "  ";
    let i = 0;
    for (; i < start; i++) out += "   ";
    for (; i < end; i++) out += b[p + i - start]!.toString(16).padStart(2, "0") + (i === perLine / 2 - 1 ? "-" : " ");
    if (ascii) {
      for (; i < perLine; i++) out += "   ";
      out += "|";
      for (i = 0; i < start; i++) out += " ";
      for (; i < end; i++) {
        const c = b[p + i - start]!;
        out += c >= 32 && c < 127 ? String.fromCharCode(c) : ".";
      }
      for (; i < perLine; i++) out += " ";
      out += "|";
    } else {
      // Without the ASCII column, OVS leaves no separator after the last byte.
      out = out.slice(0, -1);
    }
    out += "\n";
    ofs += n;
    p += n;
    size -= n;
  }
  return out;
}
