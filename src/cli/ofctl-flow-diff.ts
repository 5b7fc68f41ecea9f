/**
 * `replace-flows` and `diff-flows`: flow tables read from files and from
 * switches, keyed by (table, match, priority), compared by what ovs-ofctl
 * compares (cookie, timeouts, importance, actions). replace-flows deletes
 * what only the switch has and adds what the file has new or different
 * (all of it with --readd); diff-flows prints "-" and "+" lines in
 * ovs-ofctl's format and exits 2 when the sources differ.
 */
import * as fs from "node:fs";
import {
  decodeMessage,
  encodeMessage,
  formatActions,
  formatMatchWithPriority,
  type FlowModBody,
  Match,
  type OfpAction,
  type OfpMessage,
  OFPFC_ADD,
  OFPFC_DELETE_STRICT,
  OFPP_NONE,
  OFPG_ANY,
} from "../openflow/index.js";
import { parseFlowText, P_ANY, protocolWire } from "../openflow/ofp-flow-parse.js";
import { allocXid } from "../openflow/vconn.js";
import { Exit, Fatal, preprocessedLines, write } from "./ofctl-common.js";
import { bundleTransact, encodeFlowMod, type Run, type Session, setProtocolForFlowDump } from "./ofctl-switch.js";

/** One version of a flow: what the file or the switch says about it. */
interface FlowVersion {
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  importance: number;
  flags: number;
  actions: OfpAction[];
}

interface FlowEntry {
  tableId: number;
  match: Match;
  priority: number;
  versions: [FlowVersion | null, FlowVersion | null];
}

class FlowTable {
  readonly entries = new Map<string, FlowEntry>();

  insert(tableId: number, match: Match, priority: number, version: FlowVersion, index: 0 | 1): void {
    const key = `${tableId} ${formatMatchWithPriority(match, priority)} ${priority}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { tableId, match, priority, versions: [null, null] };
      this.entries.set(key, e);
    }
    e.versions[index] = version;
  }
}

function versionsEqual(a: FlowVersion, b: FlowVersion): boolean {
  return a.cookie === b.cookie && a.idleTimeout === b.idleTimeout && a.hardTimeout === b.hardTimeout &&
    a.importance === b.importance && formatActions(a.actions) === formatActions(b.actions);
}

function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "No such file or directory" : code === "EACCES" ? "Permission denied" : code === "EISDIR" ? "Is a directory" : String(code);
}

/** read_flows_from_file: every line an added flow; returns the usable protocols. */
function readFlowsFromFile(file: string, table: FlowTable, index: 0 | 1, stdin: () => string): number {
  let text: string;
  if (file === "-") text = stdin();
  else {
    try {
      text = fs.readFileSync(file, "latin1");
    } catch (e) {
      throw new Fatal(`${file}: open (${strerror(e)})`);
    }
  }
  let usable = P_ANY;
  for (const { line, n } of preprocessedLines(text)) {
    const r = parseFlowText(line, OFPFC_ADD);
    if (!r.ok) throw new Fatal(`${file}:${n}: ${r.error}`);
    usable &= r.usable;
    const fm = r.fm;
    table.insert(fm.tableId === 0xff ? 0 : fm.tableId, fm.match, fm.priority, {
      cookie: fm.newCookie, idleTimeout: fm.idleTimeout, hardTimeout: fm.hardTimeout, importance: fm.importance, flags: fm.flags, actions: fm.actions,
    }, index);
  }
  return usable;
}

/** read_flows_from_switch: all flows, by a flow-statistics dump in `protocol`. */
async function readFlowsFromSwitch(sess: Session, v: Awaited<ReturnType<Session["open"]>>, protocol: number, table: FlowTable, index: 0 | 1): Promise<void> {
  const wire = protocolWire(protocol);
  const body = { match: new Match(), tableId: 0xff, outPort: OFPP_NONE, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n };
  const request = encodeMessage({ type: wire.nxm ? "NXST_FLOW_REQUEST" : "OFPST_FLOW_REQUEST", version: wire.version, xid: allocXid(), body } as OfpMessage);
  for (const reply of await sess.collect(v, request)) {
    const d = decodeMessage(reply);
    if (!d.ok) throw new Fatal(`received bad reply (${d.error})`);
    if (d.msg.type === "OFPT_ERROR") throw new Exit(1, `ovs-ofctl: dump flows (${d.msg.body.error})\n`);
    if (d.msg.type !== "OFPST_FLOW_REPLY" && d.msg.type !== "NXST_FLOW_REPLY") continue;
    for (const fs of d.msg.body.stats) {
      table.insert(fs.tableId, fs.match, fs.priority, {
        cookie: fs.cookie, idleTimeout: fs.idleTimeout, hardTimeout: fs.hardTimeout, importance: fs.importance, flags: fs.flags, actions: fs.actions,
      }, index);
    }
  }
}

function flowModFor(e: FlowEntry, version: FlowVersion, command: number): FlowModBody {
  return {
    command, tableId: e.tableId, match: e.match, priority: e.priority, cookie: 0n, cookieMask: 0n, newCookie: version.cookie,
    idleTimeout: version.idleTimeout, hardTimeout: version.hardTimeout, importance: version.importance, bufferId: 0xffffffff,
    outPort: OFPP_NONE, outGroup: OFPG_ANY, flags: version.flags, actions: command === OFPFC_ADD ? version.actions : [],
  };
}

export function makeReplaceFlows(stdin: () => string): Run {
  return async (sess, [name, file]) => {
    const table = new FlowTable();
    const usable = readFlowsFromFile(file!, table, 0, stdin);
    const v = await sess.open(name!);
    try {
      const protocol = await setProtocolForFlowDump(sess, v, usable);
      await readFlowsFromSwitch(sess, v, protocol, table, 1);
      const fms: FlowModBody[] = [];
      for (const e of table.entries.values()) {
        const [fileV, swV] = e.versions;
        if (swV && !fileV) fms.push(flowModFor(e, swV, OFPFC_DELETE_STRICT));
      }
      for (const e of table.entries.values()) {
        const [fileV, swV] = e.versions;
        if (fileV && (sess.opts.readd || !swV || !versionsEqual(swV, fileV))) fms.push(flowModFor(e, fileV, OFPFC_ADD));
      }
      if (sess.opts.bundle) {
        await bundleTransact(sess, v, fms.map((fm) => (xid: number) => encodeFlowMod(fm, protocol, xid)));
      } else {
        await sess.noreply(v, fms.map((fm) => encodeFlowMod(fm, protocol)));
      }
    } finally {
      v.close();
    }
  };
}

/** diff-flows' text of one version of a flow (empty when the source lacks it). */
function versionText(e: FlowEntry, ver: FlowVersion | null): string {
  if (!ver) return "";
  let s = "";
  if (e.tableId) s += `table=${e.tableId} `;
  s += formatMatchWithPriority(e.match, e.priority);
  if (ver.cookie !== 0n) s += ` cookie=0x${ver.cookie.toString(16)}`;
  if (ver.idleTimeout) s += ` idle_timeout=${ver.idleTimeout}`;
  if (ver.hardTimeout) s += ` hard_timeout=${ver.hardTimeout}`;
  if (ver.importance) s += ` importance=${ver.importance}`;
  return s + " actions=" + formatActions(ver.actions);
}

async function readFlowsFromSource(sess: Session, source: string, table: FlowTable, index: 0 | 1, stdin: () => string): Promise<void> {
  let isFile = source.startsWith("/") || source.startsWith(".");
  if (!isFile && !source.includes(":")) {
    try {
      fs.statSync(source);
      isFile = true;
    } catch {
      /* a switch */
    }
  }
  if (isFile) {
    readFlowsFromFile(source, table, index, stdin);
    return;
  }
  const v = await sess.open(source);
  try {
    const protocol = await setProtocolForFlowDump(sess, v, P_ANY);
    await readFlowsFromSwitch(sess, v, protocol, table, index);
  } finally {
    v.close();
  }
}

export function makeDiffFlows(stdin: () => string): Run {
  return async (sess, [a, b]) => {
    const table = new FlowTable();
    await readFlowsFromSource(sess, a!, table, 0, stdin);
    await readFlowsFromSource(sess, b!, table, 1, stdin);
    let differ = false;
    for (const e of table.entries.values()) {
      const as = versionText(e, e.versions[0]);
      const bs = versionText(e, e.versions[1]);
      if (as !== bs) {
        if (as) write(`-${as}\n`);
        if (bs) write(`+${bs}\n`);
        differ = true;
      }
    }
    if (differ) throw new Exit(2);
  };
}
