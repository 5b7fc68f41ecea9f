/**
 * Registers the kernel-backed netdev types (`system`, `internal`, `tap`)
 * in the netdev registry. A daemon calls this once at startup, unless it
 * runs with dummy devices: it is not done at import, because every
 * userspace datapath opens its LOCAL port as a TAP named after it, and
 * unit tests that build datapaths must not create kernel devices.
 */
import { linuxFfi } from "./linux-ffi.js";
import { netdevRegisterClass } from "./netdev.js";
import { systemNetdevClass } from "./netdev-linux.js";
import { internalNetdevClass, tapNetdevClass } from "./netdev-tap.js";

/**
 * Registers the types; returns null, or why they cannot work here (no
 * Linux, no koffi), in which case nothing is registered.
 */
export function registerLinuxNetdevClasses(): string | null {
  const ffi = linuxFfi();
  if (typeof ffi === "string") return ffi;
  netdevRegisterClass(systemNetdevClass);
  netdevRegisterClass(internalNetdevClass);
  netdevRegisterClass(tapNetdevClass);
  return null;
}
