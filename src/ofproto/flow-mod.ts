/**
 * A flow_mod as ofproto executes it: plain data, independent of the
 * OpenFlow version it arrived in (OVS's `ofputil_flow_mod`). The message
 * decoders (src/openflow) fill it in, including the version-dependent
 * parts: which cookie a modify installs (`newCookie`, `modifyCookie`) and
 * whether an OF1.0/1.1 add implies `resetCounts`.
 *
 * Actions are a type parameter: ofproto stores and returns them, and asks
 * an `ActionFacts` (given to `OfprotoTables`) the few things it needs.
 */
import type { Conjunction } from "../classifier/index.js";
import type { Match } from "../openflow/match.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";

export type FlowModCommand = "add" | "modify" | "modify_strict" | "delete" | "delete_strict";

/** `table_id` meaning every table (deletes, modifies and stats only; an add goes to table 0). */
export const OFPTT_ALL = 255;
/** Number of OpenFlow tables (0..254), as OVS. */
export const N_TABLES = 255;
/** OVS's internal table (TBL_INTERNAL): read-only and left out of "all tables" operations. */
export const TBL_INTERNAL = 254;
/** "Any port" for out_port filters (OFPP_ANY / OFPP_NONE, 16-bit port space). */
export const OFPP_ANY = 0xffff;
/** "Any group" for out_group filters. */
export const OFPG_ANY = 0xffffffff;
/** No buffered packet. */
export const NO_BUFFER = 0xffffffff;
/** The priority of a flow that gives none. */
export const OFP_DEFAULT_PRIORITY = 0x8000;
/** All 64 bits of a cookie. */
export const COOKIE_ALL = 0xffffffffffffffffn;

/** The flow_mod flags OVS keeps (OFPUTIL_FF_*), as booleans. */
export interface FlowModFlags {
  sendFlowRem: boolean;
  checkOverlap: boolean;
  resetCounts: boolean;
  noPacketCounts: boolean;
  noByteCounts: boolean;
  /** May change read-only tables (OVS-internal flow_mods only, OFPUTIL_FF_NO_READONLY). */
  noReadonly: boolean;
}

export const NO_FLAGS: Readonly<FlowModFlags> = Object.freeze({
  sendFlowRem: false,
  checkOverlap: false,
  resetCounts: false,
  noPacketCounts: false,
  noByteCounts: false,
  noReadonly: false,
});

/** The 64 combinations of flags, each one frozen object. */
const INTERNED_FLAGS: Readonly<FlowModFlags>[] = Array.from({ length: 64 }, (_, b) =>
  Object.freeze({
    sendFlowRem: (b & 1) !== 0,
    checkOverlap: (b & 2) !== 0,
    resetCounts: (b & 4) !== 0,
    noPacketCounts: (b & 8) !== 0,
    noByteCounts: (b & 16) !== 0,
    noReadonly: (b & 32) !== 0,
  }),
);

/**
 * The shared frozen object equal to `f`: every rule keeps its flags, and
 * a copy per rule was about 100 bytes of each one (bench openflow memory).
 */
export function internFlags(f: Readonly<FlowModFlags>): Readonly<FlowModFlags> {
  const b = (f.sendFlowRem ? 1 : 0) | (f.checkOverlap ? 2 : 0) | (f.resetCounts ? 4 : 0) | (f.noPacketCounts ? 8 : 0) | (f.noByteCounts ? 16 : 0) | (f.noReadonly ? 32 : 0);
  return INTERNED_FLAGS[b]!;
}

/** The shared flags object with bit 1 sendFlowRem, 2 checkOverlap, 4 resetCounts, 8 noPacketCounts, 16 noByteCounts, 32 noReadonly. */
export function flagsOfIndex(b: number): Readonly<FlowModFlags> {
  return INTERNED_FLAGS[b & 63]!;
}

/** Why a rule left its table (OFPRR_*). */
export type RemovedReason = "idle_timeout" | "hard_timeout" | "delete" | "group_delete" | "meter_delete" | "eviction";

export interface OfproFlowMod<A> {
  command: FlowModCommand;
  /** 0..254, or OFPTT_ALL. */
  tableId: number;
  match: Match;
  priority: number;
  /** Cookie to match (modify/delete/stats), under `cookieMask`. */
  cookie: bigint;
  cookieMask: bigint;
  /** Cookie a new rule gets, or that a modify installs when `modifyCookie`; null = none (OVS's UINT64_MAX). */
  newCookie: bigint | null;
  /** A modify changes the cookie of the rules it changes to `newCookie`. */
  modifyCookie: boolean;
  /** Seconds, 0 = none. */
  idleTimeout: number;
  hardTimeout: number;
  flags: FlowModFlags;
  importance: number;
  /** Deletes only: rules must output to this port (OFPP_ANY = no filter). */
  outPort: number;
  /** Deletes only: rules must forward to this group (OFPG_ANY = no filter). */
  outGroup: number;
  bufferId: number;
  actions: A;
  /** The reason deleted rules are reported with (a group or meter delete passes its own). */
  deleteReason?: RemovedReason;
}

/** A flow_mod with OVS's defaults; override what you need. */
export function flowMod<A>(command: FlowModCommand, match: Match, actions: A, over: Partial<OfproFlowMod<A>> = {}): OfproFlowMod<A> {
  return {
    command,
    tableId: command === "add" ? 0 : OFPTT_ALL,
    match,
    priority: OFP_DEFAULT_PRIORITY,
    cookie: 0n,
    cookieMask: 0n,
    newCookie: command === "add" ? 0n : null,
    modifyCookie: false,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: { ...NO_FLAGS },
    importance: 0,
    outPort: OFPP_ANY,
    outGroup: OFPG_ANY,
    bufferId: NO_BUFFER,
    actions,
    ...over,
  };
}

/**
 * What ofproto needs to know about an action list. `outputsTo` and
 * `forwardsToGroup` are OVS's ofpacts_output_to_port/_group (out_port and
 * out_group filters); `check` validates actions for a table (null = ok).
 */
export interface ActionFacts<A> {
  outputsTo(actions: A, port: number): boolean;
  forwardsToGroup(actions: A, group: number): boolean;
  check?(actions: A, tableId: number): OfpErrorName | null;
  /** The `conjunction(id, k/n)` actions of a soft rule (the classifier resolves them), null for none. */
  conjunctions?(actions: A): readonly Conjunction[] | null;
  /**
   * Every group the actions forward to, nested lists (clone, write_actions,
   * ...) included: a flow_mod naming a group that does not exist fails, a
   * group's ref_count counts these rules, and deleting the group deletes
   * them (OVS's OFPACT_FOR_EACH_TYPE_FLATTENED over GROUP).
   */
  groupsOf?(actions: A): readonly number[];
  /** The meter instruction's meter id, null for none (OVS's ofpacts_get_meter; `controller(meter_id=..)` does not count). */
  meterOf?(actions: A): number | null;
}

/** For tests and callers without an action model: no action outputs anywhere. */
export const OPAQUE_ACTIONS: ActionFacts<unknown> = {
  outputsTo: () => false,
  forwardsToGroup: () => false,
};

/** `ActionFacts.groupsOf` for OpenFlow action lists: every `group` action, nested lists (clone, write_actions, ...) included. */
export function groupsOfActions(list: readonly OfpAction[]): number[] {
  const out: number[] = [];
  const walk = (l: readonly OfpAction[]): void => {
    for (const a of l) {
      if (a.type === "group") out.push(a.groupId);
      const nested = (a as { actions?: unknown }).actions;
      if (Array.isArray(nested)) walk(nested as OfpAction[]);
    }
  };
  walk(list);
  return out;
}

/** `ActionFacts.meterOf` for OpenFlow action lists: the leading meter instruction's id (meter 0 is none). */
export function meterOfActions(list: readonly OfpAction[]): number | null {
  const a = list[0];
  return a !== undefined && a.type === "meter" && a.meterId !== 0 ? a.meterId : null;
}
