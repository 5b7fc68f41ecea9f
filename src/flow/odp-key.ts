/**
 * Conversion between the two forms of a datapath flow key: the netlink
 * attribute form (OVS_KEY_ATTR_*, what the text syntax and the dpif wire
 * format use) and the fixed-layout `Uint32Array` flow key of
 * key-layout.ts (what the datapath classifies with).
 *
 * `odpKeyFromFlow` writes a key (or, with `exportMask`, a mask) in the
 * canonical attribute order OVS uses (odp_flow_key_from_flow): metadata,
 * tunnel, conntrack, recirc_id, dp_hash, in_port, packet_type, Ethernet,
 * VLANs with their encap nests, ethertype, L3, L4. Dumping a flow is
 * `format(odpKeyFromFlow(key), odpKeyFromFlow(mask, export))`.
 *
 * `odpKeyToFlow` / `odpMaskToFlow` read attributes back
 * (odp_flow_key_to_flow / odp_flow_key_to_mask) and check them as the
 * userspace datapath does before installing a flow: each ethertype needs
 * its L3 attribute, each L4 protocol its L4 attribute, a mask may only
 * match L3 bits when the ethertype is matched exactly, and so on.
 * Problems come back as `OdpKeyError`s naming the offending attribute.
 */
import {
  OVS_KEY_ATTR_ARP, OVS_KEY_ATTR_CT_LABELS, OVS_KEY_ATTR_CT_MARK, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4,
  OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, OVS_KEY_ATTR_CT_STATE, OVS_KEY_ATTR_CT_ZONE, OVS_KEY_ATTR_DP_HASH,
  OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_ETHERNET, OVS_KEY_ATTR_ETHERTYPE, OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6,
  OVS_KEY_ATTR_IN_PORT, OVS_KEY_ATTR_IPV4, OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_MAX, OVS_KEY_ATTR_MPLS,
  OVS_KEY_ATTR_ND, OVS_KEY_ATTR_ND_EXTENSIONS, OVS_KEY_ATTR_PACKET_TYPE, OVS_KEY_ATTR_PRIORITY,
  OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_SCTP, OVS_KEY_ATTR_SKB_MARK, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_TCP_FLAGS,
  OVS_KEY_ATTR_TUNNEL, OVS_KEY_ATTR_UDP, OVS_KEY_ATTR_VLAN, OVS_TUNNEL_KEY_ATTR_CSUM,
  OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, OVS_TUNNEL_KEY_ATTR_ID,
  OVS_TUNNEL_KEY_ATTR_IPV4_DST, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, OVS_TUNNEL_KEY_ATTR_IPV6_DST,
  OVS_TUNNEL_KEY_ATTR_IPV6_SRC, OVS_TUNNEL_KEY_ATTR_OAM, OVS_TUNNEL_KEY_ATTR_TOS, OVS_TUNNEL_KEY_ATTR_TP_DST,
  OVS_TUNNEL_KEY_ATTR_TP_SRC, OVS_TUNNEL_KEY_ATTR_TTL, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS, OVS_VXLAN_EXT_GBP,
  KEY_ATTR_LENS, TUN_KEY_ATTR_LENS, keyAttrName,
} from "./odp-attrs.js";
import {
  FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_MASK, FLOW_TNL_F_CSUM, FLOW_TNL_F_DONT_FRAGMENT,
  FLOW_TNL_F_KEY, FLOW_TNL_F_OAM, FLOW_TNL_F_UDPIF, FLOW_U32S, O_ARP_SHA, O_ARP_THA, O_CT_IPV6_DST, O_CT_IPV6_SRC, O_CT_LABEL,
  O_ETH_DST, O_ETH_SRC, O_IPV6_DST, O_IPV6_SRC, O_ND_TARGET, O_TUN_GENEVE, O_TUN_ID, O_TUN_IPV6_DST,
  O_TUN_IPV6_SRC, S_CT_NW_PROTO, S_CT_STATE, S_CT_TP_SRC, S_CT_ZONE, S_DL_TYPE, S_NW_FRAG, S_NW_PROTO, S_NW_TOS,
  S_NW_TTL, S_TP_SRC, S_TUN_GBP_FLAGS, S_TUN_GBP_ID, S_TUN_TOS, S_TUN_TP_SRC, S_TUN_TTL, W_CT_MARK,
  W_CT_NW_DST, W_CT_NW_SRC, W_CT_STATE, W_CT_TP_SRC, W_DL_TYPE, W_DP_HASH, W_IN_PORT, W_IPV6_LABEL,
  W_MPLS_LSE0, W_ND_OPTIONS_TYPE, W_ND_RESERVED, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_PACKET_TYPE, W_PKT_MARK,
  W_RECIRC_ID, W_SKB_PRIORITY, W_TCP_FLAGS, W_TP_SRC, W_TUN_DST, W_TUN_FLAGS, W_TUN_GBP_ID, W_TUN_GENEVE_LEN,
  W_TUN_SRC, W_TUN_TOS, W_TUN_TP_SRC, W_VLAN0,
} from "./key-layout.js";
import { getBe16, getBe32, getU16, getU32, NLA_HDRLEN, nlaLen, nlaNext, nlaOk, nlaType, NlWriter, putBe16, putBe32, putU16, putU32 } from "./odp-netlink.js";

/** A key the datapath cannot accept; `message` says why, as OVS's odp_parse_error does. */
export class OdpKeyError extends Error {
  readonly code = "ODP_KEY";
}

const ODPP_NONE = 0xffffffff;
const PT_ETH = 0;
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_RARP = 0x8035;
const ETH_TYPE_MPLS = 0x8847;
const ETH_TYPE_MPLS_MCAST = 0x8848;
const ETH_TYPE_MIN = 0x600;
const FLOW_DL_TYPE_NONE = 0x5ff;
const VLAN_CFI = 0x1000;
const MPLS_BOS = 0x100;

/* ---------------- byte helpers over the key layout ---------------- */

function kb(key: Uint32Array, i: number): number {
  return (key[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
}
function setKb(key: Uint32Array, i: number, v: number): void {
  const sh = 24 - 8 * (i & 3);
  key[i >> 2] = ((key[i >> 2]! & ~(0xff << sh)) | ((v & 0xff) << sh)) >>> 0;
}
function copyOut(key: Uint32Array, off: number, n: number, dst: Uint8Array, dOff: number): void {
  for (let i = 0; i < n; i++) dst[dOff + i] = kb(key, off + i);
}
function copyIn(key: Uint32Array, off: number, n: number, src: Uint8Array, sOff: number): void {
  for (let i = 0; i < n; i++) setKb(key, off + i, src[sOff + i]!);
}
function sub(key: Uint32Array, w: number, shift: number, bits: number): number {
  return bits === 32 ? key[w]! >>> 0 : (key[w]! >>> shift) & ((1 << bits) - 1);
}
function setSub(key: Uint32Array, w: number, shift: number, bits: number, v: number): void {
  if (bits === 32) {
    key[w] = v >>> 0;
    return;
  }
  const m = ((1 << bits) - 1) << shift;
  key[w] = ((key[w]! & ~m) | ((v << shift) & m)) >>> 0;
}
function bytesZero(key: Uint32Array, off: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (kb(key, off + i)) return false;
  return true;
}

const dlType = (k: Uint32Array): number => k[W_DL_TYPE]! >>> S_DL_TYPE;
const nwProto = (k: Uint32Array): number => (k[W_NW_PROTO]! >>> S_NW_PROTO) & 0xff;
const nwFrag = (k: Uint32Array): number => (k[W_NW_PROTO]! >>> S_NW_FRAG) & 0xff;
const tpSrc = (k: Uint32Array): number => k[W_TP_SRC]! >>> S_TP_SRC;
const tpDst = (k: Uint32Array): number => k[W_TP_SRC]! & 0xffff;

function ethTypeVlan(t: number): boolean {
  return t === 0x8100 || t === 0x88a8;
}
function ethTypeMpls(t: number): boolean {
  return t === ETH_TYPE_MPLS || t === ETH_TYPE_MPLS_MCAST;
}
function isIpAny(k: Uint32Array): boolean {
  const t = dlType(k);
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

/** OVS flow nw_frag bits → ODP frag enum (or mask). */
function toOdpFrag(frag: number, isMask: boolean): number {
  if (isMask) return frag & FLOW_NW_FRAG_ANY ? 0xff : 0;
  return !(frag & FLOW_NW_FRAG_ANY) ? 0 : frag & FLOW_NW_FRAG_LATER ? 2 : 1;
}

/* ---------------- flow → netlink ---------------- */

/** Options of `odpKeyFromFlow`. */
export interface OdpKeyFromFlowOptions {
  /** The mask, consulted when writing a key (tcp_flags presence) or the mask's data when exporting. */
  mask?: Uint32Array | null;
  /** VLAN headers the datapath parses (2 for the userspace datapath). */
  maxVlans?: number;
  /** Emit nd_ext attributes (the kernel datapath's feature; off for userspace). */
  ndExtensions?: boolean;
}

function tunnelPresent(flow: Uint32Array): boolean {
  return flow[W_TUN_DST] !== 0 || flow[W_TUN_SRC] !== 0 || !bytesZero(flow, O_TUN_IPV6_DST, 16) || !bytesZero(flow, O_TUN_IPV6_SRC, 16);
}

function putTunnel(w: NlWriter, data: Uint32Array, flow: Uint32Array): void {
  const n = w.startNested(OVS_KEY_ATTR_TUNNEL);
  const flags = data[W_TUN_FLAGS]! & 0xffff;
  if (flags & FLOW_TNL_F_KEY) {
    const p = w.putUninit(OVS_TUNNEL_KEY_ATTR_ID, 8);
    const b = new Uint8Array(8);
    copyOut(data, O_TUN_ID, 8, b, 0);
    w.buf.set(b, p);
  }
  if (data[W_TUN_SRC]) w.putBe32(OVS_TUNNEL_KEY_ATTR_IPV4_SRC, data[W_TUN_SRC]!);
  if (data[W_TUN_DST]) w.putBe32(OVS_TUNNEL_KEY_ATTR_IPV4_DST, data[W_TUN_DST]!);
  for (const [off, type] of [[O_TUN_IPV6_SRC, OVS_TUNNEL_KEY_ATTR_IPV6_SRC], [O_TUN_IPV6_DST, OVS_TUNNEL_KEY_ATTR_IPV6_DST]] as const) {
    if (!bytesZero(data, off, 16)) {
      const b = new Uint8Array(16);
      copyOut(data, off, 16, b, 0);
      w.putBytes(type, b);
    }
  }
  const tos = sub(data, W_TUN_TOS, S_TUN_TOS, 8);
  if (tos) w.putU8(OVS_TUNNEL_KEY_ATTR_TOS, tos);
  w.putU8(OVS_TUNNEL_KEY_ATTR_TTL, sub(data, W_TUN_TOS, S_TUN_TTL, 8));
  if (flags & FLOW_TNL_F_DONT_FRAGMENT) w.putFlag(OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT);
  if (flags & FLOW_TNL_F_CSUM) w.putFlag(OVS_TUNNEL_KEY_ATTR_CSUM);
  const tps = sub(data, W_TUN_TP_SRC, S_TUN_TP_SRC, 16), tpd = sub(data, W_TUN_TP_SRC, 0, 16);
  if (tps) w.putBe16(OVS_TUNNEL_KEY_ATTR_TP_SRC, tps);
  if (tpd) w.putBe16(OVS_TUNNEL_KEY_ATTR_TP_DST, tpd);
  if (flags & FLOW_TNL_F_OAM) w.putFlag(OVS_TUNNEL_KEY_ATTR_OAM);
  const glen = sub(flow, W_TUN_GENEVE_LEN, 0, 8);
  if (glen || (flow[W_TUN_FLAGS]! & FLOW_TNL_F_UDPIF) !== 0) {
    const b = new Uint8Array(glen);
    copyOut(data, O_TUN_GENEVE, glen, b, 0);
    w.putBytes(OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, b);
  } else {
    const gbp = ((sub(data, W_TUN_GBP_ID, S_TUN_GBP_FLAGS, 8) << 16) | sub(data, W_TUN_GBP_ID, S_TUN_GBP_ID, 16)) >>> 0;
    if (gbp) {
      const v = w.startNested(OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS);
      w.putU32(OVS_VXLAN_EXT_GBP, gbp);
      w.endNested(v);
    }
  }
  w.endNested(n);
}

/**
 * odp_flow_key_from_flow / odp_flow_key_from_mask: appends the netlink
 * form of `flow` (or of `opts.mask` when `exportMask`) to `w`. The
 * structure (which attributes appear) always follows `flow`.
 */
export function odpKeyFromFlow(w: NlWriter, flow: Uint32Array, exportMask: boolean, opts: OdpKeyFromFlowOptions = {}): void {
  const mask = opts.mask ?? null;
  const data = exportMask ? mask! : flow;
  const maxVlans = opts.maxVlans ?? 2;

  w.putU32(OVS_KEY_ATTR_PRIORITY, data[W_SKB_PRIORITY]!);
  if (tunnelPresent(flow)) putTunnel(w, data, flow);
  w.putU32(OVS_KEY_ATTR_SKB_MARK, data[W_PKT_MARK]!);
  w.putU32(OVS_KEY_ATTR_CT_STATE, sub(data, W_CT_STATE, S_CT_STATE, 8));
  w.putU16(OVS_KEY_ATTR_CT_ZONE, sub(data, W_CT_STATE, S_CT_ZONE, 16));
  w.putU32(OVS_KEY_ATTR_CT_MARK, data[W_CT_MARK]!);
  const lab = new Uint8Array(16);
  copyOut(data, O_CT_LABEL, 16, lab, 0);
  w.putBytes(OVS_KEY_ATTR_CT_LABELS, lab);
  if (sub(flow, W_CT_STATE, S_CT_NW_PROTO, 8)) {
    const proto = sub(data, W_CT_STATE, S_CT_NW_PROTO, 8);
    const tps = sub(data, W_CT_TP_SRC, S_CT_TP_SRC, 16), tpd = sub(data, W_CT_TP_SRC, 0, 16);
    if (dlType(flow) === ETH_TYPE_IP) {
      const p = w.putUninit(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, 16);
      putBe32(w.buf, p, data[W_CT_NW_SRC]!);
      putBe32(w.buf, p + 4, data[W_CT_NW_DST]!);
      putBe16(w.buf, p + 8, tps);
      putBe16(w.buf, p + 10, tpd);
      w.buf[p + 12] = proto;
    } else if (dlType(flow) === ETH_TYPE_IPV6) {
      const p = w.putUninit(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, 40);
      const b = new Uint8Array(32);
      copyOut(data, O_CT_IPV6_SRC, 16, b, 0);
      copyOut(data, O_CT_IPV6_DST, 16, b, 16);
      w.buf.set(b, p);
      putBe16(w.buf, p + 32, tps);
      putBe16(w.buf, p + 34, tpd);
      w.buf[p + 36] = proto;
    }
  }
  w.putU32(OVS_KEY_ATTR_RECIRC_ID, data[W_RECIRC_ID]!);
  w.putU32(OVS_KEY_ATTR_DP_HASH, data[W_DP_HASH]!);
  if (exportMask || flow[W_IN_PORT] !== ODPP_NONE) w.putU32(OVS_KEY_ATTR_IN_PORT, data[W_IN_PORT]!);
  w.putBe32(OVS_KEY_ATTR_PACKET_TYPE, data[W_PACKET_TYPE]!);

  const encaps: number[] = [];
  const finish = (): void => {
    for (let i = encaps.length - 1; i >= 0; i--) w.endNested(encaps[i]!);
  };
  if (flow[W_PACKET_TYPE] === PT_ETH) {
    const p = w.putUninit(OVS_KEY_ATTR_ETHERNET, 12);
    const b = new Uint8Array(12);
    copyOut(data, O_ETH_SRC, 6, b, 0);
    copyOut(data, O_ETH_DST, 6, b, 6);
    w.buf.set(b, p);
    for (let i = 0; i < maxVlans; i++) {
      const fv = flow[W_VLAN0 + i]!;
      let tpid = fv >>> 16;
      const tci = fv & 0xffff;
      if (tci === 0) {
        if (ethTypeVlan(dlType(flow))) tpid = dlType(flow);
        else break;
      }
      w.putBe16(OVS_KEY_ATTR_ETHERTYPE, exportMask ? 0xffff : tpid);
      w.putBe16(OVS_KEY_ATTR_VLAN, data[W_VLAN0 + i]! & 0xffff);
      encaps.push(w.startNested(OVS_KEY_ATTR_ENCAP));
      if (tci === 0) {
        finish();
        return;
      }
    }
  }
  const dt = dlType(flow);
  if (dt < ETH_TYPE_MIN) {
    if (exportMask) w.putBe16(OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    finish();
    return;
  }
  w.putBe16(OVS_KEY_ATTR_ETHERTYPE, dlType(data));
  if (ethTypeVlan(dt)) {
    finish();
    return;
  }
  if (dt === ETH_TYPE_IP) {
    const p = w.putUninit(OVS_KEY_ATTR_IPV4, 12);
    putBe32(w.buf, p, data[W_NW_SRC]!);
    putBe32(w.buf, p + 4, data[W_NW_DST]!);
    w.buf[p + 8] = nwProto(data);
    w.buf[p + 9] = (data[W_NW_PROTO]! >>> S_NW_TOS) & 0xff;
    w.buf[p + 10] = (data[W_NW_PROTO]! >>> S_NW_TTL) & 0xff;
    w.buf[p + 11] = toOdpFrag(nwFrag(data), exportMask);
  } else if (dt === ETH_TYPE_IPV6) {
    const p = w.putUninit(OVS_KEY_ATTR_IPV6, 40);
    const b = new Uint8Array(32);
    copyOut(data, O_IPV6_SRC, 16, b, 0);
    copyOut(data, O_IPV6_DST, 16, b, 16);
    w.buf.set(b, p);
    putBe32(w.buf, p + 32, data[W_IPV6_LABEL]!);
    w.buf[p + 36] = nwProto(data);
    w.buf[p + 37] = (data[W_NW_PROTO]! >>> S_NW_TOS) & 0xff;
    w.buf[p + 38] = (data[W_NW_PROTO]! >>> S_NW_TTL) & 0xff;
    w.buf[p + 39] = toOdpFrag(nwFrag(data), exportMask);
  } else if (dt === ETH_TYPE_ARP || dt === ETH_TYPE_RARP) {
    const p = w.putUninit(OVS_KEY_ATTR_ARP, 24);
    putBe32(w.buf, p, data[W_NW_SRC]!);
    putBe32(w.buf, p + 4, data[W_NW_DST]!);
    // The opcode lives in the 8-bit nw_proto; an exact match exports as an exact 16-bit mask.
    putBe16(w.buf, p + 8, exportMask && nwProto(data) === 0xff ? 0xffff : nwProto(data));
    const b = new Uint8Array(12);
    copyOut(data, O_ARP_SHA, 6, b, 0);
    copyOut(data, O_ARP_THA, 6, b, 6);
    w.buf.set(b, p + 10);
  } else if (ethTypeMpls(dt)) {
    let n = 0;
    for (let i = 0; i < 3; i++) {
      const l = flow[W_MPLS_LSE0 + i]!;
      if (l & MPLS_BOS) {
        n = i + 1;
        break;
      }
      if (l) n++;
    }
    const p = w.putUninit(OVS_KEY_ATTR_MPLS, n * 4);
    for (let i = 0; i < n; i++) putBe32(w.buf, p + 4 * i, data[W_MPLS_LSE0 + i]!);
  }
  if (isIpAny(flow) && !(nwFrag(flow) & FLOW_NW_FRAG_LATER)) {
    const proto = nwProto(flow);
    const putTp = (type: number): void => {
      const p = w.putUninit(type, 4);
      putBe16(w.buf, p, tpSrc(data));
      putBe16(w.buf, p + 2, tpDst(data));
    };
    if (proto === 6) {
      putTp(OVS_KEY_ATTR_TCP);
      if ((data[W_TCP_FLAGS]! & 0xfff) || (mask !== null && mask[W_TCP_FLAGS]! & 0xfff)) {
        w.putBe16(OVS_KEY_ATTR_TCP_FLAGS, data[W_TCP_FLAGS]! & 0xffff);
      }
    } else if (proto === 17) putTp(OVS_KEY_ATTR_UDP);
    else if (proto === 132) putTp(OVS_KEY_ATTR_SCTP);
    else if (dt === ETH_TYPE_IP && proto === 1) {
      const p = w.putUninit(OVS_KEY_ATTR_ICMP, 2);
      w.buf[p] = tpSrc(data) & 0xff;
      w.buf[p + 1] = tpDst(data) & 0xff;
    } else if (dt === ETH_TYPE_IPV6 && proto === 58) {
      const p = w.putUninit(OVS_KEY_ATTR_ICMPV6, 2);
      w.buf[p] = tpSrc(data) & 0xff;
      w.buf[p + 1] = tpDst(data) & 0xff;
      const isNd = (tpSrc(flow) === 135 || tpSrc(flow) === 136) && tpDst(flow) === 0;
      if (isNd && (!exportMask || (tpSrc(data) === 0xff && tpDst(data) === 0xff))) {
        const q = w.putUninit(OVS_KEY_ATTR_ND, 28);
        const b = new Uint8Array(28);
        copyOut(data, O_ND_TARGET, 16, b, 0);
        copyOut(data, O_ARP_SHA, 6, b, 16);
        copyOut(data, O_ARP_THA, 6, b, 22);
        w.buf.set(b, q);
        // ND extensions are kernel-datapath only (support.nd_ext): never in a userspace key.
        if (opts.ndExtensions === true && (data[W_ND_RESERVED] || (data[W_ND_OPTIONS_TYPE]! & 0xff))) {
          const r = w.putUninit(OVS_KEY_ATTR_ND_EXTENSIONS, 8);
          putBe32(w.buf, r, data[W_ND_RESERVED]!);
          w.buf[r + 4] = data[W_ND_OPTIONS_TYPE]! & 0xff;
        }
      }
    }
  }
  finish();
}

/** Netlink key and mask of a datapath flow, ready for `formatOdpFlow`. */
export function odpFlowToNetlink(key: Uint32Array, mask: Uint32Array): { key: Uint8Array; mask: Uint8Array } {
  const kw = new NlWriter(256), mw = new NlWriter(256);
  odpKeyFromFlow(kw, key, false, { mask });
  odpKeyFromFlow(mw, key, true, { mask });
  return { key: kw.finish(), mask: mw.finish() };
}

/* ---------------- netlink → flow ---------------- */

type AttrTable = Array<number>; // type → attribute offset, -1 absent

function parseAttrs(buf: Uint8Array, start: number, end: number, what: string): AttrTable {
  const t: AttrTable = new Array<number>(OVS_KEY_ATTR_MAX + 1).fill(-1);
  let a = start;
  while (nlaOk(buf, a, end)) {
    const type = nlaType(buf, a);
    const len = nlaLen(buf, a) - NLA_HDRLEN;
    const expect = type <= OVS_KEY_ATTR_MAX ? KEY_ATTR_LENS[type]! : -1;
    if (expect >= 0 && len !== expect) {
      throw new OdpKeyError(`attribute ${keyAttrName(type)} has length ${len} but should have length ${expect}`);
    }
    if (type > OVS_KEY_ATTR_MAX || expect === -1 && type !== OVS_KEY_ATTR_MPLS && type !== OVS_KEY_ATTR_ENCAP && type !== OVS_KEY_ATTR_TUNNEL) {
      throw new OdpKeyError(`unsupported attribute ${keyAttrName(type)} in flow ${what}`);
    }
    if (t[type]! >= 0) throw new OdpKeyError(`duplicate ${keyAttrName(type)} attribute in flow ${what}`);
    t[type] = a;
    a = nlaNext(buf, a);
  }
  if (a < end) throw new OdpKeyError(`trailing garbage in flow ${what}`);
  return t;
}

function readTunnel(buf: Uint8Array, a: number, out: Uint32Array, isMask: boolean): void {
  const end = a + nlaLen(buf, a);
  let o = a + NLA_HDRLEN;
  let flags = 0;
  while (nlaOk(buf, o, end)) {
    const type = nlaType(buf, o);
    const p = o + NLA_HDRLEN;
    const len = nlaLen(buf, o) - NLA_HDRLEN;
    const expect = type < TUN_KEY_ATTR_LENS.length ? TUN_KEY_ATTR_LENS[type]! : -1;
    if (expect >= 0 && len !== expect) {
      throw new OdpKeyError(`tunnel key attribute ${type} should have length ${expect} but actually has ${len}`);
    }
    switch (type) {
      case OVS_TUNNEL_KEY_ATTR_ID:
        copyIn(out, O_TUN_ID, 8, buf, p);
        flags |= FLOW_TNL_F_KEY;
        break;
      case OVS_TUNNEL_KEY_ATTR_IPV4_SRC: out[W_TUN_SRC] = getBe32(buf, p); break;
      case OVS_TUNNEL_KEY_ATTR_IPV4_DST: out[W_TUN_DST] = getBe32(buf, p); break;
      case OVS_TUNNEL_KEY_ATTR_IPV6_SRC: copyIn(out, O_TUN_IPV6_SRC, 16, buf, p); break;
      case OVS_TUNNEL_KEY_ATTR_IPV6_DST: copyIn(out, O_TUN_IPV6_DST, 16, buf, p); break;
      case OVS_TUNNEL_KEY_ATTR_TOS: setSub(out, W_TUN_TOS, S_TUN_TOS, 8, buf[p]!); break;
      case OVS_TUNNEL_KEY_ATTR_TTL: setSub(out, W_TUN_TOS, S_TUN_TTL, 8, buf[p]!); break;
      case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT: flags |= FLOW_TNL_F_DONT_FRAGMENT; break;
      case OVS_TUNNEL_KEY_ATTR_CSUM: flags |= FLOW_TNL_F_CSUM; break;
      case OVS_TUNNEL_KEY_ATTR_OAM: flags |= FLOW_TNL_F_OAM; break;
      case OVS_TUNNEL_KEY_ATTR_TP_SRC: setSub(out, W_TUN_TP_SRC, S_TUN_TP_SRC, 16, getBe16(buf, p)); break;
      case OVS_TUNNEL_KEY_ATTR_TP_DST: setSub(out, W_TUN_TP_SRC, 0, 16, getBe16(buf, p)); break;
      case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS:
        if (len > 252) throw new OdpKeyError("geneve options too long");
        copyIn(out, O_TUN_GENEVE, len, buf, p);
        flags |= FLOW_TNL_F_UDPIF;
        if (!isMask) setSub(out, W_TUN_GENEVE_LEN, 0, 8, len);
        else setSub(out, W_TUN_GENEVE_LEN, 0, 8, 0xff);
        break;
      case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS: {
        let q = p;
        while (nlaOk(buf, q, p + len)) {
          if (nlaType(buf, q) === OVS_VXLAN_EXT_GBP) {
            const g = getU32(buf, q + NLA_HDRLEN);
            setSub(out, W_TUN_GBP_ID, S_TUN_GBP_ID, 16, g & 0xffff);
            setSub(out, W_TUN_GBP_ID, S_TUN_GBP_FLAGS, 8, (g >>> 16) & 0xff);
          }
          q = nlaNext(buf, q);
        }
        break;
      }
      default:
        break;
    }
    o = nlaNext(buf, o);
  }
  if (isMask) {
    // A flag is matched when the mask carries it; the key flag is matched with the tun_id.
    setSub(out, W_TUN_FLAGS, 0, 16, flags);
  } else setSub(out, W_TUN_FLAGS, 0, 16, flags);
}

/**
 * Fills `out` (a key or, when `src` is given, a mask for key `src`) from
 * the attributes at buf[start, end). Shared by key and mask parsing, as
 * OVS's odp_flow_key_to_flow__.
 */
function readAttrs(buf: Uint8Array, start: number, end: number, out: Uint32Array, src: Uint32Array | null, depth: number): void {
  const isMask = src !== null;
  const what = isMask ? "mask" : "key";
  const t = parseAttrs(buf, start, end, what);
  const has = (type: number): boolean => t[type]! >= 0;
  const p = (type: number): number => t[type]! + NLA_HDRLEN;
  const base = src ?? out;

  if (depth === 0) {
    if (has(OVS_KEY_ATTR_PRIORITY)) out[W_SKB_PRIORITY] = getU32(buf, p(OVS_KEY_ATTR_PRIORITY));
    if (has(OVS_KEY_ATTR_SKB_MARK)) out[W_PKT_MARK] = getU32(buf, p(OVS_KEY_ATTR_SKB_MARK));
    if (has(OVS_KEY_ATTR_DP_HASH)) out[W_DP_HASH] = getU32(buf, p(OVS_KEY_ATTR_DP_HASH));
    if (has(OVS_KEY_ATTR_RECIRC_ID)) out[W_RECIRC_ID] = getU32(buf, p(OVS_KEY_ATTR_RECIRC_ID));
    else if (isMask) out[W_RECIRC_ID] = 0xffffffff; // recirc_id is always matched exactly
    if (has(OVS_KEY_ATTR_CT_STATE)) {
      const cs = getU32(buf, p(OVS_KEY_ATTR_CT_STATE));
      if (!isMask && cs & ~0xff) throw new OdpKeyError(`unsupported ct_state bits 0x${(cs & ~0xff).toString(16)}`);
      setSub(out, W_CT_STATE, S_CT_STATE, 8, cs & 0xff);
    }
    if (has(OVS_KEY_ATTR_CT_ZONE)) setSub(out, W_CT_STATE, S_CT_ZONE, 16, getU16(buf, p(OVS_KEY_ATTR_CT_ZONE)));
    if (has(OVS_KEY_ATTR_CT_MARK)) out[W_CT_MARK] = getU32(buf, p(OVS_KEY_ATTR_CT_MARK));
    if (has(OVS_KEY_ATTR_CT_LABELS)) copyIn(out, O_CT_LABEL, 16, buf, p(OVS_KEY_ATTR_CT_LABELS));
    if (has(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4)) {
      const q = p(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4);
      out[W_CT_NW_SRC] = getBe32(buf, q);
      out[W_CT_NW_DST] = getBe32(buf, q + 4);
      setSub(out, W_CT_TP_SRC, S_CT_TP_SRC, 16, getBe16(buf, q + 8));
      setSub(out, W_CT_TP_SRC, 0, 16, getBe16(buf, q + 10));
      setSub(out, W_CT_STATE, S_CT_NW_PROTO, 8, buf[q + 12]!);
    }
    if (has(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6)) {
      const q = p(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6);
      copyIn(out, O_CT_IPV6_SRC, 16, buf, q);
      copyIn(out, O_CT_IPV6_DST, 16, buf, q + 16);
      setSub(out, W_CT_TP_SRC, S_CT_TP_SRC, 16, getBe16(buf, q + 32));
      setSub(out, W_CT_TP_SRC, 0, 16, getBe16(buf, q + 34));
      setSub(out, W_CT_STATE, S_CT_NW_PROTO, 8, buf[q + 36]!);
    }
    if (has(OVS_KEY_ATTR_TUNNEL)) readTunnel(buf, t[OVS_KEY_ATTR_TUNNEL]!, out, isMask);
    if (has(OVS_KEY_ATTR_IN_PORT)) out[W_IN_PORT] = getU32(buf, p(OVS_KEY_ATTR_IN_PORT));
    else out[W_IN_PORT] = 0xffffffff; // key: ODPP_NONE; mask: in_port is always matched exactly

    if (has(OVS_KEY_ATTR_PACKET_TYPE)) out[W_PACKET_TYPE] = getBe32(buf, p(OVS_KEY_ATTR_PACKET_TYPE));
    else if (!isMask && has(OVS_KEY_ATTR_ETHERNET)) out[W_PACKET_TYPE] = PT_ETH;
    else if (isMask) out[W_PACKET_TYPE] = 0;
    if (has(OVS_KEY_ATTR_ETHERNET)) {
      copyIn(out, O_ETH_SRC, 6, buf, p(OVS_KEY_ATTR_ETHERNET));
      copyIn(out, O_ETH_DST, 6, buf, p(OVS_KEY_ATTR_ETHERNET) + 6);
    }
  }

  // Ethertype.
  if (has(OVS_KEY_ATTR_ETHERTYPE)) {
    const et = getBe16(buf, p(OVS_KEY_ATTR_ETHERTYPE));
    if (!isMask && et < ETH_TYPE_MIN) throw new OdpKeyError(`invalid Ethertype ${et} in flow key`);
    if (isMask && dlType(src) < ETH_TYPE_MIN && et !== 0xffff) {
      throw new OdpKeyError(`can't bitwise match non-Ethernet II "Ethertype" 0x${dlType(src).toString(16)} (with mask 0x${et.toString(16)})`);
    }
    setSub(out, W_DL_TYPE, S_DL_TYPE, 16, et);
  } else if (!isMask) {
    setSub(out, W_DL_TYPE, S_DL_TYPE, 16,
      has(OVS_KEY_ATTR_IPV4) ? ETH_TYPE_IP : has(OVS_KEY_ATTR_IPV6) ? ETH_TYPE_IPV6 : has(OVS_KEY_ATTR_MPLS) ? ETH_TYPE_MPLS : FLOW_DL_TYPE_NONE);
  } else if (base[W_PACKET_TYPE] !== PT_ETH) {
    setSub(out, W_DL_TYPE, S_DL_TYPE, 16, 0xffff);
  } else if (dlType(base) < ETH_TYPE_MIN) {
    throw new OdpKeyError("mask expected for non-Ethernet II frame");
  }
  if (depth === 0 && !isMask && !has(OVS_KEY_ATTR_ETHERNET) && !has(OVS_KEY_ATTR_PACKET_TYPE)) {
    // A packet without Ethernet header: its packet type is its ethertype.
    out[W_PACKET_TYPE] = ((1 << 16) | dlType(out)) >>> 0;
  }

  // 802.1Q: the VLAN tag and the encapsulated rest.
  const level = depth;
  const vlanHere = isMask ? (src[W_VLAN0 + level]! >>> 16) !== 0 : ethTypeVlan(dlType(out));
  if (vlanHere && level < 2) {
    if (has(OVS_KEY_ATTR_VLAN)) {
      const tci = getBe16(buf, p(OVS_KEY_ATTR_VLAN));
      if (!isMask) {
        if (!has(OVS_KEY_ATTR_ENCAP)) throw new OdpKeyError("missing encap attribute after vlan");
        if (tci !== 0 && !(tci & VLAN_CFI)) {
          throw new OdpKeyError(`OVS_KEY_ATTR_VLAN 0x${tci.toString(16).padStart(4, "0")} is nonzero but VLAN_CFI is not set`);
        }
      }
      out[W_VLAN0 + level] = ((dlType(out) << 16) | tci) >>> 0;
    } else if (!isMask) {
      throw new OdpKeyError("missing vlan attribute after 802.1Q ethertype");
    }
    if (!isMask && (base[W_VLAN0 + level]! & 0xffff) === 0) return; // truncated VLAN header
    if (has(OVS_KEY_ATTR_ENCAP)) {
      const e = t[OVS_KEY_ATTR_ENCAP]!;
      const elen = nlaLen(buf, e);
      if (!isMask && elen === NLA_HDRLEN) throw new OdpKeyError("empty encap attribute after vlan");
      // The inner ethertype replaces dl_type; the outer one stays in the VLAN word.
      setSub(out, W_DL_TYPE, S_DL_TYPE, 16, 0);
      readAttrs(buf, e + NLA_HDRLEN, e + elen, out, src, depth + 1);
    }
    return;
  }

  const dt = dlType(base);
  const l3Mask = (type: number, len: number): boolean => {
    if (!isMask || !has(type)) return true;
    for (let i = 0; i < len; i++) if (buf[p(type) + i]) {
      if (dlType(out) !== 0xffff) throw new OdpKeyError(`${keyAttrName(type)} mask requires an exact eth_type match`);
      return true;
    }
    return true;
  };
  if (ethTypeMpls(dt)) {
    if (has(OVS_KEY_ATTR_MPLS)) {
      const q = p(OVS_KEY_ATTR_MPLS);
      const len = nlaLen(buf, t[OVS_KEY_ATTR_MPLS]!) - NLA_HDRLEN;
      if (!len || len % 4) throw new OdpKeyError(`MPLS LSEs have invalid length ${len}`);
      const n = len / 4;
      if (n > 3) throw new OdpKeyError("too many MPLS labels");
      for (let i = 0; i < n; i++) out[W_MPLS_LSE0 + i] = getBe32(buf, q + 4 * i);
      if (!isMask) {
        for (let i = 0; i < n - 1; i++) if (out[W_MPLS_LSE0 + i]! & MPLS_BOS) throw new OdpKeyError("MPLS BOS set in non-innermost label");
        if (n < 3 && !(out[W_MPLS_LSE0 + n - 1]! & MPLS_BOS)) throw new OdpKeyError("MPLS BOS not set in the innermost label");
      }
    } else if (!isMask) throw new OdpKeyError("expected mpls attribute for MPLS ethertype");
    return;
  }
  if (dt === ETH_TYPE_IP) {
    if (has(OVS_KEY_ATTR_IPV4)) {
      l3Mask(OVS_KEY_ATTR_IPV4, 12);
      const q = p(OVS_KEY_ATTR_IPV4);
      out[W_NW_SRC] = getBe32(buf, q);
      out[W_NW_DST] = getBe32(buf, q + 4);
      const frag = buf[q + 11]!;
      if (!isMask && frag > 2) throw new OdpKeyError(`OVS_KEY_ATTR_IPV4 has invalid frag ${frag}`);
      const f = isMask ? (frag ? FLOW_NW_FRAG_MASK : 0) : frag === 0 ? 0 : frag === 1 ? FLOW_NW_FRAG_ANY : FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER;
      out[W_NW_PROTO] = ((buf[q + 8]! << S_NW_PROTO) | (buf[q + 9]! << S_NW_TOS) | (buf[q + 10]! << S_NW_TTL) | (f << S_NW_FRAG)) >>> 0;
    } else if (!isMask) throw new OdpKeyError("expected ipv4 attribute for eth_type 0x0800");
  } else if (dt === ETH_TYPE_IPV6) {
    if (has(OVS_KEY_ATTR_IPV6)) {
      l3Mask(OVS_KEY_ATTR_IPV6, 40);
      const q = p(OVS_KEY_ATTR_IPV6);
      copyIn(out, O_IPV6_SRC, 16, buf, q);
      copyIn(out, O_IPV6_DST, 16, buf, q + 16);
      const label = getBe32(buf, q + 32);
      if (!isMask && label & ~0xfffff) throw new OdpKeyError(`IPv6 flow label 0x${label.toString(16)} is too large`);
      out[W_IPV6_LABEL] = label;
      const frag = buf[q + 39]!;
      if (!isMask && frag > 2) throw new OdpKeyError(`OVS_KEY_ATTR_IPV6 has invalid frag ${frag}`);
      const f = isMask ? (frag ? FLOW_NW_FRAG_MASK : 0) : frag === 0 ? 0 : frag === 1 ? FLOW_NW_FRAG_ANY : FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER;
      out[W_NW_PROTO] = ((buf[q + 36]! << S_NW_PROTO) | (buf[q + 37]! << S_NW_TOS) | (buf[q + 38]! << S_NW_TTL) | (f << S_NW_FRAG)) >>> 0;
    } else if (!isMask) throw new OdpKeyError("expected ipv6 attribute for eth_type 0x86dd");
  } else if (dt === ETH_TYPE_ARP || dt === ETH_TYPE_RARP) {
    if (has(OVS_KEY_ATTR_ARP)) {
      l3Mask(OVS_KEY_ATTR_ARP, 22);
      const q = p(OVS_KEY_ATTR_ARP);
      const op = getBe16(buf, q + 8);
      if (!isMask && op & 0xff00) throw new OdpKeyError(`unsupported ARP opcode ${op} in flow key`);
      out[W_NW_SRC] = getBe32(buf, q);
      out[W_NW_DST] = getBe32(buf, q + 4);
      setSub(out, W_NW_PROTO, S_NW_PROTO, 8, op & 0xff);
      copyIn(out, O_ARP_SHA, 6, buf, q + 10);
      copyIn(out, O_ARP_THA, 6, buf, q + 16);
    } else if (!isMask) throw new OdpKeyError("expected arp attribute for ARP ethertype");
  }

  // L4.
  if (!isIpAny(base) || nwFrag(base) & FLOW_NW_FRAG_LATER) {
    if (isMask && (has(OVS_KEY_ATTR_TCP) || has(OVS_KEY_ATTR_UDP)) && nwFrag(base) & FLOW_NW_FRAG_LATER) {
      const a = has(OVS_KEY_ATTR_TCP) ? OVS_KEY_ATTR_TCP : OVS_KEY_ATTR_UDP;
      if (getBe32(buf, p(a))) throw new OdpKeyError("later fragments have no transport header to match");
    }
    return;
  }
  const proto = nwProto(base);
  const l4 = (type: number, name: string): number => {
    if (!has(type)) {
      if (!isMask) throw new OdpKeyError(`expected ${name} attribute for IP protocol ${proto}`);
      return -1;
    }
    return p(type);
  };
  let tp = -1;
  if (proto === 6) tp = l4(OVS_KEY_ATTR_TCP, "tcp");
  else if (proto === 17) tp = l4(OVS_KEY_ATTR_UDP, "udp");
  else if (proto === 132) tp = l4(OVS_KEY_ATTR_SCTP, "sctp");
  if (tp >= 0) {
    out[W_TP_SRC] = ((getBe16(buf, tp) << S_TP_SRC) | getBe16(buf, tp + 2)) >>> 0;
  } else if ((proto === 1 && dt === ETH_TYPE_IP) || (proto === 58 && dt === ETH_TYPE_IPV6)) {
    const q = proto === 1 ? l4(OVS_KEY_ATTR_ICMP, "icmp") : l4(OVS_KEY_ATTR_ICMPV6, "icmpv6");
    if (q >= 0) out[W_TP_SRC] = ((buf[q]! << S_TP_SRC) | buf[q + 1]!) >>> 0;
    if (proto === 58 && q >= 0) {
      const nd = (tpSrc(base) === 135 || tpSrc(base) === 136) && tpDst(base) === 0;
      if (nd && has(OVS_KEY_ATTR_ND)) {
        const r = p(OVS_KEY_ATTR_ND);
        copyIn(out, O_ND_TARGET, 16, buf, r);
        copyIn(out, O_ARP_SHA, 6, buf, r + 16);
        copyIn(out, O_ARP_THA, 6, buf, r + 22);
      }
      if (nd && has(OVS_KEY_ATTR_ND_EXTENSIONS)) {
        const r = p(OVS_KEY_ATTR_ND_EXTENSIONS);
        out[W_ND_RESERVED] = getBe32(buf, r);
        out[W_ND_OPTIONS_TYPE] = buf[r + 4]!;
      }
    }
  }
  if (proto === 6 && has(OVS_KEY_ATTR_TCP_FLAGS)) out[W_TCP_FLAGS] = getBe16(buf, p(OVS_KEY_ATTR_TCP_FLAGS));
  if (isMask && (out[W_TP_SRC] !== 0) && nwProto(out) !== 0xff) {
    throw new OdpKeyError("transport ports may be matched only with an exact IP protocol match");
  }
}

/** odp_flow_key_to_flow: a flow key (FLOW_U32S words) from netlink key attributes. */
export function odpKeyToFlow(key: Uint8Array): Uint32Array {
  const flow = new Uint32Array(FLOW_U32S);
  readAttrs(key, 0, key.length, flow, null, 0);
  return flow;
}

/**
 * odp_flow_key_to_mask: the mask for `flow` from netlink mask attributes.
 * Attributes absent from the mask are wildcarded, except recirc_id and
 * in_port, which the datapath always matches exactly.
 */
export function odpMaskToFlow(mask: Uint8Array, flow: Uint32Array): Uint32Array {
  const m = new Uint32Array(FLOW_U32S);
  if (mask.length === 0) {
    // No mask at all: every bit of the key is significant.
    m.fill(0xffffffff);
    return m;
  }
  readAttrs(mask, 0, mask.length, m, flow, 0);
  return m;
}
