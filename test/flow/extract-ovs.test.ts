/**
 * Differential test: the flow tsovs extracts from each frame of the corpus
 * equals the flow real OVS 3.1 extracts (`ovs-ofctl parse-pcap` on a pcap
 * written by our pcap writer), compared as text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { extractFlowKey, newFlowKey } from "../../src/flow/index.js";
import { DpPacket, writePcap } from "../../src/packet/index.js";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { composePacket, toHex } from "../util/packets.js";
import { allFrames, type CorpusFrame } from "./corpus.js";
import { packetMatch } from "../../src/openflow/ofp-packet-text.js";
import { formatMatchWithPriority, OFP_DEFAULT_PRIORITY } from "../../src/openflow/ofp-flow.js";
import { mutateInto, Rng } from "./mutate.js";

const skip = ovsSkip("ovs-ofctl");
/** Mutants compared per run (TSOVS_EXTRACT_MUTANTS overrides for a long run). */
const MUTANTS = Number(process.env["TSOVS_EXTRACT_MUTANTS"] ?? 4000);

function ours(frames: CorpusFrame[]): string[] {
  const pkt = new DpPacket();
  const key = newFlowKey();
  return frames.map((f) => {
    pkt.reset();
    pkt.setData(f.bytes);
    extractFlowKey(pkt, key);
    // parse-pcap prints the flow with in_port=ANY (OFPP_NONE), as flow_format does.
    return formatMatchWithPriority(packetMatch(key, 0xffff), OFP_DEFAULT_PRIORITY);
  });
}

function theirs(frames: CorpusFrame[]): string[] {
  const dir = tempDir("tsovs-extract-");
  try {
    const file = path.join(dir, "corpus.pcap");
    fs.writeFileSync(file, writePcap(frames.map((f) => f.bytes)));
    const r = spawnSync("ovs-ofctl", ["parse-pcap", file], { encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => l.length > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("extraction matches ovs-ofctl parse-pcap on every corpus frame", { skip }, () => {
  // parse-pcap stops at a zero-length record, so the empty frame is left to the unit tests.
  const frames = allFrames().filter((f) => f.bytes.length > 0);
  const a = ours(frames);
  const b = theirs(frames);
  assert.equal(b.length, frames.length);
  const diffs: string[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (a[i] !== b[i]) diffs.push(`${frames[i]!.name} (${toHex(frames[i]!.bytes)})\n  ovs:    ${b[i]}\n  tsovs:  ${a[i]}`);
  }
  assert.equal(diffs.length, 0, `${diffs.length} of ${frames.length} differ:\n${diffs.slice(0, 15).join("\n")}`);
});

test("extraction matches OVS on packets built by ovs-ofctl compose-packet", { skip }, () => {
  const flows = [
    "tcp,nw_src=10.1.2.3,nw_dst=10.4.5.6,tp_src=1000,tp_dst=2000",
    "ip,nw_proto=17,dl_vlan=7,dl_vlan_pcp=5,nw_src=192.168.0.1,nw_dst=192.168.0.2,nw_tos=16,nw_ttl=3,udp_src=1,udp_dst=2",
    "icmp,icmp_type=3,icmp_code=1,nw_src=1.1.1.1,nw_dst=2.2.2.2",
    "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_sha=00:00:00:00:00:01",
    "ipv6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,nw_proto=17",
    "mpls,mpls_label=100,mpls_tc=3,mpls_ttl=10,mpls_bos=1",
    "dl_type=0x88cc",
  ];
  const frames: CorpusFrame[] = [];
  for (const fl of flows) {
    const bytes = composePacket(fl);
    assert.ok(bytes !== null, `compose-packet ${fl}`);
    frames.push({ name: fl, bytes });
  }
  assert.deepEqual(ours(frames), theirs(frames));
});

test("extraction matches OVS on randomly mutated frames", { skip }, () => {
  const base = allFrames();
  const rng = new Rng(Number(process.env["TSOVS_EXTRACT_SEED"] ?? 20261125));
  const scratch = new Uint8Array(4096);
  const frames: CorpusFrame[] = [];
  while (frames.length < MUTANTS) {
    const src = base[rng.below(base.length)]!;
    const n = mutateInto(src.bytes, scratch, rng);
    if (n === 0) continue;
    frames.push({ name: `mutant of ${src.name}`, bytes: scratch.slice(0, n) });
  }
  const a = ours(frames);
  const b = theirs(frames);
  assert.equal(b.length, frames.length);
  const diffs: string[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (a[i] !== b[i]) diffs.push(`${frames[i]!.name} (${toHex(frames[i]!.bytes)})\n  ovs:    ${b[i]}\n  tsovs:  ${a[i]}`);
  }
  assert.equal(diffs.length, 0, `${diffs.length} of ${frames.length} differ:\n${diffs.slice(0, 10).join("\n")}`);
});
