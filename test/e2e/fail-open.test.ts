/**
 * Fail-open, against OVS 3.1: a standalone bridge whose controller cannot
 * be reached for three inactivity-probe intervals acts as a learning switch
 * (a hidden NORMAL flow that `ovs-ofctl dump-flows` does not show and
 * `bridge/dump-flows` does), and says so in its log; a secure bridge does not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

async function sh(sw: Switch, cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir, 20_000);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** What a user looks at: the trace's last line for a packet, the OpenFlow flows, the hidden ones. */
async function look(sw: Switch, br: string): Promise<string[]> {
  const trace = await sh(sw, "ovs-appctl", ["ofproto/trace", br, "in_port=1,dl_dst=50:54:00:00:00:02"]);
  const dump = await sh(sw, "ovs-ofctl", ["dump-flows", "--no-stats", br]);
  const hidden = (await sh(sw, "ovs-appctl", ["bridge/dump-flows", br])).split("\n").filter((l) => /priority=15790320/.test(l)).map((l) => l.replace(/duration=\d+s, /, ""));
  return [/^Datapath actions: .*$/m.exec(trace)?.[0] ?? trace, dump, ...hidden];
}

async function scenario(sw: Switch, logFile: string): Promise<string[]> {
  const out: string[] = [];
  for (const [br, mode] of [["br1", "standalone"], ["br2", "secure"]] as const) {
    await sh(sw, "ovs-vsctl", ["add-br", br, "--", "set", "bridge", br, "datapath_type=dummy", `fail_mode=${mode}`, "--", "add-port", br, `p${br.slice(2)}1`, "--", "set", "interface", `p${br.slice(2)}1`, "type=dummy", "ofport_request=1"]);
    // Port 9 on the loopback refuses connections; a 1-second probe interval makes the wait 3 seconds.
    await sh(sw, "ovs-vsctl", ["set-controller", br, "tcp:127.0.0.1:9", "--", "set", "controller", br, "inactivity_probe=1000", "connection_mode=out-of-band"]);
  }
  out.push(...(await look(sw, "br1")));
  await new Promise((r) => setTimeout(r, 4500));
  for (const br of ["br1", "br2"]) out.push(...(await look(sw, br)).map((l) => `${br}: ${l}`));
  const log = fs.readFileSync(logFile, "utf8");
  out.push(/failing open/.test(log) ? "log: failing open" : "log: -");
  // Removing the controller ends fail-open (standalone without controllers has its visible NORMAL flow instead).
  await sh(sw, "ovs-vsctl", ["del-controller", "br1"]);
  out.push(...(await look(sw, "br1")));
  return out;
}

test("fail-open: a standalone bridge without its controller becomes a learning switch, as OVS's (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), timeout: 90_000 }, async () => {
  const realDir = tempDir("fo-ovs-");
  const tsDir = tempDir("fo-tsovs-");
  const real = await startRealSwitch(realDir);
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(tsDir);
    const [want, got] = await Promise.all([scenario(real, path.join(realDir, "ovs-vswitchd.log")), scenario(ts, path.join(tsDir, "ovs-vswitchd.log"))]);
    assert.deepEqual(got, want);
    assert.ok(want.includes("log: failing open"));
  } finally {
    await ts?.stop();
    await real.stop();
    fs.rmSync(realDir, { recursive: true, force: true });
    fs.rmSync(tsDir, { recursive: true, force: true });
  }
});
