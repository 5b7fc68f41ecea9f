/**
 * `tsovs ovsdb-server` on its own: many concurrent clients, bad input,
 * "wait" blocking and cancel, durability across a crash, reconnection with
 * `monitor_cond_since`, inactivity probes, `db:` remotes from Manager rows,
 * and a clean shutdown on SIGTERM and on `exit`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { startTsovsOvsdb, tempDir, tsovs, waitFor, type Daemon } from "../util/ovs.js";
import { RawClient } from "../util/ovsdb-server.js";

const DB = "Open_vSwitch";

async function withServer(fn: (d: Daemon) => Promise<void>, extra: string[] = []): Promise<void> {
  const d = await startTsovsOvsdb(undefined, extra);
  try {
    await fn(d);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
}

async function initDb(c: RawClient): Promise<void> {
  const r = await c.request("transact", [DB, { op: "insert", table: "Open_vSwitch", row: {} }]);
  assert.equal(r["error"], null);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

test("50 clients transacting at once all get correct results", async () => {
  await withServer(async (d) => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(d.remote)));
    await initDb(clients[0]!);
    const replies = await Promise.all(
      clients.map((c, i) =>
        c.request("transact", [
          DB,
          { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1], ["external_ids", "insert", ["map", [[`c${i}`, String(i)]]]]] },
          { op: "select", table: "Open_vSwitch", where: [], columns: ["external_ids"] },
        ]),
      ),
    );
    for (const [i, r] of replies.entries()) {
      assert.equal(r["error"], null);
      const res = r["result"] as [{ count: number }, { rows: { external_ids: [string, [string, string][]] }[] }];
      assert.deepEqual(res[0], { count: 1 });
      // Each transaction sees its own write (transactions are serialised).
      assert.ok(res[1].rows[0]!.external_ids[1].some(([k, v]) => k === `c${i}` && v === String(i)));
    }
    const final = await clients[0]!.request("transact", [DB, { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg", "external_ids"] }]);
    const row = (final["result"] as { rows: { next_cfg: number; external_ids: [string, unknown[]] }[] }[])[0]!.rows[0]!;
    assert.equal(row.next_cfg, 50);
    assert.equal(row.external_ids[1].length, 50);
    for (const c of clients) c.close();
  });
});

test("bad input closes only the offending connection", async () => {
  await withServer(async (d) => {
    const good = await RawClient.connect(d.remote);
    await initDb(good);
    const mon = await good.request("monitor_cond", [DB, "m", { Open_vSwitch: [{ columns: ["next_cfg"] }] }]);
    assert.equal(mon["error"], null);
    for (const junk of ["{nope}", '"a string"', "[1,2,3]", '{"method":"transact","id":1}', '{"method":5,"params":[],"id":1}', "\u0000\u0001garbage"]) {
      const bad = await RawClient.connect(d.remote);
      bad.send(junk);
      await waitFor(() => bad.closed, 5000, `close after ${JSON.stringify(junk)}`);
    }
    // Wrong shapes that are still JSON-RPC get error replies and keep the connection.
    const c = await RawClient.connect(d.remote);
    assert.deepEqual((await c.request("transact", [{}]))["error"], {
      error: "syntax error",
      details: "transact request params must begin with <db-name>",
      syntax: "[{}]",
    });
    assert.equal((await c.request("no_such_method", []))["error"], "unknown method");
    const bogusOps = await c.request("transact", [DB, 42, "x"]);
    assert.equal(bogusOps["error"], null);
    assert.ok(Array.isArray(bogusOps["result"]));
    // The good client is unaffected and still gets its updates.
    await good.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 7]] }]);
    const upd = await good.wait((m) => m["method"] === "update2");
    assert.deepEqual(Object.values((upd["params"] as [string, Record<string, Record<string, unknown>>])[1]["Open_vSwitch"]!)[0], {
      modify: { next_cfg: 7 },
    });
    assert.equal(good.closed, false);
    good.close();
    c.close();
  });
});

test("wait blocks until another client's commit, times out, and can be cancelled", async () => {
  await withServer(async (d) => {
    const a = await RawClient.connect(d.remote);
    const b = await RawClient.connect(d.remote);
    await initDb(a);
    const wait = (value: number, timeout: number) => ({
      op: "wait", table: "Open_vSwitch", where: [], columns: ["next_cfg"], until: "==", rows: [{ next_cfg: value }], timeout,
    });
    const waiting = a.request("transact", [DB, wait(3, 10_000), { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] }]);
    let answered = false;
    void waiting.then(() => (answered = true));
    await b.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] }]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(answered, false, "still waiting at next_cfg=1");
    await b.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 2]] }]);
    const r = await waiting;
    assert.deepEqual(r["result"], [{}, { rows: [{ next_cfg: 3 }] }]);

    const t0 = Date.now();
    const timedOut = await a.request("transact", [DB, wait(99, 300)]);
    assert.ok(Date.now() - t0 >= 250, "waited for the timeout");
    const [to] = timedOut["result"] as [{ error: string; details: string }];
    assert.equal(to.error, "timed out");
    assert.match(to.details, /^"wait" timed out after \d+ ms$/);

    // The timeout counts from the first attempt, not from the latest retry.
    const t1 = Date.now();
    const pendingTimeout = a.request("transact", [DB, wait(99, 600)]);
    await new Promise((r) => setTimeout(r, 300));
    await b.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["external_ids", "insert", ["map", [["x", "y"]]]]] }]);
    await pendingTimeout;
    assert.ok(Date.now() - t1 < 850, `timed out after ${Date.now() - t1} ms, not 600 + 300`);
    // Without a timeout it waits for as long as it takes (and does not spin meanwhile).
    const { timeout: _omit, ...forever } = wait(4, 0);
    void _omit;
    const waitingForever = a.request("transact", [DB, forever, { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] }]);
    await new Promise((r) => setTimeout(r, 300));
    await b.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] }]);
    assert.deepEqual((await waitingForever)["result"], [{}, { rows: [{ next_cfg: 4 }] }]);

    a.send({ method: "transact", params: [DB, wait(99, 60_000)], id: "w1" });
    await new Promise((r) => setTimeout(r, 50));
    a.send({ method: "cancel", params: ["w1"], id: null });
    const cancelled = await a.wait((m) => m["id"] === "w1");
    assert.deepEqual(cancelled, { id: "w1", error: "canceled" });
    a.close();
    b.close();
  });
});

test("committed data survives kill -9 and restart; monitor_cond_since resumes", async () => {
  const dir = tempDir("tsovs-durable-");
  try {
    let d = await startTsovsOvsdb(dir);
    const c = await RawClient.connect(d.remote);
    await initDb(c);
    const m = await c.request("monitor_cond_since", [DB, "m", { Open_vSwitch: [{ columns: ["next_cfg"] }] }, "00000000-0000-0000-0000-000000000000"]);
    const [found0, lastId] = m["result"] as [boolean, string, unknown];
    assert.equal(found0, false);
    await c.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 5]] }, { op: "comment", comment: "five" }]);
    // A new client that knew `lastId` gets only what it missed.
    const r = await RawClient.connect(d.remote);
    const resumed = await r.request("monitor_cond_since", [DB, "m", { Open_vSwitch: [{ columns: ["next_cfg"] }] }, lastId]);
    const [found, newId, updates] = resumed["result"] as [boolean, string, Record<string, Record<string, unknown>>];
    assert.equal(found, true);
    assert.notEqual(newId, lastId);
    assert.deepEqual(Object.values(updates["Open_vSwitch"]!), [{ modify: { next_cfg: 5 } }]);
    const upToDate = await r.request("monitor_cond_since", [DB, "m2", { Open_vSwitch: [{ columns: ["next_cfg"] }] }, newId]);
    assert.deepEqual(upToDate["result"], [true, newId, {}]);
    // An unknown id gets everything.
    const unknown = await r.request("monitor_cond_since", [DB, "m3", { Open_vSwitch: [{ columns: ["next_cfg"] }] }, "11111111-2222-3333-4444-555555555555"]);
    assert.equal((unknown["result"] as unknown[])[0], false);
    const durable = await c.request("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] }, { op: "commit", durable: true }]);
    assert.equal(durable["error"], null);
    process.kill(d.pid, "SIGKILL");
    await waitFor(() => c.closed && r.closed, 5000, "connections to drop");
    fs.rmSync(path.join(dir, "db.sock"), { force: true });
    d = await startTsovsOvsdb(dir);
    const c2 = await RawClient.connect(d.remote);
    const sel = await c2.request("transact", [DB, { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] }]);
    assert.deepEqual(sel["result"], [{ rows: [{ next_cfg: 6 }] }]);
    c2.close();
    await d.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("TCP clients that do not answer inactivity probes are dropped; live ones stay", async () => {
  const port = await freePort();
  await withServer(
    async () => {
      const remote = `tcp:127.0.0.1:${port}`;
      // The TCP listener may come up a moment after the unix socket the helper waits for.
      let live: RawClient | null = null;
      for (let i = 0; i < 100 && live === null; i++) {
        live = await RawClient.connect(remote).catch(() => null); // answers echo requests
        if (live === null) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(live);
      const mute = await new Promise<net.Socket>((resolve) => {
        const s = net.createConnection({ port, host: "127.0.0.1" }, () => resolve(s));
      });
      let muteClosed = false;
      let sawEcho = false;
      mute.on("data", (d) => (sawEcho ||= d.toString().includes('"method":"echo"')));
      mute.on("close", () => (muteClosed = true));
      await waitFor(() => muteClosed, 8000, "silent client to be dropped");
      assert.ok(sawEcho, "server sent an echo probe first");
      assert.equal(live.closed, false);
      assert.deepEqual((await live.request("list_dbs", []))["result"], ["Open_vSwitch", "_Server"]);
      live.close();
    },
    [`--remote=ptcp:${port}:127.0.0.1`, "--inactivity-probe=1000"],
  );
});

test("db: remotes follow Manager rows; add-remote/remove-remote/list-remotes", async () => {
  const port = await freePort();
  await withServer(async (d) => {
    const c = await RawClient.connect(d.remote);
    const ctl = path.join(d.dir, `ovsdb-server.${d.pid}.ctl`);
    await waitFor(() => fs.existsSync(ctl), 5000, "control socket");
    const add = tsovs(["appctl", "-t", ctl, "ovsdb-server/add-remote", "db:Open_vSwitch,Open_vSwitch,manager_options"], d.dir);
    assert.equal(add.status, 0, add.stderr);
    const lr = tsovs(["appctl", "-t", ctl, "ovsdb-server/list-remotes"], d.dir);
    assert.equal(lr.stdout, `db:Open_vSwitch,Open_vSwitch,manager_options\npunix:${path.join(d.dir, "db.sock")}\n`);
    await c.request("transact", [
      DB,
      { op: "insert", table: "Manager", row: { target: `ptcp:${port}:127.0.0.1` }, "uuid-name": "m" },
      { op: "insert", table: "Open_vSwitch", row: { manager_options: ["named-uuid", "m"] } },
    ]);
    let tcp: RawClient | null = null;
    await waitFor(() => true);
    for (let i = 0; i < 50 && tcp === null; i++) {
      tcp = await RawClient.connect(`tcp:127.0.0.1:${port}`).catch(() => null);
      if (tcp === null) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(tcp, "Manager target is listening");
    assert.deepEqual((await tcp.request("list_dbs", []))["result"], ["Open_vSwitch", "_Server"]);
    // The Manager row gets its connection state written back (OVS does so every 2.5 s).
    const status = async (): Promise<{ is_connected: boolean; status: unknown }> =>
      ((await c.request("transact", [DB, { op: "select", table: "Manager", where: [], columns: ["is_connected", "status"] }]))["result"] as { rows: { is_connected: boolean; status: unknown }[] }[])[0]!.rows[0]!;
    const deadline = Date.now() + 8000;
    while (!(await status()).is_connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await status(), { is_connected: true, status: ["map", [["bound_port", String(port)]]] });
    // Removing the Manager closes the listener and its sessions.
    await c.request("transact", [DB, { op: "update", table: "Open_vSwitch", where: [], row: { manager_options: ["set", []] } }]);
    await waitFor(() => tcp!.closed, 5000, "manager session to close");
    const rm = tsovs(["appctl", "-t", ctl, "ovsdb-server/remove-remote", "db:Open_vSwitch,Open_vSwitch,manager_options"], d.dir);
    assert.equal(rm.status, 0);
    c.close();
  });
});

test("SIGTERM, `exit` and kill $(cat pidfile) stop the server and remove its files", async () => {
  for (const how of ["SIGTERM", "exit", "kill-pidfile"]) {
    const d = await startTsovsOvsdb();
    try {
      const pidfile = path.join(d.dir, "ovsdb-server.pid");
      const ctl = path.join(d.dir, `ovsdb-server.${d.pid}.ctl`);
      await waitFor(() => fs.existsSync(pidfile) && fs.existsSync(ctl), 5000, "pid file and control socket");
      // The pid in the file names a control socket (ovs-appctl -t ovsdb-server relies on that).
      const filePid = Number(fs.readFileSync(pidfile, "utf8").trim());
      const named = path.join(d.dir, `ovsdb-server.${filePid}.ctl`);
      assert.ok(fs.existsSync(named), `${named} exists`);
      const a = tsovs(["appctl", "-t", "ovsdb-server", "version"], d.dir);
      assert.equal(a.stdout, "ovsdb-server (Open vSwitch) 3.1.0\n");
      if (how === "SIGTERM") process.kill(d.pid, "SIGTERM");
      else if (how === "exit") assert.equal(tsovs(["appctl", "-t", ctl, "exit"], d.dir).status, 0);
      else process.kill(filePid, "SIGTERM");
      await waitFor(
        () => !fs.existsSync(pidfile) && !fs.existsSync(ctl) && !fs.existsSync(named) && !fs.existsSync(path.join(d.dir, "db.sock")),
        5000,
        `cleanup after ${how}`,
      );
    } finally {
      await d.stop();
      fs.rmSync(d.dir, { recursive: true, force: true });
    }
  }
});

test("tsovs start serves the default database in the run directory and stops on SIGINT", async () => {
  const dir = tempDir("tsovs-start-");
  const { spawn } = await import("node:child_process");
  const { TSOVS_BIN } = await import("../util/ovs.js");
  const child = spawn(process.execPath, [TSOVS_BIN, "start"], {
    env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let exitCode: number | null = null;
  const exited = new Promise<void>((r) => child.on("close", (code) => ((exitCode = code), r())));
  try {
    await waitFor(() => fs.existsSync(path.join(dir, "db.sock")), 15_000, "db.sock");
    const c = await RawClient.connect(`unix:${path.join(dir, "db.sock")}`);
    assert.deepEqual((await c.request("list_dbs", []))["result"], ["Open_vSwitch", "_Server"]);
    await initDb(c);
    c.close();
    assert.ok(fs.existsSync(path.join(dir, "conf.db")), "default database created");
    assert.ok(fs.existsSync(path.join(dir, "ovsdb-server.pid")), "pid file");
    child.kill("SIGINT");
    await exited;
    assert.equal(exitCode, 0);
    assert.match(stderr, /\|ovsdb_server\|INFO\|/, "logs to the console at INFO");
    // One process, two log files as with OVS: the server's lines, and the switch's (and the start's).
    assert.match(fs.readFileSync(path.join(dir, "ovsdb-server.log"), "utf8"), /\|ovsdb_server\|INFO\|/);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, "ovsdb-server.log"), "utf8"), /\|bridge\||\|vswitchd\|/);
    assert.match(fs.readFileSync(path.join(dir, "ovs-vswitchd.log"), "utf8"), /\|vswitchd\|INFO\|[^]*SIGINT received, exiting/);
    assert.equal(fs.existsSync(path.join(dir, "db.sock")), false);
  } finally {
    if (exitCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("active remotes: the server connects out, serves the peer and reconnects after a drop", async () => {
  // A stand-in for a controller that manages OVS through OVSDB (set-manager tcp:IP:PORT).
  const accepted: net.Socket[] = [];
  const controller = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => controller.listen(0, "127.0.0.1", r));
  const port = (controller.address() as net.AddressInfo).port;
  try {
    await withServer(
      async () => {
        await waitFor(() => accepted.length === 1, 8000, "the server to connect");
        const ask = (s: net.Socket): Promise<unknown> =>
          new Promise((resolve) => {
            let buf = "";
            const onData = (d: Buffer): void => {
              buf += d.toString();
              try {
                const m = JSON.parse(buf) as { id: unknown };
                if (m.id === "q") {
                  s.off("data", onData);
                  resolve(m);
                }
              } catch {
                /* incomplete */
              }
            };
            s.on("data", onData);
            s.write(JSON.stringify({ method: "list_dbs", params: [], id: "q" }));
          });
        assert.deepEqual(await ask(accepted[0]!), { id: "q", result: ["Open_vSwitch", "_Server"], error: null });
        accepted[0]!.destroy();
        await waitFor(() => accepted.length === 2, 8000, "the server to reconnect");
        assert.deepEqual(await ask(accepted[1]!), { id: "q", result: ["Open_vSwitch", "_Server"], error: null });
      },
      [`--remote=tcp:127.0.0.1:${port}`],
    );
  } finally {
    for (const s of accepted) s.destroy();
    controller.close();
  }
});

test("a database path that is a dangling symlink (as Debian leaves /etc/openvswitch/conf.db) is created where it points", async () => {
  const dir = tempDir("tsovs-link-");
  const lib = path.join(dir, "var-lib");
  fs.symlinkSync(path.join(lib, "conf.db"), path.join(dir, "conf.db"));
  let d: Daemon | null = null;
  try {
    d = await startTsovsOvsdb(dir);
    const c = await RawClient.connect(d.remote);
    assert.deepEqual((await c.request("list_dbs", []))["result"], ["Open_vSwitch", "_Server"]);
    c.close();
    assert.ok(fs.statSync(path.join(lib, "conf.db")).size > 0, "database created at the link's target");
    assert.ok(fs.lstatSync(path.join(dir, "conf.db")).isSymbolicLink(), "the link itself is left alone");
  } finally {
    await d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
