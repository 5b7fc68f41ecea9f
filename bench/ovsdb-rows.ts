/**
 * Memory and speed of the OVSDB engine at scale: inserts N ports with one
 * interface each (2N rows) into an Open_vSwitch database in batches, then
 * runs small transactions. When the real ovsdb-server is installed, the
 * same rows go into it and its RSS growth is reported for comparison.
 *
 * Usage: npm run bench -- ovsdb-rows [N=100000]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { Database, DatabaseSchema } from "../src/ovsdb/index.js";
import { openJsonRpc } from "../src/jsonrpc/index.js";

const N = Number(process.argv[2] ?? 100_000);
const BATCH = 1000;
const here = path.dirname(new URL(import.meta.url).pathname);
const schemaFile = path.resolve(here, "..", "..", "schemas", "vswitch.ovsschema");
const schemaJson = JSON.parse(fs.readFileSync(schemaFile, "utf8"));

function batchOps(start: number, first: boolean): unknown[] {
  const ops: unknown[] = [];
  if (first) {
    ops.push({ op: "insert", table: "Open_vSwitch", row: { bridges: ["named-uuid", "br"] } });
    ops.push({ op: "insert", table: "Bridge", "uuid-name": "br", row: { name: "br0" } });
  }
  const ports: unknown[] = [];
  for (let i = start; i < start + BATCH && i < N; i++) {
    ops.push({ op: "insert", table: "Interface", "uuid-name": `i${i}`, row: { name: `p${i}`, type: "internal", ofport_request: (i % 65000) + 1, external_ids: ["map", [["id", `vm-${i}`]]] } });
    ops.push({ op: "insert", table: "Port", "uuid-name": `p${i}`, row: { name: `p${i}`, interfaces: ["named-uuid", `i${i}`], tag: i % 4095 } });
    ports.push(["named-uuid", `p${i}`]);
  }
  ops.push({ op: "mutate", table: "Bridge", where: [["name", "==", "br0"]], mutations: [["ports", "insert", ["set", ports]]] });
  return ops;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

gc();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage().rss;
const db = new Database(DatabaseSchema.fromJSON(schemaJson));
const t0 = performance.now();
for (let s = 0; s < N; s += BATCH) {
  const out = db.transact(batchOps(s, s === 0));
  const bad = out.results.find((r) => r === null || (r as { error?: string }).error !== undefined);
  if (bad !== undefined) throw new Error(JSON.stringify(bad));
}
const insertMs = performance.now() - t0;
gc();
const heap1 = process.memoryUsage().heapUsed;
const rss1 = process.memoryUsage().rss;
const rows = db.tables.get("Port")!.rows.size + db.tables.get("Interface")!.rows.size;

// Small transactions against the big database.
const t1 = performance.now();
const M = 2000;
for (let i = 0; i < M; i++) {
  const name = `p${(i * 7919) % N}`;
  const r = db.transact([{ op: "update", table: "Interface", where: [["name", "==", name]], row: { external_ids: ["map", [["id", `x${i}`]]] } }]);
  if ((r.results[0] as { count: number }).count !== 1) throw new Error("update missed");
}
const smallTxnUs = ((performance.now() - t1) * 1000) / M;
const t2 = performance.now();
const someUuid = [...db.tables.get("Interface")!.rows.keys()][N >> 1]!;
for (let i = 0; i < M; i++) db.transact([{ op: "select", table: "Interface", where: [["_uuid", "==", ["uuid", someUuid]]], columns: ["name"] }]);
const uuidSelectUs = ((performance.now() - t2) * 1000) / M;

const result: Record<string, unknown> = {
  rows,
  insert_rows_per_s: Math.round(rows / (insertMs / 1000)),
  heap_bytes_per_row: Math.round((heap1 - heap0) / rows),
  rss_bytes_per_row: Math.round((rss1 - rss0) / rows),
  small_update_txn_us: Math.round(smallTxnUs),
  uuid_select_txn_us: Math.round(uuidSelectUs),
};

// The same rows in the real ovsdb-server, for comparison.
async function realOvs(): Promise<number | null> {
  const which = spawnSync("sh", ["-c", "command -v ovsdb-server"], { encoding: "utf8" });
  if (which.status !== 0) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-ovsdb-"));
  const dbf = path.join(dir, "conf.db");
  const sock = path.join(dir, "db.sock");
  spawnSync("ovsdb-tool", ["create", dbf, schemaFile]);
  const r = spawnSync("ovsdb-server", ["--detach", "--no-chdir", `--pidfile=${dir}/pid`, `--log-file=${dir}/log`, `--unixctl=${dir}/ctl`, `--remote=punix:${sock}`, dbf]);
  if (r.status !== 0) return null;
  const pid = Number(fs.readFileSync(`${dir}/pid`, "utf8"));
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
  try {
    const conn = await openJsonRpc(`unix:${sock}`);
    const before = rss();
    for (let s = 0; s < N; s += BATCH) await conn.request("transact", ["Open_vSwitch", ...batchOps(s, s === 0)]);
    const after = rss();
    conn.close();
    return Math.round((after - before) / rows);
  } finally {
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ovs = await realOvs().catch(() => null);
if (ovs !== null) result["ovs_rss_bytes_per_row"] = ovs;
console.log(JSON.stringify(result));
