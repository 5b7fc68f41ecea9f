/**
 * Read-only ovs-vsctl commands run by the real ovs-vsctl and by `tsovs vsctl`
 * against the SAME database must print byte-identical output — including
 * the row order of `list`/`find` (OVS's hash-map order) and the uuid order of
 * `show`, which the two-database differential test cannot compare.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, startRealOvsdb, tempDir } from "../util/ovs.js";
import { realVsctl, tsovsVsctlInProcess } from "../util/vsctl.js";

const SETUP: string[][] = [
  ["--no-wait", "init"],
  ["--no-wait", "add-br", "br0", "--", "add-br", "br1", "--", "add-br", "br2", "--", "add-br", "v5", "br0", "5"],
  ["--no-wait", "add-port", "br0", "p1", "--", "add-port", "br0", "p2", "tag=7", "--", "add-bond", "br1", "bond0", "e1", "e2", "e3"],
  ["--no-wait", "add-port", "v5", "p3", "--", "set", "interface", "p3", "type=internal", "options:a=b"],
  ["--no-wait", "set-controller", "br0", "tcp:127.0.0.1:6653", "--", "set-manager", "ptcp:6640", "--", "set-fail-mode", "br1", "secure"],
  ["--no-wait", "set", "bridge", "br0", "external_ids:owner=me", 'other_config:"a b"="c,d"'],
  ["--no-wait", "--", "--id=@q", "create", "qos", "type=linux-htb", "queues:1=@q1", "queues:0=@q0", "--", "--id=@q0", "create", "queue", "dscp=1", "--", "--id=@q1", "create", "queue", "dscp=2", "--", "set", "port", "p1", "qos=@q"],
  ["--no-wait", "add-port", "br2", "x1", "--", "add-port", "br2", "x2", "--", "add-port", "br2", "x3", "--", "add-port", "br2", "x4", "--", "add-port", "br2", "x5"],
  ["--no-wait", "add-port", "br2", "y1", "--", "add-port", "br2", "y2", "--", "add-port", "br2", "y3", "--", "add-port", "br2", "y4", "--", "add-port", "br2", "y5"],
  ["--no-wait", "set-controller", "br1", "tcp:1.1.1.1", "tcp:2.2.2.2", "--", "set-controller", "br2", "ptcp:6653"],
  ["--no-wait", "set-manager", "ptcp:6640", "tcp:1.2.3.4:6640", "punix:/tmp/x"],
];

const READS: string[][] = [
  ["show"],
  ["list", "bridge"],
  ["list", "port"],
  ["list", "interface"],
  ["list", "open_vswitch"],
  ["list", "qos"],
  ["list", "queue"],
  ["--format=table", "list", "port"],
  ["--format=csv", "list", "bridge"],
  ["--format=html", "list", "controller"],
  ["--format=json", "list", "interface"],
  ["--format=json", "--pretty", "--columns=_uuid,name,interfaces", "list", "port"],
  ["--bare", "--columns=_uuid,name", "list", "interface"],
  ["--data=json", "list", "bridge", "br0"],
  ["--columns=name,tag", "find", "port", "tag!=7"],
  ["--columns=_uuid", "find", "interface", "type=internal"],
  ["get", "open_vswitch", ".", "bridges", "manager_options"],
  ["get", "port", "p1", "qos", "interfaces"],
  ["get", "qos", "p1", "queues"],
  ["list-br", "--", "list-ports", "br2", "--", "list-ifaces", "br1"],
  ["--columns=name", "list", "bridge", "--", "--columns=name", "list", "port", "--", "--columns=name", "list", "interface"],
  ["--columns=_uuid,name", "list", "bridge", "--", "--columns=_uuid,name", "list", "port"],
  ["list", "bridge", "--", "list", "port", "--", "list", "interface"],
  ["list", "port", "--", "list", "interface"],
  ["list", "controller"],
  ["list", "manager"],
  ["--columns=_uuid,name,ports", "list", "bridge", "--", "list-br"],
  ["--columns=name", "list", "interface", "--", "list-ports", "br0"],
  ["--columns=name", "find", "interface", "--", "show"],
  ["--no-wait", "--columns=name,ofport", "list", "interface"],
  ["--columns=target", "list", "controller", "--", "--columns=name", "list", "bridge"],
];

test("read-only commands print byte-identical output on the same database", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  const db = await startRealOvsdb(tempDir("vsctl-same-"));
  try {
    for (const args of SETUP) {
      const r = realVsctl(db.remote, db.dir, args);
      assert.equal(r.status, 0, `setup ${args.join(" ")}: ${r.stderr}`);
    }
    for (const args of READS) {
      const want = realVsctl(db.remote, db.dir, args);
      const got = await tsovsVsctlInProcess(db.remote, args);
      assert.deepEqual(
        { status: got.status, stdout: got.stdout, stderr: got.stderr },
        { status: want.status, stdout: want.stdout, stderr: want.stderr },
        `ovs-vsctl ${args.join(" ")}`,
      );
    }
  } finally {
    await db.stop();
    fs.rmSync(db.dir, { recursive: true, force: true });
  }
});
