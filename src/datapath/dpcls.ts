/**
 * dpcls: the datapath classifier, the megaflow table of the userspace
 * datapath (OVS's lib/dpif-netdev-lookup + dpcls, the seed's `flow_lookup`).
 *
 * What. A megaflow is (masked key, mask) → flow id. A packet's flow key
 * matches a megaflow when `key & mask == maskedKey`. The table answers
 * "which megaflow matches this key" for a batch of up to 32 keys.
 *
 * Design: tuple space search. Every distinct mask gets one *subtable*. The
 * subtable knows the mask's nonzero words (`words`, their mask values in
 * `maskVals`), and holds its flows' masked keys compactly: only those
 * `n = words.length` words per flow, in one dense `Int32Array`. A packet
 * key is hashed over exactly those masked words and probed in an
 * open-addressing hash table (linear probing, backward-shift deletion, no
 * tombstones) of dense-entry indexes. Lookup walks the subtables in rank
 * order — most hits first — and stops at the first match: megaflows
 * installed by a correct upcall handler never overlap, so the first match
 * is the match (as in OVS, overlapping megaflows are allowed but which of
 * them wins is unspecified).
 *
 * Ranking. Each subtable counts its hits; every `RERANK_INTERVAL` batch
 * lookups the subtables are re-sorted by hits since the previous re-rank
 * and the counters reset, as OVS's dpcls does with its pvector each second.
 *
 * Batch lookup. The batch is processed subtable by subtable: one pass over
 * the still-unmatched keys per subtable (a 32-bit bitmap), so each
 * subtable's arrays stay in cache while the batch walks them.
 *
 * Invariants.
 * - A flow id appears in at most one subtable, at `entryOf[flowId]`.
 * - Dense entries `0 .. count-1` are live; removal moves the last entry
 *   into the hole and repoints its bucket.
 * - Bucket tables are powers of two, at most half full.
 *
 * Numbers. Per installed megaflow: 4n (key words) + 8 (flow id, hash) +
 * ≤16 (buckets at ≤50 % load, doubling) + 8 (entryOf/subtableOf) bytes.
 * bench/datapath, 200,000 flows under one 7-word 5-tuple mask: 149.5
 * bytes/flow for the whole flow table (dpcls + flow columns + actions),
 * 162 bytes/flow of process heap + array buffers (target ≤ 400). Lookup
 * ≈ 75 ns per key and subtable probed (1 mask).
 */

/** Re-rank subtables after this many batch lookups. */
export const RERANK_INTERVAL = 4096;

const HASH_M = 0x9e3779b1 | 0;
const HASH_C1 = 0xcc9e2d51 | 0;

/**
 * Hash of `key[base + words[i]] & maskVals[i]` over the subtable's words,
 * seeded with the subtable's id so equal masked keys in different
 * subtables spread differently: one multiply-rotate per word and a final
 * avalanche (murmur3's two multiplies per word measured ~40 % slower).
 * int32 result: a uint32 above 2^31 would be boxed as a heap number when
 * returned from a non-inlined call (measured ~250 bytes/batch).
 */
// (Subtable.lookup computes the same hash inline; keep them in step.)
export function maskedHash(key: Uint32Array, base: number, words: Int32Array, maskVals: Uint32Array, n: number, seed: number): number {
  let h = Math.imul(seed ^ 0x2545f491, HASH_M);
  for (let i = 0; i < n; i++) {
    h = Math.imul(((h << 7) | (h >>> 25)) ^ (key[base + words[i]!]! & maskVals[i]!), HASH_M);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** One mask's flows. */
export class Subtable {
  /** Index of this subtable in `Dpcls.byId` (stable while it lives). */
  readonly id: number;
  /** Full mask, `keyWords` long (kept for dumps and equality). */
  readonly mask: Uint32Array;
  /** Indexes of the mask's nonzero words, ascending. */
  readonly words: Int32Array;
  /** Mask values at `words`. */
  readonly maskVals: Uint32Array;
  /** Number of nonzero mask words. */
  readonly n: number;
  /** Hash of the full mask (to find the subtable for a mask). */
  readonly maskHash: number;
  /** Scratch: the masked words of the key being looked up. */
  private readonly tmp: Int32Array;

  /** Number of live entries. */
  count = 0;
  /** Hits since the last re-rank. */
  hits = 0;
  /** Dense entries: masked key words (n per entry), as int32 so they compare with `key & mask` directly. */
  entKeys: Int32Array;
  /** Dense entries: flow id. */
  entFlow: Int32Array;
  /** Dense entries: hash of the masked key (int32). */
  entHash: Int32Array;
  /** Open-addressing buckets: dense entry index + 1, 0 = empty. */
  buckets: Int32Array;
  bucketMask: number;

  constructor(id: number, mask: Uint32Array, maskHash: number) {
    this.id = id;
    this.mask = mask;
    this.maskHash = maskHash;
    let n = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
    this.n = n;
    this.words = new Int32Array(n);
    this.maskVals = new Uint32Array(n);
    this.tmp = new Int32Array(Math.max(n, 1));
    let j = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== 0) {
        this.words[j] = i;
        this.maskVals[j] = mask[i]!;
        j++;
      }
    }
    const cap = 8;
    this.entKeys = new Int32Array(cap * Math.max(n, 1));
    this.entFlow = new Int32Array(cap);
    this.entHash = new Int32Array(cap);
    this.buckets = new Int32Array(cap * 2);
    this.bucketMask = cap * 2 - 1;
  }

  /**
   * Looks up the key at `key[base..]`: masks its words once into a scratch
   * array, hashes them (same function as `maskedHash`) and probes. One
   * pass over the key instead of two (hash, then compare): −15 % in
   * bench datapath "megaflow 1 mask".
   */
  // HOT PATH: megaflow lookup (bench datapath "megaflow 1 mask ≥3 Mpps", "16 masks ≥1 Mpps").
  lookup(key: Uint32Array, base: number): number {
    const n = this.n;
    const words = this.words;
    const maskVals = this.maskVals;
    const tmp = this.tmp;
    let h = Math.imul(this.id ^ 0x2545f491, HASH_M);
    for (let i = 0; i < n; i++) {
      const v = key[base + words[i]!]! & maskVals[i]!;
      tmp[i] = v;
      h = Math.imul(((h << 7) | (h >>> 25)) ^ v, HASH_M);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h |= 0;
    const buckets = this.buckets;
    const bmask = this.bucketMask;
    const entHash = this.entHash;
    const entKeys = this.entKeys;
    let b = h & bmask;
    for (;;) {
      const e1 = buckets[b]!;
      if (e1 === 0) return -1;
      const e = e1 - 1;
      if (entHash[e] === h) {
        const kb = e * n;
        let i = 0;
        while (i < n && entKeys[kb + i] === tmp[i]) i++;
        if (i === n) return this.entFlow[e]!;
      }
      b = (b + 1) & bmask;
    }
  }

  /** True when dense entry `e` matches the key at `key[base..]`. */
  matchesEntry(e: number, key: Uint32Array, base: number): boolean {
    const n = this.n;
    const words = this.words;
    const maskVals = this.maskVals;
    const kb = e * n;
    for (let i = 0; i < n; i++) if (this.entKeys[kb + i] !== (key[base + words[i]!]! & maskVals[i]!)) return false;
    return true;
  }

  /** Adds an entry; the caller has checked it is not present. Returns its dense index. */
  insert(key: Uint32Array, base: number, hash: number, flowId: number): number {
    if (this.count === this.entFlow.length) this.growEntries();
    if ((this.count + 1) * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    const e = this.count++;
    const n = this.n;
    for (let i = 0; i < n; i++) this.entKeys[e * n + i] = key[base + this.words[i]!]! & this.maskVals[i]!;
    this.entFlow[e] = flowId;
    this.entHash[e] = hash;
    this.placeBucket(hash, e);
    return e;
  }

  /**
   * Removes dense entry `e`. If another entry moved into `e`, returns that
   * entry's flow id (so the caller can update its back-pointer), else -1.
   */
  remove(e: number): number {
    this.clearBucket(e);
    const last = this.count - 1;
    this.count = last;
    if (e === last) return -1;
    const n = this.n;
    // Move the last entry into the hole, and repoint its bucket.
    this.clearBucket(last);
    this.entKeys.copyWithin(e * n, last * n, last * n + n);
    this.entFlow[e] = this.entFlow[last]!;
    this.entHash[e] = this.entHash[last]!;
    this.placeBucket(this.entHash[e]!, e);
    return this.entFlow[e]!;
  }

  /** Copies entry `e`'s masked key into `out` (full layout, zeros elsewhere). */
  readKey(e: number, out: Uint32Array): void {
    out.fill(0);
    const n = this.n;
    for (let i = 0; i < n; i++) out[this.words[i]!] = this.entKeys[e * n + i]!;
  }

  /** Bytes held by this subtable's arrays. */
  bytes(): number {
    return this.entKeys.byteLength + this.entFlow.byteLength + this.entHash.byteLength +
      this.buckets.byteLength + this.words.byteLength + this.maskVals.byteLength + this.mask.byteLength;
  }

  private placeBucket(hash: number, e: number): void {
    let b = hash & this.bucketMask;
    while (this.buckets[b] !== 0) b = (b + 1) & this.bucketMask;
    this.buckets[b] = e + 1;
  }

  /** Deletes the bucket that points at entry `e` (backward-shift deletion). */
  private clearBucket(e: number): void {
    const buckets = this.buckets;
    const bmask = this.bucketMask;
    let b = this.entHash[e]! & bmask;
    while (buckets[b] !== e + 1) b = (b + 1) & bmask;
    // Shift following members of the probe run back into the hole.
    let hole = b;
    let j = (b + 1) & bmask;
    for (;;) {
      const v = buckets[j]!;
      if (v === 0) break;
      const home = this.entHash[v - 1]! & bmask;
      // Entry at j may move into hole iff its home is not in (hole, j].
      const dist = (j - home) & bmask;
      const gap = (j - hole) & bmask;
      if (dist >= gap) {
        buckets[hole] = v;
        hole = j;
      }
      j = (j + 1) & bmask;
    }
    buckets[hole] = 0;
  }

  private growEntries(): void {
    const cap = this.entFlow.length * 2;
    const keys = new Int32Array(cap * Math.max(this.n, 1));
    keys.set(this.entKeys);
    this.entKeys = keys;
    const flows = new Int32Array(cap);
    flows.set(this.entFlow);
    this.entFlow = flows;
    const hashes = new Int32Array(cap);
    hashes.set(this.entHash);
    this.entHash = hashes;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size);
    this.bucketMask = size - 1;
    for (let e = 0; e < this.count; e++) this.placeBucket(this.entHash[e]!, e);
  }

  /** Shrinks the arrays when they are mostly empty (after mass deletion). */
  maybeShrink(): void {
    const cap = this.entFlow.length;
    if (cap <= 64 || this.count * 8 > cap) return;
    let ncap = 8;
    while (ncap < this.count * 2) ncap *= 2;
    this.entKeys = this.entKeys.slice(0, ncap * Math.max(this.n, 1));
    this.entFlow = this.entFlow.slice(0, ncap);
    this.entHash = this.entHash.slice(0, ncap);
    this.rehash(ncap * 2);
  }
}

function sameMask(a: Uint32Array, b: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Hash of a whole mask (kept per subtable for diagnostics). */
function fullHash(mask: Uint32Array): number {
  let h = 0x2f1a3b5c;
  for (let i = 0; i < mask.length; i++) {
    h ^= Math.imul(mask[i]! ^ i, HASH_C1);
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64 | 0;
  }
  return h | 0;
}

/**
 * The classifier. Flow ids are small nonnegative integers allocated by the
 * caller (the flow table); `capacity` grows on demand.
 */
export class Dpcls {
  readonly keyWords: number;
  /** Subtables in probe order (re-ranked by hits). */
  ranked: Subtable[] = [];
  /** Subtables by id; holes are null. */
  private byId: (Subtable | null)[] = [];
  /** Per flow id: subtable id, or -1. */
  subtableOf: Int32Array;
  /** Per flow id: dense entry index in its subtable. */
  entryOf: Int32Array;
  private lookups = 0;
  private lastSubtable: Subtable | null = null;
  /** Subtable probes made by batch lookups (OVS "masks hit"). */
  probes = 0;

  constructor(keyWords: number, initialFlows = 1024) {
    this.keyWords = keyWords;
    this.subtableOf = new Int32Array(initialFlows).fill(-1);
    this.entryOf = new Int32Array(initialFlows);
  }

  get subtableCount(): number {
    return this.ranked.length;
  }

  /**
   * Finds the subtable for exactly this mask, or null. Direct comparison
   * with early exit, most recently used subtable first: installs mostly
   * reuse a few masks, and hashing a whole mask costs more than comparing.
   */
  findSubtable(mask: Uint32Array): Subtable | null {
    const W = this.keyWords;
    const last = this.lastSubtable;
    if (last !== null && this.byId[last.id] === last && sameMask(last.mask, mask, W)) return last;
    for (const st of this.ranked) {
      if (st !== last && sameMask(st.mask, mask, W)) {
        this.lastSubtable = st;
        return st;
      }
    }
    return null;
  }

  /**
   * Inserts flow `flowId` matching `key & mask`. `key` is read at
   * `key[base .. base+keyWords)`. The caller guarantees the flow id is not
   * already in the table.
   */
  insert(flowId: number, key: Uint32Array, base: number, mask: Uint32Array): void {
    let st = this.findSubtable(mask);
    if (st === null) {
      let id = this.byId.indexOf(null);
      if (id < 0) id = this.byId.length;
      st = new Subtable(id, mask.slice(0, this.keyWords), fullHash(mask));
      this.byId[id] = st;
      this.lastSubtable = st;
      this.ranked.push(st);
    }
    this.ensureFlowCapacity(flowId + 1);
    const hash = maskedHash(key, base, st.words, st.maskVals, st.n, st.id);
    const e = st.insert(key, base, hash, flowId);
    this.subtableOf[flowId] = st.id;
    this.entryOf[flowId] = e;
  }

  /** Removes flow `flowId`; no-op when absent. Empty subtables are freed. */
  remove(flowId: number): void {
    if (flowId >= this.subtableOf.length) return;
    const sid = this.subtableOf[flowId]!;
    if (sid < 0) return;
    const st = this.byId[sid]!;
    const moved = st.remove(this.entryOf[flowId]!);
    if (moved >= 0) this.entryOf[moved] = this.entryOf[flowId]!;
    this.subtableOf[flowId] = -1;
    if (st.count === 0) {
      this.byId[sid] = null;
      const i = this.ranked.indexOf(st);
      if (i >= 0) this.ranked.splice(i, 1);
    } else {
      st.maybeShrink();
    }
  }

  /** The mask of flow `flowId`'s subtable (shared; do not modify). */
  maskOf(flowId: number): Uint32Array | null {
    const sid = this.subtableOf[flowId] ?? -1;
    return sid < 0 ? null : this.byId[sid]!.mask;
  }

  /** Writes flow `flowId`'s masked key into `out`; false when absent. */
  keyOf(flowId: number, out: Uint32Array): boolean {
    const sid = this.subtableOf[flowId] ?? -1;
    if (sid < 0) return false;
    this.byId[sid]!.readKey(this.entryOf[flowId]!, out);
    return true;
  }

  /** True when flow `flowId` is installed and its megaflow matches the key at `key[base..]`. */
  // HOT PATH: SMC verification (bench datapath "smc16").
  matchesFlow(flowId: number, key: Uint32Array, base: number): boolean {
    if (flowId >= this.subtableOf.length) return false;
    const sid = this.subtableOf[flowId]!;
    if (sid < 0) return false;
    return this.byId[sid]!.matchesEntry(this.entryOf[flowId]!, key, base);
  }

  /** Looks up one key; returns the flow id or -1. */
  lookupOne(key: Uint32Array, base: number): number {
    const ranked = this.ranked;
    for (let s = 0; s < ranked.length; s++) {
      const f = ranked[s]!.lookup(key, base);
      if (f >= 0) return f;
    }
    return -1;
  }

  /**
   * Batch lookup. For every bit i set in `todo` (bit i = key i at
   * `keys[i * stride]`), writes the matching flow id into `out[i]` or
   * leaves it untouched if none. Returns the bitmap of keys still
   * unmatched.
   */
  // HOT PATH: megaflow lookup (bench datapath "megaflow 1 mask ≥3 Mpps", "16 masks ≥1 Mpps").
  lookupBatch(keys: Uint32Array, stride: number, todo: number, out: Int32Array): number {
    const ranked = this.ranked;
    const W = stride;
    let remaining = todo | 0;
    for (let s = 0; s < ranked.length && remaining !== 0; s++) {
      const st = ranked[s]!;
      let bits = remaining;
      let hits = 0;
      let probes = 0;
      while (bits !== 0) {
        probes++;
        const i = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const f = st.lookup(keys, i * W);
        if (f >= 0) {
          out[i] = f;
          remaining &= ~(1 << i);
          hits++;
        }
      }
      st.hits += hits;
      this.probes += probes;
    }
    if (++this.lookups >= RERANK_INTERVAL) this.rerank();
    return remaining;
  }

  /** Sorts subtables by hits since the last re-rank, most first. */
  rerank(): void {
    this.lookups = 0;
    this.ranked.sort((a, b) => b.hits - a.hits);
    for (const st of this.ranked) st.hits = 0;
  }

  /** Removes every flow. */
  clear(): void {
    this.lastSubtable = null;
    this.ranked = [];
    this.byId = [];
    this.subtableOf.fill(-1);
  }

  /** Bytes held by the classifier's arrays. */
  bytes(): number {
    let b = this.subtableOf.byteLength + this.entryOf.byteLength;
    for (const st of this.ranked) b += st.bytes();
    return b;
  }

  private ensureFlowCapacity(n: number): void {
    if (n <= this.subtableOf.length) return;
    let cap = this.subtableOf.length;
    while (cap < n) cap *= 2;
    const s = new Int32Array(cap).fill(-1);
    s.set(this.subtableOf);
    this.subtableOf = s;
    const e = new Int32Array(cap);
    e.set(this.entryOf);
    this.entryOf = e;
  }
}
