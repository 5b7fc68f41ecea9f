/**
 * The learn action in translation (OVS's learn_execute / xlate_learn_action):
 * builds a flow_mod (modify_strict, so a repeat refreshes the same flow)
 * from the action's specs and the packet's flow, un-wildcards every
 * source field the specs read, reports the flow in traces, and — when side
 * effects are allowed — installs it once per packet through the
 * translation's deferred list.
 */
import { Match } from "../openflow/match.js";
import { formatMatch } from "../openflow/match-format.js";
import { formatActions } from "../openflow/ofp-actions-codec.js";
import type { LearnSpec, OfpAction } from "../openflow/ofp-actions.js";
import { flowMod, type OfproFlowMod } from "./flow-mod.js";
import { boundField, maskSubfield, readSubfield, writeSubfield } from "./xlate-fields.js";
import { reportSubfield, type XlateCtx } from "./xlate.js";
import { VlogRateLimit, vlogModule } from "../util/vlog.js";
import { mfFromName } from "../openflow/meta-flow.js";
import { mfGet, mfSet } from "../openflow/mf-key.js";
import { bigToBytes, bytesToBig } from "../packet/bytes.js";

type Learn = Extract<OfpAction, { type: "learn" }>;

function specValue(ctx: XlateCtx, s: LearnSpec): bigint {
  if (s.src !== null) return readSubfield(ctx.flow, s.src) ?? 0n;
  let v = 0n;
  if (s.imm !== null) for (const b of s.imm) v = (v << 8n) | BigInt(b);
  return v & ((1n << BigInt(s.nBits)) - 1n);
}


/** Adds the Ethernet-level prerequisite a matched field needs (OVS's match_add_ethernet_prereq). */
function addPrereq(m: Match, fieldName: string): void {
  const fld = mfFromName(fieldName);
  if (fld === null) return;
  const setType = (t: number): void => {
    const f = mfFromName("eth_type")!;
    mfSet(m.key, m.mask, f, bigToBytes(BigInt(t), 2), null);
  };
  const setProto = (p: number): void => {
    const f = mfFromName("nw_proto")!;
    mfSet(m.key, m.mask, f, Uint8Array.of(p), null);
  };
  switch (fld.prereqs) {
    case "arp": setType(0x0806); break;
    case "ipv4": setType(0x0800); break;
    case "ipv6": setType(0x86dd); break;
    case "mpls": setType(0x8847); break;
    case "tcp": case "udp": case "sctp": case "icmpv4":
      if ((m.mask[14]! >>> 16) === 0) setType(0x0800);
      setProto(fld.prereqs === "tcp" ? 6 : fld.prereqs === "udp" ? 17 : fld.prereqs === "sctp" ? 132 : 1);
      break;
    case "icmpv6": case "nd": case "nd_solicit": case "nd_advert":
      setType(0x86dd);
      setProto(58);
      break;
    default:
  }
}

/** Builds the flow_mod a learn action asks for. */
export function learnFlowMod(ctx: XlateCtx, a: Learn): OfproFlowMod<OfpAction[]> {
  const match = new Match();
  const actions: OfpAction[] = [];
  if (a.finIdle !== 0 || a.finHard !== 0) actions.push({ type: "fin_timeout", idle: a.finIdle, hard: a.finHard });
  for (const s of a.specs) {
    const v = specValue(ctx, s);
    if (s.dstType === "match" && s.dst !== null) {
      const e = boundField(s.dst.field);
      if (e === null) continue;
      const cur = mfGet(match.key, match.mask, e.fld);
      const n = cur.value.length;
      const m = ((1n << BigInt(s.nBits)) - 1n) << BigInt(s.dst.ofs);
      const val = (bytesToBig(cur.value) & ~m) | ((v << BigInt(s.dst.ofs)) & m);
      const msk = bytesToBig(cur.mask) | m;
      mfSet(match.key, match.mask, e.fld, bigToBytes(val, n), bigToBytes(msk, n));
      addPrereq(match, e.fld.name);
    } else if (s.dstType === "load" && s.dst !== null) {
      const e = boundField(s.dst.field);
      if (e === null) continue;
      const n = e.fld.bytes;
      const m = ((1n << BigInt(s.nBits)) - 1n) << BigInt(s.dst.ofs);
      actions.push({
        type: "set_field", field: e.fld.name, value: bigToBytes((v << BigInt(s.dst.ofs)) & m, n),
        mask: bigToBytes(m, n), load: true,
      });
    } else if (s.dstType === "output") {
      if (s.nBits <= 16 || v <= 0xffffn) {
        const port = Number(v & 0xffffn);
        if (port < 0xff00 || port === 0xfff8 || port === 0xfffb || port === 0xfffe || port === 0xfffc) {
          actions.push({ type: "output", port, maxLen: 0 });
        }
      }
    }
  }
  return flowMod("modify_strict", match, actions, {
    tableId: a.table,
    priority: a.priority,
    newCookie: a.cookie,
    modifyCookie: a.cookie !== 0xffffffffffffffffn,
    idleTimeout: a.idle,
    hardTimeout: a.hard,
    flags: {
      sendFlowRem: (a.flags & 1) !== 0, checkOverlap: false, resetCounts: false, noPacketCounts: false,
      noByteCounts: false, noReadonly: false,
    },
  });
}

/** "Learn limit ... reached" at most once a minute after a burst of five, as OVS. */
const LIMIT_RL = new VlogRateLimit(1, 5);
const log = vlogModule("ofproto");

/** A u64 cookie with its bytes reversed: OVS prints the limit message's cookie in network order as a host number. */
function cookieAsOvsLogs(c: bigint): bigint {
  let out = 0n;
  for (let i = 0; i < 8; i++) {
    out = (out << 8n) | (c & 0xffn);
    c >>= 8n;
  }
  return out;
}

/**
 * Whether the flow `fm` describes is in its table already, unchanged
 * (OVS then only refreshes it, whatever the limit says).
 */
function alreadyLearned(ctx: XlateCtx, fm: OfproFlowMod<OfpAction[]>): boolean {
  const s = ctx.bridge.ofproto.tables.select({ tableId: fm.tableId, match: fm.match, strict: true, priority: fm.priority });
  if (!s.ok || s.rules.length === 0) return false;
  const r = s.rules[0]!;
  return (
    r.idleTimeout === fm.idleTimeout &&
    r.hardTimeout === fm.hardTimeout &&
    r.importance === fm.importance &&
    r.flags.sendFlowRem === fm.flags.sendFlowRem &&
    (!fm.modifyCookie || r.cookie === fm.newCookie) &&
    formatActions(r.actions as OfpAction[]) === formatActions(fm.actions)
  );
}

/** Whether `limit` allows the learned flow: fewer than `limit` flows with its cookie in its table. */
function belowLimit(ctx: XlateCtx, fm: OfproFlowMod<OfpAction[]>, limit: number): boolean {
  const cookie = fm.newCookie ?? 0n;
  const s = ctx.bridge.ofproto.tables.select({ tableId: fm.tableId, match: new Match(), cookie, cookieMask: 0xffffffffffffffffn });
  return !s.ok || s.rules.length < limit;
}

/** Translates one learn action. */
export function xlateLearn(ctx: XlateCtx, a: Learn): void {
  for (const s of a.specs) if (s.src !== null) maskSubfield(ctx.wc, s.src);
  // Revalidation (no side effects, but not a trace) still writes
  // result_dst: success unless a limit applies and the flow is not in
  // its table already.
  if (!ctx.sideEffects && !ctx.revalidating) {
    ctx.add("warn", "suppressing side effects, so learn action ignored");
    return;
  }
  const fm = learnFlowMod(ctx, a);
  if (ctx.trace !== null) {
    let s = `table=${fm.tableId} `;
    const mt = formatMatch(fm.match);
    s += mt === "" ? "" : mt;
    s = s.trimEnd();
    s += ` priority=${fm.priority}`;
    if (fm.newCookie !== null && fm.newCookie !== 0n) s += ` cookie=0x${fm.newCookie.toString(16)}`;
    if (fm.idleTimeout !== 0) s += ` idle=${fm.idleTimeout}`;
    if (fm.hardTimeout !== 0) s += ` hard=${fm.hardTimeout}`;
    if (fm.flags.sendFlowRem) s += " send_flow_rem";
    s += ` actions=${fm.actions.length === 0 ? "drop" : formatActions(fm.actions)}`;
    ctx.add("detail", s);
  }
  let success = true;
  if (a.limit !== 0 && !alreadyLearned(ctx, fm)) {
    success = ctx.sideEffects && belowLimit(ctx, fm, a.limit);
    if (!success && ctx.sideEffects) log.logRl(LIMIT_RL, "info", `Learn limit for flow ${cookieAsOvsLogs(fm.newCookie ?? 0n)} reached.`);
  }
  if (a.resultDst !== null) {
    writeSubfield(ctx.flow, ctx.wc, a.resultDst, success ? 1n : 0n);
    reportSubfield(ctx, a.resultDst);
  }
  if (!success) {
    ctx.add("detail", "Limit exceeded, learn failed");
    return;
  }
  if (ctx.sideEffects) {
    const ofproto = ctx.bridge.ofproto;
    const now = ctx.bridge.now();
    // Learned flows replace (modify_strict) or add; an add is needed when nothing matches exactly.
    ctx.deferred.push(() => {
      const add = { ...fm, command: "add" as const, newCookie: fm.newCookie ?? 0n };
      const existing = ofproto.tables.select({ tableId: fm.tableId, match: fm.match, strict: true, priority: fm.priority });
      const r = ofproto.tables.flowMod(existing.ok && existing.rules.length > 0 ? fm : add, now);
      if (r.ok) ofproto.sendFlowRemoved(r.removed, now);
    });
  }
}
