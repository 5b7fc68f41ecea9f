/**
 * Where tsovs keeps its sockets, databases and logs.
 *
 * The same environment variables as Open vSwitch are honoured, so the real
 * `ovs-vsctl`, `ovs-ofctl` and `ovs-appctl` find tsovs when they are given the
 * same environment. When unset, root gets OVS's own paths (tsovs is a drop-in
 * replacement), and other users get a private per-user directory so that an
 * unprivileged trial run never needs /var/run.
 */
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function perUserBase(): string {
  const xdg = process.env["XDG_RUNTIME_DIR"];
  const base = xdg && xdg.length > 0 ? xdg : os.tmpdir();
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return path.join(base, `tsovs-${uid}`);
}

/** `$OVS_RUNDIR`: sockets and pid files. */
export function rundir(): string {
  const env = process.env["OVS_RUNDIR"];
  if (env) return env;
  return isRoot() ? "/var/run/openvswitch" : perUserBase();
}

/** `$OVS_DBDIR`: the database file (`conf.db`). */
export function dbdir(): string {
  const env = process.env["OVS_DBDIR"];
  if (env) return env;
  if (isRoot()) return "/etc/openvswitch";
  return process.env["OVS_RUNDIR"] ? rundir() : perUserBase();
}

/** `$OVS_LOGDIR`: log files. */
export function logdir(): string {
  const env = process.env["OVS_LOGDIR"];
  if (env) return env;
  if (isRoot()) return "/var/log/openvswitch";
  return process.env["OVS_RUNDIR"] ? rundir() : perUserBase();
}

/** `$OVS_PKGDATADIR`: where schemas are looked for by default. */
export function pkgdatadir(): string {
  return process.env["OVS_PKGDATADIR"] ?? "/usr/share/openvswitch";
}

/** Default database socket: `unix:$OVS_RUNDIR/db.sock`. */
export function defaultDbRemote(): string {
  return `unix:${path.join(rundir(), "db.sock")}`;
}

/** Creates `dir` (and parents) if missing. */
export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

/** Root of the tsovs package (holds `schemas/`). */
export function packageRoot(): string {
  // This file is dist/src/util/dirs.js at run time.
  return path.resolve(new URL(".", import.meta.url).pathname, "..", "..", "..");
}
