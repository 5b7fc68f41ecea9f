/**
 * A minimal OpenFlow client for tests: connects to a switch's `unix:`
 * management socket, negotiates one version, sends messages followed by a
 * barrier and returns the raw replies that came before the barrier reply
 * (errors and multipart replies), so replies can be compared byte for byte.
 */
import * as net from "node:net";
import { decodeMessage, encodeMessage, OfpFramer, type OfpMessage } from "../../src/openflow/index.js";

export class RawOfconn {
  private readonly framer = new OfpFramer();
  private waiting: ((m: Uint8Array) => void) | null = null;
  private readonly queue: Uint8Array[] = [];
  private xid = 100;

  private constructor(private readonly sock: net.Socket) {
    sock.on("data", (d) => {
      this.framer.push(d);
      for (let m = this.framer.next(); m !== null; m = this.framer.next()) {
        const w = this.waiting;
        if (w) {
          this.waiting = null;
          w(m);
        } else this.queue.push(m);
      }
    });
  }

  /** Connects and completes the hello exchange for exactly `version`. */
  static async open(path: string, version: number): Promise<RawOfconn> {
    const sock = net.connect(path);
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", reject);
    });
    const c = new RawOfconn(sock);
    sock.write(encodeMessage({ type: "OFPT_HELLO", version, xid: 1, body: { versions: 1 << version } } as OfpMessage));
    const hello = decodeMessage(await c.next());
    if (!hello.ok || hello.msg.type !== "OFPT_HELLO") throw new Error("no hello");
    c.version = version;
    return c;
  }

  version = 0;

  private next(timeoutMs = 5000): Promise<Uint8Array> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no reply from the switch")), timeoutMs);
      this.waiting = (m) => {
        clearTimeout(t);
        resolve(m);
      };
    });
  }

  /** Sends `msgs` (xids assigned) then a barrier; returns the raw messages received before the barrier reply. */
  async transact(msgs: Omit<OfpMessage, "xid" | "version">[]): Promise<Uint8Array[]> {
    for (const m of msgs) this.sock.write(encodeMessage({ ...m, version: this.version, xid: this.xid++ } as OfpMessage));
    const bxid = this.xid++;
    this.sock.write(encodeMessage({ type: "OFPT_BARRIER_REQUEST", version: this.version, xid: bxid, body: {} } as OfpMessage));
    const out: Uint8Array[] = [];
    for (;;) {
      const m = await this.next();
      const xid = new DataView(m.buffer, m.byteOffset).getUint32(4);
      if (xid === bxid) return out;
      out.push(m);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
