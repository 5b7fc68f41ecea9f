/**
 * Zone connection limits and the TCP sequence-check switch of the
 * userspace connection tracker, driven with frames directly and read
 * back through the dpctl commands (ct-set-limits, ct-get-limits,
 * ct-del-limits, ct-enable/disable/get-tcp-seq-chk, ct-bkts) as OVS 3.1
 * prints them: a commit over the zone's limit leaves the packet +new and
 * commits nothing; the default limit's count is shared by the zones
 * without their own; a deleted and re-created limit counts afresh.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpPacket } from "../../src/packet/dp-packet.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { FLOW_U32S } from "../../src/flow/key-layout.js";
import { CS_ESTABLISHED, CS_INVALID, CS_NEW, CS_REPLY_DIR, CS_TRACKED, type Conntrack } from "../../src/datapath/conntrack.js";
import { DpifNetdev } from "../../src/datapath/dpif-netdev.js";
import { runDpctl, type DpctlEnv } from "../../src/datapath/dpctl-commands.js";
import * as P from "../util/packets.js";

const A2B = { src: "50:54:00:00:00:01", dst: "50:54:00:00:00:02" };
const B2A = { src: "50:54:00:00:00:02", dst: "50:54:00:00:00:01" };
const A = "10.1.1.1";
const B = "10.1.1.2";
const TRK = CS_TRACKED;

const key = new Uint32Array(FLOW_U32S);
function pkt(frame: Uint8Array): DpPacket {
  const p = new DpPacket(2048);
  p.setData(frame);
  extractFlowKey(p, key);
  return p;
}
function udp(sp: number, dp: number): DpPacket {
  return pkt(P.eth(A2B, 0x0800, P.ipv4({ src: P.ip4(A), dst: P.ip4(B), proto: 17, ttl: 64 }, P.udp(sp, dp, P.payloadBytes(8)))));
}
function tcp(dir: "a" | "b", r: Parameters<typeof P.tcp>[0], data = 0): DpPacket {
  const [e, s, d] = dir === "a" ? [A2B, A, B] : [B2A, B, A];
  return pkt(P.eth(e, 0x0800, P.ipv4({ src: P.ip4(s), dst: P.ip4(d), proto: 6, ttl: 64 }, P.tcp(r, P.payloadBytes(data)))));
}
function ct(t: Conntrack, p: DpPacket, zone: number, commit: boolean, now = 0): number {
  t.execute(p, 0x0800, zone, commit, false, 0, 0, false, null, null, null, null, now);
  return p.ctState;
}

/** One private datapath and a dpctl that sees only it. */
function setup(): { dp: DpifNetdev; dpctl: (...argv: string[]) => { status: number; text: string } } {
  const dp = new DpifNetdev("ct0", "dummy");
  const env: DpctlEnv = {
    open: (type, name) => (type === "dummy" && name === "ct0" ? dp : 19),
    remove: () => 1,
    types: () => ["dummy"],
    names: (type) => (type === "dummy" ? ["ct0"] : []),
    now: () => 0,
  };
  const dpctl = (...argv: string[]): { status: number; text: string } => {
    const r = runDpctl(argv, { program: "ovs-vswitchd", isAppctl: true }, env);
    return { status: r.status, text: r.text };
  };
  return { dp, dpctl };
}

test("ct limits: commits over a zone's limit stay +new and are not committed; ct-get-limits counts", () => {
  const { dp, dpctl } = setup();
  const t = dp.conntrack;
  assert.deepEqual(dpctl("ct-get-limits"), { status: 0, text: "default limit=0\n" });
  assert.equal(dpctl("ct-set-limits", "zone=5,limit=2").status, 0);
  for (const port of [1001, 1002, 1003, 1004]) assert.equal(ct(t, udp(port, 53), 5, true), TRK | CS_NEW);
  assert.equal(t.connections(0, 5).length, 2);
  assert.equal(t.stats.zoneFull, 2);
  assert.equal(dpctl("ct-get-limits").text, "default limit=0\nzone=5,limit=2,count=2\n");
  assert.equal(dpctl("ct-get-limits", "zone=5,9").text, "default limit=0\nzone=5,limit=2,count=2\nzone=9,limit=0,count=0\n");
  // The refused connections are not there: their replies find nothing.
  assert.equal(ct(t, udp(1003, 53), 5, false), TRK | CS_NEW);
  // Other zones are unlimited without a default.
  for (const port of [1, 2, 3]) ct(t, udp(port, 53), 6, true);
  assert.equal(t.connections(0, 6).length, 3);
  // Raising the limit keeps the count and admits more.
  dpctl("ct-set-limits", "zone=5,limit=3");
  ct(t, udp(1003, 53), 5, true);
  assert.equal(dpctl("ct-get-limits", "zone=5").text, "default limit=0\nzone=5,limit=3,count=3\n");
  // A flush gives the places back.
  assert.equal(dpctl("flush-conntrack", "zone=5").status, 0);
  assert.equal(dpctl("ct-get-limits", "zone=5").text, "default limit=0\nzone=5,limit=3,count=0\n");
  assert.equal(dpctl("ct-bkts").text, "Total Buckets: 1\nCurrent Connections: 3\n\n" +
    "+-----------+-----------------------------------------+\n" +
    "|  Buckets  |         Connections per Buckets         |\n" +
    "+-----------+-----------------------------------------+\n" +
    "   0..  7   |     3\n\n");
  assert.match(dpctl("ct-bkts", "gt=3").text, /\| {5}\.\n\n$/);
});

test("ct limits: the default limit's count is shared; limit 0 admits nothing; a re-created limit counts afresh", () => {
  const { dp, dpctl } = setup();
  const t = dp.conntrack;
  dpctl("ct-set-limits", "default=1");
  ct(t, udp(1, 2), 9, true);
  ct(t, udp(3, 4), 10, true);
  assert.equal(t.nConns, 1);
  assert.equal(dpctl("ct-get-limits", "zone=9,10").text, "default limit=1\nzone=9,limit=1,count=1\nzone=10,limit=1,count=1\n");
  // A zone of its own leaves the default.
  dpctl("ct-set-limits", "zone=10,limit=0");
  assert.equal(ct(t, udp(3, 4), 10, true), TRK | CS_NEW);
  assert.equal(t.connections(0, 10).length, 0);
  dpctl("ct-set-limits", "zone=10,limit=5");
  ct(t, udp(3, 4), 10, true);
  assert.equal(dpctl("ct-get-limits").text, "default limit=1\nzone=10,limit=5,count=1\n");
  // Deleted and created again: the connection admitted before is not counted, nor given back.
  assert.equal(dpctl("ct-del-limits", "zone=10").status, 0);
  dpctl("ct-set-limits", "zone=10,limit=5");
  assert.equal(dpctl("ct-get-limits", "zone=10").text, "default limit=1\nzone=10,limit=5,count=0\n");
  dpctl("flush-conntrack", "zone=10");
  assert.equal(dpctl("ct-get-limits", "zone=10").text, "default limit=1\nzone=10,limit=5,count=0\n");
  // Deleting the zone's limit sends it back to the default (count shared with zone 9).
  dpctl("ct-del-limits", "zone=10,11");
  assert.equal(dpctl("ct-get-limits", "zone=10").text, "default limit=1\nzone=10,limit=1,count=1\n");
});

test("ct limits: argument errors as OVS words them", () => {
  const { dpctl } = setup();
  const err = (argv: string[], msg: string): void => {
    const r = dpctl(...argv);
    assert.equal(r.status, 22, argv.join(" "));
    assert.equal(r.text, `ovs-vswitchd: ${msg} (Invalid argument)\n`, argv.join(" "));
  };
  err(["ct-set-limits", "default=abc"], "invalid default limit");
  err(["ct-set-limits", "zone=5"], "failed to parse zone limit");
  err(["ct-set-limits", "zone=5,limit=x"], "failed to parse field limit");
  err(["ct-set-limits", "zone=70000,limit=1"], "failed to parse field zone");
  err(["ct-set-limits", "zone=5,limit="], "field limit missing value");
  err(["ct-set-limits", "zone=5,limit=1,foo=2"], "invalid zone limit field: foo");
  err(["ct-set-limits", "zone=5,limit=1", "default=3"], "invalid zone limit field: default");
  err(["ct-set-limits", "dummy@ct0"], "failed to parse zone limit");
  err(["ct-del-limits", "foo"], "invalid argument foo");
  err(["ct-del-limits", "zone=x"], "invalid zone");
  err(["ct-get-limits", "zone="], "invalid zone");
  err(["ct-get-limits", "nosuch", "zone=1"], "datapath not found");
  // Nothing was set by the failed commands.
  assert.equal(dpctl("ct-get-limits").text, "default limit=0\n");
  // Numbers as C reads them: hex and octal, a u32 limit that wraps.
  assert.equal(dpctl("ct-set-limits", "default=-1", "zone=0x10,limit=010").status, 0);
  assert.equal(dpctl("ct-get-limits", "zone=16,3x").text, "default limit=4294967295\nzone=16,limit=8,count=0\nzone=3,limit=4294967295,count=0\n");
});

test("tcp-seq-chk: an out-of-window segment is +inv with the check on, +est with it off", () => {
  const { dp, dpctl } = setup();
  const t = dp.conntrack;
  assert.equal(dpctl("ct-get-tcp-seq-chk").text, "TCP sequence checking: enabled\n");
  const open = (sport: number): void => {
    ct(t, tcp("a", { srcPort: sport, dstPort: 80, seq: 100, flags: 0x002, window: 1000 }), 0, true);
    ct(t, tcp("b", { srcPort: 80, dstPort: sport, seq: 500, ack: 101, flags: 0x012, window: 1000 }), 0, true);
    assert.equal(ct(t, tcp("a", { srcPort: sport, dstPort: 80, seq: 101, ack: 501, flags: 0x010, window: 1000 }), 0, true), TRK | CS_ESTABLISHED);
  };
  const junk = (sport: number): DpPacket => tcp("a", { srcPort: sport, dstPort: 80, seq: 50_000_000, ack: 501, flags: 0x018, window: 1000 }, 10);
  const badRst = (sport: number): DpPacket => tcp("b", { srcPort: 80, dstPort: sport, seq: 9_000_000, ack: 101, flags: 0x014, window: 0 });
  open(1000);
  assert.equal(ct(t, junk(1000), 0, true), TRK | CS_INVALID);
  assert.equal(ct(t, badRst(1000), 0, true), TRK | CS_INVALID);
  assert.equal(dpctl("ct-disable-tcp-seq-chk").text, "disabling TCP sequence checking successful");
  assert.equal(dpctl("ct-get-tcp-seq-chk").text, "TCP sequence checking: disabled\n");
  assert.equal(ct(t, junk(1000), 0, true), TRK | CS_ESTABLISHED);
  assert.equal(t.stats.tcpSeqChkBypass, 1);
  // Bad flags stay invalid.
  assert.equal(ct(t, tcp("a", { srcPort: 1000, dstPort: 80, seq: 301, ack: 501, flags: 0x003 }), 0, true), TRK | CS_INVALID);
  // A reset with any sequence number closes the connection.
  assert.equal(ct(t, badRst(1000), 0, true), TRK | CS_ESTABLISHED | CS_REPLY_DIR);
  assert.match(dpctl("dump-conntrack").text, /sport=1000,.*state=TIME_WAIT/);
  assert.equal(dpctl("ct-enable-tcp-seq-chk", "dummy@ct0").text, "enabling TCP sequence checking successful");
  open(2000);
  assert.equal(ct(t, junk(2000), 0, true), TRK | CS_INVALID);
  assert.deepEqual(dpctl("ct-enable-tcp-seq-chk", "a", "b").status, 22);
});
