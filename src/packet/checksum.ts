/**
 * Checksums: the Internet checksum (RFC 1071) with IPv4/IPv6 pseudo-headers
 * for TCP/UDP/ICMPv6, incremental updates when a field is rewritten
 * (RFC 1624: HC' = ~(~HC + ~m + m')), and SCTP's CRC32c (RFC 3309).
 *
 * Sums are kept as plain numbers (partial 32-bit one's-complement sums) and
 * folded at the end; no allocation.
 */

/** Adds bytes [off, off+len) to a partial sum (odd trailing byte padded with zero). */
export function csumPartial(b: Uint8Array, off: number, len: number, sum = 0): number {
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  // Fold occasionally so huge buffers cannot overflow 2^53.
  return (sum & 0xffff) + Math.floor(sum / 65536);
}

/** Folds a partial sum to 16 bits and complements it (the value to store). */
export function csumFinish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

/** Internet checksum of a byte range. */
export function internetChecksum(b: Uint8Array, off: number, len: number): number {
  return csumFinish(csumPartial(b, off, len));
}

/** Partial sum of the IPv4 pseudo-header (src, dst, proto, L4 length). */
export function ipv4PseudoSum(src: number, dst: number, proto: number, l4Len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4Len;
}

/** Partial sum of the IPv6 pseudo-header; addresses are 16 bytes at srcOff/dstOff of `b`. */
export function ipv6PseudoSum(b: Uint8Array, srcOff: number, dstOff: number, proto: number, l4Len: number): number {
  let s = csumPartial(b, srcOff, 16);
  s = csumPartial(b, dstOff, 16, s);
  return s + (l4Len >>> 16) + (l4Len & 0xffff) + proto;
}

/** RFC 1624 update of checksum `csum` when a 16-bit word changes from `old` to `now`. */
export function csumUpdate16(csum: number, old: number, now: number): number {
  let s = (~csum & 0xffff) + (~old & 0xffff) + (now & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** RFC 1624 update for a 32-bit field (e.g. an IPv4 address in a pseudo-header). */
export function csumUpdate32(csum: number, old: number, now: number): number {
  return csumUpdate16(csumUpdate16(csum, old >>> 16, now >>> 16), old & 0xffff, now & 0xffff);
}

/** RFC 1624 update for a 16-byte field (IPv6 address) given old and new bytes. */
export function csumUpdate128(csum: number, old: Uint8Array, oldOff: number, now: Uint8Array, nowOff: number): number {
  for (let i = 0; i < 16; i += 2) {
    csum = csumUpdate16(csum, (old[oldOff + i]! << 8) | old[oldOff + i + 1]!, (now[nowOff + i]! << 8) | now[nowOff + i + 1]!);
  }
  return csum;
}

/* ---------------- CRC32c (Castagnoli), for SCTP ---------------- */

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32c over bytes [off, off+len), continuing from `crc` (pass the result of a previous call). */
export function crc32c(b: Uint8Array, off: number, len: number, crc = 0): number {
  let c = ~crc >>> 0;
  const end = off + len;
  for (let i = off; i < end; i++) c = CRC32C_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The SCTP checksum of a packet at [off, off+len) as it goes on the wire:
 * CRC32c with the checksum field (bytes 8..11) taken as zero, stored
 * little-endian-by-byte as RFC 3309 specifies. Returns the 32-bit value to
 * write with `set32` at offset 8.
 */
export function sctpChecksum(b: Uint8Array, off: number, len: number): number {
  let c = crc32c(b, off, 8);
  const zero = ZERO4;
  c = crc32c(zero, 0, 4, c);
  c = crc32c(b, off + 12, len - 12, c);
  // The CRC's bytes go out least significant first.
  return (((c & 0xff) << 24) | (((c >>> 8) & 0xff) << 16) | (((c >>> 16) & 0xff) << 8) | (c >>> 24)) >>> 0;
}
const ZERO4 = new Uint8Array(4);
