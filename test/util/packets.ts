/**
 * Test helpers to build frames from plain values with the src/packet
 * emitters (checksums filled), and to turn `ovs-ofctl compose-packet` hex
 * dumps into bytes. Control path only: allocation is fine here.
 */
import { spawnSync } from "node:child_process";
import {
  emitArp,
  emitEthernet,
  emitIcmp,
  emitIpv4,
  emitIpv6,
  emitNd,
  emitSctp,
  emitTcp,
  emitUdp,
  emitMplsStack,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_VLAN_8021Q,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipv4PseudoSum,
  ipv6PseudoSum,
  internetChecksum,
  l4Checksum,
  ndLen,
  parseIpv6Addr,
  parseMac,
  sctpChecksum,
  set16,
  set32,
  type ArpRepr,
  type Ipv4Repr,
  type Ipv6Repr,
  type MplsLse,
  type NdRepr,
  type TcpRepr,
  type VlanTag,
} from "../../src/packet/index.js";

export function mac(s: string): Uint8Array {
  const m = parseMac(s);
  if (m === null) throw new Error(`bad mac ${s}`);
  return m;
}

export function ip6(s: string): Uint8Array {
  const a = parseIpv6Addr(s);
  if (a === null) throw new Error(`bad ipv6 ${s}`);
  return a;
}

export function ip4(s: string): number {
  const p = s.split(".").map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function payloadBytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) & 0xff;
  return b;
}

export interface EthSpec {
  dst?: string;
  src?: string;
  vlans?: VlanTag[];
}

export function eth(spec: EthSpec, ethType: number, payload: Uint8Array): Uint8Array {
  const vlans = spec.vlans ?? [];
  const b = new Uint8Array(14 + 4 * vlans.length + payload.length);
  const n = emitEthernet({ dst: mac(spec.dst ?? "66:77:88:99:aa:bb"), src: mac(spec.src ?? "00:11:22:33:44:55"), vlans, ethType }, b, 0);
  b.set(payload, n);
  return b;
}

export function vlan(vid: number, pcp = 0, tpid = ETH_TYPE_VLAN_8021Q): VlanTag {
  return { tpid, vid, pcp, dei: false };
}

export function ipv4Repr(r: Partial<Ipv4Repr>): Ipv4Repr {
  return {
    tos: 0,
    totalLen: 0,
    id: 0,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
    ttl: 64,
    proto: IPPROTO_UDP,
    src: ip4("10.0.0.1"),
    dst: ip4("10.0.0.2"),
    options: new Uint8Array(0),
    ...r,
  };
}

/** An IPv4 packet; the L4 checksum (TCP/UDP/ICMP at their offsets) is filled when `fillL4`. */
export function ipv4(r: Partial<Ipv4Repr>, l4: Uint8Array, fillL4 = true): Uint8Array {
  const rr = ipv4Repr(r);
  const hdr = new Uint8Array(60 + l4.length);
  const hl = emitIpv4(rr, hdr, 0, l4.length);
  hdr.set(l4, hl);
  const b = hdr.slice(0, hl + l4.length);
  if (fillL4 && rr.fragOffset === 0) fillL4Checksum(b, hl, l4.length, rr.proto, ipv4PseudoSum(rr.src, rr.dst, rr.proto, l4.length), false);
  return b;
}

export function ipv6Repr(r: Partial<Ipv6Repr>): Ipv6Repr {
  return {
    trafficClass: 0,
    flowLabel: 0,
    payloadLen: 0,
    nextHeader: IPPROTO_UDP,
    hopLimit: 64,
    src: ip6("2001:db8::1"),
    dst: ip6("2001:db8::2"),
    ext: [],
    ...r,
  };
}

export function ipv6(r: Partial<Ipv6Repr>, l4: Uint8Array, fillL4 = true): Uint8Array {
  const rr = ipv6Repr(r);
  const b = new Uint8Array(2048 + l4.length);
  const hl = emitIpv6(rr, b, 0, l4.length);
  b.set(l4, hl);
  const out = b.slice(0, hl + l4.length);
  if (fillL4) fillL4Checksum(out, hl, l4.length, rr.nextHeader, ipv6PseudoSum(out, 8, 24, rr.nextHeader, l4.length), true);
  return out;
}

function fillL4Checksum(b: Uint8Array, off: number, len: number, proto: number, pseudo: number, v6: boolean): void {
  if (proto === IPPROTO_TCP && len >= 20) set16(b, off + 16, l4Checksum(b, off, len, 16, pseudo));
  else if (proto === IPPROTO_UDP && len >= 8) {
    const c = l4Checksum(b, off, len, 6, pseudo);
    set16(b, off + 6, c === 0 ? 0xffff : c);
  } else if (proto === IPPROTO_ICMP && len >= 8 && !v6) set16(b, off + 2, l4Checksum(b, off, len, 2, 0));
  else if (proto === IPPROTO_ICMPV6 && len >= 8) set16(b, off + 2, l4Checksum(b, off, len, 2, pseudo));
  else if (proto === IPPROTO_SCTP && len >= 12) set32(b, off + 8, sctpChecksum(b, off, len));
}

export function tcp(r: Partial<TcpRepr>, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const rr: TcpRepr = { srcPort: 1234, dstPort: 80, seq: 1, ack: 0, flags: 0x002, window: 8192, urgent: 0, options: new Uint8Array(0), ...r };
  const b = new Uint8Array(60 + payload.length);
  const n = emitTcp(rr, b, 0);
  b.set(payload, n);
  return b.slice(0, n + payload.length);
}

export function udp(src: number, dst: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  emitUdp({ srcPort: src, dstPort: dst, length: 0 }, b, 0, payload.length);
  b.set(payload, 8);
  return b;
}

export function sctp(src: number, dst: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(12 + payload.length);
  emitSctp({ srcPort: src, dstPort: dst, vtag: 0x01020304 }, b, 0);
  b.set(payload, 12);
  return b;
}

export function icmp(type: number, code: number, rest = 0, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  emitIcmp({ type, code, rest }, b, 0);
  b.set(payload, 8);
  return b;
}

export function nd(r: NdRepr): Uint8Array {
  const b = new Uint8Array(ndLen(r));
  emitNd(r, b, 0);
  return b;
}

export function arp(r: Partial<ArpRepr>): Uint8Array {
  const b = new Uint8Array(28);
  emitArp({ op: 1, sha: mac("00:11:22:33:44:55"), spa: ip4("10.0.0.1"), tha: mac("00:00:00:00:00:00"), tpa: ip4("10.0.0.2"), ...r }, b, 0);
  return b;
}

export function mpls(stack: MplsLse[], payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 * stack.length + payload.length);
  const n = emitMplsStack(stack, b, 0);
  b.set(payload, n);
  return b;
}

export function igmp(type: number, code: number, group: number): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = type;
  b[1] = code;
  set32(b, 4, group);
  set16(b, 2, internetChecksum(b, 0, 8));
  return b;
}

export { ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS };

/** Bytes of an `ovs-ofctl compose-packet FLOW` hex dump, or null when it fails. */
export function composePacket(flow: string): Uint8Array | null {
  const r = spawnSync("ovs-ofctl", ["compose-packet", flow], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) return null;
  return hexDumpToBytes(r.stdout);
}

/** Parses OVS's `ovs_hex_dump` format ("00000000  66 77 ...-... |ascii|"). */
export function hexDumpToBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const m = /^[0-9a-f]{8}\s+(.*)$/.exec(line);
    if (!m) continue;
    const hex = m[1]!.slice(0, 48).replace(/-/g, " ");
    for (const h of hex.trim().split(/\s+/)) if (/^[0-9a-f]{2}$/.test(h)) out.push(parseInt(h, 16));
  }
  return Uint8Array.from(out);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
