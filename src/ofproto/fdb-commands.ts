/**
 * The fdb/* unixctl commands of ovs-vswitchd (OVS 3.1's ofproto-dpif.c):
 * inspecting and editing a bridge's MAC learning table.
 *
 *   fdb/show BRIDGE              the table, least recently used first
 *   fdb/flush [BRIDGE]           drop learned entries (of every bridge)
 *   fdb/stats-show BRIDGE        table counters
 *   fdb/stats-clear [BRIDGE]     zero the counters (of every bridge)
 *   fdb/add BRIDGE PORT VLAN MAC add a static entry
 *   fdb/del BRIDGE VLAN MAC      remove a static entry
 *
 * Output and error texts are OVS 3.1's, checked against the real daemon,
 * including its quirks: VLAN arguments are read like C's atoi and kept to
 * 16 bits ("abc" is VLAN 0, "-1" is 65535), and an unknown port name in
 * fdb/add answers "software error, odp port is present but no ofp port".
 */
import { formatPort } from "../openflow/ofp-codec.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import type { MacLearning } from "./mac-learning.js";
import type { XBridge, XBundle, XPort } from "./xlate-types.js";

/** What the fdb commands need of one bridge. */
export interface FdbBridge {
  /** The bridge (name, ports by number, bundles by name). */
  readonly xbridge: XBridge;
  /** Its MAC learning table. */
  readonly macs: MacLearning;
  /**
   * Called after a command changed the table (flush, add, del) so that
   * installed megaflows get revalidated. Optional: the bridge may instead
   * poll `macs.run()` / `macs.needRevalidate`.
   */
  revalidate?(): void;
}

/** Finds a bridge by name (null when there is none). */
export type FindFdbBridge = (name: string) => FdbBridge | null;
/** Every bridge (for fdb/flush and fdb/stats-clear without an argument). */
export type ListFdbBridges = () => Iterable<FdbBridge>;

/** C's atoi kept to uint16_t, as OVS reads fdb VLAN arguments. */
export function atoiU16(s: string): number {
  const m = /^[\s]*([+-]?)(\d+)/.exec(s);
  if (!m) return 0;
  let v = 0;
  for (const c of m[2]!) v = (v * 10 + (c.charCodeAt(0) - 48)) % 0x100000000;
  if (m[1] === "-") v = -v;
  return v & 0xffff;
}

/** OVS's eth_addr_from_string: six hex bytes separated by colons, the whole string. */
export function parseEthAddr(s: string): Uint8Array | null {
  const m = /^\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+)$/.exec(s);
  if (!m) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const digits = m[i + 1]!;
    out[i] = parseInt(digits.slice(-2), 16);
  }
  return out;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function macString(m: Uint8Array): string {
  return `${hex2(m[0]!)}:${hex2(m[1]!)}:${hex2(m[2]!)}:${hex2(m[3]!)}:${hex2(m[4]!)}:${hex2(m[5]!)}`;
}

/** The OpenFlow port fdb/show names a bundle by (OVS's ofbundle_get_a_port): its first interface. */
function bundlePortNo(bridge: XBridge, b: XBundle): number | null {
  const cur = bridge.bundles.get(b.name) ?? b;
  const p = cur.ports[0] ?? b.ports[0];
  return p ? p.ofpNo : null;
}

/** The fdb/show text. */
export function formatFdbShow(fb: FdbBridge, now: number = fb.xbridge.now()): string {
  let out = " port  VLAN  MAC                Age\n";
  for (const e of fb.macs.entries()) {
    const no = bundlePortNo(fb.xbridge, e.bundle);
    const port = no === null ? "?" : formatPort(no);
    const age = fb.macs.age(e, now);
    out += `${port.padStart(5)}  ${String(e.vlan).padStart(4)}  ${macString(e.mac)}  ${age === null ? "static" : String(age).padStart(3)}\n`;
  }
  return out;
}

/** The fdb/stats-show text. */
export function formatFdbStats(fb: FdbBridge): string {
  const s = fb.macs.stats();
  return (
    `Statistics for bridge "${fb.xbridge.name}":\n` +
    `  Current/maximum MAC entries in the table: ${s.current}/${s.max}\n` +
    `  Current static MAC entries in the table : ${s.static}\n` +
    `  Total number of learned MAC entries     : ${s.learned}\n` +
    `  Total number of expired MAC entries     : ${s.expired}\n` +
    `  Total number of evicted MAC entries     : ${s.evicted}\n` +
    `  Total number of port moved MAC entries  : ${s.moved}\n`
  );
}

function portByName(bridge: XBridge, name: string): XPort | null {
  for (const p of bridge.ports.values()) if (p.name === name) return p;
  return null;
}

function mustFind(findBridge: FindFdbBridge, name: string): FdbBridge {
  const fb = findBridge(name);
  if (!fb) throw new UnixctlError("no such bridge");
  return fb;
}

/** Registers fdb/show, fdb/flush, fdb/stats-show, fdb/stats-clear, fdb/add and fdb/del. */
export function registerFdbCommands(registry: UnixctlRegistry, findBridge: FindFdbBridge, allBridges: ListFdbBridges): void {
  registry.register("fdb/show", "bridge", 1, 1, (args) => formatFdbShow(mustFind(findBridge, args[0]!)));

  registry.register("fdb/flush", "[bridge]", 0, 1, (args) => {
    const targets = args.length > 0 ? [mustFind(findBridge, args[0]!)] : [...allBridges()];
    for (const fb of targets) {
      fb.macs.flush();
      fb.revalidate?.();
    }
    return "table successfully flushed\n";
  });

  registry.register("fdb/stats-show", "bridge", 1, 1, (args) => formatFdbStats(mustFind(findBridge, args[0]!)));

  registry.register("fdb/stats-clear", "[bridge]", 0, 1, (args) => {
    const targets = args.length > 0 ? [mustFind(findBridge, args[0]!)] : [...allBridges()];
    for (const fb of targets) fb.macs.clearStats();
    return "statistics successfully cleared\n";
  });

  registry.register("fdb/add", "bridge port vlan mac", 4, 4, (args) => {
    const fb = mustFind(findBridge, args[0]!);
    const vlan = atoiU16(args[2]!);
    const mac = parseEthAddr(args[3]!);
    if (!mac) throw new UnixctlError("bad MAC address");
    const port = portByName(fb.xbridge, args[1]!);
    if (!port) throw new UnixctlError("software error, odp port is present but no ofp port");
    const bundle = port.bundle ? (fb.xbridge.bundles.get(port.bundle.name) ?? port.bundle) : null;
    if (!bundle) throw new UnixctlError(`could not find the bundle for port ${port.name}`);
    const { previous } = fb.macs.addStatic(mac, 0, vlan, bundle, fb.xbridge.now());
    fb.revalidate?.();
    if (previous === null) return "";
    const prevNo = bundlePortNo(fb.xbridge, previous.bundle) ?? 0;
    return `Overriding already existing ${previous.isStatic ? "static" : "dynamic"} entry on ${prevNo}\n`;
  });

  registry.register("fdb/del", "bridge vlan mac", 3, 3, (args) => {
    const fb = mustFind(findBridge, args[0]!);
    const vlan = atoiU16(args[1]!);
    const mac = parseEthAddr(args[2]!);
    if (!mac) throw new UnixctlError("bad MAC address");
    if (!fb.macs.delStatic(mac, 0, vlan)) throw new UnixctlError("could not find static mac entry");
    fb.revalidate?.();
    return "";
  });
}
