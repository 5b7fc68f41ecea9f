/**
 * ofproto-dpif: an OpenFlow switch (Ofproto) joined to a datapath (OVS's
 * ofproto/ofproto-dpif.c). One `OfprotoDpif` per bridge; one `DpifBacker`
 * per datapath type, shared by every bridge of that type, as OVS shares
 * one datapath ("ovs-netdev", "ovs-dummy", "ovs-system") among bridges.
 *
 * ## Ports
 * The bridge (src/vswitchd) passes its whole desired set of Port rows to
 * `setBundles`; differences take effect. Every interface but a patch port
 * becomes a datapath port (the datapath numbers it: in the dummy classes
 * after its name, "br0" → 100); patch ports live only in translation,
 * joined to their peer by name. OpenFlow numbers: Interface.ofport_request
 * when free, else the next never-used number after the last one given
 * (OVS's alloc_ofp_port); new interfaces are numbered in the order OVS's
 * bridge adds them (its hash map of names). The LOCAL port (65534) is named after the bridge, type
 * internal, and always there. Each port is also an Ofproto port (port
 * status messages to controllers); admin/link state of the netdev is
 * polled and reported (PORT_DOWN / LINK_DOWN).
 *
 * ## Translation and the datapath
 * Misses and `userspace` actions come up through the backer's `Udpif`
 * (upcall.ts): key → bridge by in_port, `xlateActions`, megaflow install,
 * revalidation (revalidator.ts) whenever tables, groups, meters, ports or
 * MAC learning change. Packet-outs (Ofproto.packetOut) are translated and
 * executed here.
 *
 * ## Running
 * A backer polls its datapath's ports (`run`) and continues with
 * setImmediate while packets keep arriving. Kernel-backed ports (system,
 * internal/tap) offer a readiness watch (Netdev.watchRx): a port whose
 * poll found nothing is not polled again until its watch fires, and the
 * watch's callback starts a round at once, so a real frame is switched
 * without waiting for a timer and an idle port costs no system call.
 * Ports without a watch (dummy devices) are polled every round. A timer
 * runs the rest (port state, MAC aging) and polls what has no watch:
 * every 10 ms while some port has no watch, every 100 ms when all have.
 * Timers and watches are unref'd: they never keep a process alive.
 *
 * Kernel devices are followed once a second and on every reconfiguration
 * (Netdev.revalidate): a veth that vanished under traffic leaves its port
 * with an Interface.error and a working switch; one that comes back is
 * picked up again.
 */
import {
  dpifDelete,
  dpifOpen,
  DpifNetdev,
  Errno,
  ODPP_NONE,
  DPIF_UC_MISS,
  type DpifProvider,
} from "../datapath/index.js";
import { DpPacket } from "../packet/dp-packet.js";
import { extractFlowKey } from "../flow/extract.js";
import { FLOW_U32S, W_IN_PORT } from "../flow/key-layout.js";
import { netdevOpen, netdevTypes } from "../netdev/netdev.js";
import { isTunnelType, NetdevVport, parseTunnelOptions, tunnelDpifPortName } from "../netdev/netdev-vport.js";
import { setDeviceMacSource } from "../netdev/tnl-route.js";
import { tnlPortMapDelete, tnlPortMapDeleteIpdev, tnlPortMapInsert, tnlPortMapInsertIpdev } from "../netdev/tnl-ports.js";
import { OFPP_TABLE } from "../openflow/ofp-codec.js";
import { isTnlOdpPort, setTnlBridges, setTnlPacketSender, tnlPortAdd, tnlPortOf, tnlPortRemove, tnlReceivePort } from "./xlate-tnl.js";
import { zeroNetdevStats, type Netdev, type NetdevRxWatch, type NetdevStats } from "../netdev/netdev-provider.js";
import { OFPP_LOCAL, OFPP_MAX } from "../openflow/ofp-codec.js";
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN, OFPPS_LIVE, OFPPS_STP_MASK, featuresToKbps } from "../openflow/ofp-port.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { PacketOutBody } from "../openflow/ofp-packet.js";
import { vlogModule } from "../util/vlog.js";
import { timeMsec } from "../util/clock.js";
import { Ofproto, type OfPort, type OfprotoOptions } from "./ofproto.js";
import { Udpif, type XlateFn } from "./upcall.js";
import { MacLearning } from "./mac-learning.js";
import { hmapOrder } from "./ofport-order.js";
import { MirrorBridge, configureMirrors, type MirrorConfig } from "./mirror.js";
import { resumeContinuation } from "./continuation.js";
import { MeterIdPool } from "./meters.js";
import { BridgeBonds, bondPortStatus, type Bond, type BondPortStatus } from "./bond.js";
import { BridgeStp, stpOfpState, type StpBridgeSettings, type StpPortSettings } from "./stp-bridge.js";
import { SflowAgent, type SflowPort, type SflowSettings } from "./sflow.js";
import { NetflowExporter, type NetflowSettings } from "./netflow.js";
import { McastSnooping, type McastPortSettings, type McastSnoopingSettings } from "./mcast-snooping.js";
import { BfdSession, type BfdSettings } from "./bfd.js";
import { Cfm, cfmSettingsValid, type CfmSettings } from "./cfm.js";
import type { CfmStatus } from "./xlate-types.js";
import type {
  BridgeDpConfig,
  BundleConfig,
  DatapathGlobalConfig,
  DpifBridgeApi,
  IfaceConfig,
  IfaceStatus,
  MacTable,
  VlanMode,
  XBridge,
  XBundle,
  XPort,
} from "./xlate-types.js";

const log = vlogModule("ofproto_dpif");
/** OVS logs a netdev that refuses its configuration under "netdev". */
const netdevLog = vlogModule("netdev");

/** Poll interval of an idle backer (ms) with ports that must be polled (dummy devices). */
const IDLE_POLL_MS = 10;
/**
 * The same when every port has a readiness watch: the timer then only
 * runs the housekeeping (port state, MAC aging). Idle CPU of a switch
 * with two veth ports, loaded 2-core machine: 26 -> 10 ms/s.
 */
const IDLE_WATCHED_POLL_MS = 100;
/** How often port admin/link state is checked (ms). */
const PORT_CHECK_MS = 1000;
/**
 * Wake-ups in a row that found no frame before a port's watch is left
 * off until the next port check: an error condition (a deleted TAP) can
 * keep a descriptor ready for ever, which would otherwise spin the loop.
 */
const MAX_EMPTY_WAKES = 16;

/* ---------------- the translation function ---------------- */

let defaultXlate: XlateFn | null = null;

/**
 * Sets the translation every backer created from now on uses (xlate.ts's
 * `xlateActions`; tests pass fakes through `DpifBridgeOptions.xlate`).
 */
export function setDefaultXlate(fn: XlateFn): void {
  defaultXlate = fn;
}

/** A MAC table factory (mac-learning.ts provides the real one). */
export type MacTableFactory = (bridge: OfprotoDpif) => MacTable;

let defaultMacTable: MacTableFactory | null = null;

/** Sets the MAC table every bridge created from now on gets (default: mac-learning.ts's MacLearning). */
export function setDefaultMacTable(fn: MacTableFactory): void {
  defaultMacTable = fn;
}

/* ---------------- options ---------------- */

export interface DpifBridgeOptions {
  /** ms clock (default Date.now). */
  clock?: () => number;
  /** Translation (default: the one set by setDefaultXlate). */
  xlate?: XlateFn;
  /** MAC table (default: setDefaultMacTable's, else MacLearning). */
  macTable?: MacTableFactory;
  /** Passed to the Ofproto (datapath id, hwaddr, versions, expiry timer). */
  ofproto?: OfprotoOptions;
  /** Poll the datapath on timers (default true; tests drive `backer.run()` themselves). */
  runLoop?: boolean;
  /** Revalidate on timers (default true). */
  revalidateTimer?: boolean;
}

/* ---------------- ports ---------------- */

/** An OpenFlow port of a bridge as translation sees it; config/state are the Ofproto port's. */
export class DpifPort implements XPort {
  bundle: XBundle | null = null;
  peer: XPort | null = null;
  /** The Ofproto port (null while the port failed to open). */
  ofport: OfPort | null = null;
  netdev: Netdev | null = null;
  /** Interface.error text. */
  error: string | null = null;
  /** What the last Netdev.revalidate() said (logged on change, not shown). */
  deviceError: string | null = null;
  /** What the bridge last asked for (for diffs). */
  cfg: IfaceConfig;
  /** OpenFlow config/state bits translation last saw (a port-mod changes them: revalidate). */
  seenConfig = 0;
  seenState = 0;
  hwAddr: Uint8Array = new Uint8Array(6);
  /** BFD on this interface (bfd.ts; Interface:bfd), else null. */
  bfd: BfdSession | null = null;
  /** CFM on this interface (cfm.ts; Interface.cfm_mpid), else null. */
  cfm: Cfm | null = null;

  constructor(
    readonly bridge: OfprotoDpif,
    readonly name: string,
    readonly type: string,
    public ofpNo: number,
    public odpNo: number,
    cfg: IfaceConfig,
  ) {
    this.cfg = cfg;
  }

  get config(): number {
    return this.ofport?.config ?? 0;
  }

  get state(): number {
    return this.ofport?.state ?? OFPPS_LIVE;
  }

  /** For a patch port: the peer's name. */
  get peerName(): string | null {
    return this.type === "patch" ? (this.cfg.options["peer"] ?? null) : null;
  }
}

/** A Port row. */
class DpifBundle implements XBundle {
  ports: XPort[] = [];
  vlanMode: VlanMode = "access";
  vlan = -1;
  trunks: ReadonlySet<number> | null = null;
  cvlans: ReadonlySet<number> | null = null;
  qinqEthtype = 0x8100;
  protected = false;
  /** Mirror masks (mirror.ts keeps them): declared so every bundle has one shape. */
  mirrorSrc = 0;
  mirrorDst = 0;
  mirrorOutMask = 0;
  mirrorOut = false;
  /** The bond (bond.ts), for a bundle of several interfaces. */
  bond: Bond | null = null;
  constructor(readonly name: string) {}
}

/* ---------------- the backer: one datapath per type ---------------- */

const backers = new Map<string, DpifBacker>();

/** The datapath name of a type, as OVS names it ("ovs-netdev"). */
export function backerDpName(type: string): string {
  return `ovs-${type}`;
}

/** The live backers, in creation order (upcall/show's order). */
export function allBackers(): DpifBacker[] {
  return [...backers.values()];
}

/** Live bridges in creation order. */
const bridgeOrder: OfprotoDpif[] = [];

/** Every bridge of every backer, in creation order. */
export function allDpifBridges(): OfprotoDpif[] {
  return bridgeOrder.slice();
}

/** A bridge by name, or null. */
export function findDpifBridge(name: string): OfprotoDpif | null {
  for (const b of backers.values()) {
    const br = b.bridges.get(name);
    if (br !== undefined) return br;
  }
  return null;
}

/** Open_vSwitch.other_config knobs for every backer (flow-limit, max-idle). */
export function setDatapathGlobalConfig(cfg: DatapathGlobalConfig): void {
  globalConfig = { ...cfg };
  for (const b of backers.values()) b.udpif.setConfig(cfg);
}
let globalConfig: DatapathGlobalConfig = {};

export class DpifBacker {
  readonly type: string;
  readonly dpif: DpifProvider;
  readonly udpif: Udpif;
  readonly bridges = new Map<string, OfprotoDpif>();
  /** odp port → port, over every bridge. */
  private readonly odpPorts = new Map<number, DpifPort>();
  private pollTimer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private lastPortCheck = 0;
  private readonly runLoop: boolean;
  private closed = false;
  /** What `run` polls: every datapath port, with its readiness state. */
  private pollList: PollPort[] = [];
  /** The datapath's ports changed: rebuild pollList before the next round. */
  private pollDirty = true;
  /** Every port of pollList has a readiness watch (the idle timer may be long). */
  private allWatched = false;
  readonly clock: () => number;
  /** Datapath meter ids of every bridge's meters (meters.ts). */
  readonly meterIds = new MeterIdPool();

  constructor(type: string, opts: DpifBridgeOptions) {
    this.type = type;
    this.clock = opts.clock ?? timeMsec;
    const dp = dpifOpen(type, backerDpName(type), { create: true, clock: this.clock });
    if (typeof dp === "number") throw new Error(`${backerDpName(type)}: cannot open datapath of type ${type} (errno ${dp})`);
    this.dpif = dp;
    const xlate = opts.xlate ?? defaultXlate;
    if (xlate === null) throw new Error("ofproto-dpif: no translation function (setDefaultXlate)");
    this.udpif = new Udpif(this, xlate, { timer: opts.revalidateTimer ?? true });
    // Upcalls pass through here so that a tunnel packet's port can be told
    // from its key (portByOdp).
    const udpif = this.udpif;
    this.dpif.registerUpcallHandler({
      upcall: (u) => {
        this.upcallKey = u.key;
        // A packet a tunnel received (OVS's netdev_vport_inc_rx, for the packet that sets up its flow).
        if (u.type === DPIF_UC_MISS && !this.odpPorts.has(u.key[W_IN_PORT]!)) {
          const tp = this.portByOdp(u.key[W_IN_PORT]!, u.key);
          if (tp !== null && tp.netdev instanceof NetdevVport) tp.netdev.incRx(1, u.packet.length);
        }
        const r = udpif.upcall(u);
        this.upcallKey = null;
        return r;
      },
    });
    this.udpif.setConfig(globalConfig);
    const meters = this.meterIds;
    this.netdevDp?.setMeterHook((id, bytes, now) => meters.run(id, bytes, now));
    this.runLoop = opts.runLoop ?? true;
    if (this.runLoop) {
      this.schedulePoll();
    }
  }

  /** The datapath's name. */
  get dpName(): string {
    return this.dpif.name;
  }

  /**
   * The port of datapath port `odpNo`. Tunnel ports share their datapath
   * port: which one a packet belongs to depends on its tunnel metadata,
   * from `key` (a datapath flow key) or, when the caller has none, the key
   * of the upcall being handled.
   */
  portByOdp(odpNo: number, key: Uint32Array | null = null): DpifPort | null {
    const p = this.odpPorts.get(odpNo);
    if (p !== undefined) return p;
    if (!isTnlOdpPort(odpNo)) return null;
    const k = key ?? this.upcallKey;
    if (k !== null) return (tnlReceivePort(k, odpNo) as DpifPort | null) ?? null;
    return null;
  }

  /** The key of the upcall being handled (tunnel ports: see portByOdp). */
  private upcallKey: Uint32Array | null = null;

  /** @internal */
  linkOdp(port: DpifPort): void {
    this.odpPorts.set(port.odpNo, port);
    this.pollDirty = true;
  }

  /** @internal A port's device changed under it (new socket): rebuild the poll list before the next round. */
  portsChanged(): void {
    this.pollDirty = true;
  }

  /** @internal */
  unlinkOdp(port: DpifPort): void {
    if (this.odpPorts.get(port.odpNo) === port) this.odpPorts.delete(port.odpNo);
    this.pollDirty = true;
  }

  /** The DpifNetdev behind the backer (every datapath type is one today). */
  get netdevDp(): DpifNetdev | null {
    return this.dpif instanceof DpifNetdev ? this.dpif : null;
  }

  /**
   * Polls every port once (receive, classify, execute, transmit) and runs
   * what follows from it (deferred revalidation); returns packets received.
   */
  run(now = this.clock()): number {
    const dp = this.netdevDp;
    const n = dp !== null ? this.pollPorts(dp, now) : this.dpif.run(now);
    this.afterPackets(now);
    return n;
  }

  /**
   * One round over the datapath's ports: those that may have input (no
   * watch, or woken since their last empty poll). A port found empty gets
   * its watch armed again.
   */
  private pollPorts(dp: DpifNetdev, now: number): number {
    if (this.pollDirty) this.rebuildPollList(dp);
    const list = this.pollList;
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (!p.ready) continue;
      const n = dp.pollPort(p.portNo, now);
      if (n > 0) {
        total += n;
        p.emptyWakes = 0;
        p.woke = false;
        continue;
      }
      const w = p.watch;
      if (w === null) continue;
      if (p.woke) {
        p.woke = false;
        p.emptyWakes++;
      }
      // Left off (polled every round) until the next port check.
      if (p.emptyWakes >= MAX_EMPTY_WAKES) continue;
      p.ready = false;
      w.resume();
    }
    return total;
  }

  /** Brings pollList in step with the datapath's ports, keeping the state of the ones that stay. */
  private rebuildPollList(dp: DpifNetdev): void {
    this.pollDirty = false;
    const old = new Map<number, PollPort>();
    for (const p of this.pollList) old.set(p.portNo, p);
    const next: PollPort[] = [];
    for (const { portNo } of dp.portDump()) {
      const nd = dp.portNetdev(portNo);
      if (nd === null) continue;
      let p = old.get(portNo);
      if (p !== undefined && p.netdev === nd) {
        old.delete(portNo);
        // The device rebuilt its socket (revalidate, MTU): the old watch is
        // closed (the new descriptor may well have the old number).
        const fd = nd.getFd?.() ?? -1;
        if (p.watch !== null ? p.watch.isClosed() : fd >= 0 && fd !== p.fd) this.watchPort(p);
      } else {
        p = { portNo, netdev: nd, watch: null, fd: -1, ready: true, woke: false, emptyWakes: 0 };
        this.watchPort(p);
      }
      next.push(p);
    }
    for (const p of old.values()) p.watch?.close();
    this.pollList = next;
    this.allWatched = next.every((p) => p.watch !== null);
  }

  /** (Re)makes `p`'s readiness watch, paused and ready; none when the loop is driven by hand or the device has none. */
  private watchPort(p: PollPort): void {
    p.watch?.close();
    p.watch = null;
    p.ready = true;
    p.woke = false;
    p.emptyWakes = 0;
    const nd = p.netdev;
    if (!this.runLoop || this.closed || nd.watchRx === undefined) return;
    p.fd = nd.getFd?.() ?? -1;
    if (p.fd < 0 && nd.getFd !== undefined) return;
    try {
      const w = nd.watchRx(() => this.wake(p));
      w.unref();
      w.pause();
      p.watch = w;
    } catch (e) {
      // Polled every round instead (slower when idle, still correct).
      log.warn(`${this.dpName}: ${nd.name}: cannot watch for input (${(e as Error).message})`);
    }
  }

  /** A port's watch fired: poll it in a round that starts now. */
  private wake(p: PollPort): void {
    if (p.watch === null) return;
    p.watch.pause();
    p.ready = true;
    p.woke = true;
    if (this.immediate === null && !this.closed) this.continuePolling();
  }

  /** What follows packet processing: port state checks, MAC aging, revalidation requests. */
  afterPackets(now = this.clock()): void {
    if (now - this.lastPortCheck >= PORT_CHECK_MS) {
      this.lastPortCheck = now;
      this.checkPorts();
    }
    for (const br of this.bridges.values()) br.runMacs(now);
    this.udpif.afterRun();
  }

  /** The idle timer: short while some port has no watch, long when all have. */
  private schedulePoll(): void {
    const ms = this.allWatched ? IDLE_WATCHED_POLL_MS : IDLE_POLL_MS;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      if (this.closed) return;
      this.poll();
      this.schedulePoll();
    }, ms);
    this.pollTimer.unref();
  }

  private poll(): void {
    if (this.immediate !== null) return;
    const n = this.run();
    if (n > 0) this.continuePolling();
  }

  private continuePolling(): void {
    this.immediate = setImmediate(() => {
      this.immediate = null;
      const n = this.run();
      if (n > 0) this.continuePolling();
    });
  }

  /**
   * Follows the kernel devices (revalidate), then admin/link state of
   * every port's netdev → Ofproto port state. Ports whose watch was left
   * off get it back.
   */
  checkPorts(): void {
    for (const br of this.bridges.values()) br.revalidateNetdevs();
    for (const br of this.bridges.values()) br.refreshPortStates();
    this.pollDirty = true;
    for (const p of this.pollList) if (p.emptyWakes >= MAX_EMPTY_WAKES) p.emptyWakes = 0;
  }

  /** @internal Removes a bridge; the last one takes the datapath with it. */
  dropBridge(br: OfprotoDpif): void {
    this.bridges.delete(br.name);
    if (this.bridges.size > 0) return;
    this.close();
  }

  close(): void {
    this.closed = true;
    for (const p of this.pollList) p.watch?.close();
    this.pollList = [];
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    this.udpif.close();
    this.dpif.registerUpcallHandler(null);
    dpifDelete(this.type, this.dpif.name);
    if (backers.get(this.type) === this) backers.delete(this.type);
  }
}

/** A datapath port as the backer's run loop polls it. */
interface PollPort {
  readonly portNo: number;
  readonly netdev: Netdev;
  /** Readiness watch (kernel devices), or null: polled every round. */
  watch: NetdevRxWatch | null;
  /** The descriptor the watch is bound to. */
  fd: number;
  /** May have input: poll it. False after an empty poll, until the watch fires. */
  ready: boolean;
  /** Woken by its watch since the last poll. */
  woke: boolean;
  /** Wake-ups in a row that found nothing. */
  emptyWakes: number;
}

function getBacker(type: string, opts: DpifBridgeOptions): DpifBacker {
  let b = backers.get(type);
  if (b === undefined) {
    b = new DpifBacker(type, opts);
    backers.set(type, b);
  }
  return b;
}

/* ---------------- the bridge ---------------- */

/** Highest OpenFlow port number a port may get (OVS's default max ports). */
const MAX_OFPORT = OFPP_MAX - 1;

/**
 * Opens an ofproto-dpif bridge `name` on the datapath of `datapathType`
 * ("netdev", "dummy", "system"; "" means "system"), creating the shared
 * datapath on first use.
 */
export function openDpifBridge(name: string, datapathType: string, opts: DpifBridgeOptions = {}): OfprotoDpif {
  const type = datapathType === "" ? "system" : datapathType;
  if (findDpifBridge(name) !== null) throw new Error(`${name}: bridge already exists`);
  const backer = getBacker(type, opts);
  const br = new OfprotoDpif(name, backer, opts);
  backer.bridges.set(name, br);
  bridgeOrder.push(br);
  return br;
}

export class OfprotoDpif implements DpifBridgeApi, XBridge {
  readonly name: string;
  readonly datapathType: string;
  readonly ofproto: Ofproto;
  readonly backer: DpifBacker;
  readonly macs: MacTable;
  forwardBpdu = false;
  /** Ports by OpenFlow number. */
  readonly ports = new Map<number, DpifPort>();
  readonly bundles = new Map<string, DpifBundle>();
  /** Port mirrors (mirror.ts). */
  readonly mbridge = new MirrorBridge();
  /** Bonds of the bridge's bundles (bond.ts); a delay running out re-runs them. */
  readonly bonds: BridgeBonds = new BridgeBonds(() => this.now(), () => this.refreshPortStates(), (p, f) => this.sendToPort(p.ofpNo, f), this);
  /** Spanning tree (stp-bridge.ts); null while Bridge.stp_enable is off. */
  stp: BridgeStp | null = null;
  /** sFlow (sflow.ts); null without a Bridge.sflow row. */
  sflow: SflowAgent | null = null;
  /** NetFlow (netflow.ts); null without a Bridge.netflow row. */
  netflow: NetflowExporter | null = null;
  /** IGMP/MLD snooping (mcast-snooping.ts); null while Bridge.mcast_snooping_enable is off. */
  ms: McastSnooping | null = null;
  /** Ports by interface name (including ports that failed to open). */
  private readonly byName = new Map<string, DpifPort>();
  /** OVS's ofport_usage: when each number was last in use (ms; in use now: Infinity). */
  private readonly lastUsed = new Map<number, number>();
  private allocCursor = 0;
  private closed = false;
  config: BridgeDpConfig = {};
  /** ms (bridge/dump-flows' durations of the internal rules). */
  readonly created: number;

  constructor(name: string, backer: DpifBacker, opts: DpifBridgeOptions) {
    this.name = name;
    this.backer = backer;
    this.created = backer.clock();
    this.datapathType = backer.type;
    this.ofproto = new Ofproto(name, { now: backer.clock, ...(opts.ofproto ?? {}) });
    this.ofproto.meterTable.idPool = backer.meterIds;
    this.ofproto.packetOut = (conn, body) => this.packetOut(body);
    // NXT_RESUME: paused pipelines (continuation.ts).
    this.ofproto.connmgr.resume = (conn, body) => resumeContinuation(body, {
      bridges: allDpifBridges(),
      extract: (packet, flow) => {
        if (!this.poPacket.setData(packet)) return false;
        extractFlowKey(this.poPacket, flow);
        return true;
      },
      run: (bridge, flow, packet) => (bridge as OfprotoDpif).runResumed(flow, packet),
    });
    this.macs = (opts.macTable ?? defaultMacTable)?.(this) ?? new MacLearning();
    this.watchGroupsAndMeters();
    const tables = this.ofproto.tables;
    tables.onVersionChange = () => this.backer.udpif.tablesChanged();
    // Translations record the tables they look up (revalidator.ts skips
    // megaflows a table change cannot affect).
    const lookup = tables.lookup.bind(tables);
    const rec = backer.udpif.recorder;
    tables.lookup = (tableId, flow, wc, version) => {
      if (rec.active) rec.note(this, tableId, flow);
      return lookup(tableId, flow, wc, version);
    };
    // The LOCAL port, named after the bridge.
    this.addIface(null, { name, type: "internal", options: {} }, OFPP_LOCAL);
  }

  get xbridge(): XBridge {
    return this;
  }

  get datapathName(): string {
    return this.backer.dpName;
  }

  get localOdpNo(): number {
    return this.ports.get(OFPP_LOCAL)?.odpNo ?? -1;
  }

  now(): number {
    return this.backer.clock();
  }

  /** The bridge's port of datapath port `odpNo`; a tunnel's needs the packet's datapath `key` (see DpifBacker.portByOdp). */
  portByOdp(odpNo: number, key: Uint32Array | null = null): XPort | null {
    const p = this.backer.portByOdp(odpNo, key);
    return p !== null && p.bridge === this ? p : null;
  }

  portByName(name: string): DpifPort | null {
    return this.byName.get(name) ?? null;
  }

  /** Asks for revalidation of every megaflow (MAC moved, port changed). */
  requestRevalidation(): void {
    this.backer.udpif.requestRevalidation();
  }

  /* ---------- configuration from the bridge ---------- */

  setBundles(bundles: readonly BundleConfig[]): void {
    if (this.closed) return;
    const want = new Map<string, { iface: IfaceConfig; bundle: BundleConfig }>();
    for (const b of bundles) for (const i of b.ifaces) want.set(i.name, { iface: i, bundle: b });
    let changed = false;
    // Removed interfaces, interfaces whose type changed (re-created), and
    // those whose device could not be opened (tried again, as OVS does on
    // every reconfiguration: the device may exist now).
    for (const [name, port] of [...this.byName]) {
      if (port.ofpNo === OFPP_LOCAL) continue;
      const w = want.get(name);
      const failed = port.ofport === null && port.odpNo < 0 && port.type !== "patch";
      if (w === undefined || normType(w.iface.type) !== port.type || failed) {
        this.removeIface(port);
        changed = true;
      }
    }
    this.revalidateNetdevs();
    // New interfaces get their numbers in the order OVS's bridge adds them
    // (its hash map of wanted interfaces).
    for (const name of hmapOrder([...want.keys()])) {
      const w = want.get(name)!;
      const port = this.byName.get(name);
      if (port === undefined) {
        this.addIface(w.bundle, w.iface, null);
        changed = true;
      } else if (this.updateIface(port, w.iface)) {
        changed = true;
      }
    }
    // Bundles: reuse objects (MAC entries point at them), update in place.
    // New ones are created in the order OVS's bridge meets them (its hash
    // map of wanted ports): NORMAL floods in bundle creation order.
    const seen = new Set<string>();
    const order = hmapOrder(bundles.map((b) => b.name));
    const byBundleName = new Map(bundles.map((b) => [b.name, b]));
    for (const name of order) {
      const b = byBundleName.get(name)!;
      seen.add(b.name);
      let xb = this.bundles.get(b.name);
      if (xb === undefined) {
        xb = new DpifBundle(b.name);
        this.bundles.set(b.name, xb);
        changed = true;
      }
      if (applyBundleConfig(xb, b)) changed = true;
      const ports: XPort[] = [];
      for (const i of b.ifaces) {
        const p = this.byName.get(i.name);
        if (p !== undefined && p.ofport !== null) ports.push(p);
      }
      if (ports.length !== xb.ports.length || ports.some((p, k) => p !== xb!.ports[k])) changed = true;
      xb.ports = ports;
      if (this.bonds.configure(xb, b.bond)) changed = true;
    }
    for (const [name, xb] of [...this.bundles]) if (!seen.has(name)) {
      this.bundles.delete(name);
      this.bonds.destroy(xb);
      // MACs learned on a bundle that is gone are forgotten (OVS's bundle_destroy).
      if (this.macs instanceof MacLearning) this.macs.flushBundle(xb);
      this.ms?.flushBundle(xb.name);
      changed = true;
    }
    for (const p of this.byName.values()) {
      const w = want.get(p.name);
      const xb = w !== undefined ? this.bundles.get(w.bundle.name) ?? null : null;
      if (p.bundle !== xb) {
        p.bundle = xb;
        changed = true;
      }
    }
    if (resolvePatchPeers()) changed = true;
    if (this.mbridge.size > 0 && configureMirrors(this.mbridge, this.mirrorCfg, this.bundles).changed) changed = true;
    if (this.bonds.run(this.bundles.values())) changed = true;
    if (changed) this.requestRevalidation();
  }

  setConfig(cfg: BridgeDpConfig): void {
    this.config = { ...cfg };
    const fwd = cfg.forwardBpdu ?? false;
    if (fwd !== this.forwardBpdu) {
      this.forwardBpdu = fwd;
      this.requestRevalidation();
    }
    if (this.macs instanceof MacLearning) {
      if (cfg.macAgingTime !== undefined) this.macs.setIdleTime(cfg.macAgingTime);
      if (cfg.macTableSize !== undefined) this.macs.setMaxEntries(cfg.macTableSize);
      // Bridge.flood_vlans: VLANs on which NORMAL floods without learning.
      if (this.macs.setFloodVlans(cfg.floodVlans ? new Set(cfg.floodVlans) : null)) this.requestRevalidation();
    }
  }

  /**
   * Spanning tree: `settings` null turns it off; `ports` (by interface
   * name) are the ports that take part, numbered by the bridge.
   */
  setStp(settings: StpBridgeSettings | null, ports: ReadonlyMap<string, StpPortSettings>): void {
    if (this.closed) return;
    if (settings === null) {
      if (this.stp === null) return;
      this.stp.close();
      this.stp = null;
      this.stpChanged(true);
      return;
    }
    if (this.stp === null) {
      this.stp = new BridgeStp(
        { name: this.name, now: () => this.now(), send: (p, f) => this.sendToPort(p.ofpNo, f), changed: (flush) => this.stpChanged(flush) },
        settings,
      );
    } else {
      this.stp.configure(settings);
    }
    const byPort = new Map<XPort, StpPortSettings>();
    for (const [name, s] of ports) {
      const p = this.byName.get(name);
      if (p !== undefined && p.ofport !== null) byPort.set(p, s);
    }
    this.stp.configurePorts(byPort);
  }

  /**
   * Multicast snooping (mcast-snooping.ts): `settings` null turns it off;
   * `ports` are the Port rows' flood flags by Port name (OVS's
   * set_mcast_snooping + set_mcast_snooping_port).
   */
  setMcastSnooping(settings: McastSnoopingSettings | null, ports: ReadonlyMap<string, McastPortSettings>): void {
    if (this.closed) return;
    if (settings === null) {
      if (this.ms === null) return;
      this.ms.close();
      this.ms = null;
      this.requestRevalidation();
      return;
    }
    let changed = false;
    if (this.ms === null) {
      this.ms = new McastSnooping(() => this.now());
      this.ms.startTimers(() => this.requestRevalidation());
      changed = true;
    }
    const ms = this.ms;
    ms.setIdleTime(settings.idleTime);
    ms.setMaxEntries(settings.maxEntries);
    if (ms.setFloodUnreg(settings.floodUnreg)) changed = true;
    for (const [name, s] of ports) {
      if (!this.bundles.has(name)) continue;
      ms.setPortFlood(name, s.flood);
      ms.setPortFloodReports(name, s.floodReports);
    }
    if (ms.needRevalidate) changed = true;
    if (changed) this.requestRevalidation();
  }

  /** sFlow from the Bridge's sFlow row (OVS's set_sflow); null turns it off. */
  setSflow(settings: SflowSettings | null): void {
    if (this.closed) return;
    if (settings === null) {
      if (this.sflow === null) return;
      this.sflow.close();
      this.sflow = null;
    } else if (this.sflow === null) {
      this.sflow = new SflowAgent(settings, () => this.sflowPorts());
    } else {
      const before = this.sflow.probability;
      this.sflow.configure(settings);
      if (this.sflow.probability === before) return;
    }
    this.requestRevalidation();
  }

  /** NetFlow from the Bridge's NetFlow row (OVS's set_netflow); null turns it off. */
  setNetflow(settings: NetflowSettings | null): void {
    if (this.closed) return;
    if (settings === null) {
      if (this.netflow === null) return;
      this.netflow.close();
      this.netflow = null;
    } else if (this.netflow === null) {
      this.netflow = new NetflowExporter(settings, () => this.now());
    } else {
      this.netflow.configure(settings);
      return;
    }
    // Megaflows keep (or may drop) the NetFlow fields.
    this.requestRevalidation();
  }

  /** The ports sFlow reports on: those with a kernel interface index, by datapath number. */
  private sflowPorts(): Map<number, SflowPort> {
    const out = new Map<number, SflowPort>();
    for (const p of this.ports.values()) {
      const nd = p.netdev;
      const ifindex = nd?.getIfindex?.() ?? 0;
      if (nd === null || p.odpNo < 0 || ifindex <= 0) continue;
      out.set(p.odpNo, {
        odpNo: p.odpNo,
        ifindex,
        speed: () => nd.getLinkSpeed?.()?.bps ?? 0,
        up: () => nd.isUp(),
        stats: () => {
          const st = this.ifaceStatistics(p);
          return {
            rxPackets: st["rx_packets"] ?? 0, rxBytes: st["rx_bytes"] ?? 0, txPackets: st["tx_packets"] ?? 0, txBytes: st["tx_bytes"] ?? 0,
            rxDropped: st["rx_dropped"] ?? 0, txDropped: st["tx_dropped"] ?? 0, rxErrors: st["rx_errors"] ?? 0, txErrors: st["tx_errors"] ?? 0,
          };
        },
      });
    }
    return out;
  }

  /** STP port states → OpenFlow port states; after a topology change learned MACs go. */
  private stpChanged(flushMacs: boolean): void {
    for (const p of this.ports.values()) {
      const op = p.ofport;
      if (op === null) continue;
      const stpBits = this.stp !== null ? stpOfpState(this.stp.portState(p)) : 0;
      const state = (op.state & ~OFPPS_STP_MASK) | stpBits;
      if (state !== op.state) this.ofproto.setPortState(op.ofpNo, state);
    }
    // A port that starts or stops learning, or a topology change, makes learned MACs stale.
    const learnChanged = this.stp?.applyStates(this.ports.values()) ?? false;
    if ((flushMacs || learnChanged) && this.macs instanceof MacLearning) this.macs.flush();
    if (flushMacs || learnChanged) this.ms?.mdbFlush();
    this.requestRevalidation();
  }

  /**
   * BFD on interface `ifaceName` (OVS's set_bfd): null settings drop the
   * session. Creating or dropping one changes what translation looks at.
   */
  setBfd(ifaceName: string, settings: BfdSettings | null): void {
    const p = this.byName.get(ifaceName);
    if (p === undefined || this.closed) return;
    if (settings === null || p.ofport === null) {
      if (p.bfd === null) return;
      p.bfd.close();
      p.bfd = null;
      this.requestRevalidation();
      return;
    }
    if (p.bfd !== null) {
      p.bfd.configure(settings);
      return;
    }
    p.bfd = new BfdSession(ifaceName, this.monitorHost(p), settings, () => this.now());
    this.requestRevalidation();
  }

  /** What a port's BFD or CFM session needs from the bridge: its counters, address and a way out. */
  private monitorHost(p: DpifPort) {
    return {
      rxPackets: () => Number(this.ifaceStatus(p.name)?.statistics["rx_packets"] ?? 0),
      hwAddr: () => p.hwAddr,
      send: (frame: Uint8Array) => this.sendToPort(p.ofpNo, frame),
      // Fast-failover liveness follows the forwarding flag (OVS's may_enable, REV_PORT_TOGGLED).
      forwardingChanged: () => this.requestRevalidation(),
    };
  }

  /** CFM on interface `ifaceName` (OVS's set_cfm): null settings, or invalid ones, drop the session. */
  setCfm(ifaceName: string, settings: CfmSettings | null): void {
    const p = this.byName.get(ifaceName);
    if (p === undefined || this.closed) return;
    if (settings !== null && p.ofport !== null && cfmSettingsValid(settings)) {
      if (p.cfm !== null) {
        p.cfm.configure(settings);
        return;
      }
      p.cfm = new Cfm(ifaceName, this.monitorHost(p), settings, () => this.now());
      this.requestRevalidation();
      return;
    }
    if (p.cfm === null) return;
    p.cfm.close();
    p.cfm = null;
    this.requestRevalidation();
  }

  /** The CFM status of `ifaceName` (OVS's get_cfm_status), null without CFM. */
  cfmStatus(ifaceName: string): CfmStatus | null {
    const c = this.byName.get(ifaceName)?.cfm ?? null;
    if (c === null) return null;
    return { faults: c.getFault(), remoteOpstate: c.getOpup(), flapCount: c.flapCount, health: c.health, rmps: c.rmps.slice() };
  }

  /** Interface.bfd_status of `ifaceName` (OVS's get_bfd_status), null without BFD. */
  bfdStatus(ifaceName: string): [string, string][] | null {
    return this.byName.get(ifaceName)?.bfd?.status() ?? null;
  }

  /** Ages MAC entries; a change that may alter megaflows asks for revalidation. */
  runMacs(now: number): void {
    const m = this.macs as MacTable & { run?(now: number): boolean };
    if (m.run !== undefined && m.run(now)) this.requestRevalidation();
  }

  private mirrorCfg: readonly MirrorConfig[] = [];

  setMirrors(mirrors: readonly MirrorConfig[]): Map<string, "no-output-bundle" | "too-many"> {
    this.mirrorCfg = mirrors;
    const r = configureMirrors(this.mbridge, mirrors, this.bundles);
    if (r.changed) {
      // As OVS: a mirror change flushes the MAC table (a port may have become a mirror output).
      if (this.macs instanceof MacLearning) this.macs.flush();
      this.requestRevalidation();
    }
    return r.failed;
  }

  mirrorStats(key: string): { packets: number; bytes: number } | null {
    return this.mbridge.stats(key);
  }

  ifaceStatus(name: string): IfaceStatus | null {
    const p = this.byName.get(name);
    if (p === undefined) return null;
    if (p.ofport === null) {
      return { ofport: -1, error: p.error, adminState: "down", linkState: "down", macInUse: new Uint8Array(6), mtu: 0, statistics: {} };
    }
    const nd = p.netdev;
    const up = nd?.isUp() ?? true;
    const carrier = nd?.hasCarrier?.() ?? up;
    // A kernel device that vanished under its port: OVS keeps the port
    // (and its number, without an error) and reports it down, ifindex 0,
    // MTU unknown.
    const gone = nd !== null && nd.getIfindex !== undefined && nd.getIfindex() < 0;
    const status: IfaceStatusExtra = {
      ofport: p.ofpNo,
      error: p.error,
      adminState: up ? "up" : "down",
      linkState: carrier ? "up" : "down",
      macInUse: nd?.getMac() ?? p.hwAddr.slice(),
      // A patch port has no MTU (OVS leaves the column empty): 0.
      mtu: gone ? 0 : nd?.getMtu() ?? 0,
      statistics: nd === null ? { rx_bytes: 0, rx_packets: 0, tx_bytes: 0, tx_packets: 0 } : this.ifaceStatistics(p),
    };
    if (nd?.getIfindex !== undefined) status.ifindex = Math.max(0, nd.getIfindex());
    if (nd?.getLinkSpeed !== undefined && !gone) {
      const l = nd.getLinkSpeed();
      if (l.bps !== null) status.linkSpeed = l.bps;
      if (l.duplex !== null) status.duplex = l.duplex;
    }
    if (nd?.getStatus !== undefined && !gone) status.status = nd.getStatus();
    return status;
  }

  /**
   * Follows every kernel device of the bridge (Netdev.revalidate): one
   * that was deleted and re-created gets a new socket. OVS keeps such a
   * port and shows it down rather than in Interface.error, so the
   * outcome is logged (once per change), not reported there.
   */
  revalidateNetdevs(): void {
    for (const p of this.byName.values()) {
      const nd = p.netdev;
      if (nd === null || nd.revalidate === undefined) continue;
      const err = nd.revalidate();
      if (err === p.deviceError) continue;
      this.backer.portsChanged();
      if (err !== null) log.warn(`${this.name}: ${p.name}: ${err}`);
      else log.info(`${this.name}: ${p.name}: network device is back`);
      p.deviceError = err;
    }
  }

  /**
   * Interface.statistics as OVS writes it: the netdev's counters under
   * OVS's key names (the dummy netdev reports only packets and bytes; its
   * other counters are "unsupported" and left out, as OVS leaves them
   * out), then the device's custom counters.
   */
  private ifaceStatistics(p: DpifPort): Record<string, number> {
    const out: Record<string, number> = {};
    const nd = p.netdev;
    if (nd === null) return out;
    // Kernel devices: the kernel's fourteen counters, as OVS's netdev-linux.
    if (nd.getKernelStats !== undefined) {
      Object.assign(out, nd.getKernelStats());
      for (const c of nd.getCustomStats?.() ?? []) out[c.name] = c.value;
      return out;
    }
    const s: NetdevStats = zeroNetdevStats();
    const dp = this.backer.dpif;
    // A tunnel shares its datapath port: its own counters are what it has.
    const tunnel: boolean = isTunnelType(nd.type);
    if (p.odpNo >= 0 && !tunnel) {
      const r = dp.portStats(p.odpNo);
      if (r.error === 0 && r.stats !== undefined) Object.assign(s, r.stats);
      else nd.getStats(s);
    } else {
      nd.getStats(s);
    }
    const isDummy = nd.type === "dummy" || nd.type === "dummy-internal" || nd.type === "tap" || nd.type === "internal" || tunnel;
    const all: [string, number][] = [
      ["rx_packets", s.rxPackets], ["rx_bytes", s.rxBytes], ["tx_packets", s.txPackets], ["tx_bytes", s.txBytes],
    ];
    if (!isDummy) all.push(["rx_dropped", s.rxDropped], ["rx_errors", s.rxErrors], ["tx_dropped", s.txDropped], ["tx_errors", s.txErrors]);
    for (const [k, v] of all) out[k] = v;
    for (const c of nd.getCustomStats?.() ?? []) out[c.name] = c.value;
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.bonds.close(this.bundles.values());
    this.stp?.close();
    this.stp = null;
    this.sflow?.close();
    this.sflow = null;
    this.netflow?.close();
    this.netflow = null;
    this.ms?.close();
    this.ms = null;
    for (const p of [...this.byName.values()]) this.removeIface(p, true);
    this.ofproto.close();
    this.closed = true;
    const i = bridgeOrder.indexOf(this);
    if (i >= 0) bridgeOrder.splice(i, 1);
    this.backer.udpif.dropBridge(this);
    this.backer.dropBridge(this);
    resolvePatchPeers();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /* ---------- ports ---------- */

  private addIface(bundle: BundleConfig | null, cfg: IfaceConfig, forceOfp: number | null): void {
    void bundle;
    const type = normType(cfg.type);
    // A device that fails to open takes no number (OVS numbers a port
    // once its netdev is open).
    const cursor = this.allocCursor;
    const ofpNo = forceOfp ?? this.allocOfport(cfg);
    let odpNo = -1;
    let error: string | null = null;
    let netdev: Netdev | null = null;
    if (isTunnelType(type)) {
      const t = this.openTunnel(cfg, type);
      if (typeof t === "string") error = t;
      else {
        odpNo = t.odpNo;
        netdev = t.netdev;
      }
    } else if (type !== "patch") {
      const r = this.backer.dpif.portAdd({ name: cfg.name, type, options: cfg.options });
      if (r.error !== 0 || r.portNo === undefined) {
        error = openError(cfg.name, type, r.error);
        log.warn(`${this.name}: ${error}`);
      } else {
        odpNo = r.portNo;
        netdev = this.backer.netdevDp?.portNetdev(odpNo) ?? null;
      }
    } else if (cfg.options["peer"] === undefined) {
      error = `${cfg.name}: patch type requires valid 'peer' argument`;
    } else if (cfg.options["peer"] === cfg.name) {
      error = `${cfg.name}: patch port cannot be its own peer`;
    }
    const port = new DpifPort(this, cfg.name, type, ofpNo, odpNo, cfg);
    port.error = error;
    port.netdev = netdev;
    this.byName.set(cfg.name, port);
    if (error !== null && type !== "patch") {
      port.ofpNo = -1;
      this.allocCursor = cursor;
      return;
    }
    if (netdev !== null) {
      // The LOCAL port's device carries the bridge's Ethernet address.
      const localMac = ofpNo === OFPP_LOCAL ? this.ofproto.ports.get(OFPP_LOCAL)?.hwAddr : undefined;
      if (localMac !== undefined && cfg.mac === undefined) netdev.setMac(localMac);
      if (cfg.mac !== undefined) netdev.setMac(cfg.mac);
      if (cfg.mtuRequest !== undefined) netdev.setMtu(cfg.mtuRequest);
      if (cfg.adminUp !== undefined) netdev.setUp(cfg.adminUp);
      port.hwAddr = netdev.getMac();
    } else {
      port.hwAddr = cfg.mac?.slice() ?? randomMac();
    }
    if (error !== null) {
      port.ofpNo = -1;
      return;
    }
    this.lastUsed.set(ofpNo, Infinity);
    const spec = { name: cfg.name, ofpNo, netdev, hwAddr: ofpNo === OFPP_LOCAL ? this.ofproto.ports.get(OFPP_LOCAL)?.hwAddr ?? port.hwAddr : port.hwAddr };
    port.ofport = this.ofproto.addPort(spec, ofpNo !== OFPP_LOCAL);
    if (netdev?.getCurrentFeatures !== undefined) {
      // What `ovs-ofctl show` prints as "current" and "speed ... now".
      const f = netdev.getCurrentFeatures();
      port.ofport.curr = f;
      port.ofport.currSpeed = featuresToKbps(f);
    }
    if (ofpNo === OFPP_LOCAL) port.hwAddr = port.ofport.hwAddr;
    this.ports.set(ofpNo, port);
    if (netdev instanceof NetdevVport) {
      tnlPortAdd(port, netdev, odpNo);
      tnlPortMapInsert(odpNo, tunnelDpifPortName(netdev.type, netdev.config.dstPort), netdev.config.dstPort, netdev.type === "gre");
    } else if (odpNo >= 0) {
      this.backer.linkOdp(port);
      tnlPortMapInsertIpdev(port.name);
      setDeviceMacSource(port.name, () => port.netdev?.getMac() ?? port.hwAddr);
    }
    this.refreshPortState(port);
    port.seenConfig = port.config;
    port.seenState = port.state;
  }

  /**
   * Opens a tunnel interface: its own netdev (the options, checked as OVS
   * does) and the datapath port the tunnels of its kind share, added on
   * first use ("vxlan_sys_4789"). The Interface.error text on failure.
   */
  private openTunnel(cfg: IfaceConfig, type: "vxlan" | "geneve" | "gre"): { netdev: NetdevVport; odpNo: number } | string {
    const nd = netdevOpen(cfg.name, type, cfg.options);
    if (typeof nd === "string") {
      netdevLog.warn(`${cfg.name}: could not set configuration (Invalid argument)`);
      return nd;
    }
    if (!(nd instanceof NetdevVport)) return `could not open network device ${cfg.name} (Invalid argument)`;
    const dpName = tunnelDpifPortName(type, nd.config.dstPort);
    const q = this.backer.dpif.portQueryByName(dpName);
    if (q.error === 0 && q.port !== undefined) return { netdev: nd, odpNo: q.port.portNo };
    const opts: Record<string, string> = { remote_ip: "flow" };
    if (type !== "gre") opts["dst_port"] = String(nd.config.dstPort);
    const r = this.backer.dpif.portAdd({ name: dpName, type, options: opts });
    if (r.error !== 0 || r.portNo === undefined) return openError(cfg.name, type, r.error);
    return { netdev: nd, odpNo: r.portNo };
  }

  /** Applies a changed Interface row to an existing port; true when something changed. */
  private updateIface(port: DpifPort, cfg: IfaceConfig): boolean {
    const old = port.cfg;
    if (port.netdev instanceof NetdevVport && !sameOptions(old.options, cfg.options)) {
      // New tunnel options: applied in place while the tunnel keeps its
      // datapath port; otherwise (another UDP port, or options the port
      // cannot take) it is opened again (same OpenFlow number).
      const nd = port.netdev;
      const next = parseTunnelOptions(cfg.name, nd.type, cfg.options);
      if (typeof next !== "string" && next.dstPort === nd.config.dstPort) {
        nd.config = next;
        port.error = null;
        return true;
      }
      const bundle = port.bundle;
      const ofpNo = port.ofpNo;
      this.removeIface(port);
      this.addIface(null, cfg, ofpNo);
      const np = this.byName.get(cfg.name);
      if (np !== undefined) np.bundle = bundle;
      return true;
    }
    port.cfg = cfg;
    let changed = false;
    if (!sameOptions(old.options, cfg.options)) {
      changed = true;
      if (port.odpNo >= 0) {
        const r = this.backer.dpif.portSetConfig(port.odpNo, cfg.options);
        port.error = r.error === 0 ? null : (r.message ?? `${cfg.name}: could not configure network device (Invalid argument)`);
      }
    }
    const nd = port.netdev;
    if (nd !== null) {
      if (cfg.mac !== undefined && !sameMac(cfg.mac, nd.getMac())) {
        nd.setMac(cfg.mac);
        port.hwAddr = nd.getMac();
        if (port.ofport !== null) port.ofport.hwAddr = port.hwAddr;
        changed = true;
      }
      if (cfg.mtuRequest !== undefined && cfg.mtuRequest !== nd.getMtu()) {
        nd.setMtu(cfg.mtuRequest);
        // A larger MTU may rebuild a system port's socket (and so its watch).
        this.backer.portsChanged();
      }
      if (cfg.adminUp !== undefined && cfg.adminUp !== nd.isUp()) {
        nd.setUp(cfg.adminUp);
        changed = true;
      }
    }
    if (cfg.ofportRequest !== undefined && port.ofport !== null && cfg.ofportRequest !== port.ofpNo &&
        validOfport(cfg.ofportRequest) && !this.ports.has(cfg.ofportRequest)) {
      // A new ofport_request renumbers the port (OVS deletes and re-adds it).
      const bundle = port.bundle;
      this.removeIface(port);
      this.addIface(null, cfg, null);
      const np = this.byName.get(cfg.name);
      if (np !== undefined) np.bundle = bundle;
      return true;
    }
    if (this.refreshPortState(port)) changed = true;
    return changed;
  }

  private removeIface(port: DpifPort, closing = false): void {
    this.byName.delete(port.name);
    // Its BFD session goes with it (bfd/show no longer lists it).
    port.bfd?.close();
    port.bfd = null;
    port.cfm?.close();
    port.cfm = null;
    if (port.ofport !== null) {
      this.ports.delete(port.ofpNo);
      this.lastUsed.set(port.ofpNo, this.now());
      if (port.ofpNo !== OFPP_LOCAL) this.ofproto.removePort(port.ofpNo);
      port.ofport = null;
    }
    if (port.netdev instanceof NetdevVport) {
      if (tnlPortOf(port) !== undefined) {
        tnlPortRemove(port);
        tnlPortMapDelete(port.odpNo, port.netdev.config.dstPort);
      }
      // The shared datapath port goes with the last tunnel using it.
      if (port.odpNo >= 0 && !isTnlOdpPort(port.odpNo)) this.backer.dpif.portDel(port.odpNo);
    } else if (port.odpNo >= 0) {
      if (this.backer.portByOdp(port.odpNo) === port) {
        tnlPortMapDeleteIpdev(port.name);
        setDeviceMacSource(port.name, null);
      }
      this.backer.unlinkOdp(port);
      const r = this.backer.dpif.portDel(port.odpNo);
      if (r.error !== 0 && !(closing && port.odpNo === 0)) log.dbg(`${this.name}: ${port.name}: port delete failed (errno ${r.error})`);
    }
    if (port.bundle !== null) {
      const b = port.bundle as DpifBundle;
      b.ports = b.ports.filter((p) => p !== port);
    }
  }

  /**
   * OVS's alloc_ofp_port: Interface.ofport_request when free; else, from
   * the number after the last one given, the first never used (or not
   * used for an hour), else the least recently used free one. Numbers are
   * not reused at once, so that flows for a deleted port do not apply to
   * a new one.
   */
  private allocOfport(cfg: IfaceConfig): number {
    const req = cfg.ofportRequest;
    if (req !== undefined && validOfport(req) && !this.ports.has(req)) return req;
    const stale = this.now() - 3600_000;
    let lru = -1;
    let lruAt = Infinity;
    for (let k = 0; k < MAX_OFPORT; k++) {
      const n = ((this.allocCursor + k) % MAX_OFPORT) + 1;
      if (this.ports.has(n) || this.reservedByRequest(n, cfg.name)) continue;
      const at = this.lastUsed.get(n);
      if (at === undefined || at < stale) {
        this.allocCursor = n;
        return n;
      }
      if (at < lruAt) {
        lruAt = at;
        lru = n;
      }
    }
    if (lru > 0) this.allocCursor = lru;
    return lru;
  }

  /** A number another interface of this bridge asks for (but does not have yet). */
  private reservedByRequest(n: number, name: string): boolean {
    for (const p of this.byName.values()) if (p.name !== name && p.cfg.ofportRequest === n) return true;
    return false;
  }

  /** Netdev admin state → OpenFlow port config/state; true when it changed. */
  refreshPortState(port: DpifPort): boolean {
    const op = port.ofport;
    if (op === null || port.netdev === null) return false;
    const up = port.netdev.isUp();
    // Link state is the carrier where the device knows it (a veth whose
    // peer is down is up but has no link), else the admin state.
    const link = up && (port.netdev.hasCarrier?.() ?? true);
    const state = link ? (op.state & ~OFPPS_LINK_DOWN) | OFPPS_LIVE : (op.state & ~OFPPS_LIVE) | OFPPS_LINK_DOWN;
    const config = up ? op.config & ~OFPPC_PORT_DOWN : op.config | OFPPC_PORT_DOWN;
    if (state === op.state && config === op.config) return false;
    op.config = config;
    this.ofproto.setPortState(op.ofpNo, state);
    return true;
  }

  /**
   * Netdev state → OpenFlow ports, and revalidation when any port's
   * config or state changed since the last look (port-mods too).
   */
  refreshPortStates(): void {
    let changed = false;
    for (const p of this.ports.values()) {
      if (this.refreshPortState(p)) changed = true;
      if (p.config !== p.seenConfig || p.state !== p.seenState) {
        p.seenConfig = p.config;
        p.seenState = p.state;
        changed = true;
      }
    }
    // Bonds follow their members' link state (bond.ts).
    if (this.bonds.run(this.bundles.values())) changed = true;
    if (changed) this.requestRevalidation();
  }

  /** Ports sorted by name (dpif/show). */
  portsByName(): DpifPort[] {
    return [...this.ports.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /* ---------- change notification for revalidation ---------- */

  /** Group and meter mods change what translation does: wrap the hooks. */
  private watchGroupsAndMeters(): void {
    const g = this.ofproto.groups;
    if (g !== null) {
      const inner = g.groupMod.bind(g);
      g.groupMod = (body, version, conn) => {
        const e = inner(body, version, conn);
        if (e === null) this.requestRevalidation();
        return e;
      };
    }
    const m = this.ofproto.meters;
    if (m !== null) {
      const inner = m.meterMod.bind(m);
      m.meterMod = (body, version, conn) => {
        const e = inner(body, version, conn);
        if (e === null) this.requestRevalidation();
        return e;
      };
    }
  }

  /* ---------- packet-out ---------- */

  /**
   * Sends `frame` through the bridge's tables as if it came in on
   * `inOfp` (output:TABLE): how native tunnelling sends its ARP requests.
   */
  injectFrame(inOfp: number, frame: Uint8Array): void {
    if (this.closed) return;
    const pkt = this.poPacket;
    if (!pkt.setData(frame)) return;
    const flow = new Uint32Array(FLOW_U32S);
    extractFlowKey(pkt, flow);
    flow[W_IN_PORT] = inOfp;
    const xout = this.backer.udpif.xlate({
      bridge: this, flow, wc: null, packet: frame, ofpacts: [{ type: "output", port: OFPP_TABLE, maxLen: 0 }], mayLearn: true,
      statsPackets: 1, statsBytes: frame.length,
    });
    for (const d of xout.deferred) d();
    if (xout.actions.length === 0) return;
    const xp = this.ports.get(inOfp);
    const odpIn = xp !== undefined && xp.odpNo >= 0 ? xp.odpNo : ODPP_NONE;
    const r = this.backer.dpif.execute({ packet: frame, actions: xout.actions, inPort: odpIn });
    if (r.error !== 0) log.warn(`${this.name}: sending a frame failed (errno ${r.error})`);
  }

  private readonly poPacket = new DpPacket(65536 + 256);

  /**
   * A bond's status columns (bond.ts's bondPortStatus: Port.bond_active_slave
   * when it changed, or always with `force`; Interface.lacp_current), or
   * null when `portName` is not a bond of this bridge.
   */
  bondStatus(portName: string, force = false): BondPortStatus | null {
    const b = this.bundles.get(portName)?.bond ?? null;
    return b === null ? null : bondPortStatus(b, force);
  }

  /**
   * Sends `frame` out of OpenFlow port `ofpNo` as the switch's own packet
   * (OVS's ofproto_dpif_send_packet: bonds' LACP PDUs).
   */
  sendToPort(ofpNo: number, frame: Uint8Array): void {
    if (this.closed) return;
    const pkt = this.poPacket;
    if (!pkt.setData(frame)) return;
    const flow = new Uint32Array(FLOW_U32S);
    extractFlowKey(pkt, flow);
    flow[W_IN_PORT] = 0xffff /* OFPP_NONE */;
    const xout = this.backer.udpif.xlate({
      bridge: this, flow, wc: null, packet: frame, ofpacts: [{ type: "output", port: ofpNo, maxLen: 0 }], mayLearn: false,
    });
    if (xout.actions.length === 0) return;
    const r = this.backer.dpif.execute({ packet: frame, actions: xout.actions, inPort: ODPP_NONE });
    if (r.error !== 0) log.warn(`${this.name}: sending a frame on port ${ofpNo} failed (errno ${r.error})`);
  }

  /** Translates a resumed pipeline (its frozen state under `flow`'s recirc_id) and executes it on `packet`. */
  runResumed(flow: Uint32Array, packet: Uint8Array): void {
    if (this.closed) return;
    const xout = this.backer.udpif.xlate({
      bridge: this, flow, wc: null, packet, mayLearn: true, statsPackets: 1, statsBytes: packet.length,
    });
    for (const d of xout.deferred) d();
    if (xout.needRevalidate === true) this.requestRevalidation();
    if (xout.actions.length === 0 || xout.error !== null) return;
    const xp = this.ports.get(flow[W_IN_PORT]! & 0xffff);
    const odpIn = xp !== undefined && xp.odpNo >= 0 ? xp.odpNo : ODPP_NONE;
    const r = this.backer.dpif.execute({ packet, actions: xout.actions, inPort: odpIn });
    if (r.error !== 0) log.warn(`${this.name}: resumed packet execution failed (errno ${r.error})`);
  }

  /**
   * OFPT_PACKET_OUT: the packet's flow (in_port from the message) through
   * translation of the message's actions, executed by the datapath.
   */
  packetOut(body: PacketOutBody): OfpErrorName | null {
    const v = body.metadata.get("in_port").value;
    const inPort = (v[0]! << 8) | v[1]!;
    const pkt = this.poPacket;
    if (!pkt.setData(body.packet)) return "OFPBRC_BAD_LEN";
    const flow = new Uint32Array(FLOW_U32S);
    extractFlowKey(pkt, flow);
    flow[W_IN_PORT] = inPort;
    const xout = this.backer.udpif.xlate({
      bridge: this, flow, wc: null, packet: body.packet, ofpacts: body.actions, mayLearn: true,
      statsPackets: 1, statsBytes: body.packet.length,
    });
    for (const d of xout.deferred) d();
    if (xout.needRevalidate === true) this.requestRevalidation();
    if (xout.actions.length > 0) {
      const xp = this.ports.get(inPort);
      const odpIn = xp !== undefined && xp.odpNo >= 0 ? xp.odpNo : ODPP_NONE;
      const r = this.backer.dpif.execute({ packet: body.packet, actions: xout.actions, inPort: odpIn });
      if (r.error !== 0) log.warn(`${this.name}: packet-out execution failed (errno ${r.error})`);
    }
    return null;
  }
}

/* ---------------- helpers ---------------- */

// Native tunnelling finds underlay bridges among all bridges and sends its
// ARP requests through them (xlate-tnl.ts).
setTnlBridges(() => allDpifBridges());
setTnlPacketSender((bridge, inPort, frame) => {
  const br = allDpifBridges().find((b) => b === bridge);
  br?.injectFrame(inPort.ofpNo, frame);
});

/**
 * What ifaceStatus reports beyond IfaceStatus for kernel devices
 * (Interface.ifindex, link_speed, duplex, status); absent for others.
 */
export type IfaceStatusExtra = IfaceStatus & {
  ifindex?: number;
  /** bits/s */
  linkSpeed?: number;
  duplex?: "full" | "half";
  status?: Record<string, string>;
};

function normType(t: string): string {
  return t === "" ? "system" : t;
}

function validOfport(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n < OFPP_MAX;
}

function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

function randomMac(): Uint8Array {
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) m[i] = Math.floor(Math.random() * 256);
  m[0] = (m[0]! & 0xfe) | 0x02;
  return m;
}

const STRERROR: Record<number, string> = {
  [Errno.ENODEV]: "No such device",
  [Errno.EEXIST]: "File exists",
  [Errno.EBUSY]: "Device or resource busy",
  [Errno.EINVAL]: "Invalid argument",
  [Errno.EFBIG]: "File too large",
};

/** Interface.error for a port the datapath refused, as OVS words it. */
function openError(name: string, type: string, errno: number): string {
  if (errno === Errno.ENODEV && !netdevTypes().includes(type)) {
    return `could not open network device ${name} (Address family not supported by protocol)`;
  }
  if (errno === Errno.EEXIST) return `could not add network device ${name} to ofproto (File exists)`;
  return `could not open network device ${name} (${STRERROR[errno] ?? `error ${errno}`})`;
}

function applyBundleConfig(xb: DpifBundle, b: BundleConfig): boolean {
  const trunks = b.trunks === null || b.trunks.length === 0 ? null : new Set(b.trunks);
  const cvlans = b.cvlans === null || b.cvlans.length === 0 ? null : new Set(b.cvlans);
  const changed = xb.vlanMode !== b.vlanMode || xb.vlan !== b.tag || xb.qinqEthtype !== b.qinqEthtype ||
    xb.protected !== b.protected || !sameSet(xb.trunks, trunks) || !sameSet(xb.cvlans, cvlans);
  xb.vlanMode = b.vlanMode;
  xb.vlan = b.tag;
  xb.trunks = trunks;
  xb.cvlans = cvlans;
  xb.qinqEthtype = b.qinqEthtype;
  xb.protected = b.protected;
  return changed;
}

function sameSet(a: ReadonlySet<number> | null, b: ReadonlySet<number> | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Joins patch ports to their peers (by name, over every bridge); true when a link changed. */
function resolvePatchPeers(): boolean {
  const patches = new Map<string, DpifPort>();
  for (const br of allDpifBridges()) for (const p of br.ports.values()) if (p.type === "patch") patches.set(p.name, p);
  let changed = false;
  for (const p of patches.values()) {
    const peerName = p.peerName;
    const q = peerName !== null ? patches.get(peerName) ?? null : null;
    const peer = q !== null && q.peerName === p.name ? q : null;
    if (p.peer !== peer) {
      p.peer = peer;
      changed = true;
    }
  }
  return changed;
}
