/**
 * The fdb/* commands against the real ovs-vswitchd: the same learning
 * (traced with -generate on the real bridge, NORMAL on ours), then the
 * same fdb/add, fdb/del, fdb/show, fdb/stats-show, fdb/stats-clear and
 * fdb/flush commands, good and bad, must answer the same text (ages
 * masked: the two clocks tick separately).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, run } from "../util/ovs.js";
import { startRealSwitch, type Switch } from "../util/vswitchd.js";
import { fakeBridge, flowText, makeFlow, runNormal, type FlowSpec, type PortSpec } from "../util/normal.js";
import { UnixctlRegistry } from "../../src/unixctl/server.js";
import { registerFdbCommands } from "../../src/ofproto/fdb-commands.js";

const PORTS: PortSpec[] = [
  { name: "p1", ofp: 1 },
  { name: "p2", ofp: 2, tag: 10 },
  { name: "p6", ofp: 6 },
];

const LEARN: FlowSpec[] = [
  { inPort: 1, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" },
  { inPort: 2, src: "50:54:00:00:00:02", dst: "ff:ff:ff:ff:ff:ff" },
  { inPort: 6, src: "50:54:00:00:00:06", dst: "50:54:00:00:00:01" },
  { inPort: 6, src: "50:54:00:00:00:01", dst: "50:54:00:00:00:06" },
];

const COMMANDS: string[][] = [
  ["fdb/show", "br0"],
  ["fdb/stats-show", "br0"],
  ["fdb/add", "br0", "p1", "0", "50:54:00:00:00:aa"],
  ["fdb/add", "br0", "p1", "0", "50:54:00:00:00:aa"],
  ["fdb/add", "br0", "p6", "0", "50:54:00:00:00:aa"],
  ["fdb/add", "br0", "p1", "0", "50:54:00:00:00:06"],
  ["fdb/add", "br0", "br0", "5", "50:54:00:00:00:ee"],
  ["fdb/add", "br0", "p1", "abc", "50:54:00:00:00:dd"],
  ["fdb/add", "br0", "p1", "-1", "50:54:0:0:0:dd"],
  ["fdb/add", "br0", "p2", "4096", "01:00:00:00:00:01"],
  ["fdb/add", "br0", "nope", "0", "50:54:00:00:00:cc"],
  ["fdb/add", "brx", "p1", "0", "50:54:00:00:00:cc"],
  ["fdb/add", "br0", "p1", "0", "zz:54:00:00:00:cc"],
  ["fdb/add", "br0", "p1", "0", "50:54:00:00:00:cc:00"],
  ["fdb/add", "br0", "p1", "0"],
  ["fdb/show", "br0"],
  ["fdb/stats-show", "br0"],
  ["fdb/del", "br0", "0", "50:54:00:00:00:aa"],
  ["fdb/del", "br0", "0", "50:54:00:00:00:aa"],
  ["fdb/del", "br0", "10", "50:54:00:00:00:02"],
  ["fdb/del", "br0", "0", "zz"],
  ["fdb/del", "brx", "0", "50:54:00:00:00:01"],
  ["fdb/show"],
  ["fdb/show", "brx"],
  ["fdb/stats-show"],
  ["fdb/stats-show", "brx"],
  ["fdb/stats-clear", "br0"],
  ["fdb/stats-clear"],
  ["fdb/stats-clear", "brx"],
  ["fdb/stats-show", "br0"],
  ["fdb/flush", "brx"],
  ["fdb/flush", "br0", "x"],
  ["fdb/flush", "br0"],
  ["fdb/flush"],
  ["fdb/show", "br0"],
  ["fdb/stats-show", "br0"],
];

function maskAges(s: string): string {
  return s.replace(/(\d\d:\d\d:\d\d:\d\d:\d\d:\d\d) +\d+$/gm, "$1  AGE");
}

describe("fdb/* vs the real ovs-vswitchd", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-appctl") }, () => {
  let sw: Switch;

  before(async () => {
    sw = await startRealSwitch();
    const args = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy"];
    for (const p of PORTS) {
      args.push("--", "add-port", "br0", p.name);
      if (p.tag !== undefined) args.push(`tag=${p.tag}`);
      args.push("--", "set", "interface", p.name, "type=dummy", `ofport_request=${p.ofp}`);
    }
    const r = run("ovs-vsctl", args, sw.dir);
    assert.equal(r.status, 0, r.stderr);
  });

  after(async () => {
    await sw?.stop();
    if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
  });

  test("same answers, command by command", async () => {
    const br = fakeBridge("br0", PORTS);
    const reg = new UnixctlRegistry();
    registerFdbCommands(reg, (n) => (n === "br0" ? { xbridge: br, macs: br.macs } : null), () => [{ xbridge: br, macs: br.macs }]);
    for (const f of LEARN) {
      const r = run("ovs-appctl", ["ofproto/trace", "br0", flowText(f), "-generate"], sw.dir);
      assert.equal(r.status, 0, r.stderr);
      br.clock.now = Date.now();
      runNormal(br, makeFlow(f));
    }
    for (const cmd of COMMANDS) {
      const real = run("ovs-appctl", cmd, sw.dir);
      br.clock.now = Date.now();
      const mine = await reg.execute(cmd[0]!, cmd.slice(1), null as never);
      if (real.status === 0) {
        assert.ok("result" in mine, `${cmd.join(" ")}: real succeeded, we said ${JSON.stringify(mine)}`);
        assert.equal(maskAges(mine.result), maskAges(real.stdout), cmd.join(" "));
      } else {
        assert.ok("error" in mine, `${cmd.join(" ")}: real failed (${real.stderr}), we said ${JSON.stringify(mine)}`);
        assert.equal(mine.error, real.stderr.split("\n")[0] + "\n", cmd.join(" "));
      }
    }
  });
});
