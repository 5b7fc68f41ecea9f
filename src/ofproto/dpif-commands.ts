/**
 * The unixctl commands of ofproto-dpif, with OVS 3.1's texts:
 * dpif/show, dpif/dump-dps, dpif/dump-flows, ofproto/list, upcall/show,
 * revalidator/purge, revalidator/wait, bridge/dump-flows,
 * netdev-dummy/receive and netdev-dummy/set-admin-state.
 *
 * They read the live backers and bridges of ofproto-dpif.ts (every bridge
 * of the process), so a vswitchd registers them once:
 * `registerDpifCommands(registry)`.
 */
import type { DpifFlow } from "../datapath/index.js";
import { odpFlowToNetlink } from "../flow/odp-key.js";
import { formatDpFlowStats, formatOdpActions, formatOdpFlow, formatUfid } from "../flow/odp-format.js";
import { W_IN_PORT } from "../flow/key-layout.js";
import { packetFromFlowText } from "../flow/compose.js";
import { formatActions } from "../openflow/ofp-actions-codec.js";
import { formatMatchWithPriority } from "../openflow/ofp-flow.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { allBackers, allDpifBridges, findDpifBridge, type DpifBacker, type DpifPort } from "./ofproto-dpif.js";
import { hmapOrder } from "./ofport-order.js";


export function registerDpifCommands(registry: UnixctlRegistry): void {
  registry.register("dpif/show", "", 0, 0, () => dpifShow());
  registry.register("dpif/dump-dps", "", 0, 0, () => dumpDps());
  registry.register("dpif/dump-flows", "[-m] [--names | --no-names] bridge", 1, Infinity, (args) => dumpFlows(args));
  registry.register("ofproto/list", "", 0, 0, () => ofprotoList());
  registry.register("upcall/show", "", 0, 0, () => upcallShow());
  registry.register("revalidator/purge", "", 0, 0, () => {
    for (const b of allBackers()) b.udpif.revalidator.purge();
    return "";
  });
  registry.register("revalidator/wait", "", 0, 0, async () => {
    const bs = allBackers();
    if (bs.length > 1) throw new UnixctlError("can't wait on multiple udpifs.");
    for (const b of bs) {
      b.checkPorts();
      await b.udpif.revalidator.wait();
    }
    return "";
  });
  registry.register("bridge/dump-flows", "[--offload-stats] bridge", 1, 2, (args) => bridgeDumpFlows(args));
  registry.register("netdev-dummy/receive", "name [--qid queue_id] packet|flow [--len packet_len]", 2, Infinity, (args) => dummyReceive(args));
  registry.register("netdev-dummy/set-admin-state", "[netdev] up|down", 1, 2, (args) => setAdminState(args));
}

/* ---------------- dpif/show, dpif/dump-dps, ofproto/list ---------------- */

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function dpifShow(): string {
  let s = "";
  const backers = [...allBackers()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  for (const backer of backers) {
    const st = backer.dpif.getStats();
    s += `${backer.type}@${backer.dpName}: hit:${st.hits} missed:${st.missed}\n`;
    for (const br of [...backer.bridges.values()].sort(byName)) {
      s += `  ${br.name}:\n`;
      for (const p of br.portsByName()) s += `    ${portLine(backer, p)}\n`;
    }
  }
  return s;
}

function portLine(backer: DpifBacker, p: DpifPort): string {
  let s = `${p.name} ${p.ofpNo}/${p.odpNo >= 0 ? p.odpNo : "none"}: (`;
  let type = p.type;
  let config: Record<string, string> = {};
  if (p.odpNo >= 0) {
    const q = backer.dpif.portQueryByNumber(p.odpNo);
    if (q.error === 0 && q.port !== undefined) type = q.port.type;
    const c = backer.dpif.portGetConfig?.(p.odpNo);
    if (c !== undefined && c.error === 0 && c.config !== undefined) config = c.config;
    // A tunnel shares its datapath port: its own options are what OVS shows.
    if (p.netdev !== null && p.netdev.type === p.type && p.netdev.getReportedConfig !== undefined) config = p.netdev.getReportedConfig();
  } else if (p.type === "patch") {
    const peer = p.cfg.options["peer"];
    if (peer !== undefined) config = { peer };
  }
  s += type;
  const keys = Object.keys(config).sort();
  if (keys.length > 0) s += ": " + keys.map((k) => `${k}=${config[k]}`).join(", ");
  return s + ")";
}

function dumpDps(): string {
  const names: string[] = [];
  for (const br of allDpifBridges()) names.push(`${br.datapathType}@${br.name}`);
  names.sort();
  return names.map((n) => n + "\n").join("");
}

/** OVS lists ofprotos in the order of its hash map keyed by name: replayed here. */
export function ofprotoList(): string {
  return hmapOrder(allDpifBridges().map((b) => b.name)).map((n) => n + "\n").join("");
}

/* ---------------- dpif/dump-flows ---------------- */

function ufidBytes(w: Uint32Array): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const v = w[i]!;
    b[4 * i] = v & 0xff;
    b[4 * i + 1] = (v >>> 8) & 0xff;
    b[4 * i + 2] = (v >>> 16) & 0xff;
    b[4 * i + 3] = (v >>> 24) & 0xff;
  }
  return b;
}

/** One line of dpif/dump-flows (OVS's format_dpif_flow without the dp layer). */
export function formatDpifDumpLine(f: DpifFlow, now: number, verbose: boolean, names: ReadonlyMap<number, string> | null): string {
  const nl = odpFlowToNetlink(f.key, f.mask);
  let s = verbose ? formatUfid(ufidBytes(f.ufid)) + " " : "";
  s += formatOdpFlow(nl.key, nl.mask, names, verbose) + ", ";
  s += formatDpFlowStats({ nPackets: f.stats.packets, nBytes: f.stats.bytes, used: f.stats.used, tcpFlags: f.stats.tcpFlags }, now);
  return s + ", actions:" + formatOdpActions(f.actions, names);
}

function dumpFlows(args: string[]): string {
  let verbose = false;
  let names: boolean | null = null;
  const rest: string[] = [];
  for (const a of args) {
    if (a === "-m") verbose = true;
    else if (a === "--names") names = true;
    else if (a === "--no-names") names = false;
    else rest.push(a);
  }
  if (rest.length !== 1) throw new UnixctlError(rest.length === 0 ? "no bridge specified" : "no such bridge");
  const br = findDpifBridge(rest[0]!);
  if (br === null) throw new UnixctlError("no such bridge");
  const backer = br.backer;
  const useNames = names ?? verbose;
  const portNames = useNames ? new Map(backer.dpif.portDump().map((p) => [p.portNo, p.name])) : null;
  const now = backer.clock();
  let s = "";
  let cursor = 0;
  while (cursor >= 0) {
    const page = backer.dpif.flowDumpPage(cursor, 1024);
    for (const f of page.flows) {
      const port = backer.portByOdp(f.key[W_IN_PORT]!, f.key);
      if (port === null || port.bridge !== br) continue;
      s += formatDpifDumpLine(f, now, verbose, portNames) + "\n";
    }
    cursor = page.next;
  }
  return s;
}

/* ---------------- upcall/show ---------------- */

/** Revalidator "thread ids" shown by upcall/show (stable per backer). */
const revalidatorIds = new WeakMap<DpifBacker, number>();
let nextRevalidatorId = 4;

function upcallShow(): string {
  let s = "";
  for (const b of allBackers()) {
    const u = b.udpif;
    const r = u.revalidator;
    const st = b.dpif.getStats();
    let id = revalidatorIds.get(b);
    if (id === undefined) {
      id = nextRevalidatorId;
      nextRevalidatorId += 5;
      revalidatorIds.set(b, id);
    }
    s += `${b.type}@${b.dpName}:\n`;
    s += `  flows         : (current ${st.flows}) (avg ${r.avgFlows}) (max ${r.maxFlows}) (limit ${u.flowLimit})\n`;
    s += `  dump duration : ${r.dumpDuration || 1}ms\n`;
    s += "  ufid enabled : true\n";
    s += "\n";
    s += `  ${id}: (keys ${u.ukeys.size})\n`;
  }
  return s;
}

/* ---------------- bridge/dump-flows ---------------- */

/** OVS's hidden table-254 rules of every ofproto-dpif bridge (add_internal_flows). */
const INTERNAL_RULES = [
  "priority=2,recirc_id=0,actions=drop",
  "priority=0,reg0=0x1,actions=controller(reason=)",
  "priority=0,reg0=0x2,actions=drop",
  "priority=0,reg0=0x3,actions=drop",
];

function bridgeDumpFlows(args: string[]): string {
  let offload = false;
  const rest: string[] = [];
  for (const a of args) {
    if (a === "--offload-stats") offload = true;
    else rest.push(a);
  }
  const br = rest.length === 1 ? findDpifBridge(rest[0]!) : null;
  if (br === null) throw new UnixctlError("Unknown bridge");
  const now = br.now();
  const off = offload ? "n_offload_packets=0, n_offload_bytes=0, " : "";
  let s = "";
  const rules = br.ofproto.tables.allRules();
  for (const r of rules) {
    if (r.tableId === 254) continue;
    s += r.tableId !== 0 ? `table_id=${r.tableId}, ` : "";
    s += `duration=${Math.floor(Math.max(0, now - r.created) / 1000)}s, n_packets=${r.packetCount}, n_bytes=${r.byteCount}, ${off}`;
    s += `${formatMatchWithPriority(r.match, r.priority)},actions=${formatActions(r.actions)}\n`;
  }
  const dur = Math.floor(Math.max(0, now - br.created) / 1000);
  for (const t of INTERNAL_RULES) s += `table_id=254, duration=${dur}s, n_packets=0, n_bytes=0, ${off}${t}\n`;
  return s;
}

/* ---------------- netdev-dummy ---------------- */

interface DummyLike {
  receive(frame: Uint8Array): boolean;
}

function isDummy(nd: unknown): nd is DummyLike {
  return typeof (nd as { receive?: unknown } | null)?.receive === "function";
}

function findPort(name: string): DpifPort | null {
  for (const br of allDpifBridges()) {
    const p = br.portByName(name);
    if (p !== null) return p;
  }
  return null;
}

/** OVS's eth_from_hex: hex digits (spaces allowed) → frame, or null. */
export function ethFromHex(s: string): Uint8Array | null {
  const t = s.replace(/\s+/g, "");
  if (t.length === 0 || t.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(t)) return null;
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function dummyReceive(args: string[]): string {
  const port = findPort(args[0]!);
  if (port === null || port.netdev === null || !isDummy(port.netdev) || port.odpNo < 0) {
    throw new UnixctlError("no such dummy netdev");
  }
  let packetLen: number | null = null;
  const frames: Uint8Array[] = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--qid" && i + 1 < args.length) {
      i++;
      continue;
    }
    if (a === "--len" && i + 1 < args.length) {
      packetLen = Number.parseInt(args[++i]!, 10);
      continue;
    }
    // Hex shorter than an Ethernet header is tried as a flow, as OVS does.
    let frame = ethFromHex(a);
    if (frame !== null && frame.length < 14) frame = null;
    if (frame === null) {
      const names = new Map(port.bridge.backer.dpif.portDump().map((p) => [p.name, p.portNo]));
      const r = packetFromFlowText(a, names, packetLen !== null ? { len: packetLen } : {});
      if ("error" in r) throw new UnixctlError(r.error);
      frame = r.packet;
    }
    frames.push(frame);
  }
  const backer = port.bridge.backer;
  const nd = port.netdev as unknown as DummyLike;
  for (const f of frames) nd.receive(f);
  // Processed before the reply: a following dpif/dump-flows shows the flow.
  const dp = backer.netdevDp;
  if (dp !== null) {
    const now = backer.clock();
    while (dp.pollPort(port.odpNo, now) > 0) { /* drain */ }
    backer.afterPackets(now);
  } else {
    backer.run();
  }
  return "";
}

function setAdminState(args: string[]): string {
  const state = args[args.length - 1];
  if (state !== "up" && state !== "down") throw new UnixctlError("Invalid Admin State");
  const up = state === "up";
  if (args.length === 2) {
    const p = findPort(args[0]!);
    if (p === null || p.netdev === null || !isDummy(p.netdev)) throw new UnixctlError("Unknown Dummy Interface");
    p.netdev.setUp(up);
  } else {
    for (const br of allDpifBridges()) for (const p of br.ports.values()) if (p.netdev !== null && isDummy(p.netdev)) p.netdev.setUp(up);
  }
  for (const b of allBackers()) b.checkPorts();
  return "OK";
}

