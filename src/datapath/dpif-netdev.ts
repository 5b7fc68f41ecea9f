/**
 * dpif-netdev: the userspace datapath (OVS's lib/dpif-netdev.c), one
 * `DpifProvider` implementation.
 *
 * Packet processing, per rx batch of ≤32 packets (`processRx`):
 *   1. extract every packet's flow key (src/flow extractFlowKey) into a
 *      preallocated key buffer (one `FLOW_U32S` slot per packet);
 *   2. EMC lookup (emc.ts) for packets without tunnel/conntrack metadata,
 *      then the SMC (smc.ts) when `smc-enable` is set;
 *   3. dpcls batch lookup (dpcls.ts) for the EMC misses; hits may be
 *      inserted into the EMC (1/emc-insert-inv-prob);
 *   4. misses: look up again (an earlier upcall in this batch may have
 *      installed the flow — coalescing), else upcall: the handler returns
 *      actions and a mask, the packet is executed with those actions and
 *      the megaflow installed (unless the flow limit is reached — the
 *      packet is still executed);
 *   5. group hit packets by flow (≤32 groups; a 128-slot flow → group
 *      table, with a shortcut for consecutive packets of one flow), update
 *      each flow's stats once per group, run the flow's actions on the
 *      group (execute.ts; a list that is exactly `output(port)` or empty
 *      is applied directly, see ActionStore.simple);
 *   6. drain the execution context: outputs into per-port tx batches,
 *      `userspace` upcalls to the handler, recirculated packets through
 *      steps 1-6 again (depth ≤ MAX_RECIRC_DEPTH);
 *   7. flush tx batches (one netdev txBatch per port).
 * Nothing in 1-7 allocates in the steady state (bench datapath "steady":
 * 0 GCs in 10 s). Measured costs and targets: bench/datapath.ts.
 *
 * Re-entrancy: the synchronous upcall handler may call `flowPut`,
 * `flowDel` and `execute` while a batch is in flight. Deleted flows are
 * unlinked at once but their ids are released after the batch (a group
 * may still execute their actions); `execute` requests are queued and run
 * after the batch.
 *
 * Port numbers: 0 is the local port (named after the datapath, type
 * internal); otherwise a requested number if free, else — for the dummy
 * datapath classes ("dummy", "system" under --enable-dummy=override), as
 * OVS's — the number in the port name (plus 100 for names starting with
 * "br"), else the lowest free number. "internal" ports are reported as
 * "tap" ("dummy-internal" in the dummy classes), as OVS reports them.
 */
import * as diagnostics from "node:diagnostics_channel";
import { BATCH_SIZE, DpPacket, DpPacketBatch, DpPacketPool, DP_PACKET_DEFAULT_SIZE } from "../packet/dp-packet.js";
import { extractFlowKey, extractFlowKeyTracked, KEY_COLD_ALL, KEY_COLD_CTX, KEY_COLD_GENEVE, KEY_COLD_TUN } from "../flow/extract.js";
import {
  FLOW_DP_U32S, FLOW_U32S, M_TCP_FLAGS, REGION_TUN_START, W_CT_STATE, W_IN_PORT, W_TCP_FLAGS,
} from "../flow/key-layout.js";
import { netdevHasType, netdevOpen } from "../netdev/netdev.js";
import { vlogModule } from "../util/vlog.js";
import { zeroNetdevStats, type Netdev, type NetdevStats } from "../netdev/netdev-provider.js";
import { Emc, emcHash, DEFAULT_EMC_INSERT_INV_PROB } from "./emc.js";
import { ExecContext, type ExecuteActionsFn } from "./exec-context.js";
import { Conntrack } from "./conntrack.js";
import { executeActions } from "./execute.js";
import { TNL_TYPE_NONE, tnlTypeOfPortType } from "./execute-tnl.js";
import { FlowTable, STAT_STRIDE, ST_BYTES, ST_PACKETS, ST_TCP, ST_USED } from "./flow-table.js";
import { Smc } from "./smc.js";
import {
  DPIF_UC_ACTION,
  DPIF_UC_MISS,
  Errno,
  ODPP_LOCAL,
  ODPP_NONE,
  type DpifConfig,
  type DpifDpStats,
  type DpifExecuteRequest,
  type DpifFlow,
  type DpifFlowDelReply,
  type DpifFlowGetReply,
  type DpifFlowIdRequest,
  type DpifFlowPutReply,
  type DpifFlowPutRequest,
  type DpifFlowStats,
  type DpifPort,
  type DpifPortAddRequest,
  type DpifPortStats,
  type DpifProvider,
  type DpifUpcall,
  type DpifUpcallHandler,
  type DpifUpcallReply,
} from "./dpif-provider.js";

const log = vlogModule("dpif_netdev");

/**
 * Observability at no cost when unused (node:diagnostics_channel): a
 * message per miss upcall ({dp, upcall, reply}) and per flow installed or
 * deleted ({dp, event: "add" | "del", ufid}), published only when someone
 * subscribes.
 */
export const upcallChannel = diagnostics.channel("tsovs:dpif-netdev:upcall");
export const flowChannel = diagnostics.channel("tsovs:dpif-netdev:flow");

const HANDLER_FAILED: DpifUpcallReply = { error: Errno.EINVAL, actions: new Uint8Array(0), mask: null };

/** OVS's default `other_config:flow-limit`. */
export const DEFAULT_FLOW_LIMIT = 200000;
/** Recirculation depth limit (OVS MAX_RECIRC_DEPTH). */
export const MAX_RECIRC_DEPTH = 6;
/** Upcalls queued for `recv` when no handler is registered. */
export const MAX_QUEUED_UPCALLS = 4096;
/** Slots of the per-batch flow → group table (4 × BATCH_SIZE, a power of 2). */
const GROUP_SLOTS = 128;
/** Highest port number. */
const MAX_PORT_NO = 0xffff;

/** Key stride in the batch key buffer. */
const W = FLOW_U32S;
/** Words of a datapath key (the rest are OpenFlow-only). */
const DPW = FLOW_DP_U32S;

let executor: ExecuteActionsFn = executeActions;

/**
 * Replaces the action executor (default: execute.ts's `executeActions`;
 * exec-fallback.ts has a minimal one for isolating the datapath in tests).
 */
export function setActionExecutor(fn: ExecuteActionsFn): void {
  executor = fn;
}

interface DpPort {
  portNo: number;
  name: string;
  type: string;
  netdev: Netdev;
  /** Pending transmissions (flushed at the end of every batch). */
  tx: DpPacketBatch;
  txPending: boolean;
}

/** Copies a key into a fresh DPW-word array (slow path). */
function copyKey(src: Uint32Array, base: number): Uint32Array {
  return src.slice(base, base + DPW);
}

/**
 * Derives a ufid from a datapath key (as OVS hashes the key attributes):
 * four independent 32-bit lanes over the nonzero words and their
 * positions, one pass (a key has ~20 nonzero words of 142; 4 passes over
 * all of them cost ~1 µs per upcall).
 */
export function ufidFromKey(key: Uint32Array, base = 0, out: Uint32Array = new Uint32Array(4), words = DPW): Uint32Array {
  let a = 0x2545f491 | 0;
  let b = 0x5bd1e995 | 0;
  let c = 0x27d4eb2f | 0;
  let d = 0x165667b1 | 0;
  // Words from `words` on are zero (the caller knows): skipping them gives the same ufid.
  for (let i = 0; i < words; i++) {
    const v = key[base + i]!;
    if (v === 0) continue;
    const x = (v ^ Math.imul(i + 1, 0x9e3779b1)) | 0;
    a = Math.imul(((a << 5) | (a >>> 27)) ^ x, 0xcc9e2d51);
    b = Math.imul(((b << 7) | (b >>> 25)) ^ x, 0x1b873593);
    c = Math.imul(((c << 11) | (c >>> 21)) ^ x, 0x85ebca6b);
    d = Math.imul(((d << 13) | (d >>> 19)) ^ x, 0xc2b2ae35);
  }
  // Each lane is finalised on its own: a lane is a bijection of any one
  // key word, so keys differing in one word never share a ufid (mixing
  // lanes together before finalising made such keys collide).
  out[0] = fmix(a);
  out[1] = fmix(b);
  out[2] = fmix(c);
  out[3] = fmix(d);
  return out;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface DpifNetdevOptions {
  /** Packets in the buffer pool (default 1024; ~9.5 MB of 9 KB buffers). */
  poolSize?: number;
  /** Buffer size per packet (default DP_PACKET_DEFAULT_SIZE). */
  packetSize?: number;
  /** Time source in ms (default Date.now). */
  clock?: () => number;
}

export class DpifNetdev implements DpifProvider {
  readonly type: string;
  readonly name: string;
  readonly pool: DpPacketPool;
  readonly flows: FlowTable;
  readonly emc: Emc;
  readonly smc = new Smc();
  private flowLimit = DEFAULT_FLOW_LIMIT;
  private readonly clock: () => number;
  private destroyed = false;

  /* ports */
  private ports: (DpPort | null)[] = [];
  private portList: DpPort[] = [];
  /** Ports with pending tx; a fixed array and a count, because
   *  `array.length = 0` drops the backing store and the next push
   *  reallocates it (measured 152 bytes/batch). */
  private txPendingList: (DpPort | null)[] = new Array<DpPort | null>(16).fill(null);
  private txPendingCount = 0;

  /* counters */
  private nEmcHits = 0;
  private nSmcHits = 0;
  private nMegaflowHits = 0;
  private nMissed = 0;
  private nLost = 0;
  private nDropped = 0;
  private nMaskHit = 0;

  /* upcalls */
  private handler: DpifUpcallHandler | null = null;
  private upcallQueue: DpifUpcall[] = [];

  /* per-batch scratch, preallocated */
  private readonly keyBuf = new Uint32Array(BATCH_SIZE * W);
  private readonly keyViews: Uint32Array[] = [];
  /** Per batch slot: the datapath words of its key (a miss upcall's key is copied from it with one builtin call). */
  private readonly keyDpViews: Uint32Array[] = [];
  /** Per key view: the KEY_COLD_* regions that may be nonzero (extractFlowKeyTracked). */
  private readonly keyCold = new Int32Array(BATCH_SIZE).fill(KEY_COLD_ALL);
  private readonly hashes = new Int32Array(BATCH_SIZE);
  private readonly flowOf = new Int32Array(BATCH_SIZE);
  private readonly groupFlow = new Int32Array(BATCH_SIZE);
  private readonly groupBytes = new Float64Array(BATCH_SIZE);
  private readonly groupTcp = new Int32Array(BATCH_SIZE);
  private readonly groupSlot = new Int32Array(BATCH_SIZE);
  /** Flow id → group, open addressing (flow id + 1 / group), cleared per batch. */
  private readonly groupSlotFlow = new Int32Array(GROUP_SLOTS);
  private readonly groupSlotGroup = new Int32Array(GROUP_SLOTS);
  private readonly groups: DpPacketBatch[] = [];
  private readonly rxBatch = new DpPacketBatch();
  private readonly oneBatch = new DpPacketBatch();
  private readonly recircBatches: DpPacketBatch[] = [];
  private readonly recircStage: DpPacket[][] = [];
  private readonly ctx: ExecContext;
  /** The connection tracker of this datapath (ct actions, dpctl/*-conntrack). */
  readonly conntrack = new Conntrack();
  private readonly scratchKey = new Uint32Array(W);
  private readonly scratchUfid = new Uint32Array(4);
  private readonly scratchMask = new Uint32Array(FLOW_U32S);
  /** flowPut's copy of the request's mask. */
  private readonly putMask = new Uint32Array(DPW);
  /** The reused message for synchronous miss upcalls. */
  private readonly upcallMsg: DpifUpcall = {
    type: DPIF_UC_MISS,
    packet: new Uint8Array(0),
    // The datapath words only, as queued upcalls carry them.
    key: new Uint32Array(DPW),
    ufid: new Uint32Array(4),
    inPort: 0,
    userdata: null,
  };
  private busy = 0;
  /** Stamp of the current rx batch in FlowTable.runStamp (never 0). */
  private batchSeq = 0;
  private deferredRelease: number[] = [];
  private pendingExecutes: DpifExecuteRequest[] = [];
  private now = 0;

  constructor(name: string, type = "netdev", opts: DpifNetdevOptions = {}) {
    this.name = name;
    this.type = type;
    this.clock = opts.clock ?? Date.now;
    this.pool = new DpPacketPool(opts.poolSize ?? 1024, opts.packetSize ?? DP_PACKET_DEFAULT_SIZE);
    this.flows = new FlowTable(DPW);
    // The EMC holds the words below the tunnel region (metadata, L2-L4,
    // NSH); packets with tunnel or conntrack words bypass it.
    this.emc = new Emc(REGION_TUN_START);
    this.ctx = new ExecContext(this.pool);
    this.ctx.conntrack = this.conntrack;
    for (let i = 0; i < BATCH_SIZE; i++) {
      this.keyViews.push(this.keyBuf.subarray(i * W, (i + 1) * W));
      this.keyDpViews.push(this.keyBuf.subarray(i * W, i * W + DPW));
      this.groups.push(new DpPacketBatch());
    }
    for (let d = 0; d <= MAX_RECIRC_DEPTH; d++) {
      this.recircBatches.push(new DpPacketBatch());
      this.recircStage.push([]);
    }
    const local = this.portAdd({ name, type: "internal", portNo: ODPP_LOCAL });
    if (local.error !== 0) throw new Error(`${name}: cannot create local port (errno ${local.error})`);
  }

  /* ---------------- datapath family ---------------- */

  getStats(): DpifDpStats {
    return {
      hits: this.nEmcHits + this.nSmcHits + this.nMegaflowHits,
      missed: this.nMissed,
      lost: this.nLost,
      flows: this.flows.count,
      maskHit: this.nMaskHit,
      masks: this.flows.dpcls.subtableCount,
      emcHits: this.nEmcHits,
      smcHits: this.nSmcHits,
      megaflowHits: this.nMegaflowHits,
      dropped: this.nDropped + this.ctx.dropped,
    };
  }

  setConfig(config: DpifConfig): void {
    if (config.flowLimit !== undefined && config.flowLimit >= 0) this.flowLimit = Math.floor(config.flowLimit);
    if (config.emcInsertInvProb !== undefined) this.emc.setInsertInvProb(config.emcInsertInvProb);
    if (config.smcEnable !== undefined) {
      this.smc.enabled = config.smcEnable;
      if (!config.smcEnable) this.smc.clear();
    }
  }

  get config(): Required<DpifConfig> {
    return { flowLimit: this.flowLimit, emcInsertInvProb: this.emc.insertInverseProbability, smcEnable: this.smc.enabled };
  }

  destroy(): void {
    if (this.destroyed) return;
    for (const p of [...this.portList]) this.removePort(p);
    this.flowFlush();
    this.destroyed = true;
  }

  /* ---------------- vport family ---------------- */

  portAdd(req: DpifPortAddRequest): { error: number; portNo?: number } {
    if (typeof req.name !== "string" || req.name === "") return { error: Errno.EINVAL };
    if (this.portList.some((p) => p.name === req.name)) return { error: Errno.EEXIST };
    let portNo: number;
    if (req.portNo !== undefined && req.portNo !== ODPP_NONE) {
      if (!Number.isInteger(req.portNo) || req.portNo < 0 || req.portNo > MAX_PORT_NO) return { error: Errno.EINVAL };
      if (this.ports[req.portNo] != null) return { error: Errno.EBUSY };
      portNo = req.portNo;
    } else {
      portNo = this.choosePort(req.name);
      if (portNo < 0) return { error: Errno.EFBIG };
    }
    const type = this.portOpenType(req.type);
    const nd = netdevOpen(req.name, type, req.options ?? {});
    if (typeof nd === "string") {
      log.warn(nd);
      return { error: Errno.ENODEV };
    }
    const port: DpPort = { portNo, name: req.name, type, netdev: nd, tx: new DpPacketBatch(), txPending: false };
    while (this.ports.length <= portNo) this.ports.push(null);
    this.ports[portNo] = port;
    this.portList.push(port);
    this.portList.sort((a, b) => a.portNo - b.portNo);
    this.setTnlType(portNo, tnlTypeOfPortType(type));
    return { error: 0, portNo };
  }

  portDel(portNo: number): { error: number } {
    if (portNo === ODPP_LOCAL) return { error: Errno.EINVAL };
    const p = this.ports[portNo];
    if (p == null) return { error: Errno.ENOENT };
    this.removePort(p);
    return { error: 0 };
  }

  portQueryByNumber(portNo: number): { error: number; port?: DpifPort } {
    const p = this.ports[portNo];
    if (p == null) return { error: Errno.ENOENT };
    return { error: 0, port: { name: p.name, type: p.type, portNo: p.portNo } };
  }

  portQueryByName(name: string): { error: number; port?: DpifPort } {
    const p = this.portList.find((q) => q.name === name);
    if (p === undefined) return { error: Errno.ENOENT };
    return { error: 0, port: { name: p.name, type: p.type, portNo: p.portNo } };
  }

  portDump(): DpifPort[] {
    return this.portList.map((p) => ({ name: p.name, type: p.type, portNo: p.portNo }));
  }

  portStats(portNo: number): { error: number; stats?: DpifPortStats } {
    const p = this.ports[portNo];
    if (p == null) return { error: Errno.ENOENT };
    const s: NetdevStats = zeroNetdevStats();
    p.netdev.getStats(s);
    return { error: 0, stats: { ...s } };
  }

  portSetConfig(portNo: number, options: Record<string, string>): { error: number; message?: string } {
    const p = this.ports[portNo];
    if (p == null) return { error: Errno.ENOENT };
    const err = p.netdev.setConfig(options);
    if (err !== null) {
      log.warn(err);
      return { error: Errno.EINVAL, message: err };
    }
    return { error: 0 };
  }

  portGetConfig(portNo: number): { error: number; config?: Record<string, string> } {
    const p = this.ports[portNo];
    if (p == null) return { error: Errno.ENOENT };
    return { error: 0, config: p.netdev.getReportedConfig?.() ?? {} };
  }

  /** The netdev behind a port (for tests, `netdev-dummy/receive`, bridge status). */
  portNetdev(portNo: number): Netdev | null {
    return this.ports[portNo]?.netdev ?? null;
  }

  /** Gives port `portNo` the number `newNo` (dpif-dummy/change-port-number): 0, ENOENT or EBUSY. */
  portRenumber(portNo: number, newNo: number): number {
    const p = this.ports[portNo];
    if (p == null || portNo === ODPP_LOCAL || newNo <= 0 || newNo > MAX_PORT_NO) return Errno.ENOENT;
    if (this.ports[newNo] != null) return Errno.EBUSY;
    this.flushPort(p);
    this.setTnlType(newNo, this.ctx.tnlType[portNo] ?? TNL_TYPE_NONE);
    this.setTnlType(portNo, TNL_TYPE_NONE);
    this.ports[portNo] = null;
    while (this.ports.length <= newNo) this.ports.push(null);
    this.ports[newNo] = p;
    p.portNo = newNo;
    this.portList.sort((a, b) => a.portNo - b.portNo);
    return 0;
  }

  /**
   * The dummy datapath classes ("dummy", and "system" under
   * --enable-dummy=override) number ports after their names, as OVS's.
   * Without the override, real devices are registered and "system" — the
   * kernel datapath of OVS, which tsovs runs in userspace — is a real one:
   * internal ports are TAP devices.
   */
  get isDummyClass(): boolean {
    return this.type === "dummy" || (this.type === "system" && !netdevHasType("system"));
  }

  /** Type a port is opened and reported as (OVS dpif_netdev_port_open_type). */
  private portOpenType(type: string): string {
    if (type !== "internal") return type;
    return this.isDummyClass ? "dummy-internal" : "tap";
  }

  private choosePort(name: string): number {
    if (this.isDummyClass) {
      const m = /\d+/.exec(name);
      if (m !== null) {
        const n = (name.startsWith("br") ? 100 : 0) + Number.parseInt(m[0], 10);
        if (n > 0 && n <= MAX_PORT_NO && this.ports[n] == null) return n;
      }
    }
    for (let n = 1; n <= MAX_PORT_NO; n++) if (this.ports[n] == null) return n;
    return -1;
  }

  /**
   * The meters `meter(id)` actions run packets through (OVS's datapath
   * meters; the switch keeps their configuration and counters): true
   * drops the packet. Null: every packet passes.
   */
  setMeterHook(hook: ((id: number, bytes: number, now: number) => boolean) | null): void {
    this.ctx.meter = hook;
  }

  /** Records a port's tunnel type for the executor's tnl_pop (ExecContext.tnlType). */
  private setTnlType(portNo: number, type: number): void {
    let t = this.ctx.tnlType;
    if (portNo >= t.length) {
      if (type === TNL_TYPE_NONE) return;
      const bigger = new Uint8Array(Math.max(portNo + 1, t.length * 2, 16));
      bigger.set(t);
      t = this.ctx.tnlType = bigger;
    }
    t[portNo] = type;
  }

  private removePort(p: DpPort): void {
    this.flushPort(p);
    this.setTnlType(p.portNo, TNL_TYPE_NONE);
    this.ports[p.portNo] = null;
    this.portList = this.portList.filter((q) => q !== p);
    const kept = this.txPendingList.slice(0, this.txPendingCount).filter((q) => q !== p);
    this.txPendingList = [...kept, ...new Array<DpPort | null>(16).fill(null)];
    this.txPendingCount = kept.length;
    p.netdev.close();
  }

  /* ---------------- flow family ---------------- */

  flowPut(req: DpifFlowPutRequest): DpifFlowPutReply {
    const bad = this.checkKey(req.key) || this.checkKey(req.mask) || !(req.actions instanceof Uint8Array);
    if (bad) return { error: Errno.EINVAL };
    // Scratch copies (dpcls copies the mask of a new subtable): a slice of
    // 142 words lives outside the V8 heap and cost ~2 µs per flow setup.
    const mask = this.putMask;
    const key = this.scratchKey;
    const rk = req.key;
    const rm = req.mask;
    // Builtin copies (see missUpcall); callers mostly pass DPW-word arrays.
    mask.set(rm.length === DPW ? rm : rm.subarray(0, DPW));
    key.set(rk.length === DPW ? rk : rk.subarray(0, DPW));
    key.fill(0, DPW);
    // The userspace datapath always matches in_port exactly (as OVS's).
    mask[W_IN_PORT] = 0xffffffff;
    let f = -1;
    if (req.ufid !== undefined) {
      if (req.ufid.length < 4) return { error: Errno.EINVAL };
      f = this.flows.findByUfid(req.ufid);
    }
    if (f < 0) f = this.flows.dpcls.lookupOne(key, 0);
    if (f >= 0) {
      if (!req.modify) return { error: Errno.EEXIST };
      const stats = this.flowStats(f);
      this.flows.setActions(f, req.actions);
      if (req.zeroStats === true) {
        this.flows.stats.fill(0, f * STAT_STRIDE, f * STAT_STRIDE + STAT_STRIDE);
      }
      return { error: 0, stats };
    }
    if (!req.create) return { error: Errno.ENOENT };
    const ufid = req.ufid ?? ufidFromKey(key, 0, this.scratchUfid);
    if (this.flows.count >= this.flowLimit) return { error: Errno.EFBIG };
    this.flows.add(key, 0, mask, req.actions, ufid, this.now);
    if (flowChannel.hasSubscribers) flowChannel.publish({ dp: this.name, event: "add", ufid: ufid.slice() });
    return { error: 0 };
  }

  flowGet(req: DpifFlowIdRequest): DpifFlowGetReply {
    const f = this.findFlow(req);
    if (f < 0) return { error: f === -2 ? Errno.EINVAL : Errno.ENOENT };
    return { error: 0, flow: this.describeFlow(f) };
  }

  flowDel(req: DpifFlowIdRequest): DpifFlowDelReply {
    const f = this.findFlow(req);
    if (f < 0) return { error: f === -2 ? Errno.EINVAL : Errno.ENOENT };
    const stats = this.flowStats(f);
    this.deleteFlow(f);
    return { error: 0, stats };
  }

  flowDump(): DpifFlow[] {
    return this.flows.liveIds().map((f) => this.describeFlow(f));
  }

  flowDumpPage(cursor: number, max: number): { flows: DpifFlow[]; next: number } {
    const flows: DpifFlow[] = [];
    const t = this.flows;
    let id = Math.max(0, Math.floor(cursor));
    const limit = Math.max(1, Math.floor(max));
    const end = t.idLimit();
    for (; id < end && flows.length < limit; id++) {
      if (t.actionId[id]! >= 0 && t.dpcls.subtableOf[id]! >= 0) flows.push(this.describeFlow(id));
    }
    return { flows, next: id < end ? id : -1 };
  }

  flowFlush(): { error: number } {
    for (const f of this.flows.liveIds()) this.deleteFlow(f);
    this.emc.clear();
    this.smc.clear();
    return { error: 0 };
  }

  /** Installed flows. */
  get flowCount(): number {
    return this.flows.count;
  }

  private checkKey(k: unknown): boolean {
    return !(k instanceof Uint32Array) || k.length < DPW;
  }

  /** Flow id for a request; -1 absent, -2 malformed. */
  private findFlow(req: DpifFlowIdRequest): number {
    if (req.ufid !== undefined) {
      if (!(req.ufid instanceof Uint32Array) || req.ufid.length < 4) return -2;
      return this.flows.findByUfid(req.ufid);
    }
    if (req.key === undefined || this.checkKey(req.key)) return -2;
    this.scratchKey.fill(0);
    this.scratchKey.set(req.key.subarray(0, DPW));
    return this.flows.findByUfid(ufidFromKey(this.scratchKey, 0, this.scratchUfid));
  }

  private deleteFlow(f: number): void {
    if (flowChannel.hasSubscribers) flowChannel.publish({ dp: this.name, event: "del", ufid: this.flows.ufid.slice(f * 4, f * 4 + 4) });
    this.flows.unlink(f);
    if (this.busy > 0) this.deferredRelease.push(f);
    else this.flows.release(f);
  }

  private flowStats(f: number): DpifFlowStats {
    const st = this.flows.stats;
    const o = f * STAT_STRIDE;
    return { packets: st[o + ST_PACKETS]!, bytes: st[o + ST_BYTES]!, used: st[o + ST_USED]!, tcpFlags: st[o + ST_TCP]! };
  }

  private describeFlow(f: number): DpifFlow {
    const key = new Uint32Array(FLOW_U32S);
    this.flows.originalKey(f, key);
    const mask = new Uint32Array(FLOW_U32S);
    mask.set(this.flows.dpcls.maskOf(f)!);
    return {
      key,
      mask,
      actions: this.flows.actions.copy(this.flows.actionId[f]!),
      ufid: this.flows.ufid.slice(f * 4, f * 4 + 4),
      stats: this.flowStats(f),
    };
  }

  /* ---------------- packet family ---------------- */

  registerUpcallHandler(handler: DpifUpcallHandler | null): void {
    this.handler = handler;
  }

  recv(): DpifUpcall | null {
    return this.upcallQueue.shift() ?? null;
  }

  execute(req: DpifExecuteRequest): { error: number } {
    if (!(req.packet instanceof Uint8Array) || !(req.actions instanceof Uint8Array)) return { error: Errno.EINVAL };
    if (this.busy > 0) {
      this.pendingExecutes.push({ ...req, packet: req.packet.slice(), actions: req.actions.slice() });
      return { error: 0 };
    }
    const pkt = this.pool.alloc();
    if (pkt === null) return { error: Errno.ENOSPC };
    if (!pkt.setData(req.packet)) {
      pkt.release();
      return { error: Errno.E2BIG };
    }
    pkt.inPort = req.inPort ?? ODPP_NONE;
    pkt.recircId = req.recircId ?? 0;
    pkt.skbPriority = req.skbPriority ?? 0;
    pkt.pktMark = req.pktMark ?? 0;
    this.busy++;
    this.now = this.clock();
    this.ctx.now = this.now;
    const b = this.oneBatch;
    b.packets[0] = pkt;
    b.count = 1;
    executor(this.ctx, b, req.actions, 0, req.actions.length);
    this.drain(0);
    this.finishBatch();
    return { error: 0 };
  }

  /**
   * Injects a received frame as if it arrived on `portNo` and processes it
   * at once (OVS `netdev-dummy/receive` semantics for a single frame).
   */
  receive(portNo: number, frame: Uint8Array): { error: number } {
    const port = this.ports[portNo];
    if (port == null) return { error: Errno.ENOENT };
    // Re-entered from an upcall handler: the rx scratch is in use.
    if (this.busy > 0) return { error: Errno.EAGAIN };
    const pkt = this.pool.alloc();
    if (pkt === null) {
      this.nDropped++;
      return { error: Errno.ENOSPC };
    }
    if (!pkt.setData(frame)) {
      pkt.release();
      this.nDropped++;
      return { error: Errno.E2BIG };
    }
    const b = this.rxBatch;
    b.packets[0] = pkt;
    b.count = 1;
    this.processRx(b, this.clock(), portNo);
    return { error: 0 };
  }

  run(now?: number): number {
    if (this.busy > 0) return 0; // re-entered from an upcall handler
    const t = now ?? this.clock();
    let total = 0;
    const list = this.portList;
    for (let i = 0; i < list.length; i++) {
      const port = list[i]!;
      const b = this.rxBatch;
      const n = port.netdev.rxBatch(b, this.pool);
      if (n === 0) continue;
      total += n;
      this.processRx(b, t, port.portNo);
    }
    return total;
  }

  /** Polls `portNo` once; returns packets received. */
  // HOT PATH: rx loop (bench datapath).
  pollPort(portNo: number, now: number): number {
    const port = this.ports[portNo];
    if (port == null || this.busy > 0) return 0;
    const b = this.rxBatch;
    const n = port.netdev.rxBatch(b, this.pool);
    if (n === 0) return 0;
    this.processRx(b, now, portNo);
    return n;
  }

  /**
   * Processes one batch received on `inPort` completely (classify, execute,
   * transmit); the packets' in_port is set here.
   */
  processRx(batch: DpPacketBatch, now: number, inPort: number): void {
    this.busy++;
    this.now = now;
    this.ctx.now = now;
    this.classifyAndExecute(batch, inPort);
    this.drain(0);
    this.finishBatch();
  }

  private finishBatch(): void {
    this.flushTx();
    this.busy--;
    if (this.busy === 0) {
      if (this.deferredRelease.length > 0) {
        for (const f of this.deferredRelease) this.flows.release(f);
        this.deferredRelease.length = 0;
      }
      if (this.pendingExecutes.length > 0) {
        const reqs = this.pendingExecutes;
        this.pendingExecutes = [];
        for (const r of reqs) this.execute(r);
      }
    }
  }

  /**
   * Steps 1-5: classify `batch` and execute every packet's actions into the
   * execution context. Empties `batch`. `inPort` ≥ 0 stamps the packets'
   * in_port (fresh from a port); -1 keeps it (recirculation).
   */
  // HOT PATH: bench datapath "EMC hits ≥5 Mpps", "megaflow 1 mask ≥3 Mpps".
  private classifyAndExecute(batch: DpPacketBatch, inPort: number): void {
    const n = batch.count;
    const keys = this.keyBuf;
    const keyCold = this.keyCold;
    const flowOf = this.flowOf;
    const hashes = this.hashes;
    const emc = this.emc;
    const flows = this.flows;
    const gen = flows.gen;
    const emcOn = emc.enabled;
    const smc = this.smc;
    const smcOn = smc.enabled;
    const dpcls = flows.dpcls;
    let todo = 0;
    /** Packets whose key fits the EMC (no tunnel/conntrack words). */
    let emcable = 0;
    let emcHits = 0;
    let smcHits = 0;
    // The run check of flowsContiguous, done here for EMC hits (their flow
    // lines are hot now); it stands when every packet hits the EMC.
    // HOT PATH: with the stats stride and the per-run port below, bench
    // datapath EMC forwarding alone, best of 8 slices in 6 alternating
    // runs: 5.24-5.82 -> 5.39-6.16 Mpps per CPU-second.
    const stamp = flows.runStamp;
    const seq = this.nextBatchSeq();
    let prevHit = -1;
    let split = false;
    for (let i = 0; i < n; i++) {
      const pkt = batch.packets[i]!;
      if (inPort >= 0) pkt.inPort = inPort;
      keyCold[i] = extractFlowKeyTracked(pkt, this.keyViews[i]!, keyCold[i]!);
      flowOf[i] = -1;
      if (emcOn || smcOn) {
        const h = emcHash(keys, i * W);
        hashes[i] = h;
        // Cold words (tunnel, ct label/tuple) are known from extraction's
        // result; ct_state is the one hot word that also bars the EMC.
        if (emcOn && (keyCold[i]! & (KEY_COLD_TUN | KEY_COLD_CTX)) === 0 && (keys[i * W + W_CT_STATE]! & 0xff) === 0) {
          emcable |= 1 << i;
          const f = emc.lookup(keys, i * W, h, gen);
          if (f >= 0) {
            flowOf[i] = f;
            emcHits++;
            if (f !== prevHit) {
              if (stamp[f] === seq) split = true;
              stamp[f] = seq;
              prevHit = f;
            }
            continue;
          }
        }
        if (smcOn) {
          const f = smc.lookup(keys, i * W, h, dpcls);
          if (f >= 0) {
            flowOf[i] = f;
            smcHits++;
            if ((emcable & (1 << i)) !== 0) emc.maybeInsert(keys, i * W, h, f, gen[f]!, gen);
            continue;
          }
        }
      }
      todo |= 1 << i;
    }
    this.nEmcHits += emcHits;
    this.nSmcHits += smcHits;

    if (todo !== 0) {
      const probesBefore = dpcls.probes;
      const missed = dpcls.lookupBatch(keys, W, todo, flowOf);
      this.nMaskHit += dpcls.probes - probesBefore;
      const hit = todo & ~missed;
      this.nMegaflowHits += popcount(hit);
      let ins = hit & emcable;
      while (ins !== 0) {
        const i = 31 - Math.clz32(ins & -ins);
        ins &= ins - 1;
        const f = flowOf[i]!;
        emc.maybeInsert(keys, i * W, hashes[i]!, f, gen[f]!, gen);
      }
      if (smcOn) {
        let sins = hit;
        while (sins !== 0) {
          const i = 31 - Math.clz32(sins & -sins);
          sins &= sins - 1;
          smc.insert(hashes[i]!, flowOf[i]!);
        }
      }
      if (missed !== 0) this.handleMisses(batch, missed);
    }

    // Common case: each flow's packets are contiguous in the batch (always
    // so for singleton flows). Then arrival order is the grouped order OVS
    // executes in, and runs can be executed as they come, without the
    // grouping hash table. bench/datapath (one packet per flow per batch):
    // grouping was the hottest part of this function after extraction;
    // with runs, full bench EMC 2.88 -> 3.97 Mpps, megaflow1 3.31 -> 3.81
    // (per CPU-second, load 8-10 on 2 cores).
    // HOT PATH: all-EMC-hit batches skip the second pass over flowOf.
    if (emcHits === n ? !split : this.flowsContiguous(n)) {
      this.executeRuns(batch, n);
      return;
    }

    // Group packets by flow (flow id → group via a small hash table).
    const groupFlow = this.groupFlow;
    const groupBytes = this.groupBytes;
    const groupTcp = this.groupTcp;
    const groupSlot = this.groupSlot;
    const slotFlow = this.groupSlotFlow;
    const slotGroup = this.groupSlotGroup;
    const groups = this.groups;
    let nGroups = 0;
    let lastGroup = 0;
    for (let i = 0; i < n; i++) {
      const f = flowOf[i]!;
      if (f < 0) continue;
      let g = -1;
      let s = 0;
      // Bursts: consecutive packets of one flow skip the hash probe.
      if (nGroups > 0 && groupFlow[lastGroup] === f) g = lastGroup;
      else s = Math.imul(f, 0x9e3779b1 | 0) >>> 25;
      while (g < 0) {
        const sf = slotFlow[s]!;
        if (sf === 0) break;
        if (sf === f + 1) {
          g = slotGroup[s]!;
          break;
        }
        s = (s + 1) & (GROUP_SLOTS - 1);
      }
      if (g < 0) {
        g = nGroups++;
        slotFlow[s] = f + 1;
        slotGroup[s] = g;
        groupFlow[g] = f;
        groupSlot[g] = s;
        groupBytes[g] = 0;
        groupTcp[g] = 0;
        groups[g]!.count = 0;
      }
      lastGroup = g;
      const pkt = batch.packets[i]!;
      const gb = groups[g]!;
      gb.packets[gb.count++] = pkt;
      groupBytes[g] = groupBytes[g]! + pkt.len;
      groupTcp[g] = groupTcp[g]! | keys[i * W + W_TCP_FLAGS]!;
    }
    batch.clear();
    const ctx = this.ctx;
    const arena = flows.actions;
    const now = this.now;
    for (let g = 0; g < nGroups; g++) {
      const f = groupFlow[g]!;
      slotFlow[groupSlot[g]!] = 0;
      const gb = groups[g]!;
      const st = flows.stats;
      const o = f * STAT_STRIDE;
      st[o + ST_PACKETS] = st[o + ST_PACKETS]! + gb.count;
      st[o + ST_BYTES] = st[o + ST_BYTES]! + groupBytes[g]!;
      st[o + ST_USED] = now;
      st[o + ST_TCP] = st[o + ST_TCP]! | (groupTcp[g]! & M_TCP_FLAGS);
      const a = flows.actionId[f]!;
      const simple = arena.simple[a]!;
      if (simple >= 0) {
        // Exactly output(port): record the outputs without the executor.
        for (let j = 0; j < gb.count; j++) {
          ctx.pushOutput(simple, gb.packets[j]!);
          gb.packets[j] = null;
        }
        gb.count = 0;
      } else if (simple === -2) {
        // No actions: drop.
        for (let j = 0; j < gb.count; j++) {
          gb.packets[j]!.release();
          gb.packets[j] = null;
        }
        ctx.dropped += gb.count;
        gb.count = 0;
      } else {
        executor(ctx, gb, arena.arena, arena.offsets[a]!, arena.lengths[a]!);
      }
    }
  }

  /**
   * True when no flow's packets are split by another flow's in `flowOf`
   * (misses, -1, do not count). Marks each run's flow with this batch's
   * stamp; a flow met again with the stamp set means a split.
   */
  /** A fresh stamp for FlowTable.runStamp (never 0). */
  private nextBatchSeq(): number {
    let seq = (this.batchSeq + 1) >>> 0;
    if (seq === 0) {
      this.flows.runStamp.fill(0);
      seq = 1;
    }
    this.batchSeq = seq;
    return seq;
  }

  // HOT PATH: every batch (bench datapath).
  private flowsContiguous(n: number): boolean {
    const flowOf = this.flowOf;
    const stamp = this.flows.runStamp;
    const seq = this.nextBatchSeq();
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const f = flowOf[i]!;
      if (f < 0 || f === prev) continue;
      if (stamp[f] === seq) return false;
      stamp[f] = seq;
      prev = f;
    }
    return true;
  }

  /**
   * Executes a batch whose flows are contiguous, run by run: stats once
   * per run, single-output flows straight to the output list, other
   * actions through the executor on the run's packets.
   */
  // HOT PATH: bench datapath "EMC hits ≥5 Mpps", "megaflow 1 mask ≥3 Mpps".
  private executeRuns(batch: DpPacketBatch, n: number): void {
    const flowOf = this.flowOf;
    const keys = this.keyBuf;
    const flows = this.flows;
    const arena = flows.actions;
    const ctx = this.ctx;
    const now = this.now;
    const gb = this.groups[0]!;
    const pkts = batch.packets;
    let ports = this.ports;
    // Columns in locals (reloaded after the executor, which may install
    // flows and so grow the table).
    let actionId = flows.actionId;
    let simples = arena.simple;
    let st = flows.stats;
    let i = 0;
    while (i < n) {
      const f = flowOf[i]!;
      if (f < 0) {
        i++;
        continue;
      }
      const a = actionId[f]!;
      const simple = simples[a]!;
      // A single-output run's port, looked up once per run.
      const port = simple >= 0 && simple < ports.length ? ports[simple] ?? null : null;
      let direct = false;
      let count = 0;
      let bytes = 0;
      let tcp = 0;
      gb.count = 0;
      for (; i < n; i++) {
        const g = flowOf[i]!;
        if (g !== f) {
          if (g < 0) continue;
          break;
        }
        const pkt = pkts[i]!;
        count++;
        bytes += pkt.len;
        tcp |= keys[i * W + W_TCP_FLAGS]!;
        if (simple >= 0) {
          // Nothing recorded before it: straight to the port's tx batch,
          // in the order drain() would have sent it. bench/datapath EMC
          // full poll, min of 300 x 32k packets: 190-192 -> 185-188 ns.
          if (ctx.outCount === 0 && port !== null) {
            const tx = port.tx;
            if (tx.count === BATCH_SIZE) port.netdev.txBatch(tx);
            tx.packets[tx.count++] = pkt;
            direct = true;
          } else if (ctx.outCount === 0) this.sendToPort(simple, pkt);
          else ctx.pushOutput(simple, pkt);
        } else {
          gb.packets[gb.count++] = pkt;
        }
      }
      if (direct && !port!.txPending) this.markTxPending(port!);
      // One stride of one array per run (packets, bytes, used, tcp flags
      // side by side; FlowTable.stats).
      const o = f * STAT_STRIDE;
      st[o + ST_PACKETS] = st[o + ST_PACKETS]! + count;
      st[o + ST_BYTES] = st[o + ST_BYTES]! + bytes;
      st[o + ST_USED] = now;
      if (tcp !== 0) st[o + ST_TCP] = st[o + ST_TCP]! | (tcp & M_TCP_FLAGS);
      if (simple === -2) {
        // No actions: drop.
        for (let j = 0; j < gb.count; j++) {
          gb.packets[j]!.release();
          gb.packets[j] = null;
        }
        ctx.dropped += gb.count;
        gb.count = 0;
      } else if (simple < 0) {
        executor(ctx, gb, arena.arena, arena.offsets[a]!, arena.lengths[a]!);
        actionId = flows.actionId;
        simples = arena.simple;
        st = flows.stats;
        ports = this.ports;
      }
    }
    batch.clear();
  }

  /** Step 4: misses — coalesce, upcall, execute, install. */
  private handleMisses(batch: DpPacketBatch, missed: number): void {
    const keys = this.keyBuf;
    const dpcls = this.flows.dpcls;
    let bits = missed;
    while (bits !== 0) {
      const i = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      const base = i * W;
      if (this.flows.count > 0) {
        const f = dpcls.lookupOne(keys, base);
        if (f >= 0) {
          // Installed by an earlier upcall in this batch.
          this.flowOf[i] = f;
          this.nMegaflowHits++;
          continue;
        }
      }
      this.nMissed++;
      const pkt = batch.packets[i]!;
      batch.packets[i] = null;
      this.missUpcall(pkt, keys, i);
    }
  }

  /**
   * One miss upcall. The message handed to a synchronous handler is
   * reused (its arrays are valid only during the call — see
   * DpifUpcallHandler); queued upcalls get copies. Measured: copying the
   * key and packet per upcall cost ~25 % of flow-setup time in GC.
   */
  private missUpcall(pkt: DpPacket, keys: Uint32Array, slot: number): void {
    const base = slot * W;
    const handler = this.handler;
    if (handler === null) {
      this.queueUpcall({
        type: DPIF_UC_MISS,
        packet: pkt.buf.slice(pkt.start, pkt.start + pkt.len),
        key: copyKey(keys, base),
        ufid: ufidFromKey(keys, base),
        inPort: pkt.inPort,
        userdata: null,
      });
      pkt.release();
      return;
    }
    const up = this.upcallMsg;
    // A builtin copy: as fast as a compiled loop, and much faster than an
    // interpreted one (a fresh switch sets up its first flows before the
    // JIT has compiled this path).
    up.key.set(this.keyDpViews[slot]!);
    // Without tunnel, conntrack and Geneve words (extraction knows), the
    // key's words from the tunnel region on are zero: not hashed.
    const hot = (this.keyCold[slot]! & (KEY_COLD_TUN | KEY_COLD_CTX | KEY_COLD_GENEVE)) === 0;
    const ufid = ufidFromKey(keys, base, up.ufid, hot ? REGION_TUN_START : DPW);
    up.type = DPIF_UC_MISS;
    up.packet = pkt.frame();
    up.inPort = pkt.inPort;
    up.userdata = null;
    const reply = this.callHandler(handler, up);
    if (upcallChannel.hasSubscribers) upcallChannel.publish({ dp: this.name, upcall: up, reply });
    if (reply.error !== 0 || !(reply.actions instanceof Uint8Array)) {
      this.nLost++;
      this.nDropped++;
      pkt.release();
      return;
    }
    let mask = reply.mask;
    if (mask instanceof Uint32Array && mask.length >= DPW && this.flows.findByUfid(ufid) < 0 &&
        this.flows.count < this.flowLimit) {
      if (mask[W_IN_PORT] !== 0xffffffff) {
        this.scratchMask.set(mask.subarray(0, DPW));
        this.scratchMask[W_IN_PORT] = 0xffffffff;
        mask = this.scratchMask;
      }
      const f = this.flows.add(keys, base, mask, reply.actions, ufid, this.now);
      if (flowChannel.hasSubscribers) flowChannel.publish({ dp: this.name, event: "add", ufid: ufid.slice() });
      const st = this.flows.stats;
      const o = f * STAT_STRIDE;
      st[o + ST_PACKETS] = 1;
      st[o + ST_BYTES] = pkt.len;
      st[o + ST_USED] = this.now;
      st[o + ST_TCP] = keys[base + W_TCP_FLAGS]! & M_TCP_FLAGS;
    }
    const b = this.oneBatch;
    b.packets[0] = pkt;
    b.count = 1;
    executor(this.ctx, b, reply.actions, 0, reply.actions.length);
  }

  /**
   * Calls the handler; an exception (a bug above us) becomes an error reply
   * — logged, the packet dropped and counted lost — instead of unwinding
   * through the batch and leaving the datapath busy forever.
   */
  private callHandler(handler: DpifUpcallHandler, up: DpifUpcall): DpifUpcallReply {
    try {
      const r = handler.upcall(up);
      return r !== null && typeof r === "object" ? r : HANDLER_FAILED;
    } catch (e) {
      log.err(`upcall handler failed: ${e instanceof Error ? e.message : String(e)}`);
      return HANDLER_FAILED;
    }
  }

  private queueUpcall(up: DpifUpcall): void {
    if (this.upcallQueue.length >= MAX_QUEUED_UPCALLS) {
      this.nLost++;
      return;
    }
    this.upcallQueue.push(up);
  }

  /** Step 6: hand on everything the executor recorded. */
  private drain(depth: number): void {
    const ctx = this.ctx;
    for (;;) {
      const nOut = ctx.outCount;
      for (let k = 0; k < nOut; k++) {
        const pkt = ctx.outPkt[k]!;
        ctx.outPkt[k] = null;
        this.sendToPort(ctx.outPort[k]!, pkt);
      }
      ctx.outCount = 0;
      if (ctx.upCount > 0) {
        const n = ctx.upCount;
        const pkts = ctx.upPkt.slice(0, n);
        const uds = ctx.upUserdata.slice(0, n);
        for (let k = 0; k < n; k++) {
          ctx.upPkt[k] = null;
          ctx.upUserdata[k] = null;
        }
        ctx.upCount = 0;
        for (let k = 0; k < n; k++) this.actionUpcall(pkts[k]!, uds[k]!);
        continue;
      }
      if (ctx.recircCount > 0) {
        const n = ctx.recircCount;
        const stage = this.recircStage[depth]!;
        for (let k = 0; k < n; k++) {
          stage.push(ctx.recircPkt[k]!);
          ctx.recircPkt[k] = null;
        }
        ctx.recircCount = 0;
        if (depth >= MAX_RECIRC_DEPTH) {
          for (const p of stage) p.release();
          this.nDropped += stage.length;
          stage.length = 0;
          continue;
        }
        const b = this.recircBatches[depth]!;
        let k = 0;
        while (k < stage.length) {
          b.count = 0;
          while (k < stage.length && b.count < BATCH_SIZE) b.packets[b.count++] = stage[k++]!;
          this.classifyAndExecute(b, -1);
          this.drain(depth + 1);
        }
        stage.length = 0;
        continue;
      }
      break;
    }
  }

  private actionUpcall(pkt: DpPacket, userdata: Uint8Array | null): void {
    extractFlowKey(pkt, this.scratchKey);
    const up: DpifUpcall = {
      type: DPIF_UC_ACTION,
      packet: pkt.buf.slice(pkt.start, pkt.start + pkt.len),
      key: copyKey(this.scratchKey, 0),
      ufid: ufidFromKey(this.scratchKey, 0),
      inPort: pkt.inPort,
      userdata,
    };
    const handler = this.handler;
    if (handler === null) {
      this.queueUpcall(up);
      pkt.release();
      return;
    }
    const reply = this.callHandler(handler, up);
    if (reply.error !== 0 || !(reply.actions instanceof Uint8Array) || reply.actions.length === 0) {
      if (reply.error !== 0) this.nLost++;
      pkt.release();
      return;
    }
    const b = this.oneBatch;
    b.packets[0] = pkt;
    b.count = 1;
    executor(this.ctx, b, reply.actions, 0, reply.actions.length);
  }

  // HOT PATH: output (bench datapath).
  private sendToPort(portNo: number, pkt: DpPacket): void {
    const port = portNo >= 0 && portNo < this.ports.length ? this.ports[portNo] : null;
    if (port == null) {
      pkt.release();
      this.nDropped++;
      return;
    }
    const tx = port.tx;
    if (tx.count === BATCH_SIZE) port.netdev.txBatch(tx);
    tx.packets[tx.count++] = pkt;
    if (!port.txPending) this.markTxPending(port);
  }

  private markTxPending(port: DpPort): void {
    port.txPending = true;
    if (this.txPendingCount === this.txPendingList.length) this.txPendingList.push(null);
    this.txPendingList[this.txPendingCount++] = port;
  }

  private flushTx(): void {
    const list = this.txPendingList;
    const n = this.txPendingCount;
    for (let i = 0; i < n; i++) {
      this.flushPort(list[i]!);
      list[i] = null;
    }
    this.txPendingCount = 0;
  }

  private flushPort(p: DpPort): void {
    p.txPending = false;
    if (p.tx.count > 0) p.netdev.txBatch(p.tx);
  }
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export { DEFAULT_EMC_INSERT_INV_PROB };
