/**
 * The match part of OpenFlow flow syntax, parsed as ovs-ofctl 3.1 parses
 * it: `key=value` (or `key:value`) pairs separated by commas or blanks,
 * protocol shorthands (ip, tcp6, arp, mplsm ...), every meta-flow field by
 * name or alias with `value/mask`, the OpenFlow 1.0 views dl_vlan and
 * dl_vlan_pcp, and OVS's error messages for bad values. Keywords that are
 * not part of a match (priority, table, cookie, actions ...) are handed
 * back to the caller in order.
 *
 * Like OVS, parsing does not check prerequisites: `normalizeMatch` and the
 * wire encoders drop fields whose prerequisites are not met.
 */
import { mfFromName, parseMfValue, type MfField } from "./meta-flow.js";
import { OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NONE, OFPP_NORMAL, OFPP_TABLE } from "./ofp-codec.js";
import { isDynamicTunMetadata, mfKey, mfValueLen } from "./mf-key.js";
import { ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP, Match, VLAN_CFI } from "./match.js";
import { W_VLAN0 } from "../flow/key-layout.js";
import { vlogModule } from "../util/vlog.js";

/** A `key[=value]` pair of flow text. */
export interface KeyValue {
  key: string;
  value: string | null;
  /** The item as written (`key=value`, `key(value)` or `key`). */
  raw: string;
}

/**
 * Splits flow text into key/value pairs as OVS's ofputil_parse_key_value:
 * separators are commas and blanks, `key=value`, `key:value` and
 * `key(value)` forms, parentheses nest inside values.
 */
export function splitKeyValues(text: string): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  const n = text.length;
  const isSep = (c: string): boolean => c === "," || c === " " || c === "\t" || c === "\r" || c === "\n";
  while (i < n) {
    while (i < n && isSep(text[i]!)) i++;
    if (i >= n) break;
    let k = i;
    while (k < n && !isSep(text[k]!) && text[k] !== "=" && text[k] !== ":" && text[k] !== "(") k++;
    const key = text.slice(i, k);
    if (k < n && (text[k] === "=" || text[k] === ":")) {
      let j = k + 1;
      let depth = 0;
      while (j < n) {
        const c = text[j]!;
        if (c === "(") depth++;
        else if (c === ")") depth--;
        else if (depth <= 0 && isSep(c)) break;
        j++;
      }
      out.push({ key, value: text.slice(k + 1, j), raw: text.slice(i, j) });
      i = j;
    } else if (k < n && text[k] === "(") {
      let j = k + 1;
      let depth = 1;
      while (j < n && depth > 0) {
        if (text[j] === "(") depth++;
        else if (text[j] === ")") depth--;
        j++;
      }
      out.push({ key, value: text.slice(k + 1, depth === 0 ? j - 1 : j), raw: text.slice(i, j) });
      i = j;
    } else {
      out.push({ key, value: null, raw: key });
      i = k;
    }
  }
  return out;
}

/** Protocol shorthands: name → [dl_type, nw_proto or -1]. */
export const PROTOCOLS: Readonly<Record<string, readonly [number, number]>> = {
  ip: [ETH_TYPE_IP, -1], ipv6: [ETH_TYPE_IPV6, -1], icmp: [ETH_TYPE_IP, 1], icmp6: [ETH_TYPE_IPV6, 58],
  tcp: [ETH_TYPE_IP, 6], tcp6: [ETH_TYPE_IPV6, 6], udp: [ETH_TYPE_IP, 17], udp6: [ETH_TYPE_IPV6, 17],
  sctp: [ETH_TYPE_IP, 132], sctp6: [ETH_TYPE_IPV6, 132], arp: [ETH_TYPE_ARP, -1], rarp: [ETH_TYPE_RARP, -1],
  mpls: [ETH_TYPE_MPLS, -1], mplsm: [ETH_TYPE_MPLS_MCAST, -1],
};

export type ValueParse = { ok: true; value: Uint8Array; mask: Uint8Array | null } | { ok: false; error: string };

/** OVS parse_int_string: 0x-hex of any length, or decimal (strtoull: "-1" wraps). Returns "range"/"syntax" on error. */
function parseIntBytes(s: string, n: number): Uint8Array | "range" | "syntax" {
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]*$/.test(s)) {
    const digits = s.slice(2).replace(/^0+/, "");
    if (digits.length > 2 * n) return "range";
    v = digits === "" ? 0n : BigInt("0x" + digits);
  } else {
    const m = /^\s*([+-]?)(\d+)$/.exec(s);
    if (!m) return "syntax";
    v = BigInt(m[2]!);
    if (v >= 1n << 64n) return "range";
    if (m[1] === "-" && v !== 0n) v = (1n << 64n) - v;
  }
  if (v >= 1n << BigInt(8 * n)) return "range";
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function parseIntValue(fld: MfField, s: string, n: number): ValueParse {
  const slash = s.indexOf("/");
  const vs = slash < 0 ? s : s.slice(0, slash);
  const v = parseIntBytes(vs, n);
  if (v === "range") return { ok: false, error: `${s}: value too large for ${n}-byte field ${fld.name}` };
  if (v === "syntax") return { ok: false, error: `${s}: bad syntax for ${fld.name} value` };
  if (slash < 0) return { ok: true, value: v, mask: null };
  const m = parseIntBytes(s.slice(slash + 1), n);
  if (m === "range") return { ok: false, error: `${s}: mask too large for ${n}-byte field ${fld.name}` };
  if (m === "syntax") return { ok: false, error: `${s}: bad syntax for ${fld.name} mask` };
  return { ok: true, value: v, mask: m };
}

/**
 * Four dotted numbers read as OVS reads them (scanf's %hhu): a sign and any
 * number of digits each, kept modulo 256, so ovs-ofctl takes
 * "300.1.1.1" as 44.1.1.1 and "-1" as 255; tsovs answers the same.
 */
function ipv4Bytes(s: string): Uint8Array | null {
  const m = /^([+-]?\d+)\.([+-]?\d+)\.([+-]?\d+)\.([+-]?\d+)$/.exec(s);
  if (!m) return null;
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) b[i] = scanOctet(m[i + 1]!);
  return b;
}

/** One number as scanf's %hhu stores it: strtoul (saturating at 2^64-1, negation modulo 2^64), then the low byte. */
function scanOctet(t: string): number {
  const v = BigInt(t.replace(/^[+-]/, ""));
  if (v > 0xffffffffffffffffn) return 0xff;
  const low = Number(v & 0xffn);
  return t.startsWith("-") ? (256 - low) & 0xff : low;
}

function prefixMaskBytes(bits: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const take = Math.max(0, Math.min(8, bits - 8 * i));
    b[i] = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
  }
  return b;
}

function parseIpv4(s: string): ValueParse {
  const slash = s.indexOf("/");
  const v = ipv4Bytes(slash < 0 ? s : s.slice(0, slash));
  if (!v) return { ok: false, error: `${s}: invalid IP address` };
  if (slash < 0) return { ok: true, value: v, mask: null };
  const ms = s.slice(slash + 1);
  if (/^\d+$/.test(ms)) {
    const bits = Number(ms);
    if (bits > 32) return { ok: false, error: `${s}: IPv4 network prefix bits not between 0 and 32, inclusive` };
    return { ok: true, value: v, mask: prefixMaskBytes(bits, 4) };
  }
  const m = ipv4Bytes(ms);
  if (!m) return { ok: false, error: `${s}: invalid IP address` };
  return { ok: true, value: v, mask: m };
}

function parseIpv6(fld: MfField, s: string): ValueParse {
  const slash = s.indexOf("/");
  const vs = slash < 0 ? s : s.slice(0, slash);
  const ms = slash < 0 ? null : s.slice(slash + 1);
  const pv = parseMfValue(fld, vs);
  if (!pv.ok || vs.includes("/")) return { ok: false, error: `${s}: invalid IPv6 address` };
  if (ms === null) return { ok: true, value: pv.value.value, mask: null };
  if (/^\d+$/.test(ms)) {
    const bits = Number(ms);
    if (bits > 128) return { ok: false, error: `${s}: IPv6 network prefix bits not between 0 and 128, inclusive` };
    return { ok: true, value: pv.value.value, mask: prefixMaskBytes(bits, 16) };
  }
  const pm = parseMfValue(fld, ms);
  if (!pm.ok) return { ok: false, error: `${s}: invalid IPv6 address` };
  return { ok: true, value: pv.value.value, mask: pm.value.value };
}

function macBytes(s: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(s);
  return m ? new Uint8Array(m.slice(1).map((x) => parseInt(x, 16))) : null;
}

function parseEthernet(s: string): ValueParse {
  const slash = s.indexOf("/");
  const v = macBytes(slash < 0 ? s : s.slice(0, slash));
  const m = slash < 0 ? null : macBytes(s.slice(slash + 1));
  if (!v || (slash >= 0 && !m)) return { ok: false, error: `${s}: invalid Ethernet address` };
  return { ok: true, value: v, mask: m };
}

const PORT_NAMES: Readonly<Record<string, number>> = {
  IN_PORT: OFPP_IN_PORT, TABLE: OFPP_TABLE, NORMAL: OFPP_NORMAL, FLOOD: OFPP_FLOOD, ALL: OFPP_ALL,
  CONTROLLER: OFPP_CONTROLLER, LOCAL: OFPP_LOCAL, ANY: OFPP_NONE, NONE: OFPP_NONE,
};

const portLog = vlogModule("ofp_port");

/** Names of the reserved OpenFlow 1.0 ports 0xfff7..0xffff, for the warning about using their numbers. */
const RESERVED_PORT_NAMES = ["UNSET", "IN_PORT", "TABLE", "NORMAL", "FLOOD", "ALL", "CONTROLLER", "LOCAL", "ANY"];
/** OVS warns once per process about reserved ports given by number. */
let warnedReservedNumber = false;

/**
 * OVS's ofputil_port_from_string: a reserved name, or a decimal OF1.0 or
 * OF1.1 number. Null when invalid. Warns (on the "ofp_port" log, as OVS)
 * about numbers in the reserved ranges and numbers no OpenFlow version can
 * carry.
 */
export function parsePortText(s: string): number | null {
  const named = PORT_NAMES[s.toUpperCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(s)) return null;
  const p = Number(s);
  // Beyond 32 bits OVS does not read it as a number at all: no warning.
  if (p > 0xffffffff) return null;
  if (p < 0xff00) return p;
  if (p < 0xfff7) {
    portLog.warn(`port ${p} is a reserved OF1.0 port number that will be translated to ${p + 0xffff0000} when talking to an OF1.1 or later controller`);
    return p;
  }
  if (p <= 0xffff) {
    if (!warnedReservedNumber) {
      warnedReservedNumber = true;
      portLog.warn(`referring to port ${RESERVED_PORT_NAMES[p - 0xfff7]} as ${p} is deprecated for compatibility with OpenFlow 1.1 and later`);
    }
    return p;
  }
  if (p >= 0xffffff00) return p - 0xffff0000;
  portLog.warn(`port ${p} is outside the supported range 0 through ffff or 0xffffff00 through 0xffffffff`);
  return null;
}

function parsePort(fld: MfField, s: string, n: number): ValueParse {
  const p = parsePortText(s);
  if (p === null) {
    return { ok: false, error: n === 4 ? `${s}: port value out of range for ${fld.name}` : `${s}: invalid or unknown port for ${fld.name}` };
  }
  const v = n === 4 ? (p >= 0xff00 ? (p + 0xffff0000) >>> 0 : p) : p;
  const b = new Uint8Array(n);
  for (let i = n - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) b[i] = x & 0xff;
  return { ok: true, value: b, mask: null };
}

const TCP_FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];
const CT_STATE_NAMES = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];

/** OVS parse_flags: numeric value[/mask], "+a-b" masked flags, or "a|b" exact flags. */
function parseFlags(fld: MfField, s: string, names: readonly string[], what: string, allBits: number, n: number): ValueParse {
  const be = (v: number): Uint8Array => {
    const b = new Uint8Array(n);
    for (let i = n - 1, x = v; i >= 0; i--, x >>>= 8) b[i] = x & 0xff;
    return b;
  };
  if (/^(0[xX][0-9a-fA-F]+|\d+)(\/(0[xX][0-9a-fA-F]+|\d+))?$/.test(s)) {
    // Numbers are flag bits too: any bit without a name is an unknown flag, as OVS says.
    const [vs, ms] = s.split("/");
    const big = (t: string): bigint => BigInt(t);
    if ((big(vs!) & ~BigInt(allBits)) !== 0n || (ms !== undefined && (big(ms) & ~BigInt(allBits)) !== 0n)) {
      return { ok: false, error: `${s}: unknown ${what} flag(s)` };
    }
    return parseIntValue(fld, s, n);
  }
  let value = 0;
  let mask = 0;
  if (s.startsWith("+") || s.startsWith("-")) {
    const re = /([+-])([^+-]*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s))) {
      const i = names.indexOf(m[2]!);
      if (i < 0) return { ok: false, error: `${m[2]}: unknown ${what} flag(s)` };
      mask |= 1 << i;
      if (m[1] === "+") value |= 1 << i;
      else value &= ~(1 << i);
    }
    return { ok: true, value: be(value), mask: be(mask) };
  }
  for (const part of s.split("|")) {
    const i = names.indexOf(part);
    if (i < 0) return { ok: false, error: `${part}: unknown ${what} flag(s)` };
    value |= 1 << i;
  }
  return { ok: true, value: be(value), mask: be(allBits) };
}

const FRAG_WORDS: Readonly<Record<string, [number, number]>> = {
  no: [0, 3], yes: [1, 1], first: [1, 3], later: [3, 3], not_later: [0, 2],
};

/** One strtoul-style number at the start of `s` (0x-hex, 0-octal or decimal): [value, rest] or null. */
function leadingNumber(s: string): [number, string] | null {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (!m) return null;
  const t = m[1]!;
  const v = /^0[xX]/.test(t) ? parseInt(t.slice(2), 16) : t.length > 1 && t.startsWith("0") ? parseInt(t, 8) : Number(t);
  return [v, s.slice(t.length)];
}

/** OVS's packet_type text "(ns,ns_type)", with its error messages. */
function parsePacketType(s: string): Uint8Array | string {
  if (!s.startsWith("(")) return `${s}: bad syntax for packet type missing '('`;
  const a = s.slice(1);
  const ns = leadingNumber(a);
  if (!ns || ns[0] > 0xffff || !ns[1].startsWith(",")) return `${a}: bad syntax for packet type ns`;
  const b = ns[1].slice(1);
  const t = leadingNumber(b);
  if (!t || t[0] > 0xffff) return `${b}: bad syntax for packet type ns_type`;
  if (!t[1].startsWith(")")) return `${b}: bad syntax for packet type missing ')'`;
  return Uint8Array.of(ns[0] >>> 8, ns[0] & 0xff, t[0] >>> 8, t[0] & 0xff);
}

/** Parses the text value of `fld` (after "field="), with OVS's errors. */
export function parseFieldValue(fld: MfField, s: string): ValueParse {
  const n = mfValueLen(fld);
  let r: ValueParse;
  switch (fld.format) {
    case "decimal":
    case "hex":
      r = parseIntValue(fld, s, fld.name.startsWith("tun_metadata") ? 124 : n);
      break;
    case "ipv4":
      r = parseIpv4(s);
      break;
    case "ipv6":
      r = parseIpv6(fld, s);
      break;
    case "ethernet":
      r = parseEthernet(s);
      break;
    case "ofp-port":
    case "ofp11-port":
      r = parsePort(fld, s, n);
      break;
    case "tcp-flags":
      r = parseFlags(fld, s, TCP_FLAG_NAMES, "TCP", 0xfff, n);
      break;
    case "ct-state":
      r = parseFlags(fld, s, CT_STATE_NAMES, "ct_state", 0xff, n);
      break;
    case "tun-flags":
      r = parseFlags(fld, s, ["oam"], "tunnel", 1, n);
      break;
    case "frag": {
      const w = FRAG_WORDS[s];
      if (!w) return { ok: false, error: `${s}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"` };
      r = { ok: true, value: Uint8Array.of(w[0]), mask: Uint8Array.of(w[1]) };
      break;
    }
    case "packet-type": {
      const p = parsePacketType(s);
      if (typeof p === "string") return { ok: false, error: p };
      r = { ok: true, value: p, mask: null };
      break;
    }
  }
  if (r.ok && r.mask && !fld.maskable) {
    const zero = r.mask.every((x) => x === 0);
    const ones = r.mask.every((x) => x === 0xff);
    if (!zero && !ones) return { ok: false, error: `${s}: invalid mask for field ${fld.name}` };
  }
  return r;
}

export interface MatchParseOk {
  ok: true;
  match: Match;
  /** Keywords that are not part of a match, in order (priority, table, cookie, actions ...). */
  others: KeyValue[];
}
export type MatchParse = MatchParseOk | { ok: false; error: string };

function u16be(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

/**
 * Parses the match part of flow text into a Match. `others` receives
 * every keyword that is neither a protocol nor a field; pass `known` to
 * have unknown keywords rejected as OVS does ("unknown keyword foo").
 */
export function parseMatch(text: string, known?: ReadonlySet<string>): MatchParse {
  const match = new Match();
  const others: KeyValue[] = [];
  for (const kv of splitKeyValues(text)) {
    const { key, value } = kv;
    const proto = PROTOCOLS[key];
    if (proto && value === null) {
      match.setNum("eth_type", proto[0]);
      if (proto[1] >= 0) match.setNum("nw_proto", proto[1]);
      continue;
    }
    if (key === "eth" && value === null) {
      match.setNum("packet_type", 0);
      continue;
    }
    if (key === "dl_vlan" || key === "dl_vlan_pcp") {
      // OpenFlow 1.0's views of the VLAN TCI (OVS fields without NXM/OXM codes, not maskable).
      const n = key === "dl_vlan" ? 2 : 1;
      const text = value === null || value === "" ? "0/0" : value;
      const pv = parseIntValue({ name: key } as MfField, text, n);
      if (!pv.ok) return pv;
      if (pv.mask) {
        if (pv.mask.every((b) => b === 0)) continue;
        if (!pv.mask.every((b) => b === 0xff)) return { ok: false, error: `${text}: invalid mask for field ${key}` };
      }
      const v = pv.value;
      const x = v.length === 2 ? (v[0]! << 8) | v[1]! : v[0]!;
      const tci = match.key[W_VLAN0]! & 0xffff;
      const msk = match.mask[W_VLAN0]! & 0xffff;
      if (key === "dl_vlan") {
        if (x === 0xffff) match.setNum("vlan_tci", 0, 0xffff);
        else match.set("vlan_tci", u16be((tci & 0xe000) | (x & 0xfff) | VLAN_CFI), u16be(msk | 0x1fff));
      } else {
        match.set("vlan_tci", u16be((tci & 0x0fff) | ((x & 7) << 13) | VLAN_CFI), u16be(msk | 0xf000));
      }
      continue;
    }
    const fld = mfFromName(key);
    if (fld && !mfKey(fld) && !isDynamicTunMetadata(fld)) return { ok: false, error: `${key}: field has no space in the tunnel metadata map` };
    if (fld) {
      const r = parseFieldValue(fld, value === null || value === "" ? "0/0" : value);
      if (!r.ok) return r;
      const e = match.tunMdError(fld, r.value, r.mask);
      if (e) return { ok: false, error: e };
      match.set(fld, r.value, r.mask);
      continue;
    }
    if (value === null) return { ok: false, error: `field ${key} missing value` };
    if (known && !known.has(key)) return { ok: false, error: `unknown keyword ${key}` };
    others.push(kv);
  }
  return { ok: true, match, others };
}
