/**
 * Helpers for the benchmarks that run switches in network namespaces:
 * start tsovs or the real OVS 3.1 pair (ovsdb-server + ovs-vswitchd) in a
 * switch namespace and stop them by pid, read a link's kernel counters
 * inside a namespace, and read CPU time of a process and of the machine
 * (to tell whether the switch or the sender was the one out of CPU).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { OVS_SCHEMA, TSOVS_BIN, TSOVS_NODE_ARGS } from "../test/util/ovs.js";

/** A switch daemon (or a set of them) started in a namespace, stopped by pid. */
export interface SwitchDaemon {
  readonly dir: string;
  /** The process that forwards packets (its CPU time is the switch's). */
  readonly pid: number;
  alive(): boolean;
  stop(): Promise<void>;
}

function envFor(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once `pid` is gone. */
export async function killPid(pid: number, graceMs = 5000): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (pidAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
}

function ready(dir: string, program: string): boolean {
  return fs.existsSync(path.join(dir, `${program}.pid`)) && fs.readdirSync(dir).some((f) => f.startsWith(`${program}.`) && f.endsWith(".ctl"));
}

/**
 * `tsovs start` (real devices, no dummy override) in namespace `ns` with
 * run directory `dir`; `nodeArgs` go before the script (e.g. --cpu-prof).
 */
export async function startTsovsIn(ns: string, dir: string, nodeArgs: string[] = []): Promise<SwitchDaemon> {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, ...TSOVS_NODE_ARGS, ...nodeArgs, TSOVS_BIN, "start"], {
    env: envFor(dir), stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  let exited = false;
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.on("exit", () => (exited = true));
  const deadline = Date.now() + 30_000;
  while (!exited && !(fs.existsSync(path.join(dir, "db.sock")) && ready(dir, "ovs-vswitchd")) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
  }
  // `ip netns exec` execs node: the child's pid is the daemon's.
  const pid = child.pid!;
  if (exited || !ready(dir, "ovs-vswitchd")) {
    if (!exited) process.kill(pid, "SIGKILL");
    throw new Error(`tsovs start in ${ns}: ${exited ? "exited" : "not ready after 30 s"}: ${err}`);
  }
  return {
    dir, pid,
    alive: () => !exited,
    stop: async () => {
      if (exited) return;
      const done = new Promise((r) => child.once("exit", r));
      await killPid(pid, 10_000);
      await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}

/** Runs `cmd args` in namespace `ns` with the OVS variables of `dir`; throws with its stderr on failure. */
function nsRunSync(ns: string, dir: string, cmd: string, args: string[]): string {
  const r = spawnSync("ip", ["netns", "exec", ns, cmd, ...args], { env: envFor(dir), encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The real ovsdb-server + ovs-vswitchd (system devices, no dummy) in namespace `ns`. */
export async function startOvsIn(ns: string, dir: string): Promise<SwitchDaemon> {
  const pids: number[] = [];
  const stop = async (): Promise<void> => {
    for (const f of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) {
      const p = path.join(dir, f);
      if (fs.existsSync(p)) {
        const pid = Number(fs.readFileSync(p, "utf8").trim());
        if (pid > 0 && !pids.includes(pid)) pids.push(pid);
      }
    }
    for (const pid of pids) await killPid(pid);
  };
  try {
    nsRunSync(ns, dir, "ovsdb-tool", ["create", path.join(dir, "conf.db"), OVS_SCHEMA]);
    nsRunSync(ns, dir, "ovsdb-server", ["--detach", "--no-chdir", "--pidfile", "--log-file", `--remote=punix:${path.join(dir, "db.sock")}`, path.join(dir, "conf.db")]);
    nsRunSync(ns, dir, "ovs-vsctl", ["--no-wait", "init"]);
    nsRunSync(ns, dir, "ovs-vswitchd", ["--detach", "--no-chdir", "--pidfile", "--log-file"]);
  } catch (e) {
    await stop();
    throw e;
  }
  const pid = Number(fs.readFileSync(path.join(dir, "ovs-vswitchd.pid"), "utf8").trim());
  return { dir, pid, alive: () => pidAlive(pid), stop };
}

/** A link's kernel counters. */
export interface LinkCounters {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
}

/** `ip -s -j link show dev DEV` in namespace `ns`. */
export function linkCounters(ns: string, dev: string): LinkCounters {
  const r = spawnSync("ip", ["-n", ns, "-s", "-j", "link", "show", "dev", dev], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip -n ${ns} -s link show dev ${dev}: ${r.stderr}`);
  const j = (JSON.parse(r.stdout) as { stats64: { rx: Record<string, number>; tx: Record<string, number> } }[])[0]!;
  return {
    rxPackets: j.stats64.rx["packets"] ?? 0, rxBytes: j.stats64.rx["bytes"] ?? 0, rxDropped: j.stats64.rx["dropped"] ?? 0,
    txPackets: j.stats64.tx["packets"] ?? 0, txBytes: j.stats64.tx["bytes"] ?? 0,
  };
}

const CLK_TCK = 100;

/** CPU seconds (user + system) a process used so far; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at ") ".
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Machine-wide CPU seconds: busy (user, nice, system, irq, softirq, steal) and total. */
export function machineCpuSeconds(): { busy: number; total: number; softirq: number } {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLK_TCK, total: (busy + idle + iowait) / CLK_TCK, softirq: softirq / CLK_TCK };
}
