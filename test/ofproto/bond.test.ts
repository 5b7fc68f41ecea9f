/**
 * bond.ts and bond-commands.ts on their own: OVS's SLB hash (values from
 * the real `ovs-appctl bond/hash`), active member choice and failover,
 * bond-primary, up/down delays on a fake clock, SLB's round-robin bucket
 * binding and loop check, admissibility per mode and LACP status, the LACP
 * model without a partner (expired, then defaulted, with and without
 * lacp-fallback-ab), NORMAL through a bond, and the unixctl replies.
 * test/e2e/bond.test.ts compares the same behaviour with OVS 3.1.
 */
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { OFPPS_LINK_DOWN } from "../../src/openflow/ofp-port.js";
import {
  BV_ACCEPT, BV_DROP, BV_DROP_IF_MOVED, Bond, BridgeBonds, bondPortStatus, defaultBondSettings, hashMac, lacpSpecial, listBonds, resetBonds,
  type BondSettings, type BondedBundle,
} from "../../src/ofproto/bond.js";
import { composeLacpFrame, listLacps, parseLacpFrame } from "../../src/ofproto/lacp.js";
import { bondListText, registerBondCommands } from "../../src/ofproto/bond-commands.js";
import { UnixctlRegistry } from "../../src/unixctl/server.js";
import type { XBundle, XPort } from "../../src/ofproto/xlate-types.js";
import { fakeBridge, makeFlow, runNormal } from "../util/normal.js";

const mac = (t: string): Uint8Array => Uint8Array.from(t.split(":").map((h) => parseInt(h, 16)));

function port(ofpNo: number, name: string): XPort {
  return {
    ofpNo, odpNo: ofpNo, name, type: "dummy", config: 0, state: 0, bundle: null, peer: null,
    bridge: null as unknown as XPort["bridge"], hwAddr: Uint8Array.of(0xaa, 0x55, 0xaa, 0x55, 0, ofpNo),
  };
}

function settings(s: Partial<BondSettings> = {}): BondSettings {
  return { ...defaultBondSettings(), ...s };
}

const clock = { now: 1_000_000 };
const now = (): number => clock.now;
const run = (b: Bond): boolean => b.run("off", () => true);

afterEach(() => resetBonds());

describe("bond", () => {
  test("hashMac is OVS's hash_mac (bond/hash of the real ovs-vswitchd)", () => {
    assert.equal(hashMac(mac("50:54:00:00:00:05"), 0, 0, 0) & 0xff, 218);
    assert.equal(hashMac(mac("50:54:00:00:00:05"), 0, 10, 7) & 0xff, 29);
    assert.equal(hashMac(mac("01:02:03:04:05:06"), 0, 1, 2) & 0xff, 182);
  });

  test("active-backup: first enabled member, failover without preemption, primary preempts", () => {
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const b = Bond.create("bond0", settings(), now);
    b.setMembers([p1, p2]);
    run(b);
    const first = b.active!;
    assert.ok(first !== null && first.enabled);
    const other = first.port === p1 ? p2 : p1;
    first.port.state = OFPPS_LINK_DOWN;
    assert.equal(run(b), true, "a member going down revalidates");
    assert.equal(b.active?.port, other);
    assert.equal(b.member(first.port)?.enabled, false);
    first.port.state = 0;
    run(b);
    assert.equal(b.active?.port, other, "coming back does not take over");
    assert.equal(b.member(first.port)?.enabled, true);
    b.reconfigure(settings({ primary: first.name }));
    run(b);
    assert.equal(b.active?.port, first.port, "the primary takes over");
    assert.match(b.details(), /active-backup primary: b[12]\n/);
    p1.state = p2.state = OFPPS_LINK_DOWN;
    run(b);
    assert.equal(b.active, null);
    assert.match(b.details(), /active member mac: 00:00:00:00:00:00\(none\)/);
  });

  test("two bridges may each have a bond of the same name", () => {
    const a = new BridgeBonds(now, () => undefined);
    const b = new BridgeBonds(now, () => undefined);
    const xa: BondedBundle = { name: "bond0", ports: [port(1, "a1"), port(2, "a2")], bond: null };
    const xb: BondedBundle = { name: "bond0", ports: [port(1, "c1"), port(2, "c2")], bond: null };
    a.configure(xa, settings());
    b.configure(xb, settings());
    a.run([xa]);
    b.run([xb]);
    assert.equal(listBonds().length, 2);
    assert.equal(xa.bond!.active?.name.startsWith("a"), true);
    a.close([xa]);
    assert.deepEqual(listBonds(), [xb.bond]);
    b.close([xb]);
  });

  test("the last active member (Port.bond_active_slave) is chosen again", () => {
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    for (const want of [p1, p2]) {
      resetBonds();
      const b = Bond.create("bond0", settings({ activeMemberMac: want.hwAddr }), now);
      b.setMembers([p1, p2]);
      run(b);
      assert.equal(b.active?.port, want);
    }
  });

  test("downdelay and updelay hold a member's state until they run out", () => {
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const b = Bond.create("bond0", settings({ downdelay: 200, updelay: 100 }), now);
    b.setMembers([p1, p2]);
    run(b);
    const act = b.active!;
    act.port.state = OFPPS_LINK_DOWN;
    run(b);
    assert.equal(act.enabled, true);
    assert.match(b.details(), /  downdelay expires in 200 ms\n/);
    assert.equal(b.nextWake(), clock.now + 200);
    clock.now += 200;
    run(b);
    assert.equal(act.enabled, false);
    assert.notEqual(b.active, act);
    act.port.state = 0;
    run(b);
    assert.match(b.details(), /  updelay expires in 100 ms\n/);
    clock.now += 100;
    run(b);
    assert.equal(act.enabled, true);
  });

  test("balance-slb: buckets bind round-robin over enabled members and move off disabled ones", () => {
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const b = Bond.create("bond0", settings({ mode: "balance-slb" }), now);
    b.setMembers([p1, p2]);
    run(b);
    assert.equal(b.recircId > 0, true);
    const picks = [0, 1, 2, 3].map((i) => b.bucketMember(i)!.name);
    assert.deepEqual(picks, ["b1", "b2", "b1", "b2"]);
    assert.equal(b.bucketMember(1)!.name, "b2", "a bound bucket stays");
    p2.state = OFPPS_LINK_DOWN;
    run(b);
    assert.equal(b.bucketMember(1)!.name, "b1");
    const wc = new Uint32Array(64);
    const flow = makeFlow({ inPort: 3, src: "50:54:00:00:00:05", dst: "ff:ff:ff:ff:ff:ff" });
    assert.equal(b.chooseOutput(flow, wc, 0)?.name, "b1");
    assert.equal(b.hash![218]?.name, "b1", "dl_src hashes to bucket 218");
  });

  test("balance-slb rebalancing moves a loaded bucket to the idle member; status columns", () => {
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const b = Bond.create("bond0", settings({ mode: "balance-slb", rebalanceInterval: 1000 }), now);
    b.setMembers([p1, p2]);
    run(b);
    const st = bondPortStatus(b);
    assert.equal(st.activeSlave, "aa:55:aa:55:00:01", "the first choice is written once");
    assert.equal(bondPortStatus(b).activeSlave, null);
    assert.equal(bondPortStatus(b, true).activeSlave, "aa:55:aa:55:00:01");
    // Three buckets on b1 carry 3 MB; b2 carries nothing.
    for (const i of [1, 2, 3]) {
      b.hash![i] = b.member(p1);
      b.bucketBytes![i] = 1_000_000;
    }
    assert.equal(b.rebalance(), false, "not before the interval");
    clock.now += 1000;
    assert.equal(b.rebalance(), true);
    assert.equal([1, 2, 3].filter((i) => b.hash![i]?.port === p2).length, 1, "one bucket moved");
    assert.equal(b.bucketBytes![1], 500_000, "loads decay by half");
    assert.match(b.details(), /next rebalance: 1000 ms\n[^]*member b1: enabled\n  active member\n  may_enable: true\n  hash \d: 488 kB load\n/);
  });

  test("admissibility per mode and LACP status", () => {
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const b = Bond.create("bond0", settings(), now);
    b.setMembers([p1, p2]);
    run(b);
    const backup = b.active!.port === p1 ? p2 : p1;
    assert.equal(b.checkAdmissibility(b.active!.port, false), BV_ACCEPT);
    assert.equal(b.checkAdmissibility(backup, false), BV_DROP);
    b.reconfigure(settings({ mode: "balance-slb" }));
    assert.equal(b.checkAdmissibility(backup, false), BV_DROP_IF_MOVED);
    assert.equal(b.checkAdmissibility(backup, true), BV_DROP, "multicast only on the active member");
    b.reconfigure(settings({ mode: "balance-tcp" }));
    assert.equal(b.checkAdmissibility(b.active!.port, false), BV_DROP, "balance-tcp needs LACP");
    b.run("configured", () => false);
    assert.equal(b.checkAdmissibility(b.active?.port ?? p1, false), BV_DROP);
    assert.equal(b.chooseOutput(makeFlow({ inPort: 3, src: "50:54:00:00:00:05", dst: "50:54:00:00:00:06" }), null, 0), null);
  });

  test("LACP: expired then defaulted without a partner, negotiated with one, fallback, PDUs sent", () => {
    const sent: string[] = [];
    const bonds = new BridgeBonds(now, () => undefined, (p, f) => sent.push(`${p.name}:${f.length}`));
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const xb: BondedBundle = { name: "bond0", ports: [p1, p2], bond: null };
    const sysId = mac("02:00:00:00:00:01");
    bonds.configure(xb, settings({ lacp: "active", lacpSysId: sysId }));
    bonds.run([xb]);
    const bond = xb.bond!;
    const lacp = bond.lacp!;
    p1.bundle = p2.bundle = { bond } as unknown as XBundle;
    assert.equal(bond.lacpStatus, "negotiated", "expired members count as negotiated");
    assert.equal(bond.active as unknown, null);
    assert.deepEqual(sent.sort(), ["b1:124", "b2:124"], "active LACP sends a PDU per member at once");
    assert.match(lacp.details(), /member: b1: expired attached\n  port_id: 1\n  port_priority: 65535\n  may_enable: false\n/);
    clock.now += 3000;
    bonds.run([xb]);
    assert.equal(bond.lacpStatus, "configured");
    assert.match(lacp.details(), /member: b1: defaulted detached/);
    assert.match(lacp.statsText(), /Link Defaulted: 1/);
    // A partner in sync on b1 only.
    const pdu = composeLacpFrame(mac("50:54:00:00:00:aa"),
      { sysPriority: 0x8000, sysId: mac("50:54:00:00:00:aa"), key: 7, portPriority: 0xff, portId: 11, state: 0x3d },
      { sysPriority: 0, sysId: new Uint8Array(6), key: 0, portPriority: 0, portId: 0, state: 0 });
    assert.equal(lacpSpecial(p1, 0x8809, pdu), true);
    assert.equal(lacpSpecial(p1, 0x0800, pdu), false, "only the slow protocols ethertype");
    bonds.run([xb]);
    assert.equal(bond.lacpStatus, "negotiated");
    assert.equal(bond.active?.port, p1);
    assert.equal(bond.member(p2)?.enabled, false);
    assert.equal(parseLacpFrame(pdu).actor?.portId, 11);
    assert.equal(parseLacpFrame(pdu.subarray(0, 40)).subtype, 0, "a short PDU is unusable");
    // Fallback: a defaulted member stays out while another one has a partner...
    bonds.configure(xb, settings({ lacp: "active", lacpSysId: sysId, lacpFallbackAb: true }));
    bonds.run([xb]);
    assert.equal(bond.member(p2)?.mayEnable, false);
    // ...and once that partner is gone too (expired, then defaulted), all work as active-backup.
    clock.now += 90_000;
    bonds.run([xb]);
    clock.now += 3000;
    bonds.run([xb]);
    assert.equal(bond.lacpStatus, "configured");
    assert.equal(bond.member(p1)?.mayEnable, true);
    assert.equal(bond.member(p2)?.mayEnable, true);
    assert.notEqual(bond.active, null);
    bonds.configure(xb, undefined);
    assert.equal(xb.bond, null);
    assert.deepEqual(listBonds(), []);
    assert.deepEqual(listLacps(), []);
    bonds.close([xb]);
  });

  test("NORMAL: output by the active member, backup input refused, SLB loop check", () => {
    const br = fakeBridge("br0", [{ name: "bond0", ofp: 1, bondWith: [2] }, { name: "p3", ofp: 3 }]);
    const xb = br.bundles.get("bond0")!;
    const bonds = new BridgeBonds(() => br.clock.now, () => undefined);
    bonds.configure(xb as BondedBundle, settings());
    bonds.run([xb as BondedBundle]);
    const bond = xb.bond!;
    const active = bond.active!.port;
    const backup = xb.ports.find((p) => p !== active)!;
    let r = runNormal(br, makeFlow({ inPort: backup.ofpNo, src: "50:54:00:00:00:05", dst: "50:54:00:00:00:07" }));
    assert.deepEqual(r.reports, ["-> bonding refused admissibility, dropping"]);
    assert.deepEqual(r.outputs, []);
    r = runNormal(br, makeFlow({ inPort: active.ofpNo, src: "50:54:00:00:00:05", dst: "50:54:00:00:00:07" }));
    assert.equal(r.reports.at(-1), "-> no learned MAC for destination, flooding");
    bonds.configure(xb as BondedBundle, settings({ mode: "balance-slb" }));
    bonds.run([xb as BondedBundle]);
    runNormal(br, makeFlow({ inPort: 3, src: "50:54:00:00:00:09", dst: "50:54:00:00:00:07" }));
    r = runNormal(br, makeFlow({ inPort: backup.ofpNo, src: "50:54:00:00:00:09", dst: "50:54:00:00:00:07" }));
    assert.deepEqual(r.reports, ["-> SLB bond thinks this packet looped back, dropping"]);
    bonds.close([xb as BondedBundle]);
  });

  test("unixctl: bond/list, show, set-active-member, enable/disable, migrate, hash and their errors", async () => {
    const reg = new UnixctlRegistry();
    let changes = 0;
    registerBondCommands(reg, { afterChange: () => changes++ });
    const p1 = port(1, "b1");
    const p2 = port(2, "b2");
    const b = Bond.create("bond0", settings(), now);
    b.setMembers([p1, p2]);
    run(b);
    const call = (...args: string[]): Promise<{ result: string } | { error: string }> =>
      reg.execute(args[0]!, args.slice(1), null as never);
    assert.match(bondListText(), /^bond\ttype\trecircID\tmembers\nbond0\tactive-backup\t0\tb[12], b[12]\n$/);
    const other = b.active!.name === "b1" ? "b2" : "b1";
    assert.deepEqual(await call("bond/set-active-member", "bond0", other), { result: "done\n" });
    assert.deepEqual(await call("bond/set-active-slave", "bond0", other), { result: "no change\n" });
    assert.deepEqual(await call("bond/set-active-member", "bond0", "zz"), { error: "no such member\n" });
    assert.deepEqual(await call("bond/show", "nobond"), { error: "no such bond\n" });
    assert.deepEqual(await call("bond/migrate", "bond0", "1", "b1"), { error: "not an SLB bond\n" });
    assert.deepEqual(await call("bond/disable-member", "bond0", "b1"), { result: "disabled\n" });
    assert.deepEqual(await call("bond/enable-slave", "bond0", "b1"), { result: "enabled\n" });
    assert.deepEqual(await call("bond/hash", "50:54:00:00:00:05"), { result: "218\n" });
    assert.deepEqual(await call("bond/hash", "xx"), { error: "invalid mac\n" });
    assert.deepEqual(await call("bond/hash", "50:54:00:00:00:05", "x"), { error: "invalid vlan\n" });
    assert.deepEqual(await call("bond/hash", "50:54:00:00:00:05", "1", "y"), { error: "invalid basis\n" });
    b.reconfigure(settings({ mode: "balance-slb" }));
    assert.deepEqual(await call("bond/migrate", "bond0", "x1", "b1"), { error: "bad hash\n" });
    assert.deepEqual(await call("bond/migrate", "bond0", "300", "b2"), { result: "migrated\n" });
    assert.equal(b.hash![300 & 0xff]?.name, "b2");
    const show = await call("bond/show");
    assert.ok("result" in show && show.result.startsWith("---- bond0 ----\nbond_mode: balance-slb\n"));
    assert.equal(changes, 5);
  });
});
