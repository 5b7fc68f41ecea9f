/**
 * The bond/* unixctl commands of ovs-vswitchd (OVS 3.1's bond.c), over
 * the global list of bonds (bond.ts):
 *
 *   bond/list                          bonds, modes, recirculation ids, members
 *   bond/show [PORT]                   details of one bond or all
 *   bond/migrate PORT HASH MEMBER      binds an SLB hash bucket to a member
 *   bond/set-active-member PORT MEMBER active-backup's active member
 *   bond/enable-member PORT MEMBER     (bond/disable-member) forces a member's state
 *   bond/hash MAC [VLAN] [BASIS]       the SLB bucket of a MAC
 *   lacp/show [PORT]                   LACP state of one bond or all (lacp.ts)
 *   lacp/show-stats [PORT]             LACP PDU counters
 *
 * The pre-3.0 names (set-active-slave, enable-slave, disable-slave) are
 * hidden aliases, as in OVS. Replies and errors are OVS 3.1's words,
 * checked against the real daemon. As there, bond/disable-member on a
 * member whose link is up only lasts until the bond next runs (at once).
 */
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { BOND_MASK, findBond, hashMac, listBonds, type Bond } from "./bond.js";
import { parseEthAddr } from "./fdb-commands.js";
import { findLacp, listLacps, type Lacp } from "./lacp.js";

/** What the commands need from the daemon. */
export interface BondCommandContext {
  /**
   * Runs the bridges' bonds after a command changed one (as OVS's main
   * loop does right after a command) and revalidates what they touched.
   */
  afterChange(): void;
}

function bondOf(name: string): Bond {
  const b = findBond(name);
  if (b === null) throw new UnixctlError("no such bond");
  return b;
}

/** C's %u / %SCNu32 as OVS's ovs_scan reads them: leading blanks, optional sign, digits (wrapping at 2^32). */
function scanU32(s: string): number | null {
  const m = /^\s*([+-]?)(\d+)/.exec(s);
  if (m === null) return null;
  let v = 0;
  for (const c of m[2]!) v = (v * 10 + (c.charCodeAt(0) - 48)) % 0x100000000;
  if (m[1] === "-") v = (0x100000000 - v) % 0x100000000;
  return v;
}

/** bond/list's text. */
export function bondListText(): string {
  let s = "bond\ttype\trecircID\tmembers\n";
  for (const b of listBonds()) {
    s += `${b.name}\t${b.mode}\t${b.recircId}\t${b.memberList().map((m) => m.name).join(", ")}\n`;
  }
  return s;
}

function lacpOf(name: string): Lacp {
  const l = findLacp(name);
  if (l === null) throw new UnixctlError("no such lacp object");
  return l;
}

export function registerBondCommands(registry: UnixctlRegistry, ctx: BondCommandContext): void {
  registry.register("lacp/show", "[port]", 0, 1, (args) =>
    args.length > 0 ? lacpOf(args[0]!).details() : listLacps().map((l) => l.details()).join(""));
  registry.register("lacp/show-stats", "[port]", 0, 1, (args) =>
    args.length > 0 ? lacpOf(args[0]!).statsText() : listLacps().map((l) => l.statsText()).join(""));
  registry.register("bond/list", "", 0, 0, () => bondListText());
  registry.register("bond/show", "[port]", 0, 1, (args) => {
    if (args.length > 0) return bondOf(args[0]!).details();
    return listBonds().map((b) => b.details()).join("");
  });
  registry.register("bond/migrate", "port hash member", 3, 3, (args) => {
    const bond = bondOf(args[0]!);
    if (bond.mode !== "balance-slb") throw new UnixctlError("not an SLB bond");
    const hashText = args[1]!;
    if (!/^[0-9]*$/.test(hashText)) throw new UnixctlError("bad hash");
    const hash = (scanU32(hashText) ?? 0) & BOND_MASK;
    const m = bond.memberByName(args[2]!);
    if (m === null) throw new UnixctlError("no such member");
    if (!m.enabled) throw new UnixctlError("cannot migrate to disabled member");
    if (bond.hash !== null) bond.hash[hash] = m;
    bond.markRevalidate();
    ctx.afterChange();
    return "migrated\n";
  });
  const setActive = (args: string[]): string => {
    const bond = bondOf(args[0]!);
    const m = bond.memberByName(args[1]!);
    if (m === null) throw new UnixctlError("no such member");
    if (!m.enabled) throw new UnixctlError("cannot make disabled member active");
    const changed = bond.setActive(m);
    ctx.afterChange();
    return changed ? "done\n" : "no change\n";
  };
  const enable = (args: string[], on: boolean): string => {
    const bond = bondOf(args[0]!);
    const m = bond.memberByName(args[1]!);
    if (m === null) throw new UnixctlError("no such member");
    bond.enableMember(m, on);
    ctx.afterChange();
    return on ? "enabled\n" : "disabled\n";
  };
  registry.register("bond/set-active-member", "port member", 2, 2, setActive);
  registry.register("bond/set-active-slave", "port slave", 2, 2, setActive, true);
  registry.register("bond/enable-member", "port member", 2, 2, (args) => enable(args, true));
  registry.register("bond/enable-slave", "port slave", 2, 2, (args) => enable(args, true), true);
  registry.register("bond/disable-member", "port member", 2, 2, (args) => enable(args, false));
  registry.register("bond/disable-slave", "port slave", 2, 2, (args) => enable(args, false), true);
  registry.register("bond/hash", "mac [vlan] [basis]", 1, 3, (args) => {
    let vlan = 0;
    let basis = 0;
    if (args.length > 1) {
      const v = scanU32(args[1]!);
      if (v === null) throw new UnixctlError("invalid vlan");
      vlan = v;
    }
    if (args.length > 2) {
      const b = scanU32(args[2]!);
      if (b === null) throw new UnixctlError("invalid basis");
      basis = b;
    }
    const mac = parseEthAddr(args[0]!);
    if (mac === null) throw new UnixctlError("invalid mac");
    return `${hashMac(mac, 0, vlan, basis) & BOND_MASK}\n`;
  });
}
