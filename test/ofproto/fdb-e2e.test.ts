/**
 * MAC learning end to end, tsovs against the real Open vSwitch: the same
 * bridge (trunk, access and native-untagged dummy ports) in `tsovs start`
 * and in the real ovsdb-server + ovs-vswitchd, the same frames injected
 * with `netdev-dummy/receive` (so learning happens in upcalls, through
 * the datapath, ofproto-dpif, xlate and NORMAL), then the same fdb/*
 * commands: the answers must match (ages masked).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

/** An Ethernet frame (optionally 802.1Q-tagged) carrying a small UDP/IPv4 packet. */
function frame(dst: string, src: string, vlan?: number): string {
  const mac = (m: string): string => m.replace(/:/g, "");
  const tagHex = vlan === undefined ? "" : `8100${vlan.toString(16).padStart(4, "0")}`;
  return `${mac(dst)}${mac(src)}${tagHex}08004500001c00000000401100000a0000010a0000020001000200080000`;
}

const M = (n: number): string => `50:54:00:00:00:${n.toString(16).padStart(2, "0")}`;
const BCAST = "ff:ff:ff:ff:ff:ff";

const RECEIVE: [port: string, frame: string][] = [
  ["p1", frame(BCAST, M(1))],
  ["p2", frame(BCAST, M(2))],
  ["p3", frame(M(2), M(3), 10)],
  ["p3", frame(BCAST, M(4), 20)],
  ["p4", frame(M(4), M(5))],
  ["p1", frame(M(5), M(6), 20)],
  ["p3", frame(M(1), M(30), 30)], // VLAN 30: not trunked on p3, not learned
  ["p1", frame(BCAST, "01:00:5e:00:00:01")], // multicast source: not learned
  ["p4", frame(M(1), M(1))], // M1 again, but in VLAN 20 (p4 is native 20): a new entry
  ["p1", frame(M(4), M(4), 20)], // M4 moves from p3 to p1 in VLAN 20
];

const COMMANDS: string[][] = [
  ["fdb/show", "br0"],
  ["fdb/stats-show", "br0"],
  ["fdb/add", "br0", "p2", "10", M(9)],
  ["fdb/add", "br0", "p1", "20", M(4)],
  ["fdb/show", "br0"],
  ["fdb/del", "br0", "20", M(4)],
  ["fdb/del", "br0", "0", M(1)],
  ["fdb/flush", "br0"],
  ["fdb/show", "br0"],
  ["fdb/stats-show", "br0"],
];

async function setup(sw: Switch): Promise<void> {
  const r = await runAsync("ovs-vsctl", [
    "--timeout=20", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
    "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
    "--", "add-port", "br0", "p2", "tag=10", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2",
    "--", "add-port", "br0", "p3", "trunks=10,20", "--", "set", "interface", "p3", "type=dummy", "ofport_request=3",
    "--", "add-port", "br0", "p4", "tag=20", "vlan_mode=native-untagged", "--", "set", "interface", "p4", "type=dummy", "ofport_request=4",
  ], sw.dir);
  assert.equal(r.status, 0, r.stderr);
}

async function appctl(sw: Switch, args: string[]): Promise<{ ok: boolean; text: string }> {
  const r = await runAsync("ovs-appctl", ["--timeout=10", ...args], sw.dir);
  return { ok: r.status === 0, text: r.status === 0 ? r.stdout : r.stderr.split("\n")[0]! };
}

function maskAges(s: string): string {
  return s.replace(/(\d\d:\d\d:\d\d:\d\d:\d\d:\d\d) +\d+$/gm, "$1  AGE");
}

describe("MAC learning through the whole switch vs the real one", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-appctl") }, () => {
  let real: Switch;
  let ts: Switch;

  before(async () => {
    [real, ts] = await Promise.all([startRealSwitch(), startTsovsSwitch()]);
    await Promise.all([setup(real), setup(ts)]);
  });

  after(async () => {
    await Promise.all([real?.stop(), ts?.stop()]);
    for (const sw of [real, ts]) if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
  });

  test("frames learn the same table; fdb commands answer the same", async () => {
    for (const [port, hex] of RECEIVE) {
      for (const sw of [real, ts]) {
        const r = await appctl(sw, ["netdev-dummy/receive", port, hex]);
        assert.ok(r.ok, `${port} ${hex}: ${r.text}`);
      }
      // Both switches handle the frame before the next one (learning order matters).
      await new Promise((r) => setTimeout(r, 100));
    }
    const learned = (await appctl(ts, ["fdb/show", "br0"])).text.split("\n").filter((l) => /:/.test(l));
    assert.equal(learned.length, 7, `tsovs learned:\n${learned.join("\n")}`);
    for (const cmd of COMMANDS) {
      const [a, b] = await Promise.all([appctl(real, cmd), appctl(ts, cmd)]);
      assert.equal(b.ok, a.ok, `${cmd.join(" ")}: real ${JSON.stringify(a)}, tsovs ${JSON.stringify(b)}`);
      assert.equal(maskAges(b.text), maskAges(a.text), cmd.join(" "));
    }
  });
});
