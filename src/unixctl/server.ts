/**
 * The unixctl server: the control socket every OVS daemon listens on
 * (`$OVS_RUNDIR/<program>.<pid>.ctl`), spoken to by `ovs-appctl`.
 *
 * The protocol is JSON-RPC 1.0: the method is the command name, the params
 * an array of strings, and the reply either `{"id","result":"text","error":null}`
 * or `{"id","error":"text\n"}` (no `result` member, as real OVS sends it).
 * Commands live in a registry that knows each command's usage text and its
 * argument count, so argument errors are worded exactly as OVS words them
 * before a handler ever runs. Daemons register their own commands on top of
 * the built-ins (`list-commands`, `version`, `vlog/...`).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { JsonRpcConnection, type JsonRpcRequest } from "../jsonrpc/index.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("unixctl");

/** Thrown (or returned as a rejected promise) by a handler to send an error reply. */
export class UnixctlError extends Error {}

/**
 * A command handler. It receives the string arguments (already checked
 * against the registered bounds) and returns the reply text, synchronously
 * or not. Throwing `UnixctlError` sends its message as the error reply; any
 * other exception is logged and reported as an error reply too, never
 * taking the daemon down.
 */
export type UnixctlHandler = (args: string[], conn: JsonRpcConnection) => string | Promise<string>;

export interface UnixctlCommand {
  name: string;
  usage: string;
  minArgs: number;
  maxArgs: number;
  handler: UnixctlHandler;
  /** Left out of `list-commands` (aliases OVS does not have). */
  hidden?: boolean;
}

/** Ensures a reply text ends in a newline, as OVS's error replies do. */
function withNewline(s: string): string {
  return s.endsWith("\n") ? s : s + "\n";
}

/** The command table, shared by every listening socket of a process. */
export class UnixctlRegistry {
  private readonly commands = new Map<string, UnixctlCommand>();

  /** Registers (or replaces) a command. `maxArgs` may be `Infinity`. */
  register(name: string, usage: string, minArgs: number, maxArgs: number, handler: UnixctlHandler, hidden = false): void {
    this.commands.set(name, { name, usage, minArgs, maxArgs, handler, hidden });
  }

  get(name: string): UnixctlCommand | undefined {
    return this.commands.get(name);
  }

  names(): string[] {
    return [...this.commands.keys()].sort();
  }

  /**
   * The `list-commands` text: one line per command, the name left-justified
   * in 23 columns and always followed by one space (a long name pushes its
   * usage right rather than touching it).
   */
  listText(): string {
    let out = "The available commands are:\n";
    for (const name of this.names()) {
      const c = this.commands.get(name)!;
      if (c.hidden !== true) out += `  ${name.padEnd(23)} ${c.usage}\n`;
    }
    return out;
  }

  /**
   * Runs a command by name; resolves with `{result}` or `{error}` where the
   * error text ends in a newline. Never rejects.
   */
  async execute(method: string, params: unknown[], conn: JsonRpcConnection): Promise<{ result: string } | { error: string }> {
    const cmd = this.commands.get(method);
    if (!cmd) {
      return { error: `"${method}" is not a valid command (use "list-commands" to see a list of valid commands)\n` };
    }
    if (params.length < cmd.minArgs) {
      return { error: `"${method}" command requires at least ${cmd.minArgs} arguments\n` };
    }
    if (params.length > cmd.maxArgs) {
      return { error: `"${method}" command takes at most ${cmd.maxArgs} arguments\n` };
    }
    const args: string[] = [];
    for (const p of params) {
      if (typeof p !== "string") return { error: `"${method}" command has non-string argument\n` };
      args.push(p);
    }
    try {
      return { result: await cmd.handler(args, conn) };
    } catch (e) {
      if (!(e instanceof UnixctlError)) log.err(`${method}: command failed: ${(e as Error).stack ?? String(e)}`);
      return { error: withNewline((e as Error).message) };
    }
  }
}

/** Writes a unixctl reply with OVS's member order (`id` first, no `result` on error). */
function sendReply(conn: JsonRpcConnection, id: unknown, r: { result: string } | { error: string }): void {
  // A non-empty reply ends in a newline on the wire, as OVS's unixctl adds it.
  if ("result" in r) conn.send({ id, result: r.result === "" ? "" : withNewline(r.result), error: null });
  else conn.send({ id, error: r.error });
}

/** A listening unixctl socket dispatching to a registry. */
export class UnixctlServer {
  private readonly server: net.Server;
  private readonly conns = new Set<JsonRpcConnection>();
  private closed = false;

  private constructor(readonly path: string, readonly registry: UnixctlRegistry, server: net.Server) {
    this.server = server;
    server.on("connection", (sock) => this.accept(sock));
  }

  /**
   * Listens on `socketPath`, removing a stale socket file first (a previous
   * run that died cannot have its socket still in use: the name has our pid).
   */
  static async listen(socketPath: string, registry: UnixctlRegistry): Promise<UnixctlServer> {
    try {
      fs.unlinkSync(socketPath);
    } catch {
      /* not there */
    }
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e) => log.err(`${socketPath}: ${e.message}`));
    return new UnixctlServer(socketPath, registry, server);
  }

  private accept(sock: net.Socket): void {
    const conn = new JsonRpcConnection(sock, `unix:${this.path}`);
    // unixctl has no `echo` command: real OVS answers it as an unknown command.
    conn.autoEcho = false;
    this.conns.add(conn);
    // Commands run one at a time per connection, so replies keep request order.
    let queue: Promise<void> = Promise.resolve();
    conn.on("request", (req: JsonRpcRequest) => {
      const params = req.params as unknown[];
      queue = queue.then(() => this.registry.execute(req.method, params, conn).then((r) => sendReply(conn, req.id, r)));
    });
    conn.on("protocolError", (msg) => log.warn(`${this.path}: received bad JSON-RPC message (${msg}), closing connection`));
    conn.on("close", () => this.conns.delete(conn));
  }

  /** Stops listening, closes every session and removes the socket file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const c of this.conns) c.close();
    try {
      fs.unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
