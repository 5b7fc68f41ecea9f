/**
 * The tunnel neighbour cache (OVS's lib/tnl-neigh-cache.c): IP → MAC per
 * underlay bridge, filled by snooping ARP replies / neighbour
 * advertisements that reach a bridge with an IP address (translation calls
 * `neighSnoop...`), by tunnel packets received, and by `tnl/neigh/set`.
 * Entries expire after the aging time (default 900 s, `tnl/neigh/aging`);
 * in OVS 3.1 that includes those `tnl/neigh/set` made, which a learned
 * address also replaces.
 *
 * Addresses are 16-byte IPv6, IPv4 v4-mapped. Time is passed in (ms).
 */
import { macToString } from "../packet/bytes.js";
import { ipMappedToString } from "./netdev-vport.js";
import { sameAddr } from "./tnl-route.js";

/** OVS's NEIGH_ENTRY_DEFAULT_IDLE_TIME_MS. */
export const NEIGH_DEFAULT_AGING_S = 900;
/** OVS's NEIGH_ENTRY_MAX_AGING_TIME_S. */
export const NEIGH_MAX_AGING_S = 3600;

interface NeighEntry {
  ip: Uint8Array;
  mac: Uint8Array;
  bridge: string;
  /** ms; Infinity for static entries. */
  expires: number;
}

const entries: NeighEntry[] = [];
let agingMs = NEIGH_DEFAULT_AGING_S * 1000;
/** Bumped on every change: translations that used the cache revalidate. */
let generation = 0;

export function neighGeneration(): number {
  return generation;
}

function find(bridge: string, ip: Uint8Array): NeighEntry | undefined {
  return entries.find((e) => e.bridge === bridge && sameAddr(e.ip, ip));
}

/** The MAC for `ip` on `bridge`, or null (OVS's tnl_neigh_lookup). */
export function neighLookup(bridge: string, ip: Uint8Array, now = Date.now()): Uint8Array | null {
  const e = find(bridge, ip);
  if (e === undefined) return null;
  if (e.expires <= now) {
    entries.splice(entries.indexOf(e), 1);
    generation++;
    return null;
  }
  return e.mac;
}

/** Learns or refreshes `ip` → `mac` on `bridge`. */
export function neighSet(bridge: string, ip: Uint8Array, mac: Uint8Array, isStatic: boolean, now = Date.now()): void {
  const e = find(bridge, ip);
  // OVS 3.1 has no static entries: tnl/neigh/set ones age and are relearned like any.
  void isStatic;
  const expires = now + agingMs;
  if (e !== undefined) {
    const changed = macToString(e.mac) !== macToString(mac);
    e.mac = mac.slice();
    e.expires = expires;
    if (changed) generation++;
    return;
  }
  entries.push({ ip: ip.slice(), mac: mac.slice(), bridge, expires });
  generation++;
}

/** Drops every entry (tnl/neigh/flush). */
export function neighFlush(): void {
  entries.length = 0;
  generation++;
}

/** Drops the entries of a bridge that went away. */
export function neighFlushBridge(bridge: string): void {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.bridge === bridge) entries.splice(i, 1);
  generation++;
}

/** Expires old entries. */
export function neighRun(now = Date.now()): void {
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]!.expires <= now) {
      entries.splice(i, 1);
      generation++;
    }
  }
}

export function neighAgingSeconds(): number {
  return Math.floor(agingMs / 1000);
}

/** Sets the aging time; false when out of range (1..3600 s). */
export function neighSetAging(seconds: number): boolean {
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds > NEIGH_MAX_AGING_S) return false;
  agingMs = seconds * 1000;
  return true;
}

/** `tnl/neigh/show`. */
export function neighShowText(now = Date.now()): string {
  let s = "IP                                            MAC                 Bridge\n";
  s += "==========================================================================\n";
  for (const e of entries) {
    if (e.expires <= now) continue;
    s += `${ipMappedToString(e.ip).padEnd(46)}${macToString(e.mac).padEnd(20)}${e.bridge}\n`;
  }
  return s;
}
