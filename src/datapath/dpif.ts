/**
 * The dpif client face: open, create, enumerate and delete datapaths by
 * type and name (OVS's dpif.h). Callers (ofproto-dpif, dpctl) hold a
 * `DpifProvider` and talk to it with the message-shaped requests of
 * dpif-provider.ts.
 *
 * Types: "netdev" (the userspace datapath), and "dummy" and "system" (the
 * same datapath with OVS's test-friendly port numbering: what OVS's
 * `--enable-dummy` and `--enable-dummy=override` register them as; tsovs
 * has no kernel datapath, so "system" is always this one).
 * Datapaths live for the process; `dpifDelete` destroys one.
 */
import { Errno, type DpifProvider } from "./dpif-provider.js";
import { DpifNetdev, type DpifNetdevOptions } from "./dpif-netdev.js";

const DPIF_TYPES = ["netdev", "dummy", "system"] as const;

const datapaths = new Map<string, DpifNetdev>();

function dpKey(type: string, name: string): string {
  return `${type}@${name}`;
}

/** Splits "type@name" (dpctl's DP syntax); a bare name is "netdev@name". */
export function parseDpName(spec: string): { type: string; name: string } {
  const at = spec.indexOf("@");
  return at < 0 ? { type: "netdev", name: spec } : { type: spec.slice(0, at), name: spec.slice(at + 1) };
}

export function dpifTypes(): string[] {
  return [...DPIF_TYPES];
}

/**
 * Opens datapath `name` of `type`; with `create`, creates it when absent.
 * Returns the datapath or an errno (ENODEV: no such datapath; EAFNOSUPPORT
 * style EINVAL: unknown type; EEXIST: create of an existing one when
 * `exclusive`).
 */
export function dpifOpen(
  type: string,
  name: string,
  opts: { create?: boolean; exclusive?: boolean } & DpifNetdevOptions = {},
): DpifProvider | number {
  if (!(DPIF_TYPES as readonly string[]).includes(type)) return Errno.EINVAL;
  if (name === "") return Errno.EINVAL;
  const k = dpKey(type, name);
  const dp = datapaths.get(k);
  if (dp !== undefined) return opts.exclusive === true ? Errno.EEXIST : dp;
  if (opts.create !== true) return Errno.ENODEV;
  const fresh = new DpifNetdev(name, type, opts);
  datapaths.set(k, fresh);
  return fresh;
}

/** Names of the datapaths of `type`. */
export function dpifEnumerate(type: string): string[] {
  const out: string[] = [];
  for (const dp of datapaths.values()) if (dp.type === type) out.push(dp.name);
  return out.sort();
}

/** Destroys a datapath; returns 0 or ENODEV. */
export function dpifDelete(type: string, name: string): number {
  const k = dpKey(type, name);
  const dp = datapaths.get(k);
  if (dp === undefined) return Errno.ENODEV;
  dp.destroy();
  datapaths.delete(k);
  return 0;
}
