/**
 * The dpif provider interface: what every datapath implementation offers
 * (OVS's dpif-provider.h). Callers use `dpif.ts`; implementations (today
 * `dpif-netdev.ts`, the userspace datapath) implement `DpifProvider`.
 *
 * The interface is message-shaped, after the seed's generic-netlink
 * families (datapath, vport, flow, packet): every operation takes one plain
 * request object and returns one plain reply object, with typed arrays for
 * keys, masks, actions and packet bytes and no callbacks or live
 * references — so the datapath can later run in a worker thread (a PMD)
 * with `postMessage` in between and no change to callers.
 *
 * Errors are values: `error` is 0 or a positive errno (`Errno` below), as
 * OVS's dpif functions return. Methods never throw for bad requests;
 * they throw only on misuse (a closed dpif).
 *
 * Keys and masks use the flow-key layout of src/flow/key-layout.ts
 * (`FLOW_U32S` words; a datapath uses words below `FLOW_DP_U32S`); actions
 * are netlink-attribute encoded OVS_ACTION_ATTR_* lists (odp-actions).
 */

/** An odp port number (the datapath's port space). */
export type OdpPort = number & { readonly __brand?: "OdpPort" };

/** The local port, named after the datapath. */
export const ODPP_LOCAL = 0;
/** "No port". */
export const ODPP_NONE = 0xffffffff;

/** errno values used in replies (Linux numbering, as OVS reports them). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EAGAIN: 11,
  EOPNOTSUPP: 95,
} as const;

/** A unique flow identifier, 128 bits as four 32-bit words. */
export type Ufid = Uint32Array;

/* ---------------- datapath family ---------------- */

export interface DpifDpStats {
  /** Packets that matched a flow (EMC, SMC or megaflow). */
  hits: number;
  /** Packets that matched no flow (upcalled). */
  missed: number;
  /** Upcalls that could not be delivered (no handler, queue full, handler error). */
  lost: number;
  /** Installed flows. */
  flows: number;
  /** Subtables probed by megaflow lookups (OVS "mask hit"). */
  maskHit: number;
  /** Distinct masks (subtables). */
  masks: number;
  /** EMC hits. */
  emcHits: number;
  /** SMC hits. */
  smcHits: number;
  /** Megaflow (dpcls) hits. */
  megaflowHits: number;
  /** Packets dropped by actions or for lack of buffers. */
  dropped: number;
}

/* ---------------- vport family ---------------- */

export interface DpifPortAddRequest {
  name: string;
  /** Netdev type: "dummy", "internal", "system", "tap", ... */
  type: string;
  options?: Record<string, string>;
  /** Requested port number (honoured when free). */
  portNo?: number;
}

export interface DpifPort {
  name: string;
  type: string;
  portNo: number;
}

export interface DpifPortStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
  txErrors: number;
}

/* ---------------- flow family ---------------- */

export interface DpifFlowStats {
  packets: number;
  bytes: number;
  /** Time of last use in ms (same clock as `DpifProvider.now`), 0 = never. */
  used: number;
  /** OR of the TCP flags seen. */
  tcpFlags: number;
}

export interface DpifFlowPutRequest {
  key: Uint32Array;
  mask: Uint32Array;
  actions: Uint8Array;
  /** When absent, derived from the key (as OVS's odp_flow_key_hash). */
  ufid?: Ufid;
  /** Create the flow if absent (DPIF_FP_CREATE). */
  create: boolean;
  /** Modify the flow if present (DPIF_FP_MODIFY). */
  modify: boolean;
  /** Zero the stats of a modified flow (DPIF_FP_ZERO_STATS). */
  zeroStats?: boolean;
}

export interface DpifFlowPutReply {
  error: number;
  /** Stats of the flow before modification (modify only). */
  stats?: DpifFlowStats;
}

/** Identifies a flow: by ufid, else by key (the ufid derived from it). */
export interface DpifFlowIdRequest {
  ufid?: Ufid;
  key?: Uint32Array;
}

export interface DpifFlow {
  key: Uint32Array;
  mask: Uint32Array;
  actions: Uint8Array;
  ufid: Ufid;
  stats: DpifFlowStats;
}

export interface DpifFlowGetReply {
  error: number;
  flow?: DpifFlow;
}

export interface DpifFlowDelReply {
  error: number;
  stats?: DpifFlowStats;
}

/* ---------------- packet family ---------------- */

export interface DpifExecuteRequest {
  /** Frame bytes (copied). */
  packet: Uint8Array;
  actions: Uint8Array;
  /** Packet metadata: in_port (default ODPP_NONE), recirc_id, skb_priority, pkt_mark. */
  inPort?: number;
  recircId?: number;
  skbPriority?: number;
  pktMark?: number;
}

export const DPIF_UC_MISS = 0;
export const DPIF_UC_ACTION = 1;

export interface DpifUpcall {
  /** DPIF_UC_MISS or DPIF_UC_ACTION. */
  type: number;
  /** Frame bytes (a copy the receiver owns). */
  packet: Uint8Array;
  /** The packet's flow key (a copy). */
  key: Uint32Array;
  ufid: Ufid;
  inPort: number;
  /** Userdata of a `userspace` action; null for misses. */
  userdata: Uint8Array | null;
}

/**
 * The reply of a synchronous upcall handler: datapath actions to run on
 * the packet, and for a miss the mask of the megaflow to install.
 */
export interface DpifUpcallReply {
  /** 0, or an errno: the packet is dropped and the upcall counted lost. */
  error: number;
  actions: Uint8Array;
  /** Mask for the flow to install (misses); null = execute only, install nothing. */
  mask: Uint32Array | null;
}

/**
 * A synchronous upcall handler (OVS's dpif_register_upcall_cb). Called
 * from the datapath's packet processing, once per distinct missed flow per
 * batch and once per `userspace` action.
 *
 * The `upcall` object and its arrays belong to the datapath and are valid
 * only during the call (the datapath reuses them for the next miss): a
 * handler that keeps the key, packet or ufid copies them. The reply's
 * arrays are read during the call only (actions and mask are copied).
 */
export interface DpifUpcallHandler {
  upcall(upcall: DpifUpcall): DpifUpcallReply;
}

/* ---------------- the provider ---------------- */

export interface DpifConfig {
  /** Maximum installed flows; puts beyond it fail with EFBIG (default 200000). */
  flowLimit?: number;
  /** 1/N chance of inserting into the EMC after a megaflow hit; 0 disables (default 100). */
  emcInsertInvProb?: number;
  /** Enable the signature match cache between EMC and dpcls (default false, as OVS). */
  smcEnable?: boolean;
}

/** One datapath instance. All methods are synchronous and may not throw for bad input. */
export interface DpifProvider {
  /** Datapath type ("netdev" or "dummy"). */
  readonly type: string;
  readonly name: string;

  /* datapath family */
  getStats(): DpifDpStats;
  setConfig(config: DpifConfig): void;
  /** Deletes the datapath: ports closed, flows dropped. */
  destroy(): void;

  /* vport family */
  portAdd(req: DpifPortAddRequest): { error: number; portNo?: number };
  portDel(portNo: number): { error: number };
  portQueryByNumber(portNo: number): { error: number; port?: DpifPort };
  portQueryByName(name: string): { error: number; port?: DpifPort };
  portDump(): DpifPort[];
  portStats(portNo: number): { error: number; stats?: DpifPortStats };
  /**
   * Applies new Interface options to a port's netdev (e.g. `tx_pcap`);
   * on failure `error` is EINVAL and `message` says why, in OVS's words.
   */
  portSetConfig(portNo: number, options: Record<string, string>): { error: number; message?: string };
  /**
   * A port's configuration as the netdev reports it back (OVS
   * netdev_get_config), which `dpctl show` prints after the type:
   * `port 3: p3 (dummy: stream=unix:/x)`. Optional: absent means none.
   */
  portGetConfig?(portNo: number): { error: number; config?: Record<string, string> };

  /* flow family */
  flowPut(req: DpifFlowPutRequest): DpifFlowPutReply;
  flowGet(req: DpifFlowIdRequest): DpifFlowGetReply;
  flowDel(req: DpifFlowIdRequest): DpifFlowDelReply;
  /** Every installed flow (a snapshot; see flowDumpPage for big tables). */
  flowDump(): DpifFlow[];
  /**
   * Up to `max` flows starting at `cursor` (0 to begin); `next` is the
   * cursor for the following page, -1 after the last. Flows added or
   * deleted between pages may be missed or seen once more, as in OVS's
   * flow dumps.
   */
  flowDumpPage(cursor: number, max: number): { flows: DpifFlow[]; next: number };
  flowFlush(): { error: number };

  /* packet family */
  execute(req: DpifExecuteRequest): { error: number };
  /** Registers the synchronous upcall handler (null: queue upcalls for `recv`). */
  registerUpcallHandler(handler: DpifUpcallHandler | null): void;
  /** Next queued upcall (when no handler is registered), or null. */
  recv(): DpifUpcall | null;

  /**
   * Polls every port once: receive a batch from each, classify, execute,
   * transmit. Returns the number of packets received. `now` is the time in
   * ms (defaults to the provider's clock).
   */
  run(now?: number): number;
}
