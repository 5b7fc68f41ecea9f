/**
 * Native tunnelling in translation (OVS's ofproto/tunnel.c and the native
 * tunnel parts of ofproto-dpif-xlate.c): the userspace datapath's vxlan,
 * geneve and gre ports.
 *
 * - Tunnel ports: ofproto-dpif registers each tunnel interface with its
 *   netdev and the datapath port it shares (`tnlPortAdd`). A packet popped
 *   by `tnl_pop(N)` comes back with in_port N and its tunnel metadata;
 *   `tnlReceivePort` finds the OpenFlow port it belongs to as OVS's
 *   tnl_find does: fixed key before key=flow, fixed remote_ip before
 *   remote_ip=flow, fixed local_ip, then none, then local_ip=flow.
 *   `tnlWcInit` un-wildcards what that decision looked at.
 * - Output to a tunnel port (`tnlComposeOutput`): the tunnel's fields are
 *   set from its options (OVS's tnl_port_send), then the route to the
 *   remote (ovs/route), the underlay bridge's port, and the neighbour's
 *   MAC (tnl/neigh; on a miss an ARP request goes out the underlay bridge
 *   and the packet is dropped) give the outer headers; the datapath gets
 *   `tnl_push(...)` followed by the underlay bridge's translation of the
 *   outer packet, inside `clone()` unless nothing follows
 *   (`unwrapTrailingClone`).
 * - Output to a port with an IP address (the underlay bridge's LOCAL
 *   port, `tnlTerminate`): a packet for a tunnel endpoint becomes
 *   `tnl_pop(N)`; ARP replies addressed to the bridge teach the neighbour
 *   cache.
 * - Geneve options: the datapath keeps them as they came (FLOW_TNL_F_UDPIF,
 *   `geneve(...)` in its keys); translation sees them as tun_metadata
 *   fields through the TLV map (`geneveToMetadata`), the megaflow mask is
 *   turned back into the datapath's form (`tnlWcFinish`), and output to a
 *   Geneve port sends the flow's tun_metadata as options.
 *
 * Everything here runs at flow setup, never per packet.
 */
import {
  FLOW_TNL_F_CSUM, FLOW_TNL_F_DONT_FRAGMENT, FLOW_TNL_F_KEY, FLOW_TNL_F_UDPIF, FLOW_U32S, REGION_CTX_START, REGION_TUN_START,
  S_NW_PROTO, W_ARP_SHA, W_ARP_THA, W_DL_TYPE, W_ETH_DST, W_ETH_SRC, W_IPV6_DST, W_IPV6_SRC, W_NW_DST, W_NW_PROTO,
  W_NW_SRC, W_PACKET_TYPE, W_PKT_MARK, W_TP_DST, W_TUN_DST, W_TUN_GENEVE, W_TUN_GENEVE_LEN, W_TUN_ID,
  W_TUN_IPV6_DST, W_TUN_IPV6_SRC, W_TUN_SRC, W_TUN_TOS, W_TUN_TP_DST, REGION_OF_START, W_ND_TARGET,
} from "../flow/key-layout.js";
import { keyByte, setKeyByte } from "../flow/key-ops.js";
import { OVS_ACTION_ATTR_CLONE, OVS_ACTION_ATTR_TUNNEL_PUSH } from "../flow/odp-attrs.js";
import { OVS_VPORT_TYPE_GENEVE, OVS_VPORT_TYPE_GRE, OVS_VPORT_TYPE_IP6GRE, OVS_VPORT_TYPE_VXLAN, TNL_PUSH_HEADER_OFS } from "../flow/odp-tnl.js";
import type { NlWriter } from "../flow/odp-netlink.js";
import { ipMappedToString, ipv4Mapped, isV4Mapped, mappedIpv4, type NetdevVport } from "../netdev/netdev-vport.js";
import { deviceAddresses, isZeroAddr, routeLookup } from "../netdev/tnl-route.js";
import { neighGeneration, neighLookup, neighSet } from "../netdev/tnl-neigh.js";
import { tnlPortMapLookup, type TnlLookupWc } from "../netdev/tnl-ports.js";
import { macToString } from "../packet/bytes.js";
import { tunMetadataSlots, type TunMetadataSlot } from "../openflow/mf-key.js";
import { commitOdpActions } from "./xlate-commit.js";
import type { XBridge, XPort } from "./xlate-types.js";
import type { XlateCtx } from "./xlate.js";

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;
const IPPROTO_UDP = 17;
const IPPROTO_GRE = 47;
const IPPROTO_ICMPV6 = 58;
const IP_ECN_MASK = 0x03;
const IP_DSCP_MASK = 0xfc;
const S_NW_TOS = 16;
const S_NW_TTL = 8;

/* ---------------- tunnel ports ---------------- */

/** A tunnel interface of a bridge (OVS's tnl_port). */
export interface TnlPort {
  xport: XPort;
  netdev: NetdevVport;
  /** The datapath port the tunnel shares ("vxlan_sys_4789"). */
  odpNo: number;
}

const tnlPorts = new Map<XPort, TnlPort>();

export function tnlPortAdd(xport: XPort, netdev: NetdevVport, odpNo: number): void {
  tnlPorts.set(xport, { xport, netdev, odpNo });
}

export function tnlPortRemove(xport: XPort): void {
  tnlPorts.delete(xport);
}

export function tnlPortOf(xport: XPort): TnlPort | undefined {
  return tnlPorts.get(xport);
}

/** Whether datapath port `odpNo` is a tunnel port (of some bridge). */
export function isTnlOdpPort(odpNo: number): boolean {
  for (const t of tnlPorts.values()) if (t.odpNo === odpNo) return true;
  return false;
}

function tunSrc6(key: Uint32Array): Uint8Array {
  if (key[W_TUN_SRC] !== 0) return ipv4Mapped(key[W_TUN_SRC]!);
  const r = new Uint8Array(16);
  for (let i = 0; i < 16; i++) r[i] = keyByte(key, W_TUN_IPV6_SRC * 4 + i);
  return r;
}

function tunDst6(key: Uint32Array): Uint8Array {
  if (key[W_TUN_DST] !== 0) return ipv4Mapped(key[W_TUN_DST]!);
  const r = new Uint8Array(16);
  for (let i = 0; i < 16; i++) r[i] = keyByte(key, W_TUN_IPV6_DST * 4 + i);
  return r;
}

function same16(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The tunnel port a packet popped into datapath port `odpNo` belongs to,
 * from the tunnel metadata of its datapath key (OVS's tnl_port_receive).
 */
export function tnlReceivePort(key: Uint32Array, odpNo: number): XPort | null {
  let any = false;
  for (const t of tnlPorts.values()) if (t.odpNo === odpNo) any = true;
  if (!any) return null;
  const tunId = (BigInt(key[W_TUN_ID]!) << 32n) | BigInt(key[W_TUN_ID + 1]!);
  const src = tunSrc6(key);
  const dst = tunDst6(key);
  for (let keyFlow = 0; keyFlow < 2; keyFlow++) {
    for (let remoteFlow = 0; remoteFlow < 2; remoteFlow++) {
      for (let local = 0; local < 3; local++) {
        for (const t of tnlPorts.values()) {
          if (t.odpNo !== odpNo) continue;
          const c = t.netdev.config;
          if (c.inKeyFlow !== (keyFlow === 1)) continue;
          if (keyFlow === 0 && c.inKey !== tunId) continue;
          if (c.remoteFlow !== (remoteFlow === 1)) continue;
          if (remoteFlow === 0 && (c.remoteIp === null || !same16(c.remoteIp, src))) continue;
          if (local === 0 && (c.localIp === null || !same16(c.localIp, dst))) continue;
          if (local === 1 && (c.localIp !== null || c.localFlow)) continue;
          if (local === 2 && !c.localFlow) continue;
          return t.xport;
        }
      }
    }
  }
  return null;
}

/**
 * The fields a tunnelled packet's megaflow always matches (OVS's
 * tnl_wc_init): tunnel id, addresses, tos, the DF/csum/key flags; the
 * inner ECN bits when the outer says congestion. Geneve options become
 * tun_metadata (`geneveToMetadata`); false when they are not acceptable
 * (translation fails: "Invalid tunnel metadata").
 */
export function tnlWcInit(flow: Uint32Array, wc: Uint32Array): boolean {
  const v4 = flow[W_TUN_DST] !== 0;
  let v6 = false;
  for (let i = 0; i < 4; i++) if (flow[W_TUN_IPV6_DST + i] !== 0) v6 = true;
  if (!v4 && !v6) return true;
  wc[W_TUN_ID] = 0xffffffff;
  wc[W_TUN_ID + 1] = 0xffffffff;
  if (v4) {
    wc[W_TUN_SRC] = 0xffffffff;
    wc[W_TUN_DST] = 0xffffffff;
  } else {
    for (let i = 0; i < 4; i++) {
      wc[W_TUN_IPV6_SRC + i] = 0xffffffff;
      wc[W_TUN_IPV6_DST + i] = 0xffffffff;
    }
  }
  // (Geneve metadata presence goes with the packet's port: matched too, so the megaflow keeps `geneve()`.)
  const udpif = flow[W_TUN_TOS]! & FLOW_TNL_F_UDPIF;
  wc[W_TUN_TOS] = (wc[W_TUN_TOS]! | 0xff000000 | FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_CSUM | FLOW_TNL_F_KEY | udpif) >>> 0;
  const dl = flow[W_DL_TYPE]! >>> 16;
  if ((dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) && ((flow[W_TUN_TOS]! >>> 24) & IP_ECN_MASK) === IP_ECN_MASK) {
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (IP_ECN_MASK << S_NW_TOS)) >>> 0;
  }
  return geneveToMetadata(flow);
}

/* ---------------- Geneve options and tun_metadata ---------------- */

const O_GENEVE = W_TUN_GENEVE * 4;
const geneveScratch = new Uint8Array(256);

/** The TLV map entry of Geneve option (class, type) with `len` data bytes, or null. */
function slotFor(slots: readonly TunMetadataSlot[], cls: number, type: number, len: number): TunMetadataSlot | null {
  for (const s of slots) if (s.optClass === cls && s.optType === type && s.len === len) return s;
  return null;
}

/**
 * Whether the Geneve options of a flow in the datapath's form are
 * acceptable under the TLV map (none installed: an empty one), as OVS's
 * tun_metadata_from_geneve__: well formed, a mapped option has its
 * mapped length, an option the map does not name is not critical.
 */
function geneveOptionsValid(flow: Uint32Array, slots: readonly TunMetadataSlot[] | null): boolean {
  const len = Math.min(flow[W_TUN_GENEVE_LEN]! & 0xff, 252);
  for (let o = 0; o < len; ) {
    if (o + 4 > len) return false;
    const cls = (keyByte(flow, O_GENEVE + o) << 8) | keyByte(flow, O_GENEVE + o + 1);
    const type = keyByte(flow, O_GENEVE + o + 2);
    const dlen = (keyByte(flow, O_GENEVE + o + 3) & 0x1f) * 4;
    if (o + 4 + dlen > len) return false;
    let named = false;
    if (slots !== null) {
      for (const s of slots) {
        if (s.optClass !== cls || s.optType !== type) continue;
        if (s.len !== dlen) return false;
        named = true;
      }
    }
    if (!named && (type & 0x80) !== 0) return false;
    o += 4 + dlen;
  }
  return true;
}

/**
 * A flow as the datapath gives it carries its Geneve options as they came
 * (FLOW_TNL_F_UDPIF). Translation sees them as tun_metadata fields through
 * the TLV map (`add-tlv-map`): each mapped option's data in its field's
 * slot, as OVS's tun_metadata_from_geneve_udpif; options the map does not
 * name are dropped. Returns false (flow unchanged) when the options are
 * not acceptable (OVS's "Invalid tunnel metadata": the packet is dropped).
 */
export function geneveToMetadata(flow: Uint32Array): boolean {
  if ((flow[W_TUN_TOS]! & FLOW_TNL_F_UDPIF) === 0) return true;
  const slots = tunMetadataSlots();
  if (!geneveOptionsValid(flow, slots)) return false;
  const len = Math.min(flow[W_TUN_GENEVE_LEN]! & 0xff, 252);
  const out = geneveScratch;
  out.fill(0);
  for (let o = 0; o + 4 <= len; ) {
    const cls = (keyByte(flow, O_GENEVE + o) << 8) | keyByte(flow, O_GENEVE + o + 1);
    const type = keyByte(flow, O_GENEVE + o + 2);
    const dlen = (keyByte(flow, O_GENEVE + o + 3) & 0x1f) * 4;
    const s = slots === null ? null : slotFor(slots, cls, type, dlen);
    if (s !== null) for (let i = 0; i < dlen; i++) out[s.offset + i] = keyByte(flow, O_GENEVE + o + 4 + i);
    o += 4 + dlen;
  }
  for (let i = 0; i < 252; i++) setKeyByte(flow, O_GENEVE + i, out[i]!);
  flow[W_TUN_GENEVE_LEN] = (flow[W_TUN_GENEVE_LEN]! & ~0xff) >>> 0;
  flow[W_TUN_TOS] = (flow[W_TUN_TOS]! & ~FLOW_TNL_F_UDPIF) >>> 0;
  return true;
}

/**
 * The megaflow mask of a Geneve packet's options, in the datapath's form
 * (over the options as they came, `orig`), from the translation's mask
 * `wc` (over tun_metadata slots), as OVS's xlate does with
 * tun_metadata_to_geneve_udpif_mask: the options' total length is
 * matched; when translation looked at a tun_metadata field, every option's
 * class, type and length are too, and a mapped option's data as its field
 * was; otherwise no option is. Options that failed translation: none.
 */
function geneveMaskToDatapath(orig: Uint32Array, wc: Uint32Array): void {
  const len = Math.min(orig[W_TUN_GENEVE_LEN]! & 0xff, 252);
  const slots = tunMetadataSlots();
  const m = geneveScratch;
  let examined = false;
  for (let i = 0; i < 252; i++) {
    m[i] = keyByte(wc, O_GENEVE + i);
    if (m[i] !== 0) examined = true;
  }
  for (let w = W_TUN_GENEVE; w < REGION_OF_START; w++) wc[w] = 0;
  if (!geneveOptionsValid(orig, slots)) return;
  wc[W_TUN_GENEVE_LEN] = (wc[W_TUN_GENEVE_LEN]! | 0xff) >>> 0;
  if (slots === null || !examined) return;
  for (let o = 0; o + 4 <= len; ) {
    const cls = (keyByte(orig, O_GENEVE + o) << 8) | keyByte(orig, O_GENEVE + o + 1);
    const type = keyByte(orig, O_GENEVE + o + 2);
    const dlen = (keyByte(orig, O_GENEVE + o + 3) & 0x1f) * 4;
    setKeyByte(wc, O_GENEVE + o, 0xff);
    setKeyByte(wc, O_GENEVE + o + 1, 0xff);
    setKeyByte(wc, O_GENEVE + o + 2, 0xff);
    setKeyByte(wc, O_GENEVE + o + 3, 0x1f);
    const s = slotFor(slots, cls, type, dlen);
    if (s !== null) for (let i = 0; i < dlen; i++) setKeyByte(wc, O_GENEVE + o + 4 + i, m[s.offset + i]!);
    o += 4 + dlen;
  }
}

/**
 * The Geneve options to send for `flow`: as they came (a flow still in
 * the datapath's form), else its tun_metadata fields with a TLV map, in
 * field order — each field whose value is not all zeros (tsovs keeps no
 * presence bits). Writes them to `h` at `at`; returns their length.
 */
function geneveOptionsOut(flow: Uint32Array, h: Uint8Array, at: number): number {
  if ((flow[W_TUN_TOS]! & FLOW_TNL_F_UDPIF) !== 0) {
    const optLen = Math.min(flow[W_TUN_GENEVE_LEN]! & 0xff, 252) & ~3;
    for (let i = 0; i < optLen; i++) h[at + i] = keyByte(flow, O_GENEVE + i);
    return optLen;
  }
  const slots = tunMetadataSlots();
  if (slots === null) return 0;
  let o = 0;
  for (const s of slots) {
    const dlen = (s.len + 3) & ~3;
    let any = false;
    for (let i = 0; i < s.len; i++) if (keyByte(flow, O_GENEVE + s.offset + i) !== 0) any = true;
    if (!any || o + 4 + dlen > 252) continue;
    h[at + o] = (s.optClass ?? 0) >>> 8;
    h[at + o + 1] = (s.optClass ?? 0) & 0xff;
    h[at + o + 2] = s.optType ?? 0;
    h[at + o + 3] = dlen / 4;
    for (let i = 0; i < dlen; i++) h[at + o + 4 + i] = i < s.len ? keyByte(flow, O_GENEVE + s.offset + i) : 0;
    o += 4 + dlen;
  }
  return o;
}

/**
 * A packet that did not come from a tunnel has no tunnel metadata in its
 * datapath key: whatever actions did to the tunnel fields is no part of
 * its megaflow (as OVS's).
 */
export function tnlWcFinish(orig: Uint32Array, wc: Uint32Array): void {
  if ((orig[W_TUN_TOS]! & FLOW_TNL_F_UDPIF) !== 0) geneveMaskToDatapath(orig, wc);
  if (orig[W_TUN_DST] !== 0) return;
  for (let i = 0; i < 4; i++) if (orig[W_TUN_IPV6_DST + i] !== 0) return;
  for (let w = REGION_TUN_START; w < REGION_CTX_START; w++) wc[w] = 0;
  for (let w = W_TUN_GENEVE; w < REGION_OF_START; w++) wc[w] = 0;
}

/* ---------------- hooks set by ofproto-dpif ---------------- */

let bridgesFn: () => Iterable<XBridge> = () => [];
let sendFn: ((bridge: XBridge, inPort: XPort, frame: Uint8Array) => void) | null = null;

/** How translation finds every bridge (for the underlay bridge of a route). */
export function setTnlBridges(fn: () => Iterable<XBridge>): void {
  bridgesFn = fn;
}

/** How an ARP request is sent through a bridge (as if received on `inPort`, output:TABLE). */
export function setTnlPacketSender(fn: ((bridge: XBridge, inPort: XPort, frame: Uint8Array) => void) | null): void {
  sendFn = fn;
}

/* ---------------- output to a tunnel ---------------- */

function isIpAny(flow: Uint32Array): boolean {
  const t = flow[W_DL_TYPE]! >>> 16;
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

/** OVS's tnl_port_send: the tunnel fields for output through `t`. */
function tnlPortSend(t: TnlPort, flow: Uint32Array, wc: Uint32Array): void {
  const c = t.netdev.config;
  if (!c.localFlow) {
    const l = c.localIp;
    flow[W_TUN_SRC] = l !== null ? mappedIpv4(l) : 0;
    for (let i = 0; i < 4; i++) flow[W_TUN_IPV6_SRC + i] = 0;
    if (l !== null && !isV4Mapped(l)) for (let i = 0; i < 16; i++) setKeyByte(flow, W_TUN_IPV6_SRC * 4 + i, l[i]!);
  }
  if (!c.remoteFlow && c.remoteIp !== null) {
    const r = c.remoteIp;
    flow[W_TUN_DST] = mappedIpv4(r);
    for (let i = 0; i < 4; i++) flow[W_TUN_IPV6_DST + i] = 0;
    if (!isV4Mapped(r)) for (let i = 0; i < 16; i++) setKeyByte(flow, W_TUN_IPV6_DST * 4 + i, r[i]!);
  }
  flow[W_TUN_TP_DST] = ((flow[W_TUN_TP_DST]! & 0xffff0000) | c.dstPort) >>> 0;
  if (!c.outKeyFlow) {
    flow[W_TUN_ID] = Number((c.outKey >> 32n) & 0xffffffffn);
    flow[W_TUN_ID + 1] = Number(c.outKey & 0xffffffffn);
  }
  const ip = isIpAny(flow);
  const innerTos = (flow[W_NW_PROTO]! >>> S_NW_TOS) & 0xff;
  let ttl: number;
  if (c.ttlInherit && ip) {
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (0xff << S_NW_TTL)) >>> 0;
    ttl = (flow[W_NW_PROTO]! >>> S_NW_TTL) & 0xff;
  } else {
    ttl = c.ttl;
  }
  let tos: number;
  if (c.tosInherit && ip) {
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (IP_DSCP_MASK << S_NW_TOS)) >>> 0;
    tos = innerTos & IP_DSCP_MASK;
  } else {
    tos = c.tos;
  }
  if (ip) {
    // ECN is always inherited; congestion becomes ECT(0) outside.
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (IP_ECN_MASK << S_NW_TOS)) >>> 0;
    tos |= (innerTos & IP_ECN_MASK) === IP_ECN_MASK ? 0x02 : innerTos & IP_ECN_MASK;
  }
  let flags = flow[W_TUN_TOS]! & 0xffff & ~(FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_CSUM | FLOW_TNL_F_KEY);
  if (c.dontFragment) flags |= FLOW_TNL_F_DONT_FRAGMENT;
  if (c.csum === true) flags |= FLOW_TNL_F_CSUM;
  if (c.outKeyPresent) flags |= FLOW_TNL_F_KEY;
  flow[W_TUN_TOS] = (((tos & 0xff) << 24) | ((ttl & 0xff) << 16) | flags) >>> 0;
}

/** The underlay bridge's port named `dev` (OVS's tnl_route_lookup_flow). */
function findOutDev(dev: string): XPort | null {
  const bridges = [...bridgesFn()];
  for (const b of bridges) {
    if (b.name !== dev) continue;
    for (const p of b.ports.values()) if (p.name === dev) return p;
  }
  for (const b of bridges) for (const p of b.ports.values()) if (p.name === dev) return p;
  return null;
}

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function putBe16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function putBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function putLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/**
 * The tnl_push payload (struct ovs_action_push_tnl) for output through
 * `t` with the tunnel fields of `flow` (OVS's tnl_port_build_header).
 */
function buildPushPayload(t: TnlPort, flow: Uint32Array, dmac: Uint8Array, smac: Uint8Array, src: Uint8Array, odpNo: number, outOdp: number): { payload: Uint8Array; proto: number; v6: boolean } {
  const c = t.netdev.config;
  const dst = tunDst6(flow);
  const v6 = !isV4Mapped(dst);
  const h = new Uint8Array(14 + 40 + 8 + 8 + 256);
  h.set(dmac, 0);
  h.set(smac, 6);
  putBe16(h, 12, v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP);
  const tosTtl = flow[W_TUN_TOS]!;
  const tos = tosTtl >>> 24;
  const ttl = (tosTtl >>> 16) & 0xff;
  const flags = tosTtl & 0xffff;
  const proto = c.type === "gre" ? IPPROTO_GRE : IPPROTO_UDP;
  let l4: number;
  if (!v6) {
    h[14] = 0x45;
    h[15] = tos;
    putBe16(h, 20, (flags & FLOW_TNL_F_DONT_FRAGMENT) !== 0 ? 0x4000 : 0);
    h[22] = ttl;
    h[23] = proto;
    putBe32(h, 26, mappedIpv4(src));
    putBe32(h, 30, mappedIpv4(dst));
    putBe16(h, 24, ipChecksum(h, 14, 20));
    l4 = 34;
  } else {
    putBe32(h, 14, ((6 << 28) | (tos << 20)) >>> 0);
    h[20] = proto;
    h[21] = ttl;
    h.set(src, 22);
    h.set(dst, 38);
    l4 = 54;
  }
  const tunLo = flow[W_TUN_ID + 1]!;
  let end: number;
  let type: number;
  if (c.type === "gre") {
    type = v6 ? OVS_VPORT_TYPE_IP6GRE : OVS_VPORT_TYPE_GRE;
    let gflags = 0;
    let o = l4 + 4;
    if ((flags & FLOW_TNL_F_CSUM) !== 0) {
      gflags |= 0x8000;
      o += 4;
    }
    if ((flags & FLOW_TNL_F_KEY) !== 0) {
      gflags |= 0x2000;
      putBe32(h, o, tunLo);
      o += 4;
    }
    putBe16(h, l4, gflags);
    putBe16(h, l4 + 2, c.packetType === "legacy_l3" ? flow[W_DL_TYPE]! >>> 16 : 0x6558);
    end = o;
  } else {
    putBe16(h, l4, 0);
    putBe16(h, l4 + 2, flow[W_TUN_TP_DST]! & 0xffff);
    if (v6 || (flags & FLOW_TNL_F_CSUM) !== 0) putBe16(h, l4 + 6, 0xffff);
    const u = l4 + 8;
    if (c.type === "vxlan") {
      type = OVS_VPORT_TYPE_VXLAN;
      putBe32(h, u, 0x08000000);
      putBe32(h, u + 4, (tunLo << 8) >>> 0);
      end = u + 8;
    } else {
      type = OVS_VPORT_TYPE_GENEVE;
      const optLen = geneveOptionsOut(flow, h, u + 8);
      h[u] = (optLen / 4) & 0x3f;
      let crit = false;
      for (let o = 0; o + 4 <= optLen; ) {
        if ((h[u + 8 + o + 2]! & 0x80) !== 0) crit = true;
        o += 4 + (h[u + 8 + o + 3]! & 0x1f) * 4;
      }
      h[u + 1] = crit ? 0x40 : 0;
      putBe16(h, u + 2, 0x6558);
      putBe32(h, u + 4, (tunLo << 8) >>> 0);
      end = u + 8 + optLen;
    }
  }
  const payload = new Uint8Array(TNL_PUSH_HEADER_OFS + end);
  putLe32(payload, 0, odpNo);
  putLe32(payload, 4, outOdp);
  putLe32(payload, 8, end);
  putLe32(payload, 12, type);
  payload.set(h.subarray(0, end), TNL_PUSH_HEADER_OFS);
  return { payload, proto, v6 };
}

/** An ARP request for `tip` from `smac`/`sip` (OVS's compose_arp). */
function composeArpRequest(smac: Uint8Array, sip: number, tip: number): Uint8Array {
  const f = new Uint8Array(60);
  f.fill(0xff, 0, 6);
  f.set(smac, 6);
  putBe16(f, 12, ETH_TYPE_ARP);
  putBe16(f, 14, 1);
  putBe16(f, 16, ETH_TYPE_IP);
  f[18] = 6;
  f[19] = 4;
  putBe16(f, 20, 1);
  f.set(smac, 22);
  putBe32(f, 28, sip);
  putBe32(f, 38, tip);
  return f.subarray(0, 42);
}

/** A neighbour solicitation for `target` from `smac`/`src` (OVS's compose_nd_ns). */
function composeNdNs(smac: Uint8Array, src: Uint8Array, target: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 40 + 32);
  f.set([0x33, 0x33, 0xff, target[13]!, target[14]!, target[15]!], 0);
  f.set(smac, 6);
  putBe16(f, 12, ETH_TYPE_IPV6);
  putBe32(f, 14, 0x60000000);
  putBe16(f, 18, 32);
  f[20] = IPPROTO_ICMPV6;
  f[21] = 255;
  f.set(src, 22);
  f.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, target[13]!, target[14]!, target[15]!], 38);
  const icmp = 54;
  f[icmp] = 135;
  f.set(target, icmp + 8);
  f[icmp + 24] = 1;
  f[icmp + 25] = 1;
  f.set(smac, icmp + 26);
  // Checksum over the pseudo-header and the message.
  let sum = 0;
  for (let i = 22; i < 54; i += 2) sum += (f[i]! << 8) | f[i + 1]!;
  sum += 32 + IPPROTO_ICMPV6;
  for (let i = icmp; i < icmp + 32; i += 2) sum += (f[i]! << 8) | f[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  putBe16(f, icmp + 2, ~sum & 0xffff);
  return f;
}

/** The outer headers go into flow and base (OVS's propagate_tunnel_data_to_flow). */
function propagateOuter(f: Uint32Array, tun: Uint32Array, dmac: Uint8Array, smac: Uint8Array, src: Uint8Array, v6: boolean, proto: number): void {
  for (let i = 0; i < 6; i++) {
    setKeyByte(f, W_ETH_DST * 4 + i, dmac[i]!);
    setKeyByte(f, W_ETH_SRC * 4 + 2 + i, smac[i]!);
  }
  f[W_PACKET_TYPE] = 0;
  f[W_NW_DST] = tun[W_TUN_DST]!;
  f[W_NW_SRC] = tun[W_TUN_SRC] !== 0 ? tun[W_TUN_SRC]! : v6 ? 0 : mappedIpv4(src);
  for (let i = 0; i < 4; i++) {
    f[W_IPV6_DST + i] = tun[W_TUN_IPV6_DST + i]!;
    f[W_IPV6_SRC + i] = tun[W_TUN_IPV6_SRC + i]!;
  }
  if (v6 && f[W_IPV6_SRC] === 0 && f[W_IPV6_SRC + 1] === 0 && f[W_IPV6_SRC + 2] === 0 && f[W_IPV6_SRC + 3] === 0) {
    for (let i = 0; i < 16; i++) setKeyByte(f, W_IPV6_SRC * 4 + i, src[i]!);
  }
  const tosTtl = tun[W_TUN_TOS]!;
  f[W_NW_PROTO] = ((proto << S_NW_PROTO) | ((tosTtl >>> 24) << S_NW_TOS) | (((tosTtl >>> 16) & 0xff) << S_NW_TTL)) >>> 0;
  f[W_TP_DST] = tun[W_TUN_TP_DST]!;
  f[W_DL_TYPE] = ((v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP) << 16) >>> 0;
}

const scratchWc = new Uint32Array(FLOW_U32S);

/**
 * Output to tunnel port `xport` (OVS's compose_output_action__ for
 * `is_tunnel` plus native_tunnel_output). `patchOut` continues the
 * translation in the underlay bridge as a patch port would.
 */
export function tnlComposeOutput(
  ctx: XlateCtx, xport: XPort, patchOut: (ctx: XlateCtx, inDev: XPort, outDev: XPort) => void,
): void {
  const t = tnlPorts.get(xport);
  if (t === undefined) return;
  const flow = ctx.flow;
  const savedTun = flow.slice(REGION_TUN_START, REGION_OF_START);
  const savedNw = flow[W_NW_PROTO]!;
  tnlPortSend(t, flow, ctx.wc);
  const dst = tunDst6(flow);
  if (same16(dst, tunDst6(ctx.xin.flow))) {
    // As OVS: the tunnel fields set for this port stay in the flow.
    ctx.add("warn", "Not tunneling to our own address");
    flow[W_NW_PROTO] = savedNw;
    return;
  }
  ctx.add("detail", "output to native tunnel");
  // The packet being translated is sent through the tunnel (OVS's netdev_vport_inc_tx).
  const xin = ctx.xin;
  if (xin.packet !== null && xin.statsPackets !== undefined && ctx.trace === null) t.netdev.incTx(xin.statsPackets, xin.statsBytes ?? 0);
  ctx.slow |= commitOdpActions(ctx.flow, ctx.base, ctx.wc, ctx.odp);
  nativeTunnelOutput(ctx, t, xport, dst, patchOut);
  flow.set(savedTun, REGION_TUN_START);
  flow[W_NW_PROTO] = savedNw;
}

function nativeTunnelOutput(
  ctx: XlateCtx, t: TnlPort, xport: XPort, dst: Uint8Array, patchOut: (ctx: XlateCtx, inDev: XPort, outDev: XPort) => void,
): void {
  const flow = ctx.flow;
  const route = routeLookup(dst, flow[W_PKT_MARK]!);
  const outDev = route !== null ? findOutDev(route.dev) : null;
  if (route === null || outDev === null) {
    ctx.add("warn", "native tunnel routing failed");
    return;
  }
  const nextHop = isZeroAddr(route.gw) || (isV4Mapped(route.gw) && mappedIpv4(route.gw) === 0) ? dst : route.gw;
  ctx.add("detail", `tunneling to ${ipMappedToString(nextHop)} via ${outDev.name}`);
  const smac = outDev.hwAddr;
  const tunSrc = flow[W_TUN_SRC] !== 0 || flow[W_TUN_IPV6_SRC] !== 0 ? tunSrc6(flow) : null;
  const src = tunSrc ?? route.src;
  const v4 = isV4Mapped(nextHop);
  const dmac = neighLookup(outDev.bridge.name, nextHop);
  if (dmac === null) {
    ctx.add("detail", `neighbor cache miss for ${ipMappedToString(nextHop)} on bridge ${outDev.bridge.name}, sending ${v4 ? "ARP" : "ND"} request`);
    if (sendFn !== null && (ctx.sideEffects || ctx.trace !== null)) {
      const frame = v4 ? composeArpRequest(smac, mappedIpv4(src), mappedIpv4(nextHop)) : composeNdNs(smac, src, nextHop);
      const send = sendFn;
      const br = outDev.bridge;
      setImmediate(() => send(br, outDev, frame));
    }
    return;
  }
  ctx.add("detail", `tunneling from ${macToString(smac)} ${ipMappedToString(src)} to ${macToString(dmac)} ${ipMappedToString(nextHop)}`);
  const { payload, proto, v6 } = buildPushPayload(t, flow, dmac, smac, src, t.odpNo, outDev.odpNo);
  const tun = flow.slice();
  const oldFlow = flow.slice();
  const oldBase = ctx.base.slice();
  propagateOuter(flow, tun, dmac, smac, src, v6, proto);
  propagateOuter(ctx.base, tun, dmac, smac, src, v6, proto);
  const w: NlWriter = ctx.odp.w;
  const clone = w.startNested(OVS_ACTION_ATTR_CLONE);
  w.putBytes(OVS_ACTION_ATTR_TUNNEL_PUSH, payload);
  const before = w.size;
  const oldWc = ctx.wc;
  const oldSide = ctx.sideEffects;
  const wc = oldWc === scratchWc ? new Uint32Array(FLOW_U32S) : scratchWc;
  wc.fill(0);
  ctx.wc = wc;
  ctx.sideEffects = false;
  patchOut(ctx, xport, outDev);
  ctx.wc = oldWc;
  ctx.sideEffects = oldSide;
  if (w.size > before) w.endNested(clone);
  else w.truncate(clone);
  flow.set(oldFlow);
  ctx.base.set(oldBase);
}

/* ---------------- tunnel termination ---------------- */

const lookupWc: TnlLookupWc = { l2: false, l3: false, l4: false };
const dlDstBuf = new Uint8Array(6);
const ipv6DstBuf = new Uint8Array(16);

function portHasIp(xport: XPort): boolean {
  return deviceAddresses(xport.name).length > 0;
}

/** OVS's is_neighbor_reply_correct for ARP: the target address is one of the bridge's (or its ports'). */
function arpForBridge(bridge: XBridge, tip: number): boolean {
  const names = [bridge.name, ...[...bridge.ports.values()].map((p) => p.name)];
  for (const n of names) for (const a of deviceAddresses(n)) if (isV4Mapped(a.addr) && mappedIpv4(a.addr) === tip) return true;
  return false;
}

/**
 * Output to a non-tunnel port with an IP address: emits `tnl_pop(N)` and
 * returns true when the packet is for a local tunnel endpoint; snoops ARP
 * replies addressed to the bridge (OVS's terminate_native_tunnel).
 */
export function tnlTerminate(ctx: XlateCtx, xport: XPort): boolean {
  if (!portHasIp(xport)) return false;
  const flow = ctx.flow;
  const wc = ctx.wc;
  const dlType = flow[W_DL_TYPE]! >>> 16;
  for (let i = 0; i < 6; i++) dlDstBuf[i] = keyByte(flow, W_ETH_DST * 4 + i);
  for (let i = 0; i < 16; i++) ipv6DstBuf[i] = keyByte(flow, W_IPV6_DST * 4 + i);
  const nw = flow[W_NW_PROTO]!;
  const proto = nw >>> S_NW_PROTO;
  const odp = tnlPortMapLookup(dlDstBuf, dlType, flow[W_NW_DST]!, dlType === ETH_TYPE_IPV6 ? ipv6DstBuf : null, proto, nw & 0x3, flow[W_TP_DST]! & 0xffff, lookupWc);
  if (lookupWc.l2) {
    wc[W_ETH_DST] = 0xffffffff;
    wc[W_ETH_DST + 1] = (wc[W_ETH_DST + 1]! | 0xffff0000) >>> 0;
    wc[W_DL_TYPE] = (wc[W_DL_TYPE]! | 0xffff0000) >>> 0;
  }
  if (lookupWc.l3) {
    if (dlType === ETH_TYPE_IPV6) for (let i = 0; i < 4; i++) wc[W_IPV6_DST + i] = 0xffffffff;
    else wc[W_NW_DST] = 0xffffffff;
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (0xff << S_NW_PROTO) | 0x3) >>> 0;
  }
  if (lookupWc.l4) wc[W_TP_DST] = (wc[W_TP_DST]! | 0xffff) >>> 0;
  if (odp < 0) {
    if (dlType === ETH_TYPE_ARP && arpForBridge(ctx.bridge, flow[W_NW_DST]!)) arpSnoop(ctx);
    else if (proto === IPPROTO_ICMPV6 && dlType === ETH_TYPE_IPV6 && ndForBridge(ctx.bridge, ipv6DstBuf)) ndSnoop(ctx);
    return false;
  }
  if (ctx.sideEffects && (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6)) {
    // The sender of a tunnel packet is a neighbour too (OVS 3.1 learns it here).
    const mac = new Uint8Array(6);
    for (let i = 0; i < 6; i++) mac[i] = keyByte(flow, W_ETH_SRC * 4 + 2 + i);
    let ip: Uint8Array;
    if (dlType === ETH_TYPE_IP) ip = ipv4Mapped(flow[W_NW_SRC]!);
    else {
      ip = new Uint8Array(16);
      for (let i = 0; i < 16; i++) ip[i] = keyByte(flow, W_IPV6_SRC * 4 + i);
    }
    neighSet(ctx.bridge.name, ip, mac, false);
  }
  ctx.odp.tnlPop(odp);
  return true;
}

/**
 * OVS's is_nd_dst_correct over the bridge's (and its ports') IPv6
 * addresses: the destination is the address or its solicited-node group.
 */
function ndForBridge(bridge: XBridge, dst: Uint8Array): boolean {
  const names = [bridge.name, ...[...bridge.ports.values()].map((p) => p.name)];
  const solicited = dst[0] === 0xff && dst[1] === 0x02 && dst[11] === 0x01 && dst[12] === 0xff;
  for (const n of names) {
    for (const a of deviceAddresses(n)) {
      if (isV4Mapped(a.addr)) continue;
      if (same16(a.addr, dst)) return true;
      if (solicited && dst[13] === a.addr[13] && dst[14] === a.addr[14] && dst[15] === a.addr[15]) return true;
    }
  }
  return false;
}

/** OVS's tnl_nd_snoop: neighbour advertisements with a target link-layer address teach the cache. */
function ndSnoop(ctx: XlateCtx): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  // is_nd: protocol, ICMPv6 type and code.
  wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (0xff << S_NW_PROTO)) >>> 0;
  wc[W_TP_DST] = 0xffffffff;
  const type = flow[W_TP_DST]! >>> 16;
  const code = flow[W_TP_DST]! & 0xffff;
  if (code !== 0 || type !== 136) return;
  wc[W_ARP_THA] = (wc[W_ARP_THA]! | 0xffff) >>> 0;
  wc[W_ARP_THA + 1] = 0xffffffff;
  const tll = new Uint8Array(6);
  for (let i = 0; i < 6; i++) tll[i] = keyByte(flow, W_ARP_THA * 4 + 2 + i);
  if (tll.every((b) => b === 0)) return;
  for (let i = 0; i < 4; i++) {
    wc[W_IPV6_SRC + i] = 0xffffffff;
    wc[W_IPV6_DST + i] = 0xffffffff;
    wc[W_ND_TARGET + i] = 0xffffffff;
  }
  if (!ctx.sideEffects) return;
  const target = new Uint8Array(16);
  for (let i = 0; i < 16; i++) target[i] = keyByte(flow, W_ND_TARGET * 4 + i);
  const gen = neighGeneration();
  neighSet(ctx.bridge.name, target, tll, false);
  if (neighGeneration() !== gen) ctx.needRevalidate();
}

/** OVS's tnl_arp_snoop: ARP replies and gratuitous ARPs teach the neighbour cache. */
function arpSnoop(ctx: XlateCtx): void {
  const flow = ctx.flow;
  const wc = ctx.wc;
  wc[W_NW_SRC] = 0xffffffff;
  wc[W_NW_DST] = 0xffffffff;
  const garp = flow[W_NW_SRC] === flow[W_NW_DST];
  if (!garp) {
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (0xff << S_NW_PROTO)) >>> 0;
    if (flow[W_NW_PROTO]! >>> S_NW_PROTO !== 2) return;
  }
  wc[W_ARP_SHA] = 0xffffffff;
  wc[W_ARP_THA] = (wc[W_ARP_THA]! | 0xffff0000) >>> 0;
  const sha = new Uint8Array(6);
  for (let i = 0; i < 6; i++) sha[i] = keyByte(flow, W_ARP_SHA * 4 + i);
  if (sha.every((b) => b === 0)) return;
  if (!ctx.sideEffects) return;
  const gen = neighGeneration();
  neighSet(ctx.bridge.name, ipv4Mapped(flow[W_NW_SRC]!), sha, false);
  // A new neighbour: flows that missed it (and dropped) translate differently now.
  if (neighGeneration() !== gen) ctx.needRevalidate();
}

/* ---------------- the final action list ---------------- */

/**
 * A trailing clone() holds the last actions: the clone is unnecessary,
 * its actions take its place (OVS's xlate_optimize_odp_actions).
 */
export function unwrapTrailingClone(w: NlWriter): void {
  const b = w.buf;
  const size = w.size;
  let off = 0;
  let last = -1;
  while (off + 4 <= size) {
    const len = b[off]! | (b[off + 1]! << 8);
    if (len < 4) return;
    last = off;
    off += (len + 3) & ~3;
  }
  if (last < 0) return;
  const type = (b[last + 2]! | (b[last + 3]! << 8)) & 0x3fff;
  if (type !== OVS_ACTION_ATTR_CLONE) return;
  const len = b[last]! | (b[last + 1]! << 8);
  const inner = b.slice(last + 4, last + len);
  w.truncate(last);
  w.putRaw(inner);
}

export { REGION_CTX_START };
