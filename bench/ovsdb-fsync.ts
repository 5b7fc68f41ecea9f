/**
 * The floor under every durable OVSDB commit: how long this disk takes to
 * make a small appended record durable, and what each way of asking Node
 * for the fdatasync adds on top (latency and CPU per call).
 *
 * Each round appends a 200-byte record with a synchronous write (into the
 * page cache, as LogWriter does) and then makes it durable with:
 *   sync      fs.fdatasyncSync in the event loop (LogWriter's path for
 *             small records, flushed at the end of the loop turn);
 *   callback  fs.fdatasync in libuv's thread pool, callback on the loop;
 *   promise   FileHandle.datasync() (thread pool + promise);
 *   worker    a worker thread that calls fdatasyncSync and answers with
 *             postMessage;
 *   o_dsync   no fdatasync: the write itself on an O_DSYNC descriptor.
 *
 * Options: --dir=PATH (default: the OS temporary directory, where the
 * benchmarks' databases live), --n=COUNT calls per method and round
 * (default 1000), --rounds=R (default 2). Within a round the methods take
 * turns call by call, so all see the same disk load. Prints p10/p50/p90
 * latency and CPU per call (process user + system, all threads); the last
 * line is one JSON object with the medians over the rounds.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const dir = opt("dir", os.tmpdir());
const N = Number(opt("n", "1000"));
const ROUNDS = Number(opt("rounds", "2"));

const file = path.join(dir, `tsovs-fsync-probe-${process.pid}`);
const fd = fs.openSync(file, "w");
const fdDsync = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_DSYNC);
const record = Buffer.alloc(200, 0x61);
let offset = 0;

function append(onFd = fd): void {
  fs.writeSync(onFd, record, 0, record.length, offset);
  offset += record.length;
}

const worker = new Worker(
  `const { parentPort } = require("node:worker_threads"); const fs = require("node:fs");
   parentPort.on("message", (fd) => { fs.fdatasyncSync(fd); parentPort.postMessage(0); });`,
  { eval: true },
);

type Method = () => Promise<void> | void;
const methods: Record<string, Method> = {
  sync: () => {
    append();
    fs.fdatasyncSync(fd);
  },
  callback: () =>
    new Promise<void>((resolve, reject) => {
      append();
      fs.fdatasync(fd, (e) => (e ? reject(e) : resolve()));
    }),
  promise: async () => {
    append();
    await fh.datasync();
  },
  worker: () =>
    new Promise<void>((resolve) => {
      append();
      worker.once("message", () => resolve());
      worker.postMessage(fd);
    }),
  o_dsync: () => append(fdDsync),
};

const fh = await fs.promises.open(file, "r+");

interface Figure {
  p10_us: number;
  p50_us: number;
  p90_us: number;
  cpu_us: number;
}
const results: Record<string, Figure[]> = {};
const names = Object.keys(methods);
for (let round = 0; round < ROUNDS; round++) {
  // The calls of the methods are interleaved one by one, so that every
  // method sees the same disk: on a shared machine its latency drifts.
  const lat: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  for (const name of names) {
    lat[name] = [];
    cpu[name] = 0;
  }
  for (let i = 0; i < N; i++) {
    for (const name of names) {
      const c0 = process.cpuUsage();
      const t = process.hrtime.bigint();
      await methods[name]!();
      lat[name]!.push(Number(process.hrtime.bigint() - t) / 1000);
      const c = process.cpuUsage(c0);
      cpu[name]! += c.user + c.system;
    }
  }
  for (const name of names) {
    const l = lat[name]!.sort((a, b) => a - b);
    const f: Figure = {
      p10_us: Math.round(l[Math.floor(N * 0.1)]!),
      p50_us: Math.round(l[Math.floor(N * 0.5)]!),
      p90_us: Math.round(l[Math.floor(N * 0.9)]!),
      cpu_us: Math.round(cpu[name]! / N),
    };
    (results[name] ??= []).push(f);
    console.log(`round ${round + 1} ${name.padEnd(8)} p10 ${f.p10_us} µs  p50 ${f.p50_us} µs  p90 ${f.p90_us} µs  CPU ${f.cpu_us} µs/call`);
  }
}
await fh.close();
await worker.terminate();
fs.closeSync(fd);
fs.closeSync(fdDsync);
fs.unlinkSync(file);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const out: Record<string, Figure> = {};
for (const [name, fs_] of Object.entries(results)) {
  out[name] = {
    p10_us: median(fs_.map((f) => f.p10_us)),
    p50_us: median(fs_.map((f) => f.p50_us)),
    p90_us: median(fs_.map((f) => f.p90_us)),
    cpu_us: median(fs_.map((f) => f.cpu_us)),
  };
}
console.log(JSON.stringify({ bench: "ovsdb-fsync", dir, n: N, rounds: ROUNDS, record_bytes: record.length, methods: out }));
