/**
 * Parsing datapath flows and actions from text — the syntax that
 * `ovs-dpctl dump-flows` prints and `ovs-dpctl add-flow` takes — into the
 * netlink form (odp-netlink.ts): a key, a mask and an action list of
 * OVS_KEY_ATTR_* / OVS_ACTION_ATTR_* attributes.
 *
 * The grammar and its quirks follow OVS 3.1's parser: fields of an
 * attribute come in any order, each `name=value[/mask]`; a field left out
 * is wildcarded; numbers are C `%i` (decimal, 0x hex, 0 octal) unless OVS
 * reads them as `%u` (recirc, lb_output); flags take `a|b` (exact) or
 * `+a-b` (masked) forms; `set(...)` becomes a masked set unless every
 * mask bit is one. Unlike OVS, tsovs also reads back every action it
 * prints (push_mpls, pop_mpls, hash, push_eth, pop_eth).
 *
 * Errors are `OdpParseError`s whose message names the place parsing
 * stopped, as OVS's "syntax error at ..." does, plus what was expected.
 */
import {
  OVS_ACTION_ATTR_CHECK_PKT_LEN, OVS_ACTION_ATTR_CLONE, OVS_ACTION_ATTR_CT, OVS_ACTION_ATTR_CT_CLEAR,
  OVS_ACTION_ATTR_DROP, OVS_ACTION_ATTR_HASH, OVS_ACTION_ATTR_LB_OUTPUT, OVS_ACTION_ATTR_METER,
  OVS_ACTION_ATTR_OUTPUT, OVS_ACTION_ATTR_POP_ETH, OVS_ACTION_ATTR_POP_MPLS, OVS_ACTION_ATTR_POP_NSH,
  OVS_ACTION_ATTR_POP_VLAN, OVS_ACTION_ATTR_PUSH_ETH, OVS_ACTION_ATTR_PUSH_MPLS, OVS_ACTION_ATTR_PUSH_VLAN,
  OVS_ACTION_ATTR_RECIRC, OVS_ACTION_ATTR_SAMPLE, OVS_ACTION_ATTR_SET, OVS_ACTION_ATTR_SET_MASKED,
  OVS_ACTION_ATTR_TRUNC, OVS_ACTION_ATTR_TUNNEL_POP, OVS_ACTION_ATTR_TUNNEL_PUSH, OVS_ACTION_ATTR_USERSPACE,
  OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL,
  OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, OVS_CT_ATTR_COMMIT, OVS_CT_ATTR_FORCE_COMMIT, OVS_CT_ATTR_HELPER,
  OVS_CT_ATTR_LABELS, OVS_CT_ATTR_MARK, OVS_CT_ATTR_NAT, OVS_CT_ATTR_TIMEOUT, OVS_CT_ATTR_ZONE, OVS_HASH_ALG_L4,
  OVS_HASH_ALG_SYM_L4, OVS_KEY_ATTR_ARP, OVS_KEY_ATTR_CT_LABELS, OVS_KEY_ATTR_CT_MARK,
  OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, OVS_KEY_ATTR_CT_STATE,
  OVS_KEY_ATTR_CT_ZONE, OVS_KEY_ATTR_DP_HASH, OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_ETHERNET,
  OVS_KEY_ATTR_ETHERTYPE, OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6, OVS_KEY_ATTR_IN_PORT, OVS_KEY_ATTR_IPV4,
  OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_MPLS, OVS_KEY_ATTR_ND, OVS_KEY_ATTR_ND_EXTENSIONS,
  OVS_KEY_ATTR_PACKET_TYPE, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_SCTP,
  OVS_KEY_ATTR_SKB_MARK, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_TCP_FLAGS, OVS_KEY_ATTR_TUNNEL, OVS_KEY_ATTR_UDP,
  OVS_KEY_ATTR_VLAN, OVS_SAMPLE_ATTR_ACTIONS, OVS_SAMPLE_ATTR_PROBABILITY, OVS_TUNNEL_KEY_ATTR_CSUM,
  OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, OVS_TUNNEL_KEY_ATTR_ID,
  OVS_TUNNEL_KEY_ATTR_IPV4_DST, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, OVS_TUNNEL_KEY_ATTR_IPV6_DST,
  OVS_TUNNEL_KEY_ATTR_IPV6_SRC, OVS_TUNNEL_KEY_ATTR_OAM, OVS_TUNNEL_KEY_ATTR_TOS, OVS_TUNNEL_KEY_ATTR_TP_DST,
  OVS_TUNNEL_KEY_ATTR_TP_SRC, OVS_TUNNEL_KEY_ATTR_TTL, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS,
  OVS_USERSPACE_ATTR_ACTIONS, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, OVS_USERSPACE_ATTR_PID,
  OVS_USERSPACE_ATTR_USERDATA, OVS_VXLAN_EXT_GBP,
} from "./odp-attrs.js";
import { NLA_HDRLEN, NlWriter, nlaLen, putBe16, putBe32, putU16, putU32 } from "./odp-netlink.js";
import {
  odpCtStateName, parseIpv4, parseIpv6, parseMac, tcpFlagName, TNL_F_CSUM, TNL_F_DONT_FRAGMENT, TNL_F_OAM, tunFlagName,
} from "./odp-text.js";
import { parseTnlPush, TnlParseError } from "./odp-tnl.js";

/** A parse failure; `at` is the offset in the input where parsing stopped. */
export class OdpParseError extends Error {
  readonly code = "ODP_PARSE";
  constructor(readonly input: string, readonly at: number, readonly detail: string) {
    super(`syntax error at ${input.slice(at) || "end of input"} (${detail})`);
  }
}

/** Port name → odp port number, for `in_port(p1)`. */
export type PortNumbers = ReadonlyMap<string, number>;

const DELIMS = ", \t\r\n";
const MAX_NESTED = 32;

class Scanner {
  i = 0;
  depth = 0;
  constructor(readonly s: string) {}
  fail(detail: string, at = this.i): never {
    throw new OdpParseError(this.s, at, detail);
  }
  peek(n = 0): string {
    return this.s[this.i + n] ?? "";
  }
  startsWith(p: string): boolean {
    return this.s.startsWith(p, this.i);
  }
  eat(p: string): boolean {
    if (this.s.startsWith(p, this.i)) {
      this.i += p.length;
      return true;
    }
    return false;
  }
  expect(p: string, what = `"${p}"`): void {
    if (!this.eat(p)) this.fail(`expected ${what}`);
  }
  skipDelims(): void {
    while (this.i < this.s.length && DELIMS.includes(this.s[this.i]!)) this.i++;
  }
  atEnd(): boolean {
    return this.i >= this.s.length;
  }
  /** C scanf %i (or %u when `decimalOnly`): returns the value as a bigint, or null. */
  intRaw(decimalOnly = false): bigint | null {
    const m = decimalOnly
      ? /^[ \t]*([+-]?)(\d+)/.exec(this.s.slice(this.i))
      : /^[ \t]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(this.s.slice(this.i));
    if (!m) return null;
    this.i += m[0].length;
    const digits = m[2]!;
    let v: bigint;
    if (decimalOnly) v = BigInt(digits);
    else if (/^0[xX]/.test(digits)) v = BigInt(digits);
    else if (digits.length > 1 && digits[0] === "0") v = BigInt("0o" + digits.slice(1));
    else v = BigInt(digits);
    return m[1] === "-" ? -v : v;
  }
  /** An unsigned integer of `bits` bits (negative values wrap as in C). */
  uint(bits: number, what: string, decimalOnly = false): number {
    const at = this.i;
    const v = this.intRaw(decimalOnly);
    if (v === null) this.fail(`expected ${what}`);
    const max = (1n << BigInt(bits)) - 1n;
    if (v > max || v < -max - 1n) this.fail(`${what} ${v} out of range (at most ${max})`, at);
    return Number(BigInt.asUintN(bits, v));
  }
  uint64(what: string): bigint {
    const at = this.i;
    const v = this.intRaw();
    if (v === null) this.fail(`expected ${what}`);
    if (v >= 1n << 64n || v < -(1n << 63n)) this.fail(`${what} out of range`, at);
    return BigInt.asUintN(64, v);
  }
  /** A token made of the characters in `re`. */
  token(re: RegExp): string {
    const m = re.exec(this.s.slice(this.i));
    if (!m) return "";
    this.i += m[0].length;
    return m[0];
  }
}

/* ---------------- key attributes ---------------- */

type FieldScanner = (sc: Scanner, k: Uint8Array, m: Uint8Array | null) => void;

function ipv4Field(off: number): FieldScanner {
  return (sc: Scanner, k: Uint8Array, m: Uint8Array | null): void => {
    const at = sc.i;
    const t = sc.token(/^\d+\.\d+\.\d+\.\d+/);
    const v = parseIpv4(t);
    if (v === null) sc.fail("expected an IPv4 address", at);
    putBe32(k, off, v);
    if (m) {
      if (sc.eat("/")) {
        const at2 = sc.i;
        const mv = parseIpv4(sc.token(/^\d+\.\d+\.\d+\.\d+/));
        if (mv === null) sc.fail("expected an IPv4 mask", at2);
        putBe32(m, off, mv);
      } else putBe32(m, off, 0xffffffff);
    }
  };
}

function macField(off: number): FieldScanner {
  return (sc: Scanner, k: Uint8Array, m: Uint8Array | null): void => {
    const at = sc.i;
    const v = parseMac(sc.token(/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}/));
    if (v === null) sc.fail("expected an Ethernet address", at);
    k.set(v, off);
    if (m) {
      if (sc.eat("/")) {
        const at2 = sc.i;
        const mv = parseMac(sc.token(/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}/));
        if (mv === null) sc.fail("expected an Ethernet mask", at2);
        m.set(mv, off);
      } else m.fill(0xff, off, off + 6);
    }
  };
}

function in6Field(off: number): FieldScanner {
  return (sc: Scanner, k: Uint8Array, m: Uint8Array | null): void => {
    const at = sc.i;
    const v = parseIpv6(sc.token(/^[0-9a-fA-F:.]+/));
    if (v === null) sc.fail("expected an IPv6 address", at);
    k.set(v, off);
    if (m) {
      if (sc.eat("/")) {
        const at2 = sc.i;
        const mv = parseIpv6(sc.token(/^[0-9a-fA-F:.]+/));
        if (mv === null) sc.fail("expected an IPv6 mask", at2);
        m.set(mv, off);
      } else m.fill(0xff, off, off + 16);
    }
  };
}

/** An unsigned integer field stored big-endian (`be`) or host-endian in `bytes` bytes. */
function intField(off: number, bytes: 1 | 2 | 4, be: boolean, what: string, limit?: number): FieldScanner {
  const put = (b: Uint8Array, v: number): void => {
    if (bytes === 1) b[off] = v;
    else if (bytes === 2) (be ? putBe16 : putU16)(b, off, v);
    else (be ? putBe32 : putU32)(b, off, v);
  };
  return (sc: Scanner, k: Uint8Array, m: Uint8Array | null): void => {
    const at = sc.i;
    const v = sc.uint(bytes * 8, what);
    if (limit !== undefined && v > limit) sc.fail(`${what} ${v} out of range (at most ${limit})`, at);
    put(k, v);
    if (m) {
      if (sc.eat("/")) put(m, sc.uint(bytes * 8, `${what} mask`));
      else put(m, limit !== undefined ? limit : bytes === 1 ? 0xff : bytes === 2 ? 0xffff : 0xffffffff);
    }
  };
}

function fragField(off: number): FieldScanner {
  return (sc: Scanner, k: Uint8Array, m: Uint8Array | null): void => {
    const at = sc.i;
    const t = sc.token(/^[a-z]{1,7}/);
    const v = t === "no" ? 0 : t === "first" ? 1 : t === "later" ? 2 : -1;
    if (v < 0) sc.fail('expected frag type "no", "first" or "later"', at);
    k[off] = v;
    if (m) m[off] = 0xff;
  };
}

/** Bit-field of a big-endian integer (VLAN TCI, MPLS LSE): sets bits in key, and mask bits unless /mask given. */
function bitField(off: number, bytes: 2 | 4, nbits: number, shift: number, what: string): FieldScanner {
  const get = (b: Uint8Array): number => (bytes === 2 ? (b[off]! << 8) | b[off + 1]! : ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0);
  const put = (b: Uint8Array, v: number): void => (bytes === 2 ? putBe16(b, off, v) : putBe32(b, off, v));
  const fmask = (((2 ** nbits) - 1) * 2 ** shift) >>> 0;
  return (sc: Scanner, k: Uint8Array, m: Uint8Array | null): void => {
    const at = sc.i;
    const v = sc.uint(bytes * 8, what);
    if (v >= 2 ** nbits) sc.fail(`${what} ${v} does not fit in ${nbits} bits`, at);
    put(k, ((get(k) & ~fmask) | (v * 2 ** shift)) >>> 0);
    if (m) {
      if (sc.eat("/")) {
        const at2 = sc.i;
        const mv = sc.uint(bytes * 8, `${what} mask`);
        if (mv >= 2 ** nbits) sc.fail(`${what} mask ${mv} does not fit in ${nbits} bits`, at2);
        put(m, ((get(m) & ~fmask) | (mv * 2 ** shift)) >>> 0);
      } else put(m, (get(m) | fmask) >>> 0);
    }
  };
}

/** Parses `name(field=...,field=...)` after the name and "(" were consumed. */
function scanFields(sc: Scanner, fields: ReadonlyArray<[string, FieldScanner]>, k: Uint8Array, m: Uint8Array | null): void {
  for (;;) {
    let matched = false;
    for (const [name, f] of fields) {
      if (sc.eat(name)) {
        f(sc, k, m);
        matched = true;
        break;
      }
    }
    const c = sc.peek();
    sc.i++;
    if (c === "," && matched) continue;
    if (c === ")") return;
    sc.i--;
    if (!matched) sc.fail(`unknown field (expected one of ${fields.map(([n]) => n.replace("=", "")).join(", ")})`);
    sc.fail('expected "," or ")"');
  }
}

/** OVS parse_flags: "a|b" (mask all ones), "+a-b" (masked) or "N[/M]". Returns [flags, mask]. */
function scanFlags(sc: Scanner, name: (bit: number) => string | null, allowed: number, end: string, what: string): [number, number] {
  const rest = sc.s.slice(sc.i);
  const num = /^([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))\/([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))/.exec(rest);
  const lookup = (n: string): number => {
    for (let bit = 1; bit !== 0 && bit <= 0x80000000; bit = bit * 2 >>> 0) {
      if (name(bit) === n) return bit;
      if (bit === 0x80000000) break;
    }
    return 0;
  };
  if (num) {
    const f = Number(BigInt.asUintN(32, BigInt(num[1]!.replace(/^\+/, "").replace(/^(-?)0(?=[0-7])/, "$10o"))));
    const mk = Number(BigInt.asUintN(32, BigInt(num[2]!.replace(/^\+/, "").replace(/^(-?)0(?=[0-7])/, "$10o"))));
    if ((f & ~allowed) || (mk & ~allowed)) sc.fail(`${what}: unknown flag bits`);
    sc.i += num[0].length;
    return [f >>> 0, mk >>> 0];
  }
  if (sc.peek() === "+" || sc.peek() === "-") {
    let flags = 0, mask = 0;
    while (sc.peek() !== end) {
      const c = sc.peek();
      if (c !== "+" && c !== "-") sc.fail(`${what} flags must be preceded by '+' (for SET) or '-' (NOT SET)`);
      sc.i++;
      const at = sc.i;
      const n = sc.token(/^[^+\-)]+/);
      const bit = lookup(n);
      if (!bit || !(bit & allowed)) sc.fail(`unknown ${what} flag "${n}"`, at);
      if (mask & bit) sc.fail(`each ${what} flag can be specified only once`, at);
      mask |= bit;
      if (c === "+") flags |= bit;
    }
    return [flags >>> 0, mask >>> 0];
  }
  let result = 0;
  while (sc.peek() !== end) {
    if (sc.atEnd()) sc.fail(`expected "${end}"`);
    const at = sc.i;
    const n = sc.intRaw();
    if (n !== null) {
      const v = Number(BigInt.asUintN(32, n));
      if (v & ~allowed) sc.fail(`${what}: unknown flag bits`, at);
      result |= v;
      sc.eat("|");
      continue;
    }
    const t = sc.token(/^[^|)]+/);
    const bit = lookup(t);
    if (!bit || !(bit & allowed)) sc.fail(`unknown ${what} flag "${t}"`, at);
    result |= bit;
    sc.eat("|");
  }
  return [result >>> 0, 0xffffffff];
}

/** parse_int_string: hex (0x...) or decimal into `n` big-endian bytes. */
function scanBigInt(sc: Scanner, n: number, what: string): Uint8Array {
  const at = sc.i;
  const t = sc.token(/^(0[xX][0-9a-fA-F]+|\d+)/);
  if (!t) sc.fail(`expected ${what}`, at);
  const v = BigInt(t);
  if (v >= 1n << BigInt(8 * n)) sc.fail(`${what} too large`, at);
  const out = new Uint8Array(n);
  let x = v;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Appends a key attribute and its mask attribute, both with payloads `k` and `m`. */
function putPair(key: NlWriter, mask: NlWriter | null, type: number, k: Uint8Array, m: Uint8Array): void {
  key.putBytes(type, k);
  if (mask) mask.putBytes(type, m);
}

const ETH_FIELDS: Array<[string, FieldScanner]> = [["src=", macField(0)], ["dst=", macField(6)]];
const IPV4_FIELDS: Array<[string, FieldScanner]> = [
  ["src=", ipv4Field(0)], ["dst=", ipv4Field(4)], ["proto=", intField(8, 1, true, "proto")],
  ["tos=", intField(9, 1, true, "tos")], ["ttl=", intField(10, 1, true, "ttl")], ["frag=", fragField(11)],
];
const IPV6_FIELDS: Array<[string, FieldScanner]> = [
  ["src=", in6Field(0)], ["dst=", in6Field(16)], ["label=", intField(32, 4, true, "label", 0xfffff)],
  ["proto=", intField(36, 1, true, "proto")], ["tclass=", intField(37, 1, true, "tclass")],
  ["hlimit=", intField(38, 1, true, "hlimit")], ["frag=", fragField(39)],
];
const TP_FIELDS: Array<[string, FieldScanner]> = [["src=", intField(0, 2, true, "src")], ["dst=", intField(2, 2, true, "dst")]];
const ICMP_FIELDS: Array<[string, FieldScanner]> = [["type=", intField(0, 1, true, "type")], ["code=", intField(1, 1, true, "code")]];
const ARP_FIELDS: Array<[string, FieldScanner]> = [
  ["sip=", ipv4Field(0)], ["tip=", ipv4Field(4)], ["op=", intField(8, 2, true, "op")],
  ["sha=", macField(10)], ["tha=", macField(16)],
];
const ND_FIELDS: Array<[string, FieldScanner]> = [["target=", in6Field(0)], ["sll=", macField(16)], ["tll=", macField(22)]];
const ND_EXT_FIELDS: Array<[string, FieldScanner]> = [
  ["nd_reserved=", intField(0, 4, true, "nd_reserved")], ["nd_options_type=", intField(4, 1, true, "nd_options_type")],
];
const CT4_FIELDS: Array<[string, FieldScanner]> = [
  ["src=", ipv4Field(0)], ["dst=", ipv4Field(4)], ["proto=", intField(12, 1, true, "proto")],
  ["tp_src=", intField(8, 2, true, "tp_src")], ["tp_dst=", intField(10, 2, true, "tp_dst")],
];
const CT6_FIELDS: Array<[string, FieldScanner]> = [
  ["src=", in6Field(0)], ["dst=", in6Field(16)], ["proto=", intField(36, 1, true, "proto")],
  ["tp_src=", intField(32, 2, true, "tp_src")], ["tp_dst=", intField(34, 2, true, "tp_dst")],
];
const VLAN_FIELDS: Array<[string, FieldScanner]> = [
  ["vid=", bitField(0, 2, 12, 0, "vid")], ["pcp=", bitField(0, 2, 3, 13, "pcp")], ["cfi=", bitField(0, 2, 1, 12, "cfi")],
];
const PACKET_TYPE_FIELDS: Array<[string, FieldScanner]> = [["ns=", intField(0, 2, true, "ns")], ["id=", intField(2, 2, true, "id")]];

function simpleAttr(sc: Scanner, key: NlWriter, mask: NlWriter | null, type: number, len: number, fields: ReadonlyArray<[string, FieldScanner]>): void {
  const k = new Uint8Array(len), m = new Uint8Array(len);
  scanFields(sc, fields, k, mask ? m : null);
  putPair(key, mask, type, k, m);
}

/** A single-value attribute `name(value[/mask])`; `fullyMasked` ignores any mask (recirc_id). */
function singleAttr(sc: Scanner, key: NlWriter, mask: NlWriter | null, type: number, f: FieldScanner, len: number, fullyMasked = false): void {
  const k = new Uint8Array(len), m = new Uint8Array(len);
  f(sc, k, mask && !fullyMasked ? m : null);
  if (fullyMasked) m.fill(0xff);
  sc.expect(")");
  putPair(key, mask, type, k, m);
}

function scanTunnel(sc: Scanner, key: NlWriter, mask: NlWriter | null): void {
  const ko = key.startNested(OVS_KEY_ATTR_TUNNEL);
  const mo = mask ? mask.startNested(OVS_KEY_ATTR_TUNNEL) : 0;
  const nested = (type: number, len: number, f: FieldScanner): void => {
    const k = new Uint8Array(len), m = new Uint8Array(len).fill(0xff);
    f(sc, k, m);
    putPair(key, mask, type, k, m);
  };
  for (;;) {
    let matched = true;
    if (sc.eat("tun_id=")) {
      const k = sc.uint64("tun_id");
      const m = sc.eat("/") ? sc.uint64("tun_id mask") : 0xffffffffffffffffn;
      key.putBe64(OVS_TUNNEL_KEY_ATTR_ID, k);
      mask?.putBe64(OVS_TUNNEL_KEY_ATTR_ID, m);
    } else if (sc.eat("src=")) nested(OVS_TUNNEL_KEY_ATTR_IPV4_SRC, 4, ipv4Field(0));
    else if (sc.eat("dst=")) nested(OVS_TUNNEL_KEY_ATTR_IPV4_DST, 4, ipv4Field(0));
    else if (sc.eat("ipv6_src=")) nested(OVS_TUNNEL_KEY_ATTR_IPV6_SRC, 16, in6Field(0));
    else if (sc.eat("ipv6_dst=")) nested(OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, in6Field(0));
    else if (sc.eat("tos=")) nested(OVS_TUNNEL_KEY_ATTR_TOS, 1, intField(0, 1, true, "tos"));
    else if (sc.eat("ttl=")) nested(OVS_TUNNEL_KEY_ATTR_TTL, 1, intField(0, 1, true, "ttl"));
    else if (sc.eat("tp_src=")) nested(OVS_TUNNEL_KEY_ATTR_TP_SRC, 2, intField(0, 2, true, "tp_src"));
    else if (sc.eat("tp_dst=")) nested(OVS_TUNNEL_KEY_ATTR_TP_DST, 2, intField(0, 2, true, "tp_dst"));
    else if (sc.eat("vxlan(gbp(")) {
      let id = 0, idm = 0, fl = 0, flm = 0;
      if (sc.eat("id=")) {
        id = sc.uint(16, "gbp id");
        idm = sc.eat("/") ? sc.uint(16, "gbp id mask") : 0xffff;
      }
      sc.eat(",");
      if (sc.eat("flags=")) {
        fl = sc.uint(8, "gbp flags");
        flm = sc.eat("/") ? sc.uint(8, "gbp flags mask") : 0xff;
      }
      sc.expect("))");
      const kv = ((fl << 16) | id) >>> 0, mv = ((flm << 16) | idm) >>> 0;
      if (kv) {
        const n = key.startNested(OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS);
        key.putU32(OVS_VXLAN_EXT_GBP, kv);
        key.endNested(n);
      }
      if (mask && mv) {
        const n = mask.startNested(OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS);
        mask.putU32(OVS_VXLAN_EXT_GBP, mv);
        mask.endNested(n);
      }
    } else if (sc.eat("geneve(")) {
      const kb: number[] = [], mb: number[] = [];
      while (sc.eat("{")) {
        const cls = sc.eat("class=") ? [sc.uint(16, "class"), sc.eat("/") ? sc.uint(16, "class mask") : 0xffff] : [0, 0];
        sc.eat(",");
        const typ = sc.eat("type=") ? [sc.uint(8, "type"), sc.eat("/") ? sc.uint(8, "type mask") : 0xff] : [0, 0];
        sc.eat(",");
        let dlen = 0, lenMask = 0;
        if (sc.eat("len=")) {
          const at = sc.i;
          dlen = sc.uint(8, "len");
          lenMask = sc.eat("/") ? sc.uint(8, "len mask") : 0xff;
          if (dlen > 124 || dlen % 4) sc.fail("geneve option len must be a multiple of 4, at most 124", at);
        }
        const data = new Uint8Array(dlen), dmask = new Uint8Array(dlen).fill(0xff);
        if (sc.eat(",")) data.set(scanBigInt(sc, dlen, "geneve option data"));
        if (sc.eat("/")) dmask.set(scanBigInt(sc, dlen, "geneve option mask"));
        sc.expect("}");
        kb.push(cls[0]! >> 8, cls[0]! & 0xff, typ[0]!, dlen / 4, ...data);
        mb.push(cls[1]! >> 8, cls[1]! & 0xff, typ[1]!, lenMask & 0x1f, ...dmask);
      }
      sc.expect(")");
      key.putBytes(OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, Uint8Array.from(kb));
      mask?.putBytes(OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, Uint8Array.from(mb));
    } else if (sc.eat("flags(")) {
      const [f, m] = scanFlags(sc, tunFlagName, 0xf, ")", "tunnel");
      sc.expect(")");
      const put = (w: NlWriter, v: number): void => {
        if (v & TNL_F_DONT_FRAGMENT) w.putFlag(OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT);
        if (v & TNL_F_CSUM) w.putFlag(OVS_TUNNEL_KEY_ATTR_CSUM);
        if (v & TNL_F_OAM) w.putFlag(OVS_TUNNEL_KEY_ATTR_OAM);
      };
      put(key, f);
      if (mask) put(mask, m);
    } else matched = false;
    const c = sc.peek();
    sc.i++;
    if (c === "," && matched) continue;
    if (c === ")") break;
    sc.i--;
    sc.fail(matched ? 'expected "," or ")"' : "unknown tunnel field");
  }
  key.endNested(ko);
  if (mask) mask.endNested(mo);
}

/** Parses one key attribute at the scanner position into `key` (and `mask`). */
function scanKeyAttr(sc: Scanner, key: NlWriter, mask: NlWriter | null, ports: PortNumbers | null): void {
  if (++sc.depth >= MAX_NESTED) sc.fail("nested too deeply");
  const start = sc.i;
  const u32 = intField(0, 4, false, "value");
  if (sc.eat("skb_priority(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_PRIORITY, u32, 4);
  else if (sc.eat("skb_mark(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_SKB_MARK, u32, 4);
  else if (sc.eat("recirc_id(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_RECIRC_ID, u32, 4, true);
  else if (sc.eat("dp_hash(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_DP_HASH, u32, 4);
  else if (sc.eat("ct_state(")) {
    const [f, m] = scanFlags(sc, odpCtStateName, 0xff, ")", "ct_state");
    sc.expect(")");
    const k = new Uint8Array(4), mm = new Uint8Array(4);
    putU32(k, 0, f);
    putU32(mm, 0, m);
    putPair(key, mask, OVS_KEY_ATTR_CT_STATE, k, mm);
  } else if (sc.eat("ct_zone(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_CT_ZONE, intField(0, 2, false, "ct_zone"), 2);
  else if (sc.eat("ct_mark(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_CT_MARK, u32, 4);
  else if (sc.eat("ct_label(")) {
    const k = scanBigInt(sc, 16, "ct_label");
    const m = sc.eat("/") ? scanBigInt(sc, 16, "ct_label mask") : new Uint8Array(16).fill(0xff);
    sc.expect(")");
    putPair(key, mask, OVS_KEY_ATTR_CT_LABELS, k, m);
  } else if (sc.eat("ct_tuple4(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, 16, CT4_FIELDS);
  else if (sc.eat("ct_tuple6(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, 40, CT6_FIELDS);
  else if (sc.eat("tunnel(")) scanTunnel(sc, key, mask);
  else if (sc.eat("in_port(")) {
    const k = new Uint8Array(4), m = new Uint8Array(4);
    const at = sc.i;
    const v = sc.intRaw();
    if (v !== null) {
      putU32(k, 0, Number(BigInt.asUintN(32, v)));
      if (sc.eat("/")) putU32(m, 0, sc.uint(32, "in_port mask"));
      else m.fill(0xff);
    } else {
      const name = sc.token(/^[^)]*/);
      const port = ports?.get(name);
      if (port === undefined) sc.fail(name ? `unknown port "${name}"` : "expected a port number or name", at);
      putU32(k, 0, port);
      m.fill(0xff);
    }
    sc.expect(")");
    putPair(key, mask, OVS_KEY_ATTR_IN_PORT, k, m);
  } else if (sc.eat("eth(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_ETHERNET, 12, ETH_FIELDS);
  else if (sc.eat("vlan(")) {
    const k = new Uint8Array([0x10, 0]), m = new Uint8Array([0x10, 0]);
    scanFields(sc, VLAN_FIELDS, k, mask ? m : null);
    putPair(key, mask, OVS_KEY_ATTR_VLAN, k, m);
  } else if (sc.eat("eth_type(")) singleAttr(sc, key, mask, OVS_KEY_ATTR_ETHERTYPE, intField(0, 2, true, "eth_type"), 2);
  else if (sc.eat("mpls(")) {
    const k = new Uint8Array(12), m = new Uint8Array(12);
    let idx = 0;
    let seen = 0;
    const names = ["label=", "tc=", "ttl=", "bos="];
    const specs: Array<[number, number]> = [[20, 12], [3, 9], [8, 0], [1, 8]];
    for (;;) {
      let matched = false;
      for (let f = 0; f < 4; f++) {
        if (sc.eat(names[f]!)) {
          if (seen & (1 << f)) {
            seen = 0;
            if (++idx === 3) sc.fail("too many MPLS labels (at most 3)");
          }
          bitField(idx * 4, 4, specs[f]![0], specs[f]![1], names[f]!.slice(0, -1))(sc, k, mask ? m : null);
          seen |= 1 << f;
          matched = true;
          break;
        }
      }
      const c = sc.peek();
      sc.i++;
      if (c === "," && matched) continue;
      if (c === ")") break;
      sc.i--;
      sc.fail(matched ? 'expected "," or ")"' : "unknown mpls field");
    }
    const n = (idx + 1) * 4;
    putPair(key, mask, OVS_KEY_ATTR_MPLS, k.slice(0, n), m.slice(0, n));
  } else if (sc.eat("ipv4(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_IPV4, 12, IPV4_FIELDS);
  else if (sc.eat("ipv6(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_IPV6, 40, IPV6_FIELDS);
  else if (sc.eat("tcp(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_TCP, 4, TP_FIELDS);
  else if (sc.eat("tcp_flags(")) {
    const [f, m] = scanFlags(sc, tcpFlagName, 0x0fff, ")", "tcp");
    sc.expect(")");
    const k = new Uint8Array(2), mm = new Uint8Array(2);
    putBe16(k, 0, f);
    putBe16(mm, 0, m & 0xffff);
    putPair(key, mask, OVS_KEY_ATTR_TCP_FLAGS, k, mm);
  } else if (sc.eat("udp(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_UDP, 4, TP_FIELDS);
  else if (sc.eat("sctp(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_SCTP, 4, TP_FIELDS);
  else if (sc.eat("icmp(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_ICMP, 2, ICMP_FIELDS);
  else if (sc.eat("icmpv6(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_ICMPV6, 2, ICMP_FIELDS);
  else if (sc.eat("arp(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_ARP, 24, ARP_FIELDS);
  else if (sc.eat("nd(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_ND, 28, ND_FIELDS);
  else if (sc.eat("nd_ext(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_ND_EXTENSIONS, 8, ND_EXT_FIELDS);
  else if (sc.eat("packet_type(")) simpleAttr(sc, key, mask, OVS_KEY_ATTR_PACKET_TYPE, 4, PACKET_TYPE_FIELDS);
  else if (sc.eat("encap(")) {
    const ko = key.startNested(OVS_KEY_ATTR_ENCAP);
    const mo = mask ? mask.startNested(OVS_KEY_ATTR_ENCAP) : 0;
    for (;;) {
      sc.skipDelims();
      if (sc.atEnd()) sc.fail('expected ")" to close encap(');
      if (sc.peek() === ")") break;
      scanKeyAttr(sc, key, mask, ports);
    }
    sc.i++;
    key.endNested(ko);
    if (mask) mask.endNested(mo);
  } else {
    const name = /^[a-z_0-9]*/.exec(sc.s.slice(start))![0];
    sc.fail(name ? `unknown key field "${name}"` : "expected a key field", start);
  }
  sc.depth--;
}

/** A parsed datapath flow key: key and mask attributes, and the UFID when one was given. */
export interface ParsedOdpFlow {
  key: Uint8Array;
  mask: Uint8Array;
  ufid: Uint8Array | null;
}

/** Parses "ufid:UUID" at the scanner position (16 bytes, as OVS's u128 of 4 host-order words). */
function scanUfid(sc: Scanner): Uint8Array {
  const at = sc.i;
  const t = sc.token(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/);
  if (!t) sc.fail("expected a UUID after ufid:", at);
  const h = t.replace(/-/g, "");
  const out = new Uint8Array(16);
  for (let w = 0; w < 4; w++) putU32(out, w * 4, parseInt(h.slice(w * 8, w * 8 + 8), 16) >>> 0);
  return out;
}

/** odp_flow_from_string: parses a datapath flow key with masks. */
export function parseOdpFlow(text: string, ports: PortNumbers | null = null): ParsedOdpFlow {
  const sc = new Scanner(text);
  const key = new NlWriter(), mask = new NlWriter();
  let ufid: Uint8Array | null = null;
  for (;;) {
    sc.skipDelims();
    if (sc.atEnd()) break;
    if (sc.eat("ufid:")) {
      ufid = scanUfid(sc);
      sc.eat(" ");
      continue;
    }
    scanKeyAttr(sc, key, mask, ports);
  }
  return { key: key.finish(), mask: mask.finish(), ufid };
}

/** odp_ufid_from_string: a leading "ufid:UUID", or null when the text has none. */
export function parseUfidPrefix(text: string): { ufid: Uint8Array; rest: string } | null {
  const sc = new Scanner(text);
  if (!sc.eat("ufid:")) return null;
  const ufid = scanUfid(sc);
  return { ufid, rest: text.slice(sc.i) };
}

/* ---------------- actions ---------------- */

function isAllOnes(b: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[off + i] !== 0xff) return false;
  return true;
}

/** Parses `actions(...)`-style lists: actions separated by delimiters up to ")" (not consumed). */
function scanActionList(sc: Scanner, w: NlWriter, ports: PortNumbers | null): void {
  // An empty nested list prints as "drop" (e.g. "clone(drop)"); read it back as empty.
  if (/^drop\)/i.test(sc.s.slice(sc.i))) {
    sc.i += 4;
    return;
  }
  for (;;) {
    sc.skipDelims();
    if (sc.peek() === ")") return;
    if (sc.atEnd()) sc.fail('expected ")" to close the action list');
    scanAction(sc, w, ports);
  }
}

function scanUserspace(sc: Scanner, w: NlWriter): void {
  sc.expect("userspace(pid=");
  const pid = sc.uint(32, "pid");
  let userdata: Uint8Array | null = new Uint8Array(48);
  const cookie = new DataView(userdata.buffer);
  const setCookie = (type: number): void => {
    cookie.setUint16(0, type, true);
    cookie.setUint16(2, 0xffff, true); // ofp_in_port = OFPP_NONE
  };
  if (sc.eat(",sFlow(vid=")) {
    const vid = sc.uint(32, "vid");
    sc.expect(",pcp=");
    const pcp = sc.uint(32, "pcp");
    sc.expect(",output=");
    const output = sc.uint(32, "output");
    sc.expect(")");
    let tci = (vid | (pcp << 13)) & 0xffff;
    if (tci) tci |= 0x1000;
    setCookie(1);
    cookie.setUint16(24, tci, false);
    cookie.setUint32(28, output, true);
  } else if (sc.eat(",slow_path(")) {
    setCookie(2);
    const [f] = scanFlags(sc, slowPathReasonName, 0x7f, ")", "slow_path");
    sc.expect(")");
    cookie.setUint32(24, f, true);
  } else if (sc.eat(",flow_sample(probability=")) {
    setCookie(3);
    cookie.setUint16(24, sc.uint(16, "probability"), true);
    sc.expect(",collector_set_id=");
    cookie.setUint32(28, sc.uint(32, "collector_set_id"), true);
    sc.expect(",obs_domain_id=");
    cookie.setUint32(32, sc.uint(32, "obs_domain_id"), true);
    sc.expect(",obs_point_id=");
    cookie.setUint32(36, sc.uint(32, "obs_point_id"), true);
    sc.expect(",output_port=");
    cookie.setUint32(40, sc.uint(32, "output_port"), true);
    if (sc.eat(",ingress")) cookie.setUint32(44, 1, true);
    else if (sc.eat(",egress")) cookie.setUint32(44, 2, true);
    sc.expect(")");
  } else if (sc.eat(",ipfix(output_port=")) {
    setCookie(4);
    cookie.setUint32(24, sc.uint(32, "output_port"), true);
    sc.expect(")");
  } else if (sc.eat(",controller(reason=")) {
    setCookie(5);
    const reason = sc.uint(16, "reason");
    sc.expect(",dont_send=");
    const dontSend = sc.uint(8, "dont_send");
    sc.expect(",continuation=");
    const cont = sc.uint(8, "continuation");
    sc.expect(",recirc_id=");
    const recirc = sc.uint(32, "recirc_id", true);
    sc.expect(",rule_cookie=");
    const at = sc.i;
    const ck = sc.token(/^(0[xX])?[0-9a-fA-F]+/);
    if (!ck) sc.fail("expected rule_cookie", at);
    sc.expect(",controller_id=");
    const cid = sc.uint(16, "controller_id", true);
    sc.expect(",max_len=");
    const maxLen = sc.uint(16, "max_len", true);
    sc.expect(")");
    cookie.setUint8(24, dontSend ? 1 : 0);
    cookie.setUint8(25, cont ? 1 : 0);
    cookie.setUint16(26, reason, true);
    cookie.setUint32(28, recirc, true);
    const v = BigInt("0x" + ck.replace(/^0[xX]/, ""));
    cookie.setUint32(32, Number(v >> 32n), false);
    cookie.setUint32(36, Number(v & 0xffffffffn), false);
    cookie.setUint16(40, cid, true);
    cookie.setUint16(42, maxLen, true);
  } else if (sc.eat(",userdata(")) {
    const at = sc.i;
    const hex = sc.token(/^[0-9a-fA-F]*/);
    if (hex.length % 2) sc.fail("userdata needs an even number of hex digits", at);
    sc.expect(")");
    userdata = new Uint8Array(hex.length / 2);
    for (let i = 0; i < userdata.length; i++) userdata[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  const includeActions = sc.eat(",actions");
  let tunnelOutPort = -1;
  if (sc.eat(",tunnel_out_port=")) tunnelOutPort = sc.uint(32, "tunnel_out_port");
  sc.expect(")");
  const nest = w.startNested(OVS_ACTION_ATTR_USERSPACE);
  w.putU32(OVS_USERSPACE_ATTR_PID, pid);
  if (userdata !== null) {
    // Userdata shorter than 8 bytes is zero-padded to 8, as OVS does for old kernels.
    const padded = new Uint8Array(Math.max(8, userdata.length));
    padded.set(userdata);
    w.putBytes(OVS_USERSPACE_ATTR_USERDATA, padded);
  }
  if (tunnelOutPort >= 0) w.putU32(OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, tunnelOutPort);
  if (includeActions) w.putFlag(OVS_USERSPACE_ATTR_ACTIONS);
  w.endNested(nest);
}

/** Slow-path reason names (SLOW_PATH_REASONS), bit 0 first. */
export function slowPathReasonName(bit: number): string | null {
  switch (bit) {
    case 1: return "cfm";
    case 2: return "bfd";
    case 4: return "lacp";
    case 8: return "stp";
    case 16: return "lldp";
    case 32: return "action";
    case 64: return "match";
    default: return null;
  }
}

function scanSet(sc: Scanner, w: NlWriter, ports: PortNumbers | null): void {
  const start = w.size;
  const nest = w.startNested(OVS_ACTION_ATTR_SET);
  const maskW = new NlWriter();
  scanKeyAttr(sc, w, maskW, ports);
  sc.expect(")", '")" to close set(');
  const keyAttr = nest + NLA_HDRLEN;
  const mb = maskW.buf;
  const ksize = nlaLen(w.buf, keyAttr) - NLA_HDRLEN;
  const msize = nlaLen(mb, 0) - NLA_HDRLEN;
  if (msize === ksize && !isAllOnes(mb, NLA_HDRLEN, msize)) {
    // Masked set: key payload immediately followed by the mask payload.
    const type = w.buf[keyAttr + 2]! | (w.buf[keyAttr + 3]! << 8);
    const keyPayload = w.buf.slice(keyAttr + NLA_HDRLEN, keyAttr + NLA_HDRLEN + ksize);
    w.truncate(start);
    const n2 = w.startNested(OVS_ACTION_ATTR_SET_MASKED);
    const both = new Uint8Array(2 * ksize);
    both.set(keyPayload);
    both.set(mb.subarray(NLA_HDRLEN, NLA_HDRLEN + ksize), ksize);
    w.putBytes(type, both);
    w.endNested(n2);
    return;
  }
  w.endNested(nest);
}

function scanAction(sc: Scanner, w: NlWriter, ports: PortNumbers | null): void {
  if (++sc.depth >= MAX_NESTED) sc.fail("actions nested too deeply");
  const start = sc.i;
  const c = sc.peek();
  if (/[0-9+-]/.test(c)) {
    w.putU32(OVS_ACTION_ATTR_OUTPUT, sc.uint(32, "output port"));
  } else if (sc.eat("lb_output(")) {
    w.putU32(OVS_ACTION_ATTR_LB_OUTPUT, sc.uint(32, "bond id", true));
    sc.expect(")");
  } else if (sc.eat("trunc(")) {
    w.putU32(OVS_ACTION_ATTR_TRUNC, sc.uint(32, "max_len"));
    sc.expect(")");
  } else if (sc.eat("recirc(")) {
    // OVS 3.1 reads only decimal here but prints hex; tsovs reads both.
    w.putU32(OVS_ACTION_ATTR_RECIRC, sc.uint(32, "recirc id"));
    sc.expect(")");
  } else if (sc.startsWith("userspace(")) {
    scanUserspace(sc, w);
  } else if (sc.eat("set(")) {
    scanSet(sc, w, ports);
  } else if (sc.eat("push_vlan(")) {
    let tpid = 0x8100, cfi = 1;
    if (sc.eat("tpid=")) {
      tpid = sc.uint(16, "tpid");
      sc.expect(",");
    }
    sc.expect("vid=");
    const at = sc.i;
    const vid = sc.uint(32, "vid");
    if (vid > 0xfff) sc.fail("vid must be at most 4095", at);
    sc.expect(",pcp=");
    const at2 = sc.i;
    const pcp = sc.uint(32, "pcp");
    if (pcp > 7) sc.fail("pcp must be at most 7", at2);
    if (sc.eat(",cfi=")) cfi = sc.uint(32, "cfi");
    sc.expect(")");
    const p = w.putUninit(OVS_ACTION_ATTR_PUSH_VLAN, 4);
    putBe16(w.buf, p, tpid);
    putBe16(w.buf, p + 2, (vid | (pcp << 13) | (cfi ? 0x1000 : 0)) & 0xffff);
  } else if (sc.eat("pop_vlan")) {
    w.putFlag(OVS_ACTION_ATTR_POP_VLAN);
  } else if (sc.eat("meter(")) {
    w.putU32(OVS_ACTION_ATTR_METER, sc.uint(32, "meter id"));
    sc.expect(")");
  } else if (sc.eat("sample(sample=")) {
    const at = sc.i;
    const t = sc.token(/^[0-9]*\.?[0-9]*(e[+-]?[0-9]+)?/i);
    const pct = Number(t);
    if (t === "" || !Number.isFinite(pct) || pct < 0 || pct > 100) sc.fail("expected a percentage from 0 to 100", at);
    sc.expect("%,actions(");
    const prob = Math.floor(0xffffffff * (pct / 100) + 0.5);
    const n = w.startNested(OVS_ACTION_ATTR_SAMPLE);
    w.putU32(OVS_SAMPLE_ATTR_PROBABILITY, prob <= 0 ? 0 : prob >= 0xffffffff ? 0xffffffff : prob);
    const an = w.startNested(OVS_SAMPLE_ATTR_ACTIONS);
    scanActionList(sc, w, ports);
    sc.expect("))");
    w.endNested(an);
    w.endNested(n);
  } else if (sc.eat("clone(")) {
    const n = w.startNested(OVS_ACTION_ATTR_CLONE);
    scanActionList(sc, w, ports);
    sc.expect(")");
    w.endNested(n);
  } else if (sc.eat("pop_nsh()")) {
    w.putFlag(OVS_ACTION_ATTR_POP_NSH);
  } else if (sc.eat("tnl_pop(")) {
    w.putU32(OVS_ACTION_ATTR_TUNNEL_POP, sc.uint(32, "tunnel port"));
    sc.expect(")");
  } else if (sc.startsWith("tnl_push(")) {
    let r;
    try {
      r = parseTnlPush(sc.s, sc.i);
    } catch (e) {
      if (!(e instanceof TnlParseError)) throw e;
      sc.fail(e.detail, e.at);
    }
    w.putBytes(OVS_ACTION_ATTR_TUNNEL_PUSH, r.payload);
    sc.i = r.end;
  } else if (sc.eat("ct_clear")) {
    w.putFlag(OVS_ACTION_ATTR_CT_CLEAR);
  } else if (sc.eat("check_pkt_len(size=")) {
    const size = sc.uint(16, "size");
    sc.expect(",gt(");
    const n = w.startNested(OVS_ACTION_ATTR_CHECK_PKT_LEN);
    w.putU16(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, size);
    const gt = w.startNested(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
    scanActionList(sc, w, ports);
    w.endNested(gt);
    sc.expect("),le(");
    const le = w.startNested(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
    scanActionList(sc, w, ports);
    w.endNested(le);
    sc.expect("))");
    w.endNested(n);
  } else if (sc.eat("ct")) {
    scanCt(sc, w);
  } else if (sc.eat("push_mpls(")) {
    const k = new Uint8Array(4);
    const fields: Array<[string, FieldScanner]> = [
      ["label=", bitField(0, 4, 20, 12, "label")], ["tc=", bitField(0, 4, 3, 9, "tc")],
      ["ttl=", bitField(0, 4, 8, 0, "ttl")], ["bos=", bitField(0, 4, 1, 8, "bos")],
    ];
    for (const [name, f] of fields) {
      sc.expect(name);
      f(sc, k, null);
      sc.expect(",");
    }
    sc.expect("eth_type=");
    const et = sc.uint(16, "eth_type");
    sc.expect(")");
    const p = w.putUninit(OVS_ACTION_ATTR_PUSH_MPLS, 8);
    w.buf.set(k, p);
    putBe16(w.buf, p + 4, et);
  } else if (sc.eat("pop_mpls(eth_type=")) {
    const et = sc.uint(16, "eth_type");
    sc.expect(")");
    w.putBe16(OVS_ACTION_ATTR_POP_MPLS, et);
  } else if (sc.eat("hash(")) {
    let alg: number;
    if (sc.eat("l4(")) alg = OVS_HASH_ALG_L4;
    else if (sc.eat("sym_l4(")) alg = OVS_HASH_ALG_SYM_L4;
    else sc.fail('expected "l4(" or "sym_l4("');
    const basis = sc.uint(32, "hash basis");
    sc.expect("))");
    const p = w.putUninit(OVS_ACTION_ATTR_HASH, 8);
    putU32(w.buf, p, alg);
    putU32(w.buf, p + 4, basis);
  } else if (sc.eat("push_eth(src=")) {
    const at = sc.i;
    const src = parseMac(sc.token(/^[0-9a-fA-F:]+/));
    if (src === null) sc.fail("expected an Ethernet address", at);
    sc.expect(",dst=");
    const at2 = sc.i;
    const dst = parseMac(sc.token(/^[0-9a-fA-F:]+/));
    if (dst === null) sc.fail("expected an Ethernet address", at2);
    if (sc.eat(",type=")) sc.uint(16, "type");
    sc.expect(")");
    const p = w.putUninit(OVS_ACTION_ATTR_PUSH_ETH, 12);
    w.buf.set(src, p);
    w.buf.set(dst, p + 6);
  } else if (sc.eat("pop_eth")) {
    w.putFlag(OVS_ACTION_ATTR_POP_ETH);
  } else {
    const name = /^[a-z_0-9]*/.exec(sc.s.slice(start))![0];
    sc.fail(name ? `unknown action "${name}"` : "expected an action", start);
  }
  sc.depth--;
}

function scanCt(sc: Scanner, w: NlWriter): void {
  const n = w.startNested(OVS_ACTION_ATTR_CT);
  if (sc.eat("(")) {
    let commit = false, force = false;
    const body = new NlWriter();
    for (;;) {
      sc.skipDelims();
      if (sc.eat(")")) break;
      if (sc.atEnd()) sc.fail('expected ")" to close ct(');
      if (sc.eat("force_commit")) force = true;
      else if (sc.eat("commit")) commit = true;
      else if (sc.eat("zone=")) body.putU16(OVS_CT_ATTR_ZONE, sc.uint(16, "zone", true));
      else if (sc.eat("mark=")) {
        const at = sc.i;
        const v = sc.token(/^(0[xX])?[0-9a-fA-F]+/);
        if (!v) sc.fail("expected mark", at);
        let m = 0xffffffff;
        if (sc.eat("/")) {
          const t = sc.token(/^(0[xX])?[0-9a-fA-F]+/);
          if (!t) sc.fail("expected mark mask");
          m = parseInt(t.replace(/^0[xX]/, ""), 16) >>> 0;
        }
        const p = body.putUninit(OVS_CT_ATTR_MARK, 8);
        putU32(body.buf, p, parseInt(v.replace(/^0[xX]/, ""), 16) >>> 0);
        putU32(body.buf, p + 4, m);
      } else if (sc.eat("label=")) {
        const k = scanBigInt(sc, 16, "label");
        const m = sc.eat("/") ? scanBigInt(sc, 16, "label mask") : new Uint8Array(16).fill(0xff);
        const both = new Uint8Array(32);
        both.set(k);
        both.set(m, 16);
        body.putBytes(OVS_CT_ATTR_LABELS, both);
      } else if (sc.eat("helper=")) {
        const t = sc.token(/^[^,)\s]{1,15}/);
        if (!t) sc.fail("expected helper name");
        body.putBytes(OVS_CT_ATTR_HELPER, new TextEncoder().encode(t + "\0"));
      } else if (sc.eat("timeout=")) {
        const t = sc.token(/^[^,)\s]{1,31}/);
        if (!t) sc.fail("expected timeout policy name");
        body.putBytes(OVS_CT_ATTR_TIMEOUT, new TextEncoder().encode(t + "\0"));
      } else if (sc.eat("nat")) {
        scanCtNat(sc, body);
      } else sc.fail("unknown ct option");
    }
    if (commit && force) sc.fail("ct: commit and force_commit are exclusive");
    if (commit) w.putFlag(OVS_CT_ATTR_COMMIT);
    else if (force) w.putFlag(OVS_CT_ATTR_FORCE_COMMIT);
    w.putRaw(body.finish());
  }
  w.endNested(n);
}

/** "nat" or "nat(src|dst[=ADDR[-ADDR][:PORT[-PORT]]][,persistent][,hash][,random])" after "nat". */
function scanCtNat(sc: Scanner, w: NlWriter): void {
  const n = w.startNested(OVS_CT_ATTR_NAT);
  if (sc.eat("(")) {
    let kind = 0;
    if (sc.eat("src")) kind = 1;
    else if (sc.eat("dst")) kind = 2;
    else sc.fail('expected "src" or "dst"');
    w.putFlag(kind);
    if (sc.eat("=")) {
      const addr = (): Uint8Array => {
        const at = sc.i;
        const bracket = sc.eat("[");
        const t = !bracket && /^\d+\.\d+\.\d+\.\d+/.test(sc.s.slice(sc.i)) ? sc.token(/^\d+\.\d+\.\d+\.\d+/) : sc.token(/^[0-9a-fA-F:.]+/);
        if (bracket) sc.expect("]");
        if (t.includes(":")) {
          const a = parseIpv6(t);
          if (a === null) sc.fail("expected an IPv6 address", at);
          return a;
        }
        const v = parseIpv4(t);
        if (v === null) sc.fail("expected an IP address", at);
        const b = new Uint8Array(4);
        putBe32(b, 0, v);
        return b;
      };
      const min = addr();
      let max: Uint8Array | null = null;
      if (sc.eat("-")) max = addr();
      if (max !== null && max.length !== min.length) sc.fail("NAT address range mixes IPv4 and IPv6");
      w.putBytes(3, min);
      if (max !== null) w.putBytes(4, max);
      if (sc.eat(":")) {
        const pmin = sc.uint(16, "port");
        w.putU16(5, pmin);
        if (sc.eat("-")) w.putU16(6, sc.uint(16, "port"));
      }
    }
    for (;;) {
      if (sc.eat(",persistent")) w.putFlag(7);
      else if (sc.eat(",hash")) w.putFlag(8);
      else if (sc.eat(",random")) w.putFlag(9);
      else break;
    }
    sc.expect(")");
  }
  w.endNested(n);
}

/**
 * odp_actions_from_string: parses a datapath action list. "drop" alone is
 * an explicit drop action; an empty string is an empty list.
 */
export function parseOdpActions(text: string, ports: PortNumbers | null = null): Uint8Array {
  const w = new NlWriter();
  if (text.toLowerCase() === "drop") {
    w.putU32(OVS_ACTION_ATTR_DROP, 0);
    return w.finish();
  }
  const sc = new Scanner(text);
  for (;;) {
    sc.skipDelims();
    if (sc.atEnd()) break;
    scanAction(sc, w, ports);
    if (!sc.atEnd() && !DELIMS.includes(sc.peek())) sc.fail("expected a delimiter after the action");
  }
  if (w.size > 0xffff) sc.fail("action list too long", 0);
  return w.finish();
}
