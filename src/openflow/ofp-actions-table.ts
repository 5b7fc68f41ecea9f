/**
 * The action table: for every action variant its text keywords and its
 * parse / format / encode, and for every wire action (OpenFlow type per
 * version range, or Nicira subtype) its length rule and decoder. One place
 * per action; the list codecs in ofp-actions-wire.ts and
 * ofp-actions-text.ts only iterate these tables.
 */
import { OfpReader, OfpWriter } from "./ofp-buffer.js";
import {
  formatPort, OFPP_CONTROLLER, OFPP_IN_PORT, OFPP_MAX, OFPP_NONE, OFPP_TABLE, OFPP_NORMAL, OFPP_FLOOD, OFPP_ALL,
  OFPP_LOCAL, fail, portToOfp11, type DecodeError,
} from "./ofp-codec.js";
import { parseFieldValue, parsePortText } from "./match-parse.js";
import {
  decodeNxmHeader, encodeNxmHeader, formatMfValue, headerForCode, MF_FIELDS, mfFromHeader, mfFromName, parseMfValue, type MfCode, type MfField,
  type NxmHeader,
} from "./meta-flow.js";
import { codeFor } from "./nx-match.js";
import {
  fieldBits, fieldOfHeaderBytes, formatSubfield, nxHeaderBytesOf, nxHeaderOf, ofsNbits, parseSubfield, subfieldField, subfieldHeaderBytes,
  type Subfield,
} from "./ofp-actions-subfield.js";
import { PACKET_IN_REASONS, type ActionOf, type OfpAction, type OfpActionType } from "./ofp-actions.js";
import { CT_ENTRY, CT_WIRE, NAT_ENTRY } from "./ofp-actions-ct.js";
import { LEARN_ENTRY, LEARN_WIRE } from "./ofp-actions-learn.js";
import {
  BUNDLE_ENTRY, BUNDLE_LOAD_ENTRY, DEC_NSH_TTL_ENTRY, DECAP_ENTRY, ENCAP_ENTRY, MISC_WIRE,
} from "./ofp-actions-misc.js";
import {
  err, formatDottedHex, formatIpv4Num, formatMacBytes, hexNum, isTextError, parseDottedHex, parseIpv4Text, parseMac,
  parseU64, parseUint, parseUintBits, putNxAction, putOfAction, splitItems, type ActionTextError,
} from "./ofp-actions-util.js";
import { bigToBytes, bytesToBig } from "../packet/bytes.js";

/** What a list-level codec passes down to entries (for nested lists: write_actions, clone). */
export interface ListCodecs {
  /** `insideCt`: the list is ct's exec(...), where nat and ct_mark/ct_label writes belong. */
  parseList(text: string, insideCt?: boolean): OfpAction[] | ActionTextError;
  formatList(list: readonly OfpAction[]): string;
  encodeList(w: OfpWriter, list: readonly OfpAction[], version: number): ActionTextError | null;
  decodeList(b: Uint8Array, version: number): OfpAction[] | DecodeError;
}

/**
 * Options of encoding that depend on the flow's match (OVS's ofpact_check
 * results). List encoders copy it and update the copy as actions push or
 * pop VLAN headers.
 */
export interface EncodeOptions {
  /** The packet has a VLAN header here, so mod_vlan_vid need not push one. */
  flowHasVlan?: boolean;
}

export interface ActionEntry<T extends OfpActionType> {
  readonly type: T;
  /** Text keywords that parse to this variant (lower case). */
  readonly keywords: readonly string[];
  parse(keyword: string, arg: string, codecs: ListCodecs): OfpAction | OfpAction[] | ActionTextError;
  format(a: ActionOf<T>, codecs: ListCodecs): string;
  /** Writes the wire form for `version`; an error when the version cannot express it. */
  encode(w: OfpWriter, a: ActionOf<T>, version: number, codecs: ListCodecs, opts: EncodeOptions): ActionTextError | null;
}

/** One wire action: where it exists and how to read its body. */
export interface WireAction {
  readonly name: string;
  /** 0 for OpenFlow standard types, else the experimenter id (Nicira). */
  readonly vendor: number;
  readonly code: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Exact length in bytes, or the minimum for variable-length actions (`variable`). */
  readonly len: number;
  readonly variable?: boolean;
  /** `r` is positioned after the type/len (OpenFlow) or subtype (Nicira); `len` is the whole action's length. */
  decode(r: OfpReader, version: number, len: number, codecs: ListCodecs): OfpAction | OfpAction[] | DecodeError;
}

/* ---------------- shared helpers ---------------- */

const NX = 0x00002320;
const OF10 = 1;
const OF11 = 2;
const OF12 = 3;
const OF15 = 6;
const MAXV = 6;

export const NX_CTLR_NO_METER = 0;
const UINT16_MAX = 0xffff;

/**
 * What the last check of an action found about the packet's VLAN header
 * (OVS annotates set_vlan_vid, set_vlan_pcp and set_field the same way):
 * OpenFlow 1.1 encodings push a header only when the flow had none. Kept
 * beside the actions rather than in them, so checked and unchecked lists
 * compare equal.
 */
const FLOW_HAS_VLAN = new WeakMap<OfpAction, boolean>();

export function noteFlowHasVlan(a: OfpAction, has: boolean): void {
  FLOW_HAS_VLAN.set(a, has);
}

/** The IP protocol of the flow at a mod_tp_src/dst (OVS's flow_ip_proto): which set_field OpenFlow 1.2+ uses. */
const FLOW_IP_PROTO = new WeakMap<OfpAction, number>();

export function noteFlowIpProto(a: OfpAction, proto: number): void {
  FLOW_IP_PROTO.set(a, proto);
}

function l4Field(a: OfpAction, dir: "src" | "dst"): string {
  const proto = FLOW_IP_PROTO.get(a);
  return `${proto === 17 ? "udp" : proto === 132 ? "sctp" : "tcp"}_${dir}`;
}

/** The check's finding for `a`, or, for an unchecked list, what the encoder has seen so far. */
function flowHadVlan(a: OfpAction, opts: EncodeOptions): boolean {
  return FLOW_HAS_VLAN.get(a) ?? opts.flowHasVlan ?? false;
}

/** Port of an output action: a valid output port number, or OVS's error. */
export function isValidOutputPort(port: number): boolean {
  return port < OFPP_MAX || [OFPP_IN_PORT, OFPP_TABLE, OFPP_NORMAL, OFPP_FLOOD, OFPP_ALL, OFPP_CONTROLLER, OFPP_LOCAL].includes(port);
}

function readPortFor(r: OfpReader, version: number): number | DecodeError {
  if (version === OF10) return r.u16();
  const p = r.u32();
  if (p < OFPP_MAX) return p;
  if (p >= 0xffffff00) return (p - 0xffff0000) >>> 0;
  return fail("OFPBAC_BAD_OUT_PORT");
}

function writePortFor(w: OfpWriter, port: number, version: number): void {
  if (version === OF10) w.u16(port);
  else w.u32(portToOfp11(port));
}



/** The mask of an exact set_field: all bytes set (OVS compares whole bytes). */
function onesMask(fld: MfField): Uint8Array {
  return new Uint8Array(fld.bytes).fill(0xff);
}

function isExactMask(_fld: MfField, mask: Uint8Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0xff) return false;
  return true;
}

/** A mask limited to the bits the field really has (what a load touches). */
function fieldMask(fld: MfField, mask: Uint8Array): bigint {
  return bytesToBig(mask) & ((1n << BigInt(fieldBits(fld))) - 1n);
}

/** set_field value for a field, built from a number. */
export function setFieldOf(name: string, value: bigint, load = false): ActionOf<"set_field"> {
  const fld = mfFromName(name)!;
  return { type: "set_field", field: fld.name, value: bigToBytes(value, fld.bytes), mask: onesMask(fld), load };
}

/**
 * Contiguous runs of one bits in the big-endian `mask`, counting only its
 * low `bits` bits (lsb first): [ofs, nBits]. Plain numbers, no BigInt
 * (hoisted: this was the top of the action bench profile).
 */
function maskRuns(mask: Uint8Array, bits: number): [number, number][] {
  const runs: [number, number][] = [];
  const n = mask.length;
  const bitAt = (i: number): number => (mask[n - 1 - (i >> 3)]! >> (i & 7)) & 1;
  const limit = Math.min(bits, n * 8);
  let i = 0;
  while (i < limit) {
    if (!bitAt(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j < limit && bitAt(j)) j++;
    runs.push([i, j - i]);
    i = j;
  }
  return runs;
}

/** NXAST_REG_LOAD segments (≤ 64 bits each) for a masked set_field. */
function encodeRegLoads(w: OfpWriter, a: ActionOf<"set_field">): ActionTextError | null {
  const fld = mfFromName(a.field)!;
  const hdr = nxHeaderBytesOf(fld);
  // Experimenter and variable-length fields go in NXAST_REG_LOAD2, as OVS does.
  if (hdr.length !== 4 || isVariableLength(fld)) return encodeRegLoad2(w, a);
  const value = bytesToBig(a.value);
  for (const [ofs0, n0] of maskRuns(a.mask, fieldBits(fld))) {
    for (let ofs = ofs0; ofs < ofs0 + n0; ofs += 64) {
      const n = Math.min(64, ofs0 + n0 - ofs);
      const v = (value >> BigInt(ofs)) & ((1n << BigInt(n)) - 1n);
      putNxAction(w, 7, (w) => w.u16(ofsNbits(ofs, n)).bytes(hdr).u64(v));
    }
  }
  return null;
}

/** Fields whose NXM/OXM entries carry only as many bytes as their value needs (OVS's variable_len). */
export function isVariableLength(fld: MfField): boolean {
  return fld.name.startsWith("tun_metadata");
}

/** OVS's field_len: a variable-length value's bytes from its first nonzero one. */
function significantLen(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.length - i;
}

/**
 * OVS's nx_put_entry: `header` (with `code`) and the value, and the mask
 * unless it is all ones; a variable-length field writes only the bytes
 * its value and mask need.
 */
function putEntry(w: OfpWriter, fld: MfField, code: MfCode, value: Uint8Array, mask: Uint8Array): void {
  const masked = !isExactMask(fld, mask);
  let n = fld.bytes;
  if (isVariableLength(fld)) n = Math.max(significantLen(value), masked ? significantLen(mask) : 0);
  const h = headerForCode(fld, code, masked);
  w.bytes(encodeNxmHeader({ ...h, length: masked ? 2 * n : n }));
  w.bytes(value.subarray(value.length - n));
  if (masked) w.bytes(mask.subarray(mask.length - n));
}

function encodeSetFieldOxm(w: OfpWriter, a: ActionOf<"set_field">, version: number): ActionTextError | null {
  const fld = mfFromName(a.field)!;
  const code = codeFor(fld, version);
  if (!code) return err(`${fld.name}: no OXM code`);
  putOfAction(w, 25, (w) => putEntry(w, fld, code, a.value, a.mask));
  return null;
}

/** NXAST_REG_LOAD2: one NXM/OXM entry, for what NXAST_REG_LOAD cannot carry. */
function encodeRegLoad2(w: OfpWriter, a: ActionOf<"set_field">): ActionTextError | null {
  const fld = mfFromName(a.field)!;
  const code = fld.nxm ?? fld.oxm ?? fld.oxm15;
  if (!code) return err(`${fld.name}: no NXM/OXM code`);
  const start = w.length;
  w.u16(0xffff).u16(0).u32(0x2320).u16(33);
  putEntry(w, fld, code, a.value, a.mask);
  w.padTo(8, start);
  w.setU16(start + 2, w.length - start);
  return null;
}

function encodeSetField(w: OfpWriter, a: ActionOf<"set_field">, version: number, opts: EncodeOptions): ActionTextError | null {
  const fld = mfFromName(a.field)!;
  const exact = isExactMask(fld, a.mask);
  if (version >= OF15) return encodeSetFieldOxm(w, a, version);
  // What came in as a register load goes out as one.
  if (a.load) return encodeRegLoads(w, a);
  if (version >= OF12) return exact ? encodeSetFieldOxm(w, a, version) : encodeRegLoads(w, a);
  // OpenFlow 1.0 and 1.1 have no set_field: OVS uses the old set actions
  // where a field has one (taking the value and ignoring any mask).
  const legacy = legacyOfSetField(a, version, flowHadVlan(a, opts));
  if (!legacy) return encodeRegLoads(w, a);
  for (const x of legacy) {
    if (x.type === "push_vlan") {
      putOfAction(w, 17, (w) => w.u16(x.ethertype));
      continue;
    }
    const e = encodeAction(w, x, version, NO_CODECS, {});
    if (e) return e;
  }
  if (a.field === "vlan_tci") opts.flowHasVlan = (a.value[0]! & 0x10) !== 0;
  return null;
}

/** The pre-1.2 actions that express a set_field in `version`, when they exist. */
function legacyOfSetField(a: ActionOf<"set_field">, version: number, hadVlan: boolean): OfpAction[] | null {
  const v = bytesToBig(a.value);
  const n = Number(v & 0xffffffffn);
  switch (a.field) {
    case "vlan_tci":
      if (!(n & 0x1000)) return [{ type: "strip_vlan", pop: version !== OF10 }];
      if (version === OF10) return [{ type: "set_vlan_vid", vid: n & 0xfff, push: true }, { type: "set_vlan_pcp", pcp: n >>> 13, push: true }];
      return [
        ...(hadVlan ? [] : [{ type: "push_vlan", ethertype: 0x8100 } as OfpAction]),
        { type: "set_vlan_vid", vid: n & 0xfff, push: false },
        { type: "set_vlan_pcp", pcp: n >>> 13, push: false },
      ];
    case "vlan_vid":
      return [{ type: "set_vlan_vid", vid: n & 0xfff, push: version === OF10 }];
    case "vlan_pcp":
      return [{ type: "set_vlan_pcp", pcp: n & 7, push: version === OF10 }];
    case "eth_src":
      return [{ type: "set_eth_src", mac: a.value }];
    case "eth_dst":
      return [{ type: "set_eth_dst", mac: a.value }];
    case "ip_src":
      return [{ type: "set_ipv4_src", addr: n }];
    case "ip_dst":
      return [{ type: "set_ipv4_dst", addr: n }];
    case "ip_dscp":
      return [{ type: "set_ip_dscp", tos: (n << 2) & 0xff }];
    case "nw_tos":
      return [{ type: "set_ip_dscp", tos: n & 0xff }];
    case "nw_ecn":
      return version === OF11 ? [{ type: "set_ip_ecn", ecn: n }] : null;
    case "tcp_src":
    case "udp_src":
      return [{ type: "set_l4_src", port: n }];
    case "tcp_dst":
    case "udp_dst":
      return [{ type: "set_l4_dst", port: n }];
    default:
      return null;
  }
}

const NO_CODECS: ListCodecs = {
  parseList: () => err("nested action lists not allowed here"),
  formatList: () => "",
  encodeList: () => err("nested action lists not allowed here"),
  decodeList: () => fail("OFPBAC_BAD_TYPE"),
};

/* ---------------- text helpers ---------------- */

function parseOutputPort(s: string, what: string): number | ActionTextError {
  const p = parsePortText(s);
  if (p === null) return err(`${s}: ${what} to unknown port`);
  return p;
}

function formatEthertype(v: number): string {
  return "0x" + v.toString(16).padStart(4, "0");
}

function parseField(name: string): MfField | ActionTextError {
  const f = mfFromName(name);
  return f ?? err(`${name} is not a valid OXM field name`);
}

/** OVS's mf_parse wording for a bad set_field value (by the field's text format). */
function setFieldValueError(fld: MfField, text: string, fallback: string): string {
  switch (fld.format) {
    case "decimal":
    case "hex": {
      const num = text.split("/")[0]!;
      if (parseUint(num) !== null) return `${text}: value too large for ${fld.bytes}-byte field ${fld.name}`;
      return `${text}: bad syntax for ${fld.name} value`;
    }
    case "ipv4":
      return `${text}: invalid IP address`;
    case "ipv6":
      return `${text}: invalid IPv6 address`;
    case "ethernet":
      return `${text}: invalid Ethernet address`;
    default:
      return fallback;
  }
}

/* ---------------- the table ---------------- */

type Entries = { [T in OfpActionType]: ActionEntry<T> };

/** Entry for an action with no argument. */
function bare<T extends "dec_mpls_ttl" | "pop_queue" | "exit" | "ct_clear" | "clear_actions">(
  type: T, keyword: string, encode: ActionEntry<T>["encode"],
): ActionEntry<T> {
  return {
    type, keywords: [keyword],
    parse: () => ({ type } as OfpAction),
    format: () => keyword,
    encode,
  };
}

/** Entry for "name:number" actions with one integer field. */
function numeric<T extends OfpActionType>(
  type: T, keyword: string, bits: number, what: string | null, build: (n: number) => ActionOf<T>, get: (a: ActionOf<T>) => number,
  encode: ActionEntry<T>["encode"], fmt: (n: number) => string = (n) => `${keyword}:${n}`, check?: (s: string, n: number) => ActionTextError | null,
): ActionEntry<T> {
  return {
    type, keywords: [keyword],
    parse: (_k, arg) => {
      const n = parseUintBits(arg, bits, what);
      if (isTextError(n)) return n;
      const c = check?.(arg, n);
      if (c) return c;
      return build(n);
    },
    format: (a) => fmt(get(a)),
    encode,
  };
}

function parseController(arg: string): ActionOf<"controller"> | ActionTextError {
  const a: ActionOf<"controller"> = {
    type: "controller", maxLen: UINT16_MAX, controllerId: 0, reason: 1, userdata: null, pause: false, meterId: null,
  };
  if (arg === "") return a;
  if (parseUint(arg) !== null) {
    const n = parseUintBits(arg, 16, "max_len");
    if (isTextError(n)) return n;
    a.maxLen = n;
    return a;
  }
  for (const { key, value } of splitItems(arg)) {
    if (key === "reason") {
      const r = PACKET_IN_REASONS.indexOf(value);
      if (r < 0) return err(`unknown reason "${value}"`);
      a.reason = r;
    } else if (key === "max_len") {
      const n = parseUintBits(value, 16, "max_len");
      if (isTextError(n)) return n;
      a.maxLen = n;
    } else if (key === "id") {
      const n = parseUintBits(value, 16, "id");
      if (isTextError(n)) return n;
      a.controllerId = n;
    } else if (key === "userdata") {
      const b = parseDottedHex(value);
      if (!b) return err("bad hex digit in `controller' action `userdata'");
      a.userdata = b;
    } else if (key === "pause") {
      a.pause = true;
    } else if (key === "meter_id") {
      const n = parseUintBits(value, 32, "meter_id");
      if (isTextError(n)) return n;
      a.meterId = n;
    } else {
      return err(`unknown key "${key}" parsing controller action`);
    }
  }
  return a;
}

function isSimpleController(a: ActionOf<"controller">): boolean {
  return a.reason === 1 && a.controllerId === 0 && a.userdata === null && !a.pause && a.meterId === null;
}

function putProp(w: OfpWriter, type: number, body: (w: OfpWriter) => void): void {
  const start = w.length;
  w.u16(type).u16(0);
  body(w);
  w.setU16(start + 2, w.length - start);
  w.padTo(8, start);
}

const MULTIPATH_FIELDS = ["eth_src", "symmetric_l4", "symmetric_l3l4", "symmetric_l3l4+udp", "nw_src", "nw_dst", "symmetric_l3"];
const MULTIPATH_ALGS = ["modulo_n", "hash_threshold", "hrw", "iter_hash"];

function encodeStack(w: OfpWriter, subtype: number, sf: Subfield): void {
  putNxAction(w, subtype, (w) => w.u16(sf.ofs).bytes(subfieldHeaderBytes(sf)).u16(sf.nBits).zeros(6));
}

function parseStack(arg: string, type: "stack_push" | "stack_pop"): OfpAction | ActionTextError {
  const p = parseSubfield(arg);
  if ("error" in p) return err(p.error);
  if (p.rest !== "") return err(`${arg}: trailing garbage following push or pop`);
  return { type, sf: p.sf };
}

/** Every action variant. */
export const ACTION_TABLE: Entries = {
  output: {
    type: "output", keywords: ["output"],
    parse: (_k, arg) => {
      if (arg.includes("port") && arg.includes("max_len")) {
        let port: number | null = null;
        let maxLen = 0;
        for (const { key, value } of splitItems(arg)) {
          if (key === "port") {
            const p = parsePortText(value);
            if (p === null) return err(`output to unknown truncate port: ${value}`);
            port = p;
          } else if (key === "max_len") {
            const n = parseUintBits(value, 32, "max_len");
            if (isTextError(n)) return n;
            maxLen = n;
          } else return err(`${key}: unknown key for output action`);
        }
        if (port === null) return err(`missing port in output(port=...) action`);
        return { type: "output_trunc", port, maxLen };
      }
      if (arg.includes("[")) {
        const p = parseSubfield(arg);
        if ("error" in p || p.rest !== "") return err(`${arg}: output to unknown port`);
        return { type: "output_reg", src: p.sf, maxLen: UINT16_MAX };
      }
      const p = parseOutputPort(arg, "output");
      if (isTextError(p)) return p;
      if (p === OFPP_CONTROLLER) return { ...parseController("") as ActionOf<"controller"> };
      return { type: "output", port: p, maxLen: 0 };
    },
    format: (a) => (a.port < OFPP_MAX ? `output:${a.port}` : formatPort(a.port)),
    encode: (w, a, version) => {
      putOfAction(w, 0, (w) => {
        writePortFor(w, a.port, version);
        w.u16(a.maxLen);
      });
      return null;
    },
  },
  output_reg: {
    type: "output_reg", keywords: [],
    parse: () => err("output_reg"),
    format: (a) => `output:${formatSubfield(a.src)}`,
    encode: (w, a) => {
      putNxAction(w, 15, (w) => w.u16(ofsNbits(a.src.ofs, a.src.nBits)).bytes(subfieldHeaderBytes(a.src)).u16(a.maxLen).zeros(6));
      return null;
    },
  },
  output_trunc: {
    type: "output_trunc", keywords: [],
    parse: () => err("output_trunc"),
    format: (a) => `output(port=${formatPort(a.port)},max_len=${a.maxLen})`,
    encode: (w, a) => {
      putNxAction(w, 39, (w) => w.u16(a.port).u32(a.maxLen));
      return null;
    },
  },
  controller: {
    type: "controller", keywords: ["controller"],
    parse: (_k, arg) => parseController(arg),
    format: (a) => {
      if (isSimpleController(a)) return `CONTROLLER:${a.maxLen}`;
      const parts: string[] = [];
      // OVS names the internal explicit/implicit miss reasons (6, 7) with nothing.
      if (a.reason !== 1) parts.push(`reason=${PACKET_IN_REASONS[a.reason] ?? (a.reason === 6 || a.reason === 7 ? "" : a.reason)}`);
      if (a.maxLen !== UINT16_MAX) parts.push(`max_len=${a.maxLen}`);
      if (a.controllerId !== 0) parts.push(`id=${a.controllerId}`);
      if (a.userdata && a.userdata.length) parts.push(`userdata=${formatDottedHex(a.userdata)}`);
      if (a.pause) parts.push("pause");
      if (a.meterId !== null) parts.push(`meter_id=${a.meterId}`);
      return `controller(${parts.join(",")})`;
    },
    encode: (w, a, version) => {
      if (isSimpleController(a) && !a.raw2) {
        putOfAction(w, 0, (w) => {
          writePortFor(w, OFPP_CONTROLLER, version);
          w.u16(a.maxLen);
        });
      } else if (a.userdata === null && !a.pause && a.meterId === null && !a.raw2) {
        putNxAction(w, 20, (w) => w.u16(a.maxLen).u16(a.controllerId).u8(a.reason).u8(0));
      } else {
        putNxAction(w, 37, (w) => {
          w.zeros(6);
          if (a.maxLen !== UINT16_MAX) putProp(w, 0, (w) => w.u16(a.maxLen).zeros(2));
          if (a.controllerId !== 0) putProp(w, 1, (w) => w.u16(a.controllerId).zeros(2));
          if (a.reason !== 1) putProp(w, 2, (w) => w.u8(a.reason));
          if (a.userdata && a.userdata.length) putProp(w, 3, (w) => w.bytes(a.userdata!));
          if (a.pause) putProp(w, 4, () => undefined);
          if (a.meterId !== null) putProp(w, 5, (w) => w.u32(a.meterId!));
        });
      }
      return null;
    },
  },
  enqueue: {
    type: "enqueue", keywords: ["enqueue"],
    parse: (_k, arg) => {
      const parts = arg.includes(":") ? arg.split(":") : arg.split(",");
      if (parts.length !== 2) return err(`"enqueue" syntax is "enqueue:PORT:QUEUE" or "enqueue(PORT,QUEUE)"`);
      const p = parsePortText(parts[0]!);
      if (p === null) return err(`${parts[0]}: enqueue to unknown port`);
      const q = parseUintBits(parts[1]!, 32, null);
      if (isTextError(q)) return q;
      return { type: "enqueue", port: p, queue: q };
    },
    format: (a) => `enqueue:${formatPort(a.port)}:${a.queue}`,
    encode: (w, a, version) => {
      if (version === OF10) {
        putOfAction(w, 11, (w) => w.u16(a.port).zeros(6).u32(a.queue));
        return null;
      }
      encodeAction(w, { type: "set_queue", queue: a.queue }, version, NO_CODECS, {});
      encodeAction(w, { type: "output", port: a.port, maxLen: UINT16_MAX }, version, NO_CODECS, {});
      return encodeAction(w, { type: "pop_queue" }, version, NO_CODECS, {});
    },
  },
  group: numeric("group", "group", 32, null, (n) => ({ type: "group", groupId: n }), (a) => a.groupId, (w, a, v) => {
    if (v === OF10) putNxAction(w, 40, (w) => w.zeros(2).u32(a.groupId));
    else putOfAction(w, 22, (w) => w.u32(a.groupId));
    return null;
  }),
  set_vlan_vid: {
    type: "set_vlan_vid", keywords: ["mod_vlan_vid", "set_vlan_vid"],
    parse: (k, arg) => {
      const n = parseUintBits(arg, 16, "VLAN VID");
      if (isTextError(n)) return n;
      if (n & ~0xfff) return err(`${arg}: not a valid VLAN VID`);
      return { type: "set_vlan_vid", vid: n, push: k === "mod_vlan_vid" };
    },
    format: (a) => `${a.push ? "mod_vlan_vid" : "set_vlan_vid"}:${a.vid}`,
    encode: (w, a, version, _c, opts) => {
      if (version === OF10) {
        putOfAction(w, 1, (w) => w.u16(a.vid));
        return null;
      }
      if (a.push && !flowHadVlan(a, opts)) putOfAction(w, 17, (w) => w.u16(0x8100));
      opts.flowHasVlan = true;
      if (version === OF11) putOfAction(w, 1, (w) => w.u16(a.vid));
      else encodeSetFieldOxm(w, setFieldOf("vlan_vid", BigInt(a.vid | 0x1000)), version);
      return null;
    },
  },
  set_vlan_pcp: {
    type: "set_vlan_pcp", keywords: ["mod_vlan_pcp", "set_vlan_pcp"],
    parse: (k, arg) => {
      const n = parseUintBits(arg, 8, "VLAN PCP");
      if (isTextError(n)) return n;
      if (n & ~7) return err(`${arg}: not a valid VLAN PCP`);
      return { type: "set_vlan_pcp", pcp: n, push: k === "mod_vlan_pcp" };
    },
    format: (a) => `${a.push ? "mod_vlan_pcp" : "set_vlan_pcp"}:${a.pcp}`,
    encode: (w, a, version, _c, opts) => {
      if (version === OF10) {
        putOfAction(w, 2, (w) => w.u8(a.pcp));
        return null;
      }
      if (a.push && !flowHadVlan(a, opts)) putOfAction(w, 17, (w) => w.u16(0x8100));
      opts.flowHasVlan = true;
      if (version === OF11) putOfAction(w, 2, (w) => w.u8(a.pcp));
      else encodeSetFieldOxm(w, setFieldOf("vlan_pcp", BigInt(a.pcp)), version);
      return null;
    },
  },
  strip_vlan: {
    type: "strip_vlan", keywords: ["strip_vlan", "pop_vlan"],
    parse: (k) => ({ type: "strip_vlan", pop: k === "pop_vlan" }),
    format: (a) => (a.pop ? "pop_vlan" : "strip_vlan"),
    encode: (w, _a, version, _c, opts) => {
      putOfAction(w, version === OF10 ? 3 : 18, () => undefined);
      opts.flowHasVlan = false;
      return null;
    },
  },
  push_vlan: {
    type: "push_vlan", keywords: ["push_vlan"],
    parse: (_k, arg) => {
      const n = parseUintBits(arg, 16, "ethertype");
      if (isTextError(n)) return n;
      if (n !== 0x8100 && n !== 0x88a8) return err(`${arg}: not a valid VLAN ethertype`);
      return { type: "push_vlan", ethertype: n };
    },
    format: (a) => `push_vlan:${hexNum(a.ethertype)}`,
    encode: (w, a, version, _c, opts) => {
      // In OpenFlow 1.0 the push is a side effect of the mod_vlan_vid/pcp that follows.
      if (version === OF10) return null;
      putOfAction(w, 17, (w) => w.u16(a.ethertype));
      opts.flowHasVlan = true;
      return null;
    },
  },
  set_eth_src: {
    type: "set_eth_src", keywords: ["mod_dl_src"],
    parse: (_k, arg) => {
      const m = parseMac(arg);
      return m ? { type: "set_eth_src", mac: m } : err(`invalid mac address ${arg}`);
    },
    format: (a) => `mod_dl_src:${formatMacBytes(a.mac)}`,
    encode: (w, a, version) => {
      if (version >= OF12) return encodeSetFieldOxm(w, { type: "set_field", field: "eth_src", value: a.mac, mask: onesMask(mfFromName("eth_src")!), load: false }, version);
      putOfAction(w, version === OF10 ? 4 : 3, (w) => w.bytes(a.mac).zeros(6));
      return null;
    },
  },
  set_eth_dst: {
    type: "set_eth_dst", keywords: ["mod_dl_dst"],
    parse: (_k, arg) => {
      const m = parseMac(arg);
      return m ? { type: "set_eth_dst", mac: m } : err(`invalid mac address ${arg}`);
    },
    format: (a) => `mod_dl_dst:${formatMacBytes(a.mac)}`,
    encode: (w, a, version) => {
      if (version >= OF12) return encodeSetFieldOxm(w, { type: "set_field", field: "eth_dst", value: a.mac, mask: onesMask(mfFromName("eth_dst")!), load: false }, version);
      putOfAction(w, version === OF10 ? 5 : 4, (w) => w.bytes(a.mac).zeros(6));
      return null;
    },
  },
  set_ipv4_src: {
    type: "set_ipv4_src", keywords: ["mod_nw_src"],
    parse: (_k, arg) => {
      const ip = parseIpv4Text(arg);
      return ip === null ? err(`${arg}: could not convert to IP address`) : { type: "set_ipv4_src", addr: ip };
    },
    format: (a) => `mod_nw_src:${formatIpv4Num(a.addr)}`,
    encode: (w, a, version) => {
      if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf("ip_src", BigInt(a.addr)), version);
      putOfAction(w, version === OF10 ? 6 : 5, (w) => w.u32(a.addr));
      return null;
    },
  },
  set_ipv4_dst: {
    type: "set_ipv4_dst", keywords: ["mod_nw_dst"],
    parse: (_k, arg) => {
      const ip = parseIpv4Text(arg);
      return ip === null ? err(`${arg}: could not convert to IP address`) : { type: "set_ipv4_dst", addr: ip };
    },
    format: (a) => `mod_nw_dst:${formatIpv4Num(a.addr)}`,
    encode: (w, a, version) => {
      if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf("ip_dst", BigInt(a.addr)), version);
      putOfAction(w, version === OF10 ? 7 : 6, (w) => w.u32(a.addr));
      return null;
    },
  },
  set_ip_dscp: numeric("set_ip_dscp", "mod_nw_tos", 8, "TOS", (n) => ({ type: "set_ip_dscp", tos: n }), (a) => a.tos, (w, a, version) => {
    if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf("ip_dscp", BigInt(a.tos >> 2)), version);
    putOfAction(w, version === OF10 ? 8 : 7, (w) => w.u8(a.tos));
    return null;
  }, undefined, (s, n) => (n & 3 ? err(`${s}: not a valid TOS`) : null)),
  set_ip_ecn: numeric("set_ip_ecn", "mod_nw_ecn", 8, "ECN", (n) => ({ type: "set_ip_ecn", ecn: n }), (a) => a.ecn, (w, a, version) => {
    if (version === OF10) return encodeRegLoads(w, setFieldOf("nw_ecn", BigInt(a.ecn), true));
    if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf("nw_ecn", BigInt(a.ecn)), version);
    putOfAction(w, 8, (w) => w.u8(a.ecn));
    return null;
  }, undefined, (s, n) => (n > 3 ? err(`${s}: not a valid ECN`) : null)),
  set_ip_ttl: numeric("set_ip_ttl", "mod_nw_ttl", 8, "TTL", (n) => ({ type: "set_ip_ttl", ttl: n }), (a) => a.ttl, (w, a, version) => {
    if (version === OF10) return encodeRegLoads(w, setFieldOf("nw_ttl", BigInt(a.ttl), true));
    putOfAction(w, 23, (w) => w.u8(a.ttl));
    return null;
  }),
  set_l4_src: numeric("set_l4_src", "mod_tp_src", 16, "source port", (n) => ({ type: "set_l4_src", port: n }), (a) => a.port, (w, a, version) => {
    if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf(l4Field(a, "src"), BigInt(a.port)), version);
    putOfAction(w, 9, (w) => w.u16(a.port));
    return null;
  }),
  set_l4_dst: numeric("set_l4_dst", "mod_tp_dst", 16, "destination port", (n) => ({ type: "set_l4_dst", port: n }), (a) => a.port, (w, a, version) => {
    if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf(l4Field(a, "dst"), BigInt(a.port)), version);
    putOfAction(w, 10, (w) => w.u16(a.port));
    return null;
  }),
  set_field: {
    type: "set_field", keywords: ["set_field", "load"],
    parse: (k, arg) => {
      const arrow = arg.indexOf("->");
      if (arrow < 0) return err(`${arg}: missing \`->'`);
      const valueText = arg.slice(0, arrow);
      const dstText = arg.slice(arrow + 2);
      if (k === "load") {
        const p = parseSubfield(dstText);
        if ("error" in p) return err(p.error);
        if (p.rest !== "") return err(`${dstText}: trailing garbage following subfield`);
        const v = parseUint(valueText);
        if (v === null) return err(`${arg}: cannot parse integer value`);
        const sf = p.sf;
        if (v >> BigInt(sf.nBits) !== 0n) {
          return err(`${arg}: value ${valueText} does not fit into ${sf.nBits} bits`);
        }
        const fld = subfieldField(sf);
        if (!fld.writable) return err(`destination field ${fld.name} is not writable`);
        const fieldMask = ((1n << BigInt(sf.nBits)) - 1n) << BigInt(sf.ofs);
        return { type: "set_field", field: fld.name, value: bigToBytes(v << BigInt(sf.ofs), fld.bytes), mask: bigToBytes(fieldMask, fld.bytes), load: true };
      }
      const fld = parseField(dstText.trim());
      if (isTextError(fld)) return fld;
      if (!fld.writable) return err(`${fld.name} is read-only`);
      // The value is parsed as a match value is (OVS's mf_parse), with its error messages.
      const pv = parseFieldValue(fld, valueText);
      if (!pv.ok) return err(pv.error);
      let mask = pv.mask ?? onesMask(fld);
      if (fld.format === "tun-flags" && /^[+-]/.test(valueText.trim())) {
        // "+oam" / "-oam" sets only the flags it names.
        mask = bigToBytes(/oam/.test(valueText) ? 1n : 0n, fld.bytes);
      }
      return { type: "set_field", field: fld.name, value: pv.value, mask, load: false };
    },
    format: (a) => {
      const fld = mfFromName(a.field)!;
      const exact = isExactMask(fld, a.mask);
      if (a.load) {
        const value = bytesToBig(a.value);
        return maskRuns(a.mask, fieldBits(fld)).map(([ofs, n]) => {
          const v = (value >> BigInt(ofs)) & ((1n << BigInt(n)) - 1n);
          return `load:${hexNum(v)}->${formatSubfield({ field: fld.name, ofs, nBits: n })}`;
        }).join(",");
      }
      // An exact tun_flags value prints as its flag names ("0" when none), not +/- pairs.
      const text = fld.format === "tun-flags" && fieldMask(fld, a.mask) === 1n
        ? (bytesToBig(a.value) & 1n ? "oam" : "0")
        : formatMfValue(fld, { value: a.value, mask: exact ? null : a.mask });
      return `set_field:${text}->${fld.name}`;
    },
    encode: (w, a, version, _c, opts) => encodeSetField(w, a, version, opts),
  },
  reg_move: {
    type: "reg_move", keywords: ["move"],
    parse: (_k, arg) => {
      const src = parseSubfield(arg);
      if ("error" in src) return err(src.error);
      if (!src.rest.startsWith("->")) return err(`${arg}: missing \`->' following source`);
      const dst = parseSubfield(src.rest.slice(2));
      if ("error" in dst) return err(dst.error);
      if (dst.rest !== "") return err(`${arg}: trailing garbage following destination`);
      if (src.sf.nBits !== dst.sf.nBits) {
        return err(`${arg}: source field is ${src.sf.nBits} bits wide but destination is ${dst.sf.nBits} bits wide`);
      }
      return { type: "reg_move", src: src.sf, dst: dst.sf };
    },
    format: (a) => `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`,
    encode: (w, a, version) => {
      const sh = subfieldHeaderBytes(a.src);
      const dh = subfieldHeaderBytes(a.dst);
      if (version >= OF15 || sh.length === 8 || dh.length === 8) {
        // OF1.5 copy_field (ONF 3200 in 1.3/1.4 is not used by OVS 3.1 for encoding).
        if (version >= OF15) {
          const oxm = (sf: Subfield): Uint8Array => {
            const fld = subfieldField(sf);
            return encodeNxmHeader(headerForCode(fld, codeFor(fld, version)!, false));
          };
          putOfAction(w, 28, (w) => w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).zeros(2).bytes(oxm(a.src)).bytes(oxm(a.dst)));
          return null;
        }
      }
      putNxAction(w, 6, (w) => w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).bytes(sh).bytes(dh));
      return null;
    },
  },
  resubmit: {
    type: "resubmit", keywords: ["resubmit"],
    parse: (_k, arg) => {
      if (!arg.includes(",")) {
        const p = parsePortText(arg);
        if (p === null) return err(`${arg}: resubmit to unknown port`);
        return { type: "resubmit", inPort: p, tableId: 255, ct: false, legacy: false };
      }
      const [portS, tableS, ctS, ...extra] = arg.split(",");
      let inPort = OFPP_IN_PORT;
      if (portS !== "") {
        const p = parsePortText(portS!);
        if (p === null) return err(`${portS}: resubmit to unknown port`);
        inPort = p;
      }
      let tableId = 255;
      if (tableS !== undefined && tableS !== "") {
        const t = parseUintBits(tableS, 8, "table");
        if (isTextError(t)) return err(`${tableS}: resubmit to unknown table`);
        tableId = t;
      }
      let ct = false;
      if (ctS !== undefined && ctS !== "") {
        if (ctS !== "ct") return err(`${ctS}: unknown resubmit option`);
        ct = true;
      }
      if (extra.length) return err(`${arg}: too many arguments to resubmit`);
      if (inPort === OFPP_IN_PORT && tableId === 255) return err(`at least one "in_port" or "table" must be specified  on resubmit`);
      return { type: "resubmit", inPort, tableId, ct, legacy: false };
    },
    format: (a) => {
      if (a.inPort !== OFPP_IN_PORT && a.tableId === 255 && !a.ct) return `resubmit:${formatPort(a.inPort)}`;
      return `resubmit(${a.inPort !== OFPP_IN_PORT ? formatPort(a.inPort) : ""},${a.tableId !== 255 ? a.tableId : ""}${a.ct ? ",ct" : ""})`;
    },
    encode: (w, a) => {
      if (a.ct) putNxAction(w, 44, (w) => w.u16(a.inPort).u8(a.tableId).zeros(3));
      else if (a.legacy) putNxAction(w, 1, (w) => w.u16(a.inPort).zeros(4));
      else putNxAction(w, 14, (w) => w.u16(a.inPort).u8(a.tableId).zeros(3));
      return null;
    },
  },
  dec_ttl: {
    type: "dec_ttl", keywords: ["dec_ttl"],
    parse: (_k, arg) => {
      if (arg === "") return { type: "dec_ttl", ids: [], cntIds: false };
      const ids: number[] = [];
      for (const s of arg.split(",")) {
        // OVS reads each id with atoi(): garbage reads as 0.
        const m = /^\s*(\d+)/.exec(s);
        ids.push(m ? Number(m[1]) & 0xffff : 0);
      }
      return { type: "dec_ttl", ids, cntIds: true };
    },
    format: (a) => (a.cntIds ? `dec_ttl(${a.ids.join(",")})` : "dec_ttl"),
    encode: (w, a, version) => {
      if (a.cntIds) {
        putNxAction(w, 21, (w) => {
          w.u16(a.ids.length).zeros(4);
          for (const id of a.ids) w.u16(id);
        });
      } else if (version === OF10) putNxAction(w, 18, (w) => w.zeros(6));
      else putOfAction(w, 24, () => undefined);
      return null;
    },
  },
  set_mpls_label: numeric("set_mpls_label", "set_mpls_label", 32, null, (n) => ({ type: "set_mpls_label", label: n }), (a) => a.label, (w, a, version) => {
    if (version === OF10) putNxAction(w, 30, (w) => w.zeros(2).u32(a.label));
    else if (version === OF11) putOfAction(w, 13, (w) => w.u32(a.label));
    else return encodeSetFieldOxm(w, setFieldOf("mpls_label", BigInt(a.label)), version);
    return null;
  }, (n) => `set_mpls_label(${n})`, (s, n) => (n & ~0xfffff ? err(`${s}: not a valid MPLS label`) : null)),
  set_mpls_tc: numeric("set_mpls_tc", "set_mpls_tc", 8, "MPLS TC", (n) => ({ type: "set_mpls_tc", tc: n }), (a) => a.tc, (w, a, version) => {
    if (version === OF10) putNxAction(w, 31, (w) => w.u8(a.tc));
    else if (version === OF11) putOfAction(w, 14, (w) => w.u8(a.tc));
    else return encodeSetFieldOxm(w, setFieldOf("mpls_tc", BigInt(a.tc)), version);
    return null;
  }, (n) => `set_mpls_tc(${n})`, (s, n) => (n & ~7 ? err(`${s}: not a valid MPLS TC`) : null)),
  set_mpls_ttl: numeric("set_mpls_ttl", "set_mpls_ttl", 8, "MPLS TTL", (n) => ({ type: "set_mpls_ttl", ttl: n }), (a) => a.ttl, (w, a, version) => {
    if (version === OF10) putNxAction(w, 25, (w) => w.u8(a.ttl));
    else putOfAction(w, 15, (w) => w.u8(a.ttl));
    return null;
  }, (n) => `set_mpls_ttl(${n})`),
  dec_mpls_ttl: bare("dec_mpls_ttl", "dec_mpls_ttl", (w, _a, version) => {
    if (version === OF10) putNxAction(w, 26, () => undefined);
    else putOfAction(w, 16, () => undefined);
    return null;
  }),
  push_mpls: numeric("push_mpls", "push_mpls", 16, "push_mpls", (n) => ({ type: "push_mpls", ethertype: n }), (a) => a.ethertype, (w, a, version) => {
    if (version === OF10) putNxAction(w, 23, (w) => w.u16(a.ethertype));
    else putOfAction(w, 19, (w) => w.u16(a.ethertype));
    return null;
  }, (n) => `push_mpls:${formatEthertype(n)}`, (s, n) => (n !== 0x8847 && n !== 0x8848 ? err(`${s}: not a valid MPLS ethertype`) : null)),
  pop_mpls: numeric("pop_mpls", "pop_mpls", 16, "pop_mpls", (n) => ({ type: "pop_mpls", ethertype: n }), (a) => a.ethertype, (w, a, version) => {
    if (version === OF10) putNxAction(w, 24, (w) => w.u16(a.ethertype));
    else putOfAction(w, 20, (w) => w.u16(a.ethertype));
    return null;
  }, (n) => `pop_mpls:${formatEthertype(n)}`),
  set_queue: numeric("set_queue", "set_queue", 32, null, (n) => ({ type: "set_queue", queue: n }), (a) => a.queue, (w, a, version) => {
    if (version === OF10) putNxAction(w, 4, (w) => w.zeros(2).u32(a.queue));
    else putOfAction(w, 21, (w) => w.u32(a.queue));
    return null;
  }),
  pop_queue: bare("pop_queue", "pop_queue", (w) => {
    putNxAction(w, 5, () => undefined);
    return null;
  }),
  set_tunnel: {
    type: "set_tunnel", keywords: ["set_tunnel", "set_tunnel64"],
    parse: (k, arg) => {
      const v = parseU64(arg);
      if (isTextError(v)) return v;
      return { type: "set_tunnel", tunId: v, wide: k === "set_tunnel64" || v > 0xffffffffn };
    },
    format: (a) => `${a.wide ? "set_tunnel64" : "set_tunnel"}:${hexNum(a.tunId)}`,
    encode: (w, a, version) => {
      if (version >= OF12) return encodeSetFieldOxm(w, setFieldOf("tun_id", a.tunId), version);
      if (a.wide) putNxAction(w, 9, (w) => w.zeros(6).u64(a.tunId));
      else putNxAction(w, 2, (w) => w.zeros(2).u32(Number(a.tunId)));
      return null;
    },
  },
  note: {
    type: "note", keywords: ["note"],
    parse: (_k, arg) => {
      const b = parseDottedHex(arg);
      return b ? { type: "note", data: b } : err("bad hex digit in `note' argument");
    },
    format: (a) => `note:${formatDottedHex(a.data)}`,
    encode: (w, a) => {
      putNxAction(w, 8, (w) => w.bytes(a.data));
      return null;
    },
  },
  exit: bare("exit", "exit", (w) => {
    putNxAction(w, 17, () => undefined);
    return null;
  }),
  ct_clear: bare("ct_clear", "ct_clear", (w) => {
    putNxAction(w, 43, () => undefined);
    return null;
  }),
  fin_timeout: {
    type: "fin_timeout", keywords: ["fin_timeout"],
    parse: (_k, arg) => {
      const a = { type: "fin_timeout" as const, idle: 0, hard: 0 };
      for (const { key, value } of splitItems(arg)) {
        const n = parseUintBits(value, 16, key);
        if (isTextError(n)) return n;
        if (key === "idle_timeout") a.idle = n;
        else if (key === "hard_timeout") a.hard = n;
        else return err(`invalid key '${key}' in 'fin_timeout' argument`);
      }
      return a;
    },
    format: (a) => {
      const parts: string[] = [];
      if (a.idle) parts.push(`idle_timeout=${a.idle}`);
      if (a.hard) parts.push(`hard_timeout=${a.hard}`);
      return `fin_timeout(${parts.join(",")})`;
    },
    encode: (w, a) => {
      putNxAction(w, 19, (w) => w.u16(a.idle).u16(a.hard));
      return null;
    },
  },
  conjunction: {
    type: "conjunction", keywords: ["conjunction"],
    parse: (_k, arg) => {
      const m = /^\s*(\S+?)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(arg);
      if (!m) return err(`"conjunction" syntax is "conjunction(id,i/n)"`);
      const id = parseUintBits(m[1]!, 32, "conjunction id");
      if (isTextError(id)) return err(`"conjunction" syntax is "conjunction(id,i/n)"`);
      const k = Number(m[2]);
      const n = Number(m[3]);
      if (n < 2) return err("conjunction must have at least 2 clauses");
      if (n > 64) return err("conjunction must have at most 64 clauses");
      if (k < 1) return err("clause index must be positive");
      if (k > n) return err("clause index must be less than or equal to number of clauses");
      return { type: "conjunction", id, clause: k - 1, nClauses: n };
    },
    format: (a) => `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`,
    encode: (w, a) => {
      putNxAction(w, 34, (w) => w.u8(a.clause).u8(a.nClauses).u32(a.id));
      return null;
    },
  },
  multipath: {
    type: "multipath", keywords: ["multipath"],
    parse: (_k, arg) => {
      const parts = arg.split(",");
      if (parts.length !== 6) return err(`${arg}: not enough arguments to multipath action`);
      const fields = MULTIPATH_FIELDS.indexOf(parts[0]!);
      if (fields < 0) return err(`${arg}: unknown fields \`${parts[0]}'`);
      const basis = parseUintBits(parts[1]!, 16, "basis");
      if (isTextError(basis)) return basis;
      const alg = MULTIPATH_ALGS.indexOf(parts[2]!);
      if (alg < 0) return err(`${arg}: unknown algorithm \`${parts[2]}'`);
      const nLinks = Number(parts[3]);
      if (!Number.isInteger(nLinks) || nLinks < 1 || nLinks > 65536) {
        return err(`${arg}: n_links ${parts[3]} is not in valid range 1 to 65536`);
      }
      const argN = parseUintBits(parts[4]!, 32, "arg");
      if (isTextError(argN)) return argN;
      const dst = parseSubfield(parts[5]!);
      if ("error" in dst) return err(dst.error);
      return { type: "multipath", fields, basis, algorithm: alg, maxLink: nLinks - 1, arg: argN, dst: dst.sf };
    },
    format: (a) => `multipath(${MULTIPATH_FIELDS[a.fields] ?? a.fields},${a.basis},${MULTIPATH_ALGS[a.algorithm] ?? a.algorithm},${a.maxLink + 1},${a.arg},${formatSubfield(a.dst)})`,
    encode: (w, a) => {
      putNxAction(w, 10, (w) => w.u16(a.fields).u16(a.basis).zeros(2).u16(a.algorithm).u16(a.maxLink).u32(a.arg).zeros(2)
        .u16(ofsNbits(a.dst.ofs, a.dst.nBits)).bytes(subfieldHeaderBytes(a.dst)));
      return null;
    },
  },
  stack_push: {
    type: "stack_push", keywords: ["push"],
    parse: (_k, arg) => parseStack(arg, "stack_push"),
    format: (a) => `push:${formatSubfield(a.sf)}`,
    encode: (w, a) => {
      encodeStack(w, 27, a.sf);
      return null;
    },
  },
  stack_pop: {
    type: "stack_pop", keywords: ["pop"],
    parse: (_k, arg) => parseStack(arg, "stack_pop"),
    format: (a) => `pop:${formatSubfield(a.sf)}`,
    encode: (w, a) => {
      encodeStack(w, 28, a.sf);
      return null;
    },
  },
  sample: {
    type: "sample", keywords: ["sample"],
    parse: (_k, arg) => {
      const a = { type: "sample" as const, probability: 0, collectorSetId: 0, obsDomainId: 0, obsPointId: 0, port: OFPP_NONE, direction: 0 };
      for (const { key, value } of splitItems(arg)) {
        if (key === "ingress") a.direction = 1;
        else if (key === "egress") a.direction = 2;
        else if (key === "sampling_port") {
          const p = parsePortText(value);
          if (p === null) return err(`${value}: unknown port`);
          a.port = p;
        } else {
          const bits = key === "probability" ? 16 : 32;
          const n = parseUintBits(value, bits, key);
          if (isTextError(n)) return n;
          if (key === "probability") {
            if (n === 0) return err("invalid probability value \"0\"");
            a.probability = n;
          } else if (key === "collector_set_id") a.collectorSetId = n;
          else if (key === "obs_domain_id") a.obsDomainId = n;
          else if (key === "obs_point_id") a.obsPointId = n;
          else return err(`invalid key "${key}" in "sample" argument`);
        }
      }
      if (a.probability === 0) return err("non-zero \"probability\" must be specified on sample");
      return a;
    },
    format: (a) => {
      let s = `sample(probability=${a.probability},collector_set_id=${a.collectorSetId},obs_domain_id=${a.obsDomainId},obs_point_id=${a.obsPointId}`;
      if (a.port !== OFPP_NONE) s += `,sampling_port=${formatPort(a.port)}`;
      if (a.direction === 1) s += ",ingress";
      if (a.direction === 2) s += ",egress";
      return s + ")";
    },
    encode: (w, a) => {
      if (a.port === OFPP_NONE && a.direction === 0) {
        putNxAction(w, 29, (w) => w.u16(a.probability).u32(a.collectorSetId).u32(a.obsDomainId).u32(a.obsPointId));
      } else if (a.direction === 0) {
        putNxAction(w, 38, (w) => w.u16(a.probability).u32(a.collectorSetId).u32(a.obsDomainId).u32(a.obsPointId).u16(a.port).zeros(6));
      } else {
        putNxAction(w, 41, (w) => w.u16(a.probability).u32(a.collectorSetId).u32(a.obsDomainId).u32(a.obsPointId).u16(a.port).u8(a.direction).zeros(5));
      }
      return null;
    },
  },
  check_pkt_larger: {
    type: "check_pkt_larger", keywords: ["check_pkt_larger"],
    parse: (_k, arg) => {
      const m = /^([^)]*)\)?->(.*)$/.exec(arg);
      if (!m) return err(`${arg}: missing \`->'`);
      const n = parseUintBits(m[1]!, 16, "(null)");
      if (isTextError(n)) return n;
      const dst = parseSubfield(m[2]!);
      if ("error" in dst) return err(dst.error);
      if (dst.sf.nBits !== 1) return err(`Only 1-bit destination field is allowed`);
      return { type: "check_pkt_larger", pktLen: n, dst: dst.sf };
    },
    format: (a) => `check_pkt_larger(${a.pktLen})->${formatSubfield(a.dst)}`,
    encode: (w, a) => {
      putNxAction(w, 49, (w) => w.u16(a.pktLen).u16(a.dst.ofs).bytes(subfieldHeaderBytes(a.dst)));
      return null;
    },
  },
  delete_field: {
    type: "delete_field", keywords: ["delete_field"],
    parse: (_k, arg) => {
      const fld = mfFromName(arg.trim());
      if (!fld) return err(`unknown field \`${arg}'`);
      return { type: "delete_field", field: fld.name };
    },
    format: (a) => `delete_field:${a.field}`,
    encode: (w, a) => {
      putNxAction(w, 50, (w) => w.bytes(nxHeaderBytesOf(mfFromName(a.field)!)).zeros(4));
      return null;
    },
  },
  clone: {
    type: "clone", keywords: ["clone"],
    parse: (_k, arg, codecs) => {
      const list = codecs.parseList(arg);
      return isTextError(list) ? list : { type: "clone", actions: list };
    },
    format: (a, codecs) => `clone(${codecs.formatList(a.actions)})`,
    encode: (w, a, version, codecs) => {
      let e: ActionTextError | null = null;
      putNxAction(w, 42, (w) => {
        w.zeros(6);
        e = codecs.encodeList(w, a.actions, version);
      });
      return e;
    },
  },
  ct: CT_ENTRY,
  learn: LEARN_ENTRY,
  bundle: BUNDLE_ENTRY,
  bundle_load: BUNDLE_LOAD_ENTRY,
  encap: ENCAP_ENTRY,
  decap: DECAP_ENTRY,
  dec_nsh_ttl: DEC_NSH_TTL_ENTRY,
  nat: NAT_ENTRY,
  meter: numeric("meter", "meter", 32, null, (n) => ({ type: "meter", meterId: n }), (a) => a.meterId, (w, a, version) => {
    // Before OpenFlow 1.3 there is nothing to write it as.
    if (version < 4) return null;
    if (version >= OF15) putOfAction(w, 29, (w) => w.u32(a.meterId));
    else {
      w.u16(6).u16(8).u32(a.meterId);
    }
    return null;
  }),
  clear_actions: bare("clear_actions", "clear_actions", (w, _a, version) => {
    if (version !== OF10) w.u16(5).u16(8).u32(0);
    return null;
  }),
  write_actions: {
    type: "write_actions", keywords: ["write_actions"],
    parse: (_k, arg, codecs) => {
      const list = codecs.parseList(arg);
      return isTextError(list) ? list : { type: "write_actions", actions: list };
    },
    format: (a, codecs) => `write_actions(${codecs.formatList(a.actions)})`,
    encode: (w, a, version, codecs) => {
      if (version === OF10) return null;
      const inner = new OfpWriter(64);
      const e = codecs.encodeList(inner, a.actions, version);
      if (e) return e;
      // OVS leaves out an instruction whose action list came out empty.
      const body = inner.finish();
      if (body.length) w.u16(3).u16(8 + body.length).u32(0).bytes(body);
      return null;
    },
  },
  write_metadata: {
    type: "write_metadata", keywords: ["write_metadata"],
    parse: (_k, arg) => {
      const slash = arg.indexOf("/");
      const v = parseU64(slash < 0 ? arg : arg.slice(0, slash));
      if (isTextError(v)) return v;
      let mask = 0xffffffffffffffffn;
      if (slash >= 0) {
        const m = parseU64(arg.slice(slash + 1));
        if (isTextError(m)) return m;
        mask = m;
      }
      return { type: "write_metadata", metadata: v, mask };
    },
    format: (a) => `write_metadata:${hexNum(a.metadata)}${a.mask === 0xffffffffffffffffn ? "" : `/${hexNum(a.mask)}`}`,
    encode: (w, a, version) => {
      if (version === OF10) putNxAction(w, 22, (w) => w.zeros(6).u64(a.metadata).u64(a.mask));
      else w.u16(2).u16(24).u32(0).u64(a.metadata).u64(a.mask);
      return null;
    },
  },
  goto_table: {
    ...numeric("goto_table", "goto_table", 8, "table", (n) => ({ type: "goto_table", tableId: n }), (a) => a.tableId, (w, a, version) => {
      if (version === OF10) putNxAction(w, 14, (w) => w.u16(OFPP_IN_PORT).u8(a.tableId).zeros(3));
      else w.u16(1).u16(8).u8(a.tableId).zeros(3);
      return null;
    }),
    parse: (_k, arg) => {
      const n = parseUintBits(arg, 8, "table");
      return isTextError(n) ? err(`unknown table "${arg}"`) : { type: "goto_table", tableId: n };
    },
  },
};

/** Writes one action (an instruction variant writes its instruction header itself). */
export function encodeAction(w: OfpWriter, a: OfpAction, version: number, codecs: ListCodecs, opts: EncodeOptions): ActionTextError | null {
  const entry = ACTION_TABLE[a.type] as ActionEntry<OfpActionType>;
  return entry.encode(w, a as never, version, codecs, opts);
}

export function formatAction(a: OfpAction, codecs: ListCodecs): string {
  const entry = ACTION_TABLE[a.type] as ActionEntry<OfpActionType>;
  return entry.format(a as never, codecs);
}

/** Keyword → entry, for the text parser. */
export const ACTION_KEYWORDS: ReadonlyMap<string, ActionEntry<OfpActionType>> = new Map(
  Object.values(ACTION_TABLE).flatMap((e) => (e as ActionEntry<OfpActionType>).keywords.map((k) => [k, e as ActionEntry<OfpActionType>] as const)),
);

/* ---------------- wire decoders ---------------- */

function of(name: string, code: number, minVersion: number, maxVersion: number, len: number, decode: WireAction["decode"], variable = false): WireAction {
  return variable ? { name, vendor: 0, code, minVersion, maxVersion, len, variable, decode } : { name, vendor: 0, code, minVersion, maxVersion, len, decode };
}
function nx(name: string, code: number, len: number, decode: WireAction["decode"], variable = false, minVersion = OF10, maxVersion = MAXV): WireAction {
  return variable ? { name, vendor: NX, code, minVersion, maxVersion, len, variable, decode } : { name, vendor: NX, code, minVersion, maxVersion, len, decode };
}

function decodeOutput(r: OfpReader, version: number): OfpAction | DecodeError {
  const port = readPortFor(r, version);
  if (typeof port !== "number") return port;
  const maxLen = r.u16();
  if (port === OFPP_CONTROLLER) {
    return { type: "controller", maxLen, controllerId: 0, reason: 1, userdata: null, pause: false, meterId: null };
  }
  if (!isValidOutputPort(port)) return fail("OFPBAC_BAD_OUT_PORT");
  return { type: "output", port, maxLen };
}

/**
 * Reads a sub-field's header and checks it as OVS's mf_check_src does:
 * unknown field → OFPBAC_BAD_SET_TYPE, bits outside it → OFPBAC_BAD_SET_LEN.
 */
export function readSubfieldAt(r: OfpReader, ofs: number, nBits: number, unknown: "OFPBMC_BAD_FIELD" | "OFPBAC_BAD_SET_TYPE" = "OFPBMC_BAD_FIELD"): Subfield | DecodeError {
  const hb = r.data.subarray(r.pos, r.end);
  const hit = fieldOfHeaderBytes(hb);
  r.skip(hit ? hit.len : 4);
  // OVS reads these headers with nx_pull_header, which rejects unknown ones as a bad field.
  if (!hit) return fail(unknown);
  return checkSubfield(hit.fld, ofs, nBits);
}

/** OVS's mf_check_src for a decoded sub-field. */
export function checkSubfield(fld: MfField | null, ofs: number, nBits: number): Subfield | DecodeError {
  if (!fld) return fail("OFPBAC_BAD_SET_TYPE");
  if (nBits < 1 || ofs + nBits > fieldBits(fld)) return fail("OFPBAC_BAD_SET_LEN");
  return { field: fld.name, ofs, nBits };
}

/** OVS's mf_check_dst: a checked source that must also be writable. */
function checkDst(sf: Subfield | DecodeError): Subfield | DecodeError {
  if (isDecErr(sf)) return sf;
  return subfieldField(sf).writable ? sf : fail("OFPBAC_BAD_SET_ARGUMENT");
}

function isDecErr(x: unknown): x is DecodeError {
  return typeof x === "object" && x !== null && "decodeError" in x;
}

/** Largest valid value of fields whose values OVS checks (vlan_vid includes OFPVID_PRESENT). */
const VALUE_LIMITS: Readonly<Record<string, bigint>> = {
  vlan_vid: 0x1fffn, vlan_pcp: 7n, ip_dscp: 0x3fn, nw_ecn: 3n, mpls_label: 0xfffffn, mpls_tc: 7n, mpls_bos: 1n,
  ipv6_label: 0xfffffn, ip_frag: 3n,
};

/*
 * Which error OVS gives a set_field whose OXM header it does not know.
 * OVS looks the header up in a hash table of every field header it knows,
 * and any entry sharing the header's bucket whose length differs from the
 * header's makes the error OFPBAC_BAD_SET_LEN; otherwise it is
 * OFPBAC_BAD_SET_TYPE. So the answer depends on OVS's hash function (the
 * murmur-style hash of lib/hash.h) and on its table size, both reproduced
 * here; checked against ovs-ofctl over thousands of random headers.
 */
function rotl32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mhashAdd(hash: number, data: number): number {
  if (data) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rotl32(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rotl32(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** OVS's hash_uint64 of the 64-bit header (high word: class/field/hasmask/length; low: experimenter id). */
function headerHash(hi: number, lo: number): number {
  return mhashFinish((mhashAdd(mhashAdd(0, lo), hi) ^ 8) >>> 0);
}

/** The header without its length (and mask bit), as OVS hashes it. */
function headerNoLen(hi: number): number {
  return (hi & 0xfffffe80) >>> 0;
}

interface KnownHeader {
  bucketHash: number;
  len: number;
}

let knownHeaders: { mask: number; list: KnownHeader[] } | null = null;

function knownHeaderTable(): { mask: number; list: KnownHeader[] } {
  if (knownHeaders) return knownHeaders;
  const seen = new Set<string>();
  const list: KnownHeader[] = [];
  for (const f of MF_FIELDS) {
    for (const c of [f.nxm, f.oxm, f.oxm15]) {
      if (!c) continue;
      const exp = c.class === 0xffff;
      const len = (isVariableLength(f) ? 124 : f.bytes) + (exp ? 4 : 0);
      const hi = ((c.class << 16) | (c.field << 9) | len) >>> 0;
      const lo = exp ? c.vendor >>> 0 : 0;
      if (seen.has(`${hi}:${lo}`)) continue;
      seen.add(`${hi}:${lo}`);
      list.push({ bucketHash: headerHash(headerNoLen(hi), lo), len });
    }
  }
  // The bucket mask OVS's hmap ends with after inserting them one by one.
  const calc = (n: number): number => {
    let m = Math.floor(n / 2);
    m |= m >>> 1;
    m |= m >>> 2;
    m |= m >>> 4;
    m |= m >>> 8;
    m |= m >>> 16;
    return m | ((m & 1) << 1);
  };
  let mask = 0;
  for (let n = 1; n <= list.length; n++) if (Math.floor(n / 2) > mask) mask = Math.max(mask, calc(n));
  knownHeaders = { mask, list };
  return knownHeaders;
}

function unknownSetFieldError(h: NxmHeader): "OFPBAC_BAD_SET_LEN" | "OFPBAC_BAD_SET_TYPE" {
  const exp = h.class === 0xffff;
  // A masked header is looked up as its exact form (half the payload).
  const len = (h.hasmask ? Math.floor(h.length / 2) : h.length) + (exp ? 4 : 0);
  if (len <= 0) return "OFPBAC_BAD_SET_TYPE";
  const hi = ((h.class << 16) | (h.field << 9) | (len & 0xff)) >>> 0;
  const t = knownHeaderTable();
  const bucket = headerHash(headerNoLen(hi), exp ? h.vendor >>> 0 : 0) & t.mask;
  for (const k of t.list) if ((k.bucketHash & t.mask) === bucket && k.len !== len) return "OFPBAC_BAD_SET_LEN";
  return "OFPBAC_BAD_SET_TYPE";
}

/** OVS's mf_is_value_valid for the fields whose valid values are narrower than their width. */
function setFieldValueOk(name: string, v: bigint): boolean {
  switch (name) {
    case "nw_tos":
      return (v & 3n) === 0n;
    case "arp_op":
      return v <= 0xffn;
    case "nsh_spi":
      return v <= 0xffffffn;
    default:
      return true;
  }
}

function decodeSetFieldOxm(r: OfpReader, version: number, len: number, regLoad2 = false): OfpAction | DecodeError {
  const hb = r.data.subarray(r.pos, r.end);
  const hit = fieldOfHeaderBytes(hb, true);
  if (!hit) {
    const h = hb.length >= 4 ? decodeNxmHeader(hb) : null;
    return fail(h === null ? "OFPBAC_BAD_SET_TYPE" : unknownSetFieldError(h));
  }
  r.skip(hit.len);
  const fld = hit.fld;
  // tun_metadata is variable-length: the entry holds its low-order bytes.
  const variable = isVariableLength(fld);
  const n = variable ? (hit.header.hasmask ? hit.header.length >> 1 : hit.header.length) : fld.bytes;
  const need = hit.header.hasmask ? 2 * n : n;
  if (hit.header.length !== need) return fail("OFPBAC_BAD_SET_LEN");
  // NXAST_REG_LOAD2 reports a payload cut short as nx_pull_entry does.
  if (4 + hit.len + need > len) return fail(regLoad2 ? "OFPBMC_BAD_LEN" : "OFPBAC_BAD_SET_LEN");
  // OVS's entry parser judges value against mask before set_field asks
  // whether a mask is allowed, and only then looks at the field and value.
  if (hit.header.hasmask) {
    const at = r.pos;
    for (let i = 0; i < n; i++) if ((r.data[at + i]! & ~r.data[at + n + i]!) !== 0) return fail("OFPBMC_BAD_WILDCARDS");
  }
  if (hit.header.hasmask && version < OF15) return fail("OFPBAC_BAD_SET_MASK");
  if (!fld.writable) return fail("OFPBAC_BAD_SET_ARGUMENT");
  const widen = (b: Uint8Array, fill: number): Uint8Array => {
    if (!variable) return b;
    const out = new Uint8Array(fld.bytes).fill(fill, 0, fld.bytes - n);
    out.set(b, fld.bytes - n);
    return out;
  };
  const value = widen(r.bytes(n), 0);
  const mask = hit.header.hasmask ? widen(r.bytes(n), 0) : onesMask(fld);
  // Like OVS's mf_is_value_valid, only some fields limit their values.
  const limit = VALUE_LIMITS[fld.name];
  if (limit !== undefined && bytesToBig(value) > limit) return fail("OFPBAC_BAD_SET_ARGUMENT");
  // (NXAST_REG_LOAD2 does not judge these values.)
  if (!regLoad2 && !setFieldValueOk(fld.name, bytesToBig(value))) return fail("OFPBAC_BAD_SET_ARGUMENT");
  if (fld.name === "vlan_vid" && !hit.header.hasmask && !(bytesToBig(value) & 0x1000n)) {
    // OVS: set_field vlan_vid without OFPVID_PRESENT is not a VLAN id.
    return fail("OFPBAC_BAD_SET_ARGUMENT");
  }
  if (value.some((x, i) => (x & ~mask[i]!) !== 0)) return fail("OFPBMC_BAD_WILDCARDS");
  if (r.data.subarray(r.pos, r.end).some((x) => x !== 0)) return fail("OFPBAC_BAD_SET_ARGUMENT");
  return { type: "set_field", field: fld.name, value, mask, load: false };
}

function decodeRegLoad(r: OfpReader): OfpAction | DecodeError {
  const on = r.u16();
  const ofs = on >>> 6;
  const nBits = (on & 63) + 1;
  const sf = checkDst(readSubfieldAt(r, ofs, nBits, "OFPBAC_BAD_SET_TYPE"));
  if (isDecErr(sf)) return sf;
  const v = r.u64();
  if (nBits < 64 && v >> BigInt(nBits) !== 0n) return fail("OFPBAC_BAD_ARGUMENT");
  const fld = subfieldField(sf);
  const mask = ((1n << BigInt(nBits)) - 1n) << BigInt(ofs);
  return { type: "set_field", field: fld.name, value: bigToBytes(v << BigInt(ofs), fld.bytes), mask: bigToBytes(mask, fld.bytes), load: true };
}

/**
 * OVS's nx_pull_header error for a header it will not take here: a masked
 * header whose exact form names a field is OFPBMC_BAD_MASK, else the field
 * is unknown (OFPBMC_BAD_FIELD).
 */
function pullHeaderError(hb: Uint8Array): DecodeError {
  const masked = fieldOfHeaderBytes(hb, true);
  return fail(masked && masked.header.hasmask ? "OFPBMC_BAD_MASK" : "OFPBMC_BAD_FIELD");
}

function decodeRegMove(r: OfpReader, copyField: boolean): OfpAction | DecodeError {
  const nBits = r.u16();
  const srcOfs = r.u16();
  const dstOfs = r.u16();
  if (copyField) r.skip(2);
  // OVS pulls both headers, then wants the rest zero, then checks the bit ranges.
  const srcHit = fieldOfHeaderBytes(r.data.subarray(r.pos, r.end));
  if (!srcHit) return pullHeaderError(r.data.subarray(r.pos, r.end));
  r.skip(srcHit.len);
  const dstHit = fieldOfHeaderBytes(r.data.subarray(r.pos, r.end));
  if (!dstHit) return pullHeaderError(r.data.subarray(r.pos, r.end));
  r.skip(dstHit.len);
  if (r.rest().some((x) => x !== 0)) return fail("NXBRC_MUST_BE_ZERO");
  const src = checkSubfield(srcHit.fld, srcOfs, nBits);
  if (isDecErr(src)) return src;
  const dst = checkDst(checkSubfield(dstHit.fld, dstOfs, nBits));
  if (isDecErr(dst)) return dst;
  return { type: "reg_move", src, dst };
}

function decodeController2(r: OfpReader): OfpAction | DecodeError {
  const a: ActionOf<"controller"> = { type: "controller", maxLen: UINT16_MAX, controllerId: 0, reason: 1, userdata: null, pause: false, meterId: null, raw2: true };
  if (r.bytes(6).some((x) => x !== 0)) return fail("NXBRC_MUST_BE_ZERO");
  while (r.remaining > 0) {
    if (r.remaining < 4) return fail("OFPBAC_BAD_LEN");
    const type = r.u16();
    const len = r.u16();
    if (len < 4 || len > r.remaining + 4) return fail("OFPBPC_BAD_LEN");
    const body = r.sub(len - 4);
    const padded = ((len + 7) & ~7) - len;
    if (padded > r.remaining) return fail("OFPBPC_BAD_LEN");
    r.skip(padded);
    switch (type) {
      case 0: a.maxLen = body.u16(); break;
      case 1: a.controllerId = body.u16(); break;
      case 2: a.reason = body.u8(); break;
      case 3: a.userdata = body.rest(); break;
      case 4: a.pause = true; break;
      case 5: a.meterId = body.u32(); break;
      default: return fail("OFPBPC_BAD_TYPE");
    }
    if (body.overrun) return fail("OFPBAC_BAD_LEN");
  }
  return a;
}

function decodeStack(r: OfpReader, type: "stack_push" | "stack_pop"): OfpAction | DecodeError {
  const ofs = r.u16();
  const hb = r.data.subarray(r.pos, r.end);
  const hit = fieldOfHeaderBytes(hb);
  r.skip(hit ? hit.len : 4);
  const nBits = r.u16();
  if (!hit) return pullHeaderError(hb);
  if (r.data.subarray(r.pos, r.end).some((x) => x !== 0)) return fail("NXBRC_MUST_BE_ZERO");
  const sf = type === "stack_pop" ? checkDst(checkSubfield(hit ? hit.fld : null, ofs, nBits)) : checkSubfield(hit ? hit.fld : null, ofs, nBits);
  return isDecErr(sf) ? sf : { type, sf };
}


/** Every wire action tsovs decodes, by vendor and code. */
export const WIRE_ACTIONS: readonly WireAction[] = [
  of("OFPAT_OUTPUT", 0, OF10, OF10, 8, (r, ver) => decodeOutput(r, ver)),
  of("OFPAT_OUTPUT", 0, OF11, MAXV, 16, (r, ver) => decodeOutput(r, ver)),
  of("OFPAT10_SET_VLAN_VID", 1, OF10, OF10, 8, (r) => {
    const vid = r.u16();
    return vid & ~0xfff ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_vlan_vid", vid, push: true };
  }),
  of("OFPAT11_SET_VLAN_VID", 1, OF11, MAXV, 8, (r) => {
    const vid = r.u16();
    return vid & ~0xfff ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_vlan_vid", vid, push: false };
  }),
  of("OFPAT10_SET_VLAN_PCP", 2, OF10, OF10, 8, (r) => {
    const pcp = r.u8();
    return pcp & ~7 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_vlan_pcp", pcp, push: true };
  }),
  of("OFPAT11_SET_VLAN_PCP", 2, OF11, MAXV, 8, (r) => {
    const pcp = r.u8();
    return pcp & ~7 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_vlan_pcp", pcp, push: false };
  }),
  of("OFPAT10_STRIP_VLAN", 3, OF10, OF10, 8, () => ({ type: "strip_vlan", pop: false })),
  of("OFPAT_SET_DL_SRC", 4, OF10, OF10, 16, (r) => ({ type: "set_eth_src", mac: r.bytes(6) })),
  of("OFPAT_SET_DL_DST", 5, OF10, OF10, 16, (r) => ({ type: "set_eth_dst", mac: r.bytes(6) })),
  of("OFPAT_SET_NW_SRC", 6, OF10, OF10, 8, (r) => ({ type: "set_ipv4_src", addr: r.u32() })),
  of("OFPAT_SET_NW_DST", 7, OF10, OF10, 8, (r) => ({ type: "set_ipv4_dst", addr: r.u32() })),
  of("OFPAT_SET_NW_TOS", 8, OF10, OF10, 8, (r) => {
    const tos = r.u8();
    return tos & 3 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_ip_dscp", tos };
  }),
  of("OFPAT_SET_TP_SRC", 9, OF10, MAXV, 8, (r) => ({ type: "set_l4_src", port: r.u16() })),
  of("OFPAT_SET_TP_DST", 10, OF10, MAXV, 8, (r) => ({ type: "set_l4_dst", port: r.u16() })),
  of("OFPAT10_ENQUEUE", 11, OF10, OF10, 16, (r) => {
    const port = r.u16();
    r.skip(6);
    const queue = r.u32();
    if (port >= OFPP_MAX && port !== OFPP_IN_PORT && port !== OFPP_LOCAL) return fail("OFPBAC_BAD_OUT_PORT");
    return { type: "enqueue", port, queue };
  }),
  of("OFPAT_SET_DL_SRC", 3, OF11, MAXV, 16, (r) => ({ type: "set_eth_src", mac: r.bytes(6) })),
  of("OFPAT_SET_DL_DST", 4, OF11, MAXV, 16, (r) => ({ type: "set_eth_dst", mac: r.bytes(6) })),
  of("OFPAT_SET_NW_SRC", 5, OF11, MAXV, 8, (r) => ({ type: "set_ipv4_src", addr: r.u32() })),
  of("OFPAT_SET_NW_DST", 6, OF11, MAXV, 8, (r) => ({ type: "set_ipv4_dst", addr: r.u32() })),
  of("OFPAT_SET_NW_TOS", 7, OF11, MAXV, 8, (r) => {
    const tos = r.u8();
    return tos & 3 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_ip_dscp", tos };
  }),
  of("OFPAT11_SET_NW_ECN", 8, OF11, MAXV, 8, (r) => {
    const ecn = r.u8();
    return ecn > 3 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "set_ip_ecn", ecn };
  }),
  of("OFPAT_SET_MPLS_LABEL", 13, OF11, MAXV, 8, (r) => ({ type: "set_mpls_label", label: r.u32() })),
  of("OFPAT_SET_MPLS_TC", 14, OF11, MAXV, 8, (r) => ({ type: "set_mpls_tc", tc: r.u8() })),
  of("OFPAT_SET_MPLS_TTL", 15, OF11, MAXV, 8, (r) => ({ type: "set_mpls_ttl", ttl: r.u8() })),
  of("OFPAT_DEC_MPLS_TTL", 16, OF11, MAXV, 8, () => ({ type: "dec_mpls_ttl" })),
  of("OFPAT11_PUSH_VLAN", 17, OF11, MAXV, 8, (r) => {
    const ethertype = r.u16();
    return ethertype !== 0x8100 && ethertype !== 0x88a8 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "push_vlan", ethertype };
  }),
  of("OFPAT11_POP_VLAN", 18, OF11, MAXV, 8, () => ({ type: "strip_vlan", pop: true })),
  of("OFPAT_PUSH_MPLS", 19, OF11, MAXV, 8, (r) => {
    const ethertype = r.u16();
    return ethertype !== 0x8847 && ethertype !== 0x8848 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "push_mpls", ethertype };
  }),
  of("OFPAT_POP_MPLS", 20, OF11, MAXV, 8, (r) => ({ type: "pop_mpls", ethertype: r.u16() })),
  of("OFPAT_SET_QUEUE", 21, OF11, MAXV, 8, (r) => ({ type: "set_queue", queue: r.u32() })),
  of("OFPAT_GROUP", 22, OF11, MAXV, 8, (r) => ({ type: "group", groupId: r.u32() })),
  of("OFPAT11_SET_NW_TTL", 23, OF11, MAXV, 8, (r) => ({ type: "set_ip_ttl", ttl: r.u8() })),
  of("OFPAT_DEC_NW_TTL", 24, OF11, MAXV, 8, () => ({ type: "dec_ttl", ids: [], cntIds: false })),
  of("OFPAT12_SET_FIELD", 25, OF12, MAXV, 8, (r, ver, len) => decodeSetFieldOxm(r, ver, len), true),
  of("OFPAT15_COPY_FIELD", 28, OF15, MAXV, 16, (r) => decodeRegMove(r, true), true),
  of("OFPAT15_METER", 29, OF15, MAXV, 8, (r) => ({ type: "meter", meterId: r.u32() })),

  nx("NXAST_RESUBMIT", 1, 16, (r) => ({ type: "resubmit", inPort: r.u16(), tableId: 255, ct: false, legacy: true })),
  nx("NXAST_SET_TUNNEL", 2, 16, (r) => {
    r.skip(2);
    return { type: "set_tunnel", tunId: BigInt(r.u32()), wide: false };
  }),
  nx("NXAST_SET_QUEUE", 4, 16, (r) => {
    r.skip(2);
    return { type: "set_queue", queue: r.u32() };
  }, false, OF10, OF10),
  nx("NXAST_POP_QUEUE", 5, 16, () => ({ type: "pop_queue" })),
  nx("NXAST_REG_MOVE", 6, 16, (r) => (r.remaining < 14 ? fail("OFPBMC_BAD_LEN") : decodeRegMove(r, false)), true, OF10, 5),
  nx("NXAST_REG_LOAD", 7, 24, (r) => decodeRegLoad(r), false, OF10, 5),
  nx("NXAST_NOTE", 8, 16, (r) => ({ type: "note", data: r.rest() }), true),
  nx("NXAST_SET_TUNNEL64", 9, 24, (r) => {
    r.skip(6);
    return { type: "set_tunnel", tunId: r.u64(), wide: true };
  }),
  nx("NXAST_MULTIPATH", 10, 32, (r) => {
    const fields = r.u16();
    const basis = r.u16();
    r.skip(2);
    const algorithm = r.u16();
    const maxLink = r.u16();
    const arg = r.u32();
    r.skip(2);
    const on = r.u16();
    const dst = checkDst(readSubfieldAt(r, on >>> 6, (on & 63) + 1, "OFPBAC_BAD_SET_TYPE"));
    if (isDecErr(dst)) return dst;
    if (fields >= MULTIPATH_FIELDS.length || algorithm >= MULTIPATH_ALGS.length) return fail("OFPBAC_BAD_ARGUMENT");
    return { type: "multipath", fields, basis, algorithm, maxLink, arg, dst };
  }),
  nx("NXAST_RESUBMIT_TABLE", 14, 16, (r) => {
    const inPort = r.u16();
    const tableId = r.u8();
    if (r.bytes(3).some((x) => x !== 0)) return fail("OFPBAC_BAD_ARGUMENT");
    return { type: "resubmit", inPort, tableId, ct: false, legacy: false };
  }),
  nx("NXAST_OUTPUT_REG", 15, 24, (r) => {
    const on = r.u16();
    if (r.data.subarray(r.pos + 6, r.end).some((x) => x !== 0)) return fail("OFPBAC_BAD_ARGUMENT");
    const src = readSubfieldAt(r, on >>> 6, (on & 63) + 1, "OFPBAC_BAD_SET_TYPE");
    if (isDecErr(src)) return src;
    return { type: "output_reg", src, maxLen: r.u16() };
  }),
  nx("NXAST_EXIT", 17, 16, () => ({ type: "exit" })),
  nx("NXAST_DEC_TTL", 18, 16, () => ({ type: "dec_ttl", ids: [], cntIds: false }), false, OF10, OF10),
  nx("NXAST_FIN_TIMEOUT", 19, 16, (r) => ({ type: "fin_timeout", idle: r.u16(), hard: r.u16() })),
  nx("NXAST_CONTROLLER", 20, 16, (r) => {
    const maxLen = r.u16();
    const controllerId = r.u16();
    const reason = r.u8();
    return { type: "controller", maxLen, controllerId, reason, userdata: null, pause: false, meterId: null };
  }),
  nx("NXAST_DEC_TTL_CNT_IDS", 21, 16, (r, _v, len) => {
    const n = r.u16();
    if (r.bytes(4).some((x) => x !== 0)) return fail("NXBRC_MUST_BE_ZERO");
    if (16 + n * 2 > len) return fail("OFPBAC_BAD_LEN");
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(r.u16());
    return { type: "dec_ttl", ids, cntIds: true };
  }, true),
  nx("NXAST_WRITE_METADATA", 22, 32, (r, ver) => {
    if (ver !== OF10) return fail("OFPBIC_UNSUP_INST");
    r.skip(6);
    return { type: "write_metadata", metadata: r.u64(), mask: r.u64() };
  }),
  nx("NXAST_PUSH_MPLS", 23, 16, (r) => {
    const ethertype = r.u16();
    return ethertype !== 0x8847 && ethertype !== 0x8848 ? fail("OFPBAC_BAD_ARGUMENT") : { type: "push_mpls", ethertype };
  }, false, OF10, OF10),
  nx("NXAST_POP_MPLS", 24, 16, (r) => ({ type: "pop_mpls", ethertype: r.u16() }), false, OF10, OF10),
  nx("NXAST_SET_MPLS_TTL", 25, 16, (r) => ({ type: "set_mpls_ttl", ttl: r.u8() }), false, OF10, OF10),
  nx("NXAST_DEC_MPLS_TTL", 26, 16, () => ({ type: "dec_mpls_ttl" }), false, OF10, OF10),
  nx("NXAST_STACK_PUSH", 27, 24, (r) => decodeStack(r, "stack_push")),
  nx("NXAST_STACK_POP", 28, 24, (r) => decodeStack(r, "stack_pop")),
  nx("NXAST_SAMPLE", 29, 24, (r) => {
    const a = { type: "sample" as const, probability: r.u16(), collectorSetId: r.u32(), obsDomainId: r.u32(), obsPointId: r.u32(), port: OFPP_NONE, direction: 0 };
    return a.probability === 0 ? fail("OFPBAC_BAD_ARGUMENT") : a;
  }),
  nx("NXAST_SET_MPLS_LABEL", 30, 16, (r) => {
    r.skip(2);
    return { type: "set_mpls_label", label: r.u32() };
  }, false, OF10, OF10),
  nx("NXAST_SET_MPLS_TC", 31, 16, (r) => ({ type: "set_mpls_tc", tc: r.u8() }), false, OF10, OF10),
  nx("NXAST_OUTPUT_REG2", 32, 24, (r, _v, len) => {
    // Only an experimenter (8-byte) header makes it longer than 24 bytes.
    if (len > 24 && r.data[r.pos + 4] !== 0xff) return fail("OFPBAC_BAD_LEN");
    const on = r.u16();
    const maxLen = r.u16();
    const hb = r.data.subarray(r.pos, r.end);
    const hit = fieldOfHeaderBytes(hb);
    if (!hit) return fail("OFPBMC_BAD_FIELD");
    r.skip(hit.len);
    if (r.rest().some((x) => x !== 0)) return fail("OFPBAC_BAD_ARGUMENT");
    const src = checkSubfield(hit.fld, on >>> 6, (on & 63) + 1);
    return isDecErr(src) ? src : { type: "output_reg", src, maxLen };
  }, true),
  nx("NXAST_REG_LOAD2", 33, 16, (r, ver, len) => {
    // The entry follows the subtype directly (no padding before it).
    const a = decodeSetFieldOxm(r, 6, len - 6, true);
    if (isDecErr(a)) return a;
    void ver;
    return a.type === "set_field" ? { ...a, load: false } : a;
  }, true),
  nx("NXAST_CONJUNCTION", 34, 16, (r) => {
    const clause = r.u8();
    const nClauses = r.u8();
    const id = r.u32();
    if (nClauses < 2 || nClauses > 64 || clause >= nClauses) return fail("NXBAC_BAD_CONJUNCTION");
    return { type: "conjunction", id, clause, nClauses };
  }),
  nx("NXAST_CONTROLLER2", 37, 16, (r) => decodeController2(r), true),
  nx("NXAST_SAMPLE2", 38, 32, (r) => {
    const a = { type: "sample" as const, probability: r.u16(), collectorSetId: r.u32(), obsDomainId: r.u32(), obsPointId: r.u32(), port: r.u16(), direction: 0 };
    // OVS does not look at sample2's padding (sample3 checks its own).
    return a.probability === 0 ? fail("OFPBAC_BAD_ARGUMENT") : a;
  }),
  nx("NXAST_OUTPUT_TRUNC", 39, 16, (r) => {
    const port = r.u16();
    const maxLen = r.u32();
    // Truncating below an Ethernet header makes no sense.
    if (maxLen < 14) return fail("OFPBAC_BAD_ARGUMENT");
    return { type: "output_trunc", port, maxLen };
  }),
  nx("NXAST_GROUP", 40, 16, (r) => {
    r.skip(2);
    return { type: "group", groupId: r.u32() };
  }, false, OF10, OF10),
  nx("NXAST_SAMPLE3", 41, 32, (r) => {
    const a = { type: "sample" as const, probability: r.u16(), collectorSetId: r.u32(), obsDomainId: r.u32(), obsPointId: r.u32(), port: r.u16(), direction: r.u8() };
    if (a.probability === 0) return fail("OFPBAC_BAD_ARGUMENT");
    if (r.rest().some((x) => x !== 0)) return fail("NXBRC_MUST_BE_ZERO");
    return a.direction > 2 ? fail("OFPBAC_BAD_ARGUMENT") : a;
  }),
  nx("NXAST_CLONE", 42, 16, (r, ver, _len, codecs) => {
    r.skip(6);
    const list = codecs.decodeList(r.rest(), ver);
    return isDecErr(list) ? list : { type: "clone", actions: list };
  }, true),
  nx("NXAST_CT_CLEAR", 43, 16, () => ({ type: "ct_clear" })),
  nx("NXAST_RESUBMIT_TABLE_CT", 44, 16, (r) => {
    const inPort = r.u16();
    const tableId = r.u8();
    if (r.bytes(3).some((x) => x !== 0)) return fail("OFPBAC_BAD_ARGUMENT");
    return { type: "resubmit", inPort, tableId, ct: true, legacy: false };
  }),
  nx("NXAST_CHECK_PKT_LARGER", 49, 24, (r) => {
    if (r.remaining > 14) {
      // Longer than its struct: OVS reads the header first and rejects what follows it.
      if (!fieldOfHeaderBytes(r.data.subarray(r.pos + 4, r.end))) return fail("OFPBMC_BAD_FIELD");
      return fail("OFPBAC_BAD_LEN");
    }
    const pktLen = r.u16();
    const ofs = r.u16();
    if (r.data.subarray(r.pos + 4, r.end).some((x) => x !== 0)) return fail("NXBRC_MUST_BE_ZERO");
    if (!fieldOfHeaderBytes(r.data.subarray(r.pos, r.end))) return fail("OFPBMC_BAD_FIELD");
    const dst = checkDst(readSubfieldAt(r, ofs, 1));
    return isDecErr(dst) ? dst : { type: "check_pkt_larger", pktLen, dst };
  }, true),
  nx("NXAST_DELETE_FIELD", 50, 24, (r) => {
    const hit = fieldOfHeaderBytes(r.data.subarray(r.pos, r.end));
    return hit ? { type: "delete_field", field: hit.fld.name } : fail("OFPBMC_BAD_FIELD");
  }),
  // ONF's OpenFlow 1.3 extension copy_field (experimenter type 3200), decoded as move.
  {
    name: "ONFACT_COPY_FIELD", vendor: 0x4f4e4600, code: 3200, minVersion: 4, maxVersion: 5, len: 24, variable: true,
    decode: (r) => {
      r.skip(2);
      return decodeRegMove(r, true);
    },
  },
  ...CT_WIRE,
  ...LEARN_WIRE,
  ...MISC_WIRE,
];
