/**
 * Helpers for ovs-vsctl differential tests: run a command line with the real
 * ovs-vsctl and with `tsovs vsctl`, each against its own database, and make
 * their outputs comparable despite different random uuids and timestamps.
 *
 * Uuids are replaced by a label naming the row they identify (`<Port:p1>`),
 * found by dumping that database; rows without a name get `<Table>`, uuids
 * of no current row `<uuid>`.
 */
import { spawnSync } from "node:child_process";
import { TSOVS_BIN } from "./ovs.js";
import { vsctlMain } from "../../src/vsctl/index.js";

export interface VsctlResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function spawn(cmd: string, args: string[], dir: string): VsctlResult {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const r = spawnSync(cmd, args, { env, encoding: "utf8", timeout: 30_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function realVsctl(remote: string, dir: string, args: string[]): VsctlResult {
  return spawn("ovs-vsctl", [`--db=${remote}`, ...args], dir);
}

export function tsovsVsctl(remote: string, dir: string, args: string[]): VsctlResult {
  return spawn(process.execPath, [TSOVS_BIN, "vsctl", `--db=${remote}`, ...args], dir);
}

/** Runs `tsovs vsctl` in this process (much faster than spawning node). */
export async function tsovsVsctlInProcess(remote: string, args: string[]): Promise<VsctlResult> {
  let stdout = "";
  let stderr = "";
  const status = await vsctlMain([`--db=${remote}`, ...args], { out: (s) => (stdout += s), err: (s) => (stderr += s) });
  return { status, signal: null, stdout, stderr };
}

type DumpTable = { caption: string; headings: string[]; data: unknown[][] };

const NAME_COLUMNS = ["name", "target", "id"];

/** Dumps the database with the real ovsdb-client: table → rows (objects). */
export function dumpDb(remote: string, dir: string): Map<string, Record<string, unknown>[]> {
  const r = spawn("ovsdb-client", ["--format=json", "dump", remote, "Open_vSwitch"], dir);
  const out = new Map<string, Record<string, unknown>[]>();
  for (const line of r.stdout.split("\n")) {
    if (!line.trim()) continue;
    const t = JSON.parse(line) as DumpTable;
    const name = t.caption.replace(/ table$/, "");
    out.set(
      name,
      t.data.map((row) => Object.fromEntries(t.headings.map((h, i) => [h, row[i]]))),
    );
  }
  return out;
}

/** uuid → label for every row of a dump. */
export function uuidLabels(dump: Map<string, Record<string, unknown>[]>): Map<string, string> {
  const labels = new Map<string, string>();
  for (const [table, rows] of dump) {
    for (const row of rows) {
      const uuid = (row["_uuid"] as [string, string])[1];
      const nameCol = NAME_COLUMNS.find((c) => typeof row[c] === "string" || typeof row[c] === "number");
      labels.set(uuid, nameCol ? `<${table}:${String(row[nameCol])}>` : `<${table}>`);
    }
  }
  return labels;
}

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const SHORT_UUID_LINK = /(<a href="#)<([^>]*)>(">)[0-9a-f]{8}(<\/a>)/g;

export function normalize(text: string, labels: Map<string, string>): string {
  return text
    .replace(UUID_G, (u) => labels.get(u) ?? "<uuid>")
    .replace(/\[(<[^\]]*>(?:, <[^\]]*>)*)\]/g, (_m, inner: string) => `[${inner.split(", ").sort().join(", ")}]`)
    .replace(SHORT_UUID_LINK, "$1<$2>$3<short>$4")
    .replace(/(<a name="<[^>]*>">)[0-9a-f]{8}/g, "$1<short>")
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, "<time>|");
}

/** For outputs whose row order follows uuids: compare as sorted records/lines. */
export function orderInsensitive(text: string): string {
  const blocks = text.replace(/\n+$/, "").split("\n\n").map((b) => b.split("\n").sort().join("\n"));
  return blocks.sort().join("\n\n");
}

/** A database dump as comparable text: rows labelled, sorted, _version dropped. */
export function dumpText(dump: Map<string, Record<string, unknown>[]>): string {
  const labels = uuidLabels(dump);
  const out: string[] = [];
  for (const [table, rows] of [...dump].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const lines = rows.map((row) => {
      const r = { ...row };
      delete r["_version"];
      return JSON.stringify(deepNormalize(r, labels));
    });
    out.push(`${table}:\n${lines.sort().join("\n")}`);
  }
  return out.join("\n");
}

function deepNormalize(v: unknown, labels: Map<string, string>): unknown {
  if (typeof v === "string") return v.replace(UUID_G, (u) => labels.get(u) ?? "<uuid>");
  if (Array.isArray(v)) {
    const items = v.map((x) => deepNormalize(x, labels));
    if ((v[0] === "set" || v[0] === "map") && Array.isArray(items[1])) {
      return [v[0], (items[1] as unknown[]).slice().sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))];
    }
    return items;
  }
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepNormalize(x, labels)]));
  }
  return v;
}
