/**
 * Flow messages: flow_mod (OpenFlow 1.0, Nicira NXT_FLOW_MOD, OpenFlow
 * 1.1+), flow and aggregate statistics requests (OFPST and NXST forms) and
 * aggregate replies. Bodies are version free, in OVS's `ofputil_flow_mod`
 * terms (cookie / cookie_mask / new_cookie, ports in the 16-bit space,
 * flags as OFPUTIL_FF_* bits), so one body encodes into any protocol; the
 * codecs apply each version's cookie, table and flag rules both ways and
 * print as `ovs-ofctl ofp-print`.
 */
import { OfpReader, OfpWriter } from "./ofp-buffer.js";
import {
  decodeEntries, bitNames, type BodyCodec, type CodecContext, fail, withPartial, formatMac, formatPort, isDecodeError, OFPP_NONE, portFromOfp11, portToOfp11, type DecodeError } from "./ofp-codec.js";
import { flowModMatchError, Match, mfArePrereqsOk } from "./match.js";
import { mfFromName } from "./meta-flow.js";
import { formatMatch, normalizeMatchLogged } from "./match-format.js";
import { decodeNxRaw, decodeOxmMatch, nxMatchToString, putNxRaw, putOxmMatch } from "./nx-match.js";
import { decodeOfp10Match, decodeOfp11Match, encodeOfp10Match, encodeOfp11Match, OFP11_MATCH_LEN, OFPFW10_ALL } from "./ofp-match.js";
import type { OfpAction } from "./ofp-actions.js";
import { OFPG_ANY } from "./ofp-stats.js";
import { decodeActions, decodeInstructions, decodeInstructionsShared, encodeActions, encodeInstructions, formatActions, putInstructions, verifyInstructionOrder } from "./ofp-actions-codec.js";
import { isTextError } from "./ofp-actions-util.js";
import { checkActionsAgainstFlow } from "./ofp-actions-check.js";

export const OFPFC_ADD = 0;
export const OFPFC_MODIFY = 1;
export const OFPFC_MODIFY_STRICT = 2;
export const OFPFC_DELETE = 3;
export const OFPFC_DELETE_STRICT = 4;
export const OFP_DEFAULT_PRIORITY = 0x8000;
export const OFPTT_ALL = 0xff;
export const COOKIE_NONE = 0xffffffffffffffffn;

/** Version-free flow_mod flags (OVS's OFPUTIL_FF_*). */
export const FF_SEND_FLOW_REM = 1 << 0;
export const FF_CHECK_OVERLAP = 1 << 1;
export const FF_RESET_COUNTS = 1 << 2;
export const FF_NO_PKT_COUNTS = 1 << 3;
export const FF_NO_BYT_COUNTS = 1 << 4;
export const FF_EMERG = 1 << 5;

/** Wire bit, flag, and versions it exists in. */
const FLAG_BITS: readonly [number, number, number, number][] = [
  [1, FF_SEND_FLOW_REM, 1, 99],
  [2, FF_CHECK_OVERLAP, 1, 99],
  [4, FF_EMERG, 1, 1],
  [4, FF_RESET_COUNTS, 3, 99],
  [8, FF_NO_PKT_COUNTS, 4, 99],
  [16, FF_NO_BYT_COUNTS, 4, 99],
];

export function encodeFlowFlags(flags: number, version: number): number {
  let raw = 0;
  // Indexed loops: these run per flow_mod and per flow of a dump.
  for (let i = 0; i < FLAG_BITS.length; i++) {
    const e = FLAG_BITS[i]!;
    if (flags & e[1] && version >= e[2] && version <= e[3]) raw |= e[0];
  }
  return raw;
}

/** Wire flags to OFPUTIL_FF_* bits; command -1 for flow stats (no implied reset_counts). */
export function decodeFlowFlags(raw: number, command: number, version: number): number | DecodeError {
  let flags = 0;
  for (let i = 0; i < FLAG_BITS.length; i++) {
    const e = FLAG_BITS[i]!;
    if (raw & e[0] && version >= e[2] && version <= e[3]) {
      raw &= ~e[0];
      flags |= e[1];
    }
  }
  if ((version === 1 || version === 2) && command === OFPFC_ADD) flags |= FF_RESET_COUNTS;
  return raw ? fail("OFPFMFC_BAD_FLAGS") : flags;
}

function flagsText(flags: number): string {
  let s = "";
  if (flags & FF_SEND_FLOW_REM) s += "send_flow_rem ";
  if (flags & FF_CHECK_OVERLAP) s += "check_overlap ";
  if (flags & FF_RESET_COUNTS) s += "reset_counts ";
  if (flags & FF_NO_PKT_COUNTS) s += "no_packet_counts ";
  if (flags & FF_NO_BYT_COUNTS) s += "no_byte_counts ";
  return s;
}

/** The match with its priority first, as OVS's match_format. */
export function formatMatchWithPriority(m: Match, priority: number): string {
  const parts: string[] = [];
  if (priority !== OFP_DEFAULT_PRIORITY) parts.push(`priority=${priority}`);
  const t = formatMatch(m);
  if (t !== "") parts.push(t);
  return parts.join(",");
}

/* ---------------- matches per wire format ---------------- */

const NXM_NX_COOKIE = 0x00013c08;
const NXM_NX_COOKIE_W = 0x00013d10;

export interface NxPulled {
  match: Match;
  cookie: bigint;
  cookieMask: bigint;
}

/** Whether the entries of `b` (walked as pullNxMatch walks them) include a cookie entry. */
function hasCookieEntry(b: Uint8Array): boolean {
  let o = 0;
  while (o + 4 <= b.length) {
    const h = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    const hl = h >>> 16 === 0xffff ? 8 : 4;
    const plen = h & 0xff;
    if (plen === 0 || o + hl + plen > b.length) return false;
    if (h === NXM_NX_COOKIE || h === NXM_NX_COOKIE_W) return true;
    o += hl + plen;
  }
  return false;
}

/** OVS's nx_pull_match: `len` bytes of NXM (with an optional cookie entry) plus padding to 8. */
function pullNxMatch(r: OfpReader, len: number, strict: boolean): NxPulled | DecodeError {
  const padded = (len + 7) & ~7;
  if (padded > r.remaining) return fail("OFPBMC_BAD_LEN");
  const b = r.bytesView(padded).subarray(0, len);
  // Most matches have no cookie entry: decode them in place.
  if (!hasCookieEntry(b)) {
    const m = decodeNxRaw(b, strict);
    if (isDecodeError(m)) return m;
    return { match: m, cookie: 0n, cookieMask: 0n };
  }
  // Take the cookie entries out: they are not fields of the match.
  const parts: Uint8Array[] = [];
  let cookie = 0n;
  let cookieMask = 0n;
  let o = 0;
  while (o + 4 <= b.length) {
    const dv = new DataView(b.buffer, b.byteOffset + o);
    const h = dv.getUint32(0);
    const cls = h >>> 16;
    const hl = cls === 0xffff ? 8 : 4;
    const plen = h & 0xff;
    if (plen === 0 || o + hl + plen > b.length) break;
    if (h === NXM_NX_COOKIE || h === NXM_NX_COOKIE_W) {
      if (cookieMask !== 0n) return fail("OFPBMC_DUP_FIELD");
      cookie = dv.getBigUint64(4);
      cookieMask = h === NXM_NX_COOKIE ? COOKIE_NONE : dv.getBigUint64(12);
      if ((cookie & ~cookieMask) !== 0n) return fail("OFPBMC_BAD_WILDCARDS");
    } else {
      parts.push(b.subarray(o, o + hl + plen));
    }
    o += hl + plen;
  }
  if (o < b.length) parts.push(b.subarray(o));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const m = decodeNxRaw(all, strict);
  if (isDecodeError(m)) return m;
  return { match: m, cookie, cookieMask };
}

/** nx_pull_match over bytes `b` (padded to 8): the match and any cookie entry. */
export function pullNxMatchBytes(b: Uint8Array, len: number, strict: boolean): NxPulled | DecodeError {
  return pullNxMatch(new OfpReader(b), len, strict);
}

/**
 * Writes NXM for `m` with an optional cookie entry, padded to 8 bytes, at
 * the writer's end, in place; returns the unpadded match_len.
 */
export function putNxMatch(w: OfpWriter, m: Match, cookie: bigint, cookieMask: bigint, maskKey: object | null = null): number {
  const start = w.length;
  putNxRaw(w, m, 0, maskKey);
  if (cookieMask !== 0n) {
    const masked = cookieMask !== COOKIE_NONE;
    w.u32(masked ? NXM_NX_COOKIE_W : NXM_NX_COOKIE).u64(cookie & cookieMask);
    if (masked) w.u64(cookieMask);
  }
  const length = w.length - start;
  w.padTo(8, start);
  return length;
}

/** NXM bytes for `m` with an optional cookie entry (match_len unpadded, bytes padded). */
export function nxMatchBytes(m: Match, cookie: bigint, cookieMask: bigint): { bytes: Uint8Array; length: number } {
  const w = new OfpWriter(256);
  const length = putNxMatch(w, m, cookie, cookieMask);
  return { bytes: w.finish(), length };
}

/** OVS's ofputil_pull_ofp11_match: a standard OF1.1 match or an OXM match. */
export function pullOfp11Match(r: OfpReader, strict: boolean): Match | DecodeError {
  if (r.remaining < 4) return fail("OFPBMC_BAD_LEN");
  const d = r.data;
  const type = (d[r.pos]! << 8) | d[r.pos + 1]!;
  const len = (d[r.pos + 2]! << 8) | d[r.pos + 3]!;
  if (type === 0) {
    if (len !== OFP11_MATCH_LEN || r.remaining < OFP11_MATCH_LEN) return fail("OFPBMC_BAD_LEN");
    return decodeOfp11Match(r.bytes(OFP11_MATCH_LEN));
  }
  if (type !== 1) return fail("OFPBMC_BAD_TYPE");
  const res = decodeOxmMatch(r.data.subarray(r.pos, r.end), strict);
  if (isDecodeError(res)) return res;
  r.skip(res.consumed);
  return res.match;
}

export function putOfp11Match(w: OfpWriter, m: Match, version: number, maskKey: object | null = null): void {
  if (version === 2) w.bytes(encodeOfp11Match(m));
  else putOxmMatch(w, m, version, maskKey);
}

/**
 * Encodings of action lists remembered during `withActionsMemo` (null
 * outside): a flow dump meets the same list object many times, as rules
 * share decoded lists, and writes its bytes once per list.
 */
let actionsMemo: ActionsMemo | null = null;
let actionsMemoVersion = 0;

/**
 * Encoded action lists by list identity, and the last one met (a dump
 * meets a table's rules, which often share one list, in a row: that one
 * needs no map lookup).
 */
export class ActionsMemo {
  readonly bytes = new Map<readonly OfpAction[], Uint8Array>();
  lastActions: readonly OfpAction[] | null = null;
  lastBytes: Uint8Array | undefined = undefined;

  get(actions: readonly OfpAction[]): Uint8Array | undefined {
    if (actions === this.lastActions) return this.lastBytes;
    const b = this.bytes.get(actions);
    if (b !== undefined) {
      this.lastActions = actions;
      this.lastBytes = b;
    }
    return b;
  }
}

export function newActionsMemo(): ActionsMemo {
  return new ActionsMemo();
}

/**
 * Runs `work` (encodings of one version) with action encodings remembered
 * by list identity in `memo` (a fresh one unless given: a reply encoded in
 * parts passes the same one to each).
 */
export function withActionsMemo<T>(version: number, work: { run(): T }, memo: ActionsMemo = newActionsMemo()): T {
  const outer = actionsMemo;
  const outerVersion = actionsMemoVersion;
  actionsMemo = memo;
  actionsMemoVersion = version;
  try {
    return work.run();
  } finally {
    actionsMemo = outer;
    actionsMemoVersion = outerVersion;
  }
}

/** Writes the actions/instructions at the end of `w`, in place; throws when `version` cannot carry them. */
export function putActionsOrThrow(w: OfpWriter, actions: readonly OfpAction[], version: number): void {
  const memo = actionsMemo !== null && version === actionsMemoVersion ? actionsMemo : null;
  const known = memo?.get(actions);
  if (known !== undefined) {
    w.bytes(known);
    return;
  }
  const start = w.length;
  const e = putInstructions(w, actions, version);
  if (e !== null) throw new RangeError(e.error);
  // Bounded: past a few thousand distinct lists, most are a rule's own.
  if (memo !== null && memo.bytes.size < ACTIONS_MEMO_MAX) memo.bytes.set(actions, w.buffer.slice(start, w.length));
}

/** How many encodings one memo keeps. */
const ACTIONS_MEMO_MAX = 4096;

export function encodeActionsOrThrow(actions: readonly OfpAction[], version: number): Uint8Array {
  const b = encodeInstructions(actions, version);
  if (isTextError(b)) throw new RangeError(b.error);
  return b;
}

/* ---------------- flow_mod ---------------- */

export interface FlowModBody {
  command: number;
  /** 255: none given (OpenFlow 1.0 without the table-id extension). */
  tableId: number;
  match: Match;
  priority: number;
  /** Cookie to match (with cookieMask) for modify/delete. */
  cookie: bigint;
  cookieMask: bigint;
  /** Cookie to set; COOKIE_NONE for "leave unchanged". */
  newCookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  importance: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  /** OFPUTIL_FF_* bits. */
  flags: number;
  actions: OfpAction[];
  /**
   * OpenFlow 1.0 forms only: true puts the table in the command's high
   * byte even when it is 255 (the table-id extension is on); by default
   * table 255 means "not given".
   */
  tid?: boolean;
}

const isModify = (c: number): boolean => c === OFPFC_MODIFY || c === OFPFC_MODIFY_STRICT;
const isDelete = (c: number): boolean => c === OFPFC_DELETE || c === OFPFC_DELETE_STRICT;

/** The checks every flow_mod form shares after its fixed part and match. */
function finishFlowMod(fm: FlowModBody, rawFlags: number, r: OfpReader, version: number): FlowModBody | DecodeError {
  const inconsistent = flowModMatchError(fm.match);
  if (inconsistent) return fail(inconsistent);
  if (fm.command > OFPFC_DELETE_STRICT) return fail("OFPFMFC_BAD_COMMAND");
  // A view of the message (decoders copy what they keep).
  const actions = decodeInstructionsShared(r.bytesView(r.remaining), version);
  if (isDecodeError(actions)) return actions;
  fm.actions = actions;
  // An OpenFlow 1.0 list carries instructions as actions: they must come last, in order.
  if (version === 1 && verifyInstructionOrder(actions)) return fail("OFPBAC_UNSUPPORTED_ORDER");
  const flags = decodeFlowFlags(rawFlags, fm.command, version);
  if (isDecodeError(flags)) return flags;
  fm.flags = flags;
  if (flags & FF_EMERG) return fail(fm.hardTimeout || fm.idleTimeout ? "OFPFMFC_BAD_EMERG_TIMEOUT" : "OFPFMFC_TABLE_FULL");
  // OVS decodes with the version's own protocol: only OpenFlow 1.0 (and NXM in it) tolerates inconsistent actions.
  const chk = checkActionsAgainstFlow(fm.actions, { match: fm.match, tableId: fm.tableId, of10: version === 1 });
  if (chk) return fail(chk);
  return fm;
}

/**
 * The match of a flow_mod as it came on the wire, kept (not enumerable, so
 * it takes no part in comparisons of bodies) for the raw forms ofp-print
 * shows at verbosity 3 and up.
 */
const RAW_MATCH = Symbol("rawMatch");
type WithRawMatch = FlowModBody & { [RAW_MATCH]?: Uint8Array };

function keepRawMatch(fm: FlowModBody, bytes: Uint8Array, ctx: CodecContext): void {
  // Only printing at verbosity 3+ shows it (ofp-print decodes with its
  // verbosity): a switch decoding flow_mods does not pay for the copy.
  if (ctx.verbosity < 3) return;
  Object.defineProperty(fm, RAW_MATCH, { value: bytes.slice(), enumerable: false });
}

/* OpenFlow 1.0 wildcard bits, for the raw form of an ofp10_match. */
const W10_IN_PORT = 1 << 0;
const W10_DL_VLAN = 1 << 1;
const W10_DL_SRC = 1 << 2;
const W10_DL_DST = 1 << 3;
const W10_DL_TYPE = 1 << 4;
const W10_NW_PROTO = 1 << 5;
const W10_TP_SRC = 1 << 6;
const W10_TP_DST = 1 << 7;
const W10_DL_VLAN_PCP = 1 << 20;
const W10_NW_TOS = 1 << 21;

const IP_PROTO_SHORTHAND: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp", 132: "sctp" };
const ETH_TYPE_SHORTHAND: Readonly<Record<number, string>> = { 0x0806: "arp", 0x8035: "rarp", 0x8847: "mpls", 0x8848: "mplsm" };

/**
 * The 40-byte OpenFlow 1.0 match, field by field as it is on the wire
 * (wildcarded fields as `*`), as ofp-print shows a flow_mod's match at
 * verbosity 3 and up.
 */
export function ofp10MatchToString(b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = dv.getUint32(0);
  const dlType = dv.getUint16(22);
  const nwProto = b[25]!;
  const items: string[] = [];
  let typeShown = false;
  let protoShown = false;
  if (!(w & W10_DL_TYPE)) {
    if (dlType === 0x0800) {
      typeShown = true;
      const short = w & W10_NW_PROTO ? undefined : IP_PROTO_SHORTHAND[nwProto];
      items.push(short ?? "ip");
      protoShown = short !== undefined;
    } else if (ETH_TYPE_SHORTHAND[dlType] !== undefined) {
      typeShown = true;
      items.push(ETH_TYPE_SHORTHAND[dlType]!);
    }
  }
  const field = (name: string, wild: number, value: () => string): void => {
    items.push(`${name}=${w & wild ? "*" : value()}`);
  };
  const ipField = (name: string, shift: number, at: number): void => {
    const bits = (w >>> shift) & 0x3f;
    if (bits >= 32) {
      items.push(`${name}=*`);
      return;
    }
    const ip = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    items.push(`${name}=${ip}${bits ? `/${32 - bits}` : ""}`);
  };
  field("in_port", W10_IN_PORT, () => formatPort(dv.getUint16(4)));
  field("dl_vlan", W10_DL_VLAN, () => String(dv.getUint16(18)));
  field("dl_vlan_pcp", W10_DL_VLAN_PCP, () => String(b[20]!));
  field("dl_src", W10_DL_SRC, () => formatMac(b.subarray(6, 12)));
  field("dl_dst", W10_DL_DST, () => formatMac(b.subarray(12, 18)));
  if (!typeShown) field("dl_type", W10_DL_TYPE, () => `0x${dlType.toString(16).padStart(4, "0")}`);
  ipField("nw_src", 8, 28);
  ipField("nw_dst", 14, 32);
  if (!protoShown) field(dlType === 0x0806 || dlType === 0x8035 ? "arp_op" : "nw_proto", W10_NW_PROTO, () => String(nwProto));
  field("nw_tos", W10_NW_TOS, () => String(b[24]!));
  const icmp = nwProto === 1;
  field(icmp ? "icmp_type" : "tp_src", W10_TP_SRC, () => String(dv.getUint16(36)));
  field(icmp ? "icmp_code" : "tp_dst", W10_TP_DST, () => String(dv.getUint16(38)));
  return items.join(",");
}

/**
 * nxMatchToString as ofp-print shows a flow_mod's NXM: the flow cookie's
 * header shares its class and field number with NXM_NX_MPLS_TTL (a 1-byte
 * field), so an 8-byte value under that name is the cookie; and
 * tun_metadata values show as zeros (OVS reads them through a tunnel
 * metadata map ofp-print does not have).
 */
function flowModNxmToString(b: Uint8Array): string {
  return nxMatchToString(b)
    .replace(/NXM_NX_MPLS_TTL(_W)?\(([0-9a-f]{16})([/)])/g, "NXM_NX_COOKIE$1($2$3")
    .replace(/(NXM_NX_TUN_METADATA\d+(?:_W)?\()([0-9a-f/]*)\)/g, (_, name: string, v: string) => `${name}${v.replace(/[0-9a-f]/g, "0")})`);
}

/**
 * The raw form of a flow_mod's match ofp-print shows at verbosity 3 and up
 * (NXM entries, or the OpenFlow 1.0 fields), or null where it shows the
 * parsed match.
 */
function rawFlowModMatch(fm: FlowModBody, ctx: CodecContext): string | null {
  if (ctx.verbosity < 3) return null;
  const raw = (fm as WithRawMatch)[RAW_MATCH];
  if (ctx.type === "NXT_FLOW_MOD") {
    let bytes = raw;
    if (bytes === undefined) {
      const nm = nxMatchBytes(fm.match, fm.cookie, fm.cookieMask);
      bytes = nm.bytes.subarray(0, nm.length);
    }
    return flowModNxmToString(bytes);
  }
  if (ctx.type === "OFPT_FLOW_MOD" && ctx.version === 1) return ofp10MatchToString(raw ?? encodeOfp10Match(fm.match));
  return null;
}

function printFlowMod(fm: FlowModBody, ctx: CodecContext): string {
  const cmd = ["ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"][fm.command] ?? `cmd:${fm.command}`;
  let s = ` ${cmd}`;
  if (fm.tableId !== 0) s += ` table:${fm.tableId}`;
  const raw = rawFlowModMatch(fm, ctx);
  s += " " + (raw ?? formatMatchWithPriority(fm.match, fm.priority));
  if (!s.endsWith(" ")) s += " ";
  if (fm.newCookie !== 0n && fm.newCookie !== COOKIE_NONE) s += `cookie:0x${fm.newCookie.toString(16)} `;
  if (fm.cookieMask !== 0n) s += `cookie:0x${fm.cookie.toString(16)}/0x${fm.cookieMask.toString(16)} `;
  if (fm.idleTimeout) s += `idle:${fm.idleTimeout} `;
  if (fm.hardTimeout) s += `hard:${fm.hardTimeout} `;
  if (fm.importance) s += `importance:${fm.importance} `;
  // The raw forms carry no priority: it follows on its own.
  if (raw !== null && fm.priority !== OFP_DEFAULT_PRIORITY) s += `pri:${fm.priority} `;
  if (fm.bufferId !== 0xffffffff) s += `buf:0x${fm.bufferId.toString(16)} `;
  if (fm.outPort !== OFPP_NONE) s += `out_port:${formatPort(fm.outPort)} `;
  let flags = fm.flags;
  if (ctx.version <= 2) flags &= ~FF_RESET_COUNTS;
  s += flagsText(flags);
  return s + "actions=" + formatActions(fm.actions);
}

/** The match a decoder's blank flow_mod holds until it decodes the real one (never changed). */
const NO_MATCH_YET = new Match();

function blankFlowMod(): FlowModBody {
  return {
    command: 0, tableId: 0, match: NO_MATCH_YET, priority: OFP_DEFAULT_PRIORITY, cookie: 0n, cookieMask: 0n, newCookie: 0n,
    idleTimeout: 0, hardTimeout: 0, importance: 0, bufferId: 0xffffffff, outPort: OFPP_NONE, outGroup: OFPG_ANY, flags: 0, actions: [],
  };
}

/** The OpenFlow 1.0 `command` with the table in its high byte (the table-id extension). */
function tidCommand(fm: FlowModBody): number {
  return fm.tableId === OFPTT_ALL && !fm.tid ? fm.command : (fm.command & 0xff) | (fm.tableId << 8);
}

/** OFPT_FLOW_MOD in OpenFlow 1.0. */
export const OFP10_FLOW_MOD_CODEC: BodyCodec<FlowModBody> = {
  decode(r, ctx) {
    const mb = r.bytes(40);
    const wildcards = new DataView(mb.buffer, mb.byteOffset).getUint32(0);
    const m = decodeOfp10Match(mb);
    if (isDecodeError(m)) return m;
    normalizeMatchLogged(m, true);
    const fm = blankFlowMod();
    fm.match = m;
    keepRawMatch(fm, mb, ctx);
    fm.newCookie = r.u64();
    const command = r.u16();
    fm.idleTimeout = r.u16();
    fm.hardTimeout = r.u16();
    const pri = r.u16();
    fm.priority = wildcards & OFPFW10_ALL ? pri : 0xffff;
    fm.bufferId = r.u32();
    fm.outPort = r.u16();
    const rawFlags = r.u16();
    fm.command = command & 0xff;
    fm.tableId = command >> 8;
    return finishFlowMod(fm, rawFlags, r, ctx.version);
  },
  encode(w, fm, ctx) {
    w.bytes(encodeOfp10Match(fm.match));
    w.u64(fm.newCookie === COOKIE_NONE ? COOKIE_NONE : fm.newCookie);
    w.u16(tidCommand(fm)).u16(fm.idleTimeout).u16(fm.hardTimeout).u16(fm.priority).u32(fm.bufferId).u16(fm.outPort);
    w.u16(encodeFlowFlags(fm.flags, 1));
    putActionsOrThrow(w, fm.actions, ctx.version);
  },
  print: printFlowMod,
};

/** NXT_FLOW_MOD (Nicira, any version). */
export const NX_FLOW_MOD_CODEC: BodyCodec<FlowModBody> = {
  decode(r, ctx) {
    const fm = blankFlowMod();
    fm.newCookie = r.u64();
    const command = r.u16();
    fm.idleTimeout = r.u16();
    fm.hardTimeout = r.u16();
    fm.priority = r.u16();
    fm.bufferId = r.u32();
    fm.outPort = r.u16();
    const rawFlags = r.u16();
    const matchLen = r.u16();
    r.skip(6);
    const matchAt = r.pos;
    const pm = pullNxMatch(r, matchLen, true);
    if (isDecodeError(pm)) return pm;
    keepRawMatch(fm, r.data.subarray(matchAt, matchAt + matchLen), ctx);
    fm.match = pm.match;
    fm.cookie = pm.cookie;
    fm.cookieMask = pm.cookieMask;
    if ((command & 0xff) === OFPFC_ADD && fm.cookieMask) return fail("NXBRC_NXM_INVALID");
    fm.command = command & 0xff;
    fm.tableId = command >> 8;
    return finishFlowMod(fm, rawFlags, r, ctx.version);
  },
  encode(w, fm, ctx) {
    w.u64(fm.newCookie).u16(tidCommand(fm)).u16(fm.idleTimeout).u16(fm.hardTimeout).u16(fm.priority).u32(fm.bufferId);
    w.u16(fm.outPort).u16(encodeFlowFlags(fm.flags, ctx.version));
    const lenAt = w.length;
    w.u16(0).zeros(6);
    w.setU16(lenAt, putNxMatch(w, fm.match, fm.cookie, fm.cookieMask));
    putActionsOrThrow(w, fm.actions, ctx.version);
  },
  print: printFlowMod,
};

/** OFPT_FLOW_MOD in OpenFlow 1.1 and later. */
export const OFP11_FLOW_MOD_CODEC: BodyCodec<FlowModBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    const fm = blankFlowMod();
    const cookie = r.u64();
    const cookieMask = r.u64();
    const tableId = r.u8();
    const command = r.u8();
    fm.idleTimeout = r.u16();
    fm.hardTimeout = r.u16();
    fm.priority = r.u16();
    fm.bufferId = r.u32();
    const outPort = r.u32();
    const outGroup = r.u32();
    const rawFlags = r.u16();
    const importance = r.u16();
    const m = pullOfp11Match(r, true);
    if (isDecodeError(m)) return m;
    fm.match = m;
    if (command === OFPFC_ADD || (v === 2 && isModify(command) && cookieMask === 0n)) {
      fm.newCookie = cookie;
    } else {
      fm.cookie = cookie;
      fm.cookieMask = cookieMask;
      fm.newCookie = COOKIE_NONE;
    }
    fm.command = command;
    fm.tableId = tableId;
    if (tableId === OFPTT_ALL && (v === 2 || !isDelete(command))) return fail("OFPFMFC_BAD_TABLE_ID");
    fm.importance = v >= 5 && command === OFPFC_ADD ? importance : 0;
    const p = portFromOfp11(outPort);
    if (isDecodeError(p)) return p;
    fm.outPort = p;
    fm.outGroup = isDelete(command) ? outGroup : OFPG_ANY;
    return finishFlowMod(fm, rawFlags, r, v);
  },
  encode(w, fm, ctx) {
    const v = ctx.version;
    const plain = (v === 2 && isModify(fm.command) && fm.cookieMask === 0n) || fm.command === OFPFC_ADD;
    w.u64(plain ? fm.newCookie : fm.cookie & fm.cookieMask).u64(fm.cookieMask);
    const table = fm.tableId !== OFPTT_ALL || (v !== 2 && isDelete(fm.command)) ? fm.tableId : 0;
    w.u8(table).u8(fm.command).u16(fm.idleTimeout).u16(fm.hardTimeout).u16(fm.priority).u32(fm.bufferId);
    w.u32(portToOfp11(fm.outPort)).u32(fm.outGroup).u16(encodeFlowFlags(fm.flags, v));
    w.u16(v >= 5 && fm.command === OFPFC_ADD ? fm.importance : 0);
    putOfp11Match(w, fm.match, v);
    putActionsOrThrow(w, fm.actions, v);
  },
  print: printFlowMod,
};

/* ---------------- flow and aggregate stats requests ---------------- */

export interface FlowStatsRequestBody {
  match: Match;
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
}

function printFlowStatsRequest(b: FlowStatsRequestBody): string {
  let s = "";
  if (b.tableId !== 0xff) s += ` table=${b.tableId}`;
  if (b.outPort !== OFPP_NONE) s += ` out_port=${formatPort(b.outPort)}`;
  const m = formatMatchWithPriority(b.match, OFP_DEFAULT_PRIORITY);
  return m === "" ? s : `${s} ${m}`;
}

export const OFP10_FLOW_STATS_REQUEST_CODEC: BodyCodec<FlowStatsRequestBody> = {
  decode(r) {
    const m = decodeOfp10Match(r.bytes(40));
    if (isDecodeError(m)) return m;
    const tableId = r.u8();
    r.skip(1);
    const outPort = r.u16();
    return { match: m, tableId, outPort, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n };
  },
  encode(w, b) {
    w.bytes(encodeOfp10Match(b.match)).u8(b.tableId).zeros(1).u16(b.outPort);
  },
  print: printFlowStatsRequest,
};

export const OFP11_FLOW_STATS_REQUEST_CODEC: BodyCodec<FlowStatsRequestBody> = {
  decode(r) {
    const tableId = r.u8();
    r.skip(3);
    const op = portFromOfp11(r.u32());
    if (isDecodeError(op)) return op;
    const outGroup = r.u32();
    r.skip(4);
    const cookie = r.u64();
    const cookieMask = r.u64();
    const m = pullOfp11Match(r, true);
    if (isDecodeError(m)) return m;
    return { match: m, tableId, outPort: op, outGroup, cookie, cookieMask };
  },
  encode(w, b, ctx) {
    w.u8(b.tableId).zeros(3).u32(portToOfp11(b.outPort)).u32(b.outGroup).zeros(4).u64(b.cookie).u64(b.cookieMask);
    putOfp11Match(w, b.match, ctx.version);
  },
  print: printFlowStatsRequest,
};

export const NX_FLOW_STATS_REQUEST_CODEC: BodyCodec<FlowStatsRequestBody> = {
  decode(r) {
    const outPort = r.u16();
    const matchLen = r.u16();
    const tableId = r.u8();
    r.skip(3);
    const pm = pullNxMatch(r, matchLen, true);
    if (isDecodeError(pm)) return pm;
    if (r.remaining) return fail("OFPBRC_BAD_LEN");
    return { match: pm.match, tableId, outPort, outGroup: OFPG_ANY, cookie: pm.cookie, cookieMask: pm.cookieMask };
  },
  encode(w, b) {
    const nm = nxMatchBytes(b.match, b.cookie, b.cookieMask);
    w.u16(b.outPort).u16(nm.length).u8(b.tableId).zeros(3).bytes(nm.bytes);
  },
  print: printFlowStatsRequest,
};

export interface AggregateReplyBody {
  packetCount: bigint;
  byteCount: bigint;
  flowCount: number;
}

export const AGGREGATE_REPLY_CODEC: BodyCodec<AggregateReplyBody> = {
  decode(r) {
    const packetCount = r.u64();
    const byteCount = r.u64();
    const flowCount = r.u32();
    r.skip(4);
    return { packetCount, byteCount, flowCount };
  },
  encode(w, b) {
    w.u64(b.packetCount).u64(b.byteCount).u32(b.flowCount).zeros(4);
  },
  print: (b) => ` packet_count=${b.packetCount} byte_count=${b.byteCount} flow_count=${b.flowCount}`,
};

/* ---------------- flow statistics replies ---------------- */

export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  /** OFPUTIL_FF_* bits (OpenFlow 1.3+ only). */
  flags: number;
  importance: number;
  /** Seconds since last use / since added or modified; -1 when unknown (NXST only). */
  idleAge: number;
  hardAge: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  /**
   * An object standing for the match's mask, the same for every entry with
   * that mask (a classifier subtable's): the encoder then works the mask's
   * NXM/OXM entries out once (see putNxRaw). Absent or null: unknown.
   */
  maskKey?: object | null;
  actions: OfpAction[];
}

export interface FlowStatsReplyBody {
  stats: FlowStats[];
}

export function flowStatsText(fs: FlowStats): string {
  let s = `cookie=0x${fs.cookie.toString(16)}, duration=${durationText(fs.durationSec, fs.durationNsec)}, table=${fs.tableId}, `;
  const count = (c: bigint): string => (c === 0xffffffffffffffffn ? "?" : String(c));
  s += `n_packets=${count(fs.packetCount)}, n_bytes=${count(fs.byteCount)}, `;
  if (fs.idleTimeout) s += `idle_timeout=${fs.idleTimeout}, `;
  if (fs.hardTimeout) s += `hard_timeout=${fs.hardTimeout}, `;
  if (fs.flags) s += flagsText(fs.flags);
  if (fs.importance) s += `importance=${fs.importance}, `;
  if (fs.idleAge >= 0) s += `idle_age=${fs.idleAge}, `;
  if (fs.hardAge >= 0 && fs.hardAge !== fs.durationSec) s += `hard_age=${fs.hardAge}, `;
  const m = formatMatchWithPriority(fs.match, fs.priority);
  if (m !== "") s += m + " ";
  return s + "actions=" + formatActions(fs.actions);
}

/** OVS's ofp_print_duration: seconds, then milliseconds or the exact fraction. */
export function durationText(sec: number, nsec: number): string {
  let s = String(sec >>> 0);
  if (nsec > 0) {
    const frac = String(nsec).padStart(9, "0");
    s += "." + (nsec % 1_000_000 === 0 ? frac.slice(0, 3) : frac.replace(/0+$/, ""));
  }
  return s + "s";
}

export function printFlowStatsReply(b: FlowStatsReplyBody): string {
  return b.stats.map((fs) => "\n " + flowStatsText(fs)).join("");
}

export function blankStats(): FlowStats {
  return {
    tableId: 0, durationSec: 0, durationNsec: 0, priority: 0, idleTimeout: 0, hardTimeout: 0, flags: 0, importance: 0,
    idleAge: -1, hardAge: -1, cookie: 0n, packetCount: 0n, byteCount: 0n, match: new Match(), actions: [],
  };
}

/** Flow stats entries until the body ends, keeping the good ones on error (ofp-print shows them). */
function decodeFlowStatsEntries(r: OfpReader, one: (r: OfpReader) => FlowStats | DecodeError): FlowStatsReplyBody | DecodeError {
  return decodeEntries(r, one, (stats): FlowStatsReplyBody => ({ stats }));
}

export function pullInstructions(r: OfpReader, len: number, version: number): OfpAction[] | DecodeError {
  // OpenFlow 1.1+ instructions fail as instructions, 1.0 actions as a request.
  const bad = version === 1 ? "OFPBRC_BAD_LEN" : "OFPBIC_BAD_LEN";
  if (len < 0 || len % 8 !== 0 || len > r.remaining) return fail(bad);
  return decodeInstructions(r.bytes(len), version);
}

export const OFP10_FLOW_STATS_REPLY_CODEC: BodyCodec<FlowStatsReplyBody> = {
  decode(r, ctx) {
    return decodeFlowStatsEntries(r, (r) => {
      if (r.remaining < 88) return fail("OFPBRC_BAD_LEN");
      const fs = blankStats();
      const length = r.u16();
      if (length < 88) return fail("OFPBRC_BAD_LEN");
      fs.tableId = r.u8();
      r.skip(1);
      const m = decodeOfp10Match(r.bytes(40));
      if (isDecodeError(m)) return m;
      fs.match = m;
      fs.durationSec = r.u32();
      fs.durationNsec = r.u32();
      fs.priority = r.u16();
      fs.idleTimeout = r.u16();
      fs.hardTimeout = r.u16();
      r.skip(6);
      fs.cookie = r.u64();
      fs.packetCount = r.u64();
      fs.byteCount = r.u64();
      const acts = pullInstructions(r, length - 88, ctx.version);
      if (isDecodeError(acts)) return acts;
      fs.actions = acts;
      return fs;
    });
  },
  encode(w, b, ctx) {
    for (const fs of b.stats) {
      const acts = encodeActionsOrThrow(fs.actions, ctx.version);
      w.u16(88 + acts.length).u8(fs.tableId).zeros(1).bytes(encodeOfp10Match(fs.match));
      w.u32(fs.durationSec).u32(fs.durationNsec).u16(fs.priority).u16(fs.idleTimeout).u16(fs.hardTimeout).zeros(6);
      w.u64(fs.cookie).u64(fs.packetCount).u64(fs.byteCount).bytes(acts);
    }
  },
  print: printFlowStatsReply,
};

export const OFP11_FLOW_STATS_REPLY_CODEC: BodyCodec<FlowStatsReplyBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    return decodeFlowStatsEntries(r, (r) => {
      if (r.remaining < 48) return fail("OFPBRC_BAD_LEN");
      const start = r.pos;
      const fs = blankStats();
      const length = r.u16();
      if (length < 48) return fail("OFPBRC_BAD_LEN");
      fs.tableId = r.u8();
      r.skip(1);
      fs.durationSec = r.u32();
      fs.durationNsec = r.u32();
      fs.priority = r.u16();
      fs.idleTimeout = r.u16();
      fs.hardTimeout = r.u16();
      const rawFlags = r.u16();
      const importance = r.u16();
      r.skip(2);
      fs.cookie = r.u64();
      fs.packetCount = r.u64();
      fs.byteCount = r.u64();
      const m = pullOfp11Match(r, true);
      if (isDecodeError(m)) return m;
      fs.match = m;
      fs.importance = v >= 5 ? importance : 0;
      if (v >= 4) {
        const f = decodeFlowFlags(rawFlags, -1, v);
        if (isDecodeError(f)) return f;
        fs.flags = f;
      }
      const acts = pullInstructions(r, length - (r.pos - start), v);
      if (isDecodeError(acts)) return acts;
      fs.actions = acts;
      return fs;
    });
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    for (const fs of b.stats) {
      const at = putFlowStatsFixed(w, fs);
      w.setU16(at + 18, v >= 4 ? encodeFlowFlags(fs.flags, v) : 0);
      w.setU16(at + 20, v >= 5 ? fs.importance : 0);
      w.setU16(at + 22, 0);
      putOfp11Match(w, fs.match, v, fs.maskKey ?? null);
      putActionsOrThrow(w, fs.actions, v);
      w.setU16(at, w.length - at);
    }
  },
  print: printFlowStatsReply,
};

/**
 * The 48-byte fixed part that ofp11_flow_stats and nx_flow_stats share the
 * layout of, in one reservation (a dump writes 100,000): length (0, set
 * once the entry is whole), table, duration, priority, timeouts, cookie
 * and counters. Bytes 18-23 (flags or match length, and ages or
 * importance) are the caller's. Returns the entry's offset.
 */
function putFlowStatsFixed(w: OfpWriter, fs: FlowStats): number {
  const at = w.alloc(48);
  w.setU16(at, 0);
  w.setU16(at + 2, fs.tableId << 8);
  w.setU32(at + 4, fs.durationSec);
  w.setU32(at + 8, fs.durationNsec);
  w.setU16(at + 12, fs.priority);
  w.setU16(at + 14, fs.idleTimeout);
  w.setU16(at + 16, fs.hardTimeout);
  w.setU64(at + 24, fs.cookie);
  w.setU64(at + 32, fs.packetCount);
  w.setU64(at + 40, fs.byteCount);
  return at;
}

/** An NXST flow age on the wire: 0 unknown, else seconds + 1 (saturating). */
function ageField(a: number): number {
  return a < 0 ? 0 : a < 0xffff ? a + 1 : 0xffff;
}

export const NX_FLOW_STATS_REPLY_CODEC: BodyCodec<FlowStatsReplyBody> = {
  decode(r, ctx) {
    return decodeFlowStatsEntries(r, (r) => {
      if (r.remaining < 48) return fail("OFPBRC_BAD_LEN");
      const fs = blankStats();
      const length = r.u16();
      fs.tableId = r.u8();
      r.skip(1);
      fs.durationSec = r.u32();
      fs.durationNsec = r.u32();
      fs.priority = r.u16();
      fs.idleTimeout = r.u16();
      fs.hardTimeout = r.u16();
      const matchLen = r.u16();
      const idleAge = r.u16();
      const hardAge = r.u16();
      fs.cookie = r.u64();
      fs.packetCount = r.u64();
      fs.byteCount = r.u64();
      const padded = (matchLen + 7) & ~7;
      if (length < 48 + padded) return fail("OFPBRC_BAD_LEN");
      const pm = pullNxMatch(r, matchLen, true);
      if (isDecodeError(pm)) return pm;
      fs.match = pm.match;
      if (idleAge) fs.idleAge = idleAge - 1;
      if (hardAge) fs.hardAge = hardAge - 1;
      const acts = pullInstructions(r, length - 48 - padded, ctx.version);
      if (isDecodeError(acts)) return acts;
      fs.actions = acts;
      return fs;
    });
  },
  encode(w, b, ctx) {
    for (const fs of b.stats) {
      const at = putFlowStatsFixed(w, fs);
      w.setU16(at + 20, ageField(fs.idleAge));
      w.setU16(at + 22, ageField(fs.hardAge));
      w.setU16(at + 18, putNxMatch(w, fs.match, 0n, 0n, fs.maskKey ?? null));
      putActionsOrThrow(w, fs.actions, ctx.version);
      w.setU16(at, w.length - at);
    }
  },
  print: printFlowStatsReply,
};

/* ---------------- flow removed ---------------- */

export interface FlowRemovedBody {
  match: Match;
  priority: number;
  /** OFPRR_*: 0 idle, 1 hard, 2 delete, 3 group_delete, 4 meter_delete, 5 eviction. */
  reason: number;
  /** 255 when the message does not say. */
  tableId: number;
  cookie: bigint;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
}

export const REMOVED_REASONS: readonly string[] = ["idle", "hard", "delete", "group_delete", "meter_delete", "eviction"];

export function printFlowRemoved(fr: FlowRemovedBody): string {
  let s = " " + formatMatchWithPriority(fr.match, fr.priority);
  s += ` reason=${REMOVED_REASONS[fr.reason] ?? String(fr.reason)}`;
  if (fr.tableId !== 255) s += ` table_id=${fr.tableId}`;
  if (fr.cookie !== 0n) s += ` cookie:0x${fr.cookie.toString(16)}`;
  s += ` duration${durationText(fr.durationSec, fr.durationNsec)} idle${fr.idleTimeout}`;
  if (fr.hardTimeout) s += ` hard${fr.hardTimeout}`;
  return s + ` pkts${fr.packetCount} bytes${fr.byteCount}\n`;
}

export const OFP10_FLOW_REMOVED_CODEC: BodyCodec<FlowRemovedBody> = {
  decode(r) {
    const m = decodeOfp10Match(r.bytes(40));
    if (isDecodeError(m)) return m;
    const cookie = r.u64();
    const priority = r.u16();
    const reason = r.u8();
    r.skip(1);
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const idleTimeout = r.u16();
    r.skip(2);
    const packetCount = r.u64();
    const byteCount = r.u64();
    return { match: m, priority, reason, tableId: 255, cookie, durationSec, durationNsec, idleTimeout, hardTimeout: 0, packetCount, byteCount };
  },
  encode(w, fr) {
    w.bytes(encodeOfp10Match(fr.match)).u64(fr.cookie).u16(fr.priority).u8(fr.reason).zeros(1);
    w.u32(fr.durationSec).u32(fr.durationNsec).u16(fr.idleTimeout).zeros(2).u64(fr.packetCount).u64(fr.byteCount);
  },
  print: printFlowRemoved,
};

export const OFP11_FLOW_REMOVED_CODEC: BodyCodec<FlowRemovedBody> = {
  decode(r) {
    const cookie = r.u64();
    const priority = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const idleTimeout = r.u16();
    const hardTimeout = r.u16();
    const packetCount = r.u64();
    const byteCount = r.u64();
    const m = pullOfp11Match(r, true);
    if (isDecodeError(m)) return m;
    return { match: m, priority, reason, tableId, cookie, durationSec, durationNsec, idleTimeout, hardTimeout, packetCount, byteCount };
  },
  encode(w, fr, ctx) {
    w.u64(fr.cookie).u16(fr.priority).u8(fr.reason).u8(fr.tableId).u32(fr.durationSec).u32(fr.durationNsec);
    w.u16(fr.idleTimeout).u16(fr.hardTimeout).u64(fr.packetCount).u64(fr.byteCount);
    putOfp11Match(w, fr.match, ctx.version);
  },
  print: printFlowRemoved,
};

/** NXT_FLOW_REMOVED: the table id travels plus one (0: unknown). */
export const NX_FLOW_REMOVED_CODEC: BodyCodec<FlowRemovedBody> = {
  decode(r) {
    const cookie = r.u64();
    const priority = r.u16();
    const reason = r.u8();
    const tableId = (r.u8() - 1) & 0xff;
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const idleTimeout = r.u16();
    const matchLen = r.u16();
    const packetCount = r.u64();
    const byteCount = r.u64();
    const pm = pullNxMatch(r, matchLen, true);
    if (isDecodeError(pm)) return pm;
    return { match: pm.match, priority, reason, tableId, cookie, durationSec, durationNsec, idleTimeout, hardTimeout: 0, packetCount, byteCount };
  },
  encode(w, fr) {
    const nm = nxMatchBytes(fr.match, 0n, 0n);
    w.u64(fr.cookie).u16(fr.priority).u8(fr.reason).u8((fr.tableId + 1) & 0xff).u32(fr.durationSec).u32(fr.durationNsec);
    w.u16(fr.idleTimeout).u16(nm.length).u64(fr.packetCount).u64(fr.byteCount).bytes(nm.bytes);
  },
  print: printFlowRemoved,
};

/* ---------------- Nicira flow monitor (NXST_FLOW_MONITOR) ---------------- */

export const NXFMF_INITIAL = 1 << 0;
export const NXFMF_ADD = 1 << 1;
export const NXFMF_DELETE = 1 << 2;
export const NXFMF_MODIFY = 1 << 3;
export const NXFMF_ACTIONS = 1 << 4;
export const NXFMF_OWN = 1 << 5;
const MONITOR_FLAG_NAMES: Readonly<Record<number, string>> = {
  [NXFMF_INITIAL]: "initial", [NXFMF_ADD]: "add", [NXFMF_DELETE]: "delete", [NXFMF_MODIFY]: "modify", [NXFMF_ACTIONS]: "actions", [NXFMF_OWN]: "own",
};

export interface FlowMonitorRequest {
  id: number;
  flags: number;
  outPort: number;
  tableId: number;
  match: Match;
}

export interface FlowMonitorRequestBody {
  requests: FlowMonitorRequest[];
}

export const NX_FLOW_MONITOR_REQUEST_CODEC: BodyCodec<FlowMonitorRequestBody> = {
  decode(r) {
    const requests: FlowMonitorRequest[] = [];
    while (r.remaining > 0) {
      const bad = (e: DecodeError): DecodeError => withPartial(e, { requests });
      if (r.remaining < 16) return bad(fail("OFPBRC_BAD_LEN"));
      const id = r.u32();
      const flags = r.u16();
      const outPort = r.u16();
      const matchLen = r.u16();
      const tableId = r.u8();
      const zeros = r.bytes(5);
      if (!(flags & (NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY)) || flags & ~0x3f) return bad(fail("OFPMOFC_BAD_FLAGS"));
      if (zeros.some((x) => x !== 0)) return bad(fail("NXBRC_MUST_BE_ZERO"));
      const pm = pullNxMatch(r, matchLen, true);
      if (isDecodeError(pm)) return bad(pm);
      requests.push({ id, flags, outPort, tableId, match: pm.match });
    }
    return { requests };
  },
  encode(w, b) {
    for (const q of b.requests) {
      const nm = nxMatchBytes(q.match, 0n, 0n);
      w.u32(q.id).u16(q.flags).u16(q.outPort).u16(nm.length).u8(q.tableId).zeros(5).bytes(nm.bytes);
    }
  },
  print(b) {
    return b.requests.map((q) => {
      let s = `\n id=${q.id >>> 0} flags=${bitNames(q.flags, MONITOR_FLAG_NAMES, ",")}`;
      if (q.outPort !== OFPP_NONE) s += ` out_port=${formatPort(q.outPort)}`;
      if (q.tableId !== 0xff) s += ` table=${q.tableId}`;
      const m = formatMatchWithPriority(q.match, OFP_DEFAULT_PRIORITY);
      return m === "" ? s : `${s} ${m}`;
    }).join("");
  },
};

/** One flow update: event 0 added, 1 deleted, 2 modified (full), 3 abbreviated. */
export type FlowUpdate =
  | { event: 3; xid: number }
  | {
      event: 0 | 1 | 2; reason: number; priority: number; idleTimeout: number; hardTimeout: number; tableId: number;
      cookie: bigint; match: Match; actions: OfpAction[];
    };

export interface FlowMonitorReplyBody {
  updates: FlowUpdate[];
}

export const NX_FLOW_MONITOR_REPLY_CODEC: BodyCodec<FlowMonitorReplyBody> = {
  decode(r, ctx) {
    const updates: FlowUpdate[] = [];
    while (r.remaining > 0) {
      const bad = (e: DecodeError): DecodeError => withPartial(e, { updates });
      if (r.remaining < 4) return bad(fail("OFPBRC_BAD_LEN"));
      const length = r.u16();
      const event = r.u16();
      if (length > r.remaining + 4 || length % 8) return bad(fail("OFPBRC_BAD_LEN"));
      if (event === 3) {
        if (length !== 8) return bad(fail("OFPBRC_BAD_LEN"));
        updates.push({ event: 3, xid: r.u32() });
      } else if (event <= 2) {
        if (length < 24) return bad(fail("OFPBRC_BAD_LEN"));
        const reason = r.u16();
        const priority = r.u16();
        const idleTimeout = r.u16();
        const hardTimeout = r.u16();
        const matchLen = r.u16();
        const tableId = r.u8();
        r.skip(1);
        const cookie = r.u64();
        if (24 + matchLen > length) return bad(fail("OFPBRC_BAD_LEN"));
        const pm = pullNxMatch(r, matchLen, true);
        if (isDecodeError(pm)) return bad(pm);
        const actLen = length - 24 - ((matchLen + 7) & ~7);
        if (actLen < 0 || actLen > r.remaining) return bad(fail("OFPBRC_BAD_LEN"));
        // Flow updates carry a plain action list, whatever the version.
        const actions = decodeActions(r.bytes(actLen), ctx.version);
        if (isDecodeError(actions)) return bad(actions);
        updates.push({ event: event as 0 | 1 | 2, reason, priority, idleTimeout, hardTimeout, tableId, cookie, match: pm.match, actions });
      } else {
        return bad(fail("NXBRC_FM_BAD_EVENT"));
      }
    }
    return { updates };
  },
  encode(w, b, ctx) {
    for (const u of b.updates) {
      if (u.event === 3) {
        w.u16(8).u16(3).u32(u.xid);
        continue;
      }
      const nm = nxMatchBytes(u.match, 0n, 0n);
      const acts = encodeActions(u.actions, ctx.version);
      if (isTextError(acts)) throw new RangeError(acts.error);
      w.u16(24 + nm.bytes.length + acts.length).u16(u.event).u16(u.reason).u16(u.priority).u16(u.idleTimeout).u16(u.hardTimeout);
      w.u16(nm.length).u8(u.tableId).zeros(1).u64(u.cookie).bytes(nm.bytes).bytes(acts);
    }
  },
  print(b) {
    return b.updates.map((u) => {
      if (u.event === 3) return `\n event=ABBREV xid=0x${(u.xid >>> 0).toString(16)}`;
      let s = "\n event=" + (u.event === 0 ? "ADDED" : u.event === 1 ? `DELETED reason=${REMOVED_REASONS[u.reason] ?? String(u.reason)}` : "MODIFIED");
      s += ` table=${u.tableId}`;
      if (u.idleTimeout) s += ` idle_timeout=${u.idleTimeout}`;
      if (u.hardTimeout) s += ` hard_timeout=${u.hardTimeout}`;
      s += ` cookie=${u.cookie === 0n ? "0" : "0x" + u.cookie.toString(16)}`;
      s += " " + formatMatchWithPriority(u.match, OFP_DEFAULT_PRIORITY);
      if (u.actions.length) {
        if (!s.endsWith(" ")) s += " ";
        s += "actions=" + formatActions(u.actions);
      }
      return s;
    }).join("");
  },
};
