/**
 * ovs-ofctl 3.1's hidden test commands — the codec oracles — against real
 * ovs-ofctl: parse-actions and parse-instructions (every corpus action
 * list encoded in each version, plus truncated and bit-flipped copies),
 * parse-ofp10-match and parse-ofp11-match (generated matches and mutated
 * structures), print-error (every error OVS knows), encode-error-reply,
 * parse-key-value, parse-nx-match, check-vlan, parse-group, ofp-parse,
 * parse-pcap and parse-packet. Each input file goes
 * through one run of ovs-ofctl, so thousands of lines cost a few runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { encodeMessage, makeHello, type OfpMessage } from "../../src/openflow/index.js";
import { writePcap } from "../../src/packet/index.js";
import { allFrames } from "../flow/corpus.js";
import { parseFlowText, protocolsOfVersion } from "../../src/openflow/ofp-flow-parse.js";
import { OFPFC_ADD } from "../../src/openflow/ofp-flow.js";
import { ofctl } from "../../src/cli/ofctl.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import { encodeOfp10Match, encodeOfp11Match } from "../../src/openflow/ofp-match.js";
import { OFP_ERRORS } from "../../src/openflow/ofp-errors.js";
import { corpus as matchCorpus, rng } from "../openflow/match-corpus.js";
import { ACTION_LISTS, hex, mutations, wireActionLines } from "./action-corpus.js";

const skip = ovsSkip("ovs-ofctl");

interface Out {
  stdout: string;
  error: string;
  status: number | null;
}

function errorLines(stderr: string): string {
  return stderr.split("\n").filter((l) => l.startsWith("ovs-ofctl:")).join("\n");
}

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
        const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
        p.on("close", (status) => {
          clearTimeout(timer);
          resolve({ stdout: so, error: errorLines(se), status });
        });
        p.stdin.on("error", () => {});
        p.stdin.end(Buffer.from(c.input ?? "", "latin1"));
      });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** Runs every case in both and asserts identical stdout, error line and status; returns ovs-ofctl's outputs. */
async function compareAll(cases: { args: string[]; input?: string }[]): Promise<Out[]> {
  const theirs = await realAll(cases);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const r = ofctl(c.args, c.input);
    const m: Out = { stdout: r.stdout, error: errorLines(r.stderr), status: r.status };
    const t = theirs[i]!;
    if (JSON.stringify(m) === JSON.stringify(t)) return;
    const tl = (t.stdout + t.error).split("\n");
    const ml = (m.stdout + m.error).split("\n");
    let at = 0;
    while (at < Math.max(tl.length, ml.length) && tl[at] === ml[at]) at++;
    failures.push(`${c.args.join(" ")} (status ${t.status} vs ${m.status}), line ${at + 1}:\n  ovs-ofctl: ${tl[at]}\n  tsovs:     ${ml[at]}\n  context:   ${tl.slice(Math.max(0, at - 3), at).join(" | ")}`);
  });
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} differ:\n${failures.slice(0, 6).join("\n")}`);
  return theirs;
}

const VERSIONS: [string, number][] = [["OpenFlow10", 1], ["OpenFlow11", 2], ["OpenFlow12", 3], ["OpenFlow13", 4], ["OpenFlow14", 5], ["OpenFlow15", 6]];

test("parse-actions and parse-instructions: the encoded corpus matches ovs-ofctl in every version", { skip, timeout: 60_000 }, async () => {
  const cases: { args: string[]; input: string }[] = [];
  let lines = 0;
  for (const [name, v] of VERSIONS) {
    const { actions, instructions } = wireActionLines(v, false);
    lines += actions.length + instructions.length;
    cases.push({ args: ["parse-actions", name], input: actions.join("\n") + "\n" });
    if (instructions.length) cases.push({ args: ["parse-instructions", name], input: instructions.join("\n") + "\n" });
  }
  assert.ok(lines > 3000, `only ${lines} lines`);
  const theirs = await compareAll(cases);
  // Both accepted and rejected lines must be there.
  const all = theirs.map((o) => o.stdout).join("");
  assert.ok((all.match(/^actions=/gm) ?? []).length > 1500);
  assert.ok((all.match(/^bad /gm) ?? []).length > 5);
});

/**
 * The one known difference on damaged lines, outside the action codec:
 * src/openflow/meta-flow.ts prints an IPv4-compatible IPv6 address
 * (::a.b.c.d, first 96 bits zero) in hex words where OVS (inet_ntop)
 * prints it dotted, e.g. set_field:::1.0.0.1->ipv6_src. Reported to its
 * owner; once fixed, these lines simply become identical.
 */
function ipv6TextOnly(theirs: string, mine: string): boolean {
  const strip = (x: string): string => x.replace(/[0-9a-f:.]*::[0-9a-f:.]*/g, "IPV6");
  return /::\d+\.\d+\.\d+\.\d+/.test(theirs) && strip(theirs) === strip(mine);
}

test("parse-actions and parse-instructions: damaged copies of the corpus are judged as ovs-ofctl judges them", { skip, timeout: 60_000 }, async () => {
  // Truncated and byte-changed action lists: every line must decode
  // without a crash and get OVS's verdict: the same error, or the same
  // actions and re-encoding differences. The decoders check damaged
  // fields in OVS's order (learn specs, encap properties, bundle_load,
  // nat ranges, set_field masks, copy_field padding, ...).
  const cases: { args: string[]; input: string }[] = [];
  for (const [name, v] of VERSIONS) {
    const { actions, instructions } = wireActionLines(v, true);
    cases.push({ args: ["parse-actions", name], input: actions.join("\n") + "\n" });
    if (instructions.length) cases.push({ args: ["parse-instructions", name], input: instructions.join("\n") + "\n" });
  }
  const theirs = await realAll(cases);
  let total = 0;
  let same = 0;
  let ipv6Text = 0;
  const samples: string[] = [];
  cases.forEach((c, i) => {
    assert.equal(theirs[i]!.status, 0, `${c.args.join(" ")}: ${theirs[i]!.error}`);
    const r = ofctl(c.args, c.input);
    assert.equal(r.status, 0, `${c.args.join(" ")}: ${r.stderr}`);
    const t = theirs[i]!.stdout.split("\n\n");
    const m = r.stdout.split("\n\n");
    assert.equal(m.length, t.length, `${c.args.join(" ")}: record count`);
    const input = c.input.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    t.forEach((rec, j) => {
      if (rec === "") return;
      total++;
      if (rec === m[j]) same++;
      else if (ipv6TextOnly(rec, m[j]!)) ipv6Text++;
      else if (samples.length < 8) samples.push(`${c.args.join(" ")}: ${input[j]}\n  ovs-ofctl: ${rec.split("\n")[0]}\n  tsovs:     ${m[j]!.split("\n")[0]}`);
    });
  });
  assert.ok(total > 9000, `only ${total} lines`);
  assert.ok(ipv6Text <= 5, `${ipv6Text} lines differ in IPv6 address text`);
  assert.equal(same + ipv6Text, total, `${total - same - ipv6Text} of ${total} damaged lines judged differently; e.g.\n${samples.join("\n")}`);
});

test("parse-actions and parse-instructions: errors on the command line and in the input", { skip, timeout: 30_000 }, async () => {
  await compareAll([
    { args: ["parse-actions"] },
    { args: ["parse-actions", "OpenFlow10", "x"] },
    { args: ["parse-actions", "OpenFlow9"] },
    { args: ["parse-actions", "1.0"] },
    { args: ["parse-actions", "openflow13"], input: "0000 0010 fffffffe ffff 000000000000\n" },
    { args: ["parse-actions", "OpenFlow10"], input: "0000 0008 fffe 04d2\nzz\n0000 0008 fffe 04d2\n" },
    { args: ["parse-actions", "OpenFlow10"], input: "0000 0008 fffe\n\n   \n# x\n0000 0008 fffe 04d2 # trailing comment\n" },
    { args: ["parse-instructions", "OpenFlow13"], input: "0001 0008 05 000000\n3,0001 0008 03 000000\n0001 0008 01 000000 0001 0008 02 000000\n0006 0010 00000005 00000000\n" },
    { args: ["parse-instructions", "OpenFlow11"], input: "0004 0008 00000000 0003 0008 00000000\n0005 0008 00000000 0004 0008 00000000\nffff 0008 00002320\n0004 0004\n" },
    // Damaged fields that OVS checks in a particular order.
    { args: ["parse-actions", "OpenFlow13"], input: [
      "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100110a00000100500000",
      "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100110a00000100000000",
      "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100310a00000100500040",
      "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100030a0000010a000001",
      "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100010000000000000000",
      "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100210a00000100500000",
      "ffff00300000232000100000000080000000000000000000000001000000000000300000040600000000020600000093",
      "ffff003000002320001000000000800000000000000000000000010000000000c0200001000400000001000400000000",
      "ffff001000002320002e000000018804",
      "ffff002800002320002e00000001894f00040105020000002004021010000a041234567800000000",
      "ffff002800002320002e00000001894f00040115020000000004021010000a041234567800000000",
      "ffff001000002320002e00e500000000",
      "ffff002800002320000d080100000000000000600002001f00010004000000000004000800000000",
      "ffff002000002320002600640000000100000002000000030005000000000001",
      "ffff0010000023200025000000000000",
      "ffff0010000023200014ffff00000600",
      "ffff001800002320001b00000001fb040020000000000000",
    ].join("\n") + "\n" },
    { args: ["parse-actions", "OpenFlow12"], input: "00190010000103080000000300000001\n00190010000103080000000100000001\n" },
    { args: ["parse-actions", "OpenFlow15"], input: [
      "001c0018001000000000000080001a020001020400000002",
      "001c00180010000000000000000101080001000400000000",
      "001900108000390801020304ffff0000",
      "0019001080003908010203040fffffff",
      "00190010000103080000000300000001",
      "0019001080000a02052a000000000000",
    ].join("\n") + "\n" },
  ]);
});

test("parse-ofp10-match and parse-ofp11-match: generated and damaged structures match ovs-ofctl", { skip, timeout: 30_000 }, async () => {
  const r = rng(4242);
  const m10: string[] = [];
  const m11: string[] = [];
  for (const text of matchCorpus(600, 11)) {
    const pm = parseMatch(text);
    if (!pm.ok) continue;
    const a = encodeOfp10Match(pm.match);
    const b = encodeOfp11Match(pm.match);
    for (const x of [a, ...mutations(a, r, 1)]) m10.push(hex(x.subarray(0, 40)));
    for (const x of [b, ...mutations(b, r, 1)]) m11.push(hex(x.subarray(0, 88)));
  }
  // Arbitrary bytes: every wildcard combination the structures can carry.
  for (let i = 0; i < 200; i++) {
    m10.push(hex(Uint8Array.from({ length: 40 }, () => Math.floor(r() * 256))));
    const b = Uint8Array.from({ length: 88 }, () => Math.floor(r() * 256));
    b[0] = 0;
    b[1] = 0;
    b[2] = 0;
    b[3] = 88;
    m11.push(hex(b));
  }
  await compareAll([
    { args: ["parse-ofp10-match"], input: m10.join("\n") + "\n" },
    { args: ["parse-ofp11-match"], input: m11.join("\n") + "\n" },
    { args: ["parse-ofp10-match"], input: "00\n" },
    { args: ["parse-ofp11-match"], input: `${"00".repeat(88)}\nxx\n` },
  ]);
});

test("print-error and encode-error-reply: every error OVS knows matches ovs-ofctl", { skip, timeout: 60_000 }, async () => {
  const names = OFP_ERRORS.map((e) => e.name as string);
  const cases: { args: string[] }[] = names.map((n) => ({ args: ["print-error", n] }));
  cases.push({ args: ["print-error", "NOT_AN_ERROR"] });
  const requests = ["0100000800000001", "0200000800000002", "0300001000000003aabbccddeeff0011", "0400000800000004", "0500000800000005", "06000048000000060102030405060708" + "00".repeat(56)];
  const r = rng(99);
  for (let i = 0; i < 120; i++) cases.push({ args: ["encode-error-reply", names[Math.floor(r() * names.length)]!, requests[i % requests.length]!] });
  cases.push({ args: ["encode-error-reply", "FOO", "0100000800000001"] });
  cases.push({ args: ["encode-error-reply", "OFPBAC_BAD_TYPE", "01"] });
  cases.push({ args: ["encode-error-reply", "OFPBAC_BAD_TYPE", "0100000900000001"] });
  cases.push({ args: ["encode-error-reply", "OFPBAC_BAD_TYPE", "01000008000000zz"] });
  cases.push({ args: ["encode-error-reply", "OFPBAC_BAD_TYPE", "01000050000000010102030405060708" + "ab".repeat(64)] });
  await compareAll(cases);
});

test("parse-key-value, parse-nx-match and check-vlan match ovs-ofctl", { skip, timeout: 30_000 }, async () => {
  const kv = ["a=1,b(2),c:3", "x", "a=(b=c),d", " a = 1 , b", 'a="x,y"', "f(a(b),c)=x", "", ",,,", "k=v(w)x,y", "a:b:c", "a=b=c", "(x)", "a(b", "a=(b"];
  const cases: { args: string[]; input?: string }[] = [{ args: ["parse-key-value", ...kv] }, { args: ["parse-key-value"] }];
  cases.push({ args: ["parse-nx-match"], input: "NXM_OF_IN_PORT(0001)\n# comment\n\nNXM_OF_ETH_TYPE(0800), NXM_OF_IP_SRC(01020304)\nNXM_OF_IP_SRC(01020304)\n" });
  const vals = ["0", "1", "5", "fff", "1000", "1005", "1fff", "e005", "f000", "ffff", "0123", "zz", "10000", "efff"];
  // TCI bits outside the mask make OVS print its NXM/OXM encoder's raw
  // leftovers ("<5 invalid bytes>"); the grid keeps to consistent pairs.
  const num = (x: string): number => (/^[0-9a-f]+$/.test(x) ? parseInt(x, 16) & 0xffff : 0);
  for (const t of vals) for (const m of vals) if ((num(t) & ~num(m)) === 0 || num(m) === 0) cases.push({ args: ["check-vlan", t, m] });
  cases.push({ args: ["check-vlan", "5", "3"] }, { args: ["check-vlan", "1"] });
  await compareAll(cases);
});

test("parse-group: group_mods from text match ovs-ofctl in every version", { skip, timeout: 60_000 }, async () => {
  const groups = [
    "group_id=1,type=all,bucket=actions=push_vlan:0x8100",
    "group_id=1,type=select,selection_method=hash,fields=ip_src,bucket=output:1",
    "group_id=1,type=select,selection_method=hash,fields(eth_dst,ip_dst=255.255.0.0),bucket=output:1",
    "group_id=1,type=all,bucket=bucket_id:5,output:1",
    "group_id=1,type=ff,bucket=watch_port:1,output:1",
    "group_id=1,type=ff,bucket=watch_group:3,output:1",
    "group_id=1,type=all,bucket=set_field:1->reg0",
    "group_id=1,type=all,bucket=mod_nw_src:1.2.3.4,set_field:00:00:00:00:00:01->eth_dst",
    "group_id=1,type=indirect",
    "group_id=1,type=indirect,bucket=output:3",
    "group_id=1,type=all,bucket=meter:1",
    "group_id=1,type=all,bucket=goto_table:1",
    "group_id=1,type=all,bucket=output:1,bucket=output:2",
    "group_id=4294967040,type=all,bucket=output:1",
    "type=all",
    "group_id=1",
    "group_id=1,type=foo",
    "group_id=1,type=select,bucket=weight:5,output:1,bucket=output:2",
    "group_id=1,type=all,bucket=ct(commit),output:1",
    "group_id=1,type=all,bucket=bucket_id:1,output:1,bucket=bucket_id:1,output:2",
  ];
  const cases: { args: string[] }[] = [];
  for (const g of groups) {
    cases.push({ args: ["parse-group", g] });
    for (const o of ["OpenFlow11", "OpenFlow13", "OpenFlow15", "OpenFlow10,OpenFlow15"]) cases.push({ args: ["-O", o, "parse-group", g] });
  }
  await compareAll(cases);
});

test("ofp-parse: a file of raw messages prints as ovs-ofctl prints it", { skip, timeout: 60_000 }, async () => {
  const dir = tempDir("tsovs-ofp-parse-");
  try {
    // Flow_mods of the action corpus as tsovs encodes them in each version, and a few small messages.
    const parts: Uint8Array[] = [encodeMessage(makeHello(0x7e, 1)), Uint8Array.from([4, 2, 0, 12, 0, 0, 0, 5, 97, 98, 99, 100])];
    let xid = 10;
    for (const text of ACTION_LISTS) {
      const r = parseFlowText(`ip,actions=${text}`, OFPFC_ADD);
      if (!r.ok) continue;
      for (const v of [1, 2, 4, 6]) {
        if (!(protocolsOfVersion(v) & r.usable)) continue;
        const body = { ...r.fm, tid: true };
        try {
          parts.push(encodeMessage({ type: v === 1 ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD", version: v, xid: xid++, body } as OfpMessage));
        } catch {
          // Not expressible in that version: nothing to compare.
        }
      }
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const good = path.join(dir, "good.bin");
    fs.writeFileSync(good, all);
    const cut = path.join(dir, "cut.bin");
    fs.writeFileSync(cut, all.subarray(0, all.length - 3));
    assert.ok(parts.length > 200, `only ${parts.length} messages`);
    await compareAll([
      { args: ["ofp-parse", good] },
      { args: ["ofp-parse", cut] },
      { args: ["ofp-parse", path.join(dir, "missing.bin")] },
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("parse-pcap and parse-packet: the flows of the extraction corpus print as ovs-ofctl prints them", { skip, timeout: 60_000 }, async () => {
  const dir = tempDir("tsovs-parse-pcap-");
  try {
    // parse-pcap stops at an empty record, so empty frames stay out.
    const frames = allFrames().filter((f) => f.bytes.length > 0);
    const file = path.join(dir, "corpus.pcap");
    fs.writeFileSync(file, writePcap(frames.map((f) => f.bytes)));
    const theirs = await compareAll([{ args: ["parse-pcap", file] }, { args: ["parse-pcap", file, file] }]);
    assert.equal(theirs[0]!.stdout.split("\n").length, frames.length + 1);
    // parse-packet reads one raw frame from standard input.
    const some = frames.filter((_, i) => i % 5 === 0);
    await compareAll(some.map((f) => ({ args: ["parse-packet"], input: Buffer.from(f.bytes).toString("latin1") })));
    // Unreadable files: the same message (ovs-ofctl exits with the errno, tsovs with 1).
    for (const [name, bytes] of [["short.pcap", "abc"], ["bad.pcap", "abcdefghijklmnopqrstuvwxyz0123456789"]] as const) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, bytes);
      const t = (await realAll([{ args: ["parse-pcap", p] }]))[0]!;
      assert.equal(errorLines(ofctl(["parse-pcap", p]).stderr), t.error);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
