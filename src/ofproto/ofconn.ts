/**
 * One OpenFlow connection of a switch (OVS's ofconn over an rconn/vconn):
 * the byte stream, the hello handshake, framing, echo keepalives, and the
 * per-connection state OpenFlow gives each controller.
 *
 * ## Life of a connection
 * The switch sends its hello at once (the versions it allows); the first
 * message received must be the peer's hello, and the highest common
 * version is used from then on (`receiveHello`). An incompatible peer gets
 * OFPHFC_INCOMPATIBLE and is closed, as OVS does. After that every framed
 * message is decoded and handed to the owner (`onMessage`); a message in
 * another version than the negotiated one gets OFPBRC_BAD_VERSION (except
 * error and echo, which OVS lets through) and a second hello
 * OFPBRC_BAD_TYPE; the connection stays up, as OVS keeps it.
 *
 * ## Per-connection state (OVS's struct ofconn)
 * type (primary = from a Controller row, service = the management socket
 * and its kind), role with its async configuration, miss_send_len,
 * flow format (OpenFlow 1.0 or NXM, set by NXT_SET_FLOW_FORMAT),
 * packet-in format, controller id, the flow_mod table-id extension, and
 * open bundles.
 *
 * ## Keepalive
 * With a probe interval (seconds, 0 = none): after that long without
 * receiving anything an echo request is sent; after as long again still
 * without anything the connection is dropped ("inactivity probe"). OVS's
 * rconn does the same in its ACTIVE and IDLE states.
 */
import type * as net from "node:net";
import { decodeMessage, encodeMessage, errorReply, lengthOk, lookupRaw, OfpFramer, OFPSF_REPLY_MORE, type DecodeResult, type OfpMessage } from "../openflow/ofp-msgs.js";
import { isDecodeError } from "../openflow/ofp-codec.js";
import { makeHello, receiveHello } from "../openflow/ofp-hello.js";
import { OFPR_IMPLICIT_MISS, packetInReasonForVersion } from "../openflow/ofp-packet.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { Role } from "../openflow/ofp-control.js";
import type { VersionBitmap } from "../openflow/ofp-version.js";
import { pollAfterInput } from "../util/poll-after-input.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("connmgr");

/** OVS's OFCONN_PRIMARY (a controller) and OFCONN_SERVICE (management socket, snoops). */
export type OfconnType = "primary" | "service";

/** OVS's "protocol" as far as a connection's flow messages go: OpenFlow 1.0 structures or NXM. */
export type FlowFormat = "openflow10" | "nxm";

/** NXT_SET_PACKET_IN_FORMAT values. */
export type PacketInFormat = "standard" | "nxt_packet_in" | "nxt_packet_in2";

/** Per async message kind (packet-in, port-status, flow-removed, role-status, table-status, requestforward), reason bits. */
export interface AsyncConfig {
  primary: number[];
  secondary: number[];
}

/** The async configuration OVS gives a connection that never set one, by negotiated version. */
export function defaultAsyncConfig(version: number): AsyncConfig {
  // packet-in: no_match|action (+ action_set|group|packet_out from 1.4);
  // port-status: add|delete|modify; flow-removed: idle|hard|delete|group_delete
  // (+ meter_delete|eviction from 1.4). Secondaries get port status only.
  return version >= 5
    ? { primary: [0x3b, 0x7, 0x3f, 0, 0, 0], secondary: [0, 0x7, 0, 0, 0, 0] }
    : { primary: [0x3, 0x7, 0xf, 0, 0, 0], secondary: [0, 0x7, 0, 0, 0, 0] };
}

/** The index of each async message kind in `AsyncConfig`'s arrays. */
export const ASYNC_PACKET_IN = 0;
export const ASYNC_PORT_STATUS = 1;
export const ASYNC_FLOW_REMOVED = 2;
export const ASYNC_ROLE_STATUS = 3;
export const ASYNC_TABLE_STATUS = 4;
export const ASYNC_REQUESTFORWARD = 5;

/** OFP_DEFAULT_MISS_SEND_LEN: what a controller gets of a table-miss packet by default. */
export const OFP_DEFAULT_MISS_SEND_LEN = 128;

/**
 * The messages of a streamed reply, one per call (null: no more). An
 * object with a method, not a closure per reply, so that the optimized
 * write loop keeps calling the same method from one reply to the next.
 */
export interface MessageSource {
  next(): Uint8Array | null;
}

/** How much of a streamed reply goes out at once, and then per event-loop turn (`Ofconn.writeMessages`). */
const STREAM_SYNC_BYTES = 256 * 1024;
const STREAM_SLICE_BYTES = 128 * 1024;

/** How long OVS waits for the rest of a multipart request. */
const MULTIPART_TIMEOUT_MS = 1000;

const OFPT_ECHO_REQUEST = 2;
const OFPT10_STATS_REQUEST = 16;
const OFPT11_MULTIPART_REQUEST = 18;
const OFPT_ECHO_REPLY = 3;

/** Messages of another version that OVS still takes (header types: error, echo request and reply). */
const ANY_VERSION_TYPES = new Set([1, 2, 3]);

/** Messages only a switch sends: a switch receiving one answers OFPBRC_BAD_TYPE. */
const SWITCH_TO_CONTROLLER = new Set([
  "OFPT_ERROR", "OFPT_PORT_STATUS", "OFPT_FLOW_REMOVED", "NXT_FLOW_REMOVED", "OFPT_ROLE_STATUS", "OFPT_TABLE_STATUS",
  "OFPT_PACKET_IN", "NXT_PACKET_IN", "NXT_PACKET_IN2", "OFPT_REQUESTFORWARD", "ONFT_REQUESTFORWARD", "ONFT_ROLE_STATUS",
  "NXT_FLOW_MONITOR_PAUSED", "NXT_FLOW_MONITOR_RESUMED", "ONFT_FLOW_MONITOR_PAUSED", "ONFT_FLOW_MONITOR_RESUMED",
]);

/** Whether a switch takes messages of `type` at all (echo replies it takes, and ignores). */
export function switchTakes(type: string): boolean {
  if (type === "OFPT_ECHO_REPLY") return true;
  return !type.endsWith("_REPLY") && !SWITCH_TO_CONTROLLER.has(type);
}

/** An open bundle of one connection (OpenFlow 1.4 bundles, ONF's 1.3 extension). */
export interface OpenBundle {
  id: number;
  flags: number;
  /** The messages added (complete, with headers), in order. */
  messages: Uint8Array[];
  /** Closed by OFPBCT_CLOSE_REQUEST: only commit or discard may follow. */
  closed: boolean;
}

export interface OfconnOptions {
  type: OfconnType;
  /** Versions this side allows in the handshake. */
  allowedVersions: VersionBitmap;
  /** Name for logs and status ("unix#3", "tcp:127.0.0.1:6653"). */
  name: string;
  /** Inactivity probe interval in seconds (0: none). */
  probeInterval?: number;
  /** Whether the connection takes asynchronous messages without asking (controllers do). */
  enableAsyncMessages?: boolean;
}

/** What the owner of connections supplies. */
export interface OfconnHandler {
  /** A decoded message (never hello) arrived; `bytes` is the whole message. */
  onMessage(conn: Ofconn, msg: OfpMessage, bytes: Uint8Array): void;
  /**
   * A message the codec could not decode (`error` is what it would be
   * answered with); return true when handled (answered) here.
   */
  onUndecodable?(conn: Ofconn, bytes: Uint8Array, error: OfpErrorName): boolean;
  /** The handshake completed. */
  onConnected?(conn: Ofconn): void;
  /** The connection is gone (either side closed it, or an error). */
  onClose(conn: Ofconn, reason: string): void;
}

export class Ofconn {
  readonly type: OfconnType;
  readonly name: string;
  readonly allowedVersions: VersionBitmap;
  /** Negotiated version, 0 until the handshake completes. */
  version = 0;
  role: Role = "equal";
  /** Set by SET_ASYNC / NXT_SET_ASYNC_CONFIG; null = the version's default. */
  asyncConfig: AsyncConfig | null = null;
  missSendLen: number;
  flowFormat: FlowFormat = "openflow10";
  packetInFormat: PacketInFormat = "standard";
  controllerId = 0;
  /** NXT_FLOW_MOD_TABLE_ID: OpenFlow 1.0 flow_mods carry a table id in the command's high byte. */
  flowModTableId = false;
  readonly bundles = new Map<number, OpenBundle>();
  readonly enableAsyncMessages: boolean;
  /** ms timestamps. */
  readonly openedAt = Date.now();
  connectedAt = 0;
  lastReceived = Date.now();
  closed = false;

  private readonly framer = new OfpFramer();
  private probeInterval: number;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Multipart requests being put together, by xid. */
  private readonly assembling = new Map<number, { parts: Uint8Array[]; bodyOffset: number; size: number; timer: NodeJS.Timeout }>();
  private echoSent = false;
  private nextXid = 1;
  /** A long reply is being sent (`writeMessages`): input waits, and other output queues behind it. */
  private streaming = false;
  /** Output that came while streaming, sent when the stream ends. */
  private held: Uint8Array[] = [];
  /**
   * While one read's messages are handled: the replies so far, written
   * together at the end (one write per read; a flow_mod and its barrier
   * come in one read). Null otherwise.
   */
  private gathered: Uint8Array[] | null = null;

  constructor(
    private readonly socket: net.Socket,
    opts: OfconnOptions,
    private readonly handler: OfconnHandler,
  ) {
    this.type = opts.type;
    this.name = opts.name;
    this.allowedVersions = opts.allowedVersions;
    this.probeInterval = opts.probeInterval ?? 0;
    this.enableAsyncMessages = opts.enableAsyncMessages ?? opts.type === "primary";
    this.missSendLen = opts.type === "primary" ? OFP_DEFAULT_MISS_SEND_LEN : 0;
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.close(`connection failed (${(e as NodeJS.ErrnoException).code ?? e.message})`));
    socket.on("close", () => this.close("connection closed by peer"));
    this.writeBytes(encodeMessage(makeHello(this.allowedVersions)));
    this.armProbe();
  }

  get isConnected(): boolean {
    return this.version !== 0 && !this.closed;
  }

  /** The configuration that decides which async messages this connection gets. */
  effectiveAsync(): AsyncConfig {
    return this.asyncConfig ?? defaultAsyncConfig(this.version || 1);
  }

  /** Whether an async message of `kind` with reason bit `reason` goes to this connection (ofconn_receives_async_msg). */
  receivesAsync(kind: number, reason: number): boolean {
    if (!this.isConnected) return false;
    // Service connections (ovs-ofctl) get async messages only once they ask
    // for them with a nonzero miss_send_len (ovs-ofctl monitor does); a
    // controller with enable_async_messages=false only once it sets an
    // async configuration.
    if (this.type === "service" && this.missSendLen === 0) return false;
    if (this.type === "primary" && !this.enableAsyncMessages && this.asyncConfig === null) return false;
    const cfg = this.effectiveAsync();
    const bits = this.role === "secondary" ? cfg.secondary : cfg.primary;
    return ((bits[kind] ?? 0) & (1 << reason)) !== 0;
  }

  /**
   * Whether a packet-in with OVS's `reason` — the internal explicit and
   * implicit table-miss reasons included — goes to this connection. The
   * reason is tested as this connection's version says it on the wire
   * (OpenFlow 1.4's refinements of "action" are "action" before 1.4), as
   * OVS's default configuration enables them in every version; it leaves
   * out implicit misses (no table-miss flow) from OpenFlow 1.3 on, where a
   * table miss without a flow drops.
   */
  receivesPacketIn(reason: number): boolean {
    const version = this.version || 1;
    if (reason === OFPR_IMPLICIT_MISS && this.asyncConfig === null && version >= 4) return false;
    return this.receivesAsync(ASYNC_PACKET_IN, packetInReasonForVersion(reason, version));
  }

  /** A fresh xid for messages the switch starts (echo requests, async messages use 0). */
  allocXid(): number {
    const x = this.nextXid;
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return x;
  }

  setProbeInterval(seconds: number): void {
    this.probeInterval = seconds;
    this.armProbe();
  }

  /** Encodes and sends a message; a message too big or absent in this version is logged and dropped. */
  send(msg: OfpMessage): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(msg);
    } catch (e) {
      log.warn(`${this.name}: cannot send ${msg.type} (${(e as Error).message})`);
      return;
    }
    this.writeBytes(bytes);
  }

  /** Sends encoded bytes (one or more whole messages). */
  writeBytes(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.streaming) this.held.push(bytes);
    else this.output(bytes);
  }

  /** Writes now, or adds to the replies of the read being handled. */
  private output(bytes: Uint8Array): void {
    if (this.gathered !== null) this.gathered.push(bytes);
    else this.socket.write(bytes);
  }

  /** Writes the gathered replies, in one write. */
  private flushGathered(): void {
    const g = this.gathered;
    this.gathered = null;
    if (g === null || g.length === 0) return;
    this.socket.write(g.length === 1 ? g[0]! : Buffer.concat(g));
  }

  /**
   * Sends the messages `source.next()` makes (null: no more), the first
   * STREAM_SYNC_BYTES of them at once and the rest a slice per event-loop
   * turn, so that the peer reads and prints the first flows of a large
   * dump while later ones are still being encoded, and the switch goes on
   * forwarding meanwhile. Until the last is sent, this connection's input
   * waits (a reply to a later request must not overtake the stream) and
   * anything else sent to it queues behind the stream, in order.
   */
  writeMessages(source: MessageSource, release: ((m: Uint8Array) => void) | null = null): void {
    if (this.closed) return;
    if (this.streaming) {
      for (let m = source.next(); m !== null; m = source.next()) this.held.push(m);
      return;
    }
    if (this.writeSlice(source, STREAM_SYNC_BYTES, release)) return;
    this.streaming = true;
    this.socket.pause();
    const step = (): void => {
      if (this.closed) return;
      if (!this.writeSlice(source, STREAM_SLICE_BYTES, release)) {
        // Let the socket take what is queued before encoding more.
        if (this.socket.writableLength > STREAM_SLICE_BYTES) this.socket.once("drain", step);
        else setImmediate(step);
        return;
      }
      this.streaming = false;
      const held = this.held;
      this.held = [];
      for (const b of held) this.socket.write(b);
      this.socket.resume();
      this.onData(null);
    };
    setImmediate(step);
  }

  /**
   * Writes messages from `source` until it ends (true) or `budget` bytes are
   * written (false); each message goes to `release` once the socket is
   * done with it.
   */
  private writeSlice(source: MessageSource, budget: number, release: ((m: Uint8Array) => void) | null): boolean {
    let sent = 0;
    while (sent < budget) {
      const m = source.next();
      if (m === null) return true;
      if (release === null) this.output(m);
      else {
        // Straight to the socket (replies gathered so far go first), so that its callback can hand `m` back.
        if (this.gathered !== null) {
          this.flushGathered();
          this.gathered = [];
        }
        this.socket.write(m, () => release(m));
      }
      sent += m.length;
    }
    return false;
  }

  /** Sends the error OVS answers `request` with: it echoes the whole request, not only 64 bytes. */
  sendError(error: OfpErrorName, request: Uint8Array): void {
    const e = errorReply(error, request);
    const len = request.length >= 4 ? Math.min((request[2]! << 8) | request[3]!, request.length) : request.length;
    if (e.type === "OFPT_ERROR") e.body.data = request.slice(0, Math.min(len, 0xffff - 12));
    this.send(e);
  }

  close(reason = "closed"): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    for (const a of this.assembling.values()) clearTimeout(a.timer);
    this.assembling.clear();
    // Replies to the requests before the one that closed the connection go first.
    this.flushGathered();
    this.socket.end();
    this.socket.destroy();
    this.handler.onClose(this, reason);
  }

  private armProbe(): void {
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (this.probeInterval <= 0 || this.closed) return;
    const ms = this.probeInterval * 1000;
    const due = this.lastReceived + ms;
    this.probeTimer = setTimeout(() => this.onProbeTimer(), Math.max(10, due - Date.now()));
    this.probeTimer.unref();
  }

  private onProbeTimer(): void {
    this.probeTimer = null;
    if (this.closed) return;
    const idle = Date.now() - this.lastReceived;
    const ms = this.probeInterval * 1000;
    if (idle < ms) return this.armProbe();
    if (!this.echoSent) {
      if (this.version !== 0) {
        this.send({ type: "OFPT_ECHO_REQUEST", version: this.version, xid: this.allocXid(), body: { data: new Uint8Array(0) } });
      }
      this.echoSent = true;
      log.dbg(`${this.name}: idle ${Math.floor(idle / 1000)} seconds, sending inactivity probe`);
      this.probeTimer = setTimeout(() => this.onProbeTimer(), ms);
      this.probeTimer.unref();
      return;
    }
    log.err(`${this.name}: no response to inactivity probe after ${(idle / 1000).toFixed(0)} seconds, disconnecting`);
    this.close("inactivity probe timeout");
  }

  /** Input arrived (or, null, a stream ended and what came meanwhile can be handled). */
  private onData(chunk: Buffer | null): void {
    if (this.closed) return;
    if (chunk !== null) {
      this.lastReceived = Date.now();
      if (this.echoSent) {
        this.echoSent = false;
        this.armProbe();
      }
      this.framer.push(chunk);
    }
    if (this.streaming) return;
    // The replies to one read go out in one write (ovs-ofctl pipelines a flow_mod and a barrier per flow).
    this.gathered = [];
    try {
      for (;;) {
        const m = this.framer.next();
        if (m === null) break;
        this.onFrame(m);
        if (this.closed || this.streaming) return;
      }
    } finally {
      this.flushGathered();
      if (chunk !== null) pollAfterInput();
    }
    if (this.framer.error !== null) {
      log.warn(`${this.name}: ${this.framer.error}`);
      this.close(this.framer.error);
    }
  }

  /**
   * Adds a multipart request part: null while parts flagged "more" are
   * still coming, else the whole request (the parts' bodies after the
   * first part's headers, "more" cleared). A request left incomplete for a
   * second is answered OFPBRC_MULTIPART_REQUEST_TIMEOUT; one that outgrows
   * a message, OFPBRC_MULTIPART_BUFFER_OVERFLOW.
   */
  private assemble(part: Uint8Array, bodyOffset: number, more: boolean): Uint8Array | null {
    const xid = new DataView(part.buffer, part.byteOffset).getUint32(4);
    const held = this.assembling.get(xid);
    if (held === undefined && !more) return part;
    if (held === undefined) {
      const timer = setTimeout(() => {
        this.assembling.delete(xid);
        this.sendError("OFPBRC_MULTIPART_REQUEST_TIMEOUT", part);
      }, MULTIPART_TIMEOUT_MS);
      timer.unref();
      this.assembling.set(xid, { parts: [part], bodyOffset, size: part.length, timer });
      return null;
    }
    held.parts.push(part.subarray(bodyOffset));
    held.size += part.length - bodyOffset;
    if (held.size > 0xffff) {
      clearTimeout(held.timer);
      this.assembling.delete(xid);
      this.sendError("OFPBRC_MULTIPART_BUFFER_OVERFLOW", held.parts[0]!);
      return null;
    }
    if (more) return null;
    clearTimeout(held.timer);
    this.assembling.delete(xid);
    const whole = new Uint8Array(held.size);
    let o = 0;
    for (const p of held.parts) {
      whole.set(p, o);
      o += p.length;
    }
    whole[2] = held.size >> 8;
    whole[3] = held.size & 0xff;
    // The multipart flags are bytes 10-11 in every version.
    whole[11]! &= ~OFPSF_REPLY_MORE;
    return whole;
  }

  private onFrame(m: Uint8Array): void {
    if (this.version === 0) {
      const h = receiveHello(this.allowedVersions, m);
      if (!h.ok) {
        log.warn(`${this.name}: ${h.log}`);
        if (h.reply !== null) this.writeBytes(h.reply);
        this.close(h.log);
        return;
      }
      this.version = h.version;
      this.connectedAt = Date.now();
      const text = `${this.name}: connected (OpenFlow version 0x${h.version.toString(16).padStart(2, "0")})`;
      if (this.type === "service") log.dbg(text);
      else log.info(text);
      this.handler.onConnected?.(this);
      return;
    }
    const type = m[1]!;
    if (type === OFPT_ECHO_REQUEST) {
      // Answered below OpenFlow proper, as OVS's rconn does: in the
      // request's own version, whatever it is, with its xid and data.
      const reply = m.slice();
      reply[1] = OFPT_ECHO_REPLY;
      this.writeBytes(reply);
      return;
    }
    if (type === 0) {
      // A second hello is a request the switch does not take.
      this.sendError("OFPBRC_BAD_TYPE", m);
      return;
    }
    if (m[0] !== this.version && !ANY_VERSION_TYPES.has(type)) {
      log.warn(`${this.name}: received OpenFlow version 0x${m[0]!.toString(16).padStart(2, "0")} != expected ${this.version.toString(16).padStart(2, "0")}`);
      this.sendError("OFPBRC_BAD_VERSION", m);
      return;
    }
    // Multipart requests in several parts are put together first, as OVS's
    // assembler does; a part's body is not looked at until then. Only
    // multipart requests are looked up twice (flow_mods, the bulk of a
    // load, go straight to decoding).
    if (type === (m[0] === 1 ? OFPT10_STATS_REQUEST : OFPT11_MULTIPART_REQUEST)) {
      const head = lookupRaw(m, m.length);
      if (!isDecodeError(head) && (head.raw.wire.kind === "stats" || head.raw.wire.kind === "vstats") && !head.raw.wire.reply && lengthOk(head.raw, head.bodyOffset, m.length)) {
        const whole = this.assemble(m, head.bodyOffset, (head.statsFlags & OFPSF_REPLY_MORE) !== 0);
        if (whole === null) return;
        m = whole;
      }
    }
    const r: DecodeResult = decodeMessage(m);
    if (!r.ok) {
      // As OVS: a message the switch never takes (a reply, an async
      // message) is refused by its type before its body is looked at.
      if (r.raw !== undefined && !switchTakes(r.raw.type)) {
        this.sendError("OFPBRC_BAD_TYPE", m);
        return;
      }
      if (this.handler.onUndecodable?.(this, m, r.error) !== true) this.sendError(r.error, m);
      return;
    }
    this.handler.onMessage(this, r.msg, m);
  }
}
