/**
 * Multicast snooping (IGMP/MLD) against OVS 3.1, through the real tools
 * only: the same `ovs-vsctl` setup with `mcast_snooping_enable=true` on
 * `tsovs start` and on ovsdb-server + ovs-vswitchd (dummy datapath), the
 * clock stopped and warped in the same steps on both, IGMPv1/v2/v3 and
 * MLDv1/v2 reports, leaves and queries injected with `netdev-dummy/receive`
 * (hex frames from test/util/mcast.ts). After each step `mdb/show` must
 * be the same, and so must `ofproto/trace` of multicast data (group
 * members, routers, flood ports, unregistered and link-local flooding),
 * of IGMP/MLD themselves (slow path, learning lines), `mdb/flush`, the
 * knobs (aging time, table size, flood-unregistered, flood and
 * flood-reports ports), aging after `time/warp`, errors and the usage
 * strings of `list-commands`.
 *
 * Where NORMAL floods, OVS outputs in the order of its bundle list, which
 * follows random Port uuids: those traces are compared with the output
 * actions of "Datapath actions" sorted (as sets); everything else exactly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, type Switch, withOvsAndTsovs } from "../util/vswitchd.js";
import { igmp, igmpv3Report, mld, mldv2Report } from "../util/mcast.js";

const H1 = "00:00:00:00:00:01";
const H2 = "00:00:00:00:00:02";
const H3 = "00:00:00:00:00:03";
const R4 = "00:00:00:00:00:04";

const SETUP = [
  "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "mcast_snooping_enable=true",
  "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
  "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2",
  "--", "add-port", "br0", "p3", "--", "set", "interface", "p3", "type=dummy", "ofport_request=3",
  "--", "add-port", "br0", "p4", "--", "set", "interface", "p4", "type=dummy", "ofport_request=4",
  "--", "add-port", "br0", "p5", "tag=10", "--", "set", "interface", "p5", "type=dummy", "ofport_request=5",
  "--", "add-port", "br0", "p6", "tag=10", "--", "set", "interface", "p6", "type=dummy", "ofport_request=6",
  "--", "add-port", "br0", "p7", "--", "set", "interface", "p7", "type=dummy", "ofport_request=7",
  "--", "set", "port", "p7", "trunks=10,20",
  "--", "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
];

async function appctl(sw: Switch, ...args: string[]): Promise<string> {
  const r = await runAsync("ovs-appctl", args, sw.dir);
  return r.stdout + (r.status !== 0 ? `[status ${r.status}] ${r.stderr}` : "");
}

async function vsctl(sw: Switch, ...args: string[]): Promise<void> {
  const r = await runAsync("ovs-vsctl", ["--timeout=20", ...args], sw.dir);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
}

/** A trace with the output actions of its datapath actions sorted (a flood's order is OVS's random bundle order). */
function sortActions(t: string): string {
  return t.replace(/^Datapath actions: (.*)$/m, (_l, a: string) => `Datapath actions: ${a.split(",").sort().join(",")}`);
}

test("IGMP/MLD snooping matches OVS 3.1: mdb/show, NORMAL's multicast forwarding and traces, knobs, aging, mdb/flush", { skip: ovsSkip(), timeout: 180_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    const both = async (f: (sw: Switch) => Promise<string>): Promise<[string, string]> => [await f(ovs), await f(ts)];
    const all = async (...args: string[]): Promise<void> => {
      for (const sw of sws) await appctl(sw, ...args);
    };
    const same = async (what: string, ...args: string[]): Promise<string> => {
      const [a, b] = await both((sw) => appctl(sw, ...args));
      if (process.env["MCAST_TEST_DUMP"]) console.log(`== ${what}\n${a}`);
      assert.equal(b, a, what);
      return a;
    };
    const sameTrace = async (what: string, ...args: string[]): Promise<string> => {
      const [a, b] = await both((sw) => appctl(sw, "ofproto/trace", ...args));
      if (process.env["MCAST_TEST_DUMP"]) console.log(`== ${what}\n${a}`);
      assert.equal(sortActions(b), sortActions(a), what);
      return a;
    };
    const receive = (port: string, frame: string) => all("netdev-dummy/receive", port, frame);

    for (const sw of sws) {
      assert.match(await appctl(sw, "time/stop"), /^$/);
      await vsctl(sw, ...SETUP);
    }
    {
      const [a, b] = await both((sw) => appctl(sw, "list-commands"));
      const mdb = (t: string) => t.split("\n").filter((l) => l.includes("mdb/")).join("\n");
      assert.equal(mdb(b), mdb(a), "list-commands: mdb/ usage strings");
      assert.match(mdb(a), /mdb\/show +bridge/);
    }
    assert.equal(await same("empty mdb/show", "mdb/show", "br0"), " port  VLAN  GROUP                Age\n");

    // IGMPv2 and v1 reports, an IGMPv3 report (a join, a join with a source,
    // an INCLUDE{} that is a leave of a group p3 is not in), a query.
    await receive("p1", igmp(H1, "10.0.0.1", "224.1.1.1", 0x16, "224.1.1.1"));
    await all("time/warp", "1000");
    await receive("p2", igmp(H2, "10.0.0.2", "224.1.1.1", 0x12, "224.1.1.1"));
    await receive("p3", igmpv3Report(H3, "10.0.0.3", [{ type: 4, group: "224.2.2.2" }, { type: 5, group: "224.3.3.3", sources: ["10.9.9.9"] }, { type: 1, group: "224.1.1.1" }]));
    await receive("p4", igmp(R4, "10.0.0.254", "224.0.0.1", 0x11, "0.0.0.0"));
    // A report with a bad checksum teaches nothing.
    await receive("p3", igmp(H3, "10.0.0.3", "224.5.5.5", 0x16, "224.5.5.5", { badCsum: true }));
    await all("time/warp", "2000");
    const show1 = await same("mdb/show after IGMP reports and a query", "mdb/show", "br0");
    assert.match(show1, /^ +1 +0 +224\.1\.1\.1 +3$/m);
    assert.match(show1, /^ +4 +0 +querier +2$/m);
    assert.doesNotMatch(show1, /224\.5\.5\.5/);

    // Data: to members and the router; unregistered and link-local: flooded.
    await sameTrace("data to a group", "br0", `in_port=3,udp,dl_src=${H3},dl_dst=01:00:5e:01:01:01,nw_src=10.0.0.3,nw_dst=224.1.1.1`);
    await sameTrace("data from a member", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:01:01:01,nw_src=10.0.0.1,nw_dst=224.1.1.1`);
    await sameTrace("data from the router", "br0", `in_port=4,udp,dl_src=${R4},dl_dst=01:00:5e:02:02:02,nw_src=10.0.0.4,nw_dst=224.2.2.2`);
    const unreg = await sameTrace("unregistered data", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:09:09:09,nw_src=10.0.0.1,nw_dst=224.9.9.9`);
    assert.match(unreg, /unregistered multicast, flooding/);
    await sameTrace("link-local data", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:00:00:fb,nw_src=10.0.0.1,nw_dst=224.0.0.251`);
    await sameTrace("broadcast is not multicast", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=ff:ff:ff:ff:ff:ff,nw_src=10.0.0.1,nw_dst=224.1.1.1`);
    await sameTrace("non-IP multicast", "br0", `in_port=1,dl_src=${H1},dl_dst=01:00:5e:01:01:01,dl_type=0x88b5`);
    // IGMP itself: a report goes to the router (slow path); a query floods.
    const rep = await sameTrace("an IGMP report (flow only)", "br0", `in_port=2,ip,nw_proto=2,dl_src=${H2},dl_dst=01:00:5e:01:01:01,nw_src=10.0.0.2,nw_dst=224.1.1.1`);
    assert.match(rep, /userspace slow path/);
    // With a packet, the trace learns (and says so).
    const learn = await sameTrace("an IGMP report traced with its packet", "br0", "in_port=3", igmp(H3, "10.0.0.3", "224.7.7.7", 0x16, "224.7.7.7"));
    assert.match(learn, /multicast snooping learned that 224\.7\.7\.7 is on port p3 in VLAN 0/);
    await sameTrace("an IGMP query traced with its packet", "br0", "in_port=1", igmp(H1, "10.0.0.1", "224.0.0.1", 0x11, "0.0.0.0"));
    await sameTrace("a bad IGMP checksum traced", "br0", "in_port=2", igmp(H2, "10.0.0.2", "224.8.8.8", 0x16, "224.8.8.8", { badCsum: true }));
    await same("mdb/show after traces with packets", "mdb/show", "br0");

    // VLANs: a member on access port p5 (VLAN 10), a router on trunk p7 in VLAN 10.
    await receive("p5", igmp("00:00:00:00:00:05", "10.1.0.5", "224.1.1.1", 0x16, "224.1.1.1"));
    await receive("p7", igmp("00:00:00:00:00:07", "10.1.0.254", "224.0.0.1", 0x11, "0.0.0.0", { vlan: 10 }));
    await receive("p7", igmp("00:00:00:00:00:77", "10.2.0.7", "224.2.2.2", 0x16, "224.2.2.2", { vlan: 20 }));
    await all("time/warp", "1000");
    const showVlan = await same("mdb/show with VLANs", "mdb/show", "br0");
    assert.match(showVlan, /^ +5 +10 +224\.1\.1\.1 +1$/m);
    assert.match(showVlan, /^ +7 +20 +224\.2\.2\.2 +1$/m);
    await sameTrace("VLAN 10 data to a group", "br0", `in_port=6,udp,dl_src=00:00:00:00:00:06,dl_dst=01:00:5e:01:01:01,nw_src=10.1.0.6,nw_dst=224.1.1.1`);
    await sameTrace("VLAN 20 data from a trunk", "br0", `in_port=7,dl_vlan=20,udp,dl_src=00:00:00:00:00:78,dl_dst=01:00:5e:02:02:02,nw_src=10.2.0.8,nw_dst=224.2.2.2`);
    await sameTrace("VLAN 0 data, routers of VLAN 10 skipped", "br0", `in_port=3,udp,dl_src=${H3},dl_dst=01:00:5e:02:02:02,nw_src=10.0.0.3,nw_dst=224.2.2.2`);

    // Leaves: IGMPv2 leave, IGMPv3 CHANGE_TO_INCLUDE{}.
    await receive("p1", igmp(H1, "10.0.0.1", "224.0.0.2", 0x17, "224.1.1.1"));
    await receive("p3", igmpv3Report(H3, "10.0.0.3", [{ type: 3, group: "224.2.2.2" }]));
    await all("time/warp", "1000");
    const show2 = await same("mdb/show after leaves", "mdb/show", "br0");
    assert.doesNotMatch(show2, /^ +1 +0 +224\.1\.1\.1/m);
    await sameTrace("data after p1 left", "br0", `in_port=3,udp,dl_src=${H3},dl_dst=01:00:5e:01:01:01,nw_src=10.0.0.3,nw_dst=224.1.1.1`);
    await sameTrace("data to a group whose last member left", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:02:02:02,nw_src=10.0.0.1,nw_dst=224.2.2.2`);

    // MLD: v1 report and done, v2 report, a query.
    await receive("p1", mld(H1, "fe80::1", "ff0e::1", 131, "ff0e::1"));
    await receive("p2", mld(H2, "fe80::2", "ff0e::1", 131, "ff0e::1"));
    await receive("p2", mld(H2, "fe80::2", "ff02::2", 132, "ff0e::1"));
    await receive("p3", mld(H3, "fe80::3", "ff0e::1", 131, "ff0e::1"));
    await receive("p3", mldv2Report(H3, "fe80::3", [{ type: 2, group: "ff0e::2" }, { type: 6, group: "ff0e::3", sources: ["2001:db8::1"] }]));
    await receive("p2", mld(H2, "fe80::99", "ff02::1", 130, "::"));
    await all("time/warp", "1000");
    const show3 = await same("mdb/show after MLD", "mdb/show", "br0");
    assert.match(show3, /^ +3 +0 +ff0e::1 +\d+$/m);
    assert.match(show3, /ff0e::2/);
    await sameTrace("IPv6 data to a group", "br0", `in_port=3,udp6,dl_src=${H3},dl_dst=33:33:00:00:00:01,ipv6_src=2001:db8::3,ipv6_dst=ff0e::1`);
    await sameTrace("IPv6 unregistered", "br0", `in_port=3,udp6,dl_src=${H3},dl_dst=33:33:00:00:00:09,ipv6_src=2001:db8::3,ipv6_dst=ff0e::9`);
    await sameTrace("IPv6 all-hosts", "br0", `in_port=3,udp6,dl_src=${H3},dl_dst=33:33:00:00:00:01,ipv6_src=2001:db8::3,ipv6_dst=ff02::1`);
    await sameTrace("an MLD query", "br0", `in_port=1,icmp6,icmpv6_type=130,dl_src=${H1},dl_dst=33:33:00:00:00:01,ipv6_src=fe80::1,ipv6_dst=ff02::1`);
    await sameTrace("an MLD report", "br0", `in_port=1,icmp6,icmpv6_type=131,dl_src=${H1},dl_dst=33:33:00:00:00:01,ipv6_src=fe80::1,ipv6_dst=ff0e::1`);

    // Knobs: no flooding of unregistered groups; a flood port; a report-flood port.
    for (const sw of sws) await vsctl(sw, "set", "bridge", "br0", "other_config:mcast-snooping-disable-flood-unregistered=true");
    await sameTrace("unregistered, flood-unregistered off", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:09:09:09,nw_src=10.0.0.1,nw_dst=224.9.9.9`);
    for (const sw of sws) await vsctl(sw, "set", "port", "p2", "other_config:mcast-snooping-flood=true", "--", "set", "port", "p3", "other_config:mcast-snooping-flood-reports=true");
    await sameTrace("unregistered with a flood port", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:09:09:09,nw_src=10.0.0.1,nw_dst=224.9.9.9`);
    await sameTrace("a group with a flood port", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:07:07:07,nw_src=10.0.0.1,nw_dst=224.7.7.7`);
    const rports = await sameTrace("a report with a report-flood port", "br0", "in_port=2", igmp(H2, "10.0.0.2", "224.1.1.1", 0x16, "224.1.1.1"));
    assert.match(rports, /forwarding report to mcast flagged port/);
    // A flood port learns nothing; a report-flood port does not leave.
    await receive("p2", igmp(H2, "10.0.0.2", "224.6.6.6", 0x16, "224.6.6.6"));
    await receive("p3", igmp(H3, "10.0.0.3", "224.0.0.2", 0x17, "224.7.7.7"));
    await all("time/warp", "1000");
    await same("mdb/show with flood and report-flood ports", "mdb/show", "br0");

    // Aging: members expire after the aging time, routers after 180 s.
    for (const sw of sws) await vsctl(sw, "set", "bridge", "br0", "other_config:mcast-snooping-aging-time=20");
    await same("mdb/show after a shorter aging time", "mdb/show", "br0");
    await receive("p1", igmp(H1, "10.0.0.1", "224.4.4.4", 0x16, "224.4.4.4"));
    for (const step of [5000, 10000, 10000, 60000, 100000]) {
      await all("time/warp", String(step), "1000");
      await same(`mdb/show after ${step} ms more`, "mdb/show", "br0");
    }

    // Table size: the least recently used group makes room.
    for (const sw of sws) await vsctl(sw, "set", "bridge", "br0", "other_config:mcast-snooping-table-size=10", "other_config:mcast-snooping-aging-time=300");
    for (let i = 1; i <= 12; i++) await receive("p1", igmp(H1, "10.0.0.1", `224.10.0.${i}`, 0x16, `224.10.0.${i}`));
    await receive("p4", igmp(R4, "10.0.0.254", "224.0.0.1", 0x11, "0.0.0.0"));
    await all("time/warp", "1000");
    const full = await same("mdb/show of a full table", "mdb/show", "br0");
    assert.doesNotMatch(full, /224\.10\.0\.2\b/);

    // mdb/flush and errors.
    await same("mdb/flush br0", "mdb/flush", "br0");
    await same("mdb/show after mdb/flush", "mdb/show", "br0");
    for (const args of [["mdb/flush"], ["mdb/flush", "nosuch"], ["mdb/flush", "br1"], ["mdb/show", "nosuch"], ["mdb/show", "br1"], ["mdb/show"]]) {
      await same(args.join(" "), ...args);
    }

    // Snooping off: NORMAL is a plain learning switch again.
    for (const sw of sws) await vsctl(sw, "set", "bridge", "br0", "mcast_snooping_enable=false");
    await same("mdb/show when off", "mdb/show", "br0");
    await sameTrace("data with snooping off", "br0", `in_port=1,udp,dl_src=${H1},dl_dst=01:00:5e:01:01:01,nw_src=10.0.0.1,nw_dst=224.1.1.1`);
  });
});

test("IGMP reports take the slow path and multicast data reaches only members in the datapath, as OVS 3.1's", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const out: string[] = [];
    for (const sw of sws) {
      await vsctl(sw, ...SETUP);
      await appctl(sw, "netdev-dummy/receive", "p1", igmp(H1, "10.0.0.1", "224.1.1.1", 0x16, "224.1.1.1"));
      await appctl(sw, "netdev-dummy/receive", "p1", igmp(H1, "10.0.0.1", "224.1.1.1", 0x16, "224.1.1.1"));
      await appctl(sw, "netdev-dummy/receive", "p3",
        "in_port(3),eth(src=00:00:00:00:00:03,dst=01:00:5e:01:01:01),eth_type(0x0800),ipv4(src=10.0.0.3,dst=224.1.1.1,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)");
      const flows = (await appctl(sw, "dpctl/dump-flows")).split("\n").filter((l) => l.startsWith("recirc_id")).map((l) => l.replace(/used:[^,]*/, "used:*")).sort();
      const dump = (await runAsync("ovs-ofctl", ["dump-ports", "br0"], sw.dir)).stdout;
      const ports = [...dump.matchAll(/port +(\d+): rx pkts=(\d+)[\s\S]*?tx pkts=(\d+)/g)].map((m) => `port ${m[1]}: rx ${m[2]} tx ${m[3]}`).sort();
      out.push([...flows, ...ports].join("\n"));
    }
    assert.equal(out[1], out[0]);
    assert.match(out[0]!, /proto=2,frag=no\), packets:1, bytes:42, used:\*, actions:userspace\(pid=0,slow_path\(action\)\)/);
    assert.match(out[0]!, /port 1: rx 2 tx 1\n.*port 2: rx 0 tx 0\n/);

    // Data flooded before anyone joined: the join revalidates its megaflow.
    const data = "in_port(3),eth(src=00:00:00:00:00:03,dst=01:00:5e:09:01:01),eth_type(0x0800),ipv4(src=10.0.0.3,dst=224.9.1.1,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)";
    const after: string[] = [];
    for (const sw of sws) {
      await appctl(sw, "netdev-dummy/receive", "p3", data);
      await appctl(sw, "netdev-dummy/receive", "p2", igmp(H2, "10.0.0.2", "224.9.1.1", 0x16, "224.9.1.1"));
      let line = "";
      for (let i = 0; i < 50; i++) {
        line = (await appctl(sw, "dpctl/dump-flows")).split("\n").find((l) => l.includes("dst=224.9.1.1")) ?? "";
        if (/actions:2$/.test(line)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      after.push(line.replace(/used:[^,]*/, "used:*"));
    }
    assert.equal(after[1], after[0]);
    assert.match(after[0]!, /actions:2$/);

    // A port that goes away takes its memberships and router entries; an
    // STP topology change flushes the table.
    const shows: string[] = [];
    for (const sw of sws) {
      await appctl(sw, "netdev-dummy/receive", "p3", igmp(H3, "10.0.0.3", "224.1.1.1", 0x16, "224.1.1.1"));
      await appctl(sw, "netdev-dummy/receive", "p2", igmp(H2, "10.0.0.2", "224.0.0.1", 0x11, "0.0.0.0"));
      await vsctl(sw, "del-port", "p1", "--", "del-port", "p2");
      shows.push(await appctl(sw, "mdb/show", "br0"));
      await vsctl(sw, "set", "bridge", "br0", "stp_enable=true");
      shows.push(await appctl(sw, "stp/tcn"), await appctl(sw, "mdb/show", "br0"));
    }
    // (The clock runs here: an entry's age in seconds may differ by the time the steps took.)
    const noAge = (t: string) => t.replace(/ +\d+\n/g, " AGE\n");
    assert.deepEqual(shows.slice(3).map(noAge), shows.slice(0, 3).map(noAge));
    assert.match(shows[0]!, /^ +3 +0 +224\.1\.1\.1 +\d+\n$/m);
    assert.doesNotMatch(shows[0]!, /querier/);
    assert.equal(shows[2], " port  VLAN  GROUP                Age\n");
  });
});
