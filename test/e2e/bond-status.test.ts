/**
 * The bond columns the switch writes back, against OVS 3.1:
 * Port.bond_active_slave names the active member's MAC (which member OVS
 * picks first is random, so it is checked against the members), becomes
 * all zeros when LACP without a partner disables every member, and
 * Interface.lacp_current follows LACP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

async function vsctl(sw: Switch, ...args: string[]): Promise<string> {
  const r = await runAsync("ovs-vsctl", args, sw.dir, 20_000);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

async function columns(sw: Switch): Promise<{ active: string; macs: string[]; lacp: string[] }> {
  // Status is written with the next reconfiguration or statistics round.
  await new Promise((r) => setTimeout(r, 1500));
  return {
    active: await vsctl(sw, "get", "port", "bond0", "bond_active_slave"),
    macs: [await vsctl(sw, "get", "interface", "b1", "mac_in_use"), await vsctl(sw, "get", "interface", "b2", "mac_in_use")],
    lacp: [await vsctl(sw, "get", "interface", "b1", "lacp_current"), await vsctl(sw, "get", "interface", "b2", "lacp_current")],
  };
}

async function scenario(sw: Switch): Promise<string[]> {
  await vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
    "--", "add-bond", "br0", "bond0", "b1", "b2", "--", "set", "interface", "b1", "type=dummy", "--", "set", "interface", "b2", "type=dummy");
  const out: string[] = [];
  const a = await columns(sw);
  out.push(`active is a member: ${a.macs.includes(a.active)}`, `lacp_current: ${a.lacp.join(" ")}`);
  await vsctl(sw, "set", "port", "bond0", "lacp=active");
  const b = await columns(sw);
  out.push(`with LACP and no partner: ${b.active}`, `lacp_current: ${b.lacp.join(" ")}`);
  return out;
}

test("bond status columns equal OVS 3.1's (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-vsctl"), timeout: 60_000 }, async () => {
  const realDir = tempDir("bondst-ovs-");
  const tsDir = tempDir("bondst-tsovs-");
  const real = await startRealSwitch(realDir);
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(tsDir);
    const want = await scenario(real);
    assert.deepEqual(want.slice(0, 1), ["active is a member: true"]);
    assert.deepEqual(await scenario(ts), want);
  } finally {
    await ts?.stop();
    await real.stop();
    fs.rmSync(realDir, { recursive: true, force: true });
    fs.rmSync(tsDir, { recursive: true, force: true });
  }
});
