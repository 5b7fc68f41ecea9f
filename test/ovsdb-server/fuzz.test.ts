/**
 * Server-level fuzz test: `tsovs ovsdb-server` fed ~100,000 mutated
 * JSON-RPC requests over its socket (every method, with wrong types,
 * missing and unknown members, unknown methods/tables/columns, constraint
 * violations), pipelined in batches, plus garbage bytes and truncated JSON
 * on their own connections (bad JSON closes a connection). Checks that the
 * server never dies, that every well-formed request gets exactly one
 * RFC 7047-shaped reply, that transactions which fail commit nothing (in
 * "sealed" batches every transaction ends with an "abort" op, so the
 * database dump must not change), and that another client's transactions
 * keep succeeding throughout.
 *
 * TSOVS_FUZZ_N sets the number of requests (default 100,000); the seed is
 * printed so a failure can be replayed with TSOVS_FUZZ_SEED.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { JsonFramer } from "../../src/jsonrpc/index.js";
import { startTsovsOvsdb, OVS_SCHEMA } from "../util/ovs.js";

const DB = "Open_vSwitch";
const N = Number(process.env["TSOVS_FUZZ_N"] ?? 100_000);
const SEED = Number(process.env["TSOVS_FUZZ_SEED"] ?? Date.now() % 1_000_000);
const BATCH = 1000;

/** xorshift32: a small deterministic PRNG so runs can be replayed. */
let state = SEED | 1;
function rnd(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;

interface Msg {
  id?: unknown;
  result?: unknown;
  error?: unknown;
  method?: unknown;
  params?: unknown;
}

/** A pipelining client: replies are matched to requests by id. */
class Client {
  private framer = new JsonFramer();
  private waiting = new Map<number, (m: Msg) => void>();
  private nextId = 1;
  closed = false;
  badFrames = 0;
  /** Replies to no request of ours (expected only on the bad-input connections). */
  unexpected = 0;
  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      for (const r of this.framer.push(d)) {
        if (!r.ok) {
          this.badFrames++;
          continue;
        }
        const m = r.value as Msg;
        if (m.method === "echo" && m.id !== null && m.id !== undefined) {
          sock.write(JSON.stringify({ id: m.id, result: m.params, error: null }));
          continue;
        }
        if (typeof m.id !== "number") continue; // notifications (monitor updates, locked, ...)
        const w = this.waiting.get(m.id);
        if (w === undefined) {
          this.unexpected++;
          continue;
        }
        this.waiting.delete(m.id);
        w(m);
      }
    });
    const onClose = (): void => {
      this.closed = true;
      for (const w of this.waiting.values()) w({ error: "connection closed" });
      this.waiting.clear();
    };
    sock.on("close", onClose);
    sock.on("error", onClose);
  }
  static connect(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ path });
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new Client(s));
      });
    });
  }
  /** Sends a request and resolves with its reply (or a closed-connection marker). */
  request(method: unknown, params: unknown): { id: number; reply: Promise<Msg> } {
    const id = this.nextId++;
    const reply = new Promise<Msg>((resolve) => this.waiting.set(id, resolve));
    this.sock.write(JSON.stringify({ id, method, params }));
    return { id, reply };
  }
  async ok(method: string, params: unknown): Promise<unknown> {
    const m = await this.request(method, params).reply;
    if (m.error !== null) throw new Error(`${method} failed: ${JSON.stringify(m.error)}`);
    return m.result;
  }
  close(): void {
    this.sock.destroy();
  }
}

const schema = JSON.parse(fs.readFileSync(OVS_SCHEMA, "utf8")) as {
  tables: Record<string, { columns: Record<string, { type: unknown }> }>;
};
const TABLES = Object.keys(schema.tables);
const columnsOf = (t: string): string[] => Object.keys(schema.tables[t]?.columns ?? {});

/** A random JSON value of any shape (for type mutations). */
function randomValue(depth = 0): unknown {
  switch (int(depth > 2 ? 7 : 10)) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return pick([0, -1, 1, 4095, 4096, 65536, 2 ** 53, -(2 ** 63), 1.5, 1e308]);
    case 3:
      return pick(["", "x", "br0", "named", "uuid", "map", "set", "\u00e9\ud83d\ude00", "a".repeat(300)]);
    case 4:
      return ["uuid", pick(["not-a-uuid", "00000000-0000-0000-0000-000000000000", "550e8400-e29b-41d4-a716-446655440000"])];
    case 5:
      return ["named-uuid", pick(["r1", "r2", "nope", "1bad"])];
    case 6:
      return ["set", [1, "a"]];
    case 7:
      return ["map", [[randomValue(depth + 1), randomValue(depth + 1)]]];
    case 8:
      return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(3); i > 0; i--) o[pick(["op", "table", "where", "row", "columns", "x"])] = randomValue(depth + 1);
      return o;
    }
  }
}

/** A plausible value for a column (sometimes violating its constraints). */
function columnValue(table: string, col: string): unknown {
  switch (col) {
    case "name":
      return `n${int(50)}`;
    case "external_ids":
    case "other_config":
    case "options":
      return ["map", [[`k${int(5)}`, `v${int(5)}`]]];
    case "tag":
      return pick([int(4096), 4096, -1]);
    case "dscp":
      return pick([int(64), 64, -3]);
    case "trunks":
      return ["set", [int(4096), int(5000)]];
    case "ofport_request":
      return pick([int(65280), 0, 70000]);
    case "interfaces":
    case "ports":
    case "bridges":
      return ["set", [["named-uuid", "r1"]]];
    case "type":
      return pick(["", "internal", "linux-htb", "bogus"]);
    case "next_cfg":
      return int(100);
    default:
      return randomValue(1);
  }
}

function randomRow(table: string): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  const cols = columnsOf(table);
  for (let i = int(3); i > 0 && cols.length > 0; i--) {
    const col = pick(cols);
    row[col] = columnValue(table, col);
  }
  return row;
}

function randomWhere(table: string): unknown[] {
  const w: unknown[] = [];
  for (let i = int(3); i > 0; i--) {
    const col = pick([...columnsOf(table), "_uuid"]);
    w.push([col, pick(["==", "!=", "<", "includes", "excludes"]), col === "_uuid" ? ["uuid", "550e8400-e29b-41d4-a716-446655440000"] : columnValue(table, col)]);
  }
  return w;
}

/** A valid-looking operation on a random table. */
function randomOp(): Record<string, unknown> {
  const table = pick(TABLES);
  switch (int(11)) {
    case 0:
    case 1:
      return { op: "insert", table, row: randomRow(table), ...(rnd() < 0.5 ? { "uuid-name": pick(["r1", "r2"]) } : {}) };
    case 2:
      return { op: "select", table, where: randomWhere(table), ...(rnd() < 0.5 ? { columns: [pick(columnsOf(table))] } : {}) };
    case 3:
      return { op: "update", table, where: randomWhere(table), row: randomRow(table) };
    case 4: {
      const col = pick(columnsOf(table));
      return { op: "mutate", table, where: randomWhere(table), mutations: [[col, pick(["+=", "-=", "*=", "/=", "%=", "insert", "delete"]), columnValue(table, col)]] };
    }
    case 5:
      return { op: "delete", table, where: randomWhere(table) };
    case 6:
      return { op: "wait", table, where: randomWhere(table), columns: [pick(columnsOf(table))], until: pick(["==", "!="]), rows: [], timeout: 0 };
    case 7:
      return { op: "commit", durable: rnd() < 0.5 };
    case 8:
      return { op: "comment", comment: "fuzz" };
    case 9:
      return { op: "assert", lock: pick(["l1", "l2"]) };
    default:
      return { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] };
  }
}

/** Replaces, deletes or adds one member somewhere inside `v` (in place; returns the new root). */
function mutate(v: unknown): unknown {
  if (rnd() < 0.25 || v === null || typeof v !== "object") {
    return pick([() => randomValue(), () => "bogus", () => ({}), () => [], () => 42])();
  }
  if (Array.isArray(v)) {
    if (v.length === 0 || rnd() < 0.15) {
      v.push(randomValue());
      return v;
    }
    const i = int(v.length);
    if (rnd() < 0.2) v.splice(i, 1);
    else v[i] = mutate(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  const r = rnd();
  if (keys.length === 0 || r < 0.15) o[pick(["bogus", "table", "op", "where", "row", "columns", "timeout"])] = randomValue();
  else if (r < 0.35) delete o[pick(keys)];
  else if (r < 0.45 && "table" in o) o["table"] = pick(["NoSuchTable", "bridge", ""]);
  else {
    const k = pick(keys);
    o[k] = mutate(o[k]);
  }
  return o;
}

/** Turns any wait op into a non-blocking one: a blocking wait is legal but would hold its reply. */
function noBlockingWaits(ops: unknown[]): void {
  for (const op of ops) {
    if (op !== null && typeof op === "object" && !Array.isArray(op) && (op as Record<string, unknown>)["op"] === "wait") {
      const o = op as Record<string, unknown>;
      if (!("timeout" in o) || typeof o["timeout"] === "number") o["timeout"] = 0;
    }
  }
}

let monitorSeq = 0;
/** A request (method, params), possibly mutated; `sealed` transactions end with an abort. */
function randomRequest(sealed: boolean): { method: unknown; params: unknown; transact: boolean } {
  const kind = int(20);
  let method: unknown;
  let params: unknown;
  if (kind < 11) {
    method = "transact";
    const ops: unknown[] = Array.from({ length: 1 + int(4) }, randomOp);
    params = [rnd() < 0.95 ? DB : pick(["_Server", "NoSuchDb", 5]), ...ops];
  } else {
    const table = pick(TABLES);
    const mon = { [table]: rnd() < 0.5 ? { columns: [pick(columnsOf(table))] } : [{ where: randomWhere(table) }] };
    const choices: [string, unknown][] = [
      ["echo", [int(100)]],
      ["list_dbs", []],
      ["get_schema", [pick([DB, "_Server", "nope"])]],
      ["get_server_id", []],
      ["lock", [pick(["l1", "l2"])]],
      ["steal", [pick(["l1", "l2"])]],
      ["unlock", [pick(["l1", "l2"])]],
      ["monitor", [DB, `m${monitorSeq++ % 20}`, { [table]: { columns: [pick(columnsOf(table))] } }]],
      ["monitor_cond", [DB, `m${monitorSeq++ % 20}`, mon]],
      ["monitor_cond_since", [DB, `m${monitorSeq++ % 20}`, mon, null]],
      ["monitor_cond_change", [`m${int(20)}`, `m${int(20)}`, mon]],
      ["monitor_cancel", [`m${int(20)}`]],
      ["set_db_change_aware", [rnd() < 0.5]],
      [pick(["no_such_method", "Transact", "", "update"]), []],
    ];
    [method, params] = pick(choices);
    // Monitors stay cancelled so notifications do not pile up.
    if (typeof method === "string" && method.startsWith("monitor") && method !== "monitor_cancel" && rnd() < 0.5) method = "monitor_cancel";
  }
  const nMut = pick([0, 1, 1, 2, 3]);
  // A non-string method or non-array params is not a JSON-RPC request at
  // all (the connection is dropped, as OVS does): those go to badInputs.
  for (let i = 0; i < nMut; i++) {
    const p = mutate(params);
    if (Array.isArray(p)) params = p;
  }
  const transact = method === "transact";
  if (transact && Array.isArray(params)) {
    noBlockingWaits(params.slice(1));
    if (sealed) params.push({ op: "abort" });
  }
  return { method, params, transact };
}

/** Every table's rows (all columns), for before/after comparisons. */
async function dump(c: Client): Promise<string> {
  const ops = TABLES.map((t) => ({ op: "select", table: t, where: [] }));
  const r = (await c.ok("transact", [DB, ...ops])) as { rows: Record<string, unknown>[] }[];
  const out: Record<string, unknown[]> = {};
  TABLES.forEach((t, i) => {
    const rows = r[i]!.rows.map((row) => {
      const x = { ...row };
      // The other client keeps bumping next_cfg: that row's version and counter move.
      if (t === "Open_vSwitch") {
        delete x["_version"];
        delete x["next_cfg"];
      }
      return JSON.stringify(Object.keys(x).sort().map((k) => [k, x[k]]));
    });
    out[t] = rows.sort();
  });
  return JSON.stringify(out);
}

function checkReplyShape(m: Msg, id: number, what: string): void {
  assert.equal(m.id, id, what);
  // RFC 7047 §4.1.1 as OVS sends it: a success carries "result" and
  // "error": null; an error carries a non-null "error" (OVS leaves out "result").
  assert.ok("error" in m, `${what}: reply lacks "error": ${JSON.stringify(m).slice(0, 300)}`);
  if (m.error === null) assert.ok("result" in m, `${what}: success reply lacks "result"`);
  else assert.ok(m.result === undefined || m.result === null, `${what}: both result and error set`);
}

test(`ovsdb-server survives ${N} fuzzed JSON-RPC requests (seed ${SEED})`, { timeout: 180_000 }, async () => {
  console.log(`fuzz seed ${SEED} (replay with TSOVS_FUZZ_SEED=${SEED})`);
  const d = await startTsovsOvsdb();
  const sockPath = d.remote.slice("unix:".length);
  const clients: Client[] = [];
  let otherRunning = true;
  try {
    const fuzz = await Client.connect(sockPath);
    const admin = await Client.connect(sockPath);
    const other = await Client.connect(sockPath);
    clients.push(fuzz, admin, other);
    await admin.ok("transact", [
      DB,
      { op: "insert", table: "Open_vSwitch", row: { bridges: ["set", [["named-uuid", "b"]]] } },
      { op: "insert", table: "Bridge", "uuid-name": "b", row: { name: "br0", ports: ["set", [["named-uuid", "p"]]] } },
      { op: "insert", table: "Port", "uuid-name": "p", row: { name: "p0", interfaces: ["set", [["named-uuid", "i"]]] } },
      { op: "insert", table: "Interface", "uuid-name": "i", row: { name: "p0" } },
    ]);

    // Another client transacting all along: each of its transactions must succeed.
    let otherDone = 0;
    let otherError: unknown = null;
    const otherLoop = (async () => {
      while (otherRunning) {
        const r = (await other.ok("transact", [DB, { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] }])) as unknown[];
        assert.ok(!JSON.stringify(r).includes('"error"'), `other client's transaction failed: ${JSON.stringify(r)}`);
        otherDone++;
      }
    })().catch((e: unknown) => {
      otherError = e;
    });

    let sent = 0;
    let failedTxns = 0;
    let sealedBatches = 0;
    for (let b = 0; sent < N; b++) {
      const sealed = b % 2 === 1;
      if (sealed) {
        // Keep root tables from growing without bound (may fail on references: fine).
        await admin.request("transact", [DB, { op: "delete", table: "Queue", where: [] }, { op: "delete", table: "QoS", where: [] }]).reply;
      }
      const before = sealed ? await dump(admin) : "";
      const pending: { id: number; reply: Promise<Msg>; transact: boolean; text: string }[] = [];
      for (let i = 0; i < BATCH && sent < N; i++, sent++) {
        const q = randomRequest(sealed);
        const { id, reply } = fuzz.request(q.method, q.params);
        pending.push({ id, reply, transact: q.transact, text: JSON.stringify(q).slice(0, 300) });
      }
      for (const p of pending) {
        const m = await p.reply;
        assert.ok(!fuzz.closed, `server closed the fuzz connection (after ${p.text})`);
        checkReplyShape(m, p.id, p.text);
        if (p.transact && m.error === null) {
          assert.ok(Array.isArray(m.result), `transact result is not an array: ${p.text}`);
          if ((m.result as unknown[]).some((x) => x !== null && typeof x === "object" && "error" in (x as object))) failedTxns++;
        } else if (p.transact) failedTxns++;
      }
      if (sealed) {
        assert.equal(await dump(admin), before, `a failing transaction in sealed batch ${b} changed the database`);
        sealedBatches++;
      }
    }
    otherRunning = false;
    await otherLoop;
    assert.equal(otherError, null, `other client: ${String(otherError)}`);
    assert.ok(otherDone > 0, "the other client completed no transaction");
    assert.ok(failedTxns > N / 10, `too few failing transactions (${failedTxns}) for the fuzz to mean much`);
    assert.ok(sealedBatches > 0);
    assert.equal(fuzz.unexpected + fuzz.badFrames, 0, "the fuzz connection got a reply to no request or a bad frame");

    // Garbage, truncated JSON and malformed JSON-RPC messages, each on its own connection.
    const badInputs: (string | Buffer)[] = [
      Buffer.from(Array.from({ length: 64 }, () => int(256))),
      '{"id":1,"method":"transact","params":["Open_vSwitch",{"op":"sel',
      '{"id":1,"method":"echo","params":[]}}',
      '[1,2,3]',
      '{"id":1}',
      '{"method":"echo"}',
      '{"id":1,"method":5,"params":[]}',
      '{"id":1,"method":"echo","params":{}}',
      '{"result":1,"error":null,"id":999}',
      "\u0000\u0001\u0002",
      '"just a string"',
      "{".repeat(100) + "}".repeat(100),
      '{"id":1,"method":"echo","params":[],"x":1}',
      '{"id":1,"method":true,"params":[]}',
      '{"id":1,"method":"transact","params":"Open_vSwitch"}',
      "nul",
    ];
    for (let i = 0; i < 200; i++) {
      const c = await Client.connect(sockPath);
      clients.push(c);
      const input = i < badInputs.length ? badInputs[i]! : pick(badInputs);
      const cut = typeof input === "string" && i >= badInputs.length ? input.slice(0, int(input.length + 1)) : input;
      c.sock.write(cut);
      if (i % 2 === 0) c.sock.end();
      else setTimeout(() => c.close(), 20);
    }
    // The server is alive and the data still there.
    const check = await Client.connect(sockPath);
    clients.push(check);
    assert.deepEqual(await check.ok("echo", ["alive"]), ["alive"]);
    const r = (await check.ok("transact", [DB, { op: "select", table: "Bridge", where: [], columns: ["name"] }])) as { rows: unknown[] }[];
    assert.ok(Array.isArray(r[0]!.rows));
    console.log(`fuzz: ${sent} requests, ${failedTxns} failing transactions, ${sealedBatches} sealed batches, other client ${otherDone} txns`);
  } finally {
    otherRunning = false;
    for (const c of clients) c.close();
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});
