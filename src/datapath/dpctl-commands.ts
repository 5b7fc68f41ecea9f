/**
 * The dpctl commands (OVS's lib/dpctl.c) over the dpif interface: what
 * `ovs-dpctl CMD` and `ovs-appctl dpctl/CMD` do — add-dp, del-dp, add-if,
 * set-if, del-if, dump-dps, show, dump-flows, add-flow, mod-flow, del-flow,
 * get-flow, del-flows, add-flows/mod-flows/del-flows with a flow file,
 * cache-get-size, cache-set-size, normalize-actions (dpctl-normalize.ts),
 * the conntrack commands (dump-conntrack, flush-conntrack, ct-stats-show,
 * ct-bkts, ct-set/get-maxconns, ct-get-nconns, ct-set/get/del-limits,
 * ct-enable/disable/get-tcp-seq-chk), offload-stats-show, parse-actions,
 * list-commands — with
 * OVS 3.1's output and error texts.
 *
 * The commands run against datapaths reached through a `DpctlEnv` (by
 * default the in-process dpif registry of dpif.ts), so the same code
 * serves `tsovs dpctl` and the `dpctl/...` unixctl commands a vswitchd
 * registers with `registerDpctlCommands`. Output and errors are collected
 * as text (`DpctlResult`); errors read "<program>: <what> (<strerror>)",
 * followed, where tsovs knows more than OVS says, by a line with the
 * precise reason (the bad token of a flow or action).
 */
import * as fs from "node:fs";
import { dpifDelete, dpifEnumerate, dpifOpen, dpifTypes, parseDpName } from "./dpif.js";
import { Errno, type DpifFlow, type DpifProvider, type DpifFlowStats } from "./dpif-provider.js";
import { formatDpFlowStats, formatOdpActions, formatOdpFlow, formatUfidWords } from "../flow/odp-format.js";
import { OdpParseError, parseOdpActions, parseOdpFlow, parseUfidPrefix } from "../flow/odp-parse.js";
import { OdpKeyError, odpFlowToNetlink, odpKeyToFlow, odpMaskToFlow } from "../flow/odp-key.js";
import * as L from "../flow/key-layout.js";
import { parseIpv4, parseIpv6, parseMac } from "../flow/odp-text.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { timeMsec } from "../util/clock.js";
import { statsSinceClear } from "./pmd-stats.js";
import { normalizeActions } from "./dpctl-normalize.js";
import { CtTuple, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, type Conntrack, type CtConn } from "./conntrack.js";
import { formatConn } from "./conntrack-format.js";
import { DEFAULT_ZONE } from "./ct-limits.js";
import { IPF_MAX_FRAGS_UBOUND, IPF_MIN_FRAG_LBOUND } from "./ipf.js";
import { TCP_STATE_NAMES, TCPS_ESTABLISHED, TCPS_FIN_WAIT_2, TCPS_SYN_RECV, TCPS_TIME_WAIT } from "./conntrack-tcp.js";

/** Where datapaths live; the default is this process's dpif registry. */
export interface DpctlEnv {
  open(type: string, name: string, create: boolean): DpifProvider | number;
  remove(type: string, name: string): number;
  types(): string[];
  names(type: string): string[];
  /** Milliseconds on the datapaths' clock (for "used:"). */
  now(): number;
}

export const defaultDpctlEnv: DpctlEnv = {
  open: (type, name, create) => dpifOpen(type, name, { create }),
  remove: (type, name) => dpifDelete(type, name),
  types: () => dpifTypes(),
  names: (type) => dpifEnumerate(type),
  now: () => timeMsec(),
};

/** dpctl_params. */
export interface DpctlOptions {
  /** `-s`: print statistics. */
  statistics?: boolean;
  /** `-m` count (verbosity). */
  verbosity?: number;
  /** `--names` / `--no-names`; default: names when verbose. */
  names?: boolean;
  /** `--may-create` for mod-flow. */
  mayCreate?: boolean;
  /** `--clear` for mod-flow: zero the statistics. */
  zeroStatistics?: boolean;
  /** Program name used in error messages ("ovs-dpctl", "ovs-vswitchd"). */
  program?: string;
  /** True when run as `ovs-appctl dpctl/...` (affects list-commands). */
  isAppctl?: boolean;
}

export interface DpctlResult {
  /** 0 on success, else a positive errno. */
  status: number;
  /** Everything printed, output and errors interleaved as OVS prints them. */
  text: string;
  /** Only the error lines. */
  errors: string;
}

const STRERROR: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  7: "Argument list too long",
  11: "Resource temporarily unavailable",
  16: "Device or resource busy",
  17: "File exists",
  19: "No such device",
  22: "Invalid argument",
  27: "File too large",
  28: "No space left on device",
  95: "Operation not supported",
};

export function strerror(errno: number): string {
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

class Out {
  text = "";
  errors = "";
  constructor(readonly program: string) {}
  print(s: string): void {
    this.text += s;
  }
  error(errno: number, msg: string, detail?: string): void {
    let line = `${this.program}: ${msg}${errno ? ` (${strerror(errno)})` : ""}\n`;
    if (detail !== undefined) line += `${this.program}: ${detail}\n`;
    this.text += line;
    this.errors += line;
  }
}

interface Ctx {
  env: DpctlEnv;
  opts: Required<Omit<DpctlOptions, "names">> & { names: boolean };
  out: Out;
}

type Handler = (args: string[], c: Ctx) => number;

interface CommandSpec {
  name: string;
  usage: string;
  min: number;
  max: number;
  handler: Handler;
}

function dpifName(dp: DpifProvider): string {
  return `${dp.type}@${dp.name}`;
}

function openByName(c: Ctx, spec: string, create = false): DpifProvider | number {
  const { type, name } = parseDpName(spec);
  const r = c.env.open(type, name, create);
  if (typeof r === "number") return r === Errno.ENODEV ? Errno.ENODEV : r;
  return r;
}

function dpExists(c: Ctx, spec: string): boolean {
  const { type, name } = parseDpName(spec);
  return c.env.types().includes(type) && c.env.names(type).includes(name);
}

/** get_one_dp + opt_dpif_open: the named datapath, or the only one. */
function optDpifOpen(args: string[], c: Ctx, maxArgs: number): DpifProvider | number {
  let dpname: string | null = null;
  if (args.length > 1 && dpExists(c, args[1]!)) dpname = args[1]!;
  else if (args.length !== maxArgs) {
    const all: string[] = [];
    for (const t of c.env.types()) for (const n of c.env.names(t)) all.push(`${t}@${n}`);
    if (all.length === 0) c.out.error(0, "no datapaths exist");
    else if (all.length > 1) c.out.error(0, "multiple datapaths, specify one");
    else dpname = all[0]!;
  }
  if (dpname === null) {
    c.out.error(Errno.EINVAL, "datapath not found");
    return Errno.EINVAL;
  }
  const dp = openByName(c, dpname);
  if (typeof dp === "number") {
    c.out.error(dp, "opening datapath");
    return dp;
  }
  return dp;
}

/* ---------------- datapaths and ports ---------------- */

function addIfs(dp: DpifProvider, dpArg: string, ifaces: string[], c: Ctx): number {
  let last = 0;
  for (const arg of ifaces) {
    const parts = arg.split(",");
    const name = parts[0] ?? "";
    if (name === "") {
      c.out.error(0, `${arg} is not a valid network device name`);
      last = Errno.EINVAL;
      continue;
    }
    let type = "system";
    let portNo: number | undefined;
    const options: Record<string, string> = {};
    for (const opt of parts.slice(1)) {
      const eq = opt.indexOf("=");
      const key = eq < 0 ? opt : opt.slice(0, eq);
      const value = eq < 0 ? "" : opt.slice(eq + 1);
      if (key === "type") type = value;
      else if (key === "port_no") portNo = Number.parseInt(value, 10) || 0;
      else if (key in options) c.out.error(0, `duplicate "${key}" option`);
      else options[key] = value;
    }
    const req = portNo === undefined ? { name, type, options } : { name, type, options, portNo };
    const r = dp.portAdd(req);
    if (r.error) {
      c.out.error(r.error, `adding ${name} to ${dpArg} failed`);
      last = r.error;
    }
  }
  return last;
}

const addDp: Handler = (args, c) => {
  const dp = openByName(c, args[1]!, true);
  if (typeof dp === "number") {
    c.out.error(dp, "add_dp");
    return dp;
  }
  return args.length > 2 ? addIfs(dp, args[1]!, args.slice(2), c) : 0;
};

const delDp: Handler = (args, c) => {
  const dp = openByName(c, args[1]!);
  if (typeof dp === "number") {
    c.out.error(dp, "opening datapath");
    return dp;
  }
  const err = c.env.remove(dp.type, dp.name);
  if (err) c.out.error(err, "del_dp");
  return err;
};

const addIf: Handler = (args, c) => {
  const dp = openByName(c, args[1]!);
  if (typeof dp === "number") {
    c.out.error(dp, "opening datapath");
    return dp;
  }
  return addIfs(dp, args[1]!, args.slice(2), c);
};

const setIf: Handler = (args, c) => {
  const dp = openByName(c, args[1]!);
  if (typeof dp === "number") {
    c.out.error(dp, "opening datapath");
    return dp;
  }
  let last = 0;
  for (const arg of args.slice(2)) {
    const parts = arg.split(",");
    const name = parts[0] ?? "";
    if (name === "") {
      c.out.error(0, `${arg} is not a valid network device name`);
      continue;
    }
    const q = dp.portQueryByName(name);
    if (q.error || q.port === undefined) {
      c.out.error(q.error || Errno.ENOENT, `${name}: failed to query port in ${args[1]}`);
      last = q.error || Errno.ENOENT;
      continue;
    }
    const changes: Record<string, string> = {};
    let bad = false;
    for (const opt of parts.slice(1)) {
      const eq = opt.indexOf("=");
      const key = eq < 0 ? opt : opt.slice(0, eq);
      const value = eq < 0 ? "" : opt.slice(eq + 1);
      if (key === "type") {
        if (value !== q.port.type) {
          c.out.error(0, `${name}: can't change type from ${q.port.type} to ${value}`);
          bad = true;
          break;
        }
      } else if (key === "port_no") {
        if ((Number.parseInt(value, 10) || 0) !== q.port.portNo) {
          c.out.error(0, `${name}: can't change port number from ${q.port.portNo} to ${Number.parseInt(value, 10) || 0}`);
          bad = true;
          break;
        }
      } else {
        // An empty value removes the option, as in OVS.
        changes[key] = value;
      }
    }
    if (bad) {
      last = Errno.EINVAL;
      continue;
    }
    if (Object.keys(changes).length > 0) {
      const r = dp.portSetConfig(q.port.portNo, changes);
      if (r.error) {
        c.out.error(r.error, r.message ?? "Error updating configuration");
        last = r.error;
      }
    }
  }
  return last;
};

const delIf: Handler = (args, c) => {
  const dp = openByName(c, args[1]!);
  if (typeof dp === "number") {
    c.out.error(dp, "opening datapath");
    return dp;
  }
  let last = 0;
  for (const name of args.slice(2)) {
    let port: number;
    if (/^\d*$/.test(name)) port = Number.parseInt(name || "0", 10);
    else {
      const q = dp.portQueryByName(name);
      if (q.error || q.port === undefined) {
        c.out.error(0, `no port named ${name}`);
        last = Errno.ENOENT;
        continue;
      }
      port = q.port.portNo;
    }
    const r = dp.portDel(port);
    if (r.error) {
      c.out.error(r.error, `deleting port ${name} from ${args[1]} failed`);
      last = r.error;
    }
  }
  return last;
};

function stat(v: number | undefined, known: boolean): string {
  return known && v !== undefined ? String(v) : "?";
}

function humanSize(v: number): string {
  if (v >= 1024 ** 4) return ` (${(v / 1024 ** 4).toFixed(1)} TiB)`;
  if (v >= 1024 ** 3) return ` (${(v / 1024 ** 3).toFixed(1)} GiB)`;
  if (v >= 1024 ** 2) return ` (${(v / 1024 ** 2).toFixed(1)} MiB)`;
  if (v >= 1024) return ` (${(v / 1024).toFixed(1)} KiB)`;
  return "";
}

/** Netdev type as dpctl shows it: internal ports open as "dummy-internal" (dummy class) or "tap" (dpif_netdev_port_open_type). */
function shownType(dp: DpifProvider, type: string): string {
  if (type === "internal") return dp.type === "dummy" ? "dummy-internal" : "tap";
  return type;
}

function showDpif(dp: DpifProvider, c: Ctx): void {
  // The userspace datapath counts from the last pmd-stats-clear, as OVS's does.
  const st = dp.type === "netdev" ? statsSinceClear(dp.name, dp.getStats()) : dp.getStats();
  c.out.print(`${dpifName(dp)}:\n  lookups: hit:${st.hits} missed:${st.missed} lost:${st.lost}\n  flows: ${st.flows}\n`);
  const ports = dp.portDump().slice().sort((a, b) => a.portNo - b.portNo);
  for (const p of ports) {
    const type = shownType(dp, p.type);
    // "(type: k=v, k=v)" with the netdev's reported config sorted by key, as OVS.
    // System ports print neither type nor config.
    let paren = "";
    if (type !== "system") {
      const conf = dp.portGetConfig?.(p.portNo).config ?? {};
      const kv = Object.keys(conf).sort().map((k) => `${k}=${conf[k]}`).join(", ");
      paren = ` (${type}${kv !== "" ? `: ${kv}` : ""})`;
    }
    c.out.print(`  port ${p.portNo}: ${p.name}${paren}\n`);
    if (c.opts.statistics) {
      const r = dp.portStats(p.portNo);
      if (r.error || r.stats === undefined) {
        c.out.print(`, could not retrieve stats (${strerror(r.error || Errno.EOPNOTSUPP)})`);
        continue;
      }
      const s = r.stats;
      // Dummy netdevs count packets and bytes only; OVS prints "?" for the rest.
      const full = !type.startsWith("dummy");
      c.out.print(`    RX packets:${s.rxPackets} errors:${stat(s.rxErrors, full)} dropped:${stat(s.rxDropped, full)} overruns:? frame:?\n`);
      c.out.print(`    TX packets:${s.txPackets} errors:${stat(s.txErrors, full)} dropped:${stat(s.txDropped, full)} aborted:? carrier:?\n`);
      c.out.print(`    collisions:?\n`);
      c.out.print(`    RX bytes:${s.rxBytes}${humanSize(s.rxBytes)}  TX bytes:${s.txBytes}${humanSize(s.txBytes)}\n`);
    }
  }
}

function forEachDp(c: Ctx, f: (dp: DpifProvider) => void): number {
  let err = 0;
  for (const t of c.env.types()) {
    for (const n of c.env.names(t)) {
      const dp = c.env.open(t, n, false);
      if (typeof dp === "number") {
        c.out.error(dp, `opening datapath ${n} failed`);
        err = dp;
      } else f(dp);
    }
  }
  return err;
}

const show: Handler = (args, c) => {
  if (args.length > 1) {
    let last = 0;
    for (const name of args.slice(1)) {
      const dp = openByName(c, name);
      if (typeof dp === "number") {
        c.out.error(dp, `opening datapath ${name} failed`);
        last = dp;
      } else showDpif(dp, c);
    }
    return last;
  }
  return forEachDp(c, (dp) => showDpif(dp, c));
};

const dumpDps: Handler = (_args, c) => forEachDp(c, (dp) => c.out.print(`${dpifName(dp)}\n`));

/* ---------------- flows ---------------- */

function portNames(dp: DpifProvider): Map<number, string> {
  const m = new Map<number, string>();
  for (const p of dp.portDump()) m.set(p.portNo, p.name);
  return m;
}

function portNumbers(dp: DpifProvider): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of dp.portDump()) m.set(p.name, p.portNo);
  return m;
}

function ufidWords(bytes: Uint8Array): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = (bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24)) >>> 0;
  return w;
}


function statsText(s: DpifFlowStats, now: number): string {
  return formatDpFlowStats({ nPackets: s.packets, nBytes: s.bytes, used: s.used, tcpFlags: s.tcpFlags }, now);
}

/** format_dpif_flow for a flow in the flow-key layout. */
export function formatDpifFlowLine(f: DpifFlow, now: number, verbose: boolean, names: ReadonlyMap<number, string> | null): string {
  const nl = odpFlowToNetlink(f.key, f.mask);
  let s = verbose ? formatUfidWords(f.ufid[0]!, f.ufid[1]!, f.ufid[2]!, f.ufid[3]!) + ", " : "";
  s += formatOdpFlow(nl.key, nl.mask, names, verbose) + ", " + statsText(f.stats, now);
  if (verbose) s += ", dp:ovs";
  return s + ", actions:" + formatOdpActions(f.actions, names);
}

/** A dump-flows filter (OpenFlow match syntax, the common fields of ovs-fields(7)). */
interface FlowFilter {
  key: Uint32Array;
  mask: Uint32Array;
}

function setBits(k: Uint32Array, m: Uint32Array, w: number, shift: number, bits: number, v: number): void {
  const fm = bits === 32 ? 0xffffffff : ((1 << bits) - 1) << shift;
  k[w] = ((k[w]! & ~fm) | ((v << shift) & fm)) >>> 0;
  m[w] = (m[w]! | fm) >>> 0;
}

function setBytes(k: Uint32Array, m: Uint32Array, off: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const o = off + i, sh = 24 - 8 * (o & 3);
    k[o >> 2] = ((k[o >> 2]! & ~(0xff << sh)) | (bytes[i]! << sh)) >>> 0;
    m[o >> 2] = (m[o >> 2]! | (0xff << sh)) >>> 0;
  }
}

/** Parses a filter like "tcp,nw_src=10.0.0.1,tp_dst=80" (ports by name or number). */
function parseFilter(text: string, ports: Map<string, number>): FlowFilter | string {
  const k = new Uint32Array(L.FLOW_U32S), m = new Uint32Array(L.FLOW_U32S);
  const dl = (t: number): void => setBits(k, m, L.W_DL_TYPE, L.S_DL_TYPE, 16, t);
  const proto = (p: number): void => setBits(k, m, L.W_NW_PROTO, L.S_NW_PROTO, 8, p);
  const num = (v: string): number | null => (/^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : null);
  for (const raw of text.split(/[,\s]+/).filter((s) => s !== "")) {
    const eq = raw.indexOf("=");
    const name = eq < 0 ? raw : raw.slice(0, eq);
    const value = eq < 0 ? "" : raw.slice(eq + 1);
    const shorthand: Record<string, [number, number]> = {
      ip: [0x0800, -1], ipv6: [0x86dd, -1], arp: [0x0806, -1], rarp: [0x8035, -1], mpls: [0x8847, -1],
      icmp: [0x0800, 1], icmp6: [0x86dd, 58], tcp: [0x0800, 6], tcp6: [0x86dd, 6], udp: [0x0800, 17], udp6: [0x86dd, 17],
      sctp: [0x0800, 132], sctp6: [0x86dd, 132],
    };
    if (eq < 0) {
      const sh = shorthand[name];
      if (sh === undefined) return `${name}: unknown field name`;
      dl(sh[0]);
      if (sh[1] >= 0) proto(sh[1]);
      continue;
    }
    const n = num(value);
    switch (name) {
      case "in_port": {
        const p = n ?? ports.get(value);
        if (p === undefined) return `${value}: in_port requires a port number or name`;
        setBits(k, m, L.W_IN_PORT, 0, 32, p);
        break;
      }
      case "dl_type": case "eth_type":
        if (n === null) return `${value}: invalid dl_type`;
        dl(n);
        break;
      case "dl_src": case "eth_src": case "dl_dst": case "eth_dst": {
        const mac = parseMac(value);
        if (mac === null) return `${value}: invalid Ethernet address`;
        setBytes(k, m, name.endsWith("src") ? L.O_ETH_SRC : L.O_ETH_DST, mac);
        break;
      }
      case "nw_src": case "ip_src": case "nw_dst": case "ip_dst": case "arp_spa": case "arp_tpa": {
        const [a, pl] = value.split("/");
        const ip = parseIpv4(a ?? "");
        if (ip === null) return `${value}: invalid IP address`;
        const w = name === "nw_src" || name === "ip_src" || name === "arp_spa" ? L.W_NW_SRC : L.W_NW_DST;
        const bits = pl === undefined ? 32 : Number(pl);
        const mk = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        k[w] = (ip & mk) >>> 0;
        m[w] = mk;
        break;
      }
      case "ipv6_src": case "ipv6_dst": {
        const a = parseIpv6(value);
        if (a === null) return `${value}: invalid IPv6 address`;
        setBytes(k, m, name === "ipv6_src" ? L.O_IPV6_SRC : L.O_IPV6_DST, a);
        break;
      }
      case "nw_proto": case "ip_proto":
        if (n === null) return `${value}: invalid nw_proto`;
        proto(n);
        break;
      case "nw_ttl":
        if (n === null) return `${value}: invalid nw_ttl`;
        setBits(k, m, L.W_NW_TTL, L.S_NW_TTL, 8, n);
        break;
      case "tp_src": case "tcp_src": case "udp_src": case "sctp_src": case "icmp_type": case "icmpv6_type":
        if (n === null) return `${value}: invalid ${name}`;
        setBits(k, m, L.W_TP_SRC, L.S_TP_SRC, 16, n);
        break;
      case "tp_dst": case "tcp_dst": case "udp_dst": case "sctp_dst": case "icmp_code": case "icmpv6_code":
        if (n === null) return `${value}: invalid ${name}`;
        setBits(k, m, L.W_TP_DST, L.S_TP_DST, 16, n);
        break;
      case "dl_vlan": case "vlan_vid":
        if (n === null) return `${value}: invalid ${name}`;
        setBits(k, m, L.W_VLAN0, 0, 13, (n & 0xfff) | 0x1000);
        break;
      case "recirc_id":
        if (n === null) return `${value}: invalid recirc_id`;
        setBits(k, m, L.W_RECIRC_ID, 0, 32, n);
        break;
      case "pkt_mark":
        if (n === null) return `${value}: invalid pkt_mark`;
        setBits(k, m, L.W_PKT_MARK, 0, 32, n);
        break;
      default:
        return `${name}: unknown field name`;
    }
  }
  return { key: k, mask: m };
}

function filterMatches(f: FlowFilter, flow: DpifFlow): boolean {
  // minimatch over the flow's own wildcards: fields the flow does not match are not compared.
  for (let w = 0; w < L.FLOW_U32S; w++) {
    const m = f.mask[w]! & flow.mask[w]!;
    if (((flow.key[w]! ^ f.key[w]!) & m) !== 0) return false;
  }
  return true;
}

const dumpFlows: Handler = (argsIn, c) => {
  const args = argsIn.slice();
  let filter: string | null = null;
  let types: string | null = null;
  let last = -1;
  while (args.length > 1 && last !== args.length) {
    last = args.length;
    const a = args[args.length - 1]!;
    if (a.startsWith("filter=") && filter === null) {
      filter = a.slice(7);
      args.pop();
    } else if (a.startsWith("type=") && types === null) {
      types = a.slice(5);
      args.pop();
    }
  }
  const dp = optDpifOpen(args, c, 2);
  if (typeof dp === "number") return dp;
  const names = c.opts.names ? portNames(dp) : null;
  let flt: FlowFilter | null = null;
  if (filter !== null) {
    const r = parseFilter(filter, portNumbers(dp));
    if (typeof r === "string") {
      c.out.error(0, `Failed to parse filter (${r})`);
      return Errno.EINVAL;
    }
    flt = r;
  }
  if (types !== null) {
    for (const t of types.split(",")) {
      if (!["ovs", "tc", "offloaded", "non-offloaded", "all"].includes(t)) {
        c.out.error(Errno.EINVAL, `Failed to parse type (${t})`);
        return Errno.EINVAL;
      }
    }
  }
  const showOvs = types === null || types.split(",").some((t) => t === "ovs" || t === "non-offloaded" || t === "all");
  const now = c.env.now();
  let first = true;
  for (const f of dp.flowDump()) {
    if (flt !== null && !filterMatches(flt, f)) continue;
    if (first) {
      c.out.print("flow-dump from the main thread:\n");
      first = false;
    }
    if (showOvs) c.out.print(formatDpifFlowLine(f, now, c.opts.verbosity > 0, names) + "\n");
  }
  return 0;
};

type ParsedKey =
  | { kind: "ok"; ufid: Uint32Array | null; key: Uint32Array; mask: Uint32Array }
  /** The text did not parse: the error was printed. */
  | { kind: "syntax"; errno: number }
  /** The text parsed but the datapath cannot accept the key (dpif_flow_put's EINVAL). */
  | { kind: "invalid"; reason: string };

/** Parses "[ufid:UUID] KEY" into the flow layout, printing OVS's error on a syntax error. */
function parseKeyArg(keyText: string, dp: DpifProvider, c: Ctx): ParsedKey {
  let ufid: Uint32Array | null = null;
  let text = keyText;
  try {
    const u = parseUfidPrefix(text);
    if (u !== null) {
      ufid = ufidWords(u.ufid);
      text = u.rest;
    }
  } catch (e) {
    c.out.error(Errno.EINVAL, "parsing flow ufid", (e as Error).message);
    return { kind: "syntax", errno: Errno.EINVAL };
  }
  let parsed;
  try {
    parsed = parseOdpFlow(text, portNumbers(dp));
  } catch (e) {
    if (!(e instanceof OdpParseError)) throw e;
    c.out.error(Errno.EINVAL, "parsing flow key", e.message);
    return { kind: "syntax", errno: Errno.EINVAL };
  }
  try {
    const key = odpKeyToFlow(parsed.key);
    const mask = odpMaskToFlow(parsed.mask, key);
    return { kind: "ok", ufid, key, mask };
  } catch (e) {
    if (!(e instanceof OdpKeyError)) throw e;
    return { kind: "invalid", reason: e.message };
  }
}

function putFlow(args: string[], c: Ctx, create: boolean, modify: boolean): number {
  const dp = optDpifOpen(args, c, 4);
  if (typeof dp === "number") return dp;
  const k = parseKeyArg(args[args.length - 2]!, dp, c);
  if (k.kind === "syntax") return k.errno;
  let actions: Uint8Array;
  try {
    actions = parseOdpActions(args[args.length - 1]!);
  } catch (e) {
    if (!(e instanceof OdpParseError)) throw e;
    c.out.error(Errno.EINVAL, "parsing actions", e.message);
    return Errno.EINVAL;
  }
  if (k.kind === "invalid") {
    c.out.error(Errno.EINVAL, "updating flow table", k.reason);
    return Errno.EINVAL;
  }
  const req = {
    key: k.key,
    mask: k.mask,
    actions,
    create,
    modify,
    zeroStats: c.opts.zeroStatistics,
    ...(k.ufid !== null ? { ufid: k.ufid } : {}),
  };
  const r = dp.flowPut(req);
  if (r.error) {
    c.out.error(r.error, "updating flow table");
    return r.error;
  }
  if (c.opts.statistics) {
    c.out.print(statsText(r.stats ?? { packets: 0, bytes: 0, used: 0, tcpFlags: 0 }, c.env.now()) + "\n");
  }
  return 0;
}

const addFlow: Handler = (args, c) => putFlow(args, c, true, false);
const modFlow: Handler = (args, c) => putFlow(args, c, c.opts.mayCreate, true);

const getFlow: Handler = (args, c) => {
  const dp = optDpifOpen(args, c, 3);
  if (typeof dp === "number") return dp;
  let u;
  try {
    u = parseUfidPrefix(args[args.length - 1]!);
  } catch {
    u = null;
  }
  if (u === null) {
    c.out.error(Errno.EINVAL, "parsing flow ufid");
    return Errno.EINVAL;
  }
  const r = dp.flowGet({ ufid: ufidWords(u.ufid) });
  if (r.error || r.flow === undefined) {
    c.out.error(r.error || Errno.ENOENT, "getting flow");
    return r.error || Errno.ENOENT;
  }
  c.out.print(formatDpifFlowLine(r.flow, c.env.now(), c.opts.verbosity > 0, c.opts.names ? portNames(dp) : null) + "\n");
  return 0;
};

const delFlow: Handler = (args, c) => {
  const dp = optDpifOpen(args, c, 3);
  if (typeof dp === "number") return dp;
  const k = parseKeyArg(args[args.length - 1]!, dp, c);
  if (k.kind === "syntax") return k.errno;
  let r: { error: number; stats?: DpifFlowStats } = { error: Errno.ENOENT };
  const ufidGiven = k.kind === "ok" && k.ufid !== null;
  if (k.kind === "ok") {
    r = k.ufid !== null ? dp.flowDel({ ufid: k.ufid }) : dp.flowDel({ key: k.key });
    if (r.error === Errno.ENOENT && k.ufid === null) {
      // Flows are indexed by UFID; without one, find the flow with this exact match.
      const f = dp.flowDump().find((x) => sameMatch(x, k.key, k.mask));
      if (f !== undefined) r = dp.flowDel({ ufid: f.ufid });
    }
  }
  if (r.error) {
    c.out.error(r.error, "deleting flow");
    if (r.error === Errno.ENOENT && !ufidGiven) c.out.print("Perhaps you need to specify a UFID?\n");
    return r.error;
  }
  if (c.opts.statistics && r.stats !== undefined) c.out.print(statsText(r.stats, c.env.now()) + "\n");
  return 0;
};

function sameMatch(f: DpifFlow, key: Uint32Array, mask: Uint32Array): boolean {
  for (let w = 0; w < L.FLOW_DP_U32S; w++) {
    const m = mask[w]!;
    if (m !== f.mask[w]) return false;
    if (((key[w]! ^ f.key[w]!) & m) !== 0) return false;
  }
  return true;
}

/**
 * add-flows, mod-flows and del-flows with a file: one flow a line,
 * "[add|modify|delete] flow [actions]" (the verb defaults to the
 * command's; delete takes no actions). A line that does not parse is
 * reported and skipped; a flow the datapath refuses is reported as
 * add-flow/del-flow report it; the command itself succeeds, as OVS's does.
 */
function processFlowFile(args: string[], c: Ctx, verb: "add" | "modify" | "delete"): number {
  const file = args[args.length - 1]!;
  // The datapath is opened once, before the file: no datapath is an error.
  const dp = optDpifOpen(args, c, 3);
  if (typeof dp === "number") return dp;
  const dpArgs = [dpifName(dp)];
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    c.out.error(code === "ENOENT" ? Errno.ENOENT : code === "EACCES" ? 13 : Errno.EINVAL, `Opening file "${file}" failed`);
    return 0;
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/#.*/, "").trim();
    if (line === "") continue;
    let op: string = verb;
    const verbMatch = /^(add|modify|delete)\s+/.exec(line);
    if (verbMatch !== null) {
      op = verbMatch[1]!;
      line = line.slice(verbMatch[0].length);
    }
    // The flow is the first word; the actions, the rest of the line.
    const sp = line.search(/\s/);
    const flow = sp < 0 ? line : line.slice(0, sp);
    const actions = sp < 0 ? "" : line.slice(sp).trim();
    if (op === "delete" ? actions !== "" : actions === "") {
      c.out.error(0, `Failed parsing line number ${i + 1}, skipped!`);
      continue;
    }
    if (op === "delete") delFlow(["del-flow", ...dpArgs, flow], c);
    else putFlow(["add-flow", ...dpArgs, flow, actions], c, op === "add", op === "modify");
  }
  return 0;
}

/**
 * cache-get-size: the datapath caches whose sizes can be read; the
 * userspace datapath reports none (its EMC and SMC sizes are fixed), so
 * only the datapath's name line is printed, as by OVS.
 */
const cacheGetSize: Handler = (args, c) => {
  const names: string[] = [];
  if (args.length > 1) {
    const dp = openByName(c, args[1]!);
    if (typeof dp === "number") {
      c.out.error(dp, `Opening datapath ${args[1]!} failed`);
      return dp;
    }
    names.push(dpifName(dp));
  } else {
    for (const t of c.env.types()) for (const n of c.env.names(t)) names.push(`${t}@${n}`);
    names.sort();
  }
  for (const n of names) c.out.print(`${n}:\n`);
  return 0;
};

/** cache-set-size: no cache of the userspace datapath can be resized. */
const cacheSetSize: Handler = (args, c) => {
  if (!/^[+-]?\d+$/.test(args[3]!)) {
    c.out.error(Errno.EINVAL, "size is malformed");
    return Errno.EINVAL;
  }
  const dp = openByName(c, args[1]!);
  if (typeof dp === "number") {
    c.out.error(dp, `Opening datapath ${args[1]!} failed`);
    return dp;
  }
  c.out.error(95, "Setting caches not supported");
  return 95;
};

const normalizeActionsCmd: Handler = (args, c) => {
  const r = normalizeActions(args.slice(1));
  c.out.print(r.text);
  if (r.error !== null) c.out.error(r.error.errno, r.error.message);
  return r.error === null ? 0 : r.error.errno || Errno.EINVAL;
};

const addFlows: Handler = (args, c) => processFlowFile(args, c, "add");
const modFlows: Handler = (args, c) => processFlowFile(args, c, "modify");

const delFlows: Handler = (args, c) => {
  // A file: "dp file", or one argument that names no datapath.
  if (args.length > 2 || (args.length === 2 && !dpExists(c, args[1]!))) return processFlowFile(args, c, "delete");
  const dp = optDpifOpen(args, c, 2);
  if (typeof dp === "number") return dp;
  const r = dp.flowFlush();
  if (r.error) c.out.error(r.error, "deleting all flows");
  return r.error;
};

const parseActions: Handler = (args, c) => {
  for (const a of args.slice(1)) {
    try {
      c.out.print(formatOdpActions(parseOdpActions(a)) + "\n");
    } catch (e) {
      if (!(e instanceof OdpParseError)) throw e;
      c.out.error(Errno.EINVAL, "odp_actions_from_string", e.message);
      return Errno.EINVAL;
    }
  }
  return 0;
};

const listCommands: Handler = (_args, c) => {
  let s = "The available commands are:\n";
  for (const cmd of COMMANDS) s += `  ${c.opts.isAppctl ? "dpctl/" : ""}${cmd.name.padEnd(23)} ${cmd.usage}\n`;
  c.out.print(s);
  return 0;
};


/* ---------------- conntrack ---------------- */

/** The datapath's connection tracker, or null (EOPNOTSUPP). */
function conntrackOf(dp: DpifProvider): Conntrack | null {
  const ct = (dp as unknown as { conntrack?: Conntrack }).conntrack;
  return ct ?? null;
}

/** `zone=N` as ovs_scan("zone=%"SCNu16) reads it, or null. */
function scanZone(a: string | undefined): number | null {
  if (a === undefined || !a.startsWith("zone=")) return null;
  return scanUnsignedPrefix(a.slice(5), 16);
}

function openCt(args: string[], c: Ctx, maxArgs: number): { dp: DpifProvider; ct: Conntrack } | number {
  const dp = optDpifOpen(args, c, maxArgs);
  if (typeof dp === "number") return dp;
  const ct = conntrackOf(dp);
  if (ct === null) return Errno.EOPNOTSUPP;
  return { dp, ct };
}

/**
 * `[dp] [zone=N]` of the commands that dump connections: the tracker and
 * the zone (null: all), or the errno after OVS's message.
 */
function openCtDump(argsIn: string[], c: Ctx): { ct: Conntrack; zone: number | null } | number {
  const args = argsIn.slice();
  const zone = scanZone(args.length > 1 ? args[args.length - 1] : undefined);
  if (zone !== null) args.pop();
  const r = openCt(args, c, 2);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "starting conntrack dump");
    return r;
  }
  return { ct: r.ct, zone };
}

const dumpConntrack: Handler = (argsIn, c) => {
  const r = openCtDump(argsIn, c);
  if (typeof r === "number") return r;
  const zone = r.zone;
  const now = c.env.now();
  for (const conn of r.ct.connections(now, zone)) {
    c.out.print(formatConn(conn, now, c.opts.verbosity > 0, c.opts.statistics) + "\n");
  }
  return 0;
};

/** A parsed ct-orig-tuple / ct-reply-tuple: the fields given. */
interface TupleFilter {
  v6: boolean | null;
  src: Uint32Array | null;
  dst: Uint32Array | null;
  proto: number | null;
  sport: number | null;
  dport: number | null;
  icmpId: number | null;
  icmpType: number | null;
  icmpCode: number | null;
}

const EMPTY_TUPLE_FILTER: TupleFilter = { v6: null, src: null, dst: null, proto: null, sport: null, dport: null, icmpId: null, icmpType: null, icmpCode: null };

function parseCtTuple(text: string): TupleFilter | string {
  const f: TupleFilter = { v6: null, src: null, dst: null, proto: null, sport: null, dport: null, icmpId: null, icmpType: null, icmpCode: null };
  for (const part of text.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? "" : part.slice(eq + 1);
    const num = (max: number): number | null => {
      if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return null;
      const n = Number(v);
      return n <= max ? n : null;
    };
    if (k === "ct_nw_src" || k === "ct_nw_dst") {
      const a = parseIpv4(v);
      if (a === null) return `failed to parse field ${k}`;
      const w = new Uint32Array(4);
      w[0] = a >>> 0;
      f.v6 = false;
      if (k === "ct_nw_src") f.src = w;
      else f.dst = w;
    } else if (k === "ct_ipv6_src" || k === "ct_ipv6_dst") {
      const a = parseIpv6(v);
      if (a === null) return `failed to parse field ${k}`;
      const w = new Uint32Array(4);
      for (let i = 0; i < 4; i++) w[i] = ((a[4 * i]! << 24) | (a[4 * i + 1]! << 16) | (a[4 * i + 2]! << 8) | a[4 * i + 3]!) >>> 0;
      f.v6 = true;
      if (k === "ct_ipv6_src") f.src = w;
      else f.dst = w;
    } else if (k === "ct_nw_proto" || k === "ct_tp_src" || k === "ct_tp_dst" || k === "icmp_id" || k === "icmp_type" || k === "icmp_code") {
      const n = num(k === "ct_nw_proto" || k === "icmp_type" || k === "icmp_code" ? 0xff : 0xffff);
      if (n === null) return `failed to parse field ${k}`;
      if (k === "ct_nw_proto") f.proto = n;
      else if (k === "ct_tp_src") f.sport = n;
      else if (k === "ct_tp_dst") f.dport = n;
      else if (k === "icmp_id") f.icmpId = n;
      else if (k === "icmp_type") f.icmpType = n;
      else f.icmpCode = n;
    } else {
      return `invalid conntrack tuple field: ${k}`;
    }
  }
  return f;
}

/**
 * Whether a connection tuple matches a partial one (OVS 3.1's
 * ofp_ct_match): absent addresses and ports match anything; for ICMP
 * (the match's protocol) id, type and code must be equal, absent meaning 0.
 */
function tupleMatches(f: TupleFilter, proto: number | null, t: CtTuple): boolean {
  const eq = (a: Uint32Array, b: Uint32Array): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
  if (f.v6 !== null && f.v6 !== t.v6) return false;
  if (f.src !== null && !eq(f.src, t.src)) return false;
  if (f.dst !== null && !eq(f.dst, t.dst)) return false;
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    return (f.icmpId ?? 0) === t.sport && (f.icmpType ?? 0) === t.stype && (f.icmpCode ?? 0) === t.scode;
  }
  if (f.sport !== null && f.sport !== 0 && f.sport !== t.sport) return false;
  if (f.dport !== null && f.dport !== 0 && f.dport !== t.dport) return false;
  return true;
}

const flushConntrack: Handler = (argsIn, c) => {
  let i = 1;
  if (argsIn.length > 1 && dpExists(c, argsIn[1]!)) i = 2;
  let zone: number | null = null;
  const z = scanZone(argsIn[i]);
  if (z !== null) {
    zone = z;
    i++;
  }
  const tuples: TupleFilter[] = [];
  for (; i < argsIn.length && tuples.length < 2; i++) {
    const f = parseCtTuple(argsIn[i]!);
    if (typeof f === "string") {
      c.out.error(Errno.EINVAL, f);
      return Errno.EINVAL;
    }
    tuples.push(f);
  }
  if (i < argsIn.length) {
    c.out.error(Errno.EINVAL, "invalid arguments");
    return Errno.EINVAL;
  }
  const r = openCt(argsIn, c, 5);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "failed to flush conntrack");
    return r;
  }
  const now = c.env.now();
  if (tuples.length === 0) {
    r.ct.flush(zone);
    return 0;
  }
  const orig = tuples[0]!;
  const reply = tuples[1] ?? null;
  const proto = orig.proto ?? reply?.proto ?? null;
  if (proto === null && [orig, reply].some((t) => t !== null && (t.sport !== null || t.dport !== null))) {
    c.out.error(Errno.EINVAL, "port is set without protocol");
    return Errno.EINVAL;
  }
  const full = reply === null && orig.src !== null && orig.dst !== null && orig.proto !== null &&
    (orig.proto === IPPROTO_ICMP || orig.proto === IPPROTO_ICMPV6 || (orig.sport !== null && orig.dport !== null));
  if (full) {
    // A whole original tuple names one connection.
    const t = new CtTuple();
    t.v6 = orig.v6 === true;
    t.src.set(orig.src!);
    t.dst.set(orig.dst!);
    t.proto = orig.proto!;
    t.zone = zone ?? 0;
    if (t.proto === IPPROTO_ICMP || t.proto === IPPROTO_ICMPV6) {
      t.sport = t.dport = orig.icmpId ?? 0;
      t.stype = orig.icmpType ?? (t.proto === IPPROTO_ICMP ? 8 : 128);
      t.scode = orig.icmpCode ?? 0;
      t.dtype = t.proto === IPPROTO_ICMP ? ({ 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15 } as Record<number, number>)[t.stype] ?? 0
        : t.stype === 128 ? 129 : t.stype === 129 ? 128 : 0;
    } else {
      t.sport = orig.sport!;
      t.dport = orig.dport!;
    }
    if (!r.ct.flushTuple(t, now)) {
      c.out.error(Errno.ENOENT, "failed to flush conntrack");
      return Errno.ENOENT;
    }
    return 0;
  }
  const victims: CtConn[] = [];
  for (const conn of r.ct.connections(now, zone)) {
    if (proto !== null && conn.key.proto !== proto) continue;
    if (tupleMatches(orig, proto, conn.key) && tupleMatches(reply ?? EMPTY_TUPLE_FILTER, proto, conn.rev)) victims.push(conn);
  }
  for (const v of victims) r.ct.removeConn(v);
  return 0;
};

/**
 * Protocols ct-stats-show counts, in its print order. OVS 3.1 counts
 * ICMPv6 connections in the total but prints no line for them.
 */
const CT_STATS_KEYS: readonly [number, string][] = [
  [IPPROTO_TCP, "TCP"], [17, "UDP"], [136, "UDPLITE"], [132, "SCTP"], [IPPROTO_ICMP, "ICMP"],
  [33, "DCCP"], [2, "IGMP"],
];

const ctStatsShow: Handler = (argsIn, c) => {
  const r = openCtDump(argsIn, c);
  if (typeof r === "number") return r;
  const zone = r.zone;
  const conns = r.ct.connections(c.env.now(), zone);
  const perProto = new Map<number, number>();
  const tcpStates = new Array<number>(TCP_STATE_NAMES.length).fill(0);
  let other = 0;
  for (const conn of conns) {
    const p = conn.key.proto;
    if (CT_STATS_KEYS.some(([n]) => n === p)) perProto.set(p, (perProto.get(p) ?? 0) + 1);
    else if (p !== IPPROTO_ICMPV6) other++;
    if (p === IPPROTO_TCP) {
      // The state dump-conntrack shows: the later peer state, coalesced.
      let st = Math.max(conn.peer0.state, conn.peer1.state);
      if (st === TCPS_FIN_WAIT_2) st = TCPS_TIME_WAIT;
      else if (st === TCPS_SYN_RECV) st = TCPS_ESTABLISHED;
      tcpStates[st] = (tcpStates[st] ?? 0) + 1;
    }
  }
  let s = `Connections Stats:\n    Total: ${conns.length}\n`;
  for (const [p, name] of CT_STATS_KEYS) {
    const n = perProto.get(p) ?? 0;
    if (n === 0) continue;
    s += `  ${name}: ${n}\n`;
    if (p === IPPROTO_TCP && c.opts.verbosity > 0) {
      s += "    Conn per TCP states:\n";
      for (let i = 0; i < tcpStates.length; i++) if (tcpStates[i]) s += `\t  [${TCP_STATE_NAMES[i]}]=${tcpStates[i]}\n`;
    }
  }
  if (other) s += `  Other: ${other}\n`;
  c.out.print(s);
  return 0;
};

const ctSetMaxconns: Handler = (args, c) => {
  const a = args[args.length - 1]!;
  const r = openCt(args, c, 3);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "ct_set_maxconns failed");
    return r;
  }
  if (!/^\d+$/.test(a) || Number(a) > 0xffffffff) {
    c.out.error(Errno.EINVAL, "maxconns missing or malformed");
    return Errno.EINVAL;
  }
  r.ct.maxConns = Number(a);
  c.out.print("setting maxconns successful\n");
  return 0;
};

/** ct-get-maxconns / ct-get-nconns: one number of the datapath's connection tracker. */
function ctGetter(what: string, read: (ct: Conntrack) => number): Handler {
  return (args, c) => {
    const r = openCt(args, c, 2);
    if (typeof r === "number") {
      if (r === Errno.EOPNOTSUPP) c.out.error(r, `${what} could not be retrieved`);
      return r;
    }
    c.out.print(`${read(r.ct)}\n`);
    return 0;
  };
}
const ctGetMaxconns = ctGetter("maxconns", (ct) => ct.maxConns);
const ctGetNconns = ctGetter("nconns", (ct) => ct.nConns);

/**
 * A number as sscanf's `%u` reads the front of `s` (an optional sign,
 * then decimal digits; the rest ignored), wrapped to `bits`; null when
 * no digit comes first.
 */
function scanUnsignedPrefix(s: string, bits: 16 | 32): number | null {
  const m = /^\s*([+-]?)(\d+)/.exec(s);
  if (m === null) return null;
  const mod = 2n ** BigInt(bits);
  let v = BigInt(m[2]!);
  // strtoul saturates; the cast to the field's width then wraps.
  if (v > 0xffffffffffffffffn) v = 0xffffffffffffffffn;
  if (m[1] === "-") v = -v;
  return Number(((v % mod) + mod) % mod);
}

/**
 * A whole number as strtoll/strtoull with base 0 read it (0x hex, 0
 * octal, an optional sign), or null. `wrap`: a u32 field (str_to_u32:
 * the value is cut to 32 bits, negatives wrap); else a u16 field
 * (str_to_u16: 0..65535 only).
 */
function parseCNumber(s: string, wrap: boolean): number | null {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (m === null) return null;
  const t = m[2]!;
  let v = /^0[xX]/.test(t) ? BigInt(t) : t.length > 1 && t.startsWith("0") ? BigInt(`0o${t.slice(1)}`) : BigInt(t);
  if (v > 0xffffffffffffffffn) return null;
  if (m[1] === "-") v = -v;
  if (wrap) return Number(((v % 0x100000000n) + 0x100000000n) % 0x100000000n);
  return v >= 0n && v <= 0xffffn ? Number(v) : null;
}

/**
 * The key=value pairs of a zone limit tuple as ofputil_parse_key_value
 * splits them (separated by commas or white space; a key without `=`
 * has an empty value).
 */
function keyValues(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const n = text.length;
  const isSep = (ch: string): boolean => ch === "," || ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
  for (;;) {
    while (i < n && isSep(text[i]!)) i++;
    if (i >= n) return out;
    let j = i;
    while (j < n && !isSep(text[j]!) && text[j] !== "=" && text[j] !== ":" && text[j] !== "(") j++;
    const key = text.slice(i, j);
    const delim = j < n ? text[j]! : "";
    i = j + (delim !== "" ? 1 : 0);
    if (delim !== "=" && delim !== ":" && delim !== "(") {
      out.push([key, ""]);
      continue;
    }
    let k = i;
    let depth = 0;
    while (k < n) {
      const ch = text[k]!;
      if (delim === "(" ? ch === ")" && depth === 0 : isSep(ch) && depth === 0) break;
      if (ch === "(") depth++;
      else if (ch === ")" && depth > 0) depth--;
      k++;
    }
    out.push([key, text.slice(i, k)]);
    i = k + (k < n ? 1 : 0);
  }
}

/** `zone=N,limit=L` (ct_dpif_parse_zone_limit_tuple): the pair, or the error text. */
function parseZoneLimitTuple(text: string): { zone: number; limit: number } | string {
  let zone: number | null = null;
  let limit: number | null = null;
  for (const [k, v] of keyValues(text)) {
    if (v === "") return `field ${k} missing value`;
    if (k === "zone") {
      zone = parseCNumber(v, false);
      if (zone === null) return "failed to parse field zone";
    } else if (k === "limit") {
      limit = parseCNumber(v, true);
      if (limit === null) return "failed to parse field limit";
    } else {
      return `invalid zone limit field: ${k}`;
    }
  }
  if (zone === null || limit === null) return "failed to parse zone limit";
  return { zone, limit };
}

/** `zone=N1[,N2]...` of ct-del-limits / ct-get-limits: the zones, or the error text. */
function parseLimitZones(arg: string | undefined): number[] | string {
  if (arg === undefined || !arg.startsWith("zone=")) return `invalid argument ${arg ?? "(null)"}`;
  const zones: number[] = [];
  for (const tok of arg.slice(5).split(",")) {
    if (tok === "") continue;
    const z = scanUnsignedPrefix(tok, 16);
    if (z === null) return "invalid zone";
    zones.push(z);
  }
  // OVS 3.1 reads past the end here (and crashes); an empty list is an invalid zone.
  if (zones.length === 0) return "invalid zone";
  return zones;
}

const ctSetLimits: Handler = (args, c) => {
  let i = args.length > 1 && dpExists(c, args[1]!) ? 2 : 1;
  const r = openCt(args, c, Infinity);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "failed to set conntrack limit");
    return r;
  }
  let defaultLimit: number | null = null;
  const first = args[i];
  if (first === undefined) {
    // OVS 3.1 reads past the arguments here (and crashes).
    c.out.error(Errno.EINVAL, "failed to parse zone limit");
    return Errno.EINVAL;
  }
  if (first.startsWith("default=")) {
    defaultLimit = scanUnsignedPrefix(first.slice(8), 32);
    if (defaultLimit === null) {
      c.out.error(Errno.EINVAL, "invalid default limit");
      return Errno.EINVAL;
    }
    i++;
  }
  const zones: { zone: number; limit: number }[] = [];
  for (; i < args.length; i++) {
    const z = parseZoneLimitTuple(args[i]!);
    if (typeof z === "string") {
      c.out.error(Errno.EINVAL, z);
      return Errno.EINVAL;
    }
    zones.push(z);
  }
  if (defaultLimit !== null) r.ct.setZoneLimit(DEFAULT_ZONE, defaultLimit);
  for (const z of zones) r.ct.setZoneLimit(z.zone, z.limit);
  return 0;
};

const ctDelLimits: Handler = (args, c) => {
  const i = args.length > 1 && dpExists(c, args[1]!) ? 2 : 1;
  const r = openCt(args, c, 3);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "failed to delete conntrack limit");
    return r;
  }
  const zones = parseLimitZones(args[i]);
  if (typeof zones === "string") {
    c.out.error(Errno.EINVAL, zones);
    return Errno.EINVAL;
  }
  for (const z of zones) r.ct.delZoneLimit(z);
  return 0;
};

const ctGetLimits: Handler = (args, c) => {
  const i = args.length > 1 && dpExists(c, args[1]!) ? 2 : 1;
  const r = openCt(args, c, 3);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, `failed to get conntrack limit ${strerror(r)}`);
    return r;
  }
  let query: number[] | null = null;
  if (args.length > i) {
    const zones = parseLimitZones(args[i]);
    if (typeof zones === "string") {
      c.out.error(Errno.EINVAL, zones);
      return Errno.EINVAL;
    }
    query = zones;
  }
  const limits = r.ct.zoneLimits;
  let s = `default limit=${limits.defaultValue}`;
  const rows = query === null ? limits.zones().map((zl) => ({ zone: zl.zone, zl }))
    : query.map((zone) => ({ zone, zl: limits.lookupOrDefault(zone) }));
  for (const { zone, zl } of rows) s += `\nzone=${zone},limit=${zl?.limit ?? 0},count=${zl?.count ?? 0}`;
  c.out.print(s + "\n");
  return 0;
};

/** ct-enable-tcp-seq-chk / ct-disable-tcp-seq-chk. */
function ctSetTcpSeqChk(enabled: boolean): Handler {
  const verb = enabled ? "enabling" : "disabling";
  return (args, c) => {
    const r = openCt(args, c, 3);
    if (typeof r === "number") {
      if (r === Errno.EOPNOTSUPP) c.out.error(r, `${verb} TCP sequence checking failed`);
      return r;
    }
    r.ct.tcpSeqChk = enabled;
    c.out.print(`${verb} TCP sequence checking successful`);
    return 0;
  };
}

const ctGetTcpSeqChk: Handler = (args, c) => {
  const r = openCt(args, c, 2);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "TCP sequence checking query failed");
    return r;
  }
  c.out.print(`TCP sequence checking: ${r.ct.tcpSeqChk ? "enabled" : "disabled"}\n`);
  return 0;
};

/* ---------------- fragment reassembly (ipf.ts) ---------------- */

/** The last argument as OVS's ipf commands read a family: "v4" or "v6" (else null). */
function ipfFamily(a: string | undefined): "v4" | "v6" | null {
  return a === "v4" || a === "v6" ? a : null;
}

function ipfSetEnabled(enabled: boolean): Handler {
  const verb = enabled ? "enabling" : "disabling";
  return (args, c) => {
    const r = openCt(args, c, 4);
    if (typeof r === "number") return r;
    const fam = ipfFamily(args[args.length - 1]);
    if (fam === null) {
      c.out.error(Errno.EINVAL, "parameter missing: 'v4' for IPv4 or 'v6' for IPv6");
      return Errno.EINVAL;
    }
    if (fam === "v4") r.ct.ipf.v4Enabled = enabled;
    else r.ct.ipf.v6Enabled = enabled;
    c.out.print(`${verb} fragmentation reassembly successful\n`);
    return 0;
  };
}

const ipfSetMinFrag: Handler = (args, c) => {
  const r = openCt(args, c, 4);
  if (typeof r === "number") return r;
  const fam = ipfFamily(args[args.length - 2]);
  if (fam === null) {
    // (OVS words this one without the quotes.)
    c.out.error(Errno.EINVAL, "parameter missing: v4 for IPv4 or v6 for IPv6");
    return Errno.EINVAL;
  }
  const v = scanUnsignedPrefix(args[args.length - 1]!, 32);
  if (v === null) {
    c.out.error(Errno.EINVAL, "parameter missing for minimum fragment size");
    return Errno.EINVAL;
  }
  if (v < IPF_MIN_FRAG_LBOUND) {
    c.out.error(Errno.EPERM, "requested minimum fragment size too small; see documentation");
    return Errno.EPERM;
  }
  if (fam === "v4") r.ct.ipf.minV4FragSize = v;
  else r.ct.ipf.minV6FragSize = v;
  c.out.print("setting minimum fragment size successful\n");
  return 0;
};

const ipfSetMaxNfrags: Handler = (args, c) => {
  const r = openCt(args, c, 3);
  if (typeof r === "number") return r;
  const v = scanUnsignedPrefix(args[args.length - 1]!, 32);
  if (v === null) {
    c.out.error(Errno.EINVAL, "parameter missing for maximum fragments");
    return Errno.EINVAL;
  }
  if (v > IPF_MAX_FRAGS_UBOUND) {
    c.out.error(Errno.EPERM, "setting maximum fragments failed");
    return Errno.EPERM;
  }
  r.ct.ipf.maxFrags = v;
  c.out.print("setting maximum fragments successful\n");
  return 0;
};

const ipfGetStatus: Handler = (args, c) => {
  const r = openCt(args, c, 2);
  if (typeof r === "number") return r;
  c.out.print(r.ct.ipf.statusText());
  if (c.opts.verbosity > 0) c.out.print("\n        Fragment Lists:\n\n");
  return 0;
};

/**
 * ct-bkts: connections per conntrack bucket. The userspace tracker of
 * OVS 3.1 keeps its connections in one hash map and reports it as a
 * single bucket; tsovs's is the same.
 */
const ctBkts: Handler = (argsIn, c) => {
  const args = argsIn.slice();
  let gt = 0;
  const last = args.length > 1 ? args[args.length - 1]! : "";
  if (last.startsWith("gt=")) {
    const v = scanUnsignedPrefix(last.slice(3), 16);
    if (v !== null) {
      gt = v;
      args.pop();
    }
  }
  const r = openCt(args, c, 2);
  if (typeof r === "number") {
    if (r === Errno.EOPNOTSUPP) c.out.error(r, "starting conntrack dump");
    return r;
  }
  const buckets = 1;
  const conns = r.ct.connections(c.env.now()).length;
  let s = `Total Buckets: ${buckets}\nCurrent Connections: ${conns}\n\n`;
  if (conns > 0) {
    const rule = "+-----------+-----------------------------------------+";
    s += `${rule}\n|  Buckets  |         Connections per Buckets         |\n${rule}`;
    const perBucket = [conns];
    for (let b = 0; b < buckets; b++) {
      if (b % 8 === 0) s += `\n ${String(b).padStart(3)}..${String(b + 7).padStart(3)}   | `;
      s += perBucket[b]! > gt ? String(perBucket[b]).padStart(5) : "    .";
    }
    s += "\n\n";
  }
  c.out.print(s);
  return 0;
};

/** offload-stats-show: without a hardware offload provider the netdev datapath has no statistics to give. */
const offloadStatsShow: Handler = (args, c) => {
  const dp = optDpifOpen(args, c, 2);
  if (typeof dp === "number") return dp;
  c.out.error(Errno.EINVAL, "retrieving offload statistics");
  return Errno.EINVAL;
};

const CT_COMMANDS = new Set([
  "dump-conntrack", "flush-conntrack", "ct-stats-show", "ct-set-maxconns", "ct-get-maxconns", "ct-get-nconns",
  "ct-bkts", "ct-set-limits", "ct-del-limits", "ct-get-limits", "ct-enable-tcp-seq-chk", "ct-disable-tcp-seq-chk",
  "ct-get-tcp-seq-chk", "offload-stats-show", "ipf-set-enabled", "ipf-set-disabled", "ipf-set-min-frag",
  "ipf-set-max-nfrags", "ipf-get-status",
]);
/** The flow-file and cache commands, also bounded by unixctl as OVS registers them. */
const BOUNDED_COMMANDS = new Set(["add-flows", "mod-flows", "del-flows", "cache-get-size", "cache-set-size", "normalize-actions"]);

/** The command table (lib/dpctl.c all_commands, the datapath-generic subset). */
export const COMMANDS: readonly CommandSpec[] = [
  { name: "add-dp", usage: "dp [iface...]", min: 1, max: Infinity, handler: addDp },
  { name: "del-dp", usage: "dp", min: 1, max: 1, handler: delDp },
  { name: "add-if", usage: "dp iface...", min: 2, max: Infinity, handler: addIf },
  { name: "del-if", usage: "dp iface...", min: 2, max: Infinity, handler: delIf },
  { name: "set-if", usage: "dp iface...", min: 2, max: Infinity, handler: setIf },
  { name: "dump-dps", usage: "", min: 0, max: 0, handler: dumpDps },
  { name: "show", usage: "[-s] [dp...]", min: 0, max: Infinity, handler: show },
  { name: "dump-flows", usage: "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]", min: 0, max: 6, handler: dumpFlows },
  { name: "add-flow", usage: "[dp] flow actions", min: 2, max: 3, handler: addFlow },
  { name: "mod-flow", usage: "[dp] flow actions", min: 2, max: 3, handler: modFlow },
  { name: "get-flow", usage: "[dp] ufid", min: 1, max: 2, handler: getFlow },
  { name: "del-flow", usage: "[dp] flow", min: 1, max: 2, handler: delFlow },
  { name: "add-flows", usage: "[dp] file", min: 1, max: 2, handler: addFlows },
  { name: "mod-flows", usage: "[dp] file", min: 1, max: 2, handler: modFlows },
  { name: "del-flows", usage: "[dp] [file]", min: 0, max: 2, handler: delFlows },
  { name: "offload-stats-show", usage: "[dp]", min: 0, max: 1, handler: offloadStatsShow },
  { name: "dump-conntrack", usage: "[-m] [-s] [dp] [zone=N]", min: 0, max: 4, handler: dumpConntrack },
  { name: "flush-conntrack", usage: "[dp] [zone=N] [ct-orig-tuple] [ct-reply-tuple]", min: 0, max: 4, handler: flushConntrack },
  { name: "cache-get-size", usage: "[dp]", min: 0, max: 1, handler: cacheGetSize },
  { name: "cache-set-size", usage: "dp cache <size>", min: 3, max: 3, handler: cacheSetSize },
  { name: "ct-stats-show", usage: "[dp] [zone=N]", min: 0, max: 3, handler: ctStatsShow },
  { name: "ct-bkts", usage: "[dp] [gt=N]", min: 0, max: 2, handler: ctBkts },
  { name: "ct-set-maxconns", usage: "[dp] maxconns", min: 1, max: 2, handler: ctSetMaxconns },
  { name: "ct-get-maxconns", usage: "[dp]", min: 0, max: 1, handler: ctGetMaxconns },
  { name: "ct-get-nconns", usage: "[dp]", min: 0, max: 1, handler: ctGetNconns },
  { name: "ct-enable-tcp-seq-chk", usage: "[dp]", min: 0, max: 1, handler: ctSetTcpSeqChk(true) },
  { name: "ct-disable-tcp-seq-chk", usage: "[dp]", min: 0, max: 1, handler: ctSetTcpSeqChk(false) },
  { name: "ct-get-tcp-seq-chk", usage: "[dp]", min: 0, max: 1, handler: ctGetTcpSeqChk },
  { name: "ct-set-limits", usage: "[dp] [default=L] [zone=N,limit=L]...", min: 1, max: Infinity, handler: ctSetLimits },
  { name: "ct-del-limits", usage: "[dp] zone=N1[,N2]...", min: 1, max: 2, handler: ctDelLimits },
  { name: "ct-get-limits", usage: "[dp] [zone=N1[,N2]...]", min: 0, max: 2, handler: ctGetLimits },
  { name: "ipf-set-enabled", usage: "[dp] v4|v6", min: 1, max: 2, handler: ipfSetEnabled(true) },
  { name: "ipf-set-disabled", usage: "[dp] v4|v6", min: 1, max: 2, handler: ipfSetEnabled(false) },
  { name: "ipf-set-min-frag", usage: "[dp] v4|v6 minfragment", min: 2, max: 3, handler: ipfSetMinFrag },
  { name: "ipf-set-max-nfrags", usage: "[dp] maxfrags", min: 1, max: 2, handler: ipfSetMaxNfrags },
  { name: "ipf-get-status", usage: "[dp]", min: 0, max: 1, handler: ipfGetStatus },
  { name: "list-commands", usage: "", min: 0, max: Infinity, handler: listCommands },
  { name: "parse-actions", usage: "actions", min: 1, max: Infinity, handler: parseActions },
  { name: "normalize-actions", usage: "actions", min: 2, max: Infinity, handler: normalizeActionsCmd },
];

function resolveOptions(opts: DpctlOptions): Ctx["opts"] {
  const verbosity = opts.verbosity ?? 0;
  return {
    statistics: opts.statistics ?? false,
    verbosity,
    names: opts.names ?? verbosity > 0,
    mayCreate: opts.mayCreate ?? false,
    zeroStatistics: opts.zeroStatistics ?? false,
    program: opts.program ?? "ovs-dpctl",
    isAppctl: opts.isAppctl ?? false,
  };
}

/**
 * Runs one dpctl command: `argv` is the command name then its arguments
 * (options already parsed into `opts`).
 */
export function runDpctl(argv: string[], opts: DpctlOptions = {}, env: DpctlEnv = defaultDpctlEnv): DpctlResult {
  const o = resolveOptions(opts);
  const out = new Out(o.program);
  const c: Ctx = { env, opts: o, out };
  const name = argv[0];
  if (name === undefined) {
    out.error(0, "missing command name; use --help for help");
    return { status: Errno.EINVAL, text: out.text, errors: out.errors };
  }
  const cmd = COMMANDS.find((x) => x.name === name);
  if (cmd === undefined) {
    out.error(0, `unknown command '${name}'; use --help for help`);
    return { status: Errno.EINVAL, text: out.text, errors: out.errors };
  }
  const n = argv.length - 1;
  if (n < cmd.min) {
    out.error(0, `'${name}' command requires at least ${cmd.min} arguments`);
    return { status: Errno.EINVAL, text: out.text, errors: out.errors };
  }
  if (n > cmd.max) {
    out.error(0, `'${name}' command takes at most ${cmd.max} arguments`);
    return { status: Errno.EINVAL, text: out.text, errors: out.errors };
  }
  const status = cmd.handler(argv, c);
  return { status, text: out.text, errors: out.errors };
}

/**
 * Parses dpctl's options at the front of `args` (as dpctl_unixctl_handler
 * does: `-m`, `-s`, `--statistics`, `--clear`, `--may-create`, `--more`,
 * `--names`, `--no-names`). Returns the options and the rest, or an error text.
 */
export function parseDpctlOptions(args: string[]): { opts: DpctlOptions; rest: string[] } | { error: string } {
  const opts: DpctlOptions = {};
  let i = 0;
  let verbosity = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) {
      if (a === "--statistics") opts.statistics = true;
      else if (a === "--clear") opts.zeroStatistics = true;
      else if (a === "--may-create") opts.mayCreate = true;
      else if (a === "--more") verbosity++;
      else if (a === "--names") opts.names = true;
      else if (a === "--no-names") opts.names = false;
      else return { error: `Unrecognized option ${a}` };
    } else if (a.startsWith("-") && a.length > 1) {
      for (const ch of a.slice(1)) {
        if (ch === "m") verbosity++;
        else if (ch === "s") opts.statistics = true;
        else return { error: `Unrecognized option -${ch}` };
      }
    } else break;
  }
  opts.verbosity = verbosity;
  return { opts, rest: args.slice(i) };
}

/**
 * Registers `dpctl/<command>` unixctl commands (for a vswitchd), as
 * dpctl_unixctl_register does: options first, then the command's arguments;
 * the reply is everything printed, an error reply when the command failed.
 */
export function registerDpctlCommands(registry: UnixctlRegistry, env: DpctlEnv = defaultDpctlEnv, program = "ovs-vswitchd"): void {
  for (const cmd of COMMANDS) {
    // The conntrack commands check their argument counts (options
    // included) in unixctl, as OVS registers every dpctl command.
    const ctCmd = CT_COMMANDS.has(cmd.name) || BOUNDED_COMMANDS.has(cmd.name);
    registry.register(`dpctl/${cmd.name}`, cmd.usage, ctCmd ? cmd.min : 0, ctCmd ? cmd.max : Infinity, (args) => {
      const p = parseDpctlOptions(args);
      if ("error" in p) throw new UnixctlError(p.error);
      const r = runDpctl([cmd.name, ...p.rest], { ...p.opts, program, isAppctl: true }, env);
      if (r.status !== 0) throw new UnixctlError(r.text);
      return r.text;
    });
  }
}
