/**
 * Bad input over a live OpenFlow connection. Valid messages of every type
 * in every version (the codec tests' samples) are mutated — bytes of the
 * body flipped, truncated, extended, the version or type byte changed —
 * and sent on the management socket:
 *
 * - to OVS's ovs-vswitchd and to tsovs, one at a time, each followed by a
 *   barrier: both answer with the same kinds of messages and the same
 *   OpenFlow errors (type and code), and close the connection in the same
 *   cases;
 * - to tsovs alone, 100,000 of them (TSOVS_FUZZ_MESSAGES to change),
 *   pipelined: the switch neither crashes nor hangs, and answers a barrier
 *   after each batch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { decodeMessage, encodeMessage, OFP_RAWS, OfpFramer, type OfpMessage, type OfpMsgType } from "../../src/openflow/index.js";
import { ovsSkip } from "../util/ovs.js";
import { mirrorArgs, startRealBridge, startTsovsBridge } from "../util/ofproto.js";
import { samplesFor } from "../openflow/samples.js";
import { rng as prng } from "../openflow/match-corpus.js";

const skip = ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-ofctl");

/** Every sample message the codec tests know, encoded, by version. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const raw of OFP_RAWS) {
    const type = raw.type as OfpMsgType;
    if (type === "OFPT_HELLO") continue;
    for (let v = raw.lo; v <= raw.hi; v++) {
      const key = `${type}/${v}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let msgs: OfpMessage[];
      try {
        msgs = samplesFor(type, v);
      } catch {
        continue;
      }
      for (const m of msgs) {
        try {
          out.push(encodeMessage(m));
        } catch {
          /* a sample this version cannot express */
        }
      }
    }
  }
  return out;
}

/** A mutation of `base` whose header length matches its size (so framing stays in step), with xid `xid`. */
function mutate(base: Uint8Array, r: () => number, xid: number): Uint8Array {
  let b = base.slice();
  const pick = r();
  if (pick < 0.4 && b.length > 8) {
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) b[8 + Math.floor(r() * (b.length - 8))] = Math.floor(r() * 256);
  } else if (pick < 0.6) {
    b = b.slice(0, 8 + Math.floor(r() * (b.length - 7)));
  } else if (pick < 0.7) {
    const extra = new Uint8Array(1 + Math.floor(r() * 16)).map(() => Math.floor(r() * 256));
    const nb = new Uint8Array(b.length + extra.length);
    nb.set(b);
    nb.set(extra, b.length);
    b = nb;
  } else if (pick < 0.8) {
    b[0] = Math.floor(r() * 8);
  } else if (pick < 0.9) {
    b[1] = Math.floor(r() * 40);
  }
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  new DataView(b.buffer).setUint32(4, xid);
  return b;
}

/** A raw OpenFlow connection to a management socket. */
class Conn {
  private readonly framer = new OfpFramer();
  private readonly got: Uint8Array[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  private constructor(private readonly sock: net.Socket) {
    sock.on("data", (d) => {
      this.framer.push(d);
      for (let m = this.framer.next(); m !== null; m = this.framer.next()) this.got.push(m);
      this.wake?.();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
    sock.on("error", () => undefined);
  }

  static async open(file: string, version: number): Promise<Conn> {
    const sock = net.connect(file);
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", reject);
    });
    const c = new Conn(sock);
    sock.write(encodeMessage({ type: "OFPT_HELLO", version, xid: 1, body: { versions: 1 << version } } as OfpMessage));
    const hello = await c.until(() => c.got.length > 0, 5000);
    if (!hello) throw new Error("no hello");
    c.got.shift();
    return c;
  }

  private until(cond: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      const check = (): void => {
        if (cond() || this.closed) {
          clearTimeout(t);
          this.wake = null;
          resolve(cond());
        } else this.wake = check;
      };
      check();
    });
  }

  send(b: Uint8Array): void {
    if (!this.closed) this.sock.write(b);
  }

  /** Sends a barrier (xid `xid`) and returns what came before its reply; null when the connection closed or went silent. */
  async barrier(version: number, xid: number, ms = 10_000): Promise<Uint8Array[] | null> {
    this.send(encodeMessage({ type: "OFPT_BARRIER_REQUEST", version, xid, body: {} } as OfpMessage));
    const isReply = (m: Uint8Array): boolean => new DataView(m.buffer, m.byteOffset).getUint32(4) === xid && m[1] !== 1;
    const ok = await this.until(() => this.got.some(isReply), ms);
    if (!ok) return null;
    const i = this.got.findIndex(isReply);
    const before = this.got.splice(0, i + 1);
    before.pop();
    return before;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** What a reply says, for comparison: its type, and an error's OVS name. */
function summary(m: Uint8Array): string {
  const d = decodeMessage(m);
  if (!d.ok) return `undecodable(${d.error})`;
  if (d.msg.type === "OFPT_ERROR") return `error:${(d.msg.body as { error: string }).error}`;
  return d.msg.type;
}

test("mutated messages get the same answers from OVS and tsovs", { skip, timeout: 240_000 }, async () => {
  const real = await startRealBridge();
  const ts = await startTsovsBridge(mirrorArgs(real));
  const version = 4;
  const open = async (): Promise<[Conn, Conn]> => [
    await Conn.open(path.join(real.dir, "br0.mgmt"), version),
    await Conn.open(path.join(ts.dir, "br0.mgmt"), version),
  ];
  let [co, ct] = await open();
  const r = prng(0x5eed);
  const base = corpus().filter((b) => b[0] === version);
  const n = Number(process.env["TSOVS_FUZZ_DIFF"] ?? 1500);
  const diffs: string[] = [];
  let compared = 0;
  try {
    for (let i = 0; i < n; i++) {
      const xid = 0x1000 + 2 * i;
      const m = mutate(base[Math.floor(r() * base.length)]!, r, xid);
      co.send(m);
      ct.send(m);
      const [ro, rt] = await Promise.all([co.barrier(version, xid + 1), ct.barrier(version, xid + 1)]);
      // A held multipart part times out a second later, between whichever
      // messages are then passing: that error is compared on its own below.
      const timely = (x: string): boolean => x !== "error:OFPBRC_MULTIPART_REQUEST_TIMEOUT";
      const so = ro === null ? "closed" : ro.map(summary).filter(timely).join(" ");
      const st = rt === null ? "closed" : rt.map(summary).filter(timely).join(" ");
      compared++;
      if (so !== st) diffs.push(`${Buffer.from(m).toString("hex").slice(0, 160)}: OVS ${so} | tsovs ${st}`);
      if (ro === null || rt === null) {
        co.close();
        ct.close();
        [co, ct] = await open();
      }
    }
  } finally {
    co.close();
    ct.close();
    await ts.stop();
    await real.stop();
  }
  assert.ok(compared >= n);
  assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} of ${compared} messages answered differently`);
});

test("a multipart request left incomplete times out as in OVS, and one completed is answered", { skip, timeout: 60_000 }, async () => {
  const real = await startRealBridge();
  const ts = await startTsovsBridge(mirrorArgs(real));
  try {
    for (const dir of [real.dir, ts.dir]) {
      const c = await Conn.open(path.join(dir, "br0.mgmt"), 4);
      // A port-desc request in two parts (OFPMP_PORT_DESC, "more", then the last).
      c.send(Buffer.from("0412001000000030000d000100000000", "hex"));
      c.send(Buffer.from("0412001000000030000d000000000000", "hex"));
      const done = await c.barrier(4, 0x31);
      assert.deepEqual(done?.map(summary), ["OFPST_PORT_DESC_REPLY"], dir);
      // A part never completed: after a second, OFPBRC_MULTIPART_REQUEST_TIMEOUT.
      c.send(Buffer.from("04120010000000320000000100000000", "hex"));
      await new Promise((r) => setTimeout(r, 1600));
      const late = await c.barrier(4, 0x33);
      assert.deepEqual(late?.map(summary), ["error:OFPBRC_MULTIPART_REQUEST_TIMEOUT"], dir);
      c.close();
    }
  } finally {
    await ts.stop();
    await real.stop();
  }
});

test("100,000 mutated messages on a live connection: no crash, no hang", { timeout: 300_000 }, async (t) => {
  const ts = await startTsovsBridge(["br0", "--port", "p1:1", "--port", "p2:2"]);
  const total = Number(process.env["TSOVS_FUZZ_MESSAGES"] ?? 100_000);
  const all = corpus();
  const r = prng(0xf00d);
  let sent = 0;
  let reconnects = 0;
  try {
    for (const version of [1, 2, 3, 4, 5, 6]) {
      const base = all.filter((b) => b[0] === version);
      let c = await Conn.open(path.join(ts.dir, "br0.mgmt"), version);
      const quota = Math.ceil(total / 6);
      for (let done = 0; done < quota; ) {
        const batch = Math.min(500, quota - done);
        for (let i = 0; i < batch; i++) c.send(mutate(base[Math.floor(r() * base.length)]!, r, 0x100 + done + i));
        done += batch;
        sent += batch;
        const got = await c.barrier(version, 0xfffffff0);
        if (got === null) {
          // The switch may close a connection on some inputs, as OVS does; it must still be there.
          assert.equal(ts.child.exitCode, null, `the switch exited: ${ts.output().slice(-2000)}`);
          c.close();
          c = await Conn.open(path.join(ts.dir, "br0.mgmt"), version);
          reconnects++;
        }
      }
      // A fresh connection still gets answers.
      const fresh = await Conn.open(path.join(ts.dir, "br0.mgmt"), version);
      assert.notEqual(await fresh.barrier(version, 7), null, `no barrier reply in ${version}`);
      fresh.close();
      c.close();
    }
  } finally {
    await ts.stop();
  }
  assert.ok(sent >= total, `sent ${sent}`);
  assert.equal(ts.child.exitCode === null || ts.child.exitCode === 0 || ts.child.signalCode === "SIGTERM", true);
  t.diagnostic(`${sent} mutated messages, ${reconnects} reconnections`);
});
