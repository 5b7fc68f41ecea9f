/**
 * The stp/* unixctl commands of ovs-vswitchd (OVS 3.1's lib/stp.c), over
 * the bridges that run spanning tree (stp-bridge.ts), in the order their
 * STP was enabled:
 *
 *   stp/show [BRIDGE]   root and bridge ids, timers, each port's role,
 *                       state, path cost and priority/number
 *   stp/tcn [BRIDGE]    signals a topology change (one bridge or all)
 */
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { listStpBridges, type BridgeStp } from "./stp-bridge.js";

function find(name: string): BridgeStp {
  const b = listStpBridges().find((s) => s.name === name);
  if (b === undefined) throw new UnixctlError("no such stp object");
  return b;
}

export function registerStpCommands(registry: UnixctlRegistry): void {
  registry.register("stp/tcn", "[bridge]", 0, 1, (args) => {
    if (args.length > 0) find(args[0]!).topologyChange();
    else for (const b of listStpBridges()) b.topologyChange();
    return "OK\n";
  });
  registry.register("stp/show", "[bridge]", 0, 1, (args) => {
    if (args.length > 0) return find(args[0]!).showText();
    return listStpBridges().map((b) => b.showText()).join("");
  });
}
