/**
 * ovs-ofctl(8)'s switch commands: the connection layer every command
 * shares (`Session`: opening a bridge, socket or unix:/tcp: target as
 * ovs-ofctl does, the port and table name lookups it makes on their own
 * connections, dumps, "no reply" transactions, flow-format negotiation,
 * bundles) and the commands on switch features, ports, tables and flows;
 * groups and meters live in ofctl-groups.ts, monitor/snoop/packet-out/ping
 * in ofctl-monitor.ts, replace/diff-flows in ofctl-flow-diff.ts, ct-flush
 * in ofctl-ct.ts. Connections are opened in ovs-ofctl 3.1's order — the
 * same connections, the same requests — so that the transaction ids it
 * prints are the same; replies are printed with ofp-print's text.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  encodeMessage,
  decodeMessage,
  ofpToString,
  OFPP_NONE,
  type OfpMessage,
  type PhyPort,
  type FlowModBody,
  type FlowStats,
  formatActions,
  formatMatchWithPriority,
  OFPFC_ADD,
  OFPFC_DELETE,
  OFPFC_DELETE_STRICT,
  OFPFC_MODIFY,
  OFPFC_MODIFY_STRICT,
  durationText,
} from "../openflow/index.js";
import {
  parseFlowText,
  protocolsToString,
  protocolWire,
  P_OF10_NXM,
  P_OF10_NXM_ANY,
  P_OF10_STD,
  P_OF10_ANY,
  P_OF11_STD,
  P_OF12_OXM,
  P_OF13_OXM,
  P_OF14_OXM,
  P_OF15_OXM,
  P_TID,
  P_NXM_OXM_ANY,
} from "../openflow/ofp-flow-parse.js";
import { allocXid, Vconn, VconnError, xidOf } from "../openflow/vconn.js";
import { rundir } from "../util/dirs.js";
import { vlogModule } from "../util/vlog.js";
import {
  GROUP_COMMAND_ADD,
  GROUP_COMMAND_ADD_OR_MOD,
  GROUP_COMMAND_INSERT_BUCKET,
  GROUP_COMMAND_MODIFY,
  GROUP_COMMAND_REMOVE_BUCKET,
} from "../openflow/ofp-group-parse.js";
import { mfFromName } from "../openflow/meta-flow.js";
import { printTableFeatures, type TableFeatures } from "../openflow/ofp-table-features.js";
import type { TableModBody } from "../openflow/ofp-control.js";
import type { TableDesc } from "../openflow/ofp-table.js";
import { Exit, Fatal, flushOutput, type Options, preprocessedLines, readInput, stdinText, write } from "./ofctl-common.js";
import { makeDiffFlows, makeReplaceFlows } from "./ofctl-flow-diff.js";
import { cmdCtFlush } from "./ofctl-ct.js";
import {
  cmdAddGroups,
  cmdDelGroups,
  cmdDelMeters,
  cmdDumpGroupFeatures,
  cmdDumpGroups,
  cmdDumpGroupStats,
  cmdMeterFeatures,
  groupCommand,
  meterMod,
  meterStats,
} from "./ofctl-groups.js";
import { cmdBenchmark, cmdMonitor, cmdPacketOut, cmdPing, cmdProbe, cmdSnoop } from "./ofctl-monitor.js";

/* ---------------- connections ---------------- */

function bitmapOfVersions(vs: readonly number[]): number {
  let b = 0;
  for (const v of vs) b |= 1 << v;
  return b;
}

function isSocket(p: string): boolean | null {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return null;
  }
}

/** The protocol a fresh connection of `version` starts with. */
export function protocolOfVersion(version: number): number {
  switch (version) {
    case 1: return P_OF10_STD;
    case 2: return P_OF11_STD;
    case 3: return P_OF12_OXM;
    case 4: return P_OF13_OXM;
    case 5: return P_OF14_OXM;
    case 6: return P_OF15_OXM;
    default: return 0;
  }
}

export class Session {
  /** Per target name, the port and table maps already fetched. */
  private portCache = new Map<string, Map<string, number>>();
  private tableCache = new Set<string>();
  constructor(readonly opts: Options) {}

  /** Writes pending output now (streaming commands). */
  flush(): void {
    flushOutput();
  }

  /** open_vconn: a bridge name, a socket path, or a `unix:`/`tcp:` target. */
  async open(name: string, snoop = false): Promise<Vconn> {
    const allowed = bitmapOfVersions(this.opts.versions);
    const suffix = snoop ? "snoop" : "mgmt";
    if (name.includes(":")) {
      try {
        return await Vconn.open(name, allowed);
      } catch (e) {
        if (e instanceof VconnError) throw new Fatal(`connecting to ${name} (${e.reason})`);
        throw e;
      }
    }
    const bridgePath = path.join(rundir(), `${name}.${suffix}`);
    let sockPath: string;
    if (isSocket(name)) sockPath = name;
    else if (isSocket(bridgePath) !== null) sockPath = bridgePath;
    else throw new Fatal(`${name} is not a bridge or a socket`);
    try {
      return await Vconn.open(`unix:${sockPath}`, allowed);
    } catch (e) {
      if (!(e instanceof VconnError)) throw e;
      if (e.duringHello) throw new Fatal(`${name}: failed to connect to socket (${e.reason})`);
      throw new Fatal(`${sockPath}: failed to open socket (${e.reason})`);
    }
  }

  /** Sends each request confirmed by a barrier; an error reply goes to stderr, exit 1. */
  async noreply(v: Vconn, requests: Uint8Array[]): Promise<void> {
    let reply: Uint8Array | null;
    try {
      reply = await v.transactMultipleNoreply(requests);
    } catch (e) {
      if (e instanceof VconnError) throw new Fatal(`talking to ${v.name} (${e.reason})`);
      throw e;
    }
    if (reply) throw new Exit(1, ofpToString(reply, this.opts.verbosity + 2));
  }

  async transact(v: Vconn, request: Uint8Array, what: string): Promise<Uint8Array> {
    try {
      return await v.transact(request);
    } catch (e) {
      if (e instanceof VconnError) throw new Fatal(`talking to ${what} (${e.reason})`);
      throw e;
    }
  }

  /** dump_transaction: print the reply (all parts of a multipart reply). */
  async dump(v: Vconn, request: Uint8Array): Promise<void> {
    const st = request[1] === (request[0] === 1 ? 16 : 18);
    if (!st) {
      write(await this.withNames(v, ofpToString(await this.transact(v, request, v.name), this.opts.verbosity + 1)));
      return;
    }
    const expected = request[0] === 1 ? 17 : 19;
    try {
      for await (const reply of v.dumpStats(request)) {
        const text = await this.withNames(v, ofpToString(reply, this.opts.verbosity + 1));
        if (reply[1] !== 1 && (reply[1] !== expected || reply[8] !== request[8] || reply[9] !== request[9])) {
          throw new Fatal(`received bad reply: ${text}`);
        }
        write(text);
      }
    } catch (e) {
      if (e instanceof VconnError) throw new Fatal(`OpenFlow packet receive failed (${e.reason})`);
      throw e;
    }
  }

  /**
   * With --names, printed text shows the switch's port names where it has
   * port numbers (ports_to_show: the maps are fetched, tables first, when
   * the first reply is printed).
   */
  async withNames(v: Vconn, text: string): Promise<string> {
    if (this.opts.names !== 1) return text;
    await this.fetchTables(v.name);
    const numbers = new Map([...(await this.fetchPorts(v.name))].map(([n, num]) => [num, n]));
    const name = (n: string): string => numbers.get(Number(n)) ?? n;
    return portNumbersToNames(text, numbers)
      .replace(/^( {2}port {1,2})([0-9]+):/gm, (_m, pre: string, n: string) => pre + name(n) + ":")
      .replace(/^( {2}port )([0-9]+)( queue )/gm, (_m, pre: string, n: string, post: string) => pre + name(n) + post)
      .replace(/(watch_port:|: port=|^port=)([0-9]+)/gm, (_m, pre: string, n: string) => pre + name(n));
  }

  /** Collects every reply of a multipart request (errors become fatal). */
  async collect(v: Vconn, request: Uint8Array): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    try {
      for await (const reply of v.dumpStats(request)) out.push(reply);
    } catch (e) {
      if (e instanceof VconnError) throw new Fatal(`OpenFlow packet receive failed (${e.reason})`);
      throw e;
    }
    return out;
  }

  /** Port and table name lookups as ovs-ofctl does them, on their own connections. */
  async fetchPorts(name: string): Promise<Map<string, number>> {
    const cached = this.portCache.get(name);
    if (cached) return cached;
    const map = new Map<string, number>();
    for (const p of await this.fetchPortList(name)) map.set(p.name, p.portNo);
    this.portCache.set(name, map);
    return map;
  }

  async fetchPortList(name: string): Promise<PhyPort[]> {
    const v = await this.open(name);
    try {
      if (v.version < 4) {
        const reply = await this.transact(v, encodeMessage({ type: "OFPT_FEATURES_REQUEST", version: v.version, xid: allocXid(), body: {} }), name);
        const d = decodeMessage(reply);
        if (d.ok && d.msg.type === "OFPT_FEATURES_REPLY") return d.msg.body.ports;
        return [];
      }
      const ports: PhyPort[] = [];
      for (const r of await this.collect(v, encodeMessage({ type: "OFPST_PORT_DESC_REQUEST", version: v.version, xid: allocXid(), body: { portNo: OFPP_NONE } }))) {
        const d = decodeMessage(r);
        if (d.ok && d.msg.type === "OFPST_PORT_DESC_REPLY") ports.push(...d.msg.body.ports);
      }
      return ports;
    } finally {
      v.close();
    }
  }

  async fetchTables(name: string): Promise<void> {
    if (this.tableCache.has(name)) return;
    this.tableCache.add(name);
    const v = await this.open(name);
    try {
      let req: Uint8Array;
      if (v.version < 4) req = encodeMessage({ type: "OFPST_TABLE_REQUEST", version: v.version, xid: allocXid(), body: {} });
      else {
        // OFPMP_TABLE_FEATURES with no body: only the table names matter here.
        req = new Uint8Array([v.version, 18, 0, 16, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0]);
        new DataView(req.buffer).setUint32(4, allocXid());
      }
      await this.collect(v, req);
    } finally {
      v.close();
    }
  }

  /** Port name → number for `name`, if fetched (empty otherwise). */
  portNames(name: string): ReadonlyMap<string, number> {
    return this.portCache.get(name) ?? new Map();
  }

  /** Flow/group text with the switch's port names replaced by their numbers. */
  withPortNumbers(name: string, text: string): string {
    return portNamesToNumbers(text, this.portNames(name));
  }

  /** The maps a flow-parsing command fetches (unless --no-names). */
  async nameMaps(name: string, tablesFirst: boolean): Promise<void> {
    if (this.opts.names === 0) return;
    if (tablesFirst) {
      await this.fetchTables(name);
      await this.fetchPorts(name);
    } else {
      await this.fetchPorts(name);
      await this.fetchTables(name);
    }
  }
}

const PORT_NAME = "[A-Za-z_][-A-Za-z0-9_.]*";
const NAME_BEFORE = new RegExp(`((?:^|[,\\s(])(?:in_port|out_port)=|(?:output|enqueue|resubmit|watch_port):|resubmit\\()(${PORT_NAME})(?=$|[,:)\\s])`, "g");
const BARE_ACTION = new RegExp(`((?:actions=|,))(${PORT_NAME})(?=$|,)`, "g");

/**
 * What ofputil_port_from_string does with a port map: a switch port's
 * name stands for its number wherever flow text takes a port (in_port,
 * out_port, output:, enqueue:, resubmit, watch_port, a bare output action).
 */
export function portNamesToNumbers(text: string, names: ReadonlyMap<string, number>): string {
  if (names.size === 0) return text;
  const sub = (m: string, pre: string, n: string): string => {
    const num = names.get(n);
    if (num === undefined) return m;
    // The bridge's own port is LOCAL (its number is no OpenFlow port number).
    return pre + (num === 0xfffe ? "LOCAL" : num >= 0xff00 ? n : String(num));
  };
  let out = text.replace(NAME_BEFORE, sub);
  const ai = out.indexOf("actions=");
  if (ai >= 0) out = out.slice(0, ai) + out.slice(ai).replace(BARE_ACTION, sub);
  return out;
}

/** The reverse, for --names listings: port numbers shown as the switch's names. */
export function portNumbersToNames(text: string, numbers: ReadonlyMap<number, string>): string {
  return text.replace(/((?:^|[,\s(])in_port=|(?:output|enqueue|resubmit|watch_port):|resubmit\()([0-9]+)(?=$|[,:)\s])/g, (m, pre: string, n: string) => {
    const name = numbers.get(Number(n));
    return name === undefined ? m : pre + name;
  });
}

export function msg(m: OfpMessage): Uint8Array {
  return encodeMessage(m);
}

/* ---------------- ports ---------------- */

const PORT_KEYWORDS: Readonly<Record<string, number>> = {
  in_port: 0xfff8, table: 0xfff9, normal: 0xfffa, flood: 0xfffb, all: 0xfffc, controller: 0xfffd, local: 0xfffe, any: 0xffff, none: 0xffff,
};

/** ofputil_port_from_string without a map: a number or a reserved keyword. */
const portLog = vlogModule("ofp_port");

function portFromString(s: string): number | null {
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n < 0xff00) return n;
    if (n <= 0xffff) {
      const names: Readonly<Record<number, string>> = {
        0xfff7: "UNSET", 0xfff8: "IN_PORT", 0xfff9: "TABLE", 0xfffa: "NORMAL", 0xfffb: "FLOOD", 0xfffc: "ALL", 0xfffd: "CONTROLLER", 0xfffe: "LOCAL", 0xffff: "ANY",
      };
      const named = names[n];
      if (named) portLog.warn(`referring to port ${named} as ${n} is deprecated for compatibility with OpenFlow 1.1 and later`);
      else portLog.warn(`port ${n} is a reserved OF1.0 port number that will be translated to ${n + 0xffff0000} when talking to an OF1.1 or later controller`);
      return n;
    }
    if (n >= 0xffffff00 && n <= 0xffffffff) return n - 0xffff0000;
    portLog.warn(`port ${s} is outside the supported range 0 through ffff or 0xffffff00 through 0xffffffff`);
    return null;
  }
  const k = PORT_KEYWORDS[s.toLowerCase()];
  return k ?? null;
}

/** str_to_port_no: a number, a keyword or (fetched) a port name. */
export async function strToPortNo(sess: Session, name: string, port: string): Promise<number> {
  const p = portFromString(port);
  if (p !== null) return p;
  // The second look, with the switch's names, complains about a bad number again.
  if (/^[0-9]+$/.test(port)) portFromString(port);
  const map = await sess.fetchPorts(name);
  const n = map.get(port);
  if (n === undefined) throw new Fatal(`${name}: unknown port \`${port}'`);
  return n;
}

/* ---------------- commands ---------------- */

export type Run = (sess: Session, args: string[]) => Promise<void>;

export interface SwitchCommand {
  min: number;
  max: number;
  /** Read/write commands are refused under --read-only. */
  rw: boolean;
  run: Run;
}

async function trivial(sess: Session, name: string, make: (version: number) => OfpMessage): Promise<void> {
  const v = await sess.open(name);
  try {
    await sess.dump(v, msg(make(v.version)));
  } finally {
    v.close();
  }
}

const cmdShow: Run = async (sess, [name]) => {
  const v = await sess.open(name!);
  try {
    const reply = await sess.transact(v, msg({ type: "OFPT_FEATURES_REQUEST", version: v.version, xid: allocXid(), body: {} }), name!);
    const d = decodeMessage(reply);
    if (!d.ok || d.msg.type !== "OFPT_FEATURES_REPLY") throw new Fatal(`${name}: received bad features reply`);
    // OpenFlow 1.3+ features replies carry no ports; a full 1.0-1.2 reply may have been cut short.
    const hasPorts = v.version < 4 && reply.length + (v.version === 1 ? 48 : 64) <= 0xffff;
    write(ofpToString(reply, sess.opts.verbosity + 1));
    if (!hasPorts) await sess.dump(v, msg({ type: "OFPST_PORT_DESC_REQUEST", version: v.version, xid: allocXid(), body: { portNo: OFPP_NONE } }));
  } finally {
    v.close();
  }
  await trivial(sess, name!, (version) => ({ type: "OFPT_GET_CONFIG_REQUEST", version, xid: allocXid(), body: {} }));
};

const cmdDumpDesc: Run = (sess, [name]) => trivial(sess, name!, (version) => ({ type: "OFPST_DESC_REQUEST", version, xid: allocXid(), body: {} }));
const cmdDumpTables: Run = (sess, [name]) => trivial(sess, name!, (version) => ({ type: "OFPST_TABLE_REQUEST", version, xid: allocXid(), body: {} }));

const cmdDumpTableDesc: Run = async (sess, [name]) => {
  const v = await sess.open(name!);
  try {
    if (v.version < 5) throw new Fatal(`dump-table-desc needs OpenFlow 1.4 or later ('-O OpenFlow14')`);
    await sess.dump(v, msg({ type: "OFPST_TABLE_DESC_REQUEST", version: v.version, xid: allocXid(), body: {} }));
  } finally {
    v.close();
  }
};

const cmdDumpTableFeatures: Run = async (sess, [name]) => {
  const v = await sess.open(name!);
  try {
    if (v.version < 4) throw new Fatal(`dump-table-features needs OpenFlow 1.3 or later ('-O OpenFlow13')`);
    const req = msg({ type: "OFPST_TABLE_FEATURES_REQUEST", version: v.version, xid: allocXid(), body: { tables: [] } } as unknown as OfpMessage);
    // Tables come over several replies; "ditto" condensing runs across them.
    const tables: TableFeatures[] = [];
    for (const r of await sess.collect(v, req)) {
      const d = decodeMessage(r);
      if (d.ok && d.msg.type === "OFPST_TABLE_FEATURES_REPLY") tables.push(...(d.msg.body as { tables: TableFeatures[] }).tables);
      else if (r[1] === 1) {
        write(ofpToString(r, sess.opts.verbosity + 1));
        return;
      } else throw new Fatal(`received bad reply: ${ofpToString(r, sess.opts.verbosity + 1)}`);
    }
    write(printTableFeatures(tables).replace(/^\n/, "") + "\n");
  } finally {
    v.close();
  }
};

const tableLog = vlogModule("ofp_table");

/** parse_ofp_table_mod: the table and one setting, with the versions that can carry it. */
function parseTableMod(tableArg: string, setting: string): { tm: TableModBody; versions: number[] } {
  let tableId: number;
  if (tableArg.toLowerCase() === "all") tableId = 255;
  else if (/^[0-9]+$/.test(tableArg) && Number(tableArg) <= 255) tableId = Number(tableArg);
  else {
    if (/^[0-9]+$/.test(tableArg)) tableLog.warn(`table ${tableArg} is outside the supported range 0 through 255`);
    throw new Fatal(`unknown table "${tableArg}"`);
  }
  const tm: TableModBody = { tableId, miss: "default", eviction: false, evictionFlags: null, vacancy: false, vacancyProp: null };
  let versions = [2, 3, 4, 5, 6];
  const given = { eviction: false, vacancy: false };
  if (setting === "controller" || setting === "continue" || setting === "drop") {
    tm.miss = setting;
    versions = [2, 3];
  } else if (setting === "evict" || setting === "noevict") {
    tm.eviction = setting === "evict";
    given.eviction = true;
    versions = [5, 6];
  } else if (setting === "novacancy") {
    given.vacancy = true;
    versions = [5, 6];
  } else if (setting.startsWith("vacancy:")) {
    const [ds, us] = setting.slice(8).split(",", 2) as [string, string | undefined];
    if (ds === "") throw new Fatal("Vacancy down value missing");
    if (us === undefined || us === "") throw new Fatal("Vacancy up value missing");
    const pct = (t: string): number | null => (/^[0-9]+$/.test(t) && Number(t) <= 100 ? Number(t) : null);
    const down = pct(ds);
    if (down === null) throw new Fatal(`Invalid vacancy down value "${ds}"`);
    const up = pct(us);
    if (up === null) throw new Fatal(`Invalid vacancy up value "${us}"`);
    if (down > up) throw new Fatal("Invalid vacancy range, vacancy up should be greater than vacancy down (OFPBPC_BAD_VALUE)");
    tm.vacancy = true;
    tm.vacancyProp = { down, up, vacancy: 0 };
    given.vacancy = true;
    versions = [5, 6];
  } else {
    throw new Fatal(`invalid table_mod setting ${setting}`);
  }
  (tm as TableModBody & { given?: typeof given }).given = given;
  return { tm, versions };
}

const cmdModTable: Run = async (sess, [name, tableArg, setting]) => {
  if (sess.opts.names !== 0) await sess.fetchTables(name!);
  const { tm, versions } = parseTableMod(tableArg!, setting!);
  const allowed = sess.opts.versions.filter((v) => versions.includes(v));
  if (allowed.length === 0) {
    throw new Fatal(`table_mod '${setting}' requires one of the OpenFlow versions ${versions.map((v) => `OpenFlow1${v - 1}`).join(", ")}`);
  }
  const given = (tm as TableModBody & { given: { eviction: boolean; vacancy: boolean } }).given;
  delete (tm as { given?: unknown }).given;
  // Only the versions that can carry the setting take part in negotiation.
  const restricted = new Session({ ...sess.opts, versions: allowed });
  const v = await restricted.open(name!);
  try {
    const send = async (t: TableModBody): Promise<void> => {
      await sess.noreply(v, [msg({ type: "OFPT_TABLE_MOD", version: v.version, xid: allocXid(), body: t })]);
    };
    if (!allowed.some((x) => x >= 5)) {
      await send(tm);
      return;
    }
    // OpenFlow 1.4+: keep the table's other settings as they are.
    const descs: TableDesc[] = [];
    for (const r of await sess.collect(v, msg({ type: "OFPST_TABLE_DESC_REQUEST", version: v.version, xid: allocXid(), body: {} }))) {
      const d = decodeMessage(r);
      if (d.ok && d.msg.type === "OFPST_TABLE_DESC_REPLY") descs.push(...d.msg.body.tables);
    }
    const ids = tm.tableId === 255 ? [...Array(254).keys()] : [tm.tableId];
    for (const id of ids) {
      const cur = descs.find((d) => d.tableId === id);
      const t: TableModBody = { ...tm, tableId: id };
      if (cur) {
        // What the user left unset comes from the table (eviction with its flags).
        if (!given.eviction) {
          t.eviction = cur.eviction;
          t.evictionFlags = cur.evictionFlags;
        }
        if (!given.vacancy) {
          t.vacancy = cur.vacancy;
          t.vacancyProp = cur.vacancyProp;
        }
      }
      await send(t);
    }
  } finally {
    v.close();
  }
};

const cmdDumpPorts: Run = async (sess, [name, port]) => {
  const portNo = port !== undefined ? await strToPortNo(sess, name!, port) : OFPP_NONE;
  await trivial(sess, name!, (version) => ({ type: "OFPST_PORT_REQUEST", version, xid: allocXid(), body: { portNo } }));
};

const cmdDumpPortsDesc: Run = async (sess, [name, port]) => {
  const portNo = port !== undefined ? await strToPortNo(sess, name!, port) : OFPP_NONE;
  await trivial(sess, name!, (version) => ({ type: "OFPST_PORT_DESC_REQUEST", version, xid: allocXid(), body: { portNo } }));
};

const cmdQueueStats: Run = async (sess, [name, port, queue]) => {
  const portNo = port !== undefined && port !== "ALL" && port !== "all" ? await strToPortNo(sess, name!, port) : OFPP_NONE;
  const queueId = queue !== undefined && queue !== "ALL" && queue !== "all" ? Number(queue) >>> 0 : 0xffffffff;
  await trivial(sess, name!, (version) => ({ type: "OFPST_QUEUE_REQUEST", version, xid: allocXid(), body: { portNo, queueId } }));
};

const cmdQueueGetConfig: Run = async (sess, [name, port, queue]) => {
  const portNo = port !== undefined && port !== "ALL" && port !== "all" ? await strToPortNo(sess, name!, port) : OFPP_NONE;
  const queueId = queue !== undefined && queue !== "ALL" && queue !== "all" ? Number(queue) >>> 0 : 0xffffffff;
  const v = await sess.open(name!);
  try {
    if (v.version >= 5) await sess.dump(v, msg({ type: "OFPST_QUEUE_DESC_REQUEST", version: v.version, xid: allocXid(), body: { portNo, queueId } }));
    else if (portNo === OFPP_NONE && v.version === 1) {
      // OpenFlow 1.0 asks port by port.
      for (const p of await sess.fetchPortList(name!)) {
        if (p.portNo < 0xff00) await sess.dump(v, msg({ type: "OFPT_QUEUE_GET_CONFIG_REQUEST", version: 1, xid: allocXid(), body: { portNo: p.portNo } }));
      }
    } else await sess.dump(v, msg({ type: "OFPT_QUEUE_GET_CONFIG_REQUEST", version: v.version, xid: allocXid(), body: { portNo } }));
  } finally {
    v.close();
  }
};

/* ----- switch config ----- */

const FRAG_NAMES = ["normal", "drop", "reassemble", "nx-match"];

export async function fetchConfig(sess: Session, v: Vconn, name: string): Promise<{ frag: number; invalidTtlToController: boolean; missSendLen: number }> {
  const reply = await sess.transact(v, msg({ type: "OFPT_GET_CONFIG_REQUEST", version: v.version, xid: allocXid(), body: {} }), name);
  const d = decodeMessage(reply);
  if (!d.ok || d.msg.type !== "OFPT_GET_CONFIG_REPLY") throw new Fatal(`${name}: bad reply to config request`);
  return d.msg.body;
}

const cmdGetFrags: Run = async (sess, [name]) => {
  const v = await sess.open(name!);
  try {
    const c = await fetchConfig(sess, v, name!);
    write(FRAG_NAMES[c.frag] + "\n");
  } finally {
    v.close();
  }
};

const cmdSetFrags: Run = async (sess, [name, mode]) => {
  const frag = FRAG_NAMES.indexOf(mode!);
  if (frag < 0) throw new Fatal(`${mode}: unknown fragment handling mode`);
  const v = await sess.open(name!);
  try {
    const c = await fetchConfig(sess, v, name!);
    if (c.frag !== frag) {
      await sess.noreply(v, [msg({ type: "OFPT_SET_CONFIG", version: v.version, xid: allocXid(), body: { ...c, frag } })]);
      const c2 = await fetchConfig(sess, v, name!);
      if (c2.frag !== frag) {
        throw new Fatal(`${name}: setting fragment handling mode failed (this switch probably doesn't support mode "${mode}")`);
      }
    }
  } finally {
    v.close();
  }
};

/* ----- mod-port ----- */

const PORT_MODES: readonly [string, number, boolean][] = [
  ["up", 1 << 0, false], ["down", 1 << 0, true],
  ["stp", 1 << 1, false], ["no-stp", 1 << 1, true],
  ["receive", 1 << 2, false], ["no-receive", 1 << 2, true],
  ["receive-stp", 1 << 3, false], ["no-receive-stp", 1 << 3, true],
  ["flood", 1 << 4, false], ["no-flood", 1 << 4, true],
  ["forward", 1 << 5, false], ["no-forward", 1 << 5, true],
  ["packet-in", 1 << 6, false], ["no-packet-in", 1 << 6, true],
];

const cmdModPort: Run = async (sess, [name, port, action]) => {
  const mode = PORT_MODES.find(([n]) => n === action!.toLowerCase());
  if (!mode) throw new Fatal(`unknown mod-port command '${action}'`);
  // Only a decimal number is a port number here; anything else is a port's name.
  const num = /^[0-9]+$/.test(port!) ? Number(port) : null;
  const ports = await sess.fetchPortList(name!);
  const pp = ports.find((p) => (num !== null ? p.portNo === num : p.name === port));
  if (!pp) throw new Fatal(`${name}: couldn't find port \`${port}'`);
  const v = await sess.open(name!);
  try {
    const body = { portNo: pp.portNo, hwAddr: pp.hwAddr, config: mode[2] ? mode[1] : 0, mask: mode[1], advertise: 0 };
    await sess.noreply(v, [msg({ type: "OFPT_PORT_MOD", version: v.version, xid: allocXid(), body })]);
  } finally {
    v.close();
  }
};

/* ----- flows ----- */

/** The order ovs-ofctl tries protocols in for flow statistics. */
const FLOW_DUMP_PROTOCOLS = [P_OF15_OXM, P_OF14_OXM, P_OF13_OXM, P_OF12_OXM, P_OF11_STD, P_OF10_NXM, P_OF10_STD];

/**
 * try_set_protocol: moves an OpenFlow 1.0 connection between its flow
 * formats (NXT_SET_FLOW_FORMAT, NXT_FLOW_MOD_TABLE_ID), one step at a time.
 * Returns the new current protocol, or null if the switch refused.
 */
async function trySetProtocol(v: Vconn, cur: number, want: number): Promise<number | null> {
  for (;;) {
    if (cur === want) return cur;
    if (!(cur & P_OF10_ANY) || !(want & P_OF10_ANY)) return null;
    const curBase = cur & P_OF10_NXM_ANY ? P_OF10_NXM : P_OF10_STD;
    const wantBase = want & P_OF10_NXM_ANY ? P_OF10_NXM : P_OF10_STD;
    const curTid = (cur & P_TID) !== 0;
    const wantTid = (want & P_TID) !== 0;
    let request: Uint8Array;
    let next: number;
    if (curBase !== wantBase) {
      request = msg({ type: "NXT_SET_FLOW_FORMAT", version: 1, xid: allocXid(), body: { format: wantBase === P_OF10_NXM ? 2 : 0 } });
      next = wantBase === P_OF10_NXM ? (curTid ? P_OF10_NXM << 1 : P_OF10_NXM) : (curTid ? P_OF10_STD << 1 : P_OF10_STD);
    } else {
      request = msg({ type: "NXT_FLOW_MOD_TABLE_ID", version: 1, xid: allocXid(), body: { enable: wantTid } });
      next = wantTid ? curBase << 1 : curBase;
    }
    let reply: Uint8Array | null;
    try {
      reply = await v.transactNoreply(request);
    } catch (e) {
      if (e instanceof VconnError) throw new Fatal(`talking to ${v.name} (${e.reason})`);
      throw e;
    }
    if (reply) return null;
    cur = next;
  }
}

export async function setProtocolForFlowDump(sess: Session, v: Vconn, usable: number): Promise<number> {
  let cur = protocolOfVersion(v.version);
  const allowed = sess.opts.protocols;
  for (const f of FLOW_DUMP_PROTOCOLS) {
    if (f & usable & allowed) {
      const r = await trySetProtocol(v, cur, f);
      if (r !== null) return f;
      // A refused change leaves the connection where it was.
    }
    void cur;
  }
  const u = protocolsToString(usable);
  if (usable & allowed) throw new Fatal(`switch does not support any of the usable flow formats (${u})`);
  throw new Fatal(`none of the usable flow formats (${u}) is among the allowed flow formats (${protocolsToString(allowed)})`);
}

export async function openForFlowMod(sess: Session, name: string, usable: number): Promise<{ v: Vconn; protocol: number }> {
  const allowed = sess.opts.protocols;
  if (!(usable & allowed)) {
    throw new Fatal(`none of the usable flow formats (${protocolsToString(usable)}) is among the allowed flow formats (${protocolsToString(allowed)})`);
  }
  const v = await sess.open(name);
  const cur = protocolOfVersion(v.version);
  if (usable & allowed & cur) return { v, protocol: cur };
  for (let i = 0; i < 9; i++) {
    const f = 1 << i;
    if (f !== cur && f & usable & allowed) {
      const r = await trySetProtocol(v, cur, f);
      if (r !== null) return { v, protocol: f };
    }
  }
  v.close();
  throw new Fatal(`switch does not support any of the usable flow formats (${protocolsToString(usable)})`);
}

export function encodeFlowMod(fm: FlowModBody, protocol: number, xid = allocXid()): Uint8Array {
  const wire = protocolWire(protocol);
  const body: FlowModBody = { ...fm, tid: wire.tid };
  if (!wire.tid) body.tableId = 0xff;
  return msg({ type: wire.nxm ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD", version: wire.version, xid, body } as OfpMessage);
}

function encodeFlowStatsRequest(fm: FlowModBody, protocol: number, aggregate: boolean): Uint8Array {
  const wire = protocolWire(protocol);
  const body = { match: fm.match, tableId: fm.tableId, outPort: fm.outPort, outGroup: fm.outGroup, cookie: fm.cookie, cookieMask: fm.cookieMask };
  const type = wire.nxm ? (aggregate ? "NXST_AGGREGATE_REQUEST" : "NXST_FLOW_REQUEST") : aggregate ? "OFPST_AGGREGATE_REQUEST" : "OFPST_FLOW_REQUEST";
  return msg({ type, version: wire.version, xid: allocXid(), body } as OfpMessage);
}

async function prepareDumpFlows(sess: Session, args: string[], aggregate: boolean): Promise<{ v: Vconn; request: Uint8Array; protocol: number }> {
  const [name, filter] = args;
  if (filter !== undefined && filter !== "") await sess.nameMaps(name!, false);
  const r = parseFlowText(sess.withPortNumbers(name!, filter ?? ""), -1);
  if (!r.ok) throw new Fatal(r.error);
  // A statistics request carries its table in every OpenFlow 1.0 form.
  let usable = r.usable;
  if (usable & (P_OF10_STD << 1)) usable |= P_OF10_STD;
  if (usable & (P_OF10_NXM << 1)) usable |= P_OF10_NXM;
  const v = await sess.open(name!);
  const protocol = await setProtocolForFlowDump(sess, v, usable);
  return { v, request: encodeFlowStatsRequest(r.fm, protocol, aggregate), protocol };
}

/** ofputil_flow_stats_format, as the sorted/--no-stats listing prints it. */
function flowStatsLine(fs: FlowStats, showStats: boolean): string {
  let s = "";
  if (showStats || fs.cookie !== 0n) s += `cookie=0x${fs.cookie.toString(16)}, `;
  if (showStats) s += `duration=${durationText(fs.durationSec, fs.durationNsec)}, `;
  if (showStats || fs.tableId !== 0) s += `table=${fs.tableId}, `;
  if (showStats) s += `n_packets=${fs.packetCount}, n_bytes=${fs.byteCount}, `;
  if (fs.idleTimeout) s += `idle_timeout=${fs.idleTimeout}, `;
  if (fs.hardTimeout) s += `hard_timeout=${fs.hardTimeout}, `;
  if (fs.flags) {
    const names: [number, string][] = [[1, "send_flow_rem"], [2, "check_overlap"], [4, "reset_counts"], [8, "no_packet_counts"], [16, "no_byte_counts"]];
    for (const [b, n] of names) if (fs.flags & b) s += `${n} `;
  }
  if (fs.importance) s += `importance=${fs.importance}, `;
  if (showStats && fs.idleAge >= 0) s += `idle_age=${fs.idleAge}, `;
  if (showStats && fs.hardAge >= 0 && fs.hardAge !== fs.durationSec) s += `hard_age=${fs.hardAge}, `;
  const m = formatMatchWithPriority(fs.match, fs.priority);
  if (m !== "") s += m + " ";
  return s + "actions=" + formatActions(fs.actions);
}

/**
 * compare_flows: each --sort/--rsort field in turn (a flow that does not
 * match on the field goes after those that do, either way; values compare
 * as bytes in network order, i.e. numerically), then higher priority first.
 */
function compareFlows(a: FlowStats, b: FlowStats, criteria: readonly { field: string; desc: boolean }[]): number {
  for (const c of criteria) {
    let r = 0;
    if (c.field === "priority") r = a.priority - b.priority;
    else {
      const fld = mfFromName(c.field);
      if (!fld) continue;
      const aHas = !a.match.isWildcarded(fld);
      const bHas = !b.match.isWildcarded(fld);
      if (!aHas || !bHas) {
        if (aHas === bHas) continue;
        return aHas ? -1 : 1;
      }
      r = Buffer.compare(a.match.get(fld).value, b.match.get(fld).value);
    }
    if (r) return c.desc ? -r : r;
  }
  return b.priority - a.priority;
}

async function dumpFlows(sess: Session, args: string[]): Promise<void> {
  const o = sess.opts;
  const { v, request } = await prepareDumpFlows(sess, args, false);
  try {
    if (o.sort.length === 0 && o.names !== 1 && o.stats) {
      await sess.dump(v, request);
      return;
    }
    const all: FlowStats[] = [];
    for (const r of await sess.collect(v, request)) {
      const d = decodeMessage(r);
      if (!d.ok) throw new Fatal(`dump flows (${d.error})`);
      if (d.msg.type === "OFPT_ERROR") throw new Fatal(`dump flows (${ofpToString(r, 2)})`);
      if (d.msg.type === "OFPST_FLOW_REPLY") all.push(...d.msg.body.stats);
      // ovs-ofctl decodes these without the Nicira flow-age extension: no ages.
      if (d.msg.type === "NXST_FLOW_REPLY") all.push(...d.msg.body.stats.map((fs) => ({ ...fs, idleAge: -1, hardAge: -1 })));
    }
    if (o.sort.length) all.sort((a, b) => compareFlows(a, b, o.sort));
    let numbers: Map<number, string> | null = null;
    if (o.names === 1) {
      // ports_to_show: the maps come after the dump, on their own connections.
      await sess.fetchTables(args[0]!);
      numbers = new Map([...(await sess.fetchPorts(args[0]!))].map(([k, n]) => [n, k]));
    }
    for (const fs of all) {
      const line = flowStatsLine(fs, o.stats);
      write(` ${numbers ? portNumbersToNames(line, numbers) : line}\n`);
    }
  } finally {
    v.close();
  }
}

const cmdDumpFlows: Run = (sess, args) => dumpFlows(sess, args);

const cmdDumpAggregate: Run = async (sess, args) => {
  const { v, request } = await prepareDumpFlows(sess, args, true);
  try {
    await sess.dump(v, request);
  } finally {
    v.close();
  }
};

/** Sends flow_mods one at a time (or in a bundle with --bundle). */
async function flowModsToSwitch(sess: Session, name: string, fms: FlowModBody[], usable: number): Promise<void> {
  const { v, protocol } = await openForFlowMod(sess, name, usable);
  try {
    if (sess.opts.bundle) {
      await bundleTransact(sess, v, fms.map((fm) => (xid: number) => encodeFlowMod(fm, protocol, xid)));
      return;
    }
    for (const fm of fms) await sess.noreply(v, [encodeFlowMod(fm, protocol)]);
  } finally {
    v.close();
  }
}

/**
 * vconn_bundle_transact: the bundled messages get their xids first, then
 * the bundle is opened, the messages added and confirmed by a barrier, and
 * committed. Errors are printed per failing message, as ovs-ofctl does.
 */
export async function bundleTransact(sess: Session, v: Vconn, makers: ((xid: number) => Uint8Array)[]): Promise<void> {
  if (v.version < 4) {
    throw new Fatal(`Bundle is not supported for OpenFlow version ${["", "1.0", "1.1", "1.2"][v.version]}`);
  }
  const ctl = v.version === 4 ? "ONFT_BUNDLE_CONTROL" : "OFPT_BUNDLE_CONTROL";
  const add = v.version === 4 ? "ONFT_BUNDLE_ADD_MESSAGE" : "OFPT_BUNDLE_ADD_MESSAGE";
  const flags = 3; // atomic | ordered
  const bundleId = 0;
  const inner: Uint8Array[] = [];
  const adds: Uint8Array[] = [];
  for (const mk of makers) {
    const xid = allocXid();
    const m = mk(xid);
    inner.push(m);
    adds.push(msg({ type: add, version: v.version, xid, body: { bundleId, flags, message: m } } as OfpMessage));
  }
  const errors: Uint8Array[] = [];
  const control = async (ctrlType: number): Promise<boolean> => {
    const req = msg({ type: ctl, version: v.version, xid: allocXid(), body: { bundleId, ctrlType, flags } } as OfpMessage);
    const xid = xidOf(req);
    v.send(req);
    for (;;) {
      const m = await v.recv();
      if (xidOf(m) !== xid) {
        if (m[1] === 1) errors.push(m);
        continue;
      }
      if (m[1] === 1) {
        errors.push(m);
        return false;
      }
      return true;
    }
  };
  let ok = await control(0);
  const opened = ok;
  if (ok) {
    for (const a of adds) v.send(a);
    const barrier = msg({ type: "OFPT_BARRIER_REQUEST", version: v.version, xid: allocXid(), body: {} });
    v.send(barrier);
    const bx = xidOf(barrier);
    for (;;) {
      const m = await v.recv();
      if (xidOf(m) === bx) break;
      if (m[1] === 1) errors.push(m);
    }
    ok = errors.length === 0 ? await control(4) : (await control(6)) && false;
  }
  void opened;
  let text = "";
  for (const e of errors) {
    const d = decodeMessage(e);
    if (!d.ok || d.msg.type !== "OFPT_ERROR") {
      text += "***decode error***";
      continue;
    }
    const failed = inner.find((m) => xidOf(m) === xidOf(e));
    text += `Error ${d.msg.body.error} for: ` + ofpToString(failed ?? d.msg.body.data, sess.opts.verbosity + 1);
  }
  if (!ok) throw new Exit(1, text + `ovs-ofctl: talking to ${v.name} (Protocol error)\n`);
  if (text) throw new Exit(1, text);
}

function parseFlowOrFatal(text: string, command: number): { fm: FlowModBody; usable: number } {
  const r = parseFlowText(text, command);
  if (!r.ok) throw new Fatal(r.error);
  return r;
}

function flowCommand(command: number, strictCommand: number): Run {
  return async (sess, [name, flow]) => {
    await sess.nameMaps(name!, true);
    const cmd = sess.opts.strict ? strictCommand : command;
    const r = parseFlowOrFatal(sess.withPortNumbers(name!, flow ?? ""), cmd);
    await flowModsToSwitch(sess, name!, [r.fm], r.usable);
  };
}

const cmdAddFlows: Run = async (sess, [name, file]) => {
  await sess.nameMaps(name!, true);
  const text = readInput(file!);
  const fms: FlowModBody[] = [];
  let usable = 0x1ff;
  for (const { line, n } of preprocessedLines(text)) {
    const r = parseFlowText(sess.withPortNumbers(name!, line), -2);
    if (!r.ok) throw new Fatal(`${file}:${n}: ${r.error}`);
    fms.push(r.fm);
    usable &= r.usable;
  }
  if (fms.length === 0) return;
  await flowModsToSwitch(sess, name!, fms, usable);
};

/* ----- TLV maps, conntrack, IPFIX ----- */

function parseTlvMaps(s: string): { optionClass: number; optionType: number; optionLen: number; index: number }[] | string {
  const out: { optionClass: number; optionType: number; optionLen: number; index: number }[] = [];
  const re = /^\{class=(0x[0-9a-fA-F]+|[0-9]+),type=(0x[0-9a-fA-F]+|[0-9]+),len=([0-9]+)\}->tun_metadata([0-9]+)$/;
  for (const part of s.split(/,(?=\{)/)) {
    const m = re.exec(part.trim());
    if (!m) return "invalid tlv mapping";
    out.push({ optionClass: Number(m[1]), optionType: Number(m[2]), optionLen: Number(m[3]), index: Number(m[4]) });
  }
  return out;
}

function tlvMod(command: number): Run {
  return async (sess, [name, maps]) => {
    const mappings = maps === undefined ? [] : parseTlvMaps(maps);
    if (typeof mappings === "string") throw new Fatal(mappings);
    const { v } = await openForFlowMod(sess, name!, P_NXM_OXM_ANY);
    try {
      const cmd = command === 1 && maps === undefined ? 2 : command;
      await sess.noreply(v, [msg({ type: "NXT_TLV_TABLE_MOD", version: v.version, xid: allocXid(), body: { command: cmd, mappings } })]);
    } finally {
      v.close();
    }
  };
}

const cmdDumpTlvMap: Run = (sess, [name]) => trivial(sess, name!, (version) => ({ type: "NXT_TLV_TABLE_REQUEST", version, xid: allocXid(), body: {} }));

const cmdCtFlushZone: Run = async (sess, [name, zone]) => {
  const z = Number(zone);
  if (!/^[0-9]+$/.test(zone!) || z > 0xffff) throw new Fatal(`invalid zone "${zone}"`);
  const v = await sess.open(name!);
  try {
    await sess.noreply(v, [msg({ type: "NXT_CT_FLUSH_ZONE", version: v.version, xid: allocXid(), body: { zoneId: z } })]);
  } finally {
    v.close();
  }
};

const cmdDumpIpfixBridge: Run = (sess, [name]) => trivial(sess, name!, (version) => ({ type: "NXST_IPFIX_BRIDGE_REQUEST", version, xid: allocXid(), body: {} }));
const cmdDumpIpfixFlow: Run = (sess, [name]) => trivial(sess, name!, (version) => ({ type: "NXST_IPFIX_FLOW_REQUEST", version, xid: allocXid(), body: {} }));

/* ---------------- the table ---------------- */

const ro = (min: number, max: number, run: Run): SwitchCommand => ({ min, max, rw: false, run });
const rw = (min: number, max: number, run: Run): SwitchCommand => ({ min, max, rw: true, run });

export const SWITCH_COMMANDS: Readonly<Record<string, SwitchCommand>> = {
  show: ro(1, 1, cmdShow),
  "dump-desc": ro(1, 1, cmdDumpDesc),
  "dump-tables": ro(1, 1, cmdDumpTables),
  "dump-table-features": ro(1, 1, cmdDumpTableFeatures),
  "dump-table-desc": ro(1, 1, cmdDumpTableDesc),
  "mod-table": rw(3, 3, cmdModTable),
  "dump-ports": ro(1, 2, cmdDumpPorts),
  "dump-ports-desc": ro(1, 2, cmdDumpPortsDesc),
  "mod-port": rw(3, 3, cmdModPort),
  "get-frags": ro(1, 1, cmdGetFrags),
  "set-frags": rw(2, 2, cmdSetFrags),
  "dump-flows": ro(1, 2, cmdDumpFlows),
  "dump-aggregate": ro(1, 2, cmdDumpAggregate),
  "queue-stats": ro(1, 3, cmdQueueStats),
  "queue-get-config": ro(1, 3, cmdQueueGetConfig),
  "add-flow": rw(2, 2, flowCommand(OFPFC_ADD, OFPFC_ADD)),
  "add-flows": rw(2, 2, cmdAddFlows),
  "replace-flows": rw(2, 2, makeReplaceFlows(stdinText)),
  "diff-flows": ro(2, 2, makeDiffFlows(stdinText)),
  "mod-flows": rw(2, 2, flowCommand(OFPFC_MODIFY, OFPFC_MODIFY_STRICT)),
  "del-flows": rw(1, 2, flowCommand(OFPFC_DELETE, OFPFC_DELETE_STRICT)),
  "dump-groups": ro(1, 2, cmdDumpGroups),
  "dump-group-stats": ro(1, 2, cmdDumpGroupStats),
  "dump-group-features": ro(1, 1, cmdDumpGroupFeatures),
  "del-groups": rw(1, 2, cmdDelGroups),
  "add-group": rw(2, 2, groupCommand(GROUP_COMMAND_ADD)),
  "add-groups": rw(2, 2, cmdAddGroups),
  "mod-group": rw(2, 2, groupCommand((o) => (o.mayCreate ? GROUP_COMMAND_ADD_OR_MOD : GROUP_COMMAND_MODIFY))),
  "insert-buckets": rw(2, 2, groupCommand(GROUP_COMMAND_INSERT_BUCKET)),
  "remove-buckets": rw(1, 2, groupCommand(GROUP_COMMAND_REMOVE_BUCKET)),
  "add-meter": rw(2, 2, meterMod(0)),
  "mod-meter": rw(2, 2, meterMod(1)),
  "dump-meters": ro(1, 2, meterStats("OFPST_METER_CONFIG_REQUEST")),
  "meter-stats": ro(1, 2, meterStats("OFPST_METER_REQUEST")),
  "meter-features": ro(1, 1, cmdMeterFeatures),
  "del-meters": rw(1, 2, cmdDelMeters),
  "add-tlv-map": rw(2, 2, tlvMod(0)),
  "del-tlv-map": rw(1, 2, tlvMod(1)),
  "dump-tlv-map": ro(1, 1, cmdDumpTlvMap),
  "dump-ipfix-bridge": ro(1, 1, cmdDumpIpfixBridge),
  "dump-ipfix-flow": ro(1, 1, cmdDumpIpfixFlow),
  "ct-flush-zone": rw(2, 2, cmdCtFlushZone),
  "ct-flush": rw(1, 4, cmdCtFlush),
  probe: ro(1, 1, cmdProbe),
  ping: ro(1, 2, cmdPing),
  benchmark: ro(3, 3, cmdBenchmark),
  monitor: ro(1, 0x7fffffff, cmdMonitor),
  "packet-out": rw(2, 0x7fffffff, cmdPacketOut),
  snoop: ro(1, 1, cmdSnoop),
};
