/**
 * Spanning tree on one ofproto-dpif bridge: runs stp.ts's protocol for the
 * bridge's ports, as OVS's ofproto-dpif does with lib/stp.c.
 *
 * - Configuration: `configure` (Bridge.stp_enable and other_config:stp-*)
 *   and `configurePorts` (Port.other_config:stp-*, numbered by vswitchd in
 *   OVS's order) create, change or drop the protocol instance.
 * - Time: `run` ticks the protocol by the bridge clock's elapsed time (so
 *   `time/warp` moves it) from a 100 ms timer, and reports port state
 *   changes so the owner updates OpenFlow port states, flushes learned
 *   MACs after a topology change and revalidates megaflows.
 * - BPDUs: sent out of a port as 802.2 LLC frames to 01:80:c2:00:00:00
 *   from the port's own address; received ones come from translation
 *   (`processPacket`, OVS's process_special) with the slow-path reason STP.
 * - What users see: `stp/show` text, Bridge.status, Port.status and
 *   Port.statistics, exactly as OVS 3.1 prints and writes them.
 */
import { onTimeWarp } from "../util/clock.js";
import { vlogModule } from "../util/vlog.js";
import {
  Stp,
  STP_DISABLED,
  STP_FORWARDING,
  STP_LEARNING,
  STP_LISTENING,
  STP_MAX_PORTS,
  stpIdText,
  stpLearnInState,
  stpStateName,
  ticksToMs,
  type StpPort,
} from "./stp.js";
import { hmapOrder } from "./ofport-order.js";
import type { XPort } from "./xlate-types.js";

const log = vlogModule("stp");

/** Bridge-wide STP settings (Bridge.other_config:stp-*; times in ms). */
export interface StpBridgeSettings {
  /** stp-system-id, else the bridge's MAC. */
  systemId: Uint8Array;
  priority: number;
  helloTime: number;
  maxAge: number;
  forwardDelay: number;
}

/** One port's STP settings (Port.other_config:stp-*). */
export interface StpPortSettings {
  /** 0-based STP port number. */
  portNum: number;
  priority: number;
  pathCost: number;
}

/** OpenFlow 1.0 port state bits for an STP state (OFPPS_STP_*). */
export function stpOfpState(state: number): number {
  switch (state) {
    case STP_LEARNING:
      return 1 << 8;
    case STP_FORWARDING:
      return 2 << 8;
    case STP_LISTENING:
      return 0;
    case STP_DISABLED:
      return 0;
    default:
      return 3 << 8;
  }
}

function macToBig(mac: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < 6; i++) v = (v << 8n) | BigInt(mac[i]!);
  return v;
}

function macText(v: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0"));
  return out.join(":");
}

/** OFPPS_LINK_DOWN. */
const LINK_DOWN = 1 << 0;

function linkUp(xp: XPort): boolean {
  return (xp.state & LINK_DOWN) === 0;
}

/** The destination of STP BPDUs. */
export const STP_ETH_ADDR = Uint8Array.of(0x01, 0x80, 0xc2, 0x00, 0x00, 0x00);

/** True if `frame` is an 802.3 frame to the STP address (OVS's is_stp on the flow: dl_type 0x05ff). */
export function isStpFrame(frame: Uint8Array): boolean {
  if (frame.length < 17) return false;
  for (let i = 0; i < 6; i++) if (frame[i] !== STP_ETH_ADDR[i]) return false;
  return ((frame[12]! << 8) | frame[13]!) < 0x600;
}

export interface StpHost {
  name: string;
  now(): number;
  /** Sends `frame` out of `port` as the switch's own packet. */
  send(port: XPort, frame: Uint8Array): void;
  /** Port states changed (or learned MACs must go): the owner reacts. */
  changed(flushMacs: boolean): void;
}

/** Bridges running STP. */
const live: BridgeStp[] = [];

/**
 * Bridges running STP in stp/show's order: OVS lists them as they were
 * created, which its bridge does walking a hash map of bridge names.
 */
export function listStpBridges(): readonly BridgeStp[] {
  const byName = new Map(live.map((b) => [b.name, b]));
  return hmapOrder([...byName.keys()]).map((n) => byName.get(n)!);
}

export class BridgeStp {
  readonly stp: Stp;
  /** XPort of each STP port number (null: unused). */
  private readonly byNo: (XPort | null)[] = new Array<XPort | null>(STP_MAX_PORTS).fill(null);
  private readonly noOf = new Map<XPort, number>();
  private lastTick: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly unwarp: () => void;
  private settings: StpBridgeSettings;

  constructor(
    private readonly host: StpHost,
    settings: StpBridgeSettings,
  ) {
    this.settings = settings;
    this.stp = new Stp(host.name, macToBig(settings.systemId) | (BigInt(settings.priority & 0xffff) << 48n), {
      send: (no, bpdu) => this.sendBpdu(no, bpdu),
      log: (level, text) => (level === "warn" ? log.warn(text) : log.dbg(text)),
    });
    this.applyTimes(settings);
    this.lastTick = host.now();
    this.timer = setInterval(() => this.run(), 100);
    this.timer.unref();
    this.unwarp = onTimeWarp(() => this.run());
    live.push(this);
  }

  get name(): string {
    return this.host.name;
  }

  private applyTimes(s: StpBridgeSettings): void {
    this.stp.setHelloTime(s.helloTime);
    this.stp.setMaxAge(s.maxAge);
    this.stp.setForwardDelay(s.forwardDelay);
  }

  configure(s: StpBridgeSettings): void {
    const old = this.settings;
    this.settings = s;
    if (macToBig(s.systemId) !== macToBig(old.systemId)) this.stp.setBridgeMac(macToBig(s.systemId));
    if (s.priority !== old.priority) this.stp.setBridgePriority(s.priority);
    if (s.helloTime !== old.helloTime || s.maxAge !== old.maxAge || s.forwardDelay !== old.forwardDelay) this.applyTimes(s);
    this.report();
  }

  /** The STP ports: enables and configures those given, disables the rest. */
  configurePorts(ports: ReadonlyMap<XPort, StpPortSettings>): void {
    const keep = new Set<number>();
    for (const [xp, s] of ports) {
      const sp = this.stp.ports[s.portNum]!;
      keep.add(s.portNum);
      const prev = this.noOf.get(xp);
      if (prev !== undefined && prev !== s.portNum) {
        this.stp.disablePort(this.stp.ports[prev]!);
        this.byNo[prev] = null;
      }
      this.byNo[s.portNum] = xp;
      this.noOf.set(xp, s.portNum);
      if (linkUp(xp)) this.stp.enablePort(sp);
      else this.stp.disablePort(sp);
      this.stp.setPortPriority(sp, s.priority);
      this.stp.setPathCost(sp, s.pathCost);
    }
    for (let no = 0; no < STP_MAX_PORTS; no++) {
      if (keep.has(no)) continue;
      const xp = this.byNo[no];
      if (xp !== null) this.noOf.delete(xp);
      this.byNo[no] = null;
      this.stp.disablePort(this.stp.ports[no]!);
    }
    this.report();
  }

  /**
   * Ticks the protocol by the time elapsed since the last run, then
   * follows the ports' links: a port whose link went down leaves the
   * tree, one whose link came back rejoins it (OVS's stp_run).
   */
  run(): void {
    const now = this.host.now();
    const ms = now - this.lastTick;
    if (ms > 0) {
      this.lastTick = now;
      this.stp.tick(ms);
    }
    for (const [xp, no] of this.noOf) {
      const sp = this.stp.ports[no]!;
      const up = linkUp(xp);
      if (up === (sp.state !== STP_DISABLED)) continue;
      log.dbg(`bridge ${this.host.name}, port ${xp.name} is ${up ? "up" : "down"}, ${up ? "enabling" : "disabling"} it.`);
      if (up) this.stp.enablePort(sp);
      else this.stp.disablePort(sp);
    }
    this.report();
  }

  private report(): void {
    const flush = this.stp.fdbNeedsFlush;
    if (!this.stp.stateChanged && !flush) return;
    this.stp.stateChanged = false;
    this.stp.fdbNeedsFlush = false;
    this.host.changed(flush);
  }

  close(): void {
    const i = live.indexOf(this);
    if (i >= 0) live.splice(i, 1);
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.unwarp();
  }

  private portOf(xp: XPort): StpPort | null {
    const no = this.noOf.get(xp);
    return no === undefined ? null : this.stp.ports[no]!;
  }

  /**
   * Port states as the bridge last applied them: a port whose learning
   * changes makes the bridge forget its learned MACs (OVS's
   * update_stp_port_state), and its time in state starts then.
   */
  private readonly applied = new Map<XPort, { state: number; since: number }>();

  /**
   * Records the current state of each port; returns true when some port
   * started or stopped learning.
   */
  applyStates(ports: Iterable<XPort>): boolean {
    let learnChanged = false;
    for (const xp of ports) {
      const st = this.portState(xp);
      const prev = this.applied.get(xp);
      const prevState = prev?.state ?? STP_DISABLED;
      if (prev !== undefined && prevState === st) continue;
      if (prev === undefined && st === STP_DISABLED) continue;
      if (stpLearnInState(prevState) !== stpLearnInState(st)) learnChanged = true;
      this.applied.set(xp, { state: st, since: this.host.now() });
    }
    return learnChanged;
  }

  /** The STP state of `xp` (STP_DISABLED when it takes no part: it then forwards). */
  portState(xp: XPort): number {
    return this.portOf(xp)?.state ?? STP_DISABLED;
  }

  /** A received BPDU frame on `xp` (translation's process_special). */
  processPacket(xp: XPort, frame: Uint8Array): void {
    const sp = this.portOf(xp);
    if (sp === null) return;
    // Ethernet (14) + LLC (3): DSAP and SSAP 0x42 for STP.
    if (frame.length < 17 || frame[14] !== 0x42 || frame[15] !== 0x42) {
      sp.errorCount++;
      return;
    }
    const len = (frame[12]! << 8) | frame[13]!;
    const end = Math.min(frame.length, 14 + len);
    this.stp.receivedBpdu(sp, frame.subarray(17, Math.max(17, end)));
    this.report();
  }

  private sendBpdu(no: number, bpdu: Uint8Array): void {
    const xp = this.byNo[no];
    if (xp === null || xp === undefined) {
      log.warn(`${this.host.name}: cannot send BPDU on unknown port ${no}`);
      return;
    }
    if (xp.hwAddr.every((b) => b === 0)) {
      log.warn(`${this.host.name} port ${no}: cannot send BPDU on port ${no} with unknown MAC address`);
      return;
    }
    const frame = new Uint8Array(17 + bpdu.length);
    frame.set(STP_ETH_ADDR, 0);
    frame.set(xp.hwAddr.subarray(0, 6), 6);
    const len = 3 + bpdu.length;
    frame[12] = len >> 8;
    frame[13] = len & 0xff;
    frame[14] = 0x42;
    frame[15] = 0x42;
    frame[16] = 0x03;
    frame.set(bpdu, 17);
    this.host.send(xp, frame);
  }

  /* ---------------- what users see ---------------- */

  /** Bridge.status keys. */
  bridgeStatus(): [string, string][] {
    return [
      ["stp_bridge_id", stpIdText(this.stp.bridgeId)],
      ["stp_designated_root", stpIdText(this.stp.designatedRoot)],
      ["stp_root_path_cost", String(this.stp.rootPathCost)],
    ];
  }

  /** Port.status keys of `xp`, or null when it takes no part in STP. */
  portStatus(xp: XPort): [string, string][] | null {
    // A port whose link is down is still an STP port (state and role "disabled").
    const sp = this.portOf(xp);
    if (sp === null) return null;
    return [
      ["stp_port_id", String(sp.portId)],
      ["stp_role", this.stp.role(sp)],
      ["stp_sec_in_state", String(Math.floor((this.host.now() - (this.applied.get(xp)?.since ?? this.host.now())) / 1000))],
      ["stp_state", stpStateName(sp.state)],
    ];
  }

  /** Port.statistics keys of `xp`, or null. */
  portStatistics(xp: XPort): [string, number][] | null {
    const sp = this.portOf(xp);
    if (sp === null) return null;
    return [
      ["stp_error_count", sp.errorCount],
      ["stp_rx_count", sp.rxCount],
      ["stp_tx_count", sp.txCount],
    ];
  }

  /** `ovs-appctl stp/show` for this bridge. */
  showText(): string {
    const s = this.stp;
    const sec = (ticks: number): string => `${Math.floor(ticksToMs(ticks) / 1000)}s`;
    let out = `---- ${this.host.name} ----\n`;
    out += "Root ID:\n";
    out += `  stp-priority  ${Number(s.designatedRoot >> 48n)}\n`;
    out += `  stp-system-id   ${macText(s.designatedRoot & ((1n << 48n) - 1n))}\n`;
    out += `  stp-hello-time  ${sec(s.helloTime)}\n`;
    out += `  stp-max-age     ${sec(s.maxAge)}\n`;
    out += `  stp-fwd-delay   ${sec(s.forwardDelay)}\n`;
    if (s.isRootBridge()) {
      out += "  This bridge is the root\n";
    } else {
      const rp = s.rootPort;
      const rpName = rp !== null ? (this.byNo[rp.portNo]?.name ?? "") : "";
      out += `  root-port       ${rpName}\n`;
      out += `  root-path-cost  ${s.rootPathCost}\n`;
    }
    out += "\nBridge ID:\n";
    out += `  stp-priority  ${Number(s.bridgeId >> 48n)}\n`;
    out += `  stp-system-id   ${macText(s.bridgeId & ((1n << 48n) - 1n))}\n`;
    out += `  stp-hello-time  ${sec(s.bridgeHelloTime)}\n`;
    out += `  stp-max-age     ${sec(s.bridgeMaxAge)}\n`;
    out += `  stp-fwd-delay   ${sec(s.bridgeForwardDelay)}\n`;
    out += "\n  Interface  Role       State      Cost  Pri.Nbr \n";
    out += "  ---------- ---------- ---------- ----- -------\n";
    for (let no = 0; no < STP_MAX_PORTS; no++) {
      const xp = this.byNo[no];
      const sp = s.ports[no]!;
      if (xp === null || xp === undefined || sp.state === STP_DISABLED) continue;
      out += `  ${xp.name.padEnd(10)} ${s.role(sp).padEnd(10)} ${stpStateName(sp.state).padEnd(10)} ${String(sp.pathCost).padEnd(5)} ${sp.portId >> 8}.${sp.portId & 0xff}\n`;
    }
    return out + "\n";
  }

  /** `ovs-appctl stp/tcn`. */
  topologyChange(): void {
    this.stp.detectTopologyChange();
    this.report();
  }
}
