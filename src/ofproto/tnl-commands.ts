/**
 * The unixctl commands of native tunnelling, with OVS 3.1's texts:
 * ovs/route/{add,del,show,lookup}, tnl/neigh/{set,show,flush,aging},
 * tnl/arp/{set,show,flush,aging} (the older names), tnl/ports/show,
 * tnl/egress_port_range, and netdev-dummy/ip4addr / ip6addr (addresses of
 * dummy devices, which routes and tunnel endpoints need).
 *
 * The tables themselves are src/netdev's (tnl-route.ts, tnl-neigh.ts,
 * tnl-ports.ts); a vswitchd registers these once:
 * `registerTnlCommands(registry, { systemRouting })`.
 */
import { parseIpv4Addr, parseMac } from "../packet/bytes.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { ipMappedToString, ipv4Mapped, isV4Mapped, parseIpAny } from "../netdev/netdev-vport.js";
import {
  addDeviceAddress, routeAdd, routeDel, routeLookup, routeShowText, setKernelAddressLookup, setSystemRouting,
} from "../netdev/tnl-route.js";
import { neighAgingSeconds, neighFlush, neighSet, neighSetAging, neighShowText } from "../netdev/tnl-neigh.js";
import { tnlPortsShowText } from "../netdev/tnl-ports.js";
import { parseIpv6Addr } from "../packet/bytes.js";
import { allDpifBridges } from "./ofproto-dpif.js";

export interface TnlCommandOptions {
  /** Read the kernel's routes and addresses (false with dummy devices overriding system ones). */
  systemRouting: boolean;
}

/** "a.b.c.d[/n]" or an IPv6 CIDR: the address and its family prefix length, or null. */
function parsePrefix(s: string): { ip: Uint8Array; plen: number } | null {
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const v4 = parseIpv4Addr(addr);
  let ip: Uint8Array | null;
  let max: number;
  if (v4 !== null) {
    ip = ipv4Mapped(v4);
    max = 32;
  } else {
    ip = addr.includes(":") ? parseIpv6Addr(addr) : null;
    max = 128;
  }
  if (ip === null) return null;
  if (slash < 0) return { ip, plen: max };
  const t = s.slice(slash + 1);
  if (!/^\d+$/.test(t)) return null;
  const plen = Number(t);
  if (plen > max) return null;
  return { ip, plen };
}

function parseMark(s: string): number | null {
  const m = /^pkt_mark=(0[xX][0-9a-fA-F]+|\d+)$/.exec(s);
  return m === null ? null : Number(m[1]) >>> 0;
}

export function registerTnlCommands(registry: UnixctlRegistry, opts: TnlCommandOptions): void {
  setSystemRouting(opts.systemRouting);
  setKernelAddressLookup(opts.systemRouting);

  registry.register("ovs/route/add", "ip_addr/prefix_len out_br_name [gw] [pkt_mark=mark]", 2, 4, (args) => {
    const p = parsePrefix(args[0]!);
    if (p === null) throw new UnixctlError("Invalid parameters");
    let gw: Uint8Array | null = null;
    let mark = 0;
    for (const a of args.slice(2)) {
      const m = parseMark(a);
      if (m !== null) mark = m;
      else {
        const g = parseIpAny(a);
        if (g === null) throw new UnixctlError("Invalid pkt_mark or gateway");
        gw = g;
      }
    }
    const err = routeAdd(p.ip, p.plen, args[1]!, gw, mark);
    if (err !== null) throw new UnixctlError(err);
    return "OK\n";
  });
  registry.register("ovs/route/del", "ip_addr/prefix_len [pkt_mark=mark]", 1, 2, (args) => {
    const p = parsePrefix(args[0]!);
    if (p === null) throw new UnixctlError("Invalid parameters");
    let mark = 0;
    if (args[1] !== undefined) {
      const m = parseMark(args[1]);
      if (m === null) throw new UnixctlError("Invalid pkt_mark");
      mark = m;
    }
    if (!routeDel(p.ip, p.plen, mark)) throw new UnixctlError("Not found");
    return "OK\n";
  });
  registry.register("ovs/route/show", "", 0, 0, () => routeShowText());
  registry.register("ovs/route/lookup", "ip_addr [pkt_mark=mark]", 1, 2, (args) => {
    const ip = parseIpAny(args[0]!);
    if (ip === null) throw new UnixctlError("Invalid parameters");
    let mark = 0;
    if (args[1] !== undefined) {
      const m = parseMark(args[1]);
      if (m === null) throw new UnixctlError("Invalid pkt_mark");
      mark = m;
    }
    const r = routeLookup(ip, mark);
    if (r === null) throw new UnixctlError("Not found");
    return `src ${ipMappedToString(r.src)}\ngateway ${isZeroGw(r.gw) ? "::" : ipMappedToString(r.gw)}\ndev ${r.dev}\n`;
  });

  for (const prefix of ["tnl/neigh", "tnl/arp"]) {
    registry.register(`${prefix}/show`, "", 0, 0, () => neighShowText());
    registry.register(`${prefix}/set`, "BRIDGE IP MAC", 3, 3, (args) => {
      const ip = parseIpAny(args[1]!);
      if (ip === null) throw new UnixctlError("bad IP address");
      const mac = parseMac(args[2]!);
      if (mac === null) throw new UnixctlError("bad MAC address");
      neighSet(args[0]!, ip, mac, true);
      revalidateAll();
      return "OK\n";
    });
    registry.register(`${prefix}/flush`, "", 0, 0, () => {
      neighFlush();
      revalidateAll();
      return "OK\n";
    });
    registry.register(`${prefix}/aging`, "[SECS]", 0, 1, (args) => {
      if (args.length === 0) return `${neighAgingSeconds()}\n`;
      if (!/^\d+$/.test(args[0]!) || !neighSetAging(Number(args[0]))) throw new UnixctlError("bad aging value");
      return "OK\n";
    });
  }
  registry.register("tnl/ports/show", "-v", 0, 1, (args) => tnlPortsShowText(args[0] === "-v"));
  registry.register("tnl/egress_port_range", "min max", 0, 2, (args) => {
    if (args.length === 0) return "Tunnel UDP source port range: 32768-61000\n";
    throw new UnixctlError("changing the tunnel UDP source port range is not supported");
  });

  registry.register("netdev-dummy/ip4addr", "[netdev] ipaddr/mask-prefix-len", 2, 2, (args) => {
    if (!isDummyDevice(args[0]!)) throw new UnixctlError("Unknown Dummy Interface");
    const p = parsePrefix(args[1]!);
    if (p === null || !isV4Mapped(p.ip)) throw new UnixctlError("Invalid parameters");
    addDeviceAddress(args[0]!, { addr: p.ip, plen: p.plen });
    revalidateAll();
    return "OK\n";
  });
  registry.register("netdev-dummy/ip6addr", "[netdev] ip6addr", 2, 2, (args) => {
    if (!isDummyDevice(args[0]!)) throw new UnixctlError("Unknown Dummy Interface");
    const p = parsePrefix(args[1]!);
    if (p === null || isV4Mapped(p.ip)) throw new UnixctlError("Invalid parameters");
    addDeviceAddress(args[0]!, { addr: p.ip, plen: p.plen });
    revalidateAll();
    return "OK\n";
  });
}

function isZeroGw(a: Uint8Array): boolean {
  return a.every((b) => b === 0) || (isV4Mapped(a) && a[12] === 0 && a[13] === 0 && a[14] === 0 && a[15] === 0);
}

function isDummyDevice(name: string): boolean {
  for (const b of allDpifBridges()) {
    const p = b.portByName(name);
    const t = p?.netdev?.type;
    if (t === "dummy" || t === "dummy-internal" || t === "dummy-pmd") return true;
  }
  return false;
}

/** Routes and neighbours changed: translations may now differ. */
function revalidateAll(): void {
  for (const b of allDpifBridges()) b.requestRevalidation();
}
