/**
 * The NXM/OXM encoder's fast path: a Match written as TLVs straight from
 * its key and mask words into an OfpWriter, with no object or byte array
 * per field. A flow dump encodes one match per flow, and the general
 * encoder (nxEntries: a value and a mask array per field, a name lookup
 * per register) was most of a dump's CPU (bench ofcodec).
 *
 * It emits exactly the bytes of nx-match.ts's nxEntries + putEntry, field
 * for field and in the same order (test/openflow/nx-match-write.test.ts
 * compares the two on random matches in every version); only the rare
 * tun_metadata fields go through Match.get.
 */
import { OfpWriter } from "./ofp-buffer.js";
import { OXM_CLASS_EXPERIMENTER, type MfCode, type MfField } from "./meta-flow.js";
import { mfKey, mfPortToOfp11, mfValueLen } from "./mf-key.js";
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP, geneveMasked, IPPROTO_ICMP,
  IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, mf, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, type Match,
} from "./match.js";
import { W_NW_PROTO, W_PACKET_TYPE, W_TP_SRC } from "../flow/key-layout.js";

/** The code OVS uses for `fld` in `version` (0 = NXM). */
export function codeFor(fld: MfField, version: number): MfCode | null {
  if (version === 0) return fld.nxm ?? fld.oxm;
  if (version >= 6 && fld.oxm15) return fld.oxm15;
  if (fld.oxm && fld.oxm.ofVersion !== null && fld.oxm.ofVersion <= version) return fld.oxm;
  return fld.nxm ?? fld.oxm;
}

/** Versions with their own header table (0 = NXM, 1..7 = wire versions; later ones use 7's). */
const VERSIONS = 8;

const KIND_BITS = 0;
const KIND_BYTES = 1;
const KIND_OTHER = 2;

/**
 * Where an entry's value is in the key: (key[word] >>> shift) & vmask,
 * through mfPortToOfp11 when `port11`. A field's own bits, or a part of
 * another field's (vlan_pcp is vlan_tci's top three bits).
 */
class ValueSource {
  constructor(
    readonly word: number,
    readonly shift: number,
    readonly vmask: number,
    readonly port11 = false,
  ) {}
}

function valueOf(key: Uint32Array, s: ValueSource): number {
  const v = ((key[s.word]! >>> s.shift) & s.vmask) >>> 0;
  return s.port11 ? mfPortToOfp11(v) : v;
}

/** How one field is read from the key and what its TLV header is in each version. */
class FieldWriter {
  readonly fld: MfField;
  readonly kind: number;
  /** bits: key word, shift and value mask. */
  readonly word: number;
  readonly shift: number;
  readonly vmask: number;
  /** bytes: byte offset in the key. */
  readonly offset: number;
  /** Bytes of the value as get/set use them (and so of the TLV's value). */
  readonly n: number;
  /** Bytes of an exact entry written from a number (the field's own width). */
  readonly nExact: number;
  /** Whether matching it implies an Ethernet packet (prerequisites other than none). */
  readonly implies: boolean;
  /** Its key words and their bits, as pairs [word, bits, ...] (bits and bytes kinds; empty otherwise). */
  readonly words: Uint32Array;
  /** Per version: (class << 16) | (field << 9), and whether the field has a code at all. */
  readonly base: Int32Array;
  readonly known: Uint8Array;
  readonly exp: Uint8Array;
  readonly vendor: Uint32Array;
  /** Its own bits as a value source (bits kind). */
  readonly src: ValueSource;

  constructor(fld: MfField) {
    this.fld = fld;
    const b = mfKey(fld);
    this.n = mfValueLen(fld);
    this.nExact = fld.bytes;
    if (b !== null && b.kind === "bits" && this.n <= 4) {
      this.kind = KIND_BITS;
      this.word = b.word;
      this.shift = b.shift;
      this.vmask = b.mask >>> 0;
      this.offset = 0;
    } else if (b !== null && b.kind === "bytes") {
      this.kind = KIND_BYTES;
      this.word = 0;
      this.shift = 0;
      this.vmask = 0;
      this.offset = b.offset;
    } else {
      this.kind = KIND_OTHER;
      this.word = b !== null && b.kind === "port32" ? b.word : 0;
      this.shift = 0;
      this.vmask = 0;
      this.offset = 0;
    }
    this.implies = fld.prereqs !== "none";
    this.src = new ValueSource(this.word, this.shift, this.vmask);
    this.words = fieldWordPairs(this);
    this.base = new Int32Array(VERSIONS);
    this.known = new Uint8Array(VERSIONS);
    this.exp = new Uint8Array(VERSIONS);
    this.vendor = new Uint32Array(VERSIONS);
    for (let v = 0; v < VERSIONS; v++) {
      const code = codeFor(fld, v);
      this.base[v] = code === null ? 0 : (code.class << 16) | (code.field << 9);
      this.known[v] = code === null ? 0 : 1;
      this.exp[v] = code !== null && code.class === OXM_CLASS_EXPERIMENTER ? 1 : 0;
      this.vendor[v] = code === null ? 0 : code.vendor >>> 0;
    }
  }
}

/** The [word, bits] pairs of a field's place in the key (see FieldWriter.words). */
function fieldWordPairs(d: FieldWriter): Uint32Array {
  if (d.kind === KIND_BITS) return Uint32Array.of(d.word, (d.vmask << d.shift) >>> 0);
  if (d.kind !== KIND_BYTES) return new Uint32Array(0);
  const pairs: number[] = [];
  for (let i = d.offset; i < d.offset + d.n; i++) {
    const word = i >>> 2;
    const bits = (0xff << (24 - 8 * (i & 3))) >>> 0;
    if (pairs.length > 0 && pairs[pairs.length - 2] === word) pairs[pairs.length - 1] = (pairs[pairs.length - 1]! | bits) >>> 0;
    else pairs.push(word, bits);
  }
  return Uint32Array.from(pairs);
}

/**
 * The words of a group of fields, to skip the whole group when none is
 * matched (most flows match no tunnel, NSH or conntrack field); null when
 * a field of the group is not in the key words (then the group is walked).
 */
function groupWords(ds: readonly FieldWriter[]): Uint32Array | null {
  const bits = new Map<number, number>();
  for (const d of ds) {
    if (d.kind === KIND_OTHER) return null;
    for (let i = 0; i < d.words.length; i += 2) bits.set(d.words[i]!, ((bits.get(d.words[i]!) ?? 0) | d.words[i + 1]!) >>> 0);
  }
  const out: number[] = [];
  for (const [w, b] of bits) out.push(w, b);
  return Uint32Array.from(out);
}

/** Whether any bit of `pairs` is set in `mask` (null: unknown, so yes). */
function anyMasked(mask: Uint32Array, pairs: Uint32Array | null): boolean {
  if (pairs === null) return true;
  for (let i = 0; i < pairs.length; i += 2) if ((mask[pairs[i]!]! & pairs[i + 1]!) !== 0) return true;
  return false;
}

const fw = (name: string): FieldWriter => new FieldWriter(mf(name));

const F = {
  actset_output: fw("actset_output"),
  arp_op: fw("arp_op"),
  arp_sha: fw("arp_sha"),
  arp_spa: fw("arp_spa"),
  arp_tha: fw("arp_tha"),
  arp_tpa: fw("arp_tpa"),
  conj_id: fw("conj_id"),
  ct_ipv6_dst: fw("ct_ipv6_dst"),
  ct_ipv6_src: fw("ct_ipv6_src"),
  ct_label: fw("ct_label"),
  ct_mark: fw("ct_mark"),
  ct_nw_dst: fw("ct_nw_dst"),
  ct_nw_proto: fw("ct_nw_proto"),
  ct_nw_src: fw("ct_nw_src"),
  ct_state: fw("ct_state"),
  ct_tp_dst: fw("ct_tp_dst"),
  ct_tp_src: fw("ct_tp_src"),
  ct_zone: fw("ct_zone"),
  dp_hash: fw("dp_hash"),
  eth_dst: fw("eth_dst"),
  eth_src: fw("eth_src"),
  eth_type: fw("eth_type"),
  icmp_code: fw("icmp_code"),
  icmp_type: fw("icmp_type"),
  icmpv6_code: fw("icmpv6_code"),
  icmpv6_type: fw("icmpv6_type"),
  in_port: fw("in_port"),
  in_port_oxm: fw("in_port_oxm"),
  ip_dscp: fw("ip_dscp"),
  ip_dst: fw("ip_dst"),
  ip_frag: fw("ip_frag"),
  ip_src: fw("ip_src"),
  ipv6_dst: fw("ipv6_dst"),
  ipv6_label: fw("ipv6_label"),
  ipv6_src: fw("ipv6_src"),
  metadata: fw("metadata"),
  mpls_bos: fw("mpls_bos"),
  mpls_label: fw("mpls_label"),
  mpls_tc: fw("mpls_tc"),
  mpls_ttl: fw("mpls_ttl"),
  nd_options_type: fw("nd_options_type"),
  nd_reserved: fw("nd_reserved"),
  nd_sll: fw("nd_sll"),
  nd_target: fw("nd_target"),
  nd_tll: fw("nd_tll"),
  nsh_c1: fw("nsh_c1"),
  nsh_c2: fw("nsh_c2"),
  nsh_c3: fw("nsh_c3"),
  nsh_c4: fw("nsh_c4"),
  nsh_flags: fw("nsh_flags"),
  nsh_mdtype: fw("nsh_mdtype"),
  nsh_np: fw("nsh_np"),
  nsh_si: fw("nsh_si"),
  nsh_spi: fw("nsh_spi"),
  nsh_ttl: fw("nsh_ttl"),
  nw_ecn: fw("nw_ecn"),
  nw_proto: fw("nw_proto"),
  nw_tos: fw("nw_tos"),
  nw_ttl: fw("nw_ttl"),
  packet_type: fw("packet_type"),
  pkt_mark: fw("pkt_mark"),
  recirc_id: fw("recirc_id"),
  sctp_dst: fw("sctp_dst"),
  sctp_src: fw("sctp_src"),
  tcp_dst: fw("tcp_dst"),
  tcp_flags: fw("tcp_flags"),
  tcp_src: fw("tcp_src"),
  tun_dst: fw("tun_dst"),
  tun_erspan_dir: fw("tun_erspan_dir"),
  tun_erspan_hwid: fw("tun_erspan_hwid"),
  tun_erspan_idx: fw("tun_erspan_idx"),
  tun_erspan_ver: fw("tun_erspan_ver"),
  tun_flags: fw("tun_flags"),
  tun_gbp_flags: fw("tun_gbp_flags"),
  tun_gbp_id: fw("tun_gbp_id"),
  tun_gtpu_flags: fw("tun_gtpu_flags"),
  tun_gtpu_msgtype: fw("tun_gtpu_msgtype"),
  tun_id: fw("tun_id"),
  tun_ipv6_dst: fw("tun_ipv6_dst"),
  tun_ipv6_src: fw("tun_ipv6_src"),
  tun_src: fw("tun_src"),
  udp_dst: fw("udp_dst"),
  udp_src: fw("udp_src"),
  vlan_pcp: fw("vlan_pcp"),
  vlan_tci: fw("vlan_tci"),
  vlan_vid: fw("vlan_vid"),
} as const;

const REGS: readonly FieldWriter[] = Array.from({ length: 16 }, (_, i) => fw(`reg${i}`));
const XREGS: readonly FieldWriter[] = Array.from({ length: 8 }, (_, i) => fw(`xreg${i}`));
const TUN_MD: readonly MfField[] = Array.from({ length: 64 }, (_, i) => mf(`tun_metadata${i}`));
const TUN_AFTER_GENEVE: readonly FieldWriter[] = [
  F.tun_erspan_idx, F.tun_erspan_ver, F.tun_erspan_dir, F.tun_erspan_hwid, F.tun_gtpu_flags, F.tun_gtpu_msgtype,
  F.nsh_flags, F.nsh_ttl, F.nsh_mdtype, F.nsh_np,
];
const NSH_AFTER_SPI: readonly FieldWriter[] = [F.nsh_si, F.nsh_c1, F.nsh_c2, F.nsh_c3, F.nsh_c4];
const CT_FIELDS: readonly FieldWriter[] = [
  F.pkt_mark, F.ct_state, F.ct_zone, F.ct_mark, F.ct_label, F.ct_nw_src, F.ct_ipv6_src, F.ct_nw_dst, F.ct_ipv6_dst,
];
const MPLS_FIELDS: readonly FieldWriter[] = [F.mpls_tc, F.mpls_bos, F.mpls_ttl, F.mpls_label];
const TUN_BEFORE_GENEVE: readonly FieldWriter[] = [
  F.tun_id, F.tun_flags, F.tun_src, F.tun_dst, F.tun_ipv6_src, F.tun_ipv6_dst, F.tun_gbp_id, F.tun_gbp_flags,
];
const TUN_BEFORE_GENEVE_WORDS = groupWords(TUN_BEFORE_GENEVE);
const AFTER_GENEVE_WORDS = groupWords([...TUN_AFTER_GENEVE, F.nsh_spi, ...NSH_AFTER_SPI]);
const CT_WORDS = groupWords([...CT_FIELDS, F.ct_nw_proto, F.ct_tp_src, F.ct_tp_dst]);

/** Set when an emitted entry implies Ethernet (module state: no closure per match). */
let impliedEthernet = false;

/** While a plan is being built (see planFor): entries are recorded there instead of written. */
let recording: PlanBuilder | null = null;

/** The TLV header of `d` in `version` for `payload` bytes of value (and mask). */
function headerWord(d: FieldWriter, vi: number, hasmask: boolean, payload: number): number {
  const len = payload + (d.exp[vi] === 1 ? 4 : 0);
  return (d.base[vi]! | (hasmask ? 0x100 : 0) | (len & 0xff)) >>> 0;
}

function versionIndex(d: FieldWriter, version: number): number {
  const vi = version < VERSIONS ? version : VERSIONS - 1;
  if (d.known[vi] === 0) throw new RangeError(`${d.fld.name} has no NXM/OXM code`);
  return vi;
}

/** Writes a TLV header for `payload` bytes of value (and mask); returns the offset of the value. */
function putHeader(w: OfpWriter, d: FieldWriter, version: number, hasmask: boolean, payload: number): number {
  const vi = versionIndex(d, version);
  const exp = d.exp[vi] === 1;
  const at = w.alloc((exp ? 8 : 4) + payload);
  const buf = w.buffer;
  putU32(buf, at, headerWord(d, vi, hasmask, payload));
  if (!exp) return at + 4;
  putU32(buf, at + 4, d.vendor[vi]!);
  return at + 8;
}

function putU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}

/** The low `n` bytes of `v` big-endian at `o` (bytes above the fourth are zero). */
function putBe(buf: Uint8Array, o: number, v: number, n: number): void {
  let x = v >>> 0;
  for (let i = n - 1; i >= 0; i--) {
    if (n - 1 - i < 4) {
      buf[o + i] = x & 0xff;
      x >>>= 8;
    } else buf[o + i] = 0;
  }
}

/** An exact entry holding the value `s` reads from `key`, in the field's own width (nxEntries' putExact). */
function putExact(w: OfpWriter, d: FieldWriter, version: number, key: Uint32Array, s: ValueSource): void {
  if (d.implies) impliedEthernet = true;
  const n = d.nExact;
  if (recording !== null) {
    recording.num(d, version, s, -1, n);
    return;
  }
  const o = putHeader(w, d, version, false, n);
  putBe(w.buffer, o, valueOf(key, s), n);
}

/** All ones in `n` bytes (n <= 4), or -1 for wider fields. */
function onesOf(n: number): number {
  return n >= 4 ? (n === 4 ? 0xffffffff : -1) : (1 << (8 * n)) - 1;
}

/** An entry of `n` bytes from a value source and a mask number (nxEntries' add on be() bytes). */
function putNum(w: OfpWriter, d: FieldWriter, version: number, key: Uint32Array, s: ValueSource, mk: number, n: number): void {
  if (mk === 0) return;
  if (d.implies) impliedEthernet = true;
  const exact = mk >>> 0 === onesOf(n);
  if (recording !== null) {
    recording.num(d, version, s, exact ? -1 : mk >>> 0, n);
    return;
  }
  const v = valueOf(key, s);
  if (exact) {
    const o = putHeader(w, d, version, false, n);
    putBe(w.buffer, o, v, n);
  } else {
    const o = putHeader(w, d, version, true, 2 * n);
    const buf = w.buffer;
    putBe(buf, o, v & mk, n);
    putBe(buf, o + n, mk, n);
  }
}

/** The field's value bits (bits kind). */
function bitsOf(words: Uint32Array, d: FieldWriter): number {
  return ((words[d.word]! >>> d.shift) & d.vmask) >>> 0;
}

/** A field as the match has it, masked or exact, nothing when wildcarded (nxEntries' putM). */
function putMatched(w: OfpWriter, m: Match, d: FieldWriter, version: number): void {
  if (d.kind === KIND_BITS) {
    const mk = bitsOf(m.mask, d);
    if (mk !== 0) putNum(w, d, version, m.key, d.src, mk, d.n);
    return;
  }
  if (d.kind === KIND_BYTES) {
    putBytes(w, m, d, version);
    return;
  }
  putGeneric(w, m, d.fld, version);
}

function keyByteAt(words: Uint32Array, i: number): number {
  return (words[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
}

function putBytes(w: OfpWriter, m: Match, d: FieldWriter, version: number): void {
  const n = d.n;
  const off = d.offset;
  const key = m.key;
  const mask = m.mask;
  if (!anyMasked(mask, d.words)) return;
  let any = 0;
  let all = 0xff;
  for (let i = 0; i < n; i++) {
    const b = keyByteAt(mask, off + i);
    any |= b;
    all &= b;
  }
  if (any === 0) return;
  if (d.implies) impliedEthernet = true;
  const buf0 = all === 0xff;
  if (recording !== null) {
    recording.bytes(d, version, mask);
    return;
  }
  const o = putHeader(w, d, version, !buf0, buf0 ? n : 2 * n);
  const buf = w.buffer;
  if (buf0) {
    for (let i = 0; i < n; i++) buf[o + i] = keyByteAt(key, off + i);
  } else {
    for (let i = 0; i < n; i++) {
      const mb = keyByteAt(mask, off + i);
      buf[o + i] = keyByteAt(key, off + i) & mb;
      buf[o + n + i] = mb;
    }
  }
}

/** Writes one TLV from bytes through the field's code (the general path, for tun_metadata). */
function putEntryBytes(w: OfpWriter, fld: MfField, version: number, value: Uint8Array, mask: Uint8Array | null): void {
  const code = codeFor(fld, version);
  if (code === null) throw new RangeError(`${fld.name} has no NXM/OXM code`);
  const exp = code.class === OXM_CLASS_EXPERIMENTER;
  const n = value.length;
  const payload = mask ? 2 * n : n;
  const len = payload + (exp ? 4 : 0);
  const at = w.alloc((exp ? 8 : 4) + payload);
  const buf = w.buffer;
  const word = ((code.class << 16) | (code.field << 9) | (mask ? 0x100 : 0) | (len & 0xff)) >>> 0;
  buf[at] = word >>> 24;
  buf[at + 1] = (word >>> 16) & 0xff;
  buf[at + 2] = (word >>> 8) & 0xff;
  buf[at + 3] = word & 0xff;
  let o = at + 4;
  if (exp) {
    const v = code.vendor >>> 0;
    buf[o] = v >>> 24;
    buf[o + 1] = (v >>> 16) & 0xff;
    buf[o + 2] = (v >>> 8) & 0xff;
    buf[o + 3] = v & 0xff;
    o += 4;
  }
  buf.set(value, o);
  if (mask) buf.set(mask, o + n);
  if (fld.prereqs !== "none") impliedEthernet = true;
}

/** putM through Match.get, for fields held outside the key words (tun_metadata). */
function putGeneric(w: OfpWriter, m: Match, fld: MfField, version: number): void {
  if (recording !== null) {
    recording.unplannable = true;
    return;
  }
  if (m.isWildcarded(fld)) return;
  const g = m.get(fld);
  let mask: Uint8Array | null = g.mask;
  let value = g.value;
  if (mask.every((x) => x === 0)) return;
  if (mask.every((x) => x === 0xff)) mask = null;
  if (mask) {
    const mk = mask;
    value = value.map((x, i) => x & mk[i]!);
  }
  putEntryBytes(w, fld, version, value, mask);
}

function putTunMetadata(w: OfpWriter, m: Match, version: number): void {
  if (recording !== null) {
    recording.unplannable = true;
    return;
  }
  for (let i = 0; i < 64; i++) {
    const f = TUN_MD[i]!;
    const held = m.tunMdLen(i);
    if (held < 0) {
      putGeneric(w, m, f, version);
      continue;
    }
    // Held by the match (no TLV map): the entry carries the bytes allocated to it.
    const r = m.get(f);
    putEntryBytes(w, f, version, r.value.subarray(r.value.length - held), m.tunMdMasked(i) ? r.mask.subarray(r.mask.length - held) : null);
  }
}

/** Value sources that are not a field's own bits. */
const SRC = {
  inPortOxm: new ValueSource(F.in_port.word, F.in_port.shift, F.in_port.vmask, true),
  actsetOutput: new ValueSource(F.actset_output.word, 0, 0xffff, true),
  vid: new ValueSource(F.vlan_tci.word, F.vlan_tci.shift, 0x1fff),
  pcp: new ValueSource(F.vlan_tci.word, F.vlan_tci.shift + 13, 0x7),
  dscp: new ValueSource(F.nw_tos.word, F.nw_tos.shift + 2, F.nw_tos.vmask >>> 2),
  nwProto: new ValueSource(W_NW_PROTO, 24, 0xff),
  tpSrc: new ValueSource(W_TP_SRC, 16, 0xffff),
  tpDst: new ValueSource(W_TP_SRC, 0, 0xffff),
  zero: new ValueSource(0, 0, 0),
} as const;

/**
 * Writes the TLVs of `m` (no header, no padding; OVS's nx_put_raw) for
 * `version` (0 = NXM) at the writer's end; returns their length.
 *
 * `maskKey`, when given, is an object that stands for the match's mask
 * (the same object for every match with that mask: a classifier
 * subtable's): the entries to write are then worked out once per mask and
 * per branch signature (see planFor), and each match only copies its
 * values into them. A flow dump writes 100,000 matches over a handful of
 * masks, and walking every field's mask for each was most of its encoding.
 */
export function putNxRaw(w: OfpWriter, m: Match, version: number, maskKey: object | null = null): number {
  if (maskKey !== null) {
    const plan = planFor(maskKey, m, version);
    if (plan !== null) return runPlan(w, plan, m.key);
  }
  return emitNx(w, m, version);
}

/** putNxRaw's decisions: writes the entries, or records them while a plan is being built. */
function emitNx(w: OfpWriter, m: Match, version: number): number {
  const start = w.length;
  const key = m.key;
  const mask = m.mask;
  impliedEthernet = false;
  const ptMask = mask[W_PACKET_TYPE]!;
  const ptDefault = ptMask === 0xffffffff && key[W_PACKET_TYPE] === 0;
  // packet_type=(0,0) (Ethernet) is written only when nothing else implies it: see the end.
  if (ptMask && !ptDefault) putMatched(w, m, F.packet_type, version);
  putMatched(w, m, F.dp_hash, version);
  if (bitsOf(mask, F.recirc_id)) putExact(w, F.recirc_id, version, key, F.recirc_id.src);
  if (bitsOf(mask, F.conj_id)) putExact(w, F.conj_id, version, key, F.conj_id.src);
  if (bitsOf(mask, F.in_port)) {
    if (version) putExact(w, F.in_port_oxm, version, key, SRC.inPortOxm);
    else putExact(w, F.in_port, version, key, F.in_port.src);
  }
  if (mask[F.actset_output.word]! & 0xffff) putExact(w, F.actset_output, version, key, SRC.actsetOutput);
  putMatched(w, m, F.eth_src, version);
  putMatched(w, m, F.eth_dst, version);
  putMatched(w, m, F.eth_type, version);
  const tciM = bitsOf(mask, F.vlan_tci);
  if (version) {
    const vid = tciM ? valueOf(key, SRC.vid) : 0;
    const vm = tciM & 0x1fff;
    if (vm === 0x1fff) putExact(w, F.vlan_vid, version, key, SRC.vid);
    else if (vm) putNum(w, F.vlan_vid, version, key, SRC.vid, vm, 2);
    if (vid && tciM & 0xe000) putExact(w, F.vlan_pcp, version, key, SRC.pcp);
  } else if (tciM) putNum(w, F.vlan_tci, version, key, F.vlan_tci.src, tciM, F.vlan_tci.n);
  const dl = m.dlType;
  if (dl === ETH_TYPE_MPLS || dl === ETH_TYPE_MPLS_MCAST) {
    for (const d of MPLS_FIELDS) if (bitsOf(mask, d)) putExact(w, d, version, key, d.src);
  }
  const proto = m.nwProto;
  let mk = 0;
  if (dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) {
    if (dl === ETH_TYPE_IP) {
      putMatched(w, m, F.ip_src, version);
      putMatched(w, m, F.ip_dst, version);
    } else {
      putMatched(w, m, F.ipv6_src, version);
      putMatched(w, m, F.ipv6_dst, version);
    }
    mk = bitsOf(mask, F.ip_frag);
    if (mk) {
      if (mk === 3) putExact(w, F.ip_frag, version, key, F.ip_frag.src);
      else putNum(w, F.ip_frag, version, key, F.ip_frag.src, mk, 1);
    }
    if (bitsOf(mask, F.nw_tos)) {
      if (version) putExact(w, F.ip_dscp, version, key, SRC.dscp);
      else putExact(w, F.nw_tos, version, key, F.nw_tos.src);
    }
    if (bitsOf(mask, F.nw_ecn)) putExact(w, F.nw_ecn, version, key, F.nw_ecn.src);
    if (bitsOf(mask, F.nw_ttl)) putExact(w, F.nw_ttl, version, key, F.nw_ttl.src);
    putMatched(w, m, F.ipv6_label, version);
    if (bitsOf(mask, F.nw_proto)) {
      putExact(w, F.nw_proto, version, key, SRC.nwProto);
      if (proto === IPPROTO_TCP) {
        putMatched(w, m, F.tcp_src, version);
        putMatched(w, m, F.tcp_dst, version);
        // OVS keeps the ND options type in tcp_flags: on TCP it is emitted as tcp_flags.
        if (!bitsOf(mask, F.tcp_flags) && bitsOf(mask, F.nd_options_type)) putExact(w, F.tcp_flags, version, key, F.nd_options_type.src);
        else putMatched(w, m, F.tcp_flags, version);
      } else if (proto === IPPROTO_UDP) {
        putMatched(w, m, F.udp_src, version);
        putMatched(w, m, F.udp_dst, version);
      } else if (proto === IPPROTO_SCTP) {
        putMatched(w, m, F.sctp_src, version);
        putMatched(w, m, F.sctp_dst, version);
      } else if (dl === ETH_TYPE_IP && proto === IPPROTO_ICMP) {
        if (bitsOf(mask, F.tcp_src)) putExact(w, F.icmp_type, version, key, SRC.tpSrc);
        if (bitsOf(mask, F.tcp_dst)) putExact(w, F.icmp_code, version, key, SRC.tpDst);
      } else if (dl === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6) {
        if (bitsOf(mask, F.tcp_src)) putExact(w, F.icmpv6_type, version, key, SRC.tpSrc);
        if (bitsOf(mask, F.tcp_dst)) putExact(w, F.icmpv6_code, version, key, SRC.tpDst);
        const nd = ndKind(m);
        if (nd !== 0) {
          if (bitsOf(mask, F.nd_reserved)) putExact(w, F.nd_reserved, version, key, F.nd_reserved.src);
          putMatched(w, m, F.nd_target, version);
          // OVS keeps the ND options type in tcp_flags: a tcp_flags match on ND is emitted as it.
          if (bitsOf(mask, F.nd_options_type)) putExact(w, F.nd_options_type, version, key, F.nd_options_type.src);
          else if (bitsOf(mask, F.tcp_flags)) putExact(w, F.nd_options_type, version, key, F.tcp_flags.src);
          if (nd === ND_NEIGHBOR_SOLICIT) putMatched(w, m, F.nd_sll, version);
          else putMatched(w, m, F.nd_tll, version);
        }
      }
    }
  } else if (dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP) {
    if (bitsOf(mask, F.nw_proto)) putExact(w, F.arp_op, version, key, SRC.nwProto);
    putMatched(w, m, F.arp_spa, version);
    putMatched(w, m, F.arp_tpa, version);
    putMatched(w, m, F.arp_sha, version);
    putMatched(w, m, F.arp_tha, version);
  }
  if (anyMasked(mask, TUN_BEFORE_GENEVE_WORDS)) for (const d of TUN_BEFORE_GENEVE) putMatched(w, m, d, version);
  if (geneveMasked(m)) putTunMetadata(w, m, version);
  if (anyMasked(mask, AFTER_GENEVE_WORDS)) {
    for (const d of TUN_AFTER_GENEVE) putMatched(w, m, d, version);
    mk = bitsOf(mask, F.nsh_spi);
    if (mk) {
      if (mk === 0xffffff) putExact(w, F.nsh_spi, version, key, F.nsh_spi.src);
      else putNum(w, F.nsh_spi, version, key, F.nsh_spi.src, mk, 4);
    }
    for (const d of NSH_AFTER_SPI) putMatched(w, m, d, version);
  }
  if (version < 6) for (const d of REGS) putMatched(w, m, d, version);
  else for (const d of XREGS) putMatched(w, m, d, version);
  if (anyMasked(mask, CT_WORDS)) {
    for (const d of CT_FIELDS) putMatched(w, m, d, version);
    if (bitsOf(mask, F.ct_nw_proto) && bitsOf(key, F.ct_nw_proto)) {
      putMatched(w, m, F.ct_nw_proto, version);
      putMatched(w, m, F.ct_tp_src, version);
      putMatched(w, m, F.ct_tp_dst, version);
    }
  }
  putMatched(w, m, F.metadata, version);
  if (ptDefault && !impliedEthernet) {
    // packet_type=(0,0) with nothing that implies it: OVS puts it first.
    const end = w.length;
    putExact(w, F.packet_type, version, key, SRC.zero);
    if (recording !== null) recording.lastFirst();
    else {
      const size = w.length - end;
      const buf = w.buffer;
      const entry = buf.slice(end, end + size);
      buf.copyWithin(start + size, start, end);
      buf.set(entry, start);
    }
  }
  return w.length - start;
}

/** ND_NEIGHBOR_SOLICIT or ND_NEIGHBOR_ADVERT when `m` is an ND message whose target and link-layer fields are written; else 0. */
function ndKind(m: Match): number {
  const t = m.tpSrc;
  return (t === ND_NEIGHBOR_SOLICIT || t === ND_NEIGHBOR_ADVERT) && m.tpDst === 0 ? t : 0;
}

/* ---------------- plans: the entries of one mask, worked out once ---------------- */

const PLAN_NUM = 0;
const PLAN_BYTES = 1;

/**
 * One entry of a plan: its TLV header bytes, then either a number of `n`
 * bytes from a value source (masked with `mk` unless it is -1), or `n`
 * bytes of the key from byte `offset` (masked when `maskBytes` is set).
 * Masks are the plan's, so their bytes are part of the template.
 */
class PlanEntry {
  constructor(
    readonly kind: number,
    /** Header, then (masked) room for the value and the mask's bytes. */
    readonly template: Uint8Array,
    readonly headerLen: number,
    readonly n: number,
    readonly src: ValueSource,
    readonly mk: number,
    readonly offset: number,
    readonly maskBytes: Uint8Array | null,
  ) {}
}

/** A plan: its entries, and all their templates end to end (what a match's entries are before its values go in). */
class NxPlan {
  /** Where each entry's value goes in `bytes`. */
  readonly valueAt: Int32Array;
  readonly bytes: Uint8Array;

  constructor(readonly entries: readonly PlanEntry[]) {
    let total = 0;
    for (const e of entries) total += e.template.length;
    this.bytes = new Uint8Array(total);
    this.valueAt = new Int32Array(entries.length);
    let at = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      this.bytes.set(e.template, at);
      this.valueAt[i] = at + e.headerLen;
      at += e.template.length;
    }
  }
}

/** Records emitNx's entries for one mask and branch signature. */
class PlanBuilder {
  readonly entries: PlanEntry[] = [];
  /** An entry that no plan can hold was met (tun_metadata): the match is written directly. */
  unplannable = false;

  private template(d: FieldWriter, version: number, hasmask: boolean, payload: number): { t: Uint8Array; h: number } {
    const vi = versionIndex(d, version);
    const h = d.exp[vi] === 1 ? 8 : 4;
    const t = new Uint8Array(h + payload);
    putU32(t, 0, headerWord(d, vi, hasmask, payload));
    if (h === 8) putU32(t, 4, d.vendor[vi]!);
    return { t, h };
  }

  num(d: FieldWriter, version: number, s: ValueSource, mk: number, n: number): void {
    const { t, h } = this.template(d, version, mk !== -1, mk === -1 ? n : 2 * n);
    if (mk !== -1) putBe(t, h + n, mk, n);
    this.entries.push(new PlanEntry(PLAN_NUM, t, h, n, s, mk, 0, null));
  }

  bytes(d: FieldWriter, version: number, mask: Uint32Array): void {
    const n = d.n;
    const mb = new Uint8Array(n);
    let all = 0xff;
    for (let i = 0; i < n; i++) all &= mb[i] = keyByteAt(mask, d.offset + i);
    const masked = all !== 0xff;
    const { t, h } = this.template(d, version, masked, masked ? 2 * n : n);
    if (masked) t.set(mb, h + n);
    this.entries.push(new PlanEntry(PLAN_BYTES, t, h, n, SRC.zero, -1, d.offset, masked ? mb : null));
  }

  /** Moves the last entry to the front (packet_type, see emitNx). */
  lastFirst(): void {
    this.entries.unshift(this.entries.pop()!);
  }
}

/** Plans by mask key, then by signature and version; null: the mask's matches are written directly. */
const plans = new WeakMap<object, Map<number, NxPlan | null>>();
/** Plans kept per mask key (signatures vary with a few key values only; this bounds a pathological table). */
const PLANS_PER_MASK = 64;
/** A scratch writer for plan building (nothing is written to it). */
const planWriter = new OfpWriter(0);

/** The last plan found, and for what: a dump meets a subtable's matches one after another. */
let lastMaskKey: object | null = null;
let lastSig = -1;
let lastPlan: NxPlan | null = null;

/** The plan for `m`'s entries in `version`, `maskKey` standing for its mask; null when it has none. */
function planFor(maskKey: object, m: Match, version: number): NxPlan | null {
  const sig = planSignature(m) * VERSIONS + (version < VERSIONS ? version : VERSIONS - 1);
  if (maskKey === lastMaskKey && sig === lastSig) return lastPlan;
  const plan = findPlan(maskKey, m, version, sig);
  lastMaskKey = maskKey;
  lastSig = sig;
  lastPlan = plan;
  return plan;
}

function findPlan(maskKey: object, m: Match, version: number, sig: number): NxPlan | null {
  let byMask = plans.get(maskKey);
  if (byMask === undefined) plans.set(maskKey, (byMask = new Map()));
  const known = byMask.get(sig);
  if (known !== undefined) return known;
  if (byMask.size >= PLANS_PER_MASK) return null;
  const b = new PlanBuilder();
  recording = b;
  try {
    emitNx(planWriter, m, version);
  } finally {
    recording = null;
  }
  const plan = b.unplannable ? null : new NxPlan(b.entries);
  byMask.set(sig, plan);
  return plan;
}

/**
 * The key values emitNx's choices depend on, as one number: two matches
 * with the same mask and signature get the same entries in the same
 * order. dl_type; nw_proto on IP; which ND message; whether the VLAN id,
 * ct_nw_proto and packet_type are zero.
 */
function planSignature(m: Match): number {
  const key = m.key;
  const dl = m.dlType;
  let sig = dl;
  if (dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) {
    const proto = m.nwProto;
    sig += proto * 0x10000;
    if (dl === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6) {
      const nd = ndKind(m);
      if (nd !== 0) sig += (nd === ND_NEIGHBOR_SOLICIT ? 1 : 2) * 0x1000000;
    }
  }
  if (valueOf(key, SRC.vid) !== 0) sig += 0x4000000;
  if (bitsOf(key, F.ct_nw_proto) !== 0) sig += 0x8000000;
  if (key[W_PACKET_TYPE] === 0) sig += 0x10000000;
  return sig;
}

/** Writes `plan`'s entries with `key`'s values; returns their length. */
function runPlan(w: OfpWriter, plan: NxPlan, key: Uint32Array): number {
  const t = plan.bytes;
  const len = t.length;
  // The templates at once (a loop: TypedArray.set's call costs more than
  // copying a few dozen bytes), then each entry's value.
  const at = w.alloc(len);
  const buf = w.buffer;
  for (let j = 0; j < len; j++) buf[at + j] = t[j]!;
  const entries = plan.entries;
  const valueAt = plan.valueAt;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const o = at + valueAt[i]!;
    const n = e.n;
    if (e.kind === PLAN_NUM) {
      const v = valueOf(key, e.src);
      putBe(buf, o, e.mk === -1 ? v : v & e.mk, n);
    } else {
      const mb = e.maskBytes;
      const off = e.offset;
      if (mb === null) for (let j = 0; j < n; j++) buf[o + j] = keyByteAt(key, off + j);
      else for (let j = 0; j < n; j++) buf[o + j] = keyByteAt(key, off + j) & mb[j]!;
    }
  }
  return len;
}

/** The TLVs of `m` as a fresh array (see putNxRaw). */
export function nxRawBytes(m: Match, version: number): Uint8Array {
  const w = new OfpWriter(256);
  putNxRaw(w, m, version);
  return w.finish();
}
