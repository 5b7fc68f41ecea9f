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
 * With multicast snooping on (the bridge's `ms`, mcast-snooping.ts), step 6
 * for IPv4/IPv6 to a multicast (not broadcast) MAC is OVS's instead: IGMP
 * and MLD take the slow path, teach the table (reports, leaves, queries,
 * when there is a packet and learning is allowed) and go to router and
 * report-flood ports (reports) or everywhere (queries); link-local groups
 * (224.0.0.x, ff02::1) flood; other data goes to the group's members, the
 * flood ports and the routers, or — unregistered — floods (or, with
 * flood-unregistered off, goes to routers and flood ports only).
 *
 * Not handled here (yet): bond admissibility (LACP, active-backup member
 * checks) and priority-tags.
 */
import * as L from "../flow/key-layout.js";
import { OFPPC_NO_FLOOD } from "../openflow/ofp-port.js";
import { formatMac } from "../openflow/ofp-codec.js";
import { vlogModule } from "../util/vlog.js";
import type { NormalCtx, XBundle, XBridge, XPort } from "./xlate-types.js";
import { BV_DROP, BV_DROP_IF_MOVED, type Bond } from "./bond.js";
import { csumFinish, csumPartial, ipv6PseudoSum } from "../packet/checksum.js";
import {
  IGMP_HOST_LEAVE_MESSAGE,
  IGMP_HOST_MEMBERSHIP_QUERY,
  IGMP_HOST_MEMBERSHIP_REPORT,
  IGMPV2_HOST_MEMBERSHIP_REPORT,
  IGMPV3_HOST_MEMBERSHIP_REPORT,
  MLD2_REPORT,
  MLD_DONE,
  MLD_QUERY,
  MLD_REPORT,
  igmpIsMembership,
  igmpIsQuery,
  type McastSnooping,
} from "./mcast-snooping.js";
import { SLOW_ACTION } from "./xlate-types.js";

const log = vlogModule("ofproto_dpif_xlate");

const OFPP_CONTROLLER = 0xfffd;
const OFPP_NONE = 0xffff;
const ETH_TYPE_VLAN = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const IPPROTO_IGMP = 2;
const IPPROTO_ICMPV6 = 58;
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
  const ms = bridge.ms ?? null;
  if (ms !== null && (macs[DST]! & 1) !== 0 && !macIsBroadcast() && (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6)) {
    mcastNormal(ctx, ms, frame, inBundle, dlType, vlan);
    return;
  }
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

/* ---------------- multicast snooping ---------------- */

function macIsBroadcast(): boolean {
  for (let i = 0; i < 6; i++) if (macs[DST + i] !== 0xff) return false;
  return true;
}

function unwildcardNwProto(wc: Uint32Array | null): void {
  if (wc) wc[L.W_NW_PROTO] = (wc[L.W_NW_PROTO]! | (L.M_NW_PROTO << L.S_NW_PROTO)) >>> 0;
}

function unwildcardTpSrc(wc: Uint32Array | null): void {
  if (wc) wc[L.W_TP_SRC] = (wc[L.W_TP_SRC]! | (L.M_TP_SRC << L.S_TP_SRC)) >>> 0;
}

function nwProtoOf(flow: Uint32Array): number {
  return (flow[L.W_NW_PROTO]! >>> L.S_NW_PROTO) & L.M_NW_PROTO;
}

function tpSrcOf(flow: Uint32Array): number {
  return (flow[L.W_TP_SRC]! >>> L.S_TP_SRC) & L.M_TP_SRC;
}

/** An ICMPv6 flow (un-wildcards nw_proto when IPv6, as OVS's is_icmpv6). */
function isIcmpv6(flow: Uint32Array, wc: Uint32Array | null, dlType: number): boolean {
  if (dlType !== ETH_TYPE_IPV6) return false;
  unwildcardNwProto(wc);
  return nwProtoOf(flow) === IPPROTO_ICMPV6;
}

/** An MLD message (OVS's is_mld). */
function isMld(flow: Uint32Array, wc: Uint32Array | null, dlType: number): boolean {
  if (!isIcmpv6(flow, wc, dlType)) return false;
  unwildcardTpSrc(wc);
  const t = tpSrcOf(flow);
  return t === MLD_QUERY || t === MLD_REPORT || t === MLD_DONE || t === MLD2_REPORT;
}

/** An MLD message other than a query (OVS's is_mld_report). */
function isMldReport(flow: Uint32Array, wc: Uint32Array | null, dlType: number): boolean {
  if (!isMld(flow, wc, dlType)) return false;
  return tpSrcOf(flow) !== MLD_QUERY;
}

/** 224.0.0.x or ff02::1: flooded whatever the table says (RFC 4541 2.1.2). */
function isIpLocalMulticast(flow: Uint32Array, wc: Uint32Array | null, dlType: number): boolean {
  if (dlType === ETH_TYPE_IP) {
    if (wc) wc[L.W_NW_DST] = 0xffffffff;
    return (flow[L.W_NW_DST]! & 0xffffff00) >>> 0 === 0xe0000000;
  }
  if (wc) for (let i = 0; i < 4; i++) wc[L.W_IPV6_DST + i] = 0xffffffff;
  return flow[L.W_IPV6_DST] === 0xff020000 && flow[L.W_IPV6_DST + 1] === 0 && flow[L.W_IPV6_DST + 2] === 0 && flow[L.W_IPV6_DST + 3] === 1;
}

/** Where the L3 and L4 headers of a packet start and where its IP payload ends (-1: not found). */
let pktL3 = -1;
let pktL4 = -1;
let pktEnd = -1;

/** Finds L3/L4 in `p` for an IPv4 or IPv6 packet to `proto` (after VLAN tags and IPv6 extension headers). */
function locateL4(p: Uint8Array, proto: number): boolean {
  pktL3 = pktL4 = pktEnd = -1;
  let off = 12;
  if (p.length < 14) return false;
  let type = (p[off]! << 8) | p[off + 1]!;
  off += 2;
  while ((type === ETH_TYPE_VLAN || type === ETH_TYPE_VLAN_8021AD) && off + 4 <= p.length) {
    type = (p[off + 2]! << 8) | p[off + 3]!;
    off += 4;
  }
  if (type === ETH_TYPE_IP) {
    if (off + 20 > p.length) return false;
    const ihl = (p[off]! & 0x0f) * 4;
    const tot = (p[off + 2]! << 8) | p[off + 3]!;
    if (ihl < 20 || p[off + 9] !== proto) return false;
    pktL3 = off;
    pktL4 = off + ihl;
    pktEnd = Math.min(p.length, off + tot);
    return pktL4 <= pktEnd;
  }
  if (type === ETH_TYPE_IPV6) {
    if (off + 40 > p.length) return false;
    pktL3 = off;
    const end = Math.min(p.length, off + 40 + ((p[off + 4]! << 8) | p[off + 5]!));
    let next = p[off + 6]!;
    let at = off + 40;
    /* Hop-by-hop, routing, destination options, fragment, AH. */
    while (next !== proto) {
      if (at + 8 > end) return false;
      if (next === 0 || next === 43 || next === 60) {
        const len = (p[at + 1]! + 1) * 8;
        next = p[at]!;
        at += len;
      } else if (next === 44) {
        next = p[at]!;
        at += 8;
      } else if (next === 51) {
        const len = (p[at + 1]! + 2) * 4;
        next = p[at]!;
        at += len;
      } else {
        return false;
      }
    }
    pktL4 = at;
    pktEnd = end;
    return pktL4 <= pktEnd;
  }
  return false;
}

function reportDebug(ctx: NormalCtx, text: string): void {
  ctx.report(text);
  if (log.enabled("dbg")) log.dbg(`bridge ${ctx.bridge.name}: ${text}`);
}

function ip4Text(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Teaches the table an IGMP report, leave or query (OVS's update_mcast_snooping_table4__). */
function updateMcast4(ctx: NormalCtx, ms: McastSnooping, vlan: number, inBundle: XBundle, p: Uint8Array): void {
  const flow = ctx.flow;
  if (!locateL4(p, IPPROTO_IGMP) || pktL4 + 8 > pktEnd || csumFinish(csumPartial(p, pktL4, pktEnd - pktL4)) !== 0) {
    reportDebug(ctx, `multicast snooping received bad IGMP checksum on port ${inBundle.name} in VLAN ${vlan}`);
    return;
  }
  const group = flow[L.W_IGMP_GROUP]! >>> 0;
  const port = inBundle.name;
  switch (tpSrcOf(flow)) {
    case IGMP_HOST_MEMBERSHIP_REPORT:
    case IGMPV2_HOST_MEMBERSHIP_REPORT:
      if (ms.addGroup4(group, vlan, port)) {
        reportDebug(ctx, `multicast snooping learned that ${ip4Text(group)} is on port ${port} in VLAN ${vlan}`);
      }
      break;
    case IGMP_HOST_LEAVE_MESSAGE:
      if (ms.leaveGroup4(group, vlan, port)) {
        reportDebug(ctx, `multicast snooping leaving ${ip4Text(group)} is on port ${port} in VLAN ${vlan}`);
      }
      break;
    case IGMP_HOST_MEMBERSHIP_QUERY: {
      const src = flow[L.W_NW_SRC]! >>> 0;
      if (src !== 0 && ms.addMrouter(vlan, port)) {
        reportDebug(ctx, `multicast snooping query from ${ip4Text(src)} is on port ${port} in VLAN ${vlan}`);
      }
      break;
    }
    case IGMPV3_HOST_MEMBERSHIP_REPORT: {
      const n = ms.addReport(p, pktL4, pktEnd, vlan, port);
      if (n > 0) reportDebug(ctx, `multicast snooping processed ${n} addresses on port ${port} in VLAN ${vlan}`);
      break;
    }
  }
}

/** Teaches the table an MLD message (OVS's update_mcast_snooping_table6__). */
function updateMcast6(ctx: NormalCtx, ms: McastSnooping, vlan: number, inBundle: XBundle, p: Uint8Array): void {
  const flow = ctx.flow;
  let ok = locateL4(p, IPPROTO_ICMPV6) && pktL4 + 8 <= pktEnd;
  if (ok) {
    const len = pktEnd - pktL4;
    ok = csumFinish(csumPartial(p, pktL4, len, ipv6PseudoSum(p, pktL3 + 8, pktL3 + 24, IPPROTO_ICMPV6, len))) === 0;
  }
  if (!ok) {
    reportDebug(ctx, `multicast snooping received bad MLD checksum on port ${inBundle.name} in VLAN ${vlan}`);
    return;
  }
  const port = inBundle.name;
  switch (tpSrcOf(flow)) {
    case MLD_QUERY: {
      let any = true;
      for (let i = 0; i < 4; i++) if (flow[L.W_IPV6_SRC + i] !== 0) any = false;
      if (!any && ms.addMrouter(vlan, port)) reportDebug(ctx, `multicast snooping query on port ${port} in VLAN ${vlan}`);
      break;
    }
    case MLD_REPORT:
    case MLD_DONE:
    case MLD2_REPORT: {
      const n = ms.addMld(p, pktL4, pktEnd, vlan, port);
      if (n > 0) reportDebug(ctx, `multicast snooping processed ${n} addresses on port ${port} in VLAN ${vlan}`);
      break;
    }
  }
}

/** Teaches the table from the packet being translated, unless it came from a flood port (OVS's update_mcast_snooping_table). */
function updateMcast(ctx: NormalCtx, ms: McastSnooping, dlType: number, vlan: number, inBundle: XBundle): void {
  const p = ctx.xin?.packet ?? null;
  if (!ctx.mayLearn || p === null) return;
  if (inBundle === OFPP_NONE_BUNDLE || ms.isFloodPort(inBundle.name)) return;
  if (dlType === ETH_TYPE_IP) updateMcast4(ctx, ms, vlan, inBundle, p);
  else updateMcast6(ctx, ms, vlan, inBundle, p);
  /* Megaflows of data to a group that changed must not wait for the next aging run. */
  if (ms.needRevalidate) ctx.needRevalidate();
}

/*
 * The bundles a multicast packet goes to, gathered before any output (an
 * output through a patch port may translate on another bridge) and sent
 * afterwards. Per nesting depth, reused.
 */
class McastOut {
  readonly bundles: XBundle[] = [];
  n = 0;
  flood = false;
}
const mcastOuts: McastOut[] = [];

function mcastAdd(out: McastOut, b: XBundle): void {
  out.bundles[out.n++] = b;
}

/** The group's members (OVS's xlate_normal_mcast_send_group). */
function sendGroup(ctx: NormalCtx, grp: { bundles: Map<string, unknown> }, inBundle: XBundle, out: McastOut): void {
  for (const port of grp.bundles.keys()) {
    const b = ctx.bridge.bundles.get(port);
    if (b !== undefined && b.name !== inBundle.name) {
      ctx.report("forwarding to mcast group port");
      mcastAdd(out, b);
    } else if (b === undefined) {
      ctx.report("mcast group port is unknown, dropping", "warn");
    } else {
      ctx.report("mcast group port is input port, dropping");
    }
  }
}

/** The router ports of the packet's VLAN (OVS's xlate_normal_mcast_send_mrouters). */
function sendMrouters(ctx: NormalCtx, ms: McastSnooping, inBundle: XBundle, vlan: number, out: McastOut): void {
  for (const m of ms.mrouters.values()) {
    const b = ctx.bridge.bundles.get(m.port);
    if (b !== undefined && b.name !== inBundle.name && m.vlan === vlan) {
      ctx.report("forwarding to mcast router port");
      mcastAdd(out, b);
    } else if (b === undefined) {
      ctx.report("mcast router port is unknown, dropping", "warn");
    } else if (m.vlan !== vlan) {
      ctx.report("mcast router is on another vlan, dropping");
    } else {
      ctx.report("mcast router port is input port, dropping");
    }
  }
}

/** The flood ports (OVS's xlate_normal_mcast_send_fports). */
function sendFports(ctx: NormalCtx, ms: McastSnooping, inBundle: XBundle, out: McastOut): void {
  for (const port of ms.fports) {
    const b = ctx.bridge.bundles.get(port);
    if (b !== undefined && b.name !== inBundle.name) {
      ctx.report("forwarding to mcast flood port");
      mcastAdd(out, b);
    } else if (b === undefined) {
      ctx.report("mcast flood port is unknown, dropping", "warn");
    } else {
      ctx.report("mcast flood port is input port, dropping");
    }
  }
}

/** The report-flood ports (OVS's xlate_normal_mcast_send_rports). */
function sendRports(ctx: NormalCtx, ms: McastSnooping, inBundle: XBundle, out: McastOut): void {
  for (const port of ms.rports) {
    const b = ctx.bridge.bundles.get(port);
    if (b !== undefined && b.name !== inBundle.name) {
      ctx.report("forwarding report to mcast flagged port");
      mcastAdd(out, b);
    } else if (b === undefined) {
      ctx.report("mcast port is unknown, dropping the report", "warn");
    } else {
      ctx.report("mcast port is input port, dropping the Report");
    }
  }
}

function mcastFinish(ctx: NormalCtx, out: McastOut, inBundle: XBundle, frame: NormalFrame): void {
  if (out.flood) {
    flood(ctx, inBundle, frame.x, frame.scratch, frame.headers);
  } else {
    for (let i = 0; i < out.n; i++) outputNormal(ctx, inBundle, out.bundles[i]!, frame.x, frame.scratch, frame.headers);
  }
  for (let i = 0; i < out.n; i++) out.bundles[i] = OFPP_NONE_BUNDLE;
  out.n = 0;
  out.flood = false;
}

/** NORMAL's forwarding step for IP multicast with snooping on (the mcast part of OVS's xlate_normal). */
function mcastNormal(ctx: NormalCtx, ms: McastSnooping, frame: NormalFrame, inBundle: XBundle, dlType: number, vlan: number): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  const d = depth - 1;
  const out = mcastOuts[d] ?? (mcastOuts[d] = new McastOut());
  const xvid = frame.x[VID0]!;

  let isIgmp = false;
  if (dlType === ETH_TYPE_IP) {
    unwildcardNwProto(wc);
    isIgmp = nwProtoOf(flow) === IPPROTO_IGMP;
  }
  if (isIgmp) {
    /* Reports must reach userspace every time, or memberships would expire. */
    if (ctx.slow !== undefined) ctx.slow |= SLOW_ACTION;
    /*
     * OVS un-wildcards the IGMP type too, but a datapath key has no IGMP
     * fields, so its megaflow (and trace) cannot show it: leaving it out
     * gives the same megaflow, and the slow path sees every packet anyway.
     */
    const type = tpSrcOf(flow);
    if (igmpIsMembership(type) || igmpIsQuery(type)) updateMcast(ctx, ms, dlType, vlan, inBundle);
    if (igmpIsMembership(type)) {
      sendMrouters(ctx, ms, inBundle, xvid, out);
      sendRports(ctx, ms, inBundle, out);
      mcastFinish(ctx, out, inBundle, frame);
    } else {
      ctx.report("multicast traffic, flooding");
      flood(ctx, inBundle, frame.x, frame.scratch, frame.headers);
    }
    return;
  }
  if (isMld(flow, wc, dlType)) {
    if (ctx.slow !== undefined) ctx.slow |= SLOW_ACTION;
    updateMcast(ctx, ms, dlType, vlan, inBundle);
    if (isMldReport(flow, wc, dlType)) {
      sendMrouters(ctx, ms, inBundle, xvid, out);
      sendRports(ctx, ms, inBundle, out);
      mcastFinish(ctx, out, inBundle, frame);
    } else {
      ctx.report("MLD query, flooding");
      flood(ctx, inBundle, frame.x, frame.scratch, frame.headers);
    }
    return;
  }
  if (isIpLocalMulticast(flow, wc, dlType)) {
    ctx.report("RFC4541: section 2.1.2, item 2, flooding");
    flood(ctx, inBundle, frame.x, frame.scratch, frame.headers);
    return;
  }

  const grp = dlType === ETH_TYPE_IP
    ? ms.lookup4(flow[L.W_NW_DST]! >>> 0, vlan)
    : ms.lookupWords(flow[L.W_IPV6_DST]!, flow[L.W_IPV6_DST + 1]!, flow[L.W_IPV6_DST + 2]!, flow[L.W_IPV6_DST + 3]!, vlan);
  if (grp !== null) {
    sendGroup(ctx, grp, inBundle, out);
    sendFports(ctx, ms, inBundle, out);
    sendMrouters(ctx, ms, inBundle, xvid, out);
  } else if (ms.floodUnreg) {
    ctx.report("unregistered multicast, flooding");
    out.flood = true;
  } else {
    sendMrouters(ctx, ms, inBundle, xvid, out);
    sendFports(ctx, ms, inBundle, out);
  }
  mcastFinish(ctx, out, inBundle, frame);
}
