/**
 * The client side of an OpenFlow connection, as OVS's vconn gives it to
 * ovs-ofctl: open `unix:PATH` or `tcp:HOST[:PORT]` (port 6653 by default),
 * exchange hellos and settle on the highest common version, then send
 * requests and wait for their replies — by xid, multipart replies until
 * the last one, and "no reply expected" requests confirmed by a barrier.
 *
 * Failures are `VconnError`s carrying the strerror text OVS would print
 * ("Connection refused", "Protocol error", "End of file"), so a command
 * can word them exactly as ovs-ofctl does. Transaction ids come from one
 * process-wide counter starting at 1, like OVS's alloc_xid(), because
 * ovs-ofctl's output shows them.
 */
import * as net from "node:net";
import { vlogModule } from "../util/vlog.js";
import { encodeMessage, OfpFramer, OFPSF_REPLY_MORE, statsTypes, type OfpMessage } from "./ofp-msgs.js";
import { makeHello, receiveHello } from "./ofp-hello.js";
import type { VersionBitmap } from "./ofp-version.js";

const log = vlogModule("vconn");
const streamLog = vlogModule("stream");
const tcpLog = vlogModule("stream_tcp");
const sslLog = vlogModule("stream_ssl");
const socketLog = vlogModule("socket_util");

/** OpenFlow's IANA port, which OVS uses when none is given. */
export const OFP_PORT = 6653;

/** A connection failure, worded as OVS's ovs_strerror. */
export class VconnError extends Error {
  /** True when the socket connected but the hello exchange failed. */
  duringHello = false;
  constructor(readonly reason: string) {
    super(reason);
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  ECONNREFUSED: "Connection refused",
  EACCES: "Permission denied",
  EPROTO: "Protocol error",
  EPIPE: "Broken pipe",
  ECONNRESET: "Connection reset by peer",
  ETIMEDOUT: "Connection timed out",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOTSOCK: "Socket operation on non-socket",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ENOTDIR: "Not a directory",
  ENAMETOOLONG: "File name too long",
  EINVAL: "Invalid argument",
};

/** strerror() text for a Node system error. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code]!;
  return code ?? String(e);
}

let lastXid = 0;

/** The next transaction id of this process (1, 2, ...). */
export function allocXid(): number {
  lastXid = (lastXid + 1) >>> 0;
  return lastXid;
}

/** Starts the xid sequence again at 1 (each in-process command run is a fresh "process"). */
export function resetXids(): void {
  lastXid = 0;
}

/** The xid of an encoded message. */
export function xidOf(b: Uint8Array): number {
  return ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
}

/** True if `b` is a multipart reply with the "more" flag set. */
export function replyHasMore(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  const st = statsTypes(b[0]!);
  if (b[1] !== st.reply) return false;
  return (((b[10]! << 8) | b[11]!) & OFPSF_REPLY_MORE) !== 0;
}

export type VconnTarget = { path: string } | { host: string; port: number; defaulted: boolean };

/**
 * Where a `unix:`/`tcp:` name points, or the error OVS reports for it
 * (logging what OVS logs on the way: the default-port notice, a bad port
 * number, an unusable address, SSL without keys).
 */
export function parseVconnName(name: string): VconnTarget | VconnError {
  if (name.startsWith("unix:")) return { path: name.slice(5) };
  if (name.startsWith("ssl:")) {
    // tsovs has no SSL keys: OVS's answer when none are configured.
    sslLog.err("Private key must be configured to use SSL");
    sslLog.err("Certificate must be configured to use SSL");
    sslLog.err("CA certificate must be configured to use SSL");
    return new VconnError("Protocol not available");
  }
  if (name.startsWith("tcp:")) {
    const rest = name.slice(4);
    let host: string;
    let port: string | undefined;
    if (rest.startsWith("[")) {
      const end = rest.indexOf("]");
      host = rest.slice(1, end < 0 ? undefined : end);
      port = end >= 0 && rest[end + 1] === ":" ? rest.slice(end + 2) : undefined;
    } else {
      const c = rest.indexOf(":");
      host = c < 0 ? rest : rest.slice(0, c);
      port = c < 0 ? undefined : rest.slice(c + 1);
    }
    const defaulted = port === undefined || port === "";
    if (defaulted) streamLog.warn("The default OpenFlow port number has changed from 6633 to 6653");
    const hostPort = `${host}:${defaulted ? OFP_PORT : port}`;
    const refuse = (): VconnError => {
      tcpLog.err(`tcp:${hostPort}: connect: Address family not supported by protocol`);
      return new VconnError("Address family not supported by protocol");
    };
    const p = defaulted ? OFP_PORT : /^[0-9]+$/.test(port!) ? Number(port) : NaN;
    if (!(p >= 0 && p <= 65535)) {
      socketLog.err(`${hostPort}: bad port number "${port}"`);
      return refuse();
    }
    // Dotted numbers that are no IPv4 address are refused before any lookup.
    if (net.isIP(host) === 0 && (/^[0-9.]+$/.test(host) || host === "")) return refuse();
    return { host, port: p, defaulted };
  }
  return new VconnError("Address family not supported by protocol");
}

export class Vconn {
  /** Negotiated OpenFlow version (wire number). */
  version = 0;
  private framer = new OfpFramer();
  private queue: Uint8Array[] = [];
  private waiter: (() => void) | null = null;
  private failure: VconnError | null = null;
  /**
   * Keep messages that arrive while waiting for another reply (instead of
   * dropping them), for `recv` to return later: a monitor must not lose the
   * replies to its flow-monitor requests while it finishes setting up.
   */
  keepStrays = false;
  private strays: Uint8Array[] = [];

  private constructor(readonly name: string, private readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.framer.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      for (let m = this.framer.next(); m; m = this.framer.next()) this.queue.push(m);
      if (this.framer.error) this.fail(new VconnError("Protocol error"));
      this.wake();
    });
    sock.on("end", () => this.fail(new VconnError("End of file")));
    sock.on("close", () => this.fail(new VconnError("End of file")));
    sock.on("error", (e) => this.fail(new VconnError(errnoText(e))));
  }

  private fail(e: VconnError): void {
    if (!this.failure) this.failure = e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  /**
   * Connects to `name` (`unix:` or `tcp:`) and negotiates a version among
   * `allowed`. Rejects with a VconnError (refused, no such file, protocol
   * error on failed negotiation).
   */
  static async open(name: string, allowed: VersionBitmap): Promise<Vconn> {
    const where = parseVconnName(name);
    if (where instanceof VconnError) throw where;
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = "path" in where ? net.connect(where.path) : net.connect(where.port, where.host);
      s.once("connect", () => {
        s.removeAllListeners("error");
        resolve(s);
      });
      s.once("error", (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        if ("host" in where && (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME")) {
          // A name that does not resolve: OVS finds no usable address.
          tcpLog.err(`tcp:${where.host}:${where.port}: connect: Address family not supported by protocol`);
          reject(new VconnError("Address family not supported by protocol"));
          return;
        }
        reject(new VconnError(errnoText(e)));
      });
    });
    const v = new Vconn(name, sock);
    try {
      v.send(encodeMessage(makeHello(allowed, allocXid())));
      const first = await v.recvRaw();
      const outcome = receiveHello(allowed, first);
      if (!outcome.ok) {
        log.warn(`${name}: ${outcome.log}`);
        if (outcome.reply) v.send(outcome.reply);
        throw new VconnError("Protocol error");
      }
      v.version = outcome.version;
      return v;
    } catch (e) {
      v.close();
      if (e instanceof VconnError) e.duringHello = true;
      throw e;
    }
  }

  send(b: Uint8Array): void {
    if (this.failure) throw this.failure;
    this.sock.write(b);
  }

  /** Encodes and sends a message; returns its bytes. */
  sendMessage(m: OfpMessage): Uint8Array {
    const b = encodeMessage(m);
    this.send(b);
    return b;
  }

  /** The next message, whatever it is. */
  private async recvRaw(): Promise<Uint8Array> {
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /**
   * The next message, checked as vconn_recv checks it: after negotiation a
   * message in another version is a protocol error (hellos, errors and echo
   * requests excepted).
   */
  async recv(anyVersion = false): Promise<Uint8Array> {
    const stray = this.strays.shift();
    if (stray) return stray;
    return this.recvChecked(anyVersion);
  }

  private async recvChecked(anyVersion: boolean): Promise<Uint8Array> {
    const m = await this.recvRaw();
    if (!anyVersion && this.version && m[0] !== this.version && m[1]! > 2) {
      log.err(`${this.name}: received OpenFlow version 0x${m[0]!.toString(16).padStart(2, "0")} != expected ${this.version.toString(16).padStart(2, "0")}`);
      throw new VconnError("Protocol error");
    }
    return m;
  }

  /** Sends `request` and returns the reply with the same xid (vconn_transact). */
  async transact(request: Uint8Array): Promise<Uint8Array> {
    const xid = xidOf(request);
    this.send(request);
    for (;;) {
      const m = await this.recvChecked(false);
      if (xidOf(m) === xid) return m;
      if (this.keepStrays) this.strays.push(m);
    }
  }

  /**
   * Sends `request` followed by a barrier; returns the request's reply (an
   * error, normally) or null when the barrier came back first
   * (vconn_transact_noreply).
   */
  async transactNoreply(request: Uint8Array): Promise<Uint8Array | null> {
    const xid = xidOf(request);
    this.send(request);
    const barrier = this.sendMessage({ type: "OFPT_BARRIER_REQUEST", version: this.version, xid: allocXid(), body: {} });
    const bxid = xidOf(barrier);
    let reply: Uint8Array | null = null;
    for (;;) {
      const m = await this.recvChecked(false);
      const mx = xidOf(m);
      if (mx === xid) reply = m;
      else if (mx === bxid) return reply;
      else if (this.keepStrays) this.strays.push(m);
    }
  }

  /** transactNoreply for each request in turn, stopping at the first reply. */
  async transactMultipleNoreply(requests: Uint8Array[]): Promise<Uint8Array | null> {
    for (const r of requests) {
      const reply = await this.transactNoreply(r);
      if (reply) return reply;
    }
    return null;
  }

  /**
   * Sends a multipart request and yields each reply with its xid until the
   * last (no "more" flag) or an error.
   */
  async *dumpStats(request: Uint8Array): AsyncGenerator<Uint8Array> {
    const xid = xidOf(request);
    this.send(request);
    for (;;) {
      const m = await this.recv();
      if (xidOf(m) !== xid) continue;
      yield m;
      if (m[1] === 1 || !replyHasMore(m)) return;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
