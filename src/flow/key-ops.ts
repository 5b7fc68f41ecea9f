/**
 * Operations on flow keys and masks (the layout of key-layout.ts): hashing
 * (whole, masked), equality, masking, a compact miniflow-like storage form,
 * and generic field get/set driven by `FlowField`.
 *
 * Hashing is 32-bit integer arithmetic only (Murmur3-style mixing with
 * `Math.imul`), so it is cheap on the per-packet path and stable across
 * runs: a given key and basis always hash to the same value.
 */
import { FLOW_U32S, type FlowField } from "./key-layout.js";

/** A new all-zero key (or mask). Not for the hot path: preallocate. */
export function newFlowKey(): Uint32Array {
  return new Uint32Array(FLOW_U32S);
}

/** Mixes one 32-bit word into a running hash (Murmur3 round). */
export function hashAdd(hash: number, data: number): number {
  data = Math.imul(data, 0xcc9e2d51);
  data = (data << 15) | (data >>> 17);
  data = Math.imul(data, 0x1b873593);
  hash ^= data;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

/** Finishes a hash over `nBytes` bytes (Murmur3 fmix); result is unsigned. */
export function hashFinish(hash: number, nBytes: number): number {
  hash ^= nBytes;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** OVS's hash_bytes(b, basis): little-endian words, a short tail zero-padded. */
export function hashBytes(b: Uint8Array, basis: number): number {
  let h = basis;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) h = hashAdd(h, b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
  if (i < b.length) {
    let w = 0;
    for (let j = 0; i + j < b.length; j++) w |= b[i + j]! << (8 * j);
    h = hashAdd(h, w);
  }
  return hashFinish(h, b.length);
}

// HOT PATH
/** Hash of the first `nWords` words of `key` (default: all). */
export function flowKeyHash(key: Uint32Array, basis: number, nWords: number = FLOW_U32S): number {
  let h = basis | 0;
  for (let i = 0; i < nWords; i++) h = hashAdd(h, key[i]!);
  return hashFinish(h, nWords * 4);
}

// HOT PATH
/**
 * Hash of `key & mask` over the listed word indexes (the nonzero words of
 * the mask, precomputed once per mask). Equal masked keys hash equal.
 */
export function maskedHash(
  key: Uint32Array,
  mask: Uint32Array,
  words: Int32Array | Uint8Array | Uint16Array | readonly number[],
  basis: number,
): number {
  let h = basis | 0;
  const n = words.length;
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    h = hashAdd(h, key[w]! & mask[w]!);
  }
  return hashFinish(h, n * 4);
}

/** Indexes of the nonzero words of `mask`, for maskedHash / maskedEquals. */
export function maskWords(mask: Uint32Array): Int32Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[n++] = i;
  return out;
}

// HOT PATH
export function keyEquals(a: Uint32Array, b: Uint32Array, nWords: number = FLOW_U32S): boolean {
  for (let i = 0; i < nWords; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Buffer views of word arrays, made once per array (see `wordsEqual`). */
const byteViews = new WeakMap<Uint32Array, Buffer>();

function bytesOf(a: Uint32Array): Buffer {
  let v = byteViews.get(a);
  if (v === undefined) {
    v = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    byteViews.set(a, v);
  }
  return v;
}

/** Below this many words a loop beats the call into memcmp. */
const MEMCMP_MIN_WORDS = 24;

// HOT PATH
/**
 * True when words [start, end) of `a` and `b` are equal. Long ranges are
 * one memcmp over byte views kept per array: a datapath key's 142 words
 * compare in ~110 ns instead of the ~370 ns of a word loop, and flow setup
 * compares several per upcall (mask interning, the lookup recorder).
 */
export function wordsEqual(a: Uint32Array, b: Uint32Array, start: number, end: number): boolean {
  if (end - start < MEMCMP_MIN_WORDS) {
    for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return bytesOf(a).compare(bytesOf(b), start * 4, end * 4, start * 4, end * 4) === 0;
}

// HOT PATH
/** True when `key & mask` equals `maskedKey` (already masked) on the listed words. */
export function maskedEquals(
  key: Uint32Array,
  mask: Uint32Array,
  maskedKey: Uint32Array,
  words: Int32Array | readonly number[],
): boolean {
  const n = words.length;
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    if (((key[w]! & mask[w]!) ^ maskedKey[w]!) !== 0) return false;
  }
  return true;
}

/** out = key & mask (out may be key). */
export function applyMask(key: Uint32Array, mask: Uint32Array, out: Uint32Array): Uint32Array {
  for (let i = 0; i < FLOW_U32S; i++) out[i] = key[i]! & mask[i]!;
  return out;
}

/** True when words [start, end) of `key` are all zero. */
export function regionIsZero(key: Uint32Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (key[i] !== 0) return false;
  return true;
}

/** Bitmap words needed for a compact key. */
export const COMPACT_MAP_U32S = (FLOW_U32S + 31) >>> 5;

/**
 * The compact (miniflow-like) form of a key: `COMPACT_MAP_U32S` bitmap
 * words (bit i set = word i nonzero) followed by the nonzero words in
 * order. A typical IPv4/TCP key is 5 + ~12 words instead of 156.
 */
export function compactKey(key: Uint32Array): Uint32Array {
  let n = 0;
  for (let i = 0; i < FLOW_U32S; i++) if (key[i] !== 0) n++;
  const out = new Uint32Array(COMPACT_MAP_U32S + n);
  let j = COMPACT_MAP_U32S;
  for (let i = 0; i < FLOW_U32S; i++) {
    const v = key[i]!;
    if (v !== 0) {
      out[i >>> 5] = out[i >>> 5]! | (1 << (i & 31));
      out[j++] = v;
    }
  }
  return out;
}

/** Expands a compact key into `out` (all words written). */
export function expandKey(compact: Uint32Array, out: Uint32Array): Uint32Array {
  let j = COMPACT_MAP_U32S;
  for (let i = 0; i < FLOW_U32S; i++) {
    out[i] = ((compact[i >>> 5]! >>> (i & 31)) & 1) !== 0 ? compact[j++]! : 0;
  }
  return out;
}

/* ---------------- generic field access (control path) ---------------- */

function fieldMask(f: FlowField): number {
  return f.bits >= 32 ? 0xffffffff : (1 << f.bits) - 1;
}

/** Value of a sub-word integer field (throws for byte-string fields: use getFieldBytes). */
export function getField(key: Uint32Array, f: FlowField): number {
  if (f.bytes !== 0) throw new RangeError(`${f.name} is a ${f.bytes}-byte field`);
  return ((key[f.word]! >>> f.shift) & fieldMask(f)) >>> 0;
}

/** Sets a sub-word integer field, leaving the other bits of its word alone. */
export function setField(key: Uint32Array, f: FlowField, value: number): void {
  if (f.bytes !== 0) throw new RangeError(`${f.name} is a ${f.bytes}-byte field`);
  const m = fieldMask(f);
  const keep = ~(m << f.shift);
  key[f.word] = ((key[f.word]! & keep) | ((value & m) << f.shift)) >>> 0;
}

/** Key byte `i` (big-endian numbering within each word). */
export function keyByte(key: Uint32Array, i: number): number {
  return (key[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
}

export function setKeyByte(key: Uint32Array, i: number, v: number): void {
  const sh = 24 - 8 * (i & 3);
  const w = i >>> 2;
  key[w] = ((key[w]! & ~(0xff << sh)) | ((v & 0xff) << sh)) >>> 0;
}

/** Copies a field's bytes (any field: integers give their value big-endian in ceil(bits/8) bytes). */
export function getFieldBytes(key: Uint32Array, f: FlowField, out: Uint8Array = new Uint8Array(fieldByteLen(f)), outOff = 0): Uint8Array {
  if (f.bytes !== 0) {
    for (let i = 0; i < f.bytes; i++) out[outOff + i] = keyByte(key, f.offset + i);
  } else {
    const n = fieldByteLen(f);
    const v = getField(key, f);
    for (let i = 0; i < n; i++) out[outOff + i] = (v >>> (8 * (n - 1 - i))) & 0xff;
  }
  return out;
}

export function setFieldBytes(key: Uint32Array, f: FlowField, src: Uint8Array, srcOff = 0): void {
  if (f.bytes !== 0) {
    for (let i = 0; i < f.bytes; i++) setKeyByte(key, f.offset + i, src[srcOff + i]!);
  } else {
    const n = fieldByteLen(f);
    let v = 0;
    for (let i = 0; i < n; i++) v = (v * 256 + src[srcOff + i]!) >>> 0;
    setField(key, f, v);
  }
}

/** Bytes a field takes as a byte string. */
export function fieldByteLen(f: FlowField): number {
  return f.bytes !== 0 ? f.bytes : (f.bits + 7) >>> 3;
}

/** Sets every bit of field `f` in `mask` (exact match on it). */
export function maskFieldExact(mask: Uint32Array, f: FlowField): void {
  if (f.bytes !== 0) {
    for (let i = 0; i < f.bytes; i++) setKeyByte(mask, f.offset + i, 0xff);
  } else {
    setField(mask, f, 0xffffffff);
  }
}

/** True when any bit of field `f` is set in `key` (or mask). */
export function fieldIsNonzero(key: Uint32Array, f: FlowField): boolean {
  if (f.bytes !== 0) {
    for (let i = 0; i < f.bytes; i++) if (keyByte(key, f.offset + i) !== 0) return true;
    return false;
  }
  return getField(key, f) !== 0;
}

/** A 64-bit byte field (tun_id, metadata) as a bigint. */
export function getFieldU64(key: Uint32Array, f: FlowField): bigint {
  const hi = key[f.word]!;
  const lo = key[f.word + 1]!;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function setFieldU64(key: Uint32Array, f: FlowField, v: bigint): void {
  key[f.word] = Number((v >> 32n) & 0xffffffffn);
  key[f.word + 1] = Number(v & 0xffffffffn);
}
