/**
 * ofproto-dpif translation (OVS's ofproto-dpif-xlate): a flow goes through
 * a bridge's OpenFlow tables and comes out as datapath actions plus the
 * megaflow wildcards the result depends on.
 *
 * `xlateActions(xin)` copies the flow, sets the wildcards OVS always sets
 * (packet_type, in_port, dl_type, recirc_id, nw_frag for IP), looks up
 * table 0 (or runs the given rule / actions), and interprets OpenFlow
 * actions one by one against the working flow. Nothing reaches the
 * datapath action list until an action sends the packet somewhere: then
 * the flow's changes are committed (xlate-commit.ts) and the output
 * emitted. Every field an action reads or writes, and every field the
 * classifier examined, is un-wildcarded, so the megaflow is as wide as
 * correctness allows and the `Megaflow:` line of ofproto/trace matches
 * OVS's.
 *
 * Limits are OVS's: 64 levels of resubmit/goto depth, 4096 resubmits per
 * translation, 64 kB of datapath actions.
 *
 * Recirculation ("freezing", as OVS): a select group without a datapath
 * hash, a table lookup after pop_mpls, ct(table=N) and controller(pause)
 * stop translation; what is left (actions with table/cookie markers,
 * action set, stack, pipeline metadata) is kept under a recirculation id
 * (xlate-pin.ts) and emitted as recirc(id). A packet coming back with
 * that id resumes there (`thaw`). controller(pause) emits a userspace
 * controller action marked "continuation" instead: the packet-in carries
 * the frozen state and NXT_RESUME thaws it (continuation.ts).
 *
 * Mirrors (xlate-mirror.ts): ingress mirroring before the first actions,
 * egress mirroring after each output to a port.
 *
 * Hot path: translation contexts are reused, flows are typed arrays, the
 * action loop is one switch (common actions first) without closures,
 * datapath actions and final flows are handed out as views of shared
 * slabs, commits skip unchanged attributes word by word; tracing costs a
 * null test when off.
 */
import { OdpActionsBuilder } from "../datapath/odp-actions.js";
import { hashAdd, hashBytes, hashFinish } from "../flow/key-ops.js";
import {
  OVS_ACTION_ATTR_CT, OVS_CT_ATTR_COMMIT, OVS_CT_ATTR_FORCE_COMMIT, OVS_CT_ATTR_HELPER, OVS_CT_ATTR_LABELS,
  OVS_CT_ATTR_MARK, OVS_CT_ATTR_NAT, OVS_CT_ATTR_ZONE,
  OVS_ACTION_ATTR_CHECK_PKT_LEN, OVS_ACTION_ATTR_CLONE, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER,
  OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, OVS_HASH_ALG_SYM_L4,
} from "../flow/odp-attrs.js";
import { formatMfValue } from "../openflow/meta-flow.js";
import {
  OVS_NAT_ATTR_DST, OVS_NAT_ATTR_IP_MAX, OVS_NAT_ATTR_IP_MIN, OVS_NAT_ATTR_PERSISTENT, OVS_NAT_ATTR_PROTO_HASH,
  OVS_NAT_ATTR_PROTO_MAX, OVS_NAT_ATTR_PROTO_MIN, OVS_NAT_ATTR_PROTO_RANDOM, OVS_NAT_ATTR_SRC,
} from "../flow/odp-format.js";
import { mfGet } from "../openflow/mf-key.js";
import {
  FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER, FLOW_U32S, REGION_OF_START, S_DL_TYPE, W_ACTSET_OUTPUT, W_CONJ_ID,
  W_DL_TYPE, W_DP_HASH, W_ETH_DST, W_ETH_SRC, W_IN_PORT, W_METADATA, W_MPLS_LSE0, W_NW_PROTO, W_PACKET_TYPE, W_RECIRC_ID, W_REG0,
  W_SKB_PRIORITY, W_TCP_FLAGS, W_TP_SRC, W_TUN_DST, W_TUN_ID, W_VLAN0, W_VLAN1, W_TUN_IPV6_DST,
  W_CT_STATE, W_CT_MARK, W_CT_LABEL, W_CT_NW_SRC, W_CT_NW_DST, W_CT_TP_SRC,
  REGION_TUN_START, REGION_CTX_START,
} from "../flow/key-layout.js";
import {
  OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_NONE, OFPP_NORMAL, OFPP_TABLE, OFPP_UNSET,
} from "../openflow/ofp-codec.js";
import { formatActions } from "../openflow/ofp-actions-codec.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { formatSubfield, type Subfield } from "../openflow/ofp-actions-subfield.js";
import { formatMatch } from "../openflow/match-format.js";
import { OFPR_ACTION, OFPR_ACTION_SET, OFPR_EXPLICIT_MISS, OFPR_GROUP, OFPR_IMPLICIT_MISS, OFPR_INVALID_TTL, OFPR_PACKET_OUT } from "../openflow/ofp-packet.js";
import { OFPGT_ALL, OFPGT_FF, OFPGT_INDIRECT, OFPGT_SELECT, WATCH_PORT_NONE, type Bucket, type Group } from "./groups.js";
import type { OfRule } from "./rule.js";
import { commitOdpActions, dlType, mplsCount, nwProto, vlanCount } from "./xlate-commit.js";
import {
  boundField, maskSubfield, prereqsOk, readSubfield, setFieldMasked, subfieldPrereqsOk, writeSubfield,
} from "./xlate-fields.js";
import { allocRecircId, bridgeUuid, encodeControllerCookie, frozenState, USER_ACTION_COOKIE_LEN, type FrozenItem } from "./xlate-pin.js";
import { OfportMap, hashInt } from "./ofport-order.js";
import type {
  NormalCtx, TraceNode, TraceNodeType, TraceSink, XBridge, XBundle, XlateIn, XlateOut, XPort,
} from "./xlate-types.js";
import { xlateNormal } from "./xlate-normal.js";
import { mirrorIngress, mirrorOutputInput, mirrorPacket } from "./xlate-mirror.js";
import { xlateLearn } from "./xlate-learn.js";
import { bundleExecute, multipathExecute } from "./xlate-hash.js";
import { lacpSpecial } from "./bond.js";
import { SLOW_LACP as SLOW_LACP_BIT, SLOW_STP } from "./xlate-types.js";
import { SLOW_BFD, SLOW_CFM } from "./xlate-types.js";
import { stpForwardInState, stpLearnInState, stpShouldForwardBpdu } from "./stp.js";
import { NetflowExporter, NF_OUT_DROP, NF_OUT_FLOOD, NF_OUT_MULTI } from "./netflow.js";
import { tnlComposeOutput, tnlPortOf, tnlTerminate, tnlWcFinish, tnlWcInit, unwrapTrailingClone } from "./xlate-tnl.js";

type Rule = OfRule<OfpAction[]>;

/** OVS's MAX_DEPTH and MAX_RESUBMITS. */
export const MAX_DEPTH = 64;
export const MAX_RESUBMITS = 4096;
const MAX_ACTIONS_BYTES = 0xffff;

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const OFPPC_NO_RECV = 1 << 2;
const OFPPC_NO_FLOOD = 1 << 4;
const OFPPC_NO_FWD = 1 << 5;
const OFPPC_NO_PACKET_IN = 1 << 6;
const OFPPC_PORT_DOWN = 1 << 0;
const OFPPS_LINK_DOWN = 1 << 0;
const OFPPS_LIVE = 1 << 2;

/** Kinds of lookup result (OVS's real rule, miss_rule, no_packet_in_rule). */
const LK_RULE = 0;
const LK_MISS_PIN = 1;
const LK_MISS_DROP = 2;

/** The context of one translation (OVS's xlate_ctx). Also the NORMAL action's view of it. */
export class XlateCtx implements NormalCtx {
  bridge!: XBridge;
  readonly flow = new Uint32Array(FLOW_U32S);
  /** The packet as the datapath has it after the actions emitted so far. */
  readonly base = new Uint32Array(FLOW_U32S);
  /** The megaflow mask being built (the caller's array, or a private one when the caller tracks none). */
  wc: Uint32Array;
  private readonly ownWc = new Uint32Array(FLOW_U32S);
  trackWc = false;
  /** MAC learning may learn (XlateIn.mayLearn). */
  mayLearn = false;
  /** Other side effects are allowed: learn, fin_timeout, packet-ins, group stats (XlateIn.allowSideEffects). */
  sideEffects = false;
  /** Translating an installed megaflow again (XlateIn.revalidating). */
  revalidating = false;
  trace: TraceSink | null = null;
  readonly odp = new OdpActionsBuilder(256);
  xin!: XlateIn;
  inPort: XPort | null = null;
  depth = 0;
  resubmits = 0;
  tableId = 0;
  rule: Rule | null = null;
  ruleCookie = 0n;
  exit = false;
  error: string | null = null;
  slow = 0;
  /** sFlow (OVS's compose_sflow_action): where the cookie is in the actions (-1: none), outputs so far, the last one's datapath port. */
  sflowCookieAt = -1;
  sflowOutputs = 0;
  sflowOdpPort = 0;
  /** NetFlow's output interface: one OpenFlow port, or NF_OUT_DROP / NF_OUT_MULTI / NF_OUT_FLOOD. */
  nfOutput = NF_OUT_DROP;
  actionSet: OfpAction[] = [];
  actionSetHasGroup = false;
  inActionSet = false;
  inGroup = false;
  inPacketOut = false;
  version = 0;
  /** Rules visited, `nRules` of them (the array is reused; XlateOut gets an exact copy). */
  rules: Rule[] = [];
  nRules = 0;
  deferred: (() => void)[] = [];
  stack: bigint[] = [];
  origSkbPriority = 0;
  revalidate = false;
  /** Freezing (OVS's ctx->freezing): translation stops here and resumes after recirculation. */
  freezing = false;
  frozen: FrozenItem[] = [];
  /** Bytes of the packet (for check_pkt_larger), or 0 when unknown. */
  packetLen = 0;
  /** The packet went through ct() in this pipeline (OVS's ctx->conntracked). */
  conntracked = false;
  /** controller(pause) that is freezing the pipeline. */
  pause: Extract<OfpAction, { type: "controller" }> | null = null;
  /** A pop_mpls made L3 visible: actions that need it must wait for recirculation (OVS's was_mpls). */
  wasMpls = false;
  /** The nat() of the ct() being translated. */
  ctNat: Extract<OfpAction, { type: "nat" }> | null = null;
  /** In use by a translation (contexts are reused; a nested xlateActions call gets a fresh one). */
  busy = false;
  /** The clock of `nowBridge`, read once per translation (creditRule). */
  nowMs = 0;
  nowBridge: XBridge | null = null;
  /** Mirrors the packet was already sent to (OVS's ctx->mirrors; xlate-mirror.ts). */
  mirrors = 0;
  /** Snap length of the mirror being output to (0 = whole packet). */
  mirrorSnaplen = 0;

  constructor() {
    this.wc = this.ownWc;
  }

  /** Prepares the context for translating `xin`. */
  reset(xin: XlateIn): void {
    this.xin = xin;
    this.bridge = xin.bridge;
    this.flow.set(xin.flow);
    this.flow[W_ACTSET_OUTPUT] = OFPP_UNSET;
    this.base.set(xin.flow);
    this.trackWc = xin.wc !== null;
    this.wc = xin.wc ?? this.ownWc;
    this.wc.fill(0);
    this.mayLearn = xin.mayLearn;
    this.sideEffects = xin.allowSideEffects ?? xin.mayLearn;
    this.revalidating = xin.revalidating ?? false;
    this.trace = xin.trace ?? null;
    // A packet-out (controller's): ofpacts without a rule; ofproto/trace-packet-out reports "action" as OVS.
    this.inPacketOut = xin.inPacketOut ?? (xin.ofpacts !== undefined && xin.rule == null && xin.trace == null);
    this.version = xin.bridge.ofproto.tables.version;
    this.inPort = xin.bridge.ports.get(this.flow[W_IN_PORT]! & 0xffff) ?? null;
    this.origSkbPriority = this.flow[W_SKB_PRIORITY]!;
    this.packetLen = xin.packet?.length ?? 0;
    this.odp.w.truncate(0);
    this.depth = 0;
    this.resubmits = 0;
    this.tableId = 0;
    this.rule = null;
    this.ruleCookie = NO_COOKIE;
    this.exit = false;
    this.error = null;
    this.slow = 0;
    this.sflowCookieAt = -1;
    this.sflowOutputs = 0;
    this.nfOutput = NF_OUT_DROP;
    if (this.actionSet.length !== 0) this.actionSet = [];
    this.actionSetHasGroup = false;
    this.inActionSet = false;
    this.inGroup = false;
    this.nRules = 0;
    if (this.deferred.length !== 0) this.deferred = [];
    if (this.stack.length !== 0) this.stack = [];
    this.revalidate = false;
    this.freezing = false;
    if (this.frozen.length !== 0) this.frozen = [];
    this.conntracked = false;
    this.pause = null;
    this.wasMpls = false;
    this.nowBridge = null;
    this.mirrors = 0;
    this.mirrorSnaplen = 0;
  }

  /* ---- NormalCtx ---- */

  outputToBundle(bundle: XBundle, vlan: number, vlanHeaders?: Uint32Array): void {
    // A bond picks the member (bond.ts); none enabled: nothing is sent.
    // balance-tcp recirculates instead: hash(l4), then table 254 picks by dp_hash.
    const bond = bundle.bond ?? null;
    const recirc = bond !== null ? bond.recircTarget() : 0;
    const port = bond !== null ? bond.chooseOutput(this.flow, recirc === 0 ? this.wc : null, vlan)?.port : bundle.ports[0];
    if (port === undefined) return;
    const flow = this.flow;
    const old0 = flow[W_VLAN0]!;
    const old1 = flow[W_VLAN1]!;
    if (vlanHeaders !== undefined) {
      flow[W_VLAN0] = vlanHeaders[0]!;
      flow[W_VLAN1] = vlanHeaders[1]!;
    } else if (vlan === 0 || bundle.vlanMode === "access" || (bundle.vlanMode === "native-untagged" && vlan === bundle.vlan)) {
      if ((old0 & 0x1000) !== 0) {
        flow[W_VLAN0] = old1;
        flow[W_VLAN1] = 0;
      }
    } else {
      const pcp = (old0 & 0x1000) !== 0 ? old0 & 0xe000 : 0;
      const tpid = (old0 & 0x1000) !== 0 && old0 >>> 16 !== 0 ? old0 >>> 16 : 0x8100;
      flow[W_VLAN0] = ((tpid << 16) | pcp | 0x1000 | (vlan & 0xfff)) >>> 0;
    }
    // SLB rebalancing counts the bytes each bucket sends (OVS's bond_account).
    if (recirc === 0 && bond !== null && (this.xin.statsBytes ?? 0) > 0) bond.account(this.flow, vlan, this.xin.statsBytes!);
    if (recirc !== 0) {
      commit(this);
      this.odp.hash(bond!.basis);
      this.odp.recirc(recirc);
    } else {
      composeOutput(this, port.ofpNo, true);
    }
    flow[W_VLAN0] = old0;
    flow[W_VLAN1] = old1;
  }

  report(text: string, type: TraceNodeType = "detail"): void {
    if (this.trace !== null) this.trace.add(type, text);
  }

  get hasPacket(): boolean {
    return this.xin.packet !== null;
  }

  needRevalidate(): void {
    this.revalidate = true;
  }

  /* ---- helpers ---- */

  add(type: TraceNodeType, text: string): TraceNode | null {
    return this.trace === null ? null : this.trace.add(type, text);
  }

  reportError(text: string): void {
    if (this.trace !== null) this.trace.add("error", text);
  }
}

/* ---------------- entry point ---------------- */

/** Translates `xin` (see XlateIn / XlateOut). */
let spareCtx: XlateCtx | null = null;
/** OVS's rule_cookie without a rule (OVS_BE64_MAX). */
const NO_COOKIE = 0xffffffffffffffffn;

/*
 * Datapath action lists are handed out as views of a shared slab (a new
 * ArrayBuffer per translation was a tenth of the upcall cost); a full
 * slab is left to the garbage collector once nothing views it.
 */
const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;
const FLOW_SLAB_FLOWS = 256;
let flowSlab = new Uint32Array(FLOW_U32S * FLOW_SLAB_FLOWS);
let flowSlabUsed = 0;
/** A copy of a flow, as a view of a shared slab (see copyActions). */
function copyFlow(f: Uint32Array): Uint32Array {
  if (flowSlabUsed === FLOW_SLAB_FLOWS) {
    flowSlab = new Uint32Array(FLOW_U32S * FLOW_SLAB_FLOWS);
    flowSlabUsed = 0;
  }
  const at = flowSlabUsed++ * FLOW_U32S;
  flowSlab.set(f, at);
  return flowSlab.subarray(at, at + FLOW_U32S);
}

function copyActions(src: Uint8Array, n: number): Uint8Array {
  // Up to 64 bytes a copy of its own lives in the V8 heap and is cheaper
  // than a view (~70 vs ~200 ns); bigger ones would be malloc'ed.
  if (n <= 64 || n > SLAB_SIZE / 4) return src.slice(0, n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const at = slabUsed;
  for (let i = 0; i < n; i++) slab[at + i] = src[i]!;
  slabUsed = (at + n + 7) & ~7;
  return slab.subarray(at, at + n);
}

export function xlateActions(xin: XlateIn): XlateOut {
  let ctx = spareCtx;
  if (ctx === null || ctx.busy) ctx = new XlateCtx();
  else spareCtx = null;
  ctx.busy = true;
  ctx.reset(xin);
  // No try/finally on the hot path: a context an exception escapes from stays busy and is dropped.
  const out = xlateWith(ctx, xin);
  ctx.busy = false;
  ctx.xin = NO_XIN;
  spareCtx = ctx;
  return out;
}
const NO_XIN = null as unknown as XlateIn;

function xlateWith(ctx: XlateCtx, xin: XlateIn): XlateOut {
  const flow = ctx.flow;
  const wc = ctx.wc;

  // Fields OVS always considers examined.
  wc[W_PACKET_TYPE] = 0xffffffff;
  wc[W_IN_PORT] = 0xffffffff;
  wc[W_DL_TYPE] = (wc[W_DL_TYPE]! | 0xffff0000) >>> 0;
  const t = dlType(flow);
  if (t === ETH_TYPE_IP || t === ETH_TYPE_IPV6) wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0x3) >>> 0;
  wc[W_RECIRC_ID] = 0xffffffff;
  // A tunnelled packet: what chose its tunnel port is part of every megaflow.
  // (Geneve options the TLV map cannot take fail the translation, as OVS's.)
  if (!tnlWcInit(flow, wc)) ctx.error = "Invalid tunnel metadata";
  // NetFlow records carry the 5-tuple and ToS: IPv4 megaflows keep them.
  if (ctx.bridge.netflow != null) NetflowExporter.maskWildcards(flow, wc);

  if (ctx.trace !== null) {
    const node = ctx.trace.add("bridge", `bridge("${ctx.bridge.name}")`);
    ctx.trace.push(node);
  }
  let pushed = 0;

  let lookupFrom = xin.tableId ?? 0;
  let doLookup = ctx.error === null;
  let thawed = false;
  if (flow[W_RECIRC_ID] !== 0 && xin.ofpacts === undefined && xin.rule == null) {
    thawed = true;
    doLookup = thaw(ctx, flow[W_RECIRC_ID]!);
    lookupFrom = ctx.tableId;
  }
  if (!doLookup) {
    // Frozen actions ran (or the state was missing).
  } else if (xin.ofpacts !== undefined && xin.rule == null) {
    ctx.tableId = xin.tableId ?? 0;
    if (!mirrorGate(ctx, thawed)) doXlateActions(ctx, xin.ofpacts, true, false);
  } else {
    let rule: Rule | null = xin.rule ?? null;
    let node: TraceNode | null = null;
    if (rule === null) {
      const kind = lookupFromTable(ctx, lookupFrom, flow[W_IN_PORT]! & 0xffff, true, true);
      rule = lk.rule;
      ctx.tableId = lk.tableId;
      node = reportTable(ctx, kind, rule, lk.tableId);
      if (rule !== null) creditRule(ctx, rule);
      else {
        if (node !== null) {
          ctx.trace!.push(node);
          pushed++;
        }
        if (!thawed && (cfmSpecial(ctx, ctx.inPort, xin.packet) || bfdSpecial(ctx, ctx.inPort, xin.packet) || stpSpecial(ctx, ctx.inPort, xin.packet))) {
          // A BFD control packet or a BPDU: BFD or spanning tree took it.
        } else if (mirrorGate(ctx, thawed)) {
          // Dropped: received on a mirror output port.
        } else if (kind === LK_MISS_PIN) {
          if (!thawed) composeSflow(ctx);
          // The miss rule: its one action sends the packet to the controller.
          ctx.add("action", "controller(reason=)");
          ctx.ruleCookie = 0n;
          xlateController(ctx, 0xffff, OFPR_IMPLICIT_MISS, 0, null, false);
        } else {
          if (!thawed) composeSflow(ctx);
          ctx.add("action", "drop");
        }
        node = null;
      }
    } else {
      ctx.tableId = rule.tableId;
      creditRule(ctx, rule);
    }
    if (rule !== null) {
      // As OVS, the first table's node stays the trace's current list (the action set lands in it).
      if (node !== null) {
        ctx.trace!.push(node);
        pushed++;
      }
      ctx.rule = rule;
      ctx.ruleCookie = rule.cookie;
      // A LACP PDU on a bond member goes to LACP, not through the actions (OVS's process_special).
      if (!thawed && (cfmSpecial(ctx, ctx.inPort, xin.packet) || bfdSpecial(ctx, ctx.inPort, xin.packet))) {
        // A BFD control packet for the interface's session (OVS's process_special).
      } else if (!thawed && lacpSpecial(ctx.inPort, dlType(flow), xin.packet)) ctx.slow |= SLOW_LACP_BIT;
      else if (!thawed && stpSpecial(ctx, ctx.inPort, xin.packet)) {
        // A BPDU: spanning tree took it (OVS's process_special).
      } else if (!mirrorGate(ctx, thawed)) {
        if (!thawed) composeSflow(ctx);
        xlateReceived(ctx, rule.actions);
      }
    }
  }
  // A frozen pipeline keeps its action set for when it resumes (OVS runs it only when not freezing).
  if (ctx.error === null && !ctx.freezing) xlateActionSet(ctx);
  if (ctx.error === null && ctx.freezing) finishFreezing(ctx);

  for (; pushed > 0; pushed--) ctx.trace!.pop();
  if (ctx.trace !== null) ctx.trace.pop();
  finishWildcards(ctx, xin.flow);
  tnlWcFinish(xin.flow, ctx.wc);

  if (ctx.sflowCookieAt >= 0) fixSflowCookie(ctx);
  // NetFlow counts what the bridge itself received and forwarded (not recirculations, not packets to controllers).
  const nf = ctx.bridge.netflow;
  const nfOut = nf != null && !thawed && ctx.error === null ? { exporter: nf, flow: ctx.xin.flow.slice(), output: ctx.nfOutput } : null;
  if (nfOut !== null && (ctx.xin.statsPackets ?? 0) > 0) {
    nf!.update(ctx.xin.flow, ctx.nfOutput, ctx.xin.statsPackets ?? 0, ctx.xin.statsBytes ?? 0, ctx.xin.flow[W_TCP_FLAGS]! & 0xff);
  }
  if (ctx.error !== null) ctx.odp.w.truncate(0);
  else unwrapTrailingClone(ctx.odp.w);
  const interner = xin.actionsInterner;
  const out: XlateOut = {
    actions: interner != null ? interner.internBytes(ctx.odp.w.buf, ctx.odp.size) : copyActions(ctx.odp.w.buf, ctx.odp.size),
    slow: ctx.slow,
    // Only a trace prints it: a copy per flow setup would be 568 bytes of garbage.
    finalFlow: ctx.trace !== null ? copyFlow(ctx.flow) : null,
    rules: visitedRules(ctx),
    error: ctx.error,
    deferred: ctx.deferred.length === 0 ? NO_DEFERRED : ctx.deferred,
  };
  if (ctx.revalidate) out.needRevalidate = true;
  if (nfOut !== null) out.netflow = nfOut;
  return out;
}

/** The side effects of a translation that has none (shared: never added to). */
const NO_DEFERRED: readonly (() => void)[] = Object.freeze([]);

/** USER_ACTION_COOKIE_SFLOW. */
const COOKIE_SFLOW = 1;

/**
 * OVS's compose_sflow_action: on a bridge with sFlow, a packet received
 * from a port is first sampled (sample(probability, userspace(sFlow
 * cookie, actions))). The cookie's VLAN and output are filled in once the
 * translation knows them (fixSflowCookie).
 */
function composeSflow(ctx: XlateCtx): void {
  const sf = ctx.bridge.sflow;
  if (sf == null || (ctx.xin.flow[W_IN_PORT]! & 0xffff) === OFPP_NONE) return;
  const at = ctx.odp.size;
  ctx.odp.sample(sf.probability, (b) => b.userspace(0, new Uint8Array(USER_ACTION_COOKIE_LEN), { actions: true }));
  // sample(4) probability(8) actions(4) userspace(4) pid(8), then the userdata's header(4).
  ctx.sflowCookieAt = at + 32;
}

/** OVS's fix_sflow_action: the cookie's input port, bridge, VLAN and output(s). */
function fixSflowCookie(ctx: XlateCtx): void {
  const b = ctx.odp.w.buf;
  const o = ctx.sflowCookieAt;
  const dv = new DataView(b.buffer, b.byteOffset);
  dv.setUint16(o, COOKIE_SFLOW, true);
  dv.setUint16(o + 2, ctx.xin.flow[W_IN_PORT]! & 0xffff, true);
  b.set(bridgeUuid(ctx.bridge), o + 4);
  // The VLAN the packet arrived with (TCI, network order).
  dv.setUint16(o + 24, ctx.xin.flow[W_VLAN0]! & 0xffff, false);
  const ifindex = ctx.sflowOutputs === 1 ? ctx.bridge.sflow!.ifindexOf(ctx.sflowOdpPort) : 0;
  const output = ctx.sflowOutputs === 0 ? 0x40000000 | 256 : ifindex > 0 ? ifindex : 0x80000000 | ctx.sflowOutputs;
  dv.setUint32(o + 28, output >>> 0, true);
}

/** The flow's destination is the STP address and it is an 802.3 frame (OVS's is_stp). */
function isStpFlow(f: Uint32Array): boolean {
  return f[W_ETH_DST] === 0x0180c200 && f[W_ETH_SRC]! >>> 16 === 0 && dlType(f) === 0x05ff;
}

/**
 * OVS's process_special for spanning tree: on a bridge running STP every
 * translation looks at the destination MAC; a BPDU goes to STP (with the
 * packet, when there is one) and the flow to the slow path.
 */
function stpSpecial(ctx: XlateCtx, xp: XPort | null, packet: Uint8Array | null): boolean {
  const stp = ctx.bridge.stp;
  if (stp == null || xp === null) return false;
  ctx.wc[W_ETH_DST] = 0xffffffff;
  ctx.wc[W_ETH_SRC] = (ctx.wc[W_ETH_SRC]! | 0xffff0000) >>> 0;
  if (!isStpFlow(ctx.flow)) return false;
  if (packet !== null) stp.processPacket(xp, packet);
  ctx.slow |= SLOW_STP;
  return true;
}

/**
 * OVS's process_special for BFD (checked before LACP and STP): a control
 * packet for the session of the interface it came in on goes to that
 * session (with the packet, when there is one) and the flow to the slow path.
 */
function bfdSpecial(ctx: XlateCtx, xp: XPort | null, packet: Uint8Array | null): boolean {
  const bfd = xp?.bfd;
  if (bfd == null || !bfd.shouldProcessFlow(ctx.flow, ctx.wc)) return false;
  if (packet !== null) bfd.processPacket(ctx.flow, packet);
  ctx.slow |= SLOW_BFD;
  return true;
}

/** OVS's process_special for CFM (checked first): a CCM for the interface's session goes to it, the flow to the slow path. */
function cfmSpecial(ctx: XlateCtx, xp: XPort | null, packet: Uint8Array | null): boolean {
  const cfm = xp?.cfm;
  if (cfm == null || !cfm.shouldProcessFlow(ctx.flow, ctx.wc)) return false;
  if (packet !== null) cfm.processHeartbeat(packet);
  ctx.slow |= SLOW_CFM;
  return true;
}

/** The STP state of `xp` in its own bridge (disabled, i.e. forwarding, without STP). */
function stpState(xp: XPort): number {
  const stp = xp.bridge.stp;
  return stp == null ? 1 /* STP_DISABLED */ : stp.portState(xp);
}

/**
 * The actions of the rule a received packet matched (OVS's xlate_actions
 * with may_receive): a port STP neither forwards nor learns on takes
 * nothing; one that only learns lets NORMAL and learn see the packet,
 * then its datapath actions (and action set) are dropped.
 */
function xlateReceived(ctx: XlateCtx, actions: readonly OfpAction[]): void {
  const xp = ctx.inPort;
  const st = xp !== null ? stpState(xp) : 1;
  if (!stpForwardInState(st) && !stpLearnInState(st)) return;
  const mark = ctx.odp.size;
  doXlateActions(ctx, actions, true, false);
  if (!stpForwardInState(st) && ctx.error === null) {
    ctx.odp.w.truncate(mark);
    ctx.actionSet = [];
    ctx.actionSetHasGroup = false;
  }
}

/**
 * Before the first actions (OVS's xlate_actions): a packet received on a
 * mirror output port is dropped (true); any other goes to the mirrors
 * selecting its input bundle, unless it is a recirculated one.
 */
function mirrorGate(ctx: XlateCtx, thawed: boolean): boolean {
  const mb = ctx.bridge.mbridge;
  if (mb === undefined || mb === null || !mb.hasMirrors) return false;
  if (mirrorOutputInput(ctx)) return true;
  if (!thawed) mirrorIngress(ctx);
  return false;
}

/** OVS's xlate_wc_finish: drops non-packet fields from the megaflow mask and fixes up ICMP/VLAN/fragment masks. */
function finishWildcards(ctx: XlateCtx, orig: Uint32Array): void {
  const wc = ctx.wc;
  for (let w = REGION_OF_START; w < FLOW_U32S; w++) wc[w] = 0;
  const t = dlType(orig);
  const proto = nwProto(orig);
  if ((t === ETH_TYPE_IP && proto === 1) || (t === ETH_TYPE_IPV6 && proto === 58)) {
    // ICMP type and code are 8 bits in the datapath.
    wc[W_TP_SRC] = (wc[W_TP_SRC]! & 0x00ff00ff) >>> 0;
  }
  for (let i = 0; i < 2; i++) if ((wc[W_VLAN0 + i]! & 0xffff) !== 0) wc[W_VLAN0 + i] = (wc[W_VLAN0 + i]! | 0x1000) >>> 0;
  if ((orig[W_NW_PROTO]! & FLOW_NW_FRAG_LATER) !== 0) wc[W_TP_SRC] = 0;
  if (orig[W_PACKET_TYPE] !== 0) {
    wc[11] = 0;
    wc[12] = 0;
    wc[13] = 0;
  }
  // Fields the original packet does not have: masks that push/set actions left there go.
  if (t !== 0x8847 && t !== 0x8848) {
    wc[W_MPLS_LSE0] = 0;
    wc[W_MPLS_LSE0 + 1] = 0;
    wc[W_MPLS_LSE0 + 2] = 0;
  }
  for (let i = 0; i < 2; i++) {
    const tpid = orig[W_VLAN0 + i]! >>> 16;
    if (tpid !== 0x8100 && tpid !== 0x88a8) wc[W_VLAN0 + i] = 0;
  }
}

/* ---------------- tables ---------------- */

const lk = { rule: null as Rule | null, tableId: 0 };
const FRAG_KEY = new Uint32Array(FLOW_U32S);

function tableMiss(ctx: XlateCtx, tableId: number): string {
  return ctx.bridge.ofproto.tableMiss(tableId);
}

function wantsPacketInOnMiss(ctx: XlateCtx): boolean {
  for (const c of ctx.bridge.ofproto.connmgr.connections()) {
    if (c.controllerId === 0 && (c.version === 0 || c.version < 4)) return true;
  }
  return false;
}

/**
 * OVS's rule_dpif_lookup_from_table: looks up from `tableId` on (honouring
 * table-miss "continue" when asked); sets `lk` and returns the kind.
 */
function lookupFromTable(ctx: XlateCtx, tableId: number, inPort: number, mayPacketIn: boolean, honorMiss: boolean): number {
  const flow = ctx.flow;
  const tables = ctx.bridge.ofproto.tables;
  const oldIn = flow[W_IN_PORT]!;
  flow[W_IN_PORT] = inPort;
  // Fragments (frag handling "normal"): the lookup sees no transport ports.
  let key = flow;
  if ((flow[W_NW_PROTO]! & FLOW_NW_FRAG_ANY) !== 0) {
    key = FRAG_KEY;
    key.set(flow);
    key[W_TP_SRC] = 0;
  }
  let miss = "default";
  let id = tableId;
  let rule: Rule | null = null;
  const n = tables.nTables;
  for (; id < n; id++) {
    rule = tables.lookup(id, key, ctx.wc, ctx.version);
    if (rule !== null) break;
    if (honorMiss) {
      miss = tableMiss(ctx, id);
      if (miss === "continue") continue;
    }
    break;
  }
  flow[W_IN_PORT] = oldIn;
  lk.rule = rule;
  lk.tableId = id < n ? id : n - 1;
  if (rule !== null) return LK_RULE;
  if (mayPacketIn) {
    if (miss === "continue" || miss === "controller") {
      const p = ctx.bridge.ports.get(inPort);
      if (p !== undefined && (p.config & OFPPC_NO_PACKET_IN) === 0) return LK_MISS_PIN;
    } else if (miss === "default" && wantsPacketInOnMiss(ctx)) {
      return LK_MISS_PIN;
    }
  }
  return LK_MISS_DROP;
}

function reportTable(ctx: XlateCtx, kind: number, rule: Rule | null, tableId: number): TraceNode | null {
  if (ctx.trace === null) return null;
  let s = `${tableId < 10 ? " " : ""}${tableId}. `;
  if (kind === LK_MISS_PIN) s += 'No match, and a "packet-in" is called for.';
  else if (kind === LK_MISS_DROP || rule === null) s += "No match.";
  else {
    const m = rule.match;
    const text = formatMatch(m);
    s += text;
    if (text !== "" && !s.endsWith(" ")) s += ", ";
    s += `priority ${rule.priority}`;
    if (rule.cookie !== 0n) s += `, cookie 0x${rule.cookie.toString(16)}`;
  }
  return ctx.trace.add("table", s);
}

/**
 * An exact-size copy of the rules visited: an upcall keeps it for the
 * megaflow's life (a list grown by push had room for 17).
 */
function visitedRules(ctx: XlateCtx): Rule[] {
  const n = ctx.nRules;
  const src = ctx.rules;
  const out = new Array<Rule>(n);
  for (let i = 0; i < n; i++) {
    out[i] = src[i]!;
    src[i] = NO_RULE;
  }
  return out;
}
const NO_RULE = null as unknown as Rule;

function creditRule(ctx: XlateCtx, rule: Rule): void {
  if (ctx.nRules === ctx.rules.length) ctx.rules.push(rule);
  else ctx.rules[ctx.nRules] = rule;
  ctx.nRules++;
  const p = ctx.xin.statsPackets ?? 0;
  if (p > 0) {
    // One clock read per bridge per translation.
    if (ctx.nowBridge !== ctx.bridge) {
      ctx.nowBridge = ctx.bridge;
      // The caller's reading when it has one (an upcall reads the clock anyway).
      ctx.nowMs = ctx.xin.nowMs !== undefined && ctx.xin.nowMs > 0 ? ctx.xin.nowMs : ctx.bridge.now();
    }
    rule.credit(p, ctx.xin.statsBytes ?? 0, ctx.nowMs);
  }
}

function resourceCheck(ctx: XlateCtx): boolean {
  if (ctx.depth >= MAX_DEPTH) {
    ctx.reportError(`over max translation depth ${MAX_DEPTH}`);
    ctx.error = "Recursion too deep";
  } else if (ctx.resubmits >= MAX_RESUBMITS) {
    ctx.reportError(`over ${MAX_RESUBMITS} resubmit actions`);
    ctx.error = "Too many resubmits";
  } else if (ctx.odp.size > MAX_ACTIONS_BYTES) {
    ctx.reportError("resubmits yielded over 64 kB of actions");
    ctx.error = "Too many datapath actions";
  } else if (ctx.stack.length >= 65536 / 16) {
    ctx.reportError("resubmits yielded over 64 kB of stack");
    ctx.error = "Stack too deep";
  } else {
    return true;
  }
  return false;
}

/** OVS's xlate_table_action: resubmit / goto_table / output:TABLE. */
function xlateTable(ctx: XlateCtx, inPort: number, tableId: number, mayPacketIn: boolean, honorMiss: boolean, isLast = false): void {
  if (!resourceCheck(ctx)) return;
  const oldTable = ctx.tableId;
  const kind = lookupFromTable(ctx, tableId, inPort, mayPacketIn, honorMiss);
  const rule = lk.rule;
  const foundTable = lk.tableId;
  ctx.tableId = foundTable;
  const node = reportTable(ctx, kind, rule, foundTable);
  if (node !== null) ctx.trace!.push(node);
  if (rule !== null) {
    creditRule(ctx, rule);
    xlateRecursively(ctx, rule, foundTable <= oldTable, isLast);
  } else {
    // The internal miss rules still count as a resubmit.
    ctx.resubmits++;
    if (kind === LK_MISS_PIN) {
      ctx.add("action", "controller(reason=)");
      const oldCookie = ctx.ruleCookie;
      ctx.ruleCookie = 0n;
      xlateController(ctx, 0xffff, OFPR_IMPLICIT_MISS, 0, null, false);
      ctx.ruleCookie = oldCookie;
    } else {
      ctx.add("action", "drop");
    }
  }
  if (node !== null) ctx.trace!.pop();
  ctx.tableId = oldTable;
}

function xlateRecursively(ctx: XlateCtx, rule: Rule, deepens: boolean, isLast: boolean): void {
  const oldRule = ctx.rule;
  const oldCookie = ctx.ruleCookie;
  ctx.resubmits++;
  if (deepens) ctx.depth++;
  ctx.rule = rule;
  ctx.ruleCookie = rule.cookie;
  doXlateActions(ctx, rule.actions, isLast, false);
  ctx.rule = oldRule;
  ctx.ruleCookie = oldCookie;
  if (deepens) ctx.depth--;
}

/* ---------------- the action loop ---------------- */

function reportAction(ctx: XlateCtx, a: OfpAction): void {
  const one = ONE;
  one[0] = a;
  ctx.trace!.add("action", formatActions(one));
}
const ONE: OfpAction[] = [];

function isIpAny(flow: Uint32Array): boolean {
  const t = dlType(flow);
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

/** OVS's do_xlate_actions. */
export function doXlateActions(ctx: XlateCtx, list: readonly OfpAction[], isLast: boolean, groupBucket: boolean): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  if (list.length === 0) {
    ctx.add("action", "drop");
    return;
  }
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    if (ctx.error !== null) break;
    if (ctx.wasMpls && !ctx.exit && mplsPopNeedsRecirc(a)) triggerFreeze(ctx);
    if (ctx.exit) {
      if (ctx.freezing) unrollActions(ctx, list, i);
      break;
    }
    if (ctx.trace !== null) reportAction(ctx, a);
    // As OVS computes it (only with a pending action set does "last" hold).
    const last = isLast && i === list.length - 1 && ctx.actionSet.length !== 0;
    switch (a.type) {
      case "output":
        xlateOutput(ctx, a.port, a.maxLen, true, last, groupBucket);
        break;
      case "resubmit": {
        let inPort = a.inPort;
        if (inPort === OFPP_IN_PORT) inPort = flow[W_IN_PORT]! & 0xffff;
        const table = a.tableId === 255 ? ctx.tableId : a.tableId;
        xlateTable(ctx, inPort, table, false, false, last);
        break;
      }
      case "set_field": {
        const e = boundField(a.field);
        if (e !== null && prereqsOk(e.fld.prereqs, flow, wc)) {
          setFieldMasked(flow, wc, a.field, a.value, a.mask);
          maskL3Prereqs(ctx, e.fld.name);
        } else {
          ctx.add("warn", `unmet prerequisites for ${e?.fld.name ?? a.field}, set_field ignored`);
        }
        break;
      }
      case "goto_table":
        xlateTable(ctx, flow[W_IN_PORT]! & 0xffff, a.tableId, true, true, last);
        break;
      case "set_eth_src":
        setMac(flow, wc, 50, a.mac);
        break;
      case "set_eth_dst":
        setMac(flow, wc, 44, a.mac);
        break;
      case "dec_ttl":
        if (decTtl(ctx, a.ids)) return;
        break;
      case "group":
        if (xlateGroupAction(ctx, a.groupId)) {
          // Nonexistent group: OVS stops the translation of this list.
          return;
        }
        break;
      case "reg_move":
        xlateRegMove(ctx, a.src, a.dst);
        break;
      case "controller":
        if (a.pause) {
          // The pipeline pauses: nothing more happens in the datapath; the packet-in carries the rest.
          ctx.pause = a;
          triggerFreeze(ctx);
        } else {
          xlateController(ctx, a.maxLen, controllerReason(ctx, a.reason, groupBucket), a.controllerId, a.userdata, false);
        }
        break;
      case "write_actions":
        writeActions(ctx, a.actions);
        reportActionSet(ctx, "is");
        break;
      case "write_metadata": {
        const cur = (BigInt(flow[W_METADATA]!) << 32n) | BigInt(flow[W_METADATA + 1]!);
        const v = (cur & ~a.mask) | (a.metadata & a.mask);
        flow[W_METADATA] = Number((v >> 32n) & 0xffffffffn);
        flow[W_METADATA + 1] = Number(v & 0xffffffffn);
        break;
      }
      case "set_ipv4_src":
        if (dlType(flow) === ETH_TYPE_IP) {
          wc[20] = 0xffffffff;
          flow[20] = a.addr >>> 0;
          maskL3Prereqs(ctx, "ip_src");
        }
        break;
      case "set_vlan_vid": {
        wc[W_VLAN0] = (wc[W_VLAN0]! | 0x1fff) >>> 0;
        const q = flow[W_VLAN0]!;
        if ((q & 0x1000) !== 0 || a.push) {
          const tpid = q >>> 16 === 0 ? 0x8100 : q >>> 16;
          flow[W_VLAN0] = ((tpid << 16) | (q & 0xe000) | 0x1000 | (a.vid & 0xfff)) >>> 0;
        }
        break;
      }
      case "push_vlan": {
        const n = vlanCount(flow);
        for (let j = 0; j < n; j++) wc[W_VLAN0 + j] = 0xffffffff;
        flow[W_VLAN1] = flow[W_VLAN0]!;
        flow[W_VLAN0] = ((a.ethertype << 16) | 0x1000) >>> 0;
        break;
      }
      case "strip_vlan":
        popVlan(flow, wc);
        break;
      case "set_l4_src":
      case "set_l4_dst":
        if (isIpAny(flow) && (flow[W_NW_PROTO]! & FLOW_NW_FRAG_LATER) === 0) {
          wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0xff000000) >>> 0;
          if (a.type === "set_l4_src") {
            wc[W_TP_SRC] = (wc[W_TP_SRC]! | 0xffff0000) >>> 0;
            flow[W_TP_SRC] = ((flow[W_TP_SRC]! & 0xffff) | ((a.port & 0xffff) << 16)) >>> 0;
          } else {
            wc[W_TP_SRC] = (wc[W_TP_SRC]! | 0xffff) >>> 0;
            flow[W_TP_SRC] = ((flow[W_TP_SRC]! & 0xffff0000) | (a.port & 0xffff)) >>> 0;
          }
        }
        break;
      case "note":
      case "conjunction":
      case "sample":
        break;
      case "clone":
        xlateClone(ctx, a.actions, last);
        break;
      case "ct":
        xlateCt(ctx, a, last);
        break;
      case "learn":
        xlateLearn(ctx, a);
        break;
      case "output_trunc":
        xlateOutputTrunc(ctx, a.port, a.maxLen);
        break;
      case "enqueue":
        wc[W_SKB_PRIORITY] = 0xffffffff;
        xlateEnqueue(ctx, a.port, a.queue);
        break;
      case "set_vlan_pcp": {
        wc[W_VLAN0] = (wc[W_VLAN0]! | 0xf000) >>> 0;
        const q = flow[W_VLAN0]!;
        if ((q & 0x1000) !== 0 || a.push) {
          const tpid = q >>> 16 === 0 ? 0x8100 : q >>> 16;
          flow[W_VLAN0] = ((tpid << 16) | (q & 0x0fff) | 0x1000 | ((a.pcp & 7) << 13)) >>> 0;
        }
        break;
      }
      case "set_ipv4_dst":
        if (dlType(flow) === ETH_TYPE_IP) {
          wc[21] = 0xffffffff;
          flow[21] = a.addr >>> 0;
          maskL3Prereqs(ctx, "ip_dst");
        }
        break;
      case "set_ip_dscp":
        if (isIpAny(flow)) {
          wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0x00fc0000) >>> 0;
          flow[W_NW_PROTO] = ((flow[W_NW_PROTO]! & ~0x00fc0000) | ((a.tos & 0xfc) << 16)) >>> 0;
          maskL3Prereqs(ctx, "nw_tos");
        }
        break;
      case "set_ip_ecn":
        if (isIpAny(flow)) {
          wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0x00030000) >>> 0;
          flow[W_NW_PROTO] = ((flow[W_NW_PROTO]! & ~0x00030000) | ((a.ecn & 3) << 16)) >>> 0;
          maskL3Prereqs(ctx, "nw_ecn");
        }
        break;
      case "set_ip_ttl":
        if (isIpAny(flow)) {
          wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0x0000ff00) >>> 0;
          flow[W_NW_PROTO] = ((flow[W_NW_PROTO]! & ~0x0000ff00) | ((a.ttl & 0xff) << 8)) >>> 0;
          maskL3Prereqs(ctx, "nw_ttl");
        }
        break;
      case "set_tunnel":
        flow[W_TUN_ID] = Number((a.tunId >> 32n) & 0xffffffffn);
        flow[W_TUN_ID + 1] = Number(a.tunId & 0xffffffffn);
        break;
      case "set_queue":
        wc[W_SKB_PRIORITY] = 0xffffffff;
        flow[W_SKB_PRIORITY] = a.queue >>> 0;
        break;
      case "pop_queue":
        wc[W_SKB_PRIORITY] = 0xffffffff;
        if (flow[W_SKB_PRIORITY] !== ctx.origSkbPriority) {
          flow[W_SKB_PRIORITY] = ctx.origSkbPriority;
          ctx.add("detail", `queue = ${hexOrZero(ctx.origSkbPriority)}`);
        }
        break;
      case "stack_push": {
        const v = readSubfield(flow, a.sf);
        maskSubfield(wc, a.sf);
        ctx.stack.push(v ?? 0n);
        break;
      }
      case "stack_pop": {
        const v = ctx.stack.pop();
        if (v !== undefined) {
          writeSubfield(flow, wc, a.sf, v);
          reportSubfield(ctx, a.sf);
        } else {
          ctx.add("warn", "stack underflow");
        }
        break;
      }
      case "push_mpls":
        pushMpls(ctx, a.ethertype);
        break;
      case "pop_mpls":
        popMpls(ctx, a.ethertype);
        break;
      case "set_mpls_label":
        if (mplsCount(flow) > 0) {
          wc[W_MPLS_LSE0] = (wc[W_MPLS_LSE0]! | 0xfffff000) >>> 0;
          flow[W_MPLS_LSE0] = ((flow[W_MPLS_LSE0]! & 0xfff) | ((a.label & 0xfffff) << 12)) >>> 0;
        }
        break;
      case "set_mpls_tc":
        if (mplsCount(flow) > 0) {
          wc[W_MPLS_LSE0] = (wc[W_MPLS_LSE0]! | 0xe00) >>> 0;
          flow[W_MPLS_LSE0] = ((flow[W_MPLS_LSE0]! & ~0xe00) | ((a.tc & 7) << 9)) >>> 0;
        }
        break;
      case "set_mpls_ttl":
        if (mplsCount(flow) > 0) {
          wc[W_MPLS_LSE0] = (wc[W_MPLS_LSE0]! | 0xff) >>> 0;
          flow[W_MPLS_LSE0] = ((flow[W_MPLS_LSE0]! & ~0xff) | (a.ttl & 0xff)) >>> 0;
        }
        break;
      case "dec_mpls_ttl":
        if (mplsCount(flow) > 0) {
          wc[W_MPLS_LSE0] = (wc[W_MPLS_LSE0]! | 0xff) >>> 0;
          const ttl = flow[W_MPLS_LSE0]! & 0xff;
          if (ttl > 1) {
            flow[W_MPLS_LSE0] = ((flow[W_MPLS_LSE0]! & ~0xff) | (ttl - 1)) >>> 0;
          } else {
            xlateController(ctx, 0xffff, OFPR_INVALID_TTL, 0, null, false);
            ctx.add("warn", "MPLS decrement TTL exception");
            return;
          }
        }
        break;
      case "exit":
        ctx.exit = true;
        break;
      case "fin_timeout":
        wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0xff000000) >>> 0;
        if (ctx.rule !== null && ctx.sideEffects && (flow[W_TCP_FLAGS]! & 0x5) !== 0) {
          const r = ctx.rule;
          const idle = a.idle;
          const hard = a.hard;
          ctx.deferred.push(() => r.reduceTimeouts(idle, hard));
        }
        break;
      case "clear_actions":
        reportActionSet(ctx, "was");
        ctx.actionSet = [];
        flow[W_ACTSET_OUTPUT] = OFPP_UNSET;
        ctx.actionSetHasGroup = false;
        break;
      case "meter":
        xlateMeter(ctx, a.meterId);
        break;
      case "ct_clear":
        if (ctx.conntracked) {
          clearConntrack(flow);
          ctx.odp.ctClear();
          ctx.conntracked = false;
        }
        break;
      case "nat":
        // Taken by the enclosing ct() (compose_conntrack_action).
        ctx.ctNat = a;
        break;
      case "output_reg": {
        const v = readSubfield(flow, a.src);
        if (v !== null && v <= 0xffffn) {
          ctx.add("detail", `output port is ${v}`);
          maskSubfield(wc, a.src);
          xlateOutput(ctx, Number(v), a.maxLen, false, last, groupBucket);
        } else {
          ctx.add("warn", `output port ${v ?? 0n} is out of range`);
        }
        break;
      }
      case "multipath":
        multipathExecute(flow, wc, a);
        reportSubfield(ctx, a.dst);
        break;
      case "bundle":
      case "bundle_load":
        xlateBundle(ctx, a, last, groupBucket);
        break;
      case "check_pkt_larger":
        // As the last action it changes nothing; otherwise the rest of this list runs under both outcomes.
        if (last) break;
        xlateCheckPktLarger(ctx, a.pktLen, a.dst, list, i + 1, groupBucket);
        return;
      case "delete_field": {
        const e = boundField(a.field);
        if (e !== null) {
          const n = e.fld.bytes;
          setFieldMasked(flow, wc, a.field, new Uint8Array(n), new Uint8Array(n).fill(0xff));
        }
        break;
      }
      case "encap":
      case "decap":
      case "dec_nsh_ttl":
        ctx.add("warn", `${a.type} is not supported by this switch`);
        break;
    }
    if (ctx.error === null && ctx.exit && ctx.freezing && ctx.frozen.length === 0) {
      unrollActions(ctx, list, ctx.pause !== null ? i + 1 : i);
      break;
    }
  }
}

/* ---------------- freezing (recirculation) ---------------- */

/** OVS's freeze_unroll_actions: keeps list[from..] (with table/cookie markers) to run after recirculation. */
function unrollActions(ctx: XlateCtx, list: readonly OfpAction[], from: number): void {
  for (let i = from; i < list.length; i++) {
    const a = list[i]!;
    switch (a.type) {
      case "output_reg": case "output_trunc": case "group": case "output": case "controller":
      case "dec_mpls_ttl": case "dec_nsh_ttl": case "dec_ttl":
        ctx.frozen.push({ action: null, tableId: ctx.tableId, cookie: ctx.ruleCookie });
        break;
      case "resubmit":
        if (a.tableId === 255) ctx.frozen.push({ action: null, tableId: ctx.tableId, cookie: ctx.ruleCookie });
        break;
      default:
    }
    ctx.frozen.push({ action: a, tableId: 0, cookie: 0n });
  }
}

/** OVS's recirc_for_mpls: after pop_mpls, actions that need the L3 header wait for recirculation. */
function mplsPopNeedsRecirc(a: OfpAction): boolean {
  switch (a.type) {
    case "output": case "output_trunc": case "enqueue": case "output_reg": case "set_vlan_vid": case "set_vlan_pcp":
    case "set_eth_src": case "set_eth_dst": case "set_tunnel": case "set_queue": case "group":
      return false;
    case "set_field": {
      const e = boundField(a.field);
      if (e === null) return false;
      const p = e.fld.prereqs;
      return !(p === "none" || p === "ethernet" || p === "vlan_vid" || p === "mpls");
    }
    default:
      return true;
  }
}

/** Starts freezing: translation exits up the stack, collecting what is left. */
function triggerFreeze(ctx: XlateCtx): void {
  ctx.exit = true;
  ctx.freezing = true;
}

/** OVS's finish_freezing: commits, allocates the recirculation id for the frozen state, emits recirc(). */
function finishFreezing(ctx: XlateCtx): void {
  commit(ctx);
  if (ctx.pause !== null) {
    // controller(pause): the datapath hands the packet up with a controller
    // cookie marked "continuation" that names the frozen state; the upcall
    // turns it into an NXT_PACKET_IN2 carrying the continuation, and
    // NXT_RESUME runs the rest (continuation.ts). Nothing without a packet
    // (ofproto/trace), as OVS.
    const p = ctx.pause;
    ctx.pause = null;
    if (ctx.xin.packet !== null || ctx.xin.revalidating === true) {
      const id = allocRecircId({
        bridgeName: ctx.bridge.name,
        bridgeUuid: bridgeUuid(ctx.bridge),
        tableId: 0,
        flow: ctx.flow.slice(),
        userdata: p.userdata,
        actions: ctx.frozen,
        actionSet: ctx.actionSet.slice(),
        stack: ctx.stack.slice(),
        ruleCookie: ctx.ruleCookie,
        conntracked: ctx.conntracked,
        mirrors: ctx.mirrors,
      });
      ctx.odp.userspace(0, encodeControllerCookie({
        uuid: bridgeUuid(ctx.bridge),
        dontSend: !ctx.sideEffects,
        continuation: true,
        reason: p.reason,
        recircId: id,
        ruleCookie: ctx.ruleCookie,
        controllerId: p.controllerId,
        maxLen: p.maxLen,
      }));
    }
    ctx.freezing = false;
    ctx.frozen = [];
    return;
  }
  const id = allocRecircId({
    bridgeName: ctx.bridge.name,
    bridgeUuid: bridgeUuid(ctx.bridge),
    tableId: 0,
    flow: ctx.flow.slice(),
    userdata: null,
    actions: ctx.frozen,
    actionSet: ctx.actionSet.slice(),
    stack: ctx.stack.slice(),
    ruleCookie: ctx.ruleCookie,
    mirrors: ctx.mirrors,
  });
  ctx.odp.recirc(id);
  ctx.freezing = false;
  ctx.frozen = [];
}

/** Restores a frozen translation (a recirculated packet): metadata, stack, action set, then the frozen actions. */
/** Returns true when translation continues with a table lookup (no frozen actions), false when done. */
function thaw(ctx: XlateCtx, recircId: number): boolean {
  const st = frozenState(recircId);
  if (st === null || st.actions === undefined) {
    ctx.reportError(`Recirculation context not found for ID ${recircId.toString(16)}`);
    ctx.error = "No recirculation context";
    return false;
  }
  const flow = ctx.flow;
  flow[W_IN_PORT] = st.flow[W_IN_PORT]!;
  for (let i = 0; i < 16; i++) flow[W_REG0 + i] = st.flow[W_REG0 + i]!;
  flow[W_METADATA] = st.flow[W_METADATA]!;
  flow[W_METADATA + 1] = st.flow[W_METADATA + 1]!;
  ctx.inPort = ctx.bridge.ports.get(flow[W_IN_PORT]! & 0xffff) ?? null;
  ctx.tableId = st.tableId;
  ctx.ruleCookie = st.ruleCookie ?? 0n;
  ctx.conntracked = st.conntracked === true;
  ctx.mirrors = st.mirrors ?? 0;
  const thawNode = ctx.add("recirc", "thaw");
  if (thawNode !== null) {
    ctx.trace!.push(thawNode);
    ctx.add("recirc", `Resuming from table ${st.tableId}`);
    ctx.trace!.pop();
  }
  ctx.stack = (st.stack ?? []).slice();
  if (st.actionSet !== undefined && st.actionSet.length > 0) writeActions(ctx, st.actionSet);
  if (st.actions.length === 0) return true;
  let chunk: OfpAction[] = [];
  const items = st.actions;
  for (let i = 0; i <= items.length; i++) {
    const it = items[i];
    if (it === undefined || it.action === null) {
      if (chunk.length > 0) {
        doXlateActions(ctx, chunk, it === undefined, false);
        chunk = [];
        if (ctx.exit || ctx.error !== null) {
          if (ctx.freezing) for (let j = i; j < items.length; j++) ctx.frozen.push(items[j]!);
          return false;
        }
      }
      if (it !== undefined) {
        ctx.tableId = it.tableId;
        ctx.ruleCookie = it.cookie;
      }
    } else {
      chunk.push(it.action);
    }
  }
  return false;
}

/* ---------------- individual actions ---------------- */

function setMac(flow: Uint32Array, wc: Uint32Array, kb: number, mac: Uint8Array): void {
  for (let i = 0; i < 6; i++) {
    const b = kb + i;
    const sh = 24 - 8 * (b & 3);
    const w = b >>> 2;
    flow[w] = ((flow[w]! & ~(0xff << sh)) | (mac[i]! << sh)) >>> 0;
    wc[w] = (wc[w]! | (0xff << sh)) >>> 0;
  }
}

function popVlan(flow: Uint32Array, wc: Uint32Array): void {
  const n = vlanCount(flow);
  if (n > 1) {
    wc[W_VLAN1] = 0xffffffff;
    flow[W_VLAN0] = flow[W_VLAN1]!;
  }
  if (n > 0) flow[W_VLAN0 + n - 1] = 0;
}

export function reportSubfield(ctx: XlateCtx, sf: Subfield): void {
  if (ctx.trace === null) return;
  const e = boundField(sf.field);
  let text: string;
  if (e !== null && sf.ofs === 0 && sf.nBits >= e.fld.bits) {
    const ones = ONES;
    text = formatMfValue(e.fld, { value: mfGet(ctx.flow, ones, e.fld).value, mask: null });
  } else {
    text = hexOrZero(readSubfield(ctx.flow, sf) ?? 0n);
  }
  ctx.add("detail", `${formatSubfield(sf)} is now ${text}`);
}
const ONES = new Uint32Array(FLOW_U32S).fill(0xffffffff);

/** OVS's ds_put_hex: "0" for zero, else 0x and the digits. */
function hexOrZero(v: bigint | number): string {
  return v === 0n || v === 0 ? "0" : `0x${v.toString(16)}`;
}

/** OVS's mf_set_mask_l3_prereqs: writing an L3 field makes the megaflow match nw_proto. */
function maskL3Prereqs(ctx: XlateCtx, field: string): void {
  const flow = ctx.flow;
  const t = dlType(flow);
  if (t === ETH_TYPE_IP || t === ETH_TYPE_IPV6) {
    switch (field) {
      case "ip_src": case "ip_dst": case "ipv6_src": case "ipv6_dst": case "ipv6_label":
      case "nw_ecn": case "nw_ttl": case "nw_tos":
        ctx.wc[W_NW_PROTO] = (ctx.wc[W_NW_PROTO]! | 0xff000000) >>> 0;
    }
  } else if (t === 0x0806 || t === 0x8035) {
    switch (field) {
      case "arp_op": case "arp_sha": case "arp_tha": case "arp_spa": case "arp_tpa":
        ctx.wc[W_NW_PROTO] = (ctx.wc[W_NW_PROTO]! | 0xff000000) >>> 0;
    }
  }
}

function xlateRegMove(ctx: XlateCtx, src: Subfield, dst: Subfield): void {
  const flow = ctx.flow;
  if (!subfieldPrereqsOk(dst, flow, ctx.wc) || !subfieldPrereqsOk(src, flow, ctx.wc)) return;
  const v = readSubfield(flow, src);
  if (v === null) return;
  maskSubfield(ctx.wc, src);
  writeSubfield(flow, ctx.wc, dst, v);
  reportSubfield(ctx, dst);
}

function decTtl(ctx: XlateCtx, ids: readonly number[]): boolean {
  const flow = ctx.flow;
  if (!isIpAny(flow)) return false;
  ctx.wc[W_NW_PROTO] = (ctx.wc[W_NW_PROTO]! | 0xff00ff00) >>> 0;
  const ttl = (flow[W_NW_PROTO]! >>> 8) & 0xff;
  if (ttl > 1) {
    flow[W_NW_PROTO] = ((flow[W_NW_PROTO]! & ~0x0000ff00) | ((ttl - 1) << 8)) >>> 0;
    return false;
  }
  if (ids.length === 0) xlateController(ctx, 0xffff, OFPR_INVALID_TTL, 0, null, false);
  else for (const id of ids) xlateController(ctx, 0xffff, OFPR_INVALID_TTL, id, null, false);
  ctx.add("warn", `IPv${dlType(flow) === ETH_TYPE_IP ? 4 : 6} decrement TTL exception`);
  return true;
}

function pushMpls(ctx: XlateCtx, ethertype: number): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  const n = mplsCount(flow);
  if (n >= 3) {
    ctx.add("warn", "dropping packet on which an MPLS push action can't be performed as it would have more MPLS LSEs than the 3 that can be handled.");
    ctx.error = "Too many MPLS labels";
    return;
  }
  let lse: number;
  if (n > 0) {
    // New outer label copies the current top of stack, BOS clear.
    wc[W_MPLS_LSE0] = 0xffffffff;
    lse = flow[W_MPLS_LSE0]! & ~0x100;
  } else {
    // Label 0 (or 2 for IPv6), TC from the IP precedence, TTL from the IP TTL, BOS set.
    const t = dlType(flow);
    let label = 0;
    let tc = 0;
    let ttl = 64;
    if (t === ETH_TYPE_IP || t === ETH_TYPE_IPV6) {
      wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0x00e0ff00) >>> 0;
      tc = ((flow[W_NW_PROTO]! >>> 16) & 0xff) >>> 5;
      ttl = (flow[W_NW_PROTO]! >>> 8) & 0xff;
      if (t === ETH_TYPE_IPV6) label = 2;
    }
    lse = ((label << 12) | (tc << 9) | 0x100 | ttl) >>> 0;
  }
  flow[W_MPLS_LSE0 + 2] = flow[W_MPLS_LSE0 + 1]!;
  flow[W_MPLS_LSE0 + 1] = flow[W_MPLS_LSE0]!;
  flow[W_MPLS_LSE0] = lse >>> 0;
  if (n === 0) {
    // The L3+ fields stop being visible once the packet is MPLS.
    flow[20] = 0; flow[21] = 0; flow[W_NW_PROTO] = 0; flow[W_TP_SRC] = 0;
  }
  flow[W_DL_TYPE] = (ethertype << S_DL_TYPE) >>> 0;
}

function popMpls(ctx: XlateCtx, ethertype: number): void {
  const flow = ctx.flow;
  const n = mplsCount(flow);
  if (n === 0) return;
  ctx.wc[W_MPLS_LSE0] = (ctx.wc[W_MPLS_LSE0]! | 0x100) >>> 0;
  if (n === 1) {
    flow[W_MPLS_LSE0] = 0;
    flow[W_DL_TYPE] = (ethertype << S_DL_TYPE) >>> 0;
    if (ethertype !== 0x8847 && ethertype !== 0x8848) ctx.wasMpls = true;
  } else {
    flow[W_MPLS_LSE0] = flow[W_MPLS_LSE0 + 1]!;
    flow[W_MPLS_LSE0 + 1] = flow[W_MPLS_LSE0 + 2]!;
    flow[W_MPLS_LSE0 + 2] = 0;
  }
}

function writeActions(ctx: XlateCtx, actions: readonly OfpAction[]): void {
  if (!ctx.actionSetHasGroup) {
    for (const a of actions) {
      if (a.type === "output") ctx.flow[W_ACTSET_OUTPUT] = a.port;
      else if (a.type === "group") {
        ctx.flow[W_ACTSET_OUTPUT] = OFPP_UNSET;
        ctx.actionSetHasGroup = true;
        break;
      }
    }
  }
  for (const a of actions) ctx.actionSet.push(a);
}

function reportActionSet(ctx: XlateCtx, verb: string): void {
  if (ctx.trace === null) return;
  const list = actionSetToList(ctx.actionSet);
  ctx.add("detail", list.length > 0 ? `action set ${verb}: ${formatActions(list)}` : `action set ${verb} empty`);
}

function isSetOrMove(a: OfpAction): boolean {
  switch (a.type) {
    case "set_field": case "reg_move": case "set_eth_src": case "set_eth_dst": case "set_ip_dscp":
    case "set_ip_ecn": case "set_ip_ttl": case "set_ipv4_src": case "set_ipv4_dst": case "set_l4_src":
    case "set_l4_dst": case "set_mpls_label": case "set_mpls_tc": case "set_mpls_ttl": case "set_tunnel":
    case "set_vlan_pcp": case "set_vlan_vid":
      return true;
    default:
      return false;
  }
}

/** OVS's ofpacts_execute_action_set: the action set in OpenFlow's order. */
export function actionSetToList(set: readonly OfpAction[]): OfpAction[] {
  const out: OfpAction[] = [];
  const last = (t: OfpAction["type"]): boolean => {
    for (let i = set.length - 1; i >= 0; i--) {
      if (set[i]!.type === t) {
        out.push(set[i]!);
        return true;
      }
    }
    return false;
  };
  last("strip_vlan");
  last("pop_mpls");
  last("decap");
  last("encap");
  last("push_mpls");
  last("push_vlan");
  last("dec_ttl");
  last("dec_mpls_ttl");
  last("dec_nsh_ttl");
  for (const a of set) if (isSetOrMove(a)) out.push(a);
  last("set_queue");
  if (!last("group") && !last("output") && !last("resubmit") && !last("ct")) return [];
  return out;
}

function xlateActionSet(ctx: XlateCtx): void {
  if (ctx.actionSet.length === 0) return;
  const list = actionSetToList(ctx.actionSet);
  ctx.actionSet = [];
  if (list.length === 0) return;
  ctx.inActionSet = true;
  const node = ctx.add("table", "--. Executing action set:");
  if (node !== null) ctx.trace!.push(node);
  doXlateActions(ctx, list, true, false);
  if (node !== null) ctx.trace!.pop();
  ctx.inActionSet = false;
}

/* ---------------- output ---------------- */

function controllerReason(ctx: XlateCtx, reason: number, groupBucket: boolean): number {
  if (reason !== OFPR_ACTION) return reason;
  if (ctx.inPacketOut) return OFPR_PACKET_OUT;
  if (groupBucket) return OFPR_GROUP;
  if (ctx.inActionSet) return OFPR_ACTION_SET;
  return reason;
}

function xlateOutput(ctx: XlateCtx, port: number, maxLen: number, mayPacketIn: boolean, last: boolean, groupBucket: boolean): void {
  const inPort = ctx.flow[W_IN_PORT]! & 0xffff;
  switch (port) {
    case OFPP_IN_PORT:
      composeOutput(ctx, inPort, false);
      break;
    case OFPP_TABLE:
      xlateTable(ctx, inPort, 0, mayPacketIn, true);
      break;
    case OFPP_NORMAL:
      xlateNormal(ctx);
      break;
    case OFPP_FLOOD:
      flood(ctx, false);
      break;
    case OFPP_ALL:
      flood(ctx, true);
      break;
    case OFPP_CONTROLLER: {
      const reason = ctx.inPacketOut ? OFPR_PACKET_OUT : groupBucket ? OFPR_GROUP : ctx.inActionSet ? OFPR_ACTION_SET : OFPR_ACTION;
      xlateController(ctx, maxLen, reason, 0, null, false);
      break;
    }
    case OFPP_NONE:
      break;
    default:
      if (port !== inPort) composeOutput(ctx, port, false);
      else ctx.add("warn", "skipping output to input port");
  }
  void last;
}

function xlateOutputTrunc(ctx: XlateCtx, port: number, maxLen: number): void {
  const inPort = ctx.flow[W_IN_PORT]! & 0xffff;
  const xport = ctx.bridge.ports.get(port);
  if (port === inPort || xport === undefined || xport.peer !== null) {
    xlateOutput(ctx, port, 0, false, false, false);
    return;
  }
  commit(ctx);
  ctx.odp.trunc(maxLen);
  composeOutput(ctx, port, false);
}

/** Ports in the order OVS's xlate hmap walks them (flooding order). */
const floodOrder = new WeakMap<XBridge, { n: number; ports: XPort[] }>();
function portsInHmapOrder(b: XBridge): XPort[] {
  const have = floodOrder.get(b);
  let n = 0;
  for (const _ of b.ports.keys()) n++;
  if (have !== undefined && have.n === n && have.ports.every((p) => b.ports.get(p.ofpNo) === p)) return have.ports;
  // OVS fills its xport map walking the ofproto's port map: insert in that order.
  const m = new OfportMap<XPort>((p) => p.ofpNo);
  const seen = new Set<number>();
  for (const op of b.ofproto.orderedPorts()) {
    const xp = b.ports.get(op.ofpNo);
    if (xp !== undefined) {
      m.insert(xp);
      seen.add(op.ofpNo);
    }
  }
  for (const xp of b.ports.values()) if (!seen.has(xp.ofpNo)) m.insert(xp);
  const ports = m.values();
  floodOrder.set(b, { n, ports });
  return ports;
}

function flood(ctx: XlateCtx, all: boolean): void {
  ctx.nfOutput = NF_OUT_FLOOD;
  const inPort = ctx.flow[W_IN_PORT]! & 0xffff;
  for (const p of portsInHmapOrder(ctx.bridge)) {
    if (p.ofpNo === inPort) continue;
    if (all) composeOutput(ctx, p.ofpNo, false);
    else if ((p.config & OFPPC_NO_FLOOD) === 0) composeOutput(ctx, p.ofpNo, true);
  }
}

function commit(ctx: XlateCtx): void {
  ctx.slow |= commitOdpActions(ctx.flow, ctx.base, ctx.wc, ctx.odp);
}

/** OVS's compose_output_action__. */
export function composeOutput(ctx: XlateCtx, ofpPort: number, checkStp: boolean): void {
  const xport = ctx.bridge.ports.get(ofpPort);
  if (xport === undefined) {
    ctx.add("warn", "Nonexistent output port");
    return;
  }
  if ((xport.config & OFPPC_NO_FWD) !== 0) {
    ctx.add("detail", "OFPPC_NO_FWD set, skipping output");
    return;
  }
  if (checkStp && ctx.bridge.stp != null) {
    const st = stpState(xport);
    if (isStpFlow(ctx.base)) {
      if (!stpShouldForwardBpdu(st)) {
        ctx.add("warn", "STP not in listening state, skipping bpdu output");
        return;
      }
    } else if (!stpForwardInState(st)) {
      ctx.add("warn", "STP not in forwarding state, skipping output");
      return;
    }
  }
  if (xport.peer !== null || xport.type === "patch") {
    if (xport.peer === null) return;
    if (resourceCheck(ctx)) patchPortOutput(ctx, xport, xport.peer);
    return;
  }
  if (xport.odpNo < 0) return;
  commit(ctx);
  // Native tunnels (xlate-tnl.ts): tnl_push to a tunnel port, tnl_pop for a local endpoint.
  if (tnlPortOf(xport) !== undefined) tnlComposeOutput(ctx, xport, patchPortOutput);
  else if (!tnlTerminate(ctx, xport)) {
    if (ctx.mirrorSnaplen !== 0 && ctx.mirrorSnaplen < 0xffff) ctx.odp.trunc(ctx.mirrorSnaplen);
    ctx.odp.output(xport.odpNo);
    ctx.sflowOdpPort = xport.odpNo;
    ctx.sflowOutputs++;
    ctx.nfOutput = ctx.nfOutput === NF_OUT_DROP ? ofpPort : ctx.nfOutput === NF_OUT_FLOOD ? NF_OUT_FLOOD : NF_OUT_MULTI;
  }
  if (xport.bundle !== null && ctx.bridge.mbridge?.hasMirrors === true) mirrorPacket(ctx, xport.bundle, xport.bundle.mirrorDst ?? 0);
}

export function patchPortOutput(ctx: XlateCtx, inDev: XPort, outDev: XPort): void {
  const flow = ctx.flow;
  const oldFlow = flow.slice();
  const oldBridge = ctx.bridge;
  const oldVersion = ctx.version;
  const oldStack = ctx.stack;
  const oldSet = ctx.actionSet;
  const oldHasGroup = ctx.actionSetHasGroup;
  const oldInPort = ctx.inPort;
  const oldTable = ctx.tableId;
  const oldTun = ctx.wc.slice(REGION_TUN_START, REGION_CTX_START);
  // Another bridge's mirrors see the packet afresh (OVS's independent_mirrors).
  const oldMirrors = ctx.mirrors;
  if (outDev.bridge !== oldBridge) ctx.mirrors = 0;
  ctx.stack = [];
  ctx.actionSet = [];
  ctx.actionSetHasGroup = false;
  flow[W_IN_PORT] = outDev.ofpNo;
  flow[W_METADATA] = 0;
  flow[W_METADATA + 1] = 0;
  for (let w = REGION_TUN_START; w < REGION_CTX_START; w++) {
    flow[w] = 0;
    ctx.wc[w] = 0;
  }
  for (let i = 0; i < 16; i++) flow[W_REG0 + i] = 0;
  flow[W_ACTSET_OUTPUT] = OFPP_UNSET;
  flow[W_CONJ_ID] = 0;
  const node = ctx.add("bridge", `bridge("${outDev.bridge.name}")`);
  if (node !== null) ctx.trace!.push(node);
  ctx.bridge = outDev.bridge;
  ctx.inPort = outDev;
  ctx.version = outDev.bridge.ofproto.tables.version;
  const peerStp = stpState(outDev);
  // Packets received by the peer count for its BFD's forwarding_if_rx (OVS's bfd_account_rx).
  if (outDev.bfd != null && (ctx.xin.statsPackets ?? 0) > 0) outDev.bfd.accountRx(ctx.xin.statsPackets ?? 0);
  if (cfmSpecial(ctx, outDev, ctx.xin.packet ?? null) || bfdSpecial(ctx, outDev, ctx.xin.packet ?? null) || stpSpecial(ctx, outDev, ctx.xin.packet ?? null)) {
    // A BFD control packet for the peer interface's session, or a BPDU for the peer bridge's spanning tree.
  } else if ((outDev.config & OFPPC_NO_RECV) !== 0) {
    ctx.add("detail", "OFPPC_NO_RECV set, skipping");
  } else if (stpForwardInState(peerStp)) {
    xlateTable(ctx, outDev.ofpNo, 0, true, true);
    if (ctx.error === null && !ctx.freezing) xlateActionSet(ctx);
    if (ctx.freezing) finishFreezing(ctx);
  } else if (stpLearnInState(peerStp)) {
    // STP blocks forwarding: NORMAL and learn see the packet, then it is dropped.
    const oldBase = ctx.base.slice();
    const mark = ctx.odp.size;
    xlateTable(ctx, outDev.ofpNo, 0, true, true);
    ctx.base.set(oldBase);
    ctx.odp.w.truncate(mark);
  }
  if (node !== null) ctx.trace!.pop();
  ctx.flow.set(oldFlow);
  ctx.bridge = oldBridge;
  ctx.version = oldVersion;
  ctx.stack = oldStack;
  ctx.actionSet = oldSet;
  ctx.actionSetHasGroup = oldHasGroup;
  ctx.inPort = oldInPort;
  ctx.tableId = oldTable;
  ctx.mirrors = oldMirrors;
  ctx.wc.set(oldTun, REGION_TUN_START);
  ctx.exit = false;
  if (ctx.error === "Recursion too deep" || ctx.error === "Too many resubmits") ctx.error = null;
  void inDev;
}

function xlateEnqueue(ctx: XlateCtx, port: number, queue: number): void {
  const flow = ctx.flow;
  const old = flow[W_SKB_PRIORITY]!;
  flow[W_SKB_PRIORITY] = queue >>> 0;
  const inPort = flow[W_IN_PORT]! & 0xffff;
  const p = port === OFPP_IN_PORT ? inPort : port;
  if (p === inPort && port !== OFPP_IN_PORT) {
    // OVS's xlate_enqueue_action returns silently here.
  } else {
    composeOutput(ctx, p, false);
  }
  flow[W_SKB_PRIORITY] = old;
}

/* ---------------- controller ---------------- */

function xlateController(ctx: XlateCtx, maxLen: number, reason: number, controllerId: number,
  userdata: Uint8Array | null, pause: boolean): void {
  commit(ctx);
  if (reason === OFPR_ACTION && ctx.rule !== null && isTableMissRule(ctx.rule)) reason = OFPR_EXPLICIT_MISS;
  const recircId = allocRecircId({
    bridgeName: ctx.bridge.name,
    bridgeUuid: bridgeUuid(ctx.bridge),
    tableId: ctx.tableId,
    flow: ctx.flow.slice(),
    userdata,
  });
  const cookie = encodeControllerCookie({
    uuid: bridgeUuid(ctx.bridge),
    dontSend: !ctx.sideEffects,
    continuation: false,
    reason,
    recircId,
    ruleCookie: ctx.ruleCookie,
    controllerId,
    maxLen,
  });
  ctx.odp.userspace(0, cookie);
  if (pause) {
    // A paused pipeline ends here for this translation (continuations need NXT_RESUME).
    ctx.exit = true;
  }
}

function isTableMissRule(r: Rule): boolean {
  if (r.priority !== 0) return false;
  const m = r.cls.mask;
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) return false;
  return true;
}

/* ---------------- groups ---------------- */

function bucketLive(ctx: XlateCtx, b: Bucket<OfpAction[]>, depth: number): boolean {
  if (b.watchPort !== WATCH_PORT_NONE && b.watchPort !== 0xffffffff) {
    const p = ctx.bridge.ports.get(b.watchPort & 0xffff);
    if (p === undefined) return false;
    if ((p.config & OFPPC_PORT_DOWN) !== 0 || (p.state & OFPPS_LINK_DOWN) !== 0) return false;
    if ((p.state & OFPPS_LIVE) === 0 && (p.state & OFPPS_LINK_DOWN) !== 0) return false;
    // A port with BFD or CFM is alive only while one of them says so (OVS's may_enable).
    if ((p.bfd != null || p.cfm != null) && !((p.bfd?.mayEnable ?? false) || (p.cfm?.mayEnable ?? false))) return false;
  }
  if (b.watchGroup !== 0xffffffff) {
    if (depth >= 32) return false;
    const g = ctx.bridge.ofproto.groupTable.get(b.watchGroup);
    if (g === undefined) return false;
    return groupLive(ctx, g, depth + 1);
  }
  return true;
}

function groupLive(ctx: XlateCtx, g: Group<OfpAction[]>, depth: number): boolean {
  for (const b of g.buckets) if (bucketLive(ctx, b, depth)) return true;
  return false;
}

/** Returns true when the group does not exist (translation of the list stops, as OVS). */
function xlateGroupAction(ctx: XlateCtx, groupId: number): boolean {
  const g = ctx.bridge.ofproto.groupTable.get(groupId);
  if (g === undefined) {
    ctx.add("warn", `output to nonexistent group ${groupId}`);
    return true;
  }
  if (!resourceCheck(ctx)) return false;
  const wasInGroup = ctx.inGroup;
  ctx.inGroup = true;
  switch (g.type) {
    case OFPGT_ALL:
    case OFPGT_INDIRECT:
      for (const b of g.buckets) xlateGroupBucket(ctx, g, b);
      break;
    case OFPGT_SELECT:
      xlateSelectGroup(ctx, g);
      break;
    case OFPGT_FF: {
      let chosen: Bucket<OfpAction[]> | null = null;
      for (const b of g.buckets) {
        if (bucketLive(ctx, b, 0)) {
          chosen = b;
          break;
        }
      }
      if (chosen !== null) {
        ctx.add("detail", `using bucket ${chosen.bucketId}`);
        xlateGroupBucket(ctx, g, chosen);
      } else {
        ctx.add("detail", "no live bucket");
      }
      break;
    }
  }
  ctx.inGroup = wasInGroup;
  return false;
}

function xlateSelectGroup(ctx: XlateCtx, g: Group<OfpAction[]>): void {
  const method = g.props.selectionMethod;
  if (method === "" || method === "dp_hash") {
    // OVS 3.1's default: the datapath computes a symmetric L4 hash and the
    // packet recirculates; the bucket is then chosen from dp_hash.
    const dpHash = ctx.flow[W_DP_HASH]!;
    if (dpHash === 0) {
      ctx.odp.hash(Number(g.props.selectionMethodParam & 0xffffffffn), method === "" ? OVS_HASH_ALG_SYM_L4 : Number(g.props.selectionMethodParam >> 32n));
      triggerFreeze(ctx);
      ctx.add("detail", "no live bucket");
      return;
    }
    const n = g.buckets.length;
    let mask = 1;
    while (mask < n) mask <<= 1;
    mask -= 1;
    ctx.wc[W_DP_HASH] = (ctx.wc[W_DP_HASH]! | mask) >>> 0;
    const basis = Math.imul(0xc2b73583, dpHash & mask) >>> 0;
    const best = bestLiveBucket(ctx, g, basis);
    if (best !== null) xlateGroupBucket(ctx, g, best);
    else ctx.add("detail", "no live bucket");
    return;
  }
  // selection_method=hash: a hash of the listed fields (under their masks).
  let basis = hashU64(g.props.selectionMethodParam);
  const flow = ctx.flow;
  for (const f of g.props.fields) {
    const e = boundField(f.name);
    if (e === null) continue;
    if (!prereqsOk(e.fld.prereqs, flow, ctx.wc)) continue;
    const v = mfGet(flow, ONES, e.fld).value;
    const m = f.mask;
    const n = v.length;
    const bytes = new Uint8Array(n);
    const mk = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      mk[j] = m[m.length - n + j] ?? 0xff;
      bytes[j] = v[j]! & mk[j]!;
    }
    basis = hashBytes(bytes, basis);
    setFieldMaskOnly(ctx.wc, e.fld.name, mk);
  }
  const best = bestLiveBucket(ctx, g, basis);
  if (best !== null) {
    ctx.add("detail", `using bucket ${best.bucketId}`);
    xlateGroupBucket(ctx, g, best);
  } else {
    ctx.add("detail", "no live bucket");
  }
}

/** Un-wildcards a field under `mask` (value-width bytes). */
function setFieldMaskOnly(wc: Uint32Array, name: string, mask: Uint8Array): void {
  const scratch = SCRATCH_FLOW;
  scratch.fill(0);
  setFieldMasked(scratch, wc, name, mask, mask);
}
const SCRATCH_FLOW = new Uint32Array(FLOW_U32S);

/** OVS's hash_uint64. */
function hashU64(v: bigint): number {
  return hashFinish(hashAdd(hashAdd(0, Number(v & 0xffffffffn)), Number((v >> 32n) & 0xffffffffn)), 8);
}

function bestLiveBucket(ctx: XlateCtx, g: Group<OfpAction[]>, basis: number): Bucket<OfpAction[]> | null {
  let best: Bucket<OfpAction[]> | null = null;
  let bestScore = 0;
  for (const b of g.buckets) {
    if (!bucketLive(ctx, b, 0)) continue;
    const score = (hashInt(b.bucketId, basis) & 0xffff) * b.weight;
    ctx.add("detail", `bucket ${b.bucketId}: score ${score}`);
    if (score >= bestScore) {
      best = b;
      bestScore = score;
    }
  }
  return best;
}

function xlateGroupBucket(ctx: XlateCtx, g: Group<OfpAction[]>, b: Bucket<OfpAction[]>): void {
  const node = ctx.add("bucket", `bucket ${b.bucketId}`);
  if (node !== null) ctx.trace!.push(node);
  const oldFlow = ctx.flow.slice();
  const list = actionSetToList(b.actions);
  ctx.depth++;
  doXlateActions(ctx, list, false, true);
  ctx.depth--;
  if (ctx.freezing) finishFreezing(ctx);
  ctx.flow.set(oldFlow);
  ctx.exit = false;
  if (node !== null) ctx.trace!.pop();
  const p = ctx.xin.statsPackets ?? 0;
  if (p > 0 && ctx.sideEffects) {
    g.packetCount += p;
    g.byteCount += ctx.xin.statsBytes ?? 0;
    b.packetCount += p;
    b.byteCount += ctx.xin.statsBytes ?? 0;
  }
}

/* ---------------- clone, meter, ct, bundle, check_pkt_larger ---------------- */

/** Actions a clone can undo by restoring the flow (OVS's reversible_actions). */
function reversible(actions: readonly OfpAction[]): boolean {
  for (const a of actions) {
    switch (a.type) {
      case "ct": case "meter": case "nat": case "output_trunc": case "encap": case "decap": case "dec_nsh_ttl":
        return false;
      default:
    }
  }
  return true;
}

function xlateClone(ctx: XlateCtx, actions: readonly OfpAction[], last: boolean): void {
  const oldFlow = ctx.flow.slice();
  const oldSet = ctx.actionSet;
  const oldHasGroup = ctx.actionSetHasGroup;
  const oldStack = ctx.stack;
  ctx.actionSet = [];
  ctx.actionSetHasGroup = false;
  ctx.stack = oldStack.slice();
  if (reversible(actions) || last) {
    doXlateActions(ctx, actions, last, false);
    if (ctx.error === null) xlateActionSet(ctx);
  } else {
    // The datapath clone() keeps the outer packet intact.
    commit(ctx);
    const oldBase = ctx.base.slice();
    const n = ctx.odp.w.startNested(OVS_ACTION_ATTR_CLONE);
    const before = ctx.odp.size;
    doXlateActions(ctx, actions, true, false);
    if (ctx.error === null) xlateActionSet(ctx);
    if (ctx.odp.size === before) ctx.odp.w.truncate(n);
    else ctx.odp.w.endNested(n);
    ctx.base.set(oldBase);
  }
  ctx.flow.set(oldFlow);
  ctx.actionSet = oldSet;
  ctx.actionSetHasGroup = oldHasGroup;
  ctx.stack = oldStack;
  ctx.exit = false;
}

function xlateMeter(ctx: XlateCtx, meterId: number): void {
  const mt = ctx.bridge.ofproto.meterTable;
  if (!mt.has(meterId)) return;
  const pid = mt.providerId(meterId);
  if (pid !== null && pid >= 0) ctx.odp.meter(pid);
}

/** OVS's compose_conntrack_action. */
function xlateCt(ctx: XlateCtx, a: Extract<OfpAction, { type: "ct" }>, last: boolean): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  commit(ctx);
  let zone = a.zoneImm;
  if (a.zoneSrc !== null) {
    zone = Number(readSubfield(flow, a.zoneSrc) ?? 0n) & 0xffff;
    maskSubfield(wc, a.zoneSrc);
  }
  // ct_mark / ct_label enter the datapath action only as the exec() actions set them.
  const oldMark = wc[W_CT_MARK]!;
  const oldLabel = wc.slice(W_CT_LABEL, W_CT_LABEL + 4);
  wc[W_CT_MARK] = 0;
  wc.fill(0, W_CT_LABEL, W_CT_LABEL + 4);
  const oldNat = ctx.ctNat;
  ctx.ctNat = null;
  doXlateActions(ctx, a.actions, last, false);
  const nat = ctx.ctNat;
  ctx.ctNat = oldNat;
  const w = ctx.odp.w;
  const n = w.startNested(OVS_ACTION_ATTR_CT);
  if ((a.flags & 1) !== 0) w.putFlag((a.flags & 2) !== 0 ? OVS_CT_ATTR_FORCE_COMMIT : OVS_CT_ATTR_COMMIT);
  if (zone !== 0) w.putU16(OVS_CT_ATTR_ZONE, zone);
  if (wc[W_CT_MARK] !== 0) {
    const p = w.putUninit(OVS_CT_ATTR_MARK, 8);
    putLe32(w.buf, p, (flow[W_CT_MARK]! & wc[W_CT_MARK]!) >>> 0);
    putLe32(w.buf, p + 4, wc[W_CT_MARK]!);
  }
  if (wc[W_CT_LABEL] !== 0 || wc[W_CT_LABEL + 1] !== 0 || wc[W_CT_LABEL + 2] !== 0 || wc[W_CT_LABEL + 3] !== 0) {
    const p = w.putUninit(OVS_CT_ATTR_LABELS, 32);
    for (let i = 0; i < 4; i++) {
      putBe32(w.buf, p + 4 * i, (flow[W_CT_LABEL + i]! & wc[W_CT_LABEL + i]!) >>> 0);
      putBe32(w.buf, p + 16 + 4 * i, wc[W_CT_LABEL + i]!);
    }
  }
  if (a.alg === 21 || a.alg === 69) {
    const name = new TextEncoder().encode(a.alg === 21 ? "ftp\0" : "tftp\0");
    w.putBytes(OVS_CT_ATTR_HELPER, name);
  }
  if (nat !== null) putCtNat(ctx, nat);
  w.endNested(n);
  wc[W_CT_MARK] = oldMark;
  wc.set(oldLabel, W_CT_LABEL);
  if (a.table !== 255) {
    ctx.conntracked = true;
    // OVS's compose_recirculate_and_fork: the packet recirculates into `table`, translation goes on.
    const id = allocRecircId({
      bridgeName: ctx.bridge.name, bridgeUuid: bridgeUuid(ctx.bridge), tableId: a.table, flow: flow.slice(), userdata: null,
      actions: [], actionSet: ctx.actionSet.slice(), stack: ctx.stack.slice(), ruleCookie: ctx.ruleCookie, conntracked: true, mirrors: ctx.mirrors,
    });
    ctx.odp.recirc(id);
    const sink = ctx.trace as (TraceSink & { recirc?: (id: number, table: number, flow: Uint32Array, zone: number) => void }) | null;
    if (sink !== null && sink.recirc !== undefined) {
      sink.recirc(id, a.table, flow.slice(), zone);
      ctx.add("detail", `A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table ${a.table}.`);
    }
  }
  clearConntrack(flow);
  ctx.add("detail", "Sets the packet to an untracked state, and clears all the conntrack fields.");
  ctx.conntracked = false;
}

function clearConntrack(flow: Uint32Array): void {
  flow[W_CT_STATE] = 0;
  flow[W_CT_MARK] = 0;
  flow[W_CT_NW_SRC] = 0;
  flow[W_CT_NW_DST] = 0;
  flow[W_CT_TP_SRC] = 0;
  flow.fill(0, W_CT_LABEL, W_CT_LABEL + 12);
}

function putCtNat(ctx: XlateCtx, nat: Extract<OfpAction, { type: "nat" }>): void {
  const w = ctx.odp.w;
  const n = w.startNested(OVS_CT_ATTR_NAT);
  if ((nat.flags & 3) !== 0) {
    w.putFlag((nat.flags & 1) !== 0 ? OVS_NAT_ATTR_SRC : OVS_NAT_ATTR_DST);
    if ((nat.flags & 4) !== 0) w.putFlag(OVS_NAT_ATTR_PERSISTENT);
    if ((nat.flags & 8) !== 0) w.putFlag(OVS_NAT_ATTR_PROTO_HASH);
    else if ((nat.flags & 16) !== 0) w.putFlag(OVS_NAT_ATTR_PROTO_RANDOM);
    const min = nat.addrMin;
    const max = nat.addrMax;
    if (min !== null) {
      w.putBytes(OVS_NAT_ATTR_IP_MIN, min);
      if (max !== null && cmpBytes(max, min) > 0) w.putBytes(OVS_NAT_ATTR_IP_MAX, max);
      if (nat.portMin !== 0) {
        w.putU16(OVS_NAT_ATTR_PROTO_MIN, nat.portMin);
        if (nat.portMax > nat.portMin) w.putU16(OVS_NAT_ATTR_PROTO_MAX, nat.portMax);
      }
    }
  }
  w.endNested(n);
}

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function putLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}
function putBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function xlateBundle(ctx: XlateCtx, a: Extract<OfpAction, { type: "bundle" | "bundle_load" }>, last: boolean, groupBucket: boolean): void {
  const port = bundleExecute(ctx, a, (p) => memberEnabled(ctx, p));
  if (a.type === "bundle_load") {
    writeSubfield(ctx.flow, ctx.wc, a.dst, BigInt(port));
    reportSubfield(ctx, a.dst);
  } else {
    xlateOutput(ctx, port, 0, false, last, groupBucket);
  }
}

function memberEnabled(ctx: XlateCtx, ofpPort: number): boolean {
  const p = ctx.bridge.ports.get(ofpPort);
  if (p === undefined) return false;
  return (p.config & OFPPC_PORT_DOWN) === 0 && (p.state & OFPPS_LINK_DOWN) === 0;
}

function xlateCheckPktLarger(ctx: XlateCtx, pktLen: number, dst: Subfield, list: readonly OfpAction[], next: number,
  groupBucket: boolean): void {
  // OVS translates the rest of this action list twice, once per outcome, under check_pkt_len().
  const rest = list.slice(next);
  const oldStack = ctx.stack;
  const oldSet = ctx.actionSet;
  const oldHasGroup = ctx.actionSetHasGroup;
  const oldFlow = ctx.flow.slice();
  commit(ctx);
  const oldBase = ctx.base.slice();
  const oldWasMpls = ctx.wasMpls;
  const oldCt = ctx.conntracked;
  const w = ctx.odp.w;
  const n = w.startNested(OVS_ACTION_ATTR_CHECK_PKT_LEN);
  w.putU16(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, pktLen);
  // The action set is shared by the two branches (the first one consumes it), as OVS does.
  ctx.actionSet = oldSet.slice();
  for (let branch = 1; branch >= 0; branch--) {
    ctx.stack = oldStack.slice();
    const g = w.startNested(branch === 1 ? OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER : OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
    writeSubfield(ctx.flow, null, dst, BigInt(branch));
    doXlateActions(ctx, rest, true, groupBucket);
    if (!ctx.freezing && ctx.error === null) xlateActionSet(ctx);
    if (ctx.freezing) finishFreezing(ctx);
    w.endNested(g);
    ctx.base.set(oldBase);
    ctx.wasMpls = oldWasMpls;
    ctx.conntracked = oldCt;
    ctx.flow.set(oldFlow);
    ctx.exit = false;
  }
  w.endNested(n);
  ctx.stack = oldStack;
  ctx.actionSet = oldSet;
  ctx.actionSetHasGroup = oldHasGroup;
}

