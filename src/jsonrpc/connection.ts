/**
 * A JSON-RPC 1.0 session over a stream socket, as OVSDB (RFC 7047 §4) and
 * unixctl use it.
 *
 * Requests carry an id and get exactly one response; notifications carry
 * `"id": null`. Either side may send either. A connection answers `echo`
 * requests by itself unless told otherwise, so peers' inactivity probes are
 * satisfied without help from the user of this class.
 */
import type * as net from "node:net";
import { EventEmitter } from "node:events";
import { JsonFramer } from "./framing.js";
import { pollAfterInput } from "../util/poll-after-input.js";

export interface JsonRpcRequest {
  method: string;
  params: unknown;
  id: unknown;
}

export interface JsonRpcResponse {
  result: unknown;
  error: unknown;
  id: unknown;
}

/** An error response received for a request, carrying the peer's error value. */
export class JsonRpcError extends Error {
  constructor(readonly error: unknown) {
    super(typeof error === "string" ? error : JSON.stringify(error));
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export interface JsonRpcConnectionEvents {
  /** A request (id !== null). Reply with `respond` / `respondError`. */
  request: [req: JsonRpcRequest];
  /** A notification (id === null). */
  notify: [method: string, params: unknown];
  /** A protocol error: bad JSON or a message of no known shape. The connection is closed. */
  protocolError: [message: string];
  close: [];
}

export class JsonRpcConnection extends EventEmitter<JsonRpcConnectionEvents> {
  private framer = new JsonFramer();
  private pending = new Map<string, Pending>();
  private nextId = 0;
  private closed = false;
  /** Answer `echo` requests automatically (true for every OVS peer). */
  autoEcho = true;
  /** Milliseconds of time the last message arrived; used for inactivity probes. */
  lastReceived = Date.now();

  constructor(readonly socket: net.Socket, readonly name = "") {
    super();
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", () => this.close());
    socket.on("close", () => this.close());
  }

  private onData(data: Buffer): void {
    this.lastReceived = Date.now();
    for (const r of this.framer.push(data)) {
      if (this.closed) return;
      if (!r.ok) {
        this.emit("protocolError", r.error);
        this.close();
        return;
      }
      this.dispatch(r.value);
    }
    // The peer's next request is likely on its way (a transaction per reply).
    pollAfterInput();
  }

  private dispatch(msg: unknown): void {
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
      this.emit("protocolError", "message is not a JSON object");
      this.close();
      return;
    }
    const m = msg as Record<string, unknown>;
    if (typeof m["method"] === "string") {
      if (!("params" in m) || !Array.isArray(m["params"])) {
        this.emit("protocolError", `"params" must be an array`);
        this.close();
        return;
      }
      const id = m["id"];
      if (id === null || id === undefined) {
        this.emit("notify", m["method"], m["params"]);
      } else if (m["method"] === "echo" && this.autoEcho) {
        this.send({ result: m["params"], error: null, id });
      } else {
        this.emit("request", { method: m["method"], params: m["params"], id });
      }
      return;
    }
    if ("result" in m || "error" in m) {
      const key = JSON.stringify(m["id"]);
      const p = this.pending.get(key);
      if (!p) return; // A reply to a request we no longer wait for.
      this.pending.delete(key);
      if (m["error"] !== null && m["error"] !== undefined) p.reject(new JsonRpcError(m["error"]));
      else p.resolve(m["result"]);
      return;
    }
    this.emit("protocolError", "message is not a request, reply or notification");
    this.close();
  }

  /** Writes one message. */
  send(msg: object): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(msg));
  }

  /** Sends a request and resolves with its result (rejects with JsonRpcError). */
  request(method: string, params: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error("connection closed"));
        return;
      }
      this.pending.set(JSON.stringify(id), { resolve, reject });
      this.send({ method, params, id });
    });
  }

  notify(method: string, params: unknown[]): void {
    this.send({ method, params, id: null });
  }

  respond(id: unknown, result: unknown): void {
    this.send({ result, error: null, id });
  }

  respondError(id: unknown, error: unknown): void {
    this.send({ result: null, error, id });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(new Error("connection closed"));
    this.pending.clear();
    this.emit("close");
  }
}
