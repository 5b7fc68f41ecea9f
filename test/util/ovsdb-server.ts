/**
 * Test helpers for the OVSDB server: a raw JSON-RPC client that keeps
 * every message it receives (replies and notifications, in order), and
 * normalisation of OVSDB JSON so that outputs of real OVS and tsovs can be
 * compared although UUIDs are random and object member order is OVS's hash
 * order.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { after, before } from "node:test";
import { JsonFramer } from "../../src/jsonrpc/index.js";
import { startRealOvsdb, startTsovsOvsdb, type Daemon } from "./ovs.js";

/**
 * Starts a real and a tsovs ovsdb-server before a test file's tests (unless
 * `skip`) and stops them, removing their directories, after the last one.
 */
export function realAndTsovsServers(skip: string | false): { real(): Daemon; ts(): Daemon } {
  let real: Daemon | null = null;
  let ts: Daemon | null = null;
  before(async () => {
    if (skip) return;
    [real, ts] = await Promise.all([startRealOvsdb(), startTsovsOvsdb()]);
  });
  after(async () => {
    for (const d of [real, ts]) {
      if (!d) continue;
      await d.stop();
      fs.rmSync(d.dir, { recursive: true, force: true });
    }
  });
  return { real: () => real!, ts: () => ts! };
}

export type Message = Record<string, unknown>;

export class RawClient {
  readonly messages: Message[] = [];
  closed = false;
  private nextId = 1;
  private waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private framer = new JsonFramer();

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      for (const r of this.framer.push(d)) {
        if (!r.ok) continue;
        const m = r.value as Message;
        // Answer the server's inactivity probes like any OVS client.
        if (m["method"] === "echo" && m["id"] !== null) {
          this.send({ id: m["id"], result: m["params"], error: null });
          continue;
        }
        this.messages.push(m);
        for (const w of [...this.waiters]) {
          if (w.pred(m)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    });
    sock.on("close", () => (this.closed = true));
    sock.on("error", () => (this.closed = true));
  }

  /** Connects, retrying for up to `retryMs` while the server is not accepting yet. */
  static async connect(remote: string, retryMs = 2000): Promise<RawClient> {
    const deadline = Date.now() + retryMs;
    for (;;) {
      try {
        return await RawClient.connectOnce(remote);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== "ECONNREFUSED" && code !== "ENOENT") || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private static connectOnce(remote: string): Promise<RawClient> {
    const p = remote.startsWith("unix:") ? { path: remote.slice(5) } : { port: Number(remote.split(":")[2]), host: remote.split(":")[1]! };
    return new Promise((resolve, reject) => {
      const s = net.createConnection(p as net.NetConnectOpts);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new RawClient(s));
      });
    });
  }

  send(msg: unknown): void {
    this.sock.write(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Waits for the first (already received or future) message matching `pred`. */
  wait(pred: (m: Message) => boolean, timeoutMs = 5000, what = "message"): Promise<Message> {
    const have = this.messages.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  /** Sends a request and resolves with the whole reply message. */
  async request(method: string, params: unknown[], timeoutMs = 5000): Promise<Message> {
    const id = this.nextId++;
    this.send({ method, params, id });
    return this.wait((m) => m["id"] === id && !("method" in m), timeoutMs, `reply to ${method}`);
  }

  /** Notifications received so far with `method`. */
  notifications(method: string): Message[] {
    return this.messages.filter((m) => m["method"] === method);
  }

  close(): void {
    this.sock.destroy();
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Normalises OVSDB JSON for comparison: every UUID becomes "<uuid>" (also
 * as an object key), objects get sorted keys, and objects keyed by UUIDs
 * (table updates) become sorted lists of their values, because which row
 * got which random UUID is not comparable between servers.
 */
export function normalize(v: unknown): unknown {
  if (typeof v === "string") return UUID_RE.test(v) ? "<uuid>" : v;
  if (Array.isArray(v)) {
    const arr = v.map(normalize);
    // Sets and maps are ordered by UUID value, which differs: sort normalised elements.
    if ((v[0] === "set" || v[0] === "map") && v.length === 2 && Array.isArray(arr[1])) {
      return [v[0], (arr[1] as unknown[]).map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x) as unknown)];
    }
    return arr;
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length > 0 && keys.every((k) => UUID_RE.test(k))) {
      return keys.map((k) => JSON.stringify(normalize(o[k]))).sort();
    }
    const out: Record<string, unknown> = {};
    for (const k of keys.sort()) out[k] = normalize(o[k]);
    return out;
  }
  return v;
}

/** Replaces UUIDs in text output (ovs-vsctl, ovsdb-client) by "<uuid>". */
export function maskUuids(text: string): string {
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>");
}
