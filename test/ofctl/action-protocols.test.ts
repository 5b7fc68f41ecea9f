/**
 * Usable protocols with actions, against real ovs-ofctl 3.1: every flow of
 * the generated corpus (matches × action lists, test/ofctl/action-corpus.ts)
 * through `parse-flow` must print the same "usable protocols:" and
 * "chosen protocol:" lines, the same flow_mod and the same error; then the
 * flows that parse are grouped by their usable protocols and each group
 * goes through `parse-flows` once per OpenFlow version that can carry it,
 * so every action list is also compared as encoded in OpenFlow 1.0 to 1.5.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { ofctl } from "../../src/cli/ofctl.js";
import { actionCorpus } from "./action-corpus.js";
import { BAD_ACTION_TEXT } from "../openflow/ofp-actions-corpus.js";

const skip = ovsSkip("ovs-ofctl");

/**
 * One flow in SAMPLE by default (each a separate ovs-ofctl run, so the
 * file stays well under a minute); TSOVS_OFCTL_FULL=1 runs every flow.
 */
const SAMPLE = process.env.TSOVS_OFCTL_FULL === "1" ? 1 : 3;
const sampled = <T>(list: readonly T[]): T[] => list.filter((_, i) => i % SAMPLE === 0);

interface Out {
  stdout: string;
  /** The "ovs-ofctl: ..." lines of stderr (log lines carry timestamps). */
  error: string;
  status: number | null;
}

function errorLines(stderr: string): string {
  return stderr.split("\n").filter((l) => l.startsWith("ovs-ofctl:")).join("\n");
}

async function realAll(cases: string[][], parallel = 4): Promise<Out[]> {
  const out: Out[] = new Array(cases.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < cases.length) {
      const i = next++;
      out[i] = await new Promise<Out>((resolve) => {
        const p = spawn("ovs-ofctl", cases[i]!, { stdio: ["ignore", "pipe", "pipe"] });
        let so = "";
        let se = "";
        p.stdout.setEncoding("latin1");
        p.stderr.setEncoding("latin1");
        p.stdout.on("data", (d: string) => (so += d));
        p.stderr.on("data", (d: string) => (se += d));
        const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
        p.on("close", (status) => {
          clearTimeout(timer);
          resolve({ stdout: so, error: errorLines(se), status });
        });
      });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

function mine(args: string[]): Out {
  const r = ofctl(args);
  return { stdout: r.stdout, error: errorLines(r.stderr), status: r.status };
}

function firstDifference(a: Out, b: Out): string {
  const al = (a.stdout + a.error).split("\n");
  const bl = (b.stdout + b.error).split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `ovs-ofctl: ${al[i]}\ntsovs:     ${bl[i]}`;
  }
  return `status ${a.status} vs ${b.status}`;
}

const VERSIONS = ["OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"];
/** Protocol names in "usable protocols:" that each version can use. */
const VERSION_PROTOCOLS: Readonly<Record<string, readonly string[]>> = {
  OpenFlow10: ["any", "OpenFlow10", "NXM", "OpenFlow10-table_id", "OpenFlow10+table_id", "NXM-table_id", "NXM+table_id"],
  OpenFlow11: ["any", "OpenFlow11"],
  OpenFlow12: ["any", "OXM", "OXM-OpenFlow12"],
  OpenFlow13: ["any", "OXM", "OXM-OpenFlow13"],
  OpenFlow14: ["any", "OXM", "OXM-OpenFlow14"],
  OpenFlow15: ["any", "OXM", "OXM-OpenFlow15"],
};

test("parse-flow: usable protocols, chosen protocol and errors for flows × actions match ovs-ofctl", { skip, timeout: 120_000 }, async () => {
  const flows = sampled(actionCorpus());
  const theirs = await realAll(flows.map((f) => ["parse-flow", f]));
  const failures: string[] = [];
  let accepted = 0;
  flows.forEach((f, i) => {
    const m = mine(["parse-flow", f]);
    if (theirs[i]!.status === 0) accepted++;
    if (JSON.stringify(m) !== JSON.stringify(theirs[i])) failures.push(`${f}\n${firstDifference(theirs[i]!, m)}`);
  });
  assert.deepEqual(failures, [], `${failures.length} of ${flows.length} differ:\n${failures.slice(0, 8).join("\n")}`);
  // The corpus must exercise both outcomes.
  assert.ok(accepted > flows.length / 2 && accepted < flows.length, `${accepted} of ${flows.length} accepted`);

  // Group the accepted flows by usable protocols; encode each group in every version that can carry it.
  const groups = new Map<string, string[]>();
  flows.forEach((f, i) => {
    const usable = /^usable protocols: (.*)$/m.exec(theirs[i]!.stdout)?.[1];
    if (theirs[i]!.status !== 0 || !usable) return;
    groups.set(usable, [...(groups.get(usable) ?? []), f]);
  });
  const dir = tempDir("tsovs-action-protocols-");
  try {
    const cases: string[][] = [];
    let n = 0;
    for (const [usable, group] of groups) {
      const file = path.join(dir, `flows${n++}.txt`);
      fs.writeFileSync(file, group.join("\n") + "\n");
      const names = usable.split(",");
      for (const v of VERSIONS) {
        if (names.some((p) => VERSION_PROTOCOLS[v]!.includes(p))) cases.push(["-O", v, "parse-flows", file]);
      }
    }
    const encoded = await realAll(cases);
    const diffs: string[] = [];
    cases.forEach((args, i) => {
      assert.equal(encoded[i]!.status, 0, `${args.join(" ")}: ${encoded[i]!.error}`);
      const m = mine(args);
      if (JSON.stringify(m) !== JSON.stringify(encoded[i])) diffs.push(`${args.join(" ")}\n${firstDifference(encoded[i]!, m)}`);
    });
    assert.deepEqual(diffs, [], `${diffs.length} of ${cases.length} parse-flows runs differ:\n${diffs.slice(0, 5).join("\n")}`);
    assert.ok(cases.length >= 8, `only ${cases.length} parse-flows runs`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("parse-flow: with several bad actions, the error reported first is OVS's", { skip, timeout: 60_000 }, async () => {
  // Text errors (each list is verified when parsed, nested ones first),
  // then ofpacts_check in action order, then the usable-protocol check.
  const inconsistent = ["set_field:1.2.3.4->ip_src", "meter:0", "goto_table:0", "mod_nw_src:1.2.3.4", "ct(commit)", "output:NXM_OF_TCP_SRC[]",
    "push_vlan:0x8100,push_vlan:0x8100,push_vlan:0x8100", "set_field:4101->vlan_vid", "meter:1", "nat(src=1.2.3.4)", "clone(set_field:1->ct_mark)"];
  const flows: string[] = [];
  for (const a of BAD_ACTION_TEXT) for (const b of BAD_ACTION_TEXT.slice(0, 12)) flows.push(`actions=${a},${b}`);
  for (const a of inconsistent) for (const b of inconsistent) flows.push(`table=0,actions=${a},${b}`);
  for (const a of inconsistent) for (const b of BAD_ACTION_TEXT.slice(0, 20)) flows.push(`actions=${a},${b}`);
  const theirs = await realAll(sampled(flows).map((f) => ["parse-flow", f]));
  flows.splice(0, flows.length, ...sampled(flows));
  const failures: string[] = [];
  flows.forEach((f, i) => {
    const m = mine(["parse-flow", f]);
    if (JSON.stringify(m) !== JSON.stringify(theirs[i])) failures.push(`${f}\n${firstDifference(theirs[i]!, m)}`);
  });
  assert.deepEqual(failures, [], `${failures.length} of ${flows.length} differ:\n${failures.slice(0, 8).join("\n")}`);
  assert.ok(theirs.filter((o) => o.status !== 0).length > flows.length / 2);
});
