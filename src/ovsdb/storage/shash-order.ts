/**
 * The order in which OVS iterates a string-keyed hash map (its `shash`).
 *
 * OVS's JSON objects, schemas and many tool outputs are `shash`es, so the
 * order of keys in what `ovsdb-tool show-log`, `ovsdb-tool query` or
 * `ovsdb-client transact` print is the iteration order of OVS's hmap: the
 * keys' 32-bit hashes (lib/hash.c's murmur-style `hash_string(name, 0)`)
 * masked to the bucket count, buckets in ascending order, and within a
 * bucket the most recently inserted first. The bucket count doubles as the
 * map grows (when n / 2 > mask), and growing re-inserts the old chains in
 * order, which reverses them. Emulating that lets our tools print byte for
 * byte what OVS's tools print.
 */

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rotl(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rotl(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** OVS's hash_bytes(bytes, n, basis) on a little-endian machine. */
export function ovsHashBytes(bytes: Uint8Array, basis = 0): number {
  let hash = basis >>> 0;
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    hash = mhashAdd(hash, w);
  }
  if (i < n) {
    let w = 0;
    for (let j = 0; i + j < n; j++) w |= bytes[i + j]! << (8 * j);
    hash = mhashAdd(hash, w >>> 0);
  }
  return mhashFinish((hash ^ n) >>> 0);
}

/** Hashes of recurring keys (table and column names); bounded. */
const hashCache = new Map<string, number>();

/** OVS's hash_string(s, 0), the hash of shash keys. */
export function ovsHashString(s: string): number {
  let h = hashCache.get(s);
  if (h === undefined) {
    h = ovsHashBytes(Buffer.from(s, "utf8"));
    if (hashCache.size < 50_000) hashCache.set(s, h);
  }
  return h;
}

function calcMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask >>> 0;
}

/**
 * The order in which an OVS shash built by inserting `keys` in this order
 * (duplicates keep their first position, as shash_replace does) iterates.
 */
export function shashOrder(keys: Iterable<string>): string[] {
  let mask = 0;
  let buckets: { key: string; hash: number }[][] = [[]];
  let n = 0;
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const hash = ovsHashString(key);
    buckets[hash & mask]!.unshift({ key, hash });
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const next: { key: string; hash: number }[][] = Array.from({ length: newMask + 1 }, () => []);
        for (const chain of buckets) for (const node of chain) next[node.hash & newMask]!.unshift(node);
        buckets = next;
        mask = newMask;
      }
    }
  }
  const out: string[] = [];
  for (const chain of buckets) for (const node of chain) out.push(node.key);
  return out;
}

/**
 * Re-creates `obj` (recursively, for nested plain objects when `deep`) with
 * its keys in OVS shash order, so JSON.stringify prints what OVS prints.
 */
export function toShashOrder(value: unknown, deep = true): unknown {
  if (Array.isArray(value)) return deep ? value.map((v) => toShashOrder(v, deep)) : value;
  if (value === null || typeof value !== "object") return value;
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of shashOrder(Object.keys(src))) out[k] = deep ? toShashOrder(src[k], deep) : src[k];
  return out;
}

/**
 * JSON text as OVS's json_to_string(json, 0) prints an object that was
 * parsed from (or built in) the key order of `value`.
 */
export function ovsJsonString(value: unknown): string {
  return JSON.stringify(toShashOrder(value));
}
