import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { isPcapError, PcapStreamReader, readPcap, writePcap, PCAP_LINKTYPE_ETHERNET } from "../../src/packet/index.js";
import { tempDir, which } from "../util/ovs.js";
import { eth, ipv4, udp, ETH_TYPE_IP } from "../util/packets.js";

const frames = [eth({}, ETH_TYPE_IP, ipv4({}, udp(1, 2))), Uint8Array.of(1, 2, 3), new Uint8Array(1514).fill(7)];

test("write then read gives back every frame and timestamp", () => {
  const bytes = writePcap([{ data: frames[0]!, timeNs: 1_700_000_000_123_456_000n, origLen: 99 }, frames[1]!, frames[2]!]);
  const f = readPcap(bytes);
  assert.ok(!isPcapError(f));
  assert.equal(f.linkType, PCAP_LINKTYPE_ETHERNET);
  assert.equal(f.records.length, 3);
  assert.deepEqual(f.records[0]!.data, frames[0]);
  assert.equal(f.records[0]!.timeNs, 1_700_000_000_123_456_000n);
  assert.equal(f.records[0]!.origLen, 99);
  assert.deepEqual(f.records[2]!.data, frames[2]);
});

test("big-endian and nanosecond files are read; bad files are errors, not exceptions", () => {
  const be = new Uint8Array(24 + 16 + 2);
  const dv = new DataView(be.buffer);
  dv.setUint32(0, 0xa1b23c4d, false);
  dv.setUint16(4, 2, false);
  dv.setUint16(6, 4, false);
  dv.setUint32(16, 65535, false);
  dv.setUint32(20, 1, false);
  dv.setUint32(24, 5, false);
  dv.setUint32(28, 7, false);
  dv.setUint32(32, 2, false);
  dv.setUint32(36, 2, false);
  be[40] = 0xab;
  be[41] = 0xcd;
  const f = readPcap(be);
  assert.ok(!isPcapError(f));
  assert.ok(f.nanosecond);
  assert.equal(f.records[0]!.timeNs, 5_000_000_007n);
  assert.deepEqual([...f.records[0]!.data], [0xab, 0xcd]);
  assert.deepEqual(readPcap(new Uint8Array(10)), { error: "failed to read pcap header: End of file" });
  assert.ok(isPcapError(readPcap(new Uint8Array(24))));
  assert.ok(isPcapError(readPcap(be.slice(0, 41))));
  assert.ok(isPcapError(readPcap(be.slice(0, 30))));
});

test("the stream reader assembles records split across chunks", () => {
  const bytes = writePcap(frames);
  const r = new PcapStreamReader();
  const got: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 7) for (const rec of r.push(bytes.subarray(i, i + 7))) got.push(rec.data);
  assert.equal(r.error, null);
  assert.deepEqual(got, frames);
  const bad = new PcapStreamReader();
  bad.push(new Uint8Array(24).fill(1));
  assert.match(bad.error ?? "", /bad magic/);
});

test("tcpdump reads our pcap files", { skip: which("tcpdump") === null ? "tcpdump not installed" : false }, () => {
  const dir = tempDir("tsovs-pcap-");
  try {
    const file = path.join(dir, "x.pcap");
    fs.writeFileSync(file, writePcap([frames[0]!]));
    const r = spawnSync("tcpdump", ["-nr", file], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /10\.0\.0\.1\.1 > 10\.0\.0\.2\.2: UDP/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
