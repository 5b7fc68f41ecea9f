/**
 * The switch daemon (OVS's ovs-vswitchd) assembled: the bridge layer
 * following the database, and the control socket
 * `$OVS_RUNDIR/ovs-vswitchd.<pid>.ctl` (plus the pid file) that the real
 * `ovs-appctl -t ovs-vswitchd` talks to.
 *
 * Commands: the built-ins (list-commands, version, vlog/...), exit,
 * memory/show, coverage/show, coverage/read-counter, time/stop and
 * time/warp (the process clock, util/clock.ts), bridge/reconnect,
 * ofproto/list, qos/show and
 * qos/show-types (tsovs has no QoS: OVS's texts for an interface without
 * it), the datapath's dpctl/... commands, and the commands of the
 * ofproto-dpif modules (dpif/..., fdb/..., ofproto/trace, ...) which are
 * loaded dynamically so that this daemon runs with whatever of them is
 * built.
 *
 * `startVswitchd` runs it in the calling process: `tsovs vswitchd` alone,
 * or beside the database server in `tsovs start`.
 */
import * as path from "node:path";
import type { DatapathGlobalConfig, DpifBridgeApi, XlateIn, XlateOut } from "../ofproto/xlate-types.js";
import type { FdbBridge } from "../ofproto/fdb-commands.js";
import { warmUpOfproto } from "../ofproto/warm-up.js";
import { registerDpctlCommands } from "../datapath/dpctl-commands.js";
import { registerLinuxNetdevClasses } from "../netdev/linux-classes.js";
import { UnixctlRegistry, UnixctlServer, UnixctlError, registerBuiltins, versionText, createPidfile, type Pidfile } from "../unixctl/index.js";
import { ensureDir, rundir } from "../util/dirs.js";
import { configureLogging, vlogModule } from "../util/vlog.js";
import { Bridges, type BridgeOptions, type OpenDpifBridge } from "./bridge.js";
import { coverageShowText, coverageTotal } from "./coverage.js";
import { timeStop, timeWarp } from "../util/clock.js";
import type { DummyMode } from "./port-config.js";

export const PROGRAM = "ovs-vswitchd";
const log = vlogModule("vswitchd");

export interface VswitchdConfig {
  /** The database: `unix:PATH` or `tcp:IP:PORT`. */
  remote: string;
  pidfile: string | null;
  overwritePidfile: boolean;
  logFile: string | null;
  /** Control socket path, "none", or null for the default. */
  unixctl: string | null;
  verbose: string[];
  dummy: DummyMode;
  disableSystem: boolean;
  detach: boolean;
}

export interface RunningVswitchd {
  bridges: Bridges;
  registry: UnixctlRegistry;
  unixctl: UnixctlServer | null;
  /** Stops the bridges, the control socket and removes the pid file. */
  shutdown(): Promise<void>;
  /** Resolves once shut down (exit command, pid file holder killed, shutdown()). */
  done: Promise<void>;
}

/** What the ofproto-dpif module offers (loaded when present). */
interface DpifModule {
  openDpifBridge?: (name: string, datapathType: string) => DpifBridgeApi | Promise<DpifBridgeApi>;
  setDatapathGlobalConfig?: (cfg: DatapathGlobalConfig) => void;
  setDefaultXlate?: (fn: (xin: XlateIn) => XlateOut) => void;
}

/** Translation used when xlate.ts is not built: every packet is dropped (logged once). */
function dropXlate(xin: XlateIn): XlateOut {
  return { actions: new Uint8Array(0), slow: 0, finalFlow: xin.flow.slice(), rules: [], error: null, deferred: [] };
}

/** Joins ofproto-dpif to the translation and MAC learning modules that are built. */
async function wireDpif(dpif: DpifModule): Promise<void> {
  const xlate = await optionalImport<{ xlateActions?: (xin: XlateIn) => XlateOut }>("../ofproto/xlate.js");
  if (typeof xlate?.xlateActions === "function") dpif.setDefaultXlate?.(xlate.xlateActions);
  else {
    log.warn("ofproto-dpif translation (xlate.ts) is not built: packets are dropped");
    dpif.setDefaultXlate?.(dropXlate);
  }
}

/** C's atoi: leading blanks, a sign and digits; 0 when there are none. */
function atoiOf(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

/** Imports a module of another part of tsovs if it is built, else null. */
async function optionalImport<T>(spec: string): Promise<T | null> {
  try {
    return (await import(spec)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND") return null;
    log.err(`${spec}: ${(e as Error).message}`);
    return null;
  }
}

function resolveIn(dir: string, file: string): string {
  return path.isAbsolute(file) ? file : path.join(dir, file);
}

/** The context handed to other modules' command registration functions. */
export interface VswitchdCommandContext {
  /** The running bridges' ofproto-dpif faces. */
  bridges(): DpifBridgeApi[];
  bridge(name: string): DpifBridgeApi | null;
}

/** A bridge as the fdb/... commands see it (when its MAC table is mac-learning.ts's). */
function fdbBridgeOf(api: DpifBridgeApi | null): FdbBridge | null {
  if (api === null) return null;
  const macs = api.xbridge.macs as FdbBridge["macs"];
  if (typeof (macs as { flush?: unknown }).flush !== "function") return null;
  const revalidate = (api as { requestRevalidation?: () => void }).requestRevalidation;
  const fb: FdbBridge = { xbridge: api.xbridge, macs };
  if (revalidate !== undefined) fb.revalidate = () => revalidate.call(api);
  return fb;
}

/**
 * Registers the commands of the ofproto-dpif modules that exist:
 * dpif/... (dpif-commands.ts), fdb/... (fdb-commands.ts), ofproto/trace
 * (trace.ts).
 */
async function registerOptionalCommands(registry: UnixctlRegistry, ctx: VswitchdCommandContext): Promise<void> {
  const dpif = await optionalImport<{ registerDpifCommands?: (r: UnixctlRegistry, c: VswitchdCommandContext) => void }>("../ofproto/dpif-commands.js");
  const fdb = await optionalImport<{ registerFdbCommands?: (r: UnixctlRegistry, find: (n: string) => FdbBridge | null, all: () => Iterable<FdbBridge>) => void }>("../ofproto/fdb-commands.js");
  const trace = await optionalImport<{ registerTraceCommands?: (r: UnixctlRegistry, c: VswitchdCommandContext) => void }>("../ofproto/trace.js");
  const guarded = (what: string, f: () => void): void => {
    try {
      f();
    } catch (e) {
      log.err(`${what}: ${(e as Error).message}`);
    }
  };
  if (dpif?.registerDpifCommands) guarded("dpif commands", () => dpif.registerDpifCommands!(registry, ctx));
  if (fdb?.registerFdbCommands) {
    guarded("fdb commands", () => fdb.registerFdbCommands!(
      registry,
      (name) => fdbBridgeOf(ctx.bridge(name)),
      () => ctx.bridges().map(fdbBridgeOf).filter((b): b is FdbBridge => b !== null),
    ));
  }
  if (trace?.registerTraceCommands) guarded("trace commands", () => trace.registerTraceCommands!(registry, ctx));
  // bond/... (bond-commands.ts): a change runs the bridges' bonds at once, as OVS's main loop would.
  const bond = await optionalImport<{ registerBondCommands?: (r: UnixctlRegistry, c: { afterChange(): void }) => void }>("../ofproto/bond-commands.js");
  if (bond?.registerBondCommands) {
    guarded("bond commands", () => bond.registerBondCommands!(registry, {
      afterChange: () => {
        for (const b of ctx.bridges()) (b as { refreshPortStates?: () => void }).refreshPortStates?.();
      },
    }));
  }
  const stp = await optionalImport<{ registerStpCommands?: (r: UnixctlRegistry) => void }>("../ofproto/stp-commands.js");
  if (stp?.registerStpCommands) guarded("stp commands", () => stp.registerStpCommands!(registry));
  // mdb/... (mcast-commands.ts): the bridges' multicast snooping tables.
  const mcast = await optionalImport<{ registerMcastCommands?: (r: UnixctlRegistry, c: VswitchdCommandContext) => void }>("../ofproto/mcast-commands.js");
  if (mcast?.registerMcastCommands) guarded("mdb commands", () => mcast.registerMcastCommands!(registry, ctx));
  // bfd/show, bfd/set-forwarding (bfd-commands.ts).
  const bfd = await optionalImport<{ registerBfdCommands?: (r: UnixctlRegistry) => void }>("../ofproto/bfd-commands.js");
  if (bfd?.registerBfdCommands) guarded("bfd commands", () => bfd.registerBfdCommands!(registry));
  // cfm/show, cfm/set-fault (cfm.ts).
  const cfm = await optionalImport<{ registerCfmCommands?: (r: UnixctlRegistry) => void }>("../ofproto/cfm.js");
  if (cfm?.registerCfmCommands) guarded("cfm commands", () => cfm.registerCfmCommands!(registry));
}

/** Starts the daemon in this process. Throws with a message for the user when it cannot start. */
export async function startVswitchd(
  cfg: VswitchdConfig,
  opts: { openBridge?: OpenDpifBridge; program?: string; initDatabase?: BridgeOptions["initDatabase"] } = {},
): Promise<RunningVswitchd> {
  configureLogging(cfg.verbose, cfg.logFile);
  log.info(versionText(PROGRAM).trim());
  ensureDir(rundir());
  const pidfile: Pidfile | null = cfg.pidfile !== null ? await createPidfile(cfg.pidfile, cfg.overwritePidfile) : null;

  // Real devices (system, internal and tap ports on kernel interfaces)
  // unless every device is a dummy (--enable-dummy=override, the test
  // bed). Done here, once, not at import: a datapath opened elsewhere (a
  // unit test) must not create kernel devices for its local port.
  if (cfg.dummy !== "override") {
    const why = registerLinuxNetdevClasses();
    if (why !== null) log.warn(`real network devices are not available: ${why}`);
  }

  // Before any bridge exists: compiles the flow_mod and flow dump paths (src/ofproto/warm-up.ts).
  await warmUpOfproto();

  let openBridge = opts.openBridge;
  let setGlobalConfig: ((c: DatapathGlobalConfig) => void) | null = null;
  if (openBridge === undefined) {
    const dpif = await optionalImport<DpifModule>("../ofproto/ofproto-dpif.js");
    if (dpif !== null) await wireDpif(dpif);
    const open = dpif?.openDpifBridge;
    setGlobalConfig = dpif?.setDatapathGlobalConfig ?? null;
    openBridge = open ?? (() => {
      throw new Error("ofproto-dpif is not built");
    });
  }
  const bridges = new Bridges({
    remote: cfg.remote, openBridge, setGlobalConfig, dummy: cfg.dummy, rundir: rundir(), initDatabase: opts.initDatabase ?? null,
  });

  const registry = new UnixctlRegistry();
  registerBuiltins(registry, opts.program ?? PROGRAM);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let unixctl: UnixctlServer | null = null;
  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      unixctl?.close();
      await bridges.close();
      pidfile?.remove();
      resolveDone();
    })();
    return shuttingDown;
  };

  registry.register("exit", "[--cleanup]", 0, 1, () => {
    setImmediate(() => void shutdown());
    return "";
  });
  registry.register("memory/show", "", 0, 0, () => {
    let cells = 0;
    for (const rows of bridges.idl.tables.values()) for (const r of rows.values()) cells += r.data.length;
    let ports = 0;
    let rules = 0;
    for (const b of bridges.bridges.values()) {
      ports += b.api.ofproto.ports.size;
      rules += b.api.ofproto.tables.allRules().length;
    }
    return `handlers:1 idl-cells-Open_vSwitch:${cells} ports:${ports} revalidators:1 rules:${rules}\n`;
  });
  registry.register("coverage/show", "", 0, 0, () => coverageShowText());
  registry.register("coverage/read-counter", "COUNTER", 1, 1, (args) => {
    const n = coverageTotal(args[0]!);
    if (n === null) throw new UnixctlError("No such counter");
    return `${n}\n`;
  });
  // The process clock (util/clock.ts): stopped, then warped with every timer run.
  registry.register("time/stop", "", 0, 0, () => {
    timeStop();
    return "";
  });
  registry.register("time/warp", "[large_msecs] msecs", 1, 2, (args) => {
    // With two arguments: LARGE_MSECS in all, MSECS at a time.
    const msecs = atoiOf(args[args.length - 1]!);
    const total = args.length === 2 ? atoiOf(args[0]!) : msecs;
    if (msecs <= 0) throw new UnixctlError("invalid MSECS");
    if (total < 0) throw new UnixctlError("invalid LARGE_MSECS");
    timeWarp(total, msecs);
    return "warped";
  });
  registry.register("bridge/reconnect", "[bridge]", 0, 1, async (args) => {
    if (!(await bridges.reconnect(args[0]))) throw new UnixctlError("Unknown bridge");
    return "";
  });
  registry.register("ofproto/list", "", 0, 0, () => [...bridges.bridges.keys()].sort().map((n) => n + "\n").join(""));
  const hasIface = (name: string): boolean => [...bridges.bridges.values()].some((b) => b.api.ifaceStatus(name) !== null);
  registry.register("qos/show", "interface", 1, 1, (args) => {
    if (!hasIface(args[0]!)) throw new UnixctlError("no such interface");
    return `QoS not configured on ${args[0]!}\n`;
  });
  registry.register("qos/show-types", "interface", 1, 1, (args) => {
    if (!hasIface(args[0]!)) throw new UnixctlError("no such interface");
    return `No QoS types supported for interface: ${args[0]!}\n`;
  });
  registerDpctlCommands(registry);
  const ctx: VswitchdCommandContext = {
    bridges: () => [...bridges.bridges.values()].map((b) => b.api),
    bridge: (name) => bridges.bridges.get(name)?.api ?? null,
  };
  await registerOptionalCommands(registry, ctx);
  // Native tunnelling: ovs/route/*, tnl/*, netdev-dummy/ip4addr (tnl-commands.ts); only
  // user routes when every device is a dummy.
  const tnl = await optionalImport<{ registerTnlCommands?: (r: UnixctlRegistry, o: { systemRouting: boolean }) => void }>("../ofproto/tnl-commands.js");
  tnl?.registerTnlCommands?.(registry, { systemRouting: cfg.dummy !== "override" });

  if (cfg.unixctl !== "none") {
    const sockPath = cfg.unixctl === null ? path.join(rundir(), `${PROGRAM}.${process.pid}.ctl`) : resolveIn(rundir(), cfg.unixctl);
    pidfile?.aliasControlSocket(sockPath, PROGRAM);
    try {
      unixctl = await UnixctlServer.listen(sockPath, registry);
    } catch (e) {
      pidfile?.remove();
      throw new Error(`${sockPath}: could not listen (${(e as Error).message})`);
    }
  }
  pidfile?.onLost(() => {
    log.info(`${cfg.pidfile}: pid file holder exited (killed?), exiting`);
    void shutdown();
  });
  bridges.start();
  return { bridges, registry, unixctl, shutdown, done };
}
