/**
 * Connectivity Fault Management (802.1ag continuity check messages) on one
 * interface, as OVS 3.1's lib/cfm.c runs it, with its unixctl commands
 * (cfm/show, cfm/set-fault) and the runner that drives every session.
 *
 * - Configuration (`cfmSettingsOf`): Interface.cfm_mpid turns CFM on;
 *   other_config:cfm_interval (ms, default 1000, rounded down to an
 *   802.1ag interval unless extended), cfm_extended, cfm_demand,
 *   cfm_opstate, cfm_ccm_vlan, cfm_ccm_pcp.
 * - Transmit: a CCM (EtherType 0x8902, to 01:80:c2:00:00:30, or
 *   01:23:20:00:00:30 when extended) every interval, with the MAID of
 *   MD "ovs" / MA "ovs", a sequence number, and RDI once a fault check
 *   found no remote MP.
 * - Receive: translation hands CCMs to `processHeartbeat` (OVS's
 *   process_special, before BFD), which records remote MPs and the faults
 *   they show (rdi, maid, loopback, overflow).
 * - Fault check every 3.5 intervals: remote MPs not heard from are
 *   forgotten; none left is a "recv" fault; a fault appearing or clearing
 *   counts a flap; every sixth check recomputes the health of a single
 *   remote MP.
 * - What users see: Interface cfm_fault, cfm_fault_status,
 *   cfm_remote_mpids, cfm_flap_count, cfm_health, cfm_remote_opstate, and
 *   `cfm/show`.
 */
import { onTimeWarp, timeMsec } from "../util/clock.js";
import { vlogModule } from "../util/vlog.js";
import { HmapOrder, hashString } from "./ofport-order.js";
import { hashBytes } from "../flow/key-ops.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { M_DL_TYPE, S_DL_TYPE, W_DL_TYPE, W_ETH_DST, W_ETH_SRC, W_TUN_ID } from "../flow/key-layout.js";

const log = vlogModule("cfm");

const ETH_TYPE_CFM = 0x8902;
const CCM_ADDR = Uint8Array.of(0x01, 0x80, 0xc2, 0x00, 0x00, 0x30);
const CCM_ADDR_X = Uint8Array.of(0x01, 0x23, 0x20, 0x00, 0x00, 0x30);
const CCM_LEN = 75;
const CCM_ACCEPT_LEN = 74;
const CCM_OPCODE = 1;
const CCM_RDI_MASK = 0x80;
const CFM_HEALTH_INTERVAL = 6;
const CFM_MAX_RMPS = 256;
/** cfm_ccm_vlan=random. */
export const CFM_RANDOM_VLAN = 0xffff;

/* Fault reasons, in OVS's order. */
export const CFM_FAULT_RECV = 1 << 0;
export const CFM_FAULT_RDI = 1 << 1;
export const CFM_FAULT_MAID = 1 << 2;
export const CFM_FAULT_LOOPBACK = 1 << 3;
export const CFM_FAULT_OVERFLOW = 1 << 4;
export const CFM_FAULT_OVERRIDE = 1 << 5;
const FAULT_NAMES = ["recv", "rdi", "maid", "loopback", "overflow", "override"];

/** The fault reasons set in `fault`, in OVS's order. */
export function cfmFaultNames(fault: number): string[] {
  return FAULT_NAMES.filter((_, i) => (fault & (1 << i)) !== 0);
}

export interface CfmSettings {
  mpid: number;
  /** Requested interval, ms. */
  interval: number;
  extended: boolean;
  demand: boolean;
  opup: boolean;
  /** 0: untagged; CFM_RANDOM_VLAN: a random VLAN per CCM. */
  ccmVlan: number;
  ccmPcp: number;
  checkTnlKey: boolean;
}

/** OVS's smap_get_int: the whole value a decimal int, else the default. */
function int(map: ReadonlyMap<string, string>, key: string, def: number): number {
  const s = map.get(key);
  if (s === undefined) return def;
  const m = /^\s*([+-]?\d+)$/.exec(s);
  return m === null ? def : Number(m[1]);
}

/**
 * CFM settings of an interface (OVS's iface_configure_cfm), or null when
 * Interface.cfm_mpid is empty. `tunnelKeyFlow`: the tunnel's key or in_key is "flow".
 */
export function cfmSettingsOf(mpid: number | null, otherConfig: ReadonlyMap<string, string>, tunnelKeyFlow = false): CfmSettings | null {
  if (mpid === null) return null;
  let interval = int(otherConfig, "cfm_interval", 0);
  if (interval <= 0) interval = 1000;
  const vlanText = otherConfig.get("cfm_ccm_vlan");
  let ccmVlan = 0;
  if (vlanText !== undefined) {
    if (vlanText.toLowerCase() === "random") ccmVlan = CFM_RANDOM_VLAN;
    else {
      const m = /^\s*[+-]?\d+/.exec(vlanText);
      ccmVlan = m === null ? 0 : Number(m[0]) & 0xffff;
      if (ccmVlan === CFM_RANDOM_VLAN) ccmVlan = 0;
    }
  }
  return {
    mpid,
    interval,
    extended: (otherConfig.get("cfm_extended") ?? "").toLowerCase() === "true",
    demand: (otherConfig.get("cfm_demand") ?? "").toLowerCase() === "true",
    opup: (otherConfig.get("cfm_opstate") ?? "up").toLowerCase() === "up",
    ccmVlan,
    ccmPcp: int(otherConfig, "cfm_ccm_pcp", 0),
    checkTnlKey: tunnelKeyFlow,
  };
}

/** An MPID in 1..8191 (any positive one when extended) and a positive interval (OVS's cfm_configure). */
export function cfmSettingsValid(s: CfmSettings): boolean {
  return s.mpid >= 1 && (s.extended || s.mpid <= 8191) && s.interval > 0;
}

function ccmIntervalToMs(i: number): number {
  return [0, 3, 10, 100, 1000, 10000, 60000, 600000][i] ?? 0;
}

function msToCcmInterval(ms: number): number {
  for (let i = 7; i > 0; i--) if (ccmIntervalToMs(i) <= ms) return i;
  return 1;
}

/** OVS's hash_mpid: hash_bytes over the 64-bit MPID in host (little-endian) order. */
function hashMpid(mpid: number): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(mpid));
  return hashBytes(b, 0);
}

/** The MAID: MD name "ovs" (format 4), MA name "ovs" (format 2), zero-padded to 48 bytes. */
const MAID = (() => {
  const m = new Uint8Array(48);
  m.set([4, 3, 0x6f, 0x76, 0x73, 2, 3, 0x6f, 0x76, 0x73]);
  return m;
})();

interface RemoteMp {
  mpid: number;
  recv: boolean;
  opup: boolean;
  seq: number;
  numHealthCcm: number;
  lastRx: number;
}

export interface CfmPortHost {
  rxPackets(): number;
  hwAddr(): Uint8Array;
  send(frame: Uint8Array): void;
  /** `mayEnable` changed: translations must be redone. */
  forwardingChanged?(): void;
}

const all = new HmapOrder<Cfm>((c) => hashString(c.name));
const live = new Set<Cfm>();

/** One CFM session (OVS's struct cfm). */
export class Cfm {
  mpid = 0;
  demand = false;
  booted = false;
  fault = 0;
  recvFault = 0;
  opup = false;
  remoteOpup = true;
  faultOverride = -1;
  seq = 0;
  ccmInterval = 0;
  ccmIntervalMs = 0;
  ccmVlan = 0;
  ccmPcp = 0;
  extended = false;
  checkTnlKey = false;
  /** Timers (ms of the process clock); -Infinity: expired. */
  txTimer = 0;
  faultTimer = 0;
  private readonly remotes = new HmapOrder<RemoteMp>((r) => hashMpid(r.mpid));
  private readonly remoteByMpid = new Map<number, RemoteMp>();
  /** Remote MPIDs as of the last fault check. */
  rmps: number[] = [];
  health = -1;
  healthInterval = 0;
  lastTx = 0;
  flapCount = 0;
  rxPacketsSeen = 0;
  /**
   * No fault (and, when extended, the remote operationally up) as the
   * runner last published it to the port (OVS's may_enable).
   */
  mayEnable = false;
  private closed = false;

  constructor(
    readonly name: string,
    readonly host: CfmPortHost,
    settings: CfmSettings,
    private readonly clock: () => number = timeMsec,
    monitored = true,
  ) {
    all.insert(this);
    this.configure(settings);
    if (monitored) runner.add(this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    all.remove(this);
    runner.remove(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private faultInterval(): number {
    return Math.floor((Math.max(this.ccmIntervalMs, this.demand ? 500 : this.ccmIntervalMs) * 7) / 2);
  }

  /** Applies the settings; false when they are invalid (the session stays as it was). */
  configure(s: CfmSettings): boolean {
    if (!cfmSettingsValid(s)) return false;
    this.mpid = s.mpid;
    this.opup = s.opup;
    let interval = msToCcmInterval(s.interval);
    let intervalMs = ccmIntervalToMs(interval);
    this.checkTnlKey = s.checkTnlKey;
    this.extended = s.extended;
    this.ccmVlan = s.ccmVlan;
    this.ccmPcp = s.ccmPcp & 7;
    if (s.extended && intervalMs !== s.interval) {
      interval = 0;
      intervalMs = Math.min(s.interval, 0xffff);
    }
    if (s.extended && s.demand) {
      if (!this.demand) {
        this.demand = true;
        this.rxPacketsSeen = this.host.rxPackets();
      }
    } else {
      this.demand = false;
    }
    if (interval !== this.ccmInterval || intervalMs !== this.ccmIntervalMs) {
      this.ccmInterval = interval;
      this.ccmIntervalMs = intervalMs;
      this.txTimer = -Infinity;
      this.faultTimer = this.clock() + this.faultInterval();
    }
    return true;
  }

  /** The fault check, when due (OVS's cfm_run). */
  run(): void {
    const now = this.clock();
    if (now < this.faultTimer) return;
    const oldFault = this.fault;
    const oldHealth = this.health;
    this.fault = this.recvFault;
    this.recvFault = 0;
    if (this.healthInterval === CFM_HEALTH_INTERVAL) {
      const n = this.remoteByMpid.size;
      if (n > 1) this.health = -1;
      else if (n === 0) this.health = 0;
      else {
        const rmp = this.remotes.values()[0]!;
        this.health = Math.min(Math.floor((rmp.numHealthCcm * 100) / Math.floor((CFM_HEALTH_INTERVAL * 7) / 2)), 100);
        rmp.numHealthCcm = 0;
      }
      this.healthInterval = 0;
    }
    this.healthInterval++;
    let demandOverride = false;
    if (this.demand) {
      const rx = this.host.rxPackets();
      demandOverride = this.remoteByMpid.size === 1 && rx > this.rxPacketsSeen;
      this.rxPacketsSeen = rx;
    }
    const rmps: number[] = [];
    let setOpup = false;
    let setOpdown = false;
    for (const rmp of this.remotes.values()) {
      if (!rmp.recv) {
        log.info(`${this.name}: Received no CCM from RMP ${rmp.mpid} in the last ${now - rmp.lastRx}ms`);
        if (!demandOverride) {
          this.remotes.remove(rmp);
          this.remoteByMpid.delete(rmp.mpid);
        }
      } else {
        rmp.recv = false;
        if (rmp.opup) setOpup = true;
        else setOpdown = true;
        rmps.push(rmp.mpid);
      }
    }
    this.rmps = rmps;
    if (setOpdown) this.remoteOpup = false;
    else if (setOpup) this.remoteOpup = true;
    if (this.remoteByMpid.size === 0) this.fault |= CFM_FAULT_RECV;
    if (oldFault !== this.fault) {
      log.info(`${this.name}: CFM faults changed from [${cfmFaultNames(oldFault).join(" ")}] to [${cfmFaultNames(this.fault).join(" ")}].`);
      if (oldFault === 0 || this.fault === 0) this.flapCount++;
    }
    void oldHealth;
    this.booted = true;
    this.faultTimer = now + this.faultInterval();
  }

  shouldSend(): boolean {
    return this.clock() >= this.txTimer;
  }

  /** The next CCM (OVS's cfm_compose_ccm). */
  composeCcm(ethSrc: Uint8Array): Uint8Array {
    const now = this.clock();
    this.txTimer = now + this.ccmIntervalMs;
    let vlan = this.ccmVlan !== CFM_RANDOM_VLAN ? this.ccmVlan : Math.floor(Math.random() * 0x10000);
    vlan &= 0xfff;
    const tagged = vlan !== 0 || this.ccmPcp !== 0;
    const l3 = tagged ? 18 : 14;
    const f = new Uint8Array(l3 + CCM_LEN);
    const dv = new DataView(f.buffer);
    f.set(this.extended ? CCM_ADDR_X : CCM_ADDR, 0);
    f.set(ethSrc.subarray(0, 6), 6);
    if (tagged) {
      dv.setUint16(12, 0x8100);
      dv.setUint16(14, vlan | (this.ccmPcp << 13));
    }
    dv.setUint16(l3 - 2, ETH_TYPE_CFM);
    f[l3] = 0;
    f[l3 + 1] = CCM_OPCODE;
    f[l3 + 2] = this.ccmInterval;
    f[l3 + 3] = 70;
    this.seq = (this.seq + 1) >>> 0;
    dv.setUint32(l3 + 4, this.seq);
    f.set(MAID, l3 + 10);
    if (this.extended) {
      dv.setUint16(l3 + 8, hashMpid(this.mpid) & 0xffff);
      dv.setBigUint64(l3 + 60, BigInt(this.mpid));
      f[l3 + 68] = this.opup ? 0 : 1;
    } else {
      dv.setUint16(l3 + 8, this.mpid & 0xffff);
    }
    if (this.ccmInterval === 0) dv.setUint16(l3 + 58, this.ccmIntervalMs);
    if (this.booted && this.remoteByMpid.size === 0) f[l3 + 2] |= CCM_RDI_MASK;
    if (this.lastTx !== 0) {
      const delay = now - this.lastTx;
      if (delay > Math.floor((this.ccmIntervalMs * 3) / 2)) {
        log.warn(`${this.name}: long delay of ${delay}ms (expected ${this.ccmIntervalMs}ms) sending CCM seq ${this.seq}`);
      }
    }
    this.lastTx = now;
    return f;
  }

  /** Whether translation hands this flow to CFM (OVS's cfm_should_process_flow). */
  shouldProcessFlow(flow: Uint32Array, wc: Uint32Array): boolean {
    if (((flow[W_DL_TYPE]! >>> S_DL_TYPE) & M_DL_TYPE) !== ETH_TYPE_CFM) return false;
    wc[W_ETH_DST] = 0xffffffff;
    wc[W_ETH_SRC] = (wc[W_ETH_SRC]! | 0xffff0000) >>> 0;
    const a = this.extended ? CCM_ADDR_X : CCM_ADDR;
    const hi = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
    if (flow[W_ETH_DST] !== hi || flow[W_ETH_SRC]! >>> 16 !== ((a[4]! << 8) | a[5]!)) return false;
    if (this.checkTnlKey) {
      wc[W_TUN_ID] = 0xffffffff;
      wc[W_TUN_ID + 1] = 0xffffffff;
      return flow[W_TUN_ID] === 0 && flow[W_TUN_ID + 1] === 0;
    }
    return true;
  }

  /** A received CCM (OVS's cfm_process_heartbeat). */
  processHeartbeat(p: Uint8Array): void {
    let l3 = 14;
    while (p.length >= l3 && (((p[l3 - 2]! << 8) | p[l3 - 1]!) === 0x8100 || ((p[l3 - 2]! << 8) | p[l3 - 1]!) === 0x88a8)) l3 += 4;
    if (p.length < l3 + CCM_ACCEPT_LEN) {
      log.info(`${this.name}: Received an unparseable 802.1ag CCM heartbeat.`);
      return;
    }
    const dv = new DataView(p.buffer, p.byteOffset, p.length);
    if (p[l3 + 1] !== CCM_OPCODE) {
      log.info(`${this.name}: Received an unsupported 802.1ag message. (opcode ${p[l3 + 1]})`);
      return;
    }
    let maidOk = true;
    for (let i = 0; i < 48; i++) if (p[l3 + 10 + i] !== MAID[i]) maidOk = false;
    if (!maidOk) {
      this.recvFault |= CFM_FAULT_MAID;
      const src = [...p.subarray(6, 12)].map((b) => b.toString(16).padStart(2, "0")).join(":");
      log.warn(`${this.name}: Received unexpected remote MAID from MAC ${src}`);
      return;
    }
    const flags = p[l3 + 2]!;
    const interval = flags & 7;
    const rdi = (flags & CCM_RDI_MASK) !== 0;
    const mpid = this.extended ? Number(dv.getBigUint64(l3 + 60)) : dv.getUint16(l3 + 8);
    const opdown = this.extended ? p[l3 + 68] !== 0 : false;
    const seq = dv.getUint32(l3 + 4);
    if (interval !== this.ccmInterval) log.warn(`${this.name}: received a CCM with an unexpected interval (${interval}) from RMP ${mpid}`);
    let fault = 0;
    let rmp = this.remoteByMpid.get(mpid) ?? null;
    if (rmp === null) {
      if (this.remoteByMpid.size < CFM_MAX_RMPS) {
        rmp = { mpid, recv: false, opup: true, seq: 0, numHealthCcm: 0, lastRx: 0 };
        this.remotes.insert(rmp);
        this.remoteByMpid.set(mpid, rmp);
      } else {
        fault |= CFM_FAULT_OVERFLOW;
      }
    }
    if (rdi) fault |= CFM_FAULT_RDI;
    if (rmp !== null) {
      if (rmp.mpid === this.mpid) fault |= CFM_FAULT_LOOPBACK;
      if (fault === 0) rmp.numHealthCcm++;
      rmp.recv = true;
      this.recvFault |= fault;
      rmp.seq = seq;
      rmp.opup = !opdown;
      rmp.lastRx = this.clock();
    }
  }

  /** The fault bits as reported (cfm/set-fault overrides them). */
  getFault(): number {
    if (this.faultOverride >= 0) return this.faultOverride ? CFM_FAULT_OVERRIDE : 0;
    return this.fault;
  }

  /** 1 up, 0 down, -1 without extended mode (no operational state). */
  getOpup(): number {
    return this.extended ? (this.remoteOpup ? 1 : 0) : -1;
  }

  /** `cfm/show` for this session. */
  details(): string {
    const now = this.clock();
    const until = (t: number): number => (t === -Infinity ? 0 : t - now);
    let s = `---- ${this.name} ----\n`;
    s += `MPID ${this.mpid}:${this.extended ? " extended" : ""}${this.faultOverride >= 0 ? " fault_override" : ""}\n`;
    const fault = this.getFault();
    if (fault !== 0) s += `  fault: ${cfmFaultNames(fault).join(" ")}\n`;
    s += this.health === -1 ? "  average health: undefined\n" : `  average health: ${this.health}\n`;
    s += `  opstate: ${this.opup ? "up" : "down"}\n`;
    s += `  remote_opstate: ${this.remoteOpup ? "up" : "down"}\n`;
    s += `  interval: ${this.ccmIntervalMs}ms\n`;
    s += `  next CCM tx: ${until(this.txTimer)}ms\n`;
    s += `  next fault check: ${until(this.faultTimer)}ms\n`;
    for (const r of this.remotes.values()) {
      s += `Remote MPID ${r.mpid}\n`;
      s += `  recv since check: ${r.recv ? "true" : "false"}\n`;
      s += `  opstate: ${r.opup ? "up" : "down"}\n`;
    }
    return s;
  }
}

/** Runs every session from a timer and after each time/warp step (OVS's monitor thread). */
class CfmRunner {
  private readonly sessions = new Set<Cfm>();
  private timer: NodeJS.Timeout | null = null;
  private unwarp: (() => void) | null = null;

  add(c: Cfm): void {
    this.sessions.add(c);
    live.add(c);
    if (this.timer === null) {
      this.timer = setInterval(() => this.run(), 20);
      this.timer.unref();
      this.unwarp = onTimeWarp(() => this.run());
    }
    setImmediate(() => this.run());
  }

  remove(c: Cfm): void {
    this.sessions.delete(c);
    live.delete(c);
    if (this.sessions.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.unwarp?.();
      this.unwarp = null;
    }
  }

  run(): void {
    try {
      for (const c of [...this.sessions]) {
        if (c.isClosed) continue;
        c.run();
        if (c.shouldSend()) c.host.send(c.composeCcm(c.host.hwAddr()));
        const opup = c.getOpup();
        const enable = c.getFault() === 0 && opup !== 0;
        if (enable !== c.mayEnable) {
          c.mayEnable = enable;
          c.host.forwardingChanged?.();
        }
      }
    } catch (e) {
      log.err(`cfm: ${(e as Error).stack ?? String(e)}`);
    }
  }
}

const runner = new CfmRunner();

export function listCfms(): Cfm[] {
  return all.values();
}

export function findCfm(name: string): Cfm | null {
  for (const c of all.values()) if (c.name === name) return c;
  return null;
}

/** cfm/show [interface] and cfm/set-fault [interface] normal|false|true. */
export function registerCfmCommands(registry: UnixctlRegistry): void {
  registry.register("cfm/show", "[interface]", 0, 1, (args) => {
    if (args.length > 0) {
      const c = findCfm(args[0]!);
      if (c === null) throw new UnixctlError("no such CFM object");
      return c.details();
    }
    return listCfms().map((c) => c.details()).join("");
  });
  registry.register("cfm/set-fault", "[interface] normal|false|true", 1, 2, (args) => {
    const word = args[args.length - 1]!.toLowerCase();
    const v = word === "true" ? 1 : word === "false" ? 0 : word === "normal" ? -1 : null;
    if (v === null) throw new UnixctlError("unknown fault string");
    if (args.length > 1) {
      const c = findCfm(args[0]!);
      if (c === null) throw new UnixctlError("no such CFM object");
      c.faultOverride = v;
    } else {
      for (const c of listCfms()) c.faultOverride = v;
    }
    return "OK";
  });
}
