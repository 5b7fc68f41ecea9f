/**
 * `tsovs ofctl monitor` and `packet-out` against real ovs-ofctl 3.1: a real
 * and a tsovs monitor watch the same real ovs-vswitchd while packets are
 * sent to the controller by packet-out (from both tools, both syntaxes)
 * and by a flow; both monitors must print the same messages, and end the
 * same way on SIGTERM.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { ovsSkip, run, tempDir, TSOVS_BIN, TSOVS_NODE_ARGS, waitFor } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { normalize, realOfctl } from "../util/ofctl-switch.js";
import { ofctlSwitch } from "../../src/cli/ofctl.js";

const skip = ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server", "ovs-appctl");
let dir = "";
let stop: (() => void) | null = null;

before(() => {
  if (skip) return;
  dir = tempDir("tsovs-ofctl-mon-");
  stop = startRealVswitchd(dir);
  process.env["OVS_RUNDIR"] = dir;
});

after(() => {
  stop?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const PKT = "aa55aa550001aa55aa55000208004500001c0001000040117cce7f0000017f0000010035003500080000";

interface Watcher {
  proc: ChildProcess;
  out: () => string;
  done: Promise<void>;
}

function watch(cmd: string, args: string[]): Watcher {
  const proc = spawn(cmd, args, { env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  proc.stdout!.on("data", (d: Buffer) => (text += d.toString("latin1")));
  proc.stderr!.on("data", (d: Buffer) => (text += d.toString("latin1")));
  const done = new Promise<void>((r) => proc.on("close", () => r()));
  return { proc, out: () => text, done };
}

/**
 * Both monitors are connected and configured once their control sockets
 * exist (ovs-ofctl creates `ovs-ofctl.PID.ctl` when it starts printing).
 */
async function ready(...ws: Watcher[]): Promise<void> {
  await waitFor(() => ws.every((w) => fs.existsSync(`${dir}/ovs-ofctl.${w.proc.pid}.ctl`)), 20_000, "the monitors to be set up");
}

for (const opts of [[], ["-O", "OpenFlow13"], ["-P", "standard"], ["-O", "OpenFlow15"], ["--names"]]) {
  test(`monitor ${opts.join(" ")} prints what ovs-ofctl monitor prints`, { skip, timeout: 40_000 }, async () => {
    const real = watch("ovs-ofctl", [...opts, "monitor", "br0", "65534"]);
    const ours = watch(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl", ...opts, "monitor", "br0", "65534"]);
    try {
      await ready(real, ours);
      assert.equal(realOfctl(dir, ["packet-out", "br0", "1", "controller", PKT]).status, 0);
      const o1 = await ofctlSwitch(["packet-out", "br0", "2", "controller", PKT]);
      assert.equal(o1.status, 0, o1.stderr);
      const o2 = await ofctlSwitch(["-O", "OpenFlow13", "packet-out", "br0", `in_port=1,packet=${PKT},actions=controller`]);
      assert.equal(o2.status, 0, o2.stderr);
      realOfctl(dir, ["add-flow", "br0", "priority=100,in_port=2,actions=controller(userdata=01.02)"]);
      run("ovs-appctl", ["netdev-dummy/receive", "p2", PKT], dir);
      await waitFor(() => (real.out().match(/PACKET_IN/g) ?? []).length >= 4, 20_000, "the real monitor's packet-ins");
      await waitFor(() => (ours.out().match(/PACKET_IN/g) ?? []).length >= 4, 20_000, "our monitor's packet-ins");
    } finally {
      real.proc.kill("SIGTERM");
      ours.proc.kill("SIGTERM");
      await Promise.all([real.done, ours.done]);
      realOfctl(dir, ["del-flows", "br0", "in_port=2"]);
    }
    assert.equal(ours.proc.signalCode, "SIGTERM");
    assert.equal(normalize(ours.out()), normalize(real.out()));
  });
}

for (const spec of ["watch:", "watch:!initial,table=3", "watch:tcp,!actions,out_port=1"]) {
  test(`monitor ${spec} shows flow table changes as ovs-ofctl does`, { skip, timeout: 40_000 }, async () => {
    const real = watch("ovs-ofctl", ["monitor", "br0", spec]);
    const ours = watch(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl", "monitor", "br0", spec]);
    try {
      await ready(real, ours);
      realOfctl(dir, ["add-flow", "br0", "table=3,tcp,actions=output:1"]);
      await ofctlSwitch(["mod-flows", "br0", "table=3,tcp,actions=drop"]);
      realOfctl(dir, ["del-flows", "br0", "table=3"]);
      const events = (w: Watcher): number => (w.out().match(/event=/g) ?? []).length;
      await waitFor(() => events(real) >= 2 && events(ours) >= events(real), 20_000, "flow monitor events");
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      real.proc.kill("SIGTERM");
      ours.proc.kill("SIGTERM");
      await Promise.all([real.done, ours.done]);
    }
    assert.equal(normalize(ours.out()), normalize(real.out()));
  });
}

test("monitor --detach --pidfile runs in the background until ovs-appctl exit", { skip, timeout: 40_000 }, async () => {
  const realOut = `${dir}/mon-real.txt`;
  const oursOut = `${dir}/mon-ours.txt`;
  const start = (cmd: string, args: string[], out: string): Promise<number | null> => new Promise((resolve) => {
    const fd = fs.openSync(out, "w");
    const p = spawn(cmd, args, { env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir }, stdio: ["ignore", fd, fd] });
    p.on("exit", (code) => {
      fs.closeSync(fd);
      resolve(code);
    });
  });
  assert.equal(await start("ovs-ofctl", ["monitor", "br0", "65534", "--detach", "--no-chdir", `--pidfile=${dir}/real-mon.pid`], realOut), 0);
  assert.equal(await start(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl", "monitor", "br0", "65534", "--detach", "--no-chdir", "--pidfile"], oursOut), 0);
  const pid = Number(fs.readFileSync(`${dir}/ovs-ofctl.pid`, "utf8").trim());
  assert.ok(pid > 0);
  try {
    assert.equal(realOfctl(dir, ["packet-out", "br0", "1", "controller", PKT]).status, 0);
    await waitFor(() => fs.readFileSync(realOut, "latin1").includes("PACKET_IN") && fs.readFileSync(oursOut, "latin1").includes("PACKET_IN"), 20_000, "packet-ins");
  } finally {
    run("ovs-appctl", ["-t", `${dir}/ovs-ofctl.${fs.readFileSync(`${dir}/real-mon.pid`, "utf8").trim()}.ctl`, "exit"], dir);
    const r = run("ovs-appctl", ["-t", "ovs-ofctl", "exit"], dir);
    assert.equal(r.status, 0, r.stderr);
  }
  await waitFor(() => !fs.existsSync(`${dir}/ovs-ofctl.pid`), 5_000, "the pid file to go");
  assert.equal(normalize(fs.readFileSync(oursOut, "latin1")), normalize(fs.readFileSync(realOut, "latin1")));
});

test("snoop shows the switch's conversation with its controller as ovs-ofctl snoop does", { skip, timeout: 40_000 }, async () => {
  // A minimal OpenFlow 1.0 controller: hello and echo replies; it asks for
  // the switch's features when the test says so.
  let session: net.Socket | null = null;
  const controller = net.createServer((c) => {
    session = c;
    c.on("error", () => undefined);
    c.write(Buffer.from("0100000800000001", "hex"));
    c.on("data", (d: Buffer) => {
      for (let o = 0; o + 8 <= d.length; o += d.readUInt16BE(o + 2) || d.length) {
        const m = Buffer.from(d.subarray(o, o + d.readUInt16BE(o + 2)));
        if (m[1] === 2) {
          m[1] = 3;
          c.write(m);
        }
      }
    });
  });
  await new Promise<void>((r) => controller.listen(0, "127.0.0.1", () => r()));
  const port = (controller.address() as net.AddressInfo).port;
  // The snoop socket takes connections only while the bridge has a controller.
  run("ovs-vsctl", ["add-br", "br2", "--", "set", "bridge", "br2", "datapath_type=dummy", "--", "set-controller", "br2", `tcp:127.0.0.1:${port}`], dir);
  await waitFor(() => session !== null, 15_000, "the switch to connect to the controller");
  const real = watch("ovs-ofctl", ["snoop", "br2"]);
  const ours = watch(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl", "snoop", "br2"]);
  try {
    await ready(real, ours);
    session!.write(Buffer.from("0105000800000099", "hex"));
    await waitFor(() => real.out().includes("FEATURES_REPLY") && ours.out().includes("FEATURES_REPLY"), 15_000, "the controller conversation");
  } finally {
    real.proc.kill("SIGTERM");
    ours.proc.kill("SIGTERM");
    await Promise.all([real.done, ours.done]);
    run("ovs-vsctl", ["del-br", "br2"], dir);
    controller.close();
  }
  assert.equal(normalize(ours.out()), normalize(real.out()));
});

test("a monitor's control socket: ofctl/send, barrier, block, packet-out, set-output-file", { skip, timeout: 60_000 }, async () => {
  const session = async (cmd: string, args: string[], tag: string): Promise<string> => {
    const out = `${dir}/${tag}-1.txt`;
    const out2 = `${dir}/${tag}-2.txt`;
    const pidfile = `${dir}/${tag}.pid`;
    const fd = fs.openSync(out, "w");
    await new Promise<void>((resolve) => {
      const p = spawn(cmd, [...args, "monitor", "br0", "--detach", "--no-chdir", `--pidfile=${pidfile}`], { env: { ...process.env, OVS_RUNDIR: dir }, stdio: ["ignore", fd, fd] });
      p.on("exit", () => resolve());
    });
    fs.closeSync(fd);
    const ctl = `${dir}/ovs-ofctl.${fs.readFileSync(pidfile, "utf8").trim()}.ctl`;
    let log = "";
    for (const c of [
      ["ofctl/send", "0102000800000005"], ["ofctl/send", "01020008000000"], ["ofctl/send", "zz"], ["ofctl/barrier"], ["ofctl/block"], ["ofctl/unblock"],
      ["ofctl/packet-out", `in_port=1,packet=${PKT},actions=drop`], ["ofctl/set-output-file", out2], ["ofctl/send", "0102000800000006"], ["ofctl/barrier"],
    ]) {
      const r = run("ovs-appctl", ["-t", ctl, ...c], dir);
      log += `${c[0]}: ${r.status} ${r.stdout}${r.stderr.replace(/ovs-ofctl\.[0-9]+\.ctl/g, "ovs-ofctl.PID.ctl")}`;
    }
    run("ovs-appctl", ["-t", ctl, "exit"], dir);
    await waitFor(() => !fs.existsSync(ctl), 10_000, "the monitor to exit");
    return log + "---\n" + fs.readFileSync(out, "latin1") + "---\n" + fs.readFileSync(out2, "latin1");
  };
  const real = await session("ovs-ofctl", [], "real");
  const ours = await session(process.execPath, [...TSOVS_NODE_ARGS, TSOVS_BIN, "ofctl"], "ours");
  assert.equal(normalize(ours), normalize(real));
});

test("packet-out errors are ovs-ofctl's", { skip, timeout: 20_000 }, async () => {
  for (const args of [
    ["packet-out", "br0", "1", "controller", "aa55"],
    ["packet-out", "br0", "1", "controller", "zz"],
    ["packet-out", "br0", "1", "controller", "aa5"],
    ["packet-out", "br0", "in_port=1,packet=zz,actions=drop"],
    ["packet-out", "br0", `in_port=1,packet=${PKT},bogus=3,actions=drop`],
    ["packet-out", "br0", `packet=${PKT},actions=drop`],
    ["packet-out", "br0", "1", "bogus_action", PKT],
    ["packet-out", "br0", "nosuchport", "controller", PKT],
    ["packet-out", "br0", `in_port=1,actions=drop`],
    ["packet-out", "br0", `in_port=1,packet=${PKT}`],
    ["packet-out", "br0", "1", "output:99", PKT],
  ]) {
    const real = realOfctl(dir, args);
    const ours = await ofctlSwitch(args);
    const strip = (s: string): string => s.split("\n").filter((l) => !/^[0-9TZ:.-]+\|[0-9]+\|/.test(l)).join("\n");
    assert.deepEqual({ stdout: ours.stdout, stderr: strip(ours.stderr), status: ours.status }, { stdout: real.stdout, stderr: strip(real.stderr), status: real.status }, args.join(" "));
  }
});
