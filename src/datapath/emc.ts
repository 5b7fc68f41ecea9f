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

const M1 = 0x9e3779b1 | 0;

/**
 * The EMC hash of the key at `key[base..]`: the words that tell flows apart
 * in practice (in_port, recirc_id, low MAC bytes, dl_type, outer VLAN,
 * IPv4 addresses, protocol, L4 ports, low IPv6 address words). The cache
 * still compares every word, so leaving words out costs only spread,
 * never correctness — the same idea as OVS indexing its EMC by the RSS
 * 5-tuple hash. One multiply per word and a final avalanche; int32 result
 * (a uint32 above 2^31 would be boxed when returned).
 * (Murmur3 over 13 words measured 50 ns; this 11-word chain ~20 ns.)
 */
// HOT PATH: every packet (bench datapath "EMC hits ≥5 Mpps").
export function emcHash(key: Uint32Array, base: number): number {
  let h = Math.imul(key[base + W_IN_PORT]! ^ 0x2545f491, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_RECIRC_ID]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_ETH_DST + 1]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_ETH_DST + 2]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_DL_TYPE]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_VLAN0]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_NW_SRC]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_NW_DST]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_NW_PROTO]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_TP_SRC]!, M1);
  h = Math.imul(((h << 7) | (h >>> 25)) ^ key[base + W_IPV6_SRC + 3]! ^ key[base + W_IPV6_DST + 3]!, M1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
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
export const IPV4_WORDS = Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 20, 21, 22, 32, 33, 34);
const DL_TYPE_IPV4_WORD = 0x0800 << S_DL_TYPE;

/** Equality of two hot keys (`n` words each). */
// HOT PATH: EMC hits (bench datapath "EMC hits ≥5 Mpps").
export function hotKeysEqual(a: Uint32Array, ab: number, b: Uint32Array, bb: number, n: number): boolean {
  if (a[ab + W_DL_TYPE] !== b[bb + W_DL_TYPE]) return false;
  if (b[bb + W_DL_TYPE] === DL_TYPE_IPV4_WORD) {
    // Unrolled IPV4_WORDS (an index-array loop measured ~2x slower).
    return a[ab + 20] === b[bb + 20] && a[ab + 21] === b[bb + 21] && a[ab + 32] === b[bb + 32] &&
      a[ab] === b[bb] && a[ab + 1] === b[bb + 1] && a[ab + 22] === b[bb + 22] &&
      a[ab + 11] === b[bb + 11] && a[ab + 12] === b[bb + 12] && a[ab + 13] === b[bb + 13] &&
      a[ab + 15] === b[bb + 15] && a[ab + 16] === b[bb + 16] && a[ab + 33] === b[bb + 33] &&
      a[ab + 34] === b[bb + 34] && a[ab + 2] === b[bb + 2] && a[ab + 3] === b[bb + 3] &&
      a[ab + 4] === b[bb + 4] && a[ab + 5] === b[bb + 5] && a[ab + 6] === b[bb + 6] && a[ab + 7] === b[bb + 7];
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
