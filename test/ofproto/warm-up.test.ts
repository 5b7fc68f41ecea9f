/**
 * The start-up warm-up (src/ofproto/warm-up.ts) is invisible: a switch
 * that ran it has only its own flows, logs nothing of it, and leaves no
 * scratch directory behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tsovs } from "../util/ovs.js";
import { startTsovsBridge } from "../util/ofproto.js";

function scratchDirs(): string[] {
  const out: string[] = [];
  for (const base of ["/dev/shm", os.tmpdir()]) {
    if (!fs.existsSync(base)) continue;
    for (const n of fs.readdirSync(base)) if (n.startsWith("tsovs-ofwarm-")) out.push(path.join(base, n));
  }
  return out;
}

test("a switch that warmed up at start has only its own flows and leaves no scratch files", { timeout: 60_000 }, async () => {
  const before = new Set(scratchDirs());
  const saved = process.env["TSOVS_OFPROTO_WARMUP"];
  process.env["TSOVS_OFPROTO_WARMUP"] = "1";
  let ts;
  try {
    ts = await startTsovsBridge(["br0", "--log-file"]);
  } finally {
    if (saved === undefined) delete process.env["TSOVS_OFPROTO_WARMUP"];
    else process.env["TSOVS_OFPROTO_WARMUP"] = saved;
  }
  try {
    const r = tsovs(["ofctl", "dump-flows", "br0"], ts.dir);
    assert.equal(r.status, 0, r.stderr);
    const flows = r.stdout.split("\n").filter((l) => l.startsWith(" cookie="));
    // The standalone bridge's fail-open flow, and nothing of the warm-up's thousands.
    assert.equal(flows.length, 1, r.stdout);
    assert.match(flows[0]!, /priority=0 actions=NORMAL/);
    const logText = fs.readFileSync(path.join(ts.dir, "ofproto-test.log"), "utf8");
    assert.doesNotMatch(logText, /warm-up/i);
    assert.deepEqual(scratchDirs().filter((d) => !before.has(d)), []);
  } finally {
    await ts.stop();
  }
});
