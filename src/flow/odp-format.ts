/**
 * Datapath flows as text, exactly as `ovs-dpctl dump-flows` and
 * `ovs-appctl dpctl/dump-flows` of OVS 3.1 print them:
 *
 *   recirc_id(0),in_port(1),eth_type(0x0800),ipv4(src=10.0.0.1,proto=6,frag=no),tcp(dst=80),
 *     packets:3, bytes:180, used:0.500s, flags:S, actions:push_vlan(vid=5,pcp=0),2
 *
 * Input is the netlink form (odp-netlink.ts): a key and an optional mask,
 * both sequences of OVS_KEY_ATTR_* attributes, and an action list of
 * OVS_ACTION_ATTR_* attributes. The printing rules are OVS's:
 * - a key attribute whose mask is all zeros is left out (unless verbose,
 *   or it is nested: encap, tunnel), except a wildcarded `eth()` when no
 *   packet_type was printed;
 * - a field whose mask is all zeros is left out of its attribute, a
 *   partially masked one prints `value/mask`, a fully masked one `value`;
 * - `-m` (verbose) prints every attribute and field, wildcards as `0/0`.
 */
import {
  ATTR_LEN_NESTED, ATTR_LEN_VARIABLE, KEY_ATTR_LENS, keyAttrName, odpActionLen,
  OVS_ACTION_ATTR_CHECK_PKT_LEN, OVS_ACTION_ATTR_CLONE, OVS_ACTION_ATTR_CT, OVS_ACTION_ATTR_CT_CLEAR,
  OVS_ACTION_ATTR_DROP, OVS_ACTION_ATTR_HASH, OVS_ACTION_ATTR_LB_OUTPUT, OVS_ACTION_ATTR_METER,
  OVS_ACTION_ATTR_OUTPUT, OVS_ACTION_ATTR_POP_ETH, OVS_ACTION_ATTR_POP_MPLS, OVS_ACTION_ATTR_POP_NSH,
  OVS_ACTION_ATTR_POP_VLAN, OVS_ACTION_ATTR_PUSH_ETH, OVS_ACTION_ATTR_PUSH_MPLS, OVS_ACTION_ATTR_PUSH_VLAN,
  OVS_ACTION_ATTR_RECIRC, OVS_ACTION_ATTR_SAMPLE, OVS_ACTION_ATTR_SET, OVS_ACTION_ATTR_SET_MASKED,
  OVS_ACTION_ATTR_TRUNC, OVS_ACTION_ATTR_TUNNEL_POP, OVS_ACTION_ATTR_TUNNEL_PUSH, OVS_ACTION_ATTR_USERSPACE,
  OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL,
  OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, OVS_CT_ATTR_COMMIT, OVS_CT_ATTR_FORCE_COMMIT, OVS_CT_ATTR_HELPER,
  OVS_CT_ATTR_LABELS, OVS_CT_ATTR_MARK, OVS_CT_ATTR_NAT, OVS_CT_ATTR_TIMEOUT, OVS_CT_ATTR_ZONE, OVS_HASH_ALG_L4,
  OVS_HASH_ALG_SYM_L4, OVS_KEY_ATTR_ARP, OVS_KEY_ATTR_CT_LABELS, OVS_KEY_ATTR_CT_MARK,
  OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, OVS_KEY_ATTR_CT_STATE,
  OVS_KEY_ATTR_CT_ZONE, OVS_KEY_ATTR_DP_HASH, OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_ETHERNET,
  OVS_KEY_ATTR_ETHERTYPE, OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6, OVS_KEY_ATTR_IN_PORT,
  OVS_KEY_ATTR_IPV4, OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_MPLS, OVS_KEY_ATTR_ND, OVS_KEY_ATTR_ND_EXTENSIONS,
  OVS_KEY_ATTR_PACKET_TYPE, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_SCTP,
  OVS_KEY_ATTR_SKB_MARK, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_TCP_FLAGS, OVS_KEY_ATTR_TUNNEL,
  OVS_KEY_ATTR_UDP, OVS_KEY_ATTR_VLAN, OVS_SAMPLE_ATTR_ACTIONS, OVS_SAMPLE_ATTR_PROBABILITY,
  OVS_TUNNEL_KEY_ATTR_CSUM, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS,
  OVS_TUNNEL_KEY_ATTR_ID, OVS_TUNNEL_KEY_ATTR_IPV4_DST, OVS_TUNNEL_KEY_ATTR_IPV4_SRC,
  OVS_TUNNEL_KEY_ATTR_IPV6_DST, OVS_TUNNEL_KEY_ATTR_IPV6_SRC, OVS_TUNNEL_KEY_ATTR_OAM,
  OVS_TUNNEL_KEY_ATTR_PAD, OVS_TUNNEL_KEY_ATTR_TOS, OVS_TUNNEL_KEY_ATTR_TP_DST, OVS_TUNNEL_KEY_ATTR_TP_SRC,
  OVS_TUNNEL_KEY_ATTR_TTL, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS, OVS_USERSPACE_ATTR_ACTIONS,
  OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, OVS_USERSPACE_ATTR_PID, OVS_USERSPACE_ATTR_USERDATA,
  OVS_VXLAN_EXT_GBP, TUN_KEY_ATTR_LENS,
} from "./odp-attrs.js";
import {
  getBe16, getBe32, getBe64, getU16, getU32, NLA_HDRLEN, nlaLen, nlaOk, nlaNext, nlaType, nlFind,
} from "./odp-netlink.js";
import {
  formatFlags, formatFlagsMasked, formatIpv4, formatIpv6, formatMac, formatTcpFlagsLetters, hex2, hexAlt,
  odpCtStateName, tcpFlagName, TNL_F_CSUM, TNL_F_DONT_FRAGMENT, TNL_F_KEY, TNL_F_OAM, tunFlagName,
} from "./odp-text.js";
import { formatTnlPush } from "./odp-tnl.js";

/** odp port number → port name, for `in_port(p1)` and `actions:p2` (dpctl --names / -m). */
export type PortNames = ReadonlyMap<number, string>;

/** A byte view of one attribute's payload. */
interface Payload {
  buf: Uint8Array;
  off: number;
  len: number;
}

function payload(buf: Uint8Array, a: number): Payload {
  return { buf, off: a + NLA_HDRLEN, len: nlaLen(buf, a) - NLA_HDRLEN };
}

function allBytes(p: Payload, start: number, end: number, v: number): boolean {
  for (let i = start; i < end && i < p.len; i++) if (p.buf[p.off + i] !== v) return false;
  return true;
}

/** Bytes of each attribute that count when deciding "exact"/"wildcard" (padding excluded). */
function significantLen(type: number, len: number): number {
  switch (type) {
    case OVS_KEY_ATTR_ARP: return 22;
    case OVS_KEY_ATTR_ND_EXTENSIONS: return 5;
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4: return 13;
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6: return 37;
    default: return len;
  }
}

/** odp_mask_attr_is_wildcard: every significant mask byte zero. */
function maskIsWildcard(type: number, m: Payload): boolean {
  return allBytes(m, 0, significantLen(type, m.len), 0);
}

/** odp_mask_attr_is_exact: every significant mask bit one. */
function maskIsExact(type: number, m: Payload): boolean {
  if (type === OVS_KEY_ATTR_IPV6) {
    // The flow label is 20 bits.
    return allBytes(m, 0, 32, 0xff) && getBe32(m.buf, m.off + 32) === 0xfffff && allBytes(m, 36, 40, 0xff);
  }
  if (type === OVS_KEY_ATTR_TCP_FLAGS) {
    return (getBe16(m.buf, m.off) & 0x0fff) === 0x0fff;
  }
  return allBytes(m, 0, significantLen(type, m.len), 0xff);
}

/** Accumulates comma-separated fields, as OVS's ds + ds_chomp(',') pattern. */
class Fields {
  parts: string[] = [];
  add(s: string): void {
    this.parts.push(s);
  }
  toString(): string {
    return this.parts.join(",");
  }
}

function fEth(f: Fields, name: string, k: Payload, ko: number, m: Payload | null, verbose: boolean): void {
  const maskEmpty = m !== null && allBytes(m, ko, ko + 6, 0);
  if (verbose || !maskEmpty) {
    const full = m === null || allBytes(m, ko, ko + 6, 0xff);
    if (full) f.add(`${name}=${formatMac(k.buf, k.off + ko)}`);
    else f.add(`${name}=${formatMac(k.buf, k.off + ko)}/${formatMac(m.buf, m.off + ko)}`);
  }
}

function fIpv4(f: Fields, name: string, k: Payload, ko: number, m: Payload | null, verbose: boolean): void {
  const kv = getBe32(k.buf, k.off + ko);
  const mv = m === null ? 0xffffffff : getBe32(m.buf, m.off + ko);
  if (verbose || m === null || mv !== 0) {
    f.add(`${name}=${formatIpv4(kv)}${mv === 0xffffffff ? "" : "/" + formatIpv4(mv)}`);
  }
}

function fIn6(f: Fields, name: string, k: Payload, ko: number, m: Payload | null, verbose: boolean): void {
  const maskEmpty = m !== null && allBytes(m, ko, ko + 16, 0);
  if (verbose || !maskEmpty) {
    const full = m === null || allBytes(m, ko, ko + 16, 0xff);
    f.add(`${name}=${formatIpv6(k.buf, k.off + ko)}${full ? "" : "/" + formatIpv6(m.buf, m.off + ko)}`);
  }
}

function fU8u(f: Fields, name: string, kv: number, mv: number | null, verbose: boolean): void {
  if (verbose || mv === null || mv !== 0) {
    f.add(`${name}=${kv}${mv === null || mv === 0xff ? "" : "/" + hexAlt(mv)}`);
  }
}

function fU8x(f: Fields, name: string, kv: number, mv: number | null, verbose: boolean): void {
  if (verbose || mv === null || mv !== 0) {
    f.add(`${name}=${hexAlt(kv)}${mv === null || mv === 0xff ? "" : "/" + hexAlt(mv)}`);
  }
}

function fBe16(f: Fields, name: string, kv: number, mv: number | null, verbose: boolean): void {
  if (verbose || mv === null || mv !== 0) {
    f.add(`${name}=${kv}${mv === null || mv === 0xffff ? "" : "/" + hexAlt(mv)}`);
  }
}

function fBe16x(f: Fields, name: string, kv: number, mv: number | null, verbose: boolean): void {
  if (verbose || mv === null || mv !== 0) {
    f.add(`${name}=${hexAlt(kv)}${mv === null || mv === 0xffff ? "" : "/" + hexAlt(mv)}`);
  }
}

function fFrag(f: Fields, kv: number, mv: number | null): void {
  const empty = mv !== null && mv === 0;
  const full = mv === null || mv === 0xff;
  if (!empty && !full) f.add(`error: partial mask not supported for frag (${hexAlt(mv!)})`);
  else if (!empty) f.add(`frag=${kv === 0 ? "no" : kv === 1 ? "first" : kv === 2 ? "later" : "<error>"}`);
}

function u8At(p: Payload | null, o: number): number | null {
  return p === null ? null : p.buf[p.off + o]!;
}
function be16At(p: Payload | null, o: number): number | null {
  return p === null ? null : getBe16(p.buf, p.off + o);
}

/** format_vlan_tci. */
export function formatVlanTci(tci: number, mask: number, verbose: boolean): string {
  const f = new Fields();
  const vid = tci & 0xfff, vidMask = mask & 0xfff;
  const pcp = (tci >> 13) & 7, pcpMask = (mask >> 13) & 7;
  if (verbose || vid || vidMask) f.add(`vid=${vid}${vidMask !== 0xfff ? "/0x" + vidMask.toString(16) : ""}`);
  if (verbose || pcp || pcpMask) f.add(`pcp=${pcp}${pcpMask !== 7 ? "/0x" + pcpMask.toString(16) : ""}`);
  if (!(tci & 0x1000)) f.add("cfi=0");
  return f.toString();
}

export function formatMplsLse(lse: number): string {
  return `label=${lse >>> 12},tc=${(lse >> 9) & 7},ttl=${lse & 0xff},bos=${(lse >> 8) & 1}`;
}

function formatU128(k: Payload, m: Payload | null, verbose: boolean): string {
  const hexOf = (p: Payload): string => {
    let s = "";
    for (let i = 0; i < 16; i++) s += hex2(p.buf[p.off + i]!);
    s = s.replace(/^0+/, "");
    return s === "" ? "0" : "0x" + s;
  };
  if (verbose || (m !== null && !allBytes(m, 0, 16, 0))) {
    let s = hexOf(k);
    if (m !== null && !allBytes(m, 0, 16, 0xff)) s += "/" + hexOf(m);
    return s;
  }
  return "";
}

function formatGenericBytes(p: Payload): string {
  let s = "";
  for (let i = 0; i < p.len; i++) s += (i ? " " : "") + hex2(p.buf[p.off + i]!);
  return s;
}

function formatTunnel(k: Payload, m: Payload | null, verbose: boolean): string {
  const f = new Fields();
  let flags = 0;
  let maskFlags = 0;
  let a = k.off;
  const end = k.off + k.len;
  const zero = new Uint8Array(64);
  while (nlaOk(k.buf, a, end)) {
    const type = nlaType(k.buf, a);
    const kp = payload(k.buf, a);
    let mp: Payload | null = null;
    if (m !== null) {
      const ma = nlFind(m.buf, m.off, m.off + m.len, type);
      mp = ma >= 0 ? payload(m.buf, ma) : { buf: zero, off: 0, len: kp.len };
    }
    const expect = type < TUN_KEY_ATTR_LENS.length ? TUN_KEY_ATTR_LENS[type]! : ATTR_LEN_VARIABLE;
    if (expect >= 0 && (kp.len !== expect || (mp !== null && mp.len !== expect))) {
      f.add(`key${type}(bad key length ${kp.len}, expected ${expect})(${formatGenericBytes(kp)})`);
      a = nlaNext(k.buf, a);
      continue;
    }
    switch (type) {
      case OVS_TUNNEL_KEY_ATTR_ID: {
        const kv = getBe64(kp.buf, kp.off);
        const mv = mp === null ? null : getBe64(mp.buf, mp.off);
        if (verbose || mv === null || mv !== 0n) {
          f.add(`tun_id=0x${kv.toString(16)}${mv === null || mv === 0xffffffffffffffffn ? "" : "/" + hexAlt(mv)}`);
        }
        flags |= TNL_F_KEY;
        if (mp !== null) maskFlags |= TNL_F_KEY;
        break;
      }
      case OVS_TUNNEL_KEY_ATTR_IPV4_SRC: fIpv4(f, "src", kp, 0, mp, verbose); break;
      case OVS_TUNNEL_KEY_ATTR_IPV4_DST: fIpv4(f, "dst", kp, 0, mp, verbose); break;
      case OVS_TUNNEL_KEY_ATTR_IPV6_SRC: fIn6(f, "ipv6_src", kp, 0, mp, verbose); break;
      case OVS_TUNNEL_KEY_ATTR_IPV6_DST: fIn6(f, "ipv6_dst", kp, 0, mp, verbose); break;
      case OVS_TUNNEL_KEY_ATTR_TOS: fU8x(f, "tos", kp.buf[kp.off]!, u8At(mp, 0), verbose); break;
      case OVS_TUNNEL_KEY_ATTR_TTL: fU8u(f, "ttl", kp.buf[kp.off]!, u8At(mp, 0), verbose); break;
      case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT: flags |= TNL_F_DONT_FRAGMENT; break;
      case OVS_TUNNEL_KEY_ATTR_CSUM: flags |= TNL_F_CSUM; break;
      case OVS_TUNNEL_KEY_ATTR_OAM: flags |= TNL_F_OAM; break;
      case OVS_TUNNEL_KEY_ATTR_TP_SRC: fBe16(f, "tp_src", getBe16(kp.buf, kp.off), be16At(mp, 0), verbose); break;
      case OVS_TUNNEL_KEY_ATTR_TP_DST: fBe16(f, "tp_dst", getBe16(kp.buf, kp.off), be16At(mp, 0), verbose); break;
      case OVS_TUNNEL_KEY_ATTR_PAD: break;
      case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS: {
        const g = nlFind(kp.buf, kp.off, kp.off + kp.len, OVS_VXLAN_EXT_GBP);
        let inner = "";
        if (g >= 0) {
          const kv = getU32(kp.buf, g + NLA_HDRLEN);
          let mv: number | null = null;
          if (mp !== null) {
            const mg = nlFind(mp.buf, mp.off, mp.off + mp.len, OVS_VXLAN_EXT_GBP);
            mv = mg >= 0 ? getU32(mp.buf, mg + NLA_HDRLEN) : 0;
          }
          const gf = new Fields();
          fBe16(gf, "id", kv & 0xffff, mv === null ? null : mv & 0xffff, verbose);
          fU8x(gf, "flags", (kv >>> 16) & 0xff, mv === null ? null : (mv >>> 16) & 0xff, verbose);
          inner = `gbp(${gf.toString()})`;
        }
        f.add(`vxlan(${inner})`);
        break;
      }
      case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS:
        f.add(`geneve(${formatGeneveOpts(kp, mp, verbose)})`);
        break;
      default: {
        let s = `key${type}(${formatGenericBytes(kp)}`;
        if (mp !== null && !allBytes(mp, 0, mp.len, 0xff)) s += "/" + formatGenericBytes(mp);
        f.add(s + ")");
      }
    }
    a = nlaNext(k.buf, a);
  }
  if (m !== null) {
    let ma = m.off;
    const mend = m.off + m.len;
    while (nlaOk(m.buf, ma, mend)) {
      const t = nlaType(m.buf, ma);
      if (t === OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT) maskFlags |= TNL_F_DONT_FRAGMENT;
      else if (t === OVS_TUNNEL_KEY_ATTR_CSUM) maskFlags |= TNL_F_CSUM;
      else if (t === OVS_TUNNEL_KEY_ATTR_OAM) maskFlags |= TNL_F_OAM;
      ma = nlaNext(m.buf, ma);
    }
  }
  const maskEmpty = m !== null && maskFlags === 0;
  if (verbose || !maskEmpty) {
    const body = m !== null ? formatFlagsMasked(flags, maskFlags & 0xf, 0xf, tunFlagName) : formatFlags(flags, tunFlagName, "|");
    f.add(`flags(${body})`);
  }
  return f.toString();
}

/** ds_put_hex: "0x" and the bytes without leading zeros, "0" when all zero. */
function hexBytes(buf: Uint8Array, off: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += hex2(buf[off + i]!);
  s = s.replace(/^0+/, "");
  return s === "" ? "0" : "0x" + s;
}

function formatGeneveOpts(k: Payload, m: Payload | null, verbose: boolean): string {
  if (m !== null && m.len !== k.len) return `value len ${k.len} different from mask len ${m.len}`;
  let s = "";
  let o = 0;
  while (o < k.len) {
    if (k.len - o < 4) return s + `opt len ${k.len - o} less than minimum 4`;
    const dataLen = (k.buf[k.off + o + 3]! & 0x1f) * 4;
    const len = 4 + dataLen;
    if (len > k.len - o) return s + `opt len ${len} greater than remaining ${k.len - o}`;
    const f = new Fields();
    fBe16x(f, "class", getBe16(k.buf, k.off + o), m === null ? null : getBe16(m.buf, m.off + o), verbose);
    fU8x(f, "type", k.buf[k.off + o + 2]!, m === null ? null : m.buf[m.off + o + 2]!, verbose);
    let lenMask: number | null = null;
    if (m !== null) {
      const lm = m.buf[m.off + o + 3]! & 0x1f;
      lenMask = lm === 0x1f ? 0xff : lm;
    }
    fU8u(f, "len", dataLen, lenMask, verbose);
    let body = f.toString();
    if (dataLen && (verbose || m === null || !allBytes(m, o + 4, o + 4 + dataLen, 0))) {
      body += (body ? "," : "") + hexBytes(k.buf, k.off + o + 4, dataLen);
      if (m !== null && !allBytes(m, o + 4, o + 4 + dataLen, 0xff)) body += "/" + hexBytes(m.buf, m.off + o + 4, dataLen);
    }
    s += `{${body}}`;
    o += len;
  }
  return s;
}

/**
 * Formats one key attribute (at `a` in `kbuf`) with its mask attribute (at
 * `ma` in `mbuf`, or null for an exact match). format_odp_key_attr.
 */
export function formatKeyAttr(kbuf: Uint8Array, a: number, mbuf: Uint8Array | null, ma: number, ports: PortNames | null, verbose: boolean): string {
  const type = nlaType(kbuf, a);
  const k = payload(kbuf, a);
  const m = mbuf !== null && ma >= 0 ? payload(mbuf, ma) : null;
  const expect = type < KEY_ATTR_LENS.length ? KEY_ATTR_LENS[type]! : -1;
  if (expect >= 0 && (k.len !== expect || (m !== null && m.len !== expect))) {
    let s = "";
    if (k.len !== expect) s += `(bad key length ${k.len}, expected ${expect})(`;
    s += formatGenericBytes(k);
    if (m !== null) {
      s += "/";
      if (m.len !== expect) s += `(bad mask length ${m.len}, expected ${expect})(`;
      s += formatGenericBytes(m);
    }
    return s + ")";
  }
  const exact = m === null ? true : maskIsExact(type, m);
  const name = keyAttrName(type);
  let body: string;
  const f = new Fields();
  switch (type) {
    case OVS_KEY_ATTR_ENCAP:
      if (m !== null && m.len && k.len) body = formatOdpFlowRange(k.buf, k.off, k.len, m.buf, m.off, m.len, ports, verbose);
      else if (k.len) body = formatOdpFlowRange(k.buf, k.off, k.len, null, 0, 0, ports, verbose);
      else body = "";
      break;
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_DP_HASH:
    case OVS_KEY_ATTR_RECIRC_ID:
      body = hexAlt(getU32(k.buf, k.off)) + (exact ? "" : "/" + hexAlt(getU32(m!.buf, m!.off)));
      break;
    case OVS_KEY_ATTR_CT_MARK:
      body = verbose || (m !== null && !allBytes(m, 0, 4, 0)) || m === null
        ? hexAlt(getU32(k.buf, k.off)) + (exact ? "" : "/" + hexAlt(getU32(m!.buf, m!.off))) : "";
      break;
    case OVS_KEY_ATTR_CT_STATE: {
      const kv = getU32(k.buf, k.off);
      const mv = m === null ? 0xffffffff : getU32(m.buf, m.off);
      if (verbose) body = hexAlt(kv) + (exact ? "" : "/" + hexAlt(mv));
      else if (!exact) body = formatFlagsMasked(kv, mv, 0xffffffff, odpCtStateName);
      else body = formatFlags(kv, odpCtStateName, "|");
      break;
    }
    case OVS_KEY_ATTR_CT_ZONE:
      body = verbose || m === null || !allBytes(m, 0, 2, 0)
        ? hexAlt(getU16(k.buf, k.off)) + (exact ? "" : "/" + hexAlt(getU16(m!.buf, m!.off))) : "";
      break;
    case OVS_KEY_ATTR_CT_LABELS:
      body = formatU128(k, m, verbose);
      break;
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4:
      fIpv4(f, "src", k, 0, m, verbose);
      fIpv4(f, "dst", k, 4, m, verbose);
      fU8u(f, "proto", k.buf[k.off + 12]!, u8At(m, 12), verbose);
      fBe16(f, "tp_src", getBe16(k.buf, k.off + 8), be16At(m, 8), verbose);
      fBe16(f, "tp_dst", getBe16(k.buf, k.off + 10), be16At(m, 10), verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6:
      fIn6(f, "src", k, 0, m, verbose);
      fIn6(f, "dst", k, 16, m, verbose);
      fU8u(f, "proto", k.buf[k.off + 36]!, u8At(m, 36), verbose);
      fBe16(f, "src_port", getBe16(k.buf, k.off + 32), be16At(m, 32), verbose);
      fBe16(f, "dst_port", getBe16(k.buf, k.off + 34), be16At(m, 34), verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_TUNNEL:
      body = formatTunnel(k, m, verbose);
      break;
    case OVS_KEY_ATTR_IN_PORT: {
      const port = getU32(k.buf, k.off);
      if (exact) body = ports?.get(port) ?? String(port);
      else body = `${port}/${hexAlt(getU32(m!.buf, m!.off))}`;
      break;
    }
    case OVS_KEY_ATTR_PACKET_TYPE: {
      const kv = getBe32(k.buf, k.off);
      const mv = m === null ? 0xffffffff : getBe32(m.buf, m.off);
      fBe16(f, "ns", kv >>> 16, mv >>> 16, verbose);
      fBe16x(f, "id", kv & 0xffff, mv & 0xffff, verbose);
      body = f.toString();
      break;
    }
    case OVS_KEY_ATTR_ETHERNET:
      fEth(f, "src", k, 0, m, verbose);
      fEth(f, "dst", k, 6, m, verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_VLAN:
      body = formatVlanTci(getBe16(k.buf, k.off), m === null ? 0xffff : getBe16(m.buf, m.off), verbose);
      break;
    case OVS_KEY_ATTR_MPLS: {
      if (k.len === 0 || k.len % 4) return `${name}((bad key length ${k.len}))`;
      if (!exact && m!.len !== k.len) return `${name}((key length ${k.len} != mask length ${m!.len}))`;
      const parts: string[] = [];
      for (let i = 0; i < k.len; i += 4) {
        const lse = getBe32(k.buf, k.off + i);
        if (exact) parts.push(formatMplsLse(lse));
        else {
          const ml = getBe32(m!.buf, m!.off + i);
          parts.push(`label=${lse >>> 12}/0x${(ml >>> 12).toString(16)},tc=${(lse >> 9) & 7}/${((ml >> 9) & 7).toString(16)},` +
            `ttl=${lse & 0xff}/0x${(ml & 0xff).toString(16)},bos=${(lse >> 8) & 1}/${((ml >> 8) & 1).toString(16)}`);
        }
      }
      body = parts.join(",");
      break;
    }
    case OVS_KEY_ATTR_ETHERTYPE:
      body = "0x" + getBe16(k.buf, k.off).toString(16).padStart(4, "0") +
        (exact ? "" : "/0x" + getBe16(m!.buf, m!.off).toString(16).padStart(4, "0"));
      break;
    case OVS_KEY_ATTR_IPV4:
      fIpv4(f, "src", k, 0, m, verbose);
      fIpv4(f, "dst", k, 4, m, verbose);
      fU8u(f, "proto", k.buf[k.off + 8]!, u8At(m, 8), verbose);
      fU8x(f, "tos", k.buf[k.off + 9]!, u8At(m, 9), verbose);
      fU8u(f, "ttl", k.buf[k.off + 10]!, u8At(m, 10), verbose);
      fFrag(f, k.buf[k.off + 11]!, u8At(m, 11));
      body = f.toString();
      break;
    case OVS_KEY_ATTR_IPV6: {
      fIn6(f, "src", k, 0, m, verbose);
      fIn6(f, "dst", k, 16, m, verbose);
      const lk = getBe32(k.buf, k.off + 32);
      const lm = m === null ? null : getBe32(m.buf, m.off + 32);
      if (verbose || lm === null || lm !== 0) {
        f.add(`label=${hexAlt(lk)}${lm === null || (lm & 0xfffff) === 0xfffff ? "" : "/" + hexAlt(lm)}`);
      }
      fU8u(f, "proto", k.buf[k.off + 36]!, u8At(m, 36), verbose);
      fU8x(f, "tclass", k.buf[k.off + 37]!, u8At(m, 37), verbose);
      fU8u(f, "hlimit", k.buf[k.off + 38]!, u8At(m, 38), verbose);
      fFrag(f, k.buf[k.off + 39]!, u8At(m, 39));
      body = f.toString();
      break;
    }
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP:
      fBe16(f, "src", getBe16(k.buf, k.off), be16At(m, 0), verbose);
      fBe16(f, "dst", getBe16(k.buf, k.off + 2), be16At(m, 2), verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_TCP_FLAGS: {
      const kv = getBe16(k.buf, k.off);
      if (!exact) body = formatFlagsMasked(kv, getBe16(m!.buf, m!.off) & 0x0fff, 0x0fff, tcpFlagName);
      else body = formatFlags(kv, tcpFlagName, "|");
      break;
    }
    case OVS_KEY_ATTR_ICMP:
    case OVS_KEY_ATTR_ICMPV6:
      fU8u(f, "type", k.buf[k.off]!, u8At(m, 0), verbose);
      fU8u(f, "code", k.buf[k.off + 1]!, u8At(m, 1), verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_ARP:
      fIpv4(f, "sip", k, 0, m, verbose);
      fIpv4(f, "tip", k, 4, m, verbose);
      fBe16(f, "op", getBe16(k.buf, k.off + 8), be16At(m, 8), verbose);
      fEth(f, "sha", k, 10, m, verbose);
      fEth(f, "tha", k, 16, m, verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_ND:
      fIn6(f, "target", k, 0, m, verbose);
      fEth(f, "sll", k, 16, m, verbose);
      fEth(f, "tll", k, 22, m, verbose);
      body = f.toString();
      break;
    case OVS_KEY_ATTR_ND_EXTENSIONS: {
      const res = getBe32(k.buf, k.off);
      body = `nd_reserved=0x${res.toString(16)}`;
      const ot = new Fields();
      fU8u(ot, "nd_options_type", k.buf[k.off + 4]!, u8At(m, 4), verbose);
      body += "," + ot.toString();
      body = body.replace(/,$/, "");
      break;
    }
    default: {
      body = formatGenericBytes(k);
      if (!exact) body += "/" + formatGenericBytes(m!);
    }
  }
  return `${name}(${body})`;
}

/** Formats the key attributes in `kbuf[koff, koff+klen)` with the mask in `mbuf[moff, moff+mlen)`. odp_flow_format. */
export function formatOdpFlowRange(
  kbuf: Uint8Array, koff: number, klen: number,
  mbuf: Uint8Array | null, moff: number, mlen: number,
  ports: PortNames | null, verbose: boolean,
): string {
  if (klen === 0) return "<empty>";
  const hasMask = mbuf !== null && mlen > 0;
  let s = "";
  let first = true;
  let hasEthType = false;
  let printedPacketType = false;
  let a = koff;
  const end = koff + klen;
  while (nlaOk(kbuf, a, end)) {
    const type = nlaType(kbuf, a);
    const ma = hasMask ? nlFind(mbuf, moff, moff + mlen, type) : -1;
    const expect = type < KEY_ATTR_LENS.length ? KEY_ATTR_LENS[type]! : -1;
    const kl = nlaLen(kbuf, a) - NLA_HDRLEN;
    if (expect >= 0 && (kl !== expect || (ma >= 0 && nlaLen(mbuf!, ma) - NLA_HDRLEN !== expect))) {
      // check_attr_len prints the bad attribute's bytes with no name and no separator, as OVS does.
      s += formatKeyAttr(kbuf, a, hasMask ? mbuf : null, ma, ports, verbose);
      a = nlaNext(kbuf, a);
      continue;
    }
    if (type === OVS_KEY_ATTR_ETHERTYPE) hasEthType = true;
    const nested = expect === ATTR_LEN_NESTED;
    let wildcard = false;
    if (hasMask) wildcard = ma >= 0 ? maskIsWildcard(type, payload(mbuf, ma)) : true;
    if (verbose || !wildcard || nested) {
      let mb: Uint8Array | null = hasMask ? mbuf : null;
      let mo = ma;
      if (hasMask && wildcard && ma < 0) {
        // An all-wildcard mask of the key's shape.
        mb = new Uint8Array(nlaLen(kbuf, a) + 4);
        mb.set(kbuf.subarray(a, a + NLA_HDRLEN));
        if (!nested) mb.fill(0, NLA_HDRLEN);
        else mb = wildcardNested(kbuf, a);
        mo = 0;
      }
      if (!first) s += ",";
      s += formatKeyAttr(kbuf, a, mb, mo, ports, verbose);
      if (type === OVS_KEY_ATTR_PACKET_TYPE) printedPacketType = true;
      first = false;
    } else if (type === OVS_KEY_ATTR_ETHERNET && !printedPacketType) {
      if (!first) s += ",";
      s += "eth()";
      first = false;
    }
    a = nlaNext(kbuf, a);
  }
  if (a < end) {
    const left = end - a;
    if (left === klen) s += "<empty>";
    s += `,***${left} leftover bytes*** (`;
    for (let i = 0; i < left; i++) s += hex2(kbuf[a + i]!);
    s += ")";
  }
  if (!hasEthType && hasMask) {
    const ma = nlFind(mbuf, moff, moff + mlen, OVS_KEY_ATTR_ETHERTYPE);
    if (ma >= 0) s += `,eth_type(0/0x${getBe16(mbuf, ma + NLA_HDRLEN).toString(16).padStart(4, "0")})`;
  }
  return s;
}

/** A mask for the nested attribute at `a`: same structure, all payloads zero. */
function wildcardNested(kbuf: Uint8Array, a: number): Uint8Array {
  const len = nlaLen(kbuf, a);
  const out = kbuf.slice(a, a + len);
  let o = NLA_HDRLEN;
  while (nlaOk(out, o, len)) {
    out.fill(0, o + NLA_HDRLEN, o + nlaLen(out, o));
    o = nlaNext(out, o);
  }
  return out;
}

/** Formats a whole key (and mask) as dump-flows prints it. */
export function formatOdpFlow(key: Uint8Array, mask: Uint8Array | null, ports: PortNames | null = null, verbose = false): string {
  return formatOdpFlowRange(key, 0, key.length, mask, 0, mask === null ? 0 : mask.length, ports, verbose);
}

/* ---------------- actions ---------------- */

function formatGenericAction(buf: Uint8Array, a: number): string {
  const len = nlaLen(buf, a) - NLA_HDRLEN;
  let s = `action${nlaType(buf, a)}`;
  for (let i = 0; i < len; i++) s += (i ? " " : "(") + hex2(buf[a + NLA_HDRLEN + i]!);
  return len ? s + ")" : s;
}

function portName(port: number, ports: PortNames | null): string {
  return ports?.get(port) ?? String(port >>> 0);
}

/** Size of ofproto-dpif's `struct user_action_cookie` (type, in_port, ofproto uuid, then a union at 24). */
export const USER_ACTION_COOKIE_LEN = 48;

/** Slow-path reason names (SLOW_PATH_REASONS), bit 0 first. */
function slowPathName(bit: number): string | null {
  switch (bit) {
    case 1: return "cfm";
    case 2: return "bfd";
    case 4: return "lacp";
    case 8: return "stp";
    case 16: return "lldp";
    case 32: return "action";
    case 64: return "match";
    default: return null;
  }
}

/** The typed forms of a userspace cookie (sFlow, slow_path, ...), or null for opaque userdata. */
function formatCookie(buf: Uint8Array, o: number, ports: PortNames | null): string | null {
  const type = getU16(buf, o);
  const u = o + 24;
  switch (type) {
    case 1: {
      const tci = getBe16(buf, u);
      return `,sFlow(vid=${tci & 0xfff},pcp=${(tci >> 13) & 7},output=${getU32(buf, u + 4)})`;
    }
    case 2:
      return `,slow_path(${formatFlags(getU32(buf, u), slowPathName, ",")})`;
    case 3: {
      const dir = getU32(buf, u + 20);
      return `,flow_sample(probability=${getU16(buf, u)},collector_set_id=${getU32(buf, u + 4)},` +
        `obs_domain_id=${getU32(buf, u + 8)},obs_point_id=${getU32(buf, u + 12)},` +
        `output_port=${portName(getU32(buf, u + 16), ports)}${dir === 1 ? ",ingress" : dir === 2 ? ",egress" : ""})`;
    }
    case 4:
      return `,ipfix(output_port=${portName(getU32(buf, u), ports)})`;
    case 5: {
      const ck = getBe64(buf, u + 8);
      return `,controller(reason=${getU16(buf, u + 2)},dont_send=${buf[u] ? 1 : 0},continuation=${buf[u + 1] ? 1 : 0},` +
        `recirc_id=${getU32(buf, u + 4)},rule_cookie=${hexAlt(ck)},controller_id=${getU16(buf, u + 16)},max_len=${getU16(buf, u + 18)})`;
    }
    default:
      return null;
  }
}

function formatUserspace(buf: Uint8Array, a: number, ports: PortNames | null): string {
  const p = payload(buf, a);
  const pidA = nlFind(buf, p.off, p.off + p.len, OVS_USERSPACE_ATTR_PID);
  if (pidA < 0) return "userspace(error)";
  let s = `userspace(pid=${getU32(buf, pidA + NLA_HDRLEN)}`;
  const ud = nlFind(buf, p.off, p.off + p.len, OVS_USERSPACE_ATTR_USERDATA);
  if (ud >= 0) {
    const len = nlaLen(buf, ud) - NLA_HDRLEN;
    const cookie = len === USER_ACTION_COOKIE_LEN ? formatCookie(buf, ud + NLA_HDRLEN, ports) : null;
    if (cookie !== null) s += cookie;
    else {
      s += ",userdata(";
      for (let i = 0; i < len; i++) s += hex2(buf[ud + NLA_HDRLEN + i]!);
      s += ")";
    }
  }
  if (nlFind(buf, p.off, p.off + p.len, OVS_USERSPACE_ATTR_ACTIONS) >= 0) s += ",actions";
  const tp = nlFind(buf, p.off, p.off + p.len, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT);
  if (tp >= 0) s += ",tunnel_out_port=" + portName(getU32(buf, tp + NLA_HDRLEN), ports);
  return s + ")";
}

function formatCt(buf: Uint8Array, a: number): string {
  const p = payload(buf, a);
  const parts: string[] = [];
  let o = p.off;
  const end = p.off + p.len;
  let commit = "", zone = "", mark = "", labels = "", helper = "", timeout = "", nat = "";
  while (nlaOk(buf, o, end)) {
    const t = nlaType(buf, o);
    const q = o + NLA_HDRLEN;
    const l = nlaLen(buf, o) - NLA_HDRLEN;
    if (t === OVS_CT_ATTR_COMMIT) commit = "commit";
    else if (t === OVS_CT_ATTR_FORCE_COMMIT) commit = "force_commit";
    else if (t === OVS_CT_ATTR_ZONE) zone = `zone=${getU16(buf, q)}`;
    else if (t === OVS_CT_ATTR_MARK) mark = `mark=${hexAlt(getU32(buf, q))}/${hexAlt(getU32(buf, q + 4))}`;
    else if (t === OVS_CT_ATTR_LABELS) {
      const k = formatU128({ buf, off: q, len: 16 }, { buf, off: q + 16, len: 16 }, true);
      labels = `label=${k}`;
    } else if (t === OVS_CT_ATTR_HELPER) helper = `helper=${new TextDecoder().decode(buf.subarray(q, q + l)).replace(/\0+$/, "")}`;
    else if (t === OVS_CT_ATTR_TIMEOUT) timeout = `timeout=${new TextDecoder().decode(buf.subarray(q, q + l)).replace(/\0+$/, "")}`;
    else if (t === OVS_CT_ATTR_NAT) nat = formatCtNat(buf, q, l);
    o = nlaNext(buf, o);
  }
  for (const x of [commit, zone, mark, labels, helper, timeout, nat]) if (x) parts.push(x);
  return parts.length ? `ct(${parts.join(",")})` : "ct";
}

/** OVS_NAT_ATTR_* (nested in OVS_CT_ATTR_NAT). */
export const OVS_NAT_ATTR_SRC = 1;
export const OVS_NAT_ATTR_DST = 2;
export const OVS_NAT_ATTR_IP_MIN = 3;
export const OVS_NAT_ATTR_IP_MAX = 4;
export const OVS_NAT_ATTR_PROTO_MIN = 5;
export const OVS_NAT_ATTR_PROTO_MAX = 6;
export const OVS_NAT_ATTR_PERSISTENT = 7;
export const OVS_NAT_ATTR_PROTO_HASH = 8;
export const OVS_NAT_ATTR_PROTO_RANDOM = 9;

/** format_odp_ct_nat: "nat", "nat(src)", "nat(dst=10.0.0.1-10.0.0.9:80-90,persistent,random)". */
function formatCtNat(buf: Uint8Array, off: number, len: number): string {
  const find = (t: number): number => nlFind(buf, off, off + len, t);
  const src = find(OVS_NAT_ATTR_SRC) >= 0, dst = find(OVS_NAT_ATTR_DST) >= 0;
  if (!src && !dst) return "nat";
  if (src && dst) return "nat(error: Only one of \"src\" or \"dst\" may be present.)";
  let s = `nat(${src ? "src" : "dst"}`;
  const min = find(OVS_NAT_ATTR_IP_MIN), max = find(OVS_NAT_ATTR_IP_MAX);
  if (min >= 0) {
    const alen = nlaLen(buf, min) - NLA_HDRLEN;
    s += "=";
    if (alen === 4) {
      const a = getBe32(buf, min + NLA_HDRLEN);
      s += formatIpv4(a);
      if (max >= 0) {
        const b = getBe32(buf, max + NLA_HDRLEN);
        if (b && b !== a) s += "-" + formatIpv4(b);
      }
    } else if (alen === 16) {
      // OVS brackets IPv6 addresses only when a port range follows.
      const pmin0 = find(OVS_NAT_ATTR_PROTO_MIN);
      const br = pmin0 >= 0 && getU16(buf, pmin0 + NLA_HDRLEN) !== 0;
      const a = formatIpv6(buf, min + NLA_HDRLEN);
      s += br ? `[${a}]` : a;
      if (max >= 0) {
        const b = formatIpv6(buf, max + NLA_HDRLEN);
        if (b !== "::" && b !== a) s += "-" + (br ? `[${b}]` : b);
      }
    }
    const pmin = find(OVS_NAT_ATTR_PROTO_MIN), pmax = find(OVS_NAT_ATTR_PROTO_MAX);
    if (pmin >= 0) {
      const a = getU16(buf, pmin + NLA_HDRLEN);
      if (a) {
        s += `:${a}`;
        if (pmax >= 0) {
          const b = getU16(buf, pmax + NLA_HDRLEN);
          if (b && b !== a) s += `-${b}`;
        }
      }
    }
  }
  if (find(OVS_NAT_ATTR_PERSISTENT) >= 0) s += ",persistent";
  if (find(OVS_NAT_ATTR_PROTO_HASH) >= 0) s += ",hash";
  if (find(OVS_NAT_ATTR_PROTO_RANDOM) >= 0) s += ",random";
  return s + ")";
}

/** format_odp_action: one action attribute at `a`. */
export function formatOdpAction(buf: Uint8Array, a: number, ports: PortNames | null): string {
  const type = nlaType(buf, a);
  const len = nlaLen(buf, a) - NLA_HDRLEN;
  const expect = odpActionLen(type);
  if (expect !== ATTR_LEN_VARIABLE && len !== expect) {
    return `bad length ${len}, expected ${expect} for: ${formatGenericAction(buf, a)}`;
  }
  const q = a + NLA_HDRLEN;
  switch (type) {
    case OVS_ACTION_ATTR_METER: return `meter(${getU32(buf, q)})`;
    case OVS_ACTION_ATTR_OUTPUT: return portName(getU32(buf, q), ports);
    case OVS_ACTION_ATTR_LB_OUTPUT: return `lb_output(${getU32(buf, q)})`;
    case OVS_ACTION_ATTR_TRUNC: return `trunc(${getU32(buf, q)})`;
    case OVS_ACTION_ATTR_TUNNEL_POP: return `tnl_pop(${portName(getU32(buf, q), ports)})`;
    case OVS_ACTION_ATTR_TUNNEL_PUSH: return formatTnlPush(buf, q, len, (port) => portName(port, ports));
    case OVS_ACTION_ATTR_USERSPACE: return formatUserspace(buf, a, ports);
    case OVS_ACTION_ATTR_RECIRC: return `recirc(${hexAlt(getU32(buf, q))})`;
    case OVS_ACTION_ATTR_HASH: {
      const alg = getU32(buf, q), basis = getU32(buf, q + 4);
      if (alg === OVS_HASH_ALG_L4) return `hash(l4(${basis}))`;
      if (alg === OVS_HASH_ALG_SYM_L4) return `hash(sym_l4(${basis}))`;
      return `hash(Unknown hash algorithm(${alg}))`;
    }
    case OVS_ACTION_ATTR_SET_MASKED: {
      const inner = q;
      const size = (nlaLen(buf, inner) - NLA_HDRLEN) >> 1;
      const t = nlaType(buf, inner);
      if (size <= 40) {
        const k = new Uint8Array(NLA_HDRLEN + size);
        const m = new Uint8Array(NLA_HDRLEN + size);
        k[0] = m[0] = (NLA_HDRLEN + size) & 0xff;
        k[1] = m[1] = (NLA_HDRLEN + size) >> 8;
        k[2] = m[2] = t & 0xff;
        k[3] = m[3] = t >> 8;
        k.set(buf.subarray(inner + NLA_HDRLEN, inner + NLA_HDRLEN + size), NLA_HDRLEN);
        m.set(buf.subarray(inner + NLA_HDRLEN + size, inner + NLA_HDRLEN + 2 * size), NLA_HDRLEN);
        return `set(${formatKeyAttr(k, 0, m, 0, null, false)})`;
      }
      return `set(${formatKeyAttr(buf, inner, null, -1, null, false)})`;
    }
    case OVS_ACTION_ATTR_SET:
      return `set(${formatKeyAttr(buf, q, null, -1, null, true)})`;
    case OVS_ACTION_ATTR_PUSH_ETH:
      return `push_eth(src=${formatMac(buf, q)},dst=${formatMac(buf, q + 6)})`;
    case OVS_ACTION_ATTR_POP_ETH: return "pop_eth";
    case OVS_ACTION_ATTR_PUSH_VLAN: {
      const tpid = getBe16(buf, q), tci = getBe16(buf, q + 2);
      let s = "push_vlan(";
      if (tpid !== 0x8100) s += `tpid=0x${tpid.toString(16).padStart(4, "0")},`;
      return s + formatVlanTci(tci, 0xffff, false) + ")";
    }
    case OVS_ACTION_ATTR_POP_VLAN: return "pop_vlan";
    case OVS_ACTION_ATTR_PUSH_MPLS:
      return `push_mpls(${formatMplsLse(getBe32(buf, q))},eth_type=0x${getBe16(buf, q + 4).toString(16)})`;
    case OVS_ACTION_ATTR_POP_MPLS:
      return `pop_mpls(eth_type=0x${getBe16(buf, q).toString(16)})`;
    case OVS_ACTION_ATTR_SAMPLE: {
      const prob = nlFind(buf, q, q + len, OVS_SAMPLE_ATTR_PROBABILITY);
      const acts = nlFind(buf, q, q + len, OVS_SAMPLE_ATTR_ACTIONS);
      if (prob < 0 || acts < 0) return "sample(error)";
      const pct = (100 * getU32(buf, prob + NLA_HDRLEN)) / 0xffffffff;
      return `sample(sample=${pct.toFixed(1)}%,actions(${formatOdpActionsRange(buf, acts + NLA_HDRLEN, nlaLen(buf, acts) - NLA_HDRLEN, ports)}))`;
    }
    case OVS_ACTION_ATTR_CT: return formatCt(buf, a);
    case OVS_ACTION_ATTR_CT_CLEAR: return "ct_clear";
    case OVS_ACTION_ATTR_CLONE:
      return `clone(${formatOdpActionsRange(buf, q, len, ports)})`;
    case OVS_ACTION_ATTR_POP_NSH: return "pop_nsh()";
    case OVS_ACTION_ATTR_CHECK_PKT_LEN: {
      const pl = nlFind(buf, q, q + len, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN);
      const gt = nlFind(buf, q, q + len, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
      const le = nlFind(buf, q, q + len, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
      if (pl < 0 || gt < 0 || le < 0) return "check_pkt_len(error)";
      return `check_pkt_len(size=${getU16(buf, pl + NLA_HDRLEN)},gt(` +
        formatOdpActionsRange(buf, gt + NLA_HDRLEN, nlaLen(buf, gt) - NLA_HDRLEN, ports) + "),le(" +
        formatOdpActionsRange(buf, le + NLA_HDRLEN, nlaLen(buf, le) - NLA_HDRLEN, ports) + "))";
    }
    case OVS_ACTION_ATTR_DROP: return "drop";
    default: return formatGenericAction(buf, a);
  }
}

/** format_odp_actions over `buf[off, off+len)`; an empty list is "drop". */
export function formatOdpActionsRange(buf: Uint8Array, off: number, len: number, ports: PortNames | null): string {
  if (len === 0) return "drop";
  let s = "";
  let a = off;
  const end = off + len;
  while (nlaOk(buf, a, end)) {
    if (a !== off) s += ",";
    s += formatOdpAction(buf, a, ports);
    a = nlaNext(buf, a);
  }
  if (a < end) {
    const left = end - a;
    if (left === len) s += "<empty>";
    s += `,***${left} leftover bytes*** (`;
    for (let i = 0; i < left; i++) s += hex2(buf[a + i]!);
    s += ")";
  }
  return s;
}

/** Formats a whole action list as dump-flows prints it. */
export function formatOdpActions(actions: Uint8Array, ports: PortNames | null = null): string {
  return formatOdpActionsRange(actions, 0, actions.length, ports);
}

/* ---------------- flow stats and whole dump lines ---------------- */

export interface DpFlowStats {
  nPackets: number;
  nBytes: number;
  /** Time of last use in ms (same clock as `now`), 0 = never. */
  used: number;
  /** OR of TCP flags seen. */
  tcpFlags: number;
}

/** dpif_flow_stats_format: "packets:N, bytes:N, used:X[, flags:F]". */
export function formatDpFlowStats(st: DpFlowStats, now: number): string {
  let s = `packets:${st.nPackets}, bytes:${st.nBytes}, used:`;
  s += st.used ? `${((now - st.used) / 1000).toFixed(3)}s` : "never";
  if (st.tcpFlags) s += ", flags:" + formatTcpFlagsLetters(st.tcpFlags);
  return s;
}

/** "ufid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" from 16 bytes (as a UUID). */
export function formatUfid(ufid: Uint8Array): string {
  // OVS stores the ufid as a u128 in host order and prints it with UUID_FMT
  // from its 32-bit parts: word 0 first, as 8 hex digits, etc.
  return formatUfidWords(getU32(ufid, 0), getU32(ufid, 4), getU32(ufid, 8), getU32(ufid, 12));
}

/** `formatUfid` of a ufid held as its four 32-bit words (as the datapath keeps it). */
export function formatUfidWords(a: number, b: number, c: number, d: number): string {
  const h8 = (v: number): string => v.toString(16).padStart(8, "0");
  return `ufid:${h8(a)}-${(b >>> 16).toString(16).padStart(4, "0")}-${(b & 0xffff).toString(16).padStart(4, "0")}-` +
    `${(c >>> 16).toString(16).padStart(4, "0")}-${(c & 0xffff).toString(16).padStart(4, "0")}${h8(d)}`;
}

export interface DpFlowText {
  key: Uint8Array;
  mask: Uint8Array | null;
  actions: Uint8Array;
  stats: DpFlowStats;
  ufid?: Uint8Array;
  /** "ovs" for the userspace datapath; printed with -m. */
  dpLayer?: string;
  offloaded?: boolean;
}

/** format_dpif_flow: one line of dump-flows (without dp-extra-info). */
export function formatDpifFlow(f: DpFlowText, now: number, verbose: boolean, ports: PortNames | null): string {
  let s = "";
  if (verbose && f.ufid !== undefined) s += formatUfid(f.ufid) + ", ";
  s += formatOdpFlow(f.key, f.mask, ports, verbose) + ", " + formatDpFlowStats(f.stats, now);
  if (verbose && f.offloaded) s += ", offloaded:yes";
  if (verbose && f.dpLayer !== undefined) s += `, dp:${f.dpLayer}`;
  return s + ", actions:" + formatOdpActions(f.actions, ports);
}
