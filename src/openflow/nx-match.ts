/**
 * A Match as NXM (`nx_match`, Nicira) and OXM (`oxm_match`, OpenFlow 1.2+)
 * TLVs, both ways, as OVS 3.1 does it: fields are emitted in OVS's order
 * (packet_type, metadata, in_port, Ethernet, VLAN, MPLS, L3/L4, tunnel,
 * NSH, registers, pkt_mark, conntrack, OpenFlow metadata), only where the
 * match's own values satisfy their prerequisites; decoding rejects what
 * OVS rejects with the same OFPBMC_* error (bad length, unknown field,
 * mask on an unmaskable field, a value bit outside its mask, bad value,
 * unmet prerequisite, duplicate field).
 *
 * `version` is 0 for NXM, else the OpenFlow wire version of the OXM
 * (3 = 1.2 ... 6 = 1.5), which picks each field's code (tcp_flags is an
 * ONF experimenter field in 1.3/1.4 and standard in 1.5; 1.5 carries
 * registers as 64-bit xregs).
 *
 * Encoding goes through nx-match-write.ts (straight from the key words
 * into a writer); nxEntries here is the entry-by-entry reference it is
 * tested against.
 */
import { fail, type DecodeError } from "./ofp-codec.js";
import {
  decodeNxmHeader, encodeNxmHeader, formatNxmHeader, MF_FIELDS, mfFromCode, mfFromHeader, OXM_CLASS_EXPERIMENTER, OXM_CLASS_OPENFLOW_BASIC, parseNxmHeader,
  type MfField, type NxmHeader,
} from "./meta-flow.js";
import { mfIsValueValid, mfKey, mfPortToOfp11, mfValueLen } from "./mf-key.js";
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP, geneveMasked, IPPROTO_ICMP,
  IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, Match, mf, mfArePrereqsOk, ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "./match.js";
import { W_PACKET_TYPE } from "../flow/key-layout.js";
import { OfpWriter } from "./ofp-buffer.js";
import { codeFor, putNxRaw } from "./nx-match-write.js";

/** One TLV: a field, its value and (when masked) mask, as big-endian bytes of the field's width. */
export interface NxEntry {
  fld: MfField;
  value: Uint8Array;
  mask: Uint8Array | null;
}

export { codeFor, putNxRaw } from "./nx-match-write.js";

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
const isOnes = (b: Uint8Array): boolean => b.every((x) => x === 0xff);

function be(v: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = n - 1, x = v >>> 0; i >= 0 && i >= n - 4; i--, x >>>= 8) b[i] = x & 0xff;
  return b;
}

function num(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = (v * 256 + x) % 0x100000000;
  return v;
}

/** The TLVs OVS emits for `m`, in its order. */
/**
 * The fields nxEntries emits, looked up once: encoding a match walks about
 * eighty of them, and a name lookup each was a visible part of encoding
 * (bench ofcodec).
 */
const F = {
  actset_output: mf("actset_output"),
  arp_op: mf("arp_op"),
  arp_sha: mf("arp_sha"),
  arp_spa: mf("arp_spa"),
  arp_tha: mf("arp_tha"),
  arp_tpa: mf("arp_tpa"),
  conj_id: mf("conj_id"),
  ct_ipv6_dst: mf("ct_ipv6_dst"),
  ct_ipv6_src: mf("ct_ipv6_src"),
  ct_label: mf("ct_label"),
  ct_mark: mf("ct_mark"),
  ct_nw_dst: mf("ct_nw_dst"),
  ct_nw_proto: mf("ct_nw_proto"),
  ct_nw_src: mf("ct_nw_src"),
  ct_state: mf("ct_state"),
  ct_tp_dst: mf("ct_tp_dst"),
  ct_tp_src: mf("ct_tp_src"),
  ct_zone: mf("ct_zone"),
  dp_hash: mf("dp_hash"),
  eth_dst: mf("eth_dst"),
  eth_src: mf("eth_src"),
  eth_type: mf("eth_type"),
  icmp_code: mf("icmp_code"),
  icmp_type: mf("icmp_type"),
  icmpv6_code: mf("icmpv6_code"),
  icmpv6_type: mf("icmpv6_type"),
  in_port: mf("in_port"),
  in_port_oxm: mf("in_port_oxm"),
  ip_dscp: mf("ip_dscp"),
  ip_dst: mf("ip_dst"),
  ip_frag: mf("ip_frag"),
  ip_src: mf("ip_src"),
  ipv6_dst: mf("ipv6_dst"),
  ipv6_label: mf("ipv6_label"),
  ipv6_src: mf("ipv6_src"),
  metadata: mf("metadata"),
  mpls_bos: mf("mpls_bos"),
  mpls_label: mf("mpls_label"),
  mpls_tc: mf("mpls_tc"),
  mpls_ttl: mf("mpls_ttl"),
  nd_options_type: mf("nd_options_type"),
  nd_reserved: mf("nd_reserved"),
  nd_sll: mf("nd_sll"),
  nd_target: mf("nd_target"),
  nd_tll: mf("nd_tll"),
  nsh_c1: mf("nsh_c1"),
  nsh_c2: mf("nsh_c2"),
  nsh_c3: mf("nsh_c3"),
  nsh_c4: mf("nsh_c4"),
  nsh_flags: mf("nsh_flags"),
  nsh_mdtype: mf("nsh_mdtype"),
  nsh_np: mf("nsh_np"),
  nsh_si: mf("nsh_si"),
  nsh_spi: mf("nsh_spi"),
  nsh_ttl: mf("nsh_ttl"),
  nw_ecn: mf("nw_ecn"),
  nw_proto: mf("nw_proto"),
  nw_tos: mf("nw_tos"),
  nw_ttl: mf("nw_ttl"),
  packet_type: mf("packet_type"),
  pkt_mark: mf("pkt_mark"),
  recirc_id: mf("recirc_id"),
  sctp_dst: mf("sctp_dst"),
  sctp_src: mf("sctp_src"),
  tcp_dst: mf("tcp_dst"),
  tcp_flags: mf("tcp_flags"),
  tcp_src: mf("tcp_src"),
  tun_dst: mf("tun_dst"),
  tun_erspan_dir: mf("tun_erspan_dir"),
  tun_erspan_hwid: mf("tun_erspan_hwid"),
  tun_erspan_idx: mf("tun_erspan_idx"),
  tun_erspan_ver: mf("tun_erspan_ver"),
  tun_flags: mf("tun_flags"),
  tun_gbp_flags: mf("tun_gbp_flags"),
  tun_gbp_id: mf("tun_gbp_id"),
  tun_gtpu_flags: mf("tun_gtpu_flags"),
  tun_gtpu_msgtype: mf("tun_gtpu_msgtype"),
  tun_id: mf("tun_id"),
  tun_ipv6_dst: mf("tun_ipv6_dst"),
  tun_ipv6_src: mf("tun_ipv6_src"),
  tun_src: mf("tun_src"),
  udp_dst: mf("udp_dst"),
  udp_src: mf("udp_src"),
  vlan_pcp: mf("vlan_pcp"),
  vlan_tci: mf("vlan_tci"),
  vlan_vid: mf("vlan_vid"),
} as const;

export function nxEntries(m: Match, version: number): NxEntry[] {
  const out: NxEntry[] = [];
  let impliedEthernet = false;
  const add = (fld: MfField, value: Uint8Array, mask: Uint8Array | null): void => {
    if (mask && isZero(mask)) return;
    if (mask && isOnes(mask)) mask = null;
    if (mask) value = value.map((x, i) => x & mask![i]!);
    if (fld.prereqs !== "none") impliedEthernet = true;
    out.push({ fld, value, mask });
  };
  const putM = (fld: MfField | string): void => {
    const f = typeof fld === "string" ? mf(fld) : fld;
    if (m.isWildcarded(f)) return;
    const g = m.get(f);
    add(f, g.value, g.mask);
  };
  const putExact = (fld: MfField | string, v: number): void => {
    const f = typeof fld === "string" ? mf(fld) : fld;
    add(f, be(v, f.bytes), null);
  };
  const g = (fld: MfField | string): { v: number; m: number } => {
    const f = typeof fld === "string" ? mf(fld) : fld;
    if (m.isWildcarded(f)) return { v: 0, m: 0 };
    const r = m.get(f);
    return { v: num(r.value), m: num(r.mask) };
  };
  const ptMask = m.mask[W_PACKET_TYPE]!;
  const ptDefault = ptMask === 0xffffffff && m.key[W_PACKET_TYPE] === 0;
  if (ptMask && !ptDefault) putM(F.packet_type);
  putM(F.dp_hash);
  let x = g(F.recirc_id);
  if (x.m) putExact(F.recirc_id, x.v);
  x = g(F.conj_id);
  if (x.m) putExact(F.conj_id, x.v);
  x = g(F.in_port);
  if (x.m) {
    if (version) putExact(F.in_port_oxm, mfPortToOfp11(x.v));
    else putExact(F.in_port, x.v);
  }
  if (!m.isWildcarded(F.actset_output)) add(F.actset_output, m.get(F.actset_output).value, null);
  putM(F.eth_src);
  putM(F.eth_dst);
  putM(F.eth_type);
  const tci = g(F.vlan_tci);
  if (version) {
    const vid = tci.v & 0x1fff;
    const vm = tci.m & 0x1fff;
    if (vm === 0x1fff) putExact(F.vlan_vid, vid);
    else if (vm) add(F.vlan_vid, be(vid, 2), be(vm, 2));
    if (vid && tci.m & 0xe000) putExact(F.vlan_pcp, tci.v >>> 13);
  } else putM(F.vlan_tci);
  const dl = m.dlType;
  if (dl === ETH_TYPE_MPLS || dl === ETH_TYPE_MPLS_MCAST) {
    for (const n of [F.mpls_tc, F.mpls_bos, F.mpls_ttl, F.mpls_label]) {
      x = g(n);
      if (x.m) putExact(n, x.v);
    }
  }
  const proto = m.nwProto;
  if (dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) {
    if (dl === ETH_TYPE_IP) {
      putM(F.ip_src);
      putM(F.ip_dst);
    } else {
      putM(F.ipv6_src);
      putM(F.ipv6_dst);
    }
    x = g(F.ip_frag);
    if (x.m) add(F.ip_frag, be(x.v, 1), x.m === 3 ? null : be(x.m, 1));
    x = g(F.nw_tos);
    if (x.m) {
      if (version) putExact(F.ip_dscp, x.v >>> 2);
      else putExact(F.nw_tos, x.v);
    }
    x = g(F.nw_ecn);
    if (x.m) putExact(F.nw_ecn, x.v);
    x = g(F.nw_ttl);
    if (x.m) putExact(F.nw_ttl, x.v);
    putM(F.ipv6_label);
    if (!m.isWildcarded(F.nw_proto)) {
      putExact(F.nw_proto, proto);
      if (proto === IPPROTO_TCP) {
        putM(F.tcp_src);
        putM(F.tcp_dst);
        // OVS keeps the ND options type in tcp_flags: on TCP it is emitted as tcp_flags.
        if (m.isWildcarded(F.tcp_flags) && !m.isWildcarded(F.nd_options_type)) putExact(F.tcp_flags, g(F.nd_options_type).v);
        else putM(F.tcp_flags);
      } else if (proto === IPPROTO_UDP) {
        putM(F.udp_src);
        putM(F.udp_dst);
      } else if (proto === IPPROTO_SCTP) {
        putM(F.sctp_src);
        putM(F.sctp_dst);
      } else if (dl === ETH_TYPE_IP && proto === IPPROTO_ICMP) {
        if (g(F.tcp_src).m) putExact(F.icmp_type, m.tpSrc);
        if (g(F.tcp_dst).m) putExact(F.icmp_code, m.tpDst);
      } else if (dl === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6) {
        if (g(F.tcp_src).m) putExact(F.icmpv6_type, m.tpSrc);
        if (g(F.tcp_dst).m) putExact(F.icmpv6_code, m.tpDst);
        if ((m.tpSrc === ND_NEIGHBOR_SOLICIT || m.tpSrc === ND_NEIGHBOR_ADVERT) && m.tpDst === 0) {
          x = g(F.nd_reserved);
          if (x.m) putExact(F.nd_reserved, x.v);
          putM(F.nd_target);
          x = g(F.nd_options_type);
          // OVS keeps the ND options type in tcp_flags: a tcp_flags match on ND is emitted as it.
          if (!x.m) x = g(F.tcp_flags);
          if (x.m) putExact(F.nd_options_type, x.v & 0xff);
          if (m.tpSrc === ND_NEIGHBOR_SOLICIT) putM(F.nd_sll);
          if (m.tpSrc === ND_NEIGHBOR_ADVERT) putM(F.nd_tll);
        }
      }
    }
  } else if (dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP) {
    if (!m.isWildcarded(F.nw_proto)) putExact(F.arp_op, proto);
    putM(F.arp_spa);
    putM(F.arp_tpa);
    putM(F.arp_sha);
    putM(F.arp_tha);
  }
  putM(F.tun_id);
  putM(F.tun_flags);
  putM(F.tun_src);
  putM(F.tun_dst);
  putM(F.tun_ipv6_src);
  putM(F.tun_ipv6_dst);
  putM(F.tun_gbp_id);
  putM(F.tun_gbp_flags);
  if (geneveMasked(m)) {
    for (let i = 0; i < 64; i++) {
      const held = m.tunMdLen(i);
      if (held < 0) {
        putM(`tun_metadata${i}`);
        continue;
      }
      // Held by the match (no TLV map): the entry carries the bytes allocated to it.
      const f = mf(`tun_metadata${i}`);
      const r = m.get(f);
      const mask = r.mask.subarray(r.mask.length - held);
      const value = r.value.subarray(r.value.length - held);
      if (f.prereqs !== "none") impliedEthernet = true;
      out.push({ fld: f, value, mask: m.tunMdMasked(i) ? mask : null });
    }
  }
  for (const n of [F.tun_erspan_idx, F.tun_erspan_ver, F.tun_erspan_dir, F.tun_erspan_hwid, F.tun_gtpu_flags, F.tun_gtpu_msgtype, F.nsh_flags, F.nsh_ttl, F.nsh_mdtype, F.nsh_np]) putM(n);
  x = g(F.nsh_spi);
  if (x.m) add(F.nsh_spi, be(x.v, 4), x.m === 0xffffff ? null : be(x.m, 4));
  for (const n of [F.nsh_si, F.nsh_c1, F.nsh_c2, F.nsh_c3, F.nsh_c4]) putM(n);
  if (version < 6) for (let i = 0; i < 16; i++) putM(`reg${i}`);
  else for (let i = 0; i < 8; i++) putM(`xreg${i}`);
  for (const n of [F.pkt_mark, F.ct_state, F.ct_zone, F.ct_mark, F.ct_label, F.ct_nw_src, F.ct_ipv6_src, F.ct_nw_dst, F.ct_ipv6_dst]) putM(n);
  if (g(F.ct_nw_proto).v) {
    putM(F.ct_nw_proto);
    putM(F.ct_tp_src);
    putM(F.ct_tp_dst);
  }
  putM(F.metadata);
  if (ptDefault && !impliedEthernet) out.unshift({ fld: F.packet_type, value: new Uint8Array(4), mask: null });
  return out;
}

/** Bytes of one TLV: its header (4, or 8 for experimenter classes), value and mask. */
function entrySize(e: NxEntry, version: number): number {
  const code = codeFor(e.fld, version)!;
  return (code.class === OXM_CLASS_EXPERIMENTER ? 8 : 4) + (e.mask ? 2 : 1) * e.value.length;
}

/**
 * Writes one TLV at `o` of `out`; returns the offset after it. The header
 * is written in place (no header object or scratch array per entry: a
 * flow-stats reply encodes one match per flow; bench openflow's dump).
 */
function putEntry(out: Uint8Array, o: number, e: NxEntry, version: number): number {
  const code = codeFor(e.fld, version)!;
  const exp = code.class === OXM_CLASS_EXPERIMENTER;
  const n = e.value.length;
  const len = (e.mask ? 2 * n : n) + (exp ? 4 : 0);
  const word = ((code.class << 16) | (code.field << 9) | (e.mask ? 0x100 : 0) | (len & 0xff)) >>> 0;
  out[o] = word >>> 24;
  out[o + 1] = (word >>> 16) & 0xff;
  out[o + 2] = (word >>> 8) & 0xff;
  out[o + 3] = word & 0xff;
  o += 4;
  if (exp) {
    const v = code.vendor >>> 0;
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
    o += 4;
  }
  out.set(e.value, o);
  o += n;
  if (e.mask) {
    out.set(e.mask, o);
    o += n;
  }
  return o;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The TLVs of `m` built entry by entry through nxEntries: the reference
 * the fast encoder (nx-match-write.ts) is tested against.
 */
export function encodeNxRawByEntries(m: Match, version: number): Uint8Array {
  const entries = nxEntries(m, version);
  let size = 0;
  for (const e of entries) size += entrySize(e, version);
  const out = new Uint8Array(size);
  let o = 0;
  for (const e of entries) o = putEntry(out, o, e, version);
  return out;
}

/** The TLVs of `m` without header or padding (OVS nx_put_raw). */
export function encodeNxRaw(m: Match, version: number): Uint8Array {
  const w = new OfpWriter(256);
  putNxRaw(w, m, version);
  return w.finish();
}

/** An NXM nx_match padded to 8 bytes; `length` is the unpadded match_len. */
export function encodeNxMatch(m: Match): { bytes: Uint8Array; length: number } {
  const w = new OfpWriter(256);
  const length = putNxRaw(w, m, 0);
  w.padTo(8);
  return { bytes: w.finish(), length };
}

/**
 * Writes an OXM ofp_match (type OFPMT_OXM, length, TLVs, padding to 8)
 * for OpenFlow `version` >= 3 at the writer's end, in place.
 */
export function putOxmMatch(w: OfpWriter, m: Match, version: number, maskKey: object | null = null): void {
  const start = w.length;
  w.u16(1).u16(0);
  const n = putNxRaw(w, m, version, maskKey);
  w.setU16(start + 2, 4 + n);
  w.padTo(8, start);
}

/** An OXM ofp_match (type OFPMT_OXM, length, TLVs, padding to 8) for OpenFlow `version` >= 3. */
export function encodeOxmMatch(m: Match, version: number): Uint8Array {
  const w = new OfpWriter(256);
  putOxmMatch(w, m, version);
  return w.finish();
}

/** Splits TLV bytes into headers and payloads, or the OFPBMC error for a bad length. */
export function pullEntries(b: Uint8Array): { header: NxmHeader; payload: Uint8Array }[] | DecodeError {
  const out: { header: NxmHeader; payload: Uint8Array }[] = [];
  let o = 0;
  while (o < b.length) {
    const h = decodeNxmHeader(b.subarray(o));
    if (!h) return fail("OFPBMC_BAD_LEN");
    const hl = h.class === 0xffff ? 8 : 4;
    if (h.length <= 0 || o + hl + h.length > b.length) return fail("OFPBMC_BAD_LEN");
    out.push({ header: h, payload: b.subarray(o + hl, o + hl + h.length) });
    o += hl + h.length;
  }
  return out;
}

/**
 * A field decoding may set straight in the key words: a plain bit field of
 * at most 4 bytes whose set has no side effect beyond the implied packet
 * type (decoding a flow_mod's match was a view and a byte array per
 * entry; bench ofcodec). The others go through mfIsValueValid and Match.set.
 */
interface FastBits {
  readonly word: number;
  readonly shift: number;
  /** Value mask (unshifted) and the bits it covers in the word. */
  readonly vmask: number;
  readonly bits: number;
  /** Matching it implies an Ethernet packet (Match.set's default packet type). */
  readonly implies: boolean;
}

/** Fields whose set or value check is special (Match.set, mfSet, mfIsValueValid): never the fast path. */
const SPECIAL_SET = new Set([
  "ipv6_label", "nsh_mdtype", "nsh_ttl", "tcp_flags", "nd_options_type", "vlan_pcp", "packet_type",
  "tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid", "tun_gtpu_flags", "tun_gtpu_msgtype",
]);

const FAST_BITS = new Map<MfField, FastBits>();
for (const f of MF_FIELDS) {
  const b = mfKey(f);
  if (b === null || b.kind !== "bits" || f.bytes > 4 || mfValueLen(f) !== f.bytes || SPECIAL_SET.has(f.name) || f.name.startsWith("tun_metadata")) continue;
  FAST_BITS.set(f, { word: b.word, shift: b.shift, vmask: b.mask >>> 0, bits: (b.mask << b.shift) >>> 0, implies: f.prereqs !== "none" });
}

/** What decodeNxRaw needs of a field with a plain (non-experimenter) code, found by one array index. */
interface PlainCodeField {
  readonly fld: MfField;
  readonly fast: FastBits | undefined;
  /** mfValueLen(fld) is nonzero (get/set know the field). */
  readonly hasValue: boolean;
}

/** Index in PLAIN_CODE_FIELDS of a plain class (NXM0, NXM1, OpenFlow basic) and field; -1 for other classes. */
function plainCodeIndex(cls: number, field: number): number {
  const c = cls === OXM_CLASS_OPENFLOW_BASIC ? 2 : cls <= 1 ? cls : -1;
  return c < 0 ? -1 : c * 128 + field;
}

const PLAIN_CODE_FIELDS: (PlainCodeField | undefined)[] = new Array(3 * 128).fill(undefined);
for (let c = 0; c < 3 * 128; c++) {
  const cls = c >= 256 ? OXM_CLASS_OPENFLOW_BASIC : c >> 7;
  const fld = mfFromCode(0, cls, c & 127);
  if (fld !== null) PLAIN_CODE_FIELDS[c] = { fld, fast: FAST_BITS.get(fld), hasValue: mfValueLen(fld) !== 0 };
}

/** Match.set of a FastBits field: value `v` under mask `mk` (both already within the field's width). */
function setBitsFast(m: Match, d: FastBits, v: number, mk: number): void {
  if (mk !== 0 && d.implies && m.mask[W_PACKET_TYPE] === 0) {
    m.key[W_PACKET_TYPE] = 0;
    m.mask[W_PACKET_TYPE] = 0xffffffff;
  }
  const key = m.key;
  const mask = m.mask;
  key[d.word] = ((key[d.word]! & ~d.bits) | (((v & d.vmask) << d.shift) & d.bits)) >>> 0;
  mask[d.word] = ((mask[d.word]! & ~d.bits) | (((mk & d.vmask) << d.shift) & d.bits)) >>> 0;
}

/**
 * Decodes NXM/OXM TLVs (no header, no padding) into a Match. `strict`
 * (what a switch does with a flow_mod) rejects unknown fields and unmet
 * prerequisites; loose decoding (ovs-ofctl parse-nxm) skips unknown fields
 * and does not check prerequisites.
 */
export function decodeNxRaw(b: Uint8Array, strict = true): Match | DecodeError {
  const m = new Match();
  // Entry by entry, as OVS's nx_pull_raw: an entry's length, then its
  // field, then its value are checked before the next entry is looked at.
  let o = 0;
  while (o < b.length) {
    // The header, read in place (no header object per entry: a flow_mod's match is decoded per message).
    if (b.length - o < 4) return fail("OFPBMC_BAD_LEN");
    const word = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    const cls = word >>> 16;
    const exp = cls === OXM_CLASS_EXPERIMENTER;
    if (exp && b.length - o < 8) return fail("OFPBMC_BAD_LEN");
    const hasmask = (word & 0x100) !== 0;
    const length = exp ? (word & 0xff) - 4 : word & 0xff;
    const vendor = exp ? ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0 : 0;
    const hl = exp ? 8 : 4;
    const pi = exp ? -1 : plainCodeIndex(cls, (word >>> 9) & 0x7f);
    const plain = pi >= 0 ? PLAIN_CODE_FIELDS[pi] : undefined;
    const fld = pi >= 0 ? (plain?.fld ?? null) : mfFromCode(vendor, cls, (word >>> 9) & 0x7f);
    const fast = plain !== undefined ? plain.fast : fld !== null ? FAST_BITS.get(fld) : undefined;
    // OVS knows a field by its header including the length: a known class
    // and field with another length is an unknown field.
    // tun_metadata is variable-length (1 to 124 bytes, as the TLV map allocates it).
    const tunMd = fast === undefined && fld !== null && fld.name.startsWith("tun_metadata");
    const n = !fld ? 0 : tunMd ? (hasmask ? length / 2 : length) : fld.bytes;
    const lenOk = tunMd ? Number.isInteger(n) && n >= 0 && n <= 124 : length === (hasmask ? 2 * n : n);
    const known = fld !== null && (plain !== undefined ? plain.hasValue : mfValueLen(fld) !== 0) && lenOk;
    if (o + hl + length > b.length) return fail("OFPBMC_BAD_LEN");
    const p = o + hl;
    // A masked entry's value must lie inside its mask; OVS checks that on
    // the raw halves before it looks at the field.
    if (hasmask) {
      const half = length >> 1;
      for (let i = 0; i < half; i++) if (b[p + i]! & ~b[p + half + i]!) return fail("OFPBMC_BAD_WILDCARDS");
    }
    if (!known && strict) return fail("OFPBMC_BAD_FIELD");
    o += hl + length;
    if (!known) continue;
    if (hasmask && !fld.maskable) return fail("OFPBMC_BAD_MASK");
    if (fast !== undefined) {
      // The checks and the set below, on numbers read in place.
      let v = 0;
      let mk = 0;
      for (let i = 0; i < n; i++) v = v * 256 + b[p + i]!;
      if (hasmask) for (let i = 0; i < n; i++) mk = mk * 256 + b[p + n + i]!;
      else mk = 0xffffffff;
      if (((v & ~fast.vmask) >>> 0) !== 0) return fail("OFPBMC_BAD_VALUE");
      if (strict && !mfArePrereqsOk(fld, m)) return fail("OFPBMC_BAD_PREREQ");
      if ((m.mask[fast.word]! & fast.bits) !== 0) return fail("OFPBMC_DUP_FIELD");
      setBitsFast(m, fast, v & mk, mk);
      continue;
    }
    const payload = b.subarray(p, p + length);
    const value = payload.subarray(0, n);
    const mask = hasmask ? payload.subarray(n) : null;
    if (mask && value.some((x, i) => (x & ~mask[i]!) !== 0)) return fail("OFPBMC_BAD_WILDCARDS");
    if (!mfIsValueValid(fld, value)) return fail("OFPBMC_BAD_VALUE");
    if (strict && !mfArePrereqsOk(fld, m)) return fail("OFPBMC_BAD_PREREQ");
    if (!m.isWildcarded(fld)) return fail("OFPBMC_DUP_FIELD");
    // Without a TLV map a match has 256 bytes for its tun_metadata.
    if (m.tunMdError(fld, value, mask)) return fail("OFPBMC_BAD_VALUE");
    m.set(fld, value, mask);
  }
  return m;
}

/** Decodes an OXM ofp_match (with its 4-byte header; padding allowed after `length`). */
export function decodeOxmMatch(b: Uint8Array, strict = true): { match: Match; consumed: number } | DecodeError {
  if (b.length < 4) return fail("OFPBMC_BAD_LEN");
  const type = (b[0]! << 8) | b[1]!;
  const len = (b[2]! << 8) | b[3]!;
  if (type !== 1) return fail("OFPBMC_BAD_TYPE");
  if (len < 4 || ((len + 7) & ~7) > b.length) return fail("OFPBMC_BAD_LEN");
  const m = decodeNxRaw(b.subarray(4, len), strict);
  if ("decodeError" in m) return m;
  return { match: m, consumed: (len + 7) & ~7 };
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** OVS's nx_match_to_string: "NAME(value)" / "NAME_W(value/mask)" joined by ", ", or "<any>". */
export function nxMatchToString(b: Uint8Array): string {
  if (b.length === 0) return "<any>";
  const parts: string[] = [];
  let o = 0;
  while (o < b.length) {
    const h = decodeNxmHeader(b.subarray(o));
    const hl = h && h.class === 0xffff ? 8 : 4;
    if (!h || h.length <= 0 || o + hl + h.length > b.length) break;
    const p = b.subarray(o + hl, o + hl + h.length);
    const n = h.hasmask ? h.length / 2 : h.length;
    parts.push(`${formatNxmHeader(h)}(${hexOf(p.subarray(0, n))}${h.hasmask ? "/" + hexOf(p.subarray(n)) : ""})`);
    o += hl + h.length;
  }
  if (o < b.length) parts.push(`<${b.length - o} invalid bytes>`);
  return parts.join(", ");
}

/** The TLVs as text with raw 8-hex-digit headers (which ovs-ofctl parse-nxm also accepts), for any bytes. */
export function nxMatchToHexText(b: Uint8Array): string {
  const parts: string[] = [];
  let o = 0;
  while (o + 4 <= b.length) {
    const h = decodeNxmHeader(b.subarray(o));
    const hl = h && h.class === 0xffff ? 8 : 4;
    if (!h || h.length <= 0 || o + hl + h.length > b.length) break;
    const p = b.subarray(o + hl, o + hl + h.length);
    const n = h.hasmask ? h.length / 2 : h.length;
    parts.push(`${hexOf(b.subarray(o, o + hl))}(${hexOf(p.subarray(0, n))}${h.hasmask ? "/" + hexOf(p.subarray(n)) : ""})`);
    o += hl + h.length;
  }
  return parts.length ? parts.join(", ") : "<any>";
}

/** OVS's nx_match_from_string: the text form back into TLV bytes, or an error text. */
export function nxMatchFromString(s: string): Uint8Array | { error: string } {
  if (s.trim() === "<any>") return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  const re = /[\s,]*([^(\s,]+)\(([^)]*)\)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s))) {
    pos = re.lastIndex;
    const h = parseNxmHeader(m[1]!);
    if (!h) return { error: `${s}: unknown field \`${m[1]}'` };
    const [vs, ms] = m[2]!.split("/").map((x) => x.trim());
    const hexBytes = (t: string): Uint8Array => new Uint8Array((t.match(/../g) ?? []).map((x) => parseInt(x, 16)));
    const v = hexBytes(vs ?? "");
    const fld = mfFromHeader(h);
    const want = h.hasmask ? h.length / 2 : h.length;
    if (v.length !== want && !(fld && fld.name.startsWith("tun_metadata"))) return { error: `expected to read ${want} bytes but got ${v.length}` };
    h.length = h.hasmask ? 2 * v.length : v.length;
    const mk = h.hasmask ? hexBytes(ms ?? "") : new Uint8Array(0);
    if (h.hasmask && mk.length !== v.length) return { error: `${s}: missing / in masked field ${m[1]}` };
    parts.push(encodeNxmHeader(h), v, mk);
  }
  if (s.slice(pos).replace(/[\s,]/g, "") !== "") return { error: `${s}: missing ( at end of nx_match` };
  return concat(parts);
}

