/**
 * Flow text into flow_mods, as ovs-ofctl 3.1 parses `add-flow` /
 * `parse-flow` arguments and flow files: the match (meta-flow fields and
 * protocol shorthands), the flow_mod keywords (table, priority, cookie,
 * timeouts, flags, out_port/out_group), `actions=`, OVS's error messages,
 * and the set of "usable protocols" (OpenFlow 1.0 with and without the
 * table-id extension, NXM, OpenFlow 1.1, OXM per version) that can carry
 * the result, with OVS's names for them.
 */
import { parseMatch, splitKeyValues, parsePortText } from "./match-parse.js";
import { normalizeMatchLogged } from "./match-format.js";
import { ofp10Unexpressible, ofp11Unexpressible } from "./ofp-match.js";
import { parseActions } from "./ofp-actions-codec.js";
import { checkActions } from "./ofp-actions-check.js";
import type { OfpAction } from "./ofp-actions.js";
import { isTextError } from "./ofp-actions-util.js";
import { mfFromName, type MfField } from "./meta-flow.js";
import { OFPP_NONE } from "./ofp-codec.js";
import { OFPG_ANY } from "./ofp-stats.js";
import {
  COOKIE_NONE,
  FF_CHECK_OVERLAP,
  FF_NO_BYT_COUNTS,
  FF_NO_PKT_COUNTS,
  FF_RESET_COUNTS,
  FF_SEND_FLOW_REM,
  type FlowModBody,
  OFPFC_ADD,
  OFPFC_DELETE,
  OFPFC_DELETE_STRICT,
  OFPFC_MODIFY,
  OFPFC_MODIFY_STRICT,
  OFP_DEFAULT_PRIORITY,
} from "./ofp-flow.js";

/* ---------------- protocols ---------------- */

export const P_OF10_STD = 1 << 0;
export const P_OF10_STD_TID = 1 << 1;
export const P_OF10_NXM = 1 << 2;
export const P_OF10_NXM_TID = 1 << 3;
export const P_OF11_STD = 1 << 4;
export const P_OF12_OXM = 1 << 5;
export const P_OF13_OXM = 1 << 6;
export const P_OF14_OXM = 1 << 7;
export const P_OF15_OXM = 1 << 8;
export const P_OF10_STD_ANY = P_OF10_STD | P_OF10_STD_TID;
export const P_OF10_NXM_ANY = P_OF10_NXM | P_OF10_NXM_TID;
export const P_OF10_ANY = P_OF10_STD_ANY | P_OF10_NXM_ANY;
export const P_ANY_OXM = P_OF12_OXM | P_OF13_OXM | P_OF14_OXM | P_OF15_OXM;
export const P_NXM_OXM_ANY = P_OF10_NXM_ANY | P_ANY_OXM;
export const P_OF11_UP = P_OF11_STD | P_ANY_OXM;
export const P_NXM_OF11_UP = P_OF10_NXM_ANY | P_OF11_UP;
export const P_OF12_UP = P_ANY_OXM;
export const P_OF13_UP = P_OF13_OXM | P_OF14_OXM | P_OF15_OXM;
export const P_TID = P_OF10_STD_TID | P_OF10_NXM_TID | P_OF11_STD | P_ANY_OXM;
export const P_ANY = (1 << 9) - 1;

const PROTOCOL_NAMES: readonly [number, string][] = [
  [P_OF10_STD, "OpenFlow10-table_id"],
  [P_OF10_STD_TID, "OpenFlow10+table_id"],
  [P_OF10_NXM, "NXM-table_id"],
  [P_OF10_NXM_TID, "NXM+table_id"],
  [P_OF11_STD, "OpenFlow11"],
  [P_OF12_OXM, "OXM-OpenFlow12"],
  [P_OF13_OXM, "OXM-OpenFlow13"],
  [P_OF14_OXM, "OXM-OpenFlow14"],
  [P_OF15_OXM, "OXM-OpenFlow15"],
];
const PROTOCOL_ABBREVS: readonly [number, string][] = [
  [P_ANY, "any"],
  [P_OF10_STD_ANY, "OpenFlow10"],
  [P_OF10_NXM_ANY, "NXM"],
  [P_ANY_OXM, "OXM"],
];

export function protocolName(p: number): string {
  return PROTOCOL_NAMES.find(([b]) => b === p)?.[1] ?? "none";
}

/** OVS's ofputil_protocols_to_string: group names first, then single protocols. */
export function protocolsToString(protocols: number): string {
  protocols &= P_ANY;
  if (!protocols) return "none";
  const out: string[] = [];
  while (protocols) {
    const ab = PROTOCOL_ABBREVS.find(([b]) => (protocols & b) === b);
    if (ab) {
      out.push(ab[1]);
      protocols &= ~ab[0];
      continue;
    }
    for (const [b, n] of PROTOCOL_NAMES) {
      if (protocols & b) {
        out.push(n);
        protocols &= ~b;
        break;
      }
    }
  }
  return out.join(",");
}

/** OVS's ofputil_protocols_from_string, or null with the bad name. */
export function protocolsFromString(s: string): number | { bad: string } {
  let p = 0;
  for (const name of s.split(/[\s,]+/).filter((x) => x !== "")) {
    const all = [...PROTOCOL_NAMES, ...PROTOCOL_ABBREVS];
    const hit = all.find(([, n]) => n.toLowerCase() === name.toLowerCase());
    if (!hit) return { bad: name };
    p |= hit[0];
  }
  return p;
}

/** The protocols that OpenFlow version `v` (wire number) can use. */
export function protocolsOfVersion(v: number): number {
  switch (v) {
    case 1: return P_OF10_ANY;
    case 2: return P_OF11_STD;
    case 3: return P_OF12_OXM;
    case 4: return P_OF13_OXM;
    case 5: return P_OF14_OXM;
    case 6: return P_OF15_OXM;
    default: return 0;
  }
}

/** The wire version and form a single protocol sends flow_mods in. */
export function protocolWire(p: number): { version: number; nxm: boolean; tid: boolean } {
  switch (p) {
    case P_OF10_STD: return { version: 1, nxm: false, tid: false };
    case P_OF10_STD_TID: return { version: 1, nxm: false, tid: true };
    case P_OF10_NXM: return { version: 1, nxm: true, tid: false };
    case P_OF10_NXM_TID: return { version: 1, nxm: true, tid: true };
    case P_OF11_STD: return { version: 2, nxm: false, tid: true };
    case P_OF12_OXM: return { version: 3, nxm: false, tid: true };
    case P_OF13_OXM: return { version: 4, nxm: false, tid: true };
    case P_OF14_OXM: return { version: 5, nxm: false, tid: true };
    default: return { version: 6, nxm: false, tid: true };
  }
}

/* ---------------- flow text ---------------- */

const F_OUT_PORT = 1;
const F_ACTIONS = 2;
const F_IMPORTANCE = 4;
const F_TIMEOUT = 8;
const F_PRIORITY = 16;
const F_FLAGS = 32;

const FLAG_WORDS: Readonly<Record<string, [number, number]>> = {
  send_flow_rem: [FF_SEND_FLOW_REM, P_ANY],
  check_overlap: [FF_CHECK_OVERLAP, P_ANY],
  reset_counts: [FF_RESET_COUNTS, P_OF12_UP],
  no_packet_counts: [FF_NO_PKT_COUNTS, P_OF13_UP],
  no_byte_counts: [FF_NO_BYT_COUNTS, P_OF13_UP],
};

export type FlowParse = { ok: true; fm: FlowModBody; usable: number } | { ok: false; error: string };

function strToUint(s: string, bits: number): bigint | null {
  const t = s.trim();
  if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(t)) return null;
  const v = t.length > 1 && t[0] === "0" && (t[1] === "x" || t[1] === "X") ? BigInt(t) : t[0] === "0" ? BigInt("0o" + (t.slice(1) || "0")) : BigInt(t);
  return v < 1n << BigInt(bits) ? v : null;
}

/**
 * Parses flow text as OVS's parse_ofp_str: `command` is an OFPFC_*, -1 for
 * a flow statistics request, or -2 when the text may start with "add",
 * "modify", "delete", "modify_strict" or "delete_strict".
 */
export function parseFlowText(text: string, command: number): FlowParse {
  let usable = P_ANY;
  let s = text;
  if (command === -2) {
    s = s.replace(/^[ \t\r\n]*/, "");
    const m = /^[^, \t\r\n]*/.exec(s)![0];
    const words: [string, number][] = [["add", OFPFC_ADD], ["delete", OFPFC_DELETE], ["delete_strict", OFPFC_DELETE_STRICT], ["modify", OFPFC_MODIFY], ["modify_strict", OFPFC_MODIFY_STRICT]];
    const hit = words.find(([w]) => w.startsWith(m));
    if (hit) {
      command = hit[1];
      s = s.slice(m.length);
    } else command = OFPFC_ADD;
  }
  const fields = command === -1 || command === OFPFC_DELETE ? F_OUT_PORT
    : command === OFPFC_ADD ? F_ACTIONS | F_TIMEOUT | F_PRIORITY | F_FLAGS | F_IMPORTANCE
    : command === OFPFC_DELETE_STRICT ? F_OUT_PORT | F_PRIORITY
    : F_ACTIONS | F_TIMEOUT | F_PRIORITY | F_FLAGS;
  const fm: FlowModBody = {
    command: command < 0 ? 0 : command, tableId: 0xff, match: undefined as never, priority: OFP_DEFAULT_PRIORITY, cookie: 0n, cookieMask: 0n,
    newCookie: command === OFPFC_MODIFY || command === OFPFC_MODIFY_STRICT ? COOKIE_NONE : 0n, idleTimeout: 0, hardTimeout: 0, importance: 0,
    bufferId: 0xffffffff, outPort: OFPP_NONE, outGroup: OFPG_ANY, flags: 0, actions: [],
  };
  let actStr: string | null = null;
  if (fields & F_ACTIONS) {
    const i = s.indexOf("action");
    const eq = i < 0 ? -1 : s.indexOf("=", i + 1);
    if (eq < 0) return { ok: false, error: "must specify an action" };
    actStr = s.slice(eq + 1);
    s = s.slice(0, i);
  }
  // Flow-mod keywords are taken out first; the rest is the match.
  const matchParts: string[] = [];
  const others: { key: string; value: string }[] = [];
  for (const { key, value } of splitKeyValues(s)) {
    if (fields & F_FLAGS && key in FLAG_WORDS) {
      const [f, p] = FLAG_WORDS[key]!;
      fm.flags |= f;
      usable &= p;
      continue;
    }
    if (key === "no_readonly_table" || key === "allow_hidden_fields") continue;
    matchParts.push(value === null ? key : `${key}=${value}`);
  }
  // Per-field limits OVS's meta-flow table records beyond what the
  // OpenFlow 1.0/1.1 match structures can hold.
  for (const part of matchParts) {
    const [k, v] = part.split("=", 2) as [string, string | undefined];
    if (k === "sctp_src" || k === "sctp_dst" || k === "nw_ecn" || k === "ip_ecn") usable &= ~P_OF10_STD_ANY;
    if (k === "vlan_tci" && v !== undefined && v.includes("/")) usable &= P_NXM_OXM_ANY;
  }
  const pm = parseMatch(matchParts.join(","));
  if (!pm.ok) return { ok: false, error: pm.error };
  fm.match = pm.match;
  others.push(...pm.others.map((o) => ({ key: o.key, value: o.value ?? "" })));
  for (const { key, value } of others) {
    if (value === "") return { ok: false, error: `field ${key} missing value` };
    let error: string | null = null;
    const u16 = (name: string): number | null => {
      const v = strToUint(value, 16);
      if (v === null) error = `invalid ${name} "${value}"`;
      return v === null ? null : Number(v);
    };
    if (key === "table") {
      const v = strToUint(value, 8);
      if (v === null) return { ok: false, error: `unknown table "${value}"` };
      fm.tableId = Number(v);
      if (fm.tableId !== 0xff) usable &= P_TID;
    } else if (fields & F_OUT_PORT && key === "out_port") {
      const p = parsePortText(value);
      if (p === null) error = `${value} is not a valid OpenFlow port`;
      else fm.outPort = p;
    } else if (fields & F_OUT_PORT && key === "out_group") {
      usable &= P_OF11_UP;
      const g = value === "all" ? 0xfffffffc : value === "any" ? OFPG_ANY : strToUint(value, 32);
      if (g === null) error = `${value} is not a valid OpenFlow group`;
      else fm.outGroup = Number(g);
    } else if (fields & F_PRIORITY && key === "priority") {
      fm.priority = u16("priority") ?? 0;
    } else if (fields & F_TIMEOUT && key === "idle_timeout") {
      fm.idleTimeout = u16("idle_timeout") ?? 0;
    } else if (fields & F_TIMEOUT && key === "hard_timeout") {
      fm.hardTimeout = u16("hard_timeout") ?? 0;
    } else if (fields & F_IMPORTANCE && key === "importance") {
      fm.importance = u16("importance") ?? 0;
    } else if (key === "cookie") {
      const slash = value.indexOf("/");
      if (slash >= 0) {
        if (command === OFPFC_ADD) return { ok: false, error: "flow additions cannot use a cookie mask" };
        const c = strToUint(value.slice(0, slash), 64);
        if (c === null) return { ok: false, error: `invalid numeric format ${value.slice(0, slash)}` };
        const mk = strToUint(value.slice(slash + 1), 64);
        if (mk === null) error = `invalid numeric format ${value.slice(slash + 1)}`;
        else {
          fm.cookie = c;
          fm.cookieMask = mk;
          if (mk !== 0n) usable &= P_NXM_OF11_UP;
        }
      } else {
        if (command !== OFPFC_ADD && command !== OFPFC_MODIFY && command !== OFPFC_MODIFY_STRICT) return { ok: false, error: "cannot set cookie" };
        const c = strToUint(value, 64);
        if (c === null) error = `invalid numeric format ${value}`;
        else fm.newCookie = c;
      }
    } else if (["duration", "n_packets", "n_bytes", "idle_age", "hard_age"].includes(key)) {
      // Ignored, so that dump-flows output can be fed back.
    } else {
      error = `unknown keyword ${key}`;
    }
    if (error) return { ok: false, error };
  }
  usable &= matchProtocols(fm);
  if (fm.cookieMask === 0n && fm.newCookie === COOKIE_NONE && (command === OFPFC_MODIFY || command === OFPFC_MODIFY_STRICT)) fm.newCookie = 0n;
  if (actStr !== null) {
    const acts = parseActions(actStr);
    if (isTextError(acts)) return { ok: false, error: acts.error };
    fm.actions = acts;
    usable &= actionProtocols(acts);
    const chk = checkActions(acts, { match: fm.match, tableId: fm.tableId });
    if (chk.of10Only) usable &= P_OF10_ANY;
    let err = chk.error;
    if (!err && !usable) err = "OFPBAC_MATCH_INCONSISTENT";
    if (err) return { ok: false, error: `actions are invalid with specified match (${err})` };
  }
  normalizeMatchLogged(fm.match, true, true);
  return { ok: true, fm, usable };
}

/** The protocols whose match formats can carry the flow's match. */
function matchProtocols(fm: FlowModBody): number {
  let p = P_ANY;
  const m = fm.match;
  if (ofp10Unexpressible(m).length) p &= ~P_OF10_STD_ANY;
  // OVS lets OpenFlow 1.1 carry an ECN match (its encoder then drops it).
  if (ofp11Unexpressible(m).some((f) => f !== "nw_ecn")) p &= ~P_OF11_STD;
  if (m.dlType === 0x86dd && !["nw_proto", "nw_tos", "tcp_src", "tcp_dst"].every((f) => m.isWildcarded(f))) p &= P_NXM_OXM_ANY;
  return p;
}

/** The protocols whose match formats can carry a field exactly (OVS's usable_protocols_exact). */
export function fieldProtocols(f: MfField): number {
  let p = 0;
  if (f.of10 !== "no") p |= P_OF10_STD_ANY;
  if (f.of11 !== "no") p |= P_OF11_STD;
  if (f.nxm || f.oxm) p |= P_NXM_OXM_ANY;
  return p;
}

/**
 * The protocols an action list's text allows, as OVS's action parsers
 * narrow them: push_vlan needs OpenFlow 1.1+, meter and encap 1.3+,
 * write_metadata NXM or 1.1+, set_field whatever can match its field.
 */
export function actionProtocols(list: readonly OfpAction[]): number {
  let p = P_ANY;
  for (const a of list) {
    switch (a.type) {
      case "push_vlan":
        p &= P_OF11_UP;
        break;
      case "meter":
      case "encap":
        p &= P_OF13_UP;
        break;
      case "write_metadata":
        p &= P_NXM_OF11_UP;
        break;
      case "set_field": {
        const f = mfFromName(a.field);
        if (!a.load && f) p &= fieldProtocols(f);
        break;
      }
      case "clone":
      case "write_actions":
      case "ct":
        p &= actionProtocols(a.actions);
        break;
      default:
        break;
    }
  }
  return p;
}
