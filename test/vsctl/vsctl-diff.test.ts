/**
 * Differential test of `tsovs vsctl` against the real ovs-vsctl 3.1: the
 * same script of commands (SCRIPT) runs against two fresh real
 * ovsdb-servers, one driven by each tool; every step's stdout, stderr and
 * exit status must match (uuids and timestamps normalized), and so must the
 * final database contents.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, startRealOvsdb, startTsovsOvsdb, tempDir } from "../util/ovs.js";
import {
  dumpDb,
  dumpText,
  normalize,
  orderInsensitive,
  realVsctl,
  tsovsVsctl,
  tsovsVsctlInProcess,
  uuidLabels,
} from "../util/vsctl.js";
import { SCRIPT } from "./script.js";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-/;
const ORDER_BY_UUID = new Set(["show", "list", "find"]);

test("tsovs vsctl matches ovs-vsctl command by command", { skip: ovsSkip(), timeout: 120_000 }, async () => {
  const a = await startRealOvsdb(tempDir("vsctl-real-"));
  // VSCTL_DIFF_TSOVS_SERVER=1 drives `tsovs ovsdb-server` instead of a second real server.
  const b = process.env["VSCTL_DIFF_TSOVS_SERVER"]
    ? await startTsovsOvsdb(tempDir("vsctl-ts-"))
    : await startRealOvsdb(tempDir("vsctl-ts-"));
  const mismatches: string[] = [];
  try {
    for (const [step, args] of SCRIPT.entries()) {
      const r = realVsctl(a.remote, a.dir, args);
      // A few steps run the real `tsovs vsctl` binary (and --timeout must: it
      // ends the process with SIGALRM); the rest run in-process for speed.
      const spawned = step < 3 || args.some((x) => x.startsWith("--timeout") || x === "--help");
      const t = spawned ? tsovsVsctl(b.remote, b.dir, args) : await tsovsVsctlInProcess(b.remote, args);
      const hasUuid = (x: { stdout: string; stderr: string }): boolean => UUID.test(x.stdout + x.stderr);
      const la = hasUuid(r) || hasUuid(t) ? uuidLabels(dumpDb(a.remote, a.dir)) : new Map<string, string>();
      const lb = hasUuid(r) || hasUuid(t) ? uuidLabels(dumpDb(b.remote, b.dir)) : new Map<string, string>();
      const unordered = args.some((x) => ORDER_BY_UUID.has(x));
      const fix = (s: string, l: Map<string, string>): string => {
        const n = normalize(s.split(a.dir).join("<dir>").split(b.dir).join("<dir>"), l);
        return unordered ? orderInsensitive(n) : n;
      };
      const want = { status: r.status, signal: r.signal, stdout: fix(r.stdout, la), stderr: fix(r.stderr, la) };
      const got = { status: t.status, signal: t.signal, stdout: fix(t.stdout, lb), stderr: fix(t.stderr, lb) };
      try {
        assert.deepEqual(got, want);
      } catch {
        mismatches.push(`ovs-vsctl ${args.join(" ")}\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`);
      }
    }
    const da = dumpText(dumpDb(a.remote, a.dir));
    const db = dumpText(dumpDb(b.remote, b.dir));
    if (da !== db) mismatches.push(`final database differs:\n--- real\n${da}\n--- tsovs\n${db}`);
  } finally {
    await a.stop();
    await b.stop();
    fs.rmSync(a.dir, { recursive: true, force: true });
    fs.rmSync(b.dir, { recursive: true, force: true });
  }
  if (process.env["VSCTL_DIFF_REPORT"]) fs.writeFileSync(process.env["VSCTL_DIFF_REPORT"], mismatches.join("\n\n") + "\n");
  assert.equal(mismatches.length, 0, `${mismatches.length} of ${SCRIPT.length} steps differ:\n${mismatches.join("\n\n")}`);
});
