/**
 * The handshake and framing against a real OVS client: a tiny OpenFlow
 * responder built from the codec (OfpFramer, receiveHello, decodeMessage,
 * encodeMessage) answers `ovs-ofctl probe`, which negotiates a version,
 * sends an echo request and waits for the reply; and refuses a client
 * with no common version the way OVS does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { ovsSkip, tempDir } from "../util/ovs.js";
import {
  bitmapOf,
  decodeMessage,
  encodeMessage,
  errorReply,
  makeHello,
  OfpFramer,
  receiveHello,
} from "../../src/openflow/index.js";

const skip = ovsSkip("ovs-ofctl");

interface Responder {
  sock: string;
  logs: string[];
  versions: number[];
  close(): Promise<void>;
}

/** Serves OpenFlow on a unix socket, allowing the `allowed` versions. */
async function responder(allowed: number): Promise<Responder> {
  const dir = tempDir("tsovs-ofp-");
  const sock = path.join(dir, "br0.mgmt");
  const logs: string[] = [];
  const versions: number[] = [];
  const server = net.createServer((c) => {
    const framer = new OfpFramer();
    let version = 0;
    let done = false;
    c.write(encodeMessage(makeHello(allowed)));
    c.on("data", (chunk) => {
      if (done) return;
      framer.push(chunk);
      for (let m = framer.next(); m; m = framer.next()) {
        if (!version) {
          const h = receiveHello(allowed, m);
          if (!h.ok) {
            done = true;
            logs.push(h.log);
            if (h.reply) c.end(h.reply);
            else c.destroy();
            return;
          }
          version = h.version;
          versions.push(version);
          continue;
        }
        const d = decodeMessage(m);
        if (d.ok && d.msg.type === "OFPT_ECHO_REQUEST") {
          c.write(encodeMessage({ type: "OFPT_ECHO_REPLY", version, xid: d.msg.xid, body: { data: d.msg.body.data } }));
        } else if (!d.ok) {
          c.write(encodeMessage(errorReply(d.error, m)));
        }
      }
    });
    c.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  return {
    sock,
    logs,
    versions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

function ofctl(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("ovs-ofctl", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.setEncoding("utf8");
    p.stderr.on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

test("ovs-ofctl probe negotiates the highest common version and gets its echo reply", { skip, timeout: 60_000 }, async () => {
  const r = await responder(bitmapOf([1, 3, 4]));
  try {
    const a = await ofctl(["-O", "OpenFlow10,OpenFlow13,OpenFlow14", "probe", `unix:${r.sock}`]);
    assert.equal(a.status, 0, a.stderr);
    const b = await ofctl(["-O", "OpenFlow10", "probe", `unix:${r.sock}`]);
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual(r.versions, [4, 1]);
  } finally {
    await r.close();
  }
});

test("no common version: both sides refuse with OVS's words", { skip, timeout: 60_000 }, async () => {
  const r = await responder(bitmapOf([6]));
  try {
    const a = await ofctl(["-O", "OpenFlow10,OpenFlow11", "probe", `unix:${r.sock}`]);
    assert.notEqual(a.status, 0);
    assert.match(a.stderr, /version negotiation failed \(we support version 0x02 and earlier, peer supports version 0x06\)/);
    assert.deepEqual(r.logs, ["version negotiation failed (we support version 0x06, peer supports version 0x02 and earlier)"]);
  } finally {
    await r.close();
  }
});

test("receiveHello: the reply OVS would send", () => {
  const out = receiveHello(bitmapOf([4]), encodeMessage(makeHello(bitmapOf([1]))));
  assert.equal(out.ok, false);
  if (out.ok || !out.reply) return;
  const d = decodeMessage(out.reply);
  assert.ok(d.ok && d.msg.type === "OFPT_ERROR");
  assert.equal(d.msg.version, 1);
  assert.equal(d.msg.body.error, "OFPHFC_INCOMPATIBLE");
  assert.equal(new TextDecoder().decode(d.msg.body.data), "We support version 0x04, you support version 0x01, no common versions.");
  const notHello = receiveHello(bitmapOf([4]), encodeMessage({ type: "OFPT_FEATURES_REQUEST", version: 4, xid: 1, body: {} }));
  assert.deepEqual(notHello, { ok: false, reply: null, log: "received message while expecting hello" });
});
