/**
 * Where tunnel packets go (OVS's lib/ovs-router.c and the address lists of
 * netdev_get_addr_list): the IP addresses of devices, and the routing
 * table native tunnelling consults to pick the underlay bridge, gateway and
 * source address of a tunnel's outer header.
 *
 * Addresses: a dummy device gets them from `netdev-dummy/ip4addr` /
 * `ip6addr` (`setDeviceAddresses`); any other device name is looked up in
 * the kernel (the interfaces of this network namespace), cached briefly.
 *
 * Routes: user routes (`ovs/route/add`), and — unless system routing is
 * off (`--disable-system-route`, or dummy devices overriding system ones)
 * — the kernel's unicast and local routes of its main and local tables
 * (`ip -j route`), read again when a lookup misses (at most every 100 ms)
 * and at most once a second otherwise. As OVS's classifier-based table,
 * a route's priority is its prefix length over 128 bits, local routes 64
 * higher; lookup takes the highest-priority match, show lists by
 * priority.
 *
 * All addresses are 16-byte IPv6, IPv4 v4-mapped.
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { ipMappedToString, ipv4Mapped, isV4Mapped, parseIpAny } from "./netdev-vport.js";

export interface DeviceAddress {
  addr: Uint8Array;
  /** Prefix length in the address's own family (24 for 1.1.2.88/24). */
  plen: number;
}

/** A route (OVS's ovs_router_entry). */
export interface Route {
  /** Network (masked). */
  prefix: Uint8Array;
  /** Prefix length over 128 bits (v4 routes: 96 + plen). */
  plen: number;
  dev: string;
  /** Gateway, all zero for none. */
  gw: Uint8Array;
  src: Uint8Array;
  mark: number;
  /** A user route (ovs/route/add) rather than one from the kernel. */
  user: boolean;
  /** Kernel local route ("local" in OVS's show). */
  local: boolean;
}

/* ---------------- device addresses ---------------- */

const dummyAddrs = new Map<string, DeviceAddress[]>();
const dummyMacs = new Map<string, () => Uint8Array>();

/** Sets the addresses of a (dummy) device: `netdev-dummy/ip4addr` adds one. */
export function addDeviceAddress(dev: string, a: DeviceAddress): void {
  const l = dummyAddrs.get(dev) ?? [];
  if (!l.some((x) => sameAddr(x.addr, a.addr))) l.push(a);
  dummyAddrs.set(dev, l);
}

/** Forgets the addresses given to `dev` (the device was deleted). */
export function clearDeviceAddresses(dev: string): void {
  dummyAddrs.delete(dev);
}

let kernelCache: { at: number; ifs: NodeJS.Dict<os.NetworkInterfaceInfo[]>; addrs: Map<string, DeviceAddress[]> } | null = null;
let kernelLookups = true;
const NO_ADDRESSES: DeviceAddress[] = [];

/** Whether device names not given addresses explicitly are looked up in the kernel. */
export function setKernelAddressLookup(on: boolean): void {
  kernelLookups = on;
  kernelCache = null;
}

/** The kernel's interfaces with addresses, read at most once a second (translation asks per output). */
function kernelInterfaces(): { ifs: NodeJS.Dict<os.NetworkInterfaceInfo[]>; addrs: Map<string, DeviceAddress[]> } {
  const now = Date.now();
  if (kernelCache === null || now - kernelCache.at > 1000) {
    let ifs: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {};
    try {
      ifs = os.networkInterfaces();
    } catch {
      /* none */
    }
    kernelCache = { at: now, ifs, addrs: new Map() };
  }
  return kernelCache;
}

/** The addresses of device `dev` (netdev_get_addr_list); empty when none. */
export function deviceAddresses(dev: string): DeviceAddress[] {
  const d = dummyAddrs.get(dev);
  if (d !== undefined) return d;
  if (!kernelLookups) return NO_ADDRESSES;
  const k = kernelInterfaces();
  const cached = k.addrs.get(dev);
  if (cached !== undefined) return cached;
  const l = k.ifs[dev];
  const out: DeviceAddress[] = [];
  for (const i of l ?? []) {
    const a = parseIpAny(i.address.split("%")[0]!);
    if (a === null) continue;
    const plen = i.cidr !== null ? Number(i.cidr.split("/")[1]) : i.family === "IPv4" ? 32 : 128;
    out.push({ addr: a, plen });
  }
  k.addrs.set(dev, out);
  return out;
}

/** The MAC of a kernel device as the kernel reports it, or null. */
export function kernelDeviceMac(dev: string): Uint8Array | null {
  const l = kernelLookups ? kernelInterfaces().ifs[dev] : undefined;
  if (l === undefined || l.length === 0) return null;
  const m = l[0]!.mac.split(":").map((x) => Number.parseInt(x, 16));
  return m.length === 6 ? Uint8Array.from(m) : null;
}

/** Records how to read a device's MAC (the bridge's local port). */
export function setDeviceMacSource(dev: string, get: (() => Uint8Array) | null): void {
  if (get === null) dummyMacs.delete(dev);
  else dummyMacs.set(dev, get);
}

export function deviceMac(dev: string): Uint8Array | null {
  const f = dummyMacs.get(dev);
  return f !== undefined ? f() : kernelDeviceMac(dev);
}

/* ---------------- helpers ---------------- */

export function sameAddr(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZeroAddr(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

/** `a` with all but the first `plen` bits cleared. */
export function maskAddr(a: Uint8Array, plen: number): Uint8Array {
  const r = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, plen - 8 * i));
    r[i] = a[i]! & ((0xff00 >> bits) & 0xff);
  }
  return r;
}

/** Prefix length over 128 bits of an address-family prefix length. */
function plen128(a: Uint8Array, plen: number): number {
  return isV4Mapped(a) ? plen + 96 : plen;
}

/* ---------------- the table ---------------- */

const routes: Route[] = [];
let kernelRoutes: Route[] = [];
let systemRouting = true;
let systemRoutesDisabled = false;
let kernelReadAt = -Infinity;

/** Whether the kernel's routes are used (off with dummy override or `--disable-system-route`). */
export function setSystemRouting(on: boolean): void {
  systemRouting = on && !systemRoutesDisabled;
  kernelRoutes = [];
  kernelReadAt = -Infinity;
}

/**
 * ovs-vswitchd's `--disable-system-route`: only user routes in ovs/route,
 * for the life of the process (later setSystemRouting calls cannot turn
 * the kernel's routes back on).
 */
export function disableSystemRoutes(): void {
  systemRoutesDisabled = true;
  setSystemRouting(false);
}

/**
 * OVS's get_src_addr: an address of `dev` on the same network as `ip`
 * (the destination or gateway); IPv4 only for IPv4.
 */
export function sourceAddressFor(dev: string, ip: Uint8Array): Uint8Array | null {
  const v4 = isV4Mapped(ip);
  for (const a of deviceAddresses(dev)) {
    if (isV4Mapped(a.addr) !== v4) continue;
    const p = plen128(a.addr, a.plen);
    if (sameAddr(maskAddr(a.addr, p), maskAddr(ip, p))) return a.addr;
  }
  return null;
}

/**
 * Adds a user route: `ip`/`plen` (family prefix length) via `dev`, with
 * gateway `gw` (null for none) and packet mark. Returns null, or OVS's
 * error text.
 */
export function routeAdd(ip: Uint8Array, plen: number, dev: string, gw: Uint8Array | null, mark: number): string | null {
  const p = plen128(ip, plen);
  const prefix = maskAddr(ip, p);
  const g = gw ?? new Uint8Array(16);
  const src = sourceAddressFor(dev, gw !== null && !isZeroAddr(gw) ? gw : ip);
  if (src === null) return "Error while inserting route.";
  const i = routes.findIndex((r) => r.plen === p && r.mark === mark && sameAddr(r.prefix, prefix));
  const r: Route = { prefix, plen: p, dev, gw: g, src, mark, user: true, local: false };
  if (i >= 0) routes[i] = r;
  else routes.push(r);
  return null;
}

/** Deletes a user route; false when there is none such. */
export function routeDel(ip: Uint8Array, plen: number, mark: number): boolean {
  const p = plen128(ip, plen);
  const prefix = maskAddr(ip, p);
  const i = routes.findIndex((r) => r.plen === p && r.mark === mark && sameAddr(r.prefix, prefix));
  if (i < 0) return false;
  routes.splice(i, 1);
  return true;
}

/** Removes every user route (tests). */
export function routeFlushUser(): void {
  routes.length = 0;
}

interface IpRouteJson {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  table?: string;
  prefsrc?: string;
}

/** The kernel's unicast and local routes of the main and local tables (`ip -j route show table all`). */
function readKernelRoutes(): Route[] {
  const out: Route[] = [];
  for (const family of ["-4", "-6"]) {
    const r = spawnSync("ip", ["-j", family, "route", "show", "table", "all"], { encoding: "utf8", timeout: 2000 });
    if (r.status !== 0 || r.stdout === "") continue;
    let list: IpRouteJson[];
    try {
      list = JSON.parse(r.stdout) as IpRouteJson[];
    } catch {
      continue;
    }
    for (const e of list) {
      const type = e.type ?? "unicast";
      const table = e.table ?? "main";
      if ((type !== "unicast" && type !== "local") || (table !== "main" && table !== "local") || e.dev === undefined || e.dst === undefined) continue;
      const v4 = family === "-4";
      let dst: Uint8Array | null;
      let plen: number;
      if (e.dst === "default") {
        dst = v4 ? ipv4Mapped(0) : new Uint8Array(16);
        plen = 0;
      } else {
        const [a, l] = e.dst.split("/");
        dst = parseIpAny(a!);
        plen = l !== undefined ? Number(l) : v4 ? 32 : 128;
      }
      if (dst === null) continue;
      const gw = e.gateway !== undefined ? parseIpAny(e.gateway) ?? new Uint8Array(16) : new Uint8Array(16);
      const pref = e.prefsrc !== undefined ? parseIpAny(e.prefsrc) : null;
      const src = pref ?? sourceAddressFor(e.dev, isZeroAddr(gw) ? dst : gw);
      if (src === null) continue;
      const p = plen128(dst, plen);
      out.push({ prefix: maskAddr(dst, p), plen: p, dev: e.dev, gw, src, mark: 0, user: false, local: type === "local" });
    }
  }
  return out;
}

function refreshKernelRoutes(force: boolean): void {
  if (!systemRouting) return;
  const now = Date.now();
  if (!force && now - kernelReadAt < 1000) return;
  kernelReadAt = now;
  kernelRoutes = readKernelRoutes();
}

/** OVS's route priority: the prefix length (over 128 bits), local routes 64 above. */
function priority(r: Route): number {
  return r.local ? r.plen + 64 : r.plen;
}

function lookupIn(list: readonly Route[], ip: Uint8Array, mark: number, best: Route | null): Route | null {
  for (const r of list) {
    if (r.mark !== mark) continue;
    if (best !== null && priority(r) <= priority(best)) continue;
    if (sameAddr(maskAddr(ip, r.plen), r.prefix)) best = r;
  }
  return best;
}

/** OVS's ovs_router_lookup: the route for `ip` with packet mark `mark`, or null. */
export function routeLookup(ip: Uint8Array, mark = 0): Route | null {
  refreshKernelRoutes(false);
  let best = lookupIn(kernelRoutes, ip, mark, lookupIn(routes, ip, mark, null));
  if (best === null && systemRouting && Date.now() - kernelReadAt > 100) {
    refreshKernelRoutes(true);
    best = lookupIn(kernelRoutes, ip, mark, lookupIn(routes, ip, mark, null));
  }
  return best;
}

function routeLine(r: Route): string {
  const v4 = isV4Mapped(r.prefix);
  let s = `${r.user ? "User" : "Cached"}: ${ipMappedToString(r.prefix)}/${v4 ? r.plen - 96 : r.plen}`;
  if (r.mark !== 0) s += ` MARK ${r.mark}`;
  s += ` dev ${r.dev}`;
  if (!isZeroAddr(r.gw)) s += ` GW ${ipMappedToString(r.gw)}`;
  s += ` SRC ${ipMappedToString(r.src)}`;
  if (r.local) s += " local";
  return s;
}

/** `ovs/route/show`. */
export function routeShowText(): string {
  refreshKernelRoutes(false);
  let s = "Route Table:\n";
  // Highest priority first (OVS's classifier order), kernel before user routes of one priority.
  const all = [...kernelRoutes, ...routes].map((r, i) => ({ r, i }));
  all.sort((a, b) => priority(b.r) - priority(a.r) || a.i - b.i);
  for (const { r } of all) s += routeLine(r) + "\n";
  return s;
}


