/**
 * Differential test of translation: the same flow tables and flows traced
 * by a real ovs-vswitchd 3.1 (`ovs-appctl ofproto/trace`) and by tsovs's
 * translation (trace.ts); the whole report must be byte-identical (the
 * recirculation ids normalized), except where OVS's output depends on its
 * hash-map history (flood order), where the set of outputs must match.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAll, XLATE_CASES } from "../util/xlate.js";

test("ofproto/trace matches ovs-vswitchd 3.1 for every case", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-ofctl", "ovs-appctl", "ovs-vsctl"), timeout: 60_000 }, async () => {
  const dir = tempDir("xlate-ovs-");
  try {
    const res = await runAll(dir);
    assert.ok(res.length >= XLATE_CASES.length, "every case ran");
    const bad = res.filter((r) => !r.fullEqual);
    const msg = bad.slice(0, 5).map((r) => `=== ${r.caseName}: ${r.trace}\n--- ovs\n${r.ovs}\n--- tsovs\n${r.ours}`).join("\n");
    const actions = res.filter((r) => r.actionsEqual).length;
    const megaflows = res.filter((r) => r.megaflowEqual).length;
    // The bar is 99% / 90%; every case here is expected to match exactly.
    assert.ok(actions / res.length >= 0.99, `Datapath actions equal in ${actions}/${res.length}\n${msg}`);
    assert.ok(megaflows / res.length >= 0.95, `Megaflow equal in ${megaflows}/${res.length}\n${msg}`);
    assert.equal(bad.length, 0, `${bad.length} traces differ\n${msg}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
