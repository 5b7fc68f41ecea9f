/**
 * dpctl commands against tsovs's userspace datapath, with the output texts
 * of OVS 3.1's `ovs-appctl dpctl/...` — checked literally, and
 * differentially against a real ovs-vswitchd with a dummy datapath when
 * the OVS binaries are installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runDpctl, registerDpctlCommands, type DpctlOptions } from "../../src/datapath/dpctl-commands.js";
import { dpifDelete } from "../../src/datapath/dpif.js";
import { UnixctlRegistry } from "../../src/unixctl/server.js";
import { ovsSkip, run, tempDir, tsovs } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { FLOW_CORPUS } from "./odp-corpus.js";
import { parseOdpFlow } from "../../src/flow/odp-parse.js";

function dp(argv: string[], opts: DpctlOptions = {}): { status: number; text: string } {
  return runDpctl(argv, { program: "ovs-vswitchd", ...opts });
}

/** A dummy datapath laid out as OVS's for `add-br br0 -- set bridge br0 datapath_type=dummy` plus p1, p2. */
function freshDp(name: string): void {
  dpifDelete("dummy", name);
  const r = dp(["add-dp", `dummy@${name}`, "p1,type=dummy", "p2,type=dummy", "br0,type=internal"]);
  assert.equal(r.status, 0, r.text);
}

test("add-dp, show, show -s, dump-dps", () => {
  freshDp("ovs-dummy");
  assert.equal(dp(["show", "dummy@ovs-dummy"]).text, [
    "dummy@ovs-dummy:",
    "  lookups: hit:0 missed:0 lost:0",
    "  flows: 0",
    "  port 0: ovs-dummy (dummy-internal)",
    "  port 1: p1 (dummy)",
    "  port 2: p2 (dummy)",
    "  port 100: br0 (dummy-internal)",
    "",
  ].join("\n"));
  const s = dp(["show", "dummy@ovs-dummy"], { statistics: true }).text.split("\n");
  const p1 = s.indexOf("  port 1: p1 (dummy)");
  assert.deepEqual(s.slice(p1, p1 + 5), [
    "  port 1: p1 (dummy)",
    "    RX packets:0 errors:? dropped:? overruns:? frame:?",
    "    TX packets:0 errors:? dropped:? aborted:? carrier:?",
    "    collisions:?",
    "    RX bytes:0  TX bytes:0",
  ]);
  assert.match(dp(["dump-dps"]).text, /^dummy@ovs-dummy$/m);
  assert.equal(dp(["show", "dummy@nope"]).text, "ovs-vswitchd: opening datapath dummy@nope failed (No such device)\n");
  dpifDelete("dummy", "ovs-dummy");
});

test("add-flow, dump-flows (plain, -m, filter), get-flow, mod-flow, del-flow, del-flows", () => {
  freshDp("t-flows");
  const D = "dummy@t-flows";
  const f1 = "in_port(1),eth(src=00:01:02:03:04:05,dst=10:20:30:40:50:60),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.0.0.0,proto=6,frag=no),tcp(dst=80)";
  assert.equal(dp(["add-flow", D, f1, "push_vlan(vid=5,pcp=0),2"]).status, 0);
  assert.equal(dp(["add-flow", D, "in_port(p2),eth(),eth_type(0x86dd),ipv6(src=::1,proto=17),udp(src=53)", "1"]).status, 0);
  const plain = dp(["dump-flows", D]).text;
  assert.equal(plain, [
    "flow-dump from the main thread:",
    "recirc_id(0),in_port(1),eth(src=00:01:02:03:04:05,dst=10:20:30:40:50:60),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.0.0.0,proto=6,frag=no),tcp(dst=80), packets:0, bytes:0, used:never, actions:push_vlan(vid=5,pcp=0),2",
    "recirc_id(0),in_port(2),eth(),eth_type(0x86dd),ipv6(src=::1,proto=17),udp(src=53), packets:0, bytes:0, used:never, actions:1",
    "",
  ].join("\n"));
  const verbose = dp(["dump-flows", D], { verbosity: 1 }).text.split("\n");
  assert.match(verbose[1]!, /^ufid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}, skb_priority\(0\/0\),skb_mark\(0\/0\),ct_state\(0\/0\),ct_zone\(0\/0\),ct_mark\(0\/0\),ct_label\(0\/0\),recirc_id\(0\),dp_hash\(0\/0\),in_port\(p1\),packet_type\(ns=0\/0,id=0\/0\),eth\(src=00:01:02:03:04:05,dst=10:20:30:40:50:60\),eth_type\(0x0800\),ipv4\(src=10.0.0.1,dst=10.0.0.0\/255.0.0.0,proto=6,tos=0\/0,ttl=0\/0,frag=no\),tcp\(src=0\/0,dst=80\), packets:0, bytes:0, used:never, dp:ovs, actions:push_vlan\(vid=5,pcp=0\),p2$/);
  const filtered = dp(["dump-flows", D, "filter=tcp,tp_dst=80"]).text.split("\n");
  assert.equal(filtered.length, 3);
  assert.match(filtered[1]!, /tcp\(dst=80\)/);
  assert.equal(dp(["dump-flows", D, "filter=udp6,in_port=p2"]).text.split("\n").length, 3);
  assert.equal(dp(["dump-flows", D, "filter=bogus=1"]).text, "ovs-vswitchd: Failed to parse filter (bogus: unknown field name)\n");

  // get-flow by the ufid dump-flows -m printed.
  const ufid = /^(ufid:[^,]+),/.exec(verbose[1]!)![1]!;
  const got = dp(["get-flow", D, ufid]);
  assert.equal(got.status, 0);
  assert.equal(got.text, "recirc_id(0),in_port(1),eth(src=00:01:02:03:04:05,dst=10:20:30:40:50:60),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.0.0.0,proto=6,frag=no),tcp(dst=80), packets:0, bytes:0, used:never, actions:push_vlan(vid=5,pcp=0),2\n");
  assert.equal(dp(["get-flow", D, "ufid:00000000-0000-0000-0000-000000000000"]).text, "ovs-vswitchd: getting flow (No such file or directory)\n");

  // Duplicates, modification, creation on modify.
  assert.equal(dp(["add-flow", D, f1, "1"]).text, "ovs-vswitchd: updating flow table (File exists)\n");
  assert.equal(dp(["mod-flow", D, f1, "drop"], { statistics: true }).text, "packets:0, bytes:0, used:never\n");
  assert.match(dp(["dump-flows", D]).text, /tcp\(dst=80\), packets:0, bytes:0, used:never, actions:drop$/m);
  const f3 = "in_port(1),eth(),eth_type(0x0806),arp(op=2)";
  assert.equal(dp(["mod-flow", D, f3, "2"]).text, "ovs-vswitchd: updating flow table (No such file or directory)\n");
  assert.equal(dp(["mod-flow", D, f3, "2"], { mayCreate: true }).status, 0);

  // del-flow by key; a missing one suggests a UFID.
  assert.equal(dp(["del-flow", D, f3]).status, 0);
  assert.equal(dp(["del-flow", D, f3]).text, "ovs-vswitchd: deleting flow (No such file or directory)\nPerhaps you need to specify a UFID?\n");
  assert.equal(dp(["del-flow", D, ufid]).status, 0);
  assert.equal(dp(["dump-flows", D]).text.split("\n").length, 3);
  assert.equal(dp(["del-flows", D]).status, 0);
  assert.equal(dp(["dump-flows", D]).text, "");
  dpifDelete("dummy", "t-flows");
});

test("errors: OVS's line first, then the precise reason", () => {
  freshDp("t-err");
  const D = "dummy@t-err";
  assert.equal(dp(["add-flow", D, "in_port(1),bogus(3)", "1"]).text,
    "ovs-vswitchd: parsing flow key (Invalid argument)\novs-vswitchd: syntax error at bogus(3) (unknown key field \"bogus\")\n");
  assert.equal(dp(["add-flow", D, "in_port(1),eth(),eth_type(0x800),ipv4(proto=6),tcp()", "1,frob"]).text,
    "ovs-vswitchd: parsing actions (Invalid argument)\novs-vswitchd: syntax error at frob (unknown action \"frob\")\n");
  assert.equal(dp(["add-flow", D, "in_port(1),eth(),eth_type(0x800),ipv4(proto=6)", "1"]).text,
    "ovs-vswitchd: updating flow table (Invalid argument)\novs-vswitchd: expected tcp attribute for IP protocol 6\n");
  // The only datapath is used when none is named.
  assert.equal(dp(["add-flow", "in_port(1),eth(),eth_type(0x88cc)", "1"]).status, 0);
  assert.match(dp(["dump-flows"]).text, /eth_type\(0x88cc\)/);
  dpifDelete("dummy", "t-err");
  assert.equal(dp(["dump-flows"]).text, "ovs-vswitchd: no datapaths exist\novs-vswitchd: datapath not found (Invalid argument)\n");
  freshDp("t-err");
  assert.equal(dp(["bogus-cmd"]).text, "ovs-vswitchd: unknown command 'bogus-cmd'; use --help for help\n");
  assert.equal(dp(["del-if", D, "nosuch"]).text, "ovs-vswitchd: no port named nosuch\n");
  assert.equal(dp(["set-if", D, "p1,type=system"]).text, "ovs-vswitchd: p1: can't change type from dummy to system\n");
  dpifDelete("dummy", "t-err");
});

test("registered as dpctl/... unixctl commands", async () => {
  freshDp("t-unixctl");
  const reg = new UnixctlRegistry();
  registerDpctlCommands(reg);
  const conn = {} as Parameters<UnixctlRegistry["execute"]>[2];
  const ok = await reg.execute("dpctl/show", ["dummy@t-unixctl"], conn);
  assert.ok("result" in ok && ok.result.startsWith("dummy@t-unixctl:\n"));
  const bad = await reg.execute("dpctl/add-flow", ["dummy@t-unixctl", "in_port(1),x()", "1"], conn);
  assert.ok("error" in bad && bad.error.startsWith("ovs-vswitchd: parsing flow key (Invalid argument)\n"));
  const opt = await reg.execute("dpctl/dump-flows", ["-x"], conn);
  assert.ok("error" in opt && opt.error === "Unrecognized option -x\n");
  dpifDelete("dummy", "t-unixctl");
});

test("tsovs dpctl CLI: parse-actions locally, errors on stderr, exit status 1", () => {
  const dir = tempDir("tsovs-dpctl-");
  try {
    const r = tsovs(["dpctl", "parse-actions", "set(ipv4(src=1.2.3.4)),sample(sample=50.0%,actions(1)),2"], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "set(ipv4(src=1.2.3.4)),sample(sample=50.0%,actions(1)),2\n");
    const bad = tsovs(["dpctl", "parse-actions", "2,nope"], dir);
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /^ovs-dpctl: odp_actions_from_string \(Invalid argument\)\novs-dpctl: syntax error at nope/);
    const none = tsovs(["dpctl", "dump-dps"], dir);
    assert.equal(none.status, 0);
    assert.equal(none.stdout, "");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/* ---------------- differential against a real ovs-vswitchd ---------------- */

/** True when a printed flow has key bits its mask does not cover (e.g. "src=1.2.3.4/255.255.0.0"). */
function bitsOutsideMask(text: string): boolean {
  const p = parseOdpFlow(text);
  let k = 0;
  while (k + 4 <= p.key.length) {
    const len = p.key[k]! | (p.key[k + 1]! << 8);
    const type = p.key[k + 2]! | (p.key[k + 3]! << 8);
    let m = 0;
    while (m + 4 <= p.mask.length) {
      const ml = p.mask[m]! | (p.mask[m + 1]! << 8);
      if ((p.mask[m + 2]! | (p.mask[m + 3]! << 8)) === type) {
        for (let i = 4; i < len && i < ml; i++) if (p.key[k + i]! & ~p.mask[m + i]! & 0xff) return true;
        break;
      }
      m += (ml + 3) & ~3;
    }
    k += (len + 3) & ~3;
  }
  return false;
}

test("differential: show and dump-flows against ovs-vswitchd with a dummy datapath",
  { skip: ovsSkip("ovs-vswitchd", "ovs-appctl", "ovs-vsctl", "ovsdb-server", "ovsdb-tool"), timeout: 60_000 }, () => {
    const dir = tempDir("tsovs-dpctl-ovs-");
    const stop = startRealVswitchd(dir);
    try {
      const appctl = (...a: string[]) => run("ovs-appctl", a, dir);
      freshDp("ovs-dummy");
      assert.equal(dp(["show"]).text.includes("dummy@ovs-dummy:"), true);
      assert.equal(dp(["show", "dummy@ovs-dummy"]).text, appctl("dpctl/show").stdout);
      let compared = 0;
      // Every flow OVS accepts, including keys with bits outside their mask
      // ("src=1.2.3.4/255.255.0.0") and flows without eth() (packet_type
      // from the unmasked key): the datapath keeps the key as given.
      let outsideMask = 0;
      for (const [flow, want0] of FLOW_CORPUS.filter(([, w]) => w !== "ERROR")) {
        const unmasked = bitsOutsideMask(want0) || !flow.includes("eth(");
        for (const verbose of [false, true]) {
          // The real switch's revalidator removes flows it did not install: retry until the dump sees it.
          let want = "";
          for (let attempt = 0; attempt < 5 && want === ""; attempt++) {
            appctl("dpctl/del-flows");
            const add = appctl("dpctl/add-flow", flow, "2");
            if (add.status !== 0) break;
            want = appctl("dpctl/dump-flows", ...(verbose ? ["-m"] : [])).stdout;
          }
          if (want === "") continue;
          dp(["del-flows", "dummy@ovs-dummy"]);
          assert.equal(dp(["add-flow", "dummy@ovs-dummy", flow, "2"]).status, 0, flow);
          const got = dp(["dump-flows", "dummy@ovs-dummy"], verbose ? { verbosity: 1 } : {}).text;
          const norm = (s: string) => s.replace(/^ufid:[^,]+, /gm, "").replace(/, dp-extra-info:.*$/gm, "");
          assert.equal(norm(got), norm(want), flow);
          compared++;
          if (unmasked) outsideMask++;
        }
      }
      assert.ok(compared >= 40, `compared ${compared}`);
      assert.ok(outsideMask >= 6, `compared flows with unmasked bits or no eth(): ${outsideMask}`);
    } finally {
      stop();
      dpifDelete("dummy", "ovs-dummy");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

test("show prints a port's reported config after its type, as OVS's dummy reports it", () => {
  freshDp("t-conf");
  const dir = tempDir("tsovs-dpctl-conf-");
  try {
    const D = "dummy@t-conf";
    const sock = path.join(dir, "p.sock");
    const set = dp(["set-if", D, `p1,type=dummy,tx_pcap=${path.join(dir, "tx.pcap")},pstream=punix:${sock}`, `p2,type=dummy,stream=unix:${sock}`]);
    assert.equal(set.status, 0, set.text);
    const lines = dp(["show", D]).text.split("\n");
    // pcap file names are not reported back (OVS forgets them once open); streams are, sorted by key.
    assert.ok(lines.includes(`  port 1: p1 (dummy: pstream=punix:${sock})`), lines.join("\n"));
    assert.ok(lines.includes(`  port 2: p2 (dummy: stream=unix:${sock})`), lines.join("\n"));
    assert.ok(lines.includes("  port 100: br0 (dummy-internal)"));
  } finally {
    dpifDelete("dummy", "t-conf");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("dump-flows and get-flow print the key as added, bits outside the mask included", () => {
  freshDp("t-unmasked");
  const D = "dummy@t-unmasked";
  try {
    assert.equal(dp(["add-flow", D, "in_port(1),eth(),eth_type(0x800),ipv4(src=1.2.3.4/255.255.0.0)", "2"]).status, 0);
    assert.equal(dp(["add-flow", D, "in_port(2),eth_type(0x800),ipv4(src=1.1.1.1)", "1"]).status, 0);
    const plain = dp(["dump-flows", D]).text;
    assert.match(plain, /^recirc_id\(0\),in_port\(1\),eth\(\),eth_type\(0x0800\),ipv4\(src=1\.2\.3\.4\/255\.255\.0\.0\), packets:0, bytes:0, used:never, actions:2$/m);
    const verbose = dp(["dump-flows", D], { verbosity: 1 }).text;
    assert.match(verbose, /ipv4\(src=1\.2\.3\.4\/255\.255\.0\.0,dst=0\.0\.0\.0\/0\.0\.0\.0,/);
    // No eth(): packet_type comes from the unmasked key (ns=1, the ethertype) with a zero mask.
    assert.match(verbose, /in_port\(p?2\),packet_type\(ns=1\/0,id=0x800\/0\),eth_type\(0x0800\),ipv4\(src=1\.1\.1\.1,/);
  } finally {
    dpifDelete("dummy", "t-unmasked");
  }
});

test("tsovs dpctl with no daemon warns that a datapath change is lost, and still answers read-only commands", () => {
  const dir = tempDir("tsovs-dpctl-nodaemon-");
  try {
    const add = tsovs(["dpctl", "add-dp", "dummy@dp0"], dir);
    assert.equal(add.status, 0);
    assert.match(add.stderr, /^ovs-dpctl: warning: no ovs-vswitchd is running .* lost when it exits\n$/);
    const show = tsovs(["dpctl", "show"], dir);
    assert.equal(show.status, 0);
    assert.equal(show.stderr, "");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
