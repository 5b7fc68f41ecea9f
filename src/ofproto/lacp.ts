/**
 * LACP, 802.3ad link aggregation control (OVS 3.1's lib/lacp.c, written
 * anew): one `Lacp` per bond with `Port.lacp` active or passive. It
 * parses the PDUs members receive, keeps each member's partner and
 * status (current: the partner spoke within 3 intervals; expired: it is
 * late, we ask it to talk fast; defaulted: no partner), decides which
 * members are attached to the aggregator (the lead member's partner
 * system and key), composes the PDUs members send, and prints
 * `lacp/show` and `lacp/show-stats`.
 *
 * A bond asks it `status()` ("negotiated" once some member has a partner,
 * else "configured") and `mayEnable(port)` (attached with a synchronized
 * partner, or defaulted with lacp-fallback-ab).
 *
 * Members are kept in the same kind of map as the bond's (ofport-order.ts,
 * keyed by OpenFlow port number); the first registered member gives the
 * aggregation key unless Interface other_config:lacp-aggregation-key does.
 */
import { formatMac } from "../openflow/ofp-codec.js";
import { vlogModule } from "../util/vlog.js";
import { HmapOrder, hashInt } from "./ofport-order.js";
import type { XPort } from "./xlate-types.js";

const log = vlogModule("lacp");

export const ETH_TYPE_LACP = 0x8809;
/** The slow protocols multicast address LACP PDUs go to. */
export const ETH_ADDR_LACP = Uint8Array.of(0x01, 0x80, 0xc2, 0x00, 0x00, 0x02);

const STATE_ACT = 0x01;
const STATE_TIME = 0x02;
const STATE_AGG = 0x04;
const STATE_SYNC = 0x08;
const STATE_COL = 0x10;
const STATE_DIST = 0x20;
const STATE_DEF = 0x40;
const STATE_EXP = 0x80;

const FAST_TX_MS = 1000;
const SLOW_TX_MS = 30000;
const RX_MULTIPLIER = 3;

/** The LACP PDU (after the Ethernet header): subtype, version, actor, partner, collector, terminator. */
const PDU_LEN = 110;

/** One side's identity and state in a PDU (OVS's lacp_info, 15 bytes on the wire). */
export interface LacpInfo {
  sysPriority: number;
  sysId: Uint8Array;
  key: number;
  portPriority: number;
  portId: number;
  state: number;
}

function zeroInfo(): LacpInfo {
  return { sysPriority: 0, sysId: new Uint8Array(6), key: 0, portPriority: 0, portId: 0, state: 0 };
}

function infoBytes(i: LacpInfo): Uint8Array {
  const b = new Uint8Array(15);
  b[0] = i.sysPriority >>> 8;
  b[1] = i.sysPriority & 0xff;
  b.set(i.sysId, 2);
  b[8] = i.key >>> 8;
  b[9] = i.key & 0xff;
  b[10] = i.portPriority >>> 8;
  b[11] = i.portPriority & 0xff;
  b[12] = i.portId >>> 8;
  b[13] = i.portId & 0xff;
  b[14] = i.state;
  return b;
}

function readInfo(b: Uint8Array, o: number): LacpInfo {
  return {
    sysPriority: (b[o]! << 8) | b[o + 1]!,
    sysId: b.slice(o + 2, o + 8),
    key: (b[o + 8]! << 8) | b[o + 9]!,
    portPriority: (b[o + 10]! << 8) | b[o + 11]!,
    portId: (b[o + 12]! << 8) | b[o + 13]!,
    state: b[o + 14]!,
  };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function sameInfo(a: LacpInfo, b: LacpInfo): boolean {
  return compareBytes(infoBytes(a), infoBytes(b)) === 0;
}

/** Whether two actor views differ in a way that calls for a PDU (the 802.3ad "need to transmit" fields). */
function txEqual(a: LacpInfo, b: LacpInfo): boolean {
  return ((a.state ^ b.state) & (STATE_ACT | STATE_TIME | STATE_SYNC | STATE_AGG)) === 0 &&
    a.portId === b.portId && a.portPriority === b.portPriority && a.key === b.key &&
    a.sysPriority === b.sysPriority && compareBytes(a.sysId, b.sysId) === 0;
}

/** The PDU subtypes of the slow protocols. */
const SUBTYPE_LACP = 1;
const SUBTYPE_MARKER = 2;

/**
 * The LACP PDU in an Ethernet frame: its subtype (1 LACP, 2 marker, 0
 * unusable) and, for a well-formed LACP PDU, the actor and partner.
 */
export function parseLacpFrame(frame: Uint8Array): { subtype: number; actor: LacpInfo | null; partner: LacpInfo | null } {
  let l3 = 14;
  while (l3 + 4 <= frame.length && ((frame[l3 - 2]! << 8) | frame[l3 - 1]!) !== ETH_TYPE_LACP) {
    const t = (frame[l3 - 2]! << 8) | frame[l3 - 1]!;
    if (t !== 0x8100 && t !== 0x88a8) break;
    l3 += 4;
  }
  if (frame.length < l3 + PDU_LEN) return { subtype: 0, actor: null, partner: null };
  const p = frame.subarray(l3);
  if (p[0] === SUBTYPE_MARKER) return { subtype: SUBTYPE_MARKER, actor: null, partner: null };
  if (p[0] !== SUBTYPE_LACP || p[2] !== 1 || p[3] !== 20 || p[22] !== 2 || p[23] !== 20) return { subtype: 0, actor: null, partner: null };
  return { subtype: SUBTYPE_LACP, actor: readInfo(p, 4), partner: readInfo(p, 24) };
}

/** An Ethernet frame carrying a LACP PDU from `src` with `actor` and `partner`. */
export function composeLacpFrame(src: Uint8Array, actor: LacpInfo, partner: LacpInfo): Uint8Array {
  const f = new Uint8Array(14 + PDU_LEN);
  f.set(ETH_ADDR_LACP, 0);
  f.set(src, 6);
  f[12] = ETH_TYPE_LACP >>> 8;
  f[13] = ETH_TYPE_LACP & 0xff;
  const p = f.subarray(14);
  p[0] = SUBTYPE_LACP;
  p[1] = 1;
  p[2] = 1;
  p[3] = 20;
  p.set(infoBytes(actor), 4);
  p[22] = 2;
  p[23] = 20;
  p.set(infoBytes(partner), 24);
  p[42] = 3;
  p[43] = 16;
  return f;
}

/** A bond's LACP settings (bridge.c's port_configure_lacp). */
export interface LacpSettings {
  active: boolean;
  fast: boolean;
  /** other_config:lacp-system-id, or the bridge's Ethernet address. */
  sysId: Uint8Array;
  /** other_config:lacp-system-priority (65534 for a bond, by default). */
  sysPriority: number;
  fallbackAb: boolean;
}

/** A member's LACP settings (iface_configure_lacp). */
export interface LacpMemberSettings {
  /** Interface other_config:lacp-port-id, else the OpenFlow port number. */
  portId: number;
  /** lacp-port-priority (65535 by default). */
  portPriority: number;
  /** lacp-aggregation-key (0: the key member's port id). */
  key: number;
}

type MemberStatus = "current" | "expired" | "defaulted";

class LacpMember {
  portId = 0;
  portPriority = 0;
  key = 0;
  status: MemberStatus = "defaulted";
  attached = false;
  partner: LacpInfo = zeroInfo();
  nttActor: LacpInfo = zeroInfo();
  /** Next transmission due (ms). */
  txAt = 0;
  /** Partner information expires (ms; Infinity when defaulted). */
  rxAt = Infinity;
  rxPdus = 0;
  rxBad = 0;
  rxMarker = 0;
  txPdus = 0;
  linkExpired = 0;
  linkDefaulted = 0;
  carrierChanged = 0;
  carrierUp = true;
  constructor(
    readonly lacp: Lacp,
    readonly port: XPort,
  ) {}

  get name(): string {
    return this.port.name;
  }
}

/** Every Lacp object, in creation order (lacp/show). */
const allLacps: Lacp[] = [];

export function listLacps(): Lacp[] {
  return allLacps.slice();
}

export function findLacp(name: string): Lacp | null {
  return allLacps.find((l) => l.name === name) ?? null;
}

export class Lacp {
  sysId = new Uint8Array(6);
  sysPriority = 0;
  active = false;
  fast = false;
  fallbackAb = false;
  negotiated = false;
  private update = false;
  private readonly members = new HmapOrder<LacpMember>((m) => hashInt(m.port.ofpNo & 0xffff));
  private readonly byPort = new Map<XPort, LacpMember>();
  private keyMember: LacpMember | null = null;

  constructor(
    readonly name: string,
    private readonly now: () => number,
  ) {
    allLacps.push(this);
  }

  destroy(): void {
    const i = allLacps.indexOf(this);
    if (i >= 0) allLacps.splice(i, 1);
  }

  configure(s: LacpSettings): void {
    if (compareBytes(this.sysId, s.sysId) !== 0 || this.sysPriority !== s.sysPriority) {
      this.sysId = s.sysId.slice();
      this.sysPriority = s.sysPriority;
      this.update = true;
    }
    this.active = s.active;
    this.fast = s.fast;
    if (this.fallbackAb !== s.fallbackAb) {
      this.fallbackAb = s.fallbackAb;
      this.update = true;
    }
  }

  /** Registers (or updates) member `port`. */
  registerMember(port: XPort, s: LacpMemberSettings): void {
    let m = this.byPort.get(port);
    if (m === undefined) {
      m = new LacpMember(this, port);
      this.byPort.set(port, m);
      this.members.insert(m);
      this.setDefaulted(m);
      this.keyMember ??= m;
    }
    if (m.portId !== s.portId || m.portPriority !== s.portPriority || m.key !== s.key) {
      m.portId = s.portId;
      m.portPriority = s.portPriority;
      m.key = s.key;
      this.update = true;
      if (this.active || this.negotiated) this.setExpired(m);
    }
  }

  /** Makes the members exactly `ports`. */
  retainMembers(ports: ReadonlySet<XPort>): void {
    for (const [port, m] of [...this.byPort]) {
      if (ports.has(port)) continue;
      this.byPort.delete(port);
      this.members.remove(m);
      this.update = true;
      if (this.keyMember === m) this.keyMember = this.members.values()[0] ?? null;
    }
  }

  private setDefaulted(m: LacpMember): void {
    m.partner = zeroInfo();
    this.update = true;
    m.status = "defaulted";
    m.rxAt = Infinity;
  }

  private setExpired(m: LacpMember): void {
    m.status = "expired";
    m.partner.state = (m.partner.state | STATE_TIME) & ~STATE_SYNC;
    m.rxAt = this.now() + RX_MULTIPLIER * FAST_TX_MS;
  }

  /**
   * A frame with ethertype 0x8809 received on `port` (OVS's
   * lacp_process_packet); true when the LACP state changed.
   */
  processPacket(port: XPort, frame: Uint8Array): boolean {
    const m = this.byPort.get(port);
    if (m === undefined) return false;
    m.rxPdus++;
    const pdu = parseLacpFrame(frame);
    if (pdu.subtype === SUBTYPE_MARKER) {
      m.rxMarker++;
      return false;
    }
    if (pdu.actor === null || pdu.partner === null) {
      m.rxBad++;
      log.warn(`${this.name}: received an unparsable LACP PDU.`);
      return false;
    }
    if (!m.carrierUp) {
      log.info(`${m.name}: carrier state is DOWN, dropping received LACP PDU.`);
      return false;
    }
    m.status = "current";
    m.rxAt = this.now() + RX_MULTIPLIER * (this.fast ? FAST_TX_MS : SLOW_TX_MS);
    m.nttActor = pdu.partner;
    if (!sameInfo(m.partner, pdu.actor)) {
      this.update = true;
      m.partner = pdu.actor;
    }
    return this.update;
  }

  /** The member's carrier went up or down. */
  carrierChanged(port: XPort, up: boolean): void {
    const m = this.byPort.get(port);
    if (m === undefined || m.carrierUp === up) return;
    m.carrierUp = up;
    if (m.status === "current" || this.active) this.setExpired(m);
    m.carrierChanged++;
  }

  status(): "negotiated" | "configured" {
    return this.negotiated ? "negotiated" : "configured";
  }

  private mayEnableMember(m: LacpMember): boolean {
    return m.attached && ((m.partner.state & STATE_SYNC) !== 0 || (this.fallbackAb && m.status === "defaulted"));
  }

  /** Whether `port` may be enabled as far as LACP is concerned. */
  mayEnable(port: XPort): boolean {
    const m = this.byPort.get(port);
    return m !== undefined && this.mayEnableMember(m);
  }

  /** Whether `port` has partner information (Interface.lacp_current). */
  isCurrent(port: XPort): boolean | null {
    const m = this.byPort.get(port);
    return m === undefined ? null : m.status !== "defaulted";
  }

  /** Periodic work: timers, attachment, PDUs to send (through `send`). Returns the next time it needs to run. */
  run(send: (port: XPort, frame: Uint8Array) => void): number {
    const now = this.now();
    for (const m of this.members.values()) {
      if (now >= m.rxAt) {
        if (m.status === "current") {
          this.setExpired(m);
          m.linkExpired++;
        } else if (m.status === "expired") {
          this.setDefaulted(m);
          m.linkDefaulted++;
        }
      }
    }
    if (this.update) this.updateAttached();
    let next = Infinity;
    for (const m of this.members.values()) {
      if (!(this.active || m.status !== "defaulted")) continue;
      const actor = this.actorOf(m);
      if (now >= m.txAt || !txEqual(actor, m.nttActor)) {
        m.nttActor = actor;
        send(m.port, composeLacpFrame(m.port.hwAddr, actor, m.partner));
        m.txPdus++;
        m.txAt = now + ((m.partner.state & STATE_TIME) !== 0 ? FAST_TX_MS : SLOW_TX_MS);
      }
      if (m.txAt < next) next = m.txAt;
    }
    for (const m of this.members.values()) if (m.rxAt < next) next = m.rxAt;
    return next;
  }

  private updateAttached(): void {
    this.update = false;
    let lead: LacpMember | null = null;
    let leadEnable = false;
    let leadPri: Uint8Array | null = null;
    for (const m of this.members.values()) {
      m.attached = false;
      if (compareBytes(m.partner.sysId, this.sysId) === 0) {
        log.warn(`member ${m.name}: Loopback detected. Interface is connected to its own bond`);
        continue;
      }
      if (m.status === "defaulted") {
        if (this.fallbackAb) m.attached = true;
        continue;
      }
      m.attached = true;
      const pri = this.priorityOf(m);
      const enable = this.mayEnableMember(m);
      if (lead === null || (enable && !leadEnable) || (enable === leadEnable && compareBytes(pri, leadPri!) < 0)) {
        lead = m;
        leadEnable = enable;
        leadPri = pri;
      }
    }
    this.negotiated = lead !== null;
    if (lead !== null) {
      for (const m of this.members.values()) {
        if ((this.fallbackAb && m.status === "defaulted") || lead.partner.key !== m.partner.key || compareBytes(lead.partner.sysId, m.partner.sysId) !== 0) {
          m.attached = false;
        }
      }
    }
  }

  /** The aggregation key the bond announces. */
  private aggregationKey(): number | null {
    const k = this.keyMember;
    if (k === null) return null;
    return k.key !== 0 ? k.key : k.portId;
  }

  private actorOf(m: LacpMember): LacpInfo {
    let state = 0;
    if (this.active) state |= STATE_ACT;
    if (this.fast) state |= STATE_TIME;
    if (m.attached) state |= STATE_SYNC;
    if (m.status === "defaulted") state |= STATE_DEF;
    if (m.status === "expired") state |= STATE_EXP;
    if (this.byPort.size > 1) state |= STATE_AGG;
    if (m.attached || !this.negotiated) state |= STATE_COL | STATE_DIST;
    return {
      sysPriority: this.sysPriority, sysId: this.sysId.slice(), key: this.aggregationKey() ?? 0,
      portPriority: m.portPriority, portId: m.portId, state,
    };
  }

  /** The higher-priority system's view of the link, key and state cleared (802.3ad link priority). */
  private priorityOf(m: LacpMember): Uint8Array {
    const partnerPri = m.partner.sysPriority;
    let info: LacpInfo;
    if (this.sysPriority < partnerPri) info = this.actorOf(m);
    else if (partnerPri < this.sysPriority) info = { ...m.partner };
    else if (compareBytes(this.sysId, m.partner.sysId) < 0) info = this.actorOf(m);
    else info = { ...m.partner };
    info.key = 0;
    info.state = 0;
    return infoBytes(info);
  }

  /** lacp/show's text. */
  details(): string {
    let s = `---- ${this.name} ----\n`;
    s += `  status: ${this.active ? "active" : "passive"}${this.negotiated ? " negotiated" : ""}\n`;
    s += `  sys_id: ${formatMac(this.sysId)}\n`;
    s += `  sys_priority: ${this.sysPriority}\n`;
    const key = this.aggregationKey();
    s += `  aggregation key: ${key === null ? "none" : key}\n`;
    s += `  lacp_time: ${this.fast ? "fast" : "slow"}\n`;
    for (const m of this.sortedMembers()) {
      const actor = this.actorOf(m);
      s += `\nmember: ${m.name}: ${m.status} ${m.attached ? "attached" : "detached"}\n`;
      s += `  port_id: ${m.portId}\n`;
      s += `  port_priority: ${m.portPriority}\n`;
      s += `  may_enable: ${this.mayEnableMember(m) ? "true" : "false"}\n`;
      s += "\n" + infoText("actor", actor) + "\n" + infoText("partner", m.partner);
    }
    return s;
  }

  /** lacp/show-stats's text. */
  statsText(): string {
    let s = `---- ${this.name} statistics ----\n`;
    for (const m of this.sortedMembers()) {
      s += `\nmember: ${m.name}:\n`;
      s += `  TX PDUs: ${m.txPdus}\n`;
      s += `  RX PDUs: ${m.rxPdus}\n`;
      s += `  RX Bad PDUs: ${m.rxBad}\n`;
      s += `  RX Marker Request PDUs: ${m.rxMarker}\n`;
      s += `  Link Expired: ${m.linkExpired}\n`;
      s += `  Link Defaulted: ${m.linkDefaulted}\n`;
      s += `  Carrier Status Changed: ${m.carrierChanged}\n`;
    }
    return s;
  }

  private sortedMembers(): LacpMember[] {
    return this.members.values().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function stateText(state: number): string {
  let s = "";
  if (state & STATE_ACT) s += " activity";
  if (state & STATE_TIME) s += " timeout";
  if (state & STATE_AGG) s += " aggregation";
  if (state & STATE_SYNC) s += " synchronized";
  if (state & STATE_COL) s += " collecting";
  if (state & STATE_DIST) s += " distributing";
  if (state & STATE_DEF) s += " defaulted";
  if (state & STATE_EXP) s += " expired";
  return s;
}

function infoText(who: string, i: LacpInfo): string {
  return `  ${who} sys_id: ${formatMac(i.sysId)}\n` +
    `  ${who} sys_priority: ${i.sysPriority}\n` +
    `  ${who} port_id: ${i.portId}\n` +
    `  ${who} port_priority: ${i.portPriority}\n` +
    `  ${who} key: ${i.key}\n` +
    `  ${who} state:${stateText(i.state)}\n`;
}
