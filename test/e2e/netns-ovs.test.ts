/**
 * Differential, on real devices (root, real OVS 3.1 installed): the same
 * network built twice — a switch namespace with a `datapath_type=netdev`
 * bridge whose system ports lead by veth pairs to host namespaces — once
 * with tsovs (`tsovs start`, no dummy override) and once with OVS's own
 * userspace datapath (ovsdb-server + ovs-vswitchd). The same ovs-vsctl
 * commands configure both; then the Interface rows (what the kernel
 * reports: ofport, states, MTU, speed, duplex, driver, statistics keys,
 * errors), `dpif/show`, `ovs-ofctl show`, and who reaches whom by ping (access ports of
 * two VLANs, a port that does not exist, a port whose peer is down) must
 * be the same.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { addHost, addNetns, deleteNetns, ifPrefix, ip, linuxNetSkip, nsRun, pingOnce, startTsovsInNetns, type NsDaemon } from "../util/linux-net.js";
import { OVS_SCHEMA, ovsSkip, run, tempDir } from "../util/ovs.js";
import { parseList } from "../util/vswitchd.js";

const skip = linuxNetSkip() || ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovs-vswitchd", "ovs-appctl");
const PFX = ifPrefix("o");
const HOSTS = 4;

/** One copy of the network: its switch namespace, hosts and run directory. */
interface Side {
  name: "tsovs" | "ovs";
  sw: string;
  dir: string;
  host(i: number): string;
  stop(): Promise<void>;
}

const sides: Side[] = [];
/** Port names are the same on both sides (each lives in its own switch namespace). */
const port = (i: number): string => `p${i}`;

function makeSide(name: Side["name"], tag: string): Side {
  const sw = `${PFX}${tag}s`;
  const side: Side = { name, sw, dir: tempDir(`netns-${name}-`), host: (i) => `${PFX}${tag}h${i}`, stop: async () => undefined };
  addNetns(sw);
  // Host ends get unique names while they are still in the root namespace.
  for (let i = 1; i <= HOSTS; i++) addHost(sw, side.host(i), `${PFX}${tag}d${i}`, `${PFX}${tag}p${i}`, `10.0.0.${i}/24`);
  for (let i = 1; i <= HOSTS; i++) ip("-n", sw, "link", "set", `${PFX}${tag}p${i}`, "name", port(i));
  return side;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killPid(pid: number): Promise<void> {
  if (!pidAlive(pid)) return;
  process.kill(pid, "SIGTERM");
  const end = Date.now() + 5000;
  while (pidAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (pidAlive(pid)) process.kill(pid, "SIGKILL");
}

async function startOvs(side: Side): Promise<void> {
  const d = side.dir;
  const env = { ...process.env, OVS_RUNDIR: d, OVS_DBDIR: d, OVS_LOGDIR: d };
  const sh = async (cmd: string, args: string[]): Promise<void> => {
    const r = await nsRun(side.sw, cmd, args, 20_000, env);
    if (r.code !== 0) throw new Error(`${cmd}: ${r.err}`);
  };
  const pids: number[] = [];
  side.stop = async () => {
    for (const f of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) {
      const p = path.join(d, f);
      if (fs.existsSync(p)) pids.push(Number(fs.readFileSync(p, "utf8").trim()));
    }
    for (const pid of pids) await killPid(pid);
  };
  await sh("ovsdb-tool", ["create", path.join(d, "conf.db"), OVS_SCHEMA]);
  await sh("ovsdb-server", ["--detach", "--no-chdir", "--pidfile", "--log-file", `--remote=punix:${path.join(d, "db.sock")}`, path.join(d, "conf.db")]);
  await sh("ovs-vsctl", ["--no-wait", "init"]);
  await sh("ovs-vswitchd", ["--detach", "--no-chdir", "--pidfile", "--log-file"]);
}

function vsctl(side: Side, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return run("ovs-vsctl", ["--timeout=20", ...args], side.dir);
}

before(async () => {
  if (skip) return;
  const ts = makeSide("tsovs", "t");
  sides.push(ts);
  const ovs = makeSide("ovs", "o");
  sides.push(ovs);
  const d: NsDaemon = await startTsovsInNetns(ts.sw, ts.dir);
  ts.stop = () => d.stop();
  await startOvs(ovs);
});

after(async () => {
  for (const s of sides) {
    try {
      await s.stop();
    } finally {
      for (let i = 1; i <= HOSTS; i++) deleteNetns(s.host(i));
      deleteNetns(s.sw);
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  }
});

/** The same ovs-vsctl command on both sides: same status and output (error texts included). */
function both(...args: string[]): void {
  const [t, o] = sides.map((s) => vsctl(s, ...args));
  const norm = (x: string): string => x.replace(/The default log directory is "[^"]*"/, "");
  assert.deepEqual({ status: t!.status, stdout: t!.stdout, stderr: norm(t!.stderr) }, { status: o!.status, stdout: o!.stdout, stderr: norm(o!.stderr) },
    `ovs-vsctl ${args.join(" ")}`);
}

/** Interface rows by name, with what legitimately differs masked (addresses, ifindex values, counter values). */
function interfaces(side: Side): Record<string, Record<string, string>> {
  const cols = ["name", "type", "ofport", "error", "admin_state", "link_state", "mtu", "link_speed", "duplex", "status", "statistics", "ifindex", "mac_in_use"];
  const r = vsctl(side, `--columns=${cols.join(",")}`, "list", "Interface");
  assert.equal(r.status, 0, r.stderr);
  const out: Record<string, Record<string, string>> = {};
  for (const rec of parseList(r.stdout)) {
    const o: Record<string, string> = {};
    for (const [k, v] of rec) {
      if (k === "statistics") o[k] = v.replace(/=\d+/g, "=N");
      else if (k === "ifindex") o[k] = /^[1-9]\d*$/.test(v) ? "N" : v;
      else if (k === "mac_in_use") o[k] = /^"[0-9a-f:]{17}"$/.test(v) ? "MAC" : v;
      else o[k] = v;
    }
    out[rec.get("name")!.replace(/"/g, "")] = o;
  }
  return out;
}

async function reach(side: Side, pairs: [number, string][]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const [h, addr] of pairs) {
    let ok = false;
    for (let i = 0; i < 3 && !ok; i++) ok = await pingOnce(side.host(h), addr, 1);
    out.push(ok);
  }
  return out;
}

test("tsovs and OVS's userspace datapath: same Interface rows, dpif/show and reachability", { skip, timeout: 90_000 }, async () => {
  both("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev");
  for (let i = 1; i <= HOSTS; i++) both("add-port", "br0", port(i));
  both("add-port", "br0", "nosuch1");
  both("add-port", "br0", "int1", "--", "set", "Interface", "int1", "type=internal");
  for (const s of sides) ip("-n", s.host(4), "link", "set", `${PFX}${s.name === "tsovs" ? "t" : "o"}d4`, "down");

  // NORMAL, one VLAN: everyone reaches everyone but h4 (its link is down).
  const flat: [number, string][] = [[1, "10.0.0.2"], [2, "10.0.0.3"], [3, "10.0.0.1"], [1, "10.0.0.4"]];
  const [rt, ro] = [await reach(sides[0]!, flat), await reach(sides[1]!, flat)];
  assert.deepEqual(rt, ro, "reachability, one VLAN");
  assert.deepEqual(rt, [true, true, true, false]);

  // Status columns are written every second and statistics every 5 s: wait for both to settle.
  await new Promise((r) => setTimeout(r, 5500));
  const [it, io] = sides.map((s) => interfaces(s));
  assert.deepEqual(it, io, "Interface rows");

  const dpif = (s: Side): string => {
    const r = run("ovs-appctl", ["dpif/show"], s.dir);
    return r.stdout.replace(/hit:\d+ missed:\d+/, "hit:N missed:N");
  };
  assert.equal(dpif(sides[0]!), dpif(sides[1]!), "dpif/show");
  // OpenFlow's view of the ports: states, and current features and speed from the driver.
  const show = (s: Side, ...args: string[]): string => {
    const r = run("ovs-ofctl", [...args, "br0"], s.dir);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.replace(/addr:[0-9a-f:]{17}/g, "addr:MAC").replace(/dpid:[0-9a-f]{16}/, "dpid:DPID");
  };
  assert.equal(show(sides[0]!, "show"), show(sides[1]!, "show"), "ovs-ofctl show");
  assert.match(show(sides[0]!, "show"), /current: {4}10GB-FD COPPER\n {5}speed: 10000 Mbps now/);
  assert.equal(show(sides[0]!, "-O", "OpenFlow14", "dump-ports-desc"), show(sides[1]!, "-O", "OpenFlow14", "dump-ports-desc"), "dump-ports-desc");

  // Two VLANs on access ports.
  both("set", "Port", port(1), "tag=10", "--", "set", "Port", port(2), "tag=10", "--", "set", "Port", port(3), "tag=20");
  for (const s of sides) for (let i = 1; i <= 3; i++) ip("-n", s.host(i), "neigh", "flush", "all");
  const vlans: [number, string][] = [[1, "10.0.0.2"], [1, "10.0.0.3"], [3, "10.0.0.2"], [2, "10.0.0.1"]];
  const [vt, vo] = [await reach(sides[0]!, vlans), await reach(sides[1]!, vlans)];
  assert.deepEqual(vt, vo, "reachability, two VLANs");
  assert.deepEqual(vt, [true, false, false, true]);
});
