/**
 * Two `system` netdevs as a two-port wire (root only): namespaces ns1 and
 * ns2 on veth pairs whose root ends are opened as system ports; a tiny
 * forwarder driven by watchRx() copies every frame from one port to the
 * other, and a TCP transfer between the namespaces (ARP included) arrives
 * complete. The namespace ends have TX checksum offload turned off by
 * setTxChecksumOffload(), as a userspace switch needs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { DpPacketBatch, DpPacketPool } from "../../src/packet/dp-packet.js";
import { LinuxNetdev, systemNetdevClass } from "../../src/netdev/netdev-linux.js";
import { ETHTOOL_GTSO, ETHTOOL_GTXCSUM, ethtoolValue, linuxFfi, setTxChecksumOffload, type LinuxFfi } from "../../src/netdev/linux-ffi.js";
import { createVeth, deleteLink, disableIpv6, ifPrefix, ip, linuxNetSkip } from "../util/linux-net.js";

const skip = linuxNetSkip();
const PFX = ifPrefix("f");

function ffi(): LinuxFfi {
  const f = linuxFfi();
  if (typeof f === "string") throw new Error(f);
  return f;
}

test("setTxChecksumOffload turns TX checksum offload and TSO off", { skip }, () => {
  const a = `${PFX}x`;
  createVeth(a, `${PFX}y`);
  try {
    assert.equal(ethtoolValue(ffi(), a, ETHTOOL_GTXCSUM), 1);
    assert.equal(setTxChecksumOffload(ffi(), a, false), 0);
    assert.equal(ethtoolValue(ffi(), a, ETHTOOL_GTXCSUM), 0);
    assert.equal(ethtoolValue(ffi(), a, ETHTOOL_GTSO), 0);
  } finally {
    deleteLink(a);
  }
});

/** Runs `node -e script` in namespace `ns`; resolves with its stdout. */
function nodeInNs(ns: string, script: string, timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
    c.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

test("system: a TCP transfer crosses two system ports joined by a watchRx-driven forwarder", { skip, timeout: 60_000 }, async () => {
  const ns1 = `${PFX}n1`;
  const ns2 = `${PFX}n2`;
  const r1 = `${PFX}a`;
  const r2 = `${PFX}b`;
  const e1 = `${PFX}A`;
  const e2 = `${PFX}B`;
  const opened: LinuxNetdev[] = [];
  const watches: { close(): void }[] = [];
  try {
    for (const [ns, r, e, addr] of [[ns1, r1, e1, "10.77.0.1/24"], [ns2, r2, e2, "10.77.0.2/24"]] as const) {
      ip("netns", "add", ns);
      createVeth(r, e);
      assert.equal(setTxChecksumOffload(ffi(), e, false), 0);
      ip("link", "set", e, "netns", ns);
      ip("-n", ns, "addr", "add", addr, "dev", e);
      ip("-n", ns, "link", "set", e, "up");
      ip("-n", ns, "link", "set", "lo", "up");
      disableIpv6(r);
    }
    const p1 = systemNetdevClass.open(r1, {});
    const p2 = systemNetdevClass.open(r2, {});
    assert.ok(p1 instanceof LinuxNetdev && p2 instanceof LinuxNetdev, `${String(p1)} ${String(p2)}`);
    opened.push(p1, p2);
    const pool = new DpPacketPool(512);
    const batch = new DpPacketBatch();
    let forwarded = 0;
    const drain = (from: LinuxNetdev, to: LinuxNetdev): void => {
      let n;
      while ((n = from.rxBatch(batch, pool)) > 0) {
        forwarded += n;
        to.txBatch(batch);
      }
    };
    watches.push(p1.watchRx(() => drain(p1, p2)), p2.watchRx(() => drain(p2, p1)));

    const BYTES = 4 << 20;
    const server = nodeInNs(ns2, `
      const net = require("net");
      let n = 0;
      const s = net.createServer((c) => { c.on("data", (d) => (n += d.length)); c.on("end", () => { console.log(n); s.close(); }); });
      s.listen(5001, "10.77.0.2", () => console.log("listening"));
      setTimeout(() => process.exit(3), 40000).unref();
    `, 45_000);
    // Give the server a moment to listen, then connect (retrying while it starts).
    await new Promise((r) => setTimeout(r, 300));
    const client = await nodeInNs(ns1, `
      const net = require("net");
      const buf = Buffer.alloc(${BYTES}, 0x5a);
      function go(tries) {
        const c = net.connect(5001, "10.77.0.2", () => c.end(buf));
        c.on("error", (e) => { if (tries > 0) setTimeout(() => go(tries - 1), 200); else { console.error(e.message); process.exit(2); } });
        c.on("close", () => {});
      }
      go(20);
    `, 40_000);
    const srv = await server;
    assert.equal(client.code, 0, `client: ${client.err}`);
    assert.equal(srv.out.trim().split("\n").pop(), String(BYTES), `server: ${srv.out} ${srv.err}`);
    assert.ok(forwarded > 100, `forwarded ${forwarded} frames`);
  } finally {
    for (const w of watches) w.close();
    for (const p of opened) p.close();
    for (const ns of [ns1, ns2]) {
      try {
        ip("netns", "del", ns);
      } catch {
        /* not created */
      }
    }
    deleteLink(r1);
    deleteLink(r2);
  }
});

