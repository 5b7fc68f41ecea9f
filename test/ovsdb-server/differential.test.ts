/**
 * Differential tests: the same JSON-RPC conversation with the real OVS 3.1
 * ovsdb-server and with `tsovs ovsdb-server`, comparing every reply and
 * notification (UUIDs masked, member order ignored): monitors of the three
 * versions with conditions and condition changes, `_Server`, "wait",
 * locks, and malformed requests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, type Daemon } from "../util/ovs.js";
import { RawClient, normalize, realAndTsovsServers, type Message } from "../util/ovsdb-server.js";

const skip = ovsSkip("ovsdb-server", "ovsdb-tool");
const servers = realAndTsovsServers(skip);

type Step = [client: string, method: string, params: unknown[]];

/**
 * Runs `steps` against a server, one at a time, each answered before the
 * next; then an echo on every client as a barrier so that every
 * notification caused by a step is in. Returns each client's messages.
 */
async function converse(d: Daemon, steps: Step[]): Promise<Record<string, Message[]>> {
  const clients = new Map<string, RawClient>();
  const get = async (name: string): Promise<RawClient> => {
    let c = clients.get(name);
    if (!c) {
      c = await RawClient.connect(d.remote);
      clients.set(name, c);
    }
    return c;
  };
  for (const [name, method, params] of steps) {
    const c = await get(name);
    await c.request(method, params);
    for (const other of clients.values()) if (!other.closed) await other.request("echo", ["barrier"]);
  }
  const out: Record<string, Message[]> = {};
  for (const [name, c] of clients) {
    out[name] = c.messages.filter((m) => !(Array.isArray(m["result"]) && (m["result"] as unknown[])[0] === "barrier"));
    c.close();
  }
  return out;
}

async function compare(steps: Step[]): Promise<void> {
  const [r, t] = await Promise.all([converse(servers.real(), steps), converse(servers.ts(), steps)]);
  for (const name of Object.keys(r)) {
    const rm = r[name]!.map(normalize);
    const tm = (t[name] ?? []).map(normalize);
    if (process.env["TSOVS_DIFF_DUMP"]) {
      fs.writeFileSync(`${process.env["TSOVS_DIFF_DUMP"]}.${name}.real`, rm.map((m) => JSON.stringify(m)).join("\n") + "\n");
      fs.writeFileSync(`${process.env["TSOVS_DIFF_DUMP"]}.${name}.ts`, tm.map((m) => JSON.stringify(m)).join("\n") + "\n");
    }
    assert.deepEqual(tm, rm, `client ${name} differs`);
  }
}

const DB = "Open_vSwitch";

test("monitor, monitor_cond, monitor_cond_since and monitor_cond_change updates match OVS", { skip }, async () => {
  await compare([
    ["W", "transact", [DB, { op: "insert", table: "Open_vSwitch", row: {}, "uuid-name": "o" }]],
    ["M1", "monitor", [DB, "m1", { Open_vSwitch: {}, Bridge: { columns: ["name", "ports", "external_ids", "fail_mode", "stp_enable"] } }]],
    ["M2", "monitor_cond", [DB, ["m", 2], { Bridge: [{ columns: ["name", "external_ids", "flood_vlans"], where: [["name", "==", "br0"]] }] }]],
    ["M3", "monitor_cond_since", [DB, "m3", { Bridge: [{}], Port: [{ columns: ["name", "tag"] }] }, "00000000-0000-0000-0000-000000000000"]],
    ["M4", "monitor_cond_since", ["_Server", ["monid", "_Server"], { Database: [{ columns: ["name", "model", "connected", "leader", "schema", "cid", "sid", "index"] }] }, "00000000-0000-0000-0000-000000000000"]],
    ["M5", "monitor", [DB, null, { Bridge: { columns: ["name"], select: { initial: false, insert: true, delete: false, modify: false } } }]],
    ["W", "transact", [DB,
      { op: "insert", table: "Port", row: { name: "br0", interfaces: ["named-uuid", "i0"] }, "uuid-name": "p0" },
      { op: "insert", table: "Interface", row: { name: "br0", type: "internal" }, "uuid-name": "i0" },
      { op: "insert", table: "Bridge", row: { name: "br0", ports: ["named-uuid", "p0"] }, "uuid-name": "b0" },
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", ["set", [["named-uuid", "b0"]]]]] }]],
    ["W", "transact", [DB, { op: "update", table: "Bridge", where: [["name", "==", "br0"]], row: { external_ids: ["map", [["a", "1"], ["b", "2"]]], fail_mode: "secure", flood_vlans: ["set", [1, 2, 3]] } }]],
    ["W", "transact", [DB, { op: "mutate", table: "Bridge", where: [["name", "==", "br0"]], mutations: [["external_ids", "delete", ["set", ["a"]]], ["external_ids", "insert", ["map", [["c", "3"]]]], ["flood_vlans", "delete", 2]] }]],
    ["W", "transact", [DB, { op: "update", table: "Bridge", where: [["name", "==", "br0"]], row: { external_ids: ["map", [["b", "22"], ["c", "3"]]], stp_enable: true } }]],
    ["W", "transact", [DB,
      { op: "insert", table: "Bridge", row: { name: "br1", external_ids: ["map", [["x", "y"]]] }, "uuid-name": "b1" },
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", ["set", [["named-uuid", "b1"]]]], ["next_cfg", "+=", 1]] }]],
    ["M2", "monitor_cond_change", [["m", 2], "m2b", { Bridge: [{ where: [["name", "==", "br1"]] }] }]],
    ["M2", "monitor_cond_change", ["m2b", "m2c", { Bridge: [{ columns: ["name"], where: [["name", "==", "br1"]] }] }]],
    ["W", "transact", [DB, { op: "update", table: "Port", where: [["name", "==", "br0"]], row: { tag: 10 } }]],
    ["W", "transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "delete", ["set", [["uuid", "00000000-0000-0000-0000-000000000000"]]]]] }]],
    ["W", "transact", [DB, { op: "update", table: "Open_vSwitch", where: [], row: { bridges: ["set", []] } }]],
    ["M1", "monitor_cancel", ["m1"]],
    ["M1", "monitor_cancel", ["m1"]],
    ["W", "transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] }]],
  ]);
});

test("lock, steal and unlock notifications match OVS", { skip }, async () => {
  await compare([
    ["A", "lock", ["L"]],
    ["B", "lock", ["L"]],
    ["C", "steal", ["L"]],
    ["A", "transact", [DB, { op: "assert", lock: "L" }]],
    ["C", "transact", [DB, { op: "assert", lock: "L" }]],
    ["C", "unlock", ["L"]],
    ["A", "unlock", ["L"]],
    ["B", "transact", [DB, { op: "assert", lock: "L" }]],
    ["B", "lock", ["L"]],
    ["B", "steal", ["L"]],
    ["A", "unlock", ["L"]],
    ["A", "lock", [1]],
    ["A", "lock", []],
    ["A", "lock", ["bad name"]],
    ["A", "unlock", ["M"]],
    ["A", "steal", ["M"]],
  ]);
});

test("errors for malformed and unknown requests match OVS", { skip }, async () => {
  await compare([
    ["A", "nosuch", []],
    ["A", "get_schema", ["nope"]],
    ["A", "get_schema", []],
    ["A", "transact", []],
    ["A", "transact", [5]],
    ["A", "transact", ["nope"]],
    ["A", "transact", [DB, { op: "select", table: "Nope", where: [] }]],
    ["A", "transact", ["_Server", { op: "insert", table: "Database", row: { name: "x", model: "standalone" } }]],
    ["A", "transact", ["_Server", { op: "select", table: "Database", where: [["name", "==", "_Server"]], columns: ["name", "model", "connected", "leader", "cid", "sid", "index"] }]],
    ["A", "monitor", [DB, "x", { Nope: {} }]],
    ["A", "monitor", [DB, "x", { Bridge: { columns: ["nope"] } }]],
    ["A", "monitor", [DB, "x", { Bridge: { select: { initial: 1 } } }]],
    ["A", "monitor", [DB, "x", { Bridge: { foo: 1 } }]],
    ["A", "monitor", [DB, "x", { Bridge: [{ where: [] }] }]],
    ["A", "monitor", [DB, "x", []]],
    ["A", "monitor", [DB, "x", { Bridge: { columns: ["name", "name"] } }]],
    ["A", "monitor", [DB, "y", { Bridge: [{ columns: ["name"] }, { columns: ["name"] }] }]],
    ["A", "monitor", [5, "x", {}]],
    ["A", "monitor", ["nope", "x", {}]],
    ["A", "monitor", [DB, "z", {}]],
    ["A", "monitor", [DB, "z", {}]],
    ["A", "monitor_cond", [DB, "c", { Bridge: [{ where: [["name", "==", 1]] }] }]],
    ["A", "monitor_cond_since", [DB, "w", {}]],
    ["A", "monitor_cond_since", [DB, "w2", {}, "bad"]],
    ["A", "monitor_cond_change", ["nosuch", "x2", {}]],
    ["A", "monitor_cancel", []],
    ["A", "monitor_cancel", ["nosuch"]],
    ["A", "set_db_change_aware", [true]],
    ["A", "echo", [1, "two", { three: 3 }]],
    ["A", "list_dbs", []],
    ["A", "transact", [DB, { op: "wait", table: "Open_vSwitch", where: [], columns: ["next_cfg"], until: "==", rows: [{ next_cfg: 99 }], timeout: 0 }]],
  ]);
});
