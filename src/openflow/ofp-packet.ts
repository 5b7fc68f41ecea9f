/**
 * Packet-in and packet-out messages in every wire form OVS 3.1 speaks:
 * OFPT_PACKET_IN of OpenFlow 1.0, 1.1, 1.2 and 1.3+ (with cookie), the
 * Nicira NXT_PACKET_IN (NXM metadata) and NXT_PACKET_IN2 (properties,
 * including the continuation a paused pipeline carries), NXT_RESUME, and
 * OFPT_PACKET_OUT of OpenFlow 1.0, 1.1–1.4 and 1.5 (match-based metadata).
 *
 * Bodies are version free (`PacketInBody`, `PacketOutBody`): the packet
 * metadata is a Match (in_port, and for the OXM/NXM forms any pipeline
 * field), so a switch fills one body and the codec of the controller's
 * chosen format writes it. Decoding is as OVS's ofputil_decode_packet_in /
 * _packet_out (loosely, as ofp-print decodes: unknown properties and
 * unknown match fields are skipped); printing as ofp-print.
 */
import { OfpReader, type OfpWriter, hexDump } from "./ofp-buffer.js";
import {
  type BodyCodec,
  type CodecContext,
  type DecodeError,
  fail,
  isDecodeError,
  type OfpProp,
  pullOfpProp,
  OFPP_CONTROLLER,
  OFPP_LOCAL,
  OFPP_MAX,
  OFPP_NONE,
  portFromOfp11,
  portToOfp11,
  putProperty,
} from "./ofp-codec.js";
import { Match, MF_MATCHABLE_FIELDS } from "./match.js";
import { formatMatch } from "./match-format.js";
import { decodeNxRaw, decodeOxmMatch, encodeNxRaw, encodeOxmMatch } from "./nx-match.js";
import { pullNxMatchBytes, nxMatchBytes, COOKIE_NONE } from "./ofp-flow.js";
import type { OfpAction } from "./ofp-actions.js";
import { decodeActions, encodeActions, formatActions } from "./ofp-actions-codec.js";
import { isTextError } from "./ofp-actions-util.js";
import { packetToString } from "./ofp-packet-text.js";

export { packetToString, packetMatch } from "./ofp-packet-text.js";

/** Buffer id meaning "not buffered: the packet is in the message". */
export const NO_BUFFER = 0xffffffff;

/** Packet-in reasons (wire values). */
export const OFPR_NO_MATCH = 0;
export const OFPR_ACTION = 1;
export const OFPR_INVALID_TTL = 2;
export const OFPR_ACTION_SET = 3;
export const OFPR_GROUP = 4;
export const OFPR_PACKET_OUT = 5;

/** OVS's internal reasons for a table miss (never on the wire as such). */
export const OFPR_EXPLICIT_MISS = 6;
export const OFPR_IMPLICIT_MISS = 7;

/**
 * The wire reason a switch sends for `reason` in `version` (OVS's
 * encode_packet_in_reason): reasons OpenFlow 1.4 added are "action" before
 * it; an explicit table-miss rule is "action" before OpenFlow 1.3 and
 * "no_match" from it; an implicit miss is always "no_match".
 */
export function packetInReasonForVersion(reason: number, version: number): number {
  switch (reason) {
    case OFPR_ACTION_SET:
    case OFPR_GROUP:
    case OFPR_PACKET_OUT:
      return version < 5 ? OFPR_ACTION : reason;
    case OFPR_EXPLICIT_MISS:
      return version < 4 ? OFPR_ACTION : OFPR_NO_MATCH;
    case OFPR_IMPLICIT_MISS:
      return OFPR_NO_MATCH;
    default:
      return reason;
  }
}

/** OVS's ofputil_packet_in_reason_to_string for a reason as it came off the wire. */
export function packetInReasonText(reason: number): string {
  switch (reason) {
    case 0:
      return "no_match";
    case 1:
      return "action";
    case 2:
      return "invalid_ttl";
    case 3:
      return "action_set";
    case 4:
      return "group";
    case 5:
      return "packet_out";
    case 6:
    case 7:
      // OVS's internal explicit/implicit miss reasons print as nothing.
      return "";
    default:
      return String(reason);
  }
}

/**
 * One property of an NXT_PACKET_IN2 continuation (the state of a paused
 * pipeline, opaque to controllers: they hand it back in NXT_RESUME). Kept
 * as the ordered property list so it goes back on the wire unchanged.
 */
export type ContinuationProp =
  | { kind: "bridge"; uuid: Uint8Array }
  | { kind: "stack"; value: Uint8Array }
  | { kind: "mirrors"; value: number }
  | { kind: "conntracked" }
  | { kind: "table_id"; value: number }
  | { kind: "cookie"; value: bigint }
  | { kind: "actions"; actions: OfpAction[] }
  | { kind: "action_set"; actions: OfpAction[] }
  | { kind: "odp_port"; value: number }
  /** A property tsovs does not know (kept for re-encoding; ofp-print skips it). */
  | { kind: "unknown"; type: number; data: Uint8Array };

export interface PacketInBody {
  /** The packet bytes carried in the message (possibly truncated). */
  packet: Uint8Array;
  /** Length of the whole packet (OVS's total_len / full_len). */
  totalLen: number;
  /** NO_BUFFER when the packet is not buffered in the switch. */
  bufferId: number;
  /** Wire reason (OFPR_*; a switch converts its own with packetInReasonForVersion). */
  reason: number;
  /** Table of the rule that sent it (0 in OpenFlow 1.0). */
  tableId: number;
  /** Cookie of that rule; COOKIE_NONE where the form has none (OF1.0–1.2). */
  cookie: bigint;
  /** Packet metadata: in_port and, in the NXM/OXM forms, any pipeline field. */
  metadata: Match;
  /** NXT_PACKET_IN2: the controller action's userdata, or null. */
  userdata: Uint8Array | null;
  /** NXT_PACKET_IN2 / NXT_RESUME: the continuation (a paused pipeline's state), or null when absent or empty. */
  continuation: ContinuationProp[] | null;
}

export interface PacketOutBody {
  /** NO_BUFFER when the packet travels in the message. */
  bufferId: number;
  /** in_port (every version) and, in OpenFlow 1.5, other pipeline fields. */
  metadata: Match;
  actions: OfpAction[];
  /** The packet (empty when buffered). */
  packet: Uint8Array;
}

/* ---------------- shared pieces ---------------- */

function inPortOf(m: Match): number {
  const v = m.get("in_port").value;
  return (v[0]! << 8) | v[1]!;
}

/** A match holding only an in_port, as OVS builds for the OF1.0/1.1 forms. */
function inPortMatch(port: number, withPacketType: boolean): Match {
  const m = new Match();
  if (withPacketType) m.setNum("packet_type", 0);
  m.setNum("in_port", port);
  return m;
}

function packetTypeOf(m: Match): number {
  if (m.isWildcarded("packet_type")) return 0;
  const v = m.get("packet_type").value;
  return ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
}

/** match_format with the default priority: the match text, "" for catch-all. */
function matchText(m: Match): string {
  return formatMatch(m);
}

function hexArg(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(".");
}

/**
 * UUID_FMT of a struct uuid sent as raw memory: four native (little-endian,
 * as OVS runs on x86) 32-bit words.
 */
function uuidText(u: Uint8Array): string {
  const dv = new DataView(u.buffer, u.byteOffset, 16);
  const p = [0, 4, 8, 12].map((o) => dv.getUint32(o, true));
  const h = (v: number, n: number): string => v.toString(16).padStart(n, "0");
  return `${h(p[0]!, 8)}-${h(p[1]! >>> 16, 4)}-${h(p[1]! & 0xffff, 4)}-${h(p[2]! >>> 16, 4)}-${h(p[2]! & 0xffff, 4)}${h(p[3]!, 8)}`;
}

/** ds_put_hex of a stack value: "0x" and its significant hex digits, or "0". */
function stackValueText(v: Uint8Array): string {
  let i = 0;
  while (i < v.length && v[i] === 0) i++;
  if (i === v.length) return "0";
  let s = "0x" + v[i]!.toString(16);
  for (i++; i < v.length; i++) s += v[i]!.toString(16).padStart(2, "0");
  return s;
}

function actionsOrThrow(actions: readonly OfpAction[], version: number): Uint8Array {
  const b = encodeActions(actions, version);
  if (isTextError(b)) throw new RangeError(b.error);
  return b;
}

/* ---------------- printing (ofputil_packet_in_private_format) ---------------- */

function printPacketIn(p: PacketInBody, ctx: CodecContext): string {
  let s = "";
  if (p.tableId) s += ` table_id=${p.tableId}`;
  if (p.cookie !== COOKIE_NONE) s += ` cookie=0x${p.cookie.toString(16)}`;
  s += ` total_len=${p.totalLen} ${matchText(p.metadata)}`;
  s += ` (via ${packetInReasonText(p.reason)}) data_len=${p.packet.length}`;
  if (p.bufferId === NO_BUFFER) {
    s += " (unbuffered)";
    if (p.totalLen !== p.packet.length) s += " (***total_len != data_len***)";
  } else {
    s += ` buffer=0x${p.bufferId.toString(16).padStart(8, "0")}`;
    if (p.totalLen < p.packet.length) s += " (***total_len < data_len***)";
  }
  s += "\n";
  if (p.userdata && p.userdata.length) s += ` userdata=${hexArg(p.userdata)}\n`;
  if (p.continuation) s += printContinuation(p.continuation);
  if (ctx.verbosity > 0) s += packetToString(p.packet, packetTypeOf(p.metadata));
  if (ctx.verbosity > 2) s += hexDump(p.packet, 0, false);
  return s;
}

function printContinuation(props: readonly ContinuationProp[]): string {
  let bridge: Uint8Array | null = null;
  const stack: Uint8Array[] = [];
  let mirrors = 0;
  let conntracked = false;
  let tableId = 0;
  let cookie = 0n;
  const actions: string[] = [];
  const actionSet: string[] = [];
  let odpPort = 0;
  for (const p of props) {
    switch (p.kind) {
      case "bridge":
        bridge = p.uuid;
        break;
      case "stack":
        stack.push(p.value);
        break;
      case "mirrors":
        mirrors = p.value;
        break;
      case "conntracked":
        conntracked = true;
        break;
      case "table_id":
        tableId = p.value;
        break;
      case "cookie":
        cookie = p.value;
        break;
      case "actions":
        // Each group of actions resumes in the rule it came from.
        actions.push(`unroll_xlate(table=${tableId}, cookie=${cookie})`);
        if (p.actions.length) actions.push(formatActions(p.actions));
        break;
      case "action_set":
        if (p.actions.length) actionSet.push(formatActions(p.actions));
        break;
      case "odp_port":
        odpPort = p.value;
        break;
      case "unknown":
        break;
    }
  }
  let s = "";
  if (bridge && bridge.some((x) => x !== 0)) s += ` continuation.bridge=${uuidText(bridge)}\n`;
  if (stack.length) s += ` continuation.stack=(top) ${stack.map(stackValueText).join(" ")} (bottom)\n`;
  if (mirrors) s += ` continuation.mirrors=0x${mirrors.toString(16)}\n`;
  if (conntracked) s += " continuation.conntracked=true\n";
  if (actions.length) s += ` continuation.actions=${actions.join(",")}\n`;
  if (actionSet.length) s += ` continuation.action_set=${actionSet.join(",")}\n`;
  if (odpPort) s += ` continuation.odp_port=${odpPort}\n`;
  return s;
}

/* ---------------- OpenFlow 1.0 / 1.1 / 1.2+ and NXT_PACKET_IN ---------------- */

/** OFPT_PACKET_IN, OpenFlow 1.0: buffer_id, total_len, in_port, reason, pad, data. */
export const OFP10_PACKET_IN_CODEC: BodyCodec<PacketInBody> = {
  decode(r) {
    const bufferId = r.u32();
    const totalLen = r.u16();
    const inPort = r.u16();
    const reason = r.u8();
    r.skip(1);
    const packet = r.rest();
    return { packet, totalLen, bufferId, reason, tableId: 0, cookie: COOKIE_NONE, metadata: inPortMatch(inPort, false), userdata: null, continuation: null };
  },
  encode(w, p) {
    w.u32(p.bufferId).u16(p.totalLen).u16(inPortOf(p.metadata)).u8(p.reason).zeros(1).bytes(p.packet);
  },
  print: printPacketIn,
};

/** OFPT_PACKET_IN, OpenFlow 1.1: 32-bit in_port and in_phy_port, table id. */
export const OFP11_PACKET_IN_CODEC: BodyCodec<PacketInBody> = {
  decode(r) {
    const bufferId = r.u32();
    const inPort = portFromOfp11(r.u32());
    r.skip(4); // in_phy_port: OVS ignores it.
    const totalLen = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const packet = r.rest();
    if (isDecodeError(inPort)) return inPort;
    return { packet, totalLen, bufferId, reason, tableId, cookie: COOKIE_NONE, metadata: inPortMatch(inPort, false), userdata: null, continuation: null };
  },
  encode(w, p) {
    const port = portToOfp11(inPortOf(p.metadata));
    w.u32(p.bufferId).u32(port).u32(port).u16(p.totalLen).u8(p.reason).u8(p.tableId).bytes(p.packet);
  },
  print: printPacketIn,
};

/** OFPT_PACKET_IN, OpenFlow 1.2 (no cookie) and 1.3+ (cookie): OXM match, 2 pad bytes, data. */
export const OFP12_PACKET_IN_CODEC: BodyCodec<PacketInBody> = {
  decode(r, ctx) {
    const bufferId = r.u32();
    const totalLen = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const cookie = ctx.version >= 4 ? r.u64() : COOKIE_NONE;
    if (r.overrun) return fail("OFPBRC_BAD_LEN");
    const res = decodeOxmMatch(r.data.subarray(r.pos, r.end), false);
    if (isDecodeError(res)) return res;
    r.skip(res.consumed);
    if (r.remaining < 2) return fail("OFPBRC_BAD_LEN");
    r.skip(2);
    return { packet: r.rest(), totalLen, bufferId, reason, tableId, cookie, metadata: res.match, userdata: null, continuation: null };
  },
  encode(w, p, ctx) {
    w.u32(p.bufferId).u16(p.totalLen).u8(p.reason).u8(p.tableId);
    if (ctx.version >= 4) w.u64(p.cookie);
    w.bytes(encodeOxmMatch(p.metadata, ctx.version)).zeros(2).bytes(p.packet);
  },
  print: printPacketIn,
};

/** NXT_PACKET_IN: buffer_id, total_len, reason, table_id, cookie, match_len, pad, NXM, 2 pad bytes, data. */
export const NX_PACKET_IN_CODEC: BodyCodec<PacketInBody> = {
  decode(r) {
    const bufferId = r.u32();
    const totalLen = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const cookie = r.u64();
    const matchLen = r.u16();
    r.skip(6);
    if (r.overrun) return fail("OFPBRC_BAD_LEN");
    const pm = pullNxMatchBytes(r.data.subarray(r.pos, r.end), matchLen, false);
    if (isDecodeError(pm)) return pm;
    r.skip((matchLen + 7) & ~7);
    if (r.remaining < 2) return fail("OFPBRC_BAD_LEN");
    r.skip(2);
    return { packet: r.rest(), totalLen, bufferId, reason, tableId, cookie, metadata: pm.match, userdata: null, continuation: null };
  },
  encode(w, p) {
    const nm = nxMatchBytes(p.metadata, 0n, 0n);
    w.u32(p.bufferId).u16(p.totalLen).u8(p.reason).u8(p.tableId).u64(p.cookie).u16(nm.length).zeros(6);
    w.bytes(nm.bytes).zeros(2).bytes(p.packet);
  },
  print: printPacketIn,
};

/* ---------------- NXT_PACKET_IN2 and NXT_RESUME ---------------- */

const NXPINT_PACKET = 0;
const NXPINT_FULL_LEN = 1;
const NXPINT_BUFFER_ID = 2;
const NXPINT_TABLE_ID = 3;
const NXPINT_COOKIE = 4;
const NXPINT_REASON = 5;
const NXPINT_METADATA = 6;
const NXPINT_USERDATA = 7;
const NXPINT_CONTINUATION = 8;

const NXCPT_BRIDGE = 0x8000;
const NXCPT_STACK = 0x8001;
const NXCPT_MIRRORS = 0x8002;
const NXCPT_CONNTRACKED = 0x8003;
const NXCPT_TABLE_ID = 0x8004;
const NXCPT_COOKIE = 0x8005;
const NXCPT_ACTIONS = 0x8006;
const NXCPT_ACTION_SET = 0x8007;
const NXCPT_ODP_PORT = 0x8008;

/** One property as ofpprop_pull sees it: its type (-1: experimenter), payload, and whole length. */

/** Properties of packet-ins own their bytes: the message buffer may be reused. */
function pullProp(r: OfpReader): OfpProp | DecodeError {
  const p = pullOfpProp(r);
  return isDecodeError(p) ? p : { ...p, payload: p.payload.slice() };
}

function u32Prop(p: OfpProp): number | DecodeError {
  if (p.payload.length !== 4) return fail("OFPBPC_BAD_LEN");
  return new DataView(p.payload.buffer, p.payload.byteOffset, 4).getUint32(0);
}

function u8Prop(p: OfpProp): number | DecodeError {
  if (p.payload.length < 1) return fail("OFPBPC_BAD_LEN");
  return p.payload[0]!;
}

/** ofpprop_parse_be64: 4 bytes of padding after the header, then the value. */
function u64Prop(p: OfpProp): bigint | DecodeError {
  if (p.len !== 16) return fail("OFPBPC_BAD_LEN");
  return new DataView(p.payload.buffer, p.payload.byteOffset, 12).getBigUint64(4);
}

/** ofpprop_parse_nested: the nested data after 4 bytes of padding. */
function nestedProp(p: OfpProp): Uint8Array | DecodeError {
  if (p.payload.length < 4) return fail("OFPBPC_BAD_LEN");
  return p.payload.subarray(4);
}

function decodeContinuation(b: Uint8Array, version: number): ContinuationProp[] | DecodeError {
  const r = new OfpReader(b);
  const out: ContinuationProp[] = [];
  while (r.remaining > 0) {
    const p = pullProp(r);
    if (isDecodeError(p)) return p;
    switch (p.type) {
      case NXCPT_BRIDGE:
        if (p.payload.length !== 16) return fail("OFPBPC_BAD_LEN");
        out.push({ kind: "bridge", uuid: p.payload });
        break;
      case NXCPT_STACK:
        if (p.payload.length > 128) return fail("OFPBPC_BAD_LEN");
        out.push({ kind: "stack", value: p.payload });
        break;
      case NXCPT_MIRRORS: {
        const v = u32Prop(p);
        if (isDecodeError(v)) return v;
        out.push({ kind: "mirrors", value: v });
        break;
      }
      case NXCPT_CONNTRACKED:
        out.push({ kind: "conntracked" });
        break;
      case NXCPT_TABLE_ID: {
        const v = u8Prop(p);
        if (isDecodeError(v)) return v;
        out.push({ kind: "table_id", value: v });
        break;
      }
      case NXCPT_COOKIE: {
        const v = u64Prop(p);
        if (isDecodeError(v)) return v;
        out.push({ kind: "cookie", value: v });
        break;
      }
      case NXCPT_ACTIONS:
      case NXCPT_ACTION_SET: {
        const nested = nestedProp(p);
        if (isDecodeError(nested)) return nested;
        const acts = decodeActions(nested, version);
        if (isDecodeError(acts)) return acts;
        out.push({ kind: p.type === NXCPT_ACTIONS ? "actions" : "action_set", actions: acts });
        break;
      }
      case NXCPT_ODP_PORT: {
        const v = u32Prop(p);
        if (isDecodeError(v)) return v;
        out.push({ kind: "odp_port", value: v });
        break;
      }
      default:
        // Experimenter properties (type -1) are not kept: nothing sends them.
        if (p.type >= 0) out.push({ kind: "unknown", type: p.type, data: p.payload });
        break;
    }
  }
  return out;
}

function putNested(w: OfpWriter, type: number, fill: (w: OfpWriter) => void): void {
  putProperty(w, type, (w) => {
    w.zeros(4);
    fill(w);
  });
}

function encodeContinuation(w: OfpWriter, props: readonly ContinuationProp[], version: number): void {
  for (const p of props) {
    switch (p.kind) {
      case "bridge":
        putProperty(w, NXCPT_BRIDGE, (w) => w.bytes(p.uuid));
        break;
      case "stack":
        putProperty(w, NXCPT_STACK, (w) => w.bytes(p.value));
        break;
      case "mirrors":
        putProperty(w, NXCPT_MIRRORS, (w) => w.u32(p.value));
        break;
      case "conntracked":
        putProperty(w, NXCPT_CONNTRACKED, () => {});
        break;
      case "table_id":
        putProperty(w, NXCPT_TABLE_ID, (w) => w.u8(p.value));
        break;
      case "cookie":
        putProperty(w, NXCPT_COOKIE, (w) => w.zeros(4).u64(p.value));
        break;
      case "actions":
      case "action_set": {
        const b = actionsOrThrow(p.actions, version);
        putNested(w, p.kind === "actions" ? NXCPT_ACTIONS : NXCPT_ACTION_SET, (w) => w.bytes(b));
        break;
      }
      case "odp_port":
        putProperty(w, NXCPT_ODP_PORT, (w) => w.u32(p.value));
        break;
      case "unknown":
        putProperty(w, p.type, (w) => w.bytes(p.data));
        break;
    }
  }
}

/**
 * NXT_PACKET_IN2 and NXT_RESUME: a list of properties. Decoded as ofp-print
 * decodes (unknown properties skipped); encoded in OVS's property order.
 */
export const NX_PACKET_IN2_CODEC: BodyCodec<PacketInBody> = {
  decode(r, ctx) {
    let packet: Uint8Array | null = null;
    let totalLen = 0;
    let bufferId = NO_BUFFER;
    let tableId = 0;
    let cookie = COOKIE_NONE;
    let reason = 0;
    let metadata = new Match();
    let userdata: Uint8Array | null = null;
    let contBytes: Uint8Array | null = null;
    while (r.remaining > 0) {
      const p = pullProp(r);
      if (isDecodeError(p)) return p;
      let e: DecodeError | null = null;
      switch (p.type) {
        case NXPINT_PACKET:
          packet = p.payload;
          break;
        case NXPINT_FULL_LEN: {
          const v = u32Prop(p);
          if (isDecodeError(v)) e = v;
          else totalLen = v;
          break;
        }
        case NXPINT_BUFFER_ID: {
          const v = u32Prop(p);
          if (isDecodeError(v)) e = v;
          else bufferId = v;
          break;
        }
        case NXPINT_TABLE_ID: {
          const v = u8Prop(p);
          if (isDecodeError(v)) e = v;
          else tableId = v;
          break;
        }
        case NXPINT_COOKIE: {
          const v = u64Prop(p);
          if (isDecodeError(v)) e = v;
          else cookie = v;
          break;
        }
        case NXPINT_REASON: {
          const v = u8Prop(p);
          if (isDecodeError(v)) e = v;
          else reason = v;
          break;
        }
        case NXPINT_METADATA: {
          const m = decodeNxRaw(p.payload, false);
          if (isDecodeError(m)) e = m;
          else metadata = m;
          break;
        }
        case NXPINT_USERDATA:
          userdata = p.payload;
          break;
        case NXPINT_CONTINUATION: {
          const n = nestedProp(p);
          if (isDecodeError(n)) e = n;
          else contBytes = n;
          break;
        }
        default:
          break;
      }
      if (e) return e;
    }
    if (!packet || packet.length === 0) return fail("OFPBRC_BAD_LEN");
    if (!totalLen) totalLen = packet.length;
    else if (totalLen < packet.length) return fail("OFPBRC_BAD_LEN");
    let continuation: ContinuationProp[] | null = null;
    if (contBytes) {
      const c = decodeContinuation(contBytes, ctx.version);
      if (isDecodeError(c)) return c;
      // An empty continuation is no continuation (OVS never sends one).
      if (c.length) continuation = c;
    }
    return { packet, totalLen, bufferId, reason, tableId, cookie, metadata, userdata, continuation };
  },
  encode(w, p, ctx) {
    putProperty(w, NXPINT_PACKET, (w) => w.bytes(p.packet));
    if (p.totalLen !== p.packet.length) putProperty(w, NXPINT_FULL_LEN, (w) => w.u32(p.totalLen));
    if (p.bufferId !== NO_BUFFER) putProperty(w, NXPINT_BUFFER_ID, (w) => w.u32(p.bufferId));
    putProperty(w, NXPINT_TABLE_ID, (w) => w.u8(p.tableId));
    if (p.cookie !== COOKIE_NONE) putProperty(w, NXPINT_COOKIE, (w) => w.zeros(4).u64(p.cookie));
    putProperty(w, NXPINT_REASON, (w) => w.u8(p.reason));
    putProperty(w, NXPINT_METADATA, (w) => w.bytes(encodeNxRaw(p.metadata, ctx.version)));
    if (p.continuation && p.continuation.length) {
      const cont = p.continuation;
      putNested(w, NXPINT_CONTINUATION, (w) => encodeContinuation(w, cont, ctx.version));
    }
    if (p.userdata && p.userdata.length) {
      const u = p.userdata;
      putProperty(w, NXPINT_USERDATA, (w) => w.bytes(u));
    }
  },
  print: printPacketIn,
};

/* ---------------- OFPT_PACKET_OUT ---------------- */

/** The in_port rule OVS applies to every packet-out. */
function packetOutPortOk(port: number): boolean {
  return port < OFPP_MAX || port === OFPP_LOCAL || port === OFPP_NONE || port === OFPP_CONTROLLER;
}

/** OVS's mf_is_pipeline_field: the fields a packet-out may set in OpenFlow 1.5. */
function isPipelineField(name: string): boolean {
  return /^(tun_|tunnel_id$|metadata$|in_port|reg\d|xreg\d|xxreg\d|packet_type$)/.test(name);
}

function pullPacketOutActions(r: OfpReader, actionsLen: number, version: number): OfpAction[] | DecodeError {
  if (actionsLen > r.remaining) return fail("OFPBRC_BAD_LEN");
  return decodeActions(r.bytes(actionsLen), version);
}

function finishPacketOut(r: OfpReader, bufferId: number, metadata: Match, actions: OfpAction[]): PacketOutBody | DecodeError {
  if (!packetOutPortOk(inPortOf(metadata))) return fail("OFPBRC_BAD_PORT");
  // A buffered packet-out's trailing bytes are ignored, as OVS ignores them.
  const rest = r.rest();
  const packet = bufferId === NO_BUFFER ? rest : new Uint8Array(0);
  return { bufferId, metadata, actions, packet };
}

function printPacketOut(po: PacketOutBody, ctx: CodecContext): string {
  let s = ` ${matchText(po.metadata)} actions=${formatActions(po.actions)}`;
  if (po.bufferId === NO_BUFFER) {
    s += ` data_len=${po.packet.length}`;
    if (ctx.verbosity > 0 && po.packet.length > 0) s += "\n" + packetToString(po.packet, packetTypeOf(po.metadata));
    if (ctx.verbosity > 2) s += hexDump(po.packet, 0, false);
  } else {
    s += ` buffer=0x${po.bufferId.toString(16).padStart(8, "0")}`;
  }
  return s;
}

/** OFPT_PACKET_OUT, OpenFlow 1.0: buffer_id, 16-bit in_port, actions_len, actions, data. */
export const OFP10_PACKET_OUT_CODEC: BodyCodec<PacketOutBody> = {
  decode(r, ctx) {
    const bufferId = r.u32();
    const inPort = r.u16();
    const actionsLen = r.u16();
    const actions = pullPacketOutActions(r, actionsLen, ctx.version);
    if (isDecodeError(actions)) return actions;
    return finishPacketOut(r, bufferId, inPortMatch(inPort, true), actions);
  },
  encode(w, po, ctx) {
    const acts = actionsOrThrow(po.actions, ctx.version);
    w.u32(po.bufferId).u16(inPortOf(po.metadata)).u16(acts.length).bytes(acts);
    if (po.bufferId === NO_BUFFER) w.bytes(po.packet);
  },
  print: printPacketOut,
};

/** OFPT_PACKET_OUT, OpenFlow 1.1–1.4: 32-bit in_port, 6 pad bytes. */
export const OFP11_PACKET_OUT_CODEC: BodyCodec<PacketOutBody> = {
  decode(r, ctx) {
    const bufferId = r.u32();
    const inPort = portFromOfp11(r.u32());
    const actionsLen = r.u16();
    r.skip(6);
    if (isDecodeError(inPort)) return inPort;
    const actions = pullPacketOutActions(r, actionsLen, ctx.version);
    if (isDecodeError(actions)) return actions;
    return finishPacketOut(r, bufferId, inPortMatch(inPort, true), actions);
  },
  encode(w, po, ctx) {
    const acts = actionsOrThrow(po.actions, ctx.version);
    w.u32(po.bufferId).u32(portToOfp11(inPortOf(po.metadata))).u16(acts.length).zeros(6).bytes(acts);
    if (po.bufferId === NO_BUFFER) w.bytes(po.packet);
  },
  print: printPacketOut,
};

/** OFPT_PACKET_OUT, OpenFlow 1.5: buffer_id, actions_len, pad, an OXM match of pipeline fields, actions, data. */
export const OFP15_PACKET_OUT_CODEC: BodyCodec<PacketOutBody> = {
  decode(r, ctx) {
    const bufferId = r.u32();
    const actionsLen = r.u16();
    r.skip(2);
    const matchBytes = r.data.subarray(r.pos, r.end);
    const early = firstNonPipelineError(matchBytes);
    if (early) return early;
    const res = decodeOxmMatch(matchBytes, false);
    if (isDecodeError(res)) return res;
    r.skip(res.consumed);
    const m = res.match;
    if (m.isWildcarded("in_port")) return fail("OFPBRC_BAD_PORT");
    const actions = pullPacketOutActions(r, actionsLen, ctx.version);
    if (isDecodeError(actions)) return actions;
    return finishPacketOut(r, bufferId, m, actions);
  },
  encode(w, po, ctx) {
    const acts = actionsOrThrow(po.actions, ctx.version);
    w.u32(po.bufferId).u16(acts.length).zeros(2).bytes(encodeOxmMatch(po.metadata, ctx.version)).bytes(acts);
    if (po.bufferId === NO_BUFFER) w.bytes(po.packet);
  },
  print: printPacketOut,
};

/**
 * OVS checks OXM entries one at a time, so a field that is not a pipeline
 * field is reported before anything wrong further on: decode growing
 * prefixes of whole entries and stop at the first error or non-pipeline
 * field. Null when no entry is to blame (the whole match is then decoded).
 */
function firstNonPipelineError(b: Uint8Array): DecodeError | null {
  if (b.length < 4 || ((b[0]! << 8) | b[1]!) !== 1) return null;
  const len = Math.min((b[2]! << 8) | b[3]!, b.length);
  let o = 4;
  while (o + 4 <= len) {
    const end = o + 4 + b[o + 3]!;
    if (end > len || b[o + 3] === 0) return null;
    const m = decodeNxRaw(b.subarray(4, end), false);
    if (isDecodeError(m)) return m;
    if (nonPipelineField(m)) return fail("OFPBRC_PIPELINE_FIELDS_ONLY");
    o = end;
  }
  return null;
}

function nonPipelineField(m: Match): string | null {
  for (const f of MF_MATCHABLE_FIELDS) {
    if (!m.isWildcarded(f) && !isPipelineField(f.name)) return f.name;
  }
  return null;
}
