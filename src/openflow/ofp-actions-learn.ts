/**
 * The `learn(...)` action (NXAST_LEARN / NXAST_LEARN2): a template flow
 * whose match and actions are built from the packet. Text and wire.
 *
 * Each flow_mod_spec is one of: match a destination sub-field against a
 * packet sub-field or an immediate value; load a sub-field or immediate into
 * a destination; output to the port in a sub-field. On the wire a spec is a
 * 16-bit header (source type, destination type, bit count), the source (NXM
 * header + offset, or the value in 16-bit units) and the destination.
 */
import type { OfpReader } from "./ofp-buffer.js";
import { fail, type DecodeError } from "./ofp-codec.js";
import { formatMfValue, mfFromName, parseMfValue } from "./meta-flow.js";
import { parseFieldValue } from "./match-parse.js";
import {
  fieldBits, fieldOfHeaderBytes, formatSubfield, parseSubfield, subfieldField, subfieldHeaderBytes,
  type Subfield,
} from "./ofp-actions-subfield.js";
import type { ActionOf, LearnSpec } from "./ofp-actions.js";
import { type ActionEntry, type WireAction } from "./ofp-actions-table.js";
import {
  err, hexNum, isTextError, parseU64, parseUint, parseUintBits, putNxAction, splitItems, type ActionTextError,
} from "./ofp-actions-util.js";
import { bigToBytes } from "../packet/bytes.js";

const NX = 0x00002320;
export const NX_LEARN_F_SEND_FLOW_REM = 1;
export const NX_LEARN_F_DELETE_LEARNED = 2;
export const NX_LEARN_F_WRITE_RESULT = 4;

const SRC_IMMEDIATE = 0x2000;
const DST_LOAD = 0x0800;
const DST_OUTPUT = 0x1000;

const OFP_DEFAULT_PRIORITY = 0x8000;

/** Bytes an immediate of `nBits` takes on the wire (whole 16-bit units). */
function immLen(nBits: number): number {
  return 2 * Math.ceil(nBits / 16);
}

function bigOf(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}


function sameSubfield(a: Subfield, b: Subfield): boolean {
  return a.field === b.field && a.ofs === b.ofs && a.nBits === b.nBits;
}

function wholeField(sf: Subfield): boolean {
  return sf.ofs === 0 && sf.nBits === fieldBits(subfieldField(sf));
}

/** An immediate for `dst` from text: the field's own syntax for a whole field, else a number. */
function parseImmediate(text: string, dst: Subfield, byName: boolean): bigint | ActionTextError {
  const fld = subfieldField(dst);
  if (byName && wholeField(dst)) {
    const p = parseMfValue(fld, text);
    if (!p.ok) return err(p.error);
    if (p.value.mask) return err(`${text}: masks not allowed here`);
    return bigOf(p.value.value);
  }
  const v = parseUint(text);
  if (v === null) return err(`${text}: bad hex number`);
  if (dst.nBits < 128 && v >> BigInt(dst.nBits) !== 0n) return err(`${text}: value does not fit into ${dst.nBits} bits`);
  return v;
}

function parseSpec(key: string, value: string, hasValue: boolean): LearnSpec | ActionTextError {
  if (key === "load") {
    const arrow = value.indexOf("->");
    if (arrow < 0) return err(`"${value}": missing \`->'`);
    const dst = parseSubfield(value.slice(arrow + 2));
    if ("error" in dst) return err(dst.error);
    const srcText = value.slice(0, arrow);
    if (/^[A-Za-z]/.test(srcText)) {
      const src = parseSubfield(srcText);
      if ("error" in src) return err(src.error);
      if (src.sf.nBits !== dst.sf.nBits) {
        return err(`${value}: source field is ${src.sf.nBits} bits wide but destination is ${dst.sf.nBits} bits wide`);
      }
      return { dstType: "load", src: src.sf, imm: null, dst: dst.sf, nBits: dst.sf.nBits };
    }
    const v = parseImmediate(srcText, dst.sf, false);
    if (isTextError(v)) return v;
    return { dstType: "load", src: null, imm: bigToBytes(v, immLen(dst.sf.nBits)), dst: dst.sf, nBits: dst.sf.nBits };
  }
  if (key === "output") {
    const src = parseSubfield(value);
    if ("error" in src) return err(src.error);
    return { dstType: "output", src: src.sf, imm: null, dst: null, nBits: src.sf.nBits };
  }
  const dstP = parseSubfield(key);
  if ("error" in dstP) return err(dstP.error);
  const dst = dstP.sf;
  if (!hasValue) return { dstType: "match", src: dst, imm: null, dst, nBits: dst.nBits };
  const byName = !key.includes("[");
  if (/^[A-Za-z]/.test(value) && !/^[0-9a-fA-F]{2}:/.test(value)) {
    const src = parseSubfield(value);
    if (!("error" in src) && src.rest === "") {
      if (src.sf.nBits !== dst.nBits) {
        // OVS's wording (the widths appear in this order).
        return err(`${key}=${value}: bit widths of ${key} (${src.sf.nBits}) and ${value} (${dst.nBits}) differ`);
      }
      return { dstType: "match", src: src.sf, imm: null, dst, nBits: dst.nBits };
    }
  }
  const v = parseImmediate(value, dst, byName);
  if (isTextError(v)) {
    // OVS reports both ways of reading the value that failed; the
    // immediate one with the field's own value syntax when the
    // destination is a whole field.
    const asField = parseSubfield(value);
    // A field name runs to the first '[', '-', '=', ',' or blank, as OVS reads it.
    const name = /^[^[\-=, ]*/.exec(value)![0];
    const subErr = "error" in asField && !/unknown field/.test(asField.error) ? asField.error : `${value}: unknown field \`${name}'`;
    const whole = wholeField(dst) ? parseFieldValue(subfieldField(dst), value) : null;
    const immErr = whole !== null && !whole.ok ? whole.error : / does not fit into /.test(v.error) ? `${key}=${value}: value ${value} does not fit into ${dst.nBits} bits` : v.error;
    return err(`${key}=${value}: ${key} value ${value} cannot be parsed as a subfield (${subErr}) or an immediate value (${immErr})`);
  }
  return { dstType: "match", src: null, imm: bigToBytes(v, immLen(dst.nBits)), dst, nBits: dst.nBits };
}

function parseLearn(arg: string): ActionOf<"learn"> | ActionTextError {
  const a: ActionOf<"learn"> = {
    type: "learn", table: 1, idle: 0, hard: 0, finIdle: 0, finHard: 0, priority: OFP_DEFAULT_PRIORITY, cookie: 0n,
    flags: 0, limit: 0, resultDst: null, specs: [],
  };
  const rawItems = splitItems(arg);
  // splitItems keeps "=" forms as key/value; recover whether a value was given.
  for (const { key, value } of rawItems) {
    const hasValue = value !== "" || new RegExp(`(^|,)\\s*${key.replace(/[[\]().]/g, "\\$&")}=`).test(arg);
    const num = (bits: number): number | ActionTextError => parseUintBits(value, bits, key);
    let n: number | ActionTextError;
    switch (key) {
      case "table":
        n = num(8);
        if (isTextError(n)) return err(`unknown table "${value}"`);
        if (n === 255) return err(`table=${value}: table id 255 not valid for \`learn' action`);
        a.table = n;
        break;
      case "priority":
        n = num(16);
        if (isTextError(n)) return n;
        a.priority = n;
        break;
      case "idle_timeout":
        n = num(16);
        if (isTextError(n)) return n;
        a.idle = n;
        break;
      case "hard_timeout":
        n = num(16);
        if (isTextError(n)) return n;
        a.hard = n;
        break;
      case "fin_idle_timeout":
        n = num(16);
        if (isTextError(n)) return n;
        a.finIdle = n;
        break;
      case "fin_hard_timeout":
        n = num(16);
        if (isTextError(n)) return n;
        a.finHard = n;
        break;
      case "cookie": {
        const c = parseU64(value);
        if (isTextError(c)) return c;
        a.cookie = c;
        break;
      }
      case "send_flow_rem":
        a.flags |= NX_LEARN_F_SEND_FLOW_REM;
        break;
      case "delete_learned":
        a.flags |= NX_LEARN_F_DELETE_LEARNED;
        break;
      case "limit":
        n = num(32);
        if (isTextError(n)) return n;
        a.limit = n;
        break;
      case "result_dst": {
        const sf = parseSubfield(value);
        if ("error" in sf) return err(sf.error);
        if (sf.sf.nBits !== 1) return err(`result_dst in 'learn' action must be a single bit`);
        a.resultDst = sf.sf;
        a.flags |= NX_LEARN_F_WRITE_RESULT;
        break;
      }
      default: {
        const spec = parseSpec(key, value, hasValue);
        if (isTextError(spec)) return spec;
        a.specs.push(spec);
      }
    }
  }
  return a;
}

function formatImm(imm: Uint8Array, dst: Subfield, byName: boolean): string {
  const v = bigOf(imm);
  const fld = subfieldField(dst);
  if (byName) return formatMfValue(fld, { value: bigToBytes(v, fld.bytes), mask: null });
  return hexNum(v);
}

function formatSpec(s: LearnSpec): string {
  switch (s.dstType) {
    case "match":
      if (s.src) return sameSubfield(s.src, s.dst!) ? formatSubfield(s.dst!) : `${formatSubfield(s.dst!)}=${formatSubfield(s.src)}`;
      if (wholeField(s.dst!)) return `${subfieldField(s.dst!).name}=${formatImm(s.imm!, s.dst!, true)}`;
      return `${formatSubfield(s.dst!)}=${formatImm(s.imm!, s.dst!, false)}`;
    case "load":
      return `load:${s.src ? formatSubfield(s.src) : formatImm(s.imm!, s.dst!, false)}->${formatSubfield(s.dst!)}`;
    case "output":
      return `output:${formatSubfield(s.src!)}`;
  }
}

function formatLearn(a: ActionOf<"learn">): string {
  const parts = [`table=${a.table}`];
  if (a.idle) parts.push(`idle_timeout=${a.idle}`);
  if (a.hard) parts.push(`hard_timeout=${a.hard}`);
  if (a.finIdle) parts.push(`fin_idle_timeout=${a.finIdle}`);
  if (a.finHard) parts.push(`fin_hard_timeout=${a.finHard}`);
  if (a.priority !== OFP_DEFAULT_PRIORITY) parts.push(`priority=${a.priority}`);
  if (a.flags & NX_LEARN_F_SEND_FLOW_REM) parts.push("send_flow_rem");
  if (a.flags & NX_LEARN_F_DELETE_LEARNED) parts.push("delete_learned");
  if (a.cookie) parts.push(`cookie=${hexNum(a.cookie)}`);
  if (a.limit) parts.push(`limit=${a.limit}`);
  if (a.resultDst) parts.push(`result_dst=${formatSubfield(a.resultDst)}`);
  for (const s of a.specs) parts.push(formatSpec(s));
  return `learn(${parts.join(",")})`;
}

export const LEARN_ENTRY: ActionEntry<"learn"> = {
  type: "learn", keywords: ["learn"],
  parse: (_k, arg) => parseLearn(arg),
  format: (a) => formatLearn(a),
  encode: (w, a) => {
    const v2 = a.limit !== 0 || a.resultDst !== null;
    putNxAction(w, v2 ? 45 : 16, (w) => {
      w.u16(a.idle).u16(a.hard).u16(a.priority).u64(a.cookie).u16(a.flags).u8(a.table).u8(0).u16(a.finIdle).u16(a.finHard);
      if (v2) {
        w.u32(a.limit).u16(a.resultDst ? a.resultDst.ofs : 0).zeros(2);
        if (a.resultDst) w.bytes(subfieldHeaderBytes(a.resultDst));
      }
      for (const s of a.specs) {
        const hdr = (s.src ? 0 : SRC_IMMEDIATE) | (s.dstType === "load" ? DST_LOAD : s.dstType === "output" ? DST_OUTPUT : 0) | s.nBits;
        w.u16(hdr);
        if (s.src) w.bytes(subfieldHeaderBytes(s.src)).u16(s.src.ofs);
        else w.bytes(s.imm!);
        if (s.dst) w.bytes(subfieldHeaderBytes(s.dst)).u16(s.dst.ofs);
      }
    });
    return null;
  },
};

function isDecErr(x: unknown): x is DecodeError {
  return typeof x === "object" && x !== null && "decodeError" in x;
}

/**
 * A spec's sub-field: always a 4-byte header (an experimenter header is not
 * found) and a 16-bit offset. Bit ranges are checked only against a flow
 * (learn_check), not when decoding.
 */
function readSf(r: OfpReader, nBits: number): Subfield | DecodeError {
  const hit = fieldOfHeaderBytes(r.data.subarray(r.pos, r.pos + 4));
  r.skip(4);
  const ofs = r.u16();
  if (!hit) return fail("OFPBAC_BAD_SET_TYPE");
  return { field: hit.fld.name, ofs, nBits };
}

function decodeLearn(r: OfpReader, v2: boolean): ActionOf<"learn"> | DecodeError {
  // OVS's order: learn2's pad, then the common pad, the table, the flags,
  // result_dst, and each spec's type, length, source and destination.
  if (v2 && (r.data[r.pos + 28] !== 0 || r.data[r.pos + 29] !== 0)) return fail("NXBAC_MUST_BE_ZERO");
  const a: ActionOf<"learn"> = {
    type: "learn", idle: r.u16(), hard: r.u16(), priority: r.u16(), cookie: r.u64(), flags: r.u16(), table: r.u8(),
    finIdle: 0, finHard: 0, limit: 0, resultDst: null, specs: [],
  };
  if (r.u8() !== 0) return fail("OFPBAC_BAD_ARGUMENT");
  a.finIdle = r.u16();
  a.finHard = r.u16();
  if (a.table === 255) return fail("OFPBAC_BAD_ARGUMENT");
  if (a.flags & ~(v2 ? 7 : 3)) return fail("OFPBAC_BAD_ARGUMENT");
  if (v2) {
    a.limit = r.u32();
    const ofs = r.u16();
    r.skip(2);
    if (a.flags & NX_LEARN_F_WRITE_RESULT) {
      const hit = fieldOfHeaderBytes(r.data.subarray(r.pos, r.end));
      r.skip(hit ? hit.len : 4);
      if (!hit) return fail("OFPBMC_BAD_FIELD");
      if (!hit.fld.writable) return fail("OFPBAC_BAD_SET_ARGUMENT");
      a.resultDst = { field: hit.fld.name, ofs, nBits: 1 };
    } else if (ofs !== 0) {
      return fail("OFPBAC_BAD_ARGUMENT");
    }
  }
  while (r.remaining >= 2) {
    const hdr = r.u16();
    if (hdr === 0) break;
    // Bits 10, 14 and 15 of the header mean nothing and are ignored.
    const nBits = hdr & 0x3ff;
    const srcImm = (hdr & SRC_IMMEDIATE) !== 0;
    const dstBits = hdr & 0x1800;
    if (dstBits === 0x1800 || (dstBits === DST_OUTPUT && srcImm)) return fail("OFPBAC_BAD_ARGUMENT");
    const dstType = dstBits === 0 ? "match" : dstBits === DST_LOAD ? "load" : "output";
    const need = (srcImm ? immLen(nBits) : 6) + (dstType === "output" ? 0 : 6);
    if (r.remaining < need) return fail("OFPBAC_BAD_LEN");
    let src: Subfield | null = null;
    let imm: Uint8Array | null = null;
    if (srcImm) imm = r.bytes(immLen(nBits));
    else {
      const sf = readSf(r, nBits);
      if (isDecErr(sf)) return sf;
      src = sf;
    }
    let dst: Subfield | null = null;
    if (dstType !== "output") {
      const sf = readSf(r, nBits);
      if (isDecErr(sf)) return sf;
      dst = sf;
    }
    a.specs.push({ dstType, src, imm, dst, nBits });
  }
  if (r.data.subarray(r.pos, r.end).some((x) => x !== 0)) return fail("OFPBAC_BAD_ARGUMENT");
  return a;
}

export const LEARN_WIRE: readonly WireAction[] = [
  { name: "NXAST_LEARN", vendor: NX, code: 16, minVersion: 1, maxVersion: 6, len: 32, variable: true, decode: (r) => decodeLearn(r, false) },
  { name: "NXAST_LEARN2", vendor: NX, code: 45, minVersion: 1, maxVersion: 6, len: 40, variable: true, decode: (r) => decodeLearn(r, true) },
];

/** Kept for callers that build immediates (learn specs) from numbers. */
export function learnImmediate(v: bigint, nBits: number): Uint8Array {
  return bigToBytes(v, immLen(nBits));
}
