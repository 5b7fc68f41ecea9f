/**
 * The ports tunnels listen on (OVS's lib/tnl-ports.c): which datapath
 * tunnel port (`vxlan_sys_4789`, ...) a packet reaching an IP device of a
 * bridge belongs to. A packet whose Ethernet destination is an IP
 * device's MAC, IP destination one of its addresses, protocol UDP with the
 * port's destination port (or GRE) and not a fragment is popped
 * (`tnl_pop(port)`) instead of being delivered to the device.
 *
 * Lookup (`tnlPortMapLookup`) works like OVS's classifier over these
 * entries, and reports the fields it examined the way the classifier's
 * staged lookup would: Ethernet destination and type always; the IP
 * destination, protocol and fragment bits when the L2 stage matched some
 * entry; the UDP destination port when the L3 stage matched too.
 */
import { deviceAddresses, deviceMac } from "./tnl-route.js";
import { ipMappedToString, isV4Mapped, mappedIpv4 } from "./netdev-vport.js";
import { macToString } from "../packet/bytes.js";

const IPPROTO_UDP = 17;
const IPPROTO_GRE = 47;

interface ListenPort {
  odpPort: number;
  name: string;
  /** UDP destination port, 0 for GRE. */
  dstPort: number;
  proto: number;
  refCnt: number;
}

const ports: ListenPort[] = [];
/** Devices that may carry tunnel endpoint addresses (every non-tunnel port's device). */
const ipDevs = new Map<string, number>();

/** A tunnel port of datapath port `odpPort` now exists (ref counted). */
export function tnlPortMapInsert(odpPort: number, name: string, dstPort: number, isGre: boolean): void {
  const p = ports.find((x) => x.odpPort === odpPort && x.dstPort === dstPort);
  if (p !== undefined) {
    p.refCnt++;
    return;
  }
  ports.push({ odpPort, name, dstPort, proto: isGre ? IPPROTO_GRE : IPPROTO_UDP, refCnt: 1 });
}

export function tnlPortMapDelete(odpPort: number, dstPort: number): void {
  const i = ports.findIndex((x) => x.odpPort === odpPort && x.dstPort === dstPort);
  if (i < 0) return;
  if (--ports[i]!.refCnt === 0) ports.splice(i, 1);
}

export function tnlPortMapInsertIpdev(dev: string): void {
  ipDevs.set(dev, (ipDevs.get(dev) ?? 0) + 1);
}

export function tnlPortMapDeleteIpdev(dev: string): void {
  const n = (ipDevs.get(dev) ?? 0) - 1;
  if (n <= 0) ipDevs.delete(dev);
  else ipDevs.set(dev, n);
}

/** One (device MAC, address) a tunnel endpoint listens on. */
interface Endpoint {
  mac: Uint8Array;
  addr: Uint8Array;
}

function endpoints(): Endpoint[] {
  const out: Endpoint[] = [];
  for (const dev of ipDevs.keys()) {
    const addrs = deviceAddresses(dev);
    if (addrs.length === 0) continue;
    const mac = deviceMac(dev);
    if (mac === null) continue;
    for (const a of addrs) out.push({ mac, addr: a.addr });
  }
  return out;
}

/** What a lookup examined (OVS's wildcards), as plain flags. */
export interface TnlLookupWc {
  l2: boolean;
  l3: boolean;
  l4: boolean;
}

/**
 * The datapath tunnel port for a packet with these headers (`ipv4Dst`
 * host order, or `ipv6Dst` for IPv6; `frag` nonzero for fragments), or -1.
 * `wc` says which stages the lookup examined.
 */
export function tnlPortMapLookup(
  dlDst: Uint8Array, dlType: number, ipv4Dst: number, ipv6Dst: Uint8Array | null, proto: number, frag: number, tpDst: number,
  wc: TnlLookupWc,
): number {
  wc.l2 = false;
  wc.l3 = false;
  wc.l4 = false;
  if (ports.length === 0) return -1;
  const eps = endpoints();
  if (eps.length === 0) return -1;
  wc.l2 = true;
  let result = -1;
  for (const ep of eps) {
    const v4 = isV4Mapped(ep.addr);
    if (dlType !== (v4 ? 0x0800 : 0x86dd)) continue;
    let macOk = true;
    for (let i = 0; i < 6; i++) if (ep.mac[i] !== dlDst[i]) macOk = false;
    if (!macOk) continue;
    wc.l3 = true;
    let ipOk: boolean;
    if (v4) ipOk = mappedIpv4(ep.addr) === ipv4Dst;
    else {
      ipOk = ipv6Dst !== null;
      for (let i = 0; ipOk && i < 16; i++) if (ep.addr[i] !== ipv6Dst![i]) ipOk = false;
    }
    if (!ipOk || frag !== 0) continue;
    for (const p of ports) {
      if (p.proto !== proto) continue;
      if (p.proto === IPPROTO_GRE) {
        if (result < 0) result = p.odpPort;
        continue;
      }
      wc.l4 = true;
      if (p.dstPort === tpDst && result < 0) result = p.odpPort;
    }
  }
  return result;
}

/** `tnl/ports/show [-v]`. */
export function tnlPortsShowText(verbose: boolean): string {
  let s = "Listening ports:\n";
  for (const p of ports) {
    if (!verbose) {
      s += `${p.name} (${p.odpPort}) ref_cnt=${p.refCnt}\n`;
      continue;
    }
    for (const ep of endpoints()) {
      const v4 = isV4Mapped(ep.addr);
      s += `${p.name} (${p.odpPort}) : eth(dst=${macToString(ep.mac)}),eth_type(0x${v4 ? "0800" : "86dd"}),`;
      s += v4 ? `ipv4(dst=${ipMappedToString(ep.addr)},proto=${p.proto},frag=no)` : `ipv6(dst=${ipMappedToString(ep.addr)},proto=${p.proto},frag=no)`;
      if (p.proto === IPPROTO_UDP) s += `,udp(dst=${p.dstPort})`;
      s += "\n";
    }
  }
  return s;
}
