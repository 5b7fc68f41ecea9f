/**
 * The connection manager of one bridge (OVS's connmgr): every OpenFlow
 * connection the switch has, where they come from, and who gets which
 * asynchronous message.
 *
 * ## Where connections come from
 * - The management socket `$OVS_RUNDIR/<bridge>.mgmt` (`setManagementSocket`):
 *   a `punix:` listener whose connections are *service* connections
 *   (ovs-ofctl): no inactivity probe, miss_send_len 0, no async messages
 *   unless they ask.
 * - Controllers (`setControllers`, the bridge's Controller rows): active
 *   targets `tcp:IP[:PORT]` / `unix:PATH` are dialled and redialled with
 *   exponential backoff (1 s doubling up to max_backoff, 8 s by default,
 *   reset by a successful handshake); passive targets `ptcp:PORT[:IP]` /
 *   `punix:PATH` listen and every accepted connection is a controller.
 *   Controller connections are *primary*: they get inactivity probes
 *   (5 s by default), async messages and roles.
 *
 * ## Roles (OpenFlow 1.2+ and NXT_ROLE_REQUEST)
 * equal (the default), primary, secondary. A connection becoming primary
 * makes every other primary a secondary (and tells it with a role status
 * when it wants one). Generation ids are checked against the last one
 * seen (`checkGenerationId`): an older one is OFPRRFC_STALE.
 *
 * ## Async messages
 * `sendAsync` offers a message to every connection that takes that kind
 * and reason given its role and async configuration (the version's default
 * unless set). Packet-ins are rate limited per controller by a token bucket
 * (`controller_rate_limit` packets per second, `controller_burst_limit`
 * burst), as OVS's pinsched; the packet-ins themselves are produced by
 * the datapath translation, which calls `sendPacketIn`.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { parseActive, parsePassive, connectActive, type ActiveAddress, type PassiveAddress } from "../jsonrpc/address.js";
import { connectSsl, createSslServer, loadSsl, type SslFiles } from "../jsonrpc/ssl.js";
import type { OfpMessage } from "../openflow/ofp-msgs.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { PacketInBody } from "../openflow/ofp-packet.js";
import { bitmapOf, type VersionBitmap } from "../openflow/ofp-version.js";
import { vlogModule } from "../util/vlog.js";
import { ASYNC_ROLE_STATUS, Ofconn, type OfconnHandler, type OfconnType } from "./ofconn.js";

const log = vlogModule("connmgr");

/** Every version OVS 3.1 speaks (OpenFlow 1.0 to 1.5): the default of Bridge.protocols. */
export const ALL_OFP_VERSIONS: VersionBitmap = bitmapOf([1, 2, 3, 4, 5, 6]);

/** OVS's default port for `tcp:`/`ptcp:` controllers without one. */
export const OFP_PORT = 6653;

/** Bridge.fail_mode. */
export type FailMode = "standalone" | "secure";

/** One controller, as a Controller row gives it. */
export interface ControllerConfig {
  target: string;
  /** Inactivity probe interval in seconds (Controller.inactivity_probe / 1000); 5 by default, 0 disables. */
  probeInterval?: number;
  /** Maximum reconnection backoff in seconds (Controller.max_backoff / 1000); 8 by default. */
  maxBackoff?: number;
  /** Packet-ins per second (controller_rate_limit), null = unlimited. */
  rateLimit?: number | null;
  /** Burst (controller_burst_limit), default rateLimit / 4 (at least 1). */
  burstLimit?: number | null;
  /** Connection type: controllers are primary. */
  type?: OfconnType;
  /** Whether async messages are sent without being asked (enable_async_messages). */
  enableAsyncMessages?: boolean;
}

/** The `Controller` row status OVS writes (is_connected, role, status map). */
export interface ControllerStatus {
  target: string;
  isConnected: boolean;
  /** "other" (equal), "master", "slave": the words of the Controller.role column. */
  role: "other" | "master" | "slave";
  /** rconn state: VOID, BACKOFF, CONNECTING, ACTIVE, IDLE; "LISTENING" for passive targets. */
  state: string;
  lastError: string | null;
  secSinceConnect: number | null;
  secSinceDisconnect: number | null;
  /** For passive targets: number of open connections. */
  nConnections: number;
}

/** What connmgr needs from the switch it serves. */
export interface ConnmgrOwner {
  handleMessage(conn: Ofconn, msg: OfpMessage, bytes: Uint8Array): void;
  /** A message the codec cannot decode: true when the switch answered it itself. */
  handleUndecodable?(conn: Ofconn, bytes: Uint8Array, error: OfpErrorName): boolean;
  /** A connection went away: drop its bundles, monitors ... */
  connectionClosed?(conn: Ofconn): void;
  /** A controller handshake completed. */
  connectionUp?(conn: Ofconn): void;
  /** Fail-open starts (true) or ends (false): the switch adds or removes its hidden NORMAL flow. */
  failOpen?(on: boolean): void;
}

/** How often the connection manager checks whether to fail open. */
const FAIL_OPEN_CHECK_MS = 1000;

/** A token bucket limiting packet-ins to one controller (OVS pinsched). */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(readonly rate: number, readonly burst: number) {
    this.tokens = burst;
  }
  /** Takes one token if there is one. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** A controller target and its connections. */
class Remote {
  readonly cfg: ControllerConfig;
  readonly conns = new Set<Ofconn>();
  readonly active: ActiveAddress | null;
  readonly passive: PassiveAddress | null;
  server: net.Server | null = null;
  bucket: TokenBucket | null = null;
  /** Packet-ins dropped by the rate limit. */
  dropped = 0;
  state = "VOID";
  lastError: string | null = null;
  lastConnected: number | null = null;
  lastDisconnected: number | null = null;
  backoff = 0;
  /** When the controller was configured (ms). */
  readonly created = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private socket: net.Socket | null = null;
  private stopped = false;

  constructor(
    readonly mgr: Connmgr,
    cfg: ControllerConfig,
    readonly isMgmt = false,
  ) {
    this.cfg = cfg;
    this.active = parseActive(cfg.target, OFP_PORT);
    this.passive = this.active ? null : parsePassive(cfg.target, OFP_PORT);
    const rate = cfg.rateLimit ?? null;
    if (rate !== null && rate > 0) this.bucket = new TokenBucket(rate, cfg.burstLimit ?? Math.max(1, Math.floor(rate / 4)));
  }

  get type(): OfconnType {
    return this.cfg.type ?? (this.isMgmt ? "service" : "primary");
  }

  start(): void {
    if (this.active) this.connect();
    else if (this.passive) this.listen();
    else {
      this.lastError = "unknown target type";
      log.warn(`${this.cfg.target}: unsupported controller target`);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.destroy();
    for (const c of [...this.conns]) c.close("controller removed");
    if (this.server) {
      this.server.close();
      if (this.passive?.kind === "punix") {
        try {
          fs.unlinkSync(this.passive.path);
        } catch {
          /* already gone */
        }
      }
    }
    this.server = null;
  }

  private connect(): void {
    if (this.stopped || !this.active) return;
    let sock: net.Socket;
    if (this.active.kind === "ssl") {
      const ssl = loadSsl(this.mgr.ssl);
      if (typeof ssl === "string") {
        this.lastError = ssl;
        log.err(`${this.cfg.target}: ${ssl}`);
        this.scheduleReconnect();
        return;
      }
      log.info(`${this.cfg.target}: connecting...`);
      sock = connectSsl(this.active.host, this.active.port, ssl);
    } else {
      log.info(`${this.cfg.target}: connecting...`);
      sock = connectActive(this.active);
    }
    this.state = "CONNECTING";
    this.socket = sock;
    let opened = false;
    sock.once(this.active.kind === "ssl" ? "secureConnect" : "connect", () => {
      opened = true;
      this.attach(sock, this.cfg.target);
    });
    sock.once("error", (e) => {
      if (opened) return;
      this.lastError = (e as NodeJS.ErrnoException).code ?? e.message;
      log.info(`${this.cfg.target}: connection failed (${describeError(e)})`);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const max = (this.cfg.maxBackoff ?? 8) * 1000;
    this.backoff = this.backoff === 0 ? 1000 : Math.min(max, this.backoff * 2);
    this.state = "BACKOFF";
    log.info(`${this.cfg.target}: waiting ${this.backoff / 1000} seconds before reconnect`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, this.backoff);
    this.timer.unref();
  }

  private listen(): void {
    const p = this.passive!;
    const onAccept = (sock: net.Socket): void => {
      const peer = p.kind === "punix" ? `unix#${this.mgr.nextConnId()}` : `${p.kind.slice(1)}:${sock.remoteAddress}:${sock.remotePort}`;
      this.attach(sock, peer);
    };
    let server: net.Server;
    if (p.kind === "pssl") {
      const ssl = loadSsl(this.mgr.ssl);
      if (typeof ssl === "string") {
        this.lastError = ssl;
        log.err(`${this.cfg.target}: ${ssl}`);
        return;
      }
      const tlsServer = createSslServer(ssl, onAccept);
      // A client without an acceptable certificate is refused by the handshake; log it as OVS logs SSL errors.
      tlsServer.on("tlsClientError", (e) => log.warn(`${this.cfg.target}: SSL error: ${e.message}`));
      server = tlsServer;
    } else {
      server = net.createServer(onAccept);
    }
    this.server = server;
    server.on("error", (e) => {
      this.lastError = describeError(e);
      log.err(`${this.cfg.target}: listen failed (${describeError(e)})`);
    });
    if (p.kind === "punix") {
      try {
        fs.unlinkSync(p.path);
      } catch {
        /* not there */
      }
      server.listen(p.path);
    } else {
      server.listen(p.port, p.host);
    }
    this.state = "LISTENING";
  }

  /** Resolves once a passive target listens (for callers that need the port, e.g. ptcp:0). */
  listening(): Promise<void> {
    const s = this.server;
    if (s === null || s.listening) return Promise.resolve();
    return new Promise((resolve) => {
      s.once("listening", () => resolve());
      s.once("error", () => resolve());
    });
  }

  private attach(sock: net.Socket, name: string): void {
    const handler: OfconnHandler = {
      onMessage: (c, msg, bytes) => {
        if (msg.type === "NXT_RESUME" && this.mgr.resume !== null && !(c.type === "primary" && c.role === "secondary")) this.mgr.handleResume(c, msg.body, bytes);
        else this.mgr.owner.handleMessage(c, msg, bytes);
      },
      onUndecodable: (c, bytes, error) => this.mgr.owner.handleUndecodable?.(c, bytes, error) ?? false,
      onConnected: (c) => {
        if (this.active) {
          this.state = "ACTIVE";
          this.backoff = 0;
        }
        this.lastConnected = Date.now();
        this.mgr.owner.connectionUp?.(c);
      },
      onClose: (c, reason) => {
        this.conns.delete(c);
        this.mgr.forget(c);
        if (c.isConnected || c.connectedAt !== 0) this.lastDisconnected = Date.now();
        if (!this.isMgmt) log.info(`${name}: connection dropped (${reason})`);
        this.mgr.owner.connectionClosed?.(c);
        if (this.active && !this.stopped) {
          this.lastError = reason;
          this.scheduleReconnect();
        }
      },
    };
    const conn = new Ofconn(sock, {
      type: this.type,
      allowedVersions: this.mgr.allowedVersions,
      name,
      probeInterval: this.isMgmt ? 0 : (this.cfg.probeInterval ?? 5),
      enableAsyncMessages: this.cfg.enableAsyncMessages ?? this.type === "primary",
    }, handler);
    this.conns.add(conn);
    this.mgr.remember(conn, this);
  }

  /** Whether a connection to this controller is up. */
  isConnected(): boolean {
    for (const c of this.conns) if (c.isConnected) return true;
    return false;
  }

  /** How long (ms) the controller has been unreachable: since it disconnected, or since it was configured (0 while connected). */
  failureDuration(now: number): number {
    if (this.isConnected()) return 0;
    return now - (this.lastDisconnected ?? this.created);
  }

  status(): ControllerStatus {
    const conn = [...this.conns].find((c) => c.isConnected) ?? null;
    const now = Date.now();
    const role = conn?.role === "primary" ? "master" : conn?.role === "secondary" ? "slave" : "other";
    return {
      target: this.cfg.target,
      isConnected: conn !== null,
      role,
      state: this.active ? (conn ? "ACTIVE" : this.state) : this.state,
      lastError: this.lastError,
      secSinceConnect: this.lastConnected === null ? null : Math.floor((now - this.lastConnected) / 1000),
      secSinceDisconnect: this.lastDisconnected === null ? null : Math.floor((now - this.lastDisconnected) / 1000),
      nConnections: this.conns.size,
    };
  }
}

function describeError(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ECONNREFUSED":
      return "Connection refused";
    case "ENOENT":
      return "No such file or directory";
    case "EADDRINUSE":
      return "Address already in use";
    case "EACCES":
      return "Permission denied";
    default:
      return code ?? e.message;
  }
}

export class Connmgr {
  /** Versions every connection may negotiate (Bridge.protocols). */
  allowedVersions: VersionBitmap = ALL_OFP_VERSIONS;
  failMode: FailMode = "standalone";
  private mgmt: Remote | null = null;
  private readonly controllers = new Map<string, Remote>();
  private readonly all = new Map<Ofconn, Remote>();
  /** Key, certificate and CA for `ssl:` / `pssl:` controllers (the SSL table). */
  ssl: SslFiles | null = null;
  /** OVS's master election id: the highest generation id seen, once one was. */
  private generationId: bigint | null = null;
  private connIds = 0;

  /** Whether the switch is in fail-open mode now. */
  failOpenActive = false;
  private failOpenTimer: NodeJS.Timeout | null = null;

  /**
   * NXT_RESUME (set by ofproto-dpif, which can resume paused pipelines):
   * returns the OpenFlow error to answer with, or null. While null, the
   * switch answers NXT_RESUME itself (every continuation is stale).
   */
  resume: ((conn: Ofconn, body: PacketInBody) => OfpErrorName | null) | null = null;

  constructor(readonly owner: ConnmgrOwner) {}

  /** Runs the resume hook for one NXT_RESUME; errors go back on the connection. */
  handleResume(conn: Ofconn, body: PacketInBody, bytes: Uint8Array): void {
    let e: OfpErrorName | null;
    try {
      e = this.resume!(conn, body);
    } catch (err) {
      log.err(`NXT_RESUME failed: ${(err as Error).stack ?? String(err)}`);
      e = "OFPBRC_EPERM";
    }
    if (e !== null) conn.sendError(e, bytes);
  }

  /**
   * Fail-open, as OVS's: a standalone bridge whose active controllers have
   * all been unreachable for three of their longest inactivity-probe
   * intervals (time to probe, to wait for the answer, to reconnect) acts as
   * a learning switch until one of them connects again.
   */
  private checkFailOpen(now = Date.now()): void {
    const active = [...this.controllers.values()].filter((r) => r.active !== null);
    let disconnected = Infinity;
    let maxProbe = 0;
    for (const r of active) {
      disconnected = Math.min(disconnected, r.failureDuration(now));
      maxProbe = Math.max(maxProbe, r.cfg.probeInterval ?? 5);
    }
    const connected = active.some((r) => r.isConnected());
    if (this.failOpenActive && (connected || this.failMode !== "standalone" || active.length === 0)) {
      this.failOpenActive = false;
      log.warn("No longer in fail-open mode");
      this.owner.failOpen?.(false);
    } else if (!this.failOpenActive && this.failMode === "standalone" && active.length > 0 && !connected) {
      const secs = Math.floor(disconnected / 1000);
      if (secs >= maxProbe * 3) {
        this.failOpenActive = true;
        log.warn(`Could not connect to controller (or switch failed controller's post-connection admission control policy) for ${secs} seconds, failing open`);
        this.owner.failOpen?.(true);
      }
    }
    const want = this.failOpenActive || (this.failMode === "standalone" && active.length > 0);
    if (want && this.failOpenTimer === null) {
      this.failOpenTimer = setInterval(() => this.checkFailOpen(), FAIL_OPEN_CHECK_MS);
      this.failOpenTimer.unref();
    } else if (!want && this.failOpenTimer !== null) {
      clearInterval(this.failOpenTimer);
      this.failOpenTimer = null;
    }
  }

  /** @internal */
  nextConnId(): number {
    return this.connIds++;
  }
  /** @internal */
  remember(c: Ofconn, r: Remote): void {
    this.all.set(c, r);
  }
  /** @internal */
  forget(c: Ofconn): void {
    this.all.delete(c);
  }

  /** Listens on `punix:path` for service connections (the bridge's .mgmt socket); null closes it. */
  async setManagementSocket(path: string | null): Promise<void> {
    if (this.mgmt && this.mgmt.cfg.target === `punix:${path}`) return;
    this.mgmt?.stop();
    this.mgmt = null;
    if (path === null) return;
    this.mgmt = new Remote(this, { target: `punix:${path}`, type: "service" }, true);
    this.mgmt.start();
    await this.mgmt.listening();
  }

  /**
   * Sets the SSL files (the Open_vSwitch row's SSL record; null = none).
   * `ssl:` and `pssl:` controllers restart when they change.
   */
  async setSsl(files: SslFiles | null): Promise<void> {
    if (JSON.stringify(files) === JSON.stringify(this.ssl)) return;
    this.ssl = files;
    const cfgs = [...this.controllers.values()].map((r) => r.cfg);
    for (const [target, r] of this.controllers) {
      if (target.startsWith("ssl:") || target.startsWith("pssl:")) {
        r.stop();
        this.controllers.delete(target);
      }
    }
    await this.setControllers(cfgs);
  }

  /** Reconciles the controllers with `cfgs` (new ones start, removed ones stop, unchanged ones stay). */
  async setControllers(cfgs: readonly ControllerConfig[]): Promise<void> {
    const want = new Map(cfgs.map((c) => [c.target, c]));
    for (const [target, r] of this.controllers) {
      const c = want.get(target);
      if (!c || JSON.stringify(c) !== JSON.stringify(r.cfg)) {
        r.stop();
        this.controllers.delete(target);
      }
    }
    const started: Remote[] = [];
    for (const c of cfgs) {
      if (this.controllers.has(c.target)) continue;
      if (!parseActive(c.target, OFP_PORT) && !parsePassive(c.target, OFP_PORT)) {
        log.warn(`${c.target}: bad controller target`);
        continue;
      }
      const r = new Remote(this, c);
      this.controllers.set(c.target, r);
      r.start();
      started.push(r);
    }
    await Promise.all(started.map((r) => r.listening()));
    this.checkFailOpen();
  }

  /** Sets the fail mode (Bridge.fail_mode); leaving standalone ends fail-open. */
  setFailMode(mode: FailMode): void {
    this.failMode = mode;
    this.checkFailOpen();
  }

  /** The address a passive controller target listens on (for `ptcp:0`). */
  listenAddress(target: string): net.AddressInfo | string | null {
    const r = target === this.mgmt?.cfg.target ? this.mgmt : this.controllers.get(target);
    return r?.server?.address() ?? null;
  }

  /** Whether any controller is configured (OVS: connmgr_has_controllers). */
  hasControllers(): boolean {
    return this.controllers.size > 0;
  }

  /** Whether a controller connection is up (decides fail-open in standalone mode). */
  isAnyControllerConnected(): boolean {
    for (const r of this.controllers.values()) for (const c of r.conns) if (c.isConnected) return true;
    return false;
  }

  /** Every open connection. */
  connections(): Ofconn[] {
    return [...this.all.keys()];
  }

  /** The Controller-row status of every configured controller. */
  controllerStatus(): ControllerStatus[] {
    return [...this.controllers.values()].map((r) => r.status());
  }

  /** OVS's ofconn_set_master_election_id: false when `id` is older than the last one seen. */
  checkGenerationId(id: bigint): boolean {
    if (this.generationId !== null && BigInt.asIntN(64, id - this.generationId) < 0n) return false;
    this.generationId = id;
    return true;
  }

  /** The last generation id seen, null when none was. */
  get lastGenerationId(): bigint | null {
    return this.generationId;
  }

  /**
   * Gives `conn` a role. Becoming primary demotes every other primary to
   * secondary; those that take role status (OpenFlow 1.4+) are told.
   */
  setRole(conn: Ofconn, role: "equal" | "primary" | "secondary"): void {
    if (role === "primary") {
      for (const other of this.all.keys()) {
        if (other === conn || other.role !== "primary") continue;
        other.role = "secondary";
        if (other.version >= 5 && other.receivesAsync(ASYNC_ROLE_STATUS, 0)) {
          other.send({
            type: "OFPT_ROLE_STATUS",
            version: other.version,
            xid: 0,
            body: { role: "secondary", reason: 0, generationId: this.generationId ?? 0xffffffffffffffffn },
          });
        }
      }
    }
    conn.role = role;
  }

  /**
   * Offers an asynchronous message to every connection that takes `kind`
   * with `reason`; `build` makes the message for a connection (its
   * version and formats), or returns null to skip it.
   */
  sendAsync(kind: number, reason: number, build: (conn: Ofconn) => OfpMessage | null, except: Ofconn | null = null): number {
    let n = 0;
    for (const conn of this.all.keys()) {
      if (conn === except || !conn.receivesAsync(kind, reason)) continue;
      const m = build(conn);
      if (m === null) continue;
      conn.send(m);
      n++;
    }
    return n;
  }

  /**
   * Hook for the datapath translation: offers a packet-in (built per
   * connection by `build`) to the controllers that take it, through each
   * controller's rate limiter. Returns how many connections got it.
   */
  sendPacketIn(reason: number, controllerId: number, build: (conn: Ofconn) => OfpMessage | null): number {
    let n = 0;
    for (const [conn, remote] of this.all) {
      if (conn.controllerId !== controllerId || !conn.receivesPacketIn(reason)) continue;
      if (remote.bucket !== null && !remote.bucket.take()) {
        remote.dropped++;
        continue;
      }
      const m = build(conn);
      if (m === null) continue;
      conn.send(m);
      n++;
    }
    return n;
  }

  /** Closes every connection and listener. */
  close(): void {
    if (this.failOpenTimer !== null) clearInterval(this.failOpenTimer);
    this.failOpenTimer = null;
    this.mgmt?.stop();
    this.mgmt = null;
    for (const r of this.controllers.values()) r.stop();
    this.controllers.clear();
  }
}
