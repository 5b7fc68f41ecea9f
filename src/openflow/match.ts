/**
 * An OpenFlow match: a flow key and a mask (two `Uint32Array`s of
 * FLOW_U32S words, the layout of src/flow/key-layout.ts), with set/get per
 * meta-flow field, OVS's prerequisite test (`mf_are_prereqs_ok`) and the
 * normalization OVS applies to a flow it is given (`ofputil_normalize_match`:
 * fields the match's dl_type/nw_proto make meaningless are wildcarded,
 * with OVS's "normalization changed ofp_match" log lines).
 *
 * The key is always kept masked (`key & mask == key`), so two matches are
 * equal exactly when their words are.
 */
import { FLOW_NW_FRAG_LATER, FLOW_U32S, REGION_GENEVE_START, REGION_OF_START, W_CT_STATE, W_DL_TYPE, W_NW_PROTO, W_PACKET_TYPE, W_TP_SRC, W_VLAN0 } from "../flow/key-layout.js";
import { MF_FIELDS, mfFromName, type MfField, type MfPrereq } from "./meta-flow.js";
import { isDynamicTunMetadata, mfGet, mfIsWildcarded, mfKey, mfSet, mfClear, TUN_METADATA_TOT_OPT_SIZE } from "./mf-key.js";

/** The fields a match can hold (tun_metadata through the TLV map, or in the match itself without one). */
export const MF_MATCHABLE_FIELDS: readonly MfField[] = MF_FIELDS.filter((f) => mfKey(f) !== null || f.name.startsWith("tun_metadata"));

/**
 * A tun_metadata field held by the match itself (no TLV map): its value
 * and mask, as many low-order bytes as OVS allocates for it (the
 * significant bytes of value and mask), and its allocation order.
 */
interface TunMdEntry {
  value: Uint8Array;
  mask: Uint8Array;
  /** Set with a mask that is not all ones over the whole 124-byte field: NXM/OXM carry the mask. */
  masked: boolean;
}

const TUN_MD_BYTES = 124;

/** OVS's field_len: bytes from the first nonzero one. */
function significantLen(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.length - i;
}

function rightAligned(b: Uint8Array, n: number): Uint8Array {
  if (b.length === n) return b;
  const out = new Uint8Array(n);
  if (b.length > n) out.set(b.subarray(b.length - n));
  else out.set(b, n - b.length);
  return out;
}

export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
export const ETH_TYPE_NSH = 0x894f;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const VLAN_CFI = 0x1000;
export const CS_TRACKED = 0x20;
export const CS_INVALID = 0x10;

/** Looks a field up by name and throws when it does not exist (for code, not user input). */
export function mf(name: string): MfField {
  const f = mfFromName(name);
  if (!f) throw new RangeError(`unknown field ${name}`);
  return f;
}

/**
 * Matches take their key and mask words from a shared slab: a flow_mod
 * decodes (and its action check may copy) a match of two 162-word arrays,
 * and a backing store per match was a visible part of adding a flow (an
 * off-heap allocation each, bench openflow). Matches are short-lived; the
 * few kept long are `detached()` first.
 */
const SLAB_MATCHES = 32;
let slab = new Uint32Array(0);
let slabUsed = SLAB_MATCHES;

/** The offset in `slab` of the next match's words (key, then mask). */
function slabTake(): number {
  if (slabUsed === SLAB_MATCHES) {
    slab = new Uint32Array(SLAB_MATCHES * 2 * FLOW_U32S);
    slabUsed = 0;
  }
  return slabUsed++ * 2 * FLOW_U32S;
}

const MASK_IS_VALUE = new Set(["tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid", "tun_gtpu_flags", "tun_gtpu_msgtype"]);

export class Match {
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
  /** tun_metadata held here while no TLV map is installed (null: none). */
  private tunMd: (TunMdEntry | undefined)[] | null = null;
  /** Bytes allocated to `tunMd` so far. */
  private tunMdUsed = 0;

  constructor(key?: Uint32Array, mask?: Uint32Array) {
    if (key !== undefined && mask !== undefined) {
      this.key = key;
      this.mask = mask;
    } else {
      const at = slabTake();
      this.key = key ?? slab.subarray(at, at + FLOW_U32S);
      this.mask = mask ?? slab.subarray(at + FLOW_U32S, at + 2 * FLOW_U32S);
    }
  }

  clone(): Match {
    const at = slabTake();
    const c = new Match(slab.subarray(at, at + FLOW_U32S), slab.subarray(at + FLOW_U32S, at + 2 * FLOW_U32S));
    c.key.set(this.key);
    c.mask.set(this.mask);
    return this.copyTunMdTo(c);
  }

  /**
   * A copy in arrays of its own, for a match kept long (a fresh match
   * shares its buffer with others made about the same time, and would keep
   * their memory too).
   */
  detached(): Match {
    const words = new Uint32Array(2 * FLOW_U32S);
    words.set(this.key);
    words.set(this.mask, FLOW_U32S);
    return this.copyTunMdTo(new Match(words.subarray(0, FLOW_U32S), words.subarray(FLOW_U32S)));
  }

  private copyTunMdTo(c: Match): Match {
    if (this.tunMd) {
      c.tunMd = this.tunMd.map((e) => (e ? { value: e.value.slice(), mask: e.mask.slice(), masked: e.masked } : undefined));
      c.tunMdUsed = this.tunMdUsed;
    }
    return c;
  }

  /** True when the match holds tun_metadata itself (no TLV map). */
  hasTunMd(): boolean {
    return this.tunMd !== null && this.tunMd.some((e) => e !== undefined);
  }

  /** Bytes allocated to tun_metadataN in this match (no TLV map), or -1 when it is not matched. */
  tunMdLen(index: number): number {
    return this.tunMd?.[index]?.value.length ?? -1;
  }

  /** Whether tun_metadataN (held by this match) was set with a mask, so NXM/OXM carry one. */
  tunMdMasked(index: number): boolean {
    return this.tunMd?.[index]?.masked ?? false;
  }

  /**
   * Why setting `fld` (a tun_metadata field held by the match) to this
   * value and mask would fail, in OVS's words, or null.
   */
  tunMdError(fld: MfField, value: Uint8Array, mask: Uint8Array | null): string | null {
    if (!isDynamicTunMetadata(fld)) return null;
    const index = Number(fld.name.slice("tun_metadata".length));
    const len = this.tunMdNeed(value, mask);
    if (this.tunMdUsed + len > TUN_METADATA_TOT_OPT_SIZE) {
      return `field ${fld.name} exceeds maximum size for tunnel metadata (used ${this.tunMdUsed + len}, max ${TUN_METADATA_TOT_OPT_SIZE})`;
    }
    if (this.tunMd?.[index]) return `field ${fld.name} set multiple times`;
    return null;
  }

  private tunMdNeed(value: Uint8Array, mask: Uint8Array | null): number {
    const v = rightAligned(value, TUN_MD_BYTES);
    const m = mask === null ? null : rightAligned(mask, TUN_MD_BYTES);
    const masked = m !== null && !m.every((x) => x === 0xff);
    return Math.max(significantLen(v), masked ? significantLen(m) : 0);
  }

  private setTunMd(index: number, value: Uint8Array, mask: Uint8Array | null): void {
    const m = mask === null ? null : rightAligned(mask, TUN_MD_BYTES);
    if (m !== null && m.every((x) => x === 0)) {
      if (this.tunMd) this.tunMd[index] = undefined;
      return;
    }
    const len = this.tunMdNeed(value, mask);
    const v = rightAligned(value, TUN_MD_BYTES);
    const masked = m !== null && !m.every((x) => x === 0xff);
    const e: TunMdEntry = { value: new Uint8Array(len), mask: new Uint8Array(len).fill(0xff), masked };
    for (let i = 0; i < len; i++) {
      const mb = m === null ? 0xff : m[TUN_MD_BYTES - len + i]!;
      e.mask[i] = mb;
      e.value[i] = v[TUN_MD_BYTES - len + i]! & mb;
    }
    if (!this.tunMd) this.tunMd = [];
    if (!this.tunMd[index]) this.tunMdUsed += len;
    this.tunMd[index] = e;
  }

  private getTunMd(index: number): { value: Uint8Array; mask: Uint8Array } {
    const e = this.tunMd?.[index];
    if (!e) return { value: new Uint8Array(TUN_MD_BYTES), mask: new Uint8Array(TUN_MD_BYTES) };
    return { value: rightAligned(e.value, TUN_MD_BYTES), mask: rightAligned(e.mask, TUN_MD_BYTES) };
  }

  private sameTunMd(o: Match): boolean {
    for (let i = 0; i < 64; i++) {
      const a = this.tunMd?.[i];
      const b = o.tunMd?.[i];
      if (!a && !b) continue;
      if (!a || !b || a.value.length !== b.value.length) return false;
      for (let j = 0; j < a.value.length; j++) if (a.value[j] !== b.value[j] || a.mask[j] !== b.mask[j]) return false;
    }
    return true;
  }

  equals(o: Match): boolean {
    for (let i = 0; i < FLOW_U32S; i++) if (this.key[i] !== o.key[i] || this.mask[i] !== o.mask[i]) return false;
    return (this.tunMd === null && o.tunMd === null) || this.sameTunMd(o);
  }

  /** True when nothing is matched (the catch-all match). */
  isCatchall(): boolean {
    for (let i = 0; i < FLOW_U32S; i++) if (this.mask[i] !== 0) return false;
    return !this.hasTunMd();
  }

  /** Sets `fld` (value and mask as big-endian bytes; mask null = exact). */
  set(fld: MfField | string, value: Uint8Array, mask: Uint8Array | null = null): this {
    const f = typeof fld === "string" ? mf(fld) : fld;
    if (isDynamicTunMetadata(f)) {
      this.setTunMd(Number(f.name.slice("tun_metadata".length)), value, mask);
      return this;
    }
    const matched = mask === null || mask.some((x) => x !== 0);
    // Matching a field that needs a packet header implies the default packet type (Ethernet), as OVS's mf_set.
    if (matched && f.prereqs !== "none" && f.name !== "packet_type" && this.mask[W_PACKET_TYPE] === 0) {
      this.key[W_PACKET_TYPE] = 0;
      this.mask[W_PACKET_TYPE] = 0xffffffff;
    }
    // OVS sets these tunnel fields' masks to value & mask (match_set_tun_*_masked), so a 0 matches nothing.
    if (MASK_IS_VALUE.has(f.name)) mask = (mask ?? value.map(() => 0xff)).map((x, i) => x & value[i]!);
    mfSet(this.key, this.mask, f, value, mask);
    // OVS stores the ND options type in tcp_flags: setting one replaces the other.
    if (f.name === "tcp_flags") mfClear(this.key, this.mask, mf("nd_options_type"));
    else if (f.name === "nd_options_type") mfClear(this.key, this.mask, mf("tcp_flags"));
    // vlan_pcp alone still means "a VLAN header is present", as OVS's match_set_dl_vlan_pcp.
    if (f.name === "vlan_pcp" && (mask === null || mask.some((x) => x !== 0))) {
      this.key[W_VLAN0] = (this.key[W_VLAN0]! | VLAN_CFI) >>> 0;
      this.mask[W_VLAN0] = (this.mask[W_VLAN0]! | VLAN_CFI) >>> 0;
    }
    return this;
  }

  /** Sets an integer field of up to 32 bits. */
  setNum(fld: MfField | string, value: number, mask: number | null = null): this {
    const f = typeof fld === "string" ? mf(fld) : fld;
    const n = f.bytes;
    const be = (v: number): Uint8Array => {
      const b = new Uint8Array(n);
      for (let i = n - 1, x = v >>> 0; i >= 0 && i >= n - 4; i--, x >>>= 8) b[i] = x & 0xff;
      return b;
    };
    return this.set(f, be(value), mask === null ? null : be(mask));
  }

  get(fld: MfField | string): { value: Uint8Array; mask: Uint8Array } {
    const f = typeof fld === "string" ? mf(fld) : fld;
    if (isDynamicTunMetadata(f)) return this.getTunMd(Number(f.name.slice("tun_metadata".length)));
    return mfGet(this.key, this.mask, f);
  }

  isWildcarded(fld: MfField | string): boolean {
    const f = typeof fld === "string" ? mf(fld) : fld;
    if (isDynamicTunMetadata(f)) return !this.tunMd?.[Number(f.name.slice("tun_metadata".length))];
    return mfIsWildcarded(this.mask, f);
  }

  clear(fld: MfField | string): this {
    const f = typeof fld === "string" ? mf(fld) : fld;
    if (isDynamicTunMetadata(f)) {
      if (this.tunMd) this.tunMd[Number(f.name.slice("tun_metadata".length))] = undefined;
      return this;
    }
    mfClear(this.key, this.mask, f);
    return this;
  }

  /**
   * The Ethernet type the match is about, as OVS's get_dl_type: dl_type
   * for Ethernet packets, the type of a packet_type (1,type) match, else
   * 0x05ff (no Ethernet type).
   */
  get dlType(): number {
    const pt = this.key[W_PACKET_TYPE]!;
    if (pt === 0) return this.key[W_DL_TYPE]! >>> 16;
    if (pt >>> 16 === 1) return pt & 0xffff;
    return 0x05ff;
  }
  get nwProto(): number {
    return this.key[W_NW_PROTO]! >>> 24;
  }
  get tpSrc(): number {
    return this.key[W_TP_SRC]! >>> 16;
  }
  get tpDst(): number {
    return this.key[W_TP_SRC]! & 0xffff;
  }
}

function isIpAny(m: Match): boolean {
  return m.dlType === ETH_TYPE_IP || m.dlType === ETH_TYPE_IPV6;
}

function isNd(m: Match): boolean {
  return m.dlType === ETH_TYPE_IPV6 && m.nwProto === IPPROTO_ICMPV6 && (m.tpSrc === ND_NEIGHBOR_SOLICIT || m.tpSrc === ND_NEIGHBOR_ADVERT) && m.tpDst === 0;
}

/** OVS's mf_are_prereqs_ok for a prerequisite class, on the match's (masked) values. */
export function prereqOk(p: MfPrereq, m: Match): boolean {
  const dl = m.dlType;
  // L4 fields exist only in first fragments (OVS checks !(nw_frag & LATER)).
  const l4 = (m.key[W_NW_PROTO]! & FLOW_NW_FRAG_LATER) === 0;
  switch (p) {
    case "none":
      return true;
    case "ethernet":
      return m.key[W_PACKET_TYPE] === 0;
    case "arp":
      return dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP;
    case "ipv4":
      return dl === ETH_TYPE_IP;
    case "ipv6":
      return dl === ETH_TYPE_IPV6;
    case "ip_any":
      return isIpAny(m);
    case "tcp":
      return isIpAny(m) && m.nwProto === IPPROTO_TCP && l4;
    case "udp":
      return isIpAny(m) && m.nwProto === IPPROTO_UDP && l4;
    case "sctp":
      return isIpAny(m) && m.nwProto === IPPROTO_SCTP && l4;
    case "icmpv4":
      return dl === ETH_TYPE_IP && m.nwProto === IPPROTO_ICMP;
    case "icmpv6":
      return dl === ETH_TYPE_IPV6 && m.nwProto === IPPROTO_ICMPV6;
    case "nd":
      return isNd(m);
    case "nd_solicit":
      return isNd(m) && m.tpSrc === ND_NEIGHBOR_SOLICIT;
    case "nd_advert":
      return isNd(m) && m.tpSrc === ND_NEIGHBOR_ADVERT;
    case "mpls":
      return dl === ETH_TYPE_MPLS || dl === ETH_TYPE_MPLS_MCAST;
    case "vlan_vid":
      // OVS's is_vlan: only Ethernet packets have VLAN headers.
      return m.key[W_PACKET_TYPE] === 0 && (m.key[W_VLAN0]! & VLAN_CFI) !== 0;
    case "ct": {
      // A valid connection: new/est/rel/rpl/snat/dnat matched set, or tracked with "invalid" matched clear (OVS is_ct_valid).
      const st = m.key[W_CT_STATE]! & 0xff;
      const msk = m.mask[W_CT_STATE]! & 0xff;
      return (st & 0xcf) !== 0 || ((st & CS_TRACKED) !== 0 && (msk & CS_INVALID) !== 0 && (st & CS_INVALID) === 0);
    }
    case "nsh":
      return dl === ETH_TYPE_NSH;
  }
}

/** OVS's mf_are_prereqs_ok: may `fld` be matched given the rest of `m`? */
export function mfArePrereqsOk(fld: MfField, m: Match): boolean {
  return prereqOk(fld.prereqs, m);
}

/* ---------------- normalization ---------------- */

const MAY_NW_ADDR = 1;
const MAY_TP_ADDR = 2;
const MAY_NW_PROTO = 4;
const MAY_IPVX = 8;
const MAY_ARP_SHA = 16;
const MAY_ARP_THA = 32;
const MAY_IPV6 = 64;
const MAY_ND_TARGET = 128;
const MAY_MPLS = 256;
const MAY_ETHER = 512;

/**
 * Wildcards the fields `m`'s dl_type and nw_proto leave meaningless, as
 * OVS's ofputil_normalize_match does for every flow it is handed (ARP has
 * no tos, IPv4 no IPv6 addresses, an unknown L4 protocol no ports...).
 * Returns true when `m` changed.
 */
export function normalizeMatch(m: Match): boolean {
  let may = 0;
  let dl: number;
  const ptMask = m.mask[W_PACKET_TYPE]!;
  const pt = m.key[W_PACKET_TYPE]!;
  if (ptMask === 0 || (pt === 0 && ptMask === 0xffffffff)) {
    may = MAY_ETHER;
    dl = m.dlType;
  } else if (ptMask === 0xffffffff && pt >>> 16 === 1) {
    dl = pt & 0xffff;
  } else {
    dl = 0;
  }
  const proto = m.nwProto;
  if (dl === ETH_TYPE_IP) {
    may |= MAY_NW_PROTO | MAY_IPVX | MAY_NW_ADDR;
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_ICMP) may |= MAY_TP_ADDR;
  } else if (dl === ETH_TYPE_IPV6) {
    may |= MAY_NW_PROTO | MAY_IPVX | MAY_IPV6;
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) may |= MAY_TP_ADDR;
    else if (proto === IPPROTO_ICMPV6) {
      may |= MAY_TP_ADDR;
      if (m.tpSrc === ND_NEIGHBOR_SOLICIT) may |= MAY_ND_TARGET | MAY_ARP_SHA;
      else if (m.tpSrc === ND_NEIGHBOR_ADVERT) may |= MAY_ND_TARGET | MAY_ARP_THA;
    }
  } else if (dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP) {
    may |= MAY_NW_PROTO | MAY_NW_ADDR | MAY_ARP_SHA | MAY_ARP_THA;
  } else if (dl === ETH_TYPE_MPLS || dl === ETH_TYPE_MPLS_MCAST) {
    may |= MAY_MPLS;
  }
  // Normalizing only clears key/mask words: remember those (in scratch
  // arrays, not a clone: this runs for every flow_mod decoded).
  BEFORE_KEY.set(m.key);
  BEFORE_MASK.set(m.mask);
  const clear = (...names: string[]): void => {
    for (const n of names) m.clear(n);
  };
  if (!(may & MAY_ETHER)) clear("eth_src", "eth_dst");
  if (!(may & MAY_NW_ADDR)) clear("ip_src", "ip_dst");
  if (!(may & MAY_TP_ADDR)) clear("tcp_src", "tcp_dst");
  if (!(may & MAY_NW_PROTO)) clear("nw_proto");
  if (!(may & MAY_IPVX)) clear("nw_tos", "nw_ecn", "nw_ttl");
  if (!(may & MAY_ARP_SHA)) clear("arp_sha");
  if (!(may & MAY_ARP_THA)) clear("arp_tha");
  if (!(may & MAY_IPV6)) clear("ipv6_src", "ipv6_dst", "ipv6_label");
  if (!(may & MAY_ND_TARGET)) clear("nd_target");
  if (!(may & MAY_MPLS)) {
    for (let w = 17; w < 20; w++) {
      m.key[w] = 0;
      m.mask[w] = 0;
    }
  }
  for (let i = 0; i < FLOW_U32S; i++) if (m.key[i] !== BEFORE_KEY[i] || m.mask[i] !== BEFORE_MASK[i]) return true;
  return false;
}

const BEFORE_KEY = new Uint32Array(FLOW_U32S);
const BEFORE_MASK = new Uint32Array(FLOW_U32S);

/**
 * Wildcards every field of `m` whose prerequisites `m` itself does not
 * meet (nw_src without an IP dl_type, tp_dst without tcp/udp/sctp ...),
 * repeating until nothing changes, since clearing one field can break
 * another's prerequisite. This is the form a flow takes when OVS accepts
 * it from a protocol that cannot carry the unmet fields. Returns the names
 * of the fields cleared.
 */
export function clearUnmetPrereqs(m: Match): string[] {
  const cleared: string[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const f of MF_MATCHABLE_FIELDS) {
      if (f.prereqs === "none" || m.isWildcarded(f) || mfArePrereqsOk(f, m)) continue;
      m.clear(f);
      cleared.push(f.name);
      changed = true;
    }
  }
  return cleared;
}

/**
 * The error OVS gives a flow_mod whose match is inconsistent beyond field
 * prerequisites: conntrack original-direction addresses of the other IP
 * version than the match's dl_type (OFPBAC_MATCH_INCONSISTENT). Null when
 * consistent. (For the flow_mod decoder to call after the match.)
 */
export function flowModMatchError(m: Match): "OFPBAC_MATCH_INCONSISTENT" | null {
  const dl = m.key[W_DL_TYPE]! >>> 16;
  const v4 = !m.isWildcarded(CT_NW_SRC) || !m.isWildcarded(CT_NW_DST);
  const v6 = !m.isWildcarded(CT_IPV6_SRC) || !m.isWildcarded(CT_IPV6_DST);
  if ((v4 && dl !== ETH_TYPE_IP) || (v6 && dl !== ETH_TYPE_IPV6)) return "OFPBAC_MATCH_INCONSISTENT";
  return null;
}

// Looked up once: every flow_mod asks about them.
const CT_NW_SRC = mf("ct_nw_src");
const CT_NW_DST = mf("ct_nw_dst");
const CT_IPV6_SRC = mf("ct_ipv6_src");
const CT_IPV6_DST = mf("ct_ipv6_dst");

/** True when any Geneve option byte (where tun_metadata lives) is matched: lets code skip the 64 tun_metadata fields. */
export function geneveMasked(m: Match): boolean {
  if (m.hasTunMd()) return true;
  // The 63 Geneve words ORed together (every NXM/OXM encoding asks, a dump
  // once per flow): cheaper than a call into memcmp with its checks.
  const mask = m.mask;
  let any = 0;
  for (let i = REGION_GENEVE_START; i < REGION_OF_START; i++) any |= mask[i]!;
  return any !== 0;
}
