/**
 * ovs-vsctl's own commands (bridges, ports, interfaces, controllers,
 * fail-mode, managers, SSL, auto-attach, emer-reset), built on a cache of
 * the bridge → port → interface tree the way ovs-vsctl builds it:
 *
 *   - a "fake bridge" is a Port with fake_bridge=true and a tag 0..4095 in
 *     a real bridge; ports of the parent with the same tag belong to it;
 *   - duplicate names are reported as warnings and skipped;
 *   - names are unique across bridges, ports and interfaces
 *     (check_conflicts), with OVS's error messages.
 */
import { CommandContext, CtlError, command, type CommandSyntax } from "./context.js";
import { setColumn } from "./db-commands.js";
import type { IdlRow } from "./idl.js";
import type { TextDatum } from "../ovsdb/datum-text.js";
import { shashOrder } from "../ovsdb/hash-order.js";

interface VBridge {
  brCfg: IdlRow | null;
  name: string;
  ports: VPort[];
  children: Map<number, VBridge>;
  parent: VBridge | null;
  vlan: number;
}
interface VPort {
  portCfg: IdlRow;
  name: string;
  ifaces: VIface[];
  bridge: VBridge;
}
interface VIface {
  ifaceCfg: IdlRow;
  name: string;
  port: VPort;
}
interface VCache {
  bridges: Map<string, VBridge>;
  ports: Map<string, VPort>;
  ifaces: Map<string, VIface>;
}

/** Interfaces created by add-br/add-port, checked for an ofport after vswitchd reloads. */
export const newIfaces: IdlRow[] = [];

const str = (ctx: CommandContext, row: IdlRow, col: string): string => ctx.idl.readString(row, col);
const refs = (ctx: CommandContext, row: IdlRow, col: string, table: string): IdlRow[] =>
  ctx.idl.readUuids(row, col).flatMap((u) => {
    const r = ctx.idl.get(table, u);
    return r ? [r] : [];
  });

function tagOf(ctx: CommandContext, port: IdlRow): number | null {
  const d = ctx.idl.read(port, "tag");
  return d.keys.length ? (d.keys[0] as number) : null;
}

function isFakeBridgePort(ctx: CommandContext, port: IdlRow): boolean {
  const fake = ctx.idl.read(port, "fake_bridge").keys[0] === true;
  const tag = tagOf(ctx, port);
  return fake && tag !== null && tag >= 0 && tag <= 4095;
}

function ovsRow(ctx: CommandContext): IdlRow {
  return ctx.ovs!;
}

function addBridgeToCache(ctx: CommandContext, c: VCache, brCfg: IdlRow | null, name: string, parent: VBridge | null, vlan: number): VBridge {
  const br: VBridge = { brCfg, name, ports: [], children: new Map(), parent, vlan };
  if (parent) {
    const conflict = parent.children.get(vlan);
    if (conflict) {
      ctx.warn("vsctl", `${parent.name}: bridge has multiple VLAN bridges (${name} and ${conflict.name}) for VLAN ${vlan}, but only one is allowed`);
    } else parent.children.set(vlan, br);
  }
  c.bridges.set(name, br);
  return br;
}

function addPortToCache(ctx: CommandContext, c: VCache, parent: VBridge, portCfg: IdlRow): VPort {
  const tag = tagOf(ctx, portCfg);
  if (tag !== null && tag >= 0 && tag <= 4095) {
    const vb = parent.children.get(tag);
    if (vb) parent = vb;
  }
  const port: VPort = { portCfg, name: str(ctx, portCfg, "name"), ifaces: [], bridge: parent };
  parent.ports.push(port);
  c.ports.set(port.name, port);
  return port;
}

function addIfaceToCache(ctx: CommandContext, c: VCache, port: VPort, ifaceCfg: IdlRow): VIface {
  const iface: VIface = { ifaceCfg, name: str(ctx, ifaceCfg, "name"), port };
  port.ifaces.push(iface);
  c.ifaces.set(iface.name, iface);
  return iface;
}

function populateCache(ctx: CommandContext): VCache {
  if (ctx.cache) return ctx.cache as VCache;
  const c: VCache = { bridges: new Map(), ports: new Map(), ifaces: new Map() };
  ctx.cache = c;
  const ovs = ovsRow(ctx);
  const bridges = refs(ctx, ovs, "bridges", "Bridge");
  let seenBridges = new Set<string>();
  const seenPorts = new Set<string>();
  for (const brCfg of bridges) {
    const name = str(ctx, brCfg, "name");
    if (seenBridges.has(name)) {
      ctx.warn("vsctl", `${name}: database contains duplicate bridge name`);
      continue;
    }
    seenBridges.add(name);
    const br = addBridgeToCache(ctx, c, brCfg, name, null, 0);
    for (const portCfg of refs(ctx, brCfg, "ports", "Port")) {
      const pname = str(ctx, portCfg, "name");
      if (seenPorts.has(pname)) continue;
      seenPorts.add(pname);
      if (isFakeBridgePort(ctx, portCfg) && !seenBridges.has(pname)) {
        seenBridges.add(pname);
        addBridgeToCache(ctx, c, null, pname, br, tagOf(ctx, portCfg)!);
      }
    }
  }
  seenBridges = new Set();
  for (const brCfg of bridges) {
    const name = str(ctx, brCfg, "name");
    if (seenBridges.has(name)) continue;
    seenBridges.add(name);
    const br = c.bridges.get(name)!;
    for (const portCfg of refs(ctx, brCfg, "ports", "Port")) {
      const pname = str(ctx, portCfg, "name");
      const existing = c.ports.get(pname);
      if (existing) {
        if (existing.portCfg === portCfg) {
          ctx.warn("vsctl", `${pname}: port is in multiple bridges (${br.name} and ${existing.bridge.name})`);
        } else ctx.warn("vsctl", `${pname}: database contains duplicate port name`);
        continue;
      }
      if (isFakeBridgePort(ctx, portCfg)) {
        if (seenBridges.has(pname)) continue;
        seenBridges.add(pname);
      }
      const port = addPortToCache(ctx, c, br, portCfg);
      for (const ifaceCfg of refs(ctx, portCfg, "interfaces", "Interface")) {
        const iname = str(ctx, ifaceCfg, "name");
        const ex = c.ifaces.get(iname);
        if (ex) {
          if (ex.ifaceCfg === ifaceCfg) {
            ctx.warn("vsctl", `${iname}: interface is in multiple ports (${ex.port.name} and ${port.name})`);
          } else ctx.warn("vsctl", `${iname}: database contains duplicate interface name`);
          continue;
        }
        addIfaceToCache(ctx, c, port, ifaceCfg);
      }
    }
  }
  return c;
}

function checkConflicts(c: VCache, name: string, msg: string): void {
  if (c.bridges.has(name)) throw new CtlError(`${msg} because a bridge named ${name} already exists`);
  const port = c.ports.get(name);
  if (port) throw new CtlError(`${msg} because a port named ${name} already exists on bridge ${port.bridge.name}`);
  const iface = c.ifaces.get(name);
  if (iface) throw new CtlError(`${msg} because an interface named ${name} already exists on bridge ${iface.port.bridge.name}`);
}

function findBridge(c: VCache, name: string, mustExist: boolean): VBridge | null {
  const br = c.bridges.get(name) ?? null;
  if (mustExist && !br) throw new CtlError(`no bridge named ${name}`);
  return br;
}

function findRealBridge(c: VCache, name: string, mustExist: boolean): VBridge | null {
  const br = findBridge(c, name, mustExist);
  if (br && br.parent) throw new CtlError(`${name} is a fake bridge`);
  return br;
}

function findPort(c: VCache, name: string, mustExist: boolean): VPort | null {
  let port = c.ports.get(name) ?? null;
  if (port && name === port.bridge.name) port = null;
  if (mustExist && !port) throw new CtlError(`no port named ${name}`);
  return port;
}

function findIface(c: VCache, name: string, mustExist: boolean): VIface | null {
  let iface = c.ifaces.get(name) ?? null;
  if (iface && name === iface.port.bridge.name) iface = null;
  if (mustExist && !iface) throw new CtlError(`no interface named ${name}`);
  return iface;
}

function uuidsDatum(rows: IdlRow[]): TextDatum {
  const keys = [...new Set(rows.map((r) => r.uuid))].sort();
  return { keys, values: null };
}

function setRefs(ctx: CommandContext, row: IdlRow, column: string, rows: IdlRow[]): void {
  ctx.idl.write(row, column, uuidsDatum(rows));
}

function setString(ctx: CommandContext, row: IdlRow, column: string, v: string | null): void {
  ctx.idl.write(row, column, { keys: v === null ? [] : [v], values: null });
}

function bridgeInsertPort(ctx: CommandContext, br: IdlRow, port: IdlRow): void {
  setRefs(ctx, br, "ports", [...refs(ctx, br, "ports", "Port"), port]);
}

function bridgeDeletePort(ctx: CommandContext, br: IdlRow, port: IdlRow): void {
  setRefs(ctx, br, "ports", refs(ctx, br, "ports", "Port").filter((p) => p !== port));
}

function sorted(names: string[]): string {
  return [...names].sort(cmpBytes).map((n) => n + "\n").join("");
}

function cmpBytes(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

// ---------------------------------------------------------------------------

function cmdAddBr(ctx: CommandContext): void {
  const mayExist = ctx.has("--may-exist");
  const brName = ctx.argv[1]!;
  let parentName: string | null = null;
  let vlan = 0;
  if (ctx.argv.length === 2) {
    /* real bridge */
  } else if (ctx.argv.length === 4) {
    parentName = ctx.argv[2]!;
    vlan = atoi(ctx.argv[3]!);
    if (vlan < 0 || vlan > 4095) throw new CtlError(`${ctx.argv[0]}: vlan must be between 0 and 4095`);
  } else {
    throw new CtlError(`'${ctx.argv[0]}' command takes exactly 1 or 3 arguments`);
  }
  const c = populateCache(ctx);
  if (mayExist) {
    const br = findBridge(c, brName, false);
    if (br) {
      if (!parentName) {
        if (br.parent) throw new CtlError(`"--may-exist add-br ${brName}" but ${brName} is a VLAN bridge for VLAN ${br.vlan}`);
      } else if (!br.parent) {
        throw new CtlError(`"--may-exist add-br ${brName} ${parentName} ${vlan}" but ${brName} is not a VLAN bridge`);
      } else if (br.parent.name !== parentName) {
        throw new CtlError(`"--may-exist add-br ${brName} ${parentName} ${vlan}" but ${brName} has the wrong parent ${br.parent.name}`);
      } else if (br.vlan !== vlan) {
        throw new CtlError(`"--may-exist add-br ${brName} ${parentName} ${vlan}" but ${brName} is a VLAN bridge for the wrong VLAN ${br.vlan}`);
      }
      return;
    }
  }
  checkConflicts(c, brName, `cannot create a bridge named ${brName}`);
  let iface: IdlRow;
  if (!parentName) {
    iface = ctx.idl.insert("Interface");
    setString(ctx, iface, "name", brName);
    setString(ctx, iface, "type", "internal");
    const port = ctx.idl.insert("Port");
    setString(ctx, port, "name", brName);
    setRefs(ctx, port, "interfaces", [iface]);
    const br = ctx.idl.insert("Bridge");
    setString(ctx, br, "name", brName);
    setRefs(ctx, br, "ports", [port]);
    const ovs = ovsRow(ctx);
    setRefs(ctx, ovs, "bridges", [...refs(ctx, ovs, "bridges", "Bridge"), br]);
  } else {
    const parent = findBridge(c, parentName, false);
    if (parent && parent.parent) throw new CtlError("cannot create bridge with fake bridge as parent");
    if (!parent) throw new CtlError(`parent bridge ${parentName} does not exist`);
    const conflict = parent.children.get(vlan);
    if (conflict) throw new CtlError(`bridge ${parentName} already has a child VLAN bridge ${conflict.name} on VLAN ${vlan}`);
    iface = ctx.idl.insert("Interface");
    setString(ctx, iface, "name", brName);
    setString(ctx, iface, "type", "internal");
    const port = ctx.idl.insert("Port");
    setString(ctx, port, "name", brName);
    setRefs(ctx, port, "interfaces", [iface]);
    ctx.idl.write(port, "fake_bridge", { keys: [true], values: null });
    ctx.idl.write(port, "tag", { keys: [vlan], values: null });
    bridgeInsertPort(ctx, parent.brCfg!, port);
  }
  newIfaces.push(iface);
  ctx.invalidateCache();
}

/** C atoi(): leading whitespace, optional sign, digits; garbage ignored. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  if (!m) return 0;
  const v = Number(m[1]);
  return Math.trunc(((v % 2 ** 32) + 2 ** 32 + 2 ** 31) % 2 ** 32 - 2 ** 31);
}

function delPort(ctx: CommandContext, c: VCache, port: VPort): void {
  const br = port.bridge.parent ? port.bridge.parent.brCfg! : port.bridge.brCfg!;
  bridgeDeletePort(ctx, br, port.portCfg);
  for (const iface of [...port.ifaces]) {
    c.ifaces.delete(iface.name);
    ctx.idl.delete(iface.ifaceCfg);
  }
  port.ifaces = [];
  port.bridge.ports = port.bridge.ports.filter((p) => p !== port);
  c.ports.delete(port.name);
  ctx.idl.delete(port.portCfg);
}

function delBridge(ctx: CommandContext, c: VCache, br: VBridge): void {
  for (const child of [...br.children.values()]) delBridge(ctx, c, child);
  for (const port of [...br.ports]) delPort(ctx, c, port);
  if (br.brCfg) {
    for (const fs of ctx.idl.rows("Flow_Sample_Collector_Set")) {
      const d = ctx.idl.read(fs, "bridge");
      if (d.keys[0] === br.brCfg.uuid) ctx.idl.delete(fs);
    }
  }
  if (br.parent) br.parent.children.delete(br.vlan);
  if (br.brCfg) {
    ctx.idl.delete(br.brCfg);
    const ovs = ovsRow(ctx);
    setRefs(ctx, ovs, "bridges", refs(ctx, ovs, "bridges", "Bridge").filter((b) => b !== br.brCfg));
  }
  c.bridges.delete(br.name);
}

function cmdDelBr(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findBridge(c, ctx.argv[1]!, !ctx.has("--if-exists"));
  if (br) delBridge(ctx, c, br);
}

function cmdListBr(ctx: CommandContext): void {
  let real = ctx.has("--real");
  let fake = ctx.has("--fake");
  if (!real && !fake) real = fake = true;
  const c = populateCache(ctx);
  const names: string[] = [];
  for (const br of c.bridges.values()) if (br.parent ? fake : real) names.push(br.name);
  ctx.output += sorted(names);
}

/** Exit status 2 requested by br-exists. */
export class ExitRequest extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

function cmdBrExists(ctx: CommandContext): void {
  const c = populateCache(ctx);
  if (!findBridge(c, ctx.argv[1]!, false)) throw new ExitRequest(2);
}

function setExternalId(ctx: CommandContext, row: IdlRow, column: string, key: string, value: string | null): void {
  const d = ctx.idl.read(row, column);
  const keys: string[] = [];
  const values: string[] = [];
  d.keys.forEach((k, i) => {
    if (k !== key) {
      keys.push(k as string);
      values.push(d.values![i] as string);
    }
  });
  if (value !== null) {
    keys.push(key);
    values.push(value);
  }
  const out: TextDatum = { keys, values };
  const idx = keys.map((_, i) => i).sort((a, b) => cmpBytes(keys[a]!, keys[b]!));
  ctx.idl.write(row, column, { keys: idx.map((i) => out.keys[i]!), values: idx.map((i) => out.values![i]!) });
}

function cmdBrSetExternalId(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findBridge(c, ctx.argv[1]!, true)!;
  const value = ctx.argv.length >= 4 ? ctx.argv[3]! : null;
  if (br.brCfg) setExternalId(ctx, br.brCfg, "external_ids", ctx.argv[2]!, value);
  else {
    const port = c.ports.get(ctx.argv[1]!)!;
    setExternalId(ctx, port.portCfg, "external_ids", `fake-bridge-${ctx.argv[2]}`, value);
  }
}

function getExternalId(ctx: CommandContext, row: IdlRow, prefix: string, key: string | null): void {
  const d = ctx.idl.read(row, "external_ids");
  if (key !== null) {
    const i = d.keys.indexOf(prefix + key);
    if (i >= 0) ctx.output += `${d.values![i]}\n`;
    return;
  }
  const idx = d.keys.map((_, i) => i).sort((a, b) => cmpBytes(d.keys[a] as string, d.keys[b] as string));
  for (const i of idx) {
    const k = d.keys[i] as string;
    if (k.startsWith(prefix)) ctx.output += `${k.slice(prefix.length)}=${d.values![i]}\n`;
  }
}

function cmdBrGetExternalId(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findBridge(c, ctx.argv[1]!, true)!;
  const key = ctx.argv.length >= 3 ? ctx.argv[2]! : null;
  if (br.brCfg) getExternalId(ctx, br.brCfg, "", key);
  else getExternalId(ctx, c.ports.get(ctx.argv[1]!)!.portCfg, "fake-bridge-", key);
}

function cmdListPorts(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findBridge(c, ctx.argv[1]!, true)!;
  ctx.output += sorted(br.ports.filter((p) => p.name !== br.name).map((p) => p.name));
}

function svecEqual(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Joins an argv the way OVS's process_escape_args quotes it. */
function escapeArgs(args: string[]): string {
  return args
    .map((a) => {
      if (a !== "" && !/[ "\\'\t\n]/.test(a)) return a;
      return '"' + a.replace(/["\\]/g, (m) => "\\" + m) + '"';
    })
    .join(" ");
}

function contextToString(ctx: CommandContext): string {
  const words: string[] = [];
  for (const [k] of ctx.options) words.push(k);
  return escapeArgs([...words, ...ctx.argv]);
}

function addPort(
  ctx: CommandContext,
  brName: string,
  portName: string,
  mayExist: boolean,
  fakeIface: boolean,
  ifaceNames: string[],
  settings: string[],
): void {
  const c = populateCache(ctx);
  if (mayExist) {
    const vp = findPort(c, portName, false);
    if (vp) {
      const want = [...ifaceNames].sort(cmpBytes);
      const have = refs(ctx, vp.portCfg, "interfaces", "Interface")
        .map((i) => str(ctx, i, "name"))
        .sort(cmpBytes);
      if (vp.bridge.name !== brName) {
        throw new CtlError(`"${contextToString(ctx)}" but ${portName} is actually attached to bridge ${vp.bridge.name}`);
      }
      if (!svecEqual(want, have)) {
        throw new CtlError(`"${contextToString(ctx)}" but ${portName} actually has interface(s) ${have.join(", ")}`);
      }
      return;
    }
  }
  checkConflicts(c, portName, `cannot create a port named ${portName}`);
  for (const n of ifaceNames) checkConflicts(c, n, `cannot create an interface named ${n}`);
  const bridge = findBridge(c, brName, true)!;
  const ifaces = ifaceNames.map((n) => {
    const i = ctx.idl.insert("Interface");
    setString(ctx, i, "name", n);
    newIfaces.push(i);
    return i;
  });
  const port = ctx.idl.insert("Port");
  setString(ctx, port, "name", portName);
  setRefs(ctx, port, "interfaces", ifaces);
  ctx.idl.write(port, "bond_fake_iface", { keys: [fakeIface], values: null });
  if (bridge.parent) ctx.idl.write(port, "tag", { keys: [bridge.vlan], values: null });
  const portTable = ctx.schema.byName.get("Port")!;
  for (const s of settings) setColumn(ctx, portTable, port, s);
  bridgeInsertPort(ctx, bridge.parent ? bridge.parent.brCfg! : bridge.brCfg!, port);
  const vp = addPortToCache(ctx, c, bridge, port);
  for (const i of ifaces) addIfaceToCache(ctx, c, vp, i);
}

function cmdAddPort(ctx: CommandContext): void {
  addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, ctx.has("--may-exist"), false, [ctx.argv[2]!], ctx.argv.slice(3));
}

function cmdAddBond(ctx: CommandContext): void {
  let nIfaces = ctx.argv.length - 3;
  for (let i = 3; i < ctx.argv.length; i++) {
    if (ctx.argv[i]!.includes("=")) {
      nIfaces = i - 3;
      break;
    }
  }
  if (nIfaces < 2) throw new CtlError(`add-bond requires at least 2 interfaces, but only ${nIfaces} were specified`);
  addPort(
    ctx,
    ctx.argv[1]!,
    ctx.argv[2]!,
    ctx.has("--may-exist"),
    ctx.has("--fake-iface"),
    ctx.argv.slice(3, 3 + nIfaces),
    ctx.argv.slice(3 + nIfaces),
  );
}

function cmdAddBondIface(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const mayExist = ctx.has("--may-exist");
  const port = findPort(c, ctx.argv[1]!, true)!;
  const ifaceName = ctx.argv[2]!;
  if (mayExist) {
    const iface = findIface(c, ifaceName, false);
    if (iface) {
      if (iface.port === port) return;
      throw new CtlError(`--may-exist add-bond-iface ${ifaceName} specified but interface already belongs to ${iface.port.name}`);
    }
  }
  checkConflicts(c, ifaceName, `cannot create an interface named ${ifaceName}`);
  const iface = ctx.idl.insert("Interface");
  setString(ctx, iface, "name", ifaceName);
  setRefs(ctx, port.portCfg, "interfaces", [...refs(ctx, port.portCfg, "interfaces", "Interface"), iface]);
  newIfaces.push(iface);
  addIfaceToCache(ctx, c, port, iface);
}

function cmdDelBondIface(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const mustExist = !ctx.has("--if-exists");
  const ifaceName = ctx.argv[ctx.argv.length - 1]!;
  const iface = findIface(c, ifaceName, mustExist);
  if (!iface) return;
  const port = iface.port;
  if (ctx.argv.length === 3) {
    const p = findPort(c, ctx.argv[1]!, true)!;
    if (p !== port) throw new CtlError(`port ${ctx.argv[1]} does not have an interface ${ifaceName}`);
  }
  if (port.ifaces.length === 1) {
    throw new CtlError(`cannot remove the last interface ${ifaceName} from port ${port.name}`);
  }
  setRefs(ctx, port.portCfg, "interfaces", refs(ctx, port.portCfg, "interfaces", "Interface").filter((i) => i !== iface.ifaceCfg));
  port.ifaces = port.ifaces.filter((i) => i !== iface);
  c.ifaces.delete(iface.name);
  ctx.idl.delete(iface.ifaceCfg);
}

function cmdDelPort(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const mustExist = !ctx.has("--if-exists");
  const withIface = ctx.has("--with-iface");
  const target = ctx.argv[ctx.argv.length - 1]!;
  let port: VPort | null;
  if (findBridge(c, target, false)) {
    if (mustExist) {
      throw new CtlError(
        `cannot delete port ${target} because it is the local port for bridge ${target} (deleting this port requires deleting the entire bridge)`,
      );
    }
    port = null;
  } else if (!withIface) {
    port = findPort(c, target, mustExist);
  } else {
    port = findPort(c, target, false);
    if (!port) {
      const iface = findIface(c, target, false);
      if (iface) port = iface.port;
    }
    if (mustExist && !port) throw new CtlError(`no port or interface named ${target}`);
  }
  if (!port) return;
  if (ctx.argv.length === 3) {
    const bridge = findBridge(c, ctx.argv[1]!, true)!;
    if (port.bridge !== bridge) {
      if (port.bridge.parent === bridge) {
        throw new CtlError(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]} (although its child bridge ${port.bridge.name} does)`);
      }
      throw new CtlError(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]}`);
    }
  }
  delPort(ctx, c, port);
}

function cmdPortToBr(ctx: CommandContext): void {
  const c = populateCache(ctx);
  ctx.output += findPort(c, ctx.argv[1]!, true)!.bridge.name + "\n";
}

function cmdBrToVlan(ctx: CommandContext): void {
  const c = populateCache(ctx);
  ctx.output += `${findBridge(c, ctx.argv[1]!, true)!.vlan}\n`;
}

function cmdBrToParent(ctx: CommandContext): void {
  const c = populateCache(ctx);
  let br = findBridge(c, ctx.argv[1]!, true)!;
  if (br.parent) br = br.parent;
  ctx.output += br.name + "\n";
}

function cmdListIfaces(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findBridge(c, ctx.argv[1]!, true)!;
  const names: string[] = [];
  for (const p of br.ports) for (const i of p.ifaces) if (i.name !== br.name) names.push(i.name);
  ctx.output += sorted(names);
}

function cmdIfaceToBr(ctx: CommandContext): void {
  const c = populateCache(ctx);
  ctx.output += findIface(c, ctx.argv[1]!, true)!.port.bridge.name + "\n";
}

function cmdGetController(ctx: CommandContext): void {
  const c = populateCache(ctx);
  let br = findBridge(c, ctx.argv[1]!, true)!;
  if (br.parent) br = br.parent;
  const targets = refs(ctx, br.brCfg!, "controller", "Controller").map((r) => str(ctx, r, "target"));
  ctx.output += sorted(targets);
}

function deleteRows(ctx: CommandContext, rows: IdlRow[]): void {
  for (const r of rows) ctx.idl.delete(r);
}

function cmdDelController(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findRealBridge(c, ctx.argv[1]!, true)!.brCfg!;
  const ctrls = refs(ctx, br, "controller", "Controller");
  if (ctrls.length) {
    deleteRows(ctx, ctrls);
    setRefs(ctx, br, "controller", []);
  }
}

const ACTIVE = /^(tcp|ssl|unix):/;
const PASSIVE = /^(ptcp|pssl|punix):/;

function cmdSetController(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findRealBridge(c, ctx.argv[1]!, true)!.brCfg!;
  deleteRows(ctx, refs(ctx, br, "controller", "Controller"));
  const ctrls = ctx.argv.slice(2).map((t) => {
    if (!ACTIVE.test(t) && !PASSIVE.test(t)) ctx.warn("vsctl", `target type "${t}" is possibly erroneous`);
    const r = ctx.idl.insert("Controller");
    setString(ctx, r, "target", t);
    setInactivityProbe(ctx, r);
    return r;
  });
  setRefs(ctx, br, "controller", ctrls);
}

/** `--inactivity-probe=MSECS` on set-controller / set-manager. */
function setInactivityProbe(ctx: CommandContext, row: IdlRow): void {
  const v = ctx.option("--inactivity-probe");
  if (v !== undefined && v !== null) ctx.idl.write(row, "inactivity_probe", { keys: [atoi(v)], values: null });
}

function cmdGetFailMode(ctx: CommandContext): void {
  const c = populateCache(ctx);
  let br = findBridge(c, ctx.argv[1]!, true)!;
  if (br.parent) br = br.parent;
  const mode = str(ctx, br.brCfg!, "fail_mode");
  if (mode) ctx.output += mode + "\n";
}

function cmdDelFailMode(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findRealBridge(c, ctx.argv[1]!, true)!;
  setString(ctx, br.brCfg!, "fail_mode", null);
}

function cmdSetFailMode(ctx: CommandContext): void {
  const c = populateCache(ctx);
  const br = findRealBridge(c, ctx.argv[1]!, true)!;
  const mode = ctx.argv[2]!;
  if (mode !== "standalone" && mode !== "secure") throw new CtlError('fail-mode must be "standalone" or "secure"');
  setString(ctx, br.brCfg!, "fail_mode", mode);
}

function cmdGetManager(ctx: CommandContext): void {
  const targets = [...new Set(refs(ctx, ovsRow(ctx), "manager_options", "Manager").map((r) => str(ctx, r, "target")))];
  ctx.output += sorted(targets);
}

function deleteManagers(ctx: CommandContext): void {
  const ovs = ovsRow(ctx);
  deleteRows(ctx, refs(ctx, ovs, "manager_options", "Manager"));
  setRefs(ctx, ovs, "manager_options", []);
}

function cmdDelManager(ctx: CommandContext): void {
  deleteManagers(ctx);
}

function cmdSetManager(ctx: CommandContext): void {
  deleteManagers(ctx);
  const mgrs = ctx.argv.slice(1).map((t) => {
    if (!ACTIVE.test(t) && !PASSIVE.test(t)) ctx.warn("vsctl", `target type "${t}" is possibly erroneous`);
    const r = ctx.idl.insert("Manager");
    setString(ctx, r, "target", t);
    setInactivityProbe(ctx, r);
    return r;
  });
  setRefs(ctx, ovsRow(ctx), "manager_options", mgrs);
}

function cmdGetSsl(ctx: CommandContext): void {
  const ssl = refs(ctx, ovsRow(ctx), "ssl", "SSL")[0];
  if (!ssl) return;
  ctx.output += `Private key: ${str(ctx, ssl, "private_key")}\n`;
  ctx.output += `Certificate: ${str(ctx, ssl, "certificate")}\n`;
  ctx.output += `CA Certificate: ${str(ctx, ssl, "ca_cert")}\n`;
  ctx.output += `Bootstrap: ${ctx.idl.read(ssl, "bootstrap_ca_cert").keys[0] === true ? "true" : "false"}\n`;
}

function cmdDelSsl(ctx: CommandContext): void {
  const ovs = ovsRow(ctx);
  const ssl = refs(ctx, ovs, "ssl", "SSL")[0];
  if (ssl) {
    ctx.idl.delete(ssl);
    setRefs(ctx, ovs, "ssl", []);
  }
}

function cmdSetSsl(ctx: CommandContext): void {
  const ovs = ovsRow(ctx);
  const old = refs(ctx, ovs, "ssl", "SSL")[0];
  if (old) ctx.idl.delete(old);
  const ssl = ctx.idl.insert("SSL");
  setString(ctx, ssl, "private_key", ctx.argv[1]!);
  setString(ctx, ssl, "certificate", ctx.argv[2]!);
  setString(ctx, ssl, "ca_cert", ctx.argv[3]!);
  ctx.idl.write(ssl, "bootstrap_ca_cert", { keys: [ctx.has("--bootstrap")], values: null });
  setRefs(ctx, ovs, "ssl", [ssl]);
}

function parseAaNumber(s: string): number {
  const m = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(s);
  if (!m) throw new CtlError(`Invalid argument ${s}`);
  return Number(m[0]);
}

function aaBridge(ctx: CommandContext): VBridge {
  const c = populateCache(ctx);
  let br = findBridge(c, ctx.argv[1]!, true)!;
  if (br.parent) br = br.parent;
  return br;
}

function cmdAddAaMapping(ctx: CommandContext): void {
  const isid = parseAaNumber(ctx.argv[2]!);
  const vlan = parseAaNumber(ctx.argv[3]!);
  const br = aaBridge(ctx);
  if (!br.brCfg) return;
  let aa = refs(ctx, br.brCfg, "auto_attach", "AutoAttach")[0];
  if (!aa) {
    aa = ctx.idl.insert("AutoAttach");
    setRefs(ctx, br.brCfg, "auto_attach", [aa]);
  }
  const d = ctx.idl.read(aa, "mappings");
  if (d.keys.includes(isid)) return;
  const pairs = d.keys.map((k, i) => [k as number, d.values![i] as number] as const).concat([[isid, vlan]]);
  pairs.sort((a, b) => a[0] - b[0]);
  ctx.idl.write(aa, "mappings", { keys: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) });
}

function cmdDelAaMapping(ctx: CommandContext): void {
  const isid = parseAaNumber(ctx.argv[2]!);
  const vlan = parseAaNumber(ctx.argv[3]!);
  const br = aaBridge(ctx);
  if (!br.brCfg) return;
  const aa = refs(ctx, br.brCfg, "auto_attach", "AutoAttach")[0];
  if (!aa) return;
  const d = ctx.idl.read(aa, "mappings");
  const i = d.keys.findIndex((k, j) => k === isid && d.values![j] === vlan);
  if (i < 0) return;
  const keep = d.keys.map((_, j) => j).filter((j) => d.keys[j] !== isid && d.values![j] !== vlan);
  ctx.idl.write(aa, "mappings", { keys: keep.map((j) => d.keys[j]!), values: keep.map((j) => d.values![j]!) });
}

function cmdGetAaMapping(ctx: CommandContext): void {
  const br = aaBridge(ctx);
  if (!br.brCfg) return;
  const aa = refs(ctx, br.brCfg, "auto_attach", "AutoAttach")[0];
  if (!aa) return;
  const d = ctx.idl.read(aa, "mappings");
  d.keys.forEach((k, i) => (ctx.output += `${k} ${d.values![i]}\n`));
}

function cmdEmerReset(ctx: CommandContext): void {
  const ovs = ovsRow(ctx);
  setRefs(ctx, ovs, "manager_options", []);
  setRefs(ctx, ovs, "ssl", []);
  for (const br of ctx.idl.rows("Bridge")) {
    for (const col of ["controller", "mirrors", "netflow", "sflow", "ipfix", "flood_vlans"]) {
      const t = br.table.byName.get(col)!.type;
      ctx.idl.write(br, col, { keys: [], values: t.value ? [] : null });
    }
    setString(ctx, br, "fail_mode", null);
    const oc = ctx.idl.read(br, "other_config");
    const i = oc.keys.indexOf("hwaddr");
    ctx.idl.write(br, "other_config", i >= 0 ? { keys: ["hwaddr"], values: [oc.values![i]!] } : { keys: [], values: [] });
  }
  for (const port of ctx.idl.rows("Port")) ctx.idl.write(port, "other_config", { keys: [], values: [] });
  for (const iface of ctx.idl.rows("Interface")) {
    ctx.idl.write(iface, "ingress_policing_rate", { keys: [0], values: null });
    ctx.idl.write(iface, "ingress_policing_burst", { keys: [0], values: null });
  }
  for (const t of ["Mirror", "Controller", "Manager", "NetFlow", "SSL", "sFlow", "IPFIX"]) {
    for (const r of ctx.idl.rows(t)) ctx.idl.delete(r);
  }
  ctx.invalidateCache();
}

// ---------------------------------------------------------------------------
// Conntrack zone timeout policies and datapath capabilities.

function findDatapath(ctx: CommandContext, name: string): IdlRow | null {
  const d = ctx.idl.read(ovsRow(ctx), "datapaths");
  const i = d.keys.indexOf(name);
  return i >= 0 ? ctx.idl.get("Datapath", d.values![i] as string) ?? null : null;
}

function parseZone(arg: string): number {
  const m = /^zone=([0-9]+)/.exec(arg);
  return m ? Number(m[1]) : -1;
}

function findZone(ctx: CommandContext, dp: IdlRow, zone: number): IdlRow | null {
  const d = ctx.idl.read(dp, "ct_zones");
  const i = d.keys.indexOf(zone);
  return i >= 0 ? ctx.idl.get("CT_Zone", d.values![i] as string) ?? null : null;
}

function cmdAddZoneTp(ctx: CommandContext): void {
  const dp = findDatapath(ctx, ctx.argv[1]!);
  if (!dp) throw new CtlError(`datapath ${ctx.argv[1]} does not exist`);
  const zone = parseZone(ctx.argv[2]!);
  const [key, value] = ctx.argv[3]!.split("=", 2) as [string, string | undefined];
  const timeouts: TextDatum = { keys: [key], values: [value === undefined ? 0 : atoi(value)] };
  const existing = findZone(ctx, dp, zone);
  if (existing) {
    if (!ctx.has("--may-exist")) throw new CtlError(`zone id ${zone} already exists`);
    const tpUuid = ctx.idl.read(existing, "timeout_policy").keys[0];
    const tp = tpUuid !== undefined ? ctx.idl.get("CT_Timeout_Policy", tpUuid as string) : undefined;
    if (tp) ctx.idl.write(tp, "timeouts", timeouts);
    return;
  }
  const tp = ctx.idl.insert("CT_Timeout_Policy");
  ctx.idl.write(tp, "timeouts", timeouts);
  const z = ctx.idl.insert("CT_Zone");
  ctx.idl.write(z, "timeout_policy", { keys: [tp.uuid], values: null });
  const zones = ctx.idl.read(dp, "ct_zones");
  const pairs = zones.keys.map((k, i) => [k as number, zones.values![i] as string] as const).concat([[zone, z.uuid]]);
  pairs.sort((a, b) => a[0] - b[0]);
  ctx.idl.write(dp, "ct_zones", { keys: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) });
}

function cmdDelZoneTp(ctx: CommandContext): void {
  const dp = findDatapath(ctx, ctx.argv[1]!);
  if (!dp) throw new CtlError(`datapath ${ctx.argv[1]} does not exist`);
  const zone = parseZone(ctx.argv[2]!);
  if (!findZone(ctx, dp, zone)) {
    if (ctx.has("--if-exists")) return;
    throw new CtlError(`zone id ${zone} does not exist`);
  }
  const zones = ctx.idl.read(dp, "ct_zones");
  const keep = zones.keys.map((_, i) => i).filter((i) => zones.keys[i] !== zone);
  ctx.idl.write(dp, "ct_zones", { keys: keep.map((i) => zones.keys[i]!), values: keep.map((i) => zones.values![i]!) });
}

function cmdListZoneTp(ctx: CommandContext): void {
  const dp = findDatapath(ctx, ctx.argv[1]!);
  if (!dp) throw new CtlError(`datapath: ${ctx.argv[1]} record not found`);
  const zones = ctx.idl.read(dp, "ct_zones");
  zones.keys.forEach((k, i) => {
    const z = ctx.idl.get("CT_Zone", zones.values![i] as string);
    const tpUuid = z ? ctx.idl.read(z, "timeout_policy").keys[0] : undefined;
    const tp = tpUuid !== undefined ? ctx.idl.get("CT_Timeout_Policy", tpUuid as string) : undefined;
    let line = `Zone:${k}, Timeout Policies: `;
    if (tp) {
      const t = ctx.idl.read(tp, "timeouts");
      line += t.keys.map((key, j) => `${key}=${t.values![j]}`).join(" ");
    }
    ctx.output += line + "\n";
  });
}

function cmdListDpCap(ctx: CommandContext): void {
  const dp = findDatapath(ctx, ctx.argv[1]!);
  if (!dp) throw new CtlError(`datapath "${ctx.argv[1]}" record not found`);
  const caps = ctx.idl.read(dp, "capabilities");
  // OVS prints the capabilities smap in its hash-map order.
  const value = new Map(caps.keys.map((k, i) => [k as string, caps.values![i] as string]));
  ctx.output += shashOrder(caps.keys as string[]).map((k) => `${k}=${value.get(k)}`).join(" ") + "\n";
}

const RW = "RW" as const;
const RO = "RO" as const;
const noop = (): void => {};

export const VSCTL_COMMANDS: CommandSyntax[] = [
  command("init", 0, 0, "", noop, "", RW),
  command("add-br", 1, 3, "NEW-BRIDGE [PARENT] [NEW-VLAN]", cmdAddBr, "--may-exist", RW),
  command("del-br", 1, 1, "BRIDGE", cmdDelBr, "--if-exists", RW),
  command("list-br", 0, 0, "", cmdListBr, "--real,--fake", RO),
  command("br-exists", 1, 1, "BRIDGE", cmdBrExists, "", RO),
  command("br-to-vlan", 1, 1, "BRIDGE", cmdBrToVlan, "", RO),
  command("br-to-parent", 1, 1, "BRIDGE", cmdBrToParent, "", RO),
  command("br-set-external-id", 2, 3, "BRIDGE KEY [VALUE]", cmdBrSetExternalId, "", RW),
  command("br-get-external-id", 1, 2, "BRIDGE [KEY]", cmdBrGetExternalId, "", RO),
  command("list-ports", 1, 1, "BRIDGE", cmdListPorts, "", RO),
  command("add-port", 2, Infinity, "BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...", cmdAddPort, "--may-exist", RW),
  command("add-bond", 4, Infinity, "BRIDGE NEW-BOND-PORT SYSIFACE... [COLUMN[:KEY]=VALUE]...", cmdAddBond, "--may-exist,--fake-iface", RW),
  command("add-bond-iface", 2, 2, "BOND IFACE", cmdAddBondIface, "--may-exist", RW),
  command("del-bond-iface", 1, 2, "[BOND] IFACE", cmdDelBondIface, "--if-exists", RW),
  command("del-port", 1, 2, "[BRIDGE] PORT|IFACE", cmdDelPort, "--if-exists,--with-iface", RW),
  command("port-to-br", 1, 1, "PORT", cmdPortToBr, "", RO),
  command("list-ifaces", 1, 1, "BRIDGE", cmdListIfaces, "", RO),
  command("iface-to-br", 1, 1, "IFACE", cmdIfaceToBr, "", RO),
  command("get-controller", 1, 1, "BRIDGE", cmdGetController, "", RO),
  command("del-controller", 1, 1, "BRIDGE", cmdDelController, "", RW),
  command("set-controller", 1, Infinity, "BRIDGE TARGET...", cmdSetController, "--inactivity-probe=", RW),
  command("get-fail-mode", 1, 1, "BRIDGE", cmdGetFailMode, "", RO),
  command("del-fail-mode", 1, 1, "BRIDGE", cmdDelFailMode, "", RW),
  command("set-fail-mode", 2, 2, "BRIDGE MODE", cmdSetFailMode, "", RW),
  command("get-manager", 0, 0, "", cmdGetManager, "", RO),
  command("del-manager", 0, 0, "", cmdDelManager, "", RW),
  command("set-manager", 1, Infinity, "TARGET...", cmdSetManager, "--inactivity-probe=", RW),
  command("get-ssl", 0, 0, "", cmdGetSsl, "", RO),
  command("del-ssl", 0, 0, "", cmdDelSsl, "", RW),
  command("set-ssl", 3, 3, "PRIVATE-KEY CERTIFICATE CA-CERT", cmdSetSsl, "--bootstrap", RW),
  command("add-aa-mapping", 3, 3, "BRIDGE ARG ARG", cmdAddAaMapping, "", RW),
  command("del-aa-mapping", 3, 3, "BRIDGE ARG ARG", cmdDelAaMapping, "", RW),
  command("get-aa-mapping", 1, 1, "BRIDGE", cmdGetAaMapping, "", RO),
  command("add-zone-tp", 3, Infinity, "", cmdAddZoneTp, "--may-exist", RW),
  command("del-zone-tp", 2, 2, "", cmdDelZoneTp, "--if-exists", RW),
  command("list-zone-tp", 1, 1, "", cmdListZoneTp, "", RO),
  command("list-dp-cap", 1, 1, "", cmdListDpCap, "", RO),
  command("emer-reset", 0, 0, "", cmdEmerReset, "", RW),
];
