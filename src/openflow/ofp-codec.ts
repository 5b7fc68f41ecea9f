/**
 * The contract every message body codec in the message table fulfils, and
 * small shared helpers for printing (bit names, ports, MACs) and for
 * OpenFlow 1.4+ TLV properties.
 *
 * A codec is three functions over one plain-data body type:
 * - `decode(r, ctx)`: reads the body from `r` (positioned after the
 *   message's header, stats header or experimenter header) and returns the
 *   body, or the name of the OpenFlow error OVS would answer with. It never
 *   throws on malformed input.
 * - `encode(w, body, ctx)`: appends the body; the message header and the
 *   length are written by the caller.
 * - `print(body, ctx)`: the text ofp-print puts after "(xid=0x..):".
 */
import type { OfpReader, OfpWriter } from "./ofp-buffer.js";
import type { OfpErrorName } from "./ofp-errors.js";

export interface CodecContext {
  /** Wire version of the message. */
  readonly version: number;
  /** Message type id of the raw being coded (e.g. "NXT_SET_ASYNC_CONFIG"). */
  readonly type: string;
  /** The message's transaction id. */
  readonly xid: number;
  /** ofp-print verbosity (ovs-ofctl's default is 2). */
  readonly verbosity: number;
}

export interface BodyCodec<B> {
  decode(r: OfpReader, ctx: CodecContext): B | DecodeError;
  encode(w: OfpWriter, body: B, ctx: CodecContext): void;
  print(body: B, ctx: CodecContext): string;
}

/** A decode failure: the OpenFlow error OVS would reply with. */
export interface DecodeError {
  readonly decodeError: OfpErrorName;
  /**
   * The part of the body decoded before the failure (a list body with its
   * good entries), which ofp-print shows ahead of the error as OVS does.
   */
  readonly partial?: unknown;
  /**
   * What ofp-print shows instead of the error's name, when OVS's decoder
   * fails with something that is not an OpenFlow error (its OpenFlow 1.5
   * flow statistics decoder returns EINVAL, shown as "<invalid>").
   */
  readonly printedAs?: string;
}

/** A failure that keeps what was decoded so far. */
export function withPartial(e: DecodeError, partial: unknown): DecodeError {
  return e.printedAs === undefined ? { decodeError: e.decodeError, partial } : { decodeError: e.decodeError, partial, printedAs: e.printedAs };
}

/**
 * OVS's "not an OpenFlow error" failure (EINVAL): answered as a bad length
 * if it ever had to be, printed as ofp-print prints it.
 */
export function failInvalid(): DecodeError {
  return { decodeError: "OFPBRC_BAD_LEN", printedAs: "<invalid>" };
}

/**
 * Decodes entries with `one` until the body ends. On an error, the entries
 * decoded before it travel with the error (`wrap`ped as a body), because
 * ofp-print shows them ahead of the error as OVS does.
 */
export function decodeEntries<E, B>(r: OfpReader, one: (r: OfpReader) => E | DecodeError, wrap: (entries: E[]) => B): B | DecodeError {
  const entries: E[] = [];
  while (r.remaining > 0) {
    const e = one(r);
    if (isDecodeError(e)) return withPartial(e, wrap(entries));
    entries.push(e);
  }
  return wrap(entries);
}

export function fail(e: OfpErrorName): DecodeError {
  return { decodeError: e };
}

export function isDecodeError(x: unknown): x is DecodeError {
  return typeof x === "object" && x !== null && "decodeError" in x;
}

/** A codec for messages with no body at all. */
export const EMPTY_CODEC: BodyCodec<Record<string, never>> = {
  decode: () => ({}),
  encode: () => {},
  print: () => "",
};

/**
 * OVS's ofp_print_bit_names: names of set bits separated by `sep`, any
 * unnamed bits as one hex number, "0" when no bit is set.
 */
export function bitNames(bits: number, names: Readonly<Record<number, string>>, sep = " ", emptyText = "0"): string {
  bits >>>= 0;
  if (bits === 0) return emptyText;
  const parts: string[] = [];
  let rest = 0;
  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if ((bits & bit) === 0) continue;
    const n = names[bit];
    if (n !== undefined) parts.push(n);
    else rest = (rest | bit) >>> 0;
  }
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.join(sep);
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}

/** C's "%#x": "0" for zero, else "0x" and lowercase hex digits. */
export function hexAlt(v: number): string {
  return v === 0 ? "0" : `0x${(v >>> 0).toString(16)}`;
}

export function hex64(v: bigint, width = 16): string {
  return v.toString(16).padStart(width, "0");
}

/* ---------------- OpenFlow port numbers ---------------- */

/** OpenFlow port numbers in OVS's 16-bit space (OF1.0 values). */
export const OFPP_MAX = 0xff00;
export const OFPP_IN_PORT = 0xfff8;
export const OFPP_TABLE = 0xfff9;
export const OFPP_NORMAL = 0xfffa;
export const OFPP_FLOOD = 0xfffb;
export const OFPP_ALL = 0xfffc;
export const OFPP_CONTROLLER = 0xfffd;
export const OFPP_LOCAL = 0xfffe;
export const OFPP_NONE = 0xffff;
/** OF1.1+ ports 0xffffff00.. map to 0xff00.. in OVS's 16-bit space. */
export const OFPP11_OFFSET = 0xffff0000;

export const OFPP_UNSET = 0xfff7;

const RESERVED_PORT_NAMES: Readonly<Record<number, string>> = {
  [OFPP_UNSET]: "UNSET",
  [OFPP_IN_PORT]: "IN_PORT",
  [OFPP_TABLE]: "TABLE",
  [OFPP_NORMAL]: "NORMAL",
  [OFPP_FLOOD]: "FLOOD",
  [OFPP_ALL]: "ALL",
  [OFPP_CONTROLLER]: "CONTROLLER",
  [OFPP_LOCAL]: "LOCAL",
  [OFPP_NONE]: "ANY",
};

/** OVS's ofputil_format_port: a reserved name or the decimal number. */
export function formatPort(port: number): string {
  return RESERVED_PORT_NAMES[port] ?? String(port);
}

/** Reads a 32-bit OF1.1+ port into OVS's 16-bit space, or an error. */
export function portFromOfp11(p: number): number | DecodeError {
  if (p < OFPP_MAX) return p;
  if (p >= 0xffffff00) return (p - OFPP11_OFFSET) >>> 0;
  return fail("OFPBAC_BAD_OUT_PORT");
}

export function portToOfp11(p: number): number {
  return p < OFPP_MAX ? p : (p + OFPP11_OFFSET) >>> 0;
}

/** Reads a port of the version's width. */
export function readPort(r: OfpReader, version: number): number | DecodeError {
  if (version === 1) return r.u16();
  return portFromOfp11(r.u32());
}

export function writePort(w: OfpWriter, port: number, version: number): void {
  if (version === 1) w.u16(port);
  else w.u32(portToOfp11(port));
}

/* ---------------- OF1.4+ properties ---------------- */

/**
 * A property as OVS's ofpprop_pull gives it: padded to 8 bytes, type
 * 0xffff introducing an experimenter property (then `type` is -1 and
 * `exp`/`expType` say which).
 */
export interface OfpProp {
  type: number;
  exp: number;
  expType: number;
  /** Stated length, header included. */
  len: number;
  /** The whole property (header included, padding not) and its payload after the header. */
  whole: Uint8Array;
  payload: Uint8Array;
}

export function pullOfpProp(r: OfpReader): OfpProp | DecodeError {
  if (r.remaining < 4) return fail("OFPBPC_BAD_LEN");
  const start = r.pos;
  const type = r.u16();
  const len = r.u16();
  if (len < 4 || ((len + 7) & ~7) > r.end - start) return fail("OFPBPC_BAD_LEN");
  let exp = 0;
  let expType = 0;
  let hdr = 4;
  if (type === 0xffff) {
    if (len < 12) return fail("OFPBPC_BAD_LEN");
    exp = r.u32();
    expType = r.u32();
    if (exp === 0) return fail("OFPBPC_BAD_EXPERIMENTER");
    hdr = 12;
  }
  r.pos = start + ((len + 7) & ~7);
  return { type: type === 0xffff ? -1 : type, exp, expType, len, whole: r.data.subarray(start, start + len), payload: r.data.subarray(start + hdr, start + len) };
}


/** One TLV property: type, and the bytes after its 4-byte header. */
export interface RawProperty {
  type: number;
  /** Payload without the 4-byte header and without trailing padding. */
  data: Uint8Array;
}

/**
 * Pulls one property (type, length, payload, padding to 8 bytes); null
 * with an error name on a malformed length, as OVS's ofpprop_pull.
 */
export function pullProperty(r: OfpReader, align = 8): RawProperty | DecodeError {
  if (r.remaining < 4) return fail("OFPBPC_BAD_LEN");
  const type = r.u16();
  const len = r.u16();
  if (len < 4 || len - 4 > r.remaining) return fail("OFPBPC_BAD_LEN");
  const data = r.bytes(len - 4);
  const pad = (align - (len % align)) % align;
  if (pad > r.remaining) return fail("OFPBPC_BAD_LEN");
  r.skip(pad);
  return { type, data };
}

export function putProperty(w: OfpWriter, type: number, body: (w: OfpWriter) => void, align = 8): void {
  const start = w.length;
  w.u16(type);
  const f = w.fork(2, 2);
  body(w);
  w.join(f);
  w.padTo(align, start);
}

/* ---------------- nested messages ---------------- */

/**
 * Prints a message nested in another (the request echoed in an error, the
 * message in a bundle-add). Bound by ofp-print at load time, since
 * printing recurses through the message table.
 */
let nestedPrinter: (b: Uint8Array, verbosity: number) => string = () => "";
export function setNestedPrinter(fn: (b: Uint8Array, verbosity: number) => string): void {
  nestedPrinter = fn;
}
export function printNested(b: Uint8Array, verbosity: number): string {
  return nestedPrinter(b, verbosity);
}

/**
 * The message type of a nested message's bytes (the request inside a
 * request-forward), or the error OVS's ofptype_decode gives for it. Bound
 * by ofp-msgs at load time, as the message table sits above the codecs.
 */
let nestedTypeOf: (b: Uint8Array) => string | DecodeError = () => fail("OFPBRC_BAD_TYPE");
export function setNestedTypeLookup(fn: (b: Uint8Array) => string | DecodeError): void {
  nestedTypeOf = fn;
}
export function nestedMessageType(b: Uint8Array): string | DecodeError {
  return nestedTypeOf(b);
}
