/**
 * The OpenFlow message table and the message codec built on it.
 *
 * ## The table
 * `OFP_RAWS` lists every wire format ("raw", as OVS calls it) that tsovs
 * speaks: the message type it carries (`type`, the id callers use, e.g.
 * "OFPT_FEATURES_REPLY"), the versions it exists in, how it is recognised
 * on the wire (OFPT type; multipart type; Nicira/ONF experimenter subtype),
 * the name ofp-print shows, the body's length rule, and the body codec.
 * One message type may have several raws (OF1.0's BARRIER is type 18,
 * OF1.1+'s is 20); encoding picks the raw by (type, version), decoding by
 * (version, wire id). Decoding, encoding and printing all go through the
 * table; nothing else knows message numbers.
 *
 * ## Length rules
 * As OVS's ofpraw_decode: each raw has a fixed body part (`len`, counted
 * after the OpenFlow header and any multipart and experimenter header) and
 * `extra`: 0 when nothing may follow, 1 for any number of bytes, n for a
 * multiple of n bytes. A violation is OFPBRC_BAD_LEN before the body codec
 * runs.
 *
 * ## Coverage
 * Every message OVS 3.1's ofp-print knows (checked against the names in
 * the ovs-ofctl binary): flow messages (ofp-flow.ts; OpenFlow 1.5's OXS
 * statistics forms in ofp-flow15.ts), packet-in in all its forms,
 * NXT_RESUME and packet-out (ofp-packet.ts), table features
 * (ofp-table-features.ts), groups including OpenFlow 1.5's and OVS's
 * OpenFlow 1.0 group extension (ofp-group.ts, ofp-group15.ts), flow
 * monitors in the Nicira, ONF (1.3) and OpenFlow 1.4+ forms
 * (ofp-flow.ts, ofp-monitor.ts), NXT_CT_FLUSH (ofp-ct.ts), and the rest.
 * Adding a message is a row here plus its codec and samples; framing,
 * lookup, length checks, printing (including nested messages in errors,
 * bundles and request-forwards), the differential tests (which require a
 * sample for every type, enforced by the type of `samples.ts`) and error
 * paths need no change.
 */
import { OfpReader, OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type CodecContext, EMPTY_CODEC, fail, isDecodeError, type DecodeError } from "./ofp-codec.js";
import { NX_VENDOR_ID, ONF_VENDOR_ID, type OfpErrorName } from "./ofp-errors.js";
import {
  PORT_DESC_REPLY_CODEC,
  PORT_DESC_REQUEST_CODEC,
  PORT_MOD_CODEC,
  PORT_STATUS_CODEC,
} from "./ofp-port.js";
import {
  ECHO_CODEC,
  ERROR_CODEC,
  FEATURES_REPLY_CODEC,
  GET_CONFIG_REPLY_CODEC,
  HELLO_CODEC,
  SET_CONFIG_CODEC,
} from "./ofp-switch.js";
import * as S from "./ofp-stats.js";
import * as C from "./ofp-control.js";
import * as T from "./ofp-table.js";
import * as F from "./ofp-flow.js";
import * as G from "./ofp-group.js";
import * as P from "./ofp-packet.js";
import * as TF from "./ofp-table-features.js";
import * as G15 from "./ofp-group15.js";
import { CT_FLUSH_CODEC } from "./ofp-ct.js";
import * as M from "./ofp-monitor.js";
import * as F15 from "./ofp-flow15.js";
import { bitNames, hexAlt, printNested, setNestedTypeLookup } from "./ofp-codec.js";

export const OFP_HEADER_LEN = 8;
/** OFPT_VENDOR (1.0) / OFPT_EXPERIMENTER (1.1+). */
export const OFPT_VENDOR = 4;
export const OFPST_VENDOR = 0xffff;
/** The "more replies follow" multipart flag. */
export const OFPSF_REPLY_MORE = 1;

/** How a raw is recognised on the wire. */
export type WireId =
  /** A plain message: header type. */
  | { readonly kind: "ofpt"; readonly type: number }
  /** A multipart (stats) request or reply of standard type `stat`. */
  | { readonly kind: "stats"; readonly stat: number; readonly reply: boolean }
  /** An experimenter message (header type 4) with vendor and subtype. */
  | { readonly kind: "vendor"; readonly vendor: number; readonly subtype: number }
  /** An experimenter multipart message. */
  | { readonly kind: "vstats"; readonly vendor: number; readonly subtype: number; readonly reply: boolean };

export interface OfpRaw<T extends string = string, B = unknown> {
  /** Message type id, shared by raws that mean the same thing. */
  readonly type: T;
  /** Name ofp-print shows ("OFPST_PORT reply"). */
  readonly name: string;
  /** Lowest and highest wire version. */
  readonly lo: number;
  readonly hi: number;
  readonly wire: WireId;
  /** Fixed body length after all headers. */
  readonly len: number;
  /** 0: nothing more; 1: any bytes; n: a multiple of n bytes. */
  readonly extra: number;
  readonly codec: BodyCodec<B>;
}

const V_MAX = 6;

/* ---------------- bundle-add (a message inside a message) ---------------- */

/** Message types OVS accepts inside a bundle. */
const BUNDLE_ADD_ALLOWED = new Set(["OFPT_PORT_MOD", "OFPT_FLOW_MOD", "NXT_FLOW_MOD", "OFPT_GROUP_MOD", "OFPT_PACKET_OUT"]);

export interface BundleAddBody {
  bundleId: number;
  flags: number;
  /** The bundled message, complete with its header (same version and xid). */
  message: Uint8Array;
}

/**
 * OFPT_BUNDLE_ADD_MESSAGE / ONFT_BUNDLE_ADD_MESSAGE. The inner message is
 * kept as bytes (so any message tsovs can decode later round-trips) and
 * checked as OVS checks it: same version and xid, an allowed type, and
 * decodable.
 */
const BUNDLE_ADD_CODEC: BodyCodec<BundleAddBody> = {
  decode(r, ctx) {
    const bundleId = r.u32();
    r.skip(2);
    const flags = r.u16();
    const message = r.rest();
    if (message.length < 8) return fail("OFPBFC_MSG_BAD_LEN");
    const ir = new OfpReader(message);
    const version = ir.u8();
    ir.skip(1);
    const len = ir.u16();
    const xid = ir.u32();
    if (len !== message.length) return fail("OFPBFC_MSG_BAD_LEN");
    if (version !== ctx.version) return fail("OFPBFC_BAD_VERSION");
    if (xid !== ctx.xid) return fail("OFPBFC_MSG_BAD_XID");
    // The inner message must be a known, allowed type of a valid length;
    // its body is checked only when it is executed (and printed).
    const look = lookupRaw(message, message.length);
    if (isDecodeError(look) || !lengthOk(look.raw, look.bodyOffset, message.length)) return fail("OFPBFC_MSG_UNSUP");
    if (!BUNDLE_ADD_ALLOWED.has(look.raw.type)) return fail("OFPBFC_MSG_UNSUP");
    return { bundleId, flags, message };
  },
  encode(w, b) {
    w.u32(b.bundleId).zeros(2).u16(b.flags).bytes(b.message);
  },
  print(b, ctx) {
    return `\n bundle_id=${hexAlt(b.bundleId)} flags=${bitNames(b.flags, { 1: "atomic", 2: "ordered" })}\n` +
      printNested(b.message, ctx.verbosity);
  },
};
const t = (type: number): WireId => ({ kind: "ofpt", type });
const st = (stat: number, reply: boolean): WireId => ({ kind: "stats", stat, reply });
const nxt = (subtype: number): WireId => ({ kind: "vendor", vendor: NX_VENDOR_ID, subtype });
const onft = (subtype: number): WireId => ({ kind: "vendor", vendor: ONF_VENDOR_ID, subtype });

function raw<T extends string, B>(
  type: T, name: string, lo: number, hi: number, wire: WireId, len: number, extra: number, codec: BodyCodec<B>,
): OfpRaw<T, B> {
  return { type, name, lo, hi, wire, len, extra, codec };
}
/** A multipart request/reply pair member: type id and printed name derive from `base`. */
function mp<T extends string, B>(
  type: T, lo: number, hi: number, stat: number, reply: boolean, len: number, extra: number, codec: BodyCodec<B>,
): OfpRaw<T, B> {
  const base = type.replace(/_(REQUEST|REPLY)$/, "");
  return raw(type, `${base} ${reply ? "reply" : "request"}`, lo, hi, st(stat, reply), len, extra, codec);
}

/** A Nicira multipart (NXST) request/reply, in every version. */
function vmp<T extends string, B>(
  type: T, subtype: number, reply: boolean, len: number, extra: number, codec: BodyCodec<B>,
): OfpRaw<T, B> {
  const base = type.replace(/_(REQUEST|REPLY)$/, "");
  return raw(type, `${base} ${reply ? "reply" : "request"}`, 1, V_MAX, { kind: "vstats", vendor: NX_VENDOR_ID, subtype, reply }, len, extra, codec);
}

/** A Nicira multipart message that exists only in OpenFlow 1.0 (the flow statistics). */
function nxst10<T extends string, B>(
  type: T, subtype: number, reply: boolean, len: number, extra: number, codec: BodyCodec<B>,
): OfpRaw<T, B> {
  const base = type.replace(/_(REQUEST|REPLY)$/, "");
  return raw(type, `${base} ${reply ? "reply" : "request"}`, 1, 1, { kind: "vstats", vendor: NX_VENDOR_ID, subtype, reply }, len, extra, codec);
}

/** A Nicira multipart message that exists in versions lo..hi only. */
function nxstv<T extends string, B>(
  type: T, lo: number, hi: number, subtype: number, reply: boolean, len: number, extra: number, codec: BodyCodec<B>,
): OfpRaw<T, B> {
  const base = type.replace(/_(REQUEST|REPLY)$/, "");
  return raw(type, `${base} ${reply ? "reply" : "request"}`, lo, hi, { kind: "vstats", vendor: NX_VENDOR_ID, subtype, reply }, len, extra, codec);
}

/** Every wire format tsovs speaks. Order matters only for readability. */
export const OFP_RAWS = [
  // Immutable messages.
  raw("OFPT_HELLO", "OFPT_HELLO", 1, V_MAX, t(0), 0, 1, HELLO_CODEC),
  raw("OFPT_ERROR", "OFPT_ERROR", 1, V_MAX, t(1), 4, 1, ERROR_CODEC),
  raw("OFPT_ECHO_REQUEST", "OFPT_ECHO_REQUEST", 1, V_MAX, t(2), 0, 1, ECHO_CODEC),
  raw("OFPT_ECHO_REPLY", "OFPT_ECHO_REPLY", 1, V_MAX, t(3), 0, 1, ECHO_CODEC),
  // Switch configuration.
  raw("OFPT_FEATURES_REQUEST", "OFPT_FEATURES_REQUEST", 1, V_MAX, t(5), 0, 0, EMPTY_CODEC),
  raw("OFPT_FEATURES_REPLY", "OFPT_FEATURES_REPLY", 1, 1, t(6), 24, 48, FEATURES_REPLY_CODEC),
  raw("OFPT_FEATURES_REPLY", "OFPT_FEATURES_REPLY", 2, 3, t(6), 24, 64, FEATURES_REPLY_CODEC),
  raw("OFPT_FEATURES_REPLY", "OFPT_FEATURES_REPLY", 4, V_MAX, t(6), 24, 0, FEATURES_REPLY_CODEC),
  raw("OFPT_GET_CONFIG_REQUEST", "OFPT_GET_CONFIG_REQUEST", 1, V_MAX, t(7), 0, 0, EMPTY_CODEC),
  raw("OFPT_GET_CONFIG_REPLY", "OFPT_GET_CONFIG_REPLY", 1, V_MAX, t(8), 4, 0, GET_CONFIG_REPLY_CODEC),
  raw("OFPT_SET_CONFIG", "OFPT_SET_CONFIG", 1, V_MAX, t(9), 4, 0, SET_CONFIG_CODEC),
  // Asynchronous messages (packet-in, flow-removed: next session).
  raw("OFPT_PORT_STATUS", "OFPT_PORT_STATUS", 1, 1, t(12), 56, 0, PORT_STATUS_CODEC),
  raw("OFPT_PORT_STATUS", "OFPT_PORT_STATUS", 2, 4, t(12), 72, 0, PORT_STATUS_CODEC),
  raw("OFPT_PORT_STATUS", "OFPT_PORT_STATUS", 5, V_MAX, t(12), 48, 8, PORT_STATUS_CODEC),
  raw("OFPT_ROLE_STATUS", "OFPT_ROLE_STATUS", 5, V_MAX, t(30), 16, 8, C.ROLE_STATUS_CODEC),
  raw("ONFT_ROLE_STATUS", "ONFT_ROLE_STATUS", 4, 4, onft(1911), 16, 8, C.ROLE_STATUS_CODEC),
  // Group table modification (OpenFlow 1.5's form also serves OVS's OpenFlow 1.0 groups).
  raw("OFPT_GROUP_MOD", "OFPT_GROUP_MOD", 2, 5, t(15), 8, 8, G.GROUP_MOD_CODEC),
  raw("OFPT_GROUP_MOD", "OFPT_GROUP_MOD", 6, V_MAX, t(15), 16, 8, G15.GROUP_MOD15_CODEC),
  raw("NXT_GROUP_MOD", "NXT_GROUP_MOD", 1, 1, nxt(31), 16, 8, G15.GROUP_MOD15_CODEC),
  // Packet-in (all forms print alike) and NXT_RESUME, which carries a packet-in back.
  raw("OFPT_PACKET_IN", "OFPT_PACKET_IN", 1, 1, t(10), 10, 1, P.OFP10_PACKET_IN_CODEC),
  raw("OFPT_PACKET_IN", "OFPT_PACKET_IN", 2, 2, t(10), 16, 1, P.OFP11_PACKET_IN_CODEC),
  raw("OFPT_PACKET_IN", "OFPT_PACKET_IN", 3, 3, t(10), 8, 1, P.OFP12_PACKET_IN_CODEC),
  raw("OFPT_PACKET_IN", "OFPT_PACKET_IN", 4, V_MAX, t(10), 16, 1, P.OFP12_PACKET_IN_CODEC),
  raw("NXT_PACKET_IN", "NXT_PACKET_IN", 1, V_MAX, nxt(17), 24, 1, P.NX_PACKET_IN_CODEC),
  raw("NXT_PACKET_IN2", "NXT_PACKET_IN2", 1, V_MAX, nxt(30), 0, 8, P.NX_PACKET_IN2_CODEC),
  raw("NXT_RESUME", "NXT_RESUME", 1, V_MAX, nxt(28), 0, 8, P.NX_PACKET_IN2_CODEC),
  // Packet-out.
  raw("OFPT_PACKET_OUT", "OFPT_PACKET_OUT", 1, 1, t(13), 8, 1, P.OFP10_PACKET_OUT_CODEC),
  raw("OFPT_PACKET_OUT", "OFPT_PACKET_OUT", 2, 5, t(13), 16, 1, P.OFP11_PACKET_OUT_CODEC),
  raw("OFPT_PACKET_OUT", "OFPT_PACKET_OUT", 6, V_MAX, t(13), 8, 1, P.OFP15_PACKET_OUT_CODEC),
  // Flow removal notices.
  raw("OFPT_FLOW_REMOVED", "OFPT_FLOW_REMOVED", 1, 1, t(11), 80, 0, F.OFP10_FLOW_REMOVED_CODEC),
  raw("OFPT_FLOW_REMOVED", "OFPT_FLOW_REMOVED", 2, 5, t(11), 40, 8, F.OFP11_FLOW_REMOVED_CODEC),
  raw("OFPT_FLOW_REMOVED", "OFPT_FLOW_REMOVED", 6, V_MAX, t(11), 16, 8, F15.OFP15_FLOW_REMOVED_CODEC),
  raw("NXT_FLOW_REMOVED", "NXT_FLOW_REMOVED", 1, V_MAX, nxt(14), 40, 8, F.NX_FLOW_REMOVED_CODEC),
  // Flow table modification.
  raw("OFPT_FLOW_MOD", "OFPT_FLOW_MOD", 1, 1, t(14), 64, 8, F.OFP10_FLOW_MOD_CODEC),
  raw("OFPT_FLOW_MOD", "OFPT_FLOW_MOD", 2, V_MAX, t(14), 40, 8, F.OFP11_FLOW_MOD_CODEC),
  raw("NXT_FLOW_MOD", "NXT_FLOW_MOD", 1, V_MAX, nxt(13), 32, 8, F.NX_FLOW_MOD_CODEC),
  // Controller commands (flow-mod, packet-out, group-mod: next session).
  raw("OFPT_PORT_MOD", "OFPT_PORT_MOD", 1, 1, t(15), 24, 0, PORT_MOD_CODEC),
  raw("OFPT_PORT_MOD", "OFPT_PORT_MOD", 2, 4, t(16), 32, 0, PORT_MOD_CODEC),
  raw("OFPT_PORT_MOD", "OFPT_PORT_MOD", 5, V_MAX, t(16), 24, 8, PORT_MOD_CODEC),
  raw("OFPT_TABLE_MOD", "OFPT_TABLE_MOD", 2, 4, t(17), 8, 0, C.TABLE_MOD_CODEC),
  raw("OFPT_TABLE_MOD", "OFPT_TABLE_MOD", 5, V_MAX, t(17), 8, 8, C.TABLE_MOD_CODEC),
  raw("OFPT_METER_MOD", "OFPT_METER_MOD", 4, V_MAX, t(29), 8, 8, S.METER_MOD_CODEC),
  raw("OFPT_BARRIER_REQUEST", "OFPT_BARRIER_REQUEST", 1, 1, t(18), 0, 0, EMPTY_CODEC),
  raw("OFPT_BARRIER_REQUEST", "OFPT_BARRIER_REQUEST", 2, V_MAX, t(20), 0, 0, EMPTY_CODEC),
  raw("OFPT_BARRIER_REPLY", "OFPT_BARRIER_REPLY", 1, 1, t(19), 0, 0, EMPTY_CODEC),
  raw("OFPT_BARRIER_REPLY", "OFPT_BARRIER_REPLY", 2, V_MAX, t(21), 0, 0, EMPTY_CODEC),
  raw("OFPT_QUEUE_GET_CONFIG_REQUEST", "OFPT_QUEUE_GET_CONFIG_REQUEST", 1, 1, t(20), 4, 0, S.QUEUE_GET_CONFIG_REQUEST_CODEC),
  raw("OFPT_QUEUE_GET_CONFIG_REQUEST", "OFPT_QUEUE_GET_CONFIG_REQUEST", 2, 4, t(22), 8, 0, S.QUEUE_GET_CONFIG_REQUEST_CODEC),
  raw("OFPT_QUEUE_GET_CONFIG_REPLY", "OFPT_QUEUE_GET_CONFIG_REPLY", 1, 1, t(21), 8, 8, S.QUEUE_GET_CONFIG_REPLY_CODEC),
  raw("OFPT_QUEUE_GET_CONFIG_REPLY", "OFPT_QUEUE_GET_CONFIG_REPLY", 2, 4, t(23), 8, 8, S.QUEUE_GET_CONFIG_REPLY_CODEC),
  // Controller roles and asynchronous message configuration.
  raw("OFPT_ROLE_REQUEST", "OFPT_ROLE_REQUEST", 3, V_MAX, t(24), 16, 0, C.ROLE_CODEC),
  raw("OFPT_ROLE_REPLY", "OFPT_ROLE_REPLY", 3, V_MAX, t(25), 16, 0, C.ROLE_CODEC),
  raw("NXT_ROLE_REQUEST", "NXT_ROLE_REQUEST", 1, V_MAX, nxt(10), 4, 0, C.NX_ROLE_CODEC),
  raw("NXT_ROLE_REPLY", "NXT_ROLE_REPLY", 1, V_MAX, nxt(11), 4, 0, C.NX_ROLE_CODEC),
  raw("OFPT_GET_ASYNC_REQUEST", "OFPT_GET_ASYNC_REQUEST", 4, V_MAX, t(26), 0, 0, EMPTY_CODEC),
  raw("OFPT_GET_ASYNC_REPLY", "OFPT_GET_ASYNC_REPLY", 4, 4, t(27), 24, 0, C.ASYNC_CODEC),
  raw("OFPT_GET_ASYNC_REPLY", "OFPT_GET_ASYNC_REPLY", 5, V_MAX, t(27), 0, 8, C.ASYNC_CODEC),
  raw("OFPT_SET_ASYNC", "OFPT_SET_ASYNC", 4, 4, t(28), 24, 0, C.ASYNC_CODEC),
  raw("OFPT_SET_ASYNC", "OFPT_SET_ASYNC", 5, V_MAX, t(28), 0, 8, C.ASYNC_CODEC),
  raw("NXT_SET_ASYNC_CONFIG", "NXT_SET_ASYNC_CONFIG", 1, V_MAX, nxt(19), 24, 0, C.ASYNC_CODEC),
  raw("NXT_SET_ASYNC_CONFIG2", "NXT_SET_ASYNC_CONFIG2", 1, 4, nxt(27), 0, 8, C.ASYNC_CODEC),
  // Bundles and request forwarding.
  raw("OFPT_BUNDLE_CONTROL", "OFPT_BUNDLE_CONTROL", 5, V_MAX, t(33), 8, 8, C.BUNDLE_CONTROL_CODEC),
  raw("ONFT_BUNDLE_CONTROL", "ONFT_BUNDLE_CONTROL", 4, 4, onft(2300), 8, 8, C.BUNDLE_CONTROL_CODEC),
  raw("OFPT_BUNDLE_ADD_MESSAGE", "OFPT_BUNDLE_ADD_MESSAGE", 5, V_MAX, t(34), 8, 1, BUNDLE_ADD_CODEC),
  raw("ONFT_BUNDLE_ADD_MESSAGE", "ONFT_BUNDLE_ADD_MESSAGE", 4, 4, onft(2301), 8, 1, BUNDLE_ADD_CODEC),
  raw("OFPT_REQUESTFORWARD", "OFPT_REQUESTFORWARD", 5, V_MAX, t(32), 8, 8, S.REQUESTFORWARD_CODEC),
  raw("NXT_REQUESTFORWARD", "NXT_REQUESTFORWARD", 1, 3, nxt(132), 8, 8, S.REQUESTFORWARD_CODEC),
  raw("ONFT_REQUESTFORWARD", "ONFT_REQUESTFORWARD", 4, 4, onft(2350), 8, 8, S.REQUESTFORWARD_CODEC),
  raw("OFPT_TABLE_STATUS", "OFPT_TABLE_STATUS", 5, V_MAX, t(31), 16, 8, T.TABLE_STATUS_CODEC),
  // Nicira extensions without matches or actions.
  raw("NXT_SET_FLOW_FORMAT", "NXT_SET_FLOW_FORMAT", 1, 1, nxt(12), 4, 0, C.SET_FLOW_FORMAT_CODEC),
  raw("NXT_FLOW_MOD_TABLE_ID", "NXT_FLOW_MOD_TABLE_ID", 1, V_MAX, nxt(15), 8, 0, C.FLOW_MOD_TABLE_ID_CODEC),
  raw("NXT_SET_PACKET_IN_FORMAT", "NXT_SET_PACKET_IN_FORMAT", 1, V_MAX, nxt(16), 4, 0, C.SET_PACKET_IN_FORMAT_CODEC),
  raw("NXT_SET_CONTROLLER_ID", "NXT_SET_CONTROLLER_ID", 1, V_MAX, nxt(20), 8, 0, C.CONTROLLER_ID_CODEC),
  raw("NXT_TLV_TABLE_MOD", "NXT_TLV_TABLE_MOD", 1, V_MAX, nxt(24), 8, 8, C.TLV_TABLE_MOD_CODEC),
  raw("NXT_TLV_TABLE_REQUEST", "NXT_TLV_TABLE_REQUEST", 1, V_MAX, nxt(25), 0, 0, EMPTY_CODEC),
  raw("NXT_TLV_TABLE_REPLY", "NXT_TLV_TABLE_REPLY", 1, V_MAX, nxt(26), 16, 8, C.TLV_TABLE_REPLY_CODEC),
  raw("NXT_FLOW_AGE", "NXT_FLOW_AGE", 1, V_MAX, nxt(18), 0, 0, EMPTY_CODEC),
  raw("NXST_FLOW_MONITOR_REQUEST", "NXST_FLOW_MONITOR request", 1, 3, { kind: "vstats", vendor: NX_VENDOR_ID, subtype: 2, reply: false }, 0, 8, F.NX_FLOW_MONITOR_REQUEST_CODEC),
  raw("NXST_FLOW_MONITOR_REPLY", "NXST_FLOW_MONITOR reply", 1, 3, { kind: "vstats", vendor: NX_VENDOR_ID, subtype: 2, reply: true }, 0, 8, F.NX_FLOW_MONITOR_REPLY_CODEC),
  raw("NXT_FLOW_MONITOR_CANCEL", "NXT_FLOW_MONITOR_CANCEL", 1, 3, nxt(21), 4, 0, C.FLOW_MONITOR_CANCEL_CODEC),
  raw("NXT_FLOW_MONITOR_PAUSED", "NXT_FLOW_MONITOR_PAUSED", 1, 3, nxt(22), 0, 0, EMPTY_CODEC),
  raw("NXT_FLOW_MONITOR_RESUMED", "NXT_FLOW_MONITOR_RESUMED", 1, 3, nxt(23), 0, 0, EMPTY_CODEC),
  raw("ONFST_FLOW_MONITOR_REQUEST", "ONFST_FLOW_MONITOR request", 4, 4, { kind: "vstats", vendor: ONF_VENDOR_ID, subtype: 1870, reply: false }, 0, 8, M.ONF_FLOW_MONITOR_REQUEST_CODEC),
  raw("ONFST_FLOW_MONITOR_REPLY", "ONFST_FLOW_MONITOR reply", 4, 4, { kind: "vstats", vendor: ONF_VENDOR_ID, subtype: 1870, reply: true }, 0, 8, M.ONF_FLOW_MONITOR_REPLY_CODEC),
  raw("ONFT_FLOW_MONITOR_CANCEL", "ONFT_FLOW_MONITOR_CANCEL", 4, 4, onft(1870), 4, 0, C.FLOW_MONITOR_CANCEL_CODEC),
  raw("ONFT_FLOW_MONITOR_PAUSED", "ONFT_FLOW_MONITOR_PAUSED", 4, 4, onft(1871), 0, 0, EMPTY_CODEC),
  raw("ONFT_FLOW_MONITOR_RESUMED", "ONFT_FLOW_MONITOR_RESUMED", 4, 4, onft(1872), 0, 0, EMPTY_CODEC),
  mp("OFPST_FLOW_MONITOR_REQUEST", 5, V_MAX, 16, false, 0, 8, M.FLOW_MONITOR_REQUEST14_CODEC),
  mp("OFPST_FLOW_MONITOR_REPLY", 5, V_MAX, 16, true, 0, 8, M.FLOW_MONITOR_REPLY14_CODEC),
  raw("NXT_CT_FLUSH_ZONE", "NXT_CT_FLUSH_ZONE", 1, V_MAX, nxt(29), 8, 0, C.CT_FLUSH_ZONE_CODEC),
  raw("NXT_CT_FLUSH", "NXT_CT_FLUSH", 1, V_MAX, nxt(32), 8, 8, CT_FLUSH_CODEC),
  vmp("NXST_IPFIX_BRIDGE_REQUEST", 3, false, 0, 0, EMPTY_CODEC),
  vmp("NXST_IPFIX_BRIDGE_REPLY", 3, true, 88, 0, S.IPFIX_BRIDGE_REPLY_CODEC),
  vmp("NXST_IPFIX_FLOW_REQUEST", 4, false, 0, 0, EMPTY_CODEC),
  vmp("NXST_IPFIX_FLOW_REPLY", 4, true, 0, 88, S.IPFIX_FLOW_REPLY_CODEC),
  // Multipart: flow and aggregate statistics.
  mp("OFPST_FLOW_REQUEST", 1, 1, 1, false, 44, 0, F.OFP10_FLOW_STATS_REQUEST_CODEC),
  mp("OFPST_FLOW_REQUEST", 2, V_MAX, 1, false, 32, 8, F.OFP11_FLOW_STATS_REQUEST_CODEC),
  nxst10("NXST_FLOW_REQUEST", 0, false, 8, 8, F.NX_FLOW_STATS_REQUEST_CODEC),
  mp("OFPST_FLOW_REPLY", 1, 1, 1, true, 0, 1, F.OFP10_FLOW_STATS_REPLY_CODEC),
  mp("OFPST_FLOW_REPLY", 2, 5, 1, true, 0, 1, F.OFP11_FLOW_STATS_REPLY_CODEC),
  mp("OFPST_FLOW_REPLY", 6, V_MAX, 1, true, 0, 1, F15.OFP15_FLOW_STATS_REPLY_CODEC),
  nxst10("NXST_FLOW_REPLY", 0, true, 0, 1, F.NX_FLOW_STATS_REPLY_CODEC),
  mp("OFPST_AGGREGATE_REQUEST", 1, 1, 2, false, 44, 0, F.OFP10_FLOW_STATS_REQUEST_CODEC),
  mp("OFPST_AGGREGATE_REQUEST", 2, V_MAX, 2, false, 32, 8, F.OFP11_FLOW_STATS_REQUEST_CODEC),
  nxst10("NXST_AGGREGATE_REQUEST", 1, false, 8, 8, F.NX_FLOW_STATS_REQUEST_CODEC),
  mp("OFPST_AGGREGATE_REPLY", 1, 5, 2, true, 24, 0, F.AGGREGATE_REPLY_CODEC),
  mp("OFPST_AGGREGATE_REPLY", 6, V_MAX, 2, true, 0, 1, F15.OFP15_AGGREGATE_REPLY_CODEC),
  nxst10("NXST_AGGREGATE_REPLY", 1, true, 24, 0, F.AGGREGATE_REPLY_CODEC),
  // Multipart: description, ports, queues, tables.
  mp("OFPST_DESC_REQUEST", 1, V_MAX, 0, false, 0, 0, EMPTY_CODEC),
  mp("OFPST_DESC_REPLY", 1, V_MAX, 0, true, 1056, 0, S.DESC_REPLY_CODEC),
  mp("OFPST_TABLE_REQUEST", 1, V_MAX, 3, false, 0, 0, EMPTY_CODEC),
  mp("OFPST_TABLE_REPLY", 1, 1, 3, true, 0, 64, S.TABLE_STATS_REPLY_CODEC),
  mp("OFPST_TABLE_REPLY", 2, 2, 3, true, 0, 88, S.TABLE_STATS_REPLY_CODEC),
  mp("OFPST_TABLE_REPLY", 3, 3, 3, true, 0, 128, S.TABLE_STATS_REPLY_CODEC),
  mp("OFPST_TABLE_REPLY", 4, V_MAX, 3, true, 0, 24, S.TABLE_STATS_REPLY_CODEC),
  mp("OFPST_PORT_REQUEST", 1, V_MAX, 4, false, 8, 0, S.PORT_STATS_REQUEST_CODEC),
  mp("OFPST_PORT_REPLY", 1, 2, 4, true, 0, 104, S.PORT_STATS_REPLY_CODEC),
  mp("OFPST_PORT_REPLY", 3, 3, 4, true, 0, 104, S.PORT_STATS_REPLY_CODEC),
  mp("OFPST_PORT_REPLY", 4, 4, 4, true, 0, 112, S.PORT_STATS_REPLY_CODEC),
  mp("OFPST_PORT_REPLY", 5, V_MAX, 4, true, 0, 8, S.PORT_STATS_REPLY_CODEC),
  mp("OFPST_QUEUE_REQUEST", 1, V_MAX, 5, false, 8, 0, S.QUEUE_STATS_REQUEST_CODEC),
  mp("OFPST_QUEUE_REPLY", 1, 3, 5, true, 0, 32, S.QUEUE_STATS_REPLY_CODEC),
  mp("OFPST_QUEUE_REPLY", 4, 4, 5, true, 0, 40, S.QUEUE_STATS_REPLY_CODEC),
  mp("OFPST_QUEUE_REPLY", 5, V_MAX, 5, true, 0, 8, S.QUEUE_STATS_REPLY_CODEC),
  mp("OFPST_PORT_DESC_REQUEST", 1, 5, 13, false, 0, 0, PORT_DESC_REQUEST_CODEC),
  mp("OFPST_PORT_DESC_REQUEST", 6, V_MAX, 13, false, 8, 0, PORT_DESC_REQUEST_CODEC),
  mp("OFPST_PORT_DESC_REPLY", 1, 1, 13, true, 0, 48, PORT_DESC_REPLY_CODEC),
  mp("OFPST_PORT_DESC_REPLY", 2, 4, 13, true, 0, 64, PORT_DESC_REPLY_CODEC),
  mp("OFPST_PORT_DESC_REPLY", 5, V_MAX, 13, true, 0, 8, PORT_DESC_REPLY_CODEC),
  mp("OFPST_QUEUE_DESC_REQUEST", 5, V_MAX, 15, false, 8, 0, S.QUEUE_STATS_REQUEST_CODEC),
  mp("OFPST_QUEUE_DESC_REPLY", 5, V_MAX, 15, true, 0, 8, S.QUEUE_DESC_REPLY_CODEC),
  // Multipart: groups and meters (group stats/desc need actions: next session).
  mp("OFPST_GROUP_REQUEST", 2, V_MAX, 6, false, 8, 0, S.GROUP_REQUEST_CODEC),
  mp("OFPST_GROUP_REPLY", 2, V_MAX, 6, true, 0, 8, S.GROUP_STATS_REPLY_CODEC),
  mp("OFPST_GROUP_DESC_REQUEST", 2, 5, 7, false, 0, 0, S.GROUP_REQUEST_CODEC),
  mp("OFPST_GROUP_DESC_REQUEST", 6, V_MAX, 7, false, 8, 0, S.GROUP_REQUEST_CODEC),
  mp("OFPST_GROUP_DESC_REPLY", 2, 5, 7, true, 0, 8, G.GROUP_DESC_REPLY_CODEC),
  mp("OFPST_GROUP_DESC_REPLY", 6, V_MAX, 7, true, 0, 8, G15.GROUP_DESC_REPLY15_CODEC),
  nxstv("NXST_GROUP_REQUEST", 1, 1, 7, false, 8, 0, S.GROUP_REQUEST_CODEC),
  nxstv("NXST_GROUP_REPLY", 1, 1, 7, true, 0, 8, S.GROUP_STATS_REPLY_CODEC),
  nxstv("NXST_GROUP_DESC_REQUEST", 1, 1, 8, false, 8, 0, S.GROUP_REQUEST_CODEC),
  nxstv("NXST_GROUP_DESC_REPLY", 1, 1, 8, true, 0, 8, G15.GROUP_DESC_REPLY15_CODEC),
  nxstv("NXST_GROUP_FEATURES_REQUEST", 1, 2, 9, false, 0, 0, EMPTY_CODEC),
  nxstv("NXST_GROUP_FEATURES_REPLY", 1, 2, 9, true, 40, 0, S.GROUP_FEATURES_CODEC),
  mp("OFPST_TABLE_FEATURES_REQUEST", 4, V_MAX, 12, false, 0, 8, TF.TABLE_FEATURES_CODEC),
  mp("OFPST_TABLE_FEATURES_REPLY", 4, V_MAX, 12, true, 64, 8, TF.TABLE_FEATURES_CODEC),
  mp("OFPST_TABLE_DESC_REQUEST", 5, V_MAX, 14, false, 0, 0, EMPTY_CODEC),
  mp("OFPST_TABLE_DESC_REPLY", 5, V_MAX, 14, true, 0, 8, T.TABLE_DESC_REPLY_CODEC),
  mp("OFPST_GROUP_FEATURES_REQUEST", 3, V_MAX, 8, false, 0, 0, EMPTY_CODEC),
  mp("OFPST_GROUP_FEATURES_REPLY", 3, V_MAX, 8, true, 40, 0, S.GROUP_FEATURES_CODEC),
  mp("OFPST_METER_REQUEST", 4, V_MAX, 9, false, 8, 0, S.METER_REQUEST_CODEC),
  mp("OFPST_METER_REPLY", 4, V_MAX, 9, true, 0, 8, S.METER_STATS_REPLY_CODEC),
  mp("OFPST_METER_CONFIG_REQUEST", 4, V_MAX, 10, false, 8, 0, S.METER_REQUEST_CODEC),
  mp("OFPST_METER_CONFIG_REPLY", 4, V_MAX, 10, true, 0, 8, S.METER_CONFIG_REPLY_CODEC),
  mp("OFPST_METER_FEATURES_REQUEST", 4, V_MAX, 11, false, 0, 0, EMPTY_CODEC),
  mp("OFPST_METER_FEATURES_REPLY", 4, V_MAX, 11, true, 16, 0, S.METER_FEATURES_CODEC),
] as const;

type AnyRaw = (typeof OFP_RAWS)[number];
/** Every message type id the table knows. */
export type OfpMsgType = AnyRaw["type"];
type BodyOf<C> = C extends BodyCodec<infer B> ? B : never;
/** The body type of each message type. */
export type OfpBodies = { [R in AnyRaw as R["type"]]: BodyOf<R["codec"]> };

/** A decoded (or to-be-encoded) OpenFlow message. */
export type OfpMessage = {
  [K in OfpMsgType]: {
    type: K;
    version: number;
    xid: number;
    /** Multipart flags (OFPSF_REPLY_MORE); 0 for other messages. */
    statsFlags?: number;
    body: OfpBodies[K];
  };
}[OfpMsgType];

export function isStatsWire(w: WireId): boolean {
  return w.kind === "stats" || w.kind === "vstats";
}

/* ---------------- lookup ---------------- */

const HELLO_RAW = OFP_RAWS[0] as OfpRaw;
/** Raws by type, then by version (rawFor runs per message sent: no key string per lookup). */
const BY_TYPE = new Map<string, (OfpRaw | undefined)[]>();
/**
 * Raws by wire identity, for lookupRaw (per message received, so numeric
 * keys, no key string per lookup): the kind, version, reply bit and vendor
 * (Nicira or ONF) pick a map, the header type, stat or subtype the raw in it.
 */
const BY_WIRE_NUM = new Map<number, Map<number, OfpRaw>>();

const KIND_CODE = { ofpt: 0, stats: 1, vendor: 2, vstats: 3 } as const;

function wireGroup(kind: WireId["kind"], version: number, reply: boolean, vendor: number): number {
  return ((KIND_CODE[kind] * 16 + version) * 2 + (reply ? 1 : 0)) * 2 + (vendor === ONF_VENDOR_ID ? 1 : 0);
}

function wireLookup(kind: WireId["kind"], version: number, reply: boolean, vendor: number, code: number): OfpRaw | undefined {
  return BY_WIRE_NUM.get(wireGroup(kind, version, reply, vendor))?.get(code);
}

for (const r of OFP_RAWS as readonly OfpRaw[]) {
  for (let v = r.lo; v <= r.hi; v++) {
    let byVersion = BY_TYPE.get(r.type);
    if (!byVersion) BY_TYPE.set(r.type, (byVersion = []));
    byVersion[v] = r;
    const w = r.wire;
    // Only Nicira and ONF experimenter messages are looked up (others are OFPBRC_BAD_VENDOR first).
    if ((w.kind === "vendor" || w.kind === "vstats") && w.vendor !== NX_VENDOR_ID && w.vendor !== ONF_VENDOR_ID) continue;
    const g = wireGroup(w.kind, v, w.kind === "stats" || w.kind === "vstats" ? w.reply : false, w.kind === "vendor" || w.kind === "vstats" ? w.vendor : 0);
    let inner = BY_WIRE_NUM.get(g);
    if (!inner) BY_WIRE_NUM.set(g, (inner = new Map()));
    inner.set(w.kind === "ofpt" ? w.type : w.kind === "stats" ? w.stat : w.subtype, r);
  }
}

/** The raw used to send `type` in `version`, or null if it has none. */
export function rawFor(type: string, version: number): OfpRaw | null {
  if (type === "OFPT_HELLO" && version > 0 && version < 0x100) return HELLO_RAW;
  return BY_TYPE.get(type)?.[version] ?? null;
}

/** Multipart header (type, flags) position: after the 8-byte header. */
const STATS_TYPES_OF10 = { request: 16, reply: 17, headerLen: 12 } as const;
const STATS_TYPES_OF11 = { request: 18, reply: 19, headerLen: 16 } as const;

export function statsTypes(version: number): { request: number; reply: number; headerLen: number } {
  return version === 1 ? STATS_TYPES_OF10 : STATS_TYPES_OF11;
}

/** Result of identifying a message's raw from its first bytes. */
export interface RawLookup {
  raw: OfpRaw;
  /** Offset where the body (after all headers) starts. */
  bodyOffset: number;
  statsFlags: number;
}

/**
 * Identifies the raw of a message whose bytes are `b[0..length)`, as OVS's
 * ofpraw_decode_partial: unknown versions, types, multipart types, vendors
 * and subtypes each get their own error.
 */
export function lookupRaw(b: Uint8Array, length: number): RawLookup | DecodeError {
  const r = new OfpReader(b, 0, length);
  const version = r.u8();
  const type = r.u8();
  r.skip(6);
  if (r.overrun) return fail("OFPBRC_BAD_LEN");
  // A hello is understood in any version: that is how versions are negotiated.
  if (type === 0 && version > 0) return { raw: HELLO_RAW, bodyOffset: 8, statsFlags: 0 };
  // Like OVS's ofpraw decoding, a version it does not speak is an unknown
  // type here; the connection layer answers OFPBRC_BAD_VERSION itself.
  if (version < 1 || version > V_MAX) return fail("OFPBRC_BAD_TYPE");
  const stt = statsTypes(version);
  if (type === OFPT_VENDOR) {
    if (r.remaining < 8) return fail("OFPBRC_BAD_LEN");
    const vendor = r.u32();
    const subtype = r.u32();
    if (vendor !== NX_VENDOR_ID && vendor !== ONF_VENDOR_ID) return fail("OFPBRC_BAD_VENDOR");
    const raw = wireLookup("vendor", version, false, vendor, subtype);
    if (!raw) return fail("OFPBRC_BAD_SUBTYPE");
    return { raw, bodyOffset: 16, statsFlags: 0 };
  }
  if (type === stt.request || type === stt.reply) {
    const reply = type === stt.reply;
    if (r.remaining < stt.headerLen - 8) return fail("OFPBRC_BAD_LEN");
    const stat = r.u16();
    const flags = r.u16();
    if (version > 1) r.skip(4);
    if (stat === OFPST_VENDOR) {
      if (r.remaining < 8) return fail("OFPBRC_BAD_LEN");
      const vendor = r.u32();
      const subtype = r.u32();
      if (vendor !== NX_VENDOR_ID && vendor !== ONF_VENDOR_ID) return fail("OFPBRC_BAD_VENDOR");
      const raw = wireLookup("vstats", version, reply, vendor, subtype);
      if (!raw) return fail("OFPBRC_BAD_SUBTYPE");
      // OF1.0 Nicira stats carry 4 more bytes of padding.
      return { raw, bodyOffset: stt.headerLen + 8 + (version === 1 ? 4 : 0), statsFlags: flags };
    }
    const raw = wireLookup("stats", version, reply, 0, stat);
    if (!raw) return fail("OFPBRC_BAD_STAT");
    return { raw, bodyOffset: stt.headerLen, statsFlags: flags };
  }
  const raw = wireLookup("ofpt", version, false, 0, type);
  if (!raw) return fail("OFPBRC_BAD_TYPE");
  return { raw, bodyOffset: 8, statsFlags: 0 };
}

setNestedTypeLookup((b) => {
  const look = lookupRaw(b, b.length);
  if (isDecodeError(look)) return look;
  return lengthOk(look.raw, look.bodyOffset, b.length) ? look.raw.type : fail("OFPBRC_BAD_LEN");
});

/** The warning OVS logs for a message of length `length` that breaks the raw's rule. */
export function lengthWarningText(raw: OfpRaw, bodyOffset: number, length: number): string {
  const min = bodyOffset + raw.len;
  const head = `received ${raw.name} with incorrect length ${length}`;
  if (raw.extra === 0) return `${head} (expected length ${min})`;
  if (raw.extra === 1) return `${head} (expected length at least ${min} bytes)`;
  return `${head} (must be exactly ${min} bytes or longer by an integer multiple of ${raw.extra} bytes)`;
}

/** Checks the raw's length rule for a message of `length` bytes. */
export function lengthOk(raw: OfpRaw, bodyOffset: number, length: number): boolean {
  const body = length - bodyOffset;
  if (body < raw.len) return false;
  const extra = body - raw.len;
  if (raw.extra === 0) return extra === 0;
  return extra % raw.extra === 0;
}

/* ---------------- decode ---------------- */

export type DecodeResult =
  | { ok: true; msg: OfpMessage }
  | {
      ok: false;
      error: OfpErrorName;
      /** The raw, when the header was understood (then the error is the body's). */
      raw?: OfpRaw;
      /** Body decoded before the error, for printing (list bodies). */
      partial?: unknown;
      /** Text ofp-print shows for the error when it is not an OpenFlow error's name. */
      errorText?: string;
      statsFlags?: number;
      /** The header's version, type and xid, for building an error reply. */
      version: number;
      xid: number;
    };

/**
 * Decodes one complete message (`b` is exactly one message, as framed by
 * `OfpFramer`). Never throws: every problem is an OpenFlow error name.
 */
export function decodeMessage(b: Uint8Array, verbosity = 2): DecodeResult {
  const hv = b.length >= 1 ? b[0]! : 0;
  const xid = b.length >= 8 ? ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0 : 0;
  if (b.length < OFP_HEADER_LEN) return { ok: false, error: "OFPBRC_BAD_LEN", version: hv, xid };
  const length = (b[2]! << 8) | b[3]!;
  if (length < OFP_HEADER_LEN || length > b.length) return { ok: false, error: "OFPBRC_BAD_LEN", version: hv, xid };
  const look = lookupRaw(b, length);
  if (isDecodeError(look)) return { ok: false, error: look.decodeError, version: hv, xid };
  const { raw, bodyOffset, statsFlags } = look;
  if (!lengthOk(raw, bodyOffset, length)) return { ok: false, error: "OFPBRC_BAD_LEN", version: hv, xid };
  const ctx: CodecContext = { version: hv, verbosity, type: raw.type, xid };
  const r = new OfpReader(b, bodyOffset, length);
  let body: unknown;
  try {
    body = raw.codec.decode(r, ctx);
  } catch {
    // A codec bug must not take the connection down; report it as OVS
    // reports a body it cannot parse.
    return { ok: false, error: "OFPBRC_BAD_LEN", raw, version: hv, xid };
  }
  if (isDecodeError(body)) {
    const res: DecodeResult = { ok: false, error: body.decodeError, raw, version: hv, xid, statsFlags };
    if (body.partial !== undefined) res.partial = body.partial;
    if (body.printedAs !== undefined) res.errorText = body.printedAs;
    return res;
  }
  if (r.overrun) return { ok: false, error: "OFPBRC_BAD_LEN", raw, version: hv, xid };
  const msg = { type: raw.type, version: hv, xid, body } as OfpMessage;
  if (isStatsWire(raw.wire)) msg.statsFlags = statsFlags;
  return { ok: true, msg };
}

/* ---------------- encode ---------------- */

/** Appends the headers for `raw` and returns the fork of the length. */
function putHeaders(w: OfpWriter, raw: OfpRaw, version: number, xid: number, statsFlags: number): void {
  const wire = raw.wire;
  const stt = statsTypes(version);
  let type: number;
  switch (wire.kind) {
    case "ofpt":
      type = wire.type;
      break;
    case "vendor":
      type = OFPT_VENDOR;
      break;
    case "stats":
    case "vstats":
      type = wire.reply ? stt.reply : stt.request;
      break;
  }
  w.u8(version).u8(type).u16(0).u32(xid);
  switch (wire.kind) {
    case "ofpt":
      break;
    case "vendor":
      w.u32(wire.vendor).u32(wire.subtype);
      break;
    case "stats":
      w.u16(wire.stat).u16(statsFlags);
      if (version > 1) w.zeros(4);
      break;
    case "vstats":
      w.u16(OFPST_VENDOR).u16(statsFlags);
      if (version > 1) w.zeros(4);
      w.u32(wire.vendor).u32(wire.subtype);
      if (version === 1) w.zeros(4);
      break;
  }
}

/** Thrown for programming errors only (a type a version lacks). */
export class OfpEncodeError extends Error {
  readonly code = "OFP_ENCODE";
}

/**
 * Encodes a message; throws OfpEncodeError if its type is not in its
 * version or it is longer than `maxLength` (a caller that splits an
 * oversized multipart reply itself passes Infinity; the length field then
 * holds only the low 16 bits).
 */
export function encodeMessage(m: OfpMessage, maxLength = 0xffff): Uint8Array {
  const raw = rawFor(m.type, m.version);
  if (!raw) throw new OfpEncodeError(`${m.type} does not exist in OpenFlow version 0x${m.version.toString(16)}`);
  const w = new OfpWriter(64);
  putHeaders(w, raw, m.version, m.xid, m.statsFlags ?? 0);
  (raw.codec as BodyCodec<unknown>).encode(w, m.body, { version: m.version, verbosity: 2, type: raw.type, xid: m.xid });
  if (w.length > maxLength) throw new OfpEncodeError(`${m.type} message too long (${w.length} bytes)`);
  w.setU16(2, w.length);
  return w.finish();
}

/**
 * Writes the body of `m` alone (no headers) at the end of `w`: for a
 * reply streamed in parts, whose messages the caller frames.
 */
export function encodeBodyInto(w: OfpWriter, m: OfpMessage): void {
  const raw = rawFor(m.type, m.version);
  if (!raw) throw new OfpEncodeError(`${m.type} does not exist in OpenFlow version 0x${m.version.toString(16)}`);
  (raw.codec as BodyCodec<unknown>).encode(w, m.body, { version: m.version, verbosity: 2, type: raw.type, xid: m.xid });
}

/* ---------------- framing ---------------- */

/**
 * Splits a byte stream into OpenFlow messages across chunk boundaries.
 * Push chunks with `push()`; `next()` returns the next whole message, or
 * null when more bytes are needed. A header whose length is below 8 is a
 * framing error (`error` is set and the stream cannot continue), as it is
 * for OVS's vconn-stream.
 *
 * A chunk that starts with no bytes pending is read in place: the messages
 * it holds whole are views of it, not copies (a flow_mod and its barrier
 * arrive in one chunk; two allocations each were visible in the cost of a
 * flow_mod). The caller must hand over chunks it will not write to again,
 * as Node's socket reads are. Only bytes that straddle chunks are copied
 * into the framer's own buffer, and messages taken from there are copies.
 * (A decoded value that is a view of its message, as some actions' are,
 * keeps the chunk; flow_mods, which tables keep by the thousand, keep no
 * view of their message.)
 */
export class OfpFramer {
  private buf: Uint8Array = EMPTY_BYTES;
  /** Whether `buf` is the caller's chunk (read in place) rather than `own`. */
  private inPlace = false;
  /** The framer's own buffer for bytes that straddle chunks, kept for reuse. */
  private own: Uint8Array = EMPTY_BYTES;
  private start = 0;
  private end = 0;
  /** Set when the stream is broken (length field < 8). */
  error: string | null = null;

  push(chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (live === 0) {
      this.buf = chunk;
      this.inPlace = true;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    if (this.inPlace || this.end + chunk.length > this.own.length) {
      const from = this.buf.subarray(this.start, this.end);
      if (live + chunk.length > this.own.length) this.own = new Uint8Array(Math.max(this.own.length * 2, live + chunk.length, 4096));
      this.own.set(from);
      this.buf = this.own;
      this.inPlace = false;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Bytes buffered but not yet returned. */
  get pending(): number {
    return this.end - this.start;
  }

  next(): Uint8Array | null {
    if (this.error) return null;
    const avail = this.end - this.start;
    if (avail < OFP_HEADER_LEN) return null;
    const len = (this.buf[this.start + 2]! << 8) | this.buf[this.start + 3]!;
    if (len < OFP_HEADER_LEN) {
      this.error = `received too-short ofp_header (${len} bytes)`;
      return null;
    }
    if (avail < len) return null;
    const at = this.start;
    this.start += len;
    // A plain Uint8Array either way (a subarray of a Node Buffer would be a Buffer).
    const msg = this.inPlace ? new Uint8Array(this.buf.buffer, this.buf.byteOffset + at, len) : this.buf.slice(at, this.start);
    if (this.start === this.end) {
      // Nothing pending: let go of the caller's chunk.
      this.buf = EMPTY_BYTES;
      this.start = this.end = 0;
    }
    return msg;
  }
}

const EMPTY_BYTES = new Uint8Array(0);

/* ---------------- replies OVS builds from errors ---------------- */

/**
 * The OFPT_ERROR OVS sends in reply to a request it rejects (ofperr_encode
 * _reply): same version and xid, echoing at most the first 64 bytes of the
 * request.
 */
export function errorReply(error: OfpErrorName, request: Uint8Array): OfpMessage {
  const version = request.length >= 1 ? request[0]! : 1;
  const xid = request.length >= 8 ? new DataView(request.buffer, request.byteOffset, request.byteLength).getUint32(4) : 0;
  const len = request.length >= 4 ? Math.min((request[2]! << 8) | request[3]!, request.length) : request.length;
  const v = version >= 1 && version <= V_MAX ? version : 1;
  return { type: "OFPT_ERROR", version: v, xid, body: { error, data: request.slice(0, Math.min(len, 64)) } };
}

/** The hello-failed error OVS sends when negotiation fails (ofperr_encode_hello). */
export function helloFailed(version: number, text: string, error: OfpErrorName = "OFPHFC_INCOMPATIBLE"): OfpMessage {
  const v = version >= 1 && version <= V_MAX ? version : 1;
  return { type: "OFPT_ERROR", version: v, xid: 0, body: { error, data: new TextEncoder().encode(text) } };
}
