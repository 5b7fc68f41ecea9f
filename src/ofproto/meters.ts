/**
 * The meter table of one switch: meter_mod semantics, statistics and
 * features as ovs-vswitchd 3.1 with the userspace datapath (netdev, dummy)
 * has them, and the datapath's token buckets.
 *
 * ## Public API (what the connection manager calls)
 * - `new MeterTable<A>(tables | null, features?)`: with an
 *   `OfprotoTables`, flow_mods whose meter instruction names a missing
 *   meter fail (OFPMMFC_INVALID_METER), a meter's flow_count counts those
 *   rules, and deleting it deletes them (reason meter_delete). Its
 *   `ActionFacts.meterOf` names a rule's meter.
 * - `meterMod(mm: MeterMod, now): MeterModResult<A>` — `{ok: true,
 *   removed}` or `{ok: false, error}`. The codec's `MeterModBody` is a
 *   `MeterMod`.
 * - `configReply(meterId)`, `statsReply(meterId, now)` — `{ok: true,
 *   meters | stats}` (the OFPST_METER_CONFIG / OFPST_METER bodies) or
 *   `{ok: false, error: "OFPMMFC_UNKNOWN_METER"}` for a missing meter, as
 *   OVS answers; OFPM13_ALL lists every meter, by id.
 * - `featuresReply()`: the OFPST_METER_FEATURES body.
 * - `hook(now, removed)`: the object `Ofproto.meters` takes (meterMod /
 *   meterStats / exists over decoded message bodies).
 * - Datapath side: `meterPackets(meterId, nPackets, bytes, now)` and
 *   `meterBatch(meterId, sizes, n, now, dropped)` run the token buckets.
 *
 * ## Semantics (OVS 3.1: ofproto.c, ofproto-dpif, dpif.c, dpif-netdev.c)
 * Checks, in order, for add and modify: meter id 0 or above OFPM13_MAX
 * (other than slowpath / controller) is OFPMMFC_INVALID_METER; more than
 * max_bands bands OFPMMFC_OUT_OF_BANDS; then add of an existing meter
 * OFPMMFC_METER_EXISTS, modify of a missing one OFPMMFC_UNKNOWN_METER;
 * then the datapath's: no more meter slots OFPMMFC_OUT_OF_METERS; not
 * exactly one of kbps / pktps OFPMMFC_BAD_FLAGS; no band
 * OFPMMFC_OUT_OF_BANDS; a zero rate OFPMMFC_BAD_RATE; unknown flag bits
 * OFPMMFC_BAD_FLAGS; a band other than drop OFPMMFC_BAD_BAND. A band's
 * burst_size of 0 becomes its rate (and is reported so). Delete is never
 * an error; OFPM13_ALL deletes every meter. A modified meter keeps its
 * creation time and rules; its counters start again (the datapath meter
 * is replaced).
 *
 * ## Token buckets (dpif-netdev's dp_netdev_run_meter)
 * Each band's bucket holds up to burst_size * 1000 units (bits for kbps,
 * milli-packets for pktps) and starts full; it fills at `rate` units per
 * ms. A packet that finds a band's bucket short exceeds that band; it is
 * dropped by (and counted on) the highest-rate band it exceeds.
 */
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { OfRule } from "./rule.js";
import type { OfprotoTables, RemovedRule } from "./tables.js";

export const OFPM13_MAX = 0xffff0000;
export const OFPM13_SLOWPATH = 0xfffffffd;
export const OFPM13_CONTROLLER = 0xfffffffe;
export const OFPM13_ALL = 0xffffffff;

export const OFPMC_ADD = 0;
export const OFPMC_MODIFY = 1;
export const OFPMC_DELETE = 2;

export const OFPMF_KBPS = 1;
export const OFPMF_PKTPS = 2;
export const OFPMF_BURST = 4;
export const OFPMF_STATS = 8;

export const OFPMBT_DROP = 1;
export const OFPMBT_DSCP_REMARK = 2;

/** One band (the codec's MeterBand). */
export interface MeterBand {
  type: number;
  /** kb/s or packets/s. */
  rate: number;
  /** kb or packets. */
  burstSize: number;
  /** dscp_remark only. */
  precLevel: number;
}

/** A meter's configuration (the codec's MeterConfig). */
export interface MeterConfig {
  meterId: number;
  flags: number;
  bands: MeterBand[];
}

/** A meter_mod (the codec's MeterModBody). */
export interface MeterMod {
  /** OFPMC_*. */
  command: number;
  meter: MeterConfig;
}

/** The meter features reply body (the codec's MeterFeaturesBody). */
export interface MeterFeatures {
  maxMeter: number;
  bandTypes: number;
  capabilities: number;
  maxBands: number;
  maxColor: number;
}

/** What ovs-vswitchd 3.1 reports with the userspace datapath: 2^18 meters, drop bands only, 8 bands. */
export const NETDEV_METER_FEATURES: Readonly<MeterFeatures> = Object.freeze({
  maxMeter: 1 << 18,
  bandTypes: 1 << OFPMBT_DROP,
  capabilities: OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS,
  maxBands: 8,
  maxColor: 0,
});

/** One entry of a meter stats reply (the codec's MeterStats). */
export interface MeterStatsEntry {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bands: { packetCount: bigint; byteCount: bigint }[];
}

export type MeterModResult<A> = { ok: true; removed: RemovedRule<A>[] } | { ok: false; error: OfpErrorName };
export type MeterReply<T> = { ok: true; entries: T[] } | { ok: false; error: OfpErrorName };

const SUPPORTED_FLAGS = OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS;

/** One meter: its configuration, counters and the datapath's buckets. */
export class Meter {
  packetInCount = 0;
  byteInCount = 0;
  readonly bandPackets: Float64Array;
  readonly bandBytes: Float64Array;
  /** Each band's tokens (bits or milli-packets). */
  readonly buckets: Float64Array;
  /** When the buckets were last filled (ms). */
  used: number;
  /** The longest time (ms) any bucket takes to fill: longer gaps add no more. */
  readonly maxDelta: number;

  constructor(
    readonly config: Readonly<MeterConfig>,
    /** ms; kept across modifications. */
    readonly created: number,
    now: number,
  ) {
    const n = config.bands.length;
    this.bandPackets = new Float64Array(n);
    this.bandBytes = new Float64Array(n);
    this.buckets = new Float64Array(n);
    let maxDelta = 0;
    for (let i = 0; i < n; i++) {
      const b = config.bands[i]!;
      this.buckets[i] = b.burstSize * 1000;
      maxDelta = Math.max(maxDelta, Math.floor((b.burstSize * 1000) / b.rate));
    }
    this.maxDelta = maxDelta;
    this.used = now;
  }

  get meterId(): number {
    return this.config.meterId;
  }
}

/** A duration in ms as OpenFlow's seconds + nanoseconds. */
function secNsec(ms: number): { sec: number; nsec: number } {
  const m = Math.max(0, Math.floor(ms));
  return { sec: Math.floor(m / 1000), nsec: (m % 1000) * 1_000_000 };
}

/**
 * The datapath meter ids of the meters of every bridge on one datapath
 * (OVS's provider meter ids, which `meter(N)` actions name): a meter
 * takes the lowest free id when it is added and gives it back when
 * deleted, as OVS's id pool does. The datapath runs packets through a
 * meter by its id (`run`, the shape of ExecContext.meter).
 */
export class MeterIdPool {
  private readonly owners = new Map<number, { table: MeterTable<unknown>; meterId: number }>();

  alloc(table: MeterTable<unknown>, meterId: number): number {
    let id = 0;
    while (this.owners.has(id)) id++;
    this.owners.set(id, { table, meterId });
    return id;
  }

  free(id: number): void {
    this.owners.delete(id);
  }

  /** Runs one packet of `bytes` bytes through datapath meter `id` at `now`; true when it is dropped. */
  run(id: number, bytes: number, now: number): boolean {
    const o = this.owners.get(id);
    return o !== undefined && o.table.meterPackets(o.meterId, 1, bytes, now) > 0;
  }
}

export class MeterTable<A> {
  private readonly meters = new Map<number, Meter>();
  /**
   * Where the meters' datapath ids come from (ofproto-dpif sets the
   * datapath's pool); without one, meter N is datapath meter N-1.
   */
  idPool: MeterIdPool | null = null;
  private readonly providerIds = new Map<number, number>();
  readonly features: MeterFeatures;
  /** Scratch for `meterPackets` / `meterBatch` (no allocation per batch). */
  private sizes = new Float64Array(64);
  private exceededRate = new Float64Array(64);
  private exceededBand = new Int32Array(64);
  private droppedScratch = new Uint8Array(64);

  constructor(
    private readonly tables: OfprotoTables<A> | null = null,
    features: Readonly<MeterFeatures> = NETDEV_METER_FEATURES,
  ) {
    this.features = { ...features };
    if (tables !== null) tables.meters = this;
  }

  get size(): number {
    return this.meters.size;
  }

  has(meterId: number): boolean {
    return this.meters.has(meterId);
  }

  get(meterId: number): Meter | undefined {
    return this.meters.get(meterId);
  }

  /** The datapath id of meter `meterId` (what `meter(N)` names), or null when it has none. */
  providerId(meterId: number): number | null {
    if (this.idPool === null) return this.meters.has(meterId) ? meterId - 1 : null;
    return this.providerIds.get(meterId) ?? null;
  }

  /** Every meter, by id. */
  all(): Meter[] {
    return [...this.meters.values()].sort((a, b) => a.meterId - b.meterId);
  }

  // ---- meter_mod ----

  /** Executes one meter_mod at time `now` (ms). */
  meterMod(mm: MeterMod, now: number): MeterModResult<A> {
    const id = mm.meter.meterId >>> 0;
    if (mm.command === OFPMC_DELETE) return { ok: true, removed: this.delete(id) };
    if (mm.command !== OFPMC_ADD && mm.command !== OFPMC_MODIFY) return { ok: false, error: "OFPMMFC_BAD_COMMAND" };
    if (this.features.maxMeter === 0) return { ok: false, error: "OFPMMFC_INVALID_METER" };
    if (id === 0 || (id > OFPM13_MAX && id !== OFPM13_SLOWPATH && id !== OFPM13_CONTROLLER)) return { ok: false, error: "OFPMMFC_INVALID_METER" };
    if (mm.meter.bands.length > this.features.maxBands) return { ok: false, error: "OFPMMFC_OUT_OF_BANDS" };
    const old = this.meters.get(id);
    if (mm.command === OFPMC_ADD) {
      if (old !== undefined) return { ok: false, error: "OFPMMFC_METER_EXISTS" };
      if (this.meters.size >= this.features.maxMeter) return { ok: false, error: "OFPMMFC_OUT_OF_METERS" };
    } else if (old === undefined) return { ok: false, error: "OFPMMFC_UNKNOWN_METER" };
    const bad = this.checkConfig(mm.meter);
    if (bad !== null) return { ok: false, error: bad };
    const config: MeterConfig = {
      meterId: id,
      flags: mm.meter.flags,
      // Without a burst size the datapath uses the rate, and OVS reports that.
      bands: mm.meter.bands.map((b) => ({ ...b, burstSize: b.burstSize === 0 ? b.rate : b.burstSize })),
    };
    this.meters.set(id, new Meter(config, old?.created ?? now, now));
    if (old === undefined && this.idPool !== null) this.providerIds.set(id, this.idPool.alloc(this as MeterTable<unknown>, id));
    return { ok: true, removed: [] };
  }

  /** dpif.c's and dpif-netdev's checks of a meter configuration. */
  private checkConfig(m: MeterConfig): OfpErrorName | null {
    const units = m.flags & (OFPMF_KBPS | OFPMF_PKTPS);
    if (units === 0 || units === (OFPMF_KBPS | OFPMF_PKTPS)) return "OFPMMFC_BAD_FLAGS";
    if (m.bands.length === 0) return "OFPMMFC_OUT_OF_BANDS";
    for (const b of m.bands) if (b.rate === 0) return "OFPMMFC_BAD_RATE";
    if (m.flags & ~SUPPORTED_FLAGS) return "OFPMMFC_BAD_FLAGS";
    if (m.bands.length > this.features.maxBands) return "OFPMMFC_OUT_OF_BANDS";
    for (const b of m.bands) if (!(this.features.bandTypes & (1 << b.type)) || b.type > 31) return "OFPMMFC_BAD_BAND";
    return null;
  }

  private delete(id: number): RemovedRule<A>[] {
    const doomed = new Set<number>();
    if (id === OFPM13_ALL) for (const k of this.meters.keys()) doomed.add(k);
    else if (this.meters.has(id)) doomed.add(id);
    if (doomed.size === 0) return [];
    for (const k of doomed) {
      this.meters.delete(k);
      const pid = this.providerIds.get(k);
      if (pid !== undefined) {
        this.idPool?.free(pid);
        this.providerIds.delete(k);
      }
    }
    const t = this.tables;
    if (t === null || t.facts.meterOf === undefined) return [];
    const rules = new Set<OfRule<A>>();
    for (const id of doomed) for (const r of t.rulesOfMeter(id)) rules.add(r);
    return t.deleteRules(rules, "meter_delete");
  }

  // ---- replies ----

  private select(id: number): MeterReply<Meter> {
    if (id === OFPM13_ALL) return { ok: true, entries: this.all() };
    const m = this.meters.get(id);
    return m === undefined ? { ok: false, error: "OFPMMFC_UNKNOWN_METER" } : { ok: true, entries: [m] };
  }

  /** The meter config reply entries for `meterId` (OFPM13_ALL = every meter). */
  configReply(meterId: number): MeterReply<MeterConfig> {
    const s = this.select(meterId >>> 0);
    if (!s.ok) return s;
    return { ok: true, entries: s.entries.map((m) => ({ meterId: m.meterId, flags: m.config.flags, bands: m.config.bands.map((b) => ({ ...b })) })) };
  }

  /** The meter stats reply entries for `meterId` (OFPM13_ALL = every meter). */
  statsReply(meterId: number, now: number): MeterReply<MeterStatsEntry> {
    const s = this.select(meterId >>> 0);
    if (!s.ok) return s;
    return {
      ok: true,
      entries: s.entries.map((m) => {
        const d = secNsec(now - m.created);
        return {
          meterId: m.meterId,
          flowCount: this.flowCount(m.meterId),
          packetInCount: BigInt(m.packetInCount),
          byteInCount: BigInt(m.byteInCount),
          durationSec: d.sec,
          durationNsec: d.nsec,
          bands: Array.from(m.bandPackets, (p, i) => ({ packetCount: BigInt(p), byteCount: BigInt(m.bandBytes[i]!) })),
        };
      }),
    };
  }

  /** The meter features reply body. */
  featuresReply(): MeterFeatures {
    return { ...this.features };
  }

  /** How many published rules use meter `meterId` (OVS's flow_count). */
  flowCount(meterId: number): number {
    return this.tables?.rulesOfMeter(meterId).size ?? 0;
  }

  // ---- the switch's hook ----

  /**
   * What `Ofproto.meters` takes (its MeterHook): meter_mods from decoded
   * OFPT_METER_MOD bodies; meter stats / config requests (`{meterId}`
   * bodies) answered with reply bodies, or with the error name
   * OFPMMFC_UNKNOWN_METER (a string) for a missing meter, which the switch
   * must send as an error reply; the rules a meter delete removes go to
   * `removed` (for flow_removed messages).
   */
  hook(now: () => number, removed: (rules: RemovedRule<A>[]) => void) {
    return {
      meterMod: (body: unknown, _version: number, _conn: unknown): OfpErrorName | null => {
        const r = this.meterMod(body as MeterMod, now());
        if (!r.ok) return r.error;
        if (r.removed.length > 0) removed(r.removed);
        return null;
      },
      meterStats: (type: string, body: unknown, _version: number): unknown => {
        const meterId = (body as { meterId?: number } | null)?.meterId ?? OFPM13_ALL;
        if (type === "OFPST_METER_FEATURES_REQUEST") return this.featuresReply();
        const r = type === "OFPST_METER_REQUEST" ? this.statsReply(meterId, now()) : this.configReply(meterId);
        if (!r.ok) return r.error;
        return type === "OFPST_METER_REQUEST" ? { stats: r.entries } : { meters: r.entries };
      },
      exists: (meterId: number): boolean => this.has(meterId),
    };
  }

  // ---- datapath side ----

  /**
   * Runs `nPackets` packets of `bytes` bytes in all (split evenly) through
   * a meter at `now` (ms); returns how many it drops. Those dropped are
   * the last ones of the batch that the bands exceed. A missing meter
   * passes everything.
   */
  meterPackets(meterId: number, nPackets: number, bytes: number, now: number): number {
    if (nPackets <= 0) return 0;
    if (this.sizes.length < nPackets) this.grow(nPackets);
    const each = Math.floor(bytes / nPackets);
    const extra = bytes - each * nPackets;
    for (let i = 0; i < nPackets; i++) this.sizes[i] = each + (i < extra ? 1 : 0);
    return this.run(meterId, this.sizes, nPackets, now, this.droppedScratch);
  }

  /**
   * Runs a batch of `n` packets of the given sizes through a meter at
   * `now` (ms): sets `dropped[i]` to 1 for each packet it drops, 0 for
   * the others; returns the number dropped.
   */
  meterBatch(meterId: number, sizes: ArrayLike<number>, n: number, now: number, dropped: Uint8Array): number {
    if (this.sizes.length < n) this.grow(n);
    for (let i = 0; i < n; i++) this.sizes[i] = sizes[i]!;
    return this.run(meterId, this.sizes, n, now, dropped);
  }

  private grow(n: number): void {
    const cap = Math.max(n, this.sizes.length * 2);
    this.sizes = new Float64Array(cap);
    this.exceededRate = new Float64Array(cap);
    this.exceededBand = new Int32Array(cap);
    this.droppedScratch = new Uint8Array(cap);
  }

  private run(meterId: number, sizes: Float64Array, n: number, now: number, dropped: Uint8Array): number {
    const m = this.meters.get(meterId);
    if (dropped.length < n && dropped !== this.droppedScratch) throw new RangeError("dropped is shorter than the batch");
    for (let i = 0; i < n; i++) dropped[i] = 0;
    if (m === undefined || n === 0) return 0;
    let delta = Math.floor(now) - Math.floor(m.used);
    if (delta < 0) delta = 0;
    if (delta > m.maxDelta) delta = m.maxDelta;
    m.used = now;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += sizes[i]!;
    m.packetInCount += n;
    m.byteInCount += bytes;
    const pktps = (m.config.flags & OFPMF_PKTPS) !== 0;
    const volume = pktps ? n * 1000 : bytes * 8;
    const rate = this.exceededRate;
    const band = this.exceededBand;
    for (let i = 0; i < n; i++) {
      rate[i] = 0;
      band[i] = -1;
    }
    const bands = m.config.bands;
    for (let b = 0; b < bands.length; b++) {
      const cfg = bands[b]!;
      let bucket = m.buckets[b]! + delta * cfg.rate;
      const cap = cfg.burstSize * 1000;
      if (bucket > cap) bucket = cap;
      if (bucket >= volume) {
        m.buckets[b] = bucket - volume;
        continue;
      }
      if (pktps) {
        const passed = Math.floor(bucket / 1000);
        bucket %= 1000;
        for (let i = passed; i < n; i++) {
          if (cfg.rate > rate[i]!) {
            rate[i] = cfg.rate;
            band[i] = b;
          }
        }
      } else {
        for (let i = 0; i < n; i++) {
          const bits = sizes[i]! * 8;
          if (bucket >= bits) bucket -= bits;
          else if (cfg.rate > rate[i]!) {
            rate[i] = cfg.rate;
            band[i] = b;
          }
        }
      }
      m.buckets[b] = bucket;
    }
    let nDropped = 0;
    for (let i = 0; i < n; i++) {
      const b = band[i]!;
      if (b < 0) continue;
      m.bandPackets[b]! += 1;
      m.bandBytes[b]! += sizes[i]!;
      dropped[i] = 1;
      nDropped++;
    }
    return nDropped;
  }
}
