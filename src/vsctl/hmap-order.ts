/**
 * Row order as OVS's IDL iterates it, so `list` and `find` print rows in the
 * same order as the real ovs-vsctl for the same database.
 *
 * OVS keeps rows in a chained hash map (lib/hmap.c) keyed by the first 32
 * bits of the uuid: iteration walks buckets 0..mask, each chain newest
 * first, and the map doubles (re-inserting nodes bucket by bucket) when it
 * holds more than two nodes per bucket. The order therefore depends on the
 * order rows were inserted, which in turn is the iteration order of the JSON
 * objects of the monitor reply (string-keyed hash maps using OVS's murmur
 * hash_string), plus placeholder rows the IDL creates for references to rows
 * it has not seen yet. `HmapSim` replays exactly those mechanics.
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

/** OVS's hash_string(s, 0) (hash_bytes over the UTF-8 bytes, murmur3-style). */
export function hashString(s: string): number {
  const b = Buffer.from(s, "utf8");
  let hash = 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) hash = mhashAdd(hash, b.readUInt32LE(i));
  if (i < b.length) {
    let tmp = 0;
    for (let j = 0; i + j < b.length; j++) tmp |= b[i + j]! << (8 * j);
    hash = mhashAdd(hash, tmp >>> 0);
  }
  return mhashFinish((hash ^ b.length) >>> 0);
}

/** OVS's uuid_hash(): the first 32 bits of the uuid. */
export function uuidHash(uuid: string): number {
  return parseInt(uuid.slice(0, 8), 16) >>> 0;
}

function calcMask(capacity: number): number {
  let m = Math.floor(capacity / 2);
  m |= m >>> 1;
  m |= m >>> 2;
  m |= m >>> 4;
  m |= m >>> 8;
  m |= m >>> 16;
  m |= (m & 1) << 1;
  return m;
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
      const newMask = calcMask(this.n);
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

/** Iteration order of an OVS shash (string-keyed hmap) after inserting `keys` in order. */
export function shashOrder(keys: Iterable<string>): string[] {
  const h = new HmapSim<string>(hashString);
  for (const k of keys) h.insert(k);
  return [...h];
}
