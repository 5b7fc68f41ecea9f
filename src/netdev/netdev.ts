/**
 * The netdev client face: the registry of netdev types and `netdevOpen`.
 *
 * Types register a `NetdevClass`. `dummyOverride` makes every type open as
 * a dummy device, as `ovs-vswitchd --enable-dummy=override` does (the way
 * tsovs and OVS are compared in tests).
 */
import type { Netdev, NetdevClass } from "./netdev-provider.js";
import { dummyNetdevClass } from "./netdev-dummy.js";
import { TUNNEL_TYPES, tunnelNetdevClass } from "./netdev-vport.js";

const classes = new Map<string, NetdevClass>();
let dummyOverride = false;

export function netdevRegisterClass(cls: NetdevClass): void {
  classes.set(cls.type, cls);
}

/** `--enable-dummy=override`: every netdev type opens as "dummy". */
export function netdevSetDummyOverride(on: boolean): void {
  dummyOverride = on;
}

/** Whether a class is registered for `type` (the Linux classes register "system" when real devices are available). */
export function netdevHasType(type: string): boolean {
  return classes.has(type);
}

export function netdevTypes(): string[] {
  return [...classes.keys()].sort();
}

/**
 * Opens device `name` of `type` with `options`. Returns the device or an
 * error message (OVS wording: "<name>: could not open network device
 * <name> (Address family not supported by protocol)" style).
 */
export function netdevOpen(name: string, type: string, options: Record<string, string> = {}): Netdev | string {
  const t = type === "" ? "system" : type;
  const cls = dummyOverride ? dummyNetdevClass : classes.get(t);
  if (cls === undefined) return `${name}: could not open network device ${name} (Address family not supported by protocol)`;
  return cls.open(name, options);
}

netdevRegisterClass(dummyNetdevClass);
// Internal ports: the dummy datapath classes open them as "dummy-internal";
// the netdev class as "tap", which has no kernel device yet and so behaves
// as a dummy port too.
for (const type of ["internal", "dummy-internal", "tap"]) {
  netdevRegisterClass({ type, open: (name, options) => dummyNetdevClass.open(name, options) });
}
// Tunnel ports (vxlan, geneve, gre): userspace tunnelling, netdev-vport.ts.
for (const type of TUNNEL_TYPES) netdevRegisterClass(tunnelNetdevClass(type));
