/**
 * The process-wide switches behind appctl commands, without a daemon:
 * list-commands' column layout, the process clock (time/stop, time/warp
 * with its timer hooks), per-module log rate limiting, and the
 * pmd-stats baseline left by pmd-stats-clear.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UnixctlRegistry } from "../../src/unixctl/index.js";
import { onTimeWarp, timeIsStopped, timeMsec, timeResume, timeStop, timeWarp } from "../../src/util/clock.js";
import { VlogRateLimit, setRateLimiting, vlogModule } from "../../src/util/vlog.js";
import { pmdStatsClear, pmdStatsText, statsSinceClear } from "../../src/datapath/pmd-stats.js";
import type { DpifDpStats } from "../../src/datapath/dpif-provider.js";

test("list-commands: name in 23 columns, then always one space", () => {
  const r = new UnixctlRegistry();
  r.register("netdev-dummy/set-admin-state", "[netdev] up|down", 0, 2, () => "");
  r.register("a/b", "x", 0, 0, () => "");
  r.register("time/stop", "", 0, 0, () => "");
  assert.equal(
    r.listText(),
    "The available commands are:\n" +
      "  a/b                     x\n" +
      "  netdev-dummy/set-admin-state [netdev] up|down\n" +
      "  time/stop               \n",
  );
});

test("time/stop freezes the clock; time/warp moves it in steps, running hooks after each", () => {
  timeStop();
  try {
    assert.ok(timeIsStopped());
    const t0 = timeMsec();
    const seen: number[] = [];
    const remove = onTimeWarp((now) => seen.push(now - t0));
    timeWarp(2500, 1000);
    remove();
    assert.deepEqual(seen, [1000, 2000, 2500]);
    assert.equal(timeMsec(), t0 + 2500);
    timeWarp(100, 1000);
    assert.equal(timeMsec(), t0 + 2600);
    assert.deepEqual(seen, [1000, 2000, 2500], "a removed hook is not run");
  } finally {
    timeResume();
  }
  assert.ok(!timeIsStopped());
});

test("vlog rate limiting can be switched off and on per module", () => {
  const m = vlogModule("appctl_switch_test");
  const lines: string[] = [];
  const orig = m.log.bind(m);
  m.log = (_level, message) => void lines.push(message);
  m.levels.file = "dbg";
  m.levels.console = "dbg";
  try {
    const rl = new VlogRateLimit(1, 1);
    for (let i = 0; i < 5; i++) m.logRl(rl, "warn", `limited ${i}`);
    assert.deepEqual(lines, ["limited 0"]);
    assert.equal(setRateLimiting(["appctl_switch_test"], false), null);
    for (let i = 0; i < 3; i++) m.logRl(rl, "warn", `free ${i}`);
    assert.deepEqual(lines.slice(1), ["free 0", "free 1", "free 2"]);
    assert.equal(setRateLimiting(["no_such_module_here"], true), "unknown module");
    assert.equal(m.rateLimited, false, "an unknown module changes nothing");
    assert.equal(setRateLimiting([], true), null);
    assert.equal(m.rateLimited, true);
  } finally {
    m.log = orig;
    m.levels.file = "info";
    m.levels.console = "off";
  }
});

function stats(hits: number, missed: number): DpifDpStats {
  return { hits, missed, lost: 0, flows: 1, maskHit: hits, masks: 1, emcHits: 0, smcHits: 0, megaflowHits: hits, dropped: 0 };
}

test("pmd-stats-clear keeps a baseline: later reports count from it", () => {
  assert.match(pmdStatsText("test-dp", stats(4, 1)), /packets received: 5\n[^]*megaflow hits: 4\n[^]*miss with success upcall: 1\n/);
  pmdStatsClear("test-dp", stats(4, 1));
  const after = pmdStatsText("test-dp", stats(6, 2));
  assert.match(after, /^main thread:\n {2}packets received: 3\n/);
  assert.match(after, /megaflow hits: 2\n {2}avg\. subtable lookups per megaflow hit: 1\.00\n {2}miss with success upcall: 1\n/);
  const s = statsSinceClear("test-dp", stats(6, 2));
  assert.deepEqual([s.hits, s.missed], [2, 1]);
});
