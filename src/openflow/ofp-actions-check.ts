/**
 * Checks an action list against the flow it belongs to, as OVS's
 * ofpacts_check does before a flow is added, a flow_mod is decoded or a
 * packet-out runs. The one implementation of that check in tsovs.
 *
 * Two kinds of findings, as in OVS:
 * - hard errors (the first one wins): a field an action reads or writes
 *   (set_field, move, push/pop, output:REG, multipath ...) lacks its
 *   prerequisites in the match, ct on non-IP, nat of the wrong family, a
 *   bad output port, goto_table going backwards, meter 0 ...;
 * - "inconsistencies" that only OpenFlow 1.0 tolerates: the legacy set
 *   actions (mod_nw_src on a flow that is not IPv4, strip_vlan without a
 *   VLAN, pop_mpls without MPLS, fin_timeout without TCP ...). They narrow
 *   the usable protocols to OpenFlow 1.0 (with or without NXM), and are an
 *   error where the protocol in use is not one of those.
 *
 * The walk keeps a copy of the match and updates it the way the actions
 * change the packet (push_vlan gives a VLAN, push_mpls/pop_mpls change the
 * Ethertype, encap/decap the packet type), so "push_vlan,set_field:5->vlan_vid"
 * is accepted on a flow without VLAN. Nested lists (clone, ct, write_actions)
 * are walked on their own copy, as OVS restores the packet afterwards.
 *
 * As OVS annotates actions while checking, the walk records whether a VLAN
 * header was present at each set_vlan_vid / set_vlan_pcp / set_field (see
 * `noteFlowHasVlan`): OpenFlow 1.1 encodings push a VLAN header only when
 * there was none.
 */
import type { OfpErrorName } from "./ofp-errors.js";
import { OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX } from "./ofp-codec.js";
import { mfFromName } from "./meta-flow.js";
import { W_VLAN0 } from "../flow/key-layout.js";
import {
  CS_INVALID,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_NSH,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Match,
  mfArePrereqsOk,
  prereqOk,
  VLAN_CFI,
} from "./match.js";
import { fieldBits, type Subfield } from "./ofp-actions-subfield.js";
import type { LearnSpec, OfpAction } from "./ofp-actions.js";
import { isValidOutputPort, noteFlowHasVlan, noteFlowIpProto } from "./ofp-actions-table.js";

export interface CheckContext {
  /** The flow's match (it is not modified). */
  readonly match: Match;
  /** Ports numbered at or above this are invalid output ports (OFPP_MAX when unknown). */
  readonly maxPorts?: number;
  /** The table the flow goes in (255: unknown); goto_table must name a later one. */
  readonly tableId?: number;
  /** Number of tables (255: unknown); goto_table must name an existing one. */
  readonly nTables?: number;
  /**
   * Whether the protocol in use is OpenFlow 1.0 (with or without NXM), the
   * only one that tolerates inconsistent legacy actions. Default true.
   */
  readonly of10?: boolean;
}

/** What OVS's ofpacts_check found. */
export interface CheckResult {
  /** The first hard error, or null. */
  error: OfpErrorName | null;
  /** Some action is inconsistent with the match: only OpenFlow 1.0 protocols can carry the flow. */
  of10Only: boolean;
}

/** The packet as the walk sees it: the match, and the VLAN header under the outer one. */
interface Packet {
  m: Match;
  /** TCI of the second VLAN header (OVS tracks two). */
  vlan1: number;
  /**
   * Whether `m` is this walk's own copy. The walk reads the flow's match
   * in place and copies it only when an action changes the packet (most
   * lists change nothing the check tracks; a copy per flow_mod was a
   * visible part of decoding one, bench ofcodec).
   */
  owned: boolean;
}

/** The packet's match, copied first if it is not the walk's own. */
function writable(p: Packet): Match {
  if (!p.owned) {
    p.m = p.m.clone();
    p.owned = true;
  }
  return p.m;
}

const PT_ETH = 0;
const PT_NSH = (1 << 16) | ETH_TYPE_NSH;
const PT_UNKNOWN = 0xffffffff;
const OFPM13_MAX = 0xffff0000;
const IPPORT_FTP = 21;
const IPPORT_TFTP = 69;

function tci(m: Match): number {
  return m.key[W_VLAN0]! & 0xffff;
}

function setTci(m: Match, t: number): void {
  m.setNum("vlan_tci", t, 0xffff);
}

function packetType(m: Match): number {
  const v = m.get("packet_type").value;
  return ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
}

function isIpAny(m: Match): boolean {
  return m.dlType === ETH_TYPE_IP || m.dlType === ETH_TYPE_IPV6;
}

function isMpls(m: Match): boolean {
  return m.dlType === ETH_TYPE_MPLS || m.dlType === ETH_TYPE_MPLS_MCAST;
}

/** OVS's mf_check_src / mf_check_dst, as far as the match matters: the field's prerequisites. */
function sfOk(sf: Subfield, m: Match): boolean {
  const f = mfFromName(sf.field);
  return f !== null && mfArePrereqsOk(f, m);
}

/**
 * OVS's mf_check_src / mf_check_dst for a decoded sub-field: its bit range
 * (OFPBAC_BAD_SET_LEN), then its prerequisites in `m`, then (destinations)
 * whether it may be written.
 */
function sfCheck(sf: Subfield, m: Match, dst: boolean): OfpErrorName | null {
  const f = mfFromName(sf.field);
  if (f === null) return "OFPBAC_BAD_SET_TYPE";
  const width = fieldBits(f);
  if (sf.nBits === 0 || sf.ofs >= width || sf.ofs + sf.nBits > width) return "OFPBAC_BAD_SET_LEN";
  if (!mfArePrereqsOk(f, m)) return "OFPBAC_MATCH_INCONSISTENT";
  if (dst && !f.writable) return "OFPBAC_BAD_SET_ARGUMENT";
  return null;
}

/**
 * OVS's learn_check: source fields need their prerequisites in the flow;
 * the fields of the flow to be learned need theirs in what the earlier
 * specs of that flow match (immediate values such as eth_type=0x800).
 */
function learnCheck(specs: readonly LearnSpec[], m: Match): OfpErrorName | null {
  const learned = new Match();
  for (const s of specs) {
    if (s.src !== null) {
      const e = sfCheck(s.src, m, false);
      if (e) return e;
    }
    if (s.dstType === "output" || s.dst === null) continue;
    const e = sfCheck(s.dst, learned, s.dstType === "load");
    if (e) return e;
    if (s.dstType === "match" && s.src === null && s.imm !== null) writeSubfield(learned, s.dst, s.imm);
  }
  return null;
}

/** Sets the bits of `sf` in a match to an immediate value (big-endian bytes). */
function writeSubfield(m: Match, sf: Subfield, imm: Uint8Array): void {
  const f = mfFromName(sf.field);
  if (f === null) return;
  const toBig = (b: Uint8Array): bigint => b.reduce((v, x) => (v << 8n) | BigInt(x), 0n);
  const toBytes = (v: bigint): Uint8Array => {
    const b = new Uint8Array(f.bytes);
    for (let i = f.bytes - 1; i >= 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
    return b;
  };
  const cur = m.get(f);
  const bits = ((1n << BigInt(sf.nBits)) - 1n) << BigInt(sf.ofs);
  const v = (toBig(imm) << BigInt(sf.ofs)) & bits;
  m.set(f, toBytes((toBig(cur.value) & ~bits) | v), toBytes(toBig(cur.mask) | bits));
}

/** OVS's ofpacts_check: the first hard error, and whether only OpenFlow 1.0 tolerates the list. */
export function checkActions(list: readonly OfpAction[], ctx: CheckContext): CheckResult {
  const r: CheckResult = { error: null, of10Only: false };
  r.error = walk(list, { m: ctx.match, vlan1: 0, owned: false }, ctx, r);
  return r;
}

/**
 * OVS's ofpacts_check_consistency: the error that refuses `list` on this
 * flow in the protocol of `ctx.of10` (OFPBAC_MATCH_INCONSISTENT for an
 * inconsistency outside OpenFlow 1.0), or null.
 */
export function checkActionsAgainstFlow(list: readonly OfpAction[], ctx: CheckContext): OfpErrorName | null {
  const r = checkActions(list, ctx);
  if (r.error) return r.error;
  return r.of10Only && ctx.of10 === false ? "OFPBAC_MATCH_INCONSISTENT" : null;
}

/** True when mod_vlan_vid on this flow need not push a VLAN header (encode option). */
export function flowHasVlan(m: Match): boolean {
  return (tci(m) & VLAN_CFI) !== 0;
}

/** Walks a nested list on its own copy of the packet (OVS restores it afterwards). */
function walkNested(list: readonly OfpAction[], p: Packet, ctx: CheckContext, r: CheckResult, keepUsable: boolean): OfpErrorName | null {
  const sub: CheckResult = { error: null, of10Only: false };
  const e = walk(list, { m: p.m, vlan1: p.vlan1, owned: false }, ctx, sub);
  if (keepUsable && sub.of10Only) r.of10Only = true;
  return e;
}

function walk(list: readonly OfpAction[], p: Packet, ctx: CheckContext, r: CheckResult): OfpErrorName | null {
  let m = p.m;
  const maxPorts = ctx.maxPorts ?? OFPP_MAX;
  const tableId = ctx.tableId ?? 255;
  const nTables = ctx.nTables ?? 255;
  const bad = "OFPBAC_MATCH_INCONSISTENT" as const;
  const inconsistent = (): void => {
    r.of10Only = true;
  };
  for (const a of list) {
    switch (a.type) {
      case "output":
      case "output_trunc":
        if (!(a.port < maxPorts || (a.port >= OFPP_MAX && isValidOutputPort(a.port)))) return "OFPBAC_BAD_OUT_PORT";
        break;
      case "enqueue":
        if (!(a.port < maxPorts || a.port === OFPP_IN_PORT || a.port === OFPP_LOCAL)) return "OFPBAC_BAD_OUT_PORT";
        break;
      case "output_reg":
        if (!sfOk(a.src, m)) return bad;
        break;
      case "bundle":
      case "bundle_load":
        for (const port of a.members) {
          if (!(port < maxPorts || (port >= OFPP_MAX && isValidOutputPort(port)))) return "OFPBAC_BAD_OUT_PORT";
        }
        if (a.type === "bundle_load" && !sfOk(a.dst, m)) return bad;
        break;
      case "multipath":
      case "check_pkt_larger":
        if (!sfOk(a.dst, m)) return bad;
        break;
      case "set_vlan_vid":
      case "set_vlan_pcp": {
        const has = (tci(m) & VLAN_CFI) !== 0;
        noteFlowHasVlan(a, has);
        if (!has && !a.push) inconsistent();
        setTci((m = writable(p)), tci(m) | VLAN_CFI);
        break;
      }
      case "strip_vlan":
        if (!(tci(m) & VLAN_CFI)) inconsistent();
        setTci((m = writable(p)), p.vlan1);
        p.vlan1 = 0;
        break;
      case "push_vlan":
        if (p.vlan1 & VLAN_CFI) return "OFPBAC_BAD_TAG";
        p.vlan1 = tci(m);
        setTci((m = writable(p)), VLAN_CFI);
        break;
      case "set_ipv4_src":
      case "set_ipv4_dst":
        if (m.dlType !== ETH_TYPE_IP) inconsistent();
        break;
      case "set_ip_dscp":
      case "set_ip_ecn":
      case "set_ip_ttl":
      case "dec_ttl":
        if (!isIpAny(m)) inconsistent();
        break;
      case "set_l4_src":
      case "set_l4_dst": {
        const later = (m.get("ip_frag").value[0]! & 2) !== 0;
        const proto = m.nwProto;
        if (!isIpAny(m) || later || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP && proto !== IPPROTO_SCTP)) inconsistent();
        noteFlowIpProto(a, proto);
        break;
      }
      case "set_mpls_label":
      case "set_mpls_tc":
      case "set_mpls_ttl":
      case "dec_mpls_ttl":
        if (!isMpls(m)) inconsistent();
        break;
      case "fin_timeout":
        if (m.nwProto !== IPPROTO_TCP) inconsistent();
        break;
      case "dec_nsh_ttl":
        if (packetType(m) !== PT_NSH && m.dlType !== ETH_TYPE_NSH) inconsistent();
        break;
      case "set_field": {
        const f = mfFromName(a.field);
        const has = (tci(m) & VLAN_CFI) !== 0;
        if (f === null || !mfArePrereqsOk(f, m) || (a.field === "vlan_vid" && !has)) return bad;
        // Only VLAN fields' old-style encodings depend on it; a WeakMap entry
        // for every set_field costs (bench ofcodec: 6% of flow_mod decoding).
        if (a.field.includes("vlan")) noteFlowHasVlan(a, has);
        // Setting the whole TCI decides whether there is a VLAN header.
        if (a.field === "vlan_tci") setTci((m = writable(p)), (a.value[0]! << 8) | a.value[1]!);
        break;
      }
      case "reg_move":
        if (!sfOk(a.src, m) || !sfOk(a.dst, m)) return bad;
        break;
      case "stack_push":
      case "stack_pop":
        if (!sfOk(a.sf, m)) return bad;
        break;
      case "push_mpls":
        if (packetType(m) !== PT_ETH) inconsistent();
        (m = writable(p)).setNum("eth_type", a.ethertype);
        break;
      case "pop_mpls":
        if (packetType(m) !== PT_ETH || !isMpls(m)) inconsistent();
        (m = writable(p)).setNum("eth_type", a.ethertype);
        break;
      case "encap": {
        (m = writable(p)).setNum("packet_type", a.packetType >>> 0);
        if (a.packetType >>> 16 === 1) (m = writable(p)).setNum("eth_type", a.packetType & 0xffff);
        if (!isIpAny(m)) (m = writable(p)).setNum("nw_proto", 0);
        break;
      }
      case "decap":
        if (packetType(m) === PT_ETH) {
          (m = writable(p)).setNum("packet_type", ((1 << 16) | m.dlType) >>> 0);
        } else {
          (m = writable(p)).setNum("packet_type", PT_UNKNOWN);
          (m = writable(p)).setNum("eth_type", 0xffff);
        }
        break;
      case "resubmit":
        if (a.ct && !prereqOk("ct", m)) return bad;
        break;
      case "ct": {
        const ctState = m.get("ct_state").value;
        const invalid = (ctState[ctState.length - 1]! & CS_INVALID) !== 0;
        if (!isIpAny(m) || (invalid && a.flags & 1) || (a.alg === IPPORT_FTP && m.nwProto !== IPPROTO_TCP) || (a.alg === IPPORT_TFTP && m.nwProto !== IPPROTO_UDP)) return bad;
        if (a.zoneSrc) {
          if (!sfOk(a.zoneSrc, m)) return bad;
          break;
        }
        const e = walkNested(a.actions, p, ctx, r, true);
        if (e) return e;
        break;
      }
      case "nat": {
        const dl = m.dlType;
        if (!isIpAny(m)) return bad;
        if (a.addrMin && (a.addrMin.length === 4 ? dl !== ETH_TYPE_IP : dl !== ETH_TYPE_IPV6)) return bad;
        break;
      }
      case "clone": {
        const e = walkNested(a.actions, p, ctx, r, true);
        if (e) return e;
        break;
      }
      case "write_actions": {
        // An action set's consistency cannot be judged: only its hard errors count.
        const e = walkNested(a.actions, p, ctx, r, false);
        if (e) return e;
        break;
      }
      case "meter":
        if (a.meterId === 0 || a.meterId > OFPM13_MAX) return "OFPMMFC_INVALID_METER";
        break;
      case "goto_table":
        if ((tableId !== 255 && a.tableId <= tableId) || (nTables !== 255 && a.tableId >= nTables)) return "OFPBIC_BAD_TABLE_ID";
        break;
      case "learn": {
        const e = learnCheck(a.specs, m);
        if (e) return e;
        break;
      }
      default:
        break;
    }
  }
  return null;
}
