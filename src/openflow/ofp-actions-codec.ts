/**
 * Action lists both ways: text (`parseActions` / `formatActions`, the
 * `actions=` part of ovs-ofctl's flow syntax) and wire (`encodeActions` /
 * `decodeActions` for action lists, `encodeInstructions` /
 * `decodeInstructions` for OpenFlow 1.1+ instructions, which in OpenFlow
 * 1.0 are plain action lists with Nicira extensions). All per-action work
 * is in the table (ofp-actions-table.ts).
 */
import { OfpReader, OfpWriter } from "./ofp-buffer.js";
import { fail, type DecodeError } from "./ofp-codec.js";
import { NX_VENDOR_ID, ONF_VENDOR_ID } from "./ofp-errors.js";
import { INSTRUCTION_ORDER, instructionOf, type InstructionName, type OfpAction } from "./ofp-actions.js";
import {
  ACTION_KEYWORDS, encodeAction, formatAction, WIRE_ACTIONS, type EncodeOptions, type ListCodecs, type WireAction,
} from "./ofp-actions-table.js";
import { err, isTextError, splitItems, type ActionTextError } from "./ofp-actions-util.js";
import { parsePortText } from "./match-parse.js";
import { sameBytes } from "../packet/bytes.js";

export type { ActionTextError } from "./ofp-actions-util.js";
export type { EncodeOptions } from "./ofp-actions-table.js";

const OF10 = 1;
const OF15 = 6;

function isDecErr(x: unknown): x is DecodeError {
  return typeof x === "object" && x !== null && "decodeError" in x;
}

/* ---------------- text ---------------- */

function parseList(text: string, nested: boolean, insideCt = false): OfpAction[] | ActionTextError {
  const out: OfpAction[] = [];
  let sawDrop = false;
  const items = splitItems(text);
  for (const { key, value } of items) {
    const k = key.toLowerCase();
    if (k === "drop") {
      sawDrop = true;
      continue;
    }
    const entry = ACTION_KEYWORDS.get(k);
    if (entry) {
      const r = entry.parse(k, value, CODECS);
      if (isTextError(r)) return r;
      if (Array.isArray(r)) out.push(...r);
      else out.push(r);
      continue;
    }
    if (k === "apply_actions") return err("apply_actions is the default instruction");
    const port = parsePortText(key);
    if (port !== null && value === "") {
      out.push({ type: "output", port, maxLen: 0 });
      continue;
    }
    return err(`unknown action ${key}`);
  }
  if (sawDrop && items.length > 1) return err(`"drop" must not be accompanied by any other action or instruction`);
  if (nested) {
    for (const a of out) {
      if (instructionOf(a) !== "apply_actions") return err(`${instructionOf(a)} instruction not allowed here`);
    }
  }
  // As OVS verifies each list once it is parsed (so a nested list's error
  // comes before the errors of the actions after it): nat and writes to
  // ct_mark/ct_label belong inside ct.
  if (!insideCt) {
    for (const a of out) {
      if (a.type === "nat") return err(`Cannot have NAT action outside of "ct" action`);
      const dst = a.type === "set_field" ? a.field : a.type === "reg_move" ? a.dst.field : null;
      if (dst === "ct_mark" || dst === "ct_label") return err("cannot set CT fields outside of ct action");
    }
  }
  return out;
}

/** True when an action writes ct_mark or ct_label outside ct(exec(...)) (nested lists included). */
function setsCtFieldOutsideCt(list: readonly OfpAction[]): boolean {
  for (const a of list) {
    const dst = a.type === "set_field" ? a.field : a.type === "reg_move" ? a.dst.field : null;
    if (dst === "ct_mark" || dst === "ct_label") return true;
    if ((a.type === "clone" || a.type === "write_actions") && setsCtFieldOutsideCt(a.actions)) return true;
  }
  return false;
}

/** The first action that may not accompany conjunction actions (only note may), or null. */
function conjunctionConflict(list: readonly OfpAction[]): OfpAction | null {
  if (!list.some((a) => a.type === "conjunction")) return null;
  return list.find((a) => a.type !== "conjunction" && a.type !== "note") ?? null;
}

/** Checks OpenFlow 1.1+ instruction order and uniqueness; OVS's message, or null. */
export function verifyInstructionOrder(list: readonly OfpAction[]): string | null {
  let prev: InstructionName = "meter";
  let prevIdx = -1;
  // Instructions seen, a bit per INSTRUCTION_ORDER index (every flow_mod in OpenFlow 1.0 is checked: no Set each).
  let seen = 0;
  for (const a of list) {
    const inst = instructionOf(a);
    const idx = INSTRUCTION_ORDER.indexOf(inst);
    if (idx < prevIdx) {
      return `invalid instruction ordering: ${inst} must appear before ${prev}, for OpenFlow 1.1+ compatibility`;
    }
    if (inst !== "apply_actions" && (seen & (1 << idx)) !== 0) return `duplicate ${inst} instruction not allowed, for OpenFlow 1.1+ compatibility`;
    seen |= 1 << idx;
    prev = inst;
    prevIdx = idx;
  }
  return null;
}

/**
 * Parses the text after `actions=` (actions and instructions) as
 * ovs-ofctl 3.1 does; OVS's error message on bad syntax.
 */
export function parseActions(text: string): OfpAction[] | ActionTextError {
  const list = parseList(text, false);
  if (isTextError(list)) return list;
  const other = conjunctionConflict(list);
  if (other) {
    return err(`"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.type}" action used here)`);
  }
  const bad = verifyInstructionOrder(list);
  return bad ? err(bad) : list;
}

/** The text ovs-ofctl prints for an action list ("drop" when empty). */
export function formatActions(list: readonly OfpAction[]): string {
  if (list.length === 0) return "drop";
  return list.map((a) => formatAction(a, CODECS)).join(",");
}

/* ---------------- wire: actions ---------------- */

const BY_OF = new Map<number, WireAction[]>();
const BY_NX = new Map<number, WireAction[]>();
const BY_ONF = new Map<number, WireAction[]>();
for (const wa of WIRE_ACTIONS) {
  const m = wa.vendor === 0 ? BY_OF : wa.vendor === NX_VENDOR_ID ? BY_NX : BY_ONF;
  const l = m.get(wa.code) ?? [];
  l.push(wa);
  m.set(wa.code, l);
}

function encodeList(w: OfpWriter, list: readonly OfpAction[], version: number, opts: EncodeOptions = {}): ActionTextError | null {
  const state: EncodeOptions = { ...opts };
  for (const a of list) {
    const e = encodeAction(w, a, version, CODECS, state);
    if (e) return e;
  }
  return null;
}

/**
 * Encodes a plain action list (no instructions) for `version`; an error
 * when that version cannot express one of them.
 */
export function encodeActions(list: readonly OfpAction[], version: number, opts: EncodeOptions = {}): Uint8Array | ActionTextError {
  const w = new OfpWriter(64);
  for (const a of list) {
    // OpenFlow 1.5 made meter an action.
    if (instructionOf(a) !== "apply_actions" && version !== OF10 && !(a.type === "meter" && version >= OF15)) {
      return err(`${a.type} is an instruction, not an action`);
    }
  }
  const e = encodeList(w, list, version, opts);
  return e ?? w.finish();
}

/** Decodes one action at `r.pos`: the actions it stands for, or OVS's error. */
function decodeOne(r: OfpReader, version: number): OfpAction | OfpAction[] | DecodeError {
  if (r.remaining < 4) return fail("OFPBAC_BAD_LEN");
  const start = r.pos;
  const avail = r.end - start;
  const type = r.u16();
  const len = r.u16();
  // OVS identifies the action first, then checks its length.
  let wa: WireAction | undefined;
  let hdrLen = 4;
  if (type === 0xffff) {
    if (avail < 10) return fail("OFPBAC_BAD_LEN");
    const vendor = r.u32();
    if (vendor !== NX_VENDOR_ID && vendor !== ONF_VENDOR_ID) return fail("OFPBAC_BAD_VENDOR");
    const subtype = r.u16();
    const byCode = vendor === NX_VENDOR_ID ? BY_NX : BY_ONF;
    wa = byCode.get(subtype)?.find((x) => version >= x.minVersion && version <= x.maxVersion);
    if (!wa) return fail("OFPBAC_BAD_VENDOR_TYPE");
    hdrLen = 10;
  } else {
    wa = BY_OF.get(type)?.find((x) => version >= x.minVersion && version <= x.maxVersion);
    if (!wa) return fail("OFPBAC_BAD_TYPE");
  }
  if (wa.variable ? len < wa.len : len !== wa.len) return fail("OFPBAC_BAD_LEN");
  if (len % 8 !== 0 || len > avail) return fail("OFPBAC_BAD_LEN");
  const body = new OfpReader(r.data, start + hdrLen, start + len);
  r.pos = start + len;
  const a = wa.decode(body, version, len, CODECS);
  if (!isDecErr(a) && body.overrun) return fail("OFPBAC_BAD_LEN");
  return a;
}

/** Decodes an action list as OVS does for `version`, or the OpenFlow error OVS would send. */
export function decodeActions(b: Uint8Array, version: number): OfpAction[] | DecodeError {
  if (b.length % 8 !== 0) return fail("OFPBRC_BAD_LEN");
  const list = decodeActionList(b, version);
  if (isDecErr(list)) return list;
  // A plain action list may not carry instructions (OF1.0's NXAST_WRITE_METADATA ...).
  if (list.some((a) => instructionOf(a) !== "apply_actions" && a.type !== "meter")) return fail("OFPBIC_UNSUP_INST");
  return verifyDecoded(list);
}

/** The checks OVS applies to every decoded list (ofpacts_verify). */
function verifyDecoded(list: OfpAction[]): OfpAction[] | DecodeError {
  if (list.some((a) => a.type === "nat")) return fail("OFPBAC_BAD_SET_ARGUMENT");
  if (conjunctionConflict(list)) return fail("NXBAC_BAD_CONJUNCTION");
  if (setsCtFieldOutsideCt(list)) return fail("OFPBAC_BAD_SET_ARGUMENT");
  return list;
}

function decodeActionList(b: Uint8Array, version: number): OfpAction[] | DecodeError {
  const r = new OfpReader(b);
  const out: OfpAction[] = [];
  while (r.remaining > 0) {
    const a = decodeOne(r, version);
    if (isDecErr(a)) return a;
    if (Array.isArray(a)) out.push(...a);
    else out.push(a);
  }
  return exactLength(out);
}

/**
 * The list in an array of its exact length: one grown by push keeps spare
 * room, about 150 bytes that every flow's actions would carry for the
 * rule's life (bench openflow memory per flow).
 */
function exactLength(list: OfpAction[]): OfpAction[] {
  return list.slice();
}

/* ---------------- wire: instructions ---------------- */

const OFPIT_GOTO_TABLE = 1;
const OFPIT_WRITE_METADATA = 2;
const OFPIT_WRITE_ACTIONS = 3;
const OFPIT_APPLY_ACTIONS = 4;
const OFPIT_CLEAR_ACTIONS = 5;
const OFPIT_METER = 6;
/** The order OVS decodes instructions' contents in, and the order of the resulting list. */
const DECODE_ORDER = [OFPIT_METER, OFPIT_APPLY_ACTIONS, OFPIT_CLEAR_ACTIONS, OFPIT_WRITE_METADATA, OFPIT_WRITE_ACTIONS, OFPIT_GOTO_TABLE] as const;
const OUTPUT_ORDER = [OFPIT_METER, OFPIT_APPLY_ACTIONS, OFPIT_CLEAR_ACTIONS, OFPIT_WRITE_ACTIONS, OFPIT_WRITE_METADATA, OFPIT_GOTO_TABLE] as const;

/**
 * Encodes actions and instructions for a flow_mod of `version`: OpenFlow
 * 1.1+ instructions in canonical order, or (OpenFlow 1.0) one action list
 * in which write_metadata and goto_table become Nicira actions and
 * clear_actions / write_actions vanish, as in OVS.
 */
export function encodeInstructions(list: readonly OfpAction[], version: number, opts: EncodeOptions = {}): Uint8Array | ActionTextError {
  const w = new OfpWriter(64);
  const e = putInstructions(w, list, version, opts);
  return e ?? w.finish();
}

/**
 * encodeInstructions written at the end of `w`, in place (a flow dump
 * writes one list per flow). On error, what was written is left partial:
 * the caller abandons the message.
 */
export function putInstructions(w: OfpWriter, list: readonly OfpAction[], version: number, opts: EncodeOptions = {}): ActionTextError | null {
  if (version === OF10) return encodeList(w, list, version, opts);
  const bad = verifyInstructionOrder(list);
  if (bad) return err(bad);
  const apply = list.filter((a) => instructionOf(a) === "apply_actions");
  const meter = list.find((a) => a.type === "meter");
  if (meter && version < OF15) {
    const e = encodeAction(w, meter, version, CODECS, opts);
    if (e) return e;
  }
  if (apply.length || (meter && version >= OF15)) {
    const start = w.length;
    w.u16(OFPIT_APPLY_ACTIONS).u16(0).u32(0);
    const e = encodeList(w, meter && version >= OF15 ? [meter, ...apply] : apply, version, opts);
    if (e) return e;
    w.setU16(start + 2, w.length - start);
  }
  for (const a of list) {
    const inst = instructionOf(a);
    if (inst === "apply_actions" || inst === "meter") continue;
    const e = encodeAction(w, a, version, CODECS, opts);
    if (e) return e;
  }
  return null;
}

/** Decodes instructions (OpenFlow 1.1+) or, in OpenFlow 1.0, an action list. */
export function decodeInstructions(b: Uint8Array, version: number): OfpAction[] | DecodeError {
  if (version === OF10) {
    if (b.length % 8 !== 0) return fail("OFPBRC_BAD_LEN");
    const list = decodeActionList(b, version);
    return isDecErr(list) ? list : verifyDecoded(list);
  }
  if (b.length % 8 !== 0) return fail("OFPBIC_BAD_LEN");
  // First every instruction's type and length (OVS identifies them all
  // before decoding any contents), then the contents in canonical order.
  // Bodies and results are kept by type (1..6) in plain arrays: a flow_mod
  // has one or two instructions, and maps and spreads were a visible part
  // of decoding one (bench ofcodec).
  const r = new OfpReader(b);
  const bodies: (OfpReader | undefined)[] = [];
  while (r.remaining > 0) {
    if (r.remaining < 4) return fail("OFPBIC_BAD_LEN");
    const start = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0 || len > r.end - start) return fail("OFPBIC_BAD_LEN");
    r.pos = start + len;
    switch (type) {
      case OFPIT_GOTO_TABLE:
      case OFPIT_CLEAR_ACTIONS:
      case OFPIT_METER:
        if (len !== 8) return fail("OFPBIC_BAD_LEN");
        break;
      case OFPIT_WRITE_METADATA:
        if (len !== 24) return fail("OFPBIC_BAD_LEN");
        break;
      case OFPIT_WRITE_ACTIONS:
      case OFPIT_APPLY_ACTIONS:
        break;
      case 0xffff:
        return fail("OFPBIC_BAD_EXPERIMENTER");
      default:
        return fail("OFPBIC_UNKNOWN_INST");
    }
    // OpenFlow 1.5 made meter an action.
    if (type === OFPIT_METER && version >= OF15) return fail("OFPBIC_UNKNOWN_INST");
    if (bodies[type] !== undefined) return fail("OFPBIC_DUP_INST");
    bodies[type] = new OfpReader(b, start + 4, start + len);
  }
  const byType: (OfpAction[] | undefined)[] = [];
  const decoded: OfpAction[] = [];
  for (const type of DECODE_ORDER) {
    const body = bodies[type];
    if (!body) continue;
    let acts: OfpAction[];
    switch (type) {
      case OFPIT_METER:
        acts = [{ type: "meter", meterId: body.u32() }];
        break;
      case OFPIT_APPLY_ACTIONS:
      case OFPIT_WRITE_ACTIONS: {
        body.skip(4);
        const list = decodeActionList(body.bytesView(body.remaining), version);
        if (isDecErr(list)) return list;
        acts = type === OFPIT_WRITE_ACTIONS ? [{ type: "write_actions", actions: list }] : list;
        break;
      }
      case OFPIT_CLEAR_ACTIONS:
        acts = [{ type: "clear_actions" }];
        break;
      case OFPIT_WRITE_METADATA:
        body.skip(4);
        acts = [{ type: "write_metadata", metadata: body.u64(), mask: body.u64() }];
        break;
      default:
        acts = [{ type: "goto_table", tableId: body.u8() }];
        break;
    }
    byType[type] = acts;
    for (const x of acts) decoded.push(x);
  }
  const bad = verifyDecoded(decoded);
  if (isDecErr(bad)) return bad;
  const out: OfpAction[] = [];
  for (const t of OUTPUT_ORDER) {
    const acts = byType[t];
    if (acts !== undefined) for (const x of acts) out.push(x);
  }
  return exactLength(out);
}

/** An instruction list `decodeInstructionsShared` remembers: its version and wire bytes, chained by hash. */
interface SharedList {
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly list: OfpAction[];
  readonly next: SharedList | undefined;
}

/** Remembered lists by hash of version and bytes. */
const sharedLists = new Map<number, SharedList>();
let sharedCount = 0;
const SHARED_LISTS_MAX = 16384;
const SHARED_BYTES_MAX = 256;

// HOT PATH
/** Hash of `version` and `b`, four bytes a step (a string key per flow_mod cost more than decoding some lists). */
function listHash(b: Uint8Array, version: number): number {
  let h = version;
  const n = b.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < n; i++) h = Math.imul(h ^ b[i]!, 0x9e3779b1);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * decodeInstructions for flow_mods, sharing one decoded list among every
 * flow_mod that carries the same instruction bytes: a table of 100,000
 * flows typically repeats a few hundred action lists, and both decoding
 * each copy and keeping it per rule were visible (bench openflow: load
 * time and memory per flow). The list returned may be shared: callers
 * must not change it or its actions (rules never do). Bounded: the memory
 * starts over when full.
 */
export function decodeInstructionsShared(b: Uint8Array, version: number): OfpAction[] | DecodeError {
  if (b.length > SHARED_BYTES_MAX) return decodeInstructions(b, version);
  const h = listHash(b, version);
  const first = sharedLists.get(h);
  for (let e = first; e !== undefined; e = e.next) if (e.version === version && sameBytes(e.bytes, b)) return e.list;
  const list = decodeInstructions(b, version);
  if (isDecErr(list)) return list;
  if (sharedCount >= SHARED_LISTS_MAX) {
    sharedLists.clear();
    sharedCount = 0;
  }
  // The bytes are copied: `b` is a view of the message.
  sharedLists.set(h, { version, bytes: b.slice(), list, next: sharedCount === 0 ? undefined : first });
  sharedCount++;
  return list;
}

const CODECS: ListCodecs = {
  parseList: (text, insideCt) => parseList(text, true, insideCt ?? false),
  formatList: (list) => formatActions(list),
  encodeList: (w, list, version) => encodeList(w, list, version),
  decodeList: (b, version) => decodeActionList(b, version),
};
