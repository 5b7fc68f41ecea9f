/**
 * Flow monitors (Nicira NXST_FLOW_MONITOR, ONF's OpenFlow 1.3 form and
 * OpenFlow 1.4's OFPMP_FLOW_MONITOR): a controller asks to hear about
 * changes to the flows that match a pattern, and the switch reports every
 * add, delete and modify of such a flow — as OVS's connmgr does it.
 *
 * - A monitor matches a rule when the rule's table is the monitor's table
 *   (or the monitor says all tables), the rule is at least as specific as
 *   the monitor's match (a loose match), and, when the monitor names an
 *   output port or group, the rule's actions (or, for a modify, its old
 *   actions) send there.
 * - A change made by the monitoring connection itself is reported in full
 *   only to monitors with the "own" flag; otherwise the connection gets one
 *   abbreviated update per batch, carrying the xid of the request that
 *   made the change.
 * - Actions are included only for monitors with the "actions" flag.
 *
 * Flags here are Nicira's (NXFMF_*); the OpenFlow 1.4 flags map onto them
 * (INSTRUCTIONS = actions, NO_ABBREV = own). Updates come out in the
 * Nicira form (events 0 added, 1 deleted, 2 modified, 3 abbreviated); the
 * connection converts them to the form of its OpenFlow version.
 *
 * Not here: pausing monitoring when a connection's send queue backs up
 * (OVS sends NXT_FLOW_MONITOR_PAUSED at 128 kB): tsovs queues the updates.
 */
import type { Match } from "../openflow/match.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import { NXFMF_ACTIONS, NXFMF_ADD, NXFMF_DELETE, NXFMF_MODIFY, NXFMF_OWN, type FlowUpdate } from "../openflow/ofp-flow.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { OFPG_ANY, OFPTT_ALL, type ActionFacts, type RemovedReason } from "./flow-mod.js";
import { REMOVED_REASON_CODE } from "./flow-mod-wire.js";
import type { OfRule } from "./rule.js";

/** OFPP_NONE: a monitor without an output-port filter. */
const ANY_PORT = 0xffff;

export interface FlowMonitorSpec {
  id: number;
  /** NXFMF_* bits. */
  flags: number;
  outPort: number;
  outGroup: number;
  tableId: number;
  match: Match;
}

export type FlowChangeEvent = "added" | "deleted" | "modified";

/** One change to one rule, as the tables made it. */
export interface FlowChange<A> {
  event: FlowChangeEvent;
  rule: OfRule<A>;
  /** Why a deleted rule went. */
  reason?: RemovedReason;
  /** A modified rule's actions before the change (an out_port filter also looks at them). */
  oldActions?: A;
}

/** Who made a batch of changes: the connection and the xid of its request (null for the switch itself). */
export interface ChangeOrigin<C> {
  conn: C;
  xid: number;
}

const EVENT_FLAG: Readonly<Record<FlowChangeEvent, number>> = { added: NXFMF_ADD, deleted: NXFMF_DELETE, modified: NXFMF_MODIFY };
const EVENT_CODE: Readonly<Record<FlowChangeEvent, 0 | 1 | 2>> = { added: 0, deleted: 1, modified: 2 };

/** True when `rule` is at least as specific as `m` and agrees with it wherever `m` looks. */
export function looseMatches(rule: Match, m: Match): boolean {
  const rk = rule.key;
  const rm = rule.mask;
  const mk = m.key;
  const mm = m.mask;
  for (let i = 0; i < mm.length; i++) {
    const w = mm[i]!;
    if (w === 0) continue;
    if ((w & ~rm[i]!) !== 0 || ((rk[i]! ^ mk[i]!) & w) !== 0) return false;
  }
  return true;
}

export class FlowMonitors<C, A> {
  private readonly byConn = new Map<C, Map<number, FlowMonitorSpec>>();

  constructor(private readonly facts: ActionFacts<A>) {}

  /** Registers a monitor; OFPMOFC_MONITOR_EXISTS when the connection already has one with this id. */
  add(conn: C, spec: FlowMonitorSpec): OfpErrorName | null {
    let mine = this.byConn.get(conn);
    if (mine === undefined) {
      mine = new Map();
      this.byConn.set(conn, mine);
    }
    if (mine.has(spec.id)) return "OFPMOFC_MONITOR_EXISTS";
    mine.set(spec.id, spec);
    return null;
  }

  /** Removes a monitor; OFPMOFC_UNKNOWN_MONITOR when there is none with this id. */
  cancel(conn: C, id: number): OfpErrorName | null {
    const mine = this.byConn.get(conn);
    if (mine === undefined || !mine.delete(id)) return "OFPMOFC_UNKNOWN_MONITOR";
    if (mine.size === 0) this.byConn.delete(conn);
    return null;
  }

  /** Forgets every monitor of a connection that went away. */
  dropConnection(conn: C): void {
    this.byConn.delete(conn);
  }

  /** Monitors of a connection (for tests and show commands). */
  monitorsOf(conn: C): FlowMonitorSpec[] {
    return [...(this.byConn.get(conn)?.values() ?? [])];
  }

  private watches(m: FlowMonitorSpec, rule: OfRule<A>, oldActions: A | undefined): boolean {
    if (m.tableId !== OFPTT_ALL && m.tableId !== rule.tableId) return false;
    if (m.outPort !== ANY_PORT && !this.facts.outputsTo(rule.actions, m.outPort) && !(oldActions !== undefined && this.facts.outputsTo(oldActions, m.outPort))) return false;
    if (m.outGroup !== OFPG_ANY && !this.facts.forwardsToGroup(rule.actions, m.outGroup) && !(oldActions !== undefined && this.facts.forwardsToGroup(oldActions, m.outGroup))) return false;
    return looseMatches(rule.match, m.match);
  }

  /**
   * The updates an initial request (monitors with the "initial" flag)
   * starts with: every existing rule it watches, as "added".
   */
  initialUpdates(specs: readonly FlowMonitorSpec[], rules: Iterable<OfRule<A>>): FlowUpdate[] {
    const out: FlowUpdate[] = [];
    for (const rule of rules) {
      let flags = 0;
      for (const m of specs) if (this.watches(m, rule, undefined)) flags |= m.flags;
      if (flags) out.push(fullUpdate(0, rule, 0, flags));
    }
    return out;
  }

  /**
   * What each monitoring connection is told about a batch of changes made
   * by one request (or by the switch: expiry, eviction), in order.
   */
  report(changes: readonly FlowChange<A>[], origin: ChangeOrigin<C> | null): Map<C, FlowUpdate[]> {
    const out = new Map<C, FlowUpdate[]>();
    for (const [conn, monitors] of this.byConn) {
      let updates: FlowUpdate[] | null = null;
      let sentAbbrev = false;
      for (const ch of changes) {
        const want = EVENT_FLAG[ch.event];
        let flags = 0;
        for (const m of monitors.values()) if (m.flags & want && this.watches(m, ch.rule, ch.oldActions)) flags |= m.flags;
        if (!flags) continue;
        updates ??= [];
        if (flags & NXFMF_OWN || origin === null || origin.conn !== conn) {
          const reason = ch.event === "deleted" && ch.reason !== undefined ? REMOVED_REASON_CODE[ch.reason] : 0;
          updates.push(fullUpdate(EVENT_CODE[ch.event], ch.rule, reason, flags));
        } else if (!sentAbbrev) {
          updates.push({ event: 3, xid: origin.xid });
          sentAbbrev = true;
        }
      }
      if (updates !== null) out.set(conn, updates);
    }
    return out;
  }
}

function fullUpdate<A>(event: 0 | 1 | 2, rule: OfRule<A>, reason: number, flags: number): FlowUpdate {
  return {
    event,
    reason,
    priority: rule.priority,
    idleTimeout: rule.idleTimeout,
    hardTimeout: rule.hardTimeout,
    tableId: rule.tableId,
    cookie: rule.cookie,
    match: rule.match,
    // ofproto's rules hold the codec's decoded actions (other A only in tests).
    actions: flags & NXFMF_ACTIONS ? (rule.actions as unknown as OfpAction[]) : [],
  };
}
