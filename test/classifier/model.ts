/**
 * A linear-scan model of the classifier for property tests, and random
 * rule/packet generators over a handful of fields (in_port, dl_type,
 * nw_src, nw_dst, nw_proto, tp_src, tp_dst, reg0) with small value pools so that
 * rules overlap and packets match often.
 */
import fc from "fast-check";
import { FLOW_U32S, W_CONJ_ID, W_DL_TYPE, W_IN_PORT, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_REG0, W_TP_DST, W_TP_SRC } from "../../src/flow/index.js";
import type { Conjunction } from "../../src/classifier/index.js";

export interface ModelRule {
  readonly id: number;
  readonly mask: Uint32Array;
  readonly key: Uint32Array;
  readonly priority: number;
  readonly conj: Conjunction[] | null;
  addVersion: number;
  removeVersion: number;
}

/** A field the generators vary: word, shift, width. */
interface GenField {
  readonly word: number;
  readonly shift: number;
  readonly bits: number;
  readonly pool: readonly number[];
  /** Prefix masks (CIDR) instead of arbitrary partial masks. */
  readonly prefix: boolean;
}

export const ADDR_POOL = [0x0a000001, 0x0a000002, 0x0a0000ff, 0x0a010001, 0x0a800001, 0xc0a80101, 0xc0a80102, 0x80000000, 0x00000000, 0xffffffff];

export const GEN_FIELDS: readonly GenField[] = [
  { word: W_IN_PORT, shift: 0, bits: 32, pool: [1, 2, 3], prefix: false },
  { word: W_DL_TYPE, shift: 16, bits: 16, pool: [0x0800, 0x86dd, 0x0806], prefix: false },
  { word: W_NW_SRC, shift: 0, bits: 32, pool: ADDR_POOL, prefix: true },
  { word: W_NW_DST, shift: 0, bits: 32, pool: ADDR_POOL, prefix: true },
  { word: W_NW_PROTO, shift: 24, bits: 8, pool: [6, 17, 1], prefix: false },
  { word: W_TP_SRC, shift: 16, bits: 16, pool: [0, 80, 1024], prefix: false },
  { word: W_TP_DST, shift: 0, bits: 16, pool: [80, 443, 22, 0x1f90], prefix: false },
  { word: W_REG0, shift: 0, bits: 32, pool: [0, 1, 5], prefix: false },
];

function fieldMaskBits(f: GenField): number {
  return f.bits === 32 ? 0xffffffff : ((1 << f.bits) - 1) >>> 0;
}

function setBits(a: Uint32Array, f: GenField, v: number): void {
  const m = (fieldMaskBits(f) << f.shift) >>> 0;
  a[f.word] = ((a[f.word]! & ~m) | ((v << f.shift) & m)) >>> 0;
}

/** How a rule matches one field: 0 wildcard, 1 exact, 2 partial (prefix length or random mask). */
const fieldSpec = fc.record({
  how: fc.constantFrom(0, 0, 0, 1, 2),
  value: fc.nat(),
  plen: fc.integer({ min: 1, max: 31 }),
  rmask: fc.integer({ min: 0, max: 0xffffffff }),
});

export const ruleArb = fc.record({
  specs: fc.array(fieldSpec, { minLength: GEN_FIELDS.length, maxLength: GEN_FIELDS.length }),
  priority: fc.integer({ min: 0, max: 6 }),
});

export type RuleSpec = { specs: { how: number; value: number; plen: number; rmask: number }[]; priority: number };

/** Builds (mask, key) for a generated rule spec. */
export function buildMatch(spec: RuleSpec): { mask: Uint32Array; key: Uint32Array } {
  const mask = new Uint32Array(FLOW_U32S);
  const key = new Uint32Array(FLOW_U32S);
  GEN_FIELDS.forEach((f, i) => {
    const s = spec.specs[i]!;
    if (s.how === 0) return;
    const v = f.pool[s.value % f.pool.length]!;
    let m = fieldMaskBits(f);
    if (s.how === 2) m = f.prefix ? ((0xffffffff << (32 - s.plen)) >>> 0) : (s.rmask & fieldMaskBits(f)) >>> 0;
    setBits(mask, f, m);
    setBits(key, f, v & m);
  });
  return { mask, key };
}

/** A packet: each field from its pool, or (rarely) random. */
export const packetArb = fc
  .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean()), { minLength: GEN_FIELDS.length, maxLength: GEN_FIELDS.length })
  .map((parts) => {
    const p = new Uint32Array(FLOW_U32S);
    GEN_FIELDS.forEach((f, i) => {
      const [pick, rnd, random] = parts[i]!;
      setBits(p, f, random && f.bits > 8 ? rnd : f.pool[pick % f.pool.length]!);
    });
    return p;
  });

export function modelMatches(r: ModelRule, flow: Uint32Array): boolean {
  for (let w = 0; w < FLOW_U32S; w++) if (((flow[w]! & r.mask[w]!) ^ (r.key[w]! & r.mask[w]!)) !== 0) return false;
  return true;
}

function visible(r: ModelRule, v: number): boolean {
  return r.addVersion <= v && v < r.removeVersion;
}

/** Max-priority hard (non-conjunction) matches. */
function hardSet(rules: readonly ModelRule[], flow: Uint32Array, version: number): ModelRule[] {
  let best: ModelRule[] = [];
  for (const r of rules) {
    if (r.conj !== null || !visible(r, version) || !modelMatches(r, flow)) continue;
    if (best.length === 0 || r.priority > best[0]!.priority) best = [r];
    else if (r.priority === best[0]!.priority) best.push(r);
  }
  return best;
}

/**
 * The set of rules a correct classifier may return for `flow` (any one of
 * the equal-priority winners), conjunctions resolved as ovs-fields(7) says.
 */
export function modelLookup(rules: readonly ModelRule[], flow: Uint32Array, version: number): ModelRule[] {
  const hard = hardSet(rules, flow, version);
  const hardPri = hard.length === 0 ? -Infinity : hard[0]!.priority;
  const softs = rules.filter((r) => r.conj !== null && visible(r, version) && r.priority > hardPri && modelMatches(r, flow));
  const pris = [...new Set(softs.map((r) => r.priority))].sort((a, b) => b - a);
  for (const p of pris) {
    const clauses = new Map<string, Set<number>>();
    for (const r of softs) {
      if (r.priority !== p) continue;
      for (const c of r.conj!) {
        const k = `${c.id}/${c.nClauses}`;
        if (!clauses.has(k)) clauses.set(k, new Set());
        clauses.get(k)!.add(c.clause);
      }
    }
    for (const [k, set] of clauses) {
      const [id, n] = k.split("/").map(Number) as [number, number];
      if (set.size !== n) continue;
      const f2 = Uint32Array.from(flow);
      f2[W_CONJ_ID] = id;
      const hit = hardSet(rules, f2, version);
      if (hit.length > 0) return hit;
    }
  }
  return hard;
}
