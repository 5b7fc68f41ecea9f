/**
 * SHA-1 of a small byte range, in JavaScript, its hex digest written as
 * ASCII straight into a buffer: for the header of each small transaction
 * record (log.ts), where OpenSSL's one-shot digest through node:crypto cost
 * several times more than the hashing itself — a provider look-up, a
 * context set up and torn down, a hex string made — on the cold caches of a
 * server that sleeps between transactions (bench ovsdb (b'): ~5% of the
 * server's CPU per commit, against ~1-2% for this). Big records keep
 * node:crypto, whose SHA instructions win on long inputs.
 *
 * FIPS 180-4 §6.1; checked against node:crypto by test/ovsdb-storage/log.test.ts.
 */

/** Message schedule and state, reused (no allocation per digest). */
const W = new Int32Array(80);
const H = new Int32Array(5);
/** The initial hash value (FIPS 180-4 §5.3.1), as signed 32-bit integers. */
const H0 = Int32Array.of(0x67452301, -0x10325477, -0x67452302, 0x10325476, -0x3c2d1e10);
/**
 * The last one or two blocks: the message's tail, the 0x80 byte, zeros and
 * the bit length. A Buffer, as the records are: block() then reads one
 * kind of array only.
 */
const TAIL = Buffer.alloc(128);
/** ASCII codes of the hex digits. */
const HEX = Buffer.from("0123456789abcdef", "latin1");

/** Processes the 64-byte block of `b` at `p` (the four rounds as four loops: no branch per step). */
function block(b: Buffer, p: number): void {
  for (let i = 0; i < 16; i++, p += 4) W[i] = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = H[0]!;
  let b1 = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  let e = H[4]!;
  let t: number;
  for (let i = 0; i < 20; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b1 & c) | (~b1 & d)) + e + 0x5a827999 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b1 << 30) | (b1 >>> 2);
    b1 = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    t = (((a << 5) | (a >>> 27)) + (b1 ^ c ^ d) + e + 0x6ed9eba1 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b1 << 30) | (b1 >>> 2);
    b1 = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    // 0x8f1bbcdc as a signed 32-bit integer.
    t = (((a << 5) | (a >>> 27)) + ((b1 & c) | (b1 & d) | (c & d)) + e - 0x70e44324 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b1 << 30) | (b1 >>> 2);
    b1 = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    // 0xca62c1d6 as a signed 32-bit integer.
    t = (((a << 5) | (a >>> 27)) + (b1 ^ c ^ d) + e - 0x359d3e2a + W[i]!) | 0;
    e = d;
    d = c;
    c = (b1 << 30) | (b1 >>> 2);
    b1 = a;
    a = t;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b1) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
}

/** Writes the SHA-1 of `data[start, end)` as 40 lowercase hex digits into `out` at `at`. */
export function sha1HexInto(data: Buffer, start: number, end: number, out: Buffer, at: number): void {
  H.set(H0);
  let p = start;
  for (; end - p >= 64; p += 64) block(data, p);
  finish(data, p, end, end - start, out, at);
}

/** Hashes the last (partial) block `data[p, end)` of an `n`-byte message and writes the digest. */
function finish(data: Buffer, p: number, end: number, n: number, out: Buffer, at: number): void {
  const rest = end - p;
  for (let i = 0; i < rest; i++) TAIL[i] = data[p + i]!;
  TAIL[rest] = 0x80;
  const tailLength = rest < 56 ? 64 : 128;
  TAIL.fill(0, rest + 1, tailLength - 8);
  const hi = Math.floor(n / 0x20000000);
  const lo = (n << 3) >>> 0;
  TAIL[tailLength - 8] = hi >>> 24;
  TAIL[tailLength - 7] = hi >>> 16;
  TAIL[tailLength - 6] = hi >>> 8;
  TAIL[tailLength - 5] = hi;
  TAIL[tailLength - 4] = lo >>> 24;
  TAIL[tailLength - 3] = lo >>> 16;
  TAIL[tailLength - 2] = lo >>> 8;
  TAIL[tailLength - 1] = lo;
  block(TAIL, 0);
  if (tailLength === 128) block(TAIL, 64);
  for (let i = 0; i < 5; i++) {
    const x = H[i]!;
    for (let j = 0; j < 8; j++) out[at++] = HEX[(x >>> (28 - 4 * j)) & 15]!;
  }
}

/** 64 spaces: the block a run of spaces is made of. */
const SPACES = Buffer.alloc(64, 0x20);
/**
 * SHA-1 states after 0, 1, 2, ... blocks of 64 spaces (5 words each),
 * computed as far as needed: the hash of a long run of spaces followed by a
 * short tail then costs one or two blocks, whatever the run's length.
 */
let spaceStates = new Int32Array(5 * 64);
let spaceStatesKnown = 0;
/** The message tail of sha1OfSpacesInto: the spaces after the last whole block, then the tail bytes. */
const SPACED_TAIL = Buffer.alloc(256);

function spaceState(blocks: number): number {
  if (blocks >= spaceStatesKnown) {
    if (5 * (blocks + 1) > spaceStates.length) {
      const grown = new Int32Array(Math.max(5 * (blocks + 1), spaceStates.length * 2));
      grown.set(spaceStates);
      spaceStates = grown;
    }
    if (spaceStatesKnown === 0) {
      spaceStates.set(H0);
      spaceStatesKnown = 1;
    }
    for (let j = spaceStatesKnown; j <= blocks; j++) {
      for (let w = 0; w < 5; w++) H[w] = spaceStates[5 * (j - 1) + w]!;
      block(SPACES, 0);
      for (let w = 0; w < 5; w++) spaceStates[5 * j + w] = H[w]!;
    }
    spaceStatesKnown = blocks + 1;
  }
  return 5 * blocks;
}

/**
 * Writes the SHA-1 of `spaces` space characters followed by `tail` (at most
 * 64 bytes) as 40 lowercase hex digits into `out` at `at`: the body of the
 * log's reserve record (log-writer.ts), rehashed at every commit.
 */
export function sha1OfSpacesInto(spaces: number, tail: Buffer, out: Buffer, at: number): void {
  const blocks = Math.floor(spaces / 64);
  const s = spaceState(blocks);
  for (let w = 0; w < 5; w++) H[w] = spaceStates[s + w]!;
  const extra = spaces - 64 * blocks;
  SPACED_TAIL.fill(0x20, 0, extra);
  tail.copy(SPACED_TAIL, extra);
  const end = extra + tail.length;
  let p = 0;
  if (end >= 64) {
    block(SPACED_TAIL, 0);
    p = 64;
  }
  finish(SPACED_TAIL, p, end, spaces + tail.length, out, at);
}
