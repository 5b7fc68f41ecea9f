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
 * - Each entry holds its hash, the flow id, that flow's generation and the
 *   key (`keyWords` words), side by side in one array. A flow id is reused after the flow is
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
 * - Keys with tunnel or conntrack words bypass the cache (dpif-netdev
 *   checks `hasColdWords`); entries hold the words below the tunnel region
 *   (50: metadata, L2-L4, NSH). For IPv4 keys only the 20 words an IPv4
 *   packet can set are compared (`hotKeysEqual`).
 * - No signature match cache (OVS's SMC, off by default there) yet: with
 *   the EMC off, megaflow lookups go straight to dpcls.
 *
 * Numbers. 8192 × (4·50 + 12) bytes ≈ 1.7 MB. bench/datapath: hash ≈ 20 ns,
 * hash + lookup ≈ 60 ns per packet on the shared 2-core test machine.
 */

import {
  S_DL_TYPE, W_DL_TYPE, W_ETH_DST, W_IN_PORT, W_IPV6_DST, W_IPV6_SRC, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_RECIRC_ID, W_TP_SRC, W_VLAN0,
} from "../flow/key-layout.js";

export const EMC_SHIFT = 13;
export const EMC_ENTRIES = 1 << EMC_SHIFT;
const EMC_MASK = EMC_ENTRIES - 1;
export const DEFAULT_EMC_INSERT_INV_PROB = 100;

const M1 = 0x9e3779b1 | 0;
const M2 = 0xcc9e2d51 | 0;

function rotl13(x: number): number {
  return (x << 13) | (x >>> 19);
}

/**
 * The EMC hash of the key at `key[base..]`: the words that tell flows apart
 * in practice (in_port, recirc_id, low MAC bytes, dl_type, outer VLAN,
 * IPv4 addresses, protocol, L4 ports, low IPv6 address words). The cache
 * still compares every word, so leaving words out costs only spread,
 * never correctness — the same idea as OVS indexing its EMC by the RSS
 * 5-tuple hash. One multiply per word and a final avalanche; int32 result
 * (a uint32 above 2^31 would be boxed when returned).
 * (Murmur3 over 13 words measured 50 ns; this 11-word chain ~20 ns.)
 * IPv4 keys hash only in_port, recirc_id, nw_src, nw_dst, the nw_proto
 * word and the ports, in three parallel lanes (~12 ns): IPv4 flows that
 * differ only in MACs or VLAN share a bucket pair, which costs spread only.
 */
// HOT PATH: every packet (bench datapath "EMC hits ≥5 Mpps").
export function emcHash(key: Uint32Array, base: number): number {
  if (key[base + W_DL_TYPE] === DL_TYPE_IPV4_WORD) {
    // IPv4: in_port, recirc_id and the 5-tuple words, in three independent
    // two-word lanes (the multiplies of a lane overlap with the others').
    // bench/datapath split hash alone: 18.3 -> 12.4 ns per packet (min of 300 x 32k).
    const a = Math.imul(rotl13(Math.imul(key[base + W_IN_PORT]! ^ 0x2545f491, M1)) ^ key[base + W_NW_SRC]!, M2);
    const b = Math.imul(rotl13(Math.imul(key[base + W_RECIRC_ID]! ^ 0x68e31da4, M2)) ^ key[base + W_NW_DST]!, M1);
    const c = Math.imul(rotl13(Math.imul(key[base + W_NW_PROTO]! ^ 0x1b873593, M1)) ^ key[base + W_TP_SRC]!, M2);
    let x = a ^ ((b << 11) | (b >>> 21)) ^ ((c << 22) | (c >>> 10));
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    return x | 0;
  }
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
    // Short-circuit compares: XORs ORed into one branch measured slower
    // (hash + lookup 40 -> 47.5 ns).
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

/** Entry layout in `Emc.ents`: hash, flow id + 1 (0 = empty), generation, then the key. */
const E_HASH = 0;
const E_FLOW = 1;
const E_GEN = 2;
const E_KEY = 3;

export class Emc {
  readonly keyWords: number;
  /**
   * All entries in one array, `stride` words each: [hash (uint32), flow id
   * + 1, generation, key words...]. Keeping an entry's bookkeeping next to
   * its key makes a probe touch the entry's first cache line only until
   * the key compare (separate arrays cost three more lines per probe).
   */
  private readonly ents: Uint32Array;
  private readonly stride: number;
  /** 1/insertInvProb chance per insert; 0 disables the cache. */
  private insertInvProb = DEFAULT_EMC_INSERT_INV_PROB;
  /** Insertion threshold on a uint32 random draw. */
  private insertThreshold = 0;
  private rng = 0x1234567;

  constructor(keyWords: number) {
    this.keyWords = keyWords;
    this.stride = keyWords + E_KEY;
    this.ents = new Uint32Array(EMC_ENTRIES * this.stride);
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
    const ents = this.ents;
    const S = this.stride;
    const uhash = hash >>> 0;
    let o = (hash & EMC_MASK) * S;
    for (let way = 0; way < 2; way++) {
      if (ents[o + E_HASH] === uhash) {
        const f1 = ents[o + E_FLOW]!;
        if (f1 !== 0 && flowGen[f1 - 1] === ents[o + E_GEN]) {
          if (hotKeysEqual(ents, o + E_KEY, keys, base, this.keyWords)) return f1 - 1;
        }
      }
      o = ((hash >>> EMC_SHIFT) & EMC_MASK) * S;
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
    const S = this.stride;
    const ents = this.ents;
    const uhash = hash >>> 0;
    const o0 = (hash & EMC_MASK) * S;
    const o1 = ((hash >>> EMC_SHIFT) & EMC_MASK) * S;
    let victim = -1;
    for (let way = 0; way < 2; way++) {
      const o = way === 0 ? o0 : o1;
      const alive = this.isAlive(o, flowGen);
      if (alive && ents[o + E_HASH] === uhash) {
        let i = 0;
        while (i < W && ents[o + E_KEY + i] === keys[base + i]) i++;
        if (i === W) {
          ents[o + E_FLOW] = flowId + 1;
          ents[o + E_GEN] = gen;
          return;
        }
      }
      if (!alive) {
        if (victim < 0 || this.isAlive(victim, flowGen)) victim = o;
      } else if (victim < 0 || (this.isAlive(victim, flowGen) && ents[o + E_HASH]! < ents[victim + E_HASH]!)) {
        victim = o;
      }
    }
    for (let i = 0; i < W; i++) ents[victim + E_KEY + i] = keys[base + i]!;
    ents[victim + E_HASH] = uhash;
    ents[victim + E_FLOW] = flowId + 1;
    ents[victim + E_GEN] = gen;
  }

  private isAlive(o: number, flowGen: Uint32Array): boolean {
    const f1 = this.ents[o + E_FLOW]!;
    return f1 !== 0 && flowGen[f1 - 1] === this.ents[o + E_GEN];
  }

  /** Number of live entries (slow; for stats and tests). */
  count(flowGen: Uint32Array): number {
    let n = 0;
    for (let e = 0; e < EMC_ENTRIES; e++) if (this.isAlive(e * this.stride, flowGen)) n++;
    return n;
  }

  clear(): void {
    for (let e = 0; e < EMC_ENTRIES; e++) this.ents[e * this.stride + E_FLOW] = 0;
  }
}
