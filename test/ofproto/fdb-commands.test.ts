/**
 * The fdb/* unixctl commands on fake bridges: texts of fdb/show and
 * fdb/stats-show, flush and stats-clear of one or every bridge, static
 * entries added and deleted, revalidation requests, and OVS's argument
 * quirks (atoi VLANs, MAC syntax). fdb-ovs.test.ts compares the same
 * commands with the real ovs-vswitchd.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UnixctlRegistry } from "../../src/unixctl/server.js";
import { atoiU16, parseEthAddr, registerFdbCommands, type FdbBridge } from "../../src/ofproto/fdb-commands.js";
import { fakeBridge, makeFlow, runNormal, type FakeBridge } from "../util/normal.js";

function setup(): { reg: UnixctlRegistry; br0: FakeBridge; br1: FakeBridge; revalidated: string[]; exec: (cmd: string, ...args: string[]) => Promise<string> } {
  const br0 = fakeBridge("br0", [
    { name: "p1", ofp: 1 },
    { name: "p2", ofp: 2, tag: 10 },
  ]);
  const br1 = fakeBridge("br1", [{ name: "q1", ofp: 1 }]);
  const revalidated: string[] = [];
  const fdb = (b: FakeBridge): FdbBridge => ({ xbridge: b, macs: b.macs, revalidate: () => revalidated.push(b.name) });
  const all = new Map([["br0", fdb(br0)], ["br1", fdb(br1)]]);
  const reg = new UnixctlRegistry();
  registerFdbCommands(reg, (n) => all.get(n) ?? null, () => all.values());
  const exec = async (cmd: string, ...args: string[]): Promise<string> => {
    const r = await reg.execute(cmd, args, null as never);
    return "result" in r ? r.result : `ERROR ${r.error}`;
  };
  return { reg, br0, br1, revalidated, exec };
}

describe("fdb commands", () => {
  test("fdb/show lists learned and static entries, least recently used first", async () => {
    const { br0, exec } = setup();
    runNormal(br0, makeFlow({ inPort: 1, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }));
    runNormal(br0, makeFlow({ inPort: 2, src: "50:54:00:00:00:02", dst: "ff:ff:ff:ff:ff:ff" }));
    br0.clock.now += 42_000;
    assert.equal(await exec("fdb/add", "br0", "br0", "65535", "50:54:00:00:00:ee"), "");
    assert.equal(
      await exec("fdb/show", "br0"),
      " port  VLAN  MAC                Age\n" +
        "    1     0  50:54:00:00:00:01   42\n" +
        "    2    10  50:54:00:00:00:02   42\n" +
        "LOCAL  65535  50:54:00:00:00:ee  static\n",
    );
    assert.equal(await exec("fdb/show", "nope"), "ERROR no such bridge\n");
    assert.equal(await exec("fdb/show"), 'ERROR "fdb/show" command requires at least 1 arguments\n');
  });

  test("fdb/stats-show and fdb/stats-clear", async () => {
    const { br0, br1, exec } = setup();
    runNormal(br0, makeFlow({ inPort: 1, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }));
    runNormal(br0, makeFlow({ inPort: 0xfffe, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }));
    runNormal(br0, makeFlow({ inPort: 2, src: "50:54:00:00:00:02", dst: "ff:ff:ff:ff:ff:ff" }));
    runNormal(br1, makeFlow({ inPort: 1, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }));
    await exec("fdb/add", "br0", "p1", "3", "50:54:00:00:00:09");
    assert.equal(
      await exec("fdb/stats-show", "br0"),
      'Statistics for bridge "br0":\n' +
        "  Current/maximum MAC entries in the table: 3/8192\n" +
        "  Current static MAC entries in the table : 1\n" +
        "  Total number of learned MAC entries     : 2\n" +
        "  Total number of expired MAC entries     : 0\n" +
        "  Total number of evicted MAC entries     : 0\n" +
        "  Total number of port moved MAC entries  : 1\n",
    );
    assert.equal(await exec("fdb/stats-clear", "br0"), "statistics successfully cleared\n");
    assert.equal(br0.macs.stats().learned, 0);
    assert.equal(br1.macs.stats().learned, 1);
    assert.equal(await exec("fdb/stats-clear"), "statistics successfully cleared\n");
    assert.equal(br1.macs.stats().learned, 0);
    assert.equal(await exec("fdb/stats-clear", "brx"), "ERROR no such bridge\n");
  });

  test("fdb/flush drops learned entries of one or every bridge and asks for revalidation", async () => {
    const { br0, br1, exec, revalidated } = setup();
    runNormal(br0, makeFlow({ inPort: 1, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }));
    runNormal(br1, makeFlow({ inPort: 1, src: "50:54:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }));
    await exec("fdb/add", "br0", "p2", "0", "50:54:00:00:00:aa");
    assert.equal(await exec("fdb/flush", "br0"), "table successfully flushed\n");
    assert.equal(br0.macs.count, 1, "the static entry stays");
    assert.equal(br1.macs.count, 1);
    assert.equal(await exec("fdb/flush"), "table successfully flushed\n");
    assert.equal(br1.macs.count, 0);
    assert.equal(await exec("fdb/flush", "brx"), "ERROR no such bridge\n");
    assert.deepEqual(revalidated, ["br0", "br0", "br0", "br1"]);
  });

  test("fdb/add and fdb/del: overriding, errors, quirks", async () => {
    const { br0, exec } = setup();
    runNormal(br0, makeFlow({ inPort: 2, src: "50:54:00:00:00:02", dst: "ff:ff:ff:ff:ff:ff" }));
    assert.equal(await exec("fdb/add", "br0", "p1", "10", "50:54:00:00:00:02"), "Overriding already existing dynamic entry on 2\n");
    assert.equal(await exec("fdb/add", "br0", "p1", "10", "50:54:00:00:00:02"), "");
    assert.equal(await exec("fdb/add", "br0", "p2", "10", "50:54:00:00:00:02"), "Overriding already existing static entry on 1\n");
    assert.equal(await exec("fdb/add", "br0", "nope", "0", "zz"), "ERROR bad MAC address\n");
    assert.equal(await exec("fdb/add", "br0", "nope", "0", "50:54:00:00:00:03"), "ERROR software error, odp port is present but no ofp port\n");
    assert.equal(await exec("fdb/add", "brx", "p1", "0", "zz"), "ERROR no such bridge\n");
    assert.equal(await exec("fdb/add", "br0", "p1", "0", "50:54:00:00:00:03", "x"), 'ERROR "fdb/add" command takes at most 4 arguments\n');
    assert.equal(await exec("fdb/del", "br0", "10", "50:54:00:00:00:02"), "");
    assert.equal(await exec("fdb/del", "br0", "10", "50:54:00:00:00:02"), "ERROR could not find static mac entry\n");
    assert.equal(await exec("fdb/del", "br0", "0", "bad"), "ERROR bad MAC address\n");
    assert.equal(await exec("fdb/del", "brx", "0", "bad"), "ERROR no such bridge\n");
    // A static entry steers NORMAL.
    await exec("fdb/add", "br0", "p1", "0", "50:54:00:00:00:77");
    const r = runNormal(br0, makeFlow({ inPort: 0xfffe, src: "50:54:00:00:00:01", dst: "50:54:00:00:00:77" }));
    assert.deepEqual(r.outputs.map((o) => o.bundle), ["p1"]);
  });

  test("argument parsing is OVS's", () => {
    assert.equal(atoiU16("10"), 10);
    assert.equal(atoiU16(" 7x"), 7);
    assert.equal(atoiU16("abc"), 0);
    assert.equal(atoiU16("-1"), 65535);
    assert.equal(atoiU16("4096"), 4096);
    assert.equal(atoiU16("65537"), 1);
    assert.deepEqual(parseEthAddr("50:54:0:0:0:ab"), Uint8Array.of(0x50, 0x54, 0, 0, 0, 0xab));
    assert.deepEqual(parseEthAddr(" 50:54:00:00:00:AC"), Uint8Array.of(0x50, 0x54, 0, 0, 0, 0xac));
    assert.equal(parseEthAddr("50:54:00:00:00:aa:bb"), null);
    assert.equal(parseEthAddr("50-54-00-00-00-ab"), null);
    assert.equal(parseEthAddr(""), null);
  });
});
