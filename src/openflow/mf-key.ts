/**
 * Where every meta-flow field (src/openflow/meta-flow.ts) lives in the
 * flow key (src/flow/key-layout.ts), and get/set of a field's value and
 * mask on a key/mask pair of `Uint32Array`s.
 *
 * Three kinds of binding:
 * - `bits`: an integer at `(key[word] >>> shift) & mask`; `mask` is in
 *   value units and may have holes (nw_tos is the tos byte with the ECN
 *   bits cleared, so its mask is 0xfc). This covers OVS's overlays: ARP
 *   over nw_proto/nw_src/nw_dst, ICMP type/code over tp_src/tp_dst, the
 *   VLAN views of the first TCI, the MPLS views of the first LSE, and the
 *   dscp/ecn views of the tos byte.
 * - `bytes`: a byte string at key byte `offset` (MACs, IPv6 addresses,
 *   64/128-bit ids, and xreg/xxreg, which are consecutive registers).
 * - `port32`: a 32-bit OpenFlow 1.1+ port number carried in a key word
 *   that holds the 16-bit OpenFlow 1.0 port (in_port_oxm, actset_output),
 *   converted as OVS's ofputil_port_from_ofp11 does.
 *
 * tun_metadata0..63 are bound through a TLV map once one is installed
 * (`setTunMetadataMap`, what add-tlv-map sets up). Without a map — as in
 * ovs-ofctl's offline commands — they have no place in the flow key: each
 * Match allocates room for the ones it matches, as many bytes as the value
 * needs (OVS's per-match tun_metadata allocation; see match.ts).
 */
import {
  O_ARP_SHA, O_ARP_THA, O_CT_IPV6_DST, O_CT_IPV6_SRC, O_CT_LABEL, O_ETH_DST, O_ETH_SRC,
  O_IPV6_DST, O_IPV6_SRC, O_METADATA, O_ND_TARGET, O_TUN_GENEVE, O_TUN_ID, O_TUN_IPV6_DST, O_TUN_IPV6_SRC,
  W_ACTSET_OUTPUT, W_CONJ_ID, W_CT_MARK, W_CT_NW_DST, W_CT_NW_SRC, W_CT_STATE, W_CT_TP_SRC, W_DL_TYPE,
  W_DP_HASH, W_IN_PORT, W_IPV6_LABEL, W_MPLS_LSE0, W_ND_OPTIONS_TYPE, W_ND_RESERVED,
  W_NSH_C1, W_NSH_FLAGS, W_NSH_SPI, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_PACKET_TYPE, W_PKT_MARK,
  W_RECIRC_ID, W_REG0, W_SKB_PRIORITY, W_TCP_FLAGS, W_TP_SRC, W_TUN_DST, W_TUN_ERSPAN_IDX, W_TUN_FLAGS,
  W_TUN_GBP_ID, W_TUN_GENEVE_LEN, W_TUN_SRC, W_VLAN0, GENEVE_OPTS_MAX,
} from "../flow/key-layout.js";
import { keyByte, setKeyByte } from "../flow/key-ops.js";
import { MF_FIELDS, type MfField, type MfValue } from "./meta-flow.js";

export interface MfKeyBits {
  readonly kind: "bits";
  readonly word: number;
  readonly shift: number;
  /** Mask in value units (unshifted). */
  readonly mask: number;
}
export interface MfKeyBytes {
  readonly kind: "bytes";
  readonly offset: number;
  readonly len: number;
}
export interface MfKeyPort32 {
  readonly kind: "port32";
  readonly word: number;
}
export type MfKey = MfKeyBits | MfKeyBytes | MfKeyPort32;

/** Bytes of Geneve option space a tun_metadata field may take (OVS's maximum option length). */
export const TUN_METADATA_DEFAULT_LEN = 124;

const bits = (word: number, shift: number, mask: number): MfKeyBits => ({ kind: "bits", word, shift, mask });
const bytes = (offset: number, len: number): MfKeyBytes => ({ kind: "bytes", offset, len });
const full = (word: number): MfKeyBits => bits(word, 0, 0xffffffff);

/**
 * The key words a field occupies and its bits in each, as pairs
 * [word, bits, word, bits, ...]: testing a mask for a field is then a few
 * word ANDs however wide the field (encoding an NXM match asks it of
 * every field, most of them wildcarded; bench ofcodec).
 */
const FIELD_WORDS = new Map<MfField, Uint32Array>();
const NO_WORDS = new Uint32Array(0);

const BINDINGS: Record<string, MfKey> = {
  dp_hash: full(W_DP_HASH),
  recirc_id: full(W_RECIRC_ID),
  conj_id: full(W_CONJ_ID),
  tun_id: bytes(O_TUN_ID, 8),
  tun_src: full(W_TUN_SRC),
  tun_dst: full(W_TUN_DST),
  tun_ipv6_src: bytes(O_TUN_IPV6_SRC, 16),
  tun_ipv6_dst: bytes(O_TUN_IPV6_DST, 16),
  tun_gbp_id: bits(W_TUN_GBP_ID, 16, 0xffff),
  tun_gbp_flags: bits(W_TUN_GBP_ID, 8, 0xff),
  tun_erspan_idx: bits(W_TUN_ERSPAN_IDX, 0, 0xfffff),
  tun_erspan_ver: bits(W_TUN_ERSPAN_IDX, 20, 0xf),
  tun_erspan_dir: bits(W_TUN_ERSPAN_IDX, 24, 0x1),
  tun_erspan_hwid: bits(W_TUN_ERSPAN_IDX, 25, 0x3f),
  tun_gtpu_flags: bits(W_TUN_GENEVE_LEN, 8, 0xff),
  tun_gtpu_msgtype: bits(W_TUN_GENEVE_LEN, 16, 0xff),
  // The public OAM flag (bit 0 in OpenFlow) is FLOW_TNL_F_OAM (bit 3) of the key.
  tun_flags: bits(W_TUN_FLAGS, 3, 0x1),
  in_port: bits(W_IN_PORT, 0, 0xffff),
  in_port_oxm: { kind: "port32", word: W_IN_PORT },
  skb_priority: full(W_SKB_PRIORITY),
  pkt_mark: full(W_PKT_MARK),
  actset_output: { kind: "port32", word: W_ACTSET_OUTPUT },
  packet_type: full(W_PACKET_TYPE),
  ct_state: bits(W_CT_STATE, 0, 0xff),
  ct_nw_proto: bits(W_CT_STATE, 8, 0xff),
  ct_zone: bits(W_CT_STATE, 16, 0xffff),
  ct_mark: full(W_CT_MARK),
  ct_label: bytes(O_CT_LABEL, 16),
  ct_nw_src: full(W_CT_NW_SRC),
  ct_nw_dst: full(W_CT_NW_DST),
  ct_ipv6_src: bytes(O_CT_IPV6_SRC, 16),
  ct_ipv6_dst: bytes(O_CT_IPV6_DST, 16),
  ct_tp_src: bits(W_CT_TP_SRC, 16, 0xffff),
  ct_tp_dst: bits(W_CT_TP_SRC, 0, 0xffff),
  metadata: bytes(O_METADATA, 8),
  eth_src: bytes(O_ETH_SRC, 6),
  eth_dst: bytes(O_ETH_DST, 6),
  eth_type: bits(W_DL_TYPE, 16, 0xffff),
  vlan_tci: bits(W_VLAN0, 0, 0xffff),
  // OXM vlan_vid includes the "present" bit (OFPVID_PRESENT = CFI 0x1000).
  vlan_vid: bits(W_VLAN0, 0, 0x1fff),
  vlan_pcp: bits(W_VLAN0, 13, 0x7),
  mpls_label: bits(W_MPLS_LSE0, 12, 0xfffff),
  mpls_tc: bits(W_MPLS_LSE0, 9, 0x7),
  mpls_bos: bits(W_MPLS_LSE0, 8, 0x1),
  mpls_ttl: bits(W_MPLS_LSE0, 0, 0xff),
  ip_src: full(W_NW_SRC),
  ip_dst: full(W_NW_DST),
  ipv6_src: bytes(O_IPV6_SRC, 16),
  ipv6_dst: bytes(O_IPV6_DST, 16),
  // OVS keeps a full 32-bit mask for the 20-bit label and 16 bits for the 12 TCP flags.
  ipv6_label: full(W_IPV6_LABEL),
  nw_proto: bits(W_NW_PROTO, 24, 0xff),
  nw_tos: bits(W_NW_PROTO, 16, 0xfc),
  ip_dscp: bits(W_NW_PROTO, 18, 0x3f),
  nw_ecn: bits(W_NW_PROTO, 16, 0x3),
  nw_ttl: bits(W_NW_PROTO, 8, 0xff),
  ip_frag: bits(W_NW_PROTO, 0, 0x3),
  arp_op: bits(W_NW_PROTO, 24, 0xff),
  arp_spa: full(W_NW_SRC),
  arp_tpa: full(W_NW_DST),
  arp_sha: bytes(O_ARP_SHA, 6),
  arp_tha: bytes(O_ARP_THA, 6),
  nsh_flags: bits(W_NSH_FLAGS, 24, 0xff),
  nsh_ttl: bits(W_NSH_FLAGS, 16, 0xff),
  nsh_mdtype: bits(W_NSH_FLAGS, 8, 0xff),
  nsh_np: bits(W_NSH_FLAGS, 0, 0xff),
  nsh_spi: bits(W_NSH_SPI, 8, 0xffffff),
  nsh_si: bits(W_NSH_SPI, 0, 0xff),
  nsh_c1: full(W_NSH_C1),
  nsh_c2: full(W_NSH_C1 + 1),
  nsh_c3: full(W_NSH_C1 + 2),
  nsh_c4: full(W_NSH_C1 + 3),
  tcp_src: bits(W_TP_SRC, 16, 0xffff),
  tcp_dst: bits(W_TP_SRC, 0, 0xffff),
  tcp_flags: bits(W_TCP_FLAGS, 0, 0xffff),
  udp_src: bits(W_TP_SRC, 16, 0xffff),
  udp_dst: bits(W_TP_SRC, 0, 0xffff),
  sctp_src: bits(W_TP_SRC, 16, 0xffff),
  sctp_dst: bits(W_TP_SRC, 0, 0xffff),
  icmp_type: bits(W_TP_SRC, 16, 0xffff),
  icmp_code: bits(W_TP_SRC, 0, 0xffff),
  icmpv6_type: bits(W_TP_SRC, 16, 0xffff),
  icmpv6_code: bits(W_TP_SRC, 0, 0xffff),
  nd_target: bytes(O_ND_TARGET, 16),
  nd_sll: bytes(O_ARP_SHA, 6),
  nd_tll: bytes(O_ARP_THA, 6),
  nd_reserved: full(W_ND_RESERVED),
  nd_options_type: bits(W_ND_OPTIONS_TYPE, 0, 0xff),
};
for (let i = 0; i < 16; i++) BINDINGS[`reg${i}`] = full(W_REG0 + i);
for (let i = 0; i < 8; i++) BINDINGS[`xreg${i}`] = bytes((W_REG0 + 2 * i) * 4, 8);
for (let i = 0; i < 4; i++) BINDINGS[`xxreg${i}`] = bytes((W_REG0 + 4 * i) * 4, 16);
/** Where one tun_metadata field lives in the Geneve option bytes (an entry of the TLV map). */
export interface TunMetadataSlot {
  /** N of tun_metadataN (0..63). */
  readonly index: number;
  /** Byte offset inside the Geneve option space (0..251). */
  readonly offset: number;
  /** Length in bytes (1..124). */
  readonly len: number;
  /** The Geneve option (class, type) the field carries (the TLV map entry), when known. */
  readonly optClass?: number;
  readonly optType?: number;
}

/**
 * Installs the TLV map: each listed tun_metadataN gets its slot, the
 * others become unbound (unmatchable). `null` restores the default map
 * (field N at byte 4*N, 4 bytes, for N = 0..62). Returns an error text
 * for a bad map (and then changes nothing).
 */
export function setTunMetadataMap(slots: readonly TunMetadataSlot[] | null): string | null {
  const list: TunMetadataSlot[] = slots ? [...slots] : [];
  const seen = new Set<number>();
  for (const x of list) {
    if (!Number.isInteger(x.index) || x.index < 0 || x.index > 63 || seen.has(x.index)) return `tun_metadata${x.index}: bad or duplicate index`;
    if (x.len < 1 || x.len > 124 || x.offset < 0 || x.offset + x.len > GENEVE_OPTS_MAX) return `tun_metadata${x.index}: does not fit the ${GENEVE_OPTS_MAX}-byte option space`;
    seen.add(x.index);
  }
  for (let i = 0; i < 64; i++) delete BINDINGS[`tun_metadata${i}`];
  FIELD_WORDS.clear();
  for (const x of list) BINDINGS[`tun_metadata${x.index}`] = bytes(O_TUN_GENEVE + x.offset, x.len);
  tunMapInstalled = slots !== null;
  installedSlots = slots === null ? null : list.slice().sort((a, b) => a.index - b.index);
  return null;
}

let tunMapInstalled = false;
let installedSlots: TunMetadataSlot[] | null = null;

/** The installed TLV map (by field index), or null when none is installed. */
export function tunMetadataSlots(): readonly TunMetadataSlot[] | null {
  return installedSlots;
}

/**
 * Slots for a TLV map (what `add-tlv-map` installs): each entry gets the
 * first free 4-byte-aligned room of its length in the Geneve option space,
 * in the order given (OVS's first-fit allocation). Null when they do not fit.
 */
export function allocTunMetadataSlots(entries: readonly { index: number; optionClass: number; optionType: number; optionLen: number }[]): TunMetadataSlot[] | null {
  const used = new Uint8Array(GENEVE_OPTS_MAX / 4);
  const out: TunMetadataSlot[] = [];
  for (const e of entries) {
    const n = Math.max(1, Math.ceil(e.optionLen / 4));
    let at = -1;
    for (let i = 0; i + n <= used.length && at < 0; i++) {
      let free = true;
      for (let j = 0; j < n; j++) if (used[i + j]) free = false;
      if (free) at = i;
    }
    if (at < 0) return null;
    used.fill(1, at, at + n);
    out.push({ index: e.index, offset: at * 4, len: Math.max(1, e.optionLen), optClass: e.optionClass, optType: e.optionType });
  }
  return out;
}

/** Total bytes one match may give its tun_metadata fields when no TLV map is installed (OVS's TUN_METADATA_TOT_OPT_SIZE). */
export const TUN_METADATA_TOT_OPT_SIZE = 256;

/** True for tun_metadataN while no TLV map is installed: the Match itself holds it. */
export function isDynamicTunMetadata(fld: MfField): boolean {
  return !tunMapInstalled && fld.name.startsWith("tun_metadata");
}

setTunMetadataMap(null);

/** The flow-key binding of a field, or null when it has none (e.g. a tun_metadata beyond the map). */
export function mfKey(fld: MfField): MfKey | null {
  return BINDINGS[fld.name] ?? null;
}

/** Fields of MF_FIELDS without a binding (a test checks this list). */
export function unboundMfFields(): string[] {
  return MF_FIELDS.filter((f) => !BINDINGS[f.name]).map((f) => f.name);
}

/** Width in bytes of the value bytes of a field as get/set use them. */
export function mfValueLen(fld: MfField): number {
  const b = BINDINGS[fld.name];
  if (b && b.kind === "bytes") return b.len;
  return fld.bytes;
}

function toNum(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = (v * 256 + b[i]!) % 0x100000000;
  return v >>> 0;
}

function fromNum(v: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    out[i] = v & 0xff;
    v >>>= 8;
  }
  return out;
}

function getBits(key: Uint32Array, b: MfKeyBits): number {
  return ((key[b.word]! >>> b.shift) & b.mask) >>> 0;
}

function putBits(key: Uint32Array, b: MfKeyBits, v: number): void {
  const m = (b.mask << b.shift) >>> 0;
  key[b.word] = ((key[b.word]! & ~m) | (((v & b.mask) << b.shift) & m)) >>> 0;
}

/** OpenFlow 1.1+ port (32 bits) to the 16-bit OpenFlow 1.0 form, or null when it has none. */
export function mfPortFromOfp11(p: number): number | null {
  if (p < 0xff00) return p;
  if (p >= 0xffffff00) return (p - 0xffff0000) >>> 0;
  return null;
}

/** 16-bit OpenFlow 1.0 port to the 32-bit OpenFlow 1.1+ form. */
export function mfPortToOfp11(p: number): number {
  return p >= 0xff00 ? (p + 0xffff0000) >>> 0 : p;
}

/** The value and mask of `fld` in a key/mask pair, as big-endian bytes of the field's width. */
export function mfGet(key: Uint32Array, mask: Uint32Array, fld: MfField): { value: Uint8Array; mask: Uint8Array } {
  const b = BINDINGS[fld.name];
  const n = mfValueLen(fld);
  if (!b) return { value: new Uint8Array(n), mask: new Uint8Array(n) };
  switch (b.kind) {
    case "bits":
      return { value: fromNum(getBits(key, b), n), mask: fromNum(getBits(mask, b), n) };
    case "port32": {
      const m = mask[b.word]! & 0xffff;
      return { value: fromNum(m ? mfPortToOfp11(key[b.word]! & 0xffff) : 0, n), mask: fromNum(m === 0xffff ? 0xffffffff : m, n) };
    }
    case "bytes": {
      const v = new Uint8Array(b.len);
      const m = new Uint8Array(b.len);
      for (let i = 0; i < b.len; i++) {
        v[i] = keyByte(key, b.offset + i);
        m[i] = keyByte(mask, b.offset + i);
      }
      return { value: v, mask: m };
    }
  }
}


function fieldWords(fld: MfField): Uint32Array {
  let w = FIELD_WORDS.get(fld);
  if (w !== undefined) return w;
  const b = BINDINGS[fld.name];
  if (!b) w = NO_WORDS;
  else if (b.kind === "bits") w = Uint32Array.of(b.word, (b.mask << b.shift) >>> 0);
  else if (b.kind === "port32") w = Uint32Array.of(b.word, 0xffff);
  else {
    const pairs: number[] = [];
    for (let i = b.offset; i < b.offset + b.len; i++) {
      const word = i >>> 2;
      const bitsOfByte = (0xff << (24 - 8 * (i & 3))) >>> 0;
      if (pairs.length > 0 && pairs[pairs.length - 2] === word) pairs[pairs.length - 1] = (pairs[pairs.length - 1]! | bitsOfByte) >>> 0;
      else pairs.push(word, bitsOfByte);
    }
    w = Uint32Array.from(pairs);
  }
  FIELD_WORDS.set(fld, w);
  return w;
}

/** True when no bit of `fld` is matched in `mask`. */
export function mfIsWildcarded(mask: Uint32Array, fld: MfField): boolean {
  const w = fieldWords(fld);
  for (let i = 0; i < w.length; i += 2) if ((mask[w[i]!]! & w[i + 1]!) !== 0) return false;
  return true;
}

/**
 * True when `value` is a value `fld` can hold: it fits the field's bits
 * (nw_tos needs its ECN bits clear, vlan_pcp fits 3 bits, a port32 has a
 * 16-bit form ...), as OVS's mf_is_value_valid.
 */
export function mfIsValueValid(fld: MfField, value: Uint8Array): boolean {
  if (isDynamicTunMetadata(fld)) return true;
  const b = BINDINGS[fld.name];
  if (!b) return false;
  if (b.kind === "bytes") return true;
  const v = toNum(value);
  if (b.kind === "port32") return mfPortFromOfp11(v) !== null;
  if (fld.name === "ipv6_label") return v <= 0xfffff;
  if (fld.name === "nsh_mdtype") return v === 1 || v === 2;
  if (fld.name === "nsh_ttl") return v <= 63;
  if (value.length > 4 && value.subarray(0, value.length - 4).some((x) => x !== 0)) return false;
  return ((v & ~b.mask) >>> 0) === 0;
}

/**
 * Sets `fld` to `value` under `mask` (null: exact) in a key/mask pair:
 * bits outside the mask are cleared in the key, as OVS keeps matches
 * normalized. Bits the field cannot hold are dropped.
 */
export function mfSet(key: Uint32Array, maskKey: Uint32Array, fld: MfField, value: Uint8Array, mask: Uint8Array | null): void {
  const b = BINDINGS[fld.name];
  if (!b) throw new RangeError(`${fld.name}: no flow-key binding`);
  switch (b.kind) {
    case "bits": {
      const m = mask === null ? 0xffffffff : toNum(mask);
      // The 20-bit label and the 12 TCP flags keep wider masks (as OVS) but not wider values.
      const vmask = fld.name === "ipv6_label" ? 0xfffff : fld.name === "tcp_flags" ? 0xfff : 0xffffffff;
      const v = toNum(value) & m & vmask;
      putBits(key, b, v);
      putBits(maskKey, b, m);
      return;
    }
    case "port32": {
      const m = mask === null ? 0xffffffff : toNum(mask);
      const p = mfPortFromOfp11(toNum(value) & m) ?? 0;
      key[b.word] = m ? p & 0xffff : 0;
      maskKey[b.word] = m ? 0xffff : 0;
      return;
    }
    case "bytes": {
      const off = value.length - b.len;
      for (let i = 0; i < b.len; i++) {
        const vb = value[off + i] ?? 0;
        const mb = mask === null ? 0xff : mask[mask.length - b.len + i] ?? 0;
        setKeyByte(key, b.offset + i, vb & mb);
        setKeyByte(maskKey, b.offset + i, mb);
      }
      return;
    }
  }
}

/** Wildcards `fld` entirely (clears its bits in both key and mask). */
export function mfClear(key: Uint32Array, maskKey: Uint32Array, fld: MfField): void {
  const b = BINDINGS[fld.name];
  if (!b) return;
  const zero = new Uint8Array(mfValueLen(fld));
  mfSet(key, maskKey, fld, zero, zero);
}

/** A value as MfValue for formatMfValue: mask null when exact. */
export function mfGetValue(key: Uint32Array, mask: Uint32Array, fld: MfField): MfValue {
  const r = mfGet(key, mask, fld);
  return { value: r.value, mask: r.mask };
}

