/**
 * The programmatic switch: `startSwitch()` runs the whole of tsovs — the
 * OVSDB server and the vswitchd, as `tsovs start` does — inside the
 * calling Node.js process, and hands back small handles to configure it
 * and to move packets through it, for tests of controllers and network
 * code.
 *
 * ## Everything goes the way a user's commands go
 * - Configuration is `ovs-vsctl` (tsovs's own implementation, in-process)
 *   against the switch's database, waiting for `cur_cfg` like ovs-vsctl
 *   without `--no-wait`: when `addBridge`/`addPort`/`vsctl` resolve, the
 *   vswitchd has applied the change.
 * - Flows are `ovs-ofctl` (in-process) over the bridge's
 *   `<rundir>/<bridge>.mgmt` OpenFlow socket.
 * - `appctl` runs the vswitchd's unixctl commands through the same
 *   command table its control socket serves.
 * - Packets enter a port as `ovs-appctl netdev-dummy/receive` puts them
 *   there (and are processed before `send` resolves); what a port
 *   transmits is read from its dummy device's capture.
 * The run directory holds `db.sock`, `<bridge>.mgmt`, the pid files and
 * `ovs-vswitchd.<pid>.ctl`, so the real ovs-vsctl/ovs-ofctl/ovs-appctl
 * work against the same switch given `switch.env`.
 *
 * ## One switch per process at a time
 * tsovs's daemons find their files through `$OVS_RUNDIR` (and the
 * userspace datapath is process-wide), so a running switch sets
 * `OVS_RUNDIR`, `OVS_DBDIR` and `OVS_LOGDIR` in `process.env` and
 * restores them at `stop()`; a second `startSwitch` before that is
 * refused (`SwitchStateError`). Tool calls (`vsctl`, `ofctl`) are run
 * one at a time, in call order.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startOvsdbServer, type OvsdbServerConfig, type RunningOvsdbServer } from "../cli/ovsdb-server.js";
import { ofctlSwitch } from "../cli/ofctl.js";
import { JsonRpcConnection } from "../jsonrpc/index.js";
import { DummyNetdev } from "../netdev/netdev-dummy.js";
import { findDpifBridge } from "../ofproto/ofproto-dpif.js";
import { DEFAULT_PROBE_MS } from "../ovsdb/server/index.js";
import { OVS_VERSION, type UnixctlRegistry } from "../unixctl/index.js";
import { vsctlMain } from "../vsctl/index.js";
import { startVswitchd, type RunningVswitchd } from "../vswitchd/index.js";
import { buildPacket } from "./packets.js";

/* ---------------- errors ---------------- */

/** A command (ovs-vsctl, ovs-ofctl, ovs-appctl) failed; `stderr` is the tool's own error text. */
export class ToolError extends Error {
  readonly code = "TSOVS_TOOL_FAILED";
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly status: number,
    readonly stderr: string,
  ) {
    super(`${tool} ${args.join(" ")}: ${stderr.trim() || `exit status ${status}`}`);
    this.name = "ToolError";
  }
}

/** `Port.receive` saw nothing transmitted within its time limit. */
export class ReceiveTimeoutError extends Error {
  readonly code = "TSOVS_RECEIVE_TIMEOUT";
  constructor(readonly port: string, readonly timeoutMs: number) {
    super(`${port}: no packet transmitted within ${timeoutMs} ms`);
    this.name = "ReceiveTimeoutError";
  }
}

/** The switch is not in a state for the call: stopped, or another one is running in this process. */
export class SwitchStateError extends Error {
  readonly code = "TSOVS_SWITCH_STATE";
  constructor(message: string) {
    super(message);
    this.name = "SwitchStateError";
  }
}

/* ---------------- options ---------------- */

export interface StartSwitchOptions {
  /**
   * Run directory for sockets, pid files and the database (`conf.db`,
   * created from the bundled schema when missing). Default: a new
   * temporary directory, removed by `stop()`.
   */
  rundir?: string;
  /** Keep a temporary run directory at `stop()` (to read it afterwards). */
  keepRundir?: boolean;
  /** More OVSDB remotes, e.g. `"ptcp:6640:127.0.0.1"` (db.sock is always there). */
  dbRemotes?: readonly string[];
  /** vlog settings as `-v`/`vlog/set` take them, e.g. `["console:info"]` (process-wide). */
  verbose?: readonly string[];
  /** How long to wait for the vswitchd to be configured at start (default 10 000 ms). */
  readyTimeoutMs?: number;
}

/** Bridge.fail_mode: what the bridge does without a controller. */
export type FailMode = "standalone" | "secure";

export interface AddBridgeOptions {
  failMode?: FailMode;
  /** Controller targets, e.g. `["tcp:127.0.0.1:6653"]` (`ovs-vsctl set-controller`). */
  controllers?: readonly string[];
  /** OpenFlow versions the bridge speaks, e.g. `["OpenFlow10", "OpenFlow13"]`. */
  protocols?: readonly string[];
  /** Bridge.datapath_type (default: the database default, a dummy datapath here). */
  datapathType?: string;
  /** Bridge.other_config, e.g. `{ "datapath-id": "0000000000000001" }`. */
  otherConfig?: Readonly<Record<string, string>>;
}

export type VlanMode = "access" | "trunk" | "native-tagged" | "native-untagged" | "dot1q-tunnel";

export interface AddPortOptions {
  /** The OpenFlow port number to ask for (Interface.ofport_request). */
  ofport?: number;
  /** Access VLAN (Port.tag). */
  tag?: number;
  /** VLANs a trunk port carries (Port.trunks; empty or absent: all). */
  trunks?: readonly number[];
  vlanMode?: VlanMode;
  /** Interface.type (default `dummy`: a port whose packets this API injects and captures). */
  type?: string;
  /** Interface.options, e.g. `{ peer: "patch1" }` for a patch port. */
  options?: Readonly<Record<string, string>>;
}

export interface ReceiveOptions {
  /** How long to wait (default 1000 ms). */
  timeoutMs?: number;
}

/* ---------------- helpers ---------------- */

/** One switch per process: the one running now. */
let active: Switch | null = null;

const ENV_NAMES = ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR"] as const;

/** ovs-vsctl's quoting for a value in `column=value` (strings with specials are JSON-quoted). */
function vsctlString(s: string): string {
  return /^[A-Za-z0-9_.\-:/]+$/.test(s) && !/^[0-9]/.test(s) ? s : JSON.stringify(s);
}

function mapArg(column: string, m: Readonly<Record<string, string>>): string[] {
  return Object.entries(m).map(([k, v]) => `${column}:${vsctlString(k)}=${vsctlString(v)}`);
}

function toHex(frame: Uint8Array): string {
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("hex");
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll period of `receive` (transmitted frames are captured synchronously; this only bounds latency). */
const RECEIVE_POLL_MS = 2;

/* ---------------- the switch ---------------- */

/**
 * A running switch (from `startSwitch`). Its handles (`bridge`, `port`)
 * are cheap and may be asked for by name at any time; `stop()` ends it.
 */
export class Switch {
  /** Run directory: db.sock, `<bridge>.mgmt`, pid files, control sockets, conf.db. */
  readonly rundir: string;
  /** Environment for the real OVS tools to find this switch (merge into a child's env). */
  readonly env: Readonly<Record<string, string>>;
  private readonly ports = new Map<string, Port>();
  private tools: Promise<unknown> = Promise.resolve();
  private stopped: Promise<void> | null = null;
  /** An unconnected connection for in-process unixctl calls (no command reads it). */
  private readonly appctlConn = new JsonRpcConnection(new net.Socket(), "api");

  /** @internal Use `startSwitch`. */
  constructor(
    rundir: string,
    private readonly db: RunningOvsdbServer,
    private readonly vs: RunningVswitchd,
    private readonly savedEnv: Readonly<Record<string, string | undefined>>,
    private readonly removeRundir: boolean,
  ) {
    this.rundir = rundir;
    this.env = { OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
  }

  /** `unix:` address of the database (for ovsdb clients). */
  get dbRemote(): string {
    return `unix:${path.join(this.rundir, "db.sock")}`;
  }

  /** True until `stop()` is called. */
  get running(): boolean {
    return this.stopped === null;
  }

  private check(): void {
    if (this.stopped !== null) throw new SwitchStateError("the switch is stopped");
  }

  /** Runs tool invocations one after another (the tools keep per-run state). */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.tools.then(fn, fn);
    this.tools = r.catch(() => undefined);
    return r;
  }

  /**
   * Runs an ovs-vsctl command line (without the program name), e.g.
   * `["set", "port", "p1", "tag=10"]` or several joined by `"--"`, and
   * resolves with its output once the vswitchd has applied the change.
   * Throws `ToolError` with ovs-vsctl's message when it fails.
   */
  async vsctl(args: readonly string[]): Promise<string> {
    this.check();
    return this.serialized(async () => {
      let out = "";
      let err = "";
      const argv = [`--db=${this.dbRemote}`, ...args];
      const status = await vsctlMain(argv, { out: (s) => (out += s), err: (s) => (err += s) });
      if (status !== 0) throw new ToolError("ovs-vsctl", args, status, err);
      return out;
    });
  }

  /**
   * Runs an ovs-ofctl switch command (without the program name), e.g.
   * `["dump-flows", "br0"]`; `stdin` feeds a `-` file argument (add-flows
   * br0 -). Resolves with its output; throws `ToolError`.
   */
  async ofctl(args: readonly string[], opts: { stdin?: string } = {}): Promise<string> {
    this.check();
    return this.serialized(async () => {
      const r = await ofctlSwitch([...args], undefined, opts.stdin);
      if (r.status !== 0) throw new ToolError("ovs-ofctl", args, r.status, r.stderr);
      return r.stdout;
    });
  }

  /**
   * Runs a vswitchd unixctl command, as `ovs-appctl COMMAND ARGS...` would:
   * `appctl("ofproto/trace", "br0", "in_port=1,ip")`, `appctl("fdb/show",
   * "br0")`. Resolves with the reply text; throws `ToolError` with the
   * error reply.
   */
  async appctl(command: string, ...args: string[]): Promise<string> {
    return this.unixctl(this.vs.registry, command, args);
  }

  /** The same for the database server's commands (`ovsdb-server/list-dbs`, ...). */
  async ovsdbAppctl(command: string, ...args: string[]): Promise<string> {
    return this.unixctl(this.db.registry, command, args);
  }

  private async unixctl(registry: UnixctlRegistry, command: string, args: string[]): Promise<string> {
    this.check();
    const r = await registry.execute(command, args, this.appctlConn);
    if ("error" in r) throw new ToolError("ovs-appctl", [command, ...args], 2, r.error);
    return r.result;
  }

  /** Creates a bridge (`ovs-vsctl add-br`) with the given settings. */
  async addBridge(name: string, opts: AddBridgeOptions = {}): Promise<Bridge> {
    const args = ["add-br", name];
    const sets: string[] = [];
    if (opts.failMode !== undefined) sets.push(`fail_mode=${opts.failMode}`);
    if (opts.protocols !== undefined) sets.push(`protocols=[${opts.protocols.map(vsctlString).join(",")}]`);
    if (opts.datapathType !== undefined) sets.push(`datapath_type=${vsctlString(opts.datapathType)}`);
    if (opts.otherConfig !== undefined) sets.push(...mapArg("other_config", opts.otherConfig));
    if (sets.length > 0) args.push("--", "set", "bridge", name, ...sets);
    if (opts.controllers !== undefined && opts.controllers.length > 0) args.push("--", "set-controller", name, ...opts.controllers);
    await this.vsctl(args);
    return this.bridge(name);
  }

  /** A handle on bridge `name` (not checked: its calls fail as the tools do when it does not exist). */
  bridge(name: string): Bridge {
    return new Bridge(this, name);
  }

  /**
   * A handle on port (interface) `name`. There is one per name, so
   * frames it transmitted are taken by one reader in order.
   */
  port(name: string): Port {
    let p = this.ports.get(name);
    if (p === undefined) {
      p = new Port(this, name);
      this.ports.set(name, p);
    }
    return p;
  }

  /** @internal The dummy device behind interface `name`, or null. */
  dummyDevice(bridge: string | null, name: string): DummyNetdev | null {
    if (this.stopped !== null) return null;
    const names = bridge !== null ? [bridge] : [...this.vs.bridges.bridges.keys()];
    for (const b of names) {
      const nd = findDpifBridge(b)?.portByName(name)?.netdev ?? null;
      if (nd instanceof DummyNetdev) return nd;
    }
    return null;
  }

  /**
   * Stops the vswitchd and the database server, removes their files (and
   * the temporary run directory) and restores the environment. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.tools.catch(() => undefined);
      try {
        await this.vs.shutdown();
      } finally {
        await this.db.shutdown();
        this.appctlConn.close();
        for (const k of ENV_NAMES) {
          const v = this.savedEnv[k];
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
        if (active === this) active = null;
        if (this.removeRundir) fs.rmSync(this.rundir, { recursive: true, force: true });
      }
    })();
    return this.stopped;
  }
}

/* ---------------- bridges ---------------- */

/** A bridge of a running switch. */
export class Bridge {
  constructor(
    readonly sw: Switch,
    readonly name: string,
  ) {}

  /** Path of the bridge's OpenFlow management socket (`unix:` + this for ovs-ofctl). */
  get mgmtPath(): string {
    return path.join(this.sw.rundir, `${this.name}.mgmt`);
  }

  /**
   * Adds a port with one interface (`ovs-vsctl add-port`), by default a
   * dummy one, and resolves once the switch has opened it (`port.ofport`
   * is its OpenFlow number).
   */
  async addPort(name: string, opts: AddPortOptions = {}): Promise<Port> {
    const args = ["add-port", this.name, name];
    if (opts.tag !== undefined) args.push(`tag=${opts.tag}`);
    if (opts.trunks !== undefined) args.push(`trunks=[${opts.trunks.join(",")}]`);
    if (opts.vlanMode !== undefined) args.push(`vlan_mode=${opts.vlanMode}`);
    const iface = [`type=${vsctlString(opts.type ?? "dummy")}`];
    if (opts.ofport !== undefined) iface.push(`ofport_request=${opts.ofport}`);
    if (opts.options !== undefined) iface.push(...mapArg("options", opts.options));
    args.push("--", "set", "interface", name, ...iface);
    await this.sw.vsctl(args);
    const p = this.sw.port(name);
    await p.refresh();
    return p;
  }

  /** A handle on one of this bridge's ports (the same as `switch.port(name)`). */
  port(name: string): Port {
    return this.sw.port(name);
  }

  /**
   * Adds flows as `ovs-ofctl add-flows BRIDGE FILE` does, one flow per
   * string (or a whole text, one per line), e.g.
   * `"table=0,priority=10,in_port=1,actions=output:2"`. `protocols` is
   * ovs-ofctl's `-O` (e.g. `"OpenFlow13"`).
   */
  async addFlows(flows: string | readonly string[], opts: { protocols?: string } = {}): Promise<void> {
    const text = typeof flows === "string" ? flows : flows.join("\n");
    await this.sw.ofctl([...protocolArgs(opts.protocols), "add-flows", this.name, "-"], { stdin: text + "\n" });
  }

  /** Deletes the flows matching `match` (all without one), as `ovs-ofctl del-flows`. */
  async delFlows(match?: string, opts: { protocols?: string } = {}): Promise<void> {
    await this.sw.ofctl([...protocolArgs(opts.protocols), "del-flows", this.name, ...(match !== undefined ? [match] : [])]);
  }

  /**
   * The bridge's flows as `ovs-ofctl dump-flows --no-stats` prints them,
   * one string per flow (without the reply header line).
   */
  async dumpFlows(match?: string, opts: { protocols?: string } = {}): Promise<string[]> {
    const out = await this.sw.ofctl([...protocolArgs(opts.protocols), "--no-stats", "dump-flows", this.name, ...(match !== undefined ? [match] : [])]);
    return out.split("\n").filter((l) => l.startsWith(" ")).map((l) => l.trim());
  }

  /** `ovs-appctl ofproto/trace BRIDGE FLOW [ARGS...]`: how the bridge would handle a packet. */
  trace(flow: string, ...args: string[]): Promise<string> {
    return this.sw.appctl("ofproto/trace", this.name, flow, ...args);
  }

  /** Deletes the bridge and its ports (`ovs-vsctl del-br`). */
  async delete(): Promise<void> {
    await this.sw.vsctl(["del-br", this.name]);
  }
}

function protocolArgs(protocols: string | undefined): string[] {
  return protocols !== undefined ? ["-O", protocols] : [];
}

/* ---------------- ports ---------------- */

/**
 * A dummy port of a running switch: `send` puts a frame on its wire
 * towards the switch; `receive` takes the next frame the switch sent out
 * of it. Frames the switch transmitted are kept (up to 65 536) until taken.
 */
export class Port {
  /** OpenFlow port number (Interface.ofport); -1 until known. */
  ofport = -1;
  private readonly pending: Uint8Array[] = [];
  private head = 0;

  constructor(
    readonly sw: Switch,
    readonly name: string,
  ) {}

  /** Reads `ofport` from the database again (after a change of ofport_request, say). */
  async refresh(): Promise<number> {
    const out = (await this.sw.vsctl(["get", "interface", this.name, "ofport"])).trim();
    const n = Number.parseInt(out, 10);
    this.ofport = Number.isInteger(n) ? n : -1;
    return this.ofport;
  }

  /**
   * Injects a frame as received on this port (`ovs-appctl
   * netdev-dummy/receive`): bytes, or flow text that `buildPacket` turns
   * into a frame. Resolves after the switch has processed it, so its
   * output is already waiting on the other ports.
   */
  async send(packet: Uint8Array | string): Promise<void> {
    const frame = typeof packet === "string" ? buildPacket(packet) : packet;
    await this.sw.appctl("netdev-dummy/receive", this.name, toHex(frame));
  }

  /** Moves what the device captured into this reader's queue. */
  private collect(): void {
    const nd = this.sw.dummyDevice(null, this.name);
    if (nd === null) return;
    for (const f of nd.takeTx()) this.pending.push(f);
  }

  private shift(): Uint8Array | null {
    if (this.head === this.pending.length) return null;
    const f = this.pending[this.head++]!;
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    }
    return f;
  }

  /** The next frame transmitted on this port, waiting up to `timeoutMs`; throws `ReceiveTimeoutError`. */
  async receive(opts: ReceiveOptions = {}): Promise<Uint8Array> {
    const timeoutMs = opts.timeoutMs ?? 1000;
    const f = await this.tryReceive({ timeoutMs });
    if (f === null) throw new ReceiveTimeoutError(this.name, timeoutMs);
    return f;
  }

  /** As `receive`, but resolves with null when nothing came (default wait: none). */
  async tryReceive(opts: ReceiveOptions = {}): Promise<Uint8Array | null> {
    const deadline = Date.now() + (opts.timeoutMs ?? 0);
    for (;;) {
      this.collect();
      const f = this.shift();
      if (f !== null) return f;
      if (Date.now() >= deadline || !this.sw.running) return null;
      await delay(RECEIVE_POLL_MS);
    }
  }

  /** Every frame transmitted and not taken yet (possibly none), without waiting. */
  takeAll(): Uint8Array[] {
    this.collect();
    const out = this.pending.slice(this.head);
    this.pending.length = 0;
    this.head = 0;
    return out;
  }

  /** Forgets the frames transmitted so far (e.g. floods seen while learning). */
  clear(): void {
    this.takeAll();
  }
}

/* ---------------- start ---------------- */

/**
 * Starts a switch in this process: the database server on
 * `<rundir>/db.sock` (database `<rundir>/conf.db`), and the vswitchd with
 * dummy devices standing in for system ones (`--enable-dummy=override
 * --disable-system`), with their pid files and control sockets. Resolves
 * once the vswitchd has taken the database and applied it.
 */
export async function startSwitch(opts: StartSwitchOptions = {}): Promise<Switch> {
  if (active !== null) throw new SwitchStateError(`a switch is already running in this process (${active.rundir}); stop it first`);
  const created = opts.rundir === undefined;
  const dir = path.resolve(opts.rundir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tsovs-")));
  fs.mkdirSync(dir, { recursive: true });
  const savedEnv: Record<string, string | undefined> = {};
  for (const k of ENV_NAMES) {
    savedEnv[k] = process.env[k];
    process.env[k] = dir;
  }
  const restore = (): void => {
    for (const k of ENV_NAMES) {
      const v = savedEnv[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (created) fs.rmSync(dir, { recursive: true, force: true });
  };
  const sock = path.join(dir, "db.sock");
  const dbCfg: OvsdbServerConfig = {
    databases: [path.join(dir, "conf.db")],
    remotes: [`punix:${sock}`, ...(opts.dbRemotes ?? [])],
    pidfile: path.join(dir, "ovsdb-server.pid"),
    overwritePidfile: false,
    logFile: null,
    unixctl: null,
    verbose: [...(opts.verbose ?? [])],
    probeIntervalMs: DEFAULT_PROBE_MS,
    detach: false,
  };
  let db: RunningOvsdbServer;
  try {
    db = await startOvsdbServer(dbCfg);
  } catch (e) {
    restore();
    throw e;
  }
  let vs: RunningVswitchd;
  try {
    vs = await startVswitchd(
      {
        remote: `unix:${sock}`, pidfile: path.join(dir, "ovs-vswitchd.pid"), overwritePidfile: false, logFile: null,
        unixctl: null, verbose: [], dummy: "override", disableSystem: true, detach: false,
      },
      { initDatabase: { ovsVersion: OVS_VERSION, systemType: os.type().toLowerCase(), systemVersion: os.release(), hostname: os.hostname() } },
    );
  } catch (e) {
    await db.shutdown();
    restore();
    throw e;
  }
  const sw = new Switch(dir, db, vs, savedEnv, created && opts.keepRundir !== true);
  active = sw;
  try {
    await waitReady(vs, opts.readyTimeoutMs ?? 10_000);
  } catch (e) {
    await sw.stop();
    throw e;
  }
  return sw;
}

/** Waits until the vswitchd holds the database lock, the Open_vSwitch row exists and it has applied it. */
async function waitReady(vs: RunningVswitchd, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const idl = vs.bridges.idl;
  for (;;) {
    const row = idl.rows("Open_vSwitch").next().value;
    if (idl.isConnected && idl.hasLock && row !== undefined && vs.bridges.reconfigurations > 0) break;
    if (Date.now() >= deadline) throw new SwitchStateError(`the vswitchd did not become ready within ${timeoutMs} ms`);
    await delay(5);
  }
  await vs.bridges.idle();
}
