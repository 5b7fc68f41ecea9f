/**
 * Test helpers for NORMAL and MAC learning: a fake XBridge built from a
 * port list (the shape `ovs-vsctl add-port ... tag= trunks= vlan_mode=`
 * gives), flows built from a few fields, and a recording NormalCtx that
 * formats reports as `ofproto/trace` prints them and records every output
 * with the VLAN words it carries.
 */
import * as L from "../../src/flow/key-layout.js";
import { OFPPC_NO_FLOOD } from "../../src/openflow/ofp-port.js";
import { MacLearning } from "../../src/ofproto/mac-learning.js";
import { xlateNormal } from "../../src/ofproto/xlate-normal.js";
import type { Ofproto } from "../../src/ofproto/ofproto.js";
import type { NormalCtx, TraceNodeType, VlanMode, XBridge, XBundle, XPort } from "../../src/ofproto/xlate-types.js";

export interface PortSpec {
  name: string;
  ofp: number;
  odp?: number;
  mode?: VlanMode;
  tag?: number;
  trunks?: number[];
  cvlans?: number[];
  qinq?: number;
  protected?: boolean;
  noFlood?: boolean;
  /** Extra interfaces: makes the bundle a bond. */
  bondWith?: number[];
}

export interface FakeBridge extends XBridge {
  macs: MacLearning;
  bundles: Map<string, XBundle>;
  ports: Map<number, XPort>;
  clock: { now: number };
}

/** A bridge of single-interface bundles (plus the LOCAL port named after the bridge). */
export function fakeBridge(name: string, specs: PortSpec[], opts: { forwardBpdu?: boolean; local?: boolean } = {}): FakeBridge {
  const ports = new Map<number, XPort>();
  const bundles = new Map<string, XBundle>();
  const clock = { now: 1_000_000 };
  const bridge: FakeBridge = {
    name,
    ofproto: null as unknown as Ofproto,
    ports,
    portByOdp: (odp) => {
      for (const p of ports.values()) if (p.odpNo === odp) return p;
      return null;
    },
    bundles,
    macs: new MacLearning(),
    localOdpNo: 100,
    forwardBpdu: opts.forwardBpdu ?? false,
    datapathName: "ovs-dummy",
    now: () => clock.now,
    clock,
  };
  const all = opts.local === false ? specs : [{ name, ofp: 0xfffe, odp: 100 }, ...specs];
  for (const s of all) {
    const mode: VlanMode = s.mode ?? (s.tag !== undefined ? "access" : "trunk");
    const b: XBundle = {
      name: s.name,
      ports: [],
      vlanMode: mode,
      vlan: s.tag ?? -1,
      trunks: s.trunks ? new Set(s.trunks) : null,
      cvlans: s.cvlans ? new Set(s.cvlans) : null,
      qinqEthtype: s.qinq ?? 0x88a8,
      protected: s.protected ?? false,
    };
    for (const ofp of [s.ofp, ...(s.bondWith ?? [])]) {
      const p: XPort = {
        ofpNo: ofp,
        odpNo: ofp === s.ofp ? (s.odp ?? s.ofp) : ofp,
        name: ofp === s.ofp ? s.name : `${s.name}-${ofp}`,
        type: "dummy",
        config: s.noFlood ? OFPPC_NO_FLOOD : 0,
        state: 0,
        bundle: b,
        peer: null,
        bridge,
        hwAddr: new Uint8Array(6),
      };
      b.ports.push(p);
      ports.set(ofp, p);
    }
    bundles.set(s.name, b);
  }
  return bridge;
}

export interface FlowSpec {
  inPort: number;
  src: string;
  dst: string;
  /** Outer tag VID (absent = untagged). */
  vlan?: number;
  pcp?: number;
  tpid?: number;
  dlType?: number;
  arpOp?: number;
  spa?: number;
  tpa?: number;
}

function macBytes(text: string): number[] {
  return text.split(":").map((h) => parseInt(h, 16));
}

/** A translation flow (in_port = OpenFlow port). */
export function makeFlow(f: FlowSpec): Uint32Array {
  const flow = new Uint32Array(L.FLOW_U32S);
  flow[L.W_IN_PORT] = f.inPort;
  const d = macBytes(f.dst);
  const s = macBytes(f.src);
  flow[L.W_ETH_DST] = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  flow[L.W_ETH_SRC] = ((d[4]! << 24) | (d[5]! << 16) | (s[0]! << 8) | s[1]!) >>> 0;
  flow[L.W_ETH_SRC + 1] = ((s[2]! << 24) | (s[3]! << 16) | (s[4]! << 8) | s[5]!) >>> 0;
  const dlType = f.arpOp !== undefined ? 0x0806 : (f.dlType ?? 0);
  flow[L.W_DL_TYPE] = (dlType << 16) >>> 0;
  if (f.vlan !== undefined) {
    flow[L.W_VLAN0] = (((f.tpid ?? 0x8100) << 16) | 0x1000 | ((f.pcp ?? 0) << 13) | f.vlan) >>> 0;
  }
  if (f.arpOp !== undefined) {
    flow[L.W_NW_PROTO] = (f.arpOp << 24) >>> 0;
    flow[L.W_NW_SRC] = f.spa ?? 0;
    flow[L.W_NW_DST] = f.tpa ?? 0;
  }
  return flow;
}

/** The flow as `ovs-appctl ofproto/trace` takes it. */
export function flowText(f: FlowSpec, portName: (ofp: number) => string = String): string {
  let t = `in_port=${portName(f.inPort)}`;
  if (f.vlan !== undefined) t += `,dl_vlan=${f.vlan},dl_vlan_pcp=${f.pcp ?? 0}`;
  t += `,dl_src=${f.src},dl_dst=${f.dst}`;
  if (f.arpOp !== undefined) {
    t += `,arp,arp_op=${f.arpOp}`;
    if (f.spa !== undefined) t += `,arp_spa=${ipText(f.spa)}`;
    if (f.tpa !== undefined) t += `,arp_tpa=${ipText(f.tpa)}`;
  } else if (f.dlType !== undefined) {
    t += `,dl_type=0x${f.dlType.toString(16).padStart(4, "0")}`;
  }
  return t;
}

function ipText(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export interface NormalOutput {
  bundle: string;
  vlan: number;
  /** The two VLAN words, as hex "outer/inner". */
  tags: string;
}

export interface NormalResult {
  /** Report lines as ofproto/trace prints them ("-> x", ">> x", ">>>> x <<<<"). */
  reports: string[];
  outputs: NormalOutput[];
  wc: Uint32Array;
  revalidate: boolean;
}

function traceLine(type: TraceNodeType, text: string): string {
  if (type === "warn") return `>> ${text}`;
  if (type === "error") return `>>>> ${text} <<<<`;
  return `-> ${text}`;
}

export function tagsText(w0: number, w1: number): string {
  return `${w0.toString(16)}/${w1.toString(16)}`;
}

/** Runs NORMAL on `flow` through a recording context. */
export function runNormal(bridge: XBridge, flow: Uint32Array, opts: { mayLearn?: boolean } = {}): NormalResult {
  const res: NormalResult = { reports: [], outputs: [], wc: new Uint32Array(L.FLOW_U32S), revalidate: false };
  const ctx: NormalCtx = {
    bridge,
    flow,
    wc: res.wc,
    mayLearn: opts.mayLearn ?? true,
    inPort: bridge.ports.get(flow[L.W_IN_PORT]!) ?? null,
    outputToBundle(b, vlan, headers) {
      res.outputs.push({ bundle: b.name, vlan, tags: tagsText(headers?.[0] ?? 0, headers?.[1] ?? 0) });
    },
    report(text, type = "detail") {
      res.reports.push(traceLine(type, text));
    },
    needRevalidate() {
      res.revalidate = true;
    },
  };
  xlateNormal(ctx);
  return res;
}

/** The VLAN word of a tag (CFI set). */
export function tag(vid: number, pcp = 0, tpid = 0x8100): number {
  return ((tpid << 16) | 0x1000 | (pcp << 13) | vid) >>> 0;
}
