/**
 * The bridge layer of the vswitchd (OVS's vswitchd/bridge.c): follows the
 * `Open_vSwitch` database through an IDL and makes the running switches
 * what the database says, then writes back what it found.
 *
 * ## Reconciliation
 * On every relevant change (and after every reconnection) the whole desired
 * state is recomputed from the rows and applied as a diff, as OVS's
 * bridge_reconfigure: bridges that left `Open_vSwitch.bridges` are closed,
 * new ones are opened (`openDpifBridge(name, datapathType)`; a changed
 * datapath type reopens the bridge), and each bridge gets its ports
 * (`setBundles`, idempotent), Ethernet address and datapath ID, fail mode,
 * OpenFlow versions, controllers, management socket
 * `$OVS_RUNDIR/<bridge>.mgmt`, `Flow_Table` settings and `other_config`
 * knobs. A bridge without controllers in standalone fail mode gets the
 * priority-0 NORMAL flow; as in OVS, the flows are flushed whenever the
 * bridge gains its first controller or loses its last one, or changes
 * fail mode without controllers.
 *
 * ## Status written back
 * In one transaction after each reconfiguration, with only the columns
 * whose values differ: `Interface` ofport, error, admin_state, link_state,
 * link_resets, mac_in_use, mtu, ifindex, statistics; `Bridge` datapath_id,
 * datapath_version; `Controller` is_connected, role, status;
 * `Open_vSwitch` datapath_types, iface_types, dpdk_initialized,
 * dpdk_version and `cur_cfg = next_cfg` (what `ovs-vsctl` waits for
 * without `--no-wait`). A second-by-second pass keeps link/admin state and
 * controller state current; statistics are refreshed every
 * `other_config:stats-update-interval` ms (5000 by default), as OVS.
 * Like OVS, ovs_version, db_version and system_type/version are left to
 * the init scripts (ovs-ctl), which is why OVS's own rows show them empty.
 *
 * ## Lock
 * The IDL holds the database lock `ovs_vswitchd`, so two switch daemons on
 * one database never both configure: without the lock nothing is applied.
 *
 * Mirror rows become the bridges' port mirrors (src/ofproto/mirror.ts),
 * whose statistics are written back with the other statistics; Manager rows
 * concern the database server (it connects to managers), so there is
 * nothing for the switch to do with them.
 */
import { EventEmitter } from "node:events";
import * as path from "node:path";
import type { DatapathGlobalConfig, DpifBridgeApi, IfaceStatus, XPort } from "../ofproto/xlate-types.js";
import type { IfaceStatusExtra } from "../ofproto/ofproto-dpif.js";
import type { ControllerConfig, ControllerStatus, FailMode } from "../ofproto/connmgr.js";
import { ALL_OFP_VERSIONS } from "../ofproto/connmgr.js";
import { flowMod, OFPTT_ALL } from "../ofproto/flow-mod.js";
import { Match } from "../openflow/match.js";
import { OFPP_LOCAL } from "../openflow/ofp-codec.js";
import type { SslFiles } from "../jsonrpc/ssl.js";
import { Idl, type IdlRow } from "../ovsdb/idl.js";
import { datumEquals, newUuid, sortDatum, singleton, type Atom, type Datum } from "../ovsdb/datum.js";
import { macToString } from "../packet/bytes.js";
import { stpConfigOf, type StpPortInput } from "./stp-config.js";
import { SFL_DEFAULT_HEADER_SIZE, SFL_DEFAULT_POLLING_INTERVAL, SFL_DEFAULT_SAMPLING_RATE } from "../ofproto/sflow.js";
import { hashString } from "../ofproto/ofport-order.js";
import { mcastConfigOf } from "./mcast-config.js";
import { bfdSettingsOf } from "./bfd-config.js";
import { cfmFaultNames, cfmSettingsOf } from "../ofproto/cfm.js";
import type { CfmStatus } from "../ofproto/xlate-types.js";
import { vlogModule } from "../util/vlog.js";
import { coverageInc } from "./coverage.js";
import { inBandRemotesOf } from "./in-band-config.js";
import { KERNEL_NEXT_HOP, NO_NEXT_HOP } from "../ofproto/in-band.js";
import { bundleConfigOf, datapathTypeFor, type DummyMode } from "./port-config.js";
import {
  bridgeDpConfigOf, controllerConfigOf, failModeOf, globalConfigOf, pickBridgeMac, pickDatapathId,
  mirrorSettingsOf, protocolsBitmap, statsIntervalOf, tableConfigOf, type MacCandidate,
} from "./bridge-config.js";
import type { MirrorConfig } from "../ofproto/mirror.js";

const log = vlogModule("bridge");
/** OVS logs the mirror limit from ofproto-dpif-mirror. */
const mirrorLog = vlogModule("ofproto_dpif_mirror");

/** Opens one ofproto-dpif bridge (src/ofproto/ofproto-dpif.ts's openDpifBridge, or a fake in tests). */
export type OpenDpifBridge = (name: string, datapathType: string) => DpifBridgeApi | Promise<DpifBridgeApi>;

/** The database lock vswitchd holds, as OVS's. */
export const VSWITCHD_LOCK = "ovs_vswitchd";

/** Datapath types the switch offers (Open_vSwitch.datapath_types), as OVS 3.1 with dummies enabled lists them. */
export function datapathTypes(dummy: DummyMode): string[] {
  return dummy === "none" ? ["netdev", "system"] : ["dummy", "netdev", "system"];
}

/** Interface types (Open_vSwitch.iface_types), as OVS 3.1 lists them. */
export function ifaceTypes(dummy: DummyMode): string[] {
  const all = [
    "afxdp", "afxdp-nonpmd", "bareudp", "dummy", "dummy-internal", "dummy-pmd", "erspan", "geneve", "gre", "gtpu",
    "internal", "ip6erspan", "ip6gre", "lisp", "patch", "stt", "system", "tap", "vxlan",
  ];
  return dummy === "none" ? all.filter((t) => !t.startsWith("dummy")) : all;
}

/** Columns only the switch writes: changes to them alone do not call for reconfiguration. */
const STATUS_COLUMNS: Readonly<Record<string, ReadonlySet<string>>> = {
  Open_vSwitch: new Set(["cur_cfg", "datapath_types", "iface_types", "dpdk_initialized", "dpdk_version", "statistics",
    "ovs_version", "db_version", "system_type", "system_version"]),
  Bridge: new Set(["datapath_id", "datapath_version", "status", "rstp_status"]),
  Port: new Set(["statistics", "status", "rstp_status", "rstp_statistics", "bond_active_slave", "lacp"]),
  Interface: new Set(["ofport", "error", "admin_state", "link_state", "link_resets", "link_speed", "duplex", "mac_in_use",
    "mtu", "ifindex", "statistics", "status", "lacp_current", "bfd_status", "cfm_fault", "cfm_fault_status",
    "cfm_remote_mpids", "cfm_flap_count", "cfm_health", "cfm_remote_opstate"]),
  Controller: new Set(["is_connected", "role", "status"]),
  Manager: new Set(["is_connected", "status"]),
  Mirror: new Set(["statistics"]),
};

/** A running bridge and what was last applied to it. */
export interface BridgeState {
  readonly name: string;
  uuid: string;
  readonly api: DpifBridgeApi;
  readonly datapathType: string;
  /** The random address the bridge started with (used when no interface gives one). */
  readonly defaultMac: Uint8Array;
  mac: Uint8Array;
  failMode: FailMode;
  hadControllers: boolean;
  controllers: ControllerConfig[];
  controllersKey: string;
  tablesKey: string;
  configuredTables: Set<number>;
}

export interface BridgeOptions {
  /** `unix:PATH` or `tcp:IP:PORT` of the database. */
  remote: string;
  openBridge: OpenDpifBridge;
  /** Applies Open_vSwitch.other_config's datapath knobs (flow-limit, max-idle). */
  setGlobalConfig?: ((cfg: DatapathGlobalConfig) => void) | null;
  dummy: DummyMode;
  /** Where `<bridge>.mgmt` sockets go. */
  rundir: string;
  /** Period of the status pass (link state, controller state), ms; default 1000. */
  statusIntervalMs?: number;
  /**
   * What `ovs-ctl start` does to the database before the switch runs, for
   * `tsovs start`: create the Open_vSwitch row when missing (`ovs-vsctl
   * init`) and record the versions and the system (ovs_version,
   * db_version, system_type, system_version). A bare vswitchd, like OVS's,
   * leaves all that alone.
   */
  initDatabase?: { ovsVersion: string; systemType: string; systemVersion: string; hostname?: string } | null;
  /** IDL reconnection backoff (tests shorten it). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

interface BridgeEvents {
  /** A reconfiguration (and its status write) finished. */
  reconfigured: [];
}

function scalarDatum(a: Atom): Datum {
  return singleton(a);
}
const EMPTY: Datum = { keys: [], values: null };

function mapDatum(entries: Iterable<[string, Atom]>): Datum {
  const keys: Atom[] = [];
  const values: Atom[] = [];
  for (const [k, v] of entries) {
    keys.push(k);
    values.push(v);
  }
  const d: Datum = { keys, values };
  return d;
}

/** The bridges of one vswitchd, kept in step with the database. */
export class Bridges extends EventEmitter<BridgeEvents> {
  readonly idl: Idl;
  readonly bridges = new Map<string, BridgeState>();
  /** Times the configuration was applied. */
  reconfigurations = 0;
  private running = false;
  private dirty = false;
  private closed = false;
  private statusTimer: NodeJS.Timeout | null = null;
  private lastStatsAt = 0;
  private idleWaiters: (() => void)[] = [];
  private lockWarned = false;

  constructor(readonly opts: BridgeOptions) {
    super();
    const idlOpts: ConstructorParameters<typeof Idl>[0] = { remote: opts.remote, database: "Open_vSwitch", lock: VSWITCHD_LOCK };
    if (opts.backoffMinMs !== undefined) idlOpts.backoffMinMs = opts.backoffMinMs;
    if (opts.backoffMaxMs !== undefined) idlOpts.backoffMaxMs = opts.backoffMaxMs;
    this.idl = new Idl(idlOpts);
    this.idl.on("change", () => {
      const relevant = this.relevantChanges();
      if (log.enabled("dbg")) log.dbg(`database changed (seqno ${this.idl.seqno})${relevant ? "" : ": status columns only"}`);
      if (relevant) this.schedule();
    });
    this.idl.on("connected", () => {
      // The lock request has been answered by now: not holding it means another daemon does.
      if (!this.idl.hasLock && !this.lockWarned) {
        this.lockWarned = true;
        log.warn(`another ovs-vswitchd process is running, disabling this process (pid ${process.pid}) until it goes away`);
      }
      this.schedule();
    });
    this.idl.on("lock", (held) => {
      if (held) {
        this.lockWarned = false;
        this.schedule();
      }
    });
  }

  start(): void {
    this.idl.start();
    const period = this.opts.statusIntervalMs ?? 1000;
    this.statusTimer = setInterval(() => this.scheduleStatus(), period);
    this.statusTimer.unref();
  }

  /** Stops following the database and closes every bridge. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    this.statusTimer = null;
    await this.idl.close();
    for (const b of this.bridges.values()) this.destroyBridge(b);
    this.bridges.clear();
  }

  /** Resolves once no reconfiguration is running or pending. */
  idle(): Promise<void> {
    if (!this.running && !this.dirty) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** bridge/reconnect: drops and re-establishes the controller connections of one bridge (or all); false if unknown. */
  async reconnect(name?: string): Promise<boolean> {
    const list = name === undefined ? [...this.bridges.values()] : [this.bridges.get(name)].filter((b): b is BridgeState => b !== undefined);
    if (name !== undefined && list.length === 0) return false;
    for (const b of list) {
      await b.api.ofproto.connmgr.setControllers([]);
      await b.api.ofproto.connmgr.setControllers(b.controllers);
    }
    return true;
  }

  private relevantChanges(): boolean {
    const changes = this.idl.takeChanges();
    for (const [table, c] of changes) {
      if (c.inserted.size > 0 || c.deleted.size > 0) return true;
      const status = STATUS_COLUMNS[table];
      for (const cols of c.modified.values()) {
        for (const col of cols) if (status === undefined || !status.has(col)) return true;
      }
    }
    return false;
  }

  private schedule(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.running) return;
    void this.runLoop();
  }

  private statusPending = false;
  private scheduleStatus(): void {
    if (this.closed || this.running) return;
    this.statusPending = true;
    void this.runLoop();
  }

  private async runLoop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while ((this.dirty || this.statusPending) && !this.closed) {
        const full = this.dirty;
        this.dirty = false;
        this.statusPending = false;
        try {
          if (log.enabled("dbg")) log.dbg(full ? "reconfiguring" : "status pass");
          if (full) await this.reconfigure();
          else await this.writeStatus(null);
        } catch (e) {
          log.err(`reconfiguration failed: ${(e as Error).stack ?? String(e)}`);
        }
      }
    } finally {
      this.running = false;
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** The key files of the Open_vSwitch row's SSL record (`ovs-vsctl set-ssl`), for ssl: and pssl: controllers. */
  private sslFiles(): SslFiles | null {
    const ref = this.ovsRow()?.get("ssl").keys[0];
    const row = ref === undefined ? undefined : this.idl.row("SSL", String(ref));
    if (row === undefined) return null;
    const file = (col: string): string | null => {
      const v = row.get(col).keys[0];
      return v === undefined ? null : String(v);
    };
    return { privateKey: file("private_key"), certificate: file("certificate"), caCert: file("ca_cert") };
  }

  private ovsRow(): IdlRow | undefined {
    return this.idl.rows("Open_vSwitch").next().value as IdlRow | undefined;
  }

  private mayConfigure(): boolean {
    return this.idl.isConnected && this.idl.hasLock;
  }

  // ---- reconfiguration ------------------------------------------------------

  private initialized = false;

  /** Creates the Open_vSwitch row and records versions (BridgeOptions.initDatabase), once. */
  private async initDatabase(): Promise<void> {
    const init = this.opts.initDatabase;
    if (init === undefined || init === null || this.initialized) return;
    this.initialized = true;
    const values: Record<string, Datum> = {
      ovs_version: scalarDatum(init.ovsVersion),
      db_version: scalarDatum(this.idl.schema?.version ?? ""),
      system_type: scalarDatum(init.systemType),
      system_version: scalarDatum(init.systemVersion),
    };
    // external_ids:system-id (a random one, kept once set) and :hostname, as ovs-ctl records them.
    const ids = new Map<string, string>();
    const ovs = this.ovsRow();
    const existing = ovs?.stringMap("external_ids") ?? new Map<string, string>();
    if (!existing.has("system-id")) ids.set("system-id", newUuid());
    if (init.hostname !== undefined && !existing.has("hostname")) ids.set("hostname", init.hostname);
    const txn = this.idl.transaction();
    if (ovs === undefined) txn.insert("Open_vSwitch", { ...values, external_ids: mapDatum(ids) });
    else {
      for (const [k, v] of Object.entries(values)) if (!datumEquals(v, ovs.get(k))) txn.set(ovs, k, v);
      // Only keys not set yet: the user's (or an earlier run's) values stay.
      if (ids.size > 0) txn.mutate(ovs, "external_ids", "insert", mapDatum(ids));
    }
    if (txn.isEmpty) return;
    const r = await txn.commit();
    if (r.status !== "success") {
      log.warn(`database initialization failed (${r.status}${r.error !== undefined ? `: ${r.error}` : ""})`);
      this.initialized = false;
    }
  }

  private async reconfigure(): Promise<void> {
    if (!this.mayConfigure()) return;
    await this.initDatabase();
    coverageInc("bridge_reconfigure");
    this.reconfigurations++;
    const ovs = this.ovsRow();
    if (ovs !== undefined) this.opts.setGlobalConfig?.(globalConfigOf(ovs));
    // cur_cfg will claim exactly the configuration read here, not a newer one that arrives meanwhile.
    const appliedCfg = Number(ovs?.scalar("next_cfg") ?? 0);

    // The desired bridges, by name (the first row of a duplicated name wins).
    const wanted = new Map<string, IdlRow>();
    if (ovs !== undefined) {
      for (const ref of ovs.get("bridges").keys) {
        const row = this.idl.row("Bridge", String(ref));
        if (row === undefined) continue;
        const name = String(row.scalar("name"));
        if (wanted.has(name)) {
          log.warn(`bridge ${name} specified twice`);
          continue;
        }
        wanted.set(name, row);
      }
    }

    for (const [name, b] of this.bridges) {
      const row = wanted.get(name);
      const dpType = row === undefined ? null : datapathTypeFor(String(row.scalar("datapath_type") ?? ""), this.opts.dummy);
      if (row === undefined || dpType !== b.datapathType) {
        log.info(`bridge ${name}: deleted`);
        this.destroyBridge(b);
        this.bridges.delete(name);
      }
    }

    // Interfaces leave their old bridges before any bridge takes them (a
    // port moved from one bridge to another in one transaction).
    for (const [name, row] of wanted) {
      const b = this.bridges.get(name);
      if (b === undefined) continue;
      try {
        this.setBundles(b, row, new Set(), true);
      } catch (e) {
        log.err(`bridge ${name}: ${(e as Error).stack ?? String(e)}`);
      }
    }

    const takenIfaces = new Set<string>();
    for (const [name, row] of wanted) {
      let b = this.bridges.get(name);
      const created = b === undefined;
      if (b === undefined) {
        const created = await this.createBridge(name, row);
        if (created === null) continue;
        if (this.closed) {
          // Shut down while the bridge was being opened.
          this.destroyBridge(created);
          return;
        }
        b = created;
        this.bridges.set(name, b);
      }
      b.uuid = row.uuid;
      // One bridge's failure must not keep the others (or cur_cfg) from being updated.
      try {
        await this.configureBridge(b, row, takenIfaces, created);
      } catch (e) {
        log.err(`bridge ${name}: reconfiguration failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
    if (this.closed) return;
    await this.writeStatus(appliedCfg);
    this.emit("reconfigured");
  }

  private async createBridge(name: string, row: IdlRow): Promise<BridgeState | null> {
    const dpType = datapathTypeFor(String(row.scalar("datapath_type") ?? ""), this.opts.dummy);
    let api: DpifBridgeApi;
    try {
      api = await this.opts.openBridge(name, dpType);
    } catch (e) {
      log.err(`failed to create bridge ${name}: ${(e as Error).message}`);
      return null;
    }
    const local = api.ofproto.ports.get(OFPP_LOCAL);
    const defaultMac = Uint8Array.from(local?.hwAddr ?? randomMac());
    log.info(`bridge ${name}: added (datapath type ${dpType})`);
    return {
      name, uuid: row.uuid, api, datapathType: dpType, defaultMac, mac: defaultMac,
      failMode: failModeOf(row), hadControllers: false, controllers: [], controllersKey: "", tablesKey: "",
      configuredTables: new Set(),
    };
  }

  private destroyBridge(b: BridgeState): void {
    try {
      b.api.close();
    } catch (e) {
      log.err(`bridge ${b.name}: close failed: ${(e as Error).message}`);
    }
  }

  /**
   * Gives the bridge the ports of its row. `onlyExisting` keeps to the
   * interfaces the bridge has already (the first phase of a
   * reconfiguration: removals and changes, no additions).
   */
  private setBundles(b: BridgeState, row: IdlRow, takenIfaces: Set<string>, onlyExisting = false): string[] {
    const taken = new Set(takenIfaces);
    const bundles = [];
    for (const ref of row.get("ports").keys) {
      const port = this.idl.row("Port", String(ref));
      if (port === undefined) continue;
      const bundle = bundleConfigOf(port, {
        dummy: this.opts.dummy, bridgeMac: b.mac, bridgeName: b.name, takenIfaces: taken,
        iface: (u) => this.idl.row("Interface", u),
      }, onlyExisting);
      if (bundle === null) continue;
      if (onlyExisting) {
        bundle.ifaces = bundle.ifaces.filter((i) => b.api.ifaceStatus(i.name) !== null);
        if (bundle.ifaces.length === 0) continue;
      }
      bundles.push(bundle);
    }
    b.api.setBundles(bundles);
    const names: string[] = [];
    for (const x of bundles) for (const i of x.ifaces) names.push(i.name);
    return names;
  }

  private async configureBridge(b: BridgeState, row: IdlRow, takenIfaces: Set<string>, created: boolean): Promise<void> {
    const ofproto = b.api.ofproto;
    // Ports first (with the current address), then the address they imply.
    let ifaceNames = this.setBundles(b, row, takenIfaces);
    const candidates: MacCandidate[] = [];
    for (const n of ifaceNames) {
      const st = b.api.ifaceStatus(n);
      const ifRow = this.ifaceRowByName(row, n);
      if (st !== null && st.ofport > 0) candidates.push({ ifaceName: n, ifaceType: String(ifRow?.scalar("type") ?? ""), mac: st.macInUse });
    }
    const mac = pickBridgeMac(row, candidates, b.defaultMac);
    if (!macEquals(mac, b.mac)) {
      log.info(`bridge ${b.name}: using ${macToString(mac)} as the bridge address`);
      b.mac = mac;
      ifaceNames = this.setBundles(b, row, takenIfaces);
    }
    for (const n of ifaceNames) takenIfaces.add(n);
    const dpid = pickDatapathId(row, b.mac);
    if (dpid !== ofproto.datapathId) {
      ofproto.setDatapathId(dpid);
      log.info(`bridge ${b.name}: using datapath ID ${dpid.toString(16).padStart(16, "0")}`);
    }

    b.api.setConfig(bridgeDpConfigOf(row));
    ofproto.dpDesc = row.stringMap("other_config").get("dp-desc") ?? "None";
    ofproto.setProtocols(protocolsBitmap(row) ?? ALL_OFP_VERSIONS);

    // Controllers.
    const controllers: ControllerConfig[] = [];
    const controllerRows: IdlRow[] = [];
    for (const ref of row.get("controller").keys) {
      const c = this.idl.row("Controller", String(ref));
      if (c !== undefined) {
        controllers.push(controllerConfigOf(c));
        controllerRows.push(c);
      }
    }
    const managerRows: IdlRow[] = [];
    for (const ref of this.ovsRow()?.get("manager_options").keys ?? []) {
      const m = this.idl.row("Manager", String(ref));
      if (m !== undefined) managerRows.push(m);
    }
    ofproto.setInBandRemotes(inBandRemotesOf(row, controllerRows, managerRows), this.opts.dummy === "override" ? NO_NEXT_HOP : KERNEL_NEXT_HOP);
    await ofproto.connmgr.setSsl(this.sslFiles());
    const key = JSON.stringify(controllers);
    if (key !== b.controllersKey) {
      b.controllersKey = key;
      b.controllers = controllers;
      await ofproto.connmgr.setControllers(controllers);
    }
    if (created) await ofproto.connmgr.setManagementSocket(path.join(this.opts.rundir, `${b.name}.mgmt`));

    // Fail mode and the standalone NORMAL flow.
    const failMode = failModeOf(row);
    const hasControllers = controllers.some((c) => c.type !== "service");
    const flush = created || hasControllers !== b.hadControllers || (failMode !== b.failMode && !hasControllers);
    if (failMode !== b.failMode || created) ofproto.setFailMode(failMode);
    if (flush && !created) this.flushFlows(b);
    if (flush && !hasControllers && failMode === "standalone") ofproto.setStandaloneFlow(true);
    b.failMode = failMode;
    b.hadControllers = hasControllers;

    this.configureTables(b, row);

    this.configureMirrors(b, row);
    this.configureStp(b, row);
    this.configureSflow(b, row);
    this.configureNetflow(b, row);
    this.configureMcastSnooping(b, row);
    this.configureBfd(b, row);
  }

  /**
   * BFD on each interface from Interface:bfd (bfd-config.ts; OVS's
   * ofproto_port_set_bfd) and CFM from cfm_mpid and other_config:cfm_*
   * (cfm.ts; OVS's iface_configure_cfm).
   */
  private configureBfd(b: BridgeState, row: IdlRow): void {
    for (const ref of row.get("ports").keys) {
      const port = this.idl.row("Port", String(ref));
      if (port === undefined) continue;
      for (const iref of port.get("interfaces").keys) {
        const i = this.idl.row("Interface", String(iref));
        if (i === undefined) continue;
        const name = String(i.scalar("name"));
        b.api.setBfd?.(name, bfdSettingsOf(i.stringMap("bfd")));
        if (b.api.setCfm !== undefined) {
          const mpid = i.scalar("cfm_mpid");
          const opts = i.stringMap("options");
          const keyFlow = opts.get("key") === "flow" || opts.get("in_key") === "flow";
          b.api.setCfm(name, cfmSettingsOf(typeof mpid === "number" ? mpid : null, i.stringMap("other_config"), keyFlow));
        }
      }
    }
  }

  /** Interface cfm_* columns (OVS's iface_refresh_cfm_stats); all empty without CFM. */
  private writeCfmStatus(iface: IdlRow, s: CfmStatus | null, set: (row: IdlRow, column: string, value: Datum) => void): void {
    if (s === null) {
      for (const c of ["cfm_fault", "cfm_fault_status", "cfm_remote_opstate", "cfm_flap_count", "cfm_health", "cfm_remote_mpids"]) set(iface, c, EMPTY);
      return;
    }
    set(iface, "cfm_fault", scalarDatum(s.faults !== 0));
    set(iface, "cfm_fault_status", { keys: cfmFaultNames(s.faults), values: null });
    set(iface, "cfm_flap_count", scalarDatum(s.flapCount));
    set(iface, "cfm_remote_opstate", s.remoteOpstate >= 0 ? scalarDatum(s.remoteOpstate !== 0 ? "up" : "down") : EMPTY);
    set(iface, "cfm_remote_mpids", { keys: s.rmps, values: null });
    set(iface, "cfm_health", s.health >= 0 ? scalarDatum(s.health) : EMPTY);
  }

  /** Multicast snooping from Bridge.mcast_snooping_enable and the mcast-snooping-* knobs (mcast-config.ts). */
  private configureMcastSnooping(b: BridgeState, row: IdlRow): void {
    if (b.api.setMcastSnooping === undefined) return;
    const ports: IdlRow[] = [];
    for (const ref of row.get("ports").keys) {
      const port = this.idl.row("Port", String(ref));
      if (port !== undefined) ports.push(port);
    }
    const cfg = mcastConfigOf(row, ports);
    b.api.setMcastSnooping(cfg?.settings ?? null, cfg?.ports ?? new Map());
  }

  /** sFlow from the Bridge's sFlow row (OVS's bridge_configure_sflow). */
  private configureSflow(b: BridgeState, row: IdlRow): void {
    if (b.api.setSflow === undefined) return;
    const ref = row.get("sflow").keys[0];
    const sf = ref !== undefined ? this.idl.row("sFlow", String(ref)) : undefined;
    if (sf === undefined) {
      b.api.setSflow(null);
      return;
    }
    const int = (c: string, def: number): number => {
      const v = sf.get(c).keys[0];
      return typeof v === "number" ? v : def;
    };
    const agent = sf.get("agent").keys[0];
    b.api.setSflow({
      targets: sf.get("targets").keys.map(String),
      sampling: int("sampling", SFL_DEFAULT_SAMPLING_RATE),
      polling: int("polling", SFL_DEFAULT_POLLING_INTERVAL),
      header: int("header", SFL_DEFAULT_HEADER_SIZE),
      agent: agent !== undefined ? String(agent) : null,
      subId: [...this.bridges.values()].filter((x) => x.api.sflow != null).indexOf(b),
    });
  }

  /** NetFlow from the Bridge's NetFlow row (OVS's bridge_configure_netflow). */
  private configureNetflow(b: BridgeState, row: IdlRow): void {
    if (b.api.setNetflow === undefined) return;
    const ref = row.get("netflow").keys[0];
    const nf = ref !== undefined ? this.idl.row("NetFlow", String(ref)) : undefined;
    if (nf === undefined) {
      b.api.setNetflow(null);
      return;
    }
    const int = (c: string): number | undefined => {
      const v = nf.get(c).keys[0];
      return typeof v === "number" ? v : undefined;
    };
    // Without engine_type/engine_id OVS derives them from the datapath: here from the bridge's name.
    const h = hashString(b.name);
    b.api.setNetflow({
      targets: nf.get("targets").keys.map(String),
      engineType: int("engine_type") ?? (h >>> 8) & 0xff,
      engineId: int("engine_id") ?? h & 0xff,
      activeTimeout: int("active_timeout") ?? -1,
      addIdToInterface: nf.get("add_id_to_interface").keys[0] === true,
    });
  }

  /** Spanning tree from Bridge.stp_enable and the stp-* knobs (stp-config.ts). */
  private configureStp(b: BridgeState, row: IdlRow): void {
    if (b.api.setStp === undefined) return;
    const ports: StpPortInput[] = [];
    for (const ref of row.get("ports").keys) {
      const port = this.idl.row("Port", String(ref));
      if (port === undefined) continue;
      const ifaces: IdlRow[] = [];
      for (const iref of port.get("interfaces").keys) {
        const i = this.idl.row("Interface", String(iref));
        if (i !== undefined) ifaces.push(i);
      }
      const input: StpPortInput = { port, ifaces };
      const st = ifaces.length === 1 ? (b.api.ifaceStatus(String(ifaces[0]!.scalar("name"))) as (IfaceStatus & { linkSpeed?: number }) | null) : null;
      if (st?.linkSpeed !== undefined) input.linkSpeed = st.linkSpeed;
      ports.push(input);
    }
    const cfg = stpConfigOf(row, b.mac, ports);
    b.api.setStp(cfg?.settings ?? null, cfg?.ports ?? new Map());
  }

  /** The bridge's Mirror rows into its mirrors (OVS's bridge_configure_mirrors). */
  private configureMirrors(b: BridgeState, row: IdlRow): void {
    if (b.api.setMirrors === undefined) return;
    const portNames = new Map<string, string>();
    for (const ref of row.get("ports").keys) {
      const p = this.idl.row("Port", String(ref));
      if (p !== undefined) portNames.set(p.uuid, String(p.scalar("name")));
    }
    const all = [...portNames.values()];
    const list: MirrorConfig[] = [];
    for (const ref of row.get("mirrors").keys) {
      const m = this.idl.row("Mirror", String(ref));
      if (m === undefined) continue;
      const s = mirrorSettingsOf(m, b.name, (u) => portNames.get(u), all);
      if (s !== null) list.push({ key: m.uuid, settings: s });
    }
    const failed = b.api.setMirrors(list);
    for (const [key, why] of failed) {
      const name = list.find((m) => m.key === key)?.settings.name ?? key;
      if (why === "too-many") mirrorLog.warn(`maximum of 32 port mirrors reached, cannot create ${name}`);
      else log.err(`bridge ${b.name}: mirror ${name} outputs to port not on bridge`);
    }
  }

  /** The switch port of a single-interface Port row, for its STP status. */
  private stpPortOf(b: BridgeState, port: IdlRow): XPort | null {
    const refs = port.get("interfaces").keys;
    if (refs.length !== 1) return null;
    const name = this.idl.row("Interface", String(refs[0]))?.scalar("name");
    if (typeof name !== "string") return null;
    for (const p of b.api.xbridge.ports.values()) if (p.name === name) return p;
    return null;
  }

  private ifaceRowByName(bridge: IdlRow, name: string): IdlRow | undefined {
    for (const pref of bridge.get("ports").keys) {
      const port = this.idl.row("Port", String(pref));
      if (port === undefined) continue;
      for (const iref of port.get("interfaces").keys) {
        const i = this.idl.row("Interface", String(iref));
        if (i !== undefined && i.scalar("name") === name) return i;
      }
    }
    return undefined;
  }

  private flushFlows(b: BridgeState): void {
    const ofproto = b.api.ofproto;
    const r = ofproto.tables.flowMod(flowMod("delete", new Match(), [], { tableId: OFPTT_ALL }), Date.now());
    if (r.ok) ofproto.sendFlowRemoved(r.removed);
  }

  private configureTables(b: BridgeState, row: IdlRow): void {
    const tables = new Map<number, IdlRow | null>();
    const ft = row.get("flow_tables");
    ft.keys.forEach((k, i) => tables.set(Number(k), this.idl.row("Flow_Table", String(ft.values![i])) ?? null));
    const key = JSON.stringify([...tables].map(([id, r]) => [id, tableConfigOf(r)]));
    if (key === b.tablesKey) return;
    b.tablesKey = key;
    // Tables that lost their row go back to the defaults.
    for (const id of b.configuredTables) if (!tables.has(id)) tables.set(id, null);
    b.configuredTables = new Set([...tables].filter(([, r]) => r !== null).map(([id]) => id));
    for (const [id, r] of tables) {
      let res;
      try {
        res = b.api.ofproto.tables.configureTable(id, tableConfigOf(r));
      } catch (e) {
        res = { ok: false as const, error: (e as Error).message };
      }
      if (!res.ok) log.warn(`bridge ${b.name}: table ${id}: ${res.error}`);
      else if (res.removed.length > 0) b.api.ofproto.sendFlowRemoved(res.removed);
    }
  }

  // ---- status ---------------------------------------------------------------

  /**
   * Writes what the switch knows into the database (only differing
   * columns). After a reconfiguration `appliedCfg` is the next_cfg it
   * applied, written as cur_cfg; statistics are refreshed when the stats
   * interval has passed.
   */
  private async writeStatus(appliedCfg: number | null): Promise<void> {
    const afterReconfigure = appliedCfg !== null;
    if (!this.mayConfigure()) return;
    const ovs = this.ovsRow();
    const now = Date.now();
    const statsDue = afterReconfigure || now - this.lastStatsAt >= (ovs !== undefined ? statsIntervalOf(ovs) : 5000);
    if (statsDue) this.lastStatsAt = now;
    const txn = this.idl.transaction();
    const set = (row: IdlRow, column: string, value: Datum): void => {
      const c = row.table.columns.get(column);
      if (c === undefined) return;
      sortDatum(value, c.type);
      if (!datumEquals(value, row.data[c.index]!)) txn.set(row, column, value);
    };

    if (ovs !== undefined) {
      set(ovs, "datapath_types", { keys: datapathTypes(this.opts.dummy), values: null });
      set(ovs, "iface_types", { keys: ifaceTypes(this.opts.dummy), values: null });
      set(ovs, "dpdk_initialized", scalarDatum(false));
      set(ovs, "dpdk_version", scalarDatum("none"));
      if (appliedCfg !== null) set(ovs, "cur_cfg", scalarDatum(appliedCfg));
    }

    for (const b of this.bridges.values()) {
      const row = this.idl.row("Bridge", b.uuid);
      if (row === undefined) continue;
      set(row, "datapath_id", scalarDatum(b.api.ofproto.datapathId.toString(16).padStart(16, "0")));
      // Spanning tree status (OVS's br_refresh_stp_status, port_refresh_stp_status/_stats).
      const stp = b.api.stp ?? null;
      set(row, "status", stp !== null ? mapDatum(stp.bridgeStatus()) : EMPTY);
      set(row, "datapath_version", scalarDatum("<built-in>"));
      for (const pref of row.get("ports").keys) {
        const port = this.idl.row("Port", String(pref));
        if (port === undefined) continue;
        // A bond's active member and its members' LACP state (OVS's port_refresh_bond_status).
        const bond = b.api.bondStatus?.(String(port.scalar("name")), afterReconfigure) ?? null;
        const stpPort = stp !== null ? this.stpPortOf(b, port) : null;
        set(port, "status", stpPort !== null ? mapDatum(stp!.portStatus(stpPort) ?? []) : EMPTY);
        if (statsDue) set(port, "statistics", stpPort !== null ? mapDatum(stp!.portStatistics(stpPort) ?? []) : EMPTY);
        if (bond !== null && bond.activeSlave !== null) set(port, "bond_active_slave", scalarDatum(bond.activeSlave));
        for (const iref of port.get("interfaces").keys) {
          const iface = this.idl.row("Interface", String(iref));
          if (iface === undefined) continue;
          const name = String(iface.scalar("name"));
          const st = b.api.ifaceStatus(name);
          if (st !== null) this.writeIfaceStatus(iface, st, set, statsDue);
          const current = bond?.lacpCurrent.get(name);
          set(iface, "lacp_current", current !== undefined ? scalarDatum(current) : EMPTY);
          // BFD session state (OVS's iface_refresh_ofproto_status); empty without BFD.
          if (st !== null && b.api.bfdStatus !== undefined) set(iface, "bfd_status", mapDatum(b.api.bfdStatus(name) ?? []));
          if (st !== null && b.api.cfmStatus !== undefined) this.writeCfmStatus(iface, b.api.cfmStatus(name), set);
        }
      }
      this.writeControllerStatus(row, b.api.ofproto.connmgr.controllerStatus(), set, statsDue);
      if (statsDue && b.api.mirrorStats !== undefined) {
        // Mirror.statistics of the mirrors that are configured (OVS's mirror_refresh_stats).
        for (const ref of row.get("mirrors").keys) {
          const m = this.idl.row("Mirror", String(ref));
          const st = m === undefined ? null : b.api.mirrorStats(m.uuid);
          if (m === undefined || st === null) continue;
          set(m, "statistics", mapDatum([["tx_bytes", st.bytes], ["tx_packets", st.packets]]));
        }
      }
    }
    if (txn.isEmpty) return;
    if (log.enabled("dbg")) log.dbg("writing status");
    const r = await txn.commit();
    if (log.enabled("dbg")) log.dbg(`status written: ${r.status}`);
    if (r.status === "try-again") this.dirty = true;
    else if (r.status === "error") log.warn(`status update failed: ${r.error ?? ""}`);
    else if (r.status === "not-locked") log.warn("status update failed: lock not held");
  }

  private writeIfaceStatus(iface: IdlRow, st: IfaceStatus, set: (row: IdlRow, column: string, value: Datum) => void, statsDue: boolean): void {
    if (st.error !== null || st.ofport < 0) {
      set(iface, "ofport", scalarDatum(-1));
      set(iface, "error", scalarDatum(st.error ?? "could not add network device"));
      return;
    }
    set(iface, "ofport", scalarDatum(st.ofport));
    set(iface, "error", EMPTY);
    set(iface, "admin_state", scalarDatum(st.adminState));
    set(iface, "link_state", scalarDatum(st.linkState));
    set(iface, "mac_in_use", scalarDatum(macToString(st.macInUse)));
    // No MTU (a patch port, a kernel device that vanished): OVS empties the column.
    set(iface, "mtu", st.mtu > 0 ? scalarDatum(st.mtu) : EMPTY);
    // Kernel devices report their ifindex (0 once gone); others have none (0, as OVS writes).
    const k = st as IfaceStatusExtra;
    set(iface, "ifindex", scalarDatum(k.ifindex ?? 0));
    // Speed, duplex and driver: kernel devices only (OVS leaves them empty for dummies).
    set(iface, "link_speed", k.linkSpeed !== undefined ? scalarDatum(k.linkSpeed) : EMPTY);
    set(iface, "duplex", k.duplex !== undefined ? scalarDatum(k.duplex) : EMPTY);
    if (k.status !== undefined) set(iface, "status", mapDatum(Object.entries(k.status)));
    set(iface, "link_resets", scalarDatum(0));
    const hasStats = iface.get("statistics").keys.length > 0;
    if (statsDue || !hasStats) set(iface, "statistics", mapDatum(Object.entries(st.statistics)));
  }

  private writeControllerStatus(
    bridge: IdlRow, statuses: ControllerStatus[], set: (row: IdlRow, column: string, value: Datum) => void, statsDue: boolean,
  ): void {
    const byTarget = new Map(statuses.map((s) => [s.target, s]));
    for (const ref of bridge.get("controller").keys) {
      const c = this.idl.row("Controller", String(ref));
      if (c === undefined) continue;
      const s = byTarget.get(String(c.scalar("target")));
      if (s === undefined) continue;
      set(c, "is_connected", scalarDatum(s.isConnected));
      set(c, "role", s.isConnected ? scalarDatum(s.role) : EMPTY);
      // Passive targets have no connection state of their own (as in OVS, their status stays empty).
      const passive = s.state === "LISTENING";
      const status = new Map<string, Atom>();
      if (!passive) {
        status.set("state", s.state);
        if (s.lastError !== null) status.set("last_error", strerror(s.lastError));
        if (s.secSinceConnect !== null) status.set("sec_since_connect", String(s.secSinceConnect));
        if (s.secSinceDisconnect !== null) status.set("sec_since_disconnect", String(s.secSinceDisconnect));
      }
      // The seconds counters alone do not justify a write between statistics refreshes.
      const old = c.stringMap("status");
      const changed = [...new Set([...status.keys(), ...old.keys()])].some((k) => !k.startsWith("sec_since_") && String(status.get(k) ?? "") !== (old.get(k) ?? ""))
        || [...status.keys()].filter((k) => k.startsWith("sec_since_")).length !== [...old.keys()].filter((k) => k.startsWith("sec_since_")).length;
      if (changed || statsDue) set(c, "status", mapDatum(status));
    }
  }
}

/** Connection error codes as OVS words them (its strerror texts). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ETIMEDOUT: "Connection timed out",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPIPE: "Broken pipe",
  EOF: "End of file",
};

function strerror(e: string): string {
  return ERRNO_TEXT[e] ?? e;
}

function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A random locally administered unicast address (OVS's eth_addr_random). */
export function randomMac(): Uint8Array {
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) m[i] = Math.floor(Math.random() * 256);
  m[0] = (m[0]! & 0xfe) | 0x02;
  return m;
}
