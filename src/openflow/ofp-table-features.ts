/**
 * OFPST_TABLE_FEATURES (OpenFlow 1.3+) requests and replies: each table's
 * name, metadata bits, limits and its property list (instructions, next
 * tables, write/apply actions and set-field fields, for rules and for the
 * table-miss rule, matchable/maskable/wildcardable fields).
 *
 * Bodies are OVS's abstract form (ofputil_table_features): sets of action
 * names, instruction names and field names rather than wire bitmaps, kept
 * in OVS's own order (its OFPACT_*, OVSINST_* and MFF_* enumerations), so
 * a switch states what it supports once and the codec writes it for the
 * connection's version. Decoding is as loose as ofp-print's (unknown
 * properties, actions, instructions and fields are skipped); printing
 * condenses consecutive tables exactly as ofp-print ("tables 1...252:
 * ditto", "(same actions)", "eth_{src,dst}", "reg0...reg15").
 */
import { OfpReader, type OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type CodecContext, type DecodeError, fail, isDecodeError, type OfpProp, pullOfpProp, withPartial, putProperty } from "./ofp-codec.js";
import { MF_FIELDS, decodeNxmHeader, encodeNxmHeader, headerForCode, mfFromHeader, mfFromName, type MfField } from "./meta-flow.js";
import { codeFor } from "./nx-match.js";

/* ---------------- the orders OVS lists things in ---------------- */

/** Field names in OVS's MFF_* order (the order of its field bitmaps). */
const MFF_ORDER: readonly string[] = [
  "dp_hash", "recirc_id", "packet_type", "conj_id",
  "tun_id", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_flags", "tun_gbp_id", "tun_gbp_flags",
  "tun_erspan_idx", "tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid", "tun_gtpu_flags", "tun_gtpu_msgtype",
  ...Array.from({ length: 64 }, (_, i) => `tun_metadata${i}`),
  "metadata", "in_port", "in_port_oxm", "actset_output", "skb_priority", "pkt_mark",
  "ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_proto", "ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst",
  "ct_tp_src", "ct_tp_dst",
  ...Array.from({ length: 16 }, (_, i) => `reg${i}`),
  ...Array.from({ length: 8 }, (_, i) => `xreg${i}`),
  ...Array.from({ length: 4 }, (_, i) => `xxreg${i}`),
  "eth_src", "eth_dst", "eth_type", "vlan_tci", "dl_vlan", "vlan_vid", "dl_vlan_pcp", "vlan_pcp",
  "mpls_label", "mpls_tc", "mpls_bos", "mpls_ttl",
  "ip_src", "ip_dst", "ipv6_src", "ipv6_dst", "ipv6_label", "nw_proto", "nw_tos", "ip_dscp", "nw_ecn", "nw_ttl", "ip_frag",
  "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
  "tcp_src", "tcp_dst", "tcp_flags", "udp_src", "udp_dst", "sctp_src", "sctp_dst",
  "icmp_type", "icmp_code", "icmpv6_type", "icmpv6_code", "nd_target", "nd_sll", "nd_tll", "nd_reserved", "nd_options_type",
  "nsh_flags", "nsh_mdtype", "nsh_np", "nsh_spi", "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4", "nsh_ttl",
];

const MFF_RANK = new Map<string, number>(MFF_ORDER.map((n, i) => [n, i]));
// Fields OVS's list above lacks go last, in tsovs's registry order.
MF_FIELDS.forEach((f, i) => {
  if (!MFF_RANK.has(f.name)) MFF_RANK.set(f.name, 1000 + i);
});

/** Sorts field names into OVS's order, dropping duplicates. */
export function sortFieldNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => (MFF_RANK.get(a) ?? 9999) - (MFF_RANK.get(b) ?? 9999));
}

/**
 * OpenFlow action types OVS maps to its own actions, per version, in
 * OVS's action order (the order ofp-print lists them): [wire type, name].
 */
const OF13_ACTIONS: readonly (readonly [number, string])[] = [
  [0, "output"], [22, "group"], [25, "set_field"], [18, "strip_vlan"], [17, "push_vlan"], [23, "mod_nw_ttl"],
  [24, "dec_ttl"], [15, "set_mpls_ttl"], [16, "dec_mpls_ttl"], [19, "push_mpls"], [20, "pop_mpls"], [21, "set_queue"],
];
/** OpenFlow 1.5's copy_field (28) and meter (29) actions are not mapped by OVS 3.1. */
function actionMap(_version: number): readonly (readonly [number, string])[] {
  return OF13_ACTIONS;
}

/** Instruction types in OVS's instruction order: [wire type, name, first version, last version]. */
const INSTRUCTIONS: readonly (readonly [number, string, number, number])[] = [
  [6, "meter", 4, 5], [4, "apply_actions", 2, 99], [5, "clear_actions", 2, 99], [3, "write_actions", 2, 99],
  [2, "write_metadata", 2, 99], [1, "goto_table", 2, 99],
];

/* ---------------- bodies ---------------- */

export interface TableActionFeatures {
  /** Action names (OVS's), in OVS's order. */
  actions: string[];
  /** Fields settable with set_field, in OVS's field order. */
  setFields: string[];
}

export interface TableInstructionFeatures {
  /** Tables goto_table may go to, ascending. */
  next: number[];
  /** Instruction names, in OVS's order. */
  instructions: string[];
  write: TableActionFeatures;
  apply: TableActionFeatures;
}

export interface TableFeatures {
  tableId: number;
  name: string;
  /** OpenFlow 1.5 command: 0 replace, 1 modify, 2 enable, 3 disable (0 before 1.5). */
  command: number;
  metadataMatch: bigint;
  metadataWrite: bigint;
  /** OpenFlow 1.4+ capability bits; null in OpenFlow 1.3, which has none. */
  supportsEviction: boolean | null;
  supportsVacancyEvents: boolean | null;
  maxEntries: number;
  /** False for a table given without properties (OpenFlow 1.5 requests). */
  anyProperties: boolean;
  nonmiss: TableInstructionFeatures;
  miss: TableInstructionFeatures;
  /** Matchable fields; `mask`: those arbitrarily maskable; `wildcard`: those that may be omitted. */
  match: string[];
  mask: string[];
  wildcard: string[];
}

export interface TableFeaturesBody {
  tables: TableFeatures[];
}

/* ---------------- decoding ---------------- */

const TFPT_INSTRUCTIONS = 0;
const TFPT_NEXT_TABLES = 2;
const TFPT_WRITE_ACTIONS = 4;
const TFPT_APPLY_ACTIONS = 6;
const TFPT_MATCH = 8;
const TFPT_WILDCARDS = 10;
const TFPT_WRITE_SETFIELD = 12;
const TFPT_APPLY_SETFIELD = 14;
/** Properties OpenFlow requires in every table (the non-miss ones). */
const TFPT_REQUIRED =
  (1 << TFPT_INSTRUCTIONS) | (1 << TFPT_NEXT_TABLES) | (1 << TFPT_WRITE_ACTIONS) | (1 << TFPT_APPLY_ACTIONS) |
  (1 << TFPT_MATCH) | (1 << TFPT_WILDCARDS) | (1 << TFPT_WRITE_SETFIELD) | (1 << TFPT_APPLY_SETFIELD);

const TABLE_FEATURES_LEN = 64;

function emptyActions(): TableActionFeatures {
  return { actions: [], setFields: [] };
}
function emptyInstructions(): TableInstructionFeatures {
  return { next: [], instructions: [], write: emptyActions(), apply: emptyActions() };
}

/** ofpprop_pull__ with 1-byte alignment and no experimenters: the ids in action and instruction lists. */
function pullIds(b: Uint8Array): number[] | DecodeError {
  const out: number[] = [];
  let o = 0;
  while (o < b.length) {
    if (b.length - o < 4) return fail("OFPBPC_BAD_LEN");
    const type = (b[o]! << 8) | b[o + 1]!;
    const len = (b[o + 2]! << 8) | b[o + 3]!;
    if (len < 4 || len > b.length - o) return fail("OFPBPC_BAD_LEN");
    out.push(type);
    o += len;
  }
  return out;
}

function parseActions(b: Uint8Array, version: number): string[] | DecodeError {
  const ids = pullIds(b);
  if (isDecodeError(ids)) return ids;
  const types = new Set(ids.filter((t) => t < 32));
  return actionMap(version).filter(([t]) => types.has(t)).map(([, n]) => n);
}

function parseInstructions(b: Uint8Array, loose: boolean): string[] | DecodeError {
  const ids = pullIds(b);
  if (isDecodeError(ids)) return ids;
  if (!loose && ids.some((t) => !INSTRUCTIONS.some(([it]) => it === t))) return fail("OFPBIC_UNKNOWN_INST");
  const types = new Set(ids);
  return INSTRUCTIONS.filter(([t]) => types.has(t)).map(([, n]) => n);
}

function parseNextTables(b: Uint8Array): number[] | DecodeError {
  const s = new Set<number>();
  for (const id of b) {
    if (id >= 255) return fail("OFPBPC_BAD_VALUE");
    s.add(id);
  }
  return [...s].sort((x, y) => x - y);
}

/**
 * Whether a header's length fits `f` (OVS knows a header by class, field
 * and length; a masked header's length counts value and mask; the
 * variable-length tun_metadata fields take any length below 128, as
 * observed of OVS 3.1).
 */
export function headerLengthFits(f: MfField, hasmask: boolean, length: number): boolean {
  const n = hasmask ? length >> 1 : length;
  if (f.name.startsWith("tun_metadata")) return n < 128;
  return n === f.bytes;
}

/** parse_oxms: the fields named by a list of NXM/OXM headers, split by whether the header is masked. */
function parseOxms(b: Uint8Array, allowMasked: boolean, loose: boolean): { exact: string[]; masked: string[] } | DecodeError {
  const exact: string[] = [];
  const masked: string[] = [];
  let o = 0;
  while (o < b.length) {
    if (b.length - o < 4) return fail("OFPBMC_BAD_LEN");
    const h = decodeNxmHeader(b.subarray(o));
    if (!h) return fail("OFPBMC_BAD_LEN");
    const exp = h.class === 0xffff;
    if (exp && h.length < 0) return fail("OFPBMC_BAD_LEN");
    o += exp ? 8 : 4;
    const f = mfFromHeader(h);
    // An unknown field (or a known one with the wrong length) is skipped,
    // as ofp-print's loose decoding does.
    if (!f || !headerLengthFits(f, h.hasmask, h.length)) {
      if (loose) continue;
      return fail("OFPBMC_BAD_FIELD");
    }
    (h.hasmask ? masked : exact).push(f.name);
  }
  if (!allowMasked && masked.length) return fail("OFPBMC_BAD_MASK");
  return { exact: sortFieldNames(exact), masked: sortFieldNames(masked) };
}

function decodeOne(r: OfpReader, version: number, loose = true): TableFeatures | DecodeError {
  if (r.remaining < TABLE_FEATURES_LEN) return fail("OFPBPC_BAD_LEN");
  const start = r.pos;
  const len = r.u16();
  if (len < TABLE_FEATURES_LEN || len % 8 || len > r.end - start) return fail("OFPBPC_BAD_LEN");
  const tableId = r.u8();
  const rawCommand = r.u8();
  r.skip(4);
  let name = r.fixedString(32);
  if (name.length > 31) name = name.slice(0, 31);
  const metadataMatch = r.u64();
  const metadataWrite = r.u64();
  const caps = r.u32();
  const maxEntries = r.u32();
  let command = 0;
  if (version >= 6) {
    if (rawCommand > 3) return fail("OFPTFFC_BAD_COMMAND");
    command = rawCommand;
  }
  if (tableId === 255) return fail("OFPTFFC_BAD_TABLE");
  const props = r.sub(len - TABLE_FEATURES_LEN);
  const tf: TableFeatures = {
    tableId, name, command, metadataMatch, metadataWrite,
    supportsEviction: version >= 5 ? (caps & 4) !== 0 : null,
    supportsVacancyEvents: version >= 5 ? (caps & 8) !== 0 : null,
    maxEntries, anyProperties: props.remaining > 0,
    nonmiss: emptyInstructions(), miss: emptyInstructions(), match: [], mask: [], wildcard: [],
  };
  let seen = 0;
  while (props.remaining > 0) {
    const p = pullOfpProp(props);
    if (isDecodeError(p)) return p;
    if (p.type >= 0 && p.type < 32) {
      if (seen & (1 << p.type)) return fail("OFPTFFC_BAD_FEATURES");
      seen |= 1 << p.type;
    }
    const miss = p.type & 1 ? tf.miss : tf.nonmiss;
    let e: DecodeError | null = null;
    switch (p.type) {
      case 0:
      case 1: {
        const v = parseInstructions(p.payload, loose);
        if (isDecodeError(v)) e = v;
        else miss.instructions = v;
        break;
      }
      case 2:
      case 3: {
        const v = parseNextTables(p.payload);
        if (isDecodeError(v)) e = v;
        else miss.next = v;
        break;
      }
      case 4:
      case 5:
      case 6:
      case 7: {
        const v = parseActions(p.payload, version);
        if (isDecodeError(v)) e = v;
        else (p.type < 6 ? miss.write : miss.apply).actions = v;
        break;
      }
      case 8: {
        const v = parseOxms(p.payload, true, loose);
        if (isDecodeError(v)) e = v;
        else {
          tf.match = v.exact;
          tf.mask = v.masked;
        }
        break;
      }
      case 10: {
        const v = parseOxms(p.payload, false, loose);
        if (isDecodeError(v)) e = v;
        else tf.wildcard = v.exact;
        break;
      }
      case 12:
      case 13:
      case 14:
      case 15: {
        const v = parseOxms(p.payload, false, loose);
        if (isDecodeError(v)) e = v;
        else (p.type < 14 ? miss.write : miss.apply).setFields = v.exact;
        break;
      }
      default:
        // Experimenter and unknown properties: skipped when loose (as
        // ofp-print and a controller decode), refused when strict.
        if (!loose) e = fail(p.type < 0 ? "OFPBPC_BAD_EXP_TYPE" : "OFPBPC_BAD_TYPE");
        break;
    }
    if (e) return e;
  }
  const missing = (seen & TFPT_REQUIRED) ^ TFPT_REQUIRED;
  if (missing && (tf.anyProperties || version < 6)) return fail("OFPTFFC_BAD_FEATURES");
  if (tf.anyProperties) {
    // A table-miss property that is absent means "same as for other rules".
    if (!(seen & (1 << 1))) tf.miss.instructions = [...tf.nonmiss.instructions];
    if (!(seen & (1 << 3))) tf.miss.next = [...tf.nonmiss.next];
    if (!(seen & (1 << 5))) tf.miss.write.actions = [...tf.nonmiss.write.actions];
    if (!(seen & (1 << 7))) tf.miss.apply.actions = [...tf.nonmiss.apply.actions];
    if (!(seen & (1 << 13))) tf.miss.write.setFields = [...tf.nonmiss.write.setFields];
    if (!(seen & (1 << 15))) tf.miss.apply.setFields = [...tf.nonmiss.apply.setFields];
  }
  // Maskable fields are matchable and wildcardable; only matchable fields are wildcardable.
  tf.match = sortFieldNames([...tf.match, ...tf.mask]);
  const matchSet = new Set(tf.match);
  tf.wildcard = sortFieldNames([...tf.wildcard, ...tf.mask].filter((n) => matchSet.has(n)));
  return tf;
}

/* ---------------- encoding ---------------- */

function putIds(w: OfpWriter, ids: readonly number[]): void {
  for (const id of [...ids].sort((a, b) => a - b)) w.u16(id).u16(4);
}

function fieldOf(name: string): MfField {
  const f = mfFromName(name);
  if (!f) throw new RangeError(`unknown field ${name}`);
  return f;
}

function putFields(w: OfpWriter, type: number, fields: readonly string[], masked: ReadonlySet<string>, version: number): void {
  putProperty(w, type, (w) => {
    for (const n of sortFieldNames(fields)) {
      const f = fieldOf(n);
      const code = codeFor(f, version);
      if (!code) continue;
      w.bytes(encodeNxmHeader(headerForCode(f, code, masked.has(n))));
    }
  });
}

const NO_MASKS: ReadonlySet<string> = new Set();

function putInstructionFeatures(w: OfpWriter, tif: TableInstructionFeatures, miss: number, version: number): void {
  const insts = new Set(tif.instructions);
  putProperty(w, TFPT_INSTRUCTIONS + miss, (w) =>
    putIds(w, INSTRUCTIONS.filter(([, n, lo, hi]) => insts.has(n) && version >= lo && version <= hi).map(([t]) => t)));
  putProperty(w, TFPT_NEXT_TABLES + miss, (w) => {
    for (const id of [...new Set(tif.next)].sort((a, b) => a - b)) if (id < 255) w.u8(id);
  });
  const acts = (a: TableActionFeatures): number[] => {
    const s = new Set(a.actions);
    return actionMap(version).filter(([, n]) => s.has(n)).map(([t]) => t);
  };
  putProperty(w, TFPT_WRITE_ACTIONS + miss, (w) => putIds(w, acts(tif.write)));
  putFields(w, TFPT_WRITE_SETFIELD + miss, tif.write.setFields, NO_MASKS, version);
  putProperty(w, TFPT_APPLY_ACTIONS + miss, (w) => putIds(w, acts(tif.apply)));
  putFields(w, TFPT_APPLY_SETFIELD + miss, tif.apply.setFields, NO_MASKS, version);
}

function encodeOne(w: OfpWriter, tf: TableFeatures, version: number): void {
  const start = w.length;
  let caps = 0;
  if (version >= 5) {
    // OVS sets a bit unless the feature is known to be unsupported.
    if (tf.supportsEviction !== false) caps |= 4;
    if (tf.supportsVacancyEvents !== false) caps |= 8;
  }
  w.u16(0).u8(tf.tableId).u8(version >= 6 ? tf.command : 0).zeros(4).fixedString(tf.name, 32);
  w.u64(tf.metadataMatch).u64(tf.metadataWrite).u32(caps).u32(tf.maxEntries);
  if (tf.anyProperties) {
    putInstructionFeatures(w, tf.nonmiss, 0, version);
    putInstructionFeatures(w, tf.miss, 1, version);
    putFields(w, TFPT_MATCH, tf.match, new Set(tf.mask), version);
    putFields(w, TFPT_WILDCARDS, tf.wildcard, NO_MASKS, version);
  }
  w.setU16(start, w.length - start);
}

/* ---------------- printing ---------------- */

function isAllDigits(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** "reg0" then "reg1": the same but for a number one larger at the end. */
function sequential(a: string, b: string): boolean {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return false;
  const sa = a.slice(i);
  const sb = b.slice(i);
  return isAllDigits(sa) && isAllDigits(sb) && sa.length < 10 && sb.length < 10 && Number(sa) + 1 === Number(sb);
}

function sequentialRun(ids: readonly string[], at: number, n: number): number {
  for (let i = 1; ; i++) {
    if (i >= n || !sequential(ids[at + i - 1]!, ids[at + i]!)) return i === 2 ? 1 : i;
  }
}

/** Length of the longest common prefix of a and b that ends in "_" (0 if none). */
function commonPrefix(a: string, b: string): number {
  let ret = 0;
  for (let i = 0; ; i++) {
    if (i >= a.length || i >= b.length || a[i] !== b[i]) return ret;
    if (a[i] === "_") ret = i + 1;
  }
}

function prefixRun(ids: readonly string[], at: number, n: number, skip: number): { run: number; extra: number } {
  if (n < 2) return { run: n, extra: 0 };
  const extra = commonPrefix(ids[at]!.slice(skip), ids[at + 1]!.slice(skip));
  if (!extra) return { run: 1, extra: 0 };
  let i = 2;
  while (i < n && commonPrefix(ids[at]!.slice(skip), ids[at + i]!.slice(skip))) i++;
  return { run: i, extra };
}

/** ofp-print's abbreviated field list: "eth_{src,dst}", "reg0...reg15". */
function printNames(ids: readonly string[], at: number, n: number, skip: number): string {
  let s = "";
  let group = 0;
  while (n > 0) {
    if (group++) s += skip ? "," : " ";
    const pr = prefixRun(ids, at, n, skip);
    const sr = sequentialRun(ids, at, n);
    const run = Math.max(pr.run, sr);
    if (sr >= pr.run) {
      s += ids[at]!.slice(skip);
      if (run > 1) s += "..." + ids[at + run - 1]!.slice(skip);
    } else {
      s += ids[at]!.slice(skip, skip + pr.extra) + "{" + printNames(ids, at, run, skip + pr.extra) + "}";
    }
    at += run;
    n -= run;
  }
  return s;
}

function fieldList(names: readonly string[]): string {
  const sorted = sortFieldNames(names);
  return sorted.length ? " " + printNames(sorted, 0, sorted.length, 0) : "";
}

const sameList = <T>(a: readonly T[], b: readonly T[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function actionsEqual(a: TableActionFeatures, b: TableActionFeatures): boolean {
  return sameList(a.actions, b.actions) && sameList(sortFieldNames(a.setFields), sortFieldNames(b.setFields));
}
function actionsEmpty(a: TableActionFeatures): boolean {
  return !a.actions.length && !a.setFields.length;
}

/** Next-table sets are equal also when a's only extra table is b itself (a table cannot go to itself). */
function nextEqual(a: readonly number[], aId: number, b: readonly number[], bId: number): boolean {
  if (bId === aId + 1 && a.includes(bId) && !b.includes(bId)) return sameList(a.filter((x) => x !== bId), b);
  if (aId === bId + 1) return nextEqual(b, bId, a, aId);
  return sameList(a, b);
}

function instructionsEqual(a: TableInstructionFeatures, aId: number, b: TableInstructionFeatures, bId: number): boolean {
  return nextEqual(a.next, aId, b.next, bId) && sameList(a.instructions, b.instructions) &&
    actionsEqual(a.write, b.write) && actionsEqual(a.apply, b.apply);
}
function instructionsEmpty(t: TableInstructionFeatures): boolean {
  return !t.next.length && !t.instructions.length && actionsEmpty(t.write) && actionsEmpty(t.apply);
}

function featuresEqual(a: TableFeatures, b: TableFeatures): boolean {
  return a.metadataMatch === b.metadataMatch && a.metadataWrite === b.metadataWrite &&
    a.supportsEviction === b.supportsEviction && a.supportsVacancyEvents === b.supportsVacancyEvents &&
    a.maxEntries === b.maxEntries && instructionsEqual(a.nonmiss, a.tableId, b.nonmiss, b.tableId) &&
    instructionsEqual(a.miss, a.tableId, b.miss, b.tableId) && sameList(sortFieldNames(a.match), sortFieldNames(b.match));
}
function featuresEmpty(t: TableFeatures): boolean {
  return !t.metadataMatch && !t.metadataWrite && t.supportsEviction === null && t.supportsVacancyEvents === null &&
    !t.maxEntries && instructionsEmpty(t.nonmiss) && instructionsEmpty(t.miss) && !t.match.length;
}

function nextTablesText(next: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < next.length) {
    let j = i;
    while (j + 1 < next.length && next[j + 1] === next[j]! + 1) j++;
    parts.push(j === i ? String(next[i]) : `${next[i]}-${next[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function printActionFeatures(a: TableActionFeatures): string {
  let s = "";
  if (a.actions.length) s += `        actions: ${a.actions.join(" ")}\n`;
  if (a.setFields.length) s += `        supported on Set-Field:${fieldList(a.setFields)}\n`;
  return s;
}

function printInstructionFeatures(t: TableInstructionFeatures, prev: TableInstructionFeatures | null): string {
  let s = "";
  if (t.next.length) s += `      next tables: ${nextTablesText(t.next)}\n`;
  if (t.instructions.length) {
    if (prev && sameList(t.instructions, prev.instructions)) s += "      (same instructions)\n";
    else s += `      instructions: ${t.instructions.join(" ")}\n`;
  }
  if (prev && actionsEqual(t.write, prev.write) && actionsEqual(t.apply, prev.apply) && t.write.setFields.length) {
    s += "      (same actions)\n";
  } else if (!actionsEqual(t.write, t.apply)) {
    s += "      Write-Actions features:\n" + printActionFeatures(t.write);
    s += "      Apply-Actions features:\n" + printActionFeatures(t.apply);
  } else if (t.write.actions.length || t.write.setFields.length) {
    s += "      Write-Actions and Apply-Actions features:\n" + printActionFeatures(t.write);
  }
  return s;
}

const COMMANDS = ["replace", "modify", "enable", "disable"];

function hexAlt64(v: bigint): string {
  return v === 0n ? "0" : `0x${v.toString(16)}`;
}

/** The tables as ofp-print shows a table-features request or reply. */
export function printTableFeatures(tables: readonly TableFeatures[]): string {
  let s = "";
  let firstDitto = -1;
  let lastDitto = -1;
  const finish = (): void => {
    if (firstDitto < 0) return;
    s += firstDitto === lastDitto ? `\n  table ${firstDitto}: ditto\n` : `\n  tables ${firstDitto}...${lastDitto}: ditto\n`;
    firstDitto = -1;
  };
  tables.forEach((f, i) => {
    const prev = i > 0 ? tables[i - 1]! : null;
    if (!prev && f.command !== 0) s += `\n  command: ${COMMANDS[f.command] ?? "***bad command***"}`;
    const same = prev !== null && featuresEqual(f, prev);
    if (same && !f.name) {
      if (firstDitto < 0) firstDitto = f.tableId;
      lastDitto = f.tableId;
      return;
    }
    finish();
    s += `\n  table ${f.tableId}` + (f.name ? ` ("${f.name}")` : "") + ":";
    if (same) {
      s += " ditto";
      return;
    }
    s += "\n";
    if (f.metadataMatch || f.metadataWrite) s += `    metadata: match=${hexAlt64(f.metadataMatch)} write=${hexAlt64(f.metadataWrite)}\n`;
    if (f.supportsEviction !== null) s += `    eviction: ${f.supportsEviction ? "" : "not "}supported\n`;
    if (f.supportsVacancyEvents !== null) s += `    vacancy events: ${f.supportsVacancyEvents ? "" : "not "}supported\n`;
    if (f.maxEntries) s += `    max_entries=${f.maxEntries}\n`;
    const pn = prev ? prev.nonmiss : null;
    const pm = prev ? prev.miss : null;
    if (prev && instructionsEqual(f.nonmiss, f.tableId, prev.nonmiss, prev.tableId) &&
      instructionsEqual(f.miss, f.tableId, prev.miss, prev.tableId)) {
      if (!instructionsEmpty(f.nonmiss)) s += "    (same instructions)\n";
    } else if (!instructionsEqual(f.nonmiss, f.tableId, f.miss, f.tableId)) {
      s += "    instructions (other than table miss):\n" + printInstructionFeatures(f.nonmiss, pn);
      s += "    instructions (table miss):\n" + printInstructionFeatures(f.miss, pm);
    } else if (!instructionsEmpty(f.nonmiss)) {
      s += "    instructions (table miss and others):\n" + printInstructionFeatures(f.nonmiss, pn);
    }
    if (f.match.length) {
      if (prev && sameList(sortFieldNames(f.match), sortFieldNames(prev.match))) s += "    (same matching)\n";
      else {
        s += "    matching:\n";
        const mask = new Set(f.mask);
        const wc = new Set(f.wildcard);
        const pick = (m: boolean, w: boolean): string[] => f.match.filter((n) => mask.has(n) === m && wc.has(n) === w);
        const line = (title: string, names: string[]): string => (names.length ? `      ${title}:${fieldList(names)}\n` : "");
        s += line("arbitrary mask", pick(true, true));
        s += line("exact match or wildcard", pick(false, true));
        s += line("must exact match", pick(false, false));
      }
    }
  });
  finish();
  return s;
}

/** OFPST_TABLE_FEATURES request and reply (the request may carry tables to set). */
export const TABLE_FEATURES_CODEC: BodyCodec<TableFeaturesBody> = {
  decode(r, ctx) {
    const tables: TableFeatures[] = [];
    while (r.remaining > 0) {
      const t = decodeOne(r, ctx.version);
      if (isDecodeError(t)) return withPartial(t, { tables });
      tables.push(t);
    }
    return { tables };
  },
  encode(w, b, ctx) {
    for (const t of b.tables) encodeOne(w, t, ctx.version);
  },
  print(b: TableFeaturesBody, _ctx: CodecContext) {
    return printTableFeatures(b.tables);
  },
};

/**
 * Decodes the tables of a table-features request strictly, as a switch
 * does (OVS's ofputil_decode_table_features without raw properties):
 * unknown properties, instructions and fields are errors rather than
 * skipped. `body` is the message after its multipart header.
 */
export function decodeTableFeaturesStrict(body: Uint8Array, version: number): TableFeatures[] | DecodeError {
  const r = new OfpReader(body);
  const tables: TableFeatures[] = [];
  while (r.remaining > 0) {
    const t = decodeOne(r, version, false);
    if (isDecodeError(t)) return t;
    tables.push(t);
  }
  return tables;
}
