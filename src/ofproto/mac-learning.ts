/**
 * The MAC learning table of a bridge (OVS's lib/mac-learning.c): which
 * bundle (Port row) each (MAC, VLAN) was last seen on, for the NORMAL
 * action (xlate-normal.ts) and the fdb/* commands (fdb-commands.ts).
 *
 * ## Semantics (OVS 3.1's, checked against the real ovs-vswitchd)
 * - Entries are keyed by (MAC, VLAN). Multicast sources and VLANs listed
 *   in Bridge.flood_vlans are never learned; multicast destinations are
 *   never found.
 * - Aging: a dynamic entry expires `idleTime` seconds (mac-aging-time,
 *   default 300, clamped to 15..3600) after it was last refreshed. Time
 *   is kept in whole seconds as OVS does; an entry is refreshed at most
 *   once per second (a packet that finds its entry younger than one
 *   second and on the same bundle changes nothing: the cheap common case).
 * - Size: at most `maxEntries` (mac-table-size, default 8192, clamped to
 *   10..1,000,000). Inserting into a full table evicts "fairly": the
 *   least recently used entry of the bundle that holds the most entries
 *   (static entries included, as in OVS). Lowering the limit expires
 *   entries from the global LRU end at the next `run`.
 * - Moves: learning a MAC on another bundle moves the entry, counts a
 *   "port moved" and asks for revalidation (megaflows that forward to the
 *   old bundle are stale).
 * - Gratuitous ARP lock: a gratuitous ARP seen on a non-bond bundle locks
 *   the entry for 5 s against learning from gratuitous ARPs arriving on a
 *   bond (they are likely reflections of the original).
 * - Static entries (fdb/add) never age, are never moved by learning and
 *   survive fdb/flush; fdb/del removes only them. Adding one over an
 *   existing entry overrides it.
 * - Statistics (fdb/stats-show): current/maximum entries, static entries,
 *   learned, expired, evicted and moved totals; fdb/stats-clear zeroes the
 *   four totals. (Unlike OVS 3.1, which leaves its static count stale when
 *   a static entry is evicted and shifts static entries' expiry when
 *   mac-aging-time changes, both stay correct here.)
 *
 * ## Design
 * A chained hash table over entries whose key is three integers (MAC high
 * 16 bits, low 32 bits, VLAN) hashed with `Math.imul` — no strings or
 * allocation on the per-packet paths (`lookup`, `learn` of a known MAC).
 * Entries sit on a global LRU list (least recently used first: the
 * fdb/show order and the aging order) and on a per-bundle LRU list (for
 * fair eviction). Bundles are identified by name, so a bridge
 * reconfiguration that rebuilds its XBundle objects keeps the table valid.
 */
import type { MacEntry, MacTable, XBundle } from "./xlate-types.js";

/** mac-table-size default (OVS MAC_DEFAULT_MAX). */
export const MAC_DEFAULT_MAX = 8192;
/** mac-aging-time default, seconds (OVS MAC_ENTRY_DEFAULT_IDLE_TIME). */
export const MAC_ENTRY_DEFAULT_IDLE_TIME = 300;
/** Seconds a gratuitous ARP on a non-bond bundle locks its entry (OVS GRAT_ARP_LOCK_TIME). */
export const GRAT_ARP_LOCK_TIME = 5;

const MIN_IDLE_TIME = 15;
const MAX_IDLE_TIME = 3600;
const MIN_ENTRIES = 10;
const MAX_ENTRIES = 1000 * 1000;
const INITIAL_BUCKETS = 64;

/** Clamps mac-aging-time as OVS does (15..3600 s). */
export function normalizeIdleTime(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < MIN_IDLE_TIME) return MIN_IDLE_TIME;
  return seconds > MAX_IDLE_TIME ? MAX_IDLE_TIME : Math.floor(seconds);
}

/** Clamps mac-table-size as OVS does (10..1,000,000). */
export function normalizeMaxEntries(n: number): number {
  if (!Number.isFinite(n) || n < MIN_ENTRIES) return MIN_ENTRIES;
  return n > MAX_ENTRIES ? MAX_ENTRIES : Math.floor(n);
}

/** True for a group (multicast or broadcast) address: the I/G bit of the first byte. */
export function macIsMulticast(mac: Uint8Array, off: number): boolean {
  return (mac[off]! & 1) !== 0;
}

function macHash(hi: number, lo: number, vlan: number): number {
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ ((hi << 12) | vlan), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ (hi >>> 4), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

/** One learned (or static) MAC: the public MacEntry plus the list and hash links. */
export class MacLearningEntry implements MacEntry {
  readonly mac: Uint8Array;
  readonly vlan: number;
  bundle: XBundle;
  used: number;
  isStatic: boolean;
  /** MAC bytes 0-1 and 2-5 as integers: the hash key. */
  readonly macHi: number;
  readonly macLo: number;
  readonly hash: number;
  /** Expiry, in whole seconds of the table's clock (dynamic entries only). */
  expires = 0;
  /** Gratuitous ARP lock: learning from bonds refused until this second. */
  gratArpLockUntil = -Infinity;
  chainNext: MacLearningEntry | null = null;
  lruPrev: MacLearningEntry | null = null;
  lruNext: MacLearningEntry | null = null;
  portPrev: MacLearningEntry | null = null;
  portNext: MacLearningEntry | null = null;
  port: PortEntries | null = null;

  constructor(macHi: number, macLo: number, vlan: number, hash: number, bundle: XBundle, now: number) {
    this.macHi = macHi;
    this.macLo = macLo;
    this.vlan = vlan;
    this.hash = hash;
    this.bundle = bundle;
    this.used = now;
    this.isStatic = false;
    const m = new Uint8Array(6);
    m[0] = macHi >>> 8;
    m[1] = macHi & 0xff;
    m[2] = macLo >>> 24;
    m[3] = (macLo >>> 16) & 0xff;
    m[4] = (macLo >>> 8) & 0xff;
    m[5] = macLo & 0xff;
    this.mac = m;
  }
}

/** The entries of one bundle, least recently used first (OVS's mac_learning_port). */
class PortEntries {
  count = 0;
  head: MacLearningEntry | null = null;
  tail: MacLearningEntry | null = null;
  constructor(readonly name: string) {}
}

/** The fdb/stats-show counters. */
export interface MacLearningStats {
  current: number;
  max: number;
  static: number;
  learned: number;
  expired: number;
  evicted: number;
  moved: number;
}

/** What fdb/add found before overriding (for its "Overriding ..." reply). */
export interface StaticAddResult {
  /** The entry that was there, or null. */
  previous: { isStatic: boolean; bundle: XBundle } | null;
}

function sameBundle(a: XBundle, b: XBundle): boolean {
  return a === b || a.name === b.name;
}

/** The MAC learning table of one bridge. */
export class MacLearning implements MacTable {
  private buckets: (MacLearningEntry | null)[] = new Array<MacLearningEntry | null>(INITIAL_BUCKETS).fill(null);
  private mask = INITIAL_BUCKETS - 1;
  private n = 0;
  private nStatic = 0;
  private lruHead: MacLearningEntry | null = null;
  private lruTail: MacLearningEntry | null = null;
  private readonly ports = new Map<string, PortEntries>();
  private floodVlans: ReadonlySet<number> | null = null;
  private idle: number;
  private max: number;
  private revalidate = false;
  private totalLearned = 0;
  private totalExpired = 0;
  private totalEvicted = 0;
  private totalMoved = 0;

  constructor(idleTime = MAC_ENTRY_DEFAULT_IDLE_TIME, maxEntries = MAC_DEFAULT_MAX) {
    this.idle = normalizeIdleTime(idleTime);
    this.max = normalizeMaxEntries(maxEntries);
  }

  /* ---------------- configuration ---------------- */

  /** mac-aging-time in seconds (after clamping). */
  get idleTime(): number {
    return this.idle;
  }

  /** Changes mac-aging-time; dynamic entries keep their age. */
  setIdleTime(seconds: number): void {
    const idle = normalizeIdleTime(seconds);
    if (idle === this.idle) return;
    const delta = idle - this.idle;
    for (let e = this.lruHead; e; e = e.lruNext) if (!e.isStatic) e.expires += delta;
    this.idle = idle;
  }

  /** mac-table-size (after clamping). */
  get maxEntries(): number {
    return this.max;
  }

  /** Changes mac-table-size; a smaller table sheds entries at the next `run`. */
  setMaxEntries(n: number): void {
    this.max = normalizeMaxEntries(n);
    if (this.n > this.max) this.revalidate = true;
  }

  /**
   * VLANs on which nothing is learned and everything floods
   * (Bridge.flood_vlans); null = none. Returns true when the set changed
   * (the caller then revalidates every megaflow).
   */
  setFloodVlans(vlans: ReadonlySet<number> | null): boolean {
    const next = vlans && vlans.size > 0 ? vlans : null;
    const cur = this.floodVlans;
    if (cur === next) return false;
    if (cur && next && cur.size === next.size && [...cur].every((v) => next.has(v))) return false;
    this.floodVlans = next ? new Set(next) : null;
    return true;
  }

  /* ---------------- per-packet operations ---------------- */

  // HOT PATH (once per NORMAL translation)
  mayLearn(mac: Uint8Array, macOff: number, vlan: number): boolean {
    return (mac[macOff]! & 1) === 0 && (this.floodVlans === null || !this.floodVlans.has(vlan));
  }

  // HOT PATH (once per NORMAL translation)
  lookup(mac: Uint8Array, macOff: number, vlan: number): MacLearningEntry | null {
    if ((mac[macOff]! & 1) !== 0) return null;
    if (this.floodVlans !== null && this.floodVlans.has(vlan)) return null;
    const hi = (mac[macOff]! << 8) | mac[macOff + 1]!;
    const lo = ((mac[macOff + 2]! << 24) | (mac[macOff + 3]! << 16) | (mac[macOff + 4]! << 8) | mac[macOff + 5]!) >>> 0;
    return this.find(hi, lo, vlan, macHash(hi, lo, vlan));
  }

  // HOT PATH (once per NORMAL translation that may learn)
  learn(mac: Uint8Array, macOff: number, vlan: number, bundle: XBundle, now: number, isGratArp = false, isBond = false): boolean {
    if (!this.mayLearn(mac, macOff, vlan)) return false;
    const hi = (mac[macOff]! << 8) | mac[macOff + 1]!;
    const lo = ((mac[macOff + 2]! << 24) | (mac[macOff + 3]! << 16) | (mac[macOff + 4]! << 8) | mac[macOff + 5]!) >>> 0;
    const hash = macHash(hi, lo, vlan);
    const sec = Math.floor(now / 1000);
    let e = this.find(hi, lo, vlan, hash);
    if (e !== null) {
      /* Learning never touches a static entry. */
      if (e.isStatic) return false;
      /* The common case: refreshed within the last second, same bundle. */
      if (this.idle - (e.expires - sec) === 0) {
        if (isGratArp) {
          if (isBond && sec < e.gratArpLockUntil) return false;
          if (isBond && sameBundle(e.bundle, bundle)) return this.keepBundle(e, bundle);
        } else if (sameBundle(e.bundle, bundle)) {
          return this.keepBundle(e, bundle);
        }
      }
      this.touch(e);
    } else {
      if (this.n >= this.max) this.evictFairly();
      e = new MacLearningEntry(hi, lo, vlan, hash, bundle, now);
      this.insert(e);
      this.totalLearned++;
    }
    e.expires = sec + this.idle;
    e.used = now;
    if (isGratArp) {
      if (!isBond) e.gratArpLockUntil = sec + GRAT_ARP_LOCK_TIME;
      else if (sec < e.gratArpLockUntil) return false;
    }
    if (e.port !== null && sameBundle(e.bundle, bundle)) return this.keepBundle(e, bundle);
    if (e.port !== null) this.totalMoved++;
    this.setPort(e, bundle);
    return true;
  }

  /** Same bundle by name: adopt the (possibly rebuilt) object, report no change. */
  private keepBundle(e: MacLearningEntry, bundle: XBundle): false {
    if (e.bundle !== bundle) e.bundle = bundle;
    return false;
  }

  /* ---------------- periodic work ---------------- */

  /**
   * Expires aged entries and sheds entries beyond the size limit (OVS's
   * mac_learning_run). Returns true when something changed since the last
   * call that may require revalidating megaflows (expiry, flush, fdb/add,
   * learning that moved or added entries is reported by `learn` itself
   * but also latched here).
   */
  run(now: number): boolean {
    const sec = Math.floor(now / 1000);
    let e = this.lruHead;
    while (e !== null) {
      const next = e.lruNext;
      if (this.n > this.max) {
        if (!e.isStatic) {
          this.totalExpired++;
          this.remove(e);
        }
      } else if (!e.isStatic) {
        if (sec < e.expires) break;
        this.totalExpired++;
        this.remove(e);
      }
      e = next;
    }
    const r = this.revalidate;
    this.revalidate = false;
    return r;
  }

  /** Milliseconds until the next entry expires (for a poll timer), or null when nothing can expire. */
  nextExpiry(now: number): number | null {
    for (let e = this.lruHead; e; e = e.lruNext) {
      if (!e.isStatic) return Math.max(0, e.expires * 1000 - now);
    }
    return null;
  }

  /** Whether a change since the last `run` calls for revalidation. */
  get needRevalidate(): boolean {
    return this.revalidate;
  }

  /* ---------------- flushing ---------------- */

  /** Removes every dynamic entry (fdb/flush; static entries stay, as in OVS 3.1). Returns the count removed. */
  flush(): number {
    let removed = 0;
    for (let e = this.lruHead; e !== null; ) {
      const next = e.lruNext;
      if (!e.isStatic) {
        this.remove(e);
        removed++;
      }
      e = next;
    }
    this.revalidate = true;
    if (this.n === 0) this.shrink();
    return removed;
  }

  /**
   * Removes every entry on `bundle` (by name), static ones too: the bundle
   * is going away or its VLAN configuration changed (OVS's
   * bundle_flush_macs). Returns the count removed.
   */
  flushBundle(bundle: XBundle | string): number {
    const name = typeof bundle === "string" ? bundle : bundle.name;
    const p = this.ports.get(name);
    if (!p) return 0;
    let removed = 0;
    for (let e = p.head; e !== null; ) {
      const next = e.portNext;
      this.remove(e);
      removed++;
      e = next;
    }
    return removed;
  }

  /** Removes every dynamic entry of `vlan`. Returns the count removed. */
  flushVlan(vlan: number): number {
    let removed = 0;
    for (let e = this.lruHead; e !== null; ) {
      const next = e.lruNext;
      if (!e.isStatic && e.vlan === vlan) {
        this.remove(e);
        removed++;
      }
      e = next;
    }
    return removed;
  }

  /* ---------------- static entries (fdb/add, fdb/del) ---------------- */

  /**
   * Adds a static entry, overriding whatever entry (MAC, VLAN) had.
   * Multicast MACs are accepted (as OVS does). Returns what was there.
   */
  addStatic(mac: Uint8Array, macOff: number, vlan: number, bundle: XBundle, now: number): StaticAddResult {
    const hi = (mac[macOff]! << 8) | mac[macOff + 1]!;
    const lo = ((mac[macOff + 2]! << 24) | (mac[macOff + 3]! << 16) | (mac[macOff + 4]! << 8) | mac[macOff + 5]!) >>> 0;
    const v = vlan & 0xffff;
    const hash = macHash(hi, lo, v);
    let e = this.find(hi, lo, v, hash);
    let previous: StaticAddResult["previous"] = null;
    if (e !== null) {
      previous = { isStatic: e.isStatic, bundle: e.bundle };
      if (e.isStatic && sameBundle(e.bundle, bundle)) {
        e.bundle = bundle;
        return { previous: null };
      }
      this.touch(e);
    } else {
      if (this.n >= this.max) this.evictFairly();
      e = new MacLearningEntry(hi, lo, v, hash, bundle, now);
      this.insert(e);
    }
    if (!e.isStatic) {
      e.isStatic = true;
      this.nStatic++;
    }
    e.used = now;
    if (e.port === null || !sameBundle(e.bundle, bundle)) this.setPort(e, bundle);
    else e.bundle = bundle;
    this.revalidate = true;
    return { previous };
  }

  /** Removes the static entry (MAC, VLAN); false when there is none (a dynamic entry does not count). */
  delStatic(mac: Uint8Array, macOff: number, vlan: number): boolean {
    const hi = (mac[macOff]! << 8) | mac[macOff + 1]!;
    const lo = ((mac[macOff + 2]! << 24) | (mac[macOff + 3]! << 16) | (mac[macOff + 4]! << 8) | mac[macOff + 5]!) >>> 0;
    const v = vlan & 0xffff;
    const e = this.find(hi, lo, v, macHash(hi, lo, v));
    if (e === null || !e.isStatic) return false;
    this.remove(e);
    return true;
  }

  /* ---------------- inspection ---------------- */

  /** Number of entries (static included). */
  get count(): number {
    return this.n;
  }

  /** Number of static entries. */
  get staticCount(): number {
    return this.nStatic;
  }

  /** Entries least recently used first (the fdb/show order). */
  *entries(): IterableIterator<MacLearningEntry> {
    for (let e = this.lruHead; e !== null; e = e.lruNext) yield e;
  }

  /** Seconds since `e` was last learned (fdb/show's Age), or null for a static entry. */
  age(e: MacLearningEntry, now: number): number | null {
    if (e.isStatic) return null;
    return this.idle - (e.expires - Math.floor(now / 1000));
  }

  stats(): MacLearningStats {
    return {
      current: this.n,
      max: this.max,
      static: this.nStatic,
      learned: this.totalLearned,
      expired: this.totalExpired,
      evicted: this.totalEvicted,
      moved: this.totalMoved,
    };
  }

  /** fdb/stats-clear: zeroes the learned/expired/evicted/moved totals. */
  clearStats(): void {
    this.totalLearned = 0;
    this.totalExpired = 0;
    this.totalEvicted = 0;
    this.totalMoved = 0;
  }

  /* ---------------- internals ---------------- */

  private find(hi: number, lo: number, vlan: number, hash: number): MacLearningEntry | null {
    let e: MacLearningEntry | null = this.buckets[hash & this.mask]!;
    while (e !== null) {
      if (e.macLo === lo && e.macHi === hi && e.vlan === vlan) return e;
      e = e.chainNext;
    }
    return null;
  }

  private insert(e: MacLearningEntry): void {
    if (this.n >= this.buckets.length) this.rehash(this.buckets.length * 2);
    const b = e.hash & this.mask;
    e.chainNext = this.buckets[b]!;
    this.buckets[b] = e;
    this.n++;
    this.lruPush(e);
  }

  /** Unlinks `e` from everything (OVS's mac_learning_expire). */
  private remove(e: MacLearningEntry): void {
    const b = e.hash & this.mask;
    let p: MacLearningEntry | null = this.buckets[b]!;
    if (p === e) {
      this.buckets[b] = e.chainNext;
    } else {
      while (p !== null && p.chainNext !== e) p = p.chainNext;
      if (p !== null) p.chainNext = e.chainNext;
    }
    e.chainNext = null;
    this.n--;
    if (e.isStatic) this.nStatic--;
    this.lruUnlink(e);
    this.portUnlink(e);
    this.revalidate = true;
  }

  private rehash(size: number): void {
    const old = this.buckets;
    this.buckets = new Array<MacLearningEntry | null>(size).fill(null);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i++) {
      let e: MacLearningEntry | null = old[i]!;
      while (e !== null) {
        const next: MacLearningEntry | null = e.chainNext;
        const b = e.hash & this.mask;
        e.chainNext = this.buckets[b]!;
        this.buckets[b] = e;
        e = next;
      }
    }
  }

  private shrink(): void {
    if (this.buckets.length > INITIAL_BUCKETS) {
      this.buckets = new Array<MacLearningEntry | null>(INITIAL_BUCKETS).fill(null);
      this.mask = INITIAL_BUCKETS - 1;
    }
  }

  /** Makes `e` the most recently used, globally and within its bundle. */
  private touch(e: MacLearningEntry): void {
    this.lruUnlink(e);
    this.lruPush(e);
    const p = e.port;
    if (p !== null && p.tail !== e) {
      this.portUnlink(e);
      this.portPush(p, e);
    }
  }

  private lruPush(e: MacLearningEntry): void {
    e.lruPrev = this.lruTail;
    e.lruNext = null;
    if (this.lruTail) this.lruTail.lruNext = e;
    else this.lruHead = e;
    this.lruTail = e;
  }

  private lruUnlink(e: MacLearningEntry): void {
    if (e.lruPrev) e.lruPrev.lruNext = e.lruNext;
    else if (this.lruHead === e) this.lruHead = e.lruNext;
    if (e.lruNext) e.lruNext.lruPrev = e.lruPrev;
    else if (this.lruTail === e) this.lruTail = e.lruPrev;
    e.lruPrev = e.lruNext = null;
  }

  /** Moves `e` to `bundle` (OVS's mac_entry_set_port). */
  private setPort(e: MacLearningEntry, bundle: XBundle): void {
    this.portUnlink(e);
    e.bundle = bundle;
    let p = this.ports.get(bundle.name);
    if (!p) {
      p = new PortEntries(bundle.name);
      this.ports.set(bundle.name, p);
    }
    this.portPush(p, e);
    this.revalidate = true;
  }

  private portPush(p: PortEntries, e: MacLearningEntry): void {
    e.port = p;
    e.portPrev = p.tail;
    e.portNext = null;
    if (p.tail) p.tail.portNext = e;
    else p.head = e;
    p.tail = e;
    p.count++;
  }

  private portUnlink(e: MacLearningEntry): void {
    const p = e.port;
    if (p === null) return;
    if (e.portPrev) e.portPrev.portNext = e.portNext;
    else p.head = e.portNext;
    if (e.portNext) e.portNext.portPrev = e.portPrev;
    else p.tail = e.portPrev;
    e.portPrev = e.portNext = null;
    e.port = null;
    if (--p.count === 0) this.ports.delete(p.name);
  }

  /** Evicts the least recently used entry of the bundle with the most entries. */
  private evictFairly(): void {
    let best: PortEntries | null = null;
    for (const p of this.ports.values()) if (best === null || p.count > best.count) best = p;
    if (best === null || best.head === null) return;
    this.totalEvicted++;
    this.remove(best.head);
  }
}
