/**
 * CFM sessions (src/ofproto/cfm.ts) by hand: two sessions on a fake clock
 * whose CCMs are handed to each other; the CCM they build, the fault
 * check (recv, rdi, loopback), flaps, the health average, extended mode's
 * operational state, and Interface settings parsing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CFM_FAULT_LOOPBACK, CFM_FAULT_RDI, CFM_FAULT_RECV, Cfm, cfmFaultNames, cfmSettingsOf, cfmSettingsValid, type CfmSettings } from "../../src/ofproto/cfm.js";

function settings(mpid: number, oc: Record<string, string> = {}): CfmSettings {
  return cfmSettingsOf(mpid, new Map(Object.entries(oc)))!;
}

class Pair {
  now = 5_000_000;
  aToB = true;
  bToA = true;
  readonly a: Cfm;
  readonly b: Cfm;
  constructor(sa: CfmSettings, sb: CfmSettings) {
    const clock = () => this.now;
    const host = { rxPackets: () => 0, hwAddr: () => new Uint8Array([2, 0, 0, 0, 0, 1]), send: () => undefined };
    this.a = new Cfm("a", host, sa, clock, false);
    this.b = new Cfm("b", host, sb, clock, false);
  }
  advance(ms: number): void {
    for (let t = 0; t < ms; t += 10) {
      this.now += 10;
      for (const [s, peer, ok] of [[this.a, this.b, this.aToB], [this.b, this.a, this.bToA]] as const) {
        s.run();
        if (!s.shouldSend()) continue;
        const f = s.composeCcm(new Uint8Array([2, 0, 0, 0, 0, 1]));
        if (ok) peer.processHeartbeat(f);
      }
    }
  }
  close(): void {
    this.a.close();
    this.b.close();
  }
}

test("two CFM sessions see each other; a silent peer is a recv fault and the other side gets RDI", () => {
  const p = new Pair(settings(1), settings(2));
  try {
    p.advance(4000);
    assert.equal(p.a.getFault(), 0);
    assert.deepEqual(p.a.rmps, [2]);
    assert.deepEqual(p.b.rmps, [1]);
    p.bToA = false;
    p.advance(8000);
    assert.equal(p.a.getFault(), CFM_FAULT_RECV);
    assert.equal(p.a.flapCount, 1);
    assert.deepEqual(p.a.rmps, []);
    // a now sets RDI in its CCMs: b's fault says so.
    p.advance(4000);
    assert.equal(p.b.getFault() & CFM_FAULT_RDI, CFM_FAULT_RDI);
    assert.deepEqual(cfmFaultNames(CFM_FAULT_RECV | CFM_FAULT_RDI), ["recv", "rdi"]);
  } finally {
    p.close();
  }
});

test("the health average after six fault checks, and an MPID heard back is a loopback", () => {
  const p = new Pair(settings(1), settings(1));
  try {
    p.advance(4000);
    assert.equal(p.a.getFault() & CFM_FAULT_LOOPBACK, CFM_FAULT_LOOPBACK);
  } finally {
    p.close();
  }
  const q = new Pair(settings(1), settings(2));
  try {
    assert.equal(q.a.health, -1);
    q.advance(25_000);
    assert.ok(q.a.health >= 90 && q.a.health <= 100, String(q.a.health));
    assert.match(q.a.details(), /average health: \d+/);
  } finally {
    q.close();
  }
});

test("the CCM: 802.1ag header, MAID ovs/ovs, sequence numbers, extended MPID and opdown", () => {
  const p = new Pair(settings(7, { cfm_extended: "true", cfm_opstate: "down", cfm_interval: "500" }), settings(2));
  try {
    const f = p.a.composeCcm(Uint8Array.of(2, 0, 0, 0, 0, 1));
    assert.equal(f.length, 14 + 75);
    assert.equal(Buffer.from(f.subarray(0, 14)).toString("hex"), "012320000030" + "020000000001" + "8902");
    assert.equal(f[15], 1, "CCM opcode");
    assert.equal(f[16], 0, "extended interval (500 ms is no 802.1ag interval)");
    assert.equal(f[17], 70);
    assert.equal(new DataView(f.buffer).getUint32(18), 1);
    assert.equal(Buffer.from(f.subarray(24, 34)).toString("hex"), "04036f7673" + "02036f7673");
    assert.equal(new DataView(f.buffer).getUint16(72), 500);
    assert.equal(new DataView(f.buffer).getBigUint64(74), 7n);
    assert.equal(f[82], 1, "operationally down");
    assert.equal(new DataView(p.a.composeCcm(new Uint8Array(6)).buffer).getUint32(18), 2);
    assert.equal(p.a.getOpup(), 1);
  } finally {
    p.close();
  }
});

test("Interface settings: no cfm_mpid is off; intervals, VLANs, opstate; MPID bounds", () => {
  assert.equal(cfmSettingsOf(null, new Map()), null);
  const s = settings(3, { cfm_interval: "-5", cfm_ccm_vlan: "random", cfm_opstate: "DOWN" });
  assert.equal(s.interval, 1000);
  assert.equal(s.ccmVlan, 0xffff);
  assert.equal(s.opup, false);
  assert.equal(settings(3, { cfm_ccm_vlan: "12abc" }).ccmVlan, 12);
  assert.equal(cfmSettingsValid(settings(8192)), false);
  assert.equal(cfmSettingsValid(settings(8192, { cfm_extended: "true" })), true);
  assert.equal(cfmSettingsValid(settings(0)), false);
});
