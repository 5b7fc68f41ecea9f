/**
 * The forwarding benchmark (root only): ns1 —veth— switch —veth— ns2, the
 * switch being tsovs (`tsovs start`, a `datapath_type=netdev` bridge with
 * two `system` ports), OVS 3.1's userspace datapath (ovsdb-server +
 * ovs-vswitchd, the same bridge) or the Linux bridge, each in a namespace
 * of its own, built afresh and torn down for each switch.
 *
 * Variants (the same traffic into every switch):
 * - flow1: 64-byte UDP frames of one flow from trafgen in ns1 for
 *   `duration` seconds; rules `in_port=1,actions=output:2` (and back):
 *   one megaflow, the exact-match cache's best case.
 * - flows10k: the same frames with the UDP source port cycling through
 *   10,000 values, under 10,000 OpenFlow rules `udp,in_port=1,tp_src=N`
 *   (one per port, installed in one bundle): each source port's first
 *   packet is an upcall that installs its own megaflow (tp_src matched
 *   exactly), so the datapath ends with 10,000 megaflows. Measured: the
 *   time from trafgen's start until 99% of them are installed under full
 *   load (upcall throughput, polled with dpctl/show every 100 ms) and the
 *   switch process's CPU time meanwhile (`setup_cpu_s`, comparable on a
 *   shared machine), then the steady forwarding rate over 10,000
 *   megaflows (more than the exact-match cache holds) — and over both
 *   (`mpps_from_start`: every frame delivered from the sender's start to
 *   the end of that window, the count of a fixed-time run) — then the setup
 *   again after `revalidator/purge` in the same process (`warm_*`): a
 *   fresh tsovs runs its first ~10,000 upcalls mostly as interpreted code
 *   while V8 compiles the upcall path on other threads (counted in the
 *   CPU time); the second pass shows the compiled path. The datapath's
 *   `pmd-stats-show` counters at the first setup's end are logged (not
 *   in the JSON): how many upcalls the packets took.
 * - tcp: iperf3 from ns1 to ns2 through the `in_port` rules, TX checksum
 *   offload off on the host ends (a userspace switch forwards frames as
 *   they come, unfinished checksums included) — for all three switches.
 *
 * What arrives is the receiving veth's rx_packets/rx_bytes in ns2 (the UDP
 * frames go to a MAC ns2 does not own, so its kernel drops them on
 * arrival instead of charging ICMP errors to the switch); the sender's tx
 * counters give the offered load. One trafgen process (one CPU, qdisc
 * bypass) sends; with 2 CPUs the switch gets the other, unless the
 * machine is shared: then `mpps_per_core` (packets per second of the
 * switch process's own CPU time, kernel time of its system calls
 * included) compares the switches where Mpps cannot. The Linux bridge
 * forwards in the sender's own softirq, so its figure is bound by the
 * sender's CPU (`sender_bound`).
 *
 * usage: npm run bench -- forwarding [seconds] [--only=flow1,flows10k,tcp]
 *          [--switch=tsovs,ovs,bridge] [--cpu-prof]   (tsovs under node --cpu-prof)
 *          [--node-args=--flag1,--flag2]   (more node options for tsovs)
 * Last line: one JSON object.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { addHost, addNetns, deleteNetns, ip, linuxNetSkip, pingReaches } from "../test/util/linux-net.js";
import { TSOVS_BIN, TSOVS_NODE_ARGS, ovsSkip, tempDir, which } from "../test/util/ovs.js";
import { linkCounters, machineCpuSeconds, processCpuSeconds, startOvsIn, startTsovsIn, type LinkCounters, type SwitchDaemon } from "./util-net.js";

type SwitchName = "tsovs" | "ovs" | "bridge";
type Variant = "flow1" | "flows10k" | "tcp";
const SWITCHES: readonly SwitchName[] = ["tsovs", "ovs", "bridge"];
const VARIANTS: readonly Variant[] = ["flow1", "flows10k", "tcp"];

const FRAME_BYTES = 64;
const N_FLOWS = 10_000;
const SPORT0 = 10_000;
/** flows10k's setup is done at 99% of the megaflows (robust to a few that a switch never installs; `megaflows` tells). */
const SETUP_FLOWS = N_FLOWS * 0.99;
const MAC1 = "02:00:00:00:00:01";
const MAC2 = "02:00:00:00:00:02";
/**
 * The UDP frames' destination: a MAC that ns2's interface does not own, so
 * ns2's kernel counts them (rx_packets) and drops them at once (pkt_type
 * OTHERHOST) instead of answering each with an ICMP port unreachable —
 * work that lands on whoever hands the frame to ns2's veth (the switch's
 * transmit call): tsovs forwarded 0.16 Mpps per core of its CPU time with
 * that, 0.29 without. The Linux bridge floods such a frame to its one
 * other port, which is the same work as forwarding it.
 */
const SINK_MAC = "02:00:00:00:00:99";
const IP1 = "10.9.0.1";
const IP2 = "10.9.0.2";

interface Options {
  seconds: number;
  variants: Variant[];
  switches: SwitchName[];
  cpuProf: boolean;
  /** Extra node options for tsovs (`--node-args=--a,--b`: JIT flags experiments). */
  nodeArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 5, variants: [...VARIANTS], switches: [...SWITCHES], cpuProf: false, nodeArgs: [] };
  for (const a of argv) {
    if (/^\d+(\.\d+)?$/.test(a)) o.seconds = Number(a);
    else if (a.startsWith("--duration=")) o.seconds = Number(a.slice(11));
    else if (a.startsWith("--only=")) o.variants = a.slice(7).split(",").map((v) => v.trim()) as Variant[];
    else if (a.startsWith("--switch=")) o.switches = a.slice(9).split(",").map((v) => v.trim()) as SwitchName[];
    else if (a === "--cpu-prof") o.cpuProf = true;
    else if (a.startsWith("--node-args=")) o.nodeArgs = a.slice(12).split(",").filter((x) => x !== "");
    else throw new Error(`unknown argument ${a}`);
  }
  for (const v of o.variants) if (!VARIANTS.includes(v)) throw new Error(`unknown variant ${v} (${VARIANTS.join(", ")})`);
  for (const s of o.switches) if (!SWITCHES.includes(s)) throw new Error(`unknown switch ${s} (${SWITCHES.join(", ")})`);
  if (!(o.seconds > 0)) throw new Error("duration must be > 0");
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The namespaces and devices of one run. */
interface Topology {
  sw: string;
  h1: string;
  h2: string;
  d1: string;
  d2: string;
}

function topology(tag: string): Topology {
  const p = `fw${process.pid % 100000}${tag}`;
  return { sw: `${p}s`, h1: `${p}h1`, h2: `${p}h2`, d1: `${p}d1`, d2: `${p}d2` };
}

function sysctl(ns: string, key: string, value: string): void {
  spawnSync("ip", ["netns", "exec", ns, "sysctl", "-qw", `${key}=${value}`], { timeout: 10_000 });
}

/**
 * h1 (d1, MAC1, IP1) and h2 (d2, MAC2, IP2) wired to p1 and p2 in the
 * switch namespace; static neighbours (no ARP in the way), IPv6 off, TX
 * checksum offload off on the host ends.
 */
function buildTopology(t: Topology): void {
  addNetns(t.sw);
  const tmp1 = `${t.sw}p1`;
  const tmp2 = `${t.sw}p2`;
  addHost(t.sw, t.h1, t.d1, tmp1, `${IP1}/24`);
  addHost(t.sw, t.h2, t.d2, tmp2, `${IP2}/24`);
  ip("-n", t.sw, "link", "set", tmp1, "down");
  ip("-n", t.sw, "link", "set", tmp2, "down");
  ip("-n", t.sw, "link", "set", tmp1, "name", "p1");
  ip("-n", t.sw, "link", "set", tmp2, "name", "p2");
  for (const [ns, dev] of [[t.sw, "p1"], [t.sw, "p2"], [t.h1, t.d1], [t.h2, t.d2]] as const) {
    sysctl(ns, `net.ipv6.conf.${dev}.disable_ipv6`, "1");
  }
  ip("-n", t.sw, "link", "set", "p1", "up");
  ip("-n", t.sw, "link", "set", "p2", "up");
  ip("-n", t.h1, "link", "set", t.d1, "address", MAC1);
  ip("-n", t.h2, "link", "set", t.d2, "address", MAC2);
  ip("-n", t.h1, "neigh", "replace", IP2, "lladdr", MAC2, "dev", t.d1, "nud", "permanent");
  ip("-n", t.h2, "neigh", "replace", IP1, "lladdr", MAC1, "dev", t.d2, "nud", "permanent");
}

function tearDown(t: Topology): void {
  for (const ns of [t.h1, t.h2, t.sw]) deleteNetns(ns);
}

/** A switch under test: how to start it, give it a rule set, count its megaflows. */
interface Sut {
  name: SwitchName;
  daemon: SwitchDaemon | null;
  dir: string;
  /** Replaces the OpenFlow rules of br0 (no-op for the Linux bridge). */
  setRules(rules: string[]): void;
  /** Datapath flows (megaflows) installed, or -1 when not applicable. */
  megaflows(): number;
  /** `dpif-netdev/pmd-stats-clear` / the counter lines of `pmd-stats-show` (logged, not in the JSON). */
  pmdStats(clear: boolean): string;
  stop(): Promise<void>;
}

/**
 * Runs an OVS tool (ovs-vsctl, ovs-ofctl, ovs-appctl) against run
 * directory `dir`: the real one when installed, else tsovs's own.
 */
function ovsTool(dir: string, cmd: "ovs-vsctl" | "ovs-ofctl" | "ovs-appctl", args: string[], input?: string): string {
  const argv = which(cmd) !== null ? [cmd, ...args] : [process.execPath, ...TSOVS_NODE_ARGS, TSOVS_BIN, cmd.slice(4), ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir }, encoding: "utf8", timeout: 120_000, input: input ?? "",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function startSwitch(name: SwitchName, t: Topology, cpuProf: boolean, nodeArgs: string[]): Promise<Sut> {
  if (name === "bridge") {
    ip("-n", t.sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0");
    sysctl(t.sw, "net.ipv6.conf.br0.disable_ipv6", "1");
    ip("-n", t.sw, "link", "set", "p1", "master", "br0");
    ip("-n", t.sw, "link", "set", "p2", "master", "br0");
    ip("-n", t.sw, "link", "set", "br0", "up");
    return { name, daemon: null, dir: "", setRules: () => undefined, megaflows: () => -1, pmdStats: () => "", stop: async () => undefined };
  }
  const dir = tempDir(`fwd-${name}-`);
  let daemon: SwitchDaemon;
  try {
    if (name === "tsovs") {
      const profArgs = cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, "prof")}`] : [];
      daemon = await startTsovsIn(t.sw, dir, [...nodeArgs, ...profArgs]);
    } else {
      daemon = await startOvsIn(t.sw, dir);
    }
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const sut: Sut = {
    name, daemon, dir,
    setRules(rules: string[]): void {
      // One bundle: the table changes once (10,000 separate flow_mods would each start a revalidation).
      ovsTool(dir, "ovs-ofctl", ["--bundle", "replace-flows", "br0", "-"], rules.join("\n") + "\n");
      // Start from an empty datapath: every variant's megaflows are its own.
      ovsTool(dir, "ovs-appctl", ["dpctl/del-flows"]);
    },
    megaflows(): number {
      const m = /flows: (\d+)/.exec(ovsTool(dir, "ovs-appctl", ["dpctl/show"]));
      return m === null ? -1 : Number(m[1]);
    },
    pmdStats(clear: boolean): string {
      try {
        const out = ovsTool(dir, "ovs-appctl", [clear ? "dpif-netdev/pmd-stats-clear" : "dpif-netdev/pmd-stats-show"]);
        return out.split("\n").filter((l) => /packets received|hits|upcalls|miss|lost|processing cycles/.test(l)).map((l) => l.trim()).join("; ");
      } catch (e) {
        return (e as Error).message.split("\n")[0]!;
      }
    },
    stop: () => daemon.stop(),
  };
  try {
    ovsTool(dir, "ovs-vsctl", ["--timeout=30", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
      "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "ofport_request=1",
      "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "ofport_request=2"]);
  } catch (e) {
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return sut;
}

const BASE_RULES = ["in_port=1,actions=output:2", "in_port=2,actions=output:1"];

function flows10kRules(): string[] {
  const rules = ["priority=1,in_port=1,actions=output:2", "priority=1,in_port=2,actions=output:1"];
  for (let i = 0; i < N_FLOWS; i++) rules.push(`priority=100,udp,in_port=1,tp_src=${SPORT0 + i},actions=output:2`);
  return rules;
}

/** trafgen's packet: 64 bytes of Ethernet/IPv4/UDP from h1 to h2's IP and SINK_MAC (source port cycling for flows10k). */
function trafgenConfig(variant: Variant): string {
  const sport = variant === "flows10k" ? `dinc(${SPORT0}, ${SPORT0 + N_FLOWS - 1})` : "1234";
  return `{
  eth(da=${SINK_MAC}, sa=${MAC1}),
  ipv4(saddr=${IP1}, daddr=${IP2}, ttl=64),
  udp(sport=${sport}, dport=9),
  fill(0x55, ${FRAME_BYTES - 42})
}
`;
}

/**
 * Starts trafgen in h1 (one CPU, until stopped) in a process group of its
 * own: trafgen forks its sender, which must stop with it.
 */
function startTrafgen(t: Topology, cfg: string): { child: ChildProcess; output: () => string; exited: Promise<void> } {
  const child = spawn("ip", ["netns", "exec", t.h1, "trafgen", "--dev", t.d1, "--conf", cfg, "--cpus", "1", "--no-cpu-stats"], {
    stdio: ["ignore", "pipe", "pipe"], detached: true,
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, output: () => out, exited };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops trafgen and its sender: SIGINT to the group, SIGKILL after 3 s; waits until the group is gone. */
async function stopTrafgen(c: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  const pgid = c.child.pid!;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* gone */
    }
  };
  signal("SIGINT");
  const end = Date.now() + 3000;
  while (groupAlive(pgid) && Date.now() < end) await sleep(20);
  if (groupAlive(pgid)) signal("SIGKILL");
  await Promise.race([c.exited, sleep(2000)]);
  // Zombies of the group count as alive until reaped; give them a moment.
  const end2 = Date.now() + 2000;
  while (groupAlive(pgid) && Date.now() < end2) await sleep(20);
}

interface UdpResult {
  mpps: number;
  gbps: number;
  offered_mpps: number;
  loss_pct: number;
  /** Delivered >= 98% of what the sender offered: the figure is the sender's, a lower bound of the switch's. */
  sender_bound: boolean;
  /** CPU of the switch process (100 = one core), -1 for the Linux bridge (softirq). */
  switch_cpu_pct: number;
  /** Mpps per core of switch CPU time (robust to a shared machine; -1 for the Linux bridge). */
  mpps_per_core: number;
  /** Machine-wide busy CPU (200 = both cores of a 2-core machine). */
  machine_cpu_pct: number;
  seconds: number;
  /** flows10k: megaflows in the datapath at the end. */
  megaflows?: number;
  /** flows10k: seconds from trafgen's start until 99% of the 10,000 megaflows were installed (-1: not within the limit). */
  /** flows10k: frames delivered from the sender's start to the end of the steady window, per second (setup included). */
  mpps_from_start?: number;
  seconds_from_start?: number;
  setup_s?: number;
  /** flows10k: 9,900 / setup_s. */
  upcalls_per_s?: number;
  /** flows10k: CPU seconds of the switch process during setup_s (robust to a shared machine). */
  setup_cpu_s?: number;
  /** flows10k: 9,900 / setup_cpu_s. */
  upcalls_per_cpu_s?: number;
  /** flows10k: the same after revalidator/purge in the same switch process, same load (warm JIT for tsovs). */
  warm_setup_s?: number;
  warm_upcalls_per_s?: number;
  warm_setup_cpu_s?: number;
  warm_upcalls_per_cpu_s?: number;
}

interface Sample {
  t: number;
  tx: LinkCounters;
  rx: LinkCounters;
  sw: number;
  cpu: { busy: number; total: number };
}

function sample(t: Topology, sut: Sut): Sample {
  const tx = linkCounters(t.h1, t.d1);
  const now = performance.now();
  const rx = linkCounters(t.h2, t.d2);
  return { t: now, tx, rx, sw: sut.daemon !== null ? processCpuSeconds(sut.daemon.pid) : 0, cpu: machineCpuSeconds() };
}

async function udpRun(t: Topology, sut: Sut, variant: Variant, seconds: number, work: string): Promise<UdpResult> {
  const cfg = path.join(work, `${variant}.cfg`);
  fs.writeFileSync(cfg, trafgenConfig(variant));
  if (variant === "flows10k") sut.pmdStats(true);
  const start = sample(t, sut);
  const tg = startTrafgen(t, cfg);
  try {
    let setupS: number | undefined;
    let setupCpu = 0;
    const t0 = performance.now();
    const cpu0 = sut.daemon !== null ? processCpuSeconds(sut.daemon.pid) : 0;
    if (variant === "flows10k" && sut.megaflows() >= 0) {
      // Upcall throughput: how long until every source port has its megaflow, under full load.
      const limit = Math.max(20, seconds * 3) * 1000;
      setupS = -1;
      while (performance.now() - t0 < limit) {
        await sleep(100);
        if (sut.megaflows() >= SETUP_FLOWS) {
          setupS = (performance.now() - t0) / 1000;
          setupCpu = sut.daemon !== null ? processCpuSeconds(sut.daemon.pid) - cpu0 : 0;
          console.log(`${sut.name} ${variant}: at setup: ${sut.pmdStats(false)}`);
          break;
        }
      }
    } else {
      await sleep(500);
    }
    if (tg.child.exitCode !== null) throw new Error(`trafgen exited: ${tg.output()}`);
    const a = sample(t, sut);
    await sleep(seconds * 1000);
    const b = sample(t, sut);
    const dt = (b.t - a.t) / 1000;
    const delivered = b.rx.rxPackets - a.rx.rxPackets;
    const offered = b.tx.txPackets - a.tx.txPackets;
    const r: UdpResult = {
      mpps: +(delivered / dt / 1e6).toFixed(3),
      gbps: +(((b.rx.rxBytes - a.rx.rxBytes) * 8) / dt / 1e9).toFixed(3),
      offered_mpps: +(offered / dt / 1e6).toFixed(3),
      loss_pct: offered > 0 ? Math.max(0, +((100 * (offered - delivered)) / offered).toFixed(1)) : 0,
      sender_bound: delivered >= 0.98 * offered,
      switch_cpu_pct: sut.daemon !== null ? +((100 * (b.sw - a.sw)) / dt).toFixed(0) : -1,
      mpps_per_core: sut.daemon !== null && b.sw > a.sw ? +(delivered / (b.sw - a.sw) / 1e6).toFixed(3) : -1,
      machine_cpu_pct: +((100 * (b.cpu.busy - a.cpu.busy)) / dt).toFixed(0),
      seconds: +dt.toFixed(2),
    };
    if (setupS !== undefined) {
      // What the method counts: every frame that arrived since the sender started (setup included).
      const fromStart = (b.t - start.t) / 1000;
      r.mpps_from_start = +((b.rx.rxPackets - start.rx.rxPackets) / fromStart / 1e6).toFixed(3);
      r.seconds_from_start = +fromStart.toFixed(2);
      r.setup_s = +setupS.toFixed(2);
      r.upcalls_per_s = setupS > 0 ? Math.round(SETUP_FLOWS / setupS) : -1;
      if (setupCpu > 0) {
        r.setup_cpu_s = +setupCpu.toFixed(2);
        r.upcalls_per_cpu_s = Math.round(SETUP_FLOWS / setupCpu);
      }
      r.megaflows = sut.megaflows();
      // The same setups again in the same switch process, after
      // revalidator/purge, under the same load: for tsovs the rate once the
      // JIT has compiled the upcall path (the first pass above runs mostly
      // interpreted code plus the compiler's own threads).
      if (setupS > 0 && sut.daemon !== null) {
        await sleep(200);
        const again = await setupTime(sut, seconds, () => sut.megaflows() < N_FLOWS / 2);
        if (again !== null) {
          r.warm_setup_s = +again.s.toFixed(2);
          r.warm_upcalls_per_s = Math.round(SETUP_FLOWS / again.s);
          if (again.cpu > 0) {
            r.warm_setup_cpu_s = +again.cpu.toFixed(2);
            r.warm_upcalls_per_cpu_s = Math.round(SETUP_FLOWS / again.cpu);
          }
        }
      }
    }
    return r;
  } finally {
    await stopTrafgen(tg);
  }
}

/**
 * `revalidator/purge`, then the time (and switch CPU) until 99% of the
 * megaflows are back, polling every 100 ms; null when not within the limit.
 */
async function setupTime(sut: Sut, seconds: number, purged: () => boolean): Promise<{ s: number; cpu: number } | null> {
  const dir = sut.dir;
  ovsTool(dir, "ovs-appctl", ["revalidator/purge"]);
  const t0 = performance.now();
  const cpu0 = processCpuSeconds(sut.daemon!.pid);
  // A purge that did not take (flows back at once) would fake the figure.
  if (!purged()) return null;
  const limit = Math.max(20, seconds * 3) * 1000;
  while (performance.now() - t0 < limit) {
    await sleep(100);
    if (sut.megaflows() >= SETUP_FLOWS) {
      return { s: (performance.now() - t0) / 1000, cpu: processCpuSeconds(sut.daemon!.pid) - cpu0 };
    }
  }
  return null;
}

interface TcpResult {
  gbps: number;
  retransmits: number;
  switch_cpu_pct: number;
  /** Gbit/s per core of switch CPU time (-1 for the Linux bridge). */
  gbps_per_core: number;
  seconds: number;
}

async function tcpRun(t: Topology, sut: Sut, seconds: number): Promise<TcpResult> {
  const server = spawn("ip", ["netns", "exec", t.h2, "iperf3", "-s", "-1", "-B", IP2, "-p", "5201"], { stdio: ["ignore", "pipe", "pipe"] });
  const serverExited = new Promise<void>((r) => server.once("exit", () => r()));
  try {
    await sleep(400);
    const sw0 = sut.daemon !== null ? processCpuSeconds(sut.daemon.pid) : 0;
    const t0 = performance.now();
    const r = spawnSync("ip", ["netns", "exec", t.h1, "iperf3", "-c", IP2, "-p", "5201", "-t", String(seconds), "-J"], {
      encoding: "utf8", timeout: (seconds + 30) * 1000, maxBuffer: 16 << 20,
    });
    const dt = (performance.now() - t0) / 1000;
    const sw1 = sut.daemon !== null ? processCpuSeconds(sut.daemon.pid) : 0;
    const j = JSON.parse(r.stdout || "{}") as { error?: string; end?: { sum_received?: { bits_per_second: number; seconds: number }; sum_sent?: { retransmits?: number } } };
    if (j.error !== undefined || j.end?.sum_received === undefined) throw new Error(`iperf3: ${j.error ?? ""} ${r.stderr} ${r.stdout.slice(0, 300)}`);
    const gbps = j.end.sum_received.bits_per_second / 1e9;
    return {
      gbps: +gbps.toFixed(3),
      retransmits: j.end.sum_sent?.retransmits ?? 0,
      switch_cpu_pct: sut.daemon !== null ? +((100 * (sw1 - sw0)) / dt).toFixed(0) : -1,
      gbps_per_core: sut.daemon !== null && sw1 > sw0 ? +((gbps * dt) / (sw1 - sw0)).toFixed(3) : -1,
      seconds: +j.end.sum_received.seconds.toFixed(2),
    };
  } finally {
    if (server.exitCode === null) server.kill("SIGKILL");
    await Promise.race([serverExited, sleep(2000)]);
  }
}

type SwitchResults = Partial<Record<Variant, UdpResult | TcpResult | { error: string }>>;

async function benchSwitch(name: SwitchName, o: Options, work: string): Promise<{ results: SwitchResults; profile?: string }> {
  const t = topology(name[0]!);
  const results: SwitchResults = {};
  let sut: Sut | null = null;
  let profile: string | undefined;
  try {
    buildTopology(t);
    sut = await startSwitch(name, t, o.cpuProf, o.nodeArgs);
    for (const v of o.variants) {
      try {
        const r0 = performance.now();
        sut.setRules(v === "flows10k" ? flows10kRules() : BASE_RULES);
        const r1 = performance.now();
        if (!(await pingReaches(t.h1, IP2, 10))) throw new Error(`${t.h1} cannot ping ${IP2} through ${name}`);
        console.log(`${name} ${v}: rules installed in ${((r1 - r0) / 1000).toFixed(2)} s, ping in ${((performance.now() - r1) / 1000).toFixed(2)} s`);
        const r = v === "tcp" ? await tcpRun(t, sut, o.seconds) : await udpRun(t, sut, v, o.seconds, work);
        results[v] = r;
        console.log(`${name} ${v}: ${JSON.stringify(r)}`);
      } catch (e) {
        results[v] = { error: (e as Error).message.split("\n")[0]! };
        console.log(`${name} ${v}: FAILED ${(e as Error).message}`);
      }
    }
  } finally {
    try {
      await sut?.stop();
    } finally {
      tearDown(t);
      if (sut !== null && sut.dir !== "") {
        const prof = path.join(sut.dir, "prof");
        if (fs.existsSync(prof)) {
          profile = path.join(work, "tsovs.cpuprofile");
          const f = fs.readdirSync(prof).find((x) => x.endsWith(".cpuprofile"));
          if (f !== undefined) fs.copyFileSync(path.join(prof, f), profile);
          else profile = undefined;
        }
        fs.rmSync(sut.dir, { recursive: true, force: true });
      }
    }
  }
  return profile !== undefined ? { results, profile } : { results };
}

/** a/b of a variant's rate (Mpps for UDP, Gbit/s for TCP), or of its rate per switch core. */
function ratio(a: SwitchResults | undefined, b: SwitchResults | undefined, v: Variant, perCore = false): number | null {
  const x = a?.[v];
  const y = b?.[v];
  if (x === undefined || y === undefined || "error" in x || "error" in y) return null;
  const pick = (r: UdpResult | TcpResult): number => ("mpps" in r ? (perCore ? r.mpps_per_core : r.mpps) : perCore ? r.gbps_per_core : r.gbps);
  const xv = pick(x);
  const yv = pick(y);
  return xv > 0 && yv > 0 ? +(xv / yv).toFixed(3) : null;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const skip = linuxNetSkip() || (o.switches.includes("ovs") ? ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovs-vswitchd", "ovs-appctl", "ovs-ofctl") : false)
    || (which("trafgen") === null ? "trafgen (netsniff-ng) not installed" : false)
    || (o.variants.includes("tcp") && which("iperf3") === null ? "iperf3 not installed" : false);
  if (skip !== false) {
    console.log(`forwarding: skipped (${skip})`);
    console.log(JSON.stringify({ bench: "forwarding", skipped: skip }));
    return;
  }
  const work = tempDir("fwd-bench-");
  const all: Partial<Record<SwitchName, SwitchResults>> = {};
  let profile: string | undefined;
  const onSignal = (): void => {
    // Namespaces and daemons are removed by the finally blocks; a second signal exits at once.
    process.exitCode = 130;
  };
  process.once("SIGINT", onSignal);
  try {
    for (const s of o.switches) {
      try {
        const r = await benchSwitch(s, o, work);
        all[s] = r.results;
        if (r.profile !== undefined) profile = r.profile;
      } catch (e) {
        // Setting up this switch failed (its namespaces are gone already): the others still run.
        const error = (e as Error).message.split("\n")[0]!;
        console.log(`${s}: FAILED ${(e as Error).message}`);
        all[s] = Object.fromEntries(o.variants.map((v) => [v, { error }]));
      }
      if (process.exitCode === 130) break;
    }
  } finally {
    if (profile === undefined) fs.rmSync(work, { recursive: true, force: true });
  }
  const ratios: Record<string, Partial<Record<Variant, number | null>>> = { tsovs_vs_ovs: {}, tsovs_vs_bridge: {}, tsovs_vs_ovs_per_core: {} };
  for (const v of o.variants) {
    ratios["tsovs_vs_ovs"]![v] = ratio(all.tsovs, all.ovs, v);
    ratios["tsovs_vs_bridge"]![v] = ratio(all.tsovs, all.bridge, v);
    ratios["tsovs_vs_ovs_per_core"]![v] = ratio(all.tsovs, all.ovs, v, true);
  }
  if (o.variants.includes("flows10k")) {
    const a = all.tsovs?.flows10k;
    const b = all.ovs?.flows10k;
    const x = a !== undefined && "mpps_from_start" in a ? a.mpps_from_start : undefined;
    const y = b !== undefined && "mpps_from_start" in b ? b.mpps_from_start : undefined;
    ratios["tsovs_vs_ovs_flows10k_from_start"] = { flows10k: x !== undefined && y !== undefined && y > 0 ? +(x / y).toFixed(3) : null };
  }
  console.log(JSON.stringify({
    bench: "forwarding", frame_bytes: FRAME_BYTES, seconds: o.seconds, cpus: (await import("node:os")).cpus().length,
    sender: "trafgen --cpus 1 (qdisc bypass) in ns1; counted: rx_packets of ns2's veth (UDP to a MAC ns2 does not own: dropped on arrival)",
    per_core: "mpps_per_core / gbps_per_core: rate per core of the switch process's CPU time (kernel time of its system calls included)",
    flows10k: `UDP tp_src cycles over ${N_FLOWS} values; ${N_FLOWS} OpenFlow rules udp,in_port=1,tp_src=N: one upcall and one exact-tp_src megaflow per port; setup_s = time until 99% are installed under full load (polling dpctl/show every 100 ms), upcalls_per_s = 9900 / setup_s, *_cpu_s: the switch process's CPU time meanwhile; warm_*: the same again after revalidator/purge in the same process (tsovs: JIT-compiled upcall path), mpps = steady state over ${N_FLOWS} megaflows, mpps_from_start = every frame delivered from the sender's start to the end of the steady window (setup included) per second`,
    tcp: "iperf3 ns1 -> ns2, TX checksum offload off on the host ends (all switches)",
    results: all, ratios, ...(profile !== undefined ? { tsovs_cpu_profile: profile } : {}),
  }));
}

await main();
