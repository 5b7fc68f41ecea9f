/**
 * Port numbers in flow text that OVS warns about on its "ofp_port" log:
 * numbers outside every OpenFlow version's range, reserved OpenFlow 1.0
 * numbers, and reserved ports given by number (warned once a process).
 * `tsovs ofctl` must log the same lines, with the same outcome, for
 * parse-flow and for the flow commands sent to a switch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip, TSOVS_BIN, TSOVS_NODE_ARGS } from "../util/ovs.js";
import { startRealBridge } from "../util/ofproto.js";

/** stdout + stderr with log timestamps and sequence numbers dropped, and the exit status. */
function runBoth(args: string[], env: NodeJS.ProcessEnv = process.env, input = ""): [string, string] {
  const norm = (r: ReturnType<typeof spawnSync>) =>
    `${String(r.stdout) + String(r.stderr)}`.replace(/^[^|\n]*\|\d+\|/gm, "LOG|") + `exit ${r.status}`;
  const opts = { env, encoding: "utf8" as const, input, timeout: 20_000 };
  const theirs = spawnSync("ovs-ofctl", args, opts);
  const ours = spawnSync(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl", ...args], opts);
  return [norm(ours), norm(theirs)];
}

const FLOWS = [
  "in_port=99999,actions=drop",
  "in_port=65280,actions=drop",
  "in_port=4294967040,actions=drop",
  "in_port=4294967296,actions=drop",
  "in_port=65527,in_port=65527,actions=output:65527",
  "in_port=65526,in_port=65526,actions=output:65526",
  "in_port=65533,actions=output:65534",
  "in_port=1,actions=output:65280",
  "actions=output:99999",
  "in_port=1,actions=enqueue:99999:1",
  "in_port=1,actions=output(port=99999,max_len=10)",
];

test("parse-flow warns about port numbers as ovs-ofctl does", { skip: ovsSkip("ovs-ofctl") }, () => {
  for (const f of FLOWS) {
    const [ours, theirs] = runBoth(["parse-flow", f]);
    assert.equal(ours, theirs, f);
  }
  const [ours] = runBoth(["parse-flow", "in_port=99999,actions=drop"]);
  assert.match(ours, /^LOG\|ofp_port\|WARN\|port 99999 is outside the supported range 0 through ffff or 0xffffff00 through 0xffffffff\n/);
  // The warning about reserved ports by number comes once per process.
  const all = FLOWS.filter((f) => !f.includes("99999") && !f.includes("4294967296")).join("\n") + "\n";
  const [o2, t2] = runBoth(["parse-flows", "-"], process.env, all);
  assert.equal(o2, t2);
  assert.equal(o2.split("deprecated").length - 1, 1);
});

test("flow commands sent to a switch warn as ovs-ofctl does", { skip: ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server"), timeout: 60_000 }, async () => {
  const real = await startRealBridge();
  try {
    const env = { ...process.env, OVS_RUNDIR: real.dir, OVS_DBDIR: real.dir, OVS_LOGDIR: real.dir };
    for (const f of ["in_port=99999,actions=drop", "in_port=65280,actions=drop", "in_port=p1,actions=output:99999"]) {
      for (const cmd of [["add-flow", "br0", f], ["mod-flows", "br0", f], ["del-flows", "br0", f.replace(/,?actions=.*/, "")]]) {
        const [ours, theirs] = runBoth(["--timeout=10", ...cmd], env);
        assert.equal(ours, theirs, cmd.join(" "));
        if (/\d{5}/.test(cmd[2]!)) assert.match(ours, /LOG\|ofp_port\|WARN\|port /);
      }
      const [ours, theirs] = runBoth(["--timeout=10", "add-flows", "br0", "-"], env, f + "\n");
      assert.equal(ours, theirs, `add-flows ${f}`);
    }
  } finally {
    await real.stop();
  }
});
