/**
 * The multicast snooping table (src/ofproto/mcast-snooping.ts) on its own,
 * with a hand-driven clock: joins, refreshes and LRU order, leaves,
 * routers and flood ports, aging, the table size limit, IGMPv3 and MLDv2
 * record parsing, mdb/show's text and the normalization of the knobs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { McastSnooping, formatMcastAddr, v4Mapped } from "../../src/ofproto/mcast-snooping.js";
import { igmpv3Report, ip6, mldv2Report, mld } from "../util/mcast.js";

function ip(s: string): number {
  return s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
}

function table(): { ms: McastSnooping; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  return { ms: new McastSnooping(() => clock.ms), clock };
}

const show = (ms: McastSnooping): string => ms.showText((p) => p.replace(/^p/, ""));

test("joins, refreshes in LRU order, leaves and mdb/show", () => {
  const { ms, clock } = table();
  assert.equal(ms.addGroup4(ip("224.1.1.1"), 0, "p1"), true, "a new group is learned");
  clock.ms += 2000;
  assert.equal(ms.addGroup4(ip("224.1.1.1"), 0, "p2"), false, "a second member is no new group");
  assert.equal(ms.addGroup4(ip("224.2.2.2"), 10, "p3"), true);
  clock.ms += 1000;
  assert.equal(ms.addGroup4(ip("224.1.1.1"), 0, "p1"), false, "a refresh");
  assert.equal(ms.addMrouter(0, "p4"), true);
  assert.equal(show(ms),
    " port  VLAN  GROUP                Age\n" +
    "    3    10  224.2.2.2           1\n" +
    "    2     0  224.1.1.1           1\n" +
    "    1     0  224.1.1.1           0\n" +
    "    4     0  querier               0\n");
  assert.equal(ms.leaveGroup4(ip("224.1.1.1"), 0, "p2"), true);
  assert.equal(ms.leaveGroup4(ip("224.1.1.1"), 0, "p2"), false, "not a member any more");
  assert.equal(ms.leaveGroup4(ip("224.1.1.1"), 7, "p1"), false, "another VLAN");
  assert.notEqual(ms.lookup4(ip("224.1.1.1"), 0), null);
  assert.equal(ms.lookup4(ip("224.1.1.1"), 10), null);
});

test("routers and flood ports never join; report-flood ports never leave", () => {
  const { ms } = table();
  ms.addMrouter(0, "r");
  ms.setPortFlood("f", true);
  ms.setPortFloodReports("rf", true);
  assert.equal(ms.addGroup4(ip("224.1.1.1"), 0, "r"), false);
  assert.equal(ms.addGroup4(ip("224.1.1.1"), 5, "r"), true, "a router only in its own VLAN");
  assert.equal(ms.addGroup4(ip("224.1.1.2"), 0, "f"), false);
  assert.equal(ms.addMrouter(0, "f"), false, "a flood port is no router");
  assert.equal(ms.mrouters.size, 1);
  assert.equal(ms.addGroup4(ip("224.1.1.3"), 0, "rf"), true);
  assert.equal(ms.leaveGroup4(ip("224.1.1.3"), 0, "rf"), false);
  assert.deepEqual(ms.fports, ["f"]);
  ms.setPortFlood("f", false);
  assert.deepEqual(ms.fports, []);
});

test("aging: members after the idle time, routers after 180 s; run() says when to revalidate", () => {
  const { ms, clock } = table();
  ms.setIdleTime(20);
  ms.addGroup4(ip("224.1.1.1"), 0, "p1");
  ms.addMrouter(0, "p9");
  assert.equal(ms.run(), true, "learning asked for revalidation");
  assert.equal(ms.run(), false);
  clock.ms += 19_000;
  assert.equal(ms.run(), false);
  clock.ms += 1000;
  assert.equal(ms.run(), true);
  assert.equal(ms.groups.size, 0);
  assert.equal(ms.mrouters.size, 1);
  clock.ms += 160_000;
  assert.equal(ms.run(), true);
  assert.equal(ms.mrouters.size, 0);
});

test("a shorter aging time moves existing expiries; knobs are normalized as OVS's", () => {
  const { ms, clock } = table();
  ms.addGroup4(ip("224.1.1.1"), 0, "p1");
  clock.ms += 10_000;
  ms.setIdleTime(1);
  assert.equal(ms.idleTime, 15);
  ms.run();
  assert.equal(ms.groups.size, 1, "10 s old with a 15 s lifetime");
  assert.match(show(ms), /224\.1\.1\.1 +10\n/);
  clock.ms += 5000;
  ms.run();
  assert.equal(ms.groups.size, 0);
  ms.setIdleTime(99_999);
  assert.equal(ms.idleTime, 3600);
});

test("the table size evicts the least recently used group", () => {
  const { ms } = table();
  ms.setMaxEntries(3);
  assert.equal(ms.maxEntries, 10);
  for (let i = 1; i <= 11; i++) ms.addGroup4(ip(`224.0.1.${i}`), 0, "p1");
  assert.equal(ms.groups.size, 10);
  assert.equal(ms.lookup4(ip("224.0.1.1"), 0), null);
  assert.notEqual(ms.lookup4(ip("224.0.1.2"), 0), null);
  ms.setMaxEntries(2_000_000);
  assert.equal(ms.maxEntries, 1_000_000);
});

test("IGMPv3 records: joins, INCLUDE{} leaves, unknown types", () => {
  const { ms } = table();
  const frame = Buffer.from(igmpv3Report("00:00:00:00:00:01", "10.0.0.1", [
    { type: 2, group: "224.5.5.5" },
    { type: 5, group: "224.6.6.6", sources: ["1.2.3.4", "5.6.7.8"] },
  ]), "hex");
  const l4 = 14 + 20;
  assert.equal(ms.addReport(frame, l4, frame.length, 0, "p1"), 2);
  assert.notEqual(ms.lookup4(ip("224.6.6.6"), 0), null);
  const leave = Buffer.from(igmpv3Report("00:00:00:00:00:01", "10.0.0.1", [{ type: 3, group: "224.5.5.5" }]), "hex");
  assert.equal(ms.addReport(leave, l4, leave.length, 0, "p1"), 1);
  // As OVS: the group stays, empty, until the next run prunes it.
  assert.equal(ms.lookup4(ip("224.5.5.5"), 0)?.bundles.size, 0);
  ms.run();
  assert.equal(ms.lookup4(ip("224.5.5.5"), 0), null);
  // An unknown record type stops nothing but is not passed over (OVS reads it again).
  const odd = Buffer.from(igmpv3Report("00:00:00:00:00:01", "10.0.0.1", [{ type: 9, group: "224.7.7.7" }, { type: 2, group: "224.8.8.8" }]), "hex");
  assert.equal(ms.addReport(odd, l4, odd.length, 0, "p1"), 0);
  // Truncated: nothing read past the end.
  assert.equal(ms.addReport(frame, l4, l4 + 10, 0, "p2"), 0);
});

test("MLDv1 and MLDv2 records", () => {
  const { ms } = table();
  const l4 = 14 + 40;
  const rep = Buffer.from(mld("00:00:00:00:00:01", "fe80::1", "ff0e::1", 131, "ff0e::1"), "hex");
  assert.equal(ms.addMld(rep, l4, rep.length, 0, "p1"), 1);
  const g = Uint8Array.from(ip6("ff0e::1"));
  assert.notEqual(ms.lookup(g, 0, 0), null);
  const done = Buffer.from(mld("00:00:00:00:00:01", "fe80::1", "ff02::2", 132, "ff0e::1"), "hex");
  assert.equal(ms.addMld(done, l4, done.length, 0, "p1"), 1);
  assert.equal(ms.lookup(g, 0, 0)?.bundles.size, 0);
  rep.fill(0);
  assert.equal(formatMcastAddr(ms.lookup(g, 0, 0)!.addr), "ff0e::1", "the table keeps its own copy of the address");
  const v2 = Buffer.from(mldv2Report("00:00:00:00:00:01", "fe80::1", [{ type: 4, group: "ff0e::2" }, { type: 6, group: "ff0e::3", sources: ["2001:db8::1"] }, { type: 1, group: "ff0e::4" }]), "hex");
  assert.equal(ms.addMld(v2, l4, v2.length, 0, "p1"), 2);
  assert.match(show(ms), /ff0e::2 .*\n.*ff0e::3/);
});

test("address text: v4-mapped as dotted quad, IPv6 compressed", () => {
  assert.equal(formatMcastAddr(v4Mapped(ip("239.1.2.3"))), "239.1.2.3");
  assert.equal(formatMcastAddr(Uint8Array.from(ip6("ff02::1:ff00:1"))), "ff02::1:ff00:1");
  assert.equal(formatMcastAddr(Uint8Array.from(ip6("2001:db8:0:1:0:0:0:1"))), "2001:db8:0:1::1");
  assert.equal(formatMcastAddr(Uint8Array.from(ip6("1:0:2:0:3:0:4:0"))), "1:0:2:0:3:0:4:0");
});

test("mdb/flush keeps flood flags; a bundle that goes away takes its entries", () => {
  const { ms } = table();
  ms.setPortFlood("f", true);
  ms.addGroup4(ip("224.1.1.1"), 0, "p1");
  ms.addGroup4(ip("224.1.1.1"), 0, "p2");
  ms.addMrouter(0, "p2");
  ms.flushBundle("p2");
  assert.equal(ms.lookup4(ip("224.1.1.1"), 0)?.bundles.size, 1);
  assert.equal(ms.mrouters.size, 0);
  ms.mdbFlush();
  assert.equal(ms.groups.size, 0);
  assert.deepEqual(ms.fports, ["f"]);
});
