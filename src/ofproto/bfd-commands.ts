/**
 * The bfd/* unixctl commands of ovs-vswitchd (OVS 3.1's lib/bfd.c), over
 * every BFD session of the process (bfd.ts):
 *
 *   bfd/show [interface]                          each session's state,
 *                                                 timers and the remote's
 *   bfd/set-forwarding [interface] normal|false|true
 *                                                 forces the forwarding
 *                                                 flag (one session or all)
 */
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { findBfdSession, listBfdSessions } from "./bfd.js";

export interface BfdCommandHooks {
  /** Called after a forced forwarding change (ports follow, status is written). */
  afterChange?(): void;
}

export function registerBfdCommands(registry: UnixctlRegistry, hooks: BfdCommandHooks = {}): void {
  registry.register("bfd/show", "[interface]", 0, 1, (args) => {
    if (args.length > 0) {
      const s = findBfdSession(args[0]!);
      if (s === null) throw new UnixctlError("no such bfd object");
      return s.details();
    }
    return listBfdSessions().map((s) => `---- ${s.name} ----\n${s.details()}`).join("");
  });
  registry.register("bfd/set-forwarding", "[interface] normal|false|true", 1, 2, (args) => {
    const word = args[args.length - 1]!.toLowerCase();
    const v = word === "true" ? 1 : word === "false" ? 0 : word === "normal" ? -1 : null;
    if (v === null) throw new UnixctlError("unknown fault string");
    if (args.length > 1) {
      const s = findBfdSession(args[0]!);
      if (s === null) throw new UnixctlError("no such BFD object");
      s.setForwardingOverride(v);
    } else {
      for (const s of listBfdSessions()) s.setForwardingOverride(v);
    }
    hooks.afterChange?.();
    return "OK";
  });
}
