/**
 * The IEEE 802.1D-1998 Spanning Tree Protocol of one bridge: the state
 * machine of clause 8 (bridge and port parameters, the configuration and
 * topology-change procedures, the five timers) and the BPDU wire format.
 *
 * It has no I/O of its own: the owner (stp-bridge.ts) feeds it elapsed
 * time (`tick`) and received BPDUs (`receivedBpdu`), and it hands BPDUs to
 * send to the `send` callback. Times are kept, as in BPDUs, in units of
 * 1/256 s ("ticks"); configured times are milliseconds. Port numbers are
 * 0-based here (the port identifier carries number + 1), as in OVS, so
 * that `stp/show`'s "Pri.Nbr" and the Port.status ids read the same.
 */

export const STP_MAX_PORTS = 255;
export const STP_DEFAULT_BRIDGE_PRIORITY = 32768;
export const STP_DEFAULT_PORT_PRIORITY = 128;
export const STP_DEFAULT_MAX_AGE = 20000;
export const STP_DEFAULT_HELLO_TIME = 2000;
export const STP_DEFAULT_FWD_DELAY = 15000;

/** Port states (bit values, so that sets of states are masks). */
export const STP_DISABLED = 1 << 0;
export const STP_LISTENING = 1 << 1;
export const STP_LEARNING = 1 << 2;
export const STP_FORWARDING = 1 << 3;
export const STP_BLOCKING = 1 << 4;

export type StpRole = "root" | "designated" | "alternate" | "disabled";

/** The name of a port state, as stp/show and Port.status print it. */
export function stpStateName(state: number): string {
  switch (state) {
    case STP_DISABLED:
      return "disabled";
    case STP_LISTENING:
      return "listening";
    case STP_LEARNING:
      return "learning";
    case STP_FORWARDING:
      return "forwarding";
    default:
      return "blocking";
  }
}

/** Whether a port in `state` forwards frames. */
export function stpForwardInState(state: number): boolean {
  return (state & (STP_DISABLED | STP_FORWARDING)) !== 0;
}

/** Whether a port in `state` learns source addresses. */
export function stpLearnInState(state: number): boolean {
  return (state & (STP_DISABLED | STP_LEARNING | STP_FORWARDING)) !== 0;
}

/** Whether a port in `state` sends and receives BPDUs. */
export function stpShouldForwardBpdu(state: number): boolean {
  return (state & (STP_DISABLED | STP_LISTENING | STP_LEARNING | STP_FORWARDING)) !== 0;
}

const PROTOCOL_ID = 0x0000;
const TYPE_CONFIG = 0x00;
const TYPE_TCN = 0x80;
const FLAG_TC = 0x01;
const FLAG_TC_ACK = 0x80;
const CONFIG_BPDU_LEN = 35;
const TCN_BPDU_LEN = 4;
const MESSAGE_AGE_INCREMENT = 1;

/** Milliseconds to 1/256 s ticks (rounded down) and back. */
export function msToTicks(ms: number): number {
  return Math.floor((ms * 256) / 1000);
}
export function ticksToMs(ticks: number): number {
  return Math.floor((ticks * 1000) / 256);
}

function clamp(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}

/** A timer counting up in ticks while active (802.1D 8.5.4/8.5.6). */
class StpTimer {
  active = false;
  value = 0;
  start(value: number): void {
    this.active = true;
    this.value = value;
  }
  stop(): void {
    this.active = false;
  }
  /** Advances by `elapsed`; true (and stopped) when `timeout` is reached. */
  expired(elapsed: number, timeout: number): boolean {
    if (!this.active) return false;
    this.value += elapsed;
    if (this.value < timeout) return false;
    this.active = false;
    return true;
  }
}

/** A received configuration BPDU (times in ticks). */
interface ConfigBpdu {
  flags: number;
  rootId: bigint;
  rootPathCost: number;
  bridgeId: bigint;
  portId: number;
  messageAge: number;
  maxAge: number;
  helloTime: number;
  forwardDelay: number;
}

export class StpPort {
  portId: number;
  state = STP_DISABLED;
  pathCost = 19;
  designatedRoot = 0n;
  designatedCost = 0;
  designatedBridge = 0n;
  designatedPort = 0;
  topologyChangeAck = false;
  configPending = false;
  changeDetectionEnabled = true;
  readonly messageAgeTimer = new StpTimer();
  readonly forwardDelayTimer = new StpTimer();
  readonly holdTimer = new StpTimer();
  txCount = 0;
  rxCount = 0;
  errorCount = 0;

  constructor(
    readonly stp: Stp,
    /** 0-based port number. */
    readonly portNo: number,
  ) {
    this.portId = (portNo + 1) | (STP_DEFAULT_PORT_PRIORITY << 8);
  }

  get priority(): number {
    return this.portId >> 8;
  }
}

export interface StpCallbacks {
  /** Sends BPDU bytes (no Ethernet/LLC header) out of port `portNo`. */
  send(portNo: number, bpdu: Uint8Array): void;
  /** A log line (protocol errors, as OVS's stp module logs them). */
  log?(level: "warn" | "dbg", text: string): void;
}

export class Stp {
  bridgeId: bigint;
  /** Times in ticks: those in use, and the bridge's own (used when root). */
  maxAge = 0;
  helloTime = 0;
  forwardDelay = 0;
  bridgeMaxAge = 0;
  bridgeHelloTime = 0;
  bridgeForwardDelay = 0;
  private rqMaxAge = STP_DEFAULT_MAX_AGE;
  private rqHelloTime = STP_DEFAULT_HELLO_TIME;
  private rqForwardDelay = STP_DEFAULT_FWD_DELAY;
  private elapsedRemainder = 0;

  designatedRoot: bigint;
  rootPathCost = 0;
  rootPort: StpPort | null = null;
  topologyChangeDetected = false;
  topologyChange = false;

  private readonly helloTimer = new StpTimer();
  private readonly tcnTimer = new StpTimer();
  private readonly topologyChangeTimer = new StpTimer();

  readonly ports: StpPort[] = [];
  /** Set when learned MACs must be forgotten (a topology change); cleared by the owner. */
  fdbNeedsFlush = false;
  /** Set when some port changed state since the owner last looked. */
  stateChanged = false;

  constructor(
    readonly name: string,
    /** The bridge's MAC as a 48-bit number; a priority in the top 16 bits, or the default. */
    bridgeId: bigint,
    private readonly cb: StpCallbacks,
  ) {
    this.bridgeId = bridgeId >> 48n === 0n ? bridgeId | (BigInt(STP_DEFAULT_BRIDGE_PRIORITY) << 48n) : bridgeId;
    this.updateBridgeTimers();
    this.maxAge = this.bridgeMaxAge;
    this.helloTime = this.bridgeHelloTime;
    this.forwardDelay = this.bridgeForwardDelay;
    this.designatedRoot = this.bridgeId;
    // OVS 3.1's bridges send their first configuration BPDUs on the first
    // tick after STP starts, not a hello time later (seen against it).
    this.helloTimer.start(this.helloTime);
    for (let i = 0; i < STP_MAX_PORTS; i++) {
      const p = new StpPort(this, i);
      this.ports.push(p);
      this.initializePort(p, STP_DISABLED);
    }
  }

  /* ---------------- configuration ---------------- */

  /** Runs the protocol for `ms` more milliseconds of time. */
  tick(ms: number): void {
    ms = clamp(ms, 0, 0x7fffffff - 1000) + this.elapsedRemainder;
    const elapsed = msToTicks(ms);
    this.elapsedRemainder = ms - ticksToMs(elapsed);
    if (elapsed === 0) return;
    if (this.helloTimer.expired(elapsed, this.helloTime)) this.helloTimerExpiry();
    if (this.tcnTimer.expired(elapsed, this.bridgeHelloTime)) this.tcnTimerExpiry();
    if (this.topologyChangeTimer.expired(elapsed, this.maxAge + this.forwardDelay)) this.topologyChangeTimerExpiry();
    for (const p of this.enabledPorts()) {
      if (p.messageAgeTimer.expired(elapsed, this.maxAge)) this.messageAgeTimerExpiry(p);
    }
    for (const p of this.enabledPorts()) {
      if (p.forwardDelayTimer.expired(elapsed, this.forwardDelay)) this.forwardDelayTimerExpiry(p);
      if (p.holdTimer.expired(elapsed, msToTicks(1000))) this.holdTimerExpiry(p);
    }
  }

  private setBridgeIdFull(id: bigint): void {
    if (id === this.bridgeId) return;
    const wasRoot = this.isRootBridge();
    for (const p of this.enabledPorts()) if (this.isDesignatedPort(p)) p.designatedBridge = id;
    this.bridgeId = id;
    this.configurationUpdate();
    this.portStateSelection();
    if (this.isRootBridge() && !wasRoot) this.becomeRootBridge();
  }

  /** Changes the MAC part of the bridge id. */
  setBridgeMac(mac48: bigint): void {
    const macBits = (1n << 48n) - 1n;
    this.setBridgeIdFull((this.bridgeId & ~macBits) | (mac48 & macBits));
  }

  setBridgePriority(priority: number): void {
    const macBits = (1n << 48n) - 1n;
    this.setBridgeIdFull((this.bridgeId & macBits) | (BigInt(priority & 0xffff) << 48n));
  }

  setHelloTime(ms: number): void {
    this.rqHelloTime = ms;
    this.updateBridgeTimers();
  }

  setMaxAge(ms: number): void {
    this.rqMaxAge = ms;
    this.updateBridgeTimers();
  }

  setForwardDelay(ms: number): void {
    this.rqForwardDelay = ms;
    this.updateBridgeTimers();
  }

  /** Clamps the requested times into 802.1D's ranges and relationships. */
  private updateBridgeTimers(): void {
    const ht = clamp(this.rqHelloTime, 1000, 10000);
    const ma = clamp(this.rqMaxAge, Math.max(2 * (ht + 1000), 6000), 40000);
    const fd = clamp(this.rqForwardDelay, Math.floor(ma / 2) + 1000, 30000);
    this.bridgeHelloTime = msToTicks(ht);
    this.bridgeMaxAge = msToTicks(ma);
    this.bridgeForwardDelay = msToTicks(fd);
    if (this.isRootBridge()) {
      this.maxAge = this.bridgeMaxAge;
      this.helloTime = this.bridgeHelloTime;
      this.forwardDelay = this.bridgeForwardDelay;
    }
  }

  isRootBridge(): boolean {
    return this.bridgeId === this.designatedRoot;
  }

  enablePort(p: StpPort): void {
    if (p.state !== STP_DISABLED) return;
    this.initializePort(p, STP_BLOCKING);
    this.portStateSelection();
  }

  disablePort(p: StpPort): void {
    if (p.state === STP_DISABLED) return;
    const wasRoot = this.isRootBridge();
    this.becomeDesignatedPort(p);
    this.setPortState(p, STP_DISABLED);
    p.topologyChangeAck = false;
    p.configPending = false;
    p.messageAgeTimer.stop();
    p.forwardDelayTimer.stop();
    this.configurationUpdate();
    this.portStateSelection();
    if (this.isRootBridge() && !wasRoot) this.becomeRootBridge();
  }

  setPortPriority(p: StpPort, priority: number): void {
    const id = (p.portId & 0xff) | ((priority & 0xff) << 8);
    if (id === p.portId) return;
    if (this.isDesignatedPort(p)) p.designatedPort = id;
    p.portId = id;
    if (this.bridgeId === p.designatedBridge && p.portId < p.designatedPort) {
      this.becomeDesignatedPort(p);
      this.portStateSelection();
    }
  }

  setPathCost(p: StpPort, cost: number): void {
    if (p.pathCost === cost) return;
    p.pathCost = cost;
    this.configurationUpdate();
    this.portStateSelection();
  }

  /** stp/tcn: a topology change detected by hand. */
  detectTopologyChange(): void {
    this.topologyChangeDetection();
  }

  /* ---------------- status ---------------- */

  role(p: StpPort): StpRole {
    if (this.rootPort !== null && this.rootPort.portId === p.portId) return "root";
    if (this.isDesignatedPort(p)) return "designated";
    if (p.state === STP_DISABLED) return "disabled";
    return "alternate";
  }

  *enabledPorts(): Generator<StpPort> {
    for (const p of this.ports) if (p.state !== STP_DISABLED) yield p;
  }

  /* ---------------- receiving ---------------- */

  /** A BPDU (the bytes after the LLC header) arrived on port `p`. */
  receivedBpdu(p: StpPort, b: Uint8Array): void {
    if (p.state === STP_DISABLED) return;
    if (b.length < 4) {
      this.log("warn", `${this.name}: received runt ${b.length}-byte BPDU`);
      p.errorCount++;
      return;
    }
    if (((b[0]! << 8) | b[1]!) !== PROTOCOL_ID) {
      this.log("warn", `${this.name}: received BPDU with unexpected protocol ID ${(b[0]! << 8) | b[1]!}`);
      p.errorCount++;
      return;
    }
    if (b[2] !== 0) this.log("dbg", `${this.name}: received BPDU with unexpected protocol version ${b[2]}`);
    const type = b[3]!;
    if (type === TYPE_CONFIG) {
      if (b.length < CONFIG_BPDU_LEN) {
        this.log("warn", `${this.name}: received config BPDU with invalid size ${b.length}`);
        p.errorCount++;
        return;
      }
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const c: ConfigBpdu = {
        flags: b[4]!,
        rootId: dv.getBigUint64(5),
        rootPathCost: dv.getUint32(13),
        bridgeId: dv.getBigUint64(17),
        portId: dv.getUint16(25),
        messageAge: dv.getUint16(27),
        maxAge: dv.getUint16(29),
        helloTime: dv.getUint16(31),
        forwardDelay: dv.getUint16(33),
      };
      if (c.messageAge >= c.maxAge) {
        this.log("dbg", `${this.name}: received config BPDU with message age (${c.messageAge}) greater than max age (${c.maxAge})`);
        p.errorCount++;
        return;
      }
      this.receivedConfigBpdu(p, c);
    } else if (type === TYPE_TCN) {
      if (b.length !== TCN_BPDU_LEN) {
        this.log("warn", `${this.name}: received TCN BPDU with invalid size ${b.length}`);
        p.errorCount++;
        return;
      }
      this.receivedTcnBpdu(p);
    } else {
      this.log("warn", `${this.name}: received BPDU of unexpected type ${type}`);
      p.errorCount++;
      return;
    }
    p.rxCount++;
  }

  private log(level: "warn" | "dbg", text: string): void {
    this.cb.log?.(level, text);
  }

  /* ---------------- 802.1D clause 8.6 procedures ---------------- */

  private transmitConfig(p: StpPort): void {
    if (p.holdTimer.active) {
      p.configPending = true;
      return;
    }
    const root = this.rootPort;
    const messageAge = this.isRootBridge() || root === null ? 0 : root.messageAgeTimer.value + MESSAGE_AGE_INCREMENT;
    if (messageAge >= this.maxAge) return;
    const b = new Uint8Array(CONFIG_BPDU_LEN);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, PROTOCOL_ID);
    b[2] = 0;
    b[3] = TYPE_CONFIG;
    b[4] = (this.topologyChange ? FLAG_TC : 0) | (p.topologyChangeAck ? FLAG_TC_ACK : 0);
    dv.setBigUint64(5, this.designatedRoot);
    dv.setUint32(13, this.rootPathCost >>> 0);
    dv.setBigUint64(17, this.bridgeId);
    dv.setUint16(25, p.portId);
    dv.setUint16(27, messageAge);
    dv.setUint16(29, this.maxAge);
    dv.setUint16(31, this.helloTime);
    dv.setUint16(33, this.forwardDelay);
    p.topologyChangeAck = false;
    p.configPending = false;
    this.sendBpdu(p, b);
    p.holdTimer.start(0);
  }

  private sendBpdu(p: StpPort, b: Uint8Array): void {
    p.txCount++;
    this.cb.send(p.portNo, b);
  }

  private supersedesPortInfo(p: StpPort, c: ConfigBpdu): boolean {
    if (c.rootId !== p.designatedRoot) return c.rootId < p.designatedRoot;
    if (c.rootPathCost !== p.designatedCost) return c.rootPathCost < p.designatedCost;
    if (c.bridgeId !== p.designatedBridge) return c.bridgeId < p.designatedBridge;
    return c.bridgeId !== this.bridgeId || c.portId <= p.designatedPort;
  }

  private recordConfigInformation(p: StpPort, c: ConfigBpdu): void {
    p.designatedRoot = c.rootId;
    p.designatedCost = c.rootPathCost;
    p.designatedBridge = c.bridgeId;
    p.designatedPort = c.portId;
    p.messageAgeTimer.start(c.messageAge);
  }

  private recordConfigTimeoutValues(c: ConfigBpdu): void {
    this.maxAge = c.maxAge;
    this.helloTime = c.helloTime;
    this.forwardDelay = c.forwardDelay;
    this.topologyChange = (c.flags & FLAG_TC) !== 0;
    // Addresses learned before the change may now sit on the wrong port.
    if (this.topologyChange) this.fdbNeedsFlush = true;
  }

  private isDesignatedPort(p: StpPort): boolean {
    return p.designatedBridge === this.bridgeId && p.designatedPort === p.portId;
  }

  private configBpduGeneration(): void {
    for (const p of this.enabledPorts()) if (this.isDesignatedPort(p)) this.transmitConfig(p);
  }

  private transmitTcn(): void {
    const p = this.rootPort;
    if (p === null) return;
    const b = new Uint8Array(TCN_BPDU_LEN);
    b[3] = TYPE_TCN;
    this.sendBpdu(p, b);
  }

  private configurationUpdate(): void {
    this.rootSelection();
    this.designatedPortSelection();
  }

  private supersedesRoot(root: StpPort, p: StpPort): boolean {
    if (p.designatedRoot !== root.designatedRoot) return p.designatedRoot < root.designatedRoot;
    const pc = p.designatedCost + p.pathCost;
    const rc = root.designatedCost + root.pathCost;
    if (pc !== rc) return pc < rc;
    if (p.designatedBridge !== root.designatedBridge) return p.designatedBridge < root.designatedBridge;
    if (p.designatedPort !== root.designatedPort) return p.designatedPort < root.designatedPort;
    return p.portId < root.portId;
  }

  private rootSelection(): void {
    let root: StpPort | null = null;
    for (const p of this.enabledPorts()) {
      if (this.isDesignatedPort(p) || p.designatedRoot >= this.bridgeId) continue;
      if (root === null || this.supersedesRoot(root, p)) root = p;
    }
    this.rootPort = root;
    if (root === null) {
      this.designatedRoot = this.bridgeId;
      this.rootPathCost = 0;
    } else {
      this.designatedRoot = root.designatedRoot;
      this.rootPathCost = root.designatedCost + root.pathCost;
    }
  }

  private designatedPortSelection(): void {
    for (const p of this.enabledPorts()) {
      if (
        this.isDesignatedPort(p) ||
        p.designatedRoot !== this.designatedRoot ||
        this.rootPathCost < p.designatedCost ||
        (this.rootPathCost === p.designatedCost &&
          (this.bridgeId < p.designatedBridge || (this.bridgeId === p.designatedBridge && p.portId <= p.designatedPort)))
      ) {
        this.becomeDesignatedPort(p);
      }
    }
  }

  private becomeDesignatedPort(p: StpPort): void {
    p.designatedRoot = this.designatedRoot;
    p.designatedCost = this.rootPathCost;
    p.designatedBridge = this.bridgeId;
    p.designatedPort = p.portId;
  }

  private portStateSelection(): void {
    for (const p of this.enabledPorts()) {
      if (p === this.rootPort) {
        p.configPending = false;
        p.topologyChangeAck = false;
        this.makeForwarding(p);
      } else if (this.isDesignatedPort(p)) {
        p.messageAgeTimer.stop();
        this.makeForwarding(p);
      } else {
        p.configPending = false;
        p.topologyChangeAck = false;
        this.makeBlocking(p);
      }
    }
  }

  private makeForwarding(p: StpPort): void {
    if (p.state !== STP_BLOCKING) return;
    this.setPortState(p, STP_LISTENING);
    p.forwardDelayTimer.start(0);
  }

  private makeBlocking(p: StpPort): void {
    if ((p.state & (STP_DISABLED | STP_BLOCKING)) !== 0) return;
    if ((p.state & (STP_FORWARDING | STP_LEARNING)) !== 0 && p.changeDetectionEnabled) this.topologyChangeDetection();
    this.setPortState(p, STP_BLOCKING);
    p.forwardDelayTimer.stop();
  }

  private setPortState(p: StpPort, state: number): void {
    if (state === p.state) return;
    p.state = state;
    this.stateChanged = true;
  }

  private topologyChangeDetection(): void {
    if (this.isRootBridge()) {
      this.topologyChange = true;
      this.topologyChangeTimer.start(0);
    } else if (!this.topologyChangeDetected) {
      this.transmitTcn();
      this.tcnTimer.start(0);
    }
    this.fdbNeedsFlush = true;
    this.topologyChangeDetected = true;
  }

  private topologyChangeAcknowledged(): void {
    this.topologyChangeDetected = false;
    this.tcnTimer.stop();
  }

  private acknowledgeTopologyChange(p: StpPort): void {
    p.topologyChangeAck = true;
    this.transmitConfig(p);
  }

  private receivedConfigBpdu(p: StpPort, c: ConfigBpdu): void {
    if (p.state === STP_DISABLED) return;
    const wasRoot = this.isRootBridge();
    if (this.supersedesPortInfo(p, c)) {
      this.recordConfigInformation(p, c);
      this.configurationUpdate();
      this.portStateSelection();
      if (!this.isRootBridge() && wasRoot) {
        this.helloTimer.stop();
        if (this.topologyChangeDetected) {
          this.topologyChangeTimer.stop();
          this.transmitTcn();
          this.tcnTimer.start(0);
        }
      }
      if (p === this.rootPort) {
        this.recordConfigTimeoutValues(c);
        this.configBpduGeneration();
        if ((c.flags & FLAG_TC_ACK) !== 0) this.topologyChangeAcknowledged();
      }
    } else if (this.isDesignatedPort(p)) {
      this.transmitConfig(p);
    }
  }

  private receivedTcnBpdu(p: StpPort): void {
    if (p.state === STP_DISABLED) return;
    if (this.isDesignatedPort(p)) {
      this.topologyChangeDetection();
      this.acknowledgeTopologyChange(p);
    }
  }

  private helloTimerExpiry(): void {
    this.configBpduGeneration();
    this.helloTimer.start(0);
  }

  private messageAgeTimerExpiry(p: StpPort): void {
    const wasRoot = this.isRootBridge();
    this.becomeDesignatedPort(p);
    this.configurationUpdate();
    this.portStateSelection();
    if (this.isRootBridge() && !wasRoot) this.becomeRootBridge();
  }

  private isDesignatedForSomePort(): boolean {
    for (const p of this.enabledPorts()) if (p.designatedBridge === this.bridgeId) return true;
    return false;
  }

  private forwardDelayTimerExpiry(p: StpPort): void {
    if (p.state === STP_LISTENING) {
      this.setPortState(p, STP_LEARNING);
      p.forwardDelayTimer.start(0);
    } else if (p.state === STP_LEARNING) {
      this.setPortState(p, STP_FORWARDING);
      if (this.isDesignatedForSomePort() && p.changeDetectionEnabled) this.topologyChangeDetection();
    }
  }

  private tcnTimerExpiry(): void {
    this.transmitTcn();
    this.tcnTimer.start(0);
  }

  private topologyChangeTimerExpiry(): void {
    this.topologyChangeDetected = false;
    this.topologyChange = false;
  }

  private holdTimerExpiry(p: StpPort): void {
    if (p.configPending) this.transmitConfig(p);
  }

  private initializePort(p: StpPort, state: number): void {
    this.becomeDesignatedPort(p);
    this.setPortState(p, state);
    p.topologyChangeAck = false;
    p.configPending = false;
    p.changeDetectionEnabled = true;
    p.messageAgeTimer.stop();
    p.forwardDelayTimer.stop();
    p.holdTimer.stop();
    p.txCount = p.rxCount = p.errorCount = 0;
  }

  private becomeRootBridge(): void {
    this.maxAge = this.bridgeMaxAge;
    this.helloTime = this.bridgeHelloTime;
    this.forwardDelay = this.bridgeForwardDelay;
    this.topologyChangeDetection();
    this.tcnTimer.stop();
    this.configBpduGeneration();
    this.helloTimer.start(0);
  }
}

/** A bridge or root id as OVS writes it in Bridge.status: "8000.0123456789ab". */
export function stpIdText(id: bigint): string {
  return `${(id >> 48n).toString(16).padStart(4, "0")}.${(id & ((1n << 48n) - 1n)).toString(16).padStart(12, "0")}`;
}

/** The default path cost of a link of `mbps` (802.1D-1998 table 8-5, as OVS picks it). */
export function stpSpeedToCost(mbps: number): number {
  return mbps >= 10000 ? 2 : mbps >= 1000 ? 4 : mbps >= 100 ? 19 : mbps >= 16 ? 62 : mbps >= 10 ? 100 : mbps >= 4 ? 250 : 19;
}
