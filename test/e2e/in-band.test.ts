/**
 * In-band control, against OVS 3.1: controllers and managers reached
 * through the bridge get the hidden NORMAL rules that keep them reachable
 * (`bridge/dump-flows` shows them, `ovs-ofctl dump-flows` does not);
 * out-of-band controllers, `unix:` and passive targets get none, and
 * other_config:disable-in-band=true removes them all. Rules of one
 * priority are compared as a set (OVS lists them in hash order), with the
 * bridge's random MAC masked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

async function sh(sw: Switch, args: string[], cmd = "ovs-vsctl"): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir, 20_000);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The in-band rules of br0, sorted, durations and the bridge MAC masked. */
async function inBandRules(sw: Switch): Promise<string[]> {
  // In-band rules follow a change at once in OVS; give both a moment.
  await new Promise((r) => setTimeout(r, 1200));
  const mac = (await sh(sw, ["get", "interface", "br0", "mac_in_use"])).trim().replaceAll('"', "");
  const lines = (await sh(sw, ["bridge/dump-flows", "br0"], "ovs-appctl")).split("\n").filter((l) => /priority=1800\d\d/.test(l));
  return lines.map((l) => l.replace(/duration=\d+s, /, "").replaceAll(mac, "LOCALMAC")).sort();
}

async function scenario(sw: Switch): Promise<string[][]> {
  const out: string[][] = [];
  await sh(sw, ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1"]);
  await sh(sw, ["set-controller", "br0", "tcp:127.0.0.1:6699", "tcp:10.0.0.9", "ptcp:6655", "unix:/nonexistent", "--", "set-manager", "tcp:192.168.1.1", "ptcp:6641"]);
  out.push(await inBandRules(sw));
  const uuid = (await sh(sw, ["--bare", "--columns=_uuid", "find", "controller", "target=\"tcp:10.0.0.9\""])).trim();
  await sh(sw, ["set", "controller", uuid, "connection_mode=out-of-band"]);
  out.push(await inBandRules(sw));
  await sh(sw, ["set", "bridge", "br0", "other_config:disable-in-band=true"]);
  out.push(await inBandRules(sw));
  await sh(sw, ["remove", "bridge", "br0", "other_config", "disable-in-band", "--", "del-manager"]);
  out.push(await inBandRules(sw));
  out.push([(await sh(sw, ["dump-flows", "br0", "--no-stats"], "ovs-ofctl")).trim()]);
  return out;
}

test("in-band control rules equal OVS 3.1's (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "ovs-ofctl"), timeout: 90_000 }, async () => {
  const realDir = tempDir("inband-ovs-");
  const tsDir = tempDir("inband-tsovs-");
  const real = await startRealSwitch(realDir);
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(tsDir);
    const want = await scenario(real);
    const got = await scenario(ts);
    // The rules a user would check are there: both controllers' TCP rules and the local port's.
    assert.ok(want[0]!.some((l) => l.includes("priority=180007,tcp,nw_dst=10.0.0.9,tp_dst=6653")), want[0]!.join("\n"));
    assert.ok(want[0]!.some((l) => l.includes("priority=180000,udp,in_port=LOCAL,dl_src=LOCALMAC")), want[0]!.join("\n"));
    assert.deepEqual(got, want);
    const warn = "br0: cannot find route for controller (127.0.0.1): Operation not supported";
    for (const [name, sw] of [["OVS", real], ["tsovs", ts]] as const) {
      const log = fs.readdirSync(sw.dir).filter((f) => f.endsWith(".log")).map((f) => fs.readFileSync(path.join(sw.dir, f), "utf8")).join("");
      assert.ok(log.includes(warn), `${name} logs "${warn}"`);
    }
  } finally {
    await ts?.stop();
    await real.stop();
    fs.rmSync(realDir, { recursive: true, force: true });
    fs.rmSync(tsDir, { recursive: true, force: true });
  }
});
