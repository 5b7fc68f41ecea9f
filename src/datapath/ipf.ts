/**
 * IP fragment reassembly for the userspace connection tracker (OVS's
 * lib/ipf.c): conntrack needs whole packets, so the `ct` action first
 * hands fragments here.
 *
 * A fragment is kept (a copy; the datapath drops the original) until its
 * list, keyed by zone, recirculation id, addresses, protocol and IP id, is
 * complete. The fragment that completes it gets a reassembled packet,
 * which the tracker sees instead; every fragment of the list then carries
 * the reassembled packet's connection state and continues through the
 * rest of the actions (the kept ones resumed by the executor), so that the
 * fragments, not a reassembled packet, leave the switch.
 *
 * Checks and limits as OVS 3.1's: checksum and length of the IP header,
 * a minimum size for fragments other than the last (too small: not kept,
 * the tracker marks it invalid), no overlaps, at most `maxFrags` kept
 * fragments, lists expiring after 15 s. Counters and knobs are those of
 * `dpctl/ipf-get-status` and `dpctl/ipf-set-*`.
 *
 * IPv6 fragments (a Fragment header, possibly after other extension
 * headers) are reassembled the same way. Not done: NAT rewrites of the
 * fragments, and `-m`'s per-list dump.
 */
import { DpPacket, DP_PACKET_HEADROOM } from "../packet/dp-packet.js";
import { internetChecksum } from "../packet/checksum.js";

export const IPF_PASS = 0;
export const IPF_HELD = 1;
export const IPF_DONE = 2;

/** How long a list waits for its missing fragments (ms). */
export const IPF_FRAG_LIST_TIMEOUT = 15_000;
/** Lower bound of the minimum fragment size (both families, as OVS 3.1 checks it). */
export const IPF_MIN_FRAG_LBOUND = 400;
/** Upper bound of max-nfrags. */
export const IPF_MAX_FRAGS_UBOUND = 5000;

export class IpfCounters {
  accepted = 0;
  completed = 0;
  expired = 0;
  tooSmall = 0;
  overlapped = 0;
  purged = 0;
}

interface Frag {
  pkt: DpPacket;
  /** Payload byte range [start, end). */
  start: number;
  end: number;
  /** Where the fragment's data begins, from the packet's start. */
  dataOfs: number;
}

/** What a fragment says about itself. */
interface FragInfo {
  v6: boolean;
  more: boolean;
  start: number;
  end: number;
  l3Size: number;
  dataOfs: number;
  /** Family, protocol, identification and addresses. */
  key: string;
}

interface FragList {
  frags: Frag[];
  /** End of the whole payload, known once the last fragment arrived (-1 before). */
  total: number;
  expires: number;
  v6: boolean;
}

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const IPPROTO_FRAGMENT = 44;

export class Ipf {
  v4Enabled = true;
  v6Enabled = true;
  maxFrags = 1000;
  minV4FragSize = 1200;
  minV6FragSize = 1280;
  /** Fragments kept now. */
  nFrag = 0;
  readonly v4 = new IpfCounters();
  readonly v6 = new IpfCounters();
  private readonly lists = new Map<string, FragList>();

  /** After IPF_DONE: the reassembled packet (for the tracker) and the kept fragments to resume. */
  reassembled: DpPacket | null = null;
  readonly resume: DpPacket[] = [];

  /**
   * Looks at `pkt` before the tracker does. IPF_PASS: not a fragment this
   * module takes (the tracker sees it as it is); IPF_HELD: kept, the
   * caller stops executing the original; IPF_DONE: it completed its list,
   * see `reassembled` and `resume`.
   */
  preprocess(pkt: DpPacket, dlType: number, zone: number, now: number): number {
    this.reassembled = null;
    this.resume.length = 0;
    if (this.lists.size > 0) this.expire(now);
    if (pkt.l3Ofs < 0 || pkt.packetType !== 0) return IPF_PASS;
    let f: FragInfo | null = null;
    if (dlType === ETH_TYPE_IP) {
      if (this.v4Enabled) f = this.parseV4(pkt);
    } else if (dlType === ETH_TYPE_IPV6) {
      if (this.v6Enabled) f = this.parseV6(pkt);
    }
    if (f === null) return IPF_PASS;
    const c = f.v6 ? this.v6 : this.v4;
    if (f.more && f.l3Size < (f.v6 ? this.minV6FragSize : this.minV4FragSize)) {
      c.tooSmall++;
      return IPF_PASS;
    }
    if (this.nFrag >= this.maxFrags) return IPF_PASS;
    const { start, end, more } = f;
    const key = `${zone}|${pkt.recircId}|${f.key}`;
    let list = this.lists.get(key);
    if (list !== undefined) {
      for (const g of list.frags) {
        if (start < g.end && g.start < end) {
          c.overlapped++;
          return IPF_PASS;
        }
      }
      // A second last fragment disagreeing about the end is an overlap too.
      if (!more && list.total >= 0 && list.total !== end) {
        c.overlapped++;
        return IPF_PASS;
      }
    }
    c.accepted++;
    const total = !more ? end : (list?.total ?? -1);
    if (list !== undefined && total >= 0 && this.covers(list.frags, start, end, total)) {
      this.complete(key, list, { pkt, start, end, dataOfs: f.dataOfs }, total);
      return IPF_DONE;
    }
    if (list === undefined) {
      list = { frags: [], total: -1, expires: now + IPF_FRAG_LIST_TIMEOUT, v6: f.v6 };
      this.lists.set(key, list);
    }
    if (!more) list.total = end;
    const copy = new DpPacket(pkt.len + DP_PACKET_HEADROOM);
    copy.copyFrom(pkt);
    list.frags.push({ pkt: copy, start, end, dataOfs: f.dataOfs });
    this.nFrag++;
    return IPF_HELD;
  }

  /** An IPv4 fragment this module takes (valid header and length), or null. */
  private parseV4(pkt: DpPacket): FragInfo | null {
    const b = pkt.buf;
    const l3 = pkt.start + pkt.l3Ofs;
    const l3Size = pkt.len - pkt.l3Ofs - pkt.l2PadSize;
    if (l3Size < 20) return null;
    const fragField = (b[l3 + 6]! << 8) | b[l3 + 7]!;
    const more = (fragField & 0x2000) !== 0;
    const offset = (fragField & 0x1fff) * 8;
    if (!more && offset === 0) return null;
    const hlen = (b[l3]! & 0x0f) * 4;
    const totLen = (b[l3 + 2]! << 8) | b[l3 + 3]!;
    if (totLen !== l3Size || hlen < 20 || l3Size < hlen || internetChecksum(b, l3, hlen) !== 0) return null;
    return {
      v6: false, more, start: offset, end: offset + (l3Size - hlen), l3Size, dataOfs: pkt.l3Ofs + hlen,
      key: `4|${b[l3 + 9]}|${(b[l3 + 4]! << 8) | b[l3 + 5]!}|${b.subarray(l3 + 12, l3 + 20).join(".")}`,
    };
  }

  /**
   * An IPv6 fragment (a Fragment header after the hop-by-hop, routing,
   * destination options or AH headers) with a consistent payload length, or null.
   */
  private parseV6(pkt: DpPacket): FragInfo | null {
    const b = pkt.buf;
    const l3 = pkt.start + pkt.l3Ofs;
    const l3Size = pkt.len - pkt.l3Ofs - pkt.l2PadSize;
    if (l3Size < 48 || 40 + ((b[l3 + 4]! << 8) | b[l3 + 5]!) !== l3Size) return null;
    const end = l3 + l3Size;
    let nh = b[l3 + 6]!;
    let o = l3 + 40;
    for (;;) {
      if (nh === IPPROTO_FRAGMENT) break;
      if (nh !== 0 && nh !== 43 && nh !== 60 && nh !== 51) return null;
      if (o + 2 > end) return null;
      const len = nh === 51 ? (b[o + 1]! + 2) * 4 : (b[o + 1]! + 1) * 8;
      nh = b[o]!;
      o += len;
    }
    if (o + 8 > end) return null;
    const offlg = (b[o + 2]! << 8) | b[o + 3]!;
    const more = (offlg & 1) !== 0;
    const offset = offlg & 0xfff8;
    if (!more && offset === 0) return null;
    const data = o + 8;
    return {
      v6: true, more, start: offset, end: offset + (end - data), l3Size, dataOfs: data - pkt.start,
      key: `6|${b[o]}|${(b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!}|${b.subarray(l3 + 8, l3 + 40).join(".")}`,
    };
  }

  /** True when `frags` plus [start, end) cover [0, total) without gaps. */
  private covers(frags: readonly Frag[], start: number, end: number, total: number): boolean {
    const all = [...frags.map((f) => [f.start, f.end] as const), [start, end] as const].sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [s, e] of all) {
      if (s !== at) return false;
      at = e;
    }
    return at === total;
  }

  /** Builds the reassembled packet from the list and `last` (the fragment that completed it). */
  private complete(key: string, list: FragList, last: Frag, payload: number): void {
    this.lists.delete(key);
    this.nFrag -= list.frags.length;
    (list.v6 ? this.v6 : this.v4).completed += list.frags.length + 1;
    const parts: Frag[] = [...list.frags, last].sort((x, y) => x.start - y.start);
    const first = parts[0]!;
    const fb = first.pkt.buf;
    const fs = first.pkt.start;
    const l2Len = first.pkt.l3Ofs;
    // Headers: the first fragment's, less IPv6's Fragment header.
    const headLen = list.v6 ? first.dataOfs - 8 - l2Len : first.dataOfs - l2Len;
    const out = new Uint8Array(l2Len + headLen + payload);
    out.set(fb.subarray(fs, fs + l2Len + headLen), 0);
    for (const p of parts) {
      const q = p.pkt;
      out.set(q.buf.subarray(q.start + p.dataOfs, q.start + p.dataOfs + (p.end - p.start)), l2Len + headLen + p.start);
    }
    if (list.v6) {
      // The header before the Fragment header names what followed it.
      const fragHdr = fs + first.dataOfs - 8;
      let nhAt = l2Len + 6;
      let type = out[nhAt]!;
      let o = l2Len + 40;
      while (o < l2Len + headLen) {
        nhAt = o;
        const len = type === 51 ? (out[o + 1]! + 2) * 4 : (out[o + 1]! + 1) * 8;
        type = out[o]!;
        o += len;
      }
      out[nhAt] = fb[fragHdr]!;
      const plen = headLen - 40 + payload;
      out[l2Len + 4] = plen >> 8;
      out[l2Len + 5] = plen & 0xff;
    } else {
      const tot = headLen + payload;
      out[l2Len + 2] = tot >> 8;
      out[l2Len + 3] = tot & 0xff;
      // The first fragment's offset and flags, less "more fragments" (DF stays).
      out[l2Len + 6] &= ~0x20;
      out[l2Len + 10] = 0;
      out[l2Len + 11] = 0;
      const c = internetChecksum(out, l2Len, headLen);
      out[l2Len + 10] = c >> 8;
      out[l2Len + 11] = c & 0xff;
    }
    const r = new DpPacket(out.length + DP_PACKET_HEADROOM);
    r.copyFrom(last.pkt);
    r.setData(out);
    this.reassembled = r;
    for (const f of list.frags) this.resume.push(f.pkt);
  }

  /**
   * Drops lists whose time ran out (15 s after their first fragment). As
   * in OVS, this happens when packets go through the ct action; OVS then
   * sends the fragments on, to be marked invalid: here they are dropped.
   */
  expire(now: number): void {
    for (const [key, list] of this.lists) {
      if (now < list.expires) continue;
      this.lists.delete(key);
      this.nFrag -= list.frags.length;
      (list.v6 ? this.v6 : this.v4).expired += list.frags.length;
    }
  }

  /** `dpctl/ipf-get-status`. */
  statusText(): string {
    const lines = [
      "Fragmentation Module Status",
      "---------------------------",
      `v4 enabled: ${this.v4Enabled ? 1 : 0}`,
      `v6 enabled: ${this.v6Enabled ? 1 : 0}`,
      `max num frags (v4/v6): ${this.maxFrags}`,
      `num frag: ${this.nFrag}`,
      `min v4 frag size: ${this.minV4FragSize}`,
    ];
    const counters = (v: string, c: IpfCounters) => [
      `${v} frags accepted: ${c.accepted}`,
      `${v} frags completed: ${c.completed}`,
      `${v} frags expired: ${c.expired}`,
      `${v} frags too small: ${c.tooSmall}`,
      `${v} frags overlapped: ${c.overlapped}`,
      `${v} frags purged: ${c.purged}`,
    ];
    lines.push(...counters("v4", this.v4), `min v6 frag size: ${this.minV6FragSize}`, ...counters("v6", this.v6));
    return lines.map((l) => `        ${l}\n`).join("");
  }
}
