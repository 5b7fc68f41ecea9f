/**
 * `tsovs ofctl`'s state-changing commands against real ovs-ofctl 3.1: each
 * case of WRITE_CASES runs from the same starting state once with real
 * ovs-ofctl and once with tsovs (in-process) on the same real
 * ovs-vswitchd; the output, errors, exit status and the switch's state
 * afterwards (flows, fragment handling, port config, groups, meters, as
 * real ovs-ofctl dumps them) must match.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, tempDir, tsovs } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { realOfctl, resetSwitch, runWriteCases, WRITE_CASES } from "../util/ofctl-switch.js";
import { ofctlSwitch } from "../../src/cli/ofctl.js";

const skip = ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server");
let dir = "";
let stop: (() => void) | null = null;

before(() => {
  if (skip) return;
  dir = tempDir("tsovs-ofctl-swr-");
  stop = startRealVswitchd(dir);
  process.env["OVS_RUNDIR"] = dir;
});

after(() => {
  stop?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("flow and switch modifications do what ovs-ofctl does", { skip, timeout: 120_000 }, async () => {
  const { same, bad } = await runWriteCases(dir, WRITE_CASES, (args, input) => ofctlSwitch(args, undefined, input));
  assert.deepEqual(bad, [], `${same}/${WRITE_CASES.length} identical`);
});

test("a flow added by tsovs ofctl (subprocess) is dumped by ovs-ofctl, and back", { skip, timeout: 30_000 }, () => {
  resetSwitch(dir);
  const a = tsovs(["ofctl", "add-flow", "br0", "table=7,priority=9,tcp,tp_dst=80,actions=output:1"], dir);
  assert.equal(a.status, 0, a.stderr);
  assert.match(realOfctl(dir, ["dump-flows", "br0", "table=7"]).stdout, /table=7, .*priority=9,tcp,tp_dst=80 actions=output:1/);
  realOfctl(dir, ["add-flow", "br0", "table=8,udp,actions=drop"]);
  const d = tsovs(["ofctl", "--no-stats", "dump-flows", "br0", "table=8"], dir);
  assert.equal(d.stdout, " table=8, udp actions=drop\n");
});
