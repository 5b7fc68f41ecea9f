/**
 * The unixctl client, as `ovs-appctl` uses it: find a daemon's control
 * socket from its name (via `$OVS_RUNDIR/<name>.pid`) or take a socket
 * path, send one command, and return its reply text or error text.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { JsonRpcConnection, JsonRpcError } from "../jsonrpc/index.js";
import { rundir } from "../util/dirs.js";

/** A failure to find or reach the target, worded as ovs-appctl words it. */
export class UnixctlTargetError extends Error {}

/**
 * Resolves an `ovs-appctl -t` target to a socket path. An absolute path is
 * the socket itself; a name is a program whose pid file in the run
 * directory tells the socket name `<name>.<pid>.ctl`.
 */
export function resolveTarget(target: string): string {
  if (target.startsWith("/")) return target;
  const pidfile = path.join(rundir(), `${target}.pid`);
  let text: string;
  try {
    text = fs.readFileSync(pidfile, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "No such file or directory" : (e as Error).message;
    throw new UnixctlTargetError(`cannot read pidfile "${pidfile}" (${why})`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new UnixctlTargetError(`cannot read pidfile "${pidfile}" (Invalid argument)`);
  return path.join(rundir(), `${target}.${pid}.ctl`);
}

/** Connects to a control socket. */
export function connectUnixctl(socketPath: string): Promise<JsonRpcConnection> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: socketPath });
    sock.once("error", (e: NodeJS.ErrnoException) => {
      const why =
        e.code === "ENOENT" ? "No such file or directory" : e.code === "ECONNREFUSED" ? "Connection refused" : e.message;
      reject(new UnixctlTargetError(`cannot connect to "${socketPath}" (${why})`));
    });
    sock.once("connect", () => {
      sock.removeAllListeners("error");
      const conn = new JsonRpcConnection(sock, `unix:${socketPath}`);
      resolve(conn);
    });
  });
}

export type UnixctlReply = { ok: true; result: string } | { ok: false; error: string };

/** Sends one command on an open connection. */
export async function unixctlCommand(conn: JsonRpcConnection, command: string, args: string[]): Promise<UnixctlReply> {
  try {
    const r = await conn.request(command, args);
    return { ok: true, result: typeof r === "string" ? r : JSON.stringify(r) };
  } catch (e) {
    if (e instanceof JsonRpcError) {
      const err = e.error;
      return { ok: false, error: typeof err === "string" ? err : JSON.stringify(err) };
    }
    throw e;
  }
}

/** Connects to `target`, runs one command, closes. */
export async function unixctlTransact(target: string, command: string, args: string[]): Promise<UnixctlReply> {
  const conn = await connectUnixctl(resolveTarget(target));
  try {
    return await unixctlCommand(conn, command, args);
  } finally {
    conn.close();
  }
}
