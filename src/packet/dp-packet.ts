/**
 * The datapath packet buffer (OVS `struct dp_packet`) and batches of them,
 * both taken from preallocated pools.
 *
 * A `DpPacket` is one `Uint8Array` of fixed capacity with headroom in front
 * of the frame, so tunnel encapsulation and VLAN/MPLS pushes move `start`
 * back instead of copying. The frame is `buf[start .. start+len)`. Next to
 * the bytes it carries the packet metadata OVS keeps in `pkt_metadata`
 * (in_port, recirc_id, dp_hash, skb_priority, pkt_mark, conntrack state,
 * tunnel metadata) and the header offsets extraction caches (l2_5/l3/l4,
 * relative to `start`, -1 when absent).
 *
 * Tunnel metadata is kept in the flow-key layout's TUN region (words
 * REGION_TUN_START..REGION_CTX_START-1, index with `W_TUN_* - REGION_TUN_START`)
 * plus the Geneve option words, so extraction copies it word for word.
 *
 * Pools are free lists filled at construction: `alloc()` returns null and
 * counts a drop when empty instead of growing per packet (Snabb style).
 */

/**
 * Words of tunnel metadata: the flow key's TUN region (src/flow/key-layout.ts
 * TUN_U32S; the packet layer sits below flow, so the numbers are repeated
 * here and a test checks they agree).
 */
export const PKT_TUN_U32S = 17;
/** Words of Geneve option bytes (252 / 4), the key's GENEVE region. */
export const PKT_GENEVE_U32S = 63;
/** Index in `tun` of tun_dst (IPv4) and of the first tun_ipv6_dst word. */
const TUN_DST_IDX = 3;
const TUN_IPV6_DST_IDX = 8;
/** Index in `tun` of the word holding the Geneve option length. */
const TUN_GENEVE_LEN_IDX = 16;

/** Default bytes reserved in front of the frame for pushed headers. */
export const DP_PACKET_HEADROOM = 128;
/** Default buffer size: headroom + a 9000-byte jumbo frame + slack. */
export const DP_PACKET_DEFAULT_SIZE = 9216 + DP_PACKET_HEADROOM;
/** Packets per batch, as OVS's NETDEV_MAX_BURST. */
export const BATCH_SIZE = 32;

/** packet_type of an Ethernet frame (namespace 0, type 0). */
export const PT_ETH = 0;

export class DpPacket {
  /** The whole buffer, headroom included. */
  readonly buf: Uint8Array;
  /** DataView over `buf` (same bytes), for 16/32-bit big-endian reads. */
  readonly view: DataView;
  /**
   * `buf` as native-endian 32-bit words (its whole words), for copying
   * frames word by word into the 4-aligned default headroom.
   */
  readonly words: Uint32Array;
  /** Offset of the first frame byte in `buf`. */
  start = DP_PACKET_HEADROOM;
  /** Frame length in bytes. */
  len = 0;

  /* ---- metadata (OVS pkt_metadata) ---- */
  inPort = 0;
  recircId = 0;
  dpHash = 0;
  skbPriority = 0;
  pktMark = 0;
  /** (namespace << 16) | type; PT_ETH for Ethernet frames. */
  packetType = PT_ETH;
  ctState = 0;
  ctZone = 0;
  ctMark = 0;
  /** 128-bit label, most significant word first. */
  readonly ctLabel = new Uint32Array(4);
  /**
   * Original-direction conntrack tuple (set by ct when the state is
   * tracked). Extraction puts it in the key only when ctNwProto is nonzero
   * and the tuple's IP version (ctOrigTupleIpv6) matches the packet's.
   */
  ctOrigTupleIpv6 = false;
  ctNwProto = 0;
  ctNwSrc = 0;
  ctNwDst = 0;
  /** The IPv6 tuple; meaningful (and cleared on reset) only while ctOrigTupleIpv6. */
  readonly ctIpv6Src = new Uint32Array(4);
  readonly ctIpv6Dst = new Uint32Array(4);
  ctTpSrc = 0;
  ctTpDst = 0;
  /**
   * Tunnel metadata in key-layout order (TUN region). All zero when not
   * tunnelled. Writers clear all of it and `tunGeneve` before writing.
   */
  readonly tun = new Uint32Array(PKT_TUN_U32S);
  /** Geneve option bytes in key-layout order (GENEVE region). */
  readonly tunGeneve = new Uint32Array(PKT_GENEVE_U32S);

  /* ---- offsets cached by extraction (relative to start, -1 = none) ---- */
  l2_5Ofs = -1;
  l3Ofs = -1;
  l4Ofs = -1;
  /** Trailing bytes after the L3 payload (Ethernet padding). */
  l2PadSize = 0;

  /** The pool this packet returns to, or null for a free-standing packet. */
  pool: DpPacketPool | null = null;
  /** The last view `frame()` made. */
  private frameCache: Uint8Array | null = null;

  constructor(size: number = DP_PACKET_DEFAULT_SIZE) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.words = new Uint32Array(this.buf.buffer, 0, size >>> 2);
  }

  /** Room left in front of the frame. */
  headroom(): number {
    return this.start;
  }

  /** Room left after the frame. */
  tailroom(): number {
    return this.buf.length - this.start - this.len;
  }

  /** The frame bytes (a view, no copy). */
  data(): Uint8Array {
    return this.buf.subarray(this.start, this.start + this.len);
  }

  /**
   * `data()`, the same view again while the frame has not moved or
   * changed length: a pooled packet that misses the flow table once per
   * new flow then makes no view per upcall.
   */
  frame(): Uint8Array {
    const v = this.frameCache;
    if (v !== null && v.byteOffset === this.start && v.length === this.len) return v;
    return (this.frameCache = this.buf.subarray(this.start, this.start + this.len));
  }

  /** Clears metadata and offsets (not the bytes) and resets start to the default headroom. */
  reset(): void {
    this.start = Math.min(DP_PACKET_HEADROOM, this.buf.length);
    this.len = 0;
    this.resetMetadata();
    this.resetOffsets();
  }

  // HOT PATH: every pooled packet (DpPacketPool.alloc). bench/datapath split
  // "buffer reset": five typed-array fill() calls per packet cost 118-176
  // ns; clearing the arrays only when they can hold something: 16-17 ns.
  resetMetadata(): void {
    this.inPort = 0;
    this.recircId = 0;
    this.dpHash = 0;
    this.skbPriority = 0;
    this.pktMark = 0;
    this.packetType = PT_ETH;
    this.ctState = 0;
    this.ctZone = 0;
    this.ctMark = 0;
    this.ctNwProto = 0;
    this.ctNwSrc = 0;
    this.ctNwDst = 0;
    this.ctTpSrc = 0;
    this.ctTpDst = 0;
    // The IPv6 tuple words mean something only with ctOrigTupleIpv6.
    if (this.ctOrigTupleIpv6) {
      this.ctIpv6Src.fill(0);
      this.ctIpv6Dst.fill(0);
      this.ctOrigTupleIpv6 = false;
    }
    const l = this.ctLabel;
    if ((l[0]! | l[1]! | l[2]! | l[3]!) !== 0) l.fill(0);
    if (this.hasTunWords()) {
      this.tun.fill(0);
      this.tunGeneve.fill(0);
    }
  }

  /**
   * True when the tunnel metadata may hold something: a tunnel destination,
   * tun_id or a Geneve option length is set. Every writer of `tun` clears
   * all of it (and `tunGeneve`) first, and readers look at the rest only
   * with a destination set, so these 8 words stand for the 17 + 63.
   */
  private hasTunWords(): boolean {
    const t = this.tun;
    const d6 = TUN_IPV6_DST_IDX;
    return (t[0]! | t[1]! | t[TUN_DST_IDX]! | t[d6]! | t[d6 + 1]! | t[d6 + 2]! | t[d6 + 3]! | t[TUN_GENEVE_LEN_IDX]!) !== 0;
  }

  resetOffsets(): void {
    this.l2_5Ofs = -1;
    this.l3Ofs = -1;
    this.l4Ofs = -1;
    this.l2PadSize = 0;
  }

  /** True when the packet carries tunnel metadata (a tunnel destination is set). */
  hasTunnel(): boolean {
    const t = this.tun;
    const d6 = TUN_IPV6_DST_IDX;
    return t[TUN_DST_IDX] !== 0 || (t[d6]! | t[d6 + 1]! | t[d6 + 2]! | t[d6 + 3]!) !== 0;
  }

  /**
   * Copies `src[off..off+n)` in as the frame, after `headroom` bytes.
   * Returns false (and leaves the packet empty) when it does not fit.
   */
  setData(src: Uint8Array, off = 0, n = src.length - off, headroom = DP_PACKET_HEADROOM): boolean {
    if (headroom + n > this.buf.length || n < 0) {
      this.len = 0;
      return false;
    }
    this.start = headroom;
    this.len = n;
    this.buf.set(src.subarray(off, off + n), headroom);
    this.resetOffsets();
    return true;
  }

  /**
   * Makes room for `n` bytes in front of the frame and returns the new start
   * offset in `buf` (the caller writes the header there), or -1 when the
   * headroom is too small. Cached l3/l4 offsets stay valid relative to the
   * new start after adding `n` (done here).
   */
  push(n: number): number {
    if (n > this.start) return -1;
    this.start -= n;
    this.len += n;
    if (this.l2_5Ofs >= 0) this.l2_5Ofs += n;
    if (this.l3Ofs >= 0) this.l3Ofs += n;
    if (this.l4Ofs >= 0) this.l4Ofs += n;
    return this.start;
  }

  /** Drops `n` bytes from the front of the frame; false when the frame is shorter. */
  pull(n: number): boolean {
    if (n > this.len) return false;
    this.start += n;
    this.len -= n;
    this.l2_5Ofs = this.l2_5Ofs >= n ? this.l2_5Ofs - n : -1;
    this.l3Ofs = this.l3Ofs >= n ? this.l3Ofs - n : -1;
    this.l4Ofs = this.l4Ofs >= n ? this.l4Ofs - n : -1;
    return true;
  }

  /** Extends the frame by `n` bytes at the end; returns the offset in `buf` of the new bytes or -1. */
  put(n: number): number {
    if (n > this.tailroom()) return -1;
    const at = this.start + this.len;
    this.len += n;
    return at;
  }

  /** Shortens the frame to `n` bytes (no-op when already shorter). */
  truncate(n: number): void {
    if (n < this.len) this.len = n;
  }

  /**
   * Inserts `n` bytes at frame offset `at` (e.g. a VLAN tag after the MACs)
   * by moving the first `at` bytes back into the headroom. Returns false when
   * the headroom is too small.
   */
  insertAt(at: number, n: number): boolean {
    if (n > this.start || at > this.len) return false;
    const s = this.start;
    this.buf.copyWithin(s - n, s, s + at);
    this.start = s - n;
    this.len += n;
    if (this.l2_5Ofs >= at) this.l2_5Ofs += n;
    if (this.l3Ofs >= at) this.l3Ofs += n;
    if (this.l4Ofs >= at) this.l4Ofs += n;
    return true;
  }

  /** Removes `n` bytes at frame offset `at` by moving the first `at` bytes forward. */
  removeAt(at: number, n: number): boolean {
    if (at + n > this.len) return false;
    const s = this.start;
    this.buf.copyWithin(s + n, s, s + at);
    this.start = s + n;
    this.len -= n;
    this.l2_5Ofs = this.l2_5Ofs >= at + n ? this.l2_5Ofs - n : this.l2_5Ofs >= at ? -1 : this.l2_5Ofs;
    this.l3Ofs = this.l3Ofs >= at + n ? this.l3Ofs - n : this.l3Ofs >= at ? -1 : this.l3Ofs;
    this.l4Ofs = this.l4Ofs >= at + n ? this.l4Ofs - n : this.l4Ofs >= at ? -1 : this.l4Ofs;
    return true;
  }

  /** Copies bytes and metadata of `src` into this packet (clone into a pooled buffer). */
  // HOT PATH: clone/sample copies (bench/odp-execute).
  copyFrom(src: DpPacket): boolean {
    const head = Math.min(src.start, this.buf.length - src.len);
    if (head < 0) return false;
    // subarray() + set() rather than a byte loop: measured 2x faster for
    // 64-byte frames despite the subarray object (107 vs 215 ns wall on the
    // loaded machine). Skipping the five metadata array copies: bench
    // odp-execute two_outputs(clone) 542-706 -> 303-481 ns/packet (noisy).
    this.buf.set(src.buf.subarray(src.start, src.start + src.len), head);
    this.start = head;
    this.len = src.len;
    this.inPort = src.inPort;
    this.recircId = src.recircId;
    this.dpHash = src.dpHash;
    this.skbPriority = src.skbPriority;
    this.pktMark = src.pktMark;
    this.packetType = src.packetType;
    this.ctState = src.ctState;
    this.ctZone = src.ctZone;
    this.ctMark = src.ctMark;
    this.ctNwProto = src.ctNwProto;
    this.ctNwSrc = src.ctNwSrc;
    this.ctNwDst = src.ctNwDst;
    this.ctTpSrc = src.ctTpSrc;
    this.ctTpDst = src.ctTpDst;
    // The typed arrays are copied (or cleared) only when either side may
    // hold something: a clone is usually a fresh pool packet of a plain frame.
    if (src.ctOrigTupleIpv6 || this.ctOrigTupleIpv6) {
      this.ctIpv6Src.set(src.ctIpv6Src);
      this.ctIpv6Dst.set(src.ctIpv6Dst);
    }
    this.ctOrigTupleIpv6 = src.ctOrigTupleIpv6;
    const sl = src.ctLabel;
    const dl = this.ctLabel;
    dl[0] = sl[0]!;
    dl[1] = sl[1]!;
    dl[2] = sl[2]!;
    dl[3] = sl[3]!;
    if (src.hasTunWords()) {
      this.tun.set(src.tun);
      this.tunGeneve.set(src.tunGeneve);
    } else if (this.hasTunWords()) {
      this.tun.fill(0);
      this.tunGeneve.fill(0);
    }
    this.l2_5Ofs = src.l2_5Ofs;
    this.l3Ofs = src.l3Ofs;
    this.l4Ofs = src.l4Ofs;
    this.l2PadSize = src.l2PadSize;
    return true;
  }

  /** Returns the packet to its pool (no-op for a free-standing packet). */
  release(): void {
    if (this.pool !== null) this.pool.free(this);
  }
}

/** A fixed set of packets handed out from a free list. */
export class DpPacketPool {
  private readonly freeList: DpPacket[];
  private nFree: number;
  /** alloc() calls that found the pool empty. */
  drops = 0;
  readonly capacity: number;

  constructor(count: number, bufSize: number = DP_PACKET_DEFAULT_SIZE) {
    this.capacity = count;
    this.freeList = new Array<DpPacket>(count);
    for (let i = 0; i < count; i++) {
      const p = new DpPacket(bufSize);
      p.pool = this;
      this.freeList[i] = p;
    }
    this.nFree = count;
  }

  /** A reset packet, or null (counted in `drops`) when all are in use. */
  alloc(): DpPacket | null {
    if (this.nFree === 0) {
      this.drops++;
      return null;
    }
    const p = this.freeList[--this.nFree]!;
    p.reset();
    return p;
  }

  free(p: DpPacket): void {
    if (p.pool !== this || this.nFree >= this.capacity) return;
    this.freeList[this.nFree++] = p;
  }

  available(): number {
    return this.nFree;
  }
}

/** Up to BATCH_SIZE packets processed together (OVS dp_packet_batch). */
export class DpPacketBatch {
  readonly packets: (DpPacket | null)[] = new Array<DpPacket | null>(BATCH_SIZE).fill(null);
  count = 0;
  /** True when these packets may be modified in place (not shared with a sender). */
  trunc = false;
  pool: DpPacketBatchPool | null = null;

  /** Appends a packet; false when the batch is full. */
  add(p: DpPacket): boolean {
    if (this.count >= BATCH_SIZE) return false;
    this.packets[this.count++] = p;
    return true;
  }

  get(i: number): DpPacket {
    return this.packets[i]!;
  }

  isFull(): boolean {
    return this.count >= BATCH_SIZE;
  }

  /** Forgets the packets without releasing them. */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.packets[i] = null;
    this.count = 0;
  }

  /** Releases every packet to its pool and empties the batch. */
  releaseAll(): void {
    for (let i = 0; i < this.count; i++) {
      const p = this.packets[i]!;
      p.release();
      this.packets[i] = null;
    }
    this.count = 0;
  }

  release(): void {
    if (this.pool !== null) this.pool.free(this);
  }
}

export class DpPacketBatchPool {
  private readonly freeList: DpPacketBatch[];
  private nFree: number;
  drops = 0;
  readonly capacity: number;

  constructor(count: number) {
    this.capacity = count;
    this.freeList = new Array<DpPacketBatch>(count);
    for (let i = 0; i < count; i++) {
      const b = new DpPacketBatch();
      b.pool = this;
      this.freeList[i] = b;
    }
    this.nFree = count;
  }

  alloc(): DpPacketBatch | null {
    if (this.nFree === 0) {
      this.drops++;
      return null;
    }
    const b = this.freeList[--this.nFree]!;
    b.clear();
    return b;
  }

  free(b: DpPacketBatch): void {
    if (b.pool !== this || this.nFree >= this.capacity) return;
    b.clear();
    this.freeList[this.nFree++] = b;
  }

  available(): number {
    return this.nFree;
  }
}
