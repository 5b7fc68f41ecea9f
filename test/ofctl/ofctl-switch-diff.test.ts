/**
 * `tsovs ofctl`'s diff-flows, replace-flows and mod-table (files against the switch, --readd, --bundle, bad lines) against real ovs-ofctl 3.1 on the same real
 * ovs-vswitchd: output, errors, exit status and the switch's state after
 * each case must match (see runWriteCases).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { DIFF_CASES, MOD_TABLE_CASES, outcome, realOfctl, resetTables, runWriteCases, SORT_CASES, SORT_FLOWS, tableStateOf, withTarget } from "../util/ofctl-switch.js";
import { ofctlSwitch } from "../../src/cli/ofctl.js";

const skip = ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server");
let dir = "";
let stop: (() => void) | null = null;

before(() => {
  if (skip) return;
  dir = tempDir("tsovs-ofctl-diff-");
  stop = startRealVswitchd(dir);
  process.env["OVS_RUNDIR"] = dir;
});

after(() => {
  stop?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("diff-flows and replace-flows do what ovs-ofctl does", { skip, timeout: 120_000 }, async () => {
  const { same, bad } = await runWriteCases(dir, DIFF_CASES, (args, input) => ofctlSwitch(args, undefined, input));
  assert.deepEqual(bad, [], `${same}/${DIFF_CASES.length} identical`);
});

test("mod-table does what ovs-ofctl does", { skip, timeout: 120_000 }, async () => {
  const { same, bad } = await runWriteCases(dir, MOD_TABLE_CASES, (args, input) => ofctlSwitch(args, undefined, input), "br0", tableStateOf, resetTables);
  assert.deepEqual(bad, [], `${same}/${MOD_TABLE_CASES.length} identical`);
});

test("--sort and --rsort order flows as ovs-ofctl does", { skip, timeout: 120_000 }, async () => {
  realOfctl(dir, ["del-flows", "br0"]);
  realOfctl(dir, ["add-flows", "br0", "-"], SORT_FLOWS.join("\n") + "\n");
  for (const cs of SORT_CASES) {
    const args = withTarget(cs, "br0");
    assert.deepEqual(outcome(await ofctlSwitch(args)), outcome(realOfctl(dir, args)), args.join(" "));
  }
});
