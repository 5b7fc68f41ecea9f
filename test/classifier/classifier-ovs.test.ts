/**
 * Differential test against real OVS 3.1: the same random OpenFlow table
 * (priorities, in_port, IPv4 prefixes, tcp/udp ports, reg0, conjunctive
 * flows) loaded into ovs-vswitchd with `ovs-ofctl add-flows` and into our
 * classifier; for random packets the rule `ofproto/trace` reports must be
 * one our classifier may return (same priority; equal-priority overlaps
 * are "any of them"), and "No match" exactly when we find none. It also
 * compares the nw_src/nw_dst/tp_dst bits of OVS's megaflow with our
 * un-wildcarded mask: ours must never hold more of them than OVS's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { FLOW_U32S, W_CONJ_ID, W_DL_TYPE, W_IN_PORT, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_REG0, W_TP_DST } from "../../src/flow/index.js";
import { Classifier, ClsRule, CLS_MAX_VERSION, type Conjunction } from "../../src/classifier/index.js";
import { ovsSkip, run, tempDir } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { modelLookup, type ModelRule } from "./model.js";

const ADDRS = [0x0a000001, 0x0a000002, 0x0a0000ff, 0x0a010001, 0xc0a80101, 0x80000001];
const PORTS = [80, 443, 0x8050, 22];

function ip4(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

interface OfRule {
  priority: number;
  inPort: number | null;
  src: [number, number] | null; // address, prefix length
  dst: [number, number] | null;
  proto: "tcp" | "udp" | null;
  tpDst: [number, number] | null; // value, mask
  reg0: number | null;
  conj: Conjunction | null;
  conjId: number | null;
}

const pfx = (n: number): number => (n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0);

const ofRuleArb = fc
  .record({
    priority: fc.integer({ min: 0, max: 5 }),
    inPort: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 3 }),
    src: fc.option(fc.tuple(fc.constantFrom(...ADDRS), fc.constantFrom(8, 16, 24, 32, 1)), { freq: 2 }),
    dst: fc.option(fc.tuple(fc.constantFrom(...ADDRS), fc.constantFrom(8, 16, 24, 32, 2)), { freq: 2 }),
    proto: fc.option(fc.constantFrom("tcp" as const, "udp" as const), { freq: 2 }),
    tpDst: fc.option(fc.tuple(fc.constantFrom(...PORTS), fc.constantFrom(0xffff, 0xff00, 0x8000)), { freq: 2 }),
    reg0: fc.option(fc.constantFrom(0, 1), { freq: 4 }),
    role: fc.constantFrom("hard", "hard", "soft", "conj"),
    id: fc.integer({ min: 1, max: 2 }),
    k: fc.integer({ min: 1, max: 2 }),
  })
  .map((r): OfRule => {
    const tpDst = r.tpDst !== null && r.proto === null ? null : r.tpDst;
    return {
      priority: r.role === "soft" ? 10 + r.id : r.priority,
      inPort: r.inPort,
      src: r.src,
      dst: r.dst,
      proto: r.proto,
      tpDst: tpDst === null ? null : [tpDst[0] & tpDst[1], tpDst[1]],
      reg0: r.reg0,
      conj: r.role === "soft" ? { id: r.id, clause: r.k, nClauses: 2 } : null,
      conjId: r.role === "conj" ? r.id : null,
    };
  });

function ofText(r: OfRule, cookie: number): string {
  const m: string[] = [`cookie=${cookie}`, `priority=${r.priority}`];
  if (r.inPort !== null) m.push(`in_port=${r.inPort}`);
  if (r.conjId !== null) m.push(`conj_id=${r.conjId}`);
  if (r.reg0 !== null) m.push(`reg0=${r.reg0}`);
  if (r.proto !== null) m.push(r.proto);
  else if (r.src !== null || r.dst !== null) m.push("ip");
  if (r.src !== null) m.push(`nw_src=${ip4(r.src[0])}/${r.src[1]}`);
  if (r.dst !== null) m.push(`nw_dst=${ip4(r.dst[0])}/${r.dst[1]}`);
  if (r.tpDst !== null) m.push(`${r.proto}_dst=0x${r.tpDst[0].toString(16)}/0x${r.tpDst[1].toString(16)}`);
  const actions = r.conj !== null ? `conjunction(${r.conj.id},${r.conj.clause}/${r.conj.nClauses})` : "drop";
  return `${m.join(",")} actions=${actions}`;
}

function toMatch(r: OfRule): { mask: Uint32Array; key: Uint32Array } {
  const mask = new Uint32Array(FLOW_U32S);
  const key = new Uint32Array(FLOW_U32S);
  const set = (w: number, m: number, v: number) => {
    mask[w] = (mask[w]! | m) >>> 0;
    key[w] = (key[w]! | (v & m)) >>> 0;
  };
  if (r.inPort !== null) set(W_IN_PORT, 0xffffffff, r.inPort);
  if (r.conjId !== null) set(W_CONJ_ID, 0xffffffff, r.conjId);
  if (r.reg0 !== null) set(W_REG0, 0xffffffff, r.reg0);
  if (r.proto !== null || r.src !== null || r.dst !== null) set(W_DL_TYPE, 0xffff0000, 0x0800 << 16);
  if (r.proto !== null) set(W_NW_PROTO, 0xff000000, (r.proto === "tcp" ? 6 : 17) << 24);
  if (r.src !== null) set(W_NW_SRC, pfx(r.src[1]), r.src[0]);
  if (r.dst !== null) set(W_NW_DST, pfx(r.dst[1]), r.dst[0]);
  if (r.tpDst !== null) set(W_TP_DST, r.tpDst[1], r.tpDst[0]);
  return { mask, key };
}

const packetArb = fc.record({
  inPort: fc.integer({ min: 1, max: 3 }),
  proto: fc.constantFrom("tcp", "udp"),
  src: fc.constantFrom(...ADDRS, 0x0a0000fe),
  dst: fc.constantFrom(...ADDRS, 0x0b000000),
  tpDst: fc.constantFrom(...PORTS, 81),
  reg0: fc.constantFrom(0, 1),
});

/** Bits of `field` in an OVS megaflow string: `field=v/m`, `field=v` (exact, `bits` wide) or absent. */
function megaflowMask(megaflow: string, field: string, bits: number): number {
  const m = new RegExp(`(?:^|,)${field}=([^,/]+)(?:/([^,]+))?`).exec(megaflow);
  if (m === null) return 0;
  if (m[2] === undefined) return bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (m[2].includes(".")) return m[2].split(".").reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
  if (/^\d+$/.test(m[2])) return pfx(Number(m[2]));
  return Number(m[2]) >>> 0;
}

function popcount(x: number): number {
  let n = 0;
  for (x >>>= 0; x !== 0; x &= x - 1) n++;
  return n;
}

test("classifier picks the rule real OVS 3.1 picks (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-ofctl", "ovs-appctl"), timeout: 120_000 }, async (t) => {
  const dir = tempDir("tsovs-cls-ovs-");
  const stop = startRealVswitchd(dir);
  let narrower = 0;
  let wider = 0;
  let same = 0;
  try {
    const samples = fc.sample(fc.tuple(fc.array(ofRuleArb, { minLength: 5, maxLength: 30, size: "max" }), fc.array(packetArb, { minLength: 12, maxLength: 12 })), { numRuns: 10, seed: 4242 });
    for (const [rules, pkts] of samples) {
      const cls = new Classifier<ModelRule>();
      const model: ModelRule[] = [];
      const lines: string[] = [];
      rules.forEach((r, i) => {
        const { mask, key } = toMatch(r);
        const m: ModelRule = { id: i, mask, key, priority: r.priority, conj: r.conj === null ? null : [r.conj], addVersion: 0, removeVersion: CLS_MAX_VERSION };
        model.push(m);
        cls.insert(new ClsRule(mask, key, r.priority, m, m.conj));
        lines.push(ofText(r, i + 1));
      });
      const file = path.join(dir, "flows.txt");
      fs.writeFileSync(file, lines.join("\n") + "\n");
      let r = run("ovs-ofctl", ["del-flows", "br0"], dir);
      assert.equal(r.status, 0, r.stderr);
      r = run("ovs-ofctl", ["add-flows", "br0", file], dir);
      assert.equal(r.status, 0, `${r.stderr}\n${lines.join("\n")}`);
      for (const p of pkts) {
        const flowText = `in_port=${p.inPort},${p.proto},reg0=${p.reg0},nw_src=${ip4(p.src)},nw_dst=${ip4(p.dst)},${p.proto}_dst=${p.tpDst}`;
        const tr = run("ovs-appctl", ["ofproto/trace", "br0", flowText], dir);
        assert.equal(tr.status, 0, tr.stderr);
        const hit = /^ 0\. .*cookie (0x[0-9a-f]+)/m.exec(tr.stdout);
        const noMatch = /^ 0\. No match\./m.test(tr.stdout);
        assert.ok(hit !== null || noMatch, `unexpected trace:\n${tr.stdout}`);
        const flow = new Uint32Array(FLOW_U32S);
        flow[W_IN_PORT] = p.inPort;
        flow[W_DL_TYPE] = 0x0800 << 16;
        flow[W_NW_PROTO] = (p.proto === "tcp" ? 6 : 17) << 24;
        flow[W_NW_SRC] = p.src;
        flow[W_NW_DST] = p.dst;
        flow[W_TP_DST] = p.tpDst;
        flow[W_REG0] = p.reg0;
        const wc = new Uint32Array(FLOW_U32S);
        const got = cls.lookup(flow, 0, wc);
        const allowed = modelLookup(model, flow, 0);
        const context = `flow ${flowText}\nrules:\n${lines.join("\n")}\ntrace:\n${tr.stdout}`;
        if (noMatch) {
          assert.equal(got, null, `OVS: no match; we: rule cookie ${(got?.payload.id ?? -2) + 1}\n${context}`);
        } else {
          const ovsRule = model[Number(hit![1]) - 1]!;
          assert.ok(allowed.includes(ovsRule), `OVS chose cookie ${ovsRule.id + 1}, not among ours ${allowed.map((m) => m.id + 1)}\n${context}`);
          assert.ok(got !== null && got.priority === ovsRule.priority, `priority differs\n${context}`);
        }
        const mega = /^Megaflow: (.*)$/m.exec(tr.stdout)?.[1] ?? "";
        const ours = popcount(wc[W_NW_SRC]!) + popcount(wc[W_NW_DST]!) + popcount(wc[W_TP_DST]! & 0xffff);
        const theirs = popcount(megaflowMask(mega, "nw_src", 32)) + popcount(megaflowMask(mega, "nw_dst", 32)) + popcount(megaflowMask(mega, "tp_dst", 16));
        if (ours < theirs) narrower++;
        else if (ours > theirs) {
          wider++;
          if (process.env.CLS_OVS_DEBUG) console.log(`WIDER ours src=${wc[W_NW_SRC]!.toString(16)} dst=${wc[W_NW_DST]!.toString(16)} tp=${(wc[W_TP_DST]! & 0xffff).toString(16)} got=${got === null ? "none" : got.payload.id + 1}\n${context}\n`);
        }
        else same++;
      }
    }
    t.diagnostic(`un-wildcarded nw_src+nw_dst+tp_dst bits vs OVS megaflow: ${same} same, ${narrower} narrower, ${wider} wider`);
    assert.equal(wider, 0, "our un-wildcarded nw_src/nw_dst/tp_dst bits should never exceed OVS's megaflow's (set CLS_OVS_DEBUG=1 for cases)");
  } finally {
    stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
