/**
 * ofproto/trace: runs a flow (or a packet) through a bridge's translation
 * with tracing on and prints OVS 3.1's report — `Flow:`, the tree of
 * bridges, tables, actions and details, `Final flow:`, `Megaflow:` and
 * `Datapath actions:` — plus the unixctl commands `ofproto/trace` and
 * `ofproto/trace-packet-out` with OVS's argument syntax.
 *
 * The tree is printed as OVS's oftrace_node_print_details does: a node is
 * indented one step when it is not the last of its siblings or is a
 * terminal kind (action, detail, warn, error), and its children one step
 * further per such indentation; so a resubmit's table, being the last
 * child of the table that resubmitted, lines up with it.
 */
import { DpPacket } from "../packet/dp-packet.js";
import { extractFlowKey } from "../flow/extract.js";
import { formatOdpActions } from "../flow/odp-format.js";
import { packetFromHex, packetFromFlowText, parseOdpFlowText } from "../flow/compose.js";
import {
  FLOW_U32S, O_ND_TARGET, W_CT_LABEL, W_CT_MARK, W_CT_NW_DST, W_CT_NW_SRC, W_CT_STATE, W_CT_TP_SRC, W_DL_TYPE,
  W_DP_HASH, W_IN_PORT, W_IPV6_LABEL, W_IPV6_SRC, W_METADATA, W_MPLS_LSE0, W_NW_DST, W_NW_PROTO,
  W_NW_SRC, W_PACKET_TYPE, W_PKT_MARK, W_RECIRC_ID, W_REG0, W_SKB_PRIORITY, W_TCP_FLAGS, W_TP_SRC, W_TUN_DST,
  W_TUN_ID, W_TUN_IPV6_DST, W_VLAN0, W_ETH_DST, W_ARP_SHA, W_IGMP_GROUP,
  W_CT_IPV6_SRC, REGION_TUN_START, REGION_CTX_START, W_ACTSET_OUTPUT, W_TUN_GENEVE,
} from "../flow/key-layout.js";
import { Match } from "../openflow/match.js";
import { OFPP_UNSET } from "../openflow/ofp-codec.js";
import { formatMatch } from "../openflow/match-format.js";
import { parseOfpExactFlow } from "../openflow/ofp-exact-flow.js";
import { parseActions } from "../openflow/ofp-actions-codec.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { UnixctlError as UnixctlErrorLike, type UnixctlRegistry } from "../unixctl/index.js";
import { xlateActions } from "./xlate.js";
import { geneveToMetadata } from "./xlate-tnl.js";
import { tunMetadataSlots } from "../openflow/mf-key.js";
import { keyByte, setKeyByte } from "../flow/key-ops.js";
import type { TraceNode, TraceNodeType, TraceSink, XBridge, XlateOut } from "./xlate-types.js";
import { SLOW_ACTION, SLOW_BFD, SLOW_CFM, SLOW_LACP, SLOW_LLDP, SLOW_MATCH, SLOW_STP } from "./xlate-types.js";

/* ---------------- the trace tree ---------------- */

/** A TraceSink that keeps the whole tree (OVS's list of oftrace_nodes). */
export class TraceTree implements TraceSink {
  readonly root: TraceNode[] = [];
  private readonly stack: TraceNode[][] = [];

  private current(): TraceNode[] {
    return this.stack.length === 0 ? this.root : this.stack[this.stack.length - 1]!;
  }

  add(type: TraceNodeType, text: string): TraceNode {
    const n: TraceNode = { type, text, children: [] };
    this.current().push(n);
    return n;
  }

  push(node: TraceNode): void {
    this.stack.push(node.children);
  }

  pop(): void {
    this.stack.pop();
  }

  /** Conntrack recirculations translation forked (OVS's recirc_queue), traced after the main report. */
  readonly recircs: { id: number; table: number; flow: Uint32Array; zone: number }[] = [];

  recirc(id: number, table: number, flow: Uint32Array, zone: number): void {
    this.recircs.push({ id, table, flow, zone });
  }
}

function isTerminal(t: TraceNodeType): boolean {
  return t === "action" || t === "detail" || t === "warn" || t === "error" || t === "bucket";
}

/** Prints trace nodes as OVS does. */
export function formatTraceNodes(nodes: readonly TraceNode[], level: number, out: string[]): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.type === "bridge") out.push("\n");
    const more = i < nodes.length - 1 || isTerminal(n.type) ? 1 : 0;
    const pad = " ".repeat((level + more) * 4);
    switch (n.type) {
      case "detail":
        out.push(`${pad} -> ${n.text}\n`);
        break;
      case "warn":
        out.push(`${pad} >> ${n.text}\n`);
        break;
      case "error":
        out.push(`${pad} >>>> ${n.text} <<<<\n`);
        break;
      case "bridge":
        out.push(`${pad}${n.text}\n${pad}${"-".repeat(n.text.length)}\n`);
        break;
      default:
        out.push(`${pad}${n.text}\n`);
    }
    formatTraceNodes(n.children, level + more + more, out);
  }
}

/* ---------------- flow_format ---------------- */

function setWords(m: Uint32Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) m[w + i] = 0xffffffff;
}

/** OVS's flow_format: the flow as a match with the mask of the fields its packet has. */
export function formatFlow(flow: Uint32Array): string {
  const mask = new Uint32Array(FLOW_U32S);
  const tunSet = flow[W_TUN_DST] !== 0 || flow[W_TUN_IPV6_DST] !== 0 || flow[W_TUN_IPV6_DST + 1] !== 0 ||
    flow[W_TUN_IPV6_DST + 2] !== 0 || flow[W_TUN_IPV6_DST + 3] !== 0;
  if (tunSet) {
    for (let w = REGION_TUN_START; w < REGION_CTX_START; w++) mask[w] = 0xffffffff;
    // tun_metadata fields the packet has (tsovs keeps no presence bits: a nonzero value).
    for (const s of tunMetadataSlots() ?? []) {
      let any = false;
      for (let i = 0; i < s.len; i++) if (keyByte(flow, W_TUN_GENEVE * 4 + s.offset + i) !== 0) any = true;
      if (any) for (let i = 0; i < s.len; i++) setKeyByte(mask, W_TUN_GENEVE * 4 + s.offset + i, 0xff);
    }
  } else if (flow[W_TUN_ID] !== 0 || flow[W_TUN_ID + 1] !== 0) {
    setWords(mask, W_TUN_ID, 2);
  }
  if (flow[W_SKB_PRIORITY] !== 0) mask[W_SKB_PRIORITY] = 0xffffffff;
  if (flow[W_PKT_MARK] !== 0) mask[W_PKT_MARK] = 0xffffffff;
  if (flow[W_RECIRC_ID] !== 0) mask[W_RECIRC_ID] = 0xffffffff;
  if (flow[W_DP_HASH] !== 0) mask[W_DP_HASH] = 0xffffffff;
  const cs = flow[W_CT_STATE]!;
  if ((cs & 0xff) !== 0) mask[W_CT_STATE] |= 0xff;
  if ((cs >>> 16) !== 0) mask[W_CT_STATE] = (mask[W_CT_STATE]! | 0xffff0000) >>> 0;
  if (flow[W_CT_MARK] !== 0) mask[W_CT_MARK] = 0xffffffff;
  for (let i = 0; i < 4; i++) if (flow[W_CT_LABEL + i] !== 0) { setWords(mask, W_CT_LABEL, 4); break; }
  mask[W_IN_PORT] = 0xffff;
  for (let i = 0; i < 16; i++) if (flow[W_REG0 + i] !== 0) mask[W_REG0 + i] = 0xffffffff;
  if (flow[W_METADATA] !== 0 || flow[W_METADATA + 1] !== 0) setWords(mask, W_METADATA, 2);
  mask[W_PACKET_TYPE] = 0xffffffff;
  let dl = 0;
  if (flow[W_PACKET_TYPE] === 0) {
    setWords(mask, W_ETH_DST, 3);
    mask[W_DL_TYPE] = 0xffff0000;
    for (let i = 0; i < 2; i++) {
      mask[W_VLAN0 + i] = 0xffffffff;
      if ((flow[W_VLAN0 + i]! & 0xffff) === 0) break;
    }
    dl = flow[W_DL_TYPE]! >>> 16;
  } else {
    dl = flow[W_PACKET_TYPE]! & 0xffff;
  }
  const ctValid = (cs & 0x20) !== 0 && ((cs >>> 8) & 0xff) !== 0;
  const proto = flow[W_NW_PROTO]! >>> 24;
  if (dl === 0x0800) {
    mask[W_NW_SRC] = 0xffffffff;
    mask[W_NW_DST] = 0xffffffff;
    if (ctValid) {
      mask[W_CT_NW_SRC] = 0xffffffff;
      mask[W_CT_NW_DST] = 0xffffffff;
    }
  } else if (dl === 0x86dd) {
    setWords(mask, W_IPV6_SRC, 8);
    mask[W_IPV6_LABEL] = 0xffffffff;
    const tp = flow[W_TP_SRC]!;
    if (proto === 58 && (tp & 0xffff) === 0 && (tp >>> 16 === 135 || tp >>> 16 === 136)) {
      setWords(mask, W_ARP_SHA, 3);
      setWords(mask, O_ND_TARGET / 4, 4);
    } else if (ctValid) {
      setWords(mask, W_CT_IPV6_SRC, 8);
    }
  } else if (dl === 0x0806 || dl === 0x8035) {
    mask[W_NW_SRC] = 0xffffffff;
    mask[W_NW_DST] = 0xffffffff;
    mask[W_NW_PROTO] = 0xff000000;
    setWords(mask, W_ARP_SHA, 3);
    return finish(flow, mask);
  } else if (dl === 0x8847 || dl === 0x8848) {
    for (let i = 0; i < 3; i++) {
      mask[W_MPLS_LSE0 + i] = 0xffffffff;
      if ((flow[W_MPLS_LSE0 + i]! & 0x100) !== 0) break;
    }
    return finish(flow, mask);
  } else {
    return finish(flow, mask);
  }
  mask[W_NW_PROTO] = 0xffffffff;
  if (ctValid) {
    mask[W_CT_STATE] = (mask[W_CT_STATE]! | 0xff00) >>> 0;
    mask[W_CT_TP_SRC] = 0xffffffff;
  }
  const later = (flow[W_NW_PROTO]! & 2) !== 0;
  if (!later && (proto === 1 || proto === 58 || proto === 6 || proto === 17 || proto === 132 || proto === 2)) {
    mask[W_TP_SRC] = 0xffffffff;
    if (proto === 6) mask[W_TCP_FLAGS] = 0xffffffff;
    else if (proto === 2) mask[W_IGMP_GROUP] = 0xffffffff;
  }
  return finish(flow, mask);
}

function finish(flow: Uint32Array, mask: Uint32Array): string {
  const key = new Uint32Array(FLOW_U32S);
  for (let i = 0; i < FLOW_U32S; i++) key[i] = flow[i]! & mask[i]!;
  return formatMatch(new Match(key, mask));
}

/** The megaflow: the flow under the translation's wildcards, as a match. */
export function formatMegaflow(flow: Uint32Array, wc: Uint32Array): string {
  const key = new Uint32Array(FLOW_U32S);
  for (let i = 0; i < FLOW_U32S; i++) key[i] = flow[i]! & wc[i]!;
  return formatMatch(new Match(key, wc.slice()));
}

/* ---------------- the report ---------------- */

const SLOW_TEXT: readonly [number, string][] = [
  [SLOW_CFM, "Consists of CFM packets."],
  [SLOW_BFD, "Consists of BFD packets."],
  [SLOW_LACP, "Consists of LACP packets."],
  [SLOW_STP, "Consists of STP packets."],
  [SLOW_LLDP, "Consists of LLDP packets."],
  [SLOW_ACTION, "Uses action(s) not supported by datapath."],
  [SLOW_MATCH, "Datapath cannot match on this flow."],
];

/** Datapath port names for `Datapath actions:` (OVS prints numbers: none). */
export interface TraceOptions {
  /** Actions to run instead of a table lookup (ofproto/trace-packet-out). */
  ofpacts?: readonly OfpAction[];
  packet?: Uint8Array | null;
  /** ct_state values for the conntrack recirculations, in order (--ct-next). */
  ctStates?: number[];
}

/** ct_state bit names as OVS prints them, bit 0 first. */
const CT_STATE_NAMES = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];

function ctStateText(v: number): string {
  const out: string[] = [];
  // OVS's --ct-next banner lists trk first.
  if ((v & 0x20) !== 0) out.push("trk");
  for (let i = 0; i < 8; i++) if (i !== 5 && (v & (1 << i)) !== 0) out.push(CT_STATE_NAMES[i]!);
  return out.join("|");
}

/** Parses a --ct-next argument (flags separated by | or ,), or null. */
export function parseCtState(text: string): number | null {
  let v = 0;
  for (const w of text.split(/[|,]/)) {
    const t = w.trim().replace(/^\+/, "");
    if (t === "") continue;
    const i = CT_STATE_NAMES.indexOf(t);
    if (i < 0) return null;
    v |= 1 << i;
  }
  return v;
}

/** Runs one trace and returns OVS's report text (ending in a newline). */
export function traceReport(bridge: XBridge, flow: Uint32Array, opts: TraceOptions = {}): { text: string; out: XlateOut } {
  const ctNext = (opts.ctStates ?? []).slice();
  const first = traceOne(bridge, flow, opts);
  let text = first.text;
  const queue = first.tree.recircs.slice();
  for (let n = 0; queue.length > 0 && n < 64; n++) {
    const r = queue.shift()!;
    const given = ctNext.shift();
    const state = given ?? 0x21;
    const f = r.flow.slice();
    f[W_RECIRC_ID] = r.id;
    f[W_CT_STATE] = ((f[W_CT_STATE]! & 0xff00) | (r.zone << 16) | state) >>> 0;
    const bar = "=".repeat(79);
    text += `\n${bar}\nrecirc(0x${r.id.toString(16)}) - resume conntrack with ${given === undefined ? "default " : ""}ct_state=${ctStateText(state)}${given === undefined ? " (use --ct-next to customize)" : ""}\n${bar}\n\n`;
    const sub = traceOne(bridge, f, { packet: null });
    text += sub.text;
    queue.push(...sub.tree.recircs);
  }
  return { text, out: first.out };
}

function traceOne(bridge: XBridge, flow: Uint32Array, opts: TraceOptions): { text: string; out: XlateOut; tree: TraceTree } {
  const tree = new TraceTree();
  const wc = new Uint32Array(FLOW_U32S);
  flow = flow.slice();
  flow[W_ACTSET_OUTPUT] = OFPP_UNSET;
  const initial = flow.slice();
  const xin: Parameters<typeof xlateActions>[0] = {
    bridge, flow: initial, wc, packet: opts.packet ?? null, mayLearn: opts.packet != null, allowSideEffects: opts.packet != null, trace: tree,
  };
  if (opts.ofpacts !== undefined) xin.ofpacts = opts.ofpacts;
  const out = xlateActions(xin);
  // With a packet, side effects happen as for a real one (learn installs, fin_timeout shortens).
  if (opts.packet != null) for (const d of out.deferred) d();
  const parts: string[] = [];
  parts.push(`Flow: ${formatFlow(flow)}\n`);
  formatTraceNodes(tree.root, 0, parts);
  // A traced translation keeps its final flow.
  const final = out.finalFlow!;
  let same = true;
  for (let i = 0; i < FLOW_U32S; i++) {
    if (final[i] !== flow[i]) {
      same = false;
      break;
    }
  }
  parts.push(`\nFinal flow: ${same ? "unchanged" : formatFlow(final)}\n`);
  parts.push(`Megaflow: ${formatMegaflow(flow, wc)}\n`);
  parts.push(`Datapath actions: ${formatOdpActions(out.actions)}\n`);
  if (out.error !== null) {
    parts.push(`Translation failed (${out.error}), packet is dropped.\n`);
  } else if (out.slow !== 0) {
    parts.push("This flow is handled by the userspace slow path because it:\n");
    for (const [bit, text] of SLOW_TEXT) if ((out.slow & bit) !== 0) parts.push(`  - ${text}\n`);
  }
  return { text: parts.join(""), out, tree };
}

/* ---------------- the commands ---------------- */

/** The bridges the commands can see (the vswitchd's VswitchdCommandContext fits). */
export interface TraceBridges {
  bridges(): { readonly name: string; readonly xbridge: XBridge; readonly datapathType?: string }[];
  bridge(name: string): { readonly xbridge: XBridge } | null;
}

class TraceError extends Error {}

function portNumbersOf(b: XBridge): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of b.ports.values()) m.set(p.name, p.ofpNo);
  return m;
}

function odpPortNumbersOf(all: XBridge[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const b of all) for (const p of b.ports.values()) if (p.odpNo >= 0) m.set(p.name, p.odpNo);
  return m;
}

interface ParsedTrace {
  bridge: XBridge;
  flow: Uint32Array;
  packet: Uint8Array | null;
  ctStates: number[];
}

/** OVS's parse_flow_and_packet. `args` are the words after the command name. */
export function parseTraceArgs(args: readonly string[], bridges: TraceBridges): ParsedTrace {
  const words: string[] = [];
  let generate = false;
  let l7: Uint8Array | undefined;
  let l7Len: number | undefined;
  const ctStates: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-generate" || a === "--generate") generate = true;
    else if (a === "--l7") {
      const v = args[++i];
      if (v === undefined) throw new TraceError("Missing argument for option --l7");
      const p = packetFromHexLoose(v);
      if (p === null) throw new TraceError("Trailing garbage in packet data");
      l7 = p;
    } else if (a === "--l7-len") {
      const v = args[++i];
      if (v === undefined) throw new TraceError("Missing argument for option --l7-len");
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new TraceError(`Invalid length for --l7-len: ${v}`);
      l7Len = n;
    } else if (a === "--ct-next") {
      const v = args[++i];
      if (v === undefined) throw new TraceError("Missing argument for option --ct-next");
      const st = parseCtState(v);
      if (st === null) throw new TraceError(`Failed to parse ct-state: ${v}`);
      ctStates.push(st);
    } else if (a === "--names" || a === "--no-names") {
      // Port names in the output: tsovs prints numbers, as OVS without --names.
    } else if (a.startsWith("-")) {
      throw new TraceError(`${a}: unknown option`);
    } else if (words.length >= 3) {
      throw new TraceError("too many arguments");
    } else {
      words.push(a);
    }
  }
  if (words.length === 0) throw new TraceError("Must specify bridge name");
  let packet: Uint8Array | null = null;
  const all = bridges.bridges();
  const odpPorts = odpPortNumbersOf(all.map((b) => b.xbridge));
  if (words.length === 3) {
    const hex = packetFromHex(words[2]!);
    if ("error" in hex) throw new TraceError(hex.error);
    packet = hex.packet;
    words.pop();
  } else if (words.length === 2 && "flow" in parseOdpFlowText(words[0]!, odpPorts)) {
    const hex = packetFromHex(words[1]!);
    if ("error" in hex) throw new TraceError(hex.error);
    packet = hex.packet;
    words.pop();
  }
  const flowText = words[words.length - 1]!;
  let bridge: XBridge;
  let flow: Uint32Array;
  const odp = parseOdpFlowText(flowText, odpPorts);
  if (words.length === 1 && "error" in odp) throw new TraceError(`${odp.error} (or the bridge name was omitted)`);
  if ("flow" in odp) {
    // A datapath flow: the bridge is the one owning the datapath in_port.
    let candidates = all;
    if (words.length > 1) {
      const dp = words[0]!;
      candidates = all.filter((b) => b.xbridge.datapathName === dp || `${b.datapathType ?? ""}@ovs-${b.datapathType ?? ""}` === dp ||
        b.datapathType === dp);
      if (candidates.length === 0) throw new TraceError("Cannot find the datapath");
    } else {
      const types = new Set(all.map((b) => b.xbridge.datapathName));
      if (types.size > 1) throw new TraceError("Must specify datapath name, there is more than one type of datapath");
    }
    flow = odp.flow;
    const odpIn = flow[W_IN_PORT]!;
    let found: XBridge | null = null;
    for (const b of candidates) {
      const p = b.xbridge.portByOdp(odpIn, flow);
      if (p !== null) {
        found = b.xbridge;
        flow[W_IN_PORT] = p.ofpNo;
        break;
      }
    }
    if (found === null) throw new TraceError("no OpenFlow port for datapath port " + odpIn);
    bridge = found;
    // Geneve options as the datapath has them become tun_metadata (TLV map), as OVS shows the flow.
    if (!geneveToMetadata(flow)) throw new TraceError("Failed to parse Geneve options");
  } else {
    if (words.length !== 2) throw new TraceError("Must specify bridge name");
    const b = bridges.bridge(words[0]!);
    if (b === null) throw new TraceError("Unknown bridge name");
    bridge = b.xbridge;
    const r = parseOfpExactFlow(flowText, portNumbersOf(bridge));
    if ("error" in r) throw new TraceError(`Bad openflow flow syntax: ${r.error}`);
    flow = r.flow;
  }
  if (generate) {
    if (packet !== null) throw new TraceError("Packet data and -generate are mutually exclusive");
    const opts: { l7?: Uint8Array; l7Len?: number } = {};
    if (l7 !== undefined) opts.l7 = l7;
    if (l7Len !== undefined) opts.l7Len = l7Len;
    const g = packetFromFlowText(flowText, odpPortNumbersOf(all.map((x) => x.xbridge)),
      { ...opts, openflow: (t) => parseOfpExactFlow(t, portNumbersOf(bridge)) });
    if ("error" in g) throw new TraceError(g.error);
    // The flow stays as given (OVS composes the packet from it and traces the flow).
    packet = g.packet;
  } else if (packet !== null) {
    flow = flowFromPacket(packet, flow);
  }
  return { bridge, flow, packet, ctStates };
}

function packetFromHexLoose(s: string): Uint8Array | null {
  const clean = s.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The flow of a packet, keeping the metadata (in_port, registers, tunnel...) of `meta`. */
export function flowFromPacket(packet: Uint8Array, meta: Uint32Array): Uint32Array {
  const p = new DpPacket(Math.max(2048, packet.length + 256));
  p.setData(packet);
  const key = new Uint32Array(FLOW_U32S);
  extractFlowKey(p, key);
  // Metadata words come from the flow, not the bytes.
  key[W_IN_PORT] = meta[W_IN_PORT]!;
  key[W_RECIRC_ID] = meta[W_RECIRC_ID]!;
  key[W_DP_HASH] = meta[W_DP_HASH]!;
  key[W_SKB_PRIORITY] = meta[W_SKB_PRIORITY]!;
  key[W_PKT_MARK] = meta[W_PKT_MARK]!;
  for (let w = REGION_TUN_START; w < REGION_CTX_START; w++) key[w] = meta[w]!;
  for (let i = 0; i < 16; i++) key[W_REG0 + i] = meta[W_REG0 + i]!;
  key[W_METADATA] = meta[W_METADATA]!;
  key[W_METADATA + 1] = meta[W_METADATA + 1]!;
  return key;
}

/**
 * Registers `ofproto/trace` and `ofproto/trace-packet-out`. `bridges`
 * gives the bridges (the vswitchd's command context fits).
 */
export function registerTraceCommands(registry: UnixctlRegistry, bridges: TraceBridges): void {
  registry.register("ofproto/trace", "{[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet]", 1, 0x7fffffff,
    (args) => {
      try {
        const t = parseTraceArgs(args, bridges);
        return traceReport(t.bridge, t.flow, { packet: t.packet, ctStates: t.ctStates }).text;
      } catch (e) {
        if (e instanceof TraceError) throw new UnixctlErrorLike(e.message);
        throw e;
      }
    });
  registry.register("ofproto/trace-packet-out", "[-consistent] {[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet] actions", 2, 0x7fffffff,
    (args) => {
      try {
        let rest = args.slice();
        if (rest[0] === "-consistent") rest = rest.slice(1);
        const actText = rest.pop();
        if (actText === undefined || rest.length === 0) throw new TraceError("Must specify bridge name");
        const acts = parseActions(actText);
        if (!Array.isArray(acts)) throw new TraceError((acts as { error?: string }).error ?? "bad actions");
        const t = parseTraceArgs(rest, bridges);
        return traceReport(t.bridge, t.flow, { packet: t.packet, ofpacts: acts, ctStates: t.ctStates }).text;
      } catch (e) {
        if (e instanceof TraceError) throw new UnixctlErrorLike(e.message);
        throw e;
      }
    });
}
