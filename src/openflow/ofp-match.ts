/**
 * The fixed-layout matches of OpenFlow 1.0 (`ofp_match`, 40 bytes:
 * wildcard bits, nw_src/nw_dst as CIDR wildcard counts) and OpenFlow 1.1
 * (`ofp11_match`, 88 bytes: OFPMT_STANDARD with inverted masks for
 * Ethernet, IPv4 and metadata), both ways, with OVS's translation rules
 * (VLAN "none"/"any" encodings, DSCP-only tos, ICMP type/code in the port
 * fields, values OVS rejects with OFPBMC_BAD_VALUE / OFPBMC_BAD_FIELD).
 *
 * `ofp10Unexpressible` / `ofp11Unexpressible` name the fields of a Match
 * that these formats cannot carry (what makes OVS say "no usable
 * protocol"); the encoders silently leave such fields out.
 */
import { fail, type DecodeError } from "./ofp-codec.js";
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP, IPPROTO_ICMP,
  IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, Match, VLAN_CFI, geneveMasked,
} from "./match.js";
import { mfPortFromOfp11, mfPortToOfp11 } from "./mf-key.js";
import { W_PACKET_TYPE } from "../flow/key-layout.js";

export const OFP10_MATCH_LEN = 40;
export const OFP11_MATCH_LEN = 88;

export const OFPFW10_IN_PORT = 1 << 0;
export const OFPFW10_DL_VLAN = 1 << 1;
export const OFPFW10_DL_SRC = 1 << 2;
export const OFPFW10_DL_DST = 1 << 3;
export const OFPFW10_DL_TYPE = 1 << 4;
export const OFPFW10_NW_PROTO = 1 << 5;
export const OFPFW10_TP_SRC = 1 << 6;
export const OFPFW10_TP_DST = 1 << 7;
export const OFPFW10_NW_SRC_SHIFT = 8;
export const OFPFW10_NW_DST_SHIFT = 14;
export const OFPFW10_DL_VLAN_PCP = 1 << 20;
export const OFPFW10_NW_TOS = 1 << 21;
export const OFPFW10_ALL = (1 << 22) - 1;
export const OFP10_VLAN_NONE = 0xffff;

export const OFPFW11_IN_PORT = 1 << 0;
export const OFPFW11_DL_VLAN = 1 << 1;
export const OFPFW11_DL_VLAN_PCP = 1 << 2;
export const OFPFW11_DL_TYPE = 1 << 3;
export const OFPFW11_NW_TOS = 1 << 4;
export const OFPFW11_NW_PROTO = 1 << 5;
export const OFPFW11_TP_SRC = 1 << 6;
export const OFPFW11_TP_DST = 1 << 7;
export const OFPFW11_MPLS_LABEL = 1 << 8;
export const OFPFW11_MPLS_TC = 1 << 9;
export const OFPFW11_ALL = (1 << 10) - 1;
export const OFPVID11_ANY = 0xfffe;
export const OFPVID11_NONE = 0xffff;
export const OFPMT_STANDARD = 0;

const u16 = (v: number): Uint8Array => Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
const u32 = (v: number): Uint8Array => Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
function num(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = (v * 256 + x) % 0x100000000;
  return v >>> 0;
}

/** Number of wildcarded low bits for a CIDR netmask (OVS ofputil_netmask_to_wcbits). */
function netmaskToWcbits(mask: number): number {
  let ones = 0;
  while (ones < 32 && (mask & (0x80000000 >>> ones)) !== 0) ones++;
  return 32 - ones;
}

function wcbitsToNetmask(n: number): number {
  n &= 0x3f;
  return n < 32 ? (~((1 << n) - 1) >>> 0) & 0xffffffff : 0;
}

function isCidr(mask: number): boolean {
  const inv = ~mask >>> 0;
  return ((inv + 1) & inv) === 0;
}

function unexpressible(m: Match, version: 1 | 2): string[] {
  const out: string[] = [];
  const checkStorage = (name: string): boolean => !m.isWildcarded(name);
  // Storage-level checks: each flow-key region the formats cannot express.
  const reject = (name: string, cond: boolean): void => {
    if (cond) out.push(name);
  };
  for (const n of ["dp_hash", "recirc_id", "conj_id", "tun_id", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_gbp_id",
    "tun_gbp_flags", "tun_flags", "pkt_mark", "actset_output", "ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_src", "ct_nw_dst",
    "ct_ipv6_src", "ct_ipv6_dst", "ct_nw_proto", "ct_tp_src", "ct_tp_dst", "ipv6_src", "ipv6_dst", "ipv6_label", "nw_ttl", "ip_frag",
    "nw_ecn", "arp_sha", "arp_tha", "nd_target", "tcp_flags", "mpls_ttl", "mpls_bos", "nsh_flags", "nsh_spi", "nsh_si", "nsh_c1",
    "tun_erspan_idx", "tun_erspan_ver", "tun_gtpu_flags", "skb_priority"]) reject(n, checkStorage(n));
  for (let i = 0; i < 16; i++) reject(`reg${i}`, checkStorage(`reg${i}`));
  if (geneveMasked(m)) for (let i = 0; i < 64; i++) reject(`tun_metadata${i}`, checkStorage(`tun_metadata${i}`));
  const pt = m.mask[W_PACKET_TYPE]!;
  reject("packet_type", pt !== 0 && !(pt === 0xffffffff && m.key[W_PACKET_TYPE] === 0));
  if (version === 1) {
    reject("metadata", checkStorage("metadata"));
    reject("mpls_label", checkStorage("mpls_label"));
    reject("mpls_tc", checkStorage("mpls_tc"));
    for (const n of ["eth_src", "eth_dst"]) {
      const g = m.get(n).mask;
      reject(n, !g.every((x) => x === 0) && !g.every((x) => x === 0xff));
    }
    for (const n of ["ip_src", "ip_dst"]) reject(n, !isCidr(num(m.get(n).mask)));
  }
  // VLAN: only "no VLAN", or exact VID and/or exact PCP of a tagged packet.
  const t = num(m.get("vlan_tci").mask);
  const tv = num(m.get("vlan_tci").value);
  const vlanOk = t === 0 || (t === 0xffff && tv === 0) ||
    ((t & VLAN_CFI) !== 0 && (tv & VLAN_CFI) !== 0 && ((t & 0xfff) === 0 || (t & 0xfff) === 0xfff) && ((t & 0xe000) === 0 || (t & 0xe000) === 0xe000));
  reject("vlan_tci", !vlanOk);
  for (const n of ["tcp_src", "tcp_dst"]) {
    const x = num(m.get(n).mask);
    reject(n, x !== 0 && x !== 0xffff);
  }
  return out;
}

/** Fields of `m` that ofp_match (OpenFlow 1.0) cannot express. */
export function ofp10Unexpressible(m: Match): string[] {
  return unexpressible(m, 1);
}

/** Fields of `m` that ofp11_match (OpenFlow 1.1) cannot express. */
export function ofp11Unexpressible(m: Match): string[] {
  return unexpressible(m, 2);
}

/** Encodes `m` as an OpenFlow 1.0 ofp_match (40 bytes), as OVS's ofputil_match_to_ofp10_match. */
export function encodeOfp10Match(m: Match): Uint8Array {
  const b = new Uint8Array(OFP10_MATCH_LEN);
  const v = new DataView(b.buffer);
  let w = 0;
  const g = (n: string): { v: number; m: number } => {
    const r = m.get(n);
    return { v: num(r.value), m: num(r.mask) };
  };
  const inPort = g("in_port");
  if (!inPort.m) w |= OFPFW10_IN_PORT;
  const dlType = g("eth_type");
  if (!dlType.m) w |= OFPFW10_DL_TYPE;
  const proto = g("nw_proto");
  if (!proto.m) w |= OFPFW10_NW_PROTO;
  const src = g("ip_src");
  const dst = g("ip_dst");
  w |= netmaskToWcbits(src.m) << OFPFW10_NW_SRC_SHIFT;
  w |= netmaskToWcbits(dst.m) << OFPFW10_NW_DST_SHIFT;
  const tos = g("nw_tos");
  if (!tos.m) w |= OFPFW10_NW_TOS;
  const tps = g("tcp_src");
  const tpd = g("tcp_dst");
  if (!tps.m) w |= OFPFW10_TP_SRC;
  if (!tpd.m) w |= OFPFW10_TP_DST;
  const es = m.get("eth_src");
  const ed = m.get("eth_dst");
  if (es.mask.every((x) => x === 0)) w |= OFPFW10_DL_SRC;
  if (ed.mask.every((x) => x === 0)) w |= OFPFW10_DL_DST;
  const tci = g("vlan_tci");
  let dlVlan = 0;
  let pcp = 0;
  if (tci.m === 0) w |= OFPFW10_DL_VLAN | OFPFW10_DL_VLAN_PCP;
  else if (tci.m & VLAN_CFI && !(tci.v & VLAN_CFI)) dlVlan = OFP10_VLAN_NONE;
  else {
    if (!(tci.m & 0xfff)) w |= OFPFW10_DL_VLAN;
    else dlVlan = tci.v & 0xfff;
    if (!(tci.m & 0xe000)) w |= OFPFW10_DL_VLAN_PCP;
    else pcp = tci.v >>> 13;
  }
  v.setUint32(0, w >>> 0);
  v.setUint16(4, inPort.v);
  b.set(es.value, 6);
  b.set(ed.value, 12);
  v.setUint16(18, dlVlan);
  b[20] = pcp;
  v.setUint16(22, dlType.v);
  b[24] = tos.v & 0xfc;
  b[25] = proto.v;
  v.setUint32(28, src.v);
  v.setUint32(32, dst.v);
  v.setUint16(36, tps.v);
  v.setUint16(38, tpd.v);
  return b;
}

/** Decodes an OpenFlow 1.0 ofp_match, as OVS's ofputil_match_from_ofp10_match. */
export function decodeOfp10Match(b: Uint8Array): Match | DecodeError {
  if (b.length < OFP10_MATCH_LEN) return fail("OFPBMC_BAD_LEN");
  const v = new DataView(b.buffer, b.byteOffset, OFP10_MATCH_LEN);
  const w = v.getUint32(0) & OFPFW10_ALL;
  const m = new Match();
  const data = OFPFW10_NW_TOS | OFPFW10_NW_PROTO | OFPFW10_TP_SRC | OFPFW10_TP_DST | OFPFW10_DL_SRC | OFPFW10_DL_DST | OFPFW10_DL_TYPE | OFPFW10_DL_VLAN | OFPFW10_DL_VLAN_PCP;
  const srcMask = wcbitsToNetmask(w >>> OFPFW10_NW_SRC_SHIFT);
  const dstMask = wcbitsToNetmask(w >>> OFPFW10_NW_DST_SHIFT);
  if ((w & data) !== data || srcMask || dstMask) m.setNum("packet_type", 0);
  if (!(w & OFPFW10_IN_PORT)) m.setNum("in_port", v.getUint16(4));
  if (!(w & OFPFW10_DL_SRC)) m.set("eth_src", b.slice(6, 12));
  if (!(w & OFPFW10_DL_DST)) m.set("eth_dst", b.slice(12, 18));
  if (!(w & OFPFW10_DL_TYPE)) m.setNum("eth_type", v.getUint16(22));
  if (!(w & OFPFW10_NW_TOS)) m.setNum("nw_tos", b[24]! & 0xfc);
  if (!(w & OFPFW10_NW_PROTO)) m.setNum("nw_proto", b[25]!);
  if (srcMask) m.set("ip_src", u32(v.getUint32(28)), u32(srcMask));
  if (dstMask) m.set("ip_dst", u32(v.getUint32(32)), u32(dstMask));
  if (!(w & OFPFW10_TP_SRC)) m.setNum("tcp_src", v.getUint16(36));
  if (!(w & OFPFW10_TP_DST)) m.setNum("tcp_dst", v.getUint16(38));
  const dlVlan = v.getUint16(18);
  if (!(w & OFPFW10_DL_VLAN) && dlVlan === OFP10_VLAN_NONE) m.setNum("vlan_tci", 0, 0xffff);
  else {
    let mask = 0;
    if (!(w & OFPFW10_DL_VLAN_PCP)) mask |= 0xe000 | VLAN_CFI;
    if (!(w & OFPFW10_DL_VLAN)) mask |= 0x0fff | VLAN_CFI;
    if (mask) m.set("vlan_tci", u16(((dlVlan & 0xfff) | ((b[20]! << 13) & 0xe000) | VLAN_CFI) & mask), u16(mask));
  }
  return m;
}

/** Encodes `m` as an OpenFlow 1.1 ofp11_match (88 bytes), as OVS's ofputil_match_to_ofp11_match. */
export function encodeOfp11Match(m: Match): Uint8Array {
  const b = new Uint8Array(OFP11_MATCH_LEN);
  const v = new DataView(b.buffer);
  let w = 0;
  const g = (n: string): { v: number; m: number } => {
    const r = m.get(n);
    return { v: num(r.value), m: num(r.mask) };
  };
  v.setUint16(0, OFPMT_STANDARD);
  v.setUint16(2, OFP11_MATCH_LEN);
  const inPort = g("in_port");
  if (!inPort.m) w |= OFPFW11_IN_PORT;
  else v.setUint32(4, mfPortToOfp11(inPort.v));
  const es = m.get("eth_src");
  const ed = m.get("eth_dst");
  b.set(es.value, 12);
  b.set(es.mask.map((x) => ~x & 0xff), 18);
  b.set(ed.value, 24);
  b.set(ed.mask.map((x) => ~x & 0xff), 30);
  const tci = g("vlan_tci");
  if (tci.m === 0) w |= OFPFW11_DL_VLAN | OFPFW11_DL_VLAN_PCP;
  else if (tci.m & VLAN_CFI && !(tci.v & VLAN_CFI)) {
    v.setUint16(36, OFPVID11_NONE);
    w |= OFPFW11_DL_VLAN_PCP;
  } else {
    v.setUint16(36, tci.m & 0xfff ? tci.v & 0xfff : OFPVID11_ANY);
    if (!(tci.m & 0xe000)) w |= OFPFW11_DL_VLAN_PCP;
    else b[38] = tci.v >>> 13;
  }
  const dlType = g("eth_type");
  if (!dlType.m) w |= OFPFW11_DL_TYPE;
  else v.setUint16(40, dlType.v);
  const tos = g("nw_tos");
  if (!tos.m) w |= OFPFW11_NW_TOS;
  else b[42] = tos.v & 0xfc;
  const proto = g("nw_proto");
  if (!proto.m) w |= OFPFW11_NW_PROTO;
  else b[43] = proto.v;
  const src = g("ip_src");
  const dst = g("ip_dst");
  v.setUint32(44, src.v);
  v.setUint32(48, ~src.m >>> 0);
  v.setUint32(52, dst.v);
  v.setUint32(56, ~dst.m >>> 0);
  const tps = g("tcp_src");
  const tpd = g("tcp_dst");
  if (!tps.m) w |= OFPFW11_TP_SRC;
  else v.setUint16(60, tps.v);
  if (!tpd.m) w |= OFPFW11_TP_DST;
  else v.setUint16(62, tpd.v);
  const lbl = g("mpls_label");
  if (!lbl.m) w |= OFPFW11_MPLS_LABEL;
  else v.setUint32(64, lbl.v);
  const tc = g("mpls_tc");
  if (!tc.m) w |= OFPFW11_MPLS_TC;
  else b[68] = tc.v;
  const md = m.get("metadata");
  b.set(md.value, 72);
  b.set(md.mask.map((x) => ~x & 0xff), 80);
  v.setUint32(8, w);
  return b;
}

/** Decodes an OpenFlow 1.1 ofp11_match, as OVS's ofputil_match_from_ofp11_match. */
export function decodeOfp11Match(b: Uint8Array): Match | DecodeError {
  if (b.length < 4) return fail("OFPBMC_BAD_LEN");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = v.getUint16(0);
  const len = v.getUint16(2);
  if (type !== OFPMT_STANDARD) return fail("OFPBMC_BAD_TYPE");
  if (len !== OFP11_MATCH_LEN || b.length < OFP11_MATCH_LEN) return fail("OFPBMC_BAD_LEN");
  const w = v.getUint32(8) & 0xffff;
  const m = new Match();
  if (!(w & OFPFW11_IN_PORT)) {
    const p = mfPortFromOfp11(v.getUint32(4));
    if (p === null) return fail("OFPBMC_BAD_VALUE");
    m.setNum("in_port", p);
  }
  const inv = (x: Uint8Array): Uint8Array => x.map((y) => ~y & 0xff);
  const srcMask = inv(b.slice(18, 24));
  const dstMask = inv(b.slice(30, 36));
  if (srcMask.some((x) => x) || dstMask.some((x) => x)) {
    m.set("eth_src", b.slice(12, 18), srcMask);
    m.set("eth_dst", b.slice(24, 30), dstMask);
    m.setNum("packet_type", 0);
  }
  if (!(w & OFPFW11_DL_VLAN)) {
    const vid = v.getUint16(36);
    if (vid === OFPVID11_NONE) m.setNum("vlan_tci", 0, 0xffff);
    else {
      let tci: number;
      let mask: number;
      if (vid === OFPVID11_ANY) {
        tci = VLAN_CFI;
        mask = VLAN_CFI;
      } else if (vid < 4096) {
        tci = VLAN_CFI | vid;
        mask = VLAN_CFI | 0xfff;
      } else return fail("OFPBMC_BAD_VALUE");
      if (!(w & OFPFW11_DL_VLAN_PCP)) {
        const pcp = b[38]!;
        if (pcp > 7) return fail("OFPBMC_BAD_VALUE");
        tci |= pcp << 13;
        mask |= 0xe000;
      }
      m.set("vlan_tci", u16(tci), u16(mask));
    }
    m.setNum("packet_type", 0);
  }
  if (!(w & OFPFW11_DL_TYPE)) m.setNum("eth_type", v.getUint16(40));
  const dl = m.dlType;
  const ipv4 = dl === ETH_TYPE_IP;
  const arp = dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP;
  if (ipv4 && !(w & OFPFW11_NW_TOS)) {
    if (b[42]! & 3) return fail("OFPBMC_BAD_VALUE");
    m.setNum("nw_tos", b[42]!);
  }
  if (ipv4 || arp) {
    if (!(w & OFPFW11_NW_PROTO)) m.setNum("nw_proto", b[43]!);
    m.set("ip_src", b.slice(44, 48), inv(b.slice(48, 52)));
    m.set("ip_dst", b.slice(52, 56), inv(b.slice(56, 60)));
  }
  const tpAll = OFPFW11_TP_SRC | OFPFW11_TP_DST;
  if (ipv4 && (w & tpAll) !== tpAll) {
    const proto = m.nwProto;
    if (proto === IPPROTO_ICMP) {
      const t = v.getUint16(60);
      const c = v.getUint16(62);
      if (!(w & OFPFW11_TP_SRC)) {
        if (t >= 0x100) return fail("OFPBMC_BAD_FIELD");
        m.setNum("tcp_src", t);
      }
      if (!(w & OFPFW11_TP_DST)) {
        if (c >= 0x100) return fail("OFPBMC_BAD_FIELD");
        m.setNum("tcp_dst", c);
      }
    } else if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
      if (!(w & OFPFW11_TP_SRC)) m.setNum("tcp_src", v.getUint16(60));
      if (!(w & OFPFW11_TP_DST)) m.setNum("tcp_dst", v.getUint16(62));
    }
  }
  if (dl === ETH_TYPE_MPLS || dl === ETH_TYPE_MPLS_MCAST) {
    if (!(w & OFPFW11_MPLS_LABEL)) m.setNum("mpls_label", v.getUint32(64) & 0xfffff);
    if (!(w & OFPFW11_MPLS_TC)) m.setNum("mpls_tc", b[68]! & 7);
  }
  m.set("metadata", b.slice(72, 80), inv(b.slice(80, 88)));
  return m;
}
