/**
 * The NORMAL action (OVS 3.1's xlate_normal): a learning L2 switch over
 * the bridge's bundles, with 802.1Q VLANs, run inside a translation
 * through the narrow NormalCtx (xlate-types.ts).
 *
 * ## Steps, as OVS takes them
 * 1. Un-wildcard dl_src, dl_dst and the first tag's VID+CFI (and in_port):
 *    every decision below depends on them, so the megaflow matches them.
 * 2. Find the input bundle (a packet from CONTROLLER / NONE uses OVS's
 *    "OFPP_NONE" bundle: a trunk of every VLAN that learns nothing); drop
 *    a frame with a partial VLAN tag, or arriving on a mirror output port.
 * 3. Check the outer VID against the input bundle's mode (access: none;
 *    trunk: a trunked VLAN; native-*: none or trunked; dot1q-tunnel: an
 *    allowed customer VLAN) and translate the tags into the bridge's
 *    internal view ("xvlan": up to two (tpid, vid, pcp) tags, outer first).
 * 4. Refuse reserved multicast destinations (STP, LACP, CDP, ...) unless
 *    forward-bpdu is set.
 * 5. Learn the source MAC on the internal VLAN (side effects allowed
 *    only); a gratuitous ARP sets the entry's lock against reflections.
 * 6. Known destination on another bundle: output there; on the input
 *    bundle: drop. Unknown, multicast or broadcast: flood to every other
 *    bundle that carries the VLAN, skipping no-flood and mirror ports.
 * 7. Each output translates the internal tags into the output bundle's
 *    view (access: untagged; native-untagged: native VLAN untagged;
 *    dot1q-tunnel: outer tag popped) and hands the exact tag words to
 *    `ctx.outputToBundle`; two protected bundles never talk.
 * The trace lines (`ctx.report`) are OVS's words and kinds, checked
 * against `ovs-appctl ofproto/trace` of the real ovs-vswitchd.
 *
 * Not handled here (yet): multicast snooping, bond admissibility (LACP,
 * active-backup member checks) and priority-tags.
 */
import * as L from "../flow/key-layout.js";
import { OFPPC_NO_FLOOD } from "../openflow/ofp-port.js";
import { formatMac } from "../openflow/ofp-codec.js";
import { vlogModule } from "../util/vlog.js";
import type { NormalCtx, XBundle, XBridge, XPort } from "./xlate-types.js";
import { BV_DROP, BV_DROP_IF_MOVED, type Bond } from "./bond.js";

const log = vlogModule("ofproto_dpif_xlate");

const OFPP_CONTROLLER = 0xfffd;
const OFPP_NONE = 0xffff;
const ETH_TYPE_VLAN = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;
const ETH_TYPE_ARP = 0x0806;
const ARP_OP_REQUEST = 1;
const ARP_OP_REPLY = 2;
const VLAN_CFI = 0x1000;
const VLAN_VID_MASK = 0x0fff;
const VLAN_PCP_MASK = 0xe000;

/**
 * The bundle of packets injected by a controller (in_port CONTROLLER or
 * NONE): every VLAN is valid on it, nothing is learned from it.
 */
export const OFPP_NONE_BUNDLE: XBundle = Object.freeze({
  name: "OFPP_NONE",
  ports: [],
  vlanMode: "trunk",
  vlan: -1,
  trunks: null,
  cvlans: null,
  qinqEthtype: ETH_TYPE_VLAN,
});

/* An xvlan (OVS's struct xvlan) lives in 6 slots of an Int32Array:
 * [tpid0, vid0, pcp0, tpid1, vid1, pcp1]; pcp keeps its tci bits (0xe000). */
const TPID0 = 0, VID0 = 1, PCP0 = 2, TPID1 = 3, VID1 = 4, PCP1 = 5;
const XVLAN_SLOTS = 6;

/** MAC scratch: dl_src at 0, dl_dst at 6 (used before any output, so nesting is safe). */
const macs = new Uint8Array(12);
const SRC = 0;
const DST = 6;

/** The VLAN a bundle assigns to untagged input, or -1 for a trunk (OVS's xbundle->vlan). */
export function bundleVlan(b: XBundle): number {
  if (b.vlanMode === "trunk") return -1;
  return b.vlan >= 0 && b.vlan <= 4095 ? b.vlan : 0;
}

/**
 * Whether `b` trunks `vid` (OVS's xbundle_trunks_vlan). A native-* bundle
 * always trunks its native VLAN and never VLAN 0, whatever Port.trunks says.
 */
export function bundleTrunksVlan(b: XBundle, vid: number): boolean {
  switch (b.vlanMode) {
    case "access":
      return false;
    case "native-tagged":
    case "native-untagged": {
      const native = bundleVlan(b);
      if (native !== 0) {
        if (vid === native) return true;
        if (vid === 0) return false;
      }
      return b.trunks === null || b.trunks.has(vid);
    }
    case "trunk":
    case "dot1q-tunnel":
      return b.trunks === null || b.trunks.has(vid);
  }
}

function bundleAllowsCvlan(b: XBundle, vid: number): boolean {
  return b.cvlans === null || b.cvlans.has(vid);
}

/** Whether `b` carries the internal VLAN(s) `x` (OVS's xbundle_includes_vlan). */
export function bundleIncludesVlan(b: XBundle, x: Int32Array): boolean {
  switch (b.vlanMode) {
    case "access":
      return x[VID0] === bundleVlan(b) && x[VID1] === 0;
    case "trunk":
    case "native-tagged":
    case "native-untagged":
      return bundleTrunksVlan(b, x[VID0]!);
    case "dot1q-tunnel":
      return x[VID0] === bundleVlan(b) && bundleAllowsCvlan(b, x[VID1]!);
  }
}

function bundleFloodable(b: XBundle): boolean {
  for (const p of b.ports) if ((p.config & OFPPC_NO_FLOOD) !== 0) return false;
  return true;
}

/** True for destinations a bridge must not forward (OVS's eth_addr_is_reserved). */
export function macIsReserved(m: Uint8Array, o: number): boolean {
  const b0 = m[o]!, b1 = m[o + 1]!, b2 = m[o + 2]!, b3 = m[o + 3]!, b4 = m[o + 4]!, b5 = m[o + 5]!;
  if (b0 === 0x01 && b1 === 0x80 && b2 === 0xc2 && b3 === 0 && b4 === 0) return b5 <= 0x0f; /* STP, pause, LACP, LLDP... */
  if (b0 === 0x00 && b1 === 0xe0 && b2 === 0x2b && b3 === 0 && b4 === 0) return b5 === 0 || b5 === 4 || b5 === 6; /* EDP, EAPS */
  if (b0 === 0x01 && b1 === 0x00 && b2 === 0x0c) {
    if (b3 === 0 && b4 === 0 && b5 === 0) return true; /* ISL */
    if (b3 === 0xcc && b4 === 0xcc) return b5 === 0xcc || b5 === 0xcd || (b5 >= 0xc0 && b5 <= 0xc7); /* CDP/VTP/PVST+, CFM */
    if (b3 === 0xcd && b4 === 0xcd && b5 === 0xcd) return true; /* UplinkFast */
  }
  return false;
}

function readMacs(flow: Uint32Array): void {
  const w11 = flow[L.W_ETH_DST]!, w12 = flow[L.W_ETH_SRC]!, w13 = flow[L.W_ETH_SRC + 1]!;
  macs[DST] = w11 >>> 24;
  macs[DST + 1] = (w11 >>> 16) & 0xff;
  macs[DST + 2] = (w11 >>> 8) & 0xff;
  macs[DST + 3] = w11 & 0xff;
  macs[DST + 4] = w12 >>> 24;
  macs[DST + 5] = (w12 >>> 16) & 0xff;
  macs[SRC] = (w12 >>> 8) & 0xff;
  macs[SRC + 1] = w12 & 0xff;
  macs[SRC + 2] = w13 >>> 24;
  macs[SRC + 3] = (w13 >>> 16) & 0xff;
  macs[SRC + 4] = (w13 >>> 8) & 0xff;
  macs[SRC + 5] = w13 & 0xff;
}

function macText(off: number): string {
  return formatMac(macs.subarray(off, off + 6));
}

/**
 * Whether the flow is a gratuitous ARP (OVS's is_gratuitous_arp),
 * un-wildcarding what the answer depended on.
 */
function isGratuitousArp(flow: Uint32Array, wc: Uint32Array | null): boolean {
  if (wc) wc[L.W_DL_TYPE] = (wc[L.W_DL_TYPE]! | (L.M_DL_TYPE << L.S_DL_TYPE)) >>> 0;
  if (((flow[L.W_DL_TYPE]! >>> L.S_DL_TYPE) & L.M_DL_TYPE) !== ETH_TYPE_ARP) return false;
  /* dl_dst is already exact. */
  if (!(macs[DST] === 0xff && macs[DST + 1] === 0xff && macs[DST + 2] === 0xff && macs[DST + 3] === 0xff && macs[DST + 4] === 0xff && macs[DST + 5] === 0xff)) {
    return false;
  }
  if (wc) wc[L.W_NW_PROTO] = (wc[L.W_NW_PROTO]! | (L.M_NW_PROTO << L.S_NW_PROTO)) >>> 0;
  const op = (flow[L.W_NW_PROTO]! >>> L.S_NW_PROTO) & L.M_NW_PROTO;
  if (op === ARP_OP_REPLY) return true;
  if (op !== ARP_OP_REQUEST) return false;
  if (wc) {
    wc[L.W_NW_SRC] = 0xffffffff;
    wc[L.W_NW_DST] = 0xffffffff;
  }
  return flow[L.W_NW_SRC] === flow[L.W_NW_DST];
}

/** Reads the flow's tags into an xvlan (OVS's xvlan_extract). */
export function xvlanExtract(flow: Uint32Array, x: Int32Array): void {
  x.fill(0);
  for (let i = 0; i < 2; i++) {
    const w = flow[L.W_VLAN0 + i]!;
    const tci = w & 0xffff;
    if ((tci & VLAN_CFI) === 0) break;
    x[i * 3] = w >>> 16;
    x[i * 3 + 1] = tci & VLAN_VID_MASK;
    x[i * 3 + 2] = tci & VLAN_PCP_MASK;
  }
}

function xvlanPop(x: Int32Array): void {
  x[TPID0] = x[TPID1]!;
  x[VID0] = x[VID1]!;
  x[PCP0] = x[PCP1]!;
  x[TPID1] = x[VID1] = x[PCP1] = 0;
}

/** Input view -> the bridge's internal view (OVS's xvlan_input_translate). */
export function xvlanInputTranslate(b: XBundle, inX: Int32Array, x: Int32Array): void {
  switch (b.vlanMode) {
    case "access":
      x.fill(0);
      x[TPID0] = inX[TPID0] !== 0 ? inX[TPID0]! : ETH_TYPE_VLAN;
      x[VID0] = bundleVlan(b);
      x[PCP0] = inX[PCP0]!;
      break;
    case "trunk":
      x.set(inX);
      break;
    case "native-tagged":
    case "native-untagged":
      x.set(inX);
      if (inX[VID0] === 0) {
        x[TPID0] = inX[TPID0] !== 0 ? inX[TPID0]! : ETH_TYPE_VLAN;
        x[VID0] = bundleVlan(b);
        x[PCP0] = inX[PCP0]!;
      }
      break;
    case "dot1q-tunnel":
      /* Push the service tag outside the customer's. */
      x[TPID1] = inX[TPID0]!;
      x[VID1] = inX[VID0]!;
      x[PCP1] = inX[PCP0]!;
      x[TPID0] = b.qinqEthtype;
      x[VID0] = bundleVlan(b);
      x[PCP0] = 0;
      break;
  }
}

/** Internal view -> the output bundle's view (OVS's xvlan_output_translate). */
function xvlanOutputTranslate(b: XBundle, x: Int32Array, out: Int32Array): void {
  switch (b.vlanMode) {
    case "access":
      out.fill(0);
      break;
    case "trunk":
    case "native-tagged":
      out.set(x);
      break;
    case "native-untagged":
      out.set(x);
      if (x[VID0] === bundleVlan(b)) xvlanPop(out);
      break;
    case "dot1q-tunnel":
      out.set(x);
      xvlanPop(out);
      break;
  }
}

/** The flow's VLAN words for an xvlan (OVS's xvlan_put): a tag with VID 0 and PCP 0 is no tag. */
function xvlanPut(x: Int32Array, headers: Uint32Array): void {
  for (let i = 0; i < 2; i++) {
    const tci = x[i * 3 + 1]! | x[i * 3 + 2]!;
    if (tci === 0) {
      headers[i] = 0;
    } else {
      const tpid = x[i * 3] !== 0 ? x[i * 3]! : ETH_TYPE_VLAN;
      headers[i] = ((tpid << 16) | tci | VLAN_CFI) >>> 0;
    }
  }
}

/** Logs what OVS's xlate_report_error logs outside a trace, rate-limited (burst 5, then 1 per 2 s). */
let errorTokens = 5;
let errorStamp = 0;
export function reportError(ctx: NormalCtx, text: string): void {
  ctx.report(text, "error");
  const now = Date.now();
  errorTokens = Math.min(5, errorTokens + (now - errorStamp) / 2000);
  errorStamp = now;
  if (errorTokens >= 1) {
    errorTokens -= 1;
    log.warn(`${ctx.bridge.name}: ${text}`);
  }
}

/** Whether the outer VID `vid` may enter on `b` (OVS's input_vid_is_valid), reporting why not. */
export function inputVidIsValid(ctx: NormalCtx, vid: number, b: XBundle): boolean {
  if (b === OFPP_NONE_BUNDLE) return true;
  switch (b.vlanMode) {
    case "access":
      if (vid !== 0) {
        reportError(ctx, `dropping VLAN ${vid} tagged packet received on port ${b.name} configured as VLAN ${bundleVlan(b)} access port`);
        return false;
      }
      return true;
    case "native-tagged":
    case "native-untagged":
    case "trunk":
      /* A native port always takes untagged frames; tagged ones must be trunked. */
      if (b.vlanMode !== "trunk" && vid === 0) return true;
      if (!bundleTrunksVlan(b, vid)) {
        reportError(ctx, `dropping VLAN ${vid} packet received on port ${b.name} not configured for trunking VLAN ${vid}`);
        return false;
      }
      return true;
    case "dot1q-tunnel":
      if (!bundleAllowsCvlan(b, vid)) {
        reportError(ctx, `dropping VLAN ${vid} packet received on dot1q-tunnel port ${b.name} that excludes this VLAN`);
        return false;
      }
      return true;
  }
}

/**
 * Whether a packet received on bond member `inPort` may enter (the bond
 * part of OVS's is_admissible), reporting why not.
 */
function bondAdmits(ctx: NormalCtx, bond: Bond, inPort: XPort, inBundle: XBundle, vlan: number): boolean {
  const verdict = bond.checkAdmissibility(inPort, (macs[DST]! & 1) !== 0);
  if (verdict === BV_DROP) {
    ctx.report("bonding refused admissibility, dropping");
    return false;
  }
  if (verdict === BV_DROP_IF_MOVED) {
    const e = ctx.bridge.macs.lookup(macs, SRC, vlan);
    if (e !== null && e.bundle.name !== inBundle.name) {
      const locked = (e as { gratArpLockUntil?: number }).gratArpLockUntil ?? -Infinity;
      if (!isGratuitousArp(ctx.flow, ctx.wc) || Math.floor(ctx.bridge.now() / 1000) < locked) {
        ctx.report("SLB bond thinks this packet looped back, dropping");
        return false;
      }
    }
  }
  return true;
}

/** The bridge's current bundle for one named by a MAC entry (bundles may have been rebuilt), or null. */
function currentBundle(bridge: XBridge, b: XBundle): XBundle | null {
  const cur = bridge.bundles.get(b.name);
  return cur ?? null;
}

/** One NORMAL output (OVS's output_normal). */
function outputNormal(ctx: NormalCtx, inBundle: XBundle, out: XBundle, x: Int32Array, scratch: Int32Array, headers: Uint32Array): void {
  if (inBundle.protected === true && out.protected === true) {
    ctx.report("Flow is between protected ports, skipping output.", "warn");
    return;
  }
  outputToBundleXvlan(ctx, out, x, scratch, headers);
}

/**
 * Outputs to `out` with the internal VLANs `x` translated into its view
 * (OVS's output_normal without NORMAL's protected-port check; mirrors use it).
 */
export function outputToBundleXvlan(ctx: NormalCtx, out: XBundle, x: Int32Array, scratch: Int32Array, headers: Uint32Array): void {
  /* A bundle with no interfaces yet (partially configured): nothing to send on. */
  if (out.ports.length === 0) return;
  xvlanOutputTranslate(out, x, scratch);
  xvlanPut(scratch, headers);
  ctx.outputToBundle(out, scratch[VID0]!, headers);
}

/** Floods to every other bundle that carries the VLAN (OVS's xlate_normal_flood). */
function flood(ctx: NormalCtx, inBundle: XBundle, x: Int32Array, scratch: Int32Array, headers: Uint32Array): void {
  for (const b of ctx.bridge.bundles.values()) {
    if (b === inBundle || b.name === inBundle.name) continue;
    if (b.mirrorOut === true) continue;
    if (!bundleIncludesVlan(b, x)) continue;
    if (!bundleFloodable(b)) continue;
    outputNormal(ctx, inBundle, b, x, scratch, headers);
  }
}

/*
 * Scratch per nesting depth (NORMAL can re-enter through a patch port's
 * bridge while outputting): three xvlans and the two output tag words.
 * Preallocated so a translation allocates nothing.
 */
class NormalFrame {
  readonly inX = new Int32Array(XVLAN_SLOTS);
  readonly x = new Int32Array(XVLAN_SLOTS);
  readonly scratch = new Int32Array(XVLAN_SLOTS);
  readonly headers = new Uint32Array(2);
}
const frames: NormalFrame[] = [];
let depth = 0;

/** Translates the NORMAL action. */
export function xlateNormal(ctx: NormalCtx): void {
  const d = depth++;
  const frame = frames[d] ?? (frames[d] = new NormalFrame());
  normal(ctx, frame);
  /* Restores the depth even if a nested translation threw past us. */
  depth = d;
}

function normal(ctx: NormalCtx, frame: NormalFrame): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  const bridge = ctx.bridge;

  if (wc) {
    wc[L.W_ETH_DST] = 0xffffffff;
    wc[L.W_ETH_SRC] = 0xffffffff;
    wc[L.W_ETH_SRC + 1] = 0xffffffff;
    wc[L.W_VLAN0] = (wc[L.W_VLAN0]! | VLAN_VID_MASK | VLAN_CFI) >>> 0;
    wc[L.W_IN_PORT] = 0xffffffff;
  }
  readMacs(flow);

  /* The input bundle. */
  /* The flow's in_port, which actions before NORMAL may have changed. */
  const inPortNo = flow[L.W_IN_PORT]! & 0xffff;
  const inPort = ctx.inPort !== null && ctx.inPort.ofpNo === inPortNo ? ctx.inPort : (bridge.ports.get(inPortNo) ?? null);
  let inBundle: XBundle | null = inPort !== null ? inPort.bundle : null;
  if (inBundle === null && (inPortNo === OFPP_CONTROLLER || inPortNo === OFPP_NONE)) inBundle = OFPP_NONE_BUNDLE;
  if (inBundle === null) {
    reportError(ctx, `received packet on unknown port ${inPortNo}`);
    ctx.report("no input bundle, dropping", "warn");
    return;
  }

  /* A frame whose ethertype says VLAN but that has no tag was truncated. */
  const dlType = (flow[L.W_DL_TYPE]! >>> L.S_DL_TYPE) & L.M_DL_TYPE;
  if ((dlType === ETH_TYPE_VLAN || dlType === ETH_TYPE_VLAN_8021AD) && (flow[L.W_VLAN0]! & VLAN_CFI) === 0) {
    if (ctx.hasPacket ?? ctx.mayLearn) reportError(ctx, `dropping packet with partial VLAN tag received on port ${inBundle.name}`);
    ctx.report("partial VLAN tag, dropping", "warn");
    return;
  }

  if (inBundle.mirrorOut === true) {
    if (ctx.hasPacket ?? ctx.mayLearn) {
      reportError(ctx, `dropping packet received on port ${inBundle.name}, which is reserved exclusively for mirroring`);
    }
    ctx.report("input port is mirror output port, dropping", "warn");
    return;
  }

  /* VLAN admission and translation to the internal view. */
  const { inX, x, scratch, headers } = frame;
  xvlanExtract(flow, inX);
  if (!inputVidIsValid(ctx, inX[VID0]!, inBundle)) {
    ctx.report("disallowed VLAN VID for this input port, dropping", "warn");
    return;
  }
  xvlanInputTranslate(inBundle, inX, x);
  const vlan = x[VID0]!;

  /* Admissibility. */
  if (inPort !== null && !bridge.forwardBpdu && macIsReserved(macs, DST)) {
    ctx.report("packet has reserved destination MAC, dropping");
    return;
  }
  if (inPort !== null && inBundle.bond != null && !bondAdmits(ctx, inBundle.bond, inPort, inBundle, vlan)) return;

  /* Learning. */
  const isGratArp = isGratuitousArp(flow, wc);
  if (ctx.mayLearn && inPort !== null && flow[L.W_PACKET_TYPE] === 0 && inBundle !== OFPP_NONE_BUNDLE) {
    if (bridge.macs.learn(macs, SRC, vlan, inBundle, bridge.now(), isGratArp, inBundle.ports.length > 1)) {
      const text = `learned that ${macText(SRC)} is on port ${inBundle.name} in VLAN ${vlan}`;
      ctx.report(text);
      if (log.enabled("dbg")) log.dbg(`bridge ${bridge.name}: ${text}`);
      ctx.needRevalidate();
    }
  }

  /* Forwarding. */
  const entry = bridge.macs.lookup(macs, DST, vlan);
  if (entry !== null) {
    const out = currentBundle(bridge, entry.bundle);
    if (out === null) {
      ctx.report("learned port is unknown, dropping", "warn");
    } else if (out === inBundle || out.name === inBundle.name) {
      ctx.report("learned port is input port, dropping");
    } else {
      ctx.report("forwarding to learned port");
      outputNormal(ctx, inBundle, out, x, scratch, headers);
    }
  } else {
    ctx.report("no learned MAC for destination, flooding");
    flood(ctx, inBundle, x, scratch, headers);
  }
}
