/**
 * What the BFD and CFM differential tests share: two bridges joined by a
 * patch pair (p0 on br0, p1 on br1) with a session on both ends, the real
 * tools against both switches, warps in 100 ms steps, and a fast-failover
 * group whose choice of bucket shows a port's liveness.
 */
import assert from "node:assert/strict";
import { runAsync, type Switch } from "./vswitchd.js";

/** `ovs-vsctl` arguments for the two bridges, then `session` (e.g. ["--", "set", "interface", "p0", "bfd:enable=true", ...]). */
export function patchPairSetup(session: readonly string[]): string[] {
  return [
    "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "other_config:hwaddr=aa:55:aa:55:00:00",
    "--", "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy", "other_config:hwaddr=aa:55:aa:56:00:00",
    "--", "add-port", "br1", "p1", "--", "set", "interface", "p1", "type=patch", "options:peer=p0", "ofport_request=1",
    "--", "add-port", "br0", "p0", "--", "set", "interface", "p0", "type=patch", "options:peer=p1", "ofport_request=1",
    ...session,
  ];
}

/** `ovs-appctl`: its output, and the status and error when it failed. */
export async function appctl(sw: Switch, ...args: string[]): Promise<string> {
  const r = await runAsync("ovs-appctl", args, sw.dir);
  return r.stdout + (r.status !== 0 ? `[status ${r.status}] ${r.stderr}` : "");
}

export async function vsctl(sw: Switch, ...args: string[]): Promise<string> {
  const r = await runAsync("ovs-vsctl", ["--timeout=20", ...args], sw.dir);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** `steps` warps of 100 ms on every switch, in turn. */
export async function warp(sws: readonly Switch[], steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) for (const sw of sws) await appctl(sw, "time/warp", "100");
}

/**
 * With the clock stopped: the two bridges plus a dummy port d1 (2) on
 * br0, and a fast-failover group from LOCAL watching p0 (1), then d1.
 */
export async function fastFailoverSetup(sws: readonly Switch[], setup: readonly string[]): Promise<void> {
  for (const sw of sws) {
    await appctl(sw, "time/stop");
    await vsctl(sw, ...setup, "--", "add-port", "br0", "d1", "--", "set", "interface", "d1", "type=dummy", "ofport_request=2");
    for (const args of [
      ["-O", "OpenFlow13", "add-group", "br0", "group_id=1,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2"],
      ["add-flow", "br0", "priority=10,in_port=LOCAL,actions=group:1"],
    ]) {
      const r = await runAsync("ovs-ofctl", args, sw.dir);
      assert.equal(r.status, 0, r.stderr);
    }
  }
}

/** The group's datapath actions once both switches agree (OVS applies liveness in its main loop). */
export async function agreedActions(ovs: Switch, ts: Switch, what: string): Promise<string> {
  const get = async (sw: Switch) => (await appctl(sw, "ofproto/trace", "br0", "in_port=LOCAL")).split("\n").find((l) => l.startsWith("Datapath actions:")) ?? "";
  let a = "";
  let b = "";
  for (let i = 0; i < 30; i++) {
    a = await get(ovs);
    b = await get(ts);
    if (a === b) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(b, a, what);
  return a;
}
