/**
 * The real ovs-testcontroller (Debian package openvswitch-testcontroller)
 * drives a tsovs bridge: the bridge connects to it (`--controller
 * tcp:127.0.0.1:PORT`), the handshake completes, and the flows it installs
 * (`--with-flows FILE`) are in the bridge's table — the same flow table
 * OVS's ovs-vswitchd ends up with under the same controller.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { ovsSkip, run, tempDir, waitFor } from "../util/ovs.js";
import { mirrorArgs, ofctl, startRealBridge, startTsovsBridge } from "../util/ofproto.js";

const skip = ovsSkip("ovs-testcontroller", "ovs-vswitchd", "ovsdb-server", "ovs-ofctl");

const FLOWS = [
  "priority=100,ip,nw_dst=10.0.0.1,actions=output:2",
  "priority=90,arp,actions=NORMAL",
  "table=0,priority=10,in_port=1,actions=output:3",
  "priority=0,actions=CONTROLLER:65535",
];

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startController(dir: string): Promise<{ port: number; child: ChildProcess; log: () => string }> {
  const port = await freePort();
  const flows = path.join(dir, "controller-flows.txt");
  fs.writeFileSync(flows, FLOWS.join("\n") + "\n");
  const child = spawn("ovs-testcontroller", [`ptcp:${port}:127.0.0.1`, "--with-flows", flows, "-n", `--unixctl=${path.join(dir, "tc.ctl")}`, "-vconsole:info"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  await waitFor(() => /listening|ptcp/.test(log) || child.exitCode !== null, 2000, "ovs-testcontroller").catch(() => undefined);
  return { port, child, log: () => log };
}

/** The flows of br0 in `dir`, without statistics, sorted. */
function flows(dir: string): string[] {
  const r = ofctl(dir, ["dump-flows", "--no-stats", "br0"]);
  assert.equal(r.status, 0, r.out);
  return r.out.split("\n").filter((l) => l.startsWith(" ")).map((l) => l.trim()).sort();
}

test("ovs-testcontroller connects to a tsovs bridge and installs its flows, as with OVS", { skip, timeout: 60_000 }, async () => {
  const work = tempDir("tsovs-testcontroller-");
  const real = await startRealBridge();
  const c1 = await startController(work);
  const c2 = await startController(work);
  const ts = await startTsovsBridge([...mirrorArgs(real), "--controller", `tcp:127.0.0.1:${c2.port}`, "--fail-mode", "secure"]);
  try {
    run("ovs-vsctl", ["set-fail-mode", "br0", "secure", "--", "set-controller", "br0", `tcp:127.0.0.1:${c1.port}`], real.dir);
    const want = FLOWS.length;
    await waitFor(() => flows(real.dir).length >= want && flows(ts.dir).length >= want, 20_000, "the controller's flows").catch(() => undefined);
    const got = flows(ts.dir);
    assert.equal(got.length, want, `tsovs has ${got.join("; ")}\ncontroller log:\n${c2.log()}\nswitch log:\n${ts.output()}`);
    assert.deepEqual(got, flows(real.dir));
  } finally {
    for (const c of [c1, c2]) c.child.kill("SIGTERM");
    await ts.stop();
    await real.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
