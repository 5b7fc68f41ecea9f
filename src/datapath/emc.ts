/**
 * The exact-match cache (EMC): the first lookup stage of the userspace
 * datapath, in front of dpcls (OVS's emc_cache in dpif-netdev).
 *
 * What. A small cache from a packet's *whole* flow key to the megaflow that
 * matched it last time. A hit costs one hash, two probes and a key compare —
 * no per-subtable hashing — which pays off when few flows carry most of the
 * traffic.
 *
 * Design.
 * - `EMC_ENTRIES` = 8192 entries, 2-way set associative: a key with hash h
 *   may live at `h & MASK` or at `(h >>> EMC_SHIFT) & MASK`, as OVS's EMC
 *   (EM_FLOW_HASH_SHIFT 13, EM_FLOW_HASH_SEGS 2).
 * - Each entry holds the full key (`keyWords` words), its hash, the flow id
 *   and that flow's generation. A flow id is reused after the flow is
 *   deleted; the flow table bumps the id's generation on deletion, so an
 *   entry whose generation differs is dead — flows die without the EMC
 *   being walked (the "entries invalidated when their flow dies" rule).
 * - Insertion happens after a dpcls hit with probability 1/`insertInvProb`
 *   (`other_config:emc-insert-inv-prob`, default 100; 0 disables the EMC;
 *   1 inserts always), using a cheap xorshift generator, so that a flood of
 *   short flows does not thrash it. An insertion updates an entry that
 *   already holds the key, else takes a dead way, else replaces the way
 *   with the lower hash (any fixed rule works; this one is OVS's).
 *
 * Numbers. 8192 × (4·keyWords + 12) bytes; with a ~60-word key ≈ 2 MB.
 */

import {
  S_DL_TYPE, W_DL_TYPE, W_ETH_DST, W_IN_PORT, W_IPV6_DST, W_IPV6_SRC, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_RECIRC_ID, W_TP_SRC, W_VLAN0,
} from "../flow/key-layout.js";

export const EMC_SHIFT = 13;
export const EMC_ENTRIES = 1 << EMC_SHIFT;
const EMC_MASK = EMC_ENTRIES - 1;
export const DEFAULT_EMC_INSERT_INV_PROB = 100;

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;

/**
 * Words the EMC hash covers: the ones that tell flows apart in practice
 * (in_port, recirc_id, MACs, dl_type, outer VLAN, IPv4 addresses and
 * protocol, the low words of the IPv6 addresses, L4 ports). The cache still
 * compares every hot word, so leaving words out costs only spread, never
 * correctness — and it is the same idea as OVS indexing its EMC with the
 * RSS 5-tuple hash. (Hashing all 44 hot words: +40 ns/packet.)
 */
export const EMC_HASH_WORDS = Int32Array.of(
  W_IN_PORT, W_RECIRC_ID, W_ETH_DST, W_ETH_DST + 1, W_ETH_DST + 2, W_DL_TYPE, W_VLAN0,
  W_NW_SRC, W_NW_DST, W_NW_PROTO, W_IPV6_SRC + 3, W_IPV6_DST + 3, W_TP_SRC,
);
const N_HASH_WORDS = EMC_HASH_WORDS.length;

/**
 * The EMC hash of the key at `key[base..]` (int32: a uint32 above 2^31
 * would be boxed when returned). Also used to coalesce misses.
 */
// HOT PATH: every packet (bench datapath "EMC hits ≥5 Mpps").
export function emcHash(key: Uint32Array, base: number): number {
  let h = 0x9747b28c | 0;
  for (let i = 0; i < N_HASH_WORDS; i++) {
    let k = Math.imul(key[base + EMC_HASH_WORDS[i]!]!, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * Hot words an IPv4 key can have nonzero, given that it has no conntrack
 * or tunnel metadata (the EMC only takes such keys): metadata 0-7, MACs,
 * dl_type and VLANs 11-16, IPv4 20-22, L4 32-34. Extraction never sets
 * the MPLS (17-19), IPv6 (23-31) or ARP/ND (35-43) words of an IPv4 packet
 * nor the ct tuple words (8-10) without ct_state, so two IPv4 keys are
 * equal iff these words are (test/datapath/emc.test.ts checks the premise
 * on random frames). Comparing 20 words instead of 44: −25 ns/packet.
 */
const IPV4_WORDS = Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 20, 21, 22, 32, 33, 34);
const N_IPV4_WORDS = IPV4_WORDS.length;
const DL_TYPE_IPV4_WORD = 0x0800 << S_DL_TYPE;

/** Equality of two hot keys (`n` words each). */
// HOT PATH: EMC hits (bench datapath "EMC hits ≥5 Mpps").
export function hotKeysEqual(a: Uint32Array, ab: number, b: Uint32Array, bb: number, n: number): boolean {
  if (a[ab + W_DL_TYPE] !== b[bb + W_DL_TYPE]) return false;
  if (b[bb + W_DL_TYPE] === DL_TYPE_IPV4_WORD) {
    for (let i = 0; i < N_IPV4_WORDS; i++) {
      const w = IPV4_WORDS[i]!;
      if (a[ab + w] !== b[bb + w]) return false;
    }
    return true;
  }
  for (let i = 0; i < n; i++) if (a[ab + i] !== b[bb + i]) return false;
  return true;
}

export class Emc {
  readonly keyWords: number;
  /** Entry keys, `keyWords` per entry. */
  private readonly keys: Uint32Array;
  private readonly hashes: Int32Array;
  /** Flow id + 1; 0 = never used. */
  private readonly flows: Int32Array;
  private readonly gens: Uint32Array;
  /** 1/insertInvProb chance per insert; 0 disables the cache. */
  private insertInvProb = DEFAULT_EMC_INSERT_INV_PROB;
  /** Insertion threshold on a uint32 random draw. */
  private insertThreshold = 0;
  private rng = 0x1234567;
  hits = 0;

  constructor(keyWords: number) {
    this.keyWords = keyWords;
    this.keys = new Uint32Array(EMC_ENTRIES * keyWords);
    this.hashes = new Int32Array(EMC_ENTRIES);
    this.flows = new Int32Array(EMC_ENTRIES);
    this.gens = new Uint32Array(EMC_ENTRIES);
    this.setInsertInvProb(DEFAULT_EMC_INSERT_INV_PROB);
  }

  /** Sets `emc-insert-inv-prob` (0 disables the EMC, 1 always inserts). */
  setInsertInvProb(inv: number): void {
    inv = Math.max(0, Math.min(Math.floor(inv), 0xffffffff));
    this.insertInvProb = inv;
    this.insertThreshold = inv === 0 ? 0 : Math.floor(0xffffffff / inv);
    if (inv === 0) this.clear();
  }

  get enabled(): boolean {
    return this.insertInvProb !== 0;
  }

  get insertInverseProbability(): number {
    return this.insertInvProb;
  }

  /**
   * Looks up key `keys[base..base+W)` with hash `hash`; returns the flow id
   * or -1. `flowGen` is the flow table's generation array.
   */
  // HOT PATH: EMC hits (bench datapath "EMC hits ≥5 Mpps").
  lookup(keys: Uint32Array, base: number, hash: number, flowGen: Uint32Array): number {
    let e = hash & EMC_MASK;
    for (let way = 0; way < 2; way++) {
      if (this.hashes[e] === hash) {
        const f1 = this.flows[e]!;
        if (f1 !== 0 && flowGen[f1 - 1] === this.gens[e]) {
          if (hotKeysEqual(this.keys, e * this.keyWords, keys, base, this.keyWords)) return f1 - 1;
        }
      }
      e = (hash >>> EMC_SHIFT) & EMC_MASK;
    }
    return -1;
  }

  /** Maybe inserts (probabilistically) key → flow. */
  // HOT PATH: after every dpcls hit (bench datapath "megaflow 1 mask ≥3 Mpps").
  maybeInsert(keys: Uint32Array, base: number, hash: number, flowId: number, gen: number, flowGen: Uint32Array): void {
    if (this.insertThreshold === 0) return;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    if ((x >>> 0) > this.insertThreshold) return;
    this.insert(keys, base, hash, flowId, gen, flowGen);
  }

  /** Inserts key → flow unconditionally. */
  insert(keys: Uint32Array, base: number, hash: number, flowId: number, gen: number, flowGen: Uint32Array): void {
    const W = this.keyWords;
    const e0 = hash & EMC_MASK;
    const e1 = (hash >>> EMC_SHIFT) & EMC_MASK;
    let victim = -1;
    for (let way = 0; way < 2; way++) {
      const e = way === 0 ? e0 : e1;
      const f1 = this.flows[e]!;
      const alive = f1 !== 0 && flowGen[f1 - 1] === this.gens[e];
      if (alive && this.hashes[e] === hash) {
        let i = 0;
        const kb = e * W;
        while (i < W && this.keys[kb + i] === keys[base + i]) i++;
        if (i === W) {
          this.flows[e] = flowId + 1;
          this.gens[e] = gen;
          return;
        }
      }
      if (!alive) {
        if (victim < 0 || this.isAlive(victim, flowGen)) victim = e;
      } else if (victim < 0 || (this.isAlive(victim, flowGen) && this.hashes[e]! < this.hashes[victim]!)) {
        victim = e;
      }
    }
    const kb = victim * W;
    for (let i = 0; i < W; i++) this.keys[kb + i] = keys[base + i]!;
    this.hashes[victim] = hash;
    this.flows[victim] = flowId + 1;
    this.gens[victim] = gen;
  }

  private isAlive(e: number, flowGen: Uint32Array): boolean {
    const f1 = this.flows[e]!;
    return f1 !== 0 && flowGen[f1 - 1] === this.gens[e];
  }

  /** Number of live entries (slow; for stats and tests). */
  count(flowGen: Uint32Array): number {
    let n = 0;
    for (let e = 0; e < EMC_ENTRIES; e++) if (this.isAlive(e, flowGen)) n++;
    return n;
  }

  clear(): void {
    this.flows.fill(0);
  }
}
