/**
 * Less common Nicira actions with their own syntax: bundle / bundle_load
 * (NXAST_BUNDLE, NXAST_BUNDLE_LOAD), encap / decap (NXAST_ENCAP,
 * NXAST_DECAP, with NSH properties) and dec_nsh_ttl.
 */
import type { OfpReader } from "./ofp-buffer.js";
import { fail, formatPort, type DecodeError } from "./ofp-codec.js";
import { parsePortText } from "./match-parse.js";
import {
  fieldOfHeaderBytes, formatSubfield, ofsNbits, parseSubfield, subfieldHeaderBytes, type Subfield,
} from "./ofp-actions-subfield.js";
import type { ActionOf, OfpAction } from "./ofp-actions.js";
import { checkSubfield, type ActionEntry, type WireAction } from "./ofp-actions-table.js";
import { err, isTextError, parseUint, parseUintBits, putNxAction, type ActionTextError } from "./ofp-actions-util.js";

const NX = 0x00002320;
const NXM_OF_IN_PORT = 0x00000002;

export const HASH_FIELDS = ["eth_src", "symmetric_l4", "symmetric_l3l4", "symmetric_l3l4+udp", "nw_src", "nw_dst", "symmetric_l3"];
const BUNDLE_ALGS = ["active_backup", "hrw"];
const BUNDLE_MAX_MEMBERS = 2048;

/* ---------------- bundle ---------------- */

function parseBundle(arg: string, load: boolean): OfpAction | ActionTextError {
  const parts = arg.split(",");
  const need = load ? 6 : 5;
  if (parts.length < need) return err(`${arg}: not enough arguments to bundle action`);
  const fields = HASH_FIELDS.indexOf(parts[0]!.trim());
  if (fields < 0) return err(`${arg}: unknown fields \`${parts[0]}'`);
  const basis = parseUintBits(parts[1]!.trim(), 16, "basis");
  if (isTextError(basis)) return basis;
  const algorithm = BUNDLE_ALGS.indexOf(parts[2]!.trim());
  if (algorithm < 0) return err(`${arg}: unknown algorithm \`${parts[2]}'`);
  if (parts[3]!.trim() !== "ofport") return err(`${arg}: unknown member_type \`${parts[3]}'`);
  let dst: Subfield | null = null;
  let i = 4;
  if (load) {
    const d = parseSubfield(parts[4]!.trim());
    if ("error" in d) return err(d.error);
    dst = d.sf;
    i = 5;
  }
  const m = /^(members|slaves):(.*)$/.exec(parts[i]!.trim());
  if (!m) return err(`${arg}: missing member delimiter, expected \`members', got \`${parts[i]}'`);
  const members: number[] = [];
  const list = [m[2]!, ...parts.slice(i + 1)].map((s) => s.trim()).filter((s) => s !== "");
  for (const s of list) {
    const p = parsePortText(s);
    if (p === null) return err(`${s}: bad port number`);
    members.push(p);
  }
  if (load) return { type: "bundle_load", fields, basis, algorithm, members, dst: dst! };
  return { type: "bundle", fields, basis, algorithm, members };
}

function formatBundle(a: ActionOf<"bundle"> | ActionOf<"bundle_load">): string {
  const head = `${HASH_FIELDS[a.fields] ?? "<unknown>"},${a.basis},${BUNDLE_ALGS[a.algorithm] ?? "<unknown>"},ofport`;
  const dst = a.type === "bundle_load" ? `,${formatSubfield(a.dst)}` : "";
  return `${a.type}(${head}${dst},members:${a.members.map(formatPort).join(",")})`;
}

export const BUNDLE_ENTRY: ActionEntry<"bundle"> = {
  type: "bundle", keywords: ["bundle"],
  parse: (_k, arg) => parseBundle(arg, false),
  format: (a) => formatBundle(a),
  encode: (w, a) => {
    putNxAction(w, 12, (w) => {
      w.u16(a.algorithm).u16(a.fields).u16(a.basis).u32(NXM_OF_IN_PORT).u16(a.members.length).u16(0).u32(0).zeros(4);
      for (const m of a.members) w.u16(m);
    });
    return null;
  },
};

export const BUNDLE_LOAD_ENTRY: ActionEntry<"bundle_load"> = {
  type: "bundle_load", keywords: ["bundle_load"],
  parse: (_k, arg) => parseBundle(arg, true),
  format: (a) => formatBundle(a),
  encode: (w, a) => {
    putNxAction(w, 13, (w) => {
      w.u16(a.algorithm).u16(a.fields).u16(a.basis).u32(NXM_OF_IN_PORT).u16(a.members.length)
        .u16(ofsNbits(a.dst.ofs, a.dst.nBits)).bytes(subfieldHeaderBytes(a.dst)).zeros(4);
      for (const m of a.members) w.u16(m);
    });
    return null;
  },
};

/**
 * NXAST_BUNDLE / NXAST_BUNDLE_LOAD as OVS 3.1 decodes them: fields,
 * member count, algorithm and member type are judged first, but for
 * bundle_load the destination lookup that follows overwrites that verdict,
 * so a bundle_load with an unknown algorithm or member type is accepted
 * (OVS prints the algorithm as `<unknown>`). Then the members' length,
 * then the destination's bit range.
 */
function decodeBundle(r: OfpReader, len: number, load: boolean): OfpAction | DecodeError {
  const algorithm = r.u16();
  const fields = r.u16();
  const basis = r.u16();
  const memberType = r.u32();
  const n = r.u16();
  const on = r.u16();
  const dstHeader = r.data.subarray(r.pos, r.pos + 4);
  r.skip(4);
  if (!load && r.data.subarray(r.pos, r.pos + 4).some((x) => x !== 0)) return fail("OFPBAC_BAD_ARGUMENT");
  r.skip(4);
  let badArgument = fields >= HASH_FIELDS.length || n > BUNDLE_MAX_MEMBERS || algorithm >= BUNDLE_ALGS.length || memberType !== NXM_OF_IN_PORT;
  const hit = load ? fieldOfHeaderBytes(dstHeader) : null;
  if (load) {
    if (!hit) return fail("OFPBAC_BAD_SET_TYPE");
    badArgument = false;
  } else if (on !== 0 || dstHeader.some((x) => x !== 0)) {
    badArgument = true;
  }
  if (32 + 2 * n > len) return fail("OFPBAC_BAD_LEN");
  if (badArgument) return fail("OFPBAC_BAD_ARGUMENT");
  const members: number[] = [];
  for (let i = 0; i < n; i++) members.push(r.u16());
  if (!load) return { type: "bundle", fields, basis, algorithm, members };
  const dst = checkSubfield(hit!.fld, on >>> 6, (on & 63) + 1);
  if ("decodeError" in dst) return dst;
  return { type: "bundle_load", fields, basis, algorithm, members, dst };
}

/* ---------------- encap / decap ---------------- */

const PT_ETH = 0x00000000;
const PT_NSH = 0x0001894f;
const PT_MPLS = 0x00018847;
const PT_MPLS_MC = 0x00018848;
const PT_USE_NEXT_PROTO = 0x0000fffe;
const OFPPPC_NSH = 4;
const NSH_PROP_MDTYPE = 1;
const NSH_PROP_TLV = 2;

const ENCAP_NAMES: Readonly<Record<number, string>> = {
  [PT_ETH]: "ethernet", [PT_NSH]: "nsh", [PT_MPLS]: "mpls", [PT_MPLS_MC]: "mpls_mc",
};

function parseEncap(arg: string): OfpAction | ActionTextError {
  const m = /^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$/.exec(arg);
  const name = m?.[1] ?? "";
  const entry = Object.entries(ENCAP_NAMES).find(([, n]) => n === name);
  if (!m || !entry) return err(`Encap hdr not supported: ${m ? "" : arg}`);
  const a: ActionOf<"encap"> = { type: "encap", packetType: Number(entry[0]), mdType: 0, tlvs: [] };
  if (name === "nsh" && m[2] !== undefined) {
    const body = m[2];
    const mt = /md_type=(\d+)/.exec(body);
    if (mt) {
      const v = Number(mt[1]);
      if (v !== 1 && v !== 2) return err("invalid md_type");
      a.mdType = v;
    }
    for (const t of body.matchAll(/tlv\(([^,]+),([^,]+),([^)]+)\)/g)) {
      const cls = parseUintBits(t[1]!, 16, "tlv class");
      const type = parseUintBits(t[2]!, 8, "tlv type");
      const v = parseUint(t[3]!);
      if (isTextError(cls) || isTextError(type) || v === null) return err("Invalid NSH TLV header.");
      const hex = t[3]!.replace(/^0x/i, "");
      const n = Math.ceil(hex.length / 2);
      const value = new Uint8Array(n);
      for (let i = 0; i < n; i++) value[i] = Number((v >> BigInt(8 * (n - 1 - i))) & 0xffn);
      a.tlvs.push({ tlvClass: cls, tlvType: type, value });
    }
  }
  return a;
}

function formatEncap(a: ActionOf<"encap">): string {
  const name = ENCAP_NAMES[a.packetType] ?? `packet_type(ns=${a.packetType >>> 16},id=${a.packetType & 0xffff})`;
  if (a.packetType !== PT_NSH || (a.mdType === 0 && a.tlvs.length === 0)) return `encap(${name})`;
  const parts: string[] = [];
  if (a.mdType) parts.push(`md_type=${a.mdType}`);
  for (const t of a.tlvs) {
    parts.push(`tlv(0x${t.tlvClass.toString(16)},${t.tlvType},0x${Array.from(t.value, (x) => x.toString(16).padStart(2, "0")).join("")})`);
  }
  return `encap(nsh(${parts.join(",")}))`;
}

export const ENCAP_ENTRY: ActionEntry<"encap"> = {
  type: "encap", keywords: ["encap"],
  parse: (_k, arg) => parseEncap(arg),
  format: (a) => formatEncap(a),
  encode: (w, a, version) => {
    // OVS writes it in any version (OpenFlow 1.0-1.2 decoders then reject it).
    putNxAction(w, 46, (w) => {
      w.u16(a.hdrSize ?? 0).u32(a.packetType);
      if (a.mdType) {
        w.u16(OFPPPC_NSH).u8(NSH_PROP_MDTYPE).u8(5).u8(a.mdType).zeros(3);
      }
      for (const t of a.tlvs) {
        const start = w.length;
        w.u16(OFPPPC_NSH).u8(NSH_PROP_TLV).u8(0).u16(t.tlvClass).u8(t.tlvType).u8(t.value.length).bytes(t.value);
        if (t.pad) w.bytes(t.pad);
        w.padTo(8, start);
        w.setU8(start + 3, w.length - start);
      }
    });
    return null;
  },
};

/**
 * NXAST_ENCAP as OVS decodes it: the packet type first, then each property
 * (its padded length, class, type, then its own length); md_type's value
 * and hdr_size are kept as they come, a TLV keeps its padding bytes.
 */
function decodeEncap(r: OfpReader): OfpAction | DecodeError {
  const hdrSize = r.u16();
  const packetType = r.u32();
  if (!(packetType in ENCAP_NAMES)) return fail("NXBAC_BAD_HEADER_TYPE");
  const a: ActionOf<"encap"> = { type: "encap", packetType, mdType: 0, tlvs: [] };
  if (hdrSize) a.hdrSize = hdrSize;
  const d = r.data;
  while (r.remaining > 0) {
    const at = r.pos;
    const remaining = r.remaining;
    const cls = (d[at]! << 8) | d[at + 1]!;
    const type = d[at + 2]!;
    const len = d[at + 3]!;
    const padLen = (len + 7) & ~7;
    if (padLen > remaining) return fail("OFPBAC_BAD_LEN");
    if (cls !== OFPPPC_NSH) return fail("NXBAC_UNKNOWN_ED_PROP");
    if (type === NSH_PROP_MDTYPE) {
      if (len > 8) return fail("NXBAC_BAD_ED_PROP");
      a.mdType = d[at + 4]!;
    } else if (type === NSH_PROP_TLV) {
      const tlvLen = d[at + 7]!;
      const tlvPad = (tlvLen + 7) & ~7;
      if (len !== 8 + tlvPad) return fail("NXBAC_BAD_ED_PROP");
      const tlv: ActionOf<"encap">["tlvs"][number] = { tlvClass: (d[at + 4]! << 8) | d[at + 5]!, tlvType: d[at + 6]!, value: d.slice(at + 8, at + 8 + tlvLen) };
      const pad = d.subarray(at + 8 + tlvLen, at + 8 + tlvPad);
      if (pad.some((x) => x !== 0)) tlv.pad = pad.slice();
      a.tlvs.push(tlv);
    } else {
      return fail("NXBAC_UNKNOWN_ED_PROP");
    }
    // A zero length would make OVS read the same property for ever.
    if (padLen === 0) return fail("OFPBAC_BAD_LEN");
    r.skip(padLen);
  }
  return a;
}

function parseDecap(arg: string): OfpAction | ActionTextError {
  if (arg.trim() === "") return { type: "decap", packetType: PT_USE_NEXT_PROTO };
  const m = /^packet_type\(ns=(\w+),type=(\w+)\)$/.exec(arg.trim());
  if (!m) return err(`Invalid decap argument: ${arg}`);
  const ns = parseUintBits(m[1]!, 16, "ns");
  const type = parseUintBits(m[2]!, 16, "type");
  if (isTextError(ns) || isTextError(type)) return err(`Invalid decap argument: ${arg}`);
  return { type: "decap", packetType: ((ns << 16) | type) >>> 0 };
}

function formatDecap(a: ActionOf<"decap">): string {
  if (a.packetType === PT_USE_NEXT_PROTO) return "decap()";
  const t = a.packetType & 0xffff;
  return `decap(packet_type(ns=${a.packetType >>> 16},type=${t === 0 ? "0" : "0x" + t.toString(16)}))`;
}

export const DECAP_ENTRY: ActionEntry<"decap"> = {
  type: "decap", keywords: ["decap"],
  parse: (_k, arg) => parseDecap(arg),
  format: (a) => formatDecap(a),
  encode: (w, a, version) => {
    // OVS writes it in any version (OpenFlow 1.0-1.2 decoders then reject it).
    putNxAction(w, 47, (w) => w.u16(0).u32(a.packetType));
    return null;
  },
};

export const DEC_NSH_TTL_ENTRY: ActionEntry<"dec_nsh_ttl"> = {
  type: "dec_nsh_ttl", keywords: ["dec_nsh_ttl"],
  parse: () => ({ type: "dec_nsh_ttl" }),
  format: () => "dec_nsh_ttl",
  encode: (w, _a, version) => {
    // OVS writes it in any version (OpenFlow 1.0-1.2 decoders then reject it).
    putNxAction(w, 48, () => undefined);
    return null;
  },
};

/** encap, decap and dec_nsh_ttl exist in OpenFlow 1.3+ only (OVS 3.1 rejects them in 1.0–1.2). */
const NSH_ERA_WIRE: readonly WireAction[] = [
  { name: "NXAST_ENCAP", vendor: NX, code: 46, minVersion: 1, maxVersion: 6, len: 16, variable: true, decode: (r) => decodeEncap(r) },
  {
    name: "NXAST_DECAP", vendor: NX, code: 47, minVersion: 1, maxVersion: 6, len: 16,
    decode: (r) => {
      r.skip(2);
      return { type: "decap", packetType: r.u32() };
    },
  },
  { name: "NXAST_DEC_NSH_TTL", vendor: NX, code: 48, minVersion: 1, maxVersion: 6, len: 16, decode: () => ({ type: "dec_nsh_ttl" }) },
];

export const MISC_WIRE: readonly WireAction[] = [
  { name: "NXAST_BUNDLE", vendor: NX, code: 12, minVersion: 1, maxVersion: 6, len: 32, variable: true, decode: (r, _v, len) => decodeBundle(r, len, false) },
  { name: "NXAST_BUNDLE_LOAD", vendor: NX, code: 13, minVersion: 1, maxVersion: 6, len: 32, variable: true, decode: (r, _v, len) => decodeBundle(r, len, true) },
  ...NSH_ERA_WIRE.map((x) => ({ ...x, minVersion: 4 })),
];
