/**
 * NXT_CT_FLUSH (OVS 3.1): flush the connection-tracking entries that
 * match an original and/or reply tuple (addresses, ports or ICMP id, type
 * and code), an IP protocol and address family, optionally in one zone.
 * Properties on the wire (nested tuple properties), text as ofp-print.
 */
import { OfpReader, type OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type DecodeError, fail, isDecodeError, type OfpProp, pullOfpProp, putProperty } from "./ofp-codec.js";
import { ipv6ToString } from "../packet/bytes.js";

export const AF_INET = 2;
export const AF_INET6 = 10;

export interface CtTuple {
  /** IPv6 address or IPv4-mapped IPv6 address (16 bytes; all zero: any). */
  src: Uint8Array;
  dst: Uint8Array;
  /** Source port, or the ICMP id. */
  srcPort: number;
  /** Destination port, or ICMP code (high byte) and type (low byte), as OVS overlays them. */
  dstPort: number;
}

export interface CtFlushBody {
  /** Zone to flush in; null for every zone. */
  zoneId: number | null;
  ipProto: number;
  /**
   * Address family, as OVS infers it from the tuples' addresses (IPv4-mapped:
   * AF_INET, other: AF_INET6; 0 with no address). Not on the wire itself.
   */
  family: number;
  orig: CtTuple;
  reply: CtTuple;
}

export function emptyCtTuple(): CtTuple {
  return { src: new Uint8Array(16), dst: new Uint8Array(16), srcPort: 0, dstPort: 0 };
}

const CT_ORIG_TUPLE = 0;
const CT_REPLY_TUPLE = 1;
const CT_ZONE_ID = 2;
const TUPLE_SRC = 0;
const TUPLE_DST = 1;
const TUPLE_SRC_PORT = 2;
const TUPLE_DST_PORT = 3;
const TUPLE_ICMP_ID = 4;
const TUPLE_ICMP_TYPE = 5;
const TUPLE_ICMP_CODE = 6;

const isIcmp = (proto: number): boolean => proto === 1 || proto === 58;

const isMapped = (a: Uint8Array): boolean => a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;

function decodeTuple(p: OfpProp, t: CtTuple, body: CtFlushBody): DecodeError | null {
  if (p.payload.length < 4) return fail("OFPBPC_BAD_LEN");
  const r = new OfpReader(p.payload, 4);
  while (r.remaining > 0) {
    const q = pullOfpProp(r);
    if (isDecodeError(q)) return q;
    const b = q.payload;
    switch (q.type) {
      case TUPLE_SRC:
      case TUPLE_DST:
      {
        // At least an address; OVS reads the first 16 bytes.
        if (b.length < 16) return fail("OFPBPC_BAD_LEN");
        if (q.type === TUPLE_SRC) t.src = b.slice(0, 16);
        else t.dst = b.slice(0, 16);
        // Every address names the family; they must agree.
        const family = isMapped(b.subarray(0, 16)) ? AF_INET : AF_INET6;
        if (body.family && body.family !== family) return fail("OFPBPC_BAD_VALUE");
        body.family = family;
        break;
      }
      case TUPLE_SRC_PORT:
      case TUPLE_DST_PORT:
      case TUPLE_ICMP_ID:
        if (b.length < 2) return fail("OFPBPC_BAD_LEN");
        if (q.type === TUPLE_DST_PORT) t.dstPort = (b[0]! << 8) | b[1]!;
        else t.srcPort = (b[0]! << 8) | b[1]!;
        break;
      case TUPLE_ICMP_TYPE:
        if (b.length < 1) return fail("OFPBPC_BAD_LEN");
        t.dstPort = (t.dstPort & 0xff00) | b[0]!;
        break;
      case TUPLE_ICMP_CODE:
        if (b.length < 1) return fail("OFPBPC_BAD_LEN");
        t.dstPort = (b[0]! << 8) | (t.dstPort & 0xff);
        break;
      default:
        // Unknown tuple properties are ignored, as OVS does.
        break;
    }
  }
  return null;
}

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

function encodeTuple(w: OfpWriter, type: number, t: CtTuple, proto: number): void {
  const icmp = isIcmp(proto);
  if (isZero(t.src) && isZero(t.dst) && (icmp ? false : !t.srcPort && !t.dstPort)) return;
  putProperty(w, type, (w) => {
    w.zeros(4);
    if (!isZero(t.src)) putProperty(w, TUPLE_SRC, (w) => w.bytes(t.src));
    if (!isZero(t.dst)) putProperty(w, TUPLE_DST, (w) => w.bytes(t.dst));
    if (icmp) {
      putProperty(w, TUPLE_ICMP_ID, (w) => w.u16(t.srcPort).zeros(2));
      putProperty(w, TUPLE_ICMP_TYPE, (w) => w.u8(t.dstPort & 0xff));
      putProperty(w, TUPLE_ICMP_CODE, (w) => w.u8(t.dstPort >> 8));
    } else {
      if (t.srcPort) putProperty(w, TUPLE_SRC_PORT, (w) => w.u16(t.srcPort).zeros(2));
      if (t.dstPort) putProperty(w, TUPLE_DST_PORT, (w) => w.u16(t.dstPort).zeros(2));
    }
  });
}

/** ipv6_format_mapped: an IPv4-mapped address in dotted form, any other as IPv6. */
function addrText(a: Uint8Array): string {
  return isMapped(a) ? `${a[12]}.${a[13]}.${a[14]}.${a[15]}` : ipv6ToString(a);
}

function tupleText(t: CtTuple, proto: number, family: number): string {
  const v4 = family === AF_INET;
  let s = `${v4 ? "ct_nw_src=" : "ct_ipv6_src="}${addrText(t.src)}${v4 ? ",ct_nw_dst=" : ",ct_ipv6_dst="}${addrText(t.dst)}`;
  if (isIcmp(proto)) s += `,icmp_id=${t.srcPort},icmp_type=${t.dstPort & 0xff},icmp_code=${t.dstPort >> 8}`;
  else s += `,ct_tp_src=${t.srcPort},ct_tp_dst=${t.dstPort}`;
  return s;
}

export const CT_FLUSH_CODEC: BodyCodec<CtFlushBody> = {
  decode(r) {
    const ipProto = r.u8();
    if (!isZero(r.bytes(7))) return fail("NXBRC_MUST_BE_ZERO");
    const body: CtFlushBody = { zoneId: null, ipProto, family: 0, orig: emptyCtTuple(), reply: emptyCtTuple() };
    while (r.remaining > 0) {
      const p = pullOfpProp(r);
      if (isDecodeError(p)) return p;
      let e: DecodeError | null = null;
      if (p.type === CT_ORIG_TUPLE) e = decodeTuple(p, body.orig, body);
      else if (p.type === CT_REPLY_TUPLE) e = decodeTuple(p, body.reply, body);
      else if (p.type === CT_ZONE_ID) {
        if (p.payload.length < 2) e = fail("OFPBPC_BAD_LEN");
        else body.zoneId = (p.payload[0]! << 8) | p.payload[1]!;
      }
      // Other properties are ignored, as OVS does.
      if (e) return e;
    }
    return body;
  },
  encode(w, b) {
    w.u8(b.ipProto).zeros(7);
    encodeTuple(w, CT_ORIG_TUPLE, b.orig, b.ipProto);
    encodeTuple(w, CT_REPLY_TUPLE, b.reply, b.ipProto);
    if (b.zoneId !== null) {
      const z = b.zoneId;
      putProperty(w, CT_ZONE_ID, (w) => w.u16(z).zeros(2));
    }
  },
  print(b) {
    return ` zone=${b.zoneId ?? 0} '${tupleText(b.orig, b.ipProto, b.family)},ct_nw_proto=${b.ipProto}' '${tupleText(b.reply, b.ipProto, b.family)}'`;
  },
};
