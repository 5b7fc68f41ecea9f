/**
 * Unit tests of the userspace connection tracker (src/datapath/conntrack*.ts)
 * driven with frames directly: ct_state as OVS computes it through a TCP
 * connection's life (handshake, data, out-of-window junk, bad flags,
 * close, reopen), UDP and ICMP state and timeouts, expiry, related ICMP
 * errors, zones, mark/label with masks, the original tuple on the
 * packet, force, maxconns, NAT rewrites with valid checksums, and the
 * `ct` action's attribute parsing through the executor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpPacket } from "../../src/packet/dp-packet.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { FLOW_U32S } from "../../src/flow/key-layout.js";
import { csumFinish, csumPartial } from "../../src/packet/checksum.js";
import {
  Conntrack, CS_ESTABLISHED, CS_INVALID, CS_NEW, CS_RELATED, CS_REPLY_DIR, CS_SRC_NAT, CS_DST_NAT, CS_TRACKED, NatSpec, NAT_SRC, NAT_DST, NAT_DST_PORT,
} from "../../src/datapath/conntrack.js";
import { formatConn } from "../../src/datapath/conntrack-format.js";
import { TM_OTHER_FIRST } from "../../src/datapath/conntrack-tcp.js";
import { executeCt } from "../../src/datapath/conntrack-action.js";
import * as P from "../util/packets.js";

const A2B = { src: "50:54:00:00:00:01", dst: "50:54:00:00:00:02" };
const B2A = { src: "50:54:00:00:00:02", dst: "50:54:00:00:00:01" };
const A = "10.1.1.1";
const B = "10.1.1.2";
type TcpR = Parameters<typeof P.tcp>[0];

const key = new Uint32Array(FLOW_U32S);
function pkt(frame: Uint8Array): DpPacket {
  const p = new DpPacket(2048);
  p.setData(frame);
  extractFlowKey(p, key);
  return p;
}
function tcp(dir: "a" | "b", r: TcpR, data = 0): DpPacket {
  const [e, s, d] = dir === "a" ? [A2B, A, B] : [B2A, B, A];
  return pkt(P.eth(e, 0x0800, P.ipv4({ src: P.ip4(s), dst: P.ip4(d), proto: 6, ttl: 64 }, P.tcp(r, P.payloadBytes(data)))));
}
function udp(dir: "a" | "b", sp: number, dp: number): DpPacket {
  const [e, s, d] = dir === "a" ? [A2B, A, B] : [B2A, B, A];
  return pkt(P.eth(e, 0x0800, P.ipv4({ src: P.ip4(s), dst: P.ip4(d), proto: 17, ttl: 64 }, P.udp(sp, dp, P.payloadBytes(8)))));
}
function icmp(dir: "a" | "b", type: number, code: number, rest: number, payload = P.payloadBytes(8)): DpPacket {
  const [e, s, d] = dir === "a" ? [A2B, A, B] : [B2A, B, A];
  return pkt(P.eth(e, 0x0800, P.ipv4({ src: P.ip4(s), dst: P.ip4(d), proto: 1, ttl: 64 }, P.icmp(type, code, rest, payload))));
}

interface CtOpts {
  zone?: number;
  commit?: boolean;
  force?: boolean;
  mark?: [number, number];
  label?: [Uint32Array, Uint32Array];
  nat?: NatSpec;
}
function ct(t: Conntrack, p: DpPacket, now: number, o: CtOpts = {}): number {
  t.execute(p, (p.buf[p.start + 12]! << 8) | p.buf[p.start + 13]!, o.zone ?? 0, o.commit ?? false, o.force ?? false,
    o.mark?.[0] ?? 0, o.mark?.[1] ?? 0, o.mark !== undefined, o.label?.[0] ?? null, o.label?.[1] ?? null, o.nat ?? null, null, now);
  return p.ctState;
}
/** The classic pipeline: ct, then ct(commit) when new. Returns the first ct's state. */
function through(t: Conntrack, p: DpPacket, now: number, zone = 0): number {
  const st = ct(t, p, now, { zone });
  if (st & CS_NEW) ct(t, p, now, { zone, commit: true });
  return st;
}

const TRK = CS_TRACKED;

test("conntrack: TCP handshake, data, junk, close and reopen", () => {
  const t = new Conntrack();
  let now = 1000;
  const ws = Uint8Array.from([1, 3, 3, 7]);
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 100, flags: 0x002, window: 1000, options: ws }), now), TRK | CS_NEW);
  assert.equal(through(t, tcp("b", { srcPort: 80, dstPort: 1000, seq: 500, ack: 101, flags: 0x012, window: 1000, options: ws }), now), TRK | CS_ESTABLISHED | CS_REPLY_DIR);
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 101, ack: 501, flags: 0x010, window: 100 }), now), TRK | CS_ESTABLISHED);
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 101, ack: 501, flags: 0x018, window: 100 }, 200), now), TRK | CS_ESTABLISHED);
  // Data far beyond what the peer's window allows is invalid.
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 50_000_000, ack: 501, flags: 0x018, window: 100 }, 10), now), TRK | CS_INVALID);
  // SYN+FIN, and a segment without ACK or RST, are invalid flags.
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 301, ack: 501, flags: 0x003 }), now), TRK | CS_INVALID);
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 301, ack: 501, flags: 0x008 }), now), TRK | CS_INVALID);
  const [c] = t.connections(now);
  assert.ok(c);
  assert.equal(formatConn(c, now, true, true),
    "tcp,orig=(src=10.1.1.1,dst=10.1.1.2,sport=1000,dport=80),reply=(src=10.1.1.2,dst=10.1.1.1,sport=80,dport=1000),id=0,status=0,timeout=86400," +
    "protoinfo=(state_orig=ESTABLISHED,state_reply=ESTABLISHED,wscale_orig=7,wscale_reply=7,flags_orig=WINDOW_SCALE,flags_reply=WINDOW_SCALE)");
  // Close: FIN both ways, last ACK.
  through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 301, ack: 501, flags: 0x011, window: 100 }), now);
  through(t, tcp("b", { srcPort: 80, dstPort: 1000, seq: 501, ack: 302, flags: 0x011, window: 100 }), now);
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 302, ack: 502, flags: 0x010, window: 100 }), now), TRK | CS_ESTABLISHED);
  assert.match(formatConn(c, now, false, true), /timeout=30,protoinfo=\(state=TIME_WAIT\)$/);
  // A new SYN on the closed tuple replaces the connection.
  now += 1000;
  assert.equal(through(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 9000, flags: 0x002, window: 1000 }), now), TRK | CS_NEW);
  const after = t.connections(now);
  assert.equal(after.length, 1);
  assert.notEqual(after[0], c);
  assert.match(formatConn(after[0]!, now, false, true), /timeout=30,protoinfo=\(state=SYN_SENT\)$/);
});

test("conntrack: a SYN+ACK cannot open a connection; a bare ACK can (be liberal)", () => {
  const t = new Conntrack();
  assert.equal(through(t, tcp("a", { srcPort: 1, dstPort: 2, seq: 1, ack: 1, flags: 0x012 }), 0), TRK | CS_INVALID);
  assert.equal(t.nConns, 0);
  assert.equal(through(t, tcp("a", { srcPort: 1, dstPort: 2, seq: 1, ack: 1, flags: 0x010 }), 0), TRK | CS_NEW);
  assert.match(formatConn(t.connections(0)[0]!, 0, true, false), /flags_orig=BE_LIBERAL,flags_reply=BE_LIBERAL\)$/);
});

test("conntrack: bad checksums and fragments are invalid, untracked tuple", () => {
  const t = new Conntrack();
  const p = tcp("a", { srcPort: 1, dstPort: 2, seq: 1, flags: 0x002 });
  p.buf[p.start + 14 + 20 + 16] ^= 0xff;
  assert.equal(ct(t, p, 0, { commit: true }), TRK | CS_INVALID);
  assert.equal(p.ctNwProto, 0);
  const f = udp("a", 1, 2);
  f.buf[p.start + 14 + 6] = 0x20; // more fragments
  f.buf[p.start + 14 + 10] = 0;
  f.buf[p.start + 14 + 11] = 0;
  const ipSum = csumFinish(csumPartial(f.buf, f.start + 14, 20));
  f.buf[f.start + 14 + 10] = ipSum >>> 8;
  f.buf[f.start + 14 + 11] = ipSum & 0xff;
  assert.equal(ct(t, f, 0, { commit: true }), TRK | CS_INVALID);
  assert.equal(t.nConns, 0);
});

test("conntrack: UDP states, timeouts and expiry", () => {
  const t = new Conntrack();
  assert.equal(through(t, udp("a", 5000, 53), 0), TRK | CS_NEW);
  assert.match(formatConn(t.connections(0)[0]!, 0, false, true), /timeout=60$/);
  // A second packet the same way before any reply: still new.
  assert.equal(through(t, udp("a", 5000, 53), 1000), TRK | CS_NEW);
  assert.equal(through(t, udp("b", 53, 5000), 2000), TRK | CS_ESTABLISHED | CS_REPLY_DIR);
  assert.match(formatConn(t.connections(2000)[0]!, 2000, false, true), /timeout=30$/);
  assert.equal(through(t, udp("a", 5000, 53), 3000), TRK | CS_ESTABLISHED);
  // 30 s after the last packet it is gone.
  assert.equal(t.connections(33_000).length, 0);
  assert.equal(ct(t, udp("b", 53, 5000), 33_000), TRK | CS_NEW);
  t.sweep(33_000);
  assert.equal(t.nConns, 0);
});

test("conntrack: ICMP echo, related errors, and errors about nothing", () => {
  const t = new Conntrack();
  assert.equal(through(t, icmp("a", 8, 0, 0x00070001), 0), TRK | CS_NEW);
  assert.equal(through(t, icmp("a", 8, 0, 0x00070002), 0), TRK | CS_NEW);
  assert.equal(through(t, icmp("b", 0, 0, 0x00070003), 0), TRK | CS_ESTABLISHED | CS_REPLY_DIR);
  // An echo reply alone cannot open a connection.
  assert.equal(through(t, icmp("b", 0, 0, 0x00090001), 0), TRK | CS_INVALID);
  through(t, udp("a", 5000, 53), 0);
  const quote = (sp: number): Uint8Array => P.ipv4({ src: P.ip4(A), dst: P.ip4(B), proto: 17, ttl: 64 }, P.udp(sp, 53, P.payloadBytes(8))).slice(0, 28);
  const rel = icmp("b", 3, 3, 0, quote(5000));
  assert.equal(ct(t, rel, 0), TRK | CS_RELATED | CS_REPLY_DIR);
  // The original tuple on the packet is the UDP connection's.
  assert.equal(rel.ctNwProto, 17);
  assert.equal(rel.ctNwSrc, P.ip4(A) >>> 0);
  assert.equal(rel.ctTpSrc, 5000);
  assert.equal(rel.ctTpDst, 53);
  assert.equal(ct(t, icmp("b", 3, 3, 0, quote(6000)), 0, { commit: true }), TRK | CS_INVALID);
  assert.equal(t.nConns, 2);
});

test("conntrack: zones are separate; mark and labels with masks; the tuple for ICMP", () => {
  const t = new Conntrack();
  const p = icmp("a", 8, 0, 0x00050001);
  const lv = Uint32Array.from([0, 0, 0, 0x12]);
  const lm = Uint32Array.from([0, 0, 0, 0xff]);
  ct(t, p, 0, { zone: 3, commit: true, mark: [0x55, 0xf0], label: [lv, lm] });
  assert.equal(p.ctZone, 3);
  assert.equal(p.ctMark, 0x50);
  assert.deepEqual([...p.ctLabel], [0, 0, 0, 0x12]);
  assert.equal(p.ctTpSrc, 8); // ICMP: type and code
  assert.equal(p.ctTpDst, 0);
  assert.equal(formatConn(t.connections(0)[0]!, 0, false, false),
    "icmp,orig=(src=10.1.1.1,dst=10.1.1.2,id=5,type=8,code=0),reply=(src=10.1.1.2,dst=10.1.1.1,id=5,type=0,code=0),zone=3,mark=80,labels=0x12");
  // The reply in another zone is a new (invalid: echo replies open nothing) packet.
  assert.equal(ct(t, icmp("b", 0, 0, 0x00050001), 0, { zone: 4 }), TRK | CS_INVALID);
  const r = icmp("b", 0, 0, 0x00050001);
  assert.equal(ct(t, r, 0, { zone: 3 }), TRK | CS_ESTABLISHED | CS_REPLY_DIR);
  assert.equal(r.ctMark, 0x50);
  t.flush(4);
  assert.equal(t.nConns, 1);
  t.flush(3);
  assert.equal(t.nConns, 0);
});

test("conntrack: force replaces a connection seen in reply direction; maxconns", () => {
  const t = new Conntrack();
  through(t, udp("a", 7, 9), 0);
  assert.equal(ct(t, udp("b", 9, 7), 0, { commit: true, force: true }), TRK | CS_NEW);
  const [c] = t.connections(0);
  assert.equal(c!.key.sport, 9);
  // The replaced connection counts until the sweep.
  assert.equal(t.nConns, 2);
  t.sweep(0);
  assert.equal(t.nConns, 1);
  t.maxConns = 1;
  assert.equal(ct(t, udp("a", 100, 200), 0, { commit: true }), TRK | CS_NEW);
  assert.equal(t.nConns, 1);
  assert.equal(t.stats.full, 1);
});

function checksumsOk(p: DpPacket): boolean {
  const b = p.buf, l3 = p.start + 14;
  if (csumFinish(csumPartial(b, l3, 20)) !== 0) return false;
  const len = ((b[l3 + 2]! << 8) | b[l3 + 3]!) - 20;
  const proto = b[l3 + 9]!;
  let pseudo = proto + len;
  for (let i = 12; i < 20; i += 2) pseudo += (b[l3 + i]! << 8) | b[l3 + i + 1]!;
  return csumFinish(csumPartial(b, l3 + 20, len, proto === 1 ? 0 : pseudo)) === 0;
}
const rd32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const rd16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

test("conntrack: SNAT and DNAT rewrite both directions with valid checksums", () => {
  const t = new Conntrack();
  const snat = new NatSpec();
  snat.action = NAT_SRC;
  snat.minAddr[0] = snat.maxAddr[0] = P.ip4("192.168.0.100") >>> 0;
  const p = tcp("a", { srcPort: 1000, dstPort: 80, seq: 1, flags: 0x002 });
  assert.equal(ct(t, p, 0, { commit: true, nat: snat }), TRK | CS_NEW | CS_SRC_NAT);
  assert.equal(rd32(p.buf, p.start + 26), P.ip4("192.168.0.100") >>> 0);
  assert.equal(rd16(p.buf, p.start + 34), 1000); // the port was free: kept
  assert.ok(checksumsOk(p));
  // The reply to the translated address comes back to the original one.
  const r = pkt(P.eth(B2A, 0x0800, P.ipv4({ src: P.ip4(B), dst: P.ip4("192.168.0.100"), proto: 6, ttl: 64 },
    P.tcp({ srcPort: 80, dstPort: 1000, seq: 50, ack: 2, flags: 0x012 }))));
  assert.equal(ct(t, r, 0, { nat: new NatSpec() }), TRK | CS_ESTABLISHED | CS_REPLY_DIR | CS_DST_NAT);
  assert.equal(rd32(r.buf, r.start + 30), P.ip4(A) >>> 0);
  assert.ok(checksumsOk(r));
  // A second connection wanting the same translated tuple gets another port.
  const p2 = pkt(P.eth(A2B, 0x0800, P.ipv4({ src: P.ip4("10.1.1.3"), dst: P.ip4(B), proto: 6, ttl: 64 },
    P.tcp({ srcPort: 1000, dstPort: 80, seq: 1, flags: 0x002 }))));
  ct(t, p2, 0, { commit: true, nat: snat });
  assert.notEqual(rd16(p2.buf, p2.start + 34), 1000);
  assert.ok(checksumsOk(p2));

  const dnat = new NatSpec();
  dnat.action = NAT_DST | NAT_DST_PORT;
  dnat.minAddr[0] = dnat.maxAddr[0] = P.ip4(B) >>> 0;
  dnat.minPort = dnat.maxPort = 8080;
  const u = pkt(P.eth(A2B, 0x0800, P.ipv4({ src: P.ip4(A), dst: P.ip4("10.9.9.9"), proto: 17, ttl: 64 }, P.udp(3000, 53, P.payloadBytes(8)))));
  assert.equal(ct(t, u, 0, { commit: true, nat: dnat }), TRK | CS_NEW | CS_DST_NAT);
  assert.equal(rd32(u.buf, u.start + 30), P.ip4(B) >>> 0);
  assert.equal(rd16(u.buf, u.start + 36), 8080);
  assert.ok(checksumsOk(u));
  const ur = pkt(P.eth(B2A, 0x0800, P.ipv4({ src: P.ip4(B), dst: P.ip4(A), proto: 17, ttl: 64 }, P.udp(8080, 3000, P.payloadBytes(8)))));
  assert.equal(ct(t, ur, 0, { nat: new NatSpec() }), TRK | CS_ESTABLISHED | CS_REPLY_DIR | CS_SRC_NAT);
  assert.equal(rd32(ur.buf, ur.start + 26), P.ip4("10.9.9.9") >>> 0);
  assert.equal(rd16(ur.buf, ur.start + 34), 53);
  assert.ok(checksumsOk(ur));
});

test("conntrack: the ct action's attributes (zone, commit, mark) through executeCt", () => {
  const t = new Conntrack();
  // ct(commit,zone=7,mark=0x5/0xff)
  const act = Uint8Array.from([
    4, 0, 1, 0, // commit
    6, 0, 2, 0, 7, 0, 0, 0, // zone 7 (u16 + pad)
    12, 0, 3, 0, 5, 0, 0, 0, 0xff, 0, 0, 0, // mark value, mask
  ]);
  const p = udp("a", 1, 2);
  executeCt(t, p, act, 0, act.length, 0);
  assert.equal(p.ctState, TRK | CS_NEW);
  assert.equal(p.ctZone, 7);
  assert.equal(p.ctMark, 5);
  assert.equal(t.connections(0, 7).length, 1);
  // Non-IP packets are invalid.
  const arp = pkt(P.eth(A2B, 0x0806, P.arp({})));
  executeCt(t, arp, act, 0, act.length, 0);
  assert.equal(arp.ctState, TRK | CS_INVALID);
});

test("conntrack: TFTP expectations make the server's reply related, with the parent's mark and tuple", () => {
  const t = new Conntrack();
  const req = udp("a", 3000, 69);
  t.execute(req, 0x800, 0, true, false, 9, 0xffffffff, true, null, null, null, "tftp", 0);
  assert.equal(req.ctState, TRK | CS_NEW);
  const data = udp("b", 5555, 3000);
  assert.equal(ct(t, data, 0), TRK | CS_NEW | CS_RELATED);
  // Before commit the packet already carries the parent's mark and tuple.
  assert.equal(data.ctMark, 9);
  assert.equal(data.ctTpDst, 69);
  assert.equal(ct(t, udp("b", 5555, 3000), 0, { commit: true }), TRK | CS_NEW | CS_RELATED);
  const back = udp("a", 3000, 5555);
  assert.equal(ct(t, back, 0), TRK | CS_ESTABLISHED | CS_RELATED | CS_REPLY_DIR);
  assert.equal(back.ctMark, 9);
  const child = t.connections(0).find((c) => c.algRelated)!;
  assert.match(formatConn(child, 0, true, false), /,mark=9,parent=\(src=10\.1\.1\.1,dst=10\.1\.1\.2,sport=3000,dport=69\)$/);
  // Another destination port is not expected.
  assert.equal(ct(t, udp("b", 5555, 3001), 0), TRK | CS_NEW);
  // Flushing the parent forgets the expectation.
  t.flush();
  assert.equal(ct(t, udp("b", 6000, 3000), 0), TRK | CS_NEW);
});

test("conntrack: an expired NATed connection holds its reply tuple until swept", () => {
  const t = new Conntrack();
  const snat = new NatSpec();
  snat.action = NAT_SRC;
  snat.minAddr[0] = snat.maxAddr[0] = P.ip4("192.168.0.100") >>> 0;
  t.timeouts[TM_OTHER_FIRST] = 1; // UDP's first-packet timeout: 1 s
  ct(t, udp("a", 5000, 53), 0, { commit: true, nat: snat });
  // 2 s later the connection has expired but is not swept yet (every 5 s).
  const later = 2000;
  const reply = pkt(P.eth(B2A, 0x0800, P.ipv4({ src: P.ip4(B), dst: P.ip4("192.168.0.100"), proto: 17, ttl: 64 }, P.udp(53, 5000, P.payloadBytes(8)))));
  t.execute(reply, 0x800, 0, false, false, 0, 0, false, null, null, null, null, later);
  assert.equal(reply.ctState, TRK | CS_INVALID);
  // A new connection from the same client cannot reuse the translated port yet.
  const again = udp("a", 5000, 53);
  ct(t, again, later, { commit: true, nat: snat });
  assert.equal(rd16(again.buf, again.start + 34), 5001);
  t.sweep(later);
  const third = pkt(P.eth(A2B, 0x0800, P.ipv4({ src: P.ip4("10.1.1.9"), dst: P.ip4(B), proto: 17, ttl: 64 }, P.udp(5000, 53, P.payloadBytes(8)))));
  ct(t, third, later, { commit: true, nat: snat });
  assert.equal(rd16(third.buf, third.start + 34), 5000);
});
