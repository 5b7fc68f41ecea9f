/**
 * `tsovs vswitchd` command line (ovs-vswitchd(8)'s options) and the
 * coverage/show text layout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseVswitchdArgs } from "../../src/cli/vswitchd.js";
import { coverageInc, coverageShowText } from "../../src/vswitchd/coverage.js";
import { tsovs, tempDir } from "../util/ovs.js";

test("options as ovs-vswitchd takes them", () => {
  const saved = process.env["OVS_RUNDIR"];
  process.env["OVS_RUNDIR"] = "/run/x";
  try {
    const cfg = parseVswitchdArgs(["--pidfile", "--log-file=/tmp/v.log", "-vbridge:file:dbg", "--enable-dummy=override", "--disable-system", "--unixctl=ctl", "--no-chdir", "--detach"]);
    assert.notEqual(typeof cfg, "number");
    const c = cfg as Exclude<typeof cfg, number>;
    assert.equal(c.remote, "unix:/run/x/db.sock");
    assert.equal(c.pidfile, "/run/x/ovs-vswitchd.pid");
    assert.equal(c.logFile, "/tmp/v.log");
    assert.deepEqual(c.verbose, ["bridge:file:dbg"]);
    assert.equal(c.dummy, "override");
    assert.equal(c.disableSystem, true);
    assert.equal(c.unixctl, "ctl");
    assert.equal(c.detach, true);
    const d = parseVswitchdArgs(["tcp:127.0.0.1:6640", "--enable-dummy"]) as Exclude<typeof cfg, number>;
    assert.equal(d.remote, "tcp:127.0.0.1:6640");
    assert.equal(d.dummy, "dummy");
    const f = parseVswitchdArgs(["db.sock"]) as Exclude<typeof cfg, number>;
    assert.equal(f.remote, `unix:${path.resolve("db.sock")}`);
  } finally {
    if (saved === undefined) delete process.env["OVS_RUNDIR"];
    else process.env["OVS_RUNDIR"] = saved;
  }
});

test("bad options are refused with ovs-vswitchd's words", () => {
  const dir = tempDir("vswitchd-args-");
  const r = tsovs(["vswitchd", "--bogus"], dir);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "ovs-vswitchd: unrecognized option '--bogus'\n");
  const two = tsovs(["vswitchd", "unix:a", "unix:b"], dir);
  assert.equal(two.status, 1);
  assert.match(two.stderr, /exactly zero or one non-option argument required/);
  const v = tsovs(["vswitchd", "--version"], dir);
  assert.deepEqual([v.status, v.stdout], [0, "ovs-vswitchd (Open vSwitch) 3.1.0\n"]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("coverage/show lays counters out as OVS", () => {
  coverageInc("test_event", 3);
  const text = coverageShowText();
  assert.match(text, /^Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=[0-9a-f]{8}:\n/);
  const line = text.split("\n").find((l) => l.startsWith("test_event"))!;
  // "%-24s %5.1f/sec %9.3f/sec %13.4f/sec   total: %llu"
  assert.match(line, /^test_event {15}( {2}\d\.\d|\s*\d+\.\d)\/sec {1,}\d+\.\d{3}\/sec {1,}\d+\.\d{4}\/sec {3}total: 3$/);
  assert.equal(line.indexOf("/sec"), 30);
});
