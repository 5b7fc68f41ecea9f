/**
 * The execution context: what the action executor (`execute.ts`, owned by
 * the actions author) needs from the datapath, as plain data.
 *
 * Contract (executor side).
 *   `executeActions(ctx, batch, actions, offset, length)` runs the
 *   netlink-encoded action list `actions[offset .. offset+length)` on every
 *   packet of `batch` (a `DpPacketBatch`). It never throws for bad actions
 *   or bad packets: it drops and counts (`ctx.dropped`). It does not call
 *   back into the datapath; its effects are recorded here:
 *   - output(port): `ctx.pushOutput(port, pkt)`. The datapath owns the
 *     packet from then on. If more actions follow that need the packet,
 *     the executor clones it first (`ctx.pool.alloc()` + `copyFrom`) —
 *     when the pool is empty the clone is skipped and counted in
 *     `ctx.dropped`.
 *   - userspace(pid, userdata, ...): `ctx.pushUpcall(clone, userdata,
 *     userdataOffset, userdataLength)` with a clone (or the packet itself
 *     when it is the last action); userdata is read from the action bytes
 *     and copied by the datapath, so no subarray is needed.
 *   - recirc(id): set `pkt.recircId = id` and `ctx.pushRecirc(pkt)`; the
 *     datapath re-classifies it after the current batch (depth-limited).
 *   - packets neither output, upcalled nor recirculated at the end of the
 *     list are dropped: the executor releases them (`pkt.release()`) and
 *     adds them to `ctx.dropped`.
 *   - `ctx.now` (ms, monotonic) is the time of the batch.
 *   - `ctx.hashBasis` seeds dp_hash / hash actions.
 *
 * Contract (datapath side). Before each `executeActions` call the datapath
 * leaves the previous call's records in place (they accumulate over a
 * whole rx batch) and drains them after the batch: outputs are grouped per
 * port into tx batches, upcalls are handed to the upcall handler,
 * recirculated packets go round again.
 *
 * All arrays grow on demand (rarely: only when one batch fans out to more
 * than `initial` packets), so the steady state allocates nothing.
 */
import type { DpPacket, DpPacketPool } from "../packet/dp-packet.js";
import type { Conntrack } from "./conntrack.js";

export class ExecContext {
  /** Time of the current batch in milliseconds. */
  now = 0;
  /** Seed for dp_hash and the `hash` action. */
  hashBasis = 0;
  /** Packets dropped by the executor (bad action, no buffer, end of list). */
  dropped = 0;
  /** Pool for clones. */
  pool: DpPacketPool;

  /** Outputs recorded: (port, packet) pairs. */
  outCount = 0;
  outPort: Int32Array;
  outPkt: (DpPacket | null)[];

  /** `userspace` action upcalls recorded. */
  upCount = 0;
  upPkt: (DpPacket | null)[];
  /** Userdata bytes of each upcall (copied), or null when absent. */
  upUserdata: (Uint8Array | null)[];

  /**
   * Tunnel type of each datapath port, indexed by port number, for
   * `tnl_pop(port)` (TNL_TYPE_* of execute-tnl.ts; 0: not a tunnel port,
   * the packet is dropped as OVS drops it). Kept by the datapath.
   */
  tnlType: Uint8Array = new Uint8Array(0);

  /**
   * The datapath's meters for `meter(id)`: runs a packet of `bytes` bytes
   * through meter `id` at `now`, true when a band drops it. Null: no
   * meters (every packet passes). Kept by the datapath.
   */
  meter: ((id: number, bytes: number, now: number) => boolean) | null = null;

  /** The datapath's connection tracker for `ct` (null: ct marks packets +trk+inv). */
  conntrack: Conntrack | null = null;

  /** Packets to re-classify after `recirc`. */
  recircCount = 0;
  recircPkt: (DpPacket | null)[];

  constructor(pool: DpPacketPool, initial = 256) {
    this.pool = pool;
    this.outPort = new Int32Array(initial);
    this.outPkt = new Array<DpPacket | null>(initial).fill(null);
    this.upPkt = new Array<DpPacket | null>(16).fill(null);
    this.upUserdata = new Array<Uint8Array | null>(16).fill(null);
    this.recircPkt = new Array<DpPacket | null>(64).fill(null);
  }

  /** Records output of `pkt` to odp port `port`; the datapath now owns `pkt`. */
  pushOutput(port: number, pkt: DpPacket): void {
    const i = this.outCount;
    if (i === this.outPort.length) {
      const bigger = new Int32Array(i * 2);
      bigger.set(this.outPort);
      this.outPort = bigger;
      for (let j = i; j < i * 2; j++) this.outPkt.push(null);
    }
    this.outPort[i] = port;
    this.outPkt[i] = pkt;
    this.outCount = i + 1;
  }

  /**
   * Records a `userspace` upcall of `pkt` (the datapath owns it) with
   * userdata `src[offset .. offset+length)` (`src` null or length < 0: none).
   */
  pushUpcall(pkt: DpPacket, src: Uint8Array | null, offset: number, length: number): void {
    const i = this.upCount;
    if (i === this.upPkt.length) {
      this.upPkt.push(null);
      this.upUserdata.push(null);
    }
    this.upPkt[i] = pkt;
    this.upUserdata[i] = src === null || length < 0 ? null : Uint8Array.prototype.slice.call(src, offset, offset + length);
    this.upCount = i + 1;
  }

  /** Records `pkt` (with its new `recircId`) for re-classification. */
  pushRecirc(pkt: DpPacket): void {
    const i = this.recircCount;
    if (i === this.recircPkt.length) this.recircPkt.push(null);
    this.recircPkt[i] = pkt;
    this.recircCount = i + 1;
  }

  /** Forgets all records (the packets must have been handed on). */
  reset(): void {
    for (let i = 0; i < this.outCount; i++) this.outPkt[i] = null;
    for (let i = 0; i < this.upCount; i++) {
      this.upPkt[i] = null;
      this.upUserdata[i] = null;
    }
    for (let i = 0; i < this.recircCount; i++) this.recircPkt[i] = null;
    this.outCount = 0;
    this.upCount = 0;
    this.recircCount = 0;
  }
}

/** The executor's signature (implemented in execute.ts). */
export type ExecuteActionsFn = (
  ctx: ExecContext,
  batch: import("../packet/dp-packet.js").DpPacketBatch,
  actions: Uint8Array,
  offset: number,
  length: number,
) => void;
