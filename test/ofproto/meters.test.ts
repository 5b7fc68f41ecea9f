/**
 * MeterTable semantics without a switch: OVS's errors for meter_mods as
 * they arrive on the wire (also those ovs-ofctl cannot send), burst sizes,
 * modifications, the token buckets of the userspace datapath, statistics,
 * and rules using meters (the differential test against OVS is
 * groups-ovs.test.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  MeterTable,
  NETDEV_METER_FEATURES,
  OFPM13_ALL,
  OFPM13_CONTROLLER,
  OFPMBT_DROP,
  OFPMBT_DSCP_REMARK,
  OFPMC_ADD,
  OFPMC_DELETE,
  OFPMC_MODIFY,
  OFPMF_BURST,
  OFPMF_KBPS,
  OFPMF_PKTPS,
  OFPMF_STATS,
  type MeterBand,
  type MeterMod,
} from "../../src/ofproto/meters.js";
import { apply, newSwitch } from "./group-meter-text.js";

const drop = (rate: number, burstSize = 0): MeterBand => ({ type: OFPMBT_DROP, rate, burstSize, precLevel: 0 });
const mm = (command: number, meterId: number, flags: number, bands: MeterBand[]): MeterMod => ({ command, meter: { meterId, flags, bands } });

describe("MeterTable", () => {
  test("errors as ovs-vswitchd with the userspace datapath returns them (checked against it over a raw connection)", () => {
    const t = new MeterTable<unknown>();
    assert.ok(t.meterMod(mm(OFPMC_ADD, 106, OFPMF_KBPS, [drop(5, 9), drop(5)]), 0).ok);
    const cases: [MeterMod, string][] = [
      [mm(OFPMC_ADD, 100, OFPMF_KBPS, [drop(0)]), "OFPMMFC_BAD_RATE"],
      [mm(OFPMC_ADD, 0, OFPMF_KBPS, [drop(5)]), "OFPMMFC_INVALID_METER"],
      [mm(OFPMC_ADD, OFPM13_ALL, OFPMF_KBPS, [drop(5)]), "OFPMMFC_INVALID_METER"],
      [mm(OFPMC_ADD, 0xffff0001, OFPMF_KBPS, [drop(5)]), "OFPMMFC_INVALID_METER"],
      [mm(OFPMC_ADD, 101, 0, [drop(5)]), "OFPMMFC_BAD_FLAGS"],
      [mm(OFPMC_ADD, 102, 16, [drop(5)]), "OFPMMFC_BAD_FLAGS"],
      [mm(OFPMC_ADD, 104, OFPMF_KBPS, []), "OFPMMFC_OUT_OF_BANDS"],
      [mm(OFPMC_ADD, 105, OFPMF_KBPS, Array.from({ length: 9 }, (_, i) => drop(5 + i))), "OFPMMFC_OUT_OF_BANDS"],
      [mm(OFPMC_ADD, 107, OFPMF_KBPS | OFPMF_PKTPS, [drop(5)]), "OFPMMFC_BAD_FLAGS"],
      [mm(OFPMC_ADD, 108, OFPMF_KBPS, [{ type: OFPMBT_DSCP_REMARK, rate: 5, burstSize: 0, precLevel: 1 }]), "OFPMMFC_BAD_BAND"],
      [mm(OFPMC_ADD, 106, OFPMF_KBPS, [drop(5)]), "OFPMMFC_METER_EXISTS"],
      [mm(OFPMC_MODIFY, OFPM13_ALL, OFPMF_KBPS, [drop(5)]), "OFPMMFC_INVALID_METER"],
      [mm(OFPMC_MODIFY, 106, OFPMF_KBPS, [drop(0)]), "OFPMMFC_BAD_RATE"],
      [mm(OFPMC_MODIFY, 5000, OFPMF_KBPS, [{ type: OFPMBT_DSCP_REMARK, rate: 5, burstSize: 0, precLevel: 0 }]), "OFPMMFC_UNKNOWN_METER"],
      [mm(3, 1, OFPMF_KBPS, [drop(5)]), "OFPMMFC_BAD_COMMAND"],
    ];
    for (const [i, [m, error]] of cases.entries()) assert.deepEqual(t.meterMod(m, 0), { ok: false, error }, `case ${i}`);
    // A burst flag without burst sizes, controller and slowpath meters, deletes of anything: fine.
    assert.ok(t.meterMod(mm(OFPMC_ADD, 103, OFPMF_KBPS | OFPMF_BURST, [drop(5)]), 0).ok);
    assert.ok(t.meterMod(mm(OFPMC_ADD, OFPM13_CONTROLLER, OFPMF_PKTPS, [drop(5)]), 0).ok);
    for (const id of [0, 0xffff0001, 77]) assert.ok(t.meterMod(mm(OFPMC_DELETE, id, 0, []), 0).ok);
    assert.deepEqual(t.all().map((m) => m.meterId), [103, 106, OFPM13_CONTROLLER]);
  });

  test("a band's burst size 0 becomes its rate; replies list meters by id", () => {
    const t = new MeterTable<unknown>();
    assert.ok(t.meterMod(mm(OFPMC_ADD, 2, OFPMF_KBPS | OFPMF_BURST, [drop(5)]), 0).ok);
    assert.ok(t.meterMod(mm(OFPMC_ADD, 1, OFPMF_KBPS, [drop(5, 9), drop(7)]), 0).ok);
    const r = t.configReply(OFPM13_ALL);
    assert.ok(r.ok);
    assert.deepEqual(r.entries.map((m) => [m.meterId, m.bands.map((b) => b.burstSize)]), [[1, [9, 7]], [2, [5]]]);
    assert.deepEqual(t.configReply(3), { ok: false, error: "OFPMMFC_UNKNOWN_METER" });
    assert.deepEqual(t.featuresReply(), NETDEV_METER_FEATURES);
  });

  test("token buckets in packets per second: a full bucket first, then the rate", () => {
    const t = new MeterTable<unknown>();
    assert.ok(t.meterMod(mm(OFPMC_ADD, 1, OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS, [drop(10, 10)]), 0).ok);
    assert.equal(t.meterPackets(1, 15, 1500, 1000), 5);
    assert.equal(t.meterPackets(1, 6, 600, 1500), 1); // 500 ms at 10/s: 5 more
    assert.equal(t.meterPackets(1, 3, 300, 1500), 3); // empty
    assert.equal(t.meterPackets(1, 20, 2000, 100_000), 10); // a long pause fills the bucket, no more
    const s = t.statsReply(1, 101_000);
    assert.ok(s.ok);
    assert.deepEqual(s.entries.map((e) => [e.packetInCount, e.byteInCount, e.bands[0]!.packetCount, e.bands[0]!.byteCount, e.durationSec]), [[44n, 4400n, 19n, 1900n, 101]]);
    assert.equal(t.meterPackets(9, 5, 500, 0), 0); // no such meter: everything passes
  });

  test("token buckets in kb/s, packet by packet; the highest-rate band exceeded drops", () => {
    const t = new MeterTable<unknown>();
    assert.ok(t.meterMod(mm(OFPMC_ADD, 1, OFPMF_KBPS | OFPMF_BURST, [drop(8, 8)]), 0).ok);
    const dropped = new Uint8Array(4);
    // 8000 bits in the bucket: the first packet takes them all, the next two find it empty.
    assert.equal(t.meterBatch(1, [1000, 1000, 100], 3, 0, dropped), 2);
    assert.deepEqual([...dropped.subarray(0, 3)], [0, 1, 1]);
    assert.equal(t.meterBatch(1, [1000], 1, 1000, dropped), 0); // 1 s at 8 kb/s: 8000 bits
    assert.ok(t.meterMod(mm(OFPMC_ADD, 2, OFPMF_PKTPS, [drop(10), drop(20)]), 0).ok);
    assert.equal(t.meterPackets(2, 25, 2500, 0), 15);
    const s = t.statsReply(2, 0);
    assert.ok(s.ok);
    assert.deepEqual(s.entries[0]!.bands.map((b) => b.packetCount), [10n, 5n]);
  });

  test("modify keeps the creation time and restarts counters and buckets", () => {
    const t = new MeterTable<unknown>();
    assert.ok(t.meterMod(mm(OFPMC_ADD, 1, OFPMF_PKTPS, [drop(1)]), 1000).ok);
    assert.equal(t.meterPackets(1, 3, 300, 1000), 2);
    assert.ok(t.meterMod(mm(OFPMC_MODIFY, 1, OFPMF_PKTPS, [drop(2)]), 3000).ok);
    const s = t.statsReply(1, 4000);
    assert.ok(s.ok);
    assert.deepEqual([s.entries[0]!.durationSec, s.entries[0]!.packetInCount, s.entries[0]!.bands[0]!.packetCount], [3, 0n, 0n]);
    assert.equal(t.meterPackets(1, 3, 300, 4000), 1);
  });

  test("rules: a missing meter is OFPMMFC_INVALID_METER; flow_count; deleting meters deletes their rules (meter_delete)", () => {
    const sw = newSwitch();
    assert.deepEqual(apply(sw, "OpenFlow13", "add-flow", "actions=meter:1,output:1", 0), { ok: false, error: "OFPMMFC_INVALID_METER", parse: false });
    assert.ok(apply(sw, "OpenFlow13", "add-meter", "meter=1,kbps,band=type=drop,rate=100", 0).ok);
    assert.ok(apply(sw, "OpenFlow13", "add-meter", "meter=2,pktps,band=type=drop,rate=100", 0).ok);
    for (const f of ["priority=1,actions=meter:1,output:1", "priority=2,actions=meter:1,output:2", "priority=3,actions=meter:2,output:2"]) assert.ok(apply(sw, "OpenFlow13", "add-flow", f, 0).ok, f);
    // controller(meter_id=N) is no meter instruction: not counted, not checked.
    assert.ok(apply(sw, "OpenFlow15", "add-flow", "priority=4,actions=controller(meter_id=9)", 0).ok);
    const s = sw.meters.statsReply(OFPM13_ALL, 0);
    assert.ok(s.ok);
    assert.deepEqual(s.entries.map((e) => [e.meterId, e.flowCount]), [[1, 2], [2, 1]]);
    const r = apply(sw, "OpenFlow13", "del-meters", "meter=1", 0);
    assert.ok(r.ok);
    assert.deepEqual(r.removed.map((x) => [x.rule.priority, x.reason]).sort(), [[1, "meter_delete"], [2, "meter_delete"]]);
    const all = apply(sw, "OpenFlow13", "del-meters", "", 0);
    assert.ok(all.ok);
    assert.deepEqual(all.removed.map((x) => x.rule.priority), [3]);
    assert.deepEqual(sw.tables.allRules().map((x) => x.priority), [4]);
  });
});
