/**
 * Port mirrors of one bridge (OVS's ofproto-dpif-mirror, the "mbridge"):
 * up to 32 mirrors, each with an index, the bundles whose received
 * (`srcs`) and transmitted (`dsts`) packets it selects, an optional VLAN
 * selection, and one destination: an output bundle (SPAN) or an output
 * VLAN (RSPAN), with an optional snap length.
 *
 * ## What translation reads (per packet, no allocation)
 * Each bundle carries three bit masks (XBundle.mirrorSrc / mirrorDst /
 * mirrorOutMask): the mirrors that select packets it receives, the
 * mirrors that select packets it sends, and the mirrors that output to
 * it. A bundle that is some mirror's output (`mirrorOut`) takes part in
 * nothing else: packets received on it are dropped, NORMAL never floods
 * or learns there. `dupMirrors` of a mirror are the mirrors with the same
 * destination: a packet is sent to one destination once, whichever of
 * them selected it.
 *
 * ## Statistics
 * tx_packets / tx_bytes count the packets each mirror sent. Translation
 * with statistics (an upcall) credits them at once; the packets that
 * later hit the installed megaflow are credited by the revalidator
 * through `MirrorStatsRule`, a rule-shaped entry that translation adds to
 * the rules it visited (the role of OVS's XC_MIRROR xlate-cache entry):
 * its `credit` adds to every mirror of its mask. Reconfiguring a mirror
 * marks those entries removed, so the megaflows that carry them are
 * translated again.
 */
import { Match } from "../openflow/match.js";
import { OfRule } from "./rule.js";
import { NO_FLAGS } from "./flow-mod.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import type { XBundle } from "./xlate-types.js";

/** OVS's MAX_MIRRORS (mirror_mask_t is 32 bits here). */
export const MAX_MIRRORS = 32;

/** One mirror as the bridge asks for it (OVS's ofproto_mirror_settings, with bundles by Port name). */
export interface MirrorSettings {
  name: string;
  /** Bundles whose received packets are selected. */
  srcs: readonly string[];
  /** Bundles whose transmitted packets are selected. */
  dsts: readonly string[];
  /** VLANs selected (Mirror.select_vlan); null or empty = every VLAN. */
  vlans: readonly number[] | null;
  /** The output bundle (SPAN), or null for an output VLAN. */
  outBundle: string | null;
  /** The output VLAN (RSPAN) when outBundle is null. */
  outVlan: number;
  /** Mirror.snaplen: bytes kept of each mirrored packet (0 = all). */
  snaplen: number;
}

/** One configured mirror (OVS's struct mirror). */
export class Mirror {
  srcs = new Set<string>();
  dsts = new Set<string>();
  /** Selected VLANs as a 4096-entry table, or null for all. */
  vlans: Uint8Array | null = null;
  out: string | null = null;
  outVlan = -1;
  snaplen = 0;
  /** This mirror's bit and those of the mirrors with the same destination. */
  dupMirrors = 0;
  packets = 0;
  bytes = 0;
  /** What the settings were, to skip reconfiguring an unchanged mirror. */
  key = "";
  constructor(readonly idx: number, public name: string) {}
}

const NO_MATCH = new Match();

/** The xlate-cache entry of the mirrors one megaflow sends to (see the module comment). */
export class MirrorStatsRule extends OfRule<OfpAction[]> {
  /** `mirrors`: the mirrors' bits (not `mask`: an OfRule is a classifier rule, whose mask that is). */
  constructor(readonly mbridge: MirrorBridge, readonly mirrors: number) {
    super(255, NO_MATCH, 0, 0n, 0, 0, NO_FLAGS, 0, [], 0);
  }

  override credit(packets: number, bytes: number, now: number): void {
    void now;
    this.mbridge.credit(this.mirrors, packets, bytes);
  }
}

/** The mirrors of one bridge (OVS's mbridge). */
export class MirrorBridge {
  /** Mirrors by index (null = free). */
  readonly byIdx: (Mirror | null)[] = new Array<Mirror | null>(MAX_MIRRORS).fill(null);
  /** Mirrors by the bridge's key (the Mirror row's uuid). */
  private readonly byKey = new Map<string, Mirror>();
  private statsRules = new Map<number, MirrorStatsRule>();
  /** True while some mirror is configured (the per-packet test). */
  hasMirrors = false;
  /** Bumped by every change of the mirrors. */
  version = 0;

  get size(): number {
    return this.byKey.size;
  }

  mirror(key: string): Mirror | null {
    return this.byKey.get(key) ?? null;
  }

  /**
   * Creates or updates the mirror `key` (OVS's mirror_set). Returns null,
   * or the reason it could not be (the mirror is then gone): an output
   * bundle that is not on the bridge, or no free index. `bundles` are the
   * bridge's bundle names. Returns "unchanged" when nothing changed.
   */
  set(key: string, s: MirrorSettings, bundles: ReadonlySet<string>): "unchanged" | "changed" | "no-output-bundle" | "too-many" {
    let m = this.byKey.get(key);
    if (s.outBundle !== null && !bundles.has(s.outBundle)) {
      if (m !== undefined) this.unregister(key);
      return "no-output-bundle";
    }
    const srcs = s.srcs.filter((n) => bundles.has(n)).sort();
    const dsts = s.dsts.filter((n) => bundles.has(n)).sort();
    const vlans = s.vlans !== null && s.vlans.length > 0 ? [...s.vlans].sort((a, b) => a - b) : null;
    const outVlan = s.outBundle !== null ? -1 : s.outVlan;
    const k = JSON.stringify([srcs, dsts, vlans, s.outBundle, outVlan, s.snaplen]);
    if (m === undefined) {
      const idx = this.byIdx.indexOf(null);
      if (idx < 0) return "too-many";
      m = new Mirror(idx, s.name);
      this.byIdx[idx] = m;
      this.byKey.set(key, m);
    } else if (m.key === k) {
      m.name = s.name;
      return "unchanged";
    }
    m.name = s.name;
    m.key = k;
    m.srcs = new Set(srcs);
    m.dsts = new Set(dsts);
    if (vlans === null) {
      m.vlans = null;
    } else {
      m.vlans = new Uint8Array(4096);
      for (const v of vlans) if (v >= 0 && v < 4096) m.vlans[v] = 1;
    }
    m.out = s.outBundle;
    m.outVlan = outVlan;
    m.snaplen = s.snaplen;
    this.changed();
    return "changed";
  }

  /** Deletes the mirror `key` (OVS's mirror_destroy); false when there is none. */
  unregister(key: string): boolean {
    const m = this.byKey.get(key);
    if (m === undefined) return false;
    this.byKey.delete(key);
    this.byIdx[m.idx] = null;
    this.changed();
    return true;
  }

  /** The mirror keys configured now. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** tx_packets / tx_bytes of mirror `key`, or null when it is not configured. */
  stats(key: string): { packets: number; bytes: number } | null {
    const m = this.byKey.get(key);
    return m === undefined ? null : { packets: m.packets, bytes: m.bytes };
  }

  /** Counts a packet sent to each mirror of `mask` (OVS's mirror_update_stats). */
  credit(mask: number, packets: number, bytes: number): void {
    for (let bits = mask; bits !== 0; bits &= bits - 1) {
      const m = this.byIdx[31 - Math.clz32(bits & -bits)];
      if (m === null || m === undefined) continue;
      m.packets += packets;
      m.bytes += bytes;
    }
  }

  /** The statistics entry for megaflows that send to the mirrors of `mask` (one object per mask). */
  statsRule(mask: number): MirrorStatsRule {
    let r = this.statsRules.get(mask);
    if (r === undefined) {
      r = new MirrorStatsRule(this, mask);
      this.statsRules.set(mask, r);
    }
    return r;
  }

  /**
   * Puts the masks on the bridge's bundles (after any mirror or bundle
   * change) and drops mirrors whose output bundle is gone, as OVS's
   * mbundle_destroy does. Returns true when a mirror was dropped.
   */
  applyToBundles(bundles: ReadonlyMap<string, XBundle>): boolean {
    let dropped = false;
    for (const [key, m] of [...this.byKey]) {
      if (m.out !== null && !bundles.has(m.out)) {
        this.unregister(key);
        dropped = true;
      }
    }
    for (const b of bundles.values()) {
      let src = 0, dst = 0, out = 0;
      for (const m of this.byKey.values()) {
        const bit = (1 << m.idx) >>> 0;
        if (m.srcs.has(b.name)) src |= bit;
        if (m.dsts.has(b.name)) dst |= bit;
        if (m.out === b.name) out |= bit;
      }
      b.mirrorSrc = src >>> 0;
      b.mirrorDst = dst >>> 0;
      b.mirrorOutMask = out >>> 0;
      b.mirrorOut = out !== 0;
    }
    return dropped;
  }

  /** After any change: duplicate masks, and the old statistics entries retire (their megaflows re-translate). */
  private changed(): void {
    this.version++;
    for (const r of this.statsRules.values()) r.removed = true;
    this.statsRules = new Map();
    this.hasMirrors = this.byKey.size > 0;
    for (const m of this.byKey.values()) {
      let dup = (1 << m.idx) >>> 0;
      for (const o of this.byKey.values()) {
        if (o !== m && o.out === m.out && o.outVlan === m.outVlan) dup |= (1 << o.idx) >>> 0;
      }
      m.dupMirrors = dup >>> 0;
    }
  }
}

/** One Mirror row as the bridge passes it: its uuid (the key) and settings. */
export interface MirrorConfig {
  key: string;
  settings: MirrorSettings;
}

/**
 * Makes the bridge's mirrors exactly `list` (OVS's bridge_configure_mirrors
 * on the ofproto side): others are removed, each is set, the bundles get
 * their masks. Returns whether translation may change (revalidate) and,
 * per key, why a mirror could not be configured.
 */
export function configureMirrors(
  mb: MirrorBridge, list: readonly MirrorConfig[], bundles: ReadonlyMap<string, XBundle>,
): { changed: boolean; failed: Map<string, "no-output-bundle" | "too-many"> } {
  const before = mb.version;
  const failed = new Map<string, "no-output-bundle" | "too-many">();
  const want = new Set(list.map((m) => m.key));
  for (const k of mb.keys()) if (!want.has(k)) mb.unregister(k);
  const names = new Set(bundles.keys());
  for (const m of list) {
    const r = mb.set(m.key, m.settings, names);
    if (r !== "changed" && r !== "unchanged") failed.set(m.key, r);
  }
  mb.applyToBundles(bundles);
  return { changed: mb.version !== before, failed };
}
