/**
 * The contracts of ofproto-dpif: what translation (xlate.ts) needs to know
 * about a bridge and its ports (OVS's xbridge / xbundle / xport), what it
 * takes and gives (XlateIn / XlateOut), the narrow context the NORMAL action
 * works through (NormalCtx), and the face a bridge (src/vswitchd) drives an
 * ofproto-dpif bridge with (DpifBridgeApi).
 *
 * These are interfaces only, so that translation, the upcall/revalidator
 * machinery, MAC learning and the bridge can each be written and tested on
 * their own. Flows are `Uint32Array`s in the src/flow/key-layout.ts layout;
 * in translation `in_port` holds the OpenFlow port (the datapath key holds
 * the odp port; ofproto-dpif converts at the seam).
 */
import type { Ofproto } from "./ofproto.js";
import type { OfRule } from "./rule.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import type { MirrorBridge, MirrorConfig } from "./mirror.js";
import type { Bond, BondSettings } from "./bond.js";
import type { BridgeStp, StpBridgeSettings, StpPortSettings } from "./stp-bridge.js";
import type { SflowSettings } from "./sflow.js";
import type { NetflowExporter, NetflowSettings } from "./netflow.js";
import type { McastSnooping, McastSnoopingSettings, McastPortSettings } from "./mcast-snooping.js";
import type { BfdSession, BfdSettings } from "./bfd.js";
import type { Cfm, CfmSettings } from "./cfm.js";

/* ---------------- ports and bundles ---------------- */

/** Port.vlan_mode, with OVS's default resolution already applied. */
export type VlanMode = "access" | "trunk" | "native-tagged" | "native-untagged" | "dot1q-tunnel";

/**
 * A bundle: one `Port` row (one or more interfaces: a bond has several).
 * NORMAL switches between bundles; VLAN configuration lives here.
 */
export interface XBundle {
  name: string;
  /** The bundle's interfaces (one, unless a bond). */
  ports: XPort[];
  vlanMode: VlanMode;
  /** Port.tag: the access / native VLAN, or -1 when none. */
  vlan: number;
  /** Port.trunks: VLANs a trunk carries; null = all VLANs. */
  trunks: ReadonlySet<number> | null;
  /** Port.cvlans (dot1q-tunnel): customer VLANs accepted; null = all. */
  cvlans: ReadonlySet<number> | null;
  /** other_config:qinq-ethtype 802.1ad (0x88a8) or 802.1q (0x8100). */
  qinqEthtype: number;
  /** True for a bundle that takes part in no VLAN at all: flood / learning skip it (OVS's mirror output ports). */
  mirrorOut?: boolean;
  /** Mirrors (bits of the bridge's MirrorBridge) selecting packets received on the bundle (mirror.ts sets them). */
  mirrorSrc?: number;
  /** Mirrors selecting packets sent on the bundle. */
  mirrorDst?: number;
  /** Mirrors that output to the bundle (nonzero exactly when `mirrorOut`). */
  mirrorOutMask?: number;
  /** Protected port (Port.protected): never forwards to another protected port. */
  protected?: boolean;
  /** The bond (bond.ts) when the bundle has several interfaces; absent or null otherwise. */
  bond?: Bond | null;
}

/** An OpenFlow port of a bridge as translation sees it (OVS's xport). */
export interface XPort {
  ofpNo: number;
  /** Datapath port number, or -1 when the port has none (a patch port). */
  odpNo: number;
  name: string;
  /** Interface.type ("internal", "dummy", "system", "patch", "vxlan", ...). */
  type: string;
  /** OFPPC_* bits (no_fwd, no_flood, no_recv, no_packet_in, port_down). */
  config: number;
  /** OFPPS_* bits (link_down, live). */
  state: number;
  /** The bundle (Port row) this interface belongs to; null for ports outside any bundle. */
  bundle: XBundle | null;
  /** For a patch port: the peer port on the other bridge (null when the peer does not exist). */
  peer: XPort | null;
  /** The bridge the port belongs to. */
  bridge: XBridge;
  /** Ethernet address of the interface (6 bytes). */
  hwAddr: Uint8Array;
  /** The interface's BFD session (bfd.ts); absent or null = none. */
  bfd?: BfdSession | null;
  /** The interface's CFM session (cfm.ts); absent or null = none. */
  cfm?: Cfm | null;
}

/* ---------------- MAC learning ---------------- */

/** One learned MAC (OVS's mac_entry). */
export interface MacEntry {
  mac: Uint8Array;
  vlan: number;
  /** The bundle the MAC was learned on. */
  bundle: XBundle;
  /** ms of last refresh. */
  used: number;
  /** Static (fdb/add) entries never age. */
  isStatic: boolean;
}

/** The MAC learning table of a bridge (src/ofproto/mac-learning.ts implements it). */
export interface MacTable {
  lookup(mac: Uint8Array, macOff: number, vlan: number): MacEntry | null;
  /**
   * Learns (or refreshes) `mac` on `vlan` at `bundle`. Returns true when
   * the table changed in a way that may alter installed megaflows (a new
   * entry or a move), which the caller answers with revalidation.
   * `isGratArp` (the packet is a gratuitous ARP) and `isBond` (the bundle
   * is a bond) drive OVS's gratuitous-ARP lock; both default to false.
   */
  learn(mac: Uint8Array, macOff: number, vlan: number, bundle: XBundle, now: number, isGratArp?: boolean, isBond?: boolean): boolean;
  /** Whether learning `mac` on `vlan` is allowed at all (not a multicast source, table not locked). */
  mayLearn(mac: Uint8Array, macOff: number, vlan: number): boolean;
}

/* ---------------- the bridge ---------------- */

/** An interface's CFM state for its Interface cfm_* columns (OVS's cfm_status). */
export interface CfmStatus {
  /** CFM_FAULT_* bits (cfm/set-fault overrides them). */
  faults: number;
  /** 1 up, 0 down, -1 none (not extended). */
  remoteOpstate: number;
  flapCount: number;
  /** 0..100, or -1 undefined. */
  health: number;
  rmps: number[];
}

/** What translation needs of a bridge (OVS's xbridge). */
export interface XBridge {
  name: string;
  /** The OpenFlow switch: tables (`ofproto.tables.lookup`), groups, meters, connmgr. */
  ofproto: Ofproto;
  /** Ports by OpenFlow number. */
  ports: ReadonlyMap<number, XPort>;
  /**
   * Ports by datapath number. Tunnel ports share one datapath port: which
   * one a packet arrived on depends on its tunnel metadata, from `key` (a
   * datapath flow key with the datapath in_port).
   */
  portByOdp(odpNo: number, key?: Uint32Array | null): XPort | null;
  bundles: ReadonlyMap<string, XBundle>;
  macs: MacTable;
  /** The datapath port of the bridge's LOCAL port. */
  localOdpNo: number;
  /** Bridge.other_config / mcast settings that change NORMAL: flood unknown multicast etc. */
  forwardBpdu: boolean;
  /** The datapath this bridge sits on (its ports' odp numbers are in its space). */
  datapathName: string;
  /** ms clock. */
  now(): number;
  /** The bridge's port mirrors (mirror.ts); absent or null = none. */
  readonly mbridge?: MirrorBridge | null;
  /** The bridge's spanning tree (stp-bridge.ts); absent or null = none. */
  readonly stp?: XlateStp | null;
  /** sFlow sampling (sflow.ts); absent or null = off. */
  readonly sflow?: XlateSflow | null;
  /** NetFlow export (netflow.ts); absent or null = off. */
  readonly netflow?: NetflowExporter | null;
  /** IGMP/MLD snooping (mcast-snooping.ts); absent or null = off. */
  readonly ms?: McastSnooping | null;
}

/** The NetFlow flow a translation accounted its packets to (for later statistics of the megaflow). */
export interface XlateNetflow {
  exporter: NetflowExporter;
  flow: Uint32Array;
  output: number;
}

/** What translation asks of a bridge's sFlow agent (sflow.ts). */
export interface XlateSflow {
  /** The sample action's probability: UINT32_MAX / sampling rate. */
  readonly probability: number;
  /** The ifindex sFlow reports for datapath port `odpNo` (0: none). */
  ifindexOf(odpNo: number): number;
}

/** What translation asks of a bridge's spanning tree (stp-bridge.ts's BridgeStp). */
export interface XlateStp {
  /** stp.ts's STP_* state of the port (STP_DISABLED when it takes no part). */
  portState(xp: XPort): number;
  /** A BPDU received on the port (OVS's stp_process_packet). */
  processPacket(xp: XPort, frame: Uint8Array): void;
}

/* ---------------- translation ---------------- */

/** Why a flow must be handled in userspace rather than by a megaflow (OVS's slow_path_reason bits). */
export const SLOW_CFM = 1 << 0;
export const SLOW_BFD = 1 << 1;
export const SLOW_LACP = 1 << 2;
export const SLOW_STP = 1 << 3;
export const SLOW_LLDP = 1 << 4;
export const SLOW_ACTION = 1 << 5;
export const SLOW_MATCH = 1 << 6;

/** The input of one translation (OVS's xlate_in). */
export interface XlateIn {
  bridge: XBridge;
  /** The flow to translate (in_port = OpenFlow port). Translation works on its own copy. */
  flow: Uint32Array;
  /**
   * Wildcards to fill: on return, a 1 bit means "the result depends on this
   * bit of the flow" (a megaflow mask). Null = do not track (packet-out,
   * stats-only).
   */
  wc: Uint32Array | null;
  /** The packet, when there is one (upcall, packet-out, trace with a packet); null when translating for revalidation. */
  packet: Uint8Array | null;
  /** Start with this rule's actions instead of a lookup in table 0 (packet-out passes none and `ofpacts`). */
  rule?: OfRule<OfpAction[]> | null;
  /** Actions to translate instead of a table lookup (packet-out). */
  ofpacts?: readonly OfpAction[];
  /** Table to start in (default 0). */
  tableId?: number;
  /**
   * Side effects allowed: learn installs flows, MAC learning learns,
   * fin_timeout changes rules, packet-ins go out, rule stats are credited.
   * False for revalidation and for `ofproto/trace` without a packet.
   */
  mayLearn: boolean;
  /**
   * The side effects other than MAC learning (learn, fin_timeout,
   * packet-ins, group stats); defaults to `mayLearn`. ofproto/trace with a
   * packet learns MACs but has no other side effects, as OVS's.
   */
  allowSideEffects?: boolean;
  /** Credit rules with this many packets/bytes as they are visited (resubmit stats); 0 = none. */
  statsPackets?: number;
  statsBytes?: number;
  /** Collect the report `ofproto/trace` prints (trace.ts formats it). */
  trace?: TraceSink | null;
  /**
   * Translating an installed megaflow's key again (revalidator.ts): no
   * side effects, but the datapath actions must be those the upcall
   * installed — e.g. controller cookies keep dont_send=0, as OVS's
   * revalidation does (only ofproto/trace shows dont_send=1).
   */
  revalidating?: boolean;
  /**
   * The actions come from a controller's packet-out (packet-ins they cause
   * say reason "packet_out"). Default: `ofpacts` given without a rule and
   * not tracing (ofproto/trace-packet-out reports "action", as OVS).
   */
  inPacketOut?: boolean;
  /**
   * Where the resulting datapath actions are interned (the upcall
   * handler's pool): equal lists then share one array, and a translation
   * whose actions are already known allocates none. Null: a fresh copy.
   */
  actionsInterner?: ActionsInterner | null;
  /** The bridge's clock as the caller just read it (ms; 0 or absent: translation reads it). */
  nowMs?: number;
}

/** Interns datapath action lists (upcall.ts's ActionsPool). */
export interface ActionsInterner {
  /** The pooled array equal to `src`'s first `n` bytes (a copy of them when new). */
  internBytes(src: Uint8Array, n: number): Uint8Array;
}

/** The result of one translation (OVS's xlate_out + odp actions). */
export interface XlateOut {
  /** Datapath actions (netlink form, as src/datapath/odp-actions.ts builds). */
  actions: Uint8Array;
  /** SLOW_* bits: when nonzero, the megaflow must send packets to userspace. */
  slow: number;
  /** The flow after every action (ofproto/trace's "Final flow"), kept only when tracing (else null). */
  finalFlow: Uint32Array | null;
  /** Set on a bridge with NetFlow: where the megaflow's later statistics go. */
  netflow?: XlateNetflow;
  /** Every rule visited (for stats, revalidation bookkeeping). */
  rules: OfRule<OfpAction[]>[];
  /** Errors that ended translation early (OVS's xlate_error), or null. */
  error: string | null;
  /**
   * Side effects that must happen once per packet, not once per
   * translation (packet-ins queued for the connmgr, learned flows): the
   * caller runs them when it handles the packet.
   */
  deferred: readonly (() => void)[];
  /**
   * Translation moved or added a MAC entry (NormalCtx.needRevalidate):
   * the caller revalidates every megaflow after handling the packet.
   */
  needRevalidate?: boolean;
}

/** One node of the trace tree `ofproto/trace` prints (OVS's oftrace_node). */
export type TraceNodeType = "bridge" | "table" | "rule" | "action" | "detail" | "warn" | "error" | "recirc" | "bucket";

export interface TraceNode {
  type: TraceNodeType;
  text: string;
  children: TraceNode[];
}

/** Where translation writes its trace: a stack of open nodes. */
export interface TraceSink {
  /** Adds a node under the current one and returns it. */
  add(type: TraceNodeType, text: string): TraceNode;
  /** Makes `node` the current node until the matching `pop`. */
  push(node: TraceNode): void;
  pop(): void;
}

/* ---------------- NORMAL ---------------- */

/** The part of a translation the NORMAL action works through (xlate-normal.ts). */
export interface NormalCtx {
  readonly bridge: XBridge;
  /** The flow being translated (read; NORMAL changes the VLAN only through `outputToBundle`). */
  readonly flow: Uint32Array;
  /** Megaflow wildcards; null when not tracking. */
  readonly wc: Uint32Array | null;
  /** Whether MAC learning may learn (see XlateIn.mayLearn). */
  readonly mayLearn: boolean;
  /** Whether a real packet is being translated (XlateIn.packet !== null); some drop messages depend on it. Defaults to `mayLearn`. */
  readonly hasPacket?: boolean;
  /** The input port. */
  readonly inPort: XPort | null;
  /**
   * Outputs the packet to `bundle` with VLAN `vlan` (0 = untagged) as
   * NORMAL's output does: picks the bundle's port (bond member), sets or
   * strips the 802.1Q tag(s) and emits the output action.
   *
   * xlate-normal.ts always passes `vlanHeaders` too: the exact two VLAN
   * header words the packet must carry on this output, in the flow
   * layout's W_VLAN0 / W_VLAN1 encoding (tpid << 16 | tci with CFI; 0 =
   * no tag). They carry what `vlan` alone cannot: the PCP, the TPID
   * (802.1ad), and the inner tag of QinQ / dot1q-tunnel. The implementation
   * puts them in the flow for this one output (so the datapath actions
   * push/pop/set the tags and the megaflow un-wildcards what changed, as
   * OVS's xvlan_put + compose_output_action do) and restores the flow's
   * own VLAN words afterwards. `vlan` is always the VID of
   * `vlanHeaders[0]` (0 when untagged).
   */
  outputToBundle(bundle: XBundle, vlan: number, vlanHeaders?: Uint32Array): void;
  /**
   * Adds a line to the trace, if tracing (OVS's xlate_report). `type`
   * (default "detail") picks how ofproto/trace prints it: "detail" as
   * "-> text", "warn" as ">> text", "error" as ">>>> text <<<<".
   */
  report(text: string, type?: TraceNodeType): void;
  /** Asks for revalidation of every megaflow after the packet is handled (MAC moved). */
  needRevalidate(): void;
  /** The translation's input: multicast snooping reads reports from its packet. */
  readonly xin?: { readonly packet: Uint8Array | null };
  /** SLOW_* bits of the translation: NORMAL sends IGMP and MLD to the slow path (SLOW_ACTION). */
  slow?: number;
}

/* ---------------- the bridge-facing API ---------------- */

/** One interface as the bridge (src/vswitchd) asks ofproto-dpif to have it. */
export interface IfaceConfig {
  name: string;
  /** Interface.type ("" means "system"). */
  type: string;
  options: Record<string, string>;
  /** Interface.ofport_request, or undefined. */
  ofportRequest?: number;
  /** Interface.mac, or undefined. */
  mac?: Uint8Array;
  mtuRequest?: number;
  adminUp?: boolean;
}

/** One Port row. */
export interface BundleConfig {
  name: string;
  ifaces: IfaceConfig[];
  vlanMode: VlanMode;
  tag: number;
  trunks: number[] | null;
  cvlans: number[] | null;
  qinqEthtype: number;
  protected: boolean;
  /** Bond settings (Port.bond_*, lacp, other_config), for a Port with more than one interface. */
  bond?: BondSettings;
}

/** What the bridge reads back for each interface (written to the Interface row). */
export interface IfaceStatus {
  ofport: number;
  /** Interface.error text, or null. */
  error: string | null;
  adminState: "up" | "down";
  linkState: "up" | "down";
  macInUse: Uint8Array;
  mtu: number;
  statistics: Record<string, number>;
}

/** Bridge.other_config knobs ofproto-dpif honours (OVS's names in comments). */
export interface BridgeDpConfig {
  /** mac-aging-time, seconds (default 300). */
  macAgingTime?: number;
  /** mac-table-size (default 8192). */
  macTableSize?: number;
  /** forward-bpdu. */
  forwardBpdu?: boolean;
  /** Bridge.flood_vlans: VLANs on which MAC learning is off (always flooded); absent or empty = none. */
  floodVlans?: number[];
}

/** Open_vSwitch.other_config knobs of the datapath layer (shared by every bridge). */
export interface DatapathGlobalConfig {
  /** flow-limit (default 200000). */
  flowLimit?: number;
  /** max-idle, ms (default 10000). */
  maxIdle?: number;
}

/**
 * One ofproto-dpif bridge as src/vswitchd drives it (implemented by
 * ofproto-dpif.ts; created by `openDpifBridge`). Every call is
 * idempotent: the bridge passes its whole desired state on each
 * reconfiguration and only differences take effect.
 */
export interface DpifBridgeApi {
  readonly name: string;
  /** Datapath type ("netdev", "dummy", "system"). */
  readonly datapathType: string;
  readonly ofproto: Ofproto;
  readonly xbridge: XBridge;
  /** Makes the bridge's ports exactly `bundles` (the LOCAL port, named after the bridge, is always there). */
  setBundles(bundles: readonly BundleConfig[]): void;
  setConfig(cfg: BridgeDpConfig): void;
  /** Status of one interface, or null when the bridge has no such interface. */
  ifaceStatus(name: string): IfaceStatus | null;
  /**
   * Makes the bridge's port mirrors exactly `mirrors` (mirror.ts); returns
   * the keys that could not be configured and why. Optional: a bridge
   * without it has no mirrors.
   */
  setMirrors?(mirrors: readonly MirrorConfig[]): Map<string, "no-output-bundle" | "too-many">;
  /** tx_packets / tx_bytes of the mirror `key`, or null when it is not configured. */
  mirrorStats?(key: string): { packets: number; bytes: number } | null;
  /**
   * A bond's status columns: Port.bond_active_slave (a MAC, null when
   * unchanged since last asked, unless `force`) and Interface.lacp_current
   * per member; null when `portName` is not a bond.
   */
  bondStatus?(portName: string, force?: boolean): { activeSlave: string | null; lacpCurrent: Map<string, boolean> } | null;
  /**
   * Spanning tree (stp-bridge.ts): null settings turn it off; `ports` are
   * the taking part, by interface name. Optional: without it, no STP.
   */
  setStp?(settings: StpBridgeSettings | null, ports: ReadonlyMap<string, StpPortSettings>): void;
  /** The spanning tree, for status columns; null when off. */
  readonly stp?: BridgeStp | null;
  /** sFlow from the Bridge's sFlow row (sflow.ts); null turns it off. Optional: without it, no sFlow. */
  setSflow?(settings: SflowSettings | null): void;
  /** The sFlow agent; null when off. */
  readonly sflow?: XlateSflow | null;
  /** NetFlow from the Bridge's NetFlow row (netflow.ts); null turns it off. Optional. */
  setNetflow?(settings: NetflowSettings | null): void;
  /**
   * IGMP/MLD snooping (mcast-snooping.ts): null settings turn it off;
   * `ports` are the Port rows' flood flags, by Port name. Optional.
   */
  setMcastSnooping?(settings: McastSnoopingSettings | null, ports: ReadonlyMap<string, McastPortSettings>): void;
  /** The multicast snooping table, for mdb/show; null when off. */
  readonly ms?: McastSnooping | null;
  /** BFD on interface `ifaceName` (bfd.ts): null settings turn it off. Optional: without it, no BFD. */
  setBfd?(ifaceName: string, settings: BfdSettings | null): void;
  /** Interface.bfd_status of `ifaceName`: null without BFD. */
  bfdStatus?(ifaceName: string): [string, string][] | null;
  /** CFM on interface `ifaceName` (cfm.ts): null settings turn it off. Optional. */
  setCfm?(ifaceName: string, settings: CfmSettings | null): void;
  /** The CFM status columns of `ifaceName`: null without CFM. */
  cfmStatus?(ifaceName: string): CfmStatus | null;
  /** Deletes the bridge: its ports leave the datapath, its connections close. */
  close(): void;
}
