/**
 * Test helpers for ofproto-dpif: a small stand-in translation (table 0
 * only: output:N, NORMAL as flood, drop, controller as a userspace
 * controller cookie), flows from ovs-ofctl text, and frames.
 */
import { OdpActionsBuilder } from "../../src/datapath/odp-actions.js";
import { FLOW_U32S, W_DL_TYPE, W_IN_PORT, W_NW_FRAG, W_PACKET_TYPE } from "../../src/flow/key-layout.js";
import { USER_ACTION_COOKIE_LEN } from "../../src/flow/odp-format.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";
import type { OfpAction } from "../../src/openflow/ofp-actions.js";
import { OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_NORMAL } from "../../src/openflow/ofp-codec.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import { flowMod } from "../../src/ofproto/flow-mod.js";
import type { Ofproto } from "../../src/ofproto/ofproto.js";
import type { OfRule } from "../../src/ofproto/rule.js";
import type { BundleConfig, IfaceConfig, XlateIn, XlateOut } from "../../src/ofproto/xlate-types.js";
import { openDpifBridge, type OfprotoDpif } from "../../src/ofproto/ofproto-dpif.js";
import { registerDpifCommands } from "../../src/ofproto/dpif-commands.js";
import type { XlateFn } from "../../src/ofproto/upcall.js";
import { UnixctlRegistry } from "../../src/unixctl/server.js";
import { DummyNetdev } from "../../src/netdev/netdev-dummy.js";

function controllerCookie(): Uint8Array {
  const c = new Uint8Array(USER_ACTION_COOKIE_LEN);
  c[0] = 5;
  c[24 + 2] = 1; // reason action
  c[24 + 18] = 0xff;
  c[24 + 19] = 0xff;
  return c;
}

/**
 * Table 0 lookup and a few actions, with megaflow wildcards from the
 * classifier (in_port and dl_type always exact, as OVS's xlate_wc_init).
 */
export function fakeXlate(xin: XlateIn): XlateOut {
  const br = xin.bridge;
  const flow = xin.flow.slice();
  const wc = xin.wc;
  if (wc !== null) {
    wc[W_IN_PORT] = 0xffffffff;
    wc[W_DL_TYPE] = 0xffffffff;
    wc[W_PACKET_TYPE] = 0xffffffff;
    const dlType = xin.flow[W_DL_TYPE]! >>> 16;
    if (dlType === 0x0800 || dlType === 0x86dd) wc[W_NW_FRAG] = (wc[W_NW_FRAG]! | 3) >>> 0;
  }
  const out = new OdpActionsBuilder();
  const rules: OfRule<OfpAction[]>[] = [];
  const deferred: (() => void)[] = [];
  let actions: readonly OfpAction[] = xin.ofpacts ?? [];
  if (xin.ofpacts === undefined) {
    const rule = br.ofproto.tables.lookup(xin.tableId ?? 0, flow, wc);
    if (rule === null) return { actions: out.finish(), slow: 0, finalFlow: flow, rules, error: null, deferred };
    rules.push(rule);
    if ((xin.statsPackets ?? 0) > 0) rule.credit(xin.statsPackets!, xin.statsBytes ?? 0, br.now());
    actions = rule.actions;
  }
  const inPort = flow[W_IN_PORT]!;
  const outputTo = (port: number): void => {
    const xp = br.ports.get(port);
    if (xp !== undefined && xp.odpNo >= 0) out.output(xp.odpNo);
  };
  for (const a of actions) {
    if (a.type === "controller") {
      out.userspace(0, controllerCookie());
      continue;
    }
    if (a.type !== "output") continue;
    if (a.port === OFPP_NORMAL || a.port === OFPP_FLOOD) {
      for (const p of [...br.ports.keys()].sort((x, y) => x - y)) if (p !== inPort) outputTo(p);
    } else if (a.port === OFPP_IN_PORT) {
      outputTo(inPort);
    } else if (a.port === OFPP_CONTROLLER) {
      out.userspace(0, controllerCookie());
    } else {
      outputTo(a.port);
    }
  }
  return { actions: out.finish(), slow: 0, finalFlow: flow, rules, error: null, deferred };
}

/** Adds `table=T,priority=P,MATCH,actions=A` (ovs-ofctl syntax) to an Ofproto; throws on bad text. */
export function addFlow(ofproto: Ofproto, text: string, now = Date.now()): void {
  const at = text.indexOf("actions=");
  const acts = parseActions(at >= 0 ? text.slice(at + 8) : "drop");
  if (!Array.isArray(acts)) throw new Error(`bad actions in ${text}`);
  let head = at >= 0 ? text.slice(0, at) : text;
  let tableId = 0;
  let priority = 32768;
  let idle = 0;
  head = head.split(",").filter((kv) => {
    const [k, v] = kv.split("=");
    if (k === "table") tableId = Number(v);
    else if (k === "priority") priority = Number(v);
    else if (k === "idle_timeout") idle = Number(v);
    else return kv.trim() !== "";
    return false;
  }).join(",");
  const m = parseMatch(head);
  if (!m.ok) throw new Error(`bad match in ${text}: ${m.error}`);
  const r = ofproto.tables.flowMod(flowMod("add", m.match, acts, { tableId, priority, idleTimeout: idle }), now);
  if (!r.ok) throw new Error(`flow_mod failed: ${JSON.stringify(r)}`);
}

/** An Ethernet/IPv4/UDP frame from 50:54:00:00:00:0S to 50:54:00:00:00:0D. */
export function udpPacket(opts: { srcMac?: number; dstMac?: number; src?: number; dst?: number; sport?: number; dport?: number } = {}): Uint8Array {
  const f = new Uint8Array(60);
  const dv = new DataView(f.buffer);
  f.set([0x50, 0x54, 0, 0, 0, opts.dstMac ?? 2, 0x50, 0x54, 0, 0, 0, opts.srcMac ?? 1], 0);
  dv.setUint16(12, 0x0800);
  f[14] = 0x45;
  dv.setUint16(16, 46);
  f[22] = 64;
  f[23] = 17;
  dv.setUint32(26, opts.src ?? 0x0a000001);
  dv.setUint32(30, opts.dst ?? 0x0a000002);
  dv.setUint16(34, opts.sport ?? 1000);
  dv.setUint16(36, opts.dport ?? 2000);
  dv.setUint16(38, 26);
  return f;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

export { FLOW_U32S };

/** One Port row per interface (a string is a dummy interface). */
export function bundlesOf(name: string, ports: (string | IfaceConfig)[]): BundleConfig[] {
  const all: IfaceConfig[] = [{ name, type: "internal", options: {} }, ...ports.map((p) => (typeof p === "string" ? { name: p, type: "dummy", options: {} } : p))];
  return all.map((i) => ({ name: i.name, ifaces: [i], vlanMode: "access" as const, tag: -1, trunks: null, cvlans: null, qinqEthtype: 0x8100, protected: false }));
}

/** A dummy interface with a requested OpenFlow number. */
export function dummy(name: string, ofport: number): IfaceConfig {
  return { name, type: "dummy", options: {}, ofportRequest: ofport };
}

/**
 * Bridges on a test clock without timers (tests run sweeps with
 * revalidator/wait), the dpif appctl commands, and cleanup.
 */
export class DpifTestEnv {
  clock = 1_000_000;
  readonly registry = new UnixctlRegistry();
  private readonly open: OfprotoDpif[] = [];

  constructor(readonly xlate: XlateFn = fakeXlate) {
    registerDpifCommands(this.registry);
  }

  bridge(name: string, type: string, ports: (string | IfaceConfig)[], xlate: XlateFn = this.xlate): OfprotoDpif {
    const br = openDpifBridge(name, type, { xlate, clock: () => this.clock, runLoop: false, revalidateTimer: false, ofproto: { expiryTimer: false } });
    this.open.push(br);
    br.setBundles(bundlesOf(name, ports));
    return br;
  }

  async appctl(cmd: string, ...args: string[]): Promise<string> {
    const r = await this.registry.execute(cmd, args, null as never);
    if ("error" in r) throw new Error(r.error);
    return r.result;
  }

  netdevOf(br: OfprotoDpif, name: string): DummyNetdev {
    const nd = br.portByName(name)?.netdev;
    if (!(nd instanceof DummyNetdev)) throw new Error(`${name} is not a dummy netdev`);
    return nd;
  }

  closeAll(): void {
    for (const b of this.open.splice(0)) b.close();
  }
}
