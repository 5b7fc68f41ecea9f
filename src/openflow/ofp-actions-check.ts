/**
 * Checks an action list against the flow it belongs to, as OVS's
 * ofpacts_check does before a flow is added or a packet-out runs: every
 * field an action reads or writes must have its prerequisites in the match
 * (or be made valid by earlier actions: push_vlan gives a VLAN, push_mpls
 * and pop_mpls change the Ethertype), output ports must exist, goto_table
 * must go forward. The first violation's OpenFlow error, or null.
 *
 * The walk keeps a copy of the match and updates it the way the actions
 * change the packet, so "push_vlan,set_field:5->vlan_vid" is accepted on a
 * flow without VLAN. The legacy set actions (mod_nw_src, strip_vlan ...)
 * are not judged against the match, as in OVS.
 */
import type { OfpErrorName } from "./ofp-errors.js";
import { OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX } from "./ofp-codec.js";
import { mfFromName } from "./meta-flow.js";
import { ETH_TYPE_IP, ETH_TYPE_IPV6, IPPROTO_TCP, IPPROTO_UDP, Match, mfArePrereqsOk, prereqOk, VLAN_CFI } from "./match.js";
import type { Subfield } from "./ofp-actions-subfield.js";
import type { OfpAction } from "./ofp-actions.js";
import { isValidOutputPort } from "./ofp-actions-table.js";

export interface CheckContext {
  /** The flow's match (it is not modified). */
  readonly match: Match;
  /** Ports numbered at or above this are invalid output ports (OFPP_MAX when unknown). */
  readonly maxPorts?: number;
  /** The table the flow goes in; goto_table must name a later one. */
  readonly tableId?: number;
}

function hasVlan(m: Match): boolean {
  return (m.get("vlan_tci").value[0]! << 8 | m.get("vlan_tci").value[1]!) & VLAN_CFI ? true : false;
}

function fieldOk(name: string, m: Match): boolean {
  const f = mfFromName(name);
  return f !== null && mfArePrereqsOk(f, m);
}

function sfOk(sf: Subfield, m: Match): boolean {
  return fieldOk(sf.field, m);
}

/** True when mod_vlan_vid on this flow need not push a VLAN header (encode option). */
export function flowHasVlan(m: Match): boolean {
  return hasVlan(m);
}

/** OVS's ofpacts_check: the first problem with `list` on this flow, or null. */
export function checkActionsAgainstFlow(list: readonly OfpAction[], ctx: CheckContext): OfpErrorName | null {
  return walk(list, ctx.match.clone(), ctx);
}

function walk(list: readonly OfpAction[], m: Match, ctx: CheckContext): OfpErrorName | null {
  const maxPorts = ctx.maxPorts ?? OFPP_MAX;
  const bad = "OFPBAC_MATCH_INCONSISTENT" as const;
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
      case "bundle_load":
      case "multipath":
      case "check_pkt_larger":
        if (!sfOk(a.dst, m)) return bad;
        break;
      // The pre-OpenFlow-1.2 set actions are not checked against the match: OVS
      // only narrows the usable protocols to OpenFlow 1.0 for them.
      case "set_vlan_vid":
      case "set_vlan_pcp":
      case "push_vlan":
        m.setNum("vlan_tci", VLAN_CFI, VLAN_CFI);
        break;
      case "strip_vlan":
        m.clear("vlan_tci");
        break;
      case "set_field":
        if (!fieldOk(a.field, m)) return bad;
        if ((a.field === "vlan_vid" || a.field === "vlan_pcp") && !hasVlan(m)) return bad;
        if (a.field === "vlan_tci" || a.field === "vlan_vid") {
          // Setting the whole TCI (or the VID with OFPVID_PRESENT) decides whether there is a VLAN.
          const present = a.field === "vlan_tci" ? (a.value[0]! & 0x10) !== 0 : (a.value[0]! & 0x10) !== 0;
          if (present) m.setNum("vlan_tci", VLAN_CFI, VLAN_CFI);
        }
        break;
      case "reg_move":
        if (!sfOk(a.src, m) || !sfOk(a.dst, m)) return bad;
        break;
      case "stack_push":
      case "stack_pop":
        if (!sfOk(a.sf, m)) return bad;
        break;
      case "push_mpls":
        m.setNum("eth_type", a.ethertype);
        break;
      case "pop_mpls":
        if (!prereqOk("mpls", m)) return bad;
        m.setNum("eth_type", a.ethertype);
        break;
      case "ct": {
        const dl = m.dlType;
        if (dl !== ETH_TYPE_IP && dl !== ETH_TYPE_IPV6) return bad;
        if (a.alg === 21 && m.nwProto !== IPPROTO_TCP) return bad;
        if (a.alg === 69 && m.nwProto !== IPPROTO_UDP) return bad;
        if (a.zoneSrc && !sfOk(a.zoneSrc, m)) return bad;
        for (const x of a.actions) {
          if (x.type === "nat" && x.addrMin && (x.addrMin.length === 4) !== (dl === ETH_TYPE_IP)) return bad;
        }
        const e = walk(a.actions.filter((x) => x.type !== "nat"), m, ctx);
        if (e) return e;
        break;
      }
      case "clone":
      case "write_actions": {
        const e = walk(a.actions, m.clone(), ctx);
        if (e) return e;
        break;
      }
      case "goto_table":
        if (ctx.tableId !== undefined && a.tableId <= ctx.tableId) return "OFPBIC_BAD_TABLE_ID";
        break;
      case "learn":
        if (a.specs.some((s) => s.dstType !== "match" && s.src !== null && !sfOk(s.src, m))) return bad;
        break;
      default:
        break;
    }
  }
  return null;
}
