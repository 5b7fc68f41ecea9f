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
 * Checked against ovs-vswitchd 3.1 with 15 ports (test/ofproto). The
 * same model orders what OVS keeps in maps keyed by name (`hmapOrder`).
 */
import { hashAdd, hashBytes, hashFinish } from "../flow/key-ops.js";

/** OVS's hash_int(x, basis) (hash_2words). */
export function hashInt(x: number, basis = 0): number {
  return hashFinish(hashAdd(hashAdd(x >>> 0, 0), basis), 8);
}

/** OVS's hash_string(s, 0): hash_bytes over the UTF-8 bytes. */
export function hashString(s: string): number {
  return hashBytes(Buffer.from(s, "utf8"), 0);
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

/** A set of values with OVS hmap iteration order, for a hash of each value. */
export class HmapOrder<T> {
  private buckets: Node<T>[][] = [[]];
  private mask = 0;
  private n = 0;

  constructor(private readonly hashOf: (t: T) => number) {}

  insert(value: T): void {
    const hash = this.hashOf(value);
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

/** A bridge's ports in OVS's order: its hmap keyed by hash_ofp_port. */
export class OfportMap<T> extends HmapOrder<T> {
  constructor(portOf: (t: T) => number) {
    super((t) => hashInt(portOf(t) & 0xffff));
  }
}

/** The iteration order of an OVS hmap keyed by hash_string after inserting `names` in order (bridges, bundles). */
export function hmapOrder(names: readonly string[]): string[] {
  const m = new HmapOrder<string>(hashString);
  for (const n of names) m.insert(n);
  return m.values();
}
