/**
 * `tsovs ofctl`'s group and meter commands (add/mod/del, buckets, files, per version) against real ovs-ofctl 3.1 on the same real
 * ovs-vswitchd: output, errors, exit status and the switch's state after
 * each case must match (see runWriteCases).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { GROUP_METER_CASES, runWriteCases } from "../util/ofctl-switch.js";
import { ofctlSwitch } from "../../src/cli/ofctl.js";

const skip = ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server");
let dir = "";
let stop: (() => void) | null = null;

before(() => {
  if (skip) return;
  dir = tempDir("tsovs-ofctl-groups-");
  stop = startRealVswitchd(dir);
  process.env["OVS_RUNDIR"] = dir;
});

after(() => {
  stop?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("group and meter modifications do what ovs-ofctl does", { skip, timeout: 120_000 }, async () => {
  const { same, bad } = await runWriteCases(dir, GROUP_METER_CASES, (args, input) => ofctlSwitch(args, undefined, input));
  assert.deepEqual(bad, [], `${same}/${GROUP_METER_CASES.length} identical`);
});
