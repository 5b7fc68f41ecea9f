/**
 * A binary prefix trie over one address field of the flow key (nw_src,
 * nw_dst, ipv6_src, ipv6_dst, ... — OVS's `prefixes`), used by the
 * classifier to prove cheaply that no rule with a given prefix length can
 * match a packet, so that it can skip a subtable while un-wildcarding only
 * the few leading address bits that proof needed.
 *
 * One node per bit of every inserted prefix, shared between prefixes with
 * a common start; nodes live in typed arrays (no objects), freed nodes are
 * recycled. `ends[n]` counts the prefixes that end at node n (a prefix is
 * inserted once per rule, so counts, not flags); `refs[n]` counts the
 * prefixes that pass through or end at n, so removal can free the path.
 *
 * Field bit i is bit `31 - (i & 31)` of word `word + (i >> 5)`: the most
 * significant bit of an address comes first, as key-layout.ts stores them.
 */

/** Longest prefix the trie accepts (IPv6). */
export const TRIE_MAX_BITS = 128;

const NODE_U32S = 8;
const C0 = 0;
const C1 = 1;
const ENDS = 2;
const REFS = 3;
const SEG = 4;
const SEGLEN = 5;

export class PrefixTrie {
  /** First key word of the field. */
  readonly word: number;
  /** Width of the field in bits (32 or 128). */
  readonly bits: number;
  /** Name of the field, for configuration and messages. */
  readonly name: string;
  /**
   * Nodes, NODE_U32S words each (node 0 is the root), interleaved so a
   * walk touches one cache line per node: child for bit 0, child for bit
   * 1 (0 = none), prefixes ending here, prefixes through or ending here,
   * the node's segment (its bits, most significant first, left-aligned)
   * and the segment length.
   */
  private nodes: Int32Array;
  /** Nodes in use or freed (index of the next fresh node). */
  private top = 1;
  /** Head of the free list (chained through the bit-0 child), 0 when empty. */
  private freeHead = 0;
  /** Prefixes stored (with multiplicity). */
  size = 0;

  constructor(name: string, word: number, bits: number) {
    if (bits <= 0 || bits > TRIE_MAX_BITS || (bits & 31) !== 0) throw new RangeError(`prefix field ${name}: unsupported width ${bits}`);
    this.name = name;
    this.word = word;
    this.bits = bits;
    this.nodes = new Int32Array(64 * NODE_U32S);
  }

  /** Nodes in use (for tests and memory figures). */
  get nodeCount(): number {
    let free = 0;
    for (let n = this.freeHead; n !== 0; n = this.nodes[n * NODE_U32S + C0]!) free++;
    return this.top - 1 - free;
  }

  /** Forgets every prefix (keeps the node storage). */
  clear(): void {
    this.nodes.fill(0, 0, NODE_U32S);
    this.top = 1;
    this.freeHead = 0;
    this.size = 0;
  }

  private alloc(): number {
    let n = this.freeHead;
    if (n !== 0) {
      this.freeHead = this.nodes[n * NODE_U32S + C0]!;
    } else {
      n = this.top++;
      if ((n + 1) * NODE_U32S > this.nodes.length) {
        const b = new Int32Array(this.nodes.length * 2);
        b.set(this.nodes);
        this.nodes = b;
      }
    }
    // Eight stores: a fill() call per node cost more than the node's walk.
    const nodes = this.nodes;
    const at = n * NODE_U32S;
    nodes[at] = nodes[at + 1] = nodes[at + 2] = nodes[at + 3] = nodes[at + 4] = nodes[at + 5] = nodes[at + 6] = nodes[at + 7] = 0;
    return n;
  }

  /** Bit `i` of the field in `key`. */
  private bit(key: Uint32Array, i: number): number {
    return (key[this.word + (i >>> 5)]! >>> (31 - (i & 31))) & 1;
  }

  /** Adds the first `plen` bits of the field in `key` (1 <= plen <= bits). */
  insert(key: Uint32Array, plen: number): void {
    const w0 = this.word;
    let node = 0;
    this.nodes[REFS]!++;
    let d = 0;
    while (d < plen) {
      const b = this.bit(key, d);
      let child = this.nodes[node * NODE_U32S + b]!;
      if (child === 0) {
        // A fresh chain for the rest of the prefix, 32 bits per node at most.
        while (d < plen) {
          const len = plen - d < 32 ? plen - d : 32;
          const c = this.alloc();
          const nodes = this.nodes;
          nodes[node * NODE_U32S + this.bit(key, d)] = c;
          nodes[c * NODE_U32S + SEG] = bitsAt(key, w0, d, len) & topMask(len);
          nodes[c * NODE_U32S + SEGLEN] = len;
          nodes[c * NODE_U32S + REFS] = 1;
          node = c;
          d += len;
        }
        break;
      }
      const cb = child * NODE_U32S;
      const len = this.nodes[cb + SEGLEN]!;
      const seg = this.nodes[cb + SEG]!;
      const avail = len < plen - d ? len : plen - d;
      const diff = (bitsAt(key, w0, d, avail) ^ seg) & topMask(avail);
      const k = diff === 0 ? avail : Math.clz32(diff);
      if (k < len) {
        // Split the child: a new node holds the common k bits.
        const mid = this.alloc();
        const nodes = this.nodes;
        const mb = mid * NODE_U32S;
        nodes[mb + SEG] = seg & topMask(k);
        nodes[mb + SEGLEN] = k;
        nodes[mb + REFS] = nodes[cb + REFS]!;
        nodes[mb + ((seg >>> (31 - k)) & 1)] = child;
        nodes[cb + SEG] = seg << k;
        nodes[cb + SEGLEN] = len - k;
        nodes[node * NODE_U32S + b] = mid;
        child = mid;
      }
      this.nodes[child * NODE_U32S + REFS]!++;
      node = child;
      d += k;
    }
    this.nodes[node * NODE_U32S + ENDS]!++;
    this.size++;
  }

  /** Removes one copy of a prefix added by `insert`; returns false if absent. */
  remove(key: Uint32Array, plen: number): boolean {
    const nodes = this.nodes;
    const w0 = this.word;
    // Find the path first, so a bad call cannot corrupt the counts.
    const path: number[] = [0];
    let node = 0;
    let d = 0;
    while (d < plen) {
      const child = nodes[node * NODE_U32S + this.bit(key, d)]!;
      if (child === 0) return false;
      const len = nodes[child * NODE_U32S + SEGLEN]!;
      if (d + len > plen || ((bitsAt(key, w0, d, len) ^ nodes[child * NODE_U32S + SEG]!) & topMask(len)) !== 0) return false;
      path.push(child);
      node = child;
      d += len;
    }
    if (nodes[node * NODE_U32S + ENDS] === 0) return false;
    nodes[node * NODE_U32S + ENDS]!--;
    nodes[REFS]!--;
    for (let i = 1; i < path.length; i++) {
      const n = path[i]!;
      if (--nodes[n * NODE_U32S + REFS]! === 0) {
        const parent = path[i - 1]!;
        const pb = parent * NODE_U32S;
        if (nodes[pb + C0] === n) nodes[pb + C0] = 0;
        else nodes[pb + C1] = 0;
        this.freeChain(n);
        break;
      }
    }
    this.size--;
    return true;
  }

  /** Frees a chain of nodes whose reference counts all reached zero. */
  private freeChain(n: number): void {
    const nodes = this.nodes;
    while (n !== 0) {
      const b = n * NODE_U32S;
      const next = nodes[b + C0]! !== 0 ? nodes[b + C0]! : nodes[b + C1]!;
      nodes[b + C0] = this.freeHead;
      nodes[b + C1] = 0;
      this.freeHead = n;
      n = next;
    }
  }

  // HOT PATH (once per lookup per configured field)
  /**
   * Walks the field of `flow` down the trie. For every prefix length `d`
   * at which some stored prefix equals the flow's first `d` bits, sets
   * `plenStamp[d] = stamp`. Returns how many leading bits of the field the
   * walk depended on: any flow that agrees on those bits marks exactly the
   * same lengths.
   */
  lookup(flow: Uint32Array, plenStamp: Int32Array, stamp: number): number {
    const nodes = this.nodes;
    const bits = this.bits;
    const w0 = this.word;
    let base = 0;
    let d = 0;
    for (;;) {
      if (nodes[base + ENDS]! !== 0) plenStamp[d] = stamp;
      if (d === bits) return bits;
      const c0 = nodes[base + C0]!;
      const c1 = nodes[base + C1]!;
      const child = ((flow[w0 + (d >>> 5)]! >>> (31 - (d & 31))) & 1) === 0 ? c0 : c1;
      if (child === 0) return (c0 | c1) === 0 ? d : d + 1;
      base = child * NODE_U32S;
      const len = nodes[base + SEGLEN]!;
      const diff = (bitsAt(flow, w0, d, len) ^ nodes[base + SEG]!) & topMask(len);
      // The first bit always agrees (it chose the child); a later one ends the walk.
      if (diff !== 0) return d + Math.clz32(diff) + 1;
      d += len;
    }
  }
}

/** `n` (1..32) one bits, left-aligned. */
function topMask(n: number): number {
  return n >= 32 ? -1 : ~(-1 >>> n);
}

/** Bits d .. d+31 of the field at word `w0` of `key`, left-aligned (bits past the field read as the next word's, callers mask). */
function bitsAt(key: Uint32Array, w0: number, d: number, len: number): number {
  const w = w0 + (d >>> 5);
  const off = d & 31;
  if (off === 0) return key[w]! | 0;
  const hi = key[w]! << off;
  return off + len > 32 ? hi | (key[w + 1]! >>> (32 - off)) : hi;
}

/** The prefix length of the field's bits in `mask` if they form a CIDR prefix; -1 if not a prefix. 0 when unmasked. */
export function prefixLength(mask: Uint32Array, word: number, bits: number): number {
  const nWords = bits >>> 5;
  let plen = 0;
  let i = 0;
  for (; i < nWords; i++) {
    const m = mask[word + i]! >>> 0;
    if (m === 0xffffffff) {
      plen += 32;
      continue;
    }
    // m must be ones then zeros: ~m + 1 is a power of two.
    const inv = ~m >>> 0;
    if ((inv & (inv + 1)) !== 0) return -1;
    plen += 32 - (32 - Math.clz32(inv));
    i++;
    break;
  }
  for (; i < nWords; i++) if (mask[word + i] !== 0) return -1;
  return plen;
}

/** Sets the first `n` bits of the field (at `word`) in `wc`. */
export function unwildcardPrefix(wc: Uint32Array, word: number, n: number): void {
  let w = word;
  while (n >= 32) {
    wc[w++] = 0xffffffff;
    n -= 32;
  }
  if (n > 0) wc[w] = (wc[w]! | (0xffffffff << (32 - n))) >>> 0;
}
