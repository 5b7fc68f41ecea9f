/**
 * The mdb/* unixctl commands of ovs-vswitchd (OVS 3.1's ofproto-dpif.c),
 * over the bridges' multicast snooping tables (mcast-snooping.ts):
 *
 *   mdb/show BRIDGE     memberships (port, VLAN, group, age), then the
 *                       multicast router ports ("querier")
 *   mdb/flush [BRIDGE]  forgets learned groups and routers (of every
 *                       bridge with snooping on, without an argument)
 *
 * Texts and errors are OVS's: "no such bridge", "multicast snooping is
 * disabled", "table successfully flushed". The port column is the
 * OpenFlow number of the bundle's first interface, as OVS prints it.
 */
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import type { McastSnooping } from "./mcast-snooping.js";
import type { XBridge } from "./xlate-types.js";

/** What the commands need of one bridge (DpifBridgeApi has it). */
export interface McastBridge {
  readonly xbridge: XBridge;
  readonly ms?: McastSnooping | null;
  requestRevalidation?(): void;
}

export interface McastCommandContext {
  bridge(name: string): McastBridge | null;
  bridges(): readonly McastBridge[];
}

function snooping(ctx: McastCommandContext, name: string): { br: McastBridge; ms: McastSnooping } {
  const br = ctx.bridge(name);
  if (br === null) throw new UnixctlError("no such bridge");
  const ms = br.ms ?? null;
  if (ms === null) throw new UnixctlError("multicast snooping is disabled");
  return { br, ms };
}

function flush(br: McastBridge, ms: McastSnooping): void {
  ms.mdbFlush();
  if (ms.needRevalidate) br.requestRevalidation?.();
}

export function registerMcastCommands(registry: UnixctlRegistry, ctx: McastCommandContext): void {
  registry.register("mdb/flush", "[bridge]", 0, 1, (args) => {
    if (args.length > 0) {
      const { br, ms } = snooping(ctx, args[0]!);
      flush(br, ms);
    } else {
      for (const br of ctx.bridges()) if (br.ms != null) flush(br, br.ms);
    }
    return "table successfully flushed\n";
  });
  registry.register("mdb/show", "bridge", 1, 1, (args) => {
    const { br, ms } = snooping(ctx, args[0]!);
    return ms.showText((port) => {
      const b = br.xbridge.bundles.get(port);
      const p = b?.ports[0];
      return p !== undefined ? String(p.ofpNo) : "?";
    });
  });
}
