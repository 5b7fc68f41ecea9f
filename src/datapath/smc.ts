/**
 * The signature match cache (SMC): an optional second cache between the
 * EMC and dpcls (OVS's smc_cache, `other_config:smc-enable`, off by
 * default as in OVS).
 *
 * What. Where the EMC keeps whole keys (and so few of them), the SMC keeps
 * only a 16-bit signature of a key's hash and the id of the megaflow that
 * matched it, four to a bucket: 65,536 buckets × 4 ways = 262,144 entries
 * in 1.5 MB. A hit is verified against the megaflow itself — the key is
 * masked with the flow's mask and compared with the flow's masked key in
 * its dpcls subtable — so a stale or colliding entry costs one compare,
 * never a wrong answer. It pays off when many flows spread over many masks
 * thrash the EMC: one probe instead of walking the subtables
 * (bench/datapath "smc16").
 *
 * Insertion: after every dpcls hit when enabled (as OVS), replacing a way
 * with the same signature, else an empty way, else the way the hash picks.
 */
import type { Dpcls } from "./dpcls.js";

export const SMC_BUCKET_BITS = 16;
export const SMC_WAYS = 4;
const SMC_BUCKETS = 1 << SMC_BUCKET_BITS;
const SMC_BUCKET_MASK = SMC_BUCKETS - 1;

export class Smc {
  /** Signatures (hash >>> 16), `SMC_WAYS` per bucket. */
  private readonly sigs = new Uint16Array(SMC_BUCKETS * SMC_WAYS);
  /** Flow id + 1; 0 = empty. */
  private readonly flows = new Int32Array(SMC_BUCKETS * SMC_WAYS);
  enabled = false;

  /** Flow id whose megaflow matches the key at `key[base..]`, or -1. */
  // HOT PATH: with smc-enable (bench datapath "smc16").
  lookup(key: Uint32Array, base: number, hash: number, dpcls: Dpcls): number {
    const b = (hash & SMC_BUCKET_MASK) * SMC_WAYS;
    const sig = hash >>> 16;
    for (let w = 0; w < SMC_WAYS; w++) {
      if (this.sigs[b + w] === sig) {
        const f1 = this.flows[b + w]!;
        if (f1 !== 0 && dpcls.matchesFlow(f1 - 1, key, base)) return f1 - 1;
      }
    }
    return -1;
  }

  insert(hash: number, flowId: number): void {
    const b = (hash & SMC_BUCKET_MASK) * SMC_WAYS;
    const sig = hash >>> 16;
    let victim = -1;
    for (let w = 0; w < SMC_WAYS; w++) {
      if (this.sigs[b + w] === sig && this.flows[b + w] !== 0) {
        victim = w;
        break;
      }
      if (victim < 0 && this.flows[b + w] === 0) victim = w;
    }
    if (victim < 0) victim = (hash >>> 8) & (SMC_WAYS - 1);
    this.sigs[b + victim] = sig;
    this.flows[b + victim] = flowId + 1;
  }

  clear(): void {
    this.flows.fill(0);
  }
}
