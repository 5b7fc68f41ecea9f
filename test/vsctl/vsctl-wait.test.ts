/**
 * Waiting for ovs-vswitchd: without --no-wait, `tsovs vsctl` bumps next_cfg
 * and returns once the (real, dummy-datapath) ovs-vswitchd has caught up,
 * reporting interfaces it could not set up exactly as ovs-vsctl does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, run, startRealOvsdb, tempDir, waitFor } from "../util/ovs.js";
import { realVsctl, tsovsVsctl } from "../util/vsctl.js";

const skip = ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovsdb-client", "ovs-vswitchd");

test("waits for ovs-vswitchd and reports interfaces that failed", { skip, timeout: 60_000 }, async () => {
  const db = await startRealOvsdb(tempDir("vsctl-wait-"));
  let vswitchdPid: number | null = null;
  try {
    assert.equal(realVsctl(db.remote, db.dir, ["--no-wait", "init"]).status, 0);
    const r = run("ovs-vswitchd", ["--enable-dummy=override", "--disable-system", "--detach", "--no-chdir", "--pidfile", "--log-file", db.remote], db.dir);
    assert.equal(r.status, 0, r.stderr);
    vswitchdPid = Number(fs.readFileSync(path.join(db.dir, "ovs-vswitchd.pid"), "utf8").trim());

    const add = tsovsVsctl(db.remote, db.dir, ["add-br", "br0"]);
    assert.deepEqual([add.status, add.stdout, add.stderr], [0, "", ""]);
    const cfg = realVsctl(db.remote, db.dir, ["get", "open_vswitch", ".", "cur_cfg", "next_cfg"]).stdout.split("\n");
    assert.equal(cfg[0], cfg[1], "returned before ovs-vswitchd caught up");

    const want = realVsctl(db.remote, db.dir, ["add-port", "br0", "bad1", "--", "set", "interface", "bad1", "type=nonexistent"]);
    const got = tsovsVsctl(db.remote, db.dir, ["add-port", "br0", "bad2", "--", "set", "interface", "bad2", "type=nonexistent"]);
    assert.match(want.stderr, /Error detected while setting up 'bad1'/);
    assert.deepEqual(
      { status: got.status, stdout: got.stdout, stderr: got.stderr.replaceAll("bad2", "bad1") },
      { status: want.status, stdout: want.stdout, stderr: want.stderr },
    );
  } finally {
    if (vswitchdPid !== null) {
      process.kill(vswitchdPid, "SIGTERM");
      await waitFor(() => {
        try {
          process.kill(vswitchdPid!, 0);
          return false;
        } catch {
          return true;
        }
      }, 10_000, "ovs-vswitchd exit").catch(() => process.kill(vswitchdPid!, "SIGKILL"));
    }
    await db.stop();
    fs.rmSync(db.dir, { recursive: true, force: true });
  }
});

test("wait-until blocks until another client makes the condition true", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  const db = await startRealOvsdb(tempDir("vsctl-waituntil-"));
  try {
    assert.equal(realVsctl(db.remote, db.dir, ["--no-wait", "add-br", "br0"]).status, 0);
    const { spawn } = await import("node:child_process");
    const { TSOVS_BIN } = await import("../util/ovs.js");
    const child = spawn(process.execPath, [TSOVS_BIN, "vsctl", `--db=${db.remote}`, "wait-until", "bridge", "br0", "fail_mode=secure", "--", "get", "bridge", "br0", "fail_mode"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    let exited: number | null = null;
    child.on("exit", (code) => (exited = code ?? -1));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(exited, null, "wait-until returned before the condition held");
    assert.equal(realVsctl(db.remote, db.dir, ["--no-wait", "set-fail-mode", "br0", "secure"]).status, 0);
    await waitFor(() => exited !== null, 10_000, "wait-until to return");
    assert.equal(exited, 0);
    assert.equal(out, "secure\n");
  } finally {
    await db.stop();
    fs.rmSync(db.dir, { recursive: true, force: true });
  }
});

test("a transaction whose reads changed underneath it reports try-again", { skip: ovsSkip(), timeout: 30_000 }, async () => {
  const db = await startRealOvsdb(tempDir("vsctl-verify-"));
  const { openJsonRpc } = await import("../../src/jsonrpc/index.js");
  const { Idl, schemaFromJson } = await import("../../src/vsctl/index.js");
  const conn = await openJsonRpc(db.remote);
  try {
    assert.equal(realVsctl(db.remote, db.dir, ["--no-wait", "add-br", "br0"]).status, 0);
    const idl = new Idl(schemaFromJson(await conn.request("get_schema", ["Open_vSwitch"])), conn);
    await idl.monitorAll();
    const br = idl.rows("Bridge")[0]!;
    idl.verifyReads = true;
    assert.deepEqual(idl.read(br, "fail_mode").keys, []);
    idl.verifyReads = false;
    // Another client changes the column we read before we commit.
    assert.equal(realVsctl(db.remote, db.dir, ["--no-wait", "set-fail-mode", "br0", "secure"]).status, 0);
    idl.write(br, "external_ids", { keys: ["k"], values: ["v"] });
    const r = await idl.commit({ dryRun: false, comment: "test" });
    assert.equal(r.status, "try-again");
    assert.equal(realVsctl(db.remote, db.dir, ["get", "bridge", "br0", "external_ids"]).stdout, "{}\n");
  } finally {
    conn.close();
    await db.stop();
    fs.rmSync(db.dir, { recursive: true, force: true });
  }
});
