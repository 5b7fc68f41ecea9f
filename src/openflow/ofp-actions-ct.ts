/**
 * The connection-tracking actions: `ct(...)` (NXAST_CT with its nested
 * actions) and `nat(...)` (NXAST_NAT, only meaningful inside ct), text and
 * wire.
 */
import type { OfpReader } from "./ofp-buffer.js";
import { fail, type DecodeError } from "./ofp-codec.js";
import { formatMfValue, mfFromName, parseMfValue } from "./meta-flow.js";
import {
  fieldBits, fieldOfHeaderBytes, formatSubfield, ofsNbits, parseSubfield, subfieldHeaderBytes, type Subfield,
} from "./ofp-actions-subfield.js";
import type { ActionOf, OfpAction } from "./ofp-actions.js";
import type { ActionEntry, ListCodecs, WireAction } from "./ofp-actions-table.js";
import {
  err, formatIpv4Num, isTextError, parseIpv4Text, parseUintBits, putNxAction, splitItems, type ActionTextError,
} from "./ofp-actions-util.js";

const NX = 0x00002320;
export const NX_CT_F_COMMIT = 1;
export const NX_CT_F_FORCE = 2;
export const NX_CT_RECIRC_NONE = 255;

export const NX_NAT_F_SRC = 1;
export const NX_NAT_F_DST = 2;
export const NX_NAT_F_PERSISTENT = 4;
export const NX_NAT_F_PROTO_HASH = 8;
export const NX_NAT_F_PROTO_RANDOM = 16;

const RANGE_IPV4_MIN = 1;
const RANGE_IPV4_MAX = 2;
const RANGE_IPV6_MIN = 4;
const RANGE_IPV6_MAX = 8;
const RANGE_PROTO_MIN = 16;
const RANGE_PROTO_MAX = 32;

const ALG_NAMES: Readonly<Record<number, string>> = { 21: "ftp", 69: "tftp" };

/* ---------------- nat ---------------- */

function parseAddr(s: string): Uint8Array | null {
  const v4 = parseIpv4Text(s);
  if (v4 !== null) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255);
  const p = parseMfValue(mfFromName("ipv6_src")!, s);
  return p.ok && !p.value.mask ? p.value.value : null;
}

function fmtAddr(b: Uint8Array): string {
  if (b.length === 4) return formatIpv4Num(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
  return formatMfValue(mfFromName("ipv6_src")!, { value: b, mask: null });
}

/** `ADDR[-ADDR][:PORT[-PORT]]`, IPv6 addresses bracketed when ports follow. */
function parseNatRange(s: string, a: ActionOf<"nat">): ActionTextError | null {
  let addrPart = s;
  let portPart: string | null = null;
  if (s.startsWith("[")) {
    const m = /^\[([^\]]+)\](?:-\[([^\]]+)\])?(?::(.*))?$/.exec(s);
    if (!m) return err(`invalid address range: "${s}"`);
    addrPart = m[2] ? `${m[1]}-${m[2]}` : m[1]!;
    portPart = m[3] ?? null;
  } else if ((s.match(/:/g) ?? []).length === 1 || /^[0-9.]+(-[0-9.]+)?:/.test(s)) {
    const i = s.indexOf(":");
    addrPart = s.slice(0, i);
    portPart = s.slice(i + 1);
  }
  const dash = addrPart.indexOf("-");
  const minS = dash < 0 ? addrPart : addrPart.slice(0, dash);
  const min = parseAddr(minS);
  if (!min) return err(`invalid address: "${minS}"`);
  a.addrMin = min;
  if (dash >= 0) {
    const max = parseAddr(addrPart.slice(dash + 1));
    if (!max || max.length !== min.length) return err(`invalid address: "${addrPart.slice(dash + 1)}"`);
    a.addrMax = max;
  }
  if (portPart !== null) {
    const [lo, hi] = portPart.split("-");
    const pmin = parseUintBits(lo ?? "", 16, "port");
    if (isTextError(pmin)) return pmin;
    a.portMin = pmin;
    if (hi !== undefined) {
      const pmax = parseUintBits(hi, 16, "port");
      if (isTextError(pmax)) return pmax;
      a.portMax = pmax;
    }
  }
  return null;
}

function parseNat(arg: string): ActionOf<"nat"> | ActionTextError {
  const a: ActionOf<"nat"> = { type: "nat", flags: 0, addrMin: null, addrMax: null, portMin: 0, portMax: 0 };
  for (const { key, value } of splitItems(arg)) {
    if (key === "src" || key === "dst") {
      if (a.flags & (NX_NAT_F_SRC | NX_NAT_F_DST)) return err(`May only specify one of "src" or "dst".`);
      a.flags |= key === "src" ? NX_NAT_F_SRC : NX_NAT_F_DST;
      if (value !== "") {
        const e = parseNatRange(value, a);
        if (e) return e;
      }
    } else if (key === "persistent") a.flags |= NX_NAT_F_PERSISTENT;
    else if (key === "hash") a.flags |= NX_NAT_F_PROTO_HASH;
    else if (key === "random") a.flags |= NX_NAT_F_PROTO_RANDOM;
    else return err(`invalid key "${key}" in "nat" argument`);
  }
  if ((a.flags & NX_NAT_F_PROTO_HASH) && (a.flags & NX_NAT_F_PROTO_RANDOM)) return err(`Both "hash" and "random" are specified.`);
  if (!(a.flags & (NX_NAT_F_SRC | NX_NAT_F_DST)) && (a.addrMin || a.flags)) {
    return err(`Flags allowed only with "src" or "dst".`);
  }
  return a;
}

function formatNat(a: ActionOf<"nat">): string {
  if (!(a.flags & (NX_NAT_F_SRC | NX_NAT_F_DST))) return "nat";
  let s = `nat(${a.flags & NX_NAT_F_SRC ? "src" : "dst"}`;
  if (a.addrMin) {
    const v6 = a.addrMin.length === 16;
    const ports = a.portMin !== 0;
    const br = (x: string): string => (v6 && ports ? `[${x}]` : x);
    s += `=${br(fmtAddr(a.addrMin))}`;
    // OVS leaves out a maximum equal to the minimum (or zero).
    if (a.addrMax && !a.addrMax.every((x) => x === 0) && cmpBytes(a.addrMax, a.addrMin) !== 0) s += `-${br(fmtAddr(a.addrMax))}`;
    if (ports) {
      s += `:${a.portMin}`;
      if (a.portMax && a.portMax !== a.portMin) s += `-${a.portMax}`;
    }
    // OVS shows these options only after a range.
    if (a.flags & NX_NAT_F_PERSISTENT) s += ",persistent";
    if (a.flags & NX_NAT_F_PROTO_HASH) s += ",hash";
    if (a.flags & NX_NAT_F_PROTO_RANDOM) s += ",random";
  }
  return s + ")";
}

export const NAT_ENTRY: ActionEntry<"nat"> = {
  type: "nat", keywords: ["nat"],
  // Parsed anywhere; the list it ends up in says whether it may be there.
  parse: (_k, arg) => parseNat(arg),
  format: (a) => formatNat(a),
  encode: (w, a) => {
    let present = 0;
    if (a.addrMin) present |= a.addrMin.length === 4 ? RANGE_IPV4_MIN : RANGE_IPV6_MIN;
    if (a.addrMax) present |= a.addrMax.length === 4 ? RANGE_IPV4_MAX : RANGE_IPV6_MAX;
    if (a.portMin) present |= RANGE_PROTO_MIN;
    if (a.portMax) present |= RANGE_PROTO_MAX;
    putNxAction(w, 36, (w) => {
      w.zeros(2).u16(a.flags).u16(present);
      if (a.addrMin) w.bytes(a.addrMin);
      if (a.addrMax) w.bytes(a.addrMax);
      if (a.portMin) w.u16(a.portMin);
      if (a.portMax) w.u16(a.portMax);
    });
    return null;
  },
};

/* ---------------- ct ---------------- */

/** Nested ct actions may only write ct_mark and ct_label (set_field, load, move). */
function ctWritable(x: OfpAction): boolean {
  const dst = x.type === "set_field" ? x.field : x.type === "reg_move" ? x.dst.field : null;
  return dst === "ct_mark" || dst === "ct_label";
}

function parseCt(arg: string, codecs: ListCodecs): ActionOf<"ct"> | ActionTextError {
  const a: ActionOf<"ct"> = {
    type: "ct", flags: 0, zoneImm: 0, zoneSrc: null, table: NX_CT_RECIRC_NONE, alg: 0, actions: [],
  };
  for (const { key, value } of splitItems(arg)) {
    if (key === "commit") a.flags |= NX_CT_F_COMMIT;
    else if (key === "force") a.flags |= NX_CT_F_FORCE;
    else if (key === "table") {
      const t = parseUintBits(value, 8, "recirc table");
      if (isTextError(t)) return err(`unknown table ${value}`);
      if (t === NX_CT_RECIRC_NONE) return err(`invalid table 0x${t.toString(16)}`);
      a.table = t;
    } else if (key === "zone") {
      const n = parseUintBits(value, 16, "zone");
      if (!isTextError(n)) {
        a.zoneImm = n;
        a.zoneSrc = null;
      } else {
        const sf = parseSubfield(value);
        if ("error" in sf) return err(sf.error);
        a.zoneSrc = sf.sf;
      }
    } else if (key === "alg") {
      const code = value === "ftp" ? 21 : value === "tftp" ? 69 : -1;
      if (code < 0) return err(`invalid conntrack helper "${value}"`);
      a.alg = code;
    } else if (key === "nat") {
      const n = parseNat(value);
      if (isTextError(n)) return n;
      a.actions.push(n);
    } else if (key === "exec") {
      const list: OfpAction[] = [];
      for (const item of splitItems(value)) {
        if (item.key === "nat") {
          const n = parseNat(item.value);
          if (isTextError(n)) return n;
          list.push(n);
          continue;
        }
        const one = codecs.parseList(item.value === "" ? item.key : `${item.key}(${item.value})`, true);
        if (isTextError(one)) return one;
        list.push(...one);
      }
      for (const x of list) {
        if (x.type === "nat" || ctWritable(x)) continue;
        if (x.type === "set_field") return err(`${x.field} modification is not allowed.`);
        return err(`ct action doesn't support nested action ${x.type}`);
      }
      a.actions.push(...list);
    } else {
      return err(`invalid argument to "ct" action: \`${key}'`);
    }
  }
  if ((a.flags & NX_CT_F_FORCE) && !(a.flags & NX_CT_F_COMMIT)) return err(`"force" flag requires "commit" flag.`);
  return a;
}

function formatCt(a: ActionOf<"ct">, codecs: ListCodecs): string {
  const parts: string[] = [];
  if (a.flags & NX_CT_F_COMMIT) parts.push("commit");
  if (a.flags & NX_CT_F_FORCE) parts.push("force");
  if (a.table !== NX_CT_RECIRC_NONE) parts.push(`table=${a.table}`);
  if (a.zoneSrc) parts.push(`zone=${formatSubfield(a.zoneSrc)}`);
  else if (a.zoneImm) parts.push(`zone=${a.zoneImm}`);
  let rest = a.actions;
  if (rest.length && rest[0]!.type === "nat") {
    parts.push(formatNat(rest[0] as ActionOf<"nat">));
    rest = rest.slice(1);
  }
  if (rest.length) parts.push(`exec(${codecs.formatList(rest)})`);
  if (a.alg) parts.push(`alg=${ALG_NAMES[a.alg] ?? a.alg}`);
  return `ct(${parts.join(",")})`;
}

export const CT_ENTRY: ActionEntry<"ct"> = {
  type: "ct", keywords: ["ct"],
  parse: (_k, arg, codecs) => parseCt(arg, codecs),
  format: (a, codecs) => formatCt(a, codecs),
  encode: (w, a, version, codecs) => {
    let e: ActionTextError | null = null;
    putNxAction(w, 35, (w) => {
      w.u16(a.flags);
      if (a.zoneSrc) w.bytes(subfieldHeaderBytes(a.zoneSrc)).u16(ofsNbits(a.zoneSrc.ofs, a.zoneSrc.nBits));
      else w.u32(0).u16(a.zoneImm);
      w.u8(a.table).zeros(3).u16(a.alg);
      e = codecs.encodeList(w, a.actions, version);
    });
    return e;
  },
};

function isDecErr(x: unknown): x is DecodeError {
  return typeof x === "object" && x !== null && "decodeError" in x;
}

function decodeCt(r: OfpReader, version: number, codecs: ListCodecs): OfpAction | DecodeError {
  const flags = r.u16();
  const zoneHeader = r.data.subarray(r.pos, r.pos + 4);
  const zoneIsField = zoneHeader.some((x) => x !== 0);
  r.skip(4);
  const zone = r.u16();
  const table = r.u8();
  r.skip(3);
  const alg = r.u16();
  if ((flags & NX_CT_F_FORCE) && !(flags & NX_CT_F_COMMIT)) return fail("OFPBAC_BAD_ARGUMENT");
  let zoneSrc: Subfield | null = null;
  if (zoneIsField) {
    const hit = fieldOfHeaderBytes(zoneHeader);
    if (!hit) return fail("OFPBAC_BAD_SET_TYPE");
    const nBits = (zone & 63) + 1;
    if (nBits !== 16 || (zone >>> 6) + nBits > fieldBits(hit.fld)) return fail("OFPBAC_BAD_SET_LEN");
    zoneSrc = { field: hit.fld.name, ofs: zone >>> 6, nBits };
  }
  const actions = codecs.decodeList(r.rest(), version);
  if (isDecErr(actions)) return actions;
  for (const x of actions) {
    if (x.type !== "nat" && !ctWritable(x)) return fail("OFPBAC_BAD_ARGUMENT");
    // Without commit, only a bare nat (no flags, no range) may be inside.
    if (!(flags & NX_CT_F_COMMIT) && (x.type !== "nat" || x.flags !== 0 || x.addrMin !== null)) return fail("OFPBAC_BAD_ARGUMENT");
  }
  return { type: "ct", flags, zoneImm: zoneIsField ? 0 : zone, zoneSrc, table, alg, actions };
}

/**
 * NXAST_NAT as OVS decodes it: the flags, then the ranges in a fixed order
 * (IPv4 or IPv6 addresses, then ports); a range that is missing, short,
 * zero where a value is needed, or reversed is OFPBAC_BAD_ARGUMENT.
 */
function decodeNat(r: OfpReader): OfpAction | DecodeError {
  r.skip(2);
  const flags = r.u16();
  const present = r.u16();
  if (flags & ~0x1f) return fail("OFPBAC_BAD_ARGUMENT");
  if ((flags & NX_NAT_F_SRC) && (flags & NX_NAT_F_DST)) return fail("OFPBAC_BAD_ARGUMENT");
  if ((flags & NX_NAT_F_PROTO_HASH) && (flags & NX_NAT_F_PROTO_RANDOM)) return fail("OFPBAC_BAD_ARGUMENT");
  const a: ActionOf<"nat"> = { type: "nat", flags, addrMin: null, addrMax: null, portMin: 0, portMax: 0 };
  const bad = fail("OFPBAC_BAD_ARGUMENT");
  const take = (n: number): Uint8Array | null => (r.remaining >= n ? r.bytes(n) : null);
  const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);
  if (present & RANGE_IPV4_MIN) {
    if (present & (RANGE_IPV6_MIN | RANGE_IPV6_MAX)) return bad;
    const min = take(4);
    if (!min || zero(min)) return bad;
    a.addrMin = min;
    if (present & RANGE_IPV4_MAX) {
      const max = take(4);
      if (!max || cmpBytes(max, min) < 0) return bad;
      a.addrMax = max;
    }
  } else if (present & RANGE_IPV4_MAX) {
    return bad;
  } else if (present & RANGE_IPV6_MIN) {
    const min = take(16);
    if (!min || zero(min)) return bad;
    a.addrMin = min;
    if (present & RANGE_IPV6_MAX) {
      const max = take(16);
      if (!max || cmpBytes(max, min) < 0) return bad;
      a.addrMax = max;
    }
  } else if (present & RANGE_IPV6_MAX) {
    return bad;
  }
  if (present & RANGE_PROTO_MIN) {
    if (!a.addrMin) return bad;
    const min = take(2);
    if (!min || zero(min)) return bad;
    a.portMin = (min[0]! << 8) | min[1]!;
    if (present & RANGE_PROTO_MAX) {
      const max = take(2);
      if (!max) return bad;
      a.portMax = (max[0]! << 8) | max[1]!;
      if (a.portMax < a.portMin) return bad;
    }
  } else if (present & RANGE_PROTO_MAX) {
    return bad;
  }
  return a;
}

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export const CT_WIRE: readonly WireAction[] = [
  { name: "NXAST_CT", vendor: NX, code: 35, minVersion: 1, maxVersion: 6, len: 24, variable: true, decode: (r, v, _l, c) => decodeCt(r, v, c) },
  { name: "NXAST_NAT", vendor: NX, code: 36, minVersion: 1, maxVersion: 6, len: 16, variable: true, decode: (r) => decodeNat(r) },
];
