/**
 * OVSDB server benchmark: tsovs ovsdb-server side by side with the real
 * OVS 3.1 ovsdb-server (skipped, with a note, when it is not installed).
 *
 *   (a) one `ovs-vsctl --no-wait` transaction adding 1,000 ports with
 *       interfaces (the real ovs-vsctl binary against each server);
 *   (b) 10,000 small transactions one after another on one connection;
 *   (c) 100 clients monitoring while transactions run: latency from
 *       sending a transaction to each monitor receiving its update
 *       (p50/p99), after 25 unmeasured transactions;
 *   (d) memory per row at 100,000 rows: RSS growth / rows.
 *
 * Options: --quick (smaller sizes, one round), --only=a,b,c,d. Each figure
 * is the best of alternating rounds per server (the machine is shared);
 * every round's score and the median of the rounds' own ratios are
 * reported too.
 * The last line of output is one JSON object with every figure and the
 * tsovs/OVS ratios (time ratios < 1 and memory ratios < 1 favour tsovs).
 */
import * as fs from "node:fs";
import { spawn } from "node:child_process";
import { openJsonRpc as openJsonRpcOnce, type JsonRpcConnection } from "../src/jsonrpc/index.js";
import { ovsSkip, startRealOvsdb, startTsovsOvsdb, which, type Daemon } from "../test/util/ovs.js";
import { median } from "./stats.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",") ?? ["a", "b", "c", "d"];
const N_PORTS = quick ? 200 : 1000;
const N_TXNS = quick ? 2000 : 10_000;
const N_MONITORS = quick ? 20 : 100;
const N_MON_TXNS = quick ? 50 : 200;
const MON_WARMUP_TXNS = quick ? 5 : 25;
const N_ROWS = quick ? 20_000 : 100_000;
const DB = "Open_vSwitch";

/** Connects, retrying briefly: on a loaded machine a fresh server may not accept at once. */
async function openJsonRpc(remote: string): Promise<JsonRpcConnection> {
  for (let i = 0; ; i++) {
    try {
      return await openJsonRpcOnce(remote);
    } catch (e) {
      if (i >= 40) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function runCmd(cmd: string, argv: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (status) => resolve({ status, stderr }));
  });
}

/** CPU time (user + system) a process has used, in ms (from /proc; 10 ms resolution). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

async function transactOk(c: JsonRpcConnection, ops: unknown[]): Promise<unknown[]> {
  const r = (await c.request("transact", [DB, ...ops])) as unknown[];
  for (const x of r) if (x !== null && typeof x === "object" && "error" in x) throw new Error(`transaction failed: ${JSON.stringify(x)}`);
  return r;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

interface Figures {
  a_vsctl_1000_ports_ms?: number;
  /** Server CPU time for (a) and (b): robust against other load on the machine. */
  a_server_cpu_ms?: number;
  /**
   * For (a)'s server: time from spawning it to its socket accepting, and
   * the CPU it used by then (tsovs warms its hot paths at start-up, see
   * src/ovsdb/server/warm-up.ts; this keeps that cost in view).
   */
  a_start_ms?: number;
  a_start_cpu_ms?: number;
  b_server_cpu_ms?: number;
  b_txns_per_sec?: number;
  b_total_ms?: number;
  b_durable_total_ms?: number;
  b_durable_server_cpu_ms?: number;
  c_p50_ms?: number;
  c_p99_ms?: number;
  d_bytes_per_row?: number;
}

/** Start-up of the daemon the current measurement runs on (set by withDaemon). */
let lastStart = { ms: 0, cpu: 0 };

/** (a) one ovs-vsctl transaction adding many ports. */
async function benchVsctl(d: Daemon): Promise<{ ms: number; cpu: number; startMs: number; startCpu: number }> {
  const start = lastStart;
  const env = { ...process.env, OVS_RUNDIR: d.dir, OVS_DBDIR: d.dir, OVS_LOGDIR: d.dir };
  const base = [`--db=${d.remote}`, "--no-wait", "--timeout=600"];
  let r = await runCmd("ovs-vsctl", [...base, "init", "--", "add-br", "br0"], env);
  if (r.status !== 0) throw new Error(`ovs-vsctl add-br: ${r.stderr}`);
  const cmd = [...base];
  for (let i = 0; i < N_PORTS; i++) cmd.push(...(i > 0 ? ["--"] : []), "add-port", "br0", `p${i}`);
  const cpu0 = cpuMs(d.pid);
  const t0 = process.hrtime.bigint();
  r = await runCmd("ovs-vsctl", cmd, env);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`ovs-vsctl add-port x${N_PORTS}: ${r.stderr}`);
  return { ms, cpu: cpuMs(d.pid) - cpu0, startMs: start.ms, startCpu: start.cpu };
}

/**
 * (b) many small transactions, each answered before the next is sent.
 * With `durable`, each also carries `{"op":"commit","durable":true}`, so
 * that OVS too waits for its fsync before answering: tsovs always does
 * (an acknowledged transaction is on disk), OVS only when asked.
 */
async function benchSmallTxns(d: Daemon, durable = false): Promise<{ ms: number; cpu: number }> {
  const c = await openJsonRpc(d.remote);
  await transactOk(c, [{ op: "insert", table: "Open_vSwitch", row: {} }]).catch(() => undefined);
  const cpu0 = cpuMs(d.pid);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N_TXNS; i++) {
    const mutate = { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] };
    await transactOk(c, durable ? [mutate, { op: "commit", durable: true }] : [mutate]);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = cpuMs(d.pid) - cpu0;
  c.close();
  return { ms, cpu };
}

/** (c) monitor update latency with many monitoring clients. */
async function benchMonitors(d: Daemon): Promise<{ p50: number; p99: number }> {
  const writer = await openJsonRpc(d.remote);
  const rows = (await transactOk(writer, [{ op: "select", table: "Open_vSwitch", where: [], columns: ["_uuid"] }])) as { rows: unknown[] }[];
  if (rows[0]!.rows.length === 0) await transactOk(writer, [{ op: "insert", table: "Open_vSwitch", row: {} }]);
  const latencies: number[] = [];
  let sentAt = 0n;
  let pending = 0;
  let onAll: (() => void) | null = null;
  const monitors: JsonRpcConnection[] = [];
  for (let i = 0; i < N_MONITORS; i++) {
    const m = await openJsonRpc(d.remote);
    m.on("notify", (method) => {
      if (method !== "update2") return;
      latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      if (--pending === 0 && onAll) onAll();
    });
    await m.request("monitor_cond", [DB, "m", { Open_vSwitch: [{ columns: ["next_cfg", "external_ids"] }] }]);
    monitors.push(m);
  }
  // The first transactions only warm up: theirs were the highest latencies
  // against either server (up to 11 ms against tsovs, 9 against OVS), which
  // points at this client still compiling its own paths.
  for (let i = -MON_WARMUP_TXNS; i < N_MON_TXNS; i++) {
    if (i === 0) latencies.length = 0;
    pending = N_MONITORS;
    const all = new Promise<void>((r) => (onAll = r));
    sentAt = process.hrtime.bigint();
    await transactOk(writer, [
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1], ["external_ids", "insert", ["map", [[`k${i}`, `v${i}`]]]]] },
    ]);
    await all;
  }
  for (const m of monitors) m.close();
  writer.close();
  latencies.sort((x, y) => x - y);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** (d) RSS growth per row after inserting many rows (Queue rows with a small map). */
async function benchMemory(d: Daemon): Promise<number> {
  const c = await openJsonRpc(d.remote);
  await new Promise((r) => setTimeout(r, 300));
  const before = rssKb(d.pid);
  const BATCH = 1000;
  for (let i = 0; i < N_ROWS; i += BATCH) {
    const ops: unknown[] = [];
    for (let j = i; j < i + BATCH && j < N_ROWS; j++) {
      ops.push({ op: "insert", table: "Queue", row: { dscp: j % 64, external_ids: ["map", [["id", `q${j}`]]] } });
    }
    await transactOk(c, ops);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKb(d.pid);
  c.close();
  return ((after - before) * 1024) / N_ROWS;
}

async function withDaemon<T>(kind: "ovs" | "tsovs", fn: (d: Daemon) => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const d = await (kind === "ovs" ? startRealOvsdb() : startTsovsOvsdb());
  lastStart = { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpu: cpuMs(d.pid) };
  try {
    return await fn(d);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
}

/**
 * The machine is shared and its load drifts, so each measurement runs
 * for both servers back to back, ROUNDS times alternating, and the best
 * round counts for each. (a) and (b) get more rounds: on the 2-core
 * development VM one round's ratio ranged over ±15% from run to run (for
 * (b') 0.83-1.07 within an hour), more than the difference measured; the
 * best of more rounds comes closer to what each server costs when
 * nothing else runs. (a) is mostly ovs-vsctl's own CPU, which drifts by
 * ±30% between rounds a few seconds apart, against a difference between
 * the servers of about 30 ms (strace of ovs-vsctl: 44 against 74 ms from
 * its request to the first byte back). Best against best lost 2 of 18
 * runs with 5 rounds and still 2 of 11 with 9 (about 15 s more); the
 * median of the rounds' own ratios, reported beside it, did not lose.
 */
const ROUNDS = quick ? 1 : 2;
const ROUNDS_A = quick ? 1 : 9;
const ROUNDS_B = quick ? 1 : 4;

async function main(): Promise<void> {
  const skip = ovsSkip("ovsdb-server", "ovsdb-tool");
  if (skip) console.log(`OVS side skipped: ${skip}`);
  const kinds: ("tsovs" | "ovs")[] = skip ? ["tsovs"] : ["tsovs", "ovs"];
  const figs: Record<"tsovs" | "ovs", Figures> = { tsovs: {}, ovs: {} };
  /** Per measurement ("a", "b", "b'", ...): each round's score per server. */
  const roundScores: Record<string, Record<"tsovs" | "ovs", number[]>> = {};
  /** Per measurement: the median of tsovs/OVS over the rounds (each pair ran back to back). */
  const pairedMedians: Record<string, number> = {};
  const best = async <T>(
    what: string,
    fn: (d: Daemon) => Promise<T>,
    score: (t: T) => number,
    store: (f: Figures, t: T) => void,
    show: (t: T) => string,
    rounds = ROUNDS,
  ): Promise<void> => {
    const bestOf: Partial<Record<"tsovs" | "ovs", T>> = {};
    const scores: Record<"tsovs" | "ovs", number[]> = { tsovs: [], ovs: [] };
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
        const t = await withDaemon(kind, fn);
        scores[kind].push(round(score(t), 3));
        const prev = bestOf[kind];
        if (prev === undefined || score(t) < score(prev)) bestOf[kind] = t;
      }
    }
    for (const kind of kinds) {
      store(figs[kind], bestOf[kind]!);
      console.log(`${kind}: ${what}: ${show(bestOf[kind]!)}; rounds ${scores[kind].join(" ")}`);
    }
    const key = what.slice(1, what.indexOf(")"));
    roundScores[key] = scores;
    if (kinds.length === 2) pairedMedians[key] = median(scores.tsovs.map((t, i) => t / scores.ovs[i]!));
  };
  if (only.includes("a") && which("ovs-vsctl")) {
    await best(
      `(a) ovs-vsctl add-port x${N_PORTS} in one transaction`,
      benchVsctl,
      (r) => r.ms,
      (f, r) => {
        f.a_vsctl_1000_ports_ms = round(r.ms, 1);
        f.a_server_cpu_ms = r.cpu;
        f.a_start_ms = round(r.startMs, 1);
        f.a_start_cpu_ms = r.startCpu;
      },
      (r) => `${round(r.ms, 1)} ms (server CPU ${r.cpu} ms; start-up ${round(r.startMs, 1)} ms, CPU ${r.startCpu} ms)`,
      ROUNDS_A,
    );
  }
  if (only.includes("b")) {
    await best(
      `(b) ${N_TXNS} sequential transactions`,
      benchSmallTxns,
      (r) => r.ms,
      (f, r) => {
        f.b_total_ms = round(r.ms, 1);
        f.b_txns_per_sec = Math.round((N_TXNS * 1000) / r.ms);
        f.b_server_cpu_ms = r.cpu;
      },
      (r) => `${round(r.ms, 1)} ms (${Math.round((N_TXNS * 1000) / r.ms)}/s, server CPU ${r.cpu} ms)`,
      ROUNDS_B,
    );
  }
  if (only.includes("b")) {
    await best(
      `(b') ${N_TXNS} sequential transactions, each with commit durable:true`,
      (d) => benchSmallTxns(d, true),
      (r) => r.ms,
      (f, r) => {
        f.b_durable_total_ms = round(r.ms, 1);
        f.b_durable_server_cpu_ms = r.cpu;
      },
      (r) => `${round(r.ms, 1)} ms (${Math.round((N_TXNS * 1000) / r.ms)}/s, server CPU ${r.cpu} ms)`,
      ROUNDS_B,
    );
  }
  if (only.includes("c")) {
    await best(
      `(c) ${N_MONITORS} monitors, ${N_MON_TXNS} txns, update latency`,
      benchMonitors,
      (r) => r.p50,
      (f, r) => {
        f.c_p50_ms = round(r.p50, 3);
        f.c_p99_ms = round(r.p99, 3);
      },
      (r) => `p50 ${round(r.p50, 3)} ms, p99 ${round(r.p99, 3)} ms`,
    );
  }
  if (only.includes("d")) {
    await best(`(d) memory at ${N_ROWS} rows (RSS growth)`, benchMemory, (b) => b, (f, b) => (f.d_bytes_per_row = Math.round(b)), (b) => `${Math.round(b)} bytes/row`);
  }
  const ts = figs.tsovs;
  const ovs = skip ? null : figs.ovs;
  const ratio = (a?: number, b?: number): number | null => (a === undefined || b === undefined || b === 0 ? null : round(a / b, 3));
  const out = {
    bench: "ovsdb",
    quick,
    rounds: { a: ROUNDS_A, b: ROUNDS_B, c: ROUNDS, d: ROUNDS },
    sizes: { ports: N_PORTS, txns: N_TXNS, monitors: N_MONITORS, monitor_txns: N_MON_TXNS, rows: N_ROWS },
    tsovs: ts,
    ovs,
    round_scores: roundScores,
    paired_median_ratios: Object.fromEntries(Object.entries(pairedMedians).map(([k, v]) => [k, round(v, 3)])),
    ratios: ovs && {
      a_time: ratio(ts.a_vsctl_1000_ports_ms, ovs.a_vsctl_1000_ports_ms),
      a_server_cpu: ratio(ts.a_server_cpu_ms, ovs.a_server_cpu_ms),
      a_start_cpu: ratio(ts.a_start_cpu_ms, ovs.a_start_cpu_ms),
      b_time: ratio(ts.b_total_ms, ovs.b_total_ms),
      b_server_cpu: ratio(ts.b_server_cpu_ms, ovs.b_server_cpu_ms),
      b_durable_time: ratio(ts.b_durable_total_ms, ovs.b_durable_total_ms),
      b_durable_server_cpu: ratio(ts.b_durable_server_cpu_ms, ovs.b_durable_server_cpu_ms),
      c_p50: ratio(ts.c_p50_ms, ovs.c_p50_ms),
      c_p99: ratio(ts.c_p99_ms, ovs.c_p99_ms),
      d_memory: ratio(ts.d_bytes_per_row, ovs.d_bytes_per_row),
    },
  };
  console.log(JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
  },
);
