/**
 * Per-zone connection limits of the userspace connection tracker (what
 * `dpctl/ct-set-limits`, `ct-get-limits` and `ct-del-limits` manage), with
 * OVS 3.1's semantics:
 *
 * - A zone may have its own limit; a zone without one falls back on the
 *   default limit, when one is set; with neither, the zone is unlimited.
 *   A limit of 0 admits nothing (OVS 3.1's userspace tracker compares
 *   `count >= limit`; its man page's "0 is unlimited" is the kernel's).
 * - Each limit record counts the connections committed under it. The
 *   default record has ONE count, shared by every zone that falls back on
 *   it (OVS reports that shared count for each such zone).
 * - A connection remembers the record it was admitted under and gives its
 *   place back when it is removed — only if that same record still exists:
 *   a limit deleted and created again starts from zero (OVS's
 *   zone_limit_seq). Changing a limit keeps its count.
 * - Creating a limit does not count connections already in the zone.
 */

/** The zone number of the default limit record (OVS's DEFAULT_ZONE). */
export const DEFAULT_ZONE = -1;

/** One limit record: a zone's (or the default) limit and its connection count. */
export class ZoneLimit {
  constructor(readonly zone: number, public limit: number) {}
  /** Connections admitted under this record and not yet removed. */
  count = 0;
}

/** The limits of one connection tracker. */
export class CtZoneLimits {
  private defaultLimit: ZoneLimit | null = null;
  private readonly byZone = new Map<number, ZoneLimit>();

  /** The zone's own record, or the default one, or null (unlimited). */
  lookupOrDefault(zone: number): ZoneLimit | null {
    return this.byZone.get(zone) ?? this.defaultLimit;
  }

  /** The record of `zone` (DEFAULT_ZONE: the default), if set. */
  lookup(zone: number): ZoneLimit | null {
    return zone === DEFAULT_ZONE ? this.defaultLimit : this.byZone.get(zone) ?? null;
  }

  /** Whether `zl` is still in force (not deleted since a connection was admitted under it). */
  isLive(zl: ZoneLimit): boolean {
    return this.lookup(zl.zone) === zl;
  }

  /**
   * Sets the limit of `zone` (DEFAULT_ZONE: the default). Returns
   * "created" or "changed" (for the log), or null for a zone out of range.
   */
  set(zone: number, limit: number): "created" | "changed" | null {
    const zl = this.lookup(zone);
    if (zl !== null) {
      zl.limit = limit;
      return "changed";
    }
    if (zone < DEFAULT_ZONE || zone > 0xffff) return null;
    const nz = new ZoneLimit(zone, limit);
    if (zone === DEFAULT_ZONE) this.defaultLimit = nz;
    else this.byZone.set(zone, nz);
    return "created";
  }

  /** Deletes the limit of `zone`; false when it had none. */
  delete(zone: number): boolean {
    if (zone === DEFAULT_ZONE) {
      if (this.defaultLimit === null) return false;
      this.defaultLimit = null;
      return true;
    }
    return this.byZone.delete(zone);
  }

  /** The default limit as ct-get-limits reports it (0 when none is set). */
  get defaultValue(): number {
    return this.defaultLimit?.limit ?? 0;
  }

  /** The zones with their own limit, in zone order. */
  zones(): ZoneLimit[] {
    return [...this.byZone.values()].sort((a, b) => a.zone - b.zone);
  }
}
