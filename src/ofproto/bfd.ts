/**
 * Bidirectional Forwarding Detection (RFC 5880, over UDP as RFC 5881
 * says) on one interface, as OVS 3.1's lib/bfd.c runs it, and the monitor
 * that drives every session of the process (OVS's ofproto-dpif-monitor).
 *
 * ## The session
 * A `BfdSession` is bfd.SessionState and its variables. Its clock and its
 * device are passed in (`now`, the interface's received-packet counter),
 * so tests drive it by hand:
 *
 * - `configure` takes Interface:bfd's settings (bfd-config.ts parses
 *   them); a changed interval or cpath_down starts a poll sequence.
 * - `run(now)` expires the detection time (down, "Control Detection Time
 *   Expired"), decays min_rx on a quiet link, and polls when the
 *   negotiated intervals differ from the configured ones.
 * - `shouldSend` / `putPacket` build the next control packet (Ethernet to
 *   00:23:20:00:00:01, IPv4 169.254.1.1 → 169.254.1.0 TTL 255, UDP from a
 *   per-session port in 49152..65535 to 3784) every transmit interval
 *   less up to 25 % jitter, or at once to answer a poll with Final.
 * - `shouldProcessFlow` is translation's test (OVS's process_special: the
 *   fields it reads are un-wildcarded in the megaflow); `processPacket`
 *   follows RFC 5880 6.8.6: down → init → up, a remote down or admin-down
 *   takes the session down with "Neighbor Signaled Session Down".
 * - `forwarding(now)` is what the interface may do: up (or, with
 *   forwarding_if_rx, receiving) and the remote not signalling a path
 *   down; `bfd/set-forwarding` overrides it. Each change of the computed
 *   value counts a flap.
 *
 * Times are milliseconds of the process clock (util/clock.ts), so
 * `time/stop` and `time/warp` drive sessions as they drive OVS's.
 *
 * ## The monitor
 * Every session registers with the process-wide monitor, which runs them
 * from a short timer (when the clock moves by itself) and after each
 * `time/warp` step, sends what they want sent through their port, and
 * lists them for `bfd/show` in the order of OVS's hash map of sessions
 * (keyed by the random local discriminator).
 */
import { onTimeWarp, timeMsec } from "../util/clock.js";
import { vlogModule } from "../util/vlog.js";
import { HmapOrder } from "./ofport-order.js";
import { internetChecksum } from "../packet/checksum.js";
import {
  FLOW_NW_FRAG_LATER,
  M_DL_TYPE,
  M_NW_PROTO,
  M_TP_DST,
  S_DL_TYPE,
  S_NW_FRAG,
  S_NW_PROTO,
  S_NW_TTL,
  S_TP_DST,
  W_DL_TYPE,
  W_ETH_DST,
  W_ETH_SRC,
  W_NW_FRAG,
  W_NW_PROTO,
  W_NW_TTL,
  W_TP_DST,
  W_TUN_ID,
} from "../flow/key-layout.js";

const log = vlogModule("bfd");

/** Length of a BFD control packet without authentication. */
export const BFD_PACKET_LEN = 24;
/** UDP destination port of single-hop BFD control packets (RFC 5881). */
export const BFD_DEST_PORT = 3784;
const BFD_VERSION = 1;

/* Flags (the low six bits of the second byte). */
export const FLAG_MULTIPOINT = 1 << 0;
export const FLAG_DEMAND = 1 << 1;
export const FLAG_AUTH = 1 << 2;
export const FLAG_CTL = 1 << 3;
export const FLAG_FINAL = 1 << 4;
export const FLAG_POLL = 1 << 5;

/* Session states, as they sit in the second byte. */
export const STATE_ADMIN_DOWN = 0 << 6;
export const STATE_DOWN = 1 << 6;
export const STATE_INIT = 2 << 6;
export const STATE_UP = 3 << 6;

/* Diagnostics (RFC 5880 4.1). */
export const DIAG_NONE = 0;
export const DIAG_EXPIRED = 1;
export const DIAG_ECHO_FAILED = 2;
export const DIAG_RMT_DOWN = 3;
export const DIAG_FWD_RESET = 4;
export const DIAG_PATH_DOWN = 5;
export const DIAG_CPATH_DOWN = 6;
export const DIAG_ADMIN_DOWN = 7;
export const DIAG_RCPATH_DOWN = 8;

/** Where control packets go unless bfd_local_dst_mac says otherwise. */
export const BFD_ETH_DST = Uint8Array.of(0x00, 0x23, 0x20, 0x00, 0x00, 0x01);
/** 169.254.1.1 and 169.254.1.0: the default addresses. */
export const BFD_DEFAULT_SRC_IP = 0xa9fe0101;
export const BFD_DEFAULT_DST_IP = 0xa9fe0100;

/** Interface:bfd, parsed (src/vswitchd/bfd-config.ts). */
export interface BfdSettings {
  /** min_tx, at least 100 ms. */
  minTx: number;
  /** min_rx, at least 100 ms. */
  minRx: number;
  /** decay_min_rx (0: no decay). */
  decayMinRx: number;
  cpathDown: boolean;
  checkTnlKey: boolean;
  forwardingIfRx: boolean;
  /** bfd_local_src_mac, bfd_local_dst_mac, bfd_remote_dst_mac (all zeros: unset). */
  localSrcMac: Uint8Array;
  localDstMac: Uint8Array;
  remoteDstMac: Uint8Array;
  /** bfd_src_ip, bfd_dst_ip (host order). */
  srcIp: number;
  dstIp: number;
  /** oam: set the tunnel OAM bit on packets sent into a tunnel. */
  oam: boolean;
}

export function bfdStateName(state: number): string {
  switch (state) {
    case STATE_ADMIN_DOWN:
      return "admin_down";
    case STATE_DOWN:
      return "down";
    case STATE_INIT:
      return "init";
    case STATE_UP:
      return "up";
    default:
      return "invalid";
  }
}

const DIAG_TEXT = [
  "No Diagnostic",
  "Control Detection Time Expired",
  "Echo Function Failed",
  "Neighbor Signaled Session Down",
  "Forwarding Plane Reset",
  "Path Down",
  "Concatenated Path Down",
  "Administratively Down",
  "Reverse Concatenated Path Down",
];

export function bfdDiagName(diag: number): string {
  return DIAG_TEXT[diag] ?? "Invalid Diagnostic";
}

export function bfdFlagsText(flags: number): string {
  if (flags === 0) return "none";
  const words: string[] = [];
  if (flags & FLAG_MULTIPOINT) words.push("multipoint");
  if (flags & FLAG_DEMAND) words.push("demand");
  if (flags & FLAG_AUTH) words.push("auth");
  if (flags & FLAG_CTL) words.push("ctl");
  if (flags & FLAG_FINAL) words.push("final");
  if (flags & FLAG_POLL) words.push("poll");
  return words.join(" ");
}

function isZeroMac(m: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (m[i] !== 0) return false;
  return true;
}

function signed(ms: number): string {
  return ms >= 0 ? `+${ms}` : String(ms);
}

/** What a session needs of its interface. */
export interface BfdPortHost {
  /** Packets the interface received (decay watches it); 0 when unknown. */
  rxPackets(): number;
  /** The interface's own Ethernet address (the default source). */
  hwAddr(): Uint8Array;
  /** Sends a control packet out of the interface; `oam` marks tunnel packets. */
  send(frame: Uint8Array, oam: boolean): void;
  /** The forwarding flag the port goes by (`mayEnable`) changed: translations must be redone. */
  forwardingChanged?(): void;
}

/** UDP source ports are handed out in turn, as OVS does (49152 + n mod 16384). */
let udpSrcCounter = 0;

/** Sessions by discriminator, in OVS's hash map order. */
const sessions = new HmapOrder<BfdSession>((s) => s.disc);
const discs = new Set<number>();

function newDiscriminator(random: () => number): number {
  for (;;) {
    const d = Math.floor(random() * 0x100000000) >>> 0;
    if (d !== 0 && !discs.has(d)) return d;
  }
}

/** One BFD session (OVS's struct bfd). */
export class BfdSession {
  readonly disc: number;
  cpathDown = false;
  readonly mult = 3;
  /** Starts administratively down, as a zeroed OVS session, and goes down at once. */
  state = STATE_ADMIN_DOWN;
  rmtState = STATE_ADMIN_DOWN;
  diag = DIAG_NONE;
  rmtDiag = DIAG_NONE;
  flags = 0;
  rmtFlags = 0;
  rmtDisc = 0;
  rmtMult = 0;
  localSrcMac = new Uint8Array(6);
  localDstMac = new Uint8Array(6);
  rmtEthDst = new Uint8Array(6);
  ipSrc = BFD_DEFAULT_SRC_IP;
  ipDst = BFD_DEFAULT_DST_IP;
  readonly udpSrc: number;
  oam = false;
  checkTnlKey = false;

  rmtMinRx = 1;
  rmtMinTx = 0;
  cfgMinTx = 0;
  cfgMinRx = 0;
  pollMinTx = 0;
  pollMinRx = 0;
  minTx = 1000;
  minRx = 0;
  lastTx = 0;
  nextTx = 0;
  detectTime = 0;

  lastForwarding = false;
  /** -1: computed; 0 or 1: forced by bfd/set-forwarding. */
  forwardingOverride = -1;
  forwardingIfRx = false;
  forwardingIfRxDetectTime = 0;
  /** With forwarding_if_rx, a control packet must still come every 100 × min_rx. */
  demandRxBfdTime = 0;

  inDecay = false;
  decayMinRx = 0;
  decayRxCtl = 0;
  decayRxPackets = 0;
  decayDetectTime = 0;

  flapCount = 0;
  /**
   * The forwarding flag as the monitor last published it to the port
   * (OVS's ofport may_enable): what fast-failover liveness reads, so a
   * translation never changes it.
   */
  mayEnable = false;
  /** Set whenever what bfd_status shows may have changed. */
  statusChanged = true;
  private closed = false;

  constructor(
    readonly name: string,
    readonly host: BfdPortHost,
    settings: BfdSettings,
    private readonly clock: () => number = timeMsec,
    private readonly random: () => number = Math.random,
    /** False: the caller runs the session and sends its packets itself (tests). */
    private readonly monitored = true,
  ) {
    this.disc = newDiscriminator(Math.random);
    discs.add(this.disc);
    sessions.insert(this);
    this.udpSrc = (udpSrcCounter++ % 16384) + 49152;
    udpSrcCounter &= 0xffff;
    this.setState(STATE_DOWN, DIAG_NONE);
    this.configure(settings);
    if (monitored) monitor.add(this);
  }

  /** Drops the session (bfd:enable=false, interface gone). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    sessions.remove(this);
    discs.delete(this.disc);
    monitor.remove(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private inPoll(): boolean {
    return (this.flags & FLAG_POLL) !== 0;
  }

  /** Applies Interface:bfd (OVS's bfd_configure on an existing session). */
  configure(s: BfdSettings): void {
    let needPoll = false;
    let minRxChanged = false;
    this.checkTnlKey = s.checkTnlKey;
    const minTx = Math.max(s.minTx, 100);
    if (this.cfgMinTx !== minTx) {
      this.cfgMinTx = minTx;
      if (this.state !== STATE_UP || (!this.inPoll() && this.cfgMinTx < this.minTx)) this.minTx = this.cfgMinTx;
      needPoll = true;
    }
    const minRx = Math.max(s.minRx, 100);
    if (this.cfgMinRx !== minRx) {
      this.cfgMinRx = minRx;
      if (this.state !== STATE_UP || (!this.inPoll() && this.cfgMinRx > this.minRx)) this.minRx = this.cfgMinRx;
      minRxChanged = true;
      needPoll = true;
    }
    if (this.decayMinRx !== s.decayMinRx || minRxChanged) {
      if (s.decayMinRx > 0 && s.decayMinRx < this.cfgMinRx) {
        log.warn(`${this.name}: decay_min_rx cannot be less than ${this.cfgMinRx} ms`);
        this.decayMinRx = 0;
      } else {
        this.decayMinRx = s.decayMinRx;
      }
      this.inDecay = false;
      this.decayUpdate();
      needPoll = true;
    }
    if (this.cpathDown !== s.cpathDown) {
      this.cpathDown = s.cpathDown;
      this.setState(this.state, DIAG_NONE);
      needPoll = true;
    }
    this.localSrcMac = s.localSrcMac.slice(0, 6);
    this.localDstMac = s.localDstMac.slice(0, 6);
    this.rmtEthDst = s.remoteDstMac.slice(0, 6);
    this.ipSrc = s.srcIp >>> 0;
    this.ipDst = s.dstIp >>> 0;
    this.oam = s.oam;
    if (this.forwardingIfRx !== s.forwardingIfRx) {
      this.forwardingIfRx = s.forwardingIfRx;
      if (this.state === STATE_UP && this.forwardingIfRx) this.forwardingIfRxUpdate();
      else this.forwardingIfRxDetectTime = 0;
    }
    if (needPoll) this.poll();
  }

  /** When the session next needs running (OVS's bfd_wait). */
  wakeTime(): number {
    if (this.flags & FLAG_FINAL) return 0;
    let t = this.nextTx;
    if (this.state > STATE_DOWN) t = Math.min(t, this.detectTime);
    return t;
  }

  /** Timers: detection, decay, polls (OVS's bfd_run). */
  run(): void {
    const now = this.clock();
    const oldInDecay = this.inDecay;
    if (this.state > STATE_DOWN && now >= this.detectTime) this.setState(STATE_DOWN, DIAG_EXPIRED);
    this.forwarding();
    if (this.state === STATE_UP && this.decayMinRx > 0 && now >= this.decayDetectTime) this.tryDecay();
    if (this.minTx !== this.cfgMinTx || (this.minRx !== this.cfgMinRx && this.minRx !== this.decayMinRx) || this.inDecay !== oldInDecay) {
      this.poll();
    }
  }

  shouldSend(): boolean {
    return (this.flags & FLAG_FINAL) !== 0 || this.clock() >= this.nextTx;
  }

  /** The next control packet (an Ethernet frame), and the transmit bookkeeping. */
  putPacket(ethSrc: Uint8Array): Uint8Array {
    const now = this.clock();
    if (this.nextTx !== 0) {
      const delay = now - this.nextTx;
      const interval = this.txInterval();
      if (delay > Math.floor((interval * 3) / 2)) {
        log.info(`${this.name}: long delay of ${delay}ms (expected ${interval}ms) sending BFD control message`);
      }
    }
    const f = new Uint8Array(14 + 20 + 8 + BFD_PACKET_LEN);
    const dv = new DataView(f.buffer);
    f.set(isZeroMac(this.localDstMac) ? BFD_ETH_DST : this.localDstMac, 0);
    f.set(isZeroMac(this.localSrcMac) ? ethSrc.subarray(0, 6) : this.localSrcMac, 6);
    dv.setUint16(12, 0x0800);
    // IPv4: no options, internetwork-control precedence, TTL 255, UDP.
    f[14] = 0x45;
    f[15] = 0xc0;
    dv.setUint16(16, 20 + 8 + BFD_PACKET_LEN);
    f[22] = 255;
    f[23] = 17;
    dv.setUint32(26, this.ipSrc);
    dv.setUint32(30, this.ipDst);
    dv.setUint16(24, internetChecksum(f, 14, 20));
    dv.setUint16(34, this.udpSrc);
    dv.setUint16(36, BFD_DEST_PORT);
    dv.setUint16(38, 8 + BFD_PACKET_LEN);
    const m = 42;
    f[m] = (BFD_VERSION << 5) | this.diag;
    f[m + 1] = (this.state & 0xc0) | this.flags;
    f[m + 2] = this.mult;
    f[m + 3] = BFD_PACKET_LEN;
    dv.setUint32(m + 4, this.disc);
    dv.setUint32(m + 8, this.rmtDisc);
    const minTx = this.inPoll() ? this.pollMinTx : this.effectiveMinTx();
    const minRx = this.inPoll() ? this.pollMinRx : this.minRx;
    dv.setUint32(m + 12, (minTx * 1000) >>> 0);
    dv.setUint32(m + 16, (minRx * 1000) >>> 0);
    dv.setUint32(m + 20, 0);
    this.flags &= ~FLAG_FINAL;
    if (log.enabled("dbg")) log.dbg(this.msgText(f.subarray(m), "Sending BFD Message"));
    this.lastTx = now;
    this.setNextTx();
    return f;
  }

  /**
   * Whether translation hands this flow to the session (OVS's
   * bfd_should_process_flow): IPv4 UDP to port 3784 (not a later
   * fragment), to bfd_remote_dst_mac when set, with tunnel key 0 when
   * check_tnl_key is set. Marks the fields it read in `wc`.
   */
  shouldProcessFlow(flow: Uint32Array, wc: Uint32Array): boolean {
    if (!isZeroMac(this.rmtEthDst)) {
      wc[W_ETH_DST] = 0xffffffff;
      wc[W_ETH_SRC] = (wc[W_ETH_SRC]! | 0xffff0000) >>> 0;
      const d = this.rmtEthDst;
      const hi = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
      const lo = (d[4]! << 8) | d[5]!;
      if (flow[W_ETH_DST] !== hi || flow[W_ETH_SRC]! >>> 16 !== lo) return false;
    }
    if (((flow[W_DL_TYPE]! >>> S_DL_TYPE) & M_DL_TYPE) !== 0x0800) return false;
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (M_NW_PROTO << S_NW_PROTO)) >>> 0;
    if (((flow[W_NW_PROTO]! >>> S_NW_PROTO) & M_NW_PROTO) !== 17) return false;
    if (((flow[W_NW_FRAG]! >>> S_NW_FRAG) & FLOW_NW_FRAG_LATER) !== 0) return false;
    // As OVS's tp_dst_equals: a mismatch un-wildcards only its highest differing bit.
    const diff = ((flow[W_TP_DST]! >>> S_TP_DST) & M_TP_DST) ^ BFD_DEST_PORT;
    if (diff !== 0) {
      wc[W_TP_DST] = (wc[W_TP_DST]! | ((0x80000000 >>> Math.clz32(diff)) << S_TP_DST)) >>> 0;
      return false;
    }
    wc[W_TP_DST] = (wc[W_TP_DST]! | (M_TP_DST << S_TP_DST)) >>> 0;
    if (this.checkTnlKey) {
      wc[W_TUN_ID] = 0xffffffff;
      wc[W_TUN_ID + 1] = 0xffffffff;
      return flow[W_TUN_ID] === 0 && flow[W_TUN_ID + 1] === 0;
    }
    return true;
  }

  /** A received control packet (RFC 5880 6.8.6; OVS's bfd_process_packet). */
  processPacket(flow: Uint32Array, packet: Uint8Array): void {
    const l7 = udpPayloadOffset(packet);
    if (l7 < 0) return;
    this.decayRxCtl++;
    this.forwarding();
    this.receive((flow[W_NW_TTL]! >>> S_NW_TTL) & 0xff, packet, l7);
    this.forwarding();
    // A poll is answered at once with Final.
    if (this.flags & FLAG_FINAL && this.monitored) monitor.sendSoon();
  }

  private receive(ttl: number, packet: Uint8Array, l7: number): void {
    if (ttl !== 255) return;
    if (packet.length - l7 < BFD_PACKET_LEN) {
      log.info(`${this.name}: Received too-short BFD control message (only ${packet.length - l7} bytes long, at least ${BFD_PACKET_LEN} required).`);
      return;
    }
    const msg = packet.subarray(l7, l7 + BFD_PACKET_LEN);
    const dv = new DataView(msg.buffer, msg.byteOffset, BFD_PACKET_LEN);
    const flags = msg[1]! & 0x3f;
    const rmtState = msg[1]! & 0xc0;
    const version = msg[0]! >> 5;
    if (log.enabled("dbg")) log.dbg(this.msgText(msg, "Received BFD control message"));
    if (version !== BFD_VERSION) return this.warnMsg(msg, "Incorrect version");
    if (flags & FLAG_AUTH) return this.warnMsg(msg, "Authenticated control message with authentication disabled");
    if (msg[3] !== BFD_PACKET_LEN) {
      this.warnMsg(msg, "Unexpected length");
      if (msg[3]! < BFD_PACKET_LEN) return;
    }
    if (msg[2] === 0) return this.warnMsg(msg, "Zero multiplier");
    if (flags & FLAG_MULTIPOINT) return this.warnMsg(msg, "Unsupported multipoint flag");
    const myDisc = dv.getUint32(4);
    if (myDisc === 0) return this.warnMsg(msg, "NULL my_disc");
    const yourDisc = dv.getUint32(8);
    if (yourDisc !== 0) {
      if (yourDisc !== this.disc) return this.warnMsg(msg, "Incorrect your_disc");
    } else if (rmtState > STATE_DOWN) {
      return this.warnMsg(msg, "Null your_disc");
    }
    if (this.rmtState !== rmtState) this.statusChanged = true;
    this.rmtDisc = myDisc;
    this.rmtState = rmtState;
    this.rmtFlags = flags;
    if (this.rmtDiag !== (msg[0]! & 0x1f)) this.statusChanged = true;
    this.rmtDiag = msg[0]! & 0x1f;
    this.rmtMult = msg[2]!;
    if (flags & FLAG_FINAL && this.inPoll()) {
      this.minTx = this.pollMinTx;
      this.minRx = this.pollMinRx;
      this.flags &= ~FLAG_POLL;
      log.info(this.msgText(msg, "Poll sequence terminated"));
    }
    if (flags & FLAG_POLL) {
      this.flags &= ~FLAG_POLL;
      this.flags |= FLAG_FINAL;
    }
    const rmtMinRx = Math.max(Math.floor(dv.getUint32(16) / 1000), 1);
    if (this.rmtMinRx !== rmtMinRx) {
      this.rmtMinRx = rmtMinRx;
      if (this.nextTx !== 0) this.setNextTx();
      log.info(this.msgText(msg, "New remote min_rx"));
    }
    this.rmtMinTx = Math.max(Math.floor(dv.getUint32(12) / 1000), 1);
    this.detectTime = this.rxInterval() * this.rmtMult + this.clock();

    if (this.state === STATE_ADMIN_DOWN) {
      log.dbg("Administratively down, dropping control message.");
      return;
    }
    if (rmtState === STATE_ADMIN_DOWN) {
      if (this.state !== STATE_DOWN) this.setState(STATE_DOWN, DIAG_RMT_DOWN);
    } else {
      switch (this.state) {
        case STATE_DOWN:
          if (rmtState === STATE_DOWN) this.setState(STATE_INIT, this.diag);
          else if (rmtState === STATE_INIT) this.setState(STATE_UP, this.diag);
          break;
        case STATE_INIT:
          if (rmtState > STATE_DOWN) this.setState(STATE_UP, this.diag);
          break;
        case STATE_UP:
          if (rmtState <= STATE_DOWN) {
            this.setState(STATE_DOWN, DIAG_RMT_DOWN);
            log.info(this.msgText(msg, "Remote signaled STATE_DOWN"));
          }
          break;
        default:
          break;
      }
    }
    if (this.forwardingIfRx) this.demandRxBfdTime = this.clock() + 100 * this.cfgMinRx;
  }

  /** Data packets received on the interface (forwarding_if_rx; OVS's bfd_account_rx). */
  accountRx(packets: number): void {
    if (packets === 0 || !this.forwardingIfRx) return;
    this.forwarding();
    this.forwardingIfRxUpdate();
    this.forwarding();
  }

  /**
   * Whether the interface may forward: forced by bfd/set-forwarding, else
   * computed (a change counts a flap).
   */
  forwarding(): boolean {
    if (this.forwardingOverride !== -1) return this.forwardingOverride === 1;
    const now = this.clock();
    const last = this.lastForwarding;
    const ifRx = this.forwardingIfRx && this.forwardingIfRxDetectTime > now && this.demandRxBfdTime > now;
    this.lastForwarding =
      (this.state === STATE_UP || ifRx) && this.rmtDiag !== DIAG_PATH_DOWN && this.rmtDiag !== DIAG_CPATH_DOWN && this.rmtDiag !== DIAG_RCPATH_DOWN;
    if (this.lastForwarding !== last) {
      this.flapCount++;
      this.statusChanged = true;
    }
    return this.lastForwarding;
  }

  /** `bfd/set-forwarding`: 1 or 0 forces, -1 goes back to the computed value. */
  setForwardingOverride(v: -1 | 0 | 1): void {
    this.forwardingOverride = v;
    this.statusChanged = true;
  }

  /** Interface.bfd_status (OVS's bfd_get_status). */
  status(): [string, string][] {
    const out: [string, string][] = [
      ["forwarding", this.forwarding() ? "true" : "false"],
      ["state", bfdStateName(this.state)],
      ["diagnostic", bfdDiagName(this.diag)],
      ["flap_count", String(this.flapCount)],
      ["remote_state", bfdStateName(this.rmtState)],
      ["remote_diagnostic", bfdDiagName(this.rmtDiag)],
    ];
    return out;
  }

  /** The body of `bfd/show` for this session. */
  details(): string {
    const now = this.clock();
    let s = "";
    s += `  Forwarding: ${this.forwarding() ? "true" : "false"}\n`;
    s += `  Detect Multiplier: ${this.mult}\n`;
    s += `  Concatenated Path Down: ${this.cpathDown ? "true" : "false"}\n`;
    s += `  TX Interval: Approx ${this.txInterval()}ms\n`;
    s += `  RX Interval: Approx ${this.rxInterval()}ms\n`;
    s += `  Detect Time: now ${signed(this.detectTime - now)}ms\n`;
    s += `  Next TX Time: now ${signed(this.nextTx - now)}ms\n`;
    s += `  Last TX Time: now ${signed(this.lastTx - now)}ms\n`;
    s += "\n";
    s += `  Local Flags: ${bfdFlagsText(this.flags)}\n`;
    s += `  Local Session State: ${bfdStateName(this.state)}\n`;
    s += `  Local Diagnostic: ${bfdDiagName(this.diag)}\n`;
    s += `  Local Discriminator: 0x${this.disc.toString(16)}\n`;
    s += `  Local Minimum TX Interval: ${this.effectiveMinTx()}ms\n`;
    s += `  Local Minimum RX Interval: ${this.minRx}ms\n`;
    s += "\n";
    s += `  Remote Flags: ${bfdFlagsText(this.rmtFlags)}\n`;
    s += `  Remote Session State: ${bfdStateName(this.rmtState)}\n`;
    s += `  Remote Diagnostic: ${bfdDiagName(this.rmtDiag)}\n`;
    s += `  Remote Discriminator: 0x${this.rmtDisc.toString(16)}\n`;
    s += `  Remote Minimum TX Interval: ${this.rmtMinTx}ms\n`;
    s += `  Remote Minimum RX Interval: ${this.rmtMinRx}ms\n`;
    s += `  Remote Detect Multiplier: ${this.rmtMult}\n`;
    return s;
  }

  /* ---------------- internals ---------------- */

  private poll(): void {
    if (this.state > STATE_DOWN && !this.inPoll() && !(this.flags & FLAG_FINAL)) {
      this.pollMinTx = this.cfgMinTx;
      this.pollMinRx = this.inDecay ? this.decayMinRx : this.cfgMinRx;
      this.flags |= FLAG_POLL;
      this.nextTx = 0;
      log.info(`${this.name}: Initiating poll sequence`);
    }
  }

  /** bfd.DesiredMinTxInterval as sent: at least a second while not up (RFC 5880 6.8.3). */
  effectiveMinTx(): number {
    return this.state === STATE_UP ? this.minTx : Math.max(this.minTx, 1000);
  }

  txInterval(): number {
    return Math.max(this.effectiveMinTx(), this.rmtMinRx);
  }

  rxInterval(): number {
    return Math.max(this.minRx, this.rmtMinTx);
  }

  private setNextTx(): void {
    let interval = this.txInterval();
    interval -= Math.floor((interval * Math.floor(this.random() * 26)) / 100);
    this.nextTx = this.lastTx + interval;
  }

  private setState(state: number, diag: number): void {
    if (this.cpathDown) diag = DIAG_CPATH_DOWN;
    if (this.state === state && this.diag === diag) return;
    if (log.enabled("info")) {
      log.info(`${this.name}: BFD state change: ${bfdStateName(this.state)}->${bfdStateName(state)} "${bfdDiagName(this.diag)}"->"${bfdDiagName(diag)}".\n${this.details()}`);
    }
    this.state = state;
    this.diag = diag;
    if (state <= STATE_DOWN) {
      this.rmtState = STATE_DOWN;
      this.rmtDiag = DIAG_NONE;
      this.rmtMinRx = 1;
      this.rmtFlags = 0;
      this.rmtDisc = 0;
      this.rmtMinTx = 0;
      // The remote's multiplier stays as last heard (OVS shows it after a session went down).
      if (this.inDecay) {
        this.minRx = this.cfgMinRx;
        this.inDecay = false;
      }
    }
    if (state === STATE_UP && this.decayMinRx !== 0) this.decayUpdate();
    this.statusChanged = true;
  }

  private tryDecay(): void {
    const diff = this.host.rxPackets() - this.decayRxPackets;
    const expect = 2 * Math.max(this.decayRxCtl, 1);
    this.inDecay = diff <= expect;
    this.decayUpdate();
  }

  private decayUpdate(): void {
    this.decayRxPackets = this.host.rxPackets();
    this.decayRxCtl = 0;
    this.decayDetectTime = Math.max(this.decayMinRx, 2000) + this.clock();
  }

  private forwardingIfRxUpdate(): void {
    const incr = this.rxInterval() * this.mult;
    this.forwardingIfRxDetectTime = Math.max(incr, 2000) + this.clock();
  }

  private warnMsg(msg: Uint8Array, what: string): void {
    log.warn(this.msgText(msg, what));
  }

  private msgText(msg: Uint8Array, what: string): string {
    const dv = new DataView(msg.buffer, msg.byteOffset, BFD_PACKET_LEN);
    const us = (o: number): string => `${dv.getUint32(o)}us (${Math.floor(dv.getUint32(o) / 1000)}ms)`;
    return (
      `${this.name}: ${what}.` +
      `\n\tvers:${msg[0]! >> 5} diag:"${bfdDiagName(msg[0]! & 0x1f)}" state:${bfdStateName(msg[1]! & 0xc0)} mult:${msg[2]} length:${msg[3]}` +
      `\n\tflags: ${bfdFlagsText(msg[1]! & 0x3f)}` +
      `\n\tmy_disc:0x${dv.getUint32(4).toString(16)} your_disc:0x${dv.getUint32(8).toString(16)}` +
      `\n\tmin_tx:${us(12)}\n\tmin_rx:${us(16)}\n\tmin_rx_echo:${us(20)}\n` +
      this.details()
    );
  }
}

/** Offset of the UDP payload of an IPv4 frame (after VLAN tags), or -1. */
export function udpPayloadOffset(p: Uint8Array): number {
  let o = 12;
  if (p.length < 14) return -1;
  let type = (p[o]! << 8) | p[o + 1]!;
  while ((type === 0x8100 || type === 0x88a8) && p.length >= o + 6) {
    o += 4;
    type = (p[o]! << 8) | p[o + 1]!;
  }
  o += 2;
  if (type !== 0x0800 || p.length < o + 20) return -1;
  const ihl = (p[o]! & 0x0f) * 4;
  if (ihl < 20 || p[o + 9] !== 17 || p.length < o + ihl + 8) return -1;
  return o + ihl + 8;
}

/** Every live session, in the order `bfd/show` lists them. */
export function listBfdSessions(): BfdSession[] {
  return sessions.values();
}

export function findBfdSession(name: string): BfdSession | null {
  for (const s of sessions.values()) if (s.name === name) return s;
  return null;
}

/**
 * Runs the sessions and sends their packets (OVS's monitor thread): from
 * a timer while the clock runs, after each `time/warp` step, and right
 * after a poll needs its Final answer.
 */
class BfdMonitor {
  private readonly live = new Set<BfdSession>();
  private timer: NodeJS.Timeout | null = null;
  private unwarp: (() => void) | null = null;
  private running = false;
  private soon: NodeJS.Immediate | null = null;

  add(s: BfdSession): void {
    this.live.add(s);
    if (this.timer === null) {
      this.timer = setInterval(() => this.run(), 20);
      this.timer.unref();
      this.unwarp = onTimeWarp(() => this.run());
    }
    this.sendSoon();
  }

  remove(s: BfdSession): void {
    this.live.delete(s);
    if (this.live.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.unwarp?.();
      this.unwarp = null;
    }
  }

  /** Runs the sessions as soon as the current work is done. */
  sendSoon(): void {
    if (this.running || this.soon !== null) return;
    this.soon = setImmediate(() => {
      this.soon = null;
      this.run();
    });
  }

  /** Runs every session due, sending what is due; repeats while a Final is owed. */
  run(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (let round = 0; round < 4; round++) {
        let again = false;
        for (const s of [...this.live]) {
          if (s.isClosed) continue;
          s.run();
          if (s.shouldSend()) {
            const frame = s.putPacket(s.host.hwAddr());
            s.host.send(frame, s.oam);
          }
          if (s.flags & FLAG_FINAL) again = true;
        }
        for (const s of [...this.live]) {
          const f = !s.isClosed && s.forwarding();
          if (s.isClosed || f === s.mayEnable) continue;
          s.mayEnable = f;
          s.host.forwardingChanged?.();
        }
        if (!again) break;
      }
    } catch (e) {
      log.err(`monitor: ${(e as Error).stack ?? String(e)}`);
    } finally {
      this.running = false;
    }
  }
}

const monitor = new BfdMonitor();

/** Runs the sessions now (tests; the monitor's timer does it otherwise). */
export function runBfdMonitor(): void {
  monitor.run();
}
