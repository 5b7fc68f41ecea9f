/**
 * GroupTable semantics without a switch: bucket commands, counters and
 * durations across modifications, limits, fast-failover liveness, and the
 * rules that reference groups (the differential test against OVS is
 * groups-ovs.test.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  GroupTable,
  OFPG_ALL,
  OFPG15_BUCKET_ALL,
  OFPG15_BUCKET_FIRST,
  OFPG15_BUCKET_LAST,
  OFPGC_ADD,
  OFPGC_ADD_OR_MOD,
  OFPGC_DELETE,
  OFPGC_INSERT_BUCKET,
  OFPGC_MODIFY,
  OFPGC_REMOVE_BUCKET,
  OFPGT_ALL,
  OFPGT_FF,
  OFPGT_INDIRECT,
  OFPGT_SELECT,
  WATCH_PORT_NONE,
  type GroupBucket,
  type GroupMod,
} from "../../src/ofproto/groups.js";
import { OFPG_ANY, type GroupHook, type MeterHook } from "../../src/ofproto/index.js";
import { parseGroupMod } from "../../src/openflow/ofp-group-parse.js";
import { apply, newSwitch } from "./group-meter-text.js";

type A = string;

const bucket = (actions: string, over: Partial<GroupBucket<A>> = {}): GroupBucket<A> => ({ weight: 0, watchPort: WATCH_PORT_NONE, watchGroup: OFPG_ANY, actions, ...over });
const mod = (command: number, groupId: number, type: number, buckets: GroupBucket<A>[], over: Partial<GroupMod<A>> = {}): GroupMod<A> => ({ command, groupId, type, buckets, ...over });
const ids = (t: GroupTable<A>, g: number): number[] => t.get(g)!.buckets.map((b) => b.bucketId);

describe("GroupTable", () => {
  test("insert_bucket: first, last, after a bucket id; remove_bucket: first, last, an id, all", () => {
    const t = new GroupTable<A>();
    const b = (id: number) => bucket(`output:${id}`, { bucketId: id });
    assert.ok(t.groupMod(mod(OFPGC_ADD, 1, OFPGT_ALL, [b(1), b(2), b(3)]), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_INSERT_BUCKET, 1, OFPGT_ALL, [b(9), b(10)], { commandBucketId: 2 }), 1).ok);
    assert.deepEqual(ids(t, 1), [1, 2, 9, 10, 3]);
    assert.ok(t.groupMod(mod(OFPGC_INSERT_BUCKET, 1, OFPGT_ALL, [b(8)], { commandBucketId: OFPG15_BUCKET_FIRST }), 2).ok);
    assert.ok(t.groupMod(mod(OFPGC_INSERT_BUCKET, 1, OFPGT_ALL, [b(11)], { commandBucketId: OFPG15_BUCKET_LAST }), 3).ok);
    assert.deepEqual(ids(t, 1), [8, 1, 2, 9, 10, 3, 11]);
    assert.deepEqual(t.groupMod(mod(OFPGC_INSERT_BUCKET, 1, OFPGT_ALL, [b(9)], { commandBucketId: OFPG15_BUCKET_LAST }), 4), { ok: false, error: "OFPGMFC_BUCKET_EXISTS" });
    assert.deepEqual(t.groupMod(mod(OFPGC_INSERT_BUCKET, 1, OFPGT_ALL, [b(12)], { commandBucketId: 99 }), 4), { ok: false, error: "OFPGMFC_UNKNOWN_BUCKET" });
    assert.deepEqual(t.groupMod(mod(OFPGC_INSERT_BUCKET, 1, OFPGT_ALL, [b(12)], { commandBucketId: OFPG15_BUCKET_ALL }), 4), { ok: false, error: "OFPGMFC_BAD_COMMAND" });
    assert.deepEqual(t.groupMod(mod(OFPGC_INSERT_BUCKET, 7, OFPGT_ALL, [b(12)], { commandBucketId: OFPG15_BUCKET_LAST }), 4), { ok: false, error: "OFPGMFC_UNKNOWN_GROUP" });
    assert.deepEqual(t.groupMod(mod(OFPGC_REMOVE_BUCKET, 1, OFPGT_ALL, [], { commandBucketId: 99 }), 5), { ok: false, error: "OFPGMFC_UNKNOWN_BUCKET" });
    assert.deepEqual(t.groupMod(mod(OFPGC_REMOVE_BUCKET, 1, OFPGT_ALL, [b(1)], { commandBucketId: 1 }), 5), { ok: false, error: "OFPGMFC_BAD_BUCKET" });
    for (const c of [9, OFPG15_BUCKET_FIRST, OFPG15_BUCKET_LAST]) assert.ok(t.groupMod(mod(OFPGC_REMOVE_BUCKET, 1, OFPGT_ALL, [], { commandBucketId: c }), 6).ok);
    assert.deepEqual(ids(t, 1), [1, 2, 10, 3]);
    assert.ok(t.groupMod(mod(OFPGC_REMOVE_BUCKET, 1, OFPGT_ALL, []), 7).ok);
    assert.deepEqual(ids(t, 1), []);
    // First and last of an empty group: nothing to do, no error.
    assert.ok(t.groupMod(mod(OFPGC_REMOVE_BUCKET, 1, OFPGT_ALL, [], { commandBucketId: OFPG15_BUCKET_FIRST }), 8).ok);
  });

  test("bucket commands keep the group's type and properties; ids by position without OF1.5 ids", () => {
    const t = new GroupTable<A>();
    const props = { selectionMethod: "hash", selectionMethodParam: 0n, fields: [{ name: "ip_src", mask: new Uint8Array([255, 255, 0, 0]) }] };
    assert.ok(t.groupMod(mod(OFPGC_ADD, 5, OFPGT_SELECT, [bucket("output:1", { weight: 1 }), bucket("output:2", { weight: 3 })], { props }), 0).ok);
    assert.deepEqual(ids(t, 5), [0, 1]);
    assert.ok(t.groupMod(mod(OFPGC_INSERT_BUCKET, 5, OFPGT_ALL, [bucket("output:3", { bucketId: 7 })], { commandBucketId: OFPG15_BUCKET_LAST }), 1).ok);
    const [d] = t.descReply(5);
    assert.equal(d!.type, OFPGT_SELECT);
    assert.deepEqual(d!.props, props);
    assert.deepEqual(d!.buckets.map((b) => [b.bucketId, b.weight]), [[0, 1], [1, 3], [7, 0]]);
  });

  test("modify replaces buckets and type, keeps creation time, restarts counters; add-or-modify adds or modifies", () => {
    const t = new GroupTable<A>();
    assert.ok(t.groupMod(mod(OFPGC_ADD, 1, OFPGT_ALL, [bucket("output:1"), bucket("output:2")]), 1000).ok);
    t.credit(1, 1, 3, 300);
    let [s] = t.statsReply(1, 3500);
    assert.deepEqual([s!.packetCount, s!.byteCount, s!.buckets[1]!.packetCount, s!.durationSec, s!.durationNsec], [3n, 300n, 3n, 2, 500_000_000]);
    assert.ok(t.groupMod(mod(OFPGC_MODIFY, 1, OFPGT_SELECT, [bucket("output:3", { weight: 2 })]), 4000).ok);
    [s] = t.statsReply(1, 5000);
    assert.deepEqual([s!.packetCount, s!.buckets.length, s!.durationSec], [0n, 1, 4]);
    assert.deepEqual(t.groupMod(mod(OFPGC_MODIFY, 2, OFPGT_ALL, []), 0), { ok: false, error: "OFPGMFC_UNKNOWN_GROUP" });
    assert.ok(t.groupMod(mod(OFPGC_ADD_OR_MOD, 2, OFPGT_ALL, []), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_ADD_OR_MOD, 2, OFPGT_INDIRECT, [bucket("output:1")]), 0).ok);
    assert.equal(t.get(2)!.type, OFPGT_INDIRECT);
    assert.deepEqual(t.groupMod(mod(OFPGC_ADD, 2, OFPGT_ALL, []), 0), { ok: false, error: "OFPGMFC_GROUP_EXISTS" });
    assert.deepEqual(t.statsReply(99, 0), []);
  });

  test("decode-time checks, in OVS's order", () => {
    const t = new GroupTable<A>();
    const cases: [GroupMod<A>, string][] = [
      [mod(OFPGC_ADD, 1, 4, []), "OFPGMFC_BAD_TYPE"],
      [mod(OFPGC_ADD, 1, OFPGT_INDIRECT, []), "OFPGMFC_INVALID_GROUP"],
      [mod(OFPGC_ADD, 1, OFPGT_ALL, [bucket("x", { weight: 2 })]), "OFPGMFC_INVALID_GROUP"],
      [mod(OFPGC_ADD, 1, OFPGT_ALL, [bucket("x", { watchPort: 1 })]), "OFPGMFC_WATCH_UNSUPPORTED"],
      [mod(OFPGC_ADD, 1, OFPGT_FF, [bucket("x")]), "OFPGMFC_INVALID_GROUP"],
      [mod(OFPGC_ADD, 1, OFPGT_ALL, [bucket("x", { bucketId: 1 }), bucket("y", { bucketId: 1 })]), "OFPGMFC_BAD_BUCKET"],
      [mod(OFPGC_ADD, 1, OFPGT_ALL, [bucket("x", { bucketId: 0xffffff01 })]), "OFPGMFC_BAD_BUCKET"],
      [mod(OFPGC_ADD, 1, OFPGT_ALL, [], { commandBucketId: OFPG15_BUCKET_LAST }), "OFPGMFC_BAD_COMMAND"],
      [mod(4, 1, OFPGT_ALL, []), "OFPGMFC_BAD_COMMAND"],
      [mod(OFPGC_ADD, 1, OFPGT_ALL, [], { props: { selectionMethod: "hash", selectionMethodParam: 0n, fields: [] } }), "OFPBPC_BAD_VALUE"],
      [mod(OFPGC_ADD, 1, OFPGT_SELECT, [], { props: { selectionMethod: "foo", selectionMethodParam: 0n, fields: [] } }), "OFPBPC_BAD_VALUE"],
      [mod(OFPGC_ADD, OFPG_ALL, OFPGT_ALL, []), "OFPGMFC_INVALID_GROUP"],
    ];
    for (const [i, [gm, error]] of cases.entries()) assert.deepEqual(t.groupMod(gm, 0), { ok: false, error }, `case ${i}`);
    assert.equal(t.size, 0);
    // Deleting what is not there is no error.
    assert.ok(t.groupMod(mod(OFPGC_DELETE, 77, OFPGT_ALL, []), 0).ok);
  });

  test("per-type limits: OFPGMFC_OUT_OF_GROUPS on add and on a modify into a full type", () => {
    const t = new GroupTable<A>(null, { maxGroups: [2, 1, 5, 5] });
    assert.ok(t.groupMod(mod(OFPGC_ADD, 1, OFPGT_ALL, []), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_ADD, 2, OFPGT_ALL, []), 0).ok);
    assert.deepEqual(t.groupMod(mod(OFPGC_ADD, 3, OFPGT_ALL, []), 0), { ok: false, error: "OFPGMFC_OUT_OF_GROUPS" });
    assert.ok(t.groupMod(mod(OFPGC_ADD, 3, OFPGT_SELECT, []), 0).ok);
    assert.deepEqual(t.groupMod(mod(OFPGC_MODIFY, 1, OFPGT_SELECT, []), 0), { ok: false, error: "OFPGMFC_OUT_OF_GROUPS" });
    assert.ok(t.groupMod(mod(OFPGC_MODIFY, 3, OFPGT_SELECT, [bucket("y", { weight: 1 })]), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_DELETE, 1, OFPGT_ALL, []), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_MODIFY, 3, OFPGT_ALL, []), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_ADD, 4, OFPGT_SELECT, []), 0).ok);
    assert.deepEqual(t.featuresReply().maxGroups, [2, 1, 5, 5]);
  });

  test("fast failover: first live bucket by watch_port and watch_group; chains and loops; select weights", () => {
    const t = new GroupTable<A>();
    const up = new Set([2]);
    const live = (p: number): boolean => up.has(p);
    assert.ok(t.groupMod(mod(OFPGC_ADD, 1, OFPGT_FF, [bucket("a", { watchPort: 1 }), bucket("b", { watchGroup: 2 }), bucket("c", { watchPort: 2 })]), 0).ok);
    assert.ok(t.groupMod(mod(OFPGC_ADD, 2, OFPGT_FF, [bucket("d", { watchPort: 3 })]), 0).ok);
    assert.equal(t.firstLiveBucket(1, live)?.actions, "c");
    up.add(3);
    assert.equal(t.firstLiveBucket(1, live)?.actions, "b");
    up.add(1);
    assert.equal(t.firstLiveBucket(1, live)?.actions, "a");
    up.clear();
    assert.equal(t.firstLiveBucket(1, live), null);
    // A group watching itself is never live (the chain is cut at 32 links); the controller port never is.
    assert.ok(t.groupMod(mod(OFPGC_ADD, 3, OFPGT_FF, [bucket("e", { watchGroup: 3 }), bucket("f", { watchPort: 0xfffd })]), 0).ok);
    assert.equal(t.firstLiveBucket(3, () => true)?.actions ?? null, null);
    // Select: weight-0 buckets are never chosen; buckets watch too.
    assert.ok(t.groupMod(mod(OFPGC_ADD, 4, OFPGT_SELECT, [bucket("g", { weight: 0 }), bucket("h", { weight: 2 }), bucket("i", { weight: 1, watchPort: 5 })]), 0).ok);
    assert.deepEqual(t.liveBuckets(4, () => false).map((b) => b.actions), ["h"]);
    assert.deepEqual(t.liveBuckets(4, (p) => p === 5).map((b) => b.actions), ["h", "i"]);
  });

  test("the hooks plug into Ofproto's GroupHook / MeterHook", () => {
    const sw = newSwitch();
    const removed: unknown[] = [];
    const g: GroupHook = sw.groups.hook(() => 5000, (r) => removed.push(...r));
    const m: MeterHook = sw.meters.hook(() => 5000, (r) => removed.push(...r));
    assert.equal(g.groupMod({ command: 0, type: 0, groupId: 3, buckets: [] }, 4, null as never), null);
    assert.equal(g.groupMod({ command: 0, type: 0, groupId: 3, buckets: [] }, 4, null as never), "OFPGMFC_GROUP_EXISTS");
    assert.ok(g.exists(3) && !g.exists(4));
    assert.deepEqual(g.groupStats?.("OFPST_GROUP_DESC_REQUEST", { groupId: OFPG_ALL }, 4), { groups: [{ groupId: 3, type: 0, buckets: [], props: { selectionMethod: "", selectionMethodParam: 0n, fields: [] } }] });
    assert.equal(m.meterMod({ command: 0, meter: { meterId: 1, flags: 1, bands: [{ type: 1, rate: 5, burstSize: 0, precLevel: 0 }] } }, 4, null as never), null);
    assert.equal(m.meterStats?.("OFPST_METER_REQUEST", { meterId: 2 }, 4), "OFPMMFC_UNKNOWN_METER");
    assert.deepEqual(m.meterStats?.("OFPST_METER_CONFIG_REQUEST", { meterId: 1 }, 4), { meters: [{ meterId: 1, flags: 1, bands: [{ type: 1, rate: 5, burstSize: 5, precLevel: 0 }] }] });
    assert.ok(apply(sw, "OpenFlow13", "add-flow", "actions=meter:1,group:3", 0).ok);
    assert.equal(g.groupMod({ command: 2, type: 0, groupId: OFPG_ALL, buckets: [] }, 4, null as never), null);
    assert.equal(removed.length, 1);
  });

  test("bundles: changes are seen at once, abort restores, commit deletes the deleted groups' rules", () => {
    const sw = newSwitch();
    assert.ok(apply(sw, "OpenFlow13", "add-group", "group_id=1,type=all,bucket=output:1", 0).ok);
    assert.ok(apply(sw, "OpenFlow13", "add-flow", "priority=1,actions=group:1", 0).ok);
    const gm = (text: string, command = 0) => {
      const r = parseGroupMod(text, command);
      if ("error" in r) throw new Error(r.error);
      return r;
    };
    let tx = sw.groups.begin();
    assert.equal(tx.apply(gm("group_id=2,type=all,bucket=output:2"), 1), null);
    assert.equal(tx.apply(gm("group_id=1", 2), 1), null);
    assert.ok(sw.groups.has(2) && !sw.groups.has(1));
    assert.equal(tx.apply(gm("group_id=2,type=all"), 1), "OFPGMFC_GROUP_EXISTS");
    tx.abort();
    assert.deepEqual(sw.groups.all().map((g) => g.groupId), [1]);
    assert.equal(sw.tables.allRules().length, 1);
    tx = sw.groups.begin();
    assert.equal(tx.apply(gm("group_id=1", 2), 1), null);
    assert.equal(tx.apply(gm("group_id=3,type=all"), 1), null);
    assert.deepEqual(tx.commit().map((r) => [r.rule.priority, r.reason]), [[1, "group_delete"]]);
    assert.deepEqual(sw.groups.all().map((g) => g.groupId), [3]);
    assert.throws(() => tx.commit());
  });

  test("rules: a missing group is OFPBAC_BAD_OUT_GROUP; ref_count; deleting groups deletes their rules (group_delete)", () => {
    const sw = newSwitch();
    const now = 1000;
    assert.deepEqual(apply(sw, "OpenFlow13", "add-flow", "actions=group:1", now), { ok: false, error: "OFPBAC_BAD_OUT_GROUP", parse: false });
    assert.ok(apply(sw, "OpenFlow13", "add-group", "group_id=1,type=all,bucket=output:1", now).ok);
    assert.ok(apply(sw, "OpenFlow13", "add-group", "group_id=2,type=indirect,bucket=group:1", now).ok);
    for (const f of ["priority=1,actions=group:1", "priority=2,actions=write_actions(group:1)", "priority=3,actions=clone(group:2),group:1", "table=3,priority=4,actions=output:1"]) {
      assert.ok(apply(sw, "OpenFlow13", "add-flow", f, now).ok, f);
    }
    // Replacing a rule with one naming a missing group fails, leaving the old rule.
    assert.deepEqual(apply(sw, "OpenFlow13", "add-flow", "table=3,priority=4,actions=group:9", now), { ok: false, error: "OFPBAC_BAD_OUT_GROUP", parse: false });
    const refs = sw.groups.statsReply(OFPG_ALL, now).map((s) => [s.groupId, s.refCount]);
    assert.deepEqual(refs, [[1, 3], [2, 1]]);
    const r = apply(sw, "OpenFlow13", "del-groups", "group_id=1", now);
    assert.ok(r.ok);
    assert.deepEqual(r.removed.map((x) => [x.rule.priority, x.reason]).sort(), [[1, "group_delete"], [2, "group_delete"], [3, "group_delete"]]);
    assert.deepEqual(sw.tables.allRules().map((x) => x.priority), [4]);
    // Group 2 still chains to the deleted group 1: OVS keeps it.
    assert.deepEqual(sw.groups.all().map((g) => g.groupId), [2]);
    const all = apply(sw, "OpenFlow13", "del-groups", "", now);
    assert.ok(all.ok && all.removed.length === 0 && sw.groups.size === 0);
  });
});
