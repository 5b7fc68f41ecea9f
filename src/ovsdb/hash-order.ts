/**
 * The iteration order of OVS's hash maps, emulated so that our tools and
 * ovs-vsctl print keys and rows in exactly the order OVS's do.
 *
 * OVS keeps JSON objects, schemas and many tool outputs in string-keyed
 * hash maps (`shash`) and IDL rows in uuid-keyed ones. Both are lib/hmap.c
 * chained maps: iteration walks buckets 0..mask, each chain most recently
 * inserted first; the map doubles (when n / 2 > mask) by re-inserting the
 * old chains bucket by bucket, which reverses them. Keys hash with OVS's
 * murmur-style hash_bytes (strings) or the first 32 bits of the uuid.
 * `HmapSim` replays exactly those mechanics; `shashOrder` is the common
 * case of a shash built by inserting keys in a given order.
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
    h = asciiHash(s);
    if (h < 0) h = ovsHashBytes(Buffer.from(s, "utf8"));
    // Row uuids (36 characters) rarely recur: caching them only churns the map.
    if (hashCache.size < 50_000 && s.length !== 36) hashCache.set(s, h);
  }
  return h;
}

/**
 * hash_bytes of an all-ASCII string read straight from its char codes (no
 * Buffer per key: record building hashes every row uuid); -1 if not ASCII.
 */
function asciiHash(s: string): number {
  // Same arithmetic as mhashAdd/mhashFinish, kept in int32 (| 0) so that
  // optimised code never boxes an intermediate uint32 as a heap number.
  const n = s.length;
  let hash = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    const d = s.charCodeAt(i + 3);
    if ((a | b | c | d) > 0x7f) return -1;
    hash = mixWord(hash, a | (b << 8) | (c << 16) | (d << 24));
  }
  if (i < n) {
    let w = 0;
    for (let j = 0; i + j < n; j++) {
      const c = s.charCodeAt(i + j);
      if (c > 0x7f) return -1;
      w |= c << (8 * j);
    }
    hash = mixWord(hash, w);
  }
  hash ^= n;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b | 0);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35 | 0);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** mhashAdd in int32 arithmetic. */
function mixWord(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51 | 0);
    d = (d << 15) | (d >>> 17);
    d = Math.imul(d, 0x1b873593);
    hash ^= d;
  }
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + (0xe6546b64 | 0)) | 0;
}

/** OVS's uuid_hash(): the first 32 bits of the uuid. */
export function uuidHash(uuid: string): number {
  return parseInt(uuid.slice(0, 8), 16) >>> 0;
}

/** The bucket mask an hmap grows to when it holds `capacity` nodes. */
export function hmapMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask >>> 0;
}

/** A replica of OVS's hmap bucket structure (not of its contents' lookup). */
export class HmapSim<K> {
  private buckets: K[][] = [[]];
  private mask = 0;
  private n = 0;
  private readonly hashes = new Map<K, number>();

  constructor(private readonly hashOf: (k: K) => number) {}

  has(k: K): boolean {
    return this.hashes.has(k);
  }

  insert(k: K): void {
    const h = this.hashOf(k);
    this.hashes.set(k, h);
    this.buckets[h & this.mask]!.unshift(k);
    this.n++;
    if (Math.floor(this.n / 2) > this.mask) {
      const newMask = hmapMask(this.n);
      if (newMask > this.mask) this.resize(newMask);
    }
  }

  remove(k: K): void {
    const h = this.hashes.get(k);
    if (h === undefined) return;
    const b = this.buckets[h & this.mask]!;
    b.splice(b.indexOf(k), 1);
    this.hashes.delete(k);
    this.n--;
  }

  private resize(newMask: number): void {
    const nb: K[][] = Array.from({ length: newMask + 1 }, () => []);
    for (const bucket of this.buckets) for (const k of bucket) nb[this.hashes.get(k)! & newMask]!.unshift(k);
    this.buckets = nb;
    this.mask = newMask;
  }

  *[Symbol.iterator](): IterableIterator<K> {
    for (const b of this.buckets) yield* b;
  }
}

/**
 * The order in which an OVS shash built by inserting `keys` in this order
 * (duplicates keep their first position, as shash_replace does) iterates.
 */
export function shashOrder(keys: Iterable<string>): string[] {
  const h = new HmapSim<string>(ovsHashString);
  for (const k of keys) if (!h.has(k)) h.insert(k);
  return [...h];
}

/**
 * shashOrder for distinct `keys`, as their positions in `keys`: the same
 * mechanics on typed arrays (chains as index links), for the big objects
 * of a record (a thousand row uuids: HmapSim's arrays, Map and unshifts
 * were ~10% of bench ovsdb (a)'s record building).
 */
export function shashOrderOfDistinct(keys: readonly string[]): Int32Array {
  const n = keys.length;
  const hashes = new Int32Array(n);
  for (let i = 0; i < n; i++) hashes[i] = ovsHashString(keys[i]!) | 0;
  const next = new Int32Array(n);
  let mask = 0;
  let heads = new Int32Array(1).fill(-1);
  for (let i = 0; i < n; i++) {
    const b = hashes[i]! & mask;
    next[i] = heads[b]!;
    heads[b] = i;
    if (Math.floor((i + 1) / 2) > mask) {
      const newMask = hmapMask(i + 1);
      if (newMask > mask) {
        const nh = new Int32Array(newMask + 1).fill(-1);
        for (let ob = 0; ob <= mask; ob++) {
          for (let e = heads[ob]!; e !== -1; ) {
            const after = next[e]!;
            const nb = hashes[e]! & newMask;
            next[e] = nh[nb]!;
            nh[nb] = e;
            e = after;
          }
        }
        heads = nh;
        mask = newMask;
      }
    }
  }
  const out = new Int32Array(n);
  let k = 0;
  for (let b = 0; b <= mask; b++) for (let e = heads[b]!; e !== -1; e = next[e]!) out[k++] = e;
  return out;
}

/**
 * The order of the members of a row object OVS prints from a table's
 * columns (`_uuid`, `_version`, then the schema's columns as parsed).
 */
export function rowMemberOrder(columnNames: Iterable<string>): string[] {
  return shashOrder(["_uuid", "_version", ...shashOrder(columnNames)]);
}

/**
 * Re-creates `value` (recursively, for nested plain objects when `deep`)
 * with its keys in OVS shash order, so JSON.stringify prints what OVS prints.
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
