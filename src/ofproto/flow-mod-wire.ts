/**
 * Between ofproto's plain data and the OpenFlow message bodies of
 * src/openflow: a decoded flow_mod body (numeric command, OFPUTIL_FF_*
 * flag bits, COOKIE_NONE) becomes an `OfproFlowMod`, and rules become the
 * flow stats / flow removed values the encoders take (seconds +
 * nanoseconds, 64-bit counters, flag bits).
 *
 * The flow_mod input is the codec's `FlowModBody` with the action list
 * left generic; the outputs are structural values the encoders take.
 */
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { Match } from "../openflow/match.js";
import { flagsOfIndex, OFPG_ANY, OFPP_ANY, type FlowModCommand, type FlowModFlags, type OfproFlowMod, type RemovedReason } from "./flow-mod.js";
import type { MatchScratch, OfRule } from "./rule.js";

import {
  COOKIE_NONE as WIRE_COOKIE_NONE,
  FF_CHECK_OVERLAP,
  FF_NO_BYT_COUNTS,
  FF_NO_PKT_COUNTS,
  FF_RESET_COUNTS,
  FF_SEND_FLOW_REM,
  type FlowModBody,
  type FlowStats,
} from "../openflow/ofp-flow.js";

/** OVS's OFPUTIL_FF_* bits and "no new cookie" (UINT64_MAX), as the codec defines them. */
export { FF_CHECK_OVERLAP, FF_NO_BYT_COUNTS, FF_NO_PKT_COUNTS, FF_RESET_COUNTS, FF_SEND_FLOW_REM, WIRE_COOKIE_NONE };

const COMMANDS: readonly FlowModCommand[] = ["add", "modify", "modify_strict", "delete", "delete_strict"];

/** What ofproto reads from a decoded flow_mod body: the codec's, with ofproto's own action type. */
export type WireFlowMod<A> = Omit<FlowModBody, "actions" | "tid"> & { actions: A };

/** The flags of OFPUTIL_FF_* `bits`: one of the shared frozen objects (rules keep them, nothing changes them). */
export function flagsFromBits(bits: number): Readonly<FlowModFlags> {
  const b =
    (bits & FF_SEND_FLOW_REM ? 1 : 0) | (bits & FF_CHECK_OVERLAP ? 2 : 0) | (bits & FF_RESET_COUNTS ? 4 : 0) |
    (bits & FF_NO_PKT_COUNTS ? 8 : 0) | (bits & FF_NO_BYT_COUNTS ? 16 : 0);
  return flagsOfIndex(b);
}

export function flagsToBits(f: Readonly<FlowModFlags>): number {
  return (
    (f.sendFlowRem ? FF_SEND_FLOW_REM : 0) |
    (f.checkOverlap ? FF_CHECK_OVERLAP : 0) |
    (f.resetCounts ? FF_RESET_COUNTS : 0) |
    (f.noPacketCounts ? FF_NO_PKT_COUNTS : 0) |
    (f.noByteCounts ? FF_NO_BYT_COUNTS : 0)
  );
}

/**
 * The flow_mod ofproto executes for a body decoded from a message of wire
 * `version` (1 = OpenFlow 1.0, NXM included). As OVS: only OpenFlow 1.0 /
 * NXM flow_mods change the cookie of the rules a modify selects (when they
 * carry one); port numbers 0xffffffff (OF1.1+ OFPP_ANY) mean "any port".
 */
export function flowModFromWire<A>(body: WireFlowMod<A>, version: number): OfproFlowMod<A> | OfpErrorName {
  const command = COMMANDS[body.command];
  if (command === undefined) return "OFPFMFC_BAD_COMMAND";
  const newCookie = body.newCookie === WIRE_COOKIE_NONE ? null : body.newCookie;
  return {
    command,
    tableId: body.tableId,
    match: body.match,
    priority: body.priority,
    cookie: body.cookie,
    cookieMask: body.cookieMask,
    newCookie,
    modifyCookie: version === 1 && newCookie !== null,
    idleTimeout: body.idleTimeout,
    hardTimeout: body.hardTimeout,
    flags: flagsFromBits(body.flags),
    importance: body.importance,
    outPort: body.outPort === 0xffffffff ? OFPP_ANY : body.outPort,
    outGroup: body.outGroup === 0xffffffff ? OFPG_ANY : body.outGroup,
    bufferId: body.bufferId,
    actions: body.actions,
  };
}

/** A duration in ms as OpenFlow's seconds + nanoseconds. */
function secNsec(ms: number): { sec: number; nsec: number } {
  const m = Math.max(0, Math.floor(ms));
  return { sec: Math.floor(m / 1000), nsec: (m % 1000) * 1_000_000 };
}

/** A rule as a flow stats entry: src/openflow's FlowStats with the rule's own action type. */
export type WireFlowStats<A> = Omit<FlowStats, "actions"> & { actions: A };

/**
 * A rule as a flow stats entry; with `scratch`, its match is written there
 * (valid until the next call).
 */
export function wireFlowStats<A>(r: OfRule<A>, now: number, scratch?: MatchScratch): WireFlowStats<A> {
  const out: WireFlowStats<A> = {
    tableId: 0, durationSec: 0, durationNsec: 0, priority: 0, idleTimeout: 0, hardTimeout: 0, flags: 0, importance: 0,
    idleAge: 0, hardAge: 0, cookie: 0n, packetCount: 0n, byteCount: 0n, match: scratch?.match ?? r.match, maskKey: null, actions: r.actions,
  };
  return wireFlowStatsInto(out, r, now, scratch ?? null);
}

/**
 * `wireFlowStats` written into `out`, for a dump that encodes each entry
 * before it reads the next rule: 100,000 flows then make no object each.
 */
export function wireFlowStatsInto<A>(out: WireFlowStats<A>, r: OfRule<A>, now: number, scratch: MatchScratch | null): WireFlowStats<A> {
  const ms = Math.max(0, Math.floor(now - r.created));
  out.tableId = r.tableId;
  out.durationSec = Math.floor(ms / 1000);
  out.durationNsec = (ms % 1000) * 1_000_000;
  out.priority = r.priority;
  out.idleTimeout = r.idleTimeout;
  out.hardTimeout = r.hardTimeout;
  out.flags = flagsToBits(r.flags);
  out.importance = r.importance;
  out.idleAge = Math.floor(Math.max(0, now - r.used) / 1000);
  out.hardAge = Math.floor(Math.max(0, now - r.modified) / 1000);
  out.cookie = r.cookie;
  out.packetCount = r.packetCount === 0 ? 0n : BigInt(r.packetCount);
  out.byteCount = r.byteCount === 0 ? 0n : BigInt(r.byteCount);
  if (scratch !== null) {
    const m = r.matchInto(scratch);
    out.match = m;
    // The subtable's mask, when the scratch match holds it: the encoder's key to its plans for that mask.
    out.maskKey = m === scratch.match ? scratch.mask : null;
  }
  out.actions = r.actions;
  return out;
}

/** OFPRR_* numbers of the removal reasons (OpenFlow 1.4+ numbering; OVS's enum ofp_flow_removed_reason). */
export const REMOVED_REASON_CODE: Readonly<Record<RemovedReason, number>> = {
  idle_timeout: 0,
  hard_timeout: 1,
  delete: 2,
  group_delete: 3,
  meter_delete: 4,
  eviction: 5,
};

/** A removed rule as a flow_removed message's content (OVS's ofputil_flow_removed). */
export function wireFlowRemoved<A>(r: OfRule<A>, reason: RemovedReason, now: number) {
  const d = secNsec(now - r.created);
  return {
    match: r.match,
    priority: r.priority,
    reason: REMOVED_REASON_CODE[reason],
    tableId: r.tableId,
    cookie: r.cookie,
    durationSec: d.sec,
    durationNsec: d.nsec,
    idleTimeout: r.idleTimeout,
    hardTimeout: r.hardTimeout,
    packetCount: BigInt(r.packetCount),
    byteCount: BigInt(r.byteCount),
  };
}
