/**
 * Test helpers for the vswitchd: start the whole tsovs switch (`tsovs
 * start`) or the real OVS pair (ovsdb-server + ovs-vswitchd with dummy
 * devices) in a private directory, run commands asynchronously (an
 * in-process switch must keep running while ovs-vsctl waits for it), and
 * parse `ovs-vsctl list` output into records that can be compared with
 * the random parts (uuids, random addresses, counters) masked.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { OVS_SCHEMA, TSOVS_BIN, TSOVS_NODE_ARGS, run, tempDir, waitFor, type RunResult } from "./ovs.js";

export function envFor(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
}

/** Runs a command without blocking the event loop; kills it after `timeoutMs`. */
export function runAsync(cmd: string, args: string[], dir: string, timeoutMs = 20_000): Promise<RunResult & { timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: envFor(dir), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr, timedOut });
    });
  });
}

export interface Switch {
  dir: string;
  stop(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a daemon by pid: SIGTERM, then SIGKILL if it is still there after 5 s. */
export async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (pidAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

function controlSocketReady(dir: string, program: string): boolean {
  return fs.readdirSync(dir).some((f) => f.startsWith(`${program}.`) && f.endsWith(".ctl"));
}

/** Starts `tsovs start ARGS` (dummy devices overriding system ones by default) in `dir`. */
export async function startTsovsSwitch(dir?: string, args = ["--enable-dummy=override", "--disable-system"]): Promise<Switch & { child: ChildProcess }> {
  // A directory made here is removed by stop(); one the caller gives is the caller's.
  const own = dir === undefined;
  dir ??= tempDir("tsovs-sw-");
  const child = spawn(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "start", ...args], { env: envFor(dir), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  let exited = false;
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  child.on("exit", () => (exited = true));
  try {
    await waitFor(
      () => exited || (fs.existsSync(path.join(dir, "db.sock")) && fs.existsSync(path.join(dir, "ovs-vswitchd.pid")) && controlSocketReady(dir, "ovs-vswitchd")),
      20_000, "tsovs start",
    );
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  if (exited) throw new Error(`tsovs start exited: ${stderr}`);
  return {
    dir,
    child,
    stop: async () => {
      if (!exited) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await done;
        clearTimeout(t);
      }
      if (own) await removeDir(dir);
    },
  };
}

/**
 * Starts OVS's switch and then tsovs's (dummy devices, directories of
 * their own), runs `body` with both in that order, and stops whichever
 * started, however `body` ends: the frame of every differential test.
 */
export async function withOvsAndTsovs<T>(body: (sws: [Switch, Switch]) => Promise<T>): Promise<T> {
  const sws: Switch[] = [];
  try {
    sws.push(await startRealSwitch(), await startTsovsSwitch());
    return await body(sws as [Switch, Switch]);
  } finally {
    for (const sw of sws) await sw.stop();
  }
}

/** Starts the real ovsdb-server (initialised) and ovs-vswitchd with dummy devices in `dir`. */
export async function startRealSwitch(dir?: string): Promise<Switch> {
  // A directory made here is removed by stop(); one the caller gives is the caller's.
  const own = dir === undefined;
  dir ??= tempDir("ovs-sw-");
  const db = path.join(dir, "conf.db");
  let r = run("ovsdb-tool", ["create", db, OVS_SCHEMA], dir);
  if (r.status !== 0) throw new Error(`ovsdb-tool: ${r.stderr}`);
  r = run("ovsdb-server", ["--detach", "--no-chdir", "--pidfile", "--log-file", `--remote=punix:${path.join(dir, "db.sock")}`, db], dir);
  if (r.status !== 0) throw new Error(`ovsdb-server: ${r.stderr}`);
  r = run("ovs-vsctl", ["--no-wait", "init"], dir);
  const vs = await startRealVswitchd(dir);
  let stopped = false;
  return {
    dir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await vs.stop();
      await killAndWait(Number(fs.readFileSync(path.join(dir, "ovsdb-server.pid"), "utf8")));
      if (own) await removeDir(dir);
    },
  };
}

/** Starts the real ovs-vswitchd (dummy override) against `dir`'s db.sock. */
export async function startRealVswitchd(dir: string): Promise<Switch> {
  const r = run("ovs-vswitchd", ["--enable-dummy=override", "--disable-system", "--detach", "--no-chdir", "--pidfile", "--log-file"], dir);
  if (r.status !== 0) throw new Error(`ovs-vswitchd: ${r.stderr}`);
  const pid = Number(fs.readFileSync(path.join(dir, "ovs-vswitchd.pid"), "utf8"));
  return { dir, stop: () => killAndWait(pid) };
}

/** Starts `tsovs vswitchd ARGS` against the database socket in `dir` (foreground child). */
export async function startTsovsVswitchd(
  dir: string,
  args = ["--enable-dummy=override", "--disable-system", "--pidfile", "--log-file", "-vbridge:file:dbg"],
  readyFile: string | null = null,
): Promise<Switch> {
  const child = spawn(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "vswitchd", ...args], { env: envFor(dir), stdio: ["ignore", "ignore", "pipe"] });
  let exited = false;
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  child.on("exit", () => (exited = true));
  await waitFor(() => exited || (readyFile !== null ? fs.existsSync(readyFile) : controlSocketReady(dir, "ovs-vswitchd")), 20_000, "tsovs vswitchd");
  if (exited) throw new Error(`tsovs vswitchd exited: ${stderr}`);
  return {
    dir,
    stop: async () => {
      if (exited) return;
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(t);
    },
  };
}

/** One record of `ovs-vsctl list`: column → value text. */
export type ListRecord = Map<string, string>;

/** Parses `ovs-vsctl list TABLE` output. */
export function parseList(text: string): ListRecord[] {
  const out: ListRecord[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const rec: ListRecord = new Map();
    for (const line of block.split("\n")) {
      const m = /^([a-z_]+)\s*: (.*)$/.exec(line);
      if (m) rec.set(m[1]!, m[2]!);
    }
    if (rec.size > 0) out.push(rec);
  }
  return out;
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * Masks what legitimately differs between two switches: uuids, random
 * Ethernet addresses and datapath IDs, counter values (keys stay), the
 * seconds counters of Controller.status.
 */
export function maskRecord(rec: ListRecord): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, v0] of rec) {
    let v = v0.replace(UUID_RE, "<uuid>");
    if (k === "mac_in_use") v = /^"[0-9a-f]{2}(:[0-9a-f]{2}){5}"$/.test(v) ? "<mac>" : v;
    if (k === "datapath_id") v = /^"[0-9a-f]{16}"$/.test(v) ? "<dpid>" : v;
    if (k === "statistics") v = v.replace(/=\d+/g, "=N");
    if (k === "status") v = v.replace(/(sec_since_\w+)="\d+"/g, '$1="N"');
    o[k] = v;
  }
  return o;
}

const KEY_COLUMN: Readonly<Record<string, string>> = {
  Bridge: "name", Port: "name", Interface: "name", Mirror: "name", Controller: "target", Manager: "target",
};

/** `ovs-vsctl list TABLE` as masked records keyed by the `name` (or `target`) column ("." for Open_vSwitch). */
export async function listByName(dir: string, table: string, columns?: readonly string[]): Promise<Record<string, Record<string, string>>> {
  const key = KEY_COLUMN[table];
  const args = ["list", table];
  if (columns) args.unshift(`--columns=${[...(key !== undefined ? [key] : []), ...columns].join(",")}`);
  const r = await runAsync("ovs-vsctl", args, dir);
  if (r.status !== 0) throw new Error(`ovs-vsctl list ${table}: ${r.stderr}`);
  const out: Record<string, Record<string, string>> = {};
  for (const rec of parseList(r.stdout)) {
    const m = maskRecord(rec);
    out[key !== undefined ? (m[key] ?? "?") : "."] = m;
  }
  return out;
}

/** Removes a test directory, retrying while exiting daemons still write their last lines into it. */
export async function removeDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if (i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
