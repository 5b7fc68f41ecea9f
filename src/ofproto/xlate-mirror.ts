/**
 * Mirroring inside a translation (the mirror parts of OVS's
 * ofproto-dpif-xlate): which mirrors a packet goes to, and the outputs
 * that send it there.
 *
 * - Ingress: before the first table's actions run, a packet received on a
 *   bundle goes to the mirrors selecting that bundle's received packets
 *   (`mirrorIngress`). A packet received on a mirror's output bundle is
 *   dropped instead (`mirrorOutputInput`), whatever the tables say.
 * - Egress: each output to a port (an OpenFlow output, flooding, NORMAL)
 *   is followed by the mirrors selecting the bundle's transmitted packets
 *   (`mirrorPacket` from composeOutput).
 * - A mirror sends the packet as NORMAL would, in the VLAN it had on the
 *   selecting bundle: to its output bundle (SPAN), or, tagged with its
 *   output VLAN, to every bundle carrying that VLAN except mirror outputs
 *   (RSPAN; not for reserved destinations, nor when the packet already is
 *   in that VLAN). `ctx.mirrors` remembers the destinations already used,
 *   so one packet reaches one destination once; a snap length truncates
 *   the mirrored copies (`ctx.mirrorSnaplen`, read by composeOutput).
 * - A mirror with a VLAN selection makes the megaflow match the VLAN.
 * - Statistics: see mirror.ts.
 */
import * as L from "../flow/key-layout.js";
import type { XlateCtx } from "./xlate.js";
import type { XBundle } from "./xlate-types.js";
import {
  OFPP_NONE_BUNDLE, bundleIncludesVlan, inputVidIsValid, macIsReserved, outputToBundleXvlan, reportError,
  xvlanExtract, xvlanInputTranslate,
} from "./xlate-normal.js";

const OFPP_CONTROLLER = 0xfffd;
const OFPP_NONE = 0xffff;
const VID0 = 1;

/* Scratch per nesting depth (a mirror output can meet another mirror). */
class MirrorFrame {
  readonly inX = new Int32Array(6);
  readonly x = new Int32Array(6);
  readonly scratch = new Int32Array(6);
  readonly headers = new Uint32Array(2);
}
const frames: MirrorFrame[] = [];
let depth = 0;
const dst = new Uint8Array(6);

/** The bundle a packet entered on (OVS's lookup_input_bundle), reporting an unknown port. */
function inputBundle(ctx: XlateCtx): XBundle | null {
  const inPort = ctx.flow[L.W_IN_PORT]! & 0xffff;
  const p = ctx.bridge.ports.get(inPort);
  if (p !== undefined && p.bundle !== null) return p.bundle;
  if (inPort === OFPP_CONTROLLER || inPort === OFPP_NONE) return OFPP_NONE_BUNDLE;
  reportError(ctx, `received packet on unknown port ${inPort}`);
  return null;
}

/** True when the packet came in on a mirror's output bundle: translation drops it (the error is reported). */
export function mirrorOutputInput(ctx: XlateCtx): boolean {
  const p = ctx.inPort;
  if (p === null || p.bundle === null || p.bundle.mirrorOut !== true) return false;
  reportError(ctx, `dropping packet received on port ${p.bundle.name}, which is reserved exclusively for mirroring`);
  return true;
}

/** Ingress mirroring (OVS's mirror_ingress_packet). */
export function mirrorIngress(ctx: XlateCtx): void {
  const mb = ctx.bridge.mbridge;
  if (mb === undefined || mb === null || !mb.hasMirrors) return;
  const b = inputBundle(ctx);
  if (b !== null) mirrorPacket(ctx, b, b.mirrorSrc ?? 0);
}

/**
 * Sends the packet to the mirrors of `mirrors` (the ones selecting what
 * `bundle` received or sent) that it has not reached yet (OVS's mirror_packet).
 */
export function mirrorPacket(ctx: XlateCtx, bundle: XBundle, mirrors: number): void {
  if (mirrors === 0) return;
  const d = depth++;
  const f = frames[d] ?? (frames[d] = new MirrorFrame());
  mirrorPacketIn(ctx, bundle, mirrors, f);
  depth = d;
}

function mirrorPacketIn(ctx: XlateCtx, bundle: XBundle, mirrors: number, f: MirrorFrame): void {
  const mb = ctx.bridge.mbridge!;
  const flow = ctx.flow;
  /* The VLAN the packet is in on this bundle: mirrors may select on it. */
  xvlanExtract(flow, f.inX);
  if (!inputVidIsValid(ctx, f.inX[VID0]!, bundle)) return;
  xvlanInputTranslate(bundle, f.inX, f.x);
  const x = f.x;

  mirrors = (mirrors & ~ctx.mirrors) >>> 0;
  if (mirrors === 0) return;
  let used = 0;
  while (mirrors !== 0) {
    const bit = (mirrors & -mirrors) >>> 0;
    const m = mb.byIdx[31 - Math.clz32(bit)];
    if (m === null || m === undefined) {
      mirrors = (mirrors & ~bit) >>> 0;
      continue;
    }
    if (m.vlans !== null) {
      const wc = ctx.wc;
      wc[L.W_VLAN0] = (wc[L.W_VLAN0]! | 0x1fff) >>> 0;
      if (m.vlans[x[VID0]!] !== 1) {
        mirrors = (mirrors & ~bit) >>> 0;
        continue;
      }
    }
    used = (used | bit) >>> 0;
    /* Recorded before the output: the output's own mirrors must not come back here. */
    ctx.mirrors = (ctx.mirrors | m.dupMirrors) >>> 0;
    ctx.mirrorSnaplen = m.snaplen;
    if (m.out !== null) {
      const out = ctx.bridge.bundles.get(m.out);
      if (out !== undefined) outputToBundleXvlan(ctx, out, x, f.scratch, f.headers);
    } else if (x[VID0] !== m.outVlan && !reservedDst(flow)) {
      const oldVid = x[VID0]!;
      x[VID0] = m.outVlan;
      for (const b of ctx.bridge.bundles.values()) {
        if (b.mirrorOut === true || !bundleIncludesVlan(b, x)) continue;
        outputToBundleXvlan(ctx, b, x, f.scratch, f.headers);
      }
      x[VID0] = oldVid;
    }
    mirrors = (mirrors & ~ctx.mirrors) >>> 0;
    ctx.mirrorSnaplen = 0;
  }
  if (used !== 0) creditMirrors(ctx, used);
}

function reservedDst(flow: Uint32Array): boolean {
  const w11 = flow[L.W_ETH_DST]!, w12 = flow[L.W_ETH_DST + 1]!;
  dst[0] = w11 >>> 24;
  dst[1] = (w11 >>> 16) & 0xff;
  dst[2] = (w11 >>> 8) & 0xff;
  dst[3] = w11 & 0xff;
  dst[4] = w12 >>> 24;
  dst[5] = (w12 >>> 16) & 0xff;
  return macIsReserved(dst, 0);
}

/** Statistics: the upcalled packet now, the megaflow's later packets through the revalidator (mirror.ts). */
function creditMirrors(ctx: XlateCtx, used: number): void {
  const mb = ctx.bridge.mbridge!;
  const p = ctx.xin.statsPackets ?? 0;
  if (p > 0) mb.credit(used, p, ctx.xin.statsBytes ?? 0);
  const r = mb.statsRule(used);
  for (let i = 0; i < ctx.nRules; i++) if (ctx.rules[i] === r) return;
  if (ctx.nRules === ctx.rules.length) ctx.rules.push(r);
  else ctx.rules[ctx.nRules] = r;
  ctx.nRules++;
}
