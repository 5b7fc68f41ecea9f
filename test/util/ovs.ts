/**
 * Test helpers for differential tests: find the real OVS 3.1 binaries, run
 * real and tsovs daemons in private run directories, and run commands.
 *
 * Tests that need the OVS binaries call `ovsSkip()` and pass the result as
 * node:test's `skip` option, so a machine without them reports why.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(new URL(".", import.meta.url).pathname, "..", "..", "..");
export const TSOVS_BIN = path.join(REPO_ROOT, "bin", "tsovs.js");
/** Node options from bin/tsovs.js's shebang, so spawned daemons run as installed. */
export const TSOVS_NODE_ARGS = ["--max-semi-space-size=4", "--heap-growing-percent=30"];
export const OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

export function which(cmd: string): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

/** A skip reason when the real OVS tools are missing, else false. */
export function ovsSkip(...tools: string[]): string | false {
  const need = tools.length > 0 ? tools : ["ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovsdb-client"];
  const missing = need.filter((t) => which(t) === null);
  if (missing.length > 0) return `real OVS tools not installed (${missing.join(", ")}); apt-get install openvswitch-switch openvswitch-common`;
  if (!fs.existsSync(OVS_SCHEMA)) return `${OVS_SCHEMA} missing`;
  return false;
}

/** A skip reason unless running as root. */
export function rootSkip(): string | false {
  return typeof process.getuid === "function" && process.getuid() === 0 ? false : "needs root";
}

export function tempDir(prefix = "tsovs-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously with OVS_* variables pointing at `dir`. */
export function run(cmd: string, args: string[], dir?: string, input?: string): RunResult {
  const env = dir ? { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir } : process.env;
  const r = spawnSync(cmd, args, { env, encoding: "utf8", input: input ?? "", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Runs `tsovs <args>` as a subprocess. */
export function tsovs(args: string[], dir?: string, input?: string): RunResult {
  return run(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, ...args], dir, input);
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Daemon {
  dir: string;
  /** `unix:` address of the database socket. */
  remote: string;
  pid: number;
  stop(): Promise<void>;
}

function readPid(file: string): number {
  return Number(fs.readFileSync(file, "utf8").trim());
}

async function killPid(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

/** Starts the real OVS ovsdb-server on a fresh conf.db in `dir`. */
export async function startRealOvsdb(dir = tempDir("ovs-real-"), schema = OVS_SCHEMA): Promise<Daemon> {
  const db = path.join(dir, "conf.db");
  if (!fs.existsSync(db)) {
    const c = run("ovsdb-tool", ["create", db, schema], dir);
    if (c.status !== 0) throw new Error(`ovsdb-tool create: ${c.stderr}`);
  }
  const sock = path.join(dir, "db.sock");
  const r = run(
    "ovsdb-server",
    ["--detach", "--no-chdir", "--pidfile", "--log-file", `--remote=punix:${sock}`, db],
    dir,
  );
  if (r.status !== 0) throw new Error(`ovsdb-server: ${r.stderr}`);
  const pid = readPid(path.join(dir, "ovsdb-server.pid"));
  await waitFor(() => fs.existsSync(sock), 10_000, "real ovsdb-server socket");
  return { dir, remote: `unix:${sock}`, pid, stop: () => killPid(pid) };
}

/**
 * Starts `tsovs ovsdb-server` (options as OVS's ovsdb-server) on a database
 * in `dir`, creating it from the bundled Open_vSwitch schema when missing.
 */
export async function startTsovsOvsdb(dir = tempDir("tsovs-db-"), extraArgs: string[] = []): Promise<Daemon> {
  const sock = path.join(dir, "db.sock");
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const child: ChildProcess = spawn(
    process.execPath,
    [...TSOVS_NODE_ARGS, TSOVS_BIN, "ovsdb-server", "--pidfile", "--log-file", `--remote=punix:${sock}`, ...extraArgs, path.join(dir, "conf.db")],
    { env, stdio: ["ignore", "ignore", "pipe"], detached: false },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.on("exit", () => (exited = true));
  await waitFor(() => fs.existsSync(sock) || exited, 15_000, "tsovs ovsdb-server socket").catch((e) => {
    child.kill("SIGKILL");
    throw e;
  });
  if (exited) throw new Error(`tsovs ovsdb-server exited: ${stderr}`);
  return {
    dir,
    remote: `unix:${sock}`,
    pid: child.pid!,
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
