/**
 * `tsovs ofctl` against real `ovs-ofctl` 3.1: every corpus flow through
 * parse-flow under each -O/-F setting (usable protocols, chosen protocol,
 * the encoded flow_mod as ofp-print shows it, errors and exit status),
 * parse-flows files, parse-nxm / parse-oxm, encode-hello and ofp-print.
 * tsovs runs in-process (`ofctl()`) for the corpus, and once through
 * bin/tsovs.js to check the command-line glue.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir, tsovs } from "../util/ovs.js";
import { ofctl } from "../../src/cli/ofctl.js";
import { FLOW_CORPUS, VERSION_OPTIONS } from "./flow-corpus.js";

const skip = ovsSkip("ovs-ofctl");

interface Out {
  stdout: string;
  /** The "ovs-ofctl: ..." lines of stderr (log lines carry timestamps). */
  error: string;
  status: number | null;
}

/** Runs ovs-ofctl for each argument list, a few at a time. */
async function realAll(cases: { args: string[]; input?: string }[], parallel = 4): Promise<Out[]> {
  const out: Out[] = new Array(cases.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      out[i] = await new Promise<Out>((resolve) => {
        const p = spawn("ovs-ofctl", c.args, { stdio: ["pipe", "pipe", "pipe"] });
        let so = "";
        let se = "";
        p.stdout.setEncoding("latin1");
        p.stderr.setEncoding("latin1");
        p.stdout.on("data", (d: string) => (so += d));
        p.stderr.on("data", (d: string) => (se += d));
        const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
        p.on("close", (status) => {
          clearTimeout(timer);
          resolve({ stdout: so, error: errorLines(se), status });
        });
        // ovs-ofctl may exit without reading its input.
        p.stdin.on("error", () => {});
        p.stdin.end(c.input ?? "");
      });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

function errorLines(stderr: string): string {
  return stderr.split("\n").filter((l) => l.startsWith("ovs-ofctl:")).join("\n");
}

function mine(args: string[], input?: string): Out {
  const r = ofctl(args, input);
  return { stdout: r.stdout, error: errorLines(r.stderr), status: r.status };
}

async function compareAll(cases: { args: string[]; input?: string }[]): Promise<void> {
  const theirs = await realAll(cases);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const m = mine(c.args, c.input);
    if (JSON.stringify(m) !== JSON.stringify(theirs[i])) {
      failures.push(`${JSON.stringify(c.args)}\n--- ovs-ofctl\n${JSON.stringify(theirs[i])}\n--- tsovs\n${JSON.stringify(m)}`);
    }
  });
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} differ:\n${failures.slice(0, 5).join("\n")}`);
}

test("parse-flow: the flow corpus under every -O/-F setting matches ovs-ofctl", { skip, timeout: 120_000 }, async () => {
  const cases = FLOW_CORPUS.flatMap((f) => VERSION_OPTIONS.map((o) => ({ args: [...o, "parse-flow", f] })));
  // -m raises ofp-print's verbosity; bundled as getopt allows.
  cases.push({ args: ["-mmm", "parse-flow", "tcp,actions=drop"] }, { args: ["-m", "-m", "-m", "parse-flow", "in_port=1,ip,actions=drop"] });
  await compareAll(cases);
});

test("parse-flows: files with comments, blank lines, table ids and errors", { skip, timeout: 60_000 }, async () => {
  const dir = tempDir("ofctl-flows-");
  try {
    const files: Record<string, string> = {
      ok: "# a comment\n\nip actions=drop\ntable=2 tcp,tp_dst=80 actions=output:1 # trailing\n  priority=5,arp actions=NORMAL\n",
      oxm: "reg0=1 actions=drop\nipv6,tp_dst=22 actions=output:2\n",
      bad: "ip actions=drop\nip out_port=3 actions=drop\n",
      noproto: "vlan_tci=0x1000/0x1000 actions=drop\nin_port=1 actions=drop\n",
    };
    const cases: { args: string[]; input?: string }[] = [];
    for (const [name, text] of Object.entries(files)) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      for (const o of [[], ["-O", "OpenFlow13"], ["-F", "openflow10"], ["-O", "OpenFlow11"]]) cases.push({ args: [...o, "parse-flows", f] });
    }
    cases.push({ args: ["parse-flows", "-"], input: files["ok"]! });
    cases.push({ args: ["parse-flows", path.join(dir, "missing")] });
    await compareAll(cases);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("parse-nxm and parse-oxm echo matches as ovs-ofctl does", { skip, timeout: 60_000 }, async () => {
  const nxm = [
    "NXM_OF_IN_PORT(0001), NXM_OF_ETH_TYPE(0800)",
    "NXM_OF_ETH_TYPE(0800) NXM_OF_IP_SRC(01020304)",
    "NXM_OF_IP_SRC(01020304)",
    "",
    "# comment",
    "NXM_NX_COOKIE(0000000000000005)",
    "NXM_NX_COOKIE_W(0000000000000005/00000000000000ff)",
    "NXM_OF_IN_PORT(0001) NXM_NX_REG0_W(00000001/000000ff) # trailing",
    "<any>",
  ].join("\n") + "\n";
  const oxm = [
    "OXM_OF_IN_PORT(00000001), OXM_OF_ETH_TYPE(0800)",
    "OXM_OF_ETH_TYPE(0800) OXM_OF_IPV4_SRC(01020304)",
    "OXM_OF_IPV4_SRC(01020304)",
    "OXM_OF_ETH_TYPE(86dd), OXM_OF_IPV6_SRC_W(20010db8000000000000000000000000/ffffffff000000000000000000000000)",
  ].join("\n") + "\n";
  const cases = [
    { args: ["parse-nxm"], input: nxm },
    { args: ["-m", "parse-nxm"], input: nxm },
    { args: ["--strict", "parse-nxm"], input: nxm },
    ...["OpenFlow12", "OpenFlow13", "OpenFlow15"].flatMap((v) => [
      { args: ["parse-oxm", v], input: oxm },
      { args: ["-m", "--strict", "parse-oxm", v], input: oxm },
    ]),
    { args: ["parse-oxm", "OpenFlow10"], input: oxm },
  ];
  await compareAll(cases);
});

test("encode-hello and ofp-print", { skip, timeout: 60_000 }, async () => {
  const cases: { args: string[]; input?: string }[] = [
    ...["0x2", "0x12", "0x1e", "0x7e", "0x40"].map((b) => ({ args: ["encode-hello", b] })),
    { args: ["ofp-print", "0104000800000007"] },
    { args: ["ofp-print", "01 04 00 08 00 00 00 07"] },
    { args: ["ofp-print", "0104000800000007", "3"] },
    { args: ["ofp-print", "01040008000000"] },
    { args: ["ofp-print", "zz"] },
    { args: ["ofp-print", "-"], input: "0100000800000001\n0402000c000000056869210a\n" },
    { args: ["ofp-print", "-", "1"], input: "0402000c000000056869210a" },
    { args: ["ofp-print", "0402000c000000056869210a"] },
    { args: ["ofp-print", "-"], input: "" },
    { args: ["nosuchcommand"] },
    { args: ["-O", "OpenFlow99", "parse-flow", "actions=drop"] },
    { args: ["-F", "foo", "parse-flow", "actions=drop"] },
    { args: ["-F", "nxm", "-O", "OpenFlow13", "parse-flow", "actions=drop"] },
  ];
  await compareAll(cases);
});

test("tsovs ofctl on the command line: bytes, stderr and exit status", { skip, timeout: 30_000 }, () => {
  const good = tsovs(["ofctl", "-O", "OpenFlow13", "parse-flow", "tcp,tp_dst=80,actions=output:1"]);
  assert.equal(good.status, 0);
  assert.equal(good.stdout, "usable protocols: any\nchosen protocol: OXM-OpenFlow13\nOFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD tcp,tp_dst=80 actions=output:1\n");
  const bad = tsovs(["ofctl", "parse-flow", "actions=foo"]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /^ovs-ofctl: unknown action foo\n$/m);
});
