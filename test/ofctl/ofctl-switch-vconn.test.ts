/**
 * The OpenFlow client connection (src/openflow/vconn.ts) against a scripted
 * peer, no OVS needed: hello negotiation (and its failure), replies matched
 * by xid, barrier-confirmed "no reply" requests, multipart replies until
 * the last, end of file, and the target names ovs-ofctl accepts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { tempDir } from "../util/ovs.js";
import { encodeMessage, makeHello, OfpFramer } from "../../src/openflow/index.js";
import { parseVconnName, resetXids, Vconn, VconnError, xidOf } from "../../src/openflow/vconn.js";
import { portNamesToNumbers, portNumbersToNames } from "../../src/cli/ofctl-switch.js";

/** A peer that says hello with `versions` and answers each message with `reply(msg)` (any number of messages). */
async function peer(versions: number, reply: (m: Uint8Array, send: (b: Uint8Array) => void) => void): Promise<{ path: string; close: () => void }> {
  const dir = tempDir("tsovs-vconn-");
  const sock = path.join(dir, "peer.sock");
  const server = net.createServer((c) => {
    c.on("error", () => undefined);
    const framer = new OfpFramer();
    c.write(encodeMessage(makeHello(versions, 77)));
    let helloSeen = false;
    c.on("data", (d: Buffer) => {
      framer.push(new Uint8Array(d));
      for (let m = framer.next(); m; m = framer.next()) {
        if (!helloSeen) {
          helloSeen = true;
          continue;
        }
        reply(m, (b) => c.write(b));
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  return {
    path: sock,
    close: () => {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withXid(b: Uint8Array, xid: number): Uint8Array {
  const c = Uint8Array.from(b);
  new DataView(c.buffer).setUint32(4, xid);
  return c;
}

test("hello negotiation picks the highest common version; none in common is a protocol error", async () => {
  const p = await peer((1 << 1) | (1 << 4) | (1 << 6), () => undefined);
  try {
    resetXids();
    const v = await Vconn.open(`unix:${p.path}`, (1 << 1) | (1 << 4));
    assert.equal(v.version, 4);
    v.close();
    await assert.rejects(Vconn.open(`unix:${p.path}`, 1 << 5), (e: unknown) => e instanceof VconnError && e.reason === "Protocol error" && e.duringHello);
  } finally {
    p.close();
  }
});

test("transact matches replies by xid; noreply waits for the barrier; dumps end at the last part", async () => {
  const p = await peer(1 << 4, (m, send) => {
    const xid = xidOf(m);
    if (m[1] === 2) {
      // Echo request: first something unrelated, then the reply.
      send(withXid(encodeMessage({ type: "OFPT_ECHO_REPLY", version: 4, xid: 0, body: { data: new Uint8Array(0) } }), 999));
      send(encodeMessage({ type: "OFPT_ECHO_REPLY", version: 4, xid, body: { data: m.subarray(8) } }));
    } else if (m[1] === 20) {
      send(encodeMessage({ type: "OFPT_BARRIER_REPLY", version: 4, xid, body: {} }));
    } else if (m[1] === 5) {
      // A features request "fails".
      send(encodeMessage({ type: "OFPT_ERROR", version: 4, xid, body: { error: "OFPBRC_BAD_TYPE", data: m } }));
    } else if (m[1] === 18) {
      send(encodeMessage({ type: "OFPST_DESC_REPLY", version: 4, xid, statsFlags: 1, body: { mfr: "a", hw: "b", sw: "c", serial: "d", dp: "e" } } as never));
      send(encodeMessage({ type: "OFPST_DESC_REPLY", version: 4, xid, statsFlags: 0, body: { mfr: "a", hw: "b", sw: "c", serial: "d", dp: "e" } } as never));
    }
  });
  try {
    resetXids();
    const v = await Vconn.open(`unix:${p.path}`, 1 << 4);
    const echo = encodeMessage({ type: "OFPT_ECHO_REQUEST", version: 4, xid: 2, body: { data: Uint8Array.of(1, 2, 3) } });
    const r = await v.transact(echo);
    assert.equal(xidOf(r), 2);
    assert.deepEqual([...r.subarray(8)], [1, 2, 3]);
    const none = await v.transactNoreply(encodeMessage({ type: "OFPT_SET_CONFIG", version: 4, xid: 3, body: { frag: 0, invalidTtlToController: false, missSendLen: 128 } }));
    assert.equal(none, null);
    const err = await v.transactNoreply(encodeMessage({ type: "OFPT_FEATURES_REQUEST", version: 4, xid: 5, body: {} }));
    assert.ok(err && err[1] === 1 && xidOf(err) === 5);
    const parts: Uint8Array[] = [];
    for await (const part of v.dumpStats(encodeMessage({ type: "OFPST_DESC_REQUEST", version: 4, xid: 7, body: {} }))) parts.push(part);
    assert.equal(parts.length, 2);
    v.close();
  } finally {
    p.close();
  }
});

test("a peer that hangs up ends a transaction with End of file", async () => {
  const dir = tempDir("tsovs-vconn-");
  const sock = path.join(dir, "eof.sock");
  const server = net.createServer((c) => {
    c.write(encodeMessage(makeHello(1 << 1, 1)));
    c.on("data", () => c.end());
  });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  try {
    const v = await Vconn.open(`unix:${sock}`, 1 << 1);
    await assert.rejects(v.transact(encodeMessage({ type: "OFPT_FEATURES_REQUEST", version: 1, xid: 9, body: {} })), (e: unknown) => e instanceof VconnError && /End of file|Connection reset/.test(e.reason));
    v.close();
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("target names: unix:, tcp: with OVS's default port, and what is refused", async () => {
  assert.deepEqual(parseVconnName("unix:/a/b"), { path: "/a/b" });
  assert.deepEqual(parseVconnName("tcp:127.0.0.1"), { host: "127.0.0.1", port: 6653, defaulted: true });
  assert.deepEqual(parseVconnName("tcp:[::1]:99"), { host: "::1", port: 99, defaulted: false });
  assert.equal((parseVconnName("tcp:1.2.3") as VconnError).reason, "Address family not supported by protocol");
  assert.equal((parseVconnName("tcp:127.0.0.1:99999") as VconnError).reason, "Address family not supported by protocol");
  assert.equal((parseVconnName("ssl:127.0.0.1") as VconnError).reason, "Protocol not available");
  assert.equal((parseVconnName("foo:bar") as VconnError).reason, "Address family not supported by protocol");
  await assert.rejects(Vconn.open("unix:/nonexistent/x.sock", 2), (e: unknown) => e instanceof VconnError && e.reason === "No such file or directory");
});

test("port names in flow text become numbers, and back for --names", () => {
  const names = new Map([["p1", 1], ["eth-2", 2], ["br0", 0xfffe]]);
  assert.equal(portNamesToNumbers("in_port=p1,actions=output:eth-2,p1,enqueue:p1:3,resubmit(eth-2,3)", names), "in_port=1,actions=output:2,1,enqueue:1:3,resubmit(2,3)");
  // Unknown names are left for the parser to judge; the bridge's port is LOCAL.
  assert.equal(portNamesToNumbers("in_port=nosuch,actions=br0", names), "in_port=nosuch,actions=LOCAL");
  assert.equal(portNumbersToNames("in_port=1 actions=output:2,enqueue:1:3", new Map([[1, "p1"], [2, "eth-2"]])), "in_port=p1 actions=output:eth-2,enqueue:p1:3");
});
