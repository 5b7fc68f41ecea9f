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

export class PrefixTrie {
  /** First key word of the field. */
  readonly word: number;
  /** Width of the field in bits (32 or 128). */
  readonly bits: number;
  /** Name of the field, for configuration and messages. */
  readonly name: string;
  private c0: Int32Array;
  private c1: Int32Array;
  private refs: Int32Array;
  private ends: Int32Array;
  /** Nodes in use or freed (index of the next fresh node). */
  private top = 1;
  /** Head of the free list (chained through c0), 0 when empty. */
  private freeHead = 0;
  /** Prefixes stored (with multiplicity). */
  size = 0;

  constructor(name: string, word: number, bits: number) {
    if (bits <= 0 || bits > TRIE_MAX_BITS || (bits & 31) !== 0) throw new RangeError(`prefix field ${name}: unsupported width ${bits}`);
    this.name = name;
    this.word = word;
    this.bits = bits;
    const cap = 64;
    this.c0 = new Int32Array(cap);
    this.c1 = new Int32Array(cap);
    this.refs = new Int32Array(cap);
    this.ends = new Int32Array(cap);
  }

  private alloc(): number {
    let n = this.freeHead;
    if (n !== 0) {
      this.freeHead = this.c0[n]!;
    } else {
      n = this.top++;
      if (n >= this.c0.length) this.grow();
    }
    this.c0[n] = 0;
    this.c1[n] = 0;
    this.refs[n] = 0;
    this.ends[n] = 0;
    return n;
  }

  private grow(): void {
    const cap = this.c0.length * 2;
    const g = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.c0 = g(this.c0);
    this.c1 = g(this.c1);
    this.refs = g(this.refs);
    this.ends = g(this.ends);
  }

  /** Bit `i` of the field in `key`. */
  private bit(key: Uint32Array, i: number): number {
    return (key[this.word + (i >>> 5)]! >>> (31 - (i & 31))) & 1;
  }

  /** Adds the first `plen` bits of the field in `key` (1 <= plen <= bits). */
  insert(key: Uint32Array, plen: number): void {
    let node = 0;
    this.refs[0]!++;
    for (let d = 0; d < plen; d++) {
      const b = this.bit(key, d);
      let child = b === 0 ? this.c0[node]! : this.c1[node]!;
      if (child === 0) {
        child = this.alloc();
        if (b === 0) this.c0[node] = child;
        else this.c1[node] = child;
      }
      this.refs[child]!++;
      node = child;
    }
    this.ends[node]!++;
    this.size++;
  }

  /** Removes one copy of a prefix added by `insert`; returns false if absent. */
  remove(key: Uint32Array, plen: number): boolean {
    // First check it is there, so a bad call cannot corrupt the counts.
    let node = 0;
    for (let d = 0; d < plen && node >= 0; d++) {
      const child = this.bit(key, d) === 0 ? this.c0[node]! : this.c1[node]!;
      node = child === 0 ? -1 : child;
    }
    if (node < 0 || this.ends[node] === 0) return false;
    this.ends[node]!--;
    this.refs[0]!--;
    node = 0;
    for (let d = 0; d < plen; d++) {
      const b = this.bit(key, d);
      const child = b === 0 ? this.c0[node]! : this.c1[node]!;
      if (--this.refs[child]! === 0) {
        if (b === 0) this.c0[node] = 0;
        else this.c1[node] = 0;
        this.freeSubtree(child);
        break;
      }
      node = child;
    }
    this.size--;
    return true;
  }

  /** Frees a path whose reference counts all reached zero. */
  private freeSubtree(n: number): void {
    while (n !== 0) {
      const next = this.c0[n]! !== 0 ? this.c0[n]! : this.c1[n]!;
      this.c0[n] = this.freeHead;
      this.c1[n] = 0;
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
    let node = 0;
    const bits = this.bits;
    for (let d = 0; ; d++) {
      if (this.ends[node]! !== 0) plenStamp[d] = stamp;
      if (d === bits) return bits;
      const c0 = this.c0[node]!;
      const c1 = this.c1[node]!;
      const child = this.bit(flow, d) === 0 ? c0 : c1;
      if (child === 0) return (c0 | c1) === 0 ? d : d + 1;
      node = child;
    }
  }
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
