/**
 * The IDL (src/ovsdb/idl.ts) against a scripted server that sends the
 * monitor reply and the next update in one write, as a busy ovsdb-server
 * does when a client commits right after the vswitchd subscribed: the
 * update must survive the reply's reload (it once did not, and a bridge
 * added by ovs-vsctl at that moment was never created). Also a lock
 * granted by a notification parsed with the lock reply stays granted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { JsonFramer } from "../../src/jsonrpc/index.js";
import { Idl } from "../../src/ovsdb/idl.js";
import { tempDir } from "../util/ovs.js";

const SCHEMA = { name: "T", version: "1.0.0", tables: { A: { columns: { n: { type: "integer" } } } } };
const U1 = "11111111-1111-1111-1111-111111111111";
const U2 = "22222222-2222-2222-2222-222222222222";

test("an update sent together with the monitor reply is not lost; a lock granted with the reply stays", async () => {
  const dir = tempDir("idl-race-");
  const sock = path.join(dir, "db.sock");
  const server = net.createServer((c) => {
    const framer = new JsonFramer();
    c.on("data", (d: Buffer) => {
      for (const r of framer.push(d)) {
        if (!r.ok) continue;
        const m = r.value as { id: unknown; method: string; params: unknown[] };
        if (m.method === "get_schema") c.write(JSON.stringify({ id: m.id, result: SCHEMA, error: null }));
        else if (m.method === "monitor_cond_since") {
          const reply = JSON.stringify({ id: m.id, result: [false, "t1", { A: { [U1]: { initial: { n: 1 } } } }], error: null });
          const update = JSON.stringify({ id: null, method: "update3", params: [m.params[1], "t2", { A: { [U2]: { insert: { n: 2 } } } }] });
          c.write(reply + update);
        } else if (m.method === "lock") {
          const reply = JSON.stringify({ id: m.id, result: { locked: false }, error: null });
          const granted = JSON.stringify({ id: null, method: "locked", params: [m.params[0]] });
          c.write(reply + granted);
        } else if (m.method === "echo") c.write(JSON.stringify({ id: m.id, result: m.params, error: null }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const idl = new Idl({ remote: `unix:${sock}`, database: "T", lock: "L" });
  try {
    const connected = new Promise<void>((r) => idl.once("connected", () => r()));
    idl.start();
    await connected;
    assert.deepEqual([...idl.rows("A")].map((row) => row.scalar("n")).sort(), [1, 2]);
    assert.equal(idl.hasLock, true);
  } finally {
    await idl.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
