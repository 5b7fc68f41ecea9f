/**
 * The datapath's flow table: every installed megaflow (OVS's
 * dp_netdev_flow), as columns of typed arrays indexed by a small integer
 * flow id rather than one object per flow.
 *
 * A flow is: its masked key and mask (held by dpcls, see dpcls.ts), its
 * actions (an id into the interned `ActionStore`), its ufid (four words),
 * and its stats (packets, bytes, last use, TCP flags). A flow id's
 * *generation* is bumped when the flow is deleted so that caches holding
 * the id (the EMC) see it die without being walked.
 *
 * Lookup by ufid uses an open-addressing index (linear probing on the
 * ufid's first word, which is already a hash; backward-shift deletion).
 *
 * The key a flow was installed with is kept too, not just the masked key
 * dpcls holds, because dumps print it (OVS's dpif-netdev keeps the key as
 * given to flow_put or the upcalled packet's key, so `dpctl/dump-flows`
 * shows `ipv4(src=1.2.3.4/255.255.0.0)`). Only the *residual* — the words
 * where `key & ~mask` is nonzero — is stored, as (word index, bits) in two
 * shared arenas (5 bytes a word), compacted when half of it is dead.
 *
 * Numbers: per flow 4 (gen) + 16 (ufid) + 4 (actions) + 32 (stats: packets,
 * bytes, used, tcp flags in one stride) + ≤16 (ufid index) + 4 (run stamp)
 * + 6 + 5 per residual word ≈ 82 bytes plus the residual, plus dpcls.
 * bench/datapath "memory" (200,000 flows from packets, /32 + ports mask):
 * 169 → 188.8 bytes/flow with the residual store; 196.6 with the stats
 * stride (four arrays of 26 bytes a flow became one of 32).
 */
import { ActionStore } from "./action-store.js";
import { Dpcls } from "./dpcls.js";

/** Doubles per flow in `FlowTable.stats`, and the fields' offsets. */
export const STAT_STRIDE = 4;
export const ST_PACKETS = 0;
export const ST_BYTES = 1;
export const ST_USED = 2;
export const ST_TCP = 3;

export class FlowTable {
  readonly dpcls: Dpcls;
  readonly actions = new ActionStore();
  /** Number of live flows. */
  count = 0;
  capacity: number;
  /** Per id: generation, bumped on delete. */
  gen: Uint32Array;
  /** Per id: action-store id, or -1 when the id is free. */
  actionId: Int32Array;
  ufid: Uint32Array;
  /**
   * Per id: the flow's stats side by side, `STAT_STRIDE` doubles each —
   * packets (ST_PACKETS), bytes (ST_BYTES), last use (ST_USED) and TCP
   * flags (ST_TCP) — so crediting a run of packets touches one cache line
   * and one array instead of four.
   */
  stats: Float64Array;
  /** Per id: scratch stamp of the datapath's per-batch run check. */
  runStamp: Uint32Array;
  /** Per id: first residual word in the arenas, and the number of them. */
  residOff: Int32Array;
  residLen: Uint16Array;
  /** Residual arenas: word index and the key's bits outside the mask. */
  private residIdx = new Uint8Array(1024);
  private residVal = new Uint32Array(1024);
  /** Arena words in use (live and dead), and dead ones. */
  private residTop = 0;
  private residDead = 0;
  /** Free ids (a stack); ids above `highWater` were never used. */
  private freeIds: Int32Array;
  private nFree = 0;
  private highWater = 0;
  /** ufid index: flow id + 1, 0 = empty. */
  private index: Int32Array;
  private indexMask: number;

  constructor(keyWords: number, initial = 1024) {
    this.dpcls = new Dpcls(keyWords, initial);
    this.capacity = initial;
    this.gen = new Uint32Array(initial);
    this.actionId = new Int32Array(initial).fill(-1);
    this.ufid = new Uint32Array(initial * 4);
    this.stats = new Float64Array(initial * STAT_STRIDE);
    this.runStamp = new Uint32Array(initial);
    this.residOff = new Int32Array(initial);
    this.residLen = new Uint16Array(initial);
    this.freeIds = new Int32Array(initial);
    this.index = new Int32Array(initial * 2);
    this.indexMask = initial * 2 - 1;
  }

  isLive(id: number): boolean {
    return id >= 0 && id < this.capacity && this.actionId[id]! >= 0;
  }

  /** Finds a flow by ufid; -1 when absent. */
  findByUfid(u: Uint32Array, uo = 0): number {
    let b = u[uo]! & this.indexMask;
    for (;;) {
      const v = this.index[b]!;
      if (v === 0) return -1;
      const f = v - 1;
      const o = f * 4;
      if (this.ufid[o] === u[uo] && this.ufid[o + 1] === u[uo + 1] && this.ufid[o + 2] === u[uo + 2] && this.ufid[o + 3] === u[uo + 3]) return f;
      b = (b + 1) & this.indexMask;
    }
  }

  /**
   * Installs a flow; returns its id. The caller has checked that no flow
   * with this ufid exists and that the flow limit allows it.
   */
  add(key: Uint32Array, base: number, mask: Uint32Array, actions: Uint8Array, ufid: Uint32Array, now: number): number {
    if ((this.count + 1) * 2 > this.index.length) this.rehashIndex(this.index.length * 2);
    const id = this.allocId();
    this.actionId[id] = this.actions.intern(actions);
    const u = this.ufid;
    u[id * 4] = ufid[0]!;
    u[id * 4 + 1] = ufid[1]!;
    u[id * 4 + 2] = ufid[2]!;
    u[id * 4 + 3] = ufid[3]!;
    this.stats.fill(0, id * STAT_STRIDE, id * STAT_STRIDE + STAT_STRIDE);
    void now;
    this.dpcls.insert(id, key, base, mask);
    this.setResidual(id, key, base, mask);
    this.placeIndex(id);
    this.count++;
    return id;
  }

  /** Replaces a flow's actions. */
  setActions(id: number, actions: Uint8Array): void {
    const old = this.actionId[id]!;
    this.actionId[id] = this.actions.intern(actions);
    this.actions.release(old);
  }

  /**
   * Removes flow `id` from lookups (dpcls, ufid index) and kills it for the
   * EMC. The id itself stays reserved (its actions readable) until
   * `release(id)` — so a batch in flight may still execute it.
   */
  unlink(id: number): void {
    this.dpcls.remove(id);
    this.clearIndex(id);
    this.gen[id] = (this.gen[id]! + 1) >>> 0;
    this.count--;
  }

  /**
   * Writes the key flow `id` was installed with into `out` (the masked key
   * from dpcls plus the residual); false when the flow is not installed.
   */
  originalKey(id: number, out: Uint32Array): boolean {
    if (!this.dpcls.keyOf(id, out)) return false;
    const o = this.residOff[id]!;
    const n = this.residLen[id]!;
    for (let i = 0; i < n; i++) {
      const w = this.residIdx[o + i]!;
      out[w] = (out[w]! | this.residVal[o + i]!) >>> 0;
    }
    return true;
  }

  // Per flow setup (bench datapath "upcall"): one pass over the key.
  private setResidual(id: number, key: Uint32Array, base: number, mask: Uint32Array): void {
    const W = this.dpcls.keyWords;
    if (this.residTop + W > this.residVal.length) this.makeResidualRoom(W);
    const idx = this.residIdx;
    const val = this.residVal;
    const o = this.residTop;
    let j = o;
    for (let i = 0; i < W; i++) {
      const r = key[base + i]! & ~mask[i]!;
      if (r !== 0) {
        idx[j] = i;
        val[j] = r;
        j++;
      }
    }
    this.residTop = j;
    this.residOff[id] = o;
    this.residLen[id] = j - o;
  }

  /** Compacts the arenas (live flows' residuals in id order) and grows them if still short of `n` words. */
  private makeResidualRoom(n: number): void {
    const live = this.residTop - this.residDead;
    let size = this.residVal.length;
    // After compaction at most half is used, so compactions are amortised.
    while (live + n > size / 2) size *= 2;
    const idx = new Uint8Array(size);
    const val = new Uint32Array(size);
    let j = 0;
    for (let id = 0; id < this.highWater; id++) {
      const len = this.residLen[id]!;
      if (len === 0) continue;
      // Residuals are a few words: a loop, not two views per flow.
      const o = this.residOff[id]!;
      for (let i = 0; i < len; i++) {
        idx[j + i] = this.residIdx[o + i]!;
        val[j + i] = this.residVal[o + i]!;
      }
      this.residOff[id] = j;
      j += len;
    }
    this.residIdx = idx;
    this.residVal = val;
    this.residTop = j;
    this.residDead = 0;
  }

  /** Frees an unlinked id for reuse. */
  release(id: number): void {
    this.residDead += this.residLen[id]!;
    this.residLen[id] = 0;
    this.actions.release(this.actionId[id]!);
    this.actionId[id] = -1;
    this.freeIds[this.nFree++] = id;
  }

  /** One past the highest flow id ever used (ids below may be free). */
  idLimit(): number {
    return this.highWater;
  }

  /** Live flow ids (snapshot). */
  liveIds(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.highWater; i++) if (this.actionId[i]! >= 0 && this.dpcls.subtableOf[i]! >= 0) out.push(i);
    return out;
  }

  /** Bytes held by the table's arrays (including dpcls and actions). */
  memoryBytes(): number {
    return this.gen.byteLength + this.actionId.byteLength + this.ufid.byteLength + this.stats.byteLength +
      this.freeIds.byteLength +
      this.index.byteLength + this.runStamp.byteLength + this.residOff.byteLength + this.residLen.byteLength + this.residIdx.byteLength +
      this.residVal.byteLength + this.dpcls.bytes() + this.actions.bytes();
  }

  private allocId(): number {
    if (this.nFree > 0) return this.freeIds[--this.nFree]!;
    if (this.highWater === this.capacity) this.grow();
    return this.highWater++;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const g = <T extends Uint32Array | Int32Array | Float64Array | Uint16Array>(a: T, b: T): T => {
      b.set(a as never);
      return b;
    };
    this.gen = g(this.gen, new Uint32Array(cap));
    this.actionId = g(this.actionId, new Int32Array(cap).fill(-1));
    this.ufid = g(this.ufid, new Uint32Array(cap * 4));
    this.stats = g(this.stats, new Float64Array(cap * STAT_STRIDE));
    this.runStamp = g(this.runStamp, new Uint32Array(cap));
    this.residOff = g(this.residOff, new Int32Array(cap));
    this.residLen = g(this.residLen, new Uint16Array(cap));
    this.freeIds = g(this.freeIds, new Int32Array(cap));
    this.capacity = cap;
  }

  private placeIndex(id: number): void {
    let b = this.ufid[id * 4]! & this.indexMask;
    while (this.index[b] !== 0) b = (b + 1) & this.indexMask;
    this.index[b] = id + 1;
  }

  private clearIndex(id: number): void {
    const index = this.index;
    const m = this.indexMask;
    let b = this.ufid[id * 4]! & m;
    while (index[b] !== id + 1) {
      if (index[b] === 0) return;
      b = (b + 1) & m;
    }
    let hole = b;
    let j = (b + 1) & m;
    for (;;) {
      const v = index[j]!;
      if (v === 0) break;
      const home = this.ufid[(v - 1) * 4]! & m;
      if (((j - home) & m) >= ((j - hole) & m)) {
        index[hole] = v;
        hole = j;
      }
      j = (j + 1) & m;
    }
    index[hole] = 0;
  }

  private rehashIndex(size: number): void {
    this.index = new Int32Array(size);
    this.indexMask = size - 1;
    for (let i = 0; i < this.highWater; i++) {
      if (this.actionId[i]! >= 0 && this.dpcls.subtableOf[i]! >= 0) this.placeIndex(i);
    }
  }
}
