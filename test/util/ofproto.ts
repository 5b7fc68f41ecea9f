/**
 * Test helpers for the OpenFlow switch: a real ovs-vswitchd 3.1 bridge
 * br0 (dummy datapath, ports p1..p3 = OpenFlow ports 1..3) and a tsovs
 * `ofproto-test` bridge given the same datapath id and Ethernet addresses,
 * each in its own run directory, and `ovs-ofctl` run against either.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { run, tempDir, TSOVS_BIN, TSOVS_NODE_ARGS, waitFor } from "./ovs.js";
import { startRealVswitchd } from "./dpctl.js";

export interface Bridge {
  dir: string;
  stop(): Promise<void>;
}

export interface RealBridge extends Bridge {
  /** 16 hex digits. */
  dpid: string;
  /** Ethernet addresses of p1, p2, p3. */
  macs: string[];
}

/** Starts ovsdb-server + ovs-vswitchd with br0 and dummy ports p1..p3 (ofport 1..3). */
export async function startRealBridge(dir = tempDir("ovs-ofp-real-")): Promise<RealBridge> {
  const stopAll = startRealVswitchd(dir);
  run("ovs-vsctl", ["add-port", "br0", "p3", "--", "set", "interface", "p3", "type=dummy", "ofport_request=3"], dir);
  await waitFor(() => fs.existsSync(path.join(dir, "br0.mgmt")), 10_000, "br0.mgmt");
  const get = (args: string[]) => run("ovs-vsctl", args, dir).stdout.trim().replace(/"/g, "");
  const dpid = get(["get", "bridge", "br0", "datapath_id"]);
  const macs = ["p1", "p2", "p3"].map((p) => get(["get", "interface", p, "mac_in_use"]));
  return {
    dir, dpid, macs,
    async stop() {
      stopAll();
      await new Promise((r) => setTimeout(r, 50));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `tsovs ofproto-test br0 ...` in `dir` and waits for its management socket. */
export async function startTsovsBridge(args: string[], dir = tempDir("tsovs-ofp-")): Promise<Bridge & { child: ChildProcess; output(): string }> {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const child = spawn(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofproto-test", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const bridge = args.find((a) => !a.startsWith("-") && !args[args.indexOf(a) - 1]?.startsWith("--")) ?? "br0";
  try {
    await waitFor(() => fs.existsSync(path.join(dir, `${bridge}.mgmt`)) || child.exitCode !== null, 10_000, "tsovs mgmt socket");
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  if (child.exitCode !== null) throw new Error(`ofproto-test exited: ${out}`);
  return {
    dir, child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The tsovs arguments that copy a real bridge's identity (datapath id, port addresses). */
export function mirrorArgs(real: RealBridge): string[] {
  return ["br0", "--datapath-id", real.dpid, ...real.macs.flatMap((m, i) => ["--port", `p${i + 1}:${i + 1}:${m}`])];
}

/** Runs ovs-ofctl with OVS_RUNDIR = `dir`; stdout and stderr together, as a user sees them. */
export function ofctl(dir: string, args: string[], input?: string): { status: number | null; out: string } {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const r = spawnSync("ovs-ofctl", ["--timeout=10", ...args], { env, encoding: "utf8", input: input ?? "", timeout: 20_000 });
  return { status: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

/** `ofctl`, without blocking (so the same command can run against two switches at once). */
export function ofctlAsync(dir: string, args: string[], input?: string): Promise<{ status: number | null; out: string }> {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  return new Promise((resolve) => {
    const child = spawn("ovs-ofctl", ["--timeout=10", ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => resolve({ status: code, out: out + err }));
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(input ?? "");
  });
}

/**
 * What legitimately differs between two switches started at different
 * times: durations and ages. Everything else is compared as is.
 */
export function normalize(s: string): string {
  return s
    .replace(/duration=[0-9.]+s/g, "duration=?")
    .replace(/duration[0-9.]+s/g, "duration?")
    .replace(/duration:[0-9.]+s/g, "duration:?")
    .replace(/(idle_age|hard_age)=\d+/g, "$1=?")
    .replace(/, hard_age=\?/g, "");
}

/**
 * Sends one raw message (hex) on a fresh OpenFlow connection of `version`
 * to the socket at `sockPath`, followed by a barrier, and summarizes what
 * comes back ("ERROR <name> v=<version> len=<n>", message types, BARRIER,
 * CLOSED), waiting at most `ms`.
 */
export async function rawExchange(sockPath: string, version: number, hex: string, ms = 1500): Promise<string> {
  const net = await import("node:net");
  const O = await import("../../src/openflow/index.js");
  return new Promise((resolve) => {
    const s = net.createConnection({ path: sockPath });
    const fr = new O.OfpFramer();
    const out: string[] = [];
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      resolve(out.join(" | "));
    };
    const timer = setTimeout(done, ms);
    s.on("error", done);
    s.on("close", () => {
      out.push("CLOSED");
      done();
    });
    s.write(O.encodeMessage(O.makeHello(1 << version)));
    s.on("data", (d: Buffer) => {
      fr.push(d);
      for (let m = fr.next(); m !== null; m = fr.next()) {
        const r = O.decodeMessage(m);
        if (r.ok && r.msg.type === "OFPT_HELLO") {
          s.write(Buffer.from(hex, "hex"));
          s.write(O.encodeMessage({ type: "OFPT_BARRIER_REQUEST", version, xid: 0x99, body: {} }));
          continue;
        }
        if (r.ok && r.msg.type === "OFPT_BARRIER_REPLY") {
          out.push("BARRIER");
          done();
          return;
        }
        out.push(!r.ok ? `UNDECODABLE ${r.error}` : r.msg.type === "OFPT_ERROR" ? `ERROR ${r.msg.body.error} v=${m[0]} len=${m.length}` : r.msg.type);
      }
    });
  });
}
