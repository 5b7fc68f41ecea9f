/**
 * Unit tests of OfprotoTables: flow_mod semantics, errors, transactions and
 * bundles, timeouts, eviction, statistics and lookup.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FLOW_U32S } from "../../src/flow/index.js";
import { Match, formatMatch } from "../../src/openflow/index.js";
import { OfprotoTables, OFPTT_ALL, type FlowModCommand, type OfproFlowMod } from "../../src/ofproto/index.js";
import { formatRule, parseFlowMod, TEXT_ACTIONS } from "./flow-text.js";

function tables(): OfprotoTables<string> {
  return new OfprotoTables<string>(TEXT_ACTIONS);
}
const fm = (cmd: FlowModCommand, text: string, over: Partial<OfproFlowMod<string>> = {}): OfproFlowMod<string> => ({ ...parseFlowMod(cmd, text), ...over });
const dump = (t: OfprotoTables<string>): string[] => t.allRules().map((r) => formatRule(r).trim());
function ok<T extends { ok: boolean }>(r: T): T & { ok: true } {
  if (!r.ok) assert.fail(`expected success, got ${JSON.stringify(r)}`);
  return r as T & { ok: true };
}
function flowOf(m: Match): Uint32Array {
  return m.key.slice();
}
function packet(text: string): Uint32Array {
  const f = parseFlowMod("add", text).match;
  return flowOf(f);
}

describe("add", () => {
  test("identical match and priority replaces; other priorities coexist", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,actions=output:1"), 0));
    ok(t.flowMod(fm("add", "priority=6,ip,actions=output:1"), 0));
    ok(t.flowMod(fm("add", "cookie=0x7,priority=5,ip,actions=output:2"), 0));
    assert.deepEqual(dump(t), ["reset_counts priority=6,ip actions=output:1", "cookie=0x7, reset_counts priority=5,ip actions=output:2"]);
    assert.equal(t.tableStats()[0]!.activeCount, 2);
  });

  test("replacing keeps counters unless reset_counts, and keeps the cookie when the add gives none", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "cookie=0x3,priority=5,ip,actions=drop"), 0));
    t.allRules()[0]!.credit(4, 400, 10);
    ok(t.flowMod(fm("add", "priority=5,ip,actions=output:1", { flags: { ...parseFlowMod("add", "").flags, resetCounts: false }, newCookie: null }), 20));
    const r = t.allRules()[0]!;
    assert.equal(r.packetCount, 4);
    assert.equal(r.byteCount, 400);
    assert.equal(r.cookie, 3n);
    assert.equal(r.created, 20);
    ok(t.flowMod(fm("add", "priority=5,ip,actions=output:2"), 30));
    assert.equal(t.allRules()[0]!.packetCount, 0);
    assert.equal(t.allRules()[0]!.cookie, 0n);
  });

  test("check_overlap refuses an overlapping rule of the same priority only", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,nw_src=10.0.0.0/8,actions=drop"), 0));
    assert.deepEqual(t.flowMod(fm("add", "priority=5,check_overlap,ip,nw_dst=1.2.3.4,actions=drop"), 0), { ok: false, error: "OFPFMFC_OVERLAP" });
    ok(t.flowMod(fm("add", "priority=5,check_overlap,ip,nw_src=11.0.0.0/8,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=6,check_overlap,ip,nw_dst=1.2.3.4,actions=drop"), 0));
    // An identical rule is replaced, not an overlap.
    ok(t.flowMod(fm("add", "priority=5,check_overlap,ip,nw_src=10.0.0.0/8,actions=output:1"), 0));
    assert.equal(t.allRules().length, 3);
  });

  test("table 255 adds to table 0; a nonexistent or read-only table is refused", () => {
    const t = new OfprotoTables<string>(TEXT_ACTIONS, 4);
    ok(t.flowMod(fm("add", "ip,actions=drop", { tableId: OFPTT_ALL }), 0));
    assert.equal(t.allRules()[0]!.tableId, 0);
    assert.deepEqual(t.flowMod(fm("add", "ip,actions=drop", { tableId: 4 }), 0), { ok: false, error: "OFPBRC_BAD_TABLE_ID" });
    ok(t.configureTable(2, { readonly: true }));
    assert.deepEqual(t.flowMod(fm("add", "table=2,ip,actions=drop"), 0), { ok: false, error: "OFPBRC_EPERM" });
    assert.deepEqual(t.flowMod(fm("delete", "table=2,ip"), 0), { ok: false, error: "OFPBRC_EPERM" });
    assert.deepEqual(t.flowMod(fm("delete", "table=7,ip"), 0), { ok: false, error: "OFPBRC_BAD_TABLE_ID" });
    ok(t.flowMod(fm("delete", ""), 0)); // all tables skips the read-only one
  });

  test("table 254 is OVS's internal table: read-only except to internal flow_mods, left out of all-table operations", () => {
    const t = tables();
    assert.deepEqual(t.flowMod(fm("add", "table=254,actions=drop"), 0), { ok: false, error: "OFPBRC_EPERM" });
    const internal = fm("add", "table=254,priority=2,recirc_id=0,actions=drop");
    internal.flags.noReadonly = true;
    ok(t.flowMod(internal, 0));
    ok(t.flowMod(fm("add", "actions=drop"), 0));
    ok(t.flowMod(fm("modify", "actions=NORMAL"), 0));
    assert.equal(ok(t.aggregateStats({ tableId: OFPTT_ALL, match: new Match() })).stats.flowCount, 1);
    assert.equal(ok(t.aggregateStats({ tableId: 254, match: new Match() })).stats.flowCount, 1);
    assert.equal(t.tables[254]!.cls.count, 1);
    assert.equal(t.allRules().find((r) => r.tableId === 254)!.actions, "drop");
    ok(t.flowMod(fm("delete", ""), 0));
    assert.equal(t.tables[254]!.cls.count, 1);
  });

  test("conjunction clauses from the action facts reach the classifier", () => {
    const conj = (a: string) => {
      const m = /^conjunction\((\d+),(\d+)\/(\d+)\)$/.exec(a);
      return m ? [{ id: Number(m[1]), clause: Number(m[2]), nClauses: Number(m[3]) }] : null;
    };
    const t = new OfprotoTables<string>({ ...TEXT_ACTIONS, conjunctions: conj });
    ok(t.flowMod(fm("add", "priority=5,ip,nw_src=1.1.1.1,actions=conjunction(7,1/2)"), 0));
    ok(t.flowMod(fm("add", "priority=5,ip,nw_dst=2.2.2.2,actions=conjunction(7,2/2)"), 0));
    ok(t.flowMod(fm("add", "priority=5,conj_id=7,ip,actions=output:1"), 0));
    assert.equal(t.lookup(0, packet("ip,nw_src=1.1.1.1,nw_dst=2.2.2.2"), null)?.actions, "output:1");
    assert.equal(t.lookup(0, packet("ip,nw_src=1.1.1.1,nw_dst=2.2.2.3"), null), null);
  });

  test("a buffer_id is refused (no packet buffering) and action checks are honoured", () => {
    const t = new OfprotoTables<string>({ ...TEXT_ACTIONS, check: (a) => (a.includes("output:9") ? "OFPBAC_BAD_OUT_PORT" : null) });
    assert.deepEqual(t.flowMod(fm("add", "ip,actions=drop", { bufferId: 7 }), 0), { ok: false, error: "OFPBRC_BUFFER_UNKNOWN" });
    assert.deepEqual(t.flowMod(fm("add", "ip,actions=output:9"), 0), { ok: false, error: "OFPBAC_BAD_OUT_PORT" });
    ok(t.flowMod(fm("add", "ip,actions=output:1"), 0));
    assert.deepEqual(t.flowMod(fm("modify", "actions=output:9"), 0), { ok: false, error: "OFPBAC_BAD_OUT_PORT" });
    assert.deepEqual(dump(t), ["reset_counts ip actions=output:1"]);
  });
});

describe("modify", () => {
  test("loose modify changes actions of every more specific rule, keeping timeouts, flags, importance, created", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,idle_timeout=10,send_flow_rem,importance=2,ip,nw_src=1.2.3.4,actions=drop"), 100));
    ok(t.flowMod(fm("add", "priority=6,tcp,actions=drop"), 100));
    ok(t.flowMod(fm("add", "priority=7,arp,actions=drop"), 100));
    ok(t.flowMod(fm("modify", "ip,idle_timeout=99,actions=output:1"), 200));
    assert.deepEqual(dump(t), [
      "reset_counts priority=7,arp actions=drop",
      "reset_counts priority=6,tcp actions=output:1",
      "idle_timeout=10, send_flow_rem reset_counts importance=2, priority=5,ip,nw_src=1.2.3.4 actions=output:1",
    ]);
    const r = t.allRules().find((x) => x.priority === 5)!;
    assert.equal(r.created, 100);
    assert.equal(r.modified, 200);
  });

  test("strict modify selects exactly the match and priority", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=5,tcp,actions=drop"), 0));
    ok(t.flowMod(fm("modify_strict", "priority=5,ip,actions=output:2"), 0));
    assert.deepEqual(dump(t).sort(), ["reset_counts priority=5,ip actions=output:2", "reset_counts priority=5,tcp actions=drop"]);
  });

  test("modify keeps counters unless reset_counts", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "ip,actions=drop"), 0));
    t.allRules()[0]!.credit(2, 120, 5);
    const old = t.allRules()[0]!;
    ok(t.flowMod(fm("modify", "ip,actions=output:1"), 10));
    assert.equal(old.removed, true);
    assert.equal(old.removedReason, null);
    assert.equal(t.allRules()[0]!.packetCount, 2);
    assert.equal(t.allRules()[0]!.used, 5);
    ok(t.flowMod(fm("modify", "ip,reset_counts,actions=output:2"), 20));
    assert.equal(t.allRules()[0]!.packetCount, 0);
  });

  test("cookies: OF1.0 modify sets the cookie; a cookie mask selects and does not set; OF1.2+ modify (no new cookie) keeps it", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "cookie=0x3,priority=5,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "cookie=0x4,priority=6,ip,actions=drop"), 0));
    ok(t.flowMod(fm("modify", "cookie=0x4/0xf,actions=output:1"), 0));
    assert.deepEqual(dump(t), ["cookie=0x4, reset_counts priority=6,ip actions=output:1", "cookie=0x3, reset_counts priority=5,ip actions=drop"]);
    ok(t.flowMod(fm("modify", "cookie=0x9,cookie=0x3/-1,actions=output:2"), 0));
    assert.deepEqual(dump(t), ["cookie=0x4, reset_counts priority=6,ip actions=output:1", "cookie=0x9, reset_counts priority=5,ip actions=output:2"]);
    ok(t.flowMod(fm("modify", "ip,actions=NORMAL", { newCookie: null, modifyCookie: false }), 0));
    assert.deepEqual(dump(t), ["cookie=0x4, reset_counts priority=6,ip actions=NORMAL", "cookie=0x9, reset_counts priority=5,ip actions=NORMAL"]);
  });

  test("a modify that selects nothing adds the flow only with a new cookie and no cookie mask", () => {
    const t = tables();
    ok(t.flowMod(fm("modify", "cookie=0x5,udp,actions=drop"), 0));
    assert.deepEqual(dump(t), ["cookie=0x5, udp actions=drop"]);
    ok(t.flowMod(fm("modify", "tcp,actions=drop", { newCookie: null, modifyCookie: false }), 0));
    ok(t.flowMod(fm("modify", "cookie=0x1/0x1,arp,actions=drop"), 0));
    ok(t.flowMod(fm("modify", "cookie=0x7,cookie=0x1/0x1,arp,actions=drop"), 0));
    ok(t.flowMod(fm("modify_strict", "priority=3,icmp,actions=drop", { tableId: 2 }), 0));
    assert.deepEqual(dump(t), ["cookie=0x5, udp actions=drop", "table=2, priority=3,icmp actions=drop"]);
  });
});

describe("delete", () => {
  function loaded(): OfprotoTables<string> {
    const t = tables();
    ok(t.flowMod(fm("add", "cookie=0x1,priority=5,ip,actions=output:1"), 0));
    ok(t.flowMod(fm("add", "cookie=0x2,priority=6,tcp,actions=output:2"), 0));
    ok(t.flowMod(fm("add", "table=1,cookie=0x3,priority=5,ip,actions=output:1,group:4"), 0));
    ok(t.flowMod(fm("add", "table=1,cookie=0x4,priority=5,arp,actions=drop"), 0));
    return t;
  }
  const left = (t: OfprotoTables<string>) => t.allRules().map((r) => Number(r.cookie)).sort();

  test("loose delete removes every more specific rule in every table and reports them", () => {
    const t = loaded();
    const r = ok(t.flowMod(fm("delete", "ip"), 0));
    assert.deepEqual(r.removed.map((x) => [Number(x.rule.cookie), x.reason]).sort(), [[1, "delete"], [2, "delete"], [3, "delete"]]);
    assert.deepEqual(left(t), [4]);
    assert.equal(t.allRules()[0]!.removedReason, null);
    assert.equal(t.allRules()[0]!.removed, false);
    assert.equal(r.removed[0]!.rule.removedReason, "delete");
    assert.equal(r.removed[0]!.rule.removed, true);
  });

  test("strict delete needs the exact match and priority", () => {
    const t = loaded();
    ok(t.flowMod(fm("delete_strict", "ip"), 0));
    assert.deepEqual(left(t), [1, 2, 3, 4]);
    ok(t.flowMod(fm("delete_strict", "priority=5,ip"), 0));
    assert.deepEqual(left(t), [2, 4]);
  });

  test("filters: table, cookie/mask, out_port, out_group", () => {
    let t = loaded();
    ok(t.flowMod(fm("delete", "table=1"), 0));
    assert.deepEqual(left(t), [1, 2]);
    t = loaded();
    ok(t.flowMod(fm("delete", "cookie=0x2/0x2"), 0));
    assert.deepEqual(left(t), [1, 4]);
    t = loaded();
    ok(t.flowMod(fm("delete", "out_port=1"), 0));
    assert.deepEqual(left(t), [2, 4]);
    t = loaded();
    ok(t.flowMod(fm("delete", "", { outGroup: 4 }), 0));
    assert.deepEqual(left(t), [1, 2, 4]);
  });

  test("a group delete reports its own reason", () => {
    const t = loaded();
    const r = ok(t.flowMod(fm("delete", "", { outGroup: 4, deleteReason: "group_delete" }), 0));
    assert.deepEqual(r.removed.map((x) => x.reason), ["group_delete"]);
  });
});

describe("transactions and bundles", () => {
  test("a bundle is all-or-nothing", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,actions=drop"), 0));
    const before = dump(t);
    const r = t.bundle([fm("delete", "ip"), fm("add", "priority=7,tcp,actions=output:1"), fm("add", "table=300,arp,actions=drop", { tableId: 300 })], 0);
    assert.deepEqual(r, { ok: false, error: "OFPBRC_BAD_TABLE_ID", index: 2 });
    assert.deepEqual(dump(t), before);
    assert.equal(t.tableStats()[0]!.activeCount, 1);
    const good = ok(t.bundle([fm("delete", "ip"), fm("add", "priority=7,tcp,actions=output:1"), fm("modify", "tcp,actions=output:2")], 0));
    assert.equal(good.removed.length, 1);
    assert.deepEqual(dump(t), ["reset_counts priority=7,tcp actions=output:2"]);
  });

  test("later flow_mods of a transaction see earlier ones; lookups see none of it until commit", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,actions=output:1"), 0));
    const pkt = packet("tcp,nw_src=1.2.3.4,tp_dst=80");
    const tx = t.begin();
    assert.equal(tx.apply(fm("add", "priority=9,tcp,actions=output:2"), 0), null);
    assert.equal(tx.apply(fm("modify_strict", "priority=9,tcp,actions=output:3"), 0), null);
    assert.equal(tx.apply(fm("delete_strict", "priority=5,ip"), 0), null);
    assert.equal(t.lookup(0, pkt, null)!.actions, "output:1");
    assert.throws(() => t.flowMod(fm("add", "arp,actions=drop"), 0), /transaction/);
    const removed = tx.commit();
    assert.equal(removed.length, 1);
    assert.equal(t.lookup(0, pkt, null)!.actions, "output:3");
    assert.deepEqual(dump(t), ["reset_counts priority=9,tcp actions=output:3"]);
  });

  test("abort undoes inserts, replacements and deletions", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,actions=output:1"), 0));
    ok(t.flowMod(fm("add", "priority=6,arp,actions=output:1"), 0));
    const before = dump(t);
    const tx = t.begin();
    tx.apply(fm("add", "priority=5,ip,actions=output:2"), 0);
    tx.apply(fm("delete", "arp"), 0);
    tx.apply(fm("add", "udp,actions=drop"), 0);
    tx.abort();
    assert.deepEqual(dump(t), before);
    assert.equal(t.lookup(0, packet("arp"), null)!.actions, "output:1");
    ok(t.flowMod(fm("add", "priority=5,ip,actions=output:3"), 0));
    assert.equal(t.allRules().length, 2);
  });

  test("a failed flow_mod in a transaction leaves the earlier ones", () => {
    const t = new OfprotoTables<string>(TEXT_ACTIONS, 2);
    const tx = t.begin();
    assert.equal(tx.apply(fm("add", "ip,actions=drop"), 0), null);
    assert.equal(tx.apply(fm("add", "table=5,ip,actions=drop", { tableId: 5 }), 0), "OFPBRC_BAD_TABLE_ID");
    tx.commit();
    assert.deepEqual(dump(t), ["reset_counts ip actions=drop"]);
  });
});

describe("timeouts", () => {
  test("hard timeouts count from the last add/modify, idle timeouts from the last packet", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=1,hard_timeout=10,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=2,idle_timeout=5,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=3,arp,actions=drop"), 0));
    assert.equal(t.nextExpiry(), 5000);
    assert.deepEqual(t.expire(5000), []);
    t.allRules().find((r) => r.priority === 2)!.credit(1, 60, 4000);
    assert.deepEqual(t.expire(8000), []);
    ok(t.flowMod(fm("modify", "priority=1,ip,actions=output:1"), 6000));
    const gone = t.expire(9001);
    assert.deepEqual(gone.map((g) => [g.rule.priority, g.reason]), [[2, "idle_timeout"]]);
    assert.deepEqual(t.expire(16000).map((g) => [g.rule.priority, g.reason]), []);
    assert.deepEqual(t.expire(16001).map((g) => [g.rule.priority, g.reason]), [[1, "hard_timeout"]]);
    assert.equal(t.nextExpiry(), Infinity);
    assert.equal(t.tableStats()[0]!.activeCount, 1);
  });
});

test("fin_timeout reduces timeouts, never raises them", () => {
  const t = tables();
  ok(t.flowMod(fm("add", "priority=1,idle_timeout=60,ip,actions=drop"), 0));
  const r = t.allRules()[0]!;
  r.reduceTimeouts(100, 10);
  assert.deepEqual([r.idleTimeout, r.hardTimeout], [60, 10]);
  r.reduceTimeouts(5, 0);
  assert.deepEqual([r.idleTimeout, r.hardTimeout], [5, 10]);
  assert.deepEqual(t.expire(5001).map((g) => g.reason), ["idle_timeout"]);
});

describe("flow limits and eviction", () => {
  test("refuse: a full table refuses new flows but still replaces identical ones", () => {
    const t = tables();
    ok(t.configureTable(0, { flowLimit: 2 }));
    ok(t.flowMod(fm("add", "priority=1,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=2,ip,actions=drop"), 0));
    assert.deepEqual(t.flowMod(fm("add", "priority=3,ip,actions=drop"), 0), { ok: false, error: "OFPFMFC_TABLE_FULL" });
    ok(t.flowMod(fm("add", "priority=2,ip,actions=output:1"), 0));
    ok(t.flowMod(fm("add", "table=1,priority=3,ip,actions=drop"), 0));
  });

  test("evict: lowest importance first, then soonest expiry; permanent flows are never evicted", () => {
    const t = tables();
    ok(t.configureTable(0, { flowLimit: 3, overflowPolicy: "evict" }));
    ok(t.flowMod(fm("add", "priority=1,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=2,hard_timeout=5,importance=1,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=3,hard_timeout=50,ip,actions=drop"), 0));
    let r = ok(t.flowMod(fm("add", "priority=4,hard_timeout=100,ip,actions=drop"), 0));
    assert.deepEqual(r.removed.map((x) => [x.rule.priority, x.reason]), [[3, "eviction"]]);
    r = ok(t.flowMod(fm("add", "priority=5,idle_timeout=200,ip,actions=drop"), 0));
    assert.deepEqual(r.removed.map((x) => x.rule.priority), [4]);
    r = ok(t.flowMod(fm("add", "priority=6,ip,actions=drop"), 0));
    assert.deepEqual(r.removed.map((x) => x.rule.priority), [5]);
    r = ok(t.flowMod(fm("add", "priority=7,ip,actions=drop"), 0));
    assert.deepEqual(r.removed.map((x) => x.rule.priority), [2]);
    assert.deepEqual(t.flowMod(fm("add", "priority=8,ip,actions=drop"), 0), { ok: false, error: "OFPFMFC_TABLE_FULL" });
  });

  test("evict: the largest eviction group goes first", () => {
    const t = tables();
    ok(t.configureTable(0, { flowLimit: 3, overflowPolicy: "evict", groups: ["NXM_OF_IN_PORT[]", "bogus[]"] }));
    ok(t.flowMod(fm("add", "priority=1,in_port=1,hard_timeout=5,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=2,in_port=2,hard_timeout=50,actions=drop"), 0));
    ok(t.flowMod(fm("add", "priority=3,in_port=2,hard_timeout=60,actions=drop"), 0));
    const r = ok(t.flowMod(fm("add", "priority=4,in_port=1,hard_timeout=1,actions=drop"), 0));
    assert.deepEqual(r.removed.map((x) => x.rule.priority), [2]);
  });

  test("lowering the limit under the evict policy evicts the excess", () => {
    const t = tables();
    for (let p = 1; p <= 4; p++) ok(t.flowMod(fm("add", `priority=${p},hard_timeout=${p},ip,actions=drop`), 0));
    const r = ok(t.configureTable(0, { flowLimit: 2, overflowPolicy: "evict" }));
    assert.deepEqual(r.removed.map((x) => x.rule.priority), [1, 2]);
    assert.equal(t.tableStats()[0]!.activeCount, 2);
  });
});

describe("lookup and statistics", () => {
  test("lookup un-wildcards, counts lookups and matches; prefixes are configurable", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "priority=5,ip,nw_dst=10.0.0.0/8,actions=output:1"), 0));
    const wc = new Uint32Array(FLOW_U32S);
    assert.equal(t.lookup(0, packet("ip,nw_dst=10.1.2.3"), wc)!.actions, "output:1");
    assert.equal(t.lookup(0, packet("ip,nw_dst=192.168.0.1"), null), null);
    assert.match(formatMatch(new Match(packet("ip,nw_dst=10.1.2.3").map((x, i) => x & wc[i]!), wc)), /nw_dst=10.0.0.0\/8/);
    const s = t.tableStats()[0]!;
    assert.deepEqual([s.name, s.lookupCount, s.matchedCount, s.activeCount], ["table0", 2, 1, 1]);
    ok(t.configureTable(0, { name: "acl", prefixes: ["ipv6_src"] }));
    assert.deepEqual(t.tables[0]!.cls.prefixFields, ["ipv6_src"]);
    assert.equal(t.tableStats()[0]!.name, "acl");
    assert.equal(t.configureTable(0, { prefixes: ["eth_src"] }).ok, false);
    ok(t.configureTable(0, { prefixes: ["ip_src", "ip_dst"] }));
    assert.deepEqual(t.tables[0]!.cls.prefixFields, ["nw_src", "nw_dst"]);
    ok(t.configureTable(0, { prefixes: ["none"] }));
    assert.deepEqual(t.tables[0]!.cls.prefixFields, []);
  });

  test("flow and aggregate stats select as delete does", () => {
    const t = tables();
    ok(t.flowMod(fm("add", "cookie=0x1,priority=5,ip,actions=output:1"), 1000));
    ok(t.flowMod(fm("add", "cookie=0x2,priority=6,tcp,idle_timeout=9,actions=output:2"), 1000));
    ok(t.flowMod(fm("add", "table=3,cookie=0x3,arp,actions=output:1"), 1000));
    t.allRules()[0]!.credit(3, 300, 1500);
    t.allRules()[1]!.credit(1, 100, 1600);
    const all = ok(t.flowStats({ tableId: OFPTT_ALL, match: new Match() }, 2000)).stats;
    assert.deepEqual(all.map((s) => [s.tableId, s.priority, Number(s.cookie), s.packetCount, s.durationMs]), [[0, 6, 2, 3, 1000], [0, 5, 1, 1, 1000], [3, 32768, 3, 0, 1000]]);
    assert.equal(all[0]!.idleAgeMs, 500);
    const ip = ok(t.aggregateStats({ tableId: OFPTT_ALL, match: parseFlowMod("delete", "ip").match })).stats;
    assert.deepEqual(ip, { packetCount: 4, byteCount: 400, flowCount: 2 });
    assert.equal(ok(t.aggregateStats({ tableId: OFPTT_ALL, match: new Match(), outPort: 1 })).stats.flowCount, 2);
    assert.equal(ok(t.aggregateStats({ tableId: 0, match: new Match(), cookie: 2n, cookieMask: 3n })).stats.flowCount, 1);
    assert.equal(ok(t.aggregateStats({ tableId: 0, match: parseFlowMod("delete", "ip").match, strict: true, priority: 5 })).stats.flowCount, 1);
    assert.deepEqual(t.flowStats({ tableId: 254 + 5, match: new Match() }, 0), { ok: false, error: "OFPBRC_BAD_TABLE_ID" });
  });
});

describe("deleting every flow (a table's classifier dropped whole)", () => {
  const groupsOf = (a: string): number[] => a.split(",").filter((x) => x.startsWith("group:")).map((x) => Number(x.slice(6)));
  /** Flows in three tables over several masks and prefixes, one with send_flow_rem and one naming group 4, plus a hidden rule (priority above 65535) in table 2. */
  function loaded(): OfprotoTables<string> {
    const t = new OfprotoTables<string>({ ...TEXT_ACTIONS, groupsOf });
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(`priority=${100 + (i % 3)},tcp,nw_src=10.0.${i}.0/24,tp_dst=${80 + i},actions=output:1`);
      lines.push(`table=1,priority=5,ip,nw_dst=192.168.${i}.1,actions=output:2`);
      lines.push(`table=2,priority=${i},udp,in_port=${i},actions=drop`);
    }
    lines.push("table=1,priority=7,send_flow_rem,arp,actions=output:3");
    lines.push("table=2,priority=9,ip,actions=group:4");
    ok(t.bundle(lines.map((l) => fm("add", l)), 0));
    ok(t.flowMod(fm("add", "in_port=99,actions=NORMAL", { priority: 0x10000, tableId: 2 }), 0));
    return t;
  }
  const hidden = (t: OfprotoTables<string>) => t.allRules().filter((r) => r.priority > 0xffff);

  test("del-flows removes every flow, keeps the hidden rule, and reports each flow once", () => {
    const t = loaded();
    const before = t.allRules().filter((r) => r.priority <= 0xffff);
    assert.equal(t.rulesOfGroup(4).size, 1);
    const r = ok(t.flowMod(fm("delete", ""), 5));
    assert.equal(r.removed.length, before.length);
    assert.deepEqual(new Set(r.removed.map((x) => x.rule)), new Set(before));
    for (const x of r.removed) {
      assert.equal(x.reason, "delete");
      assert.equal(x.rule.removed, true);
      assert.equal(x.rule.removedReason, "delete");
    }
    // The flow with send_flow_rem is there to get its FLOW_REMOVED, and named as the one that does.
    assert.deepEqual(r.removed.filter((x) => x.rule.flags.sendFlowRem).map((x) => x.rule.actions), ["output:3"]);
    assert.deepEqual(r.flowRemoved.map((x) => [x.rule.actions, x.reason]), [["output:3", "delete"]]);
    assert.equal(t.rulesOfGroup(4).size, 0, "group 4's rules leave its index (ref_count)");
    assert.deepEqual(hidden(t).map((x) => x.actions), ["NORMAL"]);
    assert.equal(hidden(t)[0]!.removed, false);
    assert.deepEqual(t.tableStats().slice(0, 3).map((s) => s.activeCount), [0, 0, 1]);
    assert.equal(t.tables[1]!.cls.count, 0);
    assert.equal(t.tables[1]!.cls.subtableCount, 0);
    assert.equal(t.tables[2]!.cls.count, 1);
    assert.equal(t.tables[2]!.cls.subtableCount, 1);
    assert.equal(t.lookup(2, packet("udp,in_port=99"), null)?.actions, "NORMAL");
    assert.equal(t.lookup(2, packet("udp,in_port=3"), null), null);
    assert.equal(t.lookup(1, packet("ip,nw_dst=192.168.3.1"), null), null);
    assert.deepEqual(t.addedSince(0, 1000), hidden(t), "the revalidator hears only of the rule still in place");
  });

  test("after it, the same flows go back in and look up as in fresh tables", () => {
    const t = loaded();
    ok(t.flowMod(fm("delete", ""), 5));
    const flows = ["priority=100,tcp,nw_src=10.0.3.0/24,tp_dst=83,actions=output:1", "table=1,priority=5,ip,nw_dst=192.168.3.1,actions=output:2"];
    for (const f of flows) ok(t.flowMod(fm("add", f), 6));
    const fresh = tables();
    for (const f of flows) ok(fresh.flowMod(fm("add", f), 6));
    for (const [table, p] of [[0, "tcp,nw_src=10.0.3.1,tp_dst=83"], [0, "tcp,nw_src=10.0.4.1,tp_dst=83"], [1, "ip,nw_dst=192.168.3.1"], [1, "ip,nw_dst=192.168.4.1"]] as const) {
      const wc1 = new Uint32Array(FLOW_U32S);
      const wc2 = new Uint32Array(FLOW_U32S);
      const got = t.lookup(table, packet(p), wc1);
      const want = fresh.lookup(table, packet(p), wc2);
      assert.equal(got?.actions ?? null, want?.actions ?? null, p);
      assert.deepEqual(wc1, wc2, `wildcards for ${p}`);
    }
  });

  test("inside a bundle: later flow_mods see the tables empty, lookups the old flows, and a failure rolls it back", () => {
    const t = loaded();
    const before = dump(t);
    const pkt = packet("ip,nw_dst=192.168.3.1");
    const tx = t.begin();
    assert.equal(tx.apply(fm("add", "table=1,priority=5,tcp,actions=output:9"), 0), null);
    assert.equal(tx.apply(fm("delete", ""), 0), null);
    assert.equal(tx.apply(fm("add", "table=1,priority=5,ip,nw_dst=192.168.3.1,actions=output:7"), 0), null);
    assert.equal(t.lookup(1, pkt, null)?.actions, "output:2", "lookups see the published flows");
    assert.equal(t.lookup(1, pkt, null, tx.view)?.actions, "output:7", "the transaction sees its own");
    assert.equal(t.lookup(1, packet("tcp,nw_dst=1.1.1.1"), null, tx.view), null, "the delete took the flow added before it");
    tx.abort();
    assert.deepEqual(dump(t), before);
    assert.ok(t.allRules().every((r) => !r.removed && r.removedReason === null), "a rolled-back delete unmarks its rules");
    assert.deepEqual(t.tableStats().slice(0, 3).map((s) => s.activeCount), [40, 41, 42]);
    assert.equal(t.lookup(1, pkt, null)?.actions, "output:2");
    // A bundle failing after its delete leaves everything in place too.
    const r = t.bundle([fm("delete", ""), fm("add", "table=300,arp,actions=drop", { tableId: 300 })], 0);
    assert.deepEqual(r, { ok: false, error: "OFPBRC_BAD_TABLE_ID", index: 1 });
    assert.deepEqual(dump(t), before);
    assert.equal(t.rulesOfGroup(4).size, 1);
    // And a committed one: the flow added before the delete goes with the others, the one added after stays.
    const done = ok(t.bundle([fm("add", "table=1,priority=5,tcp,actions=output:9"), fm("delete", ""), fm("add", "table=1,priority=5,ip,nw_dst=192.168.3.1,actions=output:7")], 0));
    assert.equal(done.removed.length, 123);
    assert.ok(done.removed.every((x) => x.rule.removed && x.reason === "delete"));
    assert.ok(done.removed.some((x) => x.rule.actions === "output:9"));
    assert.deepEqual(dump(t).filter((l) => !l.includes("priority=65536")), ["table=1, reset_counts priority=5,ip,nw_dst=192.168.3.1 actions=output:7"]);
    assert.equal(t.lookup(1, pkt, null)?.actions, "output:7");
    assert.equal(t.tables[1]!.cls.count, 1);
  });

  test("expiry still finds every flow with a timeout after deletes, and those fin_timeout gives one", () => {
    const t = loaded();
    ok(t.flowMod(fm("add", "table=3,priority=1,hard_timeout=10,ip,actions=drop"), 0));
    ok(t.flowMod(fm("add", "table=3,priority=2,idle_timeout=5,ip,actions=drop"), 0));
    assert.equal(t.nextExpiry(), 5000);
    ok(t.flowMod(fm("delete", ""), 1));
    assert.equal(t.nextExpiry(), Infinity);
    ok(t.flowMod(fm("add", "table=3,priority=1,hard_timeout=10,ip,actions=drop"), 2000));
    ok(t.flowMod(fm("add", "table=1,priority=1,arp,actions=drop"), 2000));
    ok(t.flowMod(fm("delete_strict", "table=3,priority=1,ip"), 2000));
    assert.equal(t.nextExpiry(), Infinity);
    ok(t.flowMod(fm("add", "table=3,priority=1,hard_timeout=10,ip,actions=drop"), 3000));
    assert.deepEqual(t.expire(13001).map((g) => [g.rule.tableId, g.reason]), [[3, "hard_timeout"]]);
    // fin_timeout on a permanent flow.
    t.allRules().find((r) => r.tableId === 1)!.reduceTimeouts(5, 0);
    assert.deepEqual(t.expire(20000).map((g) => [g.rule.tableId, g.reason]), [[1, "idle_timeout"]]);
  });

  test("deleting one table, or by a match, is the same as rule by rule", () => {
    const t = loaded();
    const r = ok(t.flowMod(fm("delete", "table=1"), 0));
    assert.equal(r.removed.length, 41);
    assert.deepEqual(t.tableStats().slice(0, 3).map((s) => s.activeCount), [40, 0, 42]);
    const r2 = ok(t.flowMod(fm("delete", "ip"), 0));
    assert.equal(r2.removed.length, 81);
    assert.deepEqual(t.tableStats().slice(0, 3).map((s) => s.activeCount), [0, 0, 1]);
    assert.equal(t.lookup(2, packet("udp,in_port=99"), null)?.actions, "NORMAL");
  });
});
