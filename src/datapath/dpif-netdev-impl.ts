/**
 * The implementation-selection commands of the userspace datapath, as
 * OVS 3.1 answers them on a machine without AVX512 (what the real
 * ovs-vswitchd prints here): one DPIF implementation (`dpif_scalar`),
 * the miniflow extractors `autovalidator`, `scalar` and `study`, the
 * dpcls lookup functions `autovalidator` and `generic`, the action
 * implementations `scalar` and `autovalidator`, and the datapath bond
 * table (`dpif-netdev/bond-show`).
 *
 * tsovs has one TypeScript implementation of each stage, so every name
 * selects the same code; what the commands keep is the state OVS shows:
 * the chosen names, the lookup priorities, and which lookup function
 * each dpcls subtable was bound to when it appeared (OVS binds a
 * subtable to the best-priority function when it creates it, and
 * re-probes only the subtables of PMD threads — tsovs, like OVS's main
 * thread, has none, so a priority change affects "0 dpcls ports and 0
 * subtables"). A dpcls subtable here is what OVS's is: one per input
 * port and megaflow mask.
 *
 * PMD threads: tsovs runs the datapath in the main thread only, so
 * every "pmds:" list is "none" and `-pmd N` names a thread not in use.
 */
import { dpifEnumerate, dpifOpen, dpifTypes } from "./dpif.js";
import { DpifNetdev } from "./dpif-netdev.js";
import { UnixctlError, type UnixctlRegistry } from "../unixctl/server.js";
import { vlogModule } from "../util/vlog.js";
import { W_IN_PORT } from "../flow/key-layout.js";

const log = vlogModule("dpif_netdev");
const lookupLog = vlogModule("dpif_netdev_lookup");
const extractLog = vlogModule("dpif_netdev_extract");

/** Packets the `study` extractor looks at by default (MFEX_MAX_PKT_COUNT). */
const MFEX_MAX_PKT_COUNT = 128;

const DPIF_IMPLS = ["dpif_scalar"] as const;
const MFEX_IMPLS = ["autovalidator", "scalar", "study"] as const;
const ACTION_IMPLS = ["scalar", "autovalidator"] as const;

/** The dpcls lookup functions, in OVS's order, with their priorities. */
const lookupFuncs: { name: string; prio: number }[] = [
  { name: "autovalidator", prio: 0 },
  { name: "generic", prio: 1 },
];

let dpifImpl: string = DPIF_IMPLS[0];
let mfexImpl = "scalar";
let mfexStudyCount = MFEX_MAX_PKT_COUNT;
let actionImpl = "scalar";

/** Subtable ("in_port/mask words") → the lookup function it was bound to. */
const boundSubtables = new Map<string, string>();

/** The function a new subtable gets: the highest priority, the first on a tie. */
function bestLookupFunc(): string {
  let best = lookupFuncs[0]!;
  for (const f of lookupFuncs) if (f.prio > best.prio) best = f;
  return best.name;
}

/** Every userspace datapath of the process, by name (OVS's dp_netdevs). */
function netdevDatapaths(): Map<string, DpifNetdev> {
  const out = new Map<string, DpifNetdev>();
  for (const type of dpifTypes()) {
    for (const name of dpifEnumerate(type)) {
      const dp = dpifOpen(type, name, { create: false });
      if (dp instanceof DpifNetdev && !out.has(name)) out.set(name, dp);
    }
  }
  return out;
}

/**
 * Brings the subtable bindings up to date: subtables gone are forgotten,
 * new ones are bound to the current best function.
 */
function refreshSubtables(): void {
  const live = new Set<string>();
  for (const dp of netdevDatapaths().values()) {
    for (const f of dp.flowDump()) live.add(`${dp.name}/${f.key[W_IN_PORT]}/${f.mask.join(",")}`);
  }
  for (const k of boundSubtables.keys()) if (!live.has(k)) boundSubtables.delete(k);
  if (live.size === boundSubtables.size) return;
  const best = bestLookupFunc();
  for (const k of live) if (!boundSubtables.has(k)) boundSubtables.set(k, best);
}

/** An unsigned decimal as str_to_uint reads it (the whole string), or null. */
function strToUint(s: string): number | null {
  if (!/^\s*[+-]?\d+$/.test(s)) return null;
  const v = Number(s);
  return v >= 0 && v <= 0xffffffff ? v : null;
}

/** strtoul(s, &end, 10) for a priority: the leading number (0 when none), or null on overflow / a negative value. */
function strtoulPrio(s: string): number | null {
  const m = /^\s*([+-]?)(\d*)/.exec(s)!;
  if (m[2] === "") return 0;
  const v = BigInt(m[2]!);
  if (v > 0xffffffffffffffffn) return null;
  if (m[1] === "-" && v !== 0n) return null;
  return Number(v);
}

function dpifImplGet(): string {
  let s = "Available DPIF implementations:\n";
  for (const name of DPIF_IMPLS) s += `  ${name} (pmds: none)\n`;
  return s;
}

function dpifImplSet(args: string[]): string {
  const name = args[0]!;
  if (!(DPIF_IMPLS as readonly string[]).includes(name)) {
    const msg = `DPIF implementation not available: Unknown DPIF implementation ${name}.\n`;
    log.err(msg);
    throw new UnixctlError(msg);
  }
  dpifImpl = name;
  const reply = `DPIF implementation set to ${name}.\n`;
  log.info(reply);
  return reply;
}

function miniflowParserGet(): string {
  let s = "Available MFEX implementations:\n";
  for (const name of MFEX_IMPLS) s += `  ${name} (available: True pmds: none)\n`;
  return s;
}

function miniflowParserSet(argv: string[]): string {
  let pmd: number | null = null;
  let name: string | null = null;
  let study = MFEX_MAX_PKT_COUNT;
  const fail = (msg: string): never => {
    extractLog.err(msg);
    throw new UnixctlError(msg);
  };
  for (let i = 0; i < argv.length;) {
    const a = argv[i]!;
    if (a === "-pmd" && name === null) {
      if (i + 1 >= argv.length) fail("Error: -pmd option requires a thread id argument.\n");
      const v = strToUint(argv[i + 1]!);
      if (v === null) {
        fail(`Error: miniflow extract parser not changed, PMD thread passed is not valid: '${argv[i + 1]!}'. Pass a valid pmd thread ID.\n`);
      }
      pmd = v;
      i += 2;
    } else if (name === null) {
      name = a;
      i++;
    } else if (name === "study") {
      const v = strToUint(a);
      if (v === null || v === 0) fail(`Error: invalid study_pkt_cnt value: ${a}.\n`);
      study = v!;
      i++;
    } else {
      fail(`Error: unknown argument ${a}.\n`);
    }
  }
  if (name === null) fail("Error: no miniflow extract name provided. Output of miniflow-parser-get shows implementation list.\n");
  const impl = name!;
  if (!(MFEX_IMPLS as readonly string[]).includes(impl)) fail(`Error: unknown miniflow extract implementation ${impl}.`);
  if (impl === "study") mfexStudyCount = study;
  // No PMD thread runs the datapath: a named one is not in use.
  if (pmd !== null) fail(`Error: miniflow extract parser not changed, PMD thread ${pmd} not in use, pass a valid pmd thread ID.\n`);
  mfexImpl = impl;
  let reply = `Miniflow extract implementation set to ${impl}`;
  if (impl === "study") reply += `, studying ${study} packets`;
  reply += ".\n";
  log.info(reply);
  return reply;
}

function subtableLookupInfoGet(): string {
  refreshSubtables();
  const use = new Map<string, number>();
  for (const f of boundSubtables.values()) use.set(f, (use.get(f) ?? 0) + 1);
  let s = "Available dpcls implementations:\n";
  for (const f of lookupFuncs) s += `  ${f.name} (Use count: ${use.get(f.name) ?? 0}, Priority: ${f.prio})\n`;
  return s;
}

function subtableLookupPrioSet(args: string[]): string {
  const prio = strtoulPrio(args[1]!);
  if (prio === null || prio > 255) throw new UnixctlError("error converting priority, use integer in range 0-255\n");
  const f = lookupFuncs.find((x) => x.name === args[0]);
  if (f === undefined) throw new UnixctlError("error, subtable lookup function not found\n");
  // Existing subtables keep the function they were created with.
  refreshSubtables();
  f.prio = prio;
  lookupLog.info(`Subtable function '${f.name}' set priority to ${prio}`);
  const reply = "Lookup priority change affected 0 dpcls ports and 0 subtables.\n";
  log.info(reply);
  return reply;
}

function bondShow(args: string[]): string {
  const dps = netdevDatapaths();
  let dp: DpifNetdev | undefined;
  if (args.length === 1) dp = dps.get(args[0]!);
  else if (dps.size === 1) dp = dps.values().next().value;
  if (dp === undefined) throw new UnixctlError("please specify an existing datapath");
  // No datapath (lb_output) bonds: the bond of balance-tcp recirculates.
  return "";
}

function actionImplShow(): string {
  let s = "Available Actions implementations:\n";
  for (const name of ACTION_IMPLS) s += `  ${name} (available: Yes, active: ${name === actionImpl ? "Yes" : "No"})\n`;
  return s;
}

function actionImplSet(args: string[]): string {
  const name = args[0]!;
  if (!(ACTION_IMPLS as readonly string[]).includes(name)) throw new UnixctlError(`Error: unknown action implementation, ${name}, specified!`);
  actionImpl = name;
  return `Action implementation set to ${name}.`;
}

/** The names currently selected (for tests and diagnostics). */
export function selectedImpls(): { dpif: string; mfex: string; mfexStudyCount: number; action: string } {
  return { dpif: dpifImpl, mfex: mfexImpl, mfexStudyCount, action: actionImpl };
}

/** Registers dpif-netdev/{dpif-impl,miniflow-parser,subtable-lookup}-*, dpif-netdev/bond-show and odp-execute/action-impl-*. */
export function registerDpifNetdevImplCommands(registry: UnixctlRegistry): void {
  registry.register("dpif-netdev/dpif-impl-set", "dpif_implementation_name", 1, 1, (a) => dpifImplSet(a));
  registry.register("dpif-netdev/dpif-impl-get", "", 0, 0, () => dpifImplGet());
  registry.register("dpif-netdev/miniflow-parser-set", "[-pmd core] miniflow_implementation_name [study_pkt_cnt]", 1, 5, (a) => miniflowParserSet(a));
  registry.register("dpif-netdev/miniflow-parser-get", "", 0, 0, () => miniflowParserGet());
  registry.register("dpif-netdev/subtable-lookup-prio-set", "[lookup_func] [prio]", 2, 2, (a) => subtableLookupPrioSet(a));
  registry.register("dpif-netdev/subtable-lookup-info-get", "", 0, 0, () => subtableLookupInfoGet());
  registry.register("dpif-netdev/bond-show", "[dp]", 0, 1, (a) => bondShow(a));
  registry.register("odp-execute/action-impl-show", "", 0, 0, () => actionImplShow());
  registry.register("odp-execute/action-impl-set", "name", 1, 1, (a) => actionImplSet(a));
}
