/**
 * Sample bodies of the packet messages (packet-in in every form, NXT_RESUME,
 * packet-out) for `samples.ts` and the packet differential test: a few
 * real frames (TCP, UDP, ICMP, ARP, IPv6, VLAN, a truncated one) with
 * metadata chosen per version so each is expressible in its wire form.
 */
import {
  COOKIE_NONE,
  hexToBytes,
  Match,
  NO_BUFFER,
  type ContinuationProp,
  type PacketInBody,
  type PacketOutBody,
} from "../../src/openflow/index.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";
import { matchOf } from "./flow-samples.js";

const ETH = "505400000006505400000005";
/** Frames as hex, each a valid packet of its kind. */
export const FRAMES: Readonly<Record<string, string>> = {
  tcp: ETH + "080045000028000000004006f97cc0a80001c0a80002271100500000000100000000500200007a9e0000",
  udp: ETH + "08004500001c000000004011f980c0a80001c0a80002003500350008c3d1",
  icmp: ETH + "08004500001c0000000040010000c0a80001c0a800020800f7ff00000000",
  arp: "ffffffffffff505400000005080600010800060400015054000000050a0000010000000000000a000002",
  ipv6: ETH + "86dd6000000000081140fe800000000000000000000000000001fe80000000000000000000000000000204d204d2000812ab",
  vlan: ETH + "81000064080045000014000000004000f9a5c0a80001c0a80002",
  short: ETH + "0800450000",
};

export function frame(name: keyof typeof FRAMES | string): Uint8Array {
  return hexToBytes(FRAMES[name]!);
}

function actionsOf(text: string) {
  const a = parseActions(text);
  if ("error" in a) throw new Error(`${text}: ${a.error}`);
  return a;
}

/** An in_port-only match, as the OF1.0/1.1 forms carry. */
function inPort(port: number, packetType: boolean): Match {
  const m = new Match();
  if (packetType) m.setNum("packet_type", 0);
  return m.setNum("in_port", port);
}

function pin(over: Partial<PacketInBody> & { packet: Uint8Array }): PacketInBody {
  return {
    totalLen: over.packet.length, bufferId: NO_BUFFER, reason: 0, tableId: 0, cookie: COOKIE_NONE,
    metadata: inPort(1, false), userdata: null, continuation: null, ...over,
  };
}

/** OFPT_PACKET_IN of `v`: what that version's form can carry. */
export function packetInSamples(v: number): PacketInBody[] {
  const oxm = v >= 3;
  const cookie = (c: bigint): bigint => (v >= 4 ? c : COOKIE_NONE);
  const table = (t: number): number => (v >= 2 ? t : 0);
  return [
    pin({ packet: frame("tcp"), metadata: inPort(3, false) }),
    pin({ packet: frame("udp"), totalLen: 100, bufferId: 0x111, reason: 1, tableId: table(5), cookie: cookie(0x1234n), metadata: oxm ? matchOf("in_port=7,metadata=0x55,reg0=0x1,tun_id=0x99") : inPort(7, false) }),
    pin({ packet: frame("arp"), reason: 2, tableId: table(254), metadata: inPort(0xfffe, false) }),
    pin({ packet: frame("ipv6"), reason: v >= 5 ? 5 : 1, cookie: cookie(0n), metadata: oxm ? matchOf("in_port=2,reg3=0x7/0xff") : inPort(2, false) }),
    pin({ packet: frame("vlan"), reason: 42, totalLen: 10, bufferId: 7 }),
    pin({ packet: frame("short"), reason: 4, tableId: table(1) }),
  ];
}

/** NXT_PACKET_IN: NXM metadata in any version. */
export function nxPacketInSamples(): PacketInBody[] {
  return [
    pin({ packet: frame("icmp"), cookie: 0xfedcba9876543210n, tableId: 3, metadata: matchOf("in_port=4,reg1=0x10,pkt_mark=0x3") }),
    pin({ packet: frame("tcp"), reason: 1, bufferId: 0x22, totalLen: 1500, metadata: matchOf("in_port=LOCAL") }),
    pin({ packet: frame("arp"), metadata: new Match() }),
  ];
}

const BRIDGE = hexToBytes("0123456789abcdef0123456789abcdef");

function continuation(full: boolean): ContinuationProp[] {
  const c: ContinuationProp[] = [{ kind: "bridge", uuid: BRIDGE }];
  if (full) {
    c.push(
      { kind: "stack", value: hexToBytes("0000002a") },
      { kind: "stack", value: hexToBytes("00") },
      { kind: "stack", value: hexToBytes("0102030405060708090a") },
      { kind: "mirrors", value: 0x3 },
      { kind: "conntracked" },
    );
  }
  c.push({ kind: "actions", actions: actionsOf("output:1") });
  if (full) {
    c.push(
      { kind: "table_id", value: 7 },
      { kind: "cookie", value: 0x99n },
      { kind: "actions", actions: actionsOf("resubmit(,3),mod_dl_src:00:00:00:00:00:01") },
      { kind: "action_set", actions: actionsOf("output:5") },
      { kind: "odp_port", value: 4 },
    );
  }
  return c;
}

/** NXT_PACKET_IN2: every property, userdata and continuation. */
export function nxPacketIn2Samples(): PacketInBody[] {
  return [
    pin({ packet: frame("tcp"), metadata: matchOf("in_port=1") }),
    pin({ packet: frame("udp"), totalLen: 200, bufferId: 0x33, reason: 1, tableId: 9, cookie: 0x5n, metadata: matchOf("in_port=3,reg0=0x1,ct_state=+trk,ct_zone=5"), userdata: hexToBytes("0102030405") }),
    pin({ packet: frame("ipv6"), reason: 1, tableId: 2, metadata: matchOf("in_port=2,metadata=0x1"), continuation: continuation(true), userdata: hexToBytes("aa") }),
    pin({ packet: frame("arp"), reason: 5, metadata: new Match(), continuation: continuation(false) }),
  ];
}

/** NXT_RESUME: a packet-in with continuation handed back. */
export function resumeSamples(): PacketInBody[] {
  return [
    pin({ packet: frame("ipv6"), reason: 1, tableId: 2, metadata: matchOf("in_port=2"), continuation: continuation(true) }),
    pin({ packet: frame("tcp"), reason: 1, metadata: matchOf("in_port=5,reg2=0x3"), continuation: continuation(false) }),
  ];
}

function po(over: Partial<PacketOutBody>): PacketOutBody {
  return { bufferId: NO_BUFFER, metadata: inPort(1, true), actions: [], packet: new Uint8Array(0), ...over };
}

/** OFPT_PACKET_OUT of `v`; OpenFlow 1.5 may carry pipeline fields. */
export function packetOutSamples(v: number): PacketOutBody[] {
  const port = (p: number): Match => (v >= 6 ? matchOf(`in_port=${p}`) : inPort(p, true));
  return [
    po({ metadata: port(1), actions: actionsOf("output:3"), packet: frame("tcp") }),
    po({ metadata: port(0xfffd), actions: actionsOf("output:1,output:2"), packet: frame("icmp") }),
    po({ metadata: port(0xfffe), actions: [], packet: frame("arp") }),
    po({ metadata: port(0xffff), bufferId: 0x1234, actions: actionsOf("output:9") }),
    po({ metadata: v >= 6 ? matchOf("in_port=4,reg0=0x5,metadata=0x10,tun_id=0x7") : port(4), actions: actionsOf("mod_vlan_vid:5,output:1"), packet: frame("vlan") }),
  ];
}
