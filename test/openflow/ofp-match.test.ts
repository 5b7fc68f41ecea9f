/**
 * OpenFlow 1.0 ofp_match and 1.1 ofp11_match against real ovs-ofctl 3.1:
 * (1) a generated corpus of OF1.0/1.1-expressible flows goes through
 * `ovs-ofctl -F openflow10 parse-flows` / `-O OpenFlow11 parse-flows` and
 * through tsovs's parse → normalize → encode → decode → format; (2) flow
 * mods tsovs builds around its encoded matches are decoded by
 * `ovs-ofctl ofp-print` to the same text. Bad values give OVS's errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import { formatMatch, normalizeMatchLogged } from "../../src/openflow/match-format.js";
import { Match, normalizeMatch } from "../../src/openflow/match.js";
import {
  decodeOfp10Match, decodeOfp11Match, encodeOfp10Match, encodeOfp11Match, ofp10Unexpressible, ofp11Unexpressible,
} from "../../src/openflow/ofp-match.js";
import { rng } from "./match-corpus.js";

const skip = ovsSkip("ovs-ofctl");

/** Runs ovs-ofctl with room for large outputs (a big corpus prints megabytes). */
function run(cmd: string, args: string[], _dir?: string, input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", input: input ?? "", timeout: 60_000, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function ofCorpus(n: number, seed: number, of11: boolean): string[] {
  const r = rng(seed);
  const int = (k: number): number => Math.floor(r() * k);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  const mac = (): string => Array.from({ length: 6 }, () => int(256).toString(16).padStart(2, "0")).join(":");
  const ip = (): string => `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
  const protos = ["ip", "icmp", "tcp", "udp", "arp", "rarp", ...(of11 ? ["sctp", "mpls", "mplsm"] : [])];
  const gens: (() => string)[] = [
    () => `in_port=${pick([String(1 + int(100)), "LOCAL", "CONTROLLER"])}`,
    () => `dl_vlan=${int(4096)}`,
    () => `dl_vlan_pcp=${int(8)}`,
    () => "vlan_tci=0",
    () => `dl_src=${mac()}`,
    () => `dl_dst=${mac()}`,
    () => `dl_type=${pick(["0x0800", "0x0806", "0x1234"])}`,
    () => `nw_src=${pick([ip(), `${ip()}/${int(33)}`])}`,
    () => `nw_dst=${pick([ip(), `${ip()}/${int(33)}`])}`,
    () => `nw_proto=${pick([1, 6, 17, int(256)])}`,
    () => `nw_tos=${4 * int(64)}`,
    () => `tp_src=${int(65536)}`,
    () => `tp_dst=${int(65536)}`,
    () => `icmp_type=${int(256)}`,
    () => `icmp_code=${int(256)}`,
    () => `arp_op=${int(3)}`,
    ...(of11
      ? [
          () => `metadata=0x${int(2 ** 31).toString(16)}/0x${int(2 ** 31).toString(16)}`,
          () => `dl_src=${mac()}/${mac()}`,
          () => `nw_src=${ip()}/255.${int(256)}.0.255`,
          () => `mpls_label=${int(1 << 20)}`,
          () => `mpls_tc=${int(8)}`,
        ]
      : []),
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    if (r() < 0.85) parts.push(pick(protos));
    const k = 1 + int(5);
    for (let j = 0; j < k; j++) parts.push(pick(gens)());
    out.push(parts.join(","));
  }
  return out;
}

function viaOf(s: string, of11: boolean): string {
  const r = parseMatch(s);
  assert.ok(r.ok, s);
  normalizeMatch(r.match);
  assert.deepEqual(of11 ? ofp11Unexpressible(r.match) : ofp10Unexpressible(r.match), [], s);
  const d = of11 ? decodeOfp11Match(encodeOfp11Match(r.match)) : decodeOfp10Match(encodeOfp10Match(r.match));
  if (!(d instanceof Match)) return `***decode error: ${d.decodeError}***`;
  if (!of11) normalizeMatch(d);
  return formatMatch(d);
}

for (const of11 of [false, true]) {
  const name = of11 ? "OpenFlow 1.1" : "OpenFlow 1.0";
  test(`${name}: parse-flows corpus prints the same`, { skip }, () => {
    const flows = ofCorpus(1500, of11 ? 5 : 3, of11);
    const dir = tempDir();
    try {
      const file = path.join(dir, "flows.txt");
      fs.writeFileSync(file, flows.map((f) => `${f},actions=drop`).join("\n") + "\n");
      const res = run("ovs-ofctl", of11 ? ["-O", "OpenFlow11", "parse-flows", file] : ["-F", "openflow10", "parse-flows", file]);
      assert.equal(res.status, 0, res.stderr);
      const lines = res.stdout.split("\n").filter((l) => l.startsWith("OFPT_FLOW_MOD"));
      assert.equal(lines.length, flows.length);
      const bad: string[] = [];
      lines.forEach((l, i) => {
        const want = /ADD (.*?) ?actions=drop$/.exec(l)?.[1] ?? l.replace(/^OFPT_FLOW_MOD [^:]*: /, "");
        const got = viaOf(flows[i]!, of11);
        if (got !== want) bad.push(`${flows[i]}\n  ovs:   ${want}\n  tsovs: ${got}`);
      });
      assert.deepEqual(bad.slice(0, 8), [], `${bad.length}/${flows.length} differ`);
      if (!of11) {
        // OVS logs each normalization (rate-limited, so its lines are a prefix of tsovs's).
        const logged = res.stderr.split("\n").map((l) => /\|ofp_match\|INFO\|(.*)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
        const mine: string[] = [];
        for (const f of flows) {
          const r = parseMatch(f);
          assert.ok(r.ok);
          const lines = normalizeMatchLogged(r.match, false);
          mine.push(...lines);
        }
        assert.ok(logged.length >= 6 && mine.length > logged.length, `the corpus exercises normalization (${logged.length} lines)`);
        assert.deepEqual(logged, mine.slice(0, logged.length));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: ofp-print decodes tsovs's encoding to the same text`, { skip }, () => {
    const bad: string[] = [];
    for (const s of ofCorpus(120, of11 ? 17 : 13, of11)) {
      const r = parseMatch(s);
      assert.ok(r.ok);
      normalizeMatch(r.match);
      const hex = Buffer.from(of11 ? flowMod11(encodeOfp11Match(r.match)) : flowMod10(encodeOfp10Match(r.match))).toString("hex");
      const res = run("ovs-ofctl", ["ofp-print", hex]);
      const want = /ADD (.*?) ?actions=drop/.exec(res.stdout)?.[1] ?? /\*\*\*decode error: \w+\*\*\*/.exec(res.stdout)?.[0] ?? res.stdout.trim();
      const got = viaOf(s, of11);
      if (got !== want) bad.push(`${s}\n  ovs:   ${want}\n  tsovs: ${got}`);
    }
    assert.deepEqual(bad.slice(0, 8), []);
  });
}

/** An OF1.0 OFPT_FLOW_MOD ADD with `match`, default priority, no actions. */
function flowMod10(match: Uint8Array): Uint8Array {
  const b = new Uint8Array(72);
  const v = new DataView(b.buffer);
  v.setUint8(0, 1);
  v.setUint8(1, 14);
  v.setUint16(2, 72);
  v.setUint32(4, 1);
  b.set(match, 8);
  v.setUint16(56, 0); // command ADD
  v.setUint16(62, 0x8000);
  v.setUint32(64, 0xffffffff);
  v.setUint16(68, 0xffff);
  return b;
}

/** An OF1.1 OFPT_FLOW_MOD ADD with `match`, default priority, no instructions. */
function flowMod11(match: Uint8Array): Uint8Array {
  const b = new Uint8Array(48 + 88);
  const v = new DataView(b.buffer);
  v.setUint8(0, 2);
  v.setUint8(1, 14);
  v.setUint16(2, b.length);
  v.setUint32(4, 1);
  v.setUint16(30, 0x8000);
  v.setUint32(32, 0xffffffff);
  v.setUint32(36, 0xffffffff);
  v.setUint32(40, 0xffffffff);
  b.set(match, 48);
  return b;
}

test("what OpenFlow 1.0/1.1 cannot express is reported", () => {
  const m = (s: string): Match => {
    const r = parseMatch(s);
    assert.ok(r.ok);
    return r.match;
  };
  assert.deepEqual(ofp10Unexpressible(m("reg0=5")), ["reg0"]);
  assert.deepEqual(ofp10Unexpressible(m("metadata=5,ip,nw_src=1.2.3.4/255.0.255.0")), ["metadata", "ip_src"]);
  assert.deepEqual(ofp11Unexpressible(m("metadata=5,ip,nw_src=1.2.3.4/255.0.255.0")), []);
  assert.deepEqual(ofp10Unexpressible(m("vlan_tci=0x1234/0x0f0f")), ["vlan_tci"]);
  assert.deepEqual(ofp11Unexpressible(m("ipv6,ipv6_src=::1")), ["ipv6_src"]);
  assert.deepEqual(ofp10Unexpressible(m("tcp,tp_dst=0x10/0xf0")), ["tcp_dst"]);
});

test("OpenFlow 1.1 match: OVS's errors for bad values", () => {
  const base = encodeOfp11Match(new Match().setNum("eth_type", 0x0800));
  const err = (b: Uint8Array): string => {
    const d = decodeOfp11Match(b);
    return d instanceof Match ? "ok" : d.decodeError;
  };
  assert.equal(err(base), "ok");
  const vid = base.slice();
  new DataView(vid.buffer).setUint32(8, new DataView(vid.buffer).getUint32(8) & ~2);
  new DataView(vid.buffer).setUint16(36, 5000);
  assert.equal(err(vid), "OFPBMC_BAD_VALUE");
  const tos = base.slice();
  new DataView(tos.buffer).setUint32(8, new DataView(tos.buffer).getUint32(8) & ~0x10);
  tos[42] = 3;
  assert.equal(err(tos), "OFPBMC_BAD_VALUE");
  const port = base.slice();
  new DataView(port.buffer).setUint32(8, new DataView(port.buffer).getUint32(8) & ~1);
  new DataView(port.buffer).setUint32(4, 0x12345678);
  assert.equal(err(port), "OFPBMC_BAD_VALUE");
  const typ = base.slice();
  typ[1] = 1;
  assert.equal(err(typ), "OFPBMC_BAD_TYPE");
  assert.equal(err(base.subarray(0, 40)), "OFPBMC_BAD_LEN");
  assert.ok(!(decodeOfp10Match(new Uint8Array(10)) instanceof Match));
});
