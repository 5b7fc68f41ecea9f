/**
 * Committing flow changes to datapath actions (OVS's commit_odp_actions).
 *
 * Translation edits its working flow as OpenFlow actions run; the packet
 * in the datapath only changes when a datapath action says so. Before
 * every output (and userspace, recirc, clone ...) the difference between
 * the working flow and the "base" flow (what the datapath packet looks like
 * after the actions emitted so far) becomes set / set_masked, push/pop_vlan
 * and push/pop/set MPLS actions, and the base catches up.
 *
 * Per datapath key attribute (ethernet, ipv4, ipv6, arp, tcp/udp/sctp,
 * icmp, priority, skb_mark) the rule is OVS's: a field counts only when
 * some bit of it is in the megaflow mask (it was read or written); the
 * attribute is written when such a field differs; it is written as
 * set_masked with the mask, unless every bit is masked (plain set), and a
 * plain set un-wildcards the whole attribute. ARP and ICMP rewrites cannot
 * be masked and make the flow slow-pathed (SLOW_ACTION).
 */
import type { OdpActionsBuilder } from "../datapath/odp-actions.js";
import {
  OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_ARP, OVS_KEY_ATTR_ETHERNET, OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6, OVS_KEY_ATTR_IPV4,
  OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_MPLS, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_SCTP, OVS_KEY_ATTR_SKB_MARK,
  OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP,
} from "../flow/odp-attrs.js";
import {
  W_DL_TYPE, S_DL_TYPE, W_MPLS_LSE0, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_PACKET_TYPE, W_PKT_MARK,
  W_SKB_PRIORITY, W_TP_SRC, W_VLAN0, W_VLAN1, W_IPV6_LABEL, W_IPV6_SRC, W_ARP_SHA,
} from "../flow/key-layout.js";
import { SLOW_ACTION } from "./xlate-types.js";

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_RARP = 0x8035;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

export function dlType(f: Uint32Array): number {
  return f[W_DL_TYPE]! >>> S_DL_TYPE;
}
export function isMplsType(t: number): boolean {
  return t === 0x8847 || t === 0x8848;
}
export function nwProto(f: Uint32Array): number {
  return f[W_NW_PROTO]! >>> 24;
}

/* Scratch structs: key (working flow), base, mask, one triple per attribute size. */
const K = new Uint8Array(40);
const B = new Uint8Array(40);
const M = new Uint8Array(40);
/** Views of the scratch structs per attribute size (2, 4, 12, 24, 40 bytes), made once. */
const VIEWS: [Uint8Array, Uint8Array, Uint8Array][] = [];
for (let n = 0; n <= 40; n++) VIEWS.push([K.subarray(0, n), B.subarray(0, n), M.subarray(0, n)]);
function trio(n: number): [Uint8Array, Uint8Array, Uint8Array] {
  return VIEWS[n]!;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function putLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}
/** Copies `n` key bytes starting at key byte `kb` into `out` at `o`. */
function keyBytes(f: Uint32Array, kb: number, n: number, out: Uint8Array, o: number): void {
  for (let i = 0; i < n; i++) {
    const b = kb + i;
    out[o + i] = (f[b >>> 2]! >>> (24 - 8 * (b & 3))) & 0xff;
  }
}
function setKeyBytesAll(f: Uint32Array, kb: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = kb + i;
    f[b >>> 2] = (f[b >>> 2]! | (0xff << (24 - 8 * (b & 3)))) >>> 0;
  }
}
function copyKeyBytes(dst: Uint32Array, src: Uint32Array, kb: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = kb + i;
    const sh = 24 - 8 * (b & 3);
    const m = (0xff << sh) >>> 0;
    dst[b >>> 2] = ((dst[b >>> 2]! & ~m) | (src[b >>> 2]! & m)) >>> 0;
  }
}

/** Field boundaries of each attribute's struct: [offset, size, ...]. */
const F_ETH = [0, 6, 6, 6];
const F_IPV4 = [0, 4, 4, 4, 8, 1, 9, 1, 10, 1, 11, 1];
const F_IPV6 = [0, 16, 16, 16, 32, 4, 36, 1, 37, 1, 38, 1, 39, 1];
const F_PORTS = [0, 2, 2, 2];
const F_ARP = [0, 4, 4, 4, 8, 2, 10, 6, 16, 6];
const F_ICMP = [0, 1, 1, 1];
const F_U32 = [0, 4];

function allZero(b: Uint8Array, o: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0) return false;
  return true;
}
function allOnes(b: Uint8Array, o: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0xff) return false;
  return true;
}

/**
 * OVS's commit(): the attribute is written when any field differs from
 * the base; fields equal to the base drop out of the mask (a set_masked
 * then writes only what changed). 0 = nothing to do; 1 = written masked
 * (the megaflow mask is unchanged); 2 = written as a plain set (the caller
 * un-wildcards the whole attribute).
 */
function commitAttr(
  odp: OdpActionsBuilder, attr: number, k: Uint8Array, b: Uint8Array, m: Uint8Array, fields: readonly number[],
  useMasked: boolean, exactLen: number,
): number {
  let differ = false;
  for (let i = 0; i < fields.length; i += 2) {
    const o = fields[i]!;
    const n = fields[i + 1]!;
    let same = true;
    for (let j = 0; j < n; j++) {
      if (k[o + j] !== b[o + j]) {
        same = false;
        break;
      }
    }
    if (same) m.fill(0, o, o + n);
    else differ = true;
  }
  if (!differ) return 0;
  const exact = exactLen > 0 && allOnes(m, 0, exactLen);
  if (useMasked && !exact) {
    putSetMasked(odp, attr, k, m);
    return 1;
  }
  odp.set(attr, k);
  return 2;
}

/** set_masked(attr(value & mask, mask)) written straight into the builder. */
function putSetMasked(odp: OdpActionsBuilder, attr: number, k: Uint8Array, m: Uint8Array): void {
  const w = odp.w;
  const n = w.startNested(OVS_ACTION_ATTR_SET_MASKED);
  const len = k.length;
  const p = w.putUninit(attr, len * 2);
  const buf = w.buf;
  for (let i = 0; i < len; i++) {
    buf[p + i] = k[i]! & m[i]!;
    buf[p + len + i] = m[i]!;
  }
  w.endNested(n);
}

/* ---------------- per attribute ---------------- */

function commitEth(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): void {
  if (flow[W_PACKET_TYPE] !== 0) return;
  const [k, b, m] = trio(12);
  keyBytes(flow, 50, 6, k, 0);
  keyBytes(flow, 44, 6, k, 6);
  keyBytes(base, 50, 6, b, 0);
  keyBytes(base, 44, 6, b, 6);
  keyBytes(wc, 50, 6, m, 0);
  keyBytes(wc, 44, 6, m, 6);
  const r = commitAttr(odp, OVS_KEY_ATTR_ETHERNET, k, b, m, F_ETH, true, 12);
  if (r === 0) return;
  copyKeyBytes(base, flow, 44, 12);
  if (r === 2) setKeyBytesAll(wc, 44, 12);
}

function ipv4Struct(f: Uint32Array, out: Uint8Array, isMask: boolean): void {
  put32(out, 0, f[W_NW_SRC]!);
  put32(out, 4, f[W_NW_DST]!);
  const w = f[W_NW_PROTO]!;
  out[8] = w >>> 24;
  out[9] = (w >>> 16) & 0xff;
  out[10] = (w >>> 8) & 0xff;
  const frag = w & 0xff;
  out[11] = isMask ? frag : (frag & 1) === 0 ? 0 : (frag & 2) !== 0 ? 2 : 1;
}

function commitIpv4(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): void {
  const [k, b, m] = trio(12);
  ipv4Struct(flow, k, false);
  ipv4Struct(base, b, false);
  ipv4Struct(wc, m, true);
  m[8] = 0;
  m[11] = 0;
  const r = commitAttr(odp, OVS_KEY_ATTR_IPV4, k, b, m, F_IPV4, true, 0);
  if (r === 0) return;
  if (r === 2) {
    wc[W_NW_PROTO] = 0xffffffff;
    wc[W_NW_SRC] = 0xffffffff;
    wc[W_NW_DST] = 0xffffffff;
  }
  base[W_NW_SRC] = flow[W_NW_SRC]!;
  base[W_NW_DST] = flow[W_NW_DST]!;
  base[W_NW_PROTO] = ((base[W_NW_PROTO]! & 0xff0000ff) | (flow[W_NW_PROTO]! & 0x00ffff00)) >>> 0;
}

function ipv6Struct(f: Uint32Array, out: Uint8Array, isMask: boolean): void {
  keyBytes(f, W_IPV6_SRC * 4, 32, out, 0);
  put32(out, 32, f[W_IPV6_LABEL]!);
  const w = f[W_NW_PROTO]!;
  out[36] = w >>> 24;
  out[37] = (w >>> 16) & 0xff;
  out[38] = (w >>> 8) & 0xff;
  const frag = w & 0xff;
  out[39] = isMask ? frag : (frag & 1) === 0 ? 0 : (frag & 2) !== 0 ? 2 : 1;
}

function commitIpv6(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): void {
  const [k, b, m] = trio(40);
  ipv6Struct(flow, k, false);
  ipv6Struct(base, b, false);
  ipv6Struct(wc, m, true);
  m[36] = 0;
  m[39] = 0;
  const r = commitAttr(odp, OVS_KEY_ATTR_IPV6, k, b, m, F_IPV6, true, 0);
  if (r === 0) return;
  if (r === 2) {
    wc[W_NW_PROTO] = 0xffffffff;
    setKeyBytesAll(wc, W_IPV6_SRC * 4, 32);
    wc[W_IPV6_LABEL] = 0xffffffff;
  }
  for (let i = 0; i < 8; i++) base[W_IPV6_SRC + i] = flow[W_IPV6_SRC + i]!;
  base[W_IPV6_LABEL] = flow[W_IPV6_LABEL]!;
  base[W_NW_PROTO] = ((base[W_NW_PROTO]! & 0xff0000ff) | (flow[W_NW_PROTO]! & 0x00ffff00)) >>> 0;
}

function arpStruct(f: Uint32Array, out: Uint8Array): void {
  put32(out, 0, f[W_NW_SRC]!);
  put32(out, 4, f[W_NW_DST]!);
  put16(out, 8, f[W_NW_PROTO]! >>> 24);
  keyBytes(f, W_ARP_SHA * 4, 12, out, 10);
  out[22] = 0;
  out[23] = 0;
}

function commitArp(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): number {
  const [k, b, m] = trio(24);
  arpStruct(flow, k);
  arpStruct(base, b);
  arpStruct(wc, m);
  const r = commitAttr(odp, OVS_KEY_ATTR_ARP, k, b, m, F_ARP, true, 22);
  if (r === 0) return 0;
  base[W_NW_SRC] = flow[W_NW_SRC]!;
  base[W_NW_DST] = flow[W_NW_DST]!;
  base[W_NW_PROTO] = ((base[W_NW_PROTO]! & 0x00ffffff) | (flow[W_NW_PROTO]! & 0xff000000)) >>> 0;
  copyKeyBytes(base, flow, W_ARP_SHA * 4, 12);
  if (r === 2) {
    wc[W_NW_SRC] = 0xffffffff;
    wc[W_NW_DST] = 0xffffffff;
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | 0xff000000) >>> 0;
    setKeyBytesAll(wc, W_ARP_SHA * 4, 12);
  }
  return SLOW_ACTION;
}

function commitPorts(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): void {
  const proto = nwProto(flow);
  const attr = proto === IPPROTO_TCP ? OVS_KEY_ATTR_TCP : proto === IPPROTO_UDP ? OVS_KEY_ATTR_UDP
    : proto === IPPROTO_SCTP ? OVS_KEY_ATTR_SCTP : 0;
  if (attr === 0) return;
  const [k, b, m] = trio(4);
  put32(k, 0, flow[W_TP_SRC]!);
  put32(b, 0, base[W_TP_SRC]!);
  put32(m, 0, wc[W_TP_SRC]!);
  const r = commitAttr(odp, attr, k, b, m, F_PORTS, true, 4);
  if (r === 0) return;
  base[W_TP_SRC] = flow[W_TP_SRC]!;
  if (r === 2) wc[W_TP_SRC] = 0xffffffff;
}

function commitIcmp(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): number {
  const t = dlType(flow);
  const proto = nwProto(flow);
  let attr = 0;
  if (t === ETH_TYPE_IP && proto === IPPROTO_ICMP) attr = OVS_KEY_ATTR_ICMP;
  else if (t === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6) attr = OVS_KEY_ATTR_ICMPV6;
  if (attr === 0) return 0;
  const [k, b, m] = trio(2);
  k[0] = (flow[W_TP_SRC]! >>> 16) & 0xff;
  k[1] = flow[W_TP_SRC]! & 0xff;
  b[0] = (base[W_TP_SRC]! >>> 16) & 0xff;
  b[1] = base[W_TP_SRC]! & 0xff;
  m[0] = (wc[W_TP_SRC]! >>> 16) & 0xff;
  m[1] = wc[W_TP_SRC]! & 0xff;
  const r = commitAttr(odp, attr, k, b, m, F_ICMP, false, 2);
  if (r === 0) return 0;
  base[W_TP_SRC] = ((base[W_TP_SRC]! & 0xff00ff00) | (flow[W_TP_SRC]! & 0x00ff00ff)) >>> 0;
  wc[W_TP_SRC] = (wc[W_TP_SRC]! | 0x00ff00ff) >>> 0;
  return SLOW_ACTION;
}

function commitU32(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder, word: number, attr: number): void {
  const [k, b, m] = trio(4);
  putLe32(k, 0, flow[word]!);
  putLe32(b, 0, base[word]!);
  putLe32(m, 0, wc[word]!);
  const r = commitAttr(odp, attr, k, b, m, F_U32, true, 4);
  if (r === 0) return;
  base[word] = flow[word]!;
  if (r === 2) wc[word] = 0xffffffff;
}

/* ---------------- VLAN and MPLS ---------------- */

/** Number of VLAN headers (tags with CFI set, outermost first). */
export function vlanCount(f: Uint32Array): number {
  if ((f[W_VLAN0]! & 0x1000) === 0) return 0;
  return (f[W_VLAN1]! & 0x1000) === 0 ? 1 : 2;
}

function commitVlan(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): void {
  let bn = vlanCount(base) - 1;
  let fn = vlanCount(flow) - 1;
  while (bn >= 0 && fn >= 0 && base[W_VLAN0 + bn] === flow[W_VLAN0 + fn]) {
    bn--;
    fn--;
  }
  for (; bn >= 0; bn--) {
    odp.popVlan();
    wc[W_VLAN0 + bn] = 0xffffffff;
  }
  for (; fn >= 0; fn--) {
    const q = flow[W_VLAN0 + fn]!;
    odp.pushVlan(q & 0xfff, (q >>> 13) & 7, q >>> 16);
  }
  base[W_VLAN0] = flow[W_VLAN0]!;
  base[W_VLAN1] = flow[W_VLAN1]!;
}

/** Number of MPLS label stack entries (0 for a non-MPLS flow). */
export function mplsCount(f: Uint32Array): number {
  if (!isMplsType(dlType(f))) return 0;
  for (let i = 0; i < 3; i++) if ((f[W_MPLS_LSE0 + i]! & 0x100) !== 0) return i + 1;
  return 3;
}

function commitMpls(flow: Uint32Array, base: Uint32Array, odp: OdpActionsBuilder): void {
  let bn = mplsCount(base);
  const fn = mplsCount(flow);
  let common = 0;
  for (let i = 0; i < Math.min(bn, fn); i++) {
    if (flow[W_MPLS_LSE0 + fn - 1 - i] !== base[W_MPLS_LSE0 + bn - 1 - i]) break;
    common++;
  }
  const flowType = dlType(flow);
  while (bn > common) {
    if (bn - 1 === common && fn > common) {
      const lse = flow[W_MPLS_LSE0 + fn - bn]!;
      const [k] = trio(4);
      put32(k, 0, lse);
      odp.set(OVS_KEY_ATTR_MPLS, k);
      base[W_MPLS_LSE0] = lse;
      common++;
    } else {
      const et = !isMplsType(flowType) && bn > 1 ? 0x8847 : flowType;
      odp.popMpls(et);
      if (bn === 1) {
        base[W_MPLS_LSE0] = 0;
        base[W_DL_TYPE] = (flowType << S_DL_TYPE) >>> 0;
      } else {
        base[W_MPLS_LSE0] = base[W_MPLS_LSE0 + 1]!;
        base[W_MPLS_LSE0 + 1] = base[W_MPLS_LSE0 + 2]!;
        base[W_MPLS_LSE0 + 2] = 0;
      }
      bn--;
    }
  }
  while (bn < fn) {
    const lse = flow[W_MPLS_LSE0 + fn - bn - 1]!;
    odp.pushMpls(lse >>> 12, (lse >>> 9) & 7, lse & 0xff, (lse & 0x100) !== 0, flowType);
    base[W_MPLS_LSE0 + 2] = base[W_MPLS_LSE0 + 1]!;
    base[W_MPLS_LSE0 + 1] = base[W_MPLS_LSE0]!;
    base[W_MPLS_LSE0] = lse;
    base[W_DL_TYPE] = (flowType << S_DL_TYPE) >>> 0;
    bn++;
  }
}

/* ---------------- all together ---------------- */

/**
 * Emits the actions that make the datapath packet (described by `base`)
 * look like `flow`, un-wildcarding in `wc` as OVS does; `base` is updated.
 * Returns SLOW_* bits (ARP/ICMP rewrites).
 */
export function commitOdpActions(flow: Uint32Array, base: Uint32Array, wc: Uint32Array, odp: OdpActionsBuilder): number {
  // Each attribute is skipped outright when its words are unchanged (the common case).
  let slow = 0;
  if (flow[11] !== base[11] || flow[12] !== base[12] || flow[13] !== base[13]) commitEth(flow, base, wc, odp);
  const mplsSame = flow[W_DL_TYPE] === base[W_DL_TYPE] && flow[W_MPLS_LSE0] === base[W_MPLS_LSE0] &&
    flow[W_MPLS_LSE0 + 1] === base[W_MPLS_LSE0 + 1] && flow[W_MPLS_LSE0 + 2] === base[W_MPLS_LSE0 + 2];
  let mplsDone = false;
  if (!mplsSame && isMplsType(dlType(base)) && !isMplsType(dlType(flow))) {
    commitMpls(flow, base, odp);
    mplsDone = true;
  }
  if (nwProto(flow) !== 0) {
    const bt = dlType(base);
    if (bt === ETH_TYPE_IP) {
      if (flow[W_NW_SRC] !== base[W_NW_SRC] || flow[W_NW_DST] !== base[W_NW_DST] || flow[W_NW_PROTO] !== base[W_NW_PROTO]) {
        commitIpv4(flow, base, wc, odp);
      }
    } else if (bt === ETH_TYPE_IPV6) {
      let same = flow[W_NW_PROTO] === base[W_NW_PROTO];
      for (let w = W_IPV6_LABEL; same && w < W_IPV6_SRC + 8; w++) same = flow[w] === base[w];
      if (!same) commitIpv6(flow, base, wc, odp);
    } else if (bt === ETH_TYPE_ARP || bt === ETH_TYPE_RARP) {
      slow |= commitArp(flow, base, wc, odp);
    }
    if ((bt === ETH_TYPE_IP || bt === ETH_TYPE_IPV6) && flow[W_TP_SRC] !== base[W_TP_SRC]) commitPorts(flow, base, wc, odp);
  }
  if (flow[W_TP_SRC] !== base[W_TP_SRC]) slow |= commitIcmp(flow, base, wc, odp);
  if (!mplsDone && !mplsSame) commitMpls(flow, base, odp);
  if (flow[W_VLAN0] !== base[W_VLAN0] || flow[W_VLAN1] !== base[W_VLAN1]) commitVlan(flow, base, wc, odp);
  if (flow[W_SKB_PRIORITY] !== base[W_SKB_PRIORITY]) commitU32(flow, base, wc, odp, W_SKB_PRIORITY, OVS_KEY_ATTR_PRIORITY);
  if (flow[W_PKT_MARK] !== base[W_PKT_MARK]) commitU32(flow, base, wc, odp, W_PKT_MARK, OVS_KEY_ATTR_SKB_MARK);
  return slow;
}

