/**
 * `tsovs ofctl`'s read-only switch commands against real ovs-ofctl 3.1, on
 * the same real ovs-vswitchd (dummy datapath): every case of READ_CASES
 * must print the same stdout, the same "ovs-ofctl: ..." errors and exit
 * with the same status (durations and ages normalised). tsovs runs
 * in-process for the list, and through bin/tsovs.js for the cases where
 * the command-line glue matters (log lines, version negotiation failure,
 * --timeout ending the process by SIGALRM, unix:/tcp: targets).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { ovsSkip, run, tempDir, TSOVS_BIN, TSOVS_NODE_ARGS } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { normalize, outcome, READ_CASES, realOfctl, resetSwitch, withTarget } from "../util/ofctl-switch.js";
import { ofctlSwitch } from "../../src/cli/ofctl.js";

const skip = ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server");
/** A port for the TCP listener, away from the usual ones. */
const TCP_PORT = 20_000 + (process.pid % 20_000);
let dir = "";
let stop: (() => void) | null = null;

before(() => {
  if (skip) return;
  dir = tempDir("tsovs-ofctl-sw-");
  stop = startRealVswitchd(dir);
  process.env["OVS_RUNDIR"] = dir;
  resetSwitch(dir);
  // A bridge that speaks only OpenFlow 1.3, for negotiation failures, and
  // one that also listens on TCP.
  run("ovs-vsctl", ["add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy", "protocols=OpenFlow13"], dir);
  run("ovs-vsctl", ["add-br", "br3", "--", "set", "bridge", "br3", "datapath_type=dummy", "--", "set-controller", "br3", `ptcp:${TCP_PORT}:127.0.0.1`], dir);
});

after(() => {
  stop?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs bin/tsovs.js ofctl asynchronously (the switch must keep serving meanwhile). */
function tsovsAsync(args: string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string; status: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl", ...args], {
      env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString("latin1")));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status, signal });
    });
  });
}

test("read-only commands print what ovs-ofctl prints", { skip, timeout: 120_000 }, async () => {
  const bad: string[] = [];
  let same = 0;
  for (const cs of READ_CASES) {
    const args = withTarget(cs, "br0");
    const real = outcome(realOfctl(dir, args));
    const ts = outcome(await ofctlSwitch(args));
    try {
      assert.deepEqual(ts, real);
      same++;
    } catch {
      bad.push(`${args.join(" ")}\n  real: ${JSON.stringify(real)}\n  ours: ${JSON.stringify(ts)}`);
    }
  }
  assert.deepEqual(bad, [], `${same}/${READ_CASES.length} identical`);
});

test("through bin/tsovs.js: targets, log lines, negotiation failure", { skip, timeout: 120_000 }, async () => {
  const cases = [
    ["show", "br0"],
    ["dump-flows", `unix:${path.join(dir, "br0.mgmt")}`],
    ["dump-desc", path.join(dir, "br0.mgmt")],
    ["show", "br1"],
    ["-O", "OpenFlow13", "dump-desc", "br1"],
    ["show", "tcp:127.0.0.1"],
    ["show", "tcp:127.0.0.1:99999"],
    ["show", "tcp:1.2.3"],
    ["show", "ssl:127.0.0.1:6653"],
    ["dump-desc", `tcp:127.0.0.1:${TCP_PORT}`],
    ["-O", "OpenFlow13", "dump-flows", `tcp:127.0.0.1:${TCP_PORT}`],
    ["show", "unix:/nonexistent/socket"],
    ["show", "tcp:127.0.0.1:1"],
    ["show", "nosuchbridge"],
  ];
  for (const args of cases) {
    const real = realOfctl(dir, args);
    const ts = await tsovsAsync(args);
    assert.deepEqual(
      { stdout: normalize(ts.stdout), stderr: normalize(ts.stderr), status: ts.status },
      { stdout: normalize(real.stdout), stderr: normalize(real.stderr), status: real.status },
      args.join(" "),
    );
  }
});

test("--timeout ends a command that gets no answer by SIGALRM", { skip, timeout: 30_000 }, async () => {
  const sock = path.join(dir, "mute.sock");
  const server = net.createServer((c) => c.on("error", () => undefined)).listen(sock);
  await new Promise((r) => server.once("listening", r));
  try {
    const t0 = Date.now();
    const ts = await tsovsAsync(["-t", "1", "show", `unix:${sock}`]);
    assert.equal(ts.signal, "SIGALRM");
    assert.ok(Date.now() - t0 < 10_000);
    assert.match(ts.stderr, /\|fatal_signal\|WARN\|terminating with signal 14 \(Alarm clock\)/);
  } finally {
    server.close();
  }
});
