/**
 * Netlink attributes in a Uint8Array, as the datapath interface uses them
 * for flow keys, masks and action lists.
 *
 * An attribute is a 4-byte header — u16 length (header included), u16
 * type, both in host (little-endian) order as the kernel writes them — and
 * a payload padded with zeros to a multiple of 4 bytes. Nested attributes
 * are attributes whose payload is itself a sequence of attributes.
 *
 * `NlWriter` builds such sequences (growing its buffer, filling in nested
 * lengths when the nest ends); the free functions read them with plain
 * index arithmetic so the datapath can walk an action list per packet
 * without allocating.
 */

export const NLA_HDRLEN = 4;
/** Maximum payload of one attribute (the u16 length field minus the header). */
export const NLA_MAX_PAYLOAD = 0xffff - NLA_HDRLEN;

/** Rounds `n` up to the 4-byte netlink alignment. */
export function nlAlign(n: number): number {
  return (n + 3) & ~3;
}

/** Length field (header included) of the attribute at `off`. */
export function nlaLen(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}
/** Type of the attribute at `off` (the NLA_F_* flag bits stripped). */
export function nlaType(buf: Uint8Array, off: number): number {
  return (buf[off + 2]! | (buf[off + 3]! << 8)) & 0x3fff;
}
/** Payload size of the attribute at `off`. */
export function nlaPayloadLen(buf: Uint8Array, off: number): number {
  return nlaLen(buf, off) - NLA_HDRLEN;
}
/** Offset just past the attribute at `off` (its padded end). */
export function nlaNext(buf: Uint8Array, off: number): number {
  return off + nlAlign(nlaLen(buf, off));
}
/** True when a well-formed attribute starts at `off` and ends by `end`. */
export function nlaOk(buf: Uint8Array, off: number, end: number): boolean {
  if (off + NLA_HDRLEN > end) return false;
  const len = nlaLen(buf, off);
  return len >= NLA_HDRLEN && off + len <= end;
}

export function getU8(buf: Uint8Array, off: number): number {
  return buf[off]!;
}
/** Host-order (little-endian) u16. */
export function getU16(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}
/** Host-order (little-endian) u32. */
export function getU32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}
/** Network-order u16. */
export function getBe16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}
/** Network-order u32. */
export function getBe32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}
/** Network-order u64 as a bigint. */
export function getBe64(buf: Uint8Array, off: number): bigint {
  return (BigInt(getBe32(buf, off)) << 32n) | BigInt(getBe32(buf, off + 4));
}
export function putBe16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}
export function putBe32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}
export function putU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}
export function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

/**
 * Finds the first attribute of `type` in `buf[start, end)`; returns its
 * offset or -1.
 */
export function nlFind(buf: Uint8Array, start: number, end: number, type: number): number {
  let off = start;
  while (nlaOk(buf, off, end)) {
    if (nlaType(buf, off) === type) return off;
    off = nlaNext(buf, off);
  }
  return -1;
}

/** One attribute of a sequence, for code that is not on the per-packet path. */
export interface NlAttr {
  type: number;
  /** Offset of the attribute header in `buf`. */
  off: number;
  /** Offset of the payload in `buf`. */
  payload: number;
  /** Payload length. */
  len: number;
}

/**
 * Lists the attributes in `buf[start, end)`. `rest` is the offset of the
 * first byte that does not form a well-formed attribute (== end when the
 * sequence is well formed).
 */
export function nlList(buf: Uint8Array, start = 0, end = buf.length): { attrs: NlAttr[]; rest: number } {
  const attrs: NlAttr[] = [];
  let off = start;
  while (nlaOk(buf, off, end)) {
    const len = nlaLen(buf, off);
    attrs.push({ type: nlaType(buf, off), off, payload: off + NLA_HDRLEN, len: len - NLA_HDRLEN });
    off = Math.min(end, off + nlAlign(len));
  }
  return { attrs, rest: off };
}

/** Builds a sequence of netlink attributes. */
export class NlWriter {
  buf: Uint8Array;
  size = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }

  private reserve(n: number): number {
    const need = this.size + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(0, this.size));
      this.buf = nb;
    }
    const at = this.size;
    this.size = need;
    return at;
  }

  /** Appends an attribute with a `len`-byte zeroed payload; returns the payload offset. */
  putUninit(type: number, len: number): number {
    const at = this.reserve(nlAlign(NLA_HDRLEN + len));
    this.buf.fill(0, at, at + nlAlign(NLA_HDRLEN + len));
    putU16(this.buf, at, NLA_HDRLEN + len);
    putU16(this.buf, at + 2, type);
    return at + NLA_HDRLEN;
  }
  putFlag(type: number): void {
    this.putUninit(type, 0);
  }
  putBytes(type: number, data: Uint8Array): void {
    const p = this.putUninit(type, data.length);
    this.buf.set(data, p);
  }
  // The offset first: putUninit may grow (replace) `buf`, and an argument
  // list evaluates `this.buf` before the call that grows it.
  putU8(type: number, v: number): void {
    const p = this.putUninit(type, 1);
    this.buf[p] = v & 0xff;
  }
  putU16(type: number, v: number): void {
    const p = this.putUninit(type, 2);
    putU16(this.buf, p, v);
  }
  putBe16(type: number, v: number): void {
    const p = this.putUninit(type, 2);
    putBe16(this.buf, p, v);
  }
  putU32(type: number, v: number): void {
    const p = this.putUninit(type, 4);
    putU32(this.buf, p, v);
  }
  putBe32(type: number, v: number): void {
    const p = this.putUninit(type, 4);
    putBe32(this.buf, p, v);
  }
  putBe64(type: number, v: bigint): void {
    const p = this.putUninit(type, 8);
    putBe32(this.buf, p, Number((v >> 32n) & 0xffffffffn));
    putBe32(this.buf, p + 4, Number(v & 0xffffffffn));
  }
  /** Appends raw bytes (already-formed attributes). */
  putRaw(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.buf.set(data, at);
  }
  /** Starts a nested attribute; pass the returned offset to `endNested`. */
  startNested(type: number): number {
    const at = this.reserve(NLA_HDRLEN);
    putU16(this.buf, at + 2, type);
    return at;
  }
  /** Ends a nested attribute begun at `start`, filling in its length. */
  endNested(start: number): void {
    putU16(this.buf, start, this.size - start);
  }
  /** Drops everything after `size` bytes (to undo a partial write). */
  truncate(size: number): void {
    this.size = size;
  }
  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.size);
  }
}
