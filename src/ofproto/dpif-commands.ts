/**
 * The unixctl commands of ofproto-dpif, with OVS 3.1's texts:
 * dpif/show, dpif/dump-dps, dpif/dump-flows, dpif/show-dp-features,
 * dpif/set-dp-features, ofproto/list, upcall/show, the upcall switches
 * (upcall/disable-megaflows, enable-megaflows, disable-ufid, enable-ufid,
 * set-flow-limit), ofproto/list-tunnels, revalidator/purge,
 * revalidator/wait, bridge/dump-flows,
 * the dpif-netdev/pmd-* family (the main thread as OVS shows it on a
 * datapath without PMD threads), netdev-dummy/receive,
 * netdev-dummy/set-admin-state, netdev-dummy/conn-state,
 * dpif-dummy/change-port-number, and (from datapath/dpif-netdev-impl.ts)
 * the dpif-netdev implementation-selection commands and odp-execute/*.
 *
 * They read the live backers and bridges of ofproto-dpif.ts (every bridge
 * of the process), so a vswitchd registers them once:
 * `registerDpifCommands(registry)`. Registering also hooks the process
 * clock's warps (util/clock.ts): each `time/warp` step polls the
 * datapaths, runs the revalidators and expires OpenFlow rules.
 */
import type { DpifFlow } from "../datapath/index.js";
import { odpFlowToNetlink } from "../flow/odp-key.js";
import { formatDpFlowStats, formatOdpActions, formatOdpFlow, formatUfidWords } from "../flow/odp-format.js";
import { W_IN_PORT } from "../flow/key-layout.js";
import { packetFromFlowText } from "../flow/compose.js";
import { formatActions } from "../openflow/ofp-actions-codec.js";
import { formatMatchWithPriority } from "../openflow/ofp-flow.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { allBackers, allDpifBridges, findDpifBridge, type DpifBacker, type DpifPort } from "./ofproto-dpif.js";
import { hmapOrder } from "./ofport-order.js";
import { megaflowsAreEnabled, setMegaflowsEnabled, setUfidEnabled, ufidIsEnabled } from "./upcall.js";
import { pmdRxqText, pmdStatsClear, pmdStatsText, statsSinceClear } from "../datapath/pmd-stats.js";
import { onTimeWarp } from "../util/clock.js";
import { formatIpv4, formatIpv6 } from "../flow/odp-text.js";
import { NetdevVport, type TunnelConfig } from "../netdev/netdev-vport.js";
import { registerDpifNetdevImplCommands } from "../datapath/dpif-netdev-impl.js";
import { DpifNetdev } from "../datapath/index.js";
import { dpifEnumerate, dpifOpen, dpifTypes } from "../datapath/dpif.js";
import { netdevHasType } from "../netdev/netdev.js";


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
  registry.register("netdev-dummy/conn-state", "[netdev]", 0, 1, (args) => (args.length === 1 ? `${args[0]!}: unknown\n` : ""));
  registerUpcallSwitches(registry);
  registerPmdCommands(registry);
  registerDpifNetdevImplCommands(registry);
  registry.register("dpif-dummy/change-port-number", "dp port new-number", 3, 3, (args) => changePortNumber(args));
  registry.register("ofproto/list-tunnels", "", 0, 0, () => listTunnels());
  registry.register("dpif/show-dp-features", "bridge", 1, 1, (args) => showDpFeatures(args[0]!));
  registry.register("dpif/set-dp-features", "bridge", 1, 3, (args) => setDpFeatures(args));
  if (!warpHooked) {
    warpHooked = true;
    onTimeWarp((now) => runTimers(now));
  }
}

/* ---------------- ofproto/list-tunnels ---------------- */

/** An address as OVS's ipv6_format_mapped shows it: IPv4 (plain or mapped) dotted, "::" when unset. */
function mappedAddress(a: Uint8Array | null): string {
  if (a === null || a.every((b) => b === 0)) return "::";
  if (a.length === 4) return formatIpv4(((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0);
  const mapped = a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
  return mapped ? formatIpv4(((a[12]! << 24) | (a[13]! << 16) | (a[14]! << 8) | a[15]!) >>> 0) : formatIpv6(a);
}

/** C's "%#x": "0" for zero, else 0x-prefixed hex. */
function altHex(v: bigint | number): string {
  return v === 0 || v === 0n ? "0" : `0x${v.toString(16)}`;
}

/** One line of ofproto/list-tunnels (OVS's tnl_port_format). */
function tunnelLine(name: string, odp: number, c: TunnelConfig): string {
  let s = `port ${odp}: ${name} (${c.type}: `;
  if (!c.remoteFlow) s += `${mappedAddress(c.localIp)}->${mappedAddress(c.remoteIp)}`;
  else if (!c.localFlow) s += `${mappedAddress(c.localIp)}->flow`;
  else s += "flow->flow";
  s += c.inKeyFlow ? ", key=flow" : `, key=${altHex(c.inKey)}`;
  s += `, ${c.packetType ?? "legacy_l2"}, dp port=${odp}`;
  if (c.outKey !== c.inKey || c.outKeyPresent !== c.inKeyPresent || c.outKeyFlow !== c.inKeyFlow) {
    s += `, out_key=${!c.outKeyPresent ? "none" : c.outKeyFlow ? "flow" : altHex(c.outKey)}`;
  }
  s += c.ttlInherit ? ", ttl=inherit" : `, ttl=${c.ttl}`;
  if (c.tosInherit) s += ", tos=inherit";
  else if (c.tos !== 0) s += `, tos=${altHex(c.tos)}`;
  if (!c.dontFragment) s += ", df=false";
  if (c.csum === true) s += ", csum=true";
  return s + ")\n";
}

/**
 * The tunnel ports of every bridge, by datapath port then name (OVS walks
 * its hash tables of them). With dummy devices overriding every type
 * there are none, as in OVS.
 */
function listTunnels(): string {
  const rows: { odp: number; name: string; line: string }[] = [];
  for (const br of allDpifBridges()) {
    for (const p of br.ports.values()) {
      if (!(p.netdev instanceof NetdevVport) || p.odpNo < 0) continue;
      rows.push({ odp: p.odpNo, name: p.name, line: tunnelLine(p.name, p.odpNo, p.netdev.config) });
    }
  }
  rows.sort((a, b) => a.odp - b.odp || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return rows.map((r) => r.line).join("");
}

/* ---------------- time/warp ---------------- */

let warpHooked = false;

/**
 * One turn of the timers a warp step must run, in OVS's order: the
 * datapath polled, the revalidator pushing megaflow statistics to the
 * rules (so idle timeouts see them) and expiring idle megaflows, then the
 * OpenFlow rules' timeouts; MAC aging runs in the backer's run.
 */
function runTimers(now: number): void {
  for (const b of allBackers()) {
    b.run(now);
    b.udpif.revalidator.sweep();
  }
  for (const br of allDpifBridges()) br.ofproto.expire(now);
}

/* ---------------- upcall switches ---------------- */

/** OVS's atoi: leading blanks, a sign, digits; anything else ends it (0 when none). */
export function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

/** Deletes every megaflow of every backer (udpif_flush_all_datapaths). */
function flushAllDatapaths(): void {
  for (const b of allBackers()) {
    b.udpif.revalidator.purge();
    b.dpif.flowFlush();
  }
}

function registerUpcallSwitches(registry: UnixctlRegistry): void {
  registry.register("upcall/disable-megaflows", "", 0, 0, () => {
    setMegaflowsEnabled(false);
    flushAllDatapaths();
    return "megaflows disabled";
  });
  registry.register("upcall/enable-megaflows", "", 0, 0, () => {
    setMegaflowsEnabled(true);
    flushAllDatapaths();
    return "megaflows enabled";
  });
  registry.register("upcall/disable-ufid", "", 0, 0, () => {
    setUfidEnabled(false);
    return "Datapath dumping tersely using UFID disabled";
  });
  registry.register("upcall/enable-ufid", "", 0, 0, () => {
    setUfidEnabled(true);
    return "Datapath dumping tersely using UFID enabled for supported datapaths";
  });
  registry.register("upcall/set-flow-limit", "flow-limit-number", 1, 1, (args) => {
    // Until the revalidator's next adaptation, as in OVS.
    const limit = atoi(args[0]!) >>> 0;
    for (const b of allBackers()) b.udpif.flowLimit = limit;
    return `set flow_limit to ${limit}\n`;
  });
}

/** Whether megaflows are on (tests). */
export { megaflowsAreEnabled };

/* ---------------- dpif-netdev/pmd-* ---------------- */

/** The userspace datapaths, by datapath name. */
function netdevBackers(): DpifBacker[] {
  return allBackers().filter((b) => b.netdevDp !== null);
}

/**
 * Parses `[-pmd core] [-secs secs] [dp]` as OVS does: a well-formed option
 * is taken, anything else ends the options. Returns the core asked for
 * (null for all) and the datapath, or an error text.
 */
function pmdArgs(args: string[]): { core: number | null; secs: number; backer: DpifBacker | null } | string {
  let core: number | null = null;
  let secs = 60;
  let i = 0;
  while (i < args.length) {
    if (args[i] === "-pmd" && i + 1 < args.length && /^\d+$/.test(args[i + 1]!)) {
      core = Number(args[i + 1]);
      i += 2;
    } else if (args[i] === "-secs" && i + 1 < args.length) {
      const v = /^\d+$/.test(args[i + 1]!) ? Number(args[i + 1]) : 0;
      secs = v >= 1 && v <= 60 ? Math.ceil(v / 5) * 5 : 60;
      i += 2;
    } else break;
  }
  const dps = netdevBackers();
  let backer: DpifBacker | null = null;
  if (i < args.length) backer = dps.find((b) => b.dpName === args[i] || `${b.type}@${b.dpName}` === args[i]) ?? null;
  if (backer === null && dps.length === 1) backer = dps[0]!;
  if (backer === null && dps.length > 1) return "please specify an existing datapath";
  return { core, secs, backer };
}

function registerPmdCommands(registry: UnixctlRegistry): void {
  registry.register("dpif-netdev/pmd-stats-show", "[-pmd core] [dp]", 0, 3, (args) => {
    const a = pmdArgs(args);
    if (typeof a === "string") throw new UnixctlError(a);
    // The main thread is no PMD core: a -pmd filter leaves nothing to show.
    if (a.backer === null || a.core !== null) return "";
    return pmdStatsText(a.backer.dpName, a.backer.dpif.getStats());
  });
  registry.register("dpif-netdev/pmd-stats-clear", "[-pmd core] [dp]", 0, 3, (args) => {
    const a = pmdArgs(args);
    if (typeof a === "string") throw new UnixctlError(a);
    if (a.backer !== null && a.core === null) pmdStatsClear(a.backer.dpName, a.backer.dpif.getStats());
    return "";
  });
  registry.register("dpif-netdev/pmd-rxq-show", "[-pmd core] [-secs secs] [dp]", 0, 5, (args) => {
    const a = pmdArgs(args);
    if (typeof a === "string") throw new UnixctlError(a);
    return a.core !== null ? "" : pmdRxqText(a.secs);
  });
  registry.register("dpif-netdev/pmd-rxq-rebalance", "[dp]", 0, 1, (args) => {
    const dps = netdevBackers();
    const dp = args.length === 1 ? dps.find((b) => b.dpName === args[0] || `${b.type}@${b.dpName}` === args[0]) : dps.length === 1 ? dps[0] : undefined;
    if (dp === undefined) throw new UnixctlError("please specify an existing datapath");
    // With the main thread as the only poller there is nothing to move.
    return "pmd rxq rebalance requested.\n";
  });
  registry.register("dpif-netdev/pmd-perf-log-set", "on|off [-b before] [-a after] [-e|-ne] [-us usec] [-q qlen]", 0, Infinity, (args) => {
    // Checked as OVS checks it; there is no PMD whose iterations could be logged.
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "on" || a === "off" || a === "-e" || a === "-ne") continue;
      if ((a === "-b" || a === "-a" || a === "-us" || a === "-q") && i + 1 < args.length && /^\d+$/.test(args[i + 1]!)) {
        i++;
        continue;
      }
      throw new UnixctlError("Usage: ovs-appctl dpif-netdev/pmd-perf-log-set [on|off] [-b before] [-a after] [-e|-ne] [-us usec] [-q qlen]");
    }
    return "";
  });
  registry.register("dpif-netdev/pmd-perf-show", "[-nh] [-it iter-history-len] [-ms ms-history-len] [-pmd core] [dp]", 0, 8, () => "");
}

/* ---------------- dpif/show-dp-features, dpif/set-dp-features ---------------- */

/** What the userspace datapath supports: (field, label, boot value), in show-dp-features' order. */
const DP_FEATURES: readonly [string, string, boolean | number][] = [
  ["masked_set_action", "Masked set action", true],
  ["tnl_push_pop", "Tunnel push pop", true],
  ["ufid", "Ufid", true],
  ["trunc", "Truncate action", true],
  ["clone", "Clone action", true],
  ["sample_nesting", "Sample nesting", 10],
  ["ct_eventmask", "Conntrack eventmask", true],
  ["ct_clear", "Conntrack clear", true],
  ["max_hash_alg", "Max dp_hash algorithm", 1],
  ["check_pkt_len", "Check pkt length action", true],
  ["ct_timeout", "Conntrack timeout policy", true],
  ["explicit_drop_action", "Explicit Drop action", true],
  ["lb_output_action", "Optimized Balance TCP mode", true],
  ["ct_zero_snat", "Conntrack all-zero IP SNAT", true],
  ["add_mpls", "MPLS Label add", true],
  ["max_vlan_headers", "Max VLAN headers", 1],
  ["max_mpls_depth", "Max MPLS depth", 3],
  ["recirc", "Recirc", true],
  ["ct_state", "CT state", true],
  ["ct_zone", "CT zone", true],
  ["ct_mark", "CT mark", true],
  ["ct_label", "CT label", true],
  ["ct_state_nat", "CT state NAT", true],
  ["ct_orig_tuple", "CT orig tuple", true],
  ["ct_orig_tuple6", "CT orig tuple for IPv6", true],
  ["nd_ext", "IPv6 ND Extension", true],
];

/** The order set-dp-features lists them in (OVS walks a hash table of them). */
const SET_ORDER = [
  "sample_nesting", "clone", "ufid", "lb_output_action", "nd_ext", "ct_orig_tuple", "tnl_push_pop",
  "ct_eventmask", "ct_state", "ct_zero_snat", "ct_clear", "max_vlan_headers", "recirc", "ct_label",
  "max_hash_alg", "add_mpls", "ct_state_nat", "ct_timeout", "explicit_drop_action", "ct_mark",
  "ct_orig_tuple6", "max_mpls_depth", "masked_set_action", "check_pkt_len", "ct_zone", "trunc",
];

/**
 * Run-time feature values set by dpif/set-dp-features, per backer. They
 * are shown, as OVS shows them; tsovs's translation does not consult them
 * (its datapath supports every feature).
 */
const runtimeFeatures = new WeakMap<DpifBacker, Map<string, boolean | number>>();

function featuresOf(b: DpifBacker): Map<string, boolean | number> {
  let m = runtimeFeatures.get(b);
  if (m === undefined) {
    m = new Map(DP_FEATURES.map(([f, , v]) => [f, v]));
    runtimeFeatures.set(b, m);
  }
  return m;
}

function showDpFeatures(bridge: string): string {
  const br = findDpifBridge(bridge);
  if (br === null) throw new UnixctlError("no such bridge");
  // What the datapath offers (boot time): set-dp-features' changes do not show here, as in OVS.
  let s = "";
  for (const [, label, v] of DP_FEATURES) {
    s += `${label}: ${typeof v === "boolean" ? (v ? "Yes" : "No") : v}\n`;
  }
  return s;
}

function setDpFeatures(args: string[]): string {
  const br = findDpifBridge(args[0]!);
  if (br === null) throw new UnixctlError("no such bridge");
  const rt = featuresOf(br.backer);
  const line = (f: string): string => {
    const d = DP_FEATURES.find((x) => x[0] === f)!;
    return `${f} (${d[1]}) : [run time]:${String(rt.get(f))}, [boot time]:${String(d[2])}\n`;
  };
  if (args.length === 1) return SET_ORDER.map(line).join("");
  const f = args[1]!;
  const d = DP_FEATURES.find((x) => x[0] === f);
  if (d === undefined) return "Unexpected support field\n";
  if (args.length === 2) return line(f);
  const v = args[2]!;
  if (typeof d[2] === "boolean") {
    if (v !== "true" && v !== "false") return "Boolean value expected\n";
    // A feature the datapath lacks at boot cannot be turned on.
    if (v === "true" && !d[2]) return "Feature cannot be enabled, it's not supported by the datapath\n";
    rt.set(f, v === "true");
  } else {
    const n = atoi(v);
    if (n > d[2]) return "Value too large, it's not supported by the datapath\n";
    rt.set(f, n);
  }
  return "";
}

/* ---------------- dpif/show, dpif/dump-dps, ofproto/list ---------------- */

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function dpifShow(): string {
  let s = "";
  const backers = [...allBackers()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  for (const backer of backers) {
    const st = statsSinceClear(backer.dpName, backer.dpif.getStats());
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


/** One line of dpif/dump-flows (OVS's format_dpif_flow without the dp layer). */
export function formatDpifDumpLine(f: DpifFlow, now: number, verbose: boolean, names: ReadonlyMap<number, string> | null): string {
  const nl = odpFlowToNetlink(f.key, f.mask);
  let s = verbose ? formatUfidWords(f.ufid[0]!, f.ufid[1]!, f.ufid[2]!, f.ufid[3]!) + " " : "";
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
    s += `  ufid enabled : ${ufidIsEnabled()}\n`;
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


/** C's atoi as glibc has it for big numbers: strtol (saturating), cut to an int. */
function atoiInt(s: string): number {
  const m = /^\s*([+-]?)(\d+)/.exec(s);
  if (m === null) return 0;
  let v = BigInt(m[2]!);
  if (m[1] === "-") v = -v;
  const max = 0x7fffffffffffffffn;
  if (v > max) v = max;
  if (v < -max - 1n) v = -max - 1n;
  return Number(BigInt.asIntN(32, v));
}

/**
 * dpif-dummy/change-port-number DP PORT NEW-NUMBER: renumbers a port of a
 * dummy userspace datapath (an OVS test helper). The bridge that owns
 * the port follows (its datapath port number changes, as OVS's port poll
 * would notice) and the datapath flows are revalidated from scratch.
 */
function changePortNumber(args: string[]): string {
  const [dpName, portName, numText] = args as [string, string, string];
  let dp: DpifNetdev | null = null;
  for (const type of dpifTypes()) {
    if (!dpifEnumerate(type).includes(dpName)) continue;
    const d = dpifOpen(type, dpName, { create: false });
    // Under --enable-dummy every userspace datapath class is a dummy one (OVS overrides them all).
    if (d instanceof DpifNetdev && (d.isDummyClass || netdevHasType("dummy"))) dp = d;
    break;
  }
  if (dp === null) throw new UnixctlError("unknown datapath or not a dummy");
  const q = dp.portQueryByName(portName);
  if (q.error !== 0 || q.port === undefined) throw new UnixctlError("unknown port");
  const newNo = atoiInt(numText) >>> 0;
  if (newNo === 0 || newNo === 0xffffffff) throw new UnixctlError("bad port number");
  if (dp.portQueryByNumber(newNo).error === 0) throw new UnixctlError("port number already in use");
  const oldNo = q.port.portNo;
  if (dp.portRenumber(oldNo, newNo) !== 0) throw new UnixctlError("bad port number");
  for (const b of allBackers()) {
    if (b.dpif !== dp) continue;
    const port = b.portByOdp(oldNo);
    if (port !== null && port.name === portName) {
      b.unlinkOdp(port);
      port.odpNo = newNo;
      b.linkOdp(port);
    }
    b.portsChanged();
    b.udpif.revalidator.purge();
  }
  return "";
}
