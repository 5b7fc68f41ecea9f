/**
 * One OpenFlow switch (a bridge, OVS's struct ofproto): its identity
 * (datapath id, name), its OpenFlow ports, its tables, its switch
 * configuration, and the handling of every request a controller or
 * ovs-ofctl sends (`handleMessage`, OVS's handle_openflow).
 *
 * ## What the vswitchd drives
 * `new Ofproto(name, opts)`, then `addPort` / `removePort` / `setPortState`,
 * `setDatapathId`, `setProtocols`, `connmgr.setManagementSocket`,
 * `connmgr.setControllers`, `setFailMode`, `tables.configureTable`, and
 * `close()`. Flow expiry runs on its own timer (`expire` may be called
 * directly with a clock). Packet-ins go out through `connmgr.sendPacketIn`.
 *
 * ## Replies as OVS 3.1 gives them
 * Numbers OVS reports about itself (capabilities, 254 visible tables with
 * OpenFlow 1.0-1.2 table features, group and meter features, the default
 * async configuration, unknown counters as all-ones) were read off a real
 * ovs-vswitchd 3.1 with a dummy datapath and are written here as such.
 * Multipart replies are split across messages as OVS splits them: each
 * message is filled up to 65535 bytes, all but the last flagged "more".
 * Ports are listed in the order of OVS's port hash map (ofport-order.ts),
 * port-status messages skipped where a change does not show in a
 * connection's version.
 *
 * ## Errors
 * Every request the switch refuses gets the OpenFlow error OVS sends for
 * it, echoing the whole request as OVS does: secondaries changing state get
 * OFPBRC_IS_SECONDARY, messages a switch never receives OFPBRC_BAD_TYPE.
 *
 * ## Groups and meters
 * `groupTable` (groups.ts) and `meterTable` (meters.ts) hang off the flow
 * tables; requests reach them through the `groups` / `meters` hooks
 * (`GroupHook`, `MeterHook`), which a caller may replace.
 *
 * ## Done elsewhere
 * Packet-outs are checked here and executed by the `packetOut` hook
 * (ofproto-dpif translates them); packet-ins come from the translation
 * through `connmgr.sendPacketIn`. Flow monitors (flow-monitor.ts) hear of
 * every change, bundles included. Fail-open's hidden NORMAL flow is added
 * and removed when the connection manager says so (`failOpen`).
 */
import type { Netdev, NetdevStats } from "../netdev/netdev-provider.js";
import { zeroNetdevStats } from "../netdev/netdev-provider.js";
import { dummyCustomStats } from "../netdev/netdev-dummy.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { isDecodeError, OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NONE, OFPP_NORMAL } from "../openflow/ofp-codec.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import { decodeMessage, encodeBodyInto, encodeMessage, OfpEncodeError, OFPSF_REPLY_MORE, rawFor, type OfpBodies, type OfpMessage, type OfpMsgType } from "../openflow/ofp-msgs.js";
import { OfpWriter } from "../openflow/ofp-buffer.js";
import type { PhyPort } from "../openflow/ofp-port.js";
import type { PacketOutBody } from "../openflow/ofp-packet.js";
import { NXFMF_INITIAL, NXFMF_OWN, newActionsMemo, withActionsMemo, type FlowUpdate } from "../openflow/ofp-flow.js";
import { OFPFMC14_ADD, OFPFMC14_DELETE, OFPFMF14_ONLY_OWN, type FlowUpdate14 } from "../openflow/ofp-monitor.js";
import { OFPPC_PORT_DOWN, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY, OFPPS_LINK_DOWN, OFPPS_LIVE } from "../openflow/ofp-port.js";
import type { TlvMap } from "../openflow/ofp-control.js";
import { allocTunMetadataSlots, setTunMetadataMap } from "../openflow/mf-key.js";
import type { TableDesc } from "../openflow/ofp-table.js";
import { decodeTableFeaturesStrict, type TableFeatures } from "../openflow/ofp-table-features.js";
import { TF_ACTIONS, TF_INSTRUCTIONS, TF_MASK, TF_MATCH, TF_SET_FIELDS, TF_WILDCARD } from "./table-features-data.js";
import type { PortStats, QueueStats, TableStats as WireTableStats } from "../openflow/ofp-stats.js";
import { RFC2819_COUNTERS } from "../openflow/ofp-stats.js";
import { OFPQ_ALL } from "../openflow/ofp-stats.js";
import { OFPC_FRAG_DROP, OFPC_FRAG_NORMAL, OFPC_FRAG_NX_MATCH, OFPC_FRAG_REASM } from "../openflow/ofp-switch.js";
import { Match as MatchClass, type Match } from "../openflow/match.js";
import { OVS_VERSION } from "../unixctl/builtins.js";
import { vlogModule } from "../util/vlog.js";
import { Connmgr, type FailMode } from "./connmgr.js";
import { flowMod, groupsOfActions, meterOfActions, NO_BUFFER, OFPTT_ALL, type ActionFacts, type OfproFlowMod } from "./flow-mod.js";
import { checkGroupMod, GroupTable, type GroupMod } from "./groups.js";
import { MeterTable } from "./meters.js";
import { FF_NO_BYT_COUNTS, FF_NO_PKT_COUNTS, FF_SEND_FLOW_REM, flowModFromWire, REMOVED_REASON_CODE, wireFlowRemoved, wireFlowStats, wireFlowStatsInto, type WireFlowMod, type WireFlowStats } from "./flow-mod-wire.js";
import { ASYNC_FLOW_REMOVED, ASYNC_PORT_STATUS, defaultAsyncConfig, type MessageSource, type Ofconn, type OpenBundle } from "./ofconn.js";
import { OfprotoTables, type RemovedRule } from "./tables.js";
import { MatchScratch, type OfRule } from "./rule.js";
import { FlowMonitors, type ChangeOrigin, type FlowChange, type FlowMonitorSpec } from "./flow-monitor.js";
import { OfportMap } from "./ofport-order.js";
import { InBand, type InBandRemote, type NextHopLookup } from "./in-band.js";
import { internActionBytes } from "./action-intern.js";
import { timeMsec } from "../util/clock.js";

const log = vlogModule("ofproto");

/** The action lists tsovs keeps in rules: the codec's decoded actions and instructions. */
export type Actions = OfpAction[];

/** Priority of fail-open's hidden NORMAL flow (OVS's FAIL_OPEN_PRIORITY). */
export const FAIL_OPEN_PRIORITY = 0xf0f0f0;

/** Tables a controller sees (OVS hides table 254, its internal table). */
export const N_VISIBLE_TABLES = 254;
const U64_UNKNOWN = 0xffffffffffffffffn;
const U32_UNKNOWN = 0xffffffff;
/** OVS's OFPP_ANY in OpenFlow 1.1+ after translation to 16 bits (the codec's OFPP_NONE). */
const OFPP_ANY16 = OFPP_NONE;

/** An OpenFlow port of the switch. */
export interface OfPort {
  ofpNo: number;
  name: string;
  netdev: Netdev | null;
  hwAddr: Uint8Array;
  /** OFPPC_* bits. */
  config: number;
  /** OFPPS_* bits (LIVE included; OpenFlow 1.0 drops it on the wire). */
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
  /** ms, for the OpenFlow 1.3+ port stats duration. */
  created: number;
}

/** What `addPort` takes. */
export interface PortSpec {
  name: string;
  ofpNo: number;
  netdev?: Netdev | null;
  hwAddr?: Uint8Array;
}

/** Hook for the group table (src/ofproto/groups.ts): every group message goes through it. */
export interface GroupHook {
  /** Executes a group_mod; returns an error or null. */
  groupMod(body: unknown, version: number, conn: Ofconn): OfpErrorName | null;
  /** Answers a group stats / group desc / group features request with the reply bodies. */
  groupStats?(type: string, body: unknown, version: number): unknown;
  /** Whether a group exists (for the check of `group:N` actions). */
  exists(groupId: number): boolean;
}

/** Hook for the meter table (src/ofproto/meters.ts). */
export interface MeterHook {
  meterMod(body: unknown, version: number, conn: Ofconn): OfpErrorName | null;
  meterStats?(type: string, body: unknown, version: number): unknown;
  exists(meterId: number): boolean;
}

export interface OfprotoOptions {
  datapathId?: bigint;
  /** Ethernet address of the LOCAL port; default: the low 48 bits of the datapath id. */
  hwAddr?: Uint8Array;
  /** Allowed OpenFlow versions (Bridge.protocols), a bitmap of wire versions. */
  allowedVersions?: number;
  /** Clock in ms (tests pass their own). */
  now?: () => number;
  /** Run the flow expiry timer (default true). */
  expiryTimer?: boolean;
}

/** Per-table OpenFlow settings that table_mod changes (OpenFlow 1.4 eviction / vacancy). */
export interface TableModState {
  eviction: boolean;
  vacancy: boolean;
  vacancyProp: { down: number; up: number; vacancy: number } | null;
  /** OpenFlow 1.1/1.2 table-miss configuration. */
  miss: "default" | "controller" | "continue" | "drop";
}

/** Walks an action list with its nested lists (write_actions, clone, ct's exec). */
function* flatActions(list: readonly OfpAction[]): Generator<OfpAction> {
  for (const a of list) {
    yield a;
    if (a.type === "write_actions" || a.type === "clone" || a.type === "ct") yield* flatActions(a.actions);
  }
}

function macFromDpid(dpid: bigint): Uint8Array {
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) m[i] = Number((dpid >> BigInt(8 * (5 - i))) & 0xffn);
  return m;
}

function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A random locally administered datapath id, as OVS picks one for a bridge without an Ethernet address. */
function randomDpid(): bigint {
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) m[i] = Math.floor(Math.random() * 256);
  m[0] = (m[0]! & 0xfe) | 0x02;
  let v = 0n;
  for (const x of m) v = (v << 8n) | BigInt(x);
  return v;
}

/** Reply message type of each multipart request the switch answers with a list. */
const REPLY_OF: Partial<Record<OfpMsgType, OfpMsgType>> = {
  OFPST_FLOW_REQUEST: "OFPST_FLOW_REPLY",
  NXST_FLOW_REQUEST: "NXST_FLOW_REPLY",
  OFPST_AGGREGATE_REQUEST: "OFPST_AGGREGATE_REPLY",
  NXST_AGGREGATE_REQUEST: "NXST_AGGREGATE_REPLY",
};

export class Ofproto {
  readonly name: string;
  datapathId: bigint;
  readonly tables: OfprotoTables<Actions>;
  readonly ports = new Map<number, OfPort>();
  /** The same ports in OVS's reply order. */
  private readonly portOrder = new OfportMap<OfPort>((p) => p.ofpNo);
  readonly connmgr: Connmgr;
  /** OFPC_FRAG_* (switch-wide, OVS's frag_handling). */
  fragHandling = OFPC_FRAG_NORMAL;
  /** The TLV (Geneve option) map of NXT_TLV_TABLE_MOD. */
  tlvMaps: TlvMap[] = [];
  /** Flow monitors of the connections (NXST / ONF forms). */
  readonly monitors: FlowMonitors<Ofconn, Actions>;
  /** The group and meter tables, and the hooks requests go through. */
  readonly groupTable: GroupTable<Actions>;
  readonly meterTable: MeterTable<Actions>;
  groups: GroupHook | null = null;
  meters: MeterHook | null = null;
  /** Set by the datapath layer: runs a packet-out's actions on its packet; returns an error or null. */
  packetOut: ((conn: Ofconn, body: PacketOutBody) => OfpErrorName | null) | null = null;
  /** Requests that hit a bug (answered OFPBRC_EPERM) or a reply the codec cannot encode (OFPBRC_BAD_TYPE). */
  readonly counters = { internalErrors: 0, unencodable: 0 };
  /** Bridge.other_config:dp-desc. */
  dpDesc = "None";
  private readonly tableMods: TableModState[] = [];
  private readonly now: () => number;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** In-band control's rules, while there are in-band remotes. */
  private inBand: InBand | null = null;

  constructor(name: string, opts: OfprotoOptions = {}) {
    this.name = name;
    this.now = opts.now ?? timeMsec;
    this.datapathId = opts.datapathId ?? randomDpid();
    const facts: ActionFacts<Actions> = {
      outputsTo: (actions, port) => this.outputsTo(actions, port),
      forwardsToGroup: (actions, group) => {
        for (const a of flatActions(actions)) if (a.type === "group" && a.groupId === group) return true;
        return false;
      },
      check: (actions, tableId) => this.checkActions(actions, tableId),
      groupsOf: groupsOfActions,
      meterOf: meterOfActions,
      conjunctions: (actions) => {
        const out = [];
        // The codec keeps the clause 0-based, as on the wire; the classifier counts from 1, as the text does.
        for (const a of actions) if (a.type === "conjunction") out.push({ id: a.id, clause: a.clause + 1, nClauses: a.nClauses });
        return out.length > 0 ? out : null;
      },
    };
    this.tables = new OfprotoTables<Actions>(facts);
    this.monitors = new FlowMonitors<Ofconn, Actions>(facts);
    // The group and meter tables hang off the flow tables (rules that name
    // them are checked, counted and deleted with them).
    this.groupTable = new GroupTable<Actions>(this.tables);
    this.groups = this.groupTable.hook(this.now, (removed) => this.rulesRemoved(removed));
    this.meterTable = new MeterTable<Actions>(this.tables);
    this.meters = this.meterTable.hook(this.now, (removed) => this.rulesRemoved(removed));
    for (let i = 0; i < this.tables.nTables; i++) this.tableMods.push({ eviction: false, vacancy: false, vacancyProp: null, miss: "default" });
    this.connmgr = new Connmgr({
      handleMessage: (c, m, b) => this.handleMessage(c, m, b),
      handleUndecodable: (c, b) => this.handleUndecodable(c, b),
      connectionClosed: (c) => {
        c.bundles.clear();
        this.monitors.dropConnection(c);
      },
      failOpen: (on) => this.failOpen(on),
    });
    if (opts.allowedVersions !== undefined) this.connmgr.allowedVersions = opts.allowedVersions;
    this.addPort({ name, ofpNo: OFPP_LOCAL, hwAddr: opts.hwAddr ?? macFromDpid(this.datapathId) }, false);
    if (opts.expiryTimer ?? true) {
      this.expiryTimer = setInterval(() => {
        this.expire();
        this.inBand?.run(this.now());
      }, 1000);
      this.expiryTimer.unref();
    }
  }

  // ---------------- configuration (driven by the bridge) ----------------

  /** What a miss in `tableId` does (OpenFlow 1.1/1.2 table_mod config; "default" unless changed). */
  tableMiss(tableId: number): TableModState["miss"] {
    return this.tableMods[tableId]?.miss ?? "default";
  }

  setDatapathId(dpid: bigint): void {
    this.datapathId = dpid;
  }

  /** Bridge.protocols as a version bitmap; applies to connections made from now on. */
  setProtocols(bitmap: number): void {
    this.connmgr.allowedVersions = bitmap;
  }

  setFailMode(mode: FailMode): void {
    this.connmgr.setFailMode(mode);
  }

  /**
   * Fail-open's flow (the connection manager decides when): a hidden
   * table-0 rule at OVS's FAIL_OPEN_PRIORITY sending everything to NORMAL.
   * Hidden rules (priority above 65535, which OpenFlow cannot express) are
   * outside every OpenFlow request; bridge/dump-flows shows them.
   */
  failOpen(on: boolean): void {
    const normal: Actions = [{ type: "output", port: OFPP_NORMAL, maxLen: 0 }];
    const fm = flowMod(on ? "add" : "delete_strict", new MatchClass(), normal, { priority: FAIL_OPEN_PRIORITY, tableId: 0 });
    this.tables.flowMod(fm, this.now());
  }

  /**
   * The in-band remotes (controllers and managers reached through the
   * bridge; none turns in-band control off) and how their next hops are
   * found: in-band.ts keeps the hidden rules that keep them reachable.
   */
  setInBandRemotes(remotes: readonly InBandRemote[], nextHop: NextHopLookup): void {
    const now = this.now();
    if (remotes.length === 0) {
      this.inBand?.clear(now);
      this.inBand = null;
      return;
    }
    this.inBand ??= new InBand(this.name, this.tables, () => this.ports.get(OFPP_LOCAL)?.hwAddr ?? null, nextHop);
    this.inBand.setRemotes(remotes, nextHop, now);
  }

  /**
   * The flow a bridge without controllers has in standalone fail mode
   * (OVS's bridge adds it): priority 0, match everything, actions=NORMAL,
   * visible in dump-flows. `on` false removes it.
   */
  setStandaloneFlow(on: boolean): void {
    const normal: Actions = [{ type: "output", port: OFPP_NORMAL, maxLen: 0 }];
    const fm = flowMod(on ? "add" : "delete_strict", new MatchClass(), normal, { priority: 0, tableId: 0 });
    const r = this.tables.flowMod(fm, this.now());
    if (r.ok) this.sendFlowRemoved(r.removed);
  }

  /** Adds an OpenFlow port and tells the controllers (OFPPR_ADD). */
  addPort(spec: PortSpec, notify = true): OfPort {
    const netdev = spec.netdev ?? null;
    const hwAddr = spec.hwAddr ?? netdev?.getMac() ?? new Uint8Array(6);
    const up = netdev?.isUp() ?? true;
    const port: OfPort = {
      ofpNo: spec.ofpNo, name: spec.name, netdev, hwAddr,
      config: up ? 0 : OFPPC_PORT_DOWN,
      state: OFPPS_LIVE,
      curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
      created: this.now(),
    };
    const old = this.ports.get(spec.ofpNo);
    if (old) this.portOrder.remove(old);
    this.ports.set(spec.ofpNo, port);
    this.portOrder.insert(port);
    if (notify) this.sendPortStatus(port, OFPPR_ADD);
    return port;
  }

  /** Removes a port, its flows' references stay (as OVS), and tells the controllers (OFPPR_DELETE). */
  removePort(ofpNo: number): boolean {
    const port = this.ports.get(ofpNo);
    if (!port || ofpNo === OFPP_LOCAL) return false;
    this.ports.delete(ofpNo);
    this.portOrder.remove(port);
    this.sendPortStatus(port, OFPPR_DELETE);
    return true;
  }

  portByName(name: string): OfPort | null {
    for (const p of this.ports.values()) if (p.name === name) return p;
    return null;
  }

  /** Stops timers and closes every connection. */
  close(): void {
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    this.connmgr.close();
  }

  /** Removes expired flows and sends their flow-removed messages; returns them. */
  expire(now = this.now()): RemovedRule<Actions>[] {
    const removed = this.tables.expire(now);
    this.sendFlowRemoved(removed, now);
    this.reportRemoved(removed, null);
    return removed;
  }

  // ---------------- async messages ----------------

  /**
   * Tells the connections about a port. A modification that would look
   * the same in a connection's version (e.g. no_flood, which OpenFlow 1.1+
   * cannot express) is not sent to it, as OVS compares the encodings.
   */
  private sendPortStatus(port: OfPort, reason: number, old: PhyPort | null = null): void {
    const desc = this.phyPort(port);
    this.connmgr.sendAsync(ASYNC_PORT_STATUS, reason, (c) => {
      const m: OfpMessage = { type: "OFPT_PORT_STATUS", version: c.version, xid: 0, body: { reason, desc } };
      if (old !== null) {
        const before = encodeMessage({ type: "OFPT_PORT_STATUS", version: c.version, xid: 0, body: { reason, desc: old } });
        const after = encodeMessage(m);
        if (before.length === after.length && before.every((x, i) => x === after[i])) return null;
      }
      return m;
    });
  }

  /** Changes a port's state bits (link down, live, STP) from the datapath side and tells the controllers. */
  setPortState(ofpNo: number, state: number): void {
    const port = this.ports.get(ofpNo);
    if (!port || port.state === state) return;
    const old = this.phyPort(port);
    port.state = state;
    this.sendPortStatus(port, OFPPR_MODIFY, old);
  }

  /** Flow-removed messages for rules that asked for them (send_flow_rem), to connections that take them. */
  sendFlowRemoved(removed: readonly RemovedRule<Actions>[], now = this.now()): void {
    for (const { rule, reason } of removed) {
      if (!rule.flags.sendFlowRem) continue;
      const code = REMOVED_REASON_CODE[reason];
      const body = wireFlowRemoved(rule, reason, now);
      this.connmgr.sendAsync(ASYNC_FLOW_REMOVED, code, (c) => {
        if (c.version === 1 && c.flowFormat === "nxm") return { type: "NXT_FLOW_REMOVED", version: 1, xid: 0, body };
        if (rawFor("OFPT_FLOW_REMOVED", c.version) === null) return null;
        return { type: "OFPT_FLOW_REMOVED", version: c.version, xid: 0, body };
      });
    }
  }

  // ---------------- action facts ----------------

  private outputsTo(actions: Actions, port: number): boolean {
    for (const a of flatActions(actions)) {
      switch (a.type) {
        case "output":
        case "output_trunc":
        case "enqueue":
          if (a.port === port) return true;
          break;
        case "controller":
          if (port === OFPP_CONTROLLER) return true;
          break;
        default:
          break;
      }
    }
    return false;
  }

  /** OVS's ofproto_check_ofpacts: tables, groups and meters the actions name must exist. */
  private checkActions(actions: Actions, tableId: number): OfpErrorName | null {
    for (const a of flatActions(actions)) {
      switch (a.type) {
        case "goto_table":
          if (a.tableId <= tableId && tableId !== OFPTT_ALL) return "OFPBRC_BAD_TABLE_ID";
          if (a.tableId >= N_VISIBLE_TABLES) return "OFPBIC_BAD_TABLE_ID";
          break;
        case "group":
          if (!(this.groups?.exists(a.groupId) ?? false)) return "OFPBAC_BAD_OUT_GROUP";
          break;
        case "meter":
          if (!(this.meters?.exists(a.meterId) ?? false)) return "OFPMMFC_INVALID_METER";
          break;
        case "output":
        case "enqueue":
          if (a.port >= OFPP_MAX && a.port < 0xfff8) return "OFPBAC_BAD_OUT_PORT";
          break;
        default:
          break;
      }
    }
    return null;
  }

  // ---------------- the wire view of ports ----------------

  private phyPort(p: OfPort): PhyPort {
    return {
      portNo: p.ofpNo, hwAddr: p.hwAddr, name: p.name, config: p.config, state: p.state,
      curr: p.curr, advertised: p.advertised, supported: p.supported, peer: p.peer,
      currSpeed: p.currSpeed, maxSpeed: p.maxSpeed,
    };
  }

  /** Ports in the order OVS's port hash map yields them (see ofport-order.ts). */
  orderedPorts(): OfPort[] {
    return this.portOrder.values();
  }

  // ---------------- message handling ----------------

  /**
   * Handles one request from `conn`. Replies and errors are sent on
   * `conn`; nothing is thrown for bad input.
   */
  handleMessage(conn: Ofconn, msg: OfpMessage, bytes: Uint8Array): void {
    let error: OfpErrorName | null;
    try {
      error = this.dispatch(conn, msg, bytes);
    } catch (e) {
      if (e instanceof OfpEncodeError) {
        // A reply this version's codec lacks: the request is answered as one tsovs does not support.
        this.counters.unencodable++;
        log.warn(`${this.name}: cannot answer ${msg.type}: ${e.message}`);
        error = "OFPBRC_BAD_TYPE";
      } else {
        this.counters.internalErrors++;
        log.err(`${this.name}: error handling ${msg.type}: ${(e as Error).stack ?? String(e)}`);
        error = "OFPBRC_EPERM";
      }
    }
    if (error !== null) conn.sendError(error, bytes);
  }

  /** Messages the codec cannot decode: none are special-cased (yet); the connection answers them. */
  handleUndecodable(conn: Ofconn, b: Uint8Array): boolean {
    void conn;
    void b;
    return false;
  }

  private isSecondary(conn: Ofconn): boolean {
    return conn.type === "primary" && conn.role === "secondary";
  }

  /** Sends a reply; a reply the codec cannot encode in this version throws (handleMessage answers with an error). */
  private reply<T extends OfpMsgType>(conn: Ofconn, req: OfpMessage, type: T, body: OfpBodies[T]): void {
    this.sendEncoded(conn, { type, version: req.version, xid: req.xid, body } as OfpMessage);
  }

  private sendEncoded(conn: Ofconn, m: OfpMessage): void {
    conn.writeBytes(encodeMessage(m));
  }

  private dispatch(conn: Ofconn, msg: OfpMessage, bytes: Uint8Array): OfpErrorName | null {
    const now = this.now();
    // A multipart request flagged "more" waits for the rest of it (OVS
    // reassembles such requests); tsovs takes single-part requests only,
    // so the part is held back unanswered, as OVS holds it.
    if (msg.statsFlags !== undefined && (msg.statsFlags & 1) !== 0 && /_REQUEST$/.test(msg.type)) return null;
    switch (msg.type) {
      case "OFPT_ECHO_REQUEST":
        this.reply(conn, msg, "OFPT_ECHO_REPLY", { data: msg.body.data });
        return null;
      case "OFPT_ECHO_REPLY":
      case "NXT_FLOW_AGE":
        return null;
      case "OFPT_FEATURES_REQUEST":
        this.reply(conn, msg, "OFPT_FEATURES_REPLY", {
          datapathId: this.datapathId,
          nBuffers: 0,
          nTables: N_VISIBLE_TABLES,
          auxiliaryId: 0,
          capabilities: msg.version === 1 ? 0xc7 : msg.version === 2 ? 0xcf : msg.version <= 4 ? 0x4f : 0x24f,
          actions: msg.version === 1 ? 0xfff : 0,
          ports: msg.version <= 3 ? this.orderedPorts().map((p) => this.phyPort(p)) : [],
        });
        return null;
      case "OFPT_GET_CONFIG_REQUEST":
        this.reply(conn, msg, "OFPT_GET_CONFIG_REPLY", { frag: this.fragHandling, invalidTtlToController: false, missSendLen: conn.missSendLen });
        return null;
      case "OFPT_SET_CONFIG": {
        const b = msg.body;
        if (!this.isSecondary(conn) && b.frag !== this.fragHandling) {
          if (b.frag === OFPC_FRAG_NORMAL || b.frag === OFPC_FRAG_DROP || b.frag === OFPC_FRAG_NX_MATCH) this.fragHandling = b.frag;
          else if (b.frag === OFPC_FRAG_REASM) log.warn(`${this.name}: unsupported fragment handling mode reassemble`);
        }
        conn.missSendLen = b.missSendLen;
        return null;
      }
      case "OFPT_BARRIER_REQUEST":
        this.reply(conn, msg, "OFPT_BARRIER_REPLY", {});
        return null;
      case "OFPT_PORT_MOD":
        if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
        return this.portMod(msg.body, msg.version, false);
      case "OFPT_TABLE_MOD":
        if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
        return this.tableMod(msg.body);
      case "OFPT_FLOW_MOD":
      case "NXT_FLOW_MOD": {
        if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
        const fm = this.decodeFlowMod(conn, msg);
        if (typeof fm === "string") return fm;
        const watch = this.monitorsActive() ? this.beforeFlowMod(fm) : null;
        const r = this.tables.flowMod(fm, now);
        if (!r.ok) return r.error;
        // Only the rules with send_flow_rem: a delete of 100,000 flows need not visit each again.
        this.sendFlowRemoved(r.flowRemoved, now);
        if (watch !== null) this.reportFlowMod(fm, watch, r.removed, { conn, xid: msg.xid });
        return null;
      }
      case "OFPT_ROLE_REQUEST":
      case "NXT_ROLE_REQUEST":
        return this.roleRequest(conn, msg);
      case "NXT_FLOW_MOD_TABLE_ID":
        conn.flowModTableId = msg.body.enable;
        return null;
      case "NXT_SET_FLOW_FORMAT":
        if (msg.body.format === 0) conn.flowFormat = "openflow10";
        else if (msg.body.format === 2) conn.flowFormat = "nxm";
        else return "OFPBRC_EPERM";
        return null;
      case "NXT_SET_PACKET_IN_FORMAT": {
        const f = (["standard", "nxt_packet_in", "nxt_packet_in2"] as const)[msg.body.format];
        if (f === undefined) return "OFPBRC_EPERM";
        conn.packetInFormat = f;
        return null;
      }
      case "NXT_SET_CONTROLLER_ID":
        conn.controllerId = msg.body.controllerId;
        return null;
      case "OFPT_SET_ASYNC":
      case "NXT_SET_ASYNC_CONFIG":
      case "NXT_SET_ASYNC_CONFIG2":
        conn.asyncConfig = { primary: [...msg.body.primary], secondary: [...msg.body.secondary] };
        return null;
      case "OFPT_GET_ASYNC_REQUEST": {
        const a = conn.asyncConfig ?? defaultAsyncConfig(conn.version);
        this.reply(conn, msg, "OFPT_GET_ASYNC_REPLY", { primary: [...a.primary], secondary: [...a.secondary] });
        return null;
      }
      case "OFPST_DESC_REQUEST":
        this.reply(conn, msg, "OFPST_DESC_REPLY", {
          mfrDesc: "Nicira, Inc.", hwDesc: "Open vSwitch", swDesc: OVS_VERSION, serialNum: "None", dpDesc: this.dpDesc,
        });
        return null;
      case "OFPST_FLOW_REQUEST":
      case "NXST_FLOW_REQUEST": {
        const b = msg.body;
        const q = this.flowQuery(b);
        const s = this.tables.select(q);
        if (!s.ok) return s.error;
        const replyType = REPLY_OF[msg.type]!;
        if (rawFor(replyType, msg.version) === null) return "OFPBRC_BAD_TYPE";
        const rules = s.rules;
        // Flow stats entries are self-sized: sendMultipart reads them from the stream only.
        this.sendMultipart(conn, msg, replyType, "stats", [], () => new StatsCursor(rules, now));
        return null;
      }
      case "OFPST_AGGREGATE_REQUEST":
      case "NXST_AGGREGATE_REQUEST": {
        const a = this.tables.aggregateStats(this.flowQuery(msg.body));
        if (!a.ok) return a.error;
        const replyType = REPLY_OF[msg.type]!;
        this.sendEncoded(conn, {
          type: replyType, version: msg.version, xid: msg.xid, statsFlags: 0,
          body: { packetCount: BigInt(a.stats.packetCount), byteCount: BigInt(a.stats.byteCount), flowCount: a.stats.flowCount },
        } as OfpMessage);
        return null;
      }
      case "OFPST_TABLE_REQUEST":
        this.sendMultipart(conn, msg, "OFPST_TABLE_REPLY", "tables", this.tableStats(msg.version));
        return null;
      case "OFPST_TABLE_FEATURES_REQUEST":
        // Changing table features is not supported, as in OVS; but the
        // request is decoded first, as strictly as OVS's switch does.
        if (msg.body.tables.length > 0) {
          const strict = decodeTableFeaturesStrict(bytes.subarray(16), msg.version);
          return isDecodeError(strict) ? strict.decodeError : "OFPTFFC_EPERM";
        }
        this.sendTableFeatures(conn, msg);
        return null;
      case "OFPST_TABLE_DESC_REQUEST":
        this.sendMultipart(conn, msg, "OFPST_TABLE_DESC_REPLY", "tables", this.tableDescs());
        return null;
      case "OFPST_PORT_REQUEST": {
        const p = msg.body.portNo;
        const all = p === OFPP_ANY16;
        // A port that does not exist gets an empty reply, as from OVS.
        const ports = all ? this.orderedPorts() : this.ports.has(p) ? [this.ports.get(p)!] : [];
        this.sendMultipart(conn, msg, "OFPST_PORT_REPLY", "stats", ports.map((port) => this.portStats(port, now)));
        return null;
      }
      case "OFPST_PORT_DESC_REQUEST": {
        const p = msg.body.portNo;
        const all = p === OFPP_ANY16;
        const ports = all ? this.orderedPorts() : this.ports.has(p) ? [this.ports.get(p)!] : [];
        this.sendMultipart(conn, msg, "OFPST_PORT_DESC_REPLY", "ports", ports.map((x) => this.phyPort(x)));
        return null;
      }
      case "OFPST_QUEUE_REQUEST":
        return this.queueStats(conn, msg);
      case "OFPT_QUEUE_GET_CONFIG_REQUEST": {
        const p = msg.body.portNo;
        const all = p === OFPP_ANY16;
        const ports = all ? this.orderedPorts() : this.ports.has(p) ? [this.ports.get(p)!] : [];
        if (!all && ports.length === 0) return "OFPQOFC_BAD_PORT";
        this.reply(conn, msg, "OFPT_QUEUE_GET_CONFIG_REPLY", {
          portNo: p,
          queues: ports.map((x) => ({ portNo: x.ofpNo, queueId: 0, minRate: 0xffff, maxRate: 0xffff })),
        });
        return null;
      }
      case "OFPST_QUEUE_DESC_REQUEST": {
        const p = msg.body.portNo;
        const all = p === OFPP_ANY16;
        const ports = all ? this.orderedPorts() : this.ports.has(p) ? [this.ports.get(p)!] : [];
        if (!all && ports.length === 0) return "OFPQOFC_BAD_PORT";
        const q = msg.body.queueId;
        this.sendMultipart(conn, msg, "OFPST_QUEUE_DESC_REPLY", "queues",
          q === OFPQ_ALL || q === 0 ? ports.map((x) => ({ portNo: x.ofpNo, queueId: 0, minRate: 0xffff, maxRate: 0xffff })) : []);
        return null;
      }
      case "OFPST_GROUP_FEATURES_REQUEST": {
        const f = this.groups?.groupStats?.(msg.type, msg.body, msg.version);
        if (f !== undefined) {
          this.reply(conn, msg, "OFPST_GROUP_FEATURES_REPLY", f as OfpBodies["OFPST_GROUP_FEATURES_REPLY"]);
          return null;
        }
        this.reply(conn, msg, "OFPST_GROUP_FEATURES_REPLY", {
          types: 15, capabilities: 7,
          maxGroups: [0xffffff00, 0xffffff00, 0xffffff00, 0xffffff00],
          actions: [67076097, 67076097, 67076097, 67076097],
        });
        return null;
      }
      case "OFPST_METER_FEATURES_REQUEST": {
        const f = this.meters?.meterStats?.(msg.type, msg.body, msg.version);
        if (f !== undefined && typeof f !== "string") {
          this.reply(conn, msg, "OFPST_METER_FEATURES_REPLY", f as OfpBodies["OFPST_METER_FEATURES_REPLY"]);
          return null;
        }
        this.reply(conn, msg, "OFPST_METER_FEATURES_REPLY", { maxMeter: 262144, bandTypes: 2, capabilities: 15, maxBands: 8, maxColor: 0 });
        return null;
      }
      case "OFPT_GROUP_MOD":
        if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
        if (this.groups === null) return "OFPGMFC_UNKNOWN_GROUP" as OfpErrorName;
        return this.groups.groupMod(msg.body, msg.version, conn);
      case "OFPT_METER_MOD":
        if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
        if (this.meters === null) return "OFPMMFC_UNKNOWN_METER" as OfpErrorName;
        return this.meters.meterMod(msg.body, msg.version, conn);
      case "OFPST_GROUP_REQUEST":
      case "OFPST_GROUP_DESC_REQUEST": {
        const replyType = msg.type === "OFPST_GROUP_REQUEST" ? "OFPST_GROUP_REPLY" : "OFPST_GROUP_DESC_REPLY";
        const body = this.groups?.groupStats?.(msg.type, msg.body, msg.version) ?? (replyType === "OFPST_GROUP_REPLY" ? { stats: [] } : { groups: [] });
        this.sendEncoded(conn, { type: replyType, version: msg.version, xid: msg.xid, statsFlags: 0, body } as OfpMessage);
        return null;
      }
      case "OFPST_METER_REQUEST":
      case "OFPST_METER_CONFIG_REQUEST": {
        const replyType = msg.type === "OFPST_METER_REQUEST" ? "OFPST_METER_REPLY" : "OFPST_METER_CONFIG_REPLY";
        const body = this.meters?.meterStats?.(msg.type, msg.body, msg.version) ?? (replyType === "OFPST_METER_REPLY" ? { stats: [] } : { meters: [] });
        // The meter table answers a missing meter with an error name.
        if (typeof body === "string") return body as OfpErrorName;
        this.sendEncoded(conn, { type: replyType, version: msg.version, xid: msg.xid, statsFlags: 0, body } as OfpMessage);
        return null;
      }
      case "OFPT_BUNDLE_CONTROL":
      case "ONFT_BUNDLE_CONTROL":
        return this.bundleControl(conn, msg, now);
      case "OFPT_BUNDLE_ADD_MESSAGE":
      case "ONFT_BUNDLE_ADD_MESSAGE":
        return this.bundleAdd(conn, msg);
      case "NXT_TLV_TABLE_MOD":
        if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
        return this.tlvTableMod(msg.body);
      case "NXT_TLV_TABLE_REQUEST":
        this.reply(conn, msg, "NXT_TLV_TABLE_REPLY", { maxOptionSpace: 256, maxFields: 64, mappings: this.tlvMaps.map((m) => ({ ...m })) });
        return null;
      case "NXST_FLOW_MONITOR_REQUEST":
      case "ONFST_FLOW_MONITOR_REQUEST":
        return this.flowMonitorRequest(conn, msg);
      case "NXT_FLOW_MONITOR_CANCEL":
      case "ONFT_FLOW_MONITOR_CANCEL":
        return this.monitors.cancel(conn, msg.body.id);
      case "OFPST_FLOW_MONITOR_REQUEST":
        return this.flowMonitorRequest14(conn, msg);
      case "NXT_CT_FLUSH_ZONE":
      case "NXT_CT_FLUSH":
        // No connection tracker yet: nothing to flush.
        return null;
      case "OFPT_PACKET_OUT":
        return this.packetOutMsg(conn, msg.body);
      case "NXT_RESUME":
        // A bridge with a datapath resumes continuations before this
        // (connmgr.ts hands NXT_RESUME to ofproto-dpif); an ofproto alone
        // never pauses a pipeline, so every continuation is stale here.
        return this.isSecondary(conn) ? "OFPBRC_IS_SECONDARY" : "NXR_STALE";
      case "NXST_IPFIX_BRIDGE_REQUEST":
      case "NXST_IPFIX_FLOW_REQUEST":
        return "NXST_NOT_CONFIGURED";
      default:
        // Replies, async messages and anything a switch never receives.
        void bytes;
        return "OFPBRC_BAD_TYPE";
    }
  }

  // ---------------- flows ----------------

  /** Turns a decoded flow_mod into ofproto's flow_mod, with the connection's OpenFlow 1.0 table-id setting. */
  decodeFlowMod(conn: Ofconn | null, msg: Extract<OfpMessage, { type: "OFPT_FLOW_MOD" | "NXT_FLOW_MOD" }>): OfproFlowMod<Actions> | OfpErrorName {
    const body = msg.body as WireFlowMod<Actions>;
    const of10 = msg.version === 1 || msg.type === "NXT_FLOW_MOD";
    // The table id rides in the command's high byte with the table-id
    // extension, which OpenFlow 1.1+ connections always have.
    const noTableId = of10 && conn !== null && !conn.flowModTableId && msg.version < 2;
    if (noTableId && body.tableId !== 0) return "OFPFMFC_BAD_COMMAND";
    const fm = flowModFromWire(body, of10 ? 1 : msg.version);
    if (typeof fm === "string") return fm;
    if (noTableId) fm.tableId = OFPTT_ALL;
    // Only adds and modifies would release a buffered packet.
    if (body.command === 3 || body.command === 4) fm.bufferId = NO_BUFFER;
    else internActionBytes(fm.actions);
    return fm;
  }

  /**
   * The checks OVS makes when a flow_mod is added to a bundle (before it
   * runs): the table exists and may be written, the buffer id, and the
   * actions for the table (OVS's ofproto_flow_mod_init).
   */
  validateFlowMod(fm: OfproFlowMod<Actions>): OfpErrorName | null {
    if (fm.bufferId !== NO_BUFFER) return "OFPBRC_BUFFER_UNKNOWN";
    if (fm.command === "add") {
      const tableId = fm.tableId === OFPTT_ALL ? 0 : fm.tableId;
      const t = this.tables.tables[tableId];
      if (t === undefined) return "OFPBRC_BAD_TABLE_ID";
      if (t.config.readonly && !fm.flags.noReadonly) return "OFPBRC_EPERM";
      return this.checkActions(fm.actions, tableId);
    }
    return this.tables.checkTable(fm.tableId, fm.flags.noReadonly);
  }

  private flowQuery(b: { match: Match; tableId: number; outPort: number; outGroup: number; cookie: bigint; cookieMask: bigint }) {
    return {
      tableId: b.tableId,
      match: b.match,
      cookie: b.cookie,
      cookieMask: b.cookieMask,
      outPort: b.outPort === 0xffffffff ? OFPP_ANY16 : b.outPort,
      outGroup: b.outGroup,
    };
  }

  // ---------------- flow monitors ----------------

  /**
   * NXST_FLOW_MONITOR / ONFST_FLOW_MONITOR request: registers each monitor
   * (a duplicate id undoes the request's monitors and is
   * OFPMOFC_MONITOR_EXISTS) and replies with the flows the "initial" ones
   * watch.
   */
  private flowMonitorRequest(conn: Ofconn, msg: Extract<OfpMessage, { type: "NXST_FLOW_MONITOR_REQUEST" | "ONFST_FLOW_MONITOR_REQUEST" }>): OfpErrorName | null {
    const specs: FlowMonitorSpec[] = [];
    for (const r of msg.body.requests) {
      if (r.tableId !== OFPTT_ALL && r.tableId >= N_VISIBLE_TABLES) {
        for (const sp of specs) this.monitors.cancel(conn, sp.id);
        return "OFPBRC_BAD_TABLE_ID";
      }
      const spec: FlowMonitorSpec = { id: r.id, flags: r.flags, outPort: r.outPort, outGroup: 0xffffffff, tableId: r.tableId, match: r.match };
      const e = this.monitors.add(conn, spec);
      if (e !== null) {
        for (const sp of specs) this.monitors.cancel(conn, sp.id);
        return e;
      }
      specs.push(spec);
    }
    const initial = specs.filter((sp) => (sp.flags & NXFMF_INITIAL) !== 0);
    const updates = initial.length > 0 ? this.monitors.initialUpdates(initial, this.tables.allRules()) : [];
    const replyType = msg.type === "NXST_FLOW_MONITOR_REQUEST" ? "NXST_FLOW_MONITOR_REPLY" : "ONFST_FLOW_MONITOR_REPLY";
    this.sendMultipart(conn, msg, replyType, "updates", updates);
    return null;
  }

  /**
   * OpenFlow 1.4+ OFPMP_FLOW_MONITOR request: each entry adds, modifies
   * (replaces) or deletes a monitor. The flags map onto the Nicira ones the
   * monitors keep (ovs-ofctl sends its "own" as OFPFMF_ONLY_OWN); the
   * initial flows come back as OFPFME_INITIAL updates.
   */
  private flowMonitorRequest14(conn: Ofconn, msg: Extract<OfpMessage, { type: "OFPST_FLOW_MONITOR_REQUEST" }>): OfpErrorName | null {
    const added: FlowMonitorSpec[] = [];
    for (const r of msg.body.requests) {
      if (r.command === OFPFMC14_DELETE) {
        const e = this.monitors.cancel(conn, r.id);
        if (e !== null) return e;
        continue;
      }
      if (r.tableId !== OFPTT_ALL && r.tableId >= N_VISIBLE_TABLES) {
        for (const sp of added) this.monitors.cancel(conn, sp.id);
        return "OFPBRC_BAD_TABLE_ID";
      }
      // Bits 0-4 are the same in both forms (initial, add, removed/delete, modify, instructions/actions).
      const flags = (r.flags & 0x1f) | (r.flags & OFPFMF14_ONLY_OWN ? NXFMF_OWN : 0);
      const spec: FlowMonitorSpec = { id: r.id, flags, outPort: r.outPort, outGroup: r.outGroup, tableId: r.tableId, match: r.match };
      if (r.command !== OFPFMC14_ADD) this.monitors.cancel(conn, r.id);
      const e = this.monitors.add(conn, spec);
      if (e !== null) {
        for (const sp of added) this.monitors.cancel(conn, sp.id);
        return e;
      }
      added.push(spec);
    }
    const initial = added.filter((sp) => (sp.flags & NXFMF_INITIAL) !== 0);
    const updates = initial.length > 0 ? this.monitors.initialUpdates(initial, this.tables.allRules()) : [];
    this.sendMultipart(conn, msg, "OFPST_FLOW_MONITOR_REPLY", "updates", updates.map((u) => toUpdate14(u, true)));
    return null;
  }

  /** Whether any connection monitors flows (else changes need not be worked out). */
  private monitorsActive(): boolean {
    for (const c of this.connmgr.connections()) if (this.monitors.monitorsOf(c).length > 0) return true;
    return false;
  }

  /** What a flow_mod is about to change, for the monitors: the rules it selects in `version` (default: published). */
  private beforeFlowMod(fm: OfproFlowMod<Actions>, version?: number): OfRule<Actions>[] {
    const strict = fm.command === "add" || fm.command === "modify_strict" || fm.command === "delete_strict";
    const tableId = fm.command === "add" && fm.tableId === OFPTT_ALL ? 0 : fm.tableId;
    const q = { tableId, match: fm.match, strict, priority: fm.priority, cookie: fm.cookie, cookieMask: fm.command === "add" ? 0n : fm.cookieMask };
    const sel = this.tables.select(version === undefined ? q : { ...q, version });
    return sel.ok ? sel.rules : [];
  }

  /** The rules a completed add or modify put in place (as seen in `version`), with the old actions of a modify. */
  private flowModChanges(fm: OfproFlowMod<Actions>, before: readonly OfRule<Actions>[], version?: number): FlowChange<Actions>[] {
    const changes: FlowChange<Actions>[] = [];
    if (fm.command !== "add" && fm.command !== "modify" && fm.command !== "modify_strict") return changes;
    const targets = fm.command === "add" || before.length === 0 ? [{ tableId: fm.tableId === OFPTT_ALL ? 0 : fm.tableId, match: fm.match, priority: fm.priority, old: before[0] ?? null }] : before.map((r) => ({ tableId: r.tableId, match: r.match, priority: r.priority, old: r as OfRule<Actions> | null }));
    for (const t of targets) {
      const q = { tableId: t.tableId, match: t.match, strict: true, priority: t.priority };
      const sel = this.tables.select(version === undefined ? q : { ...q, version });
      const rule = sel.ok ? sel.rules[0] : undefined;
      if (rule === undefined || rule === t.old) continue;
      // An add that replaces a rule is reported as an addition, as OVS does.
      changes.push(t.old === null || fm.command === "add" ? { event: "added", rule } : { event: "modified", rule, oldActions: t.old.actions });
    }
    return changes;
  }

  /** Reports a completed flow_mod to the monitors: rules added, modified (with their old actions) and deleted. */
  private reportFlowMod(fm: OfproFlowMod<Actions>, before: readonly OfRule<Actions>[], removed: readonly RemovedRule<Actions>[], origin: ChangeOrigin<Ofconn>): void {
    const changes = this.flowModChanges(fm, before);
    for (const r of removed) changes.push({ event: "deleted", rule: r.rule, reason: r.reason });
    this.sendMonitorUpdates(this.monitors.report(changes, origin));
  }

  /** Rules removed outside a flow_mod (group or meter deletion): flow-removed messages and monitors. */
  private rulesRemoved(removed: readonly RemovedRule<Actions>[]): void {
    this.sendFlowRemoved(removed);
    this.reportRemoved(removed, null);
  }

  private reportRemoved(removed: readonly RemovedRule<Actions>[], origin: ChangeOrigin<Ofconn> | null): void {
    if (removed.length === 0 || !this.monitorsActive()) return;
    this.sendMonitorUpdates(this.monitors.report(removed.map((r) => ({ event: "deleted" as const, rule: r.rule, reason: r.reason })), origin));
  }

  private sendMonitorUpdates(byConn: Map<Ofconn, FlowUpdate[]>): void {
    for (const [conn, updates] of byConn) {
      if (updates.length === 0 || !conn.isConnected) continue;
      const type = conn.version <= 3 ? "NXST_FLOW_MONITOR_REPLY" : conn.version === 4 ? "ONFST_FLOW_MONITOR_REPLY" : "OFPST_FLOW_MONITOR_REPLY";
      const list = conn.version >= 5 ? updates.map((u) => toUpdate14(u, false)) : updates;
      try {
        this.sendMultipart(conn, { type: "OFPT_ECHO_REQUEST", version: conn.version, xid: 0, body: { data: new Uint8Array(0) } }, type, "updates", list);
      } catch (e) {
        log.warn(`${this.name}: cannot send flow monitor update: ${(e as Error).message}`);
      }
    }
  }

  // ---------------- packet-out ----------------

  /**
   * OFPT_PACKET_OUT: checked as OVS checks it (secondaries refused, no
   * buffered packets, an in_port the switch can have, actions naming
   * existing groups and meters), then handed to `packetOut` (the datapath
   * layer runs the actions); without one the packet goes nowhere.
   */
  private packetOutMsg(conn: Ofconn, b: PacketOutBody): OfpErrorName | null {
    if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
    if (b.bufferId !== NO_BUFFER) return "OFPBRC_BUFFER_UNKNOWN";
    const v = b.metadata.get("in_port").value;
    const inPort = (v[0]! << 8) | v[1]!;
    if (inPort >= OFPP_MAX && inPort !== OFPP_LOCAL && inPort !== OFPP_NONE && inPort !== OFPP_CONTROLLER) return "OFPBRC_BAD_PORT";
    const e = this.checkActions(b.actions, OFPTT_ALL);
    if (e !== null) return e;
    return this.packetOut?.(conn, b) ?? null;
  }

  // ---------------- ports ----------------

  private portMod(b: OfpBodies["OFPT_PORT_MOD"], version: number, dryRun: boolean): OfpErrorName | null {
    void version;
    const port = this.ports.get(b.portNo);
    if (!port) return "OFPPMFC_BAD_PORT";
    if (!macEqual(port.hwAddr, b.hwAddr)) return "OFPPMFC_BAD_HW_ADDR";
    if (dryRun) return null;
    const config = (port.config & ~b.mask) | (b.config & b.mask);
    if (config === port.config) return null;
    const toggled = config ^ port.config;
    const old = this.phyPort(port);
    port.config = config;
    const down = (config & OFPPC_PORT_DOWN) !== 0;
    // Taking a port down ends its liveness at once; the link state follows
    // as a second change, as OVS reports it once the netdev has changed.
    if (toggled & OFPPC_PORT_DOWN) {
      port.netdev?.setUp(!down);
      if (down) port.state &= ~OFPPS_LIVE;
    }
    this.sendPortStatus(port, OFPPR_MODIFY, old);
    if (toggled & OFPPC_PORT_DOWN) {
      this.setPortState(port.ofpNo, down ? (port.state & ~OFPPS_LIVE) | OFPPS_LINK_DOWN : (port.state & ~OFPPS_LINK_DOWN) | OFPPS_LIVE);
    }
    return null;
  }

  private portStats(p: OfPort, now: number): PortStats {
    const s: NetdevStats = zeroNetdevStats();
    p.netdev?.getStats(s);
    const d = Math.max(0, now - p.created);
    // A port without a device (the LOCAL port here) stands for OVS's internal
    // device, which in dummy mode is an idle dummy device.
    const custom = p.netdev === null ? dummyCustomStats(s) : (p.netdev.getCustomStats?.() ?? []);
    return {
      portNo: p.ofpNo,
      rxPackets: BigInt(s.rxPackets), txPackets: BigInt(s.txPackets),
      rxBytes: BigInt(s.rxBytes), txBytes: BigInt(s.txBytes),
      rxDropped: U64_UNKNOWN, txDropped: U64_UNKNOWN, rxErrors: U64_UNKNOWN, txErrors: U64_UNKNOWN,
      rxFrameErr: U64_UNKNOWN, rxOverErr: U64_UNKNOWN, rxCrcErr: U64_UNKNOWN, collisions: U64_UNKNOWN,
      durationSec: Math.floor(d / 1000), durationNsec: (d % 1000) * 1_000_000,
      rfc2819: new Array<bigint>(RFC2819_COUNTERS).fill(U64_UNKNOWN),
      customStats: custom.map((c) => ({ name: c.name, value: BigInt(c.value) })),
    };
  }

  private queueStats(conn: Ofconn, msg: Extract<OfpMessage, { type: "OFPST_QUEUE_REQUEST" }>): OfpErrorName | null {
    const p = msg.body.portNo;
    const all = p === OFPP_ANY16;
    const ports = all ? this.orderedPorts() : this.ports.has(p) ? [this.ports.get(p)!] : [];
    if (!all && ports.length === 0) return "OFPQOFC_BAD_PORT";
    const q = msg.body.queueId;
    if (q !== OFPQ_ALL && q !== 0) return "OFPQOFC_BAD_QUEUE";
    const stats: QueueStats[] = ports.map((x) => ({
      portNo: x.ofpNo, queueId: 0, txBytes: U64_UNKNOWN, txPackets: U64_UNKNOWN, txErrors: U64_UNKNOWN,
      durationSec: U32_UNKNOWN, durationNsec: U32_UNKNOWN,
    }));
    this.sendMultipart(conn, msg, "OFPST_QUEUE_REPLY", "stats", stats);
    return null;
  }

  // ---------------- tables ----------------

  private tableStats(version: number): WireTableStats[] {
    const out: WireTableStats[] = [];
    const stats = this.tables.tableStats();
    for (let i = 0; i < N_VISIBLE_TABLES; i++) {
      const t = stats[i]!;
      const last = i === N_VISIBLE_TABLES - 1;
      const cfg = this.tables.tables[i]!.config;
      const e: WireTableStats = {
        tableId: i, name: cfg.name ?? "", wildcards: 0, match: 0, instructions: 0, writeActions: 0, applyActions: 0,
        config: 0, oxmMatch: 0n, oxmWildcards: 0n, writeSetfields: 0n, applySetfields: 0n, metadataMatch: 0n,
        metadataWrite: 0n, maxEntries: cfg.flowLimit ?? 1000000, activeCount: t.activeCount,
        lookupCount: BigInt(t.lookupCount), matchedCount: BigInt(t.matchedCount),
      };
      // The table-miss setting: OpenFlow 1.2 in its wire values (controller 0,
      // continue 1, drop 2; default as controller); OVS puts its internal
      // value in OpenFlow 1.1's (default 0, controller 1, continue 2, drop 3).
      const miss = this.tableMods[i]!.miss;
      if (version === 2) e.config = ["default", "controller", "continue", "drop"].indexOf(miss);
      else if (version === 3) e.config = miss === "continue" ? 1 : miss === "drop" ? 2 : 0;
      // OVS's table features for OpenFlow 1.0-1.2, as it reports them.
      if (version === 1) e.wildcards = 0x3fffff;
      else if (version === 2) {
        e.wildcards = 0xfbff;
        e.match = 0xfbff;
        e.instructions = last ? 60 : 62;
        e.writeActions = 33548287;
        e.applyActions = 33548287;
      } else if (version === 3) {
        e.instructions = last ? 60 : 62;
        e.writeActions = 67076097;
        e.applyActions = 67076097;
        e.oxmMatch = 0x101ffffffffdn;
        e.oxmWildcards = 0x101ffffffffdn;
        e.writeSetfields = 0xffffffbddn;
        e.applySetfields = 0xffffffbddn;
        e.metadataMatch = U64_UNKNOWN;
        e.metadataWrite = U64_UNKNOWN;
      }
      out.push(e);
    }
    return out;
  }

  /**
   * OFPST_TABLE_FEATURES: OpenFlow 1.3+ ovs-ofctl asks for it before every
   * flow command, and encoding 254 tables takes a while, so the encoded
   * reply is kept per version until a table's name or limit changes.
   */
  private sendTableFeatures(conn: Ofconn, msg: OfpMessage): void {
    let sig = `${msg.version}`;
    for (const t of this.tables.tables) if (t.config.name !== null || t.config.flowLimit !== null) sig += `|${t.id}:${t.config.name}:${t.config.flowLimit}`;
    let cached = this.tableFeaturesCache.get(msg.version);
    if (cached === undefined || cached.sig !== sig) {
      const chunks: Uint8Array[] = [];
      const sink = { writeBytes: (b: Uint8Array) => void chunks.push(b) } as unknown as Ofconn;
      this.sendMultipart(sink, { ...msg, xid: 0 } as OfpMessage, "OFPST_TABLE_FEATURES_REPLY", "tables", this.tableFeatures(msg.version));
      cached = { sig, chunks };
      this.tableFeaturesCache.set(msg.version, cached);
    }
    for (const c of cached.chunks) {
      const out = c.slice();
      new DataView(out.buffer).setUint32(4, msg.xid);
      conn.writeBytes(out);
    }
  }

  private readonly tableFeaturesCache = new Map<number, { sig: string; chunks: Uint8Array[] }>();

  private tableFeatures(version: number): TableFeatures[] {
    const out: TableFeatures[] = [];
    for (let i = 0; i < N_VISIBLE_TABLES; i++) {
      const cfg = this.tables.tables[i]!.config;
      const next: number[] = [];
      for (let j = i + 1; j < N_VISIBLE_TABLES; j++) next.push(j);
      const instructions = i === N_VISIBLE_TABLES - 1 ? TF_INSTRUCTIONS.filter((x) => x !== "goto_table") : [...TF_INSTRUCTIONS];
      const acts = () => ({ actions: [...TF_ACTIONS], setFields: [...TF_SET_FIELDS] });
      const inst = () => ({ next: [...next], instructions: [...instructions], write: acts(), apply: acts() });
      out.push({
        tableId: i, name: cfg.name ?? "", command: 0, metadataMatch: U64_UNKNOWN, metadataWrite: U64_UNKNOWN,
        supportsEviction: version >= 5 ? false : null, supportsVacancyEvents: version >= 5 ? false : null,
        maxEntries: cfg.flowLimit ?? 1000000, anyProperties: true,
        nonmiss: inst(), miss: inst(),
        match: [...TF_MATCH], mask: [...TF_MASK], wildcard: [...TF_WILDCARD],
      });
    }
    return out;
  }

  private tableDescs(): TableDesc[] {
    const out: TableDesc[] = [];
    for (let i = 0; i < N_VISIBLE_TABLES; i++) {
      const m = this.tableMods[i]!;
      const evict = m.eviction || this.tables.tables[i]!.config.overflowPolicy === "evict";
      let vacancyProp: TableDesc["vacancyProp"] = null;
      if (m.vacancy && m.vacancyProp !== null) {
        // The current vacancy: the free share of the table's capacity, in percent.
        const t = this.tables.tables[i]!;
        const max = t.config.flowLimit ?? 1000000;
        const vacancy = max === 0 ? 0 : Math.floor(((max - t.activeCount) * 100) / max);
        vacancyProp = { ...m.vacancyProp, vacancy };
      }
      out.push({ tableId: i, eviction: evict, vacancy: m.vacancy, evictionFlags: 7, vacancyProp });
    }
    return out;
  }

  private tableMod(b: OfpBodies["OFPT_TABLE_MOD"]): OfpErrorName | null {
    const ids = b.tableId === OFPTT_ALL ? [...Array(N_VISIBLE_TABLES).keys()] : [b.tableId];
    // Table 254 is OVS's hidden internal table: it exists but may not be changed.
    if (b.tableId !== OFPTT_ALL && b.tableId >= N_VISIBLE_TABLES) return b.tableId < this.tables.nTables ? "OFPTMFC_EPERM" : "OFPTMFC_BAD_TABLE";
    if (b.vacancyProp !== null && b.vacancyProp.down > b.vacancyProp.up) return "OFPTMFC_BAD_CONFIG";
    for (const id of ids) {
      const m = this.tableMods[id]!;
      if (b.miss !== "default") m.miss = b.miss;
      m.eviction = b.eviction;
      m.vacancy = b.vacancy;
      if (b.vacancyProp !== null) m.vacancyProp = { ...b.vacancyProp };
      else if (!b.vacancy) m.vacancyProp = null;
    }
    return null;
  }

  // ---------------- roles ----------------

  private roleRequest(conn: Ofconn, msg: Extract<OfpMessage, { type: "OFPT_ROLE_REQUEST" | "NXT_ROLE_REQUEST" }>): OfpErrorName | null {
    const role = msg.body.role;
    if (role !== "nochange") {
      const gen = msg.type === "OFPT_ROLE_REQUEST" ? msg.body.generationId : null;
      if (role !== "equal" && gen !== null && gen !== U64_UNKNOWN && !this.connmgr.checkGenerationId(gen)) return "OFPRRFC_STALE";
      this.connmgr.setRole(conn, role);
    }
    if (msg.type === "NXT_ROLE_REQUEST") {
      this.reply(conn, msg, "NXT_ROLE_REPLY", { role: conn.role });
    } else {
      this.reply(conn, msg, "OFPT_ROLE_REPLY", { role: conn.role, generationId: this.connmgr.lastGenerationId ?? U64_UNKNOWN });
    }
    return null;
  }

  // ---------------- bundles ----------------

  private bundleControl(conn: Ofconn, msg: Extract<OfpMessage, { type: "OFPT_BUNDLE_CONTROL" | "ONFT_BUNDLE_CONTROL" }>, now: number): OfpErrorName | null {
    if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
    const { bundleId, ctrlType, flags } = msg.body;
    const b = conn.bundles.get(bundleId);
    const replyWith = (t: number): void => {
      this.sendEncoded(conn, { type: msg.type, version: msg.version, xid: msg.xid, body: { bundleId, ctrlType: t, flags } } as OfpMessage);
    };
    switch (ctrlType) {
      case 0: // OPEN_REQUEST
        if (b) return "OFPBFC_BAD_ID";
        conn.bundles.set(bundleId, { id: bundleId, flags, messages: [], closed: false });
        replyWith(1);
        return null;
      case 2: {
        // CLOSE_REQUEST
        if (!b) return "OFPBFC_BAD_ID";
        if (b.closed) {
          conn.bundles.delete(bundleId);
          return "OFPBFC_BUNDLE_CLOSED";
        }
        if (b.flags !== flags) {
          conn.bundles.delete(bundleId);
          return "OFPBFC_BAD_FLAGS";
        }
        b.closed = true;
        replyWith(3);
        return null;
      }
      case 4: {
        // COMMIT_REQUEST
        if (!b) return "OFPBFC_BAD_ID";
        if (b.flags !== flags) {
          conn.bundles.delete(bundleId);
          return "OFPBFC_BAD_FLAGS";
        }
        conn.bundles.delete(bundleId);
        const err = this.commitBundle(conn, b, now);
        if (err !== null) return err;
        replyWith(5);
        return null;
      }
      case 6: // DISCARD_REQUEST
        if (!b) return "OFPBFC_BAD_ID";
        conn.bundles.delete(bundleId);
        replyWith(7);
        return null;
      default:
        return "OFPBFC_BAD_TYPE";
    }
  }

  private bundleAdd(conn: Ofconn, msg: Extract<OfpMessage, { type: "OFPT_BUNDLE_ADD_MESSAGE" | "ONFT_BUNDLE_ADD_MESSAGE" }>): OfpErrorName | null {
    if (this.isSecondary(conn)) return "OFPBRC_IS_SECONDARY";
    const { bundleId, flags, message } = msg.body;
    let b = conn.bundles.get(bundleId);
    if (!b) {
      b = { id: bundleId, flags, messages: [], closed: false };
      conn.bundles.set(bundleId, b);
    } else if (b.closed) {
      conn.bundles.delete(bundleId);
      return "OFPBFC_BUNDLE_CLOSED";
    } else if (b.flags !== flags) {
      conn.bundles.delete(bundleId);
      return "OFPBFC_BAD_FLAGS";
    }
    // The inner message is validated now, as OVS does when it is added.
    const d = decodeMessage(message);
    if (!d.ok) return d.error;
    if (d.msg.type === "OFPT_FLOW_MOD" || d.msg.type === "NXT_FLOW_MOD") {
      const fm = this.decodeFlowMod(conn, d.msg);
      if (typeof fm === "string") return fm;
      const e = this.validateFlowMod(fm);
      if (e !== null) return e;
    } else if (d.msg.type === "OFPT_PORT_MOD") {
      const e = this.portMod(d.msg.body, d.msg.version, true);
      if (e !== null) return e;
    } else if (d.msg.type === "OFPT_GROUP_MOD") {
      const e = checkGroupMod(d.msg.body as unknown as GroupMod<Actions>);
      if (e !== null) return e;
    } else {
      return "OFPBFC_MSG_UNSUP";
    }
    b.messages.push(message);
    return null;
  }

  /** Applies a bundle all-or-nothing; on failure sends the failing message's error and returns OFPBFC_MSG_FAILED. */
  private commitBundle(conn: Ofconn, b: OpenBundle, now: number): OfpErrorName | null {
    const tx = this.tables.begin();
    const gtx = this.groupTable.begin();
    const portMods: OfpBodies["OFPT_PORT_MOD"][] = [];
    // What each flow_mod adds or modifies, for the flow monitors once the bundle is committed.
    const watch = this.monitorsActive();
    const reports: { changes: FlowChange<Actions>[]; origin: ChangeOrigin<Ofconn> }[] = [];
    for (const m of b.messages) {
      const d = decodeMessage(m);
      let err: OfpErrorName | null = null;
      if (!d.ok) err = d.error;
      else if (d.msg.type === "OFPT_FLOW_MOD" || d.msg.type === "NXT_FLOW_MOD") {
        const fm = this.decodeFlowMod(conn, d.msg);
        if (typeof fm === "string") err = fm;
        else {
          const before = watch ? this.beforeFlowMod(fm, tx.view) : [];
          err = tx.apply(fm, now);
          if (err === null && watch) reports.push({ changes: this.flowModChanges(fm, before, tx.view), origin: { conn, xid: d.msg.xid } });
        }
      } else if (d.msg.type === "OFPT_PORT_MOD") {
        err = this.portMod(d.msg.body, d.msg.version, true);
        if (err === null) portMods.push(d.msg.body);
      } else if (d.msg.type === "OFPT_GROUP_MOD") {
        err = gtx.apply(d.msg.body as unknown as GroupMod<Actions>, now);
      } else err = "OFPBFC_MSG_UNSUP";
      if (err !== null) {
        tx.abort();
        gtx.abort();
        conn.sendError(err, m);
        return "OFPBFC_MSG_FAILED";
      }
    }
    const removed = tx.commit();
    removed.push(...gtx.commit());
    for (const pm of portMods) this.portMod(pm, 0, false);
    this.sendFlowRemoved(removed, now);
    for (const r of reports) if (r.changes.length > 0) this.sendMonitorUpdates(this.monitors.report(r.changes, r.origin));
    this.reportRemoved(removed, null);
    return null;
  }

  // ---------------- TLV table ----------------

  private tlvTableMod(b: OfpBodies["NXT_TLV_TABLE_MOD"]): OfpErrorName | null {
    switch (b.command) {
      case 0: {
        const next = [...this.tlvMaps];
        for (const m of b.mappings) {
          const sameIdx = next.find((x) => x.index === m.index);
          const sameOpt = next.find((x) => x.optionClass === m.optionClass && x.optionType === m.optionType);
          if (sameIdx) return "NXTTMFC_ALREADY_MAPPED";
          if (sameOpt) return "NXTTMFC_DUP_ENTRY";
          next.push({ ...m });
        }
        if (next.reduce((s, m) => s + m.optionLen, 0) > 256) return "NXTTMFC_TABLE_FULL";
        const slots = allocTunMetadataSlots(next);
        if (slots === null) return "NXTTMFC_TABLE_FULL";
        this.tlvMaps = next;
        setTunMetadataMap(slots);
        return null;
      }
      case 1:
        this.tlvMaps = this.tlvMaps.filter((x) => !b.mappings.some((m) => m.index === x.index));
        setTunMetadataMap(this.tlvMaps.length === 0 ? null : allocTunMetadataSlots(this.tlvMaps));
        return null;
      case 2:
        this.tlvMaps = [];
        setTunMetadataMap(null);
        return null;
      default:
        return "NXTTMFC_BAD_COMMAND";
    }
  }

  // ---------------- multipart replies ----------------

  /**
   * Sends a list reply split as OVS splits it: entries are appended to a
   * message until the next would take it past 65535 bytes; every message
   * but the last carries OFPSF_REPLY_MORE.
   */
  sendMultipart(
    conn: Ofconn,
    req: OfpMessage,
    type: OfpMsgType,
    key: string,
    list: readonly unknown[] | (() => readonly unknown[]),
    stream?: () => Iterable<unknown>,
  ): void {
    const version = req.version;
    const mk = (entries: Iterable<unknown>, flags: number) =>
      ({ type, version, xid: req.xid, statsFlags: flags, body: { [key]: entries } }) as unknown as OfpMessage;
    const head = encodeMessage(mk([], 0));
    // Self-sized entries are encoded a batch at a time, from `stream` when
    // the caller has one (entries that reuse one object, read in order),
    // and the messages go out as they fill.
    if (SELF_SIZED_ENTRIES.has(type) && (stream !== undefined || typeof list !== "function")) {
      const batch = new EntryBatch((stream !== undefined ? stream() : (list as readonly unknown[]))[Symbol.iterator]());
      conn.writeMessages(new SelfSizedReply(head, version, mk(batch, 0), batch), releaseReplyBuffer);
      return;
    }
    const entries = typeof list === "function" ? list() : list;
    if (entries.length === 0) {
      conn.writeBytes(head);
      return;
    }
    const hlen = head.length;
    const parts: Uint8Array[] = entries.map((e) => encodeMessage(mk([e], 0)).subarray(hlen));
    let i = 0;
    while (i < parts.length) {
      let len = hlen;
      let j = i;
      while (j < parts.length && (j === i || len + parts[j]!.length <= 0xffff)) len += parts[j++]!.length;
      const out = new Uint8Array(len);
      out.set(head, 0);
      let o = hlen;
      for (let k = i; k < j; k++) {
        out.set(parts[k]!, o);
        o += parts[k]!.length;
      }
      out[2] = len >> 8;
      out[3] = len & 0xff;
      const more = j < parts.length;
      out[10] = 0;
      out[11] = more ? OFPSF_REPLY_MORE : 0;
      conn.writeBytes(out);
      i = j;
    }
  }

}

/** How many entries of a self-sized reply are encoded at once (about 30 kB of flows). */
const SELF_SIZED_BATCH = 200;

/**
 * At most SELF_SIZED_BATCH entries of `source`, for one encoding: a class
 * rather than a generator, so that every batch of every dump has the same
 * shape (a generator declared per dump made the codec's compiled loop
 * bail out on each new one).
 */
class EntryBatch implements Iterator<unknown>, Iterable<unknown> {
  private left = 0;
  /** The source has no more entries. */
  ended = false;

  constructor(private readonly source: Iterator<unknown>) {}

  /** Starts the next batch. */
  reset(): this {
    this.left = SELF_SIZED_BATCH;
    return this;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<unknown> {
    if (this.left === 0 || this.ended) return { done: true, value: undefined };
    const r = this.source.next();
    if (r.done === true) this.ended = true;
    else this.left--;
    return r;
  }
}

/**
 * The messages of a multipart reply whose entries each begin with their
 * own 16-bit length, one per `next()`: `run` encodes the next batch of
 * entries (bodies only) at the end of one writer kept for the whole reply,
 * and each message takes as many whole entries as fit
 * after `head` (the reply with none) in 65535 bytes; all but the last
 * carry OFPSF_REPLY_MORE. One actions memo serves the whole reply (rules
 * share actions).
 */
class SelfSizedReply implements MessageSource {
  private readonly memo = newActionsMemo();
  /** Encoded entries not yet sent, from offset 0. */
  private readonly pending = new OfpWriter(2 * 0xffff);
  private done = false;

  constructor(
    private readonly head: Uint8Array,
    private readonly version: number,
    /** The reply whose body is encoded a batch at a time (only its entries go to `pending`): its entries are `batch`. */
    private readonly reply: OfpMessage,
    private readonly batch: EntryBatch,
  ) {}

  next(): Uint8Array | null {
    if (this.done) return null;
    const hlen = this.head.length;
    const w = this.pending;
    for (;;) {
      // A full message's worth of whole entries, with more behind it: send it.
      const pending = w.buffer;
      const n = w.length;
      let end = 0;
      let len = hlen;
      while (end < n) {
        const el = (pending[end]! << 8) | pending[end + 1]!;
        if (el < 8 || end + el > n) throw new RangeError(`flow stats entry of ${el} bytes`);
        if (end !== 0 && len + el > 0xffff) break;
        len += el;
        end += el;
      }
      if (end < n) return this.message(end, true);
      if (this.batch.ended) {
        this.done = true;
        return this.message(end, false);
      }
      this.batch.reset();
      withActionsMemo(this.version, this, this.memo);
    }
  }

  /** Encodes the next batch of entries at the end of `pending` (see withActionsMemo). */
  run(): void {
    encodeBodyInto(this.pending, this.reply);
  }

  /** A message of the first `end` pending bytes (which then leave the writer). */
  private message(end: number, more: boolean): Uint8Array {
    const head = this.head;
    const w = this.pending;
    const len = head.length + end;
    const out = replyBuffer(len);
    out.set(head, 0);
    out.set(w.buffer.subarray(0, end), head.length);
    out[2] = len >> 8;
    out[3] = len & 0xff;
    out[10] = 0;
    out[11] = more ? OFPSF_REPLY_MORE : 0;
    const rest = w.length - end;
    w.buffer.copyWithin(0, end, w.length);
    w.truncate(rest);
    return out;
  }
}

/**
 * Buffers for the messages of streamed replies, handed back by the socket
 * once written: a dump of 100,000 flows is 180 messages of 64 kB, and as
 * many fresh buffers (memory outside V8's heap, which V8 counts towards
 * its next full collection) were part of what started a full collection
 * in the middle of a dump, its marking then competing with ovs-ofctl for
 * the CPU. Reusing them cut a 91,385-flow dump from 520–620 ms to
 * 435–575 ms from request to last reply.
 */
const replyBuffers: ArrayBuffer[] = [];
const REPLY_BUFFER_BYTES = 0xffff;
const REPLY_BUFFERS_KEPT = 16;

function replyBuffer(len: number): Uint8Array {
  if (len > REPLY_BUFFER_BYTES) return new Uint8Array(len);
  return new Uint8Array(replyBuffers.pop() ?? new ArrayBuffer(REPLY_BUFFER_BYTES), 0, len);
}

function releaseReplyBuffer(m: Uint8Array): void {
  if (m.buffer.byteLength === REPLY_BUFFER_BYTES && replyBuffers.length < REPLY_BUFFERS_KEPT) replyBuffers.push(m.buffer as ArrayBuffer);
}

/** Multipart replies whose every entry starts with its u16 length (flow stats in every version and the Nicira form). */
const SELF_SIZED_ENTRIES: ReadonlySet<OfpMsgType> = new Set<OfpMsgType>(["OFPST_FLOW_REPLY", "NXST_FLOW_REPLY"]);

/** A Nicira-form flow update in OpenFlow 1.4's form (events renumbered; the first flows of a monitor are INITIAL). */
function toUpdate14(u: FlowUpdate, initial: boolean): FlowUpdate14 {
  if (u.event === 3) return { event: 4, xid: u.xid };
  return { ...u, event: initial && u.event === 0 ? 0 : ((u.event + 1) as 1 | 2 | 3) };
}

/**
 * The rules as flow stats entries: one object, rewritten for each (valid
 * until the next is read), given out in one result object too, so that a
 * dump of 100,000 flows allocates nothing per flow (a generator made two
 * objects per flow, and that garbage was a good part of what started V8's
 * full collections during dumps). Only the flags a rule keeps are
 * reported (OVS's OFPUTIL_FF_STATE: send_flow_rem, no_packet_counts,
 * no_byte_counts); reset_counts and check_overlap act on the flow_mod.
 */
class StatsCursor implements Iterator<WireFlowStats<Actions>>, Iterable<WireFlowStats<Actions>> {
  private readonly scratch = new MatchScratch();
  private readonly result: IteratorResult<WireFlowStats<Actions>>;
  private i = 0;
  /** Rules up to here have been touched ahead (see touchAhead). */
  private touchedTo = 0;

  constructor(
    private readonly rules: readonly OfRule<Actions>[],
    private readonly now: number,
  ) {
    this.result = rules.length === 0 ? { done: true, value: undefined } : { done: false, value: wireFlowStats(rules[0]!, now, this.scratch) };
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<WireFlowStats<Actions>> {
    const rules = this.rules;
    const i = this.i;
    const res = this.result;
    if (i >= rules.length) {
      res.done = true;
      res.value = undefined;
      return res;
    }
    if (i === this.touchedTo) this.touchedTo = touchAhead(rules, i);
    this.i = i + 1;
    const s = res.value as WireFlowStats<Actions>;
    wireFlowStatsInto(s, rules[i]!, this.now, this.scratch);
    s.flags &= FF_SEND_FLOW_REM | FF_NO_PKT_COUNTS | FF_NO_BYT_COUNTS;
    return res;
  }
}

/** How many rules a dump touches ahead of encoding them. */
const TOUCH_AHEAD = 64;
/** What touchAhead read (kept, so the reads are not optimized away). */
let touchedSum = 0;

/**
 * Reads the parts of the next TOUCH_AHEAD rules that encoding will read,
 * in one tight loop; returns where it stopped. With 100,000 rules each
 * rule is a cache miss (or several); encoding one rule at a time waits
 * for them one after another, where this loop has many in flight at once
 * and encoding then finds them in the cache.
 */
function touchAhead(rules: readonly OfRule<Actions>[], from: number): number {
  const to = Math.min(rules.length, from + TOUCH_AHEAD);
  let x = touchedSum;
  for (let i = from; i < to; i++) x ^= rules[i]!.touchForEncoding();
  touchedSum = x;
  return to;
}
