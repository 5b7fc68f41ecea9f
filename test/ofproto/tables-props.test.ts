/**
 * Property tests of OfprotoTables transactions: a transaction's flow_mods
 * behave as the same flow_mods applied one by one; abort (and a failed
 * bundle) leave the tables exactly as they were; lookups during a
 * transaction see the published rules only.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OfprotoTables, type FlowModCommand, type OfproFlowMod } from "../../src/ofproto/index.js";
import { formatRule, parseFlowMod, TEXT_ACTIONS } from "./flow-text.js";

const MATCHES = ["", "ip", "tcp", "tcp,tp_dst=80", "ip,nw_src=10.0.0.0/8", "ip,nw_src=10.1.0.0/16", "in_port=1", "udp,tp_src=53"];
const PACKETS = ["tcp,nw_src=10.1.2.3,tp_dst=80,in_port=1", "udp,nw_src=10.0.0.1,tp_src=53", "arp,in_port=1", "tcp,nw_src=9.9.9.9,tp_dst=22"];

const arbFlowMod: fc.Arbitrary<OfproFlowMod<string>> = fc
  .record({
    cmd: fc.constantFrom<FlowModCommand>("add", "add", "add", "modify", "modify_strict", "delete", "delete_strict"),
    table: fc.constantFrom("", "table=0,", "table=1,", "table=300,"),
    priority: fc.constantFrom(100, 200, 32000),
    cookie: fc.constantFrom("", "cookie=1,", "cookie=2,", "cookie=1/1,"),
    flags: fc.constantFrom("", "check_overlap,", "reset_counts,"),
    match: fc.constantFrom(...MATCHES),
    actions: fc.constantFrom("drop", "output:1", "output:2"),
  })
  .map(({ cmd, table, priority, cookie, flags, match, actions }) => {
    const del = cmd === "delete" || cmd === "delete_strict";
    const c = cmd === "add" && cookie.includes("/") ? "" : cookie;
    // Overlapping rules of one priority match "one of them": give each match its own priorities so lookups are defined.
    const text = `${table}priority=${priority + MATCHES.indexOf(match)},${c}${flags}${match}${del ? "" : `,actions=${actions}`}`;
    const fm = parseFlowMod(cmd, text);
    if (table === "table=300,") fm.tableId = 300;
    return fm;
  });

function snapshot(t: OfprotoTables<string>): string[] {
  return t.allRules().map((r) => `${formatRule(r)} n=${r.packetCount}`).sort();
}

function lookups(t: OfprotoTables<string>): (string | null)[] {
  const out: (string | null)[] = [];
  for (const p of PACKETS) for (const table of [0, 1]) out.push(t.lookup(table, parseFlowMod("add", p).match.key, null)?.actions ?? null);
  return out;
}

function load(t: OfprotoTables<string>, fms: OfproFlowMod<string>[]): void {
  let now = 0;
  for (const fm of fms) {
    t.flowMod(fm, now++);
    for (const r of t.allRules()) r.credit(1, 100, now);
  }
}

test("a transaction's flow_mods equal the same flow_mods one by one", () => {
  fc.assert(
    fc.property(fc.array(arbFlowMod, { maxLength: 10 }), fc.array(arbFlowMod, { minLength: 1, maxLength: 10 }), (pre, ops) => {
      const a = new OfprotoTables<string>(TEXT_ACTIONS, 4);
      const b = new OfprotoTables<string>(TEXT_ACTIONS, 4);
      load(a, pre);
      load(b, pre);
      const one = ops.map((fm) => {
        const r = a.flowMod(fm, 100);
        return r.ok ? null : r.error;
      });
      const tx = b.begin();
      const inTx = ops.map((fm) => tx.apply(fm, 100));
      tx.commit();
      assert.deepEqual(inTx, one);
      assert.deepEqual(snapshot(b), snapshot(a));
      assert.deepEqual(lookups(b), lookups(a));
      assert.deepEqual(b.tableStats().map((s) => s.activeCount), a.tableStats().map((s) => s.activeCount));
    }),
    { numRuns: 150 },
  );
});

test("abort and failed bundles leave everything as it was; lookups during a transaction see the old rules", () => {
  fc.assert(
    fc.property(fc.array(arbFlowMod, { maxLength: 10 }), fc.array(arbFlowMod, { minLength: 1, maxLength: 10 }), (pre, ops) => {
      const t = new OfprotoTables<string>(TEXT_ACTIONS, 4);
      load(t, pre);
      const before = snapshot(t);
      const seen = lookups(t);
      const tx = t.begin();
      for (const fm of ops) {
        tx.apply(fm, 100);
        assert.deepEqual(lookups(t), seen);
      }
      tx.abort();
      assert.deepEqual(snapshot(t), before);
      assert.deepEqual(lookups(t), seen);
      const r = t.bundle(ops, 100);
      if (!r.ok) assert.deepEqual(snapshot(t), before);
      assert.deepEqual(t.tableStats().map((s) => s.activeCount), [0, 1, 2, 3].map((i) => t.allRules().filter((x) => x.tableId === i).length));
    }),
    { numRuns: 150 },
  );
});
