/**
 * Test helpers for native tunnelling: the real OVS started as its
 * testsuite starts it for tunnel-push-pop.at (`--enable-dummy`, so tunnel
 * ports are real vports, without system routes), tsovs beside it, and the
 * tunnel-push-pop style set-up (underlay br0 with p0 and an address, int-br
 * with tunnel ports, a route) run against either.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { OVS_SCHEMA, run, tempDir } from "./ovs.js";
import { killAndWait, runAsync, startTsovsSwitch, type Switch } from "./vswitchd.js";

/** The real ovsdb-server + ovs-vswitchd with dummy system devices and real tunnel vports. */
export async function startRealTunnelSwitch(dir = tempDir("ovs-tnl-"), systemRoutes = false): Promise<Switch> {
  const db = path.join(dir, "conf.db");
  let r = run("ovsdb-tool", ["create", db, OVS_SCHEMA], dir);
  if (r.status !== 0) throw new Error(`ovsdb-tool: ${r.stderr}`);
  r = run("ovsdb-server", ["--detach", "--no-chdir", "--pidfile", "--log-file", `--remote=punix:${path.join(dir, "db.sock")}`, db], dir);
  if (r.status !== 0) throw new Error(`ovsdb-server: ${r.stderr}`);
  run("ovs-vsctl", ["--no-wait", "init"], dir);
  const routes = systemRoutes ? [] : ["--disable-system-route"];
  r = run("ovs-vswitchd", ["--enable-dummy", "--disable-system", ...routes, "--detach", "--no-chdir", "--pidfile", "--log-file"], dir);
  if (r.status !== 0) throw new Error(`ovs-vswitchd: ${r.stderr}`);
  const vsPid = Number(fs.readFileSync(path.join(dir, "ovs-vswitchd.pid"), "utf8"));
  return {
    dir,
    stop: async () => {
      await killAndWait(vsPid);
      await killAndWait(Number(fs.readFileSync(path.join(dir, "ovsdb-server.pid"), "utf8")));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * tsovs started as the real one above: dummy devices, real tunnel vports,
 * only user routes (`--disable-system-route`), or with `systemRoutes` the
 * kernel's routes too.
 */
export async function startTsovsTunnelSwitch(systemRoutes = false): Promise<Switch> {
  const sw = await startTsovsSwitch(undefined, ["--enable-dummy", "--disable-system", ...(systemRoutes ? [] : ["--disable-system-route"])]);
  return {
    dir: sw.dir,
    stop: async () => {
      await sw.stop();
      fs.rmSync(sw.dir, { recursive: true, force: true });
    },
  };
}

export type Tool = "ovs-vsctl" | "ovs-appctl" | "ovs-ofctl";

/** Runs an OVS tool against the switch in `dir`; stdout, or throws with stderr. */
export async function tool(dir: string, cmd: Tool, args: string[], allowFail = false): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runAsync(cmd, cmd === "ovs-vsctl" ? ["--timeout=20", ...args] : args, dir);
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r;
}

/**
 * The tunnel-push-pop.at set-up: br0 (hwaddr aa:55:aa:55:00:00, 1.1.2.88/24)
 * with p0 (ofport 1), int-br with t2 vxlan key=123, t1 gre key=456, t3
 * geneve key=flow (remote 1.1.2.93), t4 vxlan remote_ip=flow key=flow,
 * routes to 1.1.2.0/24 via br0, NORMAL on br0.
 */
export async function tunnelSetup(dir: string): Promise<void> {
  await tool(dir, "ovs-vsctl", ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "other-config:hwaddr=aa:55:aa:55:00:00",
    "--", "add-port", "br0", "p0", "--", "set", "Interface", "p0", "type=dummy", "ofport_request=1", "other-config:hwaddr=aa:55:aa:55:00:00"]);
  await tool(dir, "ovs-vsctl", ["add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy"]);
  await tool(dir, "ovs-vsctl", ["add-port", "int-br", "t2", "--", "set", "Interface", "t2", "type=vxlan", "options:key=123", "options:remote_ip=1.1.2.92", "ofport_request=2",
    "--", "add-port", "int-br", "t1", "--", "set", "Interface", "t1", "type=gre", "options:key=456", "options:remote_ip=1.1.2.92", "ofport_request=3",
    "--", "add-port", "int-br", "t3", "--", "set", "Interface", "t3", "type=geneve", "options:key=flow", "options:remote_ip=1.1.2.93", "ofport_request=4",
    "--", "add-port", "int-br", "t4", "--", "set", "Interface", "t4", "type=vxlan", "options:key=flow", "options:remote_ip=flow", "ofport_request=5"]);
  await tool(dir, "ovs-appctl", ["netdev-dummy/ip4addr", "br0", "1.1.2.88/24"]);
  await tool(dir, "ovs-appctl", ["ovs/route/add", "1.1.2.92/24", "br0"]);
  await tool(dir, "ovs-ofctl", ["add-flow", "br0", "action=normal"]);
}

/** The ARP reply from 1.1.2.92 (f8:bc:12:44:34:b6) that teaches br0 its neighbour. */
export const ARP_REPLY_92 =
  "recirc_id(0),in_port(1),eth(src=f8:bc:12:44:34:b6,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=1.1.2.92,tip=1.1.2.88,op=2,sha=f8:bc:12:44:34:b6,tha=00:00:00:00:00:00)";
