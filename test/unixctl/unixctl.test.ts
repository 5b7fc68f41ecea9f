/**
 * unixctl: our server answers the real ovs-appctl exactly as an OVS daemon
 * does, and `tsovs appctl` talks to it (and to real OVS daemons).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as net from "node:net";
import { UnixctlRegistry, UnixctlServer, UnixctlError, registerBuiltins, unixctlTransact } from "../../src/unixctl/index.js";
import { run, tempDir, tsovs, which } from "../util/ovs.js";

async function withServer(fn: (sock: string, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir("tsovs-unixctl-");
  const registry = new UnixctlRegistry();
  registerBuiltins(registry, "test-daemon");
  registry.register("test/echo", "ARG...", 1, 3, (args) => args.join(" ") + "\n");
  registry.register("test/fail", "", 0, 0, () => {
    throw new UnixctlError("it failed");
  });
  registry.register("test/async", "", 0, 0, async () => {
    await new Promise((r) => setTimeout(r, 10));
    return "later\n";
  });
  const sock = path.join(dir, "test-daemon.4242.ctl");
  const server = await UnixctlServer.listen(sock, registry);
  try {
    await fn(sock, dir);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends raw text and collects what comes back for a moment. */
function rawExchange(sock: string, text: string, waitMs = 200): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.createConnection(sock);
    let data = "";
    let closed = false;
    s.on("data", (d) => (data += d.toString()));
    s.on("close", () => (closed = true));
    s.on("error", () => (closed = true));
    s.on("connect", () => s.write(text));
    setTimeout(() => {
      s.destroy();
      resolve({ data, closed });
    }, waitMs);
  });
}

test("replies have OVS's shape: id first, no result on error, error text ends in newline", async () => {
  await withServer(async (sock) => {
    const r = await rawExchange(sock, '{"method":"version","params":[],"id":0}{"method":"nosuch","params":[],"id":1}{"method":"version","params":["x"],"id":2}');
    assert.equal(
      r.data,
      '{"id":0,"result":"test-daemon (Open vSwitch) 3.1.0\\n","error":null}' +
        '{"id":1,"error":"\\"nosuch\\" is not a valid command (use \\"list-commands\\" to see a list of valid commands)\\n"}' +
        '{"id":2,"error":"\\"version\\" command takes at most 0 arguments\\n"}',
    );
  });
});

test("a request without params closes that connection; the server keeps serving", async () => {
  await withServer(async (sock) => {
    const bad = await rawExchange(sock, '{"method":"version","id":0}');
    assert.equal(bad.data, "");
    assert.equal(bad.closed, true);
    const junk = await rawExchange(sock, "this is not json");
    assert.equal(junk.closed, true);
    const r = await unixctlTransact(sock, "test/echo", ["a", "b"]);
    assert.deepEqual(r, { ok: true, result: "a b\n" });
  });
});

test("argument bounds, handler errors and async handlers", async () => {
  await withServer(async (sock) => {
    assert.deepEqual(await unixctlTransact(sock, "test/echo", []), {
      ok: false,
      error: '"test/echo" command requires at least 1 arguments\n',
    });
    assert.deepEqual(await unixctlTransact(sock, "test/fail", []), { ok: false, error: "it failed\n" });
    assert.deepEqual(await unixctlTransact(sock, "test/async", []), { ok: true, result: "later\n" });
    const list = await unixctlTransact(sock, "list-commands", []);
    assert.ok(list.ok && list.result.startsWith("The available commands are:\n"));
    assert.ok(list.ok && list.result.includes("  test/echo               ARG...\n"));
    assert.ok(list.ok && list.result.includes("  vlog/set                {spec | PATTERN:destination:pattern}\n"));
    // "help" answers like list-commands but, not being an OVS command, is not listed.
    assert.ok(list.ok && !list.result.includes("  help "));
    assert.deepEqual(await unixctlTransact(sock, "help", []), list);
    assert.deepEqual(await unixctlTransact(sock, "vlog/set", ["nosuchmodule"]), {
      ok: false,
      error: 'no destination, level, or module "nosuchmodule"\n',
    });
    assert.deepEqual(await unixctlTransact(sock, "vlog/set", ["unixctl:file:dbg"]), { ok: true, result: "" });
    const levels = await unixctlTransact(sock, "vlog/list", []);
    assert.ok(levels.ok && /\nunixctl\s+OFF\s+\S+\s+DBG\n/.test(levels.result), levels.ok ? levels.result : "");
  });
});

test("the real ovs-appctl talks to our control socket", { skip: which("ovs-appctl") === null ? "ovs-appctl not installed" : false }, async () => {
  await withServer(async (sock) => {
    // ovs-appctl is synchronous; run it outside the event loop's way with spawnSync in a worker-free manner.
    const { spawn } = await import("node:child_process");
    const appctl = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const c = spawn("ovs-appctl", ["-t", sock, ...args]);
        let stdout = "", stderr = "";
        c.stdout.on("data", (d) => (stdout += d));
        c.stderr.on("data", (d) => (stderr += d));
        c.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const v = await appctl("version");
    assert.equal(v.status, 0);
    assert.equal(v.stdout, "test-daemon (Open vSwitch) 3.1.0\n");
    const e = await appctl("test/echo", "x", "y");
    assert.equal(e.stdout, "x y\n");
    const f = await appctl("test/fail");
    assert.equal(f.status, 2);
    assert.match(f.stderr, /^it failed\n.*server returned an error/s);
    const n = await appctl("nosuch");
    assert.equal(n.status, 2);
    assert.match(n.stderr, /"nosuch" is not a valid command/);
  });
});

test("tsovs appctl: target by socket path and by pid file, exit statuses", async () => {
  await withServer(async (sock, dir) => {
    // By pid file: <rundir>/test-daemon.pid names pid 4242, whose socket is test-daemon.4242.ctl.
    fs.writeFileSync(path.join(dir, "test-daemon.pid"), "4242\n");
    const { spawn } = await import("node:child_process");
    const { TSOVS_BIN } = await import("../util/ovs.js");
    const tsAppctl = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, [TSOVS_BIN, "appctl", ...args], {
          env: { ...process.env, OVS_RUNDIR: dir },
        });
        let stdout = "", stderr = "";
        c.stdout.on("data", (d) => (stdout += d));
        c.stderr.on("data", (d) => (stderr += d));
        c.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const a = await tsAppctl("-t", "test-daemon", "version");
    assert.equal(a.stdout, "test-daemon (Open vSwitch) 3.1.0\n");
    assert.equal(a.status, 0);
    const b = await tsAppctl("--target=" + sock, "test/echo", "1");
    assert.equal(b.stdout, "1\n");
    const c = await tsAppctl("-t", sock, "test/fail");
    assert.equal(c.status, 2);
    assert.equal(c.stderr, `it failed\novs-appctl: ${sock}: server returned an error\n`);
    const d = await tsAppctl("-t", "nosuchd", "version");
    assert.equal(d.status, 1);
    assert.equal(d.stderr, `ovs-appctl: cannot read pidfile "${path.join(dir, "nosuchd.pid")}" (No such file or directory)\n`);
    const e = await tsAppctl("-t", sock);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /at least one non-option argument is required/);
  });
});

test("tsovs appctl against a real OVS daemon", { skip: which("ovsdb-server") === null ? "ovsdb-server not installed" : false }, async () => {
  const { startRealOvsdb } = await import("../util/ovs.js");
  const d = await startRealOvsdb();
  try {
    const r = tsovs(["appctl", "-t", "ovsdb-server", "ovsdb-server/list-dbs"], d.dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "Open_vSwitch\n_Server\n");
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});
void run;
