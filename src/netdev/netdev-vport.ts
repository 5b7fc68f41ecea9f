/**
 * Tunnel netdevs (OVS's lib/netdev-vport.c, tunnel part): the `vxlan`,
 * `geneve` and `gre` interface types of the userspace datapath.
 *
 * A tunnel netdev has no receive side of its own: packets reach a tunnel
 * port through `tnl_pop` on the underlay bridge, and leave it through
 * `tnl_push` (ofproto's xlate-tnl.ts builds the outer headers). What lives
 * here is the port's configuration — Interface.options parsed and checked
 * with OVS's words (`parseTunnelOptions`), reported back as OVS's
 * netdev_get_config does (`tunnelConfigSmap`, what `dpif/show` prints) —
 * and the name of the datapath port the tunnels of one kind share
 * ("vxlan_sys_4789", "genev_sys_6081", "gre_sys").
 *
 * Addresses are 16-byte IPv6 arrays, IPv4 as v4-mapped (::ffff:a.b.c.d),
 * as OVS keeps them.
 */
import type { DpPacketBatch, DpPacketPool } from "../packet/dp-packet.js";
import { ipv6ToString, parseIpv4Addr, parseIpv6Addr } from "../packet/bytes.js";
import { vlogModule } from "../util/vlog.js";
import { zeroNetdevStats, type Netdev, type NetdevClass, type NetdevStats } from "./netdev-provider.js";

const log = vlogModule("netdev_vport");

export const VXLAN_DST_PORT = 4789;
export const GENEVE_DST_PORT = 6081;
/** OVS's DEFAULT_TTL for tunnels. */
export const TNL_DEFAULT_TTL = 64;

export type TunnelType = "vxlan" | "geneve" | "gre";
export const TUNNEL_TYPES: readonly TunnelType[] = ["vxlan", "geneve", "gre"];

export function isTunnelType(t: string): t is TunnelType {
  return t === "vxlan" || t === "geneve" || t === "gre";
}

/** The parsed options of a tunnel port (OVS's netdev_tunnel_config). */
export interface TunnelConfig {
  type: TunnelType;
  /** remote_ip: a fixed address, or null with `remoteFlow` (remote_ip=flow). */
  remoteIp: Uint8Array | null;
  remoteFlow: boolean;
  /** local_ip: fixed, flow, or neither (null, false: the route's source). */
  localIp: Uint8Array | null;
  localFlow: boolean;
  /** Key used to match received packets (in_key or key). */
  inKeyPresent: boolean;
  inKeyFlow: boolean;
  inKey: bigint;
  /** Key put on sent packets (out_key or key). */
  outKeyPresent: boolean;
  outKeyFlow: boolean;
  outKey: bigint;
  /** UDP destination port (0 for GRE). */
  dstPort: number;
  tos: number;
  tosInherit: boolean;
  ttl: number;
  ttlInherit: boolean;
  dontFragment: boolean;
  /** null: not set; true/false: csum=true/false. */
  csum: boolean | null;
  /** GRE: packet_type=legacy_l3 (or ptap) carries no Ethernet header. */
  packetType: "legacy_l2" | "legacy_l3" | "ptap" | null;
  /** The options as given (what `getConfig` returns). */
  options: Record<string, string>;
}

/** A v4-mapped address for `a` (host order). */
export function ipv4Mapped(a: number): Uint8Array {
  const r = new Uint8Array(16);
  r[10] = 0xff;
  r[11] = 0xff;
  r[12] = a >>> 24;
  r[13] = (a >>> 16) & 0xff;
  r[14] = (a >>> 8) & 0xff;
  r[15] = a & 0xff;
  return r;
}

export function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

/** The IPv4 address (host order) of a v4-mapped address, else 0. */
export function mappedIpv4(a: Uint8Array): number {
  return isV4Mapped(a) ? ((a[12]! << 24) | (a[13]! << 16) | (a[14]! << 8) | a[15]!) >>> 0 : 0;
}

/** An address as OVS prints mapped ones (dotted IPv4 for v4-mapped). */
export function ipMappedToString(a: Uint8Array): string {
  return isV4Mapped(a) ? `${a[12]}.${a[13]}.${a[14]}.${a[15]}` : ipv6ToString(a);
}

/** Parses an IPv4 or IPv6 address into the 16-byte form; null when neither. */
export function parseIpAny(s: string): Uint8Array | null {
  const v4 = parseIpv4Addr(s);
  if (v4 !== null) return ipv4Mapped(v4);
  if (!s.includes(":")) return null;
  return parseIpv6Addr(s);
}

function isMulticast(a: Uint8Array): boolean {
  return isV4Mapped(a) ? (a[12]! & 0xf0) === 0xe0 : a[0] === 0xff;
}

/** strtoull(s, 0, 0) as C reads it (leading number, base prefix); 0 when none. */
function parseULL(s: string): bigint {
  const m = /^\s*[+]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (m === null) return 0n;
  const t = m[1]!;
  let v: bigint;
  if (/^0[xX]/.test(t)) v = BigInt(t);
  else if (t.length > 1 && t[0] === "0") v = BigInt("0o" + t.slice(1));
  else v = BigInt(t);
  return v & 0xffffffffffffffffn;
}

/** C's atoi: the leading decimal number, 0 when none. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number.parseInt(m[1]!, 10) | 0;
}

/** Name of the datapath port the tunnels of `type` on `dstPort` share (OVS's netdev_vport_get_dpif_port). */
export function tunnelDpifPortName(type: TunnelType, dstPort: number): string {
  if (type === "gre") return "gre_sys";
  return `${type === "geneve" ? "genev" : "vxlan"}_sys_${dstPort}`;
}

function defaultDstPort(type: TunnelType): number {
  return type === "vxlan" ? VXLAN_DST_PORT : type === "geneve" ? GENEVE_DST_PORT : 0;
}

/**
 * Parses Interface.options of a tunnel port as OVS's set_tunnel_config:
 * the config, or the error OVS puts in Interface.error (problems it only
 * warns about — an unknown option — are logged, as OVS logs them).
 */
export function parseTunnelOptions(name: string, type: TunnelType, options: Record<string, string>): TunnelConfig | string {
  const errors: string[] = [];
  const cfg: TunnelConfig = {
    type, remoteIp: null, remoteFlow: false, localIp: null, localFlow: false,
    inKeyPresent: false, inKeyFlow: false, inKey: 0n, outKeyPresent: false, outKeyFlow: false, outKey: 0n,
    dstPort: defaultDstPort(type), tos: 0, tosInherit: false, ttl: 0, ttlInherit: false, dontFragment: true,
    csum: null, packetType: null, options: { ...options },
  };
  let dstV4: boolean | null = null;
  let srcV4: boolean | null = null;
  let fatal = false;
  for (const key of Object.keys(options).sort()) {
    const value = options[key]!;
    switch (key) {
      case "remote_ip":
        if (value === "flow") cfg.remoteFlow = true;
        else {
          const a = parseIpAny(value);
          if (a === null) errors.push(`${name}: bad ${type} 'remote_ip'`);
          else if (isMulticast(a)) {
            errors.push(`${name}: multicast remote_ip=${value} not allowed`);
            fatal = true;
          } else {
            cfg.remoteIp = a;
            dstV4 = isV4Mapped(a);
          }
        }
        break;
      case "local_ip":
        if (value === "flow") cfg.localFlow = true;
        else {
          const a = parseIpAny(value);
          if (a === null) errors.push(`${name}: bad ${type} 'local_ip'`);
          else {
            cfg.localIp = a;
            srcV4 = isV4Mapped(a);
          }
        }
        break;
      case "dst_port":
        if (type !== "gre") cfg.dstPort = atoi(value) & 0xffff;
        else errors.push(`${name}: unknown ${type} argument '${key}'`);
        break;
      case "tos":
        if (value === "inherit") cfg.tosInherit = true;
        else {
          const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(value);
          const tos = m === null ? -1 : Number(parseULL(value));
          if (tos >= 0 && tos === (tos & 0xfc)) cfg.tos = tos;
        }
        break;
      case "ttl":
        if (value === "inherit") cfg.ttlInherit = true;
        else cfg.ttl = atoi(value) & 0xff;
        break;
      case "csum":
        if (value === "true") cfg.csum = true;
        else if (value === "false") cfg.csum = false;
        break;
      case "df_default":
        if (value === "false") cfg.dontFragment = false;
        break;
      case "key":
      case "in_key":
      case "out_key":
        break;
      case "packet_type":
        if (type !== "gre") errors.push(`${name}: unknown ${type} argument '${key}'`);
        else if (value === "legacy_l2" || value === "legacy_l3" || value === "ptap") cfg.packetType = value;
        else errors.push(`${name}: unknown packet_type '${value}'`);
        break;
      case "egress_pkt_mark":
      case "exts":
      case "seq":
      case "remote_cert":
      case "peer_cert":
      case "certificate":
      case "private_key":
      case "psk":
        break;
      default:
        errors.push(`${name}: unknown ${type} argument '${key}'`);
    }
  }
  if (!fatal) {
    if (cfg.remoteIp === null && !cfg.remoteFlow) {
      errors.push(`${name}: ${type} type requires valid 'remote_ip' argument`);
      fatal = true;
    } else if (cfg.localFlow && !cfg.remoteFlow) {
      errors.push(`${name}: ${type} type requires 'remote_ip=flow' with 'local_ip=flow'`);
      fatal = true;
    } else if (srcV4 !== null && dstV4 !== null && srcV4 !== dstV4) {
      errors.push(`${name}: 'remote_ip' and 'local_ip' has to be of the same address family`);
      fatal = true;
    }
  }
  if (cfg.ttl === 0) cfg.ttl = TNL_DEFAULT_TTL;
  const key = (which: "in_key" | "out_key"): { present: boolean; flow: boolean; v: bigint } => {
    const s = options[which] ?? options["key"];
    if (s === undefined) return { present: false, flow: false, v: 0n };
    if (s === "flow") return { present: true, flow: true, v: 0n };
    return { present: true, flow: false, v: parseULL(s) };
  };
  const ik = key("in_key");
  const ok = key("out_key");
  cfg.inKeyPresent = ik.present;
  cfg.inKeyFlow = ik.flow;
  cfg.inKey = ik.v;
  cfg.outKeyPresent = ok.present;
  cfg.outKeyFlow = ok.flow;
  cfg.outKey = ok.v;
  if (errors.length > 0) log.warn(errors.join("\n"));
  if (fatal) return errors.join("\n");
  return cfg;
}

/** The configuration OVS reports for a tunnel (netdev_get_config; `dpif/show`). */
export function tunnelConfigSmap(cfg: TunnelConfig): Record<string, string> {
  const r: Record<string, string> = {};
  if (cfg.remoteIp !== null) r["remote_ip"] = ipMappedToString(cfg.remoteIp);
  else if (cfg.remoteFlow) r["remote_ip"] = "flow";
  if (cfg.localIp !== null) r["local_ip"] = ipMappedToString(cfg.localIp);
  else if (cfg.localFlow) r["local_ip"] = "flow";
  if (cfg.inKeyFlow && cfg.outKeyFlow) r["key"] = "flow";
  else if (cfg.inKeyPresent && cfg.outKeyPresent && !cfg.inKeyFlow && !cfg.outKeyFlow && cfg.inKey === cfg.outKey) r["key"] = cfg.inKey.toString();
  else {
    if (cfg.inKeyFlow) r["in_key"] = "flow";
    else if (cfg.inKeyPresent) r["in_key"] = cfg.inKey.toString();
    if (cfg.outKeyFlow) r["out_key"] = "flow";
    else if (cfg.outKeyPresent) r["out_key"] = cfg.outKey.toString();
  }
  if (cfg.ttlInherit) r["ttl"] = "inherit";
  else if (cfg.ttl !== TNL_DEFAULT_TTL) r["ttl"] = String(cfg.ttl);
  if (cfg.tosInherit) r["tos"] = "inherit";
  else if (cfg.tos !== 0) r["tos"] = "0x" + cfg.tos.toString(16);
  if (cfg.type !== "gre" && cfg.dstPort !== defaultDstPort(cfg.type)) r["dst_port"] = String(cfg.dstPort);
  if (cfg.csum === true) r["csum"] = "true";
  if (cfg.packetType !== null && cfg.packetType !== "legacy_l2") r["packet_type"] = cfg.packetType;
  if (!cfg.dontFragment) r["df_default"] = "false";
  return r;
}

let macCounter = 1;

/**
 * A tunnel port's netdev. It receives nothing itself; what is sent to it
 * directly (not through tnl_push) is dropped and counted. Its tx/rx
 * counters are what translation credits to it (OVS's
 * netdev_vport_inc_tx / inc_rx).
 */
export class NetdevVport implements Netdev {
  readonly name: string;
  readonly type: TunnelType;
  config: TunnelConfig;
  private readonly stats: NetdevStats = zeroNetdevStats();
  private readonly mac: Uint8Array;
  private up = true;

  constructor(name: string, type: TunnelType, config: TunnelConfig) {
    this.name = name;
    this.type = type;
    this.config = config;
    const n = macCounter++;
    this.mac = Uint8Array.of(0x02, 0x00, 0x5e, 0x10, (n >>> 8) & 0xff, n & 0xff);
  }

  rxBatch(batch: DpPacketBatch, pool: DpPacketPool): number {
    void batch;
    void pool;
    return 0;
  }

  // HOT PATH (only when a flow outputs to the datapath's tunnel port without tnl_push).
  txBatch(batch: DpPacketBatch): void {
    const n = batch.count;
    for (let i = 0; i < n; i++) batch.packets[i]!.release();
    this.stats.txDropped += n;
    batch.count = 0;
  }

  /** Credits `packets`/`bytes` sent through the tunnel (translation's stats). */
  incTx(packets: number, bytes: number): void {
    this.stats.txPackets += packets;
    this.stats.txBytes += bytes;
  }

  incRx(packets: number, bytes: number): void {
    this.stats.rxPackets += packets;
    this.stats.rxBytes += bytes;
  }

  getStats(out: NetdevStats): void {
    Object.assign(out, this.stats);
  }

  getMtu(): number {
    return 1500;
  }

  setMtu(mtu: number): string | null {
    void mtu;
    return null;
  }

  getMac(): Uint8Array {
    return this.mac.slice();
  }

  setMac(mac: Uint8Array): string | null {
    this.mac.set(mac.subarray(0, 6));
    return null;
  }

  isUp(): boolean {
    return this.up;
  }

  setUp(up: boolean): void {
    this.up = up;
  }

  setConfig(options: Record<string, string>): string | null {
    const c = parseTunnelOptions(this.name, this.type, options);
    if (typeof c === "string") return c;
    this.config = c;
    return null;
  }

  getConfig(): Record<string, string> {
    return { ...this.config.options };
  }

  getReportedConfig(): Record<string, string> {
    return tunnelConfigSmap(this.config);
  }

  close(): void {
    /* nothing held */
  }
}

/** The netdev class of a tunnel type. */
export function tunnelNetdevClass(type: TunnelType): NetdevClass {
  return {
    type,
    open(name, options) {
      const c = parseTunnelOptions(name, type, options);
      if (typeof c === "string") return c;
      return new NetdevVport(name, type, c);
    },
  };
}
