/**
 * Spanning tree (802.1D) against OVS 3.1, through the real tools only:
 * two bridges joined twice by patch ports (a loop) with `stp_enable=true`
 * on `tsovs start` and on ovsdb-server + ovs-vswitchd (dummy datapath),
 * the clock stopped and warped in the same steps on both. `stp/show` must
 * be the same at every step (listening → learning → forwarding, the loop
 * broken by one blocked port), and so must `ofproto/trace` (a blocked port
 * takes nothing, floods skip it, BPDUs go to the slow path), the STP state
 * bits of `ovs-ofctl show`, Bridge.status and Port.status, a superior root
 * announced by a BPDU injected with `netdev-dummy/receive` and its ageing
 * out, `stp/tcn`, the errors of stp/show, and turning STP off.
 *
 * STP port numbers are given (other_config:stp-port-num): OVS numbers the
 * others in the order of a hash map filled in Port-uuid order, random.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip } from "../util/ovs.js";
import { listByName, runAsync, type Switch, withOvsAndTsovs } from "../util/vswitchd.js";

const SETUP = [
  "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "other_config:hwaddr=00:00:00:00:00:01", "stp_enable=true",
  "--", "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy", "other_config:hwaddr=00:00:00:00:00:02", "stp_enable=true",
  "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=patch", "options:peer=q1", "ofport_request=1", "--", "set", "port", "p1", "other_config:stp-port-num=3",
  "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=patch", "options:peer=q2", "ofport_request=2", "--", "set", "port", "p2", "other_config:stp-port-num=1",
  "--", "add-port", "br1", "q1", "--", "set", "interface", "q1", "type=patch", "options:peer=p1", "ofport_request=1", "--", "set", "port", "q1", "other_config:stp-port-num=2",
  "--", "add-port", "br1", "q2", "--", "set", "interface", "q2", "type=patch", "options:peer=p2", "ofport_request=2", "--", "set", "port", "q2", "other_config:stp-port-num=1",
  "--", "add-port", "br0", "d0", "--", "set", "interface", "d0", "type=dummy", "ofport_request=3", "--", "set", "port", "d0", "other_config:stp-port-num=2",
];

/** A configuration BPDU from bridge 1000.000000000099 claiming to be the root, as 802.3/LLC hex. */
const SUPERIOR_BPDU =
  "0180c2000000" + "000000000099" + "0026" + "424203" +
  "0000" + "00" + "00" + "00" + "1000000000000099" + "00000000" + "1000000000000099" + "8001" + "0000" + "1400" + "0200" + "0f00";

async function appctl(sw: Switch, ...args: string[]): Promise<string> {
  const r = await runAsync("ovs-appctl", args, sw.dir);
  return r.stdout + (r.status !== 0 ? `[status ${r.status}] ${r.stderr}` : "");
}

async function vsctl(sw: Switch, ...args: string[]): Promise<void> {
  const r = await runAsync("ovs-vsctl", ["--timeout=20", ...args], sw.dir);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
}

/** Port.status without the seconds in state (written at different moments), and Bridge.status. */
async function statusOf(sw: Switch): Promise<unknown> {
  const ports = await listByName(sw.dir, "Port", ["status"]);
  const bridges = await listByName(sw.dir, "Bridge", ["status"]);
  const strip = (s: string | undefined) => (s ?? "").replace(/stp_sec_in_state="\d+", /, "");
  return {
    ports: Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, strip(v["status"])])),
    bridges: Object.fromEntries(Object.entries(bridges).map(([k, v]) => [k, v["status"]])),
  };
}

async function stateLines(sw: Switch, br: string): Promise<string> {
  const r = await runAsync("ovs-ofctl", ["show", br], sw.dir);
  return r.stdout.split("\n").filter((l) => /^ \d+\(|^ LOCAL|state:/.test(l)).map((l) => l.replace(/addr:\S+/, "")).join("\n");
}

test("STP on a loop of patch ports converges as OVS 3.1's, with the same stp/show, traces and status", { skip: ovsSkip(), timeout: 180_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    for (const sw of sws) {
      assert.match(await appctl(sw, "time/stop"), /^$/);
      await vsctl(sw, ...SETUP);
    }
    const both = async (f: (sw: Switch) => Promise<string>) => [await f(ovs), await f(ts)] as const;

    // The same states at every step: all listening, br1's second link
    // blocked, learning after the forward delay, forwarding after two.
    for (const step of [500, 1500, 2000, 2000, 4000, 10000, 10000, 10000]) {
      for (const sw of sws) await appctl(sw, "time/warp", String(step), "100");
      const [a, b] = await both((sw) => appctl(sw, "stp/show"));
      assert.equal(b, a, `stp/show after a warp of ${step} ms`);
    }
    const [show] = await both((sw) => appctl(sw, "stp/show", "br1"));
    assert.match(show, /q1 +alternate +blocking +2 +128\.2/);
    assert.match(show, /q2 +root +forwarding +2 +128\.1/);

    for (const flow of [
      "in_port=1,dl_src=00:00:00:00:00:55,dl_dst=ff:ff:ff:ff:ff:ff", // the blocked port takes nothing
      "in_port=2,dl_src=00:00:00:00:00:66,dl_dst=ff:ff:ff:ff:ff:ff", // a flood skips the blocked port
      "in_port=1,dl_dst=01:80:c2:00:00:00,dl_type=0x05ff", // a BPDU: slow path
    ]) {
      const [a, b] = await both((sw) => appctl(sw, "ofproto/trace", "br1", flow));
      assert.equal(b, a, `ofproto/trace br1 ${flow}`);
    }
    {
      // The order of a flood over br0's bundles follows OVS's random Port
      // uuids: the outcome is compared, and the blocked port's part in it.
      const [a, b] = await both((sw) => appctl(sw, "ofproto/trace", "br0", "in_port=3,dl_src=00:00:00:00:00:77,dl_dst=ff:ff:ff:ff:ff:ff"));
      const tail = (t: string) =>
        t.split("\n").filter((l) => /^(Megaflow|Datapath actions):/.test(l)).map((l) => (l.startsWith("Datapath") ? l.split(/[ ,]/).sort().join(" ") : l));
      assert.deepEqual(tail(b), tail(a), "a flood from br0 crosses the loop once");
      for (const t of [a, b]) assert.equal(t.match(/STP not in forwarding state, skipping output/g)?.length, 1, t);
    }
    {
      const [a, b] = await both((sw) => stateLines(sw, "br1"));
      assert.equal(b, a, "ovs-ofctl show: STP state bits");
      assert.match(a, /STP_BLOCK/);
    }
    // Status columns are refreshed on their own schedules: wait for both.
    for (const sw of sws) await appctl(sw, "time/warp", "6000", "1000");
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await statusOf(ts), await statusOf(ovs), "Port.status and Bridge.status");

    // A superior root heard on d0: br0 follows it, then forgets it after max age.
    for (const sw of sws) await appctl(sw, "netdev-dummy/receive", "d0", SUPERIOR_BPDU);
    for (const step of [100, 1000, 20000, 2000]) {
      for (const sw of sws) await appctl(sw, "time/warp", String(step), "100");
      const [a, b] = await both((sw) => appctl(sw, "stp/show"));
      assert.equal(b, a, `stp/show after the superior BPDU and ${step} ms more`);
    }

    for (const args of [["stp/tcn"], ["stp/tcn", "br1"], ["stp/tcn", "nosuch"], ["stp/show", "nosuch"]]) {
      const [a, b] = await both((sw) => appctl(sw, ...args));
      assert.equal(b, a, args.join(" "));
    }

    // STP off: no more stp/show, status and STP bits cleared.
    for (const sw of sws) await vsctl(sw, "set", "bridge", "br1", "stp_enable=false");
    const [a, b] = await both((sw) => appctl(sw, "stp/show"));
    assert.equal(b, a, "stp/show with br0 only");
    assert.doesNotMatch(a, /br1/);
    const [sa, sb] = await both((sw) => stateLines(sw, "br1"));
    assert.equal(sb, sa);
    assert.doesNotMatch(sa, /STP_/);
  });
});

test("STP knobs read as OVS 3.1 reads them (stp-hello-time in ms, priorities, path cost, system id)", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const out: string[] = [];
    for (const sw of sws) {
      await vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "stp_enable=true",
        "other_config:stp-hello-time=5", "other_config:stp-max-age=10", "other_config:stp-priority=4096", "other_config:stp-system-id=00:11:22:33:44:55",
        "--", "add-port", "br0", "d1", "--", "set", "interface", "d1", "type=dummy",
        "--", "set", "port", "d1", "other_config:stp-path-cost=100", "other_config:stp-port-priority=64",
        "--", "add-bond", "br0", "bond0", "d2", "d3", "--", "set", "interface", "d2", "type=dummy", "--", "set", "interface", "d3", "type=dummy");
      out.push(await appctl(sw, "stp/show"));
    }
    assert.equal(out[1], out[0]);
    assert.match(out[0]!, /stp-hello-time  1s/);
    assert.match(out[0]!, /d1 +designated listening +100 +64\.1/);
    assert.doesNotMatch(out[0]!, /bond0|d2/, "no STP on bonds");
  });
});
