/**
 * Benchmark of ofproto's flow tables (src/ofproto): flow_mods per second
 * for adds of N distinct flows (ip, nw_src /32 + tcp tp_dst), re-adds
 * (replacing), strict modifies, one loose modify and one loose delete of
 * everything, a 1,000-flow bundle, and expiry scans. Times are this
 * process's CPU time. Last line: one JSON object.
 *
 * usage: npm run bench -- ofproto [flows]
 */
import { Match } from "../src/openflow/index.js";
import { flowMod, OPAQUE_ACTIONS, OfprotoTables, type OfproFlowMod } from "../src/ofproto/index.js";

const N = Number(process.argv[2] ?? 20000);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function matchOf(i: number): Match {
  const m = new Match();
  m.setNum("eth_type", 0x0800);
  m.setNum("nw_proto", 6);
  m.setNum("nw_src", (0x0a000000 + i) >>> 0);
  m.setNum("tp_dst", i & 0xffff);
  return m;
}

const matches = Array.from({ length: N }, (_, i) => matchOf(i));
const t = new OfprotoTables<unknown>(OPAQUE_ACTIONS);
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const out: Record<string, number> = { flows: N };

let t0 = cpuMs();
for (let i = 0; i < N; i++) t.flowMod(flowMod("add", matches[i]!, "a", { priority: 100, idleTimeout: 60 }), 0);
out["add_per_s"] = rate(N, cpuMs() - t0);

t0 = cpuMs();
for (let i = 0; i < N; i++) t.flowMod(flowMod("add", matches[i]!, "b", { priority: 100, idleTimeout: 60 }), 1);
out["replace_per_s"] = rate(N, cpuMs() - t0);

t0 = cpuMs();
for (let i = 0; i < N; i++) t.flowMod(flowMod("modify_strict", matches[i]!, "c", { priority: 100 }), 2);
out["modify_strict_per_s"] = rate(N, cpuMs() - t0);

t0 = cpuMs();
t.flowMod(flowMod("modify", new Match(), "d"), 3);
out["modify_all_ms"] = Math.round(cpuMs() - t0);

t0 = cpuMs();
for (let k = 0; k < 10; k++) t.expire(1000);
out["expire_scan_ms"] = Math.round((cpuMs() - t0) / 10);

t0 = cpuMs();
t.flowMod(flowMod("delete", new Match(), "x"), 4);
out["delete_all_ms"] = Math.round(cpuMs() - t0);

const bundle: OfproFlowMod<unknown>[] = matches.slice(0, 1000).map((m) => flowMod("add", m, "e", { priority: 7 }));
t0 = cpuMs();
const r = t.bundle(bundle, 5);
out["bundle_1000_ms"] = Math.round(cpuMs() - t0);
if (!r.ok || t.allRules().length !== 1000) throw new Error("bundle failed");

console.log(`ofproto tables, ${N} flows`);
for (const [k, v] of Object.entries(out)) console.log(`  ${k}: ${v}`);
console.log(JSON.stringify(out));
