/**
 * The BFD session (src/ofproto/bfd.ts) by hand: two sessions on a fake
 * clock whose packets are handed to each other, so the RFC 5880 state
 * machine, the poll sequence, detection, cpath_down, decay and the forced
 * forwarding flag can be followed step by step; the packet it builds;
 * translation's test and the megaflow bits it reads; and Interface:bfd
 * parsing (src/vswitchd/bfd-config.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BfdSession,
  DIAG_CPATH_DOWN,
  DIAG_EXPIRED,
  DIAG_NONE,
  DIAG_RMT_DOWN,
  FLAG_POLL,
  STATE_DOWN,
  STATE_INIT,
  STATE_UP,
  udpPayloadOffset,
  type BfdSettings,
} from "../../src/ofproto/bfd.js";
import { bfdSettingsOf } from "../../src/vswitchd/bfd-config.js";
import { FLOW_U32S, W_TP_DST, W_NW_PROTO, W_ETH_DST } from "../../src/flow/key-layout.js";
import { internetChecksum } from "../../src/packet/checksum.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { DpPacket } from "../../src/packet/dp-packet.js";

function settings(over: Partial<BfdSettings> = {}): BfdSettings {
  return { ...bfdSettingsOf(new Map([["enable", "true"]]))!, ...over };
}

/** Two sessions wired back to back on one fake clock. */
class Pair {
  now = 1_000_000;
  /** Whether packets from a (to b) and from b (to a) arrive. */
  aToB = true;
  bToA = true;
  readonly a: BfdSession;
  readonly b: BfdSession;
  rxA = 0;
  rxB = 0;
  sent: Uint8Array[] = [];

  constructor(sa: BfdSettings = settings(), sb: BfdSettings = settings()) {
    const clock = () => this.now;
    const mac = new Uint8Array([0xaa, 0, 0, 0, 0, 1]);
    this.a = new BfdSession("a", { rxPackets: () => this.rxA, hwAddr: () => mac, send: () => undefined }, sa, clock, () => 0.5, false);
    this.b = new BfdSession("b", { rxPackets: () => this.rxB, hwAddr: () => mac, send: () => undefined }, sb, clock, () => 0.5, false);
  }

  private deliver(to: BfdSession, frame: Uint8Array): void {
    to.processPacket(flowOf(frame), frame);
  }

  /** Runs both sessions every 10 ms for `ms`, delivering what they send. */
  advance(ms: number): void {
    for (let t = 0; t < ms; t += 10) {
      this.now += 10;
      for (let round = 0; round < 3; round++) {
        for (const [s, peer, ok] of [[this.a, this.b, this.aToB], [this.b, this.a, this.bToA]] as const) {
          s.run();
          if (!s.shouldSend()) continue;
          const f = s.putPacket(new Uint8Array(6));
          this.sent.push(f);
          if (ok) {
            this.deliver(peer, f);
            if (peer === this.a) this.rxA++;
            else this.rxB++;
          }
        }
      }
    }
  }

  close(): void {
    this.a.close();
    this.b.close();
  }
}

const pkt = new DpPacket(2048);
function flowOf(frame: Uint8Array): Uint32Array {
  const flow = new Uint32Array(FLOW_U32S);
  assert.ok(pkt.setData(frame));
  extractFlowKey(pkt, flow);
  return flow;
}

function statusMap(s: BfdSession): Record<string, string> {
  return Object.fromEntries(s.status());
}

test("two sessions come up (down → init → up), negotiate min_tx by a poll sequence and count one flap", () => {
  const p = new Pair();
  try {
    assert.equal(p.a.state, STATE_DOWN);
    assert.deepEqual(statusMap(p.a), {
      forwarding: "false", state: "down", diagnostic: "No Diagnostic", flap_count: "0", remote_state: "down", remote_diagnostic: "No Diagnostic",
    });
    p.advance(50);
    // a spoke first: b heard "down" and went to init.
    assert.equal(p.b.state === STATE_INIT || p.b.state === STATE_UP, true);
    p.advance(4000);
    for (const s of [p.a, p.b]) {
      assert.equal(s.state, STATE_UP);
      assert.equal(s.forwarding(), true);
      assert.equal(s.flapCount, 1);
      assert.equal(s.effectiveMinTx(), 100);
      assert.equal(s.txInterval(), 1000, "the peer's min_rx (1000) bounds the transmit interval");
      assert.equal(s.flags & FLAG_POLL, 0);
    }
    assert.match(p.a.details(), /Local Session State: up\n  Local Diagnostic: No Diagnostic\n/);
    assert.match(p.a.details(), /Remote Detect Multiplier: 3\n$/);

    // min_rx=300 on b: a poll, then a transmits every 300 ms at most.
    p.b.configure(settings({ minRx: 300 }));
    assert.notEqual(p.b.flags & FLAG_POLL, 0, "b polls");
    p.advance(2000);
    assert.equal(p.b.flags & FLAG_POLL, 0, "the poll ended with a Final");
    assert.equal(p.b.minRx, 300);
    assert.equal(p.a.rmtMinRx, 300);
    assert.equal(p.a.txInterval(), 300);
  } finally {
    p.close();
  }
});

test("a silent peer expires the detection time; the peer then hears down and signals it", () => {
  const p = new Pair();
  try {
    p.advance(4000);
    assert.equal(p.a.state, STATE_UP);
    p.bToA = false;
    p.advance(3500);
    assert.equal(p.a.state, STATE_DOWN);
    assert.equal(p.a.diag, DIAG_EXPIRED);
    assert.equal(p.a.forwarding(), false);
    assert.equal(p.a.flapCount, 2);
    // b got a's "down" and went down too.
    assert.equal(p.b.state === STATE_DOWN || p.b.state === STATE_INIT, true);
    assert.equal(p.b.diag, DIAG_RMT_DOWN);
    p.bToA = true;
    p.advance(4000);
    assert.equal(p.a.state, STATE_UP);
    assert.equal(p.a.diag, DIAG_EXPIRED, "the last diagnostic stays");
  } finally {
    p.close();
  }
});

test("cpath_down: the local diagnostic says so and the peer stops forwarding", () => {
  const p = new Pair();
  try {
    p.advance(4000);
    p.a.configure(settings({ cpathDown: true }));
    assert.equal(p.a.diag, DIAG_CPATH_DOWN);
    p.advance(3000);
    assert.equal(p.b.state, STATE_UP);
    assert.equal(p.b.forwarding(), false);
    assert.equal(p.a.forwarding(), true);
    p.a.configure(settings());
    p.advance(3000);
    assert.equal(p.a.diag, DIAG_NONE);
    assert.equal(p.b.forwarding(), true);
  } finally {
    p.close();
  }
});

test("bfd/set-forwarding overrides the computed flag without counting flaps", () => {
  const p = new Pair();
  try {
    p.advance(4000);
    p.a.setForwardingOverride(0);
    assert.equal(p.a.forwarding(), false);
    assert.equal(statusMap(p.a)["forwarding"], "false");
    p.a.setForwardingOverride(-1);
    assert.equal(p.a.forwarding(), true);
    assert.equal(p.a.flapCount, 1);
  } finally {
    p.close();
  }
});

test("decay: with nothing but BFD received, min_rx drops to decay_min_rx; traffic brings it back", () => {
  const p = new Pair(settings({ decayMinRx: 3000 }));
  try {
    p.advance(4000);
    assert.equal(p.a.state, STATE_UP);
    p.advance(3000);
    assert.equal(p.a.minRx, 3000);
    assert.equal(p.a.inDecay, true);
    assert.equal(p.b.txInterval(), 3000);
    // Lots of other traffic: the decay ends at the next check.
    p.rxA += 1000;
    p.advance(3100);
    assert.equal(p.a.inDecay, false);
    assert.equal(p.a.minRx, 1000);
  } finally {
    p.close();
  }
});

test("the control packet is OVS's: addresses, TOS 0xc0, TTL 255, UDP 3784, checksummed IPv4, RFC 5880 header", () => {
  const p = new Pair(settings({ localSrcMac: Uint8Array.of(2, 0, 0, 0, 0, 9) }));
  try {
    const f = p.a.putPacket(Uint8Array.of(0xaa, 0, 0, 0, 0, 1));
    assert.equal(f.length, 14 + 20 + 8 + 24);
    const hex = Buffer.from(f).toString("hex");
    assert.equal(hex.slice(0, 28), "002320000001" + "020000000009" + "0800");
    assert.equal(f[14], 0x45);
    assert.equal(f[15], 0xc0);
    assert.equal(f[22], 255);
    assert.equal(f[23], 17);
    assert.equal(hex.slice(52, 68), "a9fe0101a9fe0100");
    assert.equal(internetChecksum(f, 14, 20), 0);
    const dv = new DataView(f.buffer);
    assert.ok(dv.getUint16(34) >= 49152);
    assert.equal(dv.getUint16(36), 3784);
    assert.equal(dv.getUint16(38), 32);
    assert.equal(udpPayloadOffset(f), 42);
    assert.equal(f[42], 0x20, "version 1, no diagnostic");
    assert.equal(f[43], STATE_DOWN);
    assert.equal(f[44], 3);
    assert.equal(f[45], 24);
    assert.equal(dv.getUint32(46), p.a.disc);
    assert.equal(dv.getUint32(50), 0);
    assert.equal(dv.getUint32(54), 1_000_000, "1 s while not up");
    assert.equal(dv.getUint32(58), 1_000_000);
  } finally {
    p.close();
  }
});

test("malformed or foreign control packets are ignored", () => {
  const p = new Pair();
  try {
    const good = p.b.putPacket(new Uint8Array(6));
    const variants: [string, (f: Uint8Array) => void, number?][] = [
      ["TTL 254", (f) => (f[22] = 254)],
      ["version 2", (f) => (f[42] = 0x40)],
      ["zero multiplier", (f) => (f[44] = 0)],
      ["short length", (f) => (f[45] = 20)],
      ["multipoint", (f) => (f[43] |= 1)],
      ["auth", (f) => (f[43] |= 4)],
      ["no my_disc", (f) => new DataView(f.buffer).setUint32(46, 0)],
      ["wrong your_disc", (f) => new DataView(f.buffer).setUint32(50, (p.a.disc ^ 1) >>> 0)],
      ["init with no your_disc", (f) => (f[43] = STATE_INIT)],
    ];
    for (const [what, change] of variants) {
      const f = good.slice();
      change(f);
      const flow = flowOf(f);
      p.a.processPacket(flow, f);
      assert.equal(p.a.state, STATE_DOWN, what);
      assert.equal(p.a.rmtDisc, 0, what);
    }
    p.a.processPacket(flowOf(good.subarray(0, 50)), good.subarray(0, 50));
    assert.equal(p.a.rmtDisc, 0, "truncated");
    p.a.processPacket(flowOf(good), good);
    assert.equal(p.a.state, STATE_INIT, "the good one is taken");
  } finally {
    p.close();
  }
});

test("translation's test reads what OVS's reads: dl_type, nw_proto, the deciding bit of tp_dst, dl_dst and tun_id when asked", () => {
  const p = new Pair(settings({ remoteDstMac: new Uint8Array(6) }));
  try {
    const frame = p.b.putPacket(new Uint8Array(6));
    const flow = flowOf(frame);
    let wc = new Uint32Array(FLOW_U32S);
    assert.equal(p.a.shouldProcessFlow(flow, wc), true);
    assert.equal(wc[W_TP_DST]! & 0xffff, 0xffff);
    assert.equal(wc[W_ETH_DST], 0, "no remote MAC: dl_dst unread");

    flow[W_TP_DST] = (flow[W_TP_DST]! & 0xffff0000) | 3785;
    wc = new Uint32Array(FLOW_U32S);
    assert.equal(p.a.shouldProcessFlow(flow, wc), false);
    assert.equal(wc[W_TP_DST]! & 0xffff, 0x1);
    flow[W_TP_DST] = flow[W_TP_DST]! & 0xffff0000;
    wc = new Uint32Array(FLOW_U32S);
    assert.equal(p.a.shouldProcessFlow(flow, wc), false);
    assert.equal(wc[W_TP_DST]! & 0xffff, 0x800);
    assert.equal(wc[W_NW_PROTO]! >>> 24, 0xff);

    p.a.configure(settings({ remoteDstMac: Uint8Array.of(0, 0x11, 0x22, 0x33, 0x44, 0x55), checkTnlKey: true }));
    wc = new Uint32Array(FLOW_U32S);
    assert.equal(p.a.shouldProcessFlow(flowOf(frame), wc), false, "not to the remote MAC");
    assert.equal(wc[W_ETH_DST], 0xffffffff);
    frame.set([0, 0x11, 0x22, 0x33, 0x44, 0x55], 0);
    wc = new Uint32Array(FLOW_U32S);
    assert.equal(p.a.shouldProcessFlow(flowOf(frame), wc), true);
  } finally {
    p.close();
  }
});

test("Interface:bfd parses as OVS reads it", () => {
  assert.equal(bfdSettingsOf(new Map()), null);
  assert.equal(bfdSettingsOf(new Map([["enable", "yes"]])), null);
  const d = bfdSettingsOf(new Map([["enable", "TRUE"]]))!;
  assert.equal(d.minTx, 100);
  assert.equal(d.minRx, 1000);
  assert.equal(d.decayMinRx, 0);
  assert.equal(d.srcIp, 0xa9fe0101);
  assert.equal(d.dstIp, 0xa9fe0100);
  const s = bfdSettingsOf(new Map([
    ["enable", "true"], ["min_tx", "50"], ["min_rx", "250x"], ["decay_min_rx", "3000"], ["cpath_down", "true"],
    ["bfd_src_ip", "10.0.0.1"], ["bfd_dst_ip", "nonsense"], ["bfd_local_dst_mac", "01:02:03:04:05:06"], ["oam", "true"],
  ]))!;
  assert.equal(s.minTx, 100, "raised to 100");
  assert.equal(s.minRx, 1000, "not a number: the default");
  assert.equal(s.decayMinRx, 3000);
  assert.equal(s.cpathDown, true);
  assert.equal(s.srcIp, 0x0a000001);
  assert.equal(s.dstIp, 0xa9fe0100);
  assert.deepEqual([...s.localDstMac], [1, 2, 3, 4, 5, 6]);
  assert.equal(s.oam, true);
});
