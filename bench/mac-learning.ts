/**
 * Benchmark of MAC learning and NORMAL: MacLearning lookups and learn()
 * refreshes of known MACs (the per-translation common case) in a table
 * of 8,192 entries, and whole xlateNormal translations (learn + lookup +
 * forward to a learned bundle) through a minimal NormalCtx. Times are
 * this process's CPU time, best of 5 slices. Last line: one JSON object.
 *
 * usage: npm run bench -- mac-learning [ops-per-slice]
 */
import * as L from "../src/flow/key-layout.js";
import { MacLearning } from "../src/ofproto/mac-learning.js";
import { xlateNormal } from "../src/ofproto/xlate-normal.js";
import type { Ofproto } from "../src/ofproto/ofproto.js";
import type { NormalCtx, XBridge, XBundle, XPort } from "../src/ofproto/xlate-types.js";

const N = Number(process.argv[2] ?? 2_000_000);
const ENTRIES = 8192;
const BUNDLES = 16;

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function best(slices: number, f: () => void): number {
  let b = Infinity;
  for (let i = 0; i < slices; i++) {
    const t0 = cpuNs();
    f();
    b = Math.min(b, cpuNs() - t0);
  }
  return b;
}

const bundles: XBundle[] = [];
const ports = new Map<number, XPort>();
const bridge: XBridge = {
  name: "br0",
  ofproto: null as unknown as Ofproto,
  ports,
  portByOdp: () => null,
  bundles: new Map(),
  macs: new MacLearning(300, ENTRIES),
  localOdpNo: 100,
  forwardBpdu: false,
  datapathName: "ovs-dummy",
  now: () => 1_000_000,
};
for (let i = 0; i < BUNDLES; i++) {
  const b: XBundle = { name: `p${i + 1}`, ports: [], vlanMode: "trunk", vlan: -1, trunks: null, cvlans: null, qinqEthtype: 0x88a8 };
  const p: XPort = { ofpNo: i + 1, odpNo: i + 1, name: b.name, type: "dummy", config: 0, state: 0, bundle: b, peer: null, bridge, hwAddr: new Uint8Array(6) };
  b.ports.push(p);
  ports.set(i + 1, p);
  (bridge.bundles as Map<string, XBundle>).set(b.name, b);
  bundles.push(b);
}
const ml = bridge.macs as MacLearning;
const macs = new Uint8Array(ENTRIES * 6);
for (let i = 0; i < ENTRIES; i++) {
  macs.set([0x50, 0x54, 0, 0, (i >>> 8) & 0xff, i & 0xff], i * 6);
  ml.learn(macs, i * 6, 0, bundles[i % BUNDLES]!, 1_000_000);
}

let sink = 0;
const lookupNs = best(5, () => {
  for (let i = 0; i < N; i++) if (ml.lookup(macs, (i & (ENTRIES - 1)) * 6, 0) !== null) sink++;
}) / N;
const learnNs = best(5, () => {
  for (let i = 0; i < N; i++) {
    const k = i & (ENTRIES - 1);
    if (ml.learn(macs, k * 6, 0, bundles[k % BUNDLES]!, 1_000_000)) sink++;
  }
}) / N;

// Whole NORMAL translations: src and dst both known, on different bundles.
const flows: Uint32Array[] = [];
for (let i = 0; i < 256; i++) {
  const s = i, d = (i + 1) & (ENTRIES - 1);
  const f = new Uint32Array(L.FLOW_U32S);
  f[L.W_IN_PORT] = (s % BUNDLES) + 1;
  f[L.W_ETH_DST] = (0x5054 << 16) >>> 0;
  f[L.W_ETH_SRC] = (((d >>> 8) << 24) | ((d & 0xff) << 16) | 0x5054) >>> 0;
  f[L.W_ETH_SRC + 1] = ((s >>> 8) << 8) | (s & 0xff);
  flows.push(f);
}
const wc = new Uint32Array(L.FLOW_U32S);
let outputs = 0;
let ctxFlow = flows[0]!;
const ctx: NormalCtx = {
  bridge,
  get flow() { return ctxFlow; },
  wc,
  mayLearn: true,
  inPort: null,
  outputToBundle() { outputs++; },
  report() {},
  needRevalidate() {},
};
const M = Math.max(1, Math.floor(N / 4));
const normalNs = best(5, () => {
  for (let i = 0; i < M; i++) {
    ctxFlow = flows[i & 255]!;
    xlateNormal(ctx);
  }
}) / M;

console.log(`lookup: ${lookupNs.toFixed(1)} ns, learn (refresh): ${learnNs.toFixed(1)} ns, xlateNormal: ${normalNs.toFixed(1)} ns (${ENTRIES} entries, sink ${sink}, outputs ${outputs})`);
console.log(JSON.stringify({ bench: "mac-learning", entries: ENTRIES, lookup_ns: +lookupNs.toFixed(1), learn_refresh_ns: +learnNs.toFixed(1), xlate_normal_ns: +normalNs.toFixed(1) }));
