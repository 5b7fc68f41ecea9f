/**
 * The real ovs-testcontroller (a learning switch) controls a
 * `fail_mode=secure` bridge of `tsovs start`: packets injected into dummy
 * ports with `netdev-dummy/receive` are flooded while the destination is
 * unknown and reach only the right port once the controller has learned
 * it — port for port what happens to the same packets on OVS 3.1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { ovsSkip, tempDir, waitFor } from "../util/ovs.js";
import { readPcap } from "../util/dpctl.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

const A = "50:54:00:00:00:0a";
const B = "50:54:00:00:00:0b";
const C = "50:54:00:00:00:0c";

/** An ICMP echo between two hosts, as a datapath flow for netdev-dummy/receive. */
function frame(inPort: number, src: string, dst: string): string {
  return `in_port(${inPort}),eth(src=${src},dst=${dst}),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)`;
}

/** Injections and, after each, the packets every port has sent so far (p1, p2, p3). */
const STEPS: { port: number; src: string; dst: string }[] = [
  { port: 1, src: A, dst: B }, // B unknown: flooded to p2 and p3
  { port: 2, src: B, dst: A }, // A learned on p1: only p1
  { port: 1, src: A, dst: B }, // B learned on p2: only p2
  { port: 3, src: C, dst: A }, // only p1
  { port: 1, src: A, dst: C }, // only p3
];

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function sh(sw: Switch, cmd: string, args: string[]): Promise<void> {
  const r = await runAsync(cmd, args, sw.dir, 20_000);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
}

const txCounts = (sw: Switch): number[] => [1, 2, 3].map((i) => readPcap(path.join(sw.dir, `p${i}.pcap`)).length);

async function drive(sw: Switch, controllerPort: number): Promise<string[]> {
  const ports = [1, 2, 3].flatMap((i) => ["--", "add-port", "br0", `p${i}`, "--", "set", "interface", `p${i}`, "type=dummy", `ofport_request=${i}`, `options:tx_pcap=${path.join(sw.dir, `p${i}.pcap`)}`]);
  await sh(sw, "ovs-vsctl", ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "fail_mode=secure", ...ports]);
  await sh(sw, "ovs-vsctl", ["set-controller", "br0", `tcp:127.0.0.1:${controllerPort}`]);
  for (let i = 0; ; i++) {
    if ((await runAsync("ovs-vsctl", ["get", "controller", "br0", "is_connected"], sw.dir)).stdout.trim() === "true") break;
    if (i > 150) assert.fail("the bridge never connected to the controller");
    await new Promise((r) => setTimeout(r, 100));
  }
  // The learning switch clears the table and sets the switch up once connected; let it finish.
  await new Promise((r) => setTimeout(r, 500));
  const seen: string[] = [];
  for (const s of STEPS) {
    const before = txCounts(sw);
    await sh(sw, "ovs-appctl", ["netdev-dummy/receive", `p${s.port}`, frame(s.port, s.src, s.dst)]);
    // The packet goes up to the controller and comes back as a packet-out: wait until the output settles.
    let last = "";
    let stable = 0;
    await waitFor(() => {
      const now = txCounts(sw).map((n, i) => n - before[i]!).join(",");
      stable = now === last && now !== "0,0,0" ? stable + 1 : 0;
      last = now;
      return stable >= 5;
    }, 10_000, "packets out").catch(() => undefined);
    seen.push(`p${s.port} ${s.src}->${s.dst}: sent on p1,p2,p3 = ${last}`);
  }
  return seen;
}

function startController(dir: string, port: number): ChildProcess {
  return spawn("ovs-testcontroller", [`ptcp:${port}:127.0.0.1`, `--unixctl=${path.join(dir, `tc${port}.ctl`)}`], { stdio: "ignore" });
}

test("ovs-testcontroller drives a fail_mode=secure bridge: learned destinations get only their port (differential)", { skip: ovsSkip("ovs-testcontroller", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl"), timeout: 120_000 }, async () => {
  const realDir = tempDir("tc-ovs-");
  const tsDir = tempDir("tc-tsovs-");
  const p1 = await freePort();
  const p2 = await freePort();
  const c1 = startController(realDir, p1);
  const c2 = startController(tsDir, p2);
  const real = await startRealSwitch(realDir);
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(tsDir);
    const want = await drive(real, p1);
    const got = await drive(ts, p2);
    assert.deepEqual(got, want);
    // The learning switch really learned: after the first flood, single outputs.
    assert.match(want[2]!, /= 0,1,0$/);
  } finally {
    c1.kill("SIGTERM");
    c2.kill("SIGTERM");
    await ts?.stop();
    await real.stop();
    fs.rmSync(realDir, { recursive: true, force: true });
    fs.rmSync(tsDir, { recursive: true, force: true });
  }
});
