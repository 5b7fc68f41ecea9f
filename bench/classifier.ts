/**
 * Benchmark of the OpenFlow classifier (src/classifier): insert rate and
 * lookups per second with 1,000 and 100,000 rules spread over 20 masks
 * (and 100,000 over the first 16, the target case)
 * (in_port, dl_type, IPv4 prefixes /8../32 on nw_src and nw_dst, nw_proto,
 * tp_dst, reg0, metadata), half the looked-up flows built to hit a rule
 * and half random. Lookups un-wildcard into a mask as ofproto-dpif will
 * (the mask is cleared before each, as a caller does). Times are this
 * process's CPU time (the machine is shared); each lookup figure is the
 * best of 8 slices. Last line: one JSON object.
 *
 * usage: npm run bench -- classifier [lookups-per-slice]
 */
import { Classifier, ClsRule } from "../src/classifier/index.js";
import { FLOW_U32S, W_DL_TYPE, W_IN_PORT, W_METADATA, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_REG0, W_TP_DST } from "../src/flow/index.js";

/** Deterministic PRNG (xorshift32) so runs compare. */
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

type FieldSet = [word: number, mask: number][];
const IP = 0x0800 << 16;
const pfx = (n: number): number => (n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0);

/** The 20 masks: realistic OpenFlow table shapes. */
const MASKS: FieldSet[] = [
  [[W_IN_PORT, 0xffffffff]],
  [[W_IN_PORT, 0xffffffff], [W_DL_TYPE, 0xffff0000]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(8)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(16)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(24)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(32)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_SRC, pfx(16)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_SRC, pfx(24)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_SRC, pfx(32)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_SRC, pfx(24)], [W_NW_DST, pfx(24)]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_PROTO, 0xff000000], [W_TP_DST, 0xffff]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(32)], [W_NW_PROTO, 0xff000000], [W_TP_DST, 0xffff]],
  [[W_DL_TYPE, 0xffff0000], [W_NW_SRC, pfx(32)], [W_NW_PROTO, 0xff000000], [W_TP_DST, 0xffff]],
  [[W_IN_PORT, 0xffffffff], [W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(24)]],
  [[W_IN_PORT, 0xffffffff], [W_DL_TYPE, 0xffff0000], [W_NW_SRC, pfx(32)], [W_NW_DST, pfx(32)]],
  [[W_REG0, 0xffffffff]],
  [[W_REG0, 0xffffffff], [W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(32)]],
  [[W_METADATA + 1, 0xffffffff], [W_DL_TYPE, 0xffff0000], [W_NW_DST, pfx(24)]],
  [[W_METADATA + 1, 0xffffffff], [W_IN_PORT, 0xffffffff]],
  [[W_IN_PORT, 0xffffffff], [W_DL_TYPE, 0xffff0000], [W_NW_PROTO, 0xff000000], [W_TP_DST, 0xffff]],
];

/** A random flow in the value space the rules use (10.0.0.0/8, ports 1..64, ...). */
function randomFlow(out: Uint32Array): Uint32Array {
  out.fill(0);
  out[W_IN_PORT] = 1 + (rnd() & 63);
  out[W_DL_TYPE] = IP;
  out[W_NW_SRC] = (0x0a000000 | (rnd() & 0xffffff)) >>> 0;
  out[W_NW_DST] = (0x0a000000 | (rnd() & 0xffffff)) >>> 0;
  out[W_NW_PROTO] = ((rnd() & 1) === 0 ? 6 : 17) << 24;
  out[W_TP_DST] = rnd() & 0xffff;
  out[W_REG0] = rnd() & 0xfff;
  out[W_METADATA + 1] = rnd() & 0xff;
  return out;
}

function buildRules(n: number, nMasks: number): ClsRule<number>[] {
  const rules: ClsRule<number>[] = [];
  const key = new Uint32Array(FLOW_U32S);
  const masks = MASKS.slice(0, nMasks).map((fs) => {
    const m = new Uint32Array(FLOW_U32S);
    for (const [w, v] of fs) m[w] = v;
    return m;
  });
  for (let i = 0; i < n; i++) {
    const mi = i % masks.length;
    randomFlow(key);
    // Priority grows with specificity, as real tables do, with some spread.
    const priority = 100 + mi * 10 + (rnd() % 10);
    rules.push(new ClsRule(masks[mi]!, key, priority, i));
  }
  return rules;
}

/** CPU time of this process in ns: on a shared machine it, not wall time, measures our cost. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

interface CaseResult {
  rules: number;
  masks: number;
  insertsPerSec: number;
  lookupsPerSec: number;
  lookupsPerSecNoWc: number;
  hitRate: number;
  removesPerSec: number;
}

function benchCase(nRules: number, nMasks: number, perSlice: number): CaseResult {
  const rules = buildRules(nRules, nMasks);
  const cls = new Classifier<number>(process.env.CLS_PREFIXES === undefined ? undefined : process.env.CLS_PREFIXES.split(",").filter((s) => s !== ""));
  let t0 = cpuNs();
  for (const r of rules) cls.insert(r, 0);
  const insertNs = cpuNs() - t0;

  // 1024 flows: even ones are a rule's key with other fields random (hits), odd random.
  const N_FLOWS = 1024;
  const flows: Uint32Array[] = [];
  for (let i = 0; i < N_FLOWS; i++) {
    const f = randomFlow(new Uint32Array(FLOW_U32S));
    if ((i & 1) === 0) {
      const r = rules[rnd() % rules.length]!;
      const k = r.key();
      for (let w = 0; w < FLOW_U32S; w++) f[w] = ((f[w]! & ~r.mask[w]!) | k[w]!) >>> 0;
    }
    flows.push(f);
  }
  const wc = new Uint32Array(FLOW_U32S);
  let hits = 0;
  for (let i = 0; i < N_FLOWS; i++) if (cls.lookup(flows[i]!, 0, wc) !== null) hits++;
  let bestWc = Infinity;
  let bestNoWc = Infinity;
  for (let rep = 0; rep < 8; rep++) {
    let c0 = cpuNs();
    for (let i = 0; i < perSlice; i++) {
      wc.fill(0);
      cls.lookup(flows[i & (N_FLOWS - 1)]!, 0, wc);
    }
    bestWc = Math.min(bestWc, (cpuNs() - c0) / perSlice);
    c0 = cpuNs();
    for (let i = 0; i < perSlice; i++) cls.lookup(flows[i & (N_FLOWS - 1)]!, 0, null);
    bestNoWc = Math.min(bestNoWc, (cpuNs() - c0) / perSlice);
  }
  t0 = cpuNs();
  for (const r of rules) cls.remove(r);
  const removeNs = cpuNs() - t0;
  return {
    rules: nRules,
    masks: nMasks,
    insertsPerSec: Math.round((nRules * 1e9) / insertNs),
    lookupsPerSec: Math.round(1e9 / bestWc),
    lookupsPerSecNoWc: Math.round(1e9 / bestNoWc),
    hitRate: Math.round((hits / N_FLOWS) * 1000) / 1000,
    removesPerSec: Math.round((nRules * 1e9) / removeNs),
  };
}

const perSlice = Number(process.argv[2] ?? 200000);
const result: Record<string, unknown> = { bench: "classifier", lookupsPerSlice: perSlice };
for (const [n, nMasks] of [[1000, 20], [100000, 20], [100000, 16]] as const) {
  const r = benchCase(n, nMasks, perSlice);
  console.log(
    `${String(n).padStart(6)} rules / ${r.masks} masks: insert ${r.insertsPerSec}/s, remove ${r.removesPerSec}/s, ` +
      `lookup ${r.lookupsPerSec}/s with wildcards, ${r.lookupsPerSecNoWc}/s without (hit rate ${r.hitRate})`,
  );
  const tag = `${n / 1000}k` + (nMasks === 20 ? "" : `_${nMasks}masks`);
  result[`insert_${tag}_per_s`] = r.insertsPerSec;
  result[`remove_${tag}_per_s`] = r.removesPerSec;
  result[`lookup_${tag}_per_s`] = r.lookupsPerSec;
  result[`lookup_nowc_${tag}_per_s`] = r.lookupsPerSecNoWc;
  result[`hit_rate_${tag}`] = r.hitRate;
}
console.log(JSON.stringify(result));
