/**
 * The long-lived IDL against tsovs's ovsdb-server and OVS's own: it loads
 * the database, follows changes made by ovs-vsctl (reporting them as
 * inserted / modified / deleted), writes back, verifies and increments,
 * holds a lock, and after losing its connection asks only for what it
 * missed — or, when the server restarted, reloads without reporting
 * changes that did not happen.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Idl, type TableChanges } from "../../src/ovsdb/idl.js";
import { singleton, type Datum } from "../../src/ovsdb/datum.js";
import { ovsSkip, run, startRealOvsdb, startTsovsOvsdb, tempDir, type Daemon } from "../util/ovs.js";

const skip = ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl");

function vsctl(d: Daemon, ...args: string[]): string {
  const r = run("ovs-vsctl", [`--db=${d.remote}`, "--no-wait", "--timeout=10", ...args], d.dir);
  if (r.status !== 0) throw new Error(`ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function until(idl: Idl, cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Promise.race([idl.nextChange(), new Promise((r) => setTimeout(r, 50))]);
  }
}

function names(c: Map<string, TableChanges>, table: string, idl: Idl): { inserted: string[]; modified: string[]; deleted: string[] } {
  const t = c.get(table);
  const nameOf = (u: string): string => String(idl.row(table, u)?.scalar("name") ?? t?.deleted.get(u)?.scalar("name"));
  return {
    inserted: [...(t?.inserted ?? [])].map(nameOf).sort(),
    modified: [...(t?.modified.keys() ?? [])].map((u) => `${nameOf(u)}:${[...t!.modified.get(u)!].sort().join("+")}`).sort(),
    deleted: [...(t?.deleted.keys() ?? [])].map(nameOf).sort(),
  };
}

const str = (s: string): Datum => singleton(s);

for (const kind of ["tsovs", "ovs"] as const) {
  describe(`IDL against ${kind === "ovs" ? "OVS's" : "tsovs's"} ovsdb-server`, { skip }, () => {
    const start = (dir?: string): Promise<Daemon> => (kind === "ovs" ? startRealOvsdb(dir) : startTsovsOvsdb(dir));

    test("follows changes, writes back, holds its lock, and catches up after a dropped connection", { timeout: 60_000 }, async () => {
      const dir = tempDir("tsovs-idl-");
      let d = await start(dir);
      const idl = new Idl({ remote: d.remote, database: "Open_vSwitch", lock: "ovs_vswitchd", backoffMinMs: 100, backoffMaxMs: 400 });
      const other = new Idl({ remote: d.remote, database: "Open_vSwitch", lock: "ovs_vswitchd", backoffMinMs: 100, backoffMaxMs: 400 });
      try {
        vsctl(d, "init");
        idl.start();
        await until(idl, () => idl.isConnected && idl.hasLock && [...idl.rows("Open_vSwitch")].length === 1, "initial contents and the lock");
        idl.takeChanges();

        vsctl(d, "add-br", "br0", "--", "add-port", "br0", "p1");
        await until(idl, () => [...idl.rows("Port")].length === 2, "the new ports");
        let c = idl.takeChanges();
        assert.deepEqual(names(c, "Bridge", idl).inserted, ["br0"]);
        assert.deepEqual(names(c, "Port", idl).inserted, ["br0", "p1"]);
        assert.deepEqual(names(c, "Interface", idl).inserted, ["br0", "p1"]);

        // Write back as vswitchd does: Interface.ofport, and next_cfg/cur_cfg.
        const p1 = [...idl.rows("Interface")].find((r) => r.scalar("name") === "p1")!;
        const ovs = [...idl.rows("Open_vSwitch")][0]!;
        let txn = idl.transaction();
        txn.set(p1, "ofport", singleton(7));
        txn.verify(ovs, "next_cfg");
        txn.increment(ovs, "next_cfg");
        const r = await txn.commit();
        assert.equal(r.status, "success");
        assert.equal(r.increment, 1);
        assert.equal(vsctl(d, "get", "Interface", "p1", "ofport").trim(), "7");
        await until(idl, () => idl.row("Interface", p1.uuid)!.scalar("ofport") === 7, "our own write to come back");
        c = idl.takeChanges();
        assert.deepEqual(names(c, "Interface", idl).modified, ["p1:ofport"]);

        // Inserting rows that refer to each other.
        txn = idl.transaction();
        const br0 = [...idl.rows("Bridge")][0]!;
        const iface = txn.insert("Interface", { name: str("p2") });
        const port = txn.insert("Port", { name: str("p2"), interfaces: singleton(iface) });
        txn.mutate(br0, "ports", "insert", singleton(port));
        const r2 = await txn.commit();
        assert.equal(r2.status, "success");
        assert.equal(r2.inserted.size, 2);
        assert.match(vsctl(d, "list-ports", "br0"), /^p1\np2\n$/);

        // A stale verify fails with try-again; the second IDL has no lock.
        await until(idl, () => [...idl.rows("Port")].length === 3, "p2 to arrive");
        txn = idl.transaction();
        txn.verify(idl.row("Bridge", br0.uuid)!, "ports");
        vsctl(d, "del-port", "p2");
        assert.equal((await txn.commit()).status, "try-again");
        other.start();
        await until(other, () => other.isConnected, "the second IDL");
        assert.equal(other.hasLock, false);
        const o = other.transaction();
        o.set([...other.rows("Bridge")][0]!, "external_ids", { keys: ["a"], values: ["b"] });
        assert.equal((await o.commit()).status, "not-locked");
        await other.close();

        // Drop the connection; what changes meanwhile is all that comes back
        // (OVS's standalone server keeps no history, so its answer is a
        // reload, which the IDL turns into the same changes).
        await until(idl, () => [...idl.rows("Port")].length === 2, "p2 deleted");
        idl.takeChanges();
        (idl as unknown as { conn: { socket: { destroy(): void } } }).conn.socket.destroy();
        vsctl(d, "set", "Bridge", "br0", "external_ids:k=v");
        await until(idl, () => idl.isConnected && idl.row("Bridge", br0.uuid)!.stringMap("external_ids").get("k") === "v", "reconnection");
        c = idl.takeChanges();
        assert.deepEqual(names(c, "Bridge", idl).modified, ["br0:external_ids"]);
        assert.deepEqual([...c.keys()], ["Bridge"], "nothing else reported");

        // A restarted server has no history: the IDL reloads, reporting only real differences.
        await d.stop();
        for (const f of fs.readdirSync(dir)) if (f.endsWith(".pid")) fs.rmSync(`${dir}/${f}`, { force: true });
        d = await start(dir);
        await until(idl, () => idl.isConnected && idl.hasLock, "reconnection after restart");
        assert.equal(idl.takeChanges().size, 0);
        vsctl(d, "del-br", "br0");
        await until(idl, () => [...idl.rows("Bridge")].length === 0, "the bridge to go");
        c = idl.takeChanges();
        assert.deepEqual(names(c, "Interface", idl).deleted, ["br0", "p1"]);
      } finally {
        await idl.close();
        await other.close();
        await d.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
