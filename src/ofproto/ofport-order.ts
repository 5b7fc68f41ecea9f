/**
 * The order in which OVS lists a bridge's ports in replies (port stats,
 * port desc, features, queue stats): the iteration order of its hash map
 * of ports, keyed by hash_ofp_port (a murmur3-style hash of the 16-bit
 * port number). ovs-ofctl prints port statistics in reply order, so
 * matching OVS byte for byte means keeping the same map.
 *
 * `OfportMap` models OVS's hmap exactly where order is concerned: nodes
 * go to the head of their bucket; the bucket array grows (to at least 4
 * buckets, a power of two) once n / 2 exceeds the mask, rehashing bucket
 * by bucket, each node again at the head of its new bucket; removal does
 * not shrink it; iteration walks buckets 0..mask, each from its head.
 * Checked against ovs-vswitchd 3.1 with 15 ports (test/ofproto).
 */

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

function hashAdd(hash: number, data: number): number {
  let d = Math.imul(data, 0xcc9e2d51) >>> 0;
  d = rotl(d, 15);
  d = Math.imul(d, 0x1b873593) >>> 0;
  let h = (hash ^ d) >>> 0;
  h = rotl(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

function hashFinish(hash: number, final: number): number {
  let h = (hash ^ final) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** OVS's hash_int(x, basis) (hash_2words). */
export function hashInt(x: number, basis = 0): number {
  return hashFinish(hashAdd(hashAdd(x >>> 0, 0), basis), 8);
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

interface Node<T> {
  value: T;
  hash: number;
}

/** A set of values with OVS hmap iteration order, keyed by OpenFlow port number. */
export class OfportMap<T> {
  private buckets: Node<T>[][] = [[]];
  private mask = 0;
  private n = 0;

  constructor(private readonly portOf: (t: T) => number) {}

  insert(value: T): void {
    const hash = hashInt(this.portOf(value) & 0xffff);
    this.buckets[hash & this.mask]!.unshift({ value, hash });
    this.n++;
    if (Math.floor(this.n / 2) > this.mask) {
      const mask = calcMask(this.n);
      if (mask > this.mask) this.resize(mask);
    }
  }

  remove(value: T): boolean {
    for (const b of this.buckets) {
      const i = b.findIndex((e) => e.value === value);
      if (i >= 0) {
        b.splice(i, 1);
        this.n--;
        return true;
      }
    }
    return false;
  }

  values(): T[] {
    const out: T[] = [];
    for (const b of this.buckets) for (const e of b) out.push(e.value);
    return out;
  }

  private resize(mask: number): void {
    const next: Node<T>[][] = Array.from({ length: mask + 1 }, () => []);
    for (const b of this.buckets) for (const e of b) next[e.hash & mask]!.unshift(e);
    this.buckets = next;
    this.mask = mask;
  }
}
