/**
 * A match as text, the way ovs-ofctl 3.1 prints it (dump-flows, ofp-print,
 * parse-flow): OVS's field order (metadata and conntrack first, then the
 * dl_type/nw_proto shorthand such as `tcp6`, registers, tunnel, in_port,
 * VLAN, Ethernet, L3, L4), with OVS's number formats (0x-hex for 32/64-bit
 * metadata, decimal for ports, CIDR or dotted masks, `+flag-flag` sets).
 * `priority=` is the caller's (it comes before the match when not 32768).
 */
import { formatPort } from "./ofp-codec.js";
import { formatMfValue, type MfField } from "./meta-flow.js";
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_NSH, ETH_TYPE_RARP,
  geneveMasked, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, mf, normalizeMatch, type Match,
} from "./match.js";
import { vlogModule } from "../util/vlog.js";
import { FLOW_U32S, W_VLAN0 } from "../flow/key-layout.js";

function num(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

function big(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

const hex = (v: number | bigint): string => (v === 0 || v === 0n ? "0" : "0x" + v.toString(16));

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}
function isOnes(b: Uint8Array): boolean {
  return b.every((x) => x === 0xff);
}

class Out {
  s = "";
  put(x: string): void {
    this.s += x + ",";
  }
}

/** `name=0xV[/0xM]` for 32/64-bit integers (OVS format_uint32_masked / format_be64_masked). */
function u32m(o: Out, name: string, v: number | bigint, m: number | bigint, full: number | bigint): void {
  if (m === 0 || m === 0n) return;
  o.put(`${name}=${hex(v)}${m === full ? "" : "/" + hex(m)}`);
}

/** `name=V` decimal when exact, else `0xV/0xM` (OVS format_be16_masked / format_uint16_masked). */
function u16m(o: Out, name: string, v: number, m: number, full: number): void {
  if (m === 0) return;
  o.put(m === full ? `${name}=${v}` : `${name}=0x${v.toString(16)}/0x${m.toString(16)}`);
}

function viaMf(o: Out, m: Match, name: string, fld: MfField = mf(name)): void {
  if (m.isWildcarded(fld)) return;
  const g = m.get(fld);
  if (isZero(g.mask)) return;
  o.put(`${name}=${formatMfValue(fld, { value: g.value, mask: isOnes(g.mask) ? null : g.mask })}`);
}

function ipv4m(o: Out, m: Match, name: string, fldName: string): void {
  viaMf(o, m, name, mf(fldName));
}

const CT_STATE_NAMES = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];
const TCP_FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"];

/** OVS's format_flags: names joined by "|", "0" when none, 0x-hex for unnamed bits. */
function flagsExact(names: readonly string[], v: number): string {
  if (!v) return "0";
  const parts: string[] = [];
  for (let i = 0; i < 32; i++) {
    const bit = 2 ** i;
    if (v & bit) parts.push(names[i] ?? `0x${bit.toString(16)}`);
  }
  return parts.join("|");
}

/** OVS's format_flags_masked: exact flags when the whole mask is set, else "+a-b". */
function flagsMasked(names: readonly string[], v: number, mask: number, max = -1): string {
  if (mask === max) return flagsExact(names, v);
  let s = "";
  for (let i = 0; i < 32; i++) {
    const bit = 2 ** i;
    if (!(mask & bit)) continue;
    const n = names[i] ?? `0x${bit.toString(16)}`;
    s += (v & bit ? "+" : "-") + n;
  }
  return s;
}

function packetTypeText(v: number, mask: number): string {
  const ns = v >>> 16;
  const t = v & 0xffff;
  if (mask === 0xffffffff) {
    if (v === 0) return "eth";
    // OVS writes small types in decimal and others in 0x-hex.
    return `packet_type=(${ns},${t < 10 ? t : "0x" + t.toString(16)})`;
  }
  return `packet_type=(${ns},*)`;
}

/** The match as ovs-ofctl prints it (without priority and without a trailing comma). */
export function formatMatch(m: Match): string {
  const o = new Out();
  const ZERO = { v: 0, m: 0 };
  const g = (n: string): { v: number; m: number } => {
    const f = mf(n);
    if (m.isWildcarded(f)) return ZERO;
    const r = m.get(f);
    return { v: num(r.value), m: num(r.mask) };
  };
  const gb = (n: string): { v: bigint; m: bigint } => {
    const f = mf(n);
    if (m.isWildcarded(f)) return { v: 0n, m: 0n };
    const r = m.get(f);
    return { v: big(r.value), m: big(r.mask) };
  };
  let x = g("pkt_mark");
  u32m(o, "pkt_mark", x.v, x.m, 0xffffffff);
  x = g("recirc_id");
  const megaflow = x.m !== 0;
  u32m(o, "recirc_id", x.v, x.m, 0xffffffff);
  x = g("dp_hash");
  u32m(o, "dp_hash", x.v, x.m, 0xffffffff);
  x = g("conj_id");
  if (x.m) o.put(`conj_id=${x.v}`);
  x = g("skb_priority");
  if (x.m) o.put(`skb_priority=${hex(x.v)}`);
  if (!m.isWildcarded("actset_output")) o.put(`actset_output=${formatPort(m.key[161]! & 0xffff)}`);
  x = g("ct_state");
  if (x.m) {
    if (x.m === 0xff) o.put(`ct_state=${x.v ? CT_STATE_NAMES.filter((_, i) => x.v & (1 << i)).join("|") : "0"}`);
    else o.put(`ct_state=${flagsMasked(CT_STATE_NAMES, x.v, x.m)}`);
  }
  x = g("ct_zone");
  u16m(o, "ct_zone", x.v, x.m, 0xffff);
  x = g("ct_mark");
  u32m(o, "ct_mark", x.v, x.m, 0xffffffff);
  const lbl = gb("ct_label");
  if (lbl.m) o.put(`ct_label=${hex(lbl.v)}${lbl.m === (1n << 128n) - 1n ? "" : "/" + hex(lbl.m)}`);
  ipv4m(o, m, "ct_nw_src", "ct_nw_src");
  viaMf(o, m, "ct_ipv6_src");
  ipv4m(o, m, "ct_nw_dst", "ct_nw_dst");
  viaMf(o, m, "ct_ipv6_dst");
  x = g("ct_nw_proto");
  if (x.m) {
    o.put(`ct_nw_proto=${x.v}`);
    x = g("ct_tp_src");
    u16m(o, "ct_tp_src", x.v, x.m, 0xffff);
    x = g("ct_tp_dst");
    u16m(o, "ct_tp_dst", x.v, x.m, 0xffff);
  }
  const dl = m.dlType;
  const pt = g("packet_type");
  if (pt.m && (!(pt.v === 0 && pt.m === 0xffffffff) || megaflow)) o.put(packetTypeText(pt.v, pt.m));
  const dlMasked = !m.isWildcarded("eth_type");
  const protoMasked = !m.isWildcarded("nw_proto");
  const proto = m.nwProto;
  let skipType = false;
  let skipProto = false;
  if (dlMasked) {
    skipType = true;
    if (dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) {
      const v6 = dl === ETH_TYPE_IPV6;
      const names: Record<number, string> = v6
        ? { [IPPROTO_ICMPV6]: "icmp6", [IPPROTO_TCP]: "tcp6", [IPPROTO_UDP]: "udp6", [IPPROTO_SCTP]: "sctp6" }
        : { [IPPROTO_ICMP]: "icmp", [IPPROTO_TCP]: "tcp", [IPPROTO_UDP]: "udp", [IPPROTO_SCTP]: "sctp" };
      const short = protoMasked ? names[proto] : undefined;
      if (short) {
        skipProto = true;
        o.put(short);
      } else o.put(v6 ? "ipv6" : "ip");
    } else if (dl === ETH_TYPE_ARP) o.put("arp");
    else if (dl === ETH_TYPE_RARP) o.put("rarp");
    else if (dl === ETH_TYPE_MPLS) o.put("mpls");
    else if (dl === ETH_TYPE_MPLS_MCAST) o.put("mplsm");
    else skipType = false;
  }
  for (let i = 0; i < 16; i++) {
    x = g(`reg${i}`);
    u32m(o, `reg${i}`, x.v, x.m, 0xffffffff);
  }
  // Tunnel.
  const tid = gb("tun_id");
  u32m(o, "tun_id", tid.v, tid.m, 0xffffffffffffffffn);
  ipv4m(o, m, "tun_src", "tun_src");
  ipv4m(o, m, "tun_dst", "tun_dst");
  viaMf(o, m, "tun_ipv6_src");
  viaMf(o, m, "tun_ipv6_dst");
  x = g("tun_gbp_id");
  u16m(o, "tun_gbp_id", x.v, x.m, 0xffff);
  x = g("tun_gbp_flags");
  if (x.m) o.put(`tun_gbp_flags=${hex(x.v)}`);
  const ver = g("tun_erspan_ver");
  if (ver.m) o.put(`tun_erspan_ver=${ver.v}`);
  x = g("tun_erspan_idx");
  if (x.m && ver.v === 1) o.put(`tun_erspan_idx=${hex(x.v)}`);
  x = g("tun_erspan_dir");
  if (x.m && ver.v === 2) o.put(`tun_erspan_dir=${x.v}`);
  x = g("tun_erspan_hwid");
  if (x.m && ver.v === 2) o.put(`tun_erspan_hwid=${hex(x.v)}`);
  x = g("tun_gtpu_flags");
  if (x.m) o.put(`gtpu_flags=${hex(x.v)}`);
  x = g("tun_gtpu_msgtype");
  if (x.m) o.put(`gtpu_msgtype=${x.v}`);
  x = g("tun_flags");
  if (x.m) o.put(`tun_flags=${flagsMasked(["oam"], x.v, x.m)}`);
  for (let i = 0; i < 64 && geneveMasked(m); i++) {
    const f = mf(`tun_metadata${i}`);
    if (m.isWildcarded(f)) continue;
    const r = m.get(f);
    // Held by the match itself (no TLV map): exact means all ones over the bytes it was given.
    const held = m.tunMdLen(i);
    const mask = held >= 0 ? r.mask.subarray(r.mask.length - held) : r.mask;
    if (held < 0 && isZero(mask)) continue;
    o.put(`tun_metadata${i}=${hex(big(r.value))}${isOnes(mask) ? "" : "/" + hex(big(r.mask))}`);
  }
  const md = gb("metadata");
  u32m(o, "metadata", md.v, md.m, 0xffffffffffffffffn);
  x = g("in_port");
  if (x.m) o.put(`in_port=${formatPort(x.v)}`);
  // VLAN (first tag).
  x = g("vlan_tci");
  if (x.m) {
    const vidM = x.m & 0x0fff;
    const pcpM = x.m & 0xe000;
    const cfi = x.m & 0x1000;
    if (cfi && x.v & 0x1000 && (!vidM || vidM === 0x0fff) && (!pcpM || pcpM === 0xe000) && (vidM || pcpM)) {
      if (vidM) o.put(`dl_vlan=${x.v & 0xfff}`);
      if (pcpM) o.put(`dl_vlan_pcp=${x.v >>> 13}`);
    } else if (x.m === 0xffff) o.put(`vlan_tci=0x${x.v.toString(16).padStart(4, "0")}`);
    else o.put(`vlan_tci=0x${x.v.toString(16).padStart(4, "0")}/0x${x.m.toString(16).padStart(4, "0")}`);
    // A second (inner) tag, which only packets' flows carry (OpenFlow cannot match it).
    const v1 = m.key[W_VLAN0 + 1]! & 0xffff;
    const m1 = m.mask[W_VLAN0 + 1]! & 0xffff;
    if (m1 === 0xffff && v1 & 0x1000) o.put(`dl_vlan1=${v1 & 0xfff},dl_vlan_pcp1=${v1 >>> 13}`);
    else if (m1) o.put(`vlan_tci1=0x${v1.toString(16).padStart(4, "0")}${m1 === 0xffff ? "" : `/0x${m1.toString(16).padStart(4, "0")}`}`);
  }
  viaMf(o, m, "dl_src", mf("eth_src"));
  viaMf(o, m, "dl_dst", mf("eth_dst"));
  if (!skipType && dlMasked) o.put(`dl_type=0x${dl.toString(16).padStart(4, "0")}`);
  const arp = dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP;
  if (dl === ETH_TYPE_IPV6) {
    viaMf(o, m, "ipv6_src");
    viaMf(o, m, "ipv6_dst");
    x = g("ipv6_label");
    if (x.m) {
      const v5 = x.v.toString(16).padStart(5, "0");
      o.put(x.m === 0xffffffff ? `ipv6_label=0x${v5}` : `ipv6_label=0x${v5}/0x${x.m.toString(16).padStart(5, "0")}`);
    }
  } else if (arp) {
    ipv4m(o, m, "arp_spa", "arp_spa");
    ipv4m(o, m, "arp_tpa", "arp_tpa");
  } else if (dl === ETH_TYPE_NSH) {
    for (const n of ["nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np"]) {
      x = g(n);
      if (x.m) o.put(x.m === 0xff ? `${n}=${x.v}` : `${n}=0x${x.v.toString(16).padStart(2, "0")}/0x${x.m.toString(16).padStart(2, "0")}`);
    }
    x = g("nsh_spi");
    if (x.m) o.put(x.m === 0xffffff ? `nsh_spi=0x${x.v.toString(16)}` : `nsh_spi=0x${x.v.toString(16)}/0x${x.m.toString(16)}`);
    x = g("nsh_si");
    if (x.m) o.put(x.m === 0xff ? `nsh_si=${x.v}` : `nsh_si=0x${x.v.toString(16).padStart(2, "0")}/0x${x.m.toString(16).padStart(2, "0")}`);
    const mdt = g("nsh_mdtype");
    if (mdt.m === 0xff && mdt.v === 1) {
      for (const n of ["nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4"]) {
        x = g(n);
        if (x.m) o.put(x.m === 0xffffffff ? `${n}=0x${x.v.toString(16)}` : `${n}=0x${x.v.toString(16)}/0x${x.m.toString(16)}`);
      }
    }
  } else {
    ipv4m(o, m, "nw_src", "ip_src");
    ipv4m(o, m, "nw_dst", "ip_dst");
  }
  if (!skipProto && protoMasked) o.put(`${arp ? "arp_op" : "nw_proto"}=${proto}`);
  if (arp) {
    viaMf(o, m, "arp_sha");
    viaMf(o, m, "arp_tha");
  }
  x = g("nw_tos");
  if (x.m) o.put(`nw_tos=${x.v}`);
  x = g("nw_ecn");
  if (x.m) o.put(`nw_ecn=${x.v}`);
  x = g("nw_ttl");
  if (x.m) o.put(`nw_ttl=${x.v}`);
  for (const n of ["mpls_label", "mpls_tc", "mpls_ttl", "mpls_bos"]) {
    x = g(n);
    if (x.m) o.put(`${n}=${x.v}`);
  }
  for (const [n, w] of [["mpls_lse1", 18], ["mpls_lse2", 19]] as const) {
    const mv = m.mask[w]!;
    if (mv) o.put(mv === 0xffffffff ? `${n}=${m.key[w]}` : `${n}=0x${m.key[w]!.toString(16).padStart(8, "0")}/0x${mv.toString(16).padStart(8, "0")}`);
  }
  x = g("ip_frag");
  if (x.m === 3) o.put(`nw_frag=${x.v & 1 ? (x.v & 2 ? "later" : "first") : x.v & 2 ? "<error>" : "no"}`);
  else if (x.m === 1) o.put(`nw_frag=${x.v & 1 ? "yes" : "no"}`);
  else if (x.m === 2) o.put(`nw_frag=${x.v & 2 ? "later" : "not_later"}`);
  const tps = g("tcp_src");
  const tpd = g("tcp_dst");
  const icmpish = (dl === ETH_TYPE_IP && proto === IPPROTO_ICMP) || (dl === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6);
  if (icmpish) {
    u16m(o, "icmp_type", tps.v, tps.m, 0xffff);
    u16m(o, "icmp_code", tpd.v, tpd.m, 0xffff);
    if (dl === ETH_TYPE_IPV6) {
      viaMf(o, m, "nd_target");
      viaMf(o, m, "nd_sll");
      viaMf(o, m, "nd_tll");
      x = g("nd_reserved");
      if (x.m) o.put(`nd_reserved=${x.v}`);
      x = g("nd_options_type");
      // OVS keeps the ND options type in tcp_flags, so tcp_flags on ND shows here.
      if (!x.m) x = g("tcp_flags");
      if (x.m) o.put(`nd_options_type=${x.v & 0xff}`);
    }
  } else {
    u16m(o, "tp_src", tps.v, tps.m, 0xffff);
    u16m(o, "tp_dst", tpd.v, tpd.m, 0xffff);
  }
  x = g("tcp_flags");
  // OVS keeps the ND options type in tcp_flags, so it shows as tcp_flags on TCP.
  if (!x.m && !m.isWildcarded("nd_options_type")) x = { v: g("nd_options_type").v, m: 0xffff };
  if ((dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) && proto === IPPROTO_TCP && x.m) {
    o.put(`tcp_flags=${flagsMasked(TCP_FLAG_NAMES, x.v & 0xfff, x.m & 0xfff, 0xfff)}`);
  }
  return o.s.endsWith(",") ? o.s.slice(0, -1) : o.s;
}

const ofpMatchLog = vlogModule("ofp_match");

/**
 * OVS's ofputil_normalize_match with its log: normalizes `m` (see
 * normalizeMatch) and, when that changed it, returns (and logs at INFO on
 * module ofp_match) OVS's three lines: "normalization changed ofp_match,
 * details:", " pre: <match>", "post: <match>". Returns [] when unchanged.
 */
export function normalizeMatchLogged(m: Match, log = true, keep = false): string[] {
  PRE_KEY.set(m.key);
  PRE_MASK.set(m.mask);
  if (!normalizeMatch(m)) return [];
  // Normalizing touches only key and mask: the match as it was is a copy
  // with those put back (made only when something changed).
  const pre = m.clone();
  pre.key.set(PRE_KEY);
  pre.mask.set(PRE_MASK);
  const lines = ["normalization changed ofp_match, details:", ` pre: ${formatMatch(pre)}`, `post: ${formatMatch(m)}`];
  if (log) for (const l of lines) ofpMatchLog.info(l);
  if (keep) {
    m.key.set(PRE_KEY);
    m.mask.set(PRE_MASK);
  }
  return lines;
}

const PRE_KEY = new Uint32Array(FLOW_U32S);
const PRE_MASK = new Uint32Array(FLOW_U32S);
