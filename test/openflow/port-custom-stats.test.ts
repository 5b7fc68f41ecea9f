/**
 * OpenFlow 1.4+ port statistics with Intel's experimenter properties (the
 * RFC 2819 counters and the named "custom statistics" a dummy device
 * reports): decoding, encoding and printing checked against ovs-ofctl
 * ofp-print, and tsovs ofproto-test's replies against ovs-vswitchd's bytes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bytesToHex, decodeMessage, encodeMessage, ofpToString, type OfpMessage } from "../../src/openflow/index.js";
import { DummyNetdev } from "../../src/netdev/index.js";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { mirrorArgs, startRealBridge, startTsovsBridge } from "../util/ofproto.js";
import { multipart, ofpPrintAll } from "./ofctl-oracle.js";

const U64_MAX = 0xffffffffffffffffn;

function reply(version: number, custom: { name: string; value: bigint }[], rfc?: bigint[]): OfpMessage {
  const stat = (portNo: number) => ({
    portNo, rxPackets: 3n, txPackets: 4n, rxBytes: 300n, txBytes: 400n,
    rxDropped: U64_MAX, txDropped: 0n, rxErrors: 1n, txErrors: U64_MAX,
    rxFrameErr: U64_MAX, rxOverErr: 2n, rxCrcErr: U64_MAX, collisions: 0n,
    durationSec: 5, durationNsec: 123_000_000,
    ...(rfc !== undefined ? { rfc2819: rfc } : {}),
    customStats: custom,
  });
  return { type: "OFPST_PORT_REPLY", version, xid: 7, flags: 0, body: { stats: [stat(1), stat(0xfffe)] } } as unknown as OfpMessage;
}

const CUSTOM_SETS = [
  [],
  [{ name: "a", value: 1n }],
  [{ name: "rx_q0_bytes", value: 118n }, { name: "rx_q0_packets", value: 1n }, { name: "tx_q0_bytes", value: U64_MAX }],
  Array.from({ length: 7 }, (_, i) => ({ name: `counter_number_${i}`, value: BigInt(i * 1000) })),
];

describe("port statistics custom properties (OF1.4+)", () => {
  it("decode(encode(x)) = x, and encode(decode(bytes)) = bytes", () => {
    for (const v of [5, 6]) {
      for (const custom of CUSTOM_SETS) {
        for (const rfc of [undefined, Array.from({ length: 21 }, (_, i) => BigInt(i))]) {
          const bytes = encodeMessage(reply(v, custom, rfc));
          const d = decodeMessage(bytes);
          assert.ok(d.ok, `decode v${v}`);
          const stats = (d.msg.body as { stats: { customStats?: unknown; rfc2819?: unknown }[] }).stats;
          assert.deepEqual(stats[0]!.customStats ?? [], custom);
          assert.deepEqual(stats[0]!.rfc2819, rfc);
          assert.equal(bytesToHex(encodeMessage(d.msg)), bytesToHex(bytes));
        }
      }
    }
  });

  it("a truncated custom statistics property is OFPBPC_BAD_LEN", () => {
    const bytes = encodeMessage(reply(5, [{ name: "abc", value: 1n }]));
    // The custom property of the first port: shorten its name length claim past its end.
    const at = Buffer.from(bytes).indexOf(Buffer.from([0x03, 0x61, 0x62, 0x63]));
    assert.ok(at > 0);
    const bad = Uint8Array.from(bytes);
    bad[at] = 0x30;
    const d = decodeMessage(bad);
    assert.ok(!d.ok);
  });

  it("prints as ovs-ofctl ofp-print", { skip: ovsSkip("ovs-ofctl") }, async () => {
    const msgs: Uint8Array[] = [];
    for (const v of [5, 6]) for (const custom of CUSTOM_SETS) msgs.push(encodeMessage(reply(v, custom, custom.length === 1 ? Array.from({ length: 21 }, (_, i) => (i % 4 === 3 ? U64_MAX : BigInt(i))) : custom.length === 0 ? Array.from({ length: 21 }, (_, i) => (i < 7 ? U64_MAX : 9n)) : undefined)));
    const theirs = await ofpPrintAll(msgs);
    msgs.forEach((m, i) => assert.equal(ofpToString(m), theirs[i], bytesToHex(m)));
    assert.match(theirs[3]!, /CUSTOM Statistics\n {22}counter_number_0=0, counter_number_1=1000, counter_number_2=2000,\n/);
  });

  it("a dummy device counts its queue packets and bytes", () => {
    const d = new DummyNetdev("p1");
    assert.deepEqual(d.getCustomStats().map((c) => `${c.name}=${c.value}`), [
      "rx_custom_packets_1=0", "rx_custom_packets_2=0", "rx_q0_bytes=0", "rx_q0_packets=0", "tx_q0_bytes=0", "tx_q0_packets=0",
    ]);
    d.receive(new Uint8Array(60));
    d.receive(new Uint8Array(64));
    const stats = { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
    d.getStats(stats);
    const c = Object.fromEntries(d.getCustomStats().map((x) => [x.name, x.value]));
    assert.equal(c["rx_q0_packets"], stats.rxPackets);
    assert.equal(c["rx_q0_bytes"], stats.rxBytes);
    assert.equal(c["rx_custom_packets_1"], stats.rxPackets);
    d.close();
  });

  it("ofproto-test answers port statistics with ovs-vswitchd's bytes (durations aside)", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-ofctl") }, async () => {
    const real = await startRealBridge();
    let ts: Awaited<ReturnType<typeof startTsovsBridge>> | undefined;
    try {
      ts = await startTsovsBridge(mirrorArgs(real), tempDir("tsovs-ofp-"));
      for (const v of [5, 6]) {
        for (const port of [0xffffffff, 1, 0xfffffffe]) {
          const req = Buffer.alloc(24);
          req.writeUInt8(v, 0);
          req.writeUInt8(18, 1);
          req.writeUInt16BE(24, 2);
          req.writeUInt32BE(9, 4);
          req.writeUInt16BE(4, 8);
          req.writeUInt32BE(port, 16);
          const [a, b]: Uint8Array[][] = await Promise.all([multipart(`${real.dir}/br0.mgmt`, v, req), multipart(`${ts.dir}/br0.mgmt`, v, req)]);
          const zeroDurations = (parts: Uint8Array[]) =>
            parts.map((m) => {
              const c = Uint8Array.from(m);
              for (let o = 16; o + 80 <= c.length; o += (c[o]! << 8) | c[o + 1]!) c.fill(0, o + 8, o + 16);
              return bytesToHex(c);
            });
          assert.deepEqual(zeroDurations(b), zeroDurations(a), `OF version ${v} port ${port.toString(16)}`);
          const text = ofpToString(a[0]!);
          assert.match(text, /CUSTOM Statistics/);
          assert.equal(text, (await ofpPrintAll([a[0]!]))[0]);
        }
      }
    } finally {
      await ts?.stop();
      await real.stop();
    }
  });
});
