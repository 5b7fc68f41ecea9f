/**
 * Differential test over the wire: the same OFPT_GROUP_MOD / OFPT_METER_MOD
 * messages (also ones ovs-ofctl cannot send: zero rates, no bands, unknown
 * flags, reserved ids) go to a real ovs-vswitchd 3.1 over a raw OpenFlow
 * connection and, decoded by our codecs, to GroupTable / MeterTable through
 * the hooks the switch uses. The errors must be the same, and every reply
 * (group desc and stats per group, meter config and stats per meter, both
 * features) must be byte for byte what OVS sends, durations zeroed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { startRealVswitchd, stopRealVswitchd } from "../util/dpctl.js";
import { decodeMessage, encodeMessage, errorReply, type OfpMessage } from "../../src/openflow/index.js";
import { parseGroupMod } from "../../src/openflow/ofp-group-parse.js";
import { RawOfconn } from "./raw-ofconn.js";
import { newSwitch, type Actions } from "./group-meter-text.js";
import type { RemovedRule } from "../../src/ofproto/index.js";

const skip = ovsSkip("ovs-vswitchd", "ovsdb-server");

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Zeroes each stats entry's duration (group and meter stats: bytes 32..40 of an entry) in a one-entry reply. */
function zeroDuration(b: Uint8Array): Uint8Array {
  const c = b.slice();
  if (c.length >= 16 + 40) c.fill(0, 16 + 32, 16 + 40);
  return c;
}

function errorName(b: Uint8Array): string | null {
  const d = decodeMessage(b);
  return d.ok && d.msg.type === "OFPT_ERROR" ? (d.msg.body as { error: string }).error : null;
}

const meter = (command: number, meterId: number, flags: number, bands: [type: number, rate: number, burst: number, prec?: number][]) => ({
  type: "OFPT_METER_MOD" as const,
  body: { command, meter: { meterId, flags, bands: bands.map(([type, rate, burstSize, precLevel]) => ({ type, rate, burstSize, precLevel: precLevel ?? 0 })) } },
});

describe("group and meter messages vs ovs-vswitchd 3.1, byte for byte", { skip }, () => {
  let dir = "";
  let stop: () => void = () => {};

  before(() => {
    dir = tempDir("tsovs-groups-wire-");
    stop = startRealVswitchd(dir);
  });
  after(() => stopRealVswitchd(dir, stop));

  /** One side-by-side session for `version`. */
  async function session(version: number) {
    const conn = await RawOfconn.open(path.join(dir, "br0.mgmt"), version);
    const sw = newSwitch();
    const removed: RemovedRule<Actions>[] = [];
    const groups = sw.groups.hook(() => 0, (r) => removed.push(...r));
    const meters = sw.meters.hook(() => 0, (r) => removed.push(...r));

    /** Sends one message to both; asserts the same outcome. */
    const mod = async (m: Omit<OfpMessage, "xid" | "version">, what: string): Promise<string | null> => {
      const real = await conn.transact([m]);
      const realError = real.length > 0 ? errorName(real[0]!) : null;
      const bytes = encodeMessage({ ...m, version, xid: 1 } as OfpMessage);
      const d = decodeMessage(bytes);
      let ours: string | null;
      if (!d.ok) ours = d.error;
      else if (d.msg.type === "OFPT_GROUP_MOD") ours = groups.groupMod(d.msg.body, version, null);
      else if (d.msg.type === "OFPT_METER_MOD") ours = meters.meterMod(d.msg.body, version, null);
      else throw new Error(`unexpected ${d.msg.type}`);
      assert.equal(ours, realError, what);
      return ours;
    };

    /** A stats request to both; the replies must be the same bytes. */
    const stats = async (type: OfpMessage["type"], body: unknown, what: string): Promise<void> => {
      const [real] = await conn.transact([{ type, body, statsFlags: 0 } as Omit<OfpMessage, "xid" | "version">]);
      assert.ok(real, `${what}: no reply`);
      const xid = new DataView(real.buffer, real.byteOffset).getUint32(4);
      const request = encodeMessage({ type, version, xid, body, statsFlags: 0 } as OfpMessage);
      const hook = type.startsWith("OFPST_GROUP") ? groups.groupStats : meters.meterStats;
      const replyBody = type === "OFPST_GROUP_FEATURES_REQUEST" ? sw.groups.featuresReply() : type === "OFPST_METER_FEATURES_REQUEST" ? sw.meters.featuresReply() : hook(type, body, version);
      const ours =
        typeof replyBody === "string"
          ? encodeMessage(errorReply(replyBody as never, request))
          : encodeMessage({ type: type.replace("_REQUEST", "_REPLY"), version, xid, statsFlags: 0, body: replyBody } as OfpMessage);
      assert.equal(hex(zeroDuration(ours)), hex(zeroDuration(real)), what);
    };
    return { conn, sw, mod, stats, removed };
  }

  function groupMsg(command: number, text: string, version: number): Omit<OfpMessage, "xid" | "version"> {
    const p = parseGroupMod(text, command);
    if ("error" in p) throw new Error(p.error);
    const body = version >= 6 ? p : { command: p.command, type: p.type, groupId: p.groupId, buckets: p.buckets.map(({ bucketId: _, ...b }) => b) };
    return { type: "OFPT_GROUP_MOD", body } as Omit<OfpMessage, "xid" | "version">;
  }

  for (const version of [4, 6]) {
    test(`groups over OpenFlow 1.${version - 1}: errors, desc and stats replies per group`, async () => {
      const s = await session(version);
      try {
        await s.mod(groupMsg(2, "", version), "delete all");
        const mods: [number, string][] = [
          [0, "group_id=1,type=all,bucket=output:1,bucket=output:2"],
          [0, "group_id=1,type=all,bucket=output:1"],
          [0, "group_id=2,type=indirect,bucket=actions=group:1"],
          [0, "group_id=3,type=select,bucket=weight:0,output:1,bucket=weight:5,actions=set_field:5->reg1,group:9"],
          [0, "group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_group:2,output:2"],
          [0, "group_id=4294967292,type=all,bucket=output:1"],
          [0, "group_id=0xffffff00,type=all"],
          [1, "group_id=9,type=all,bucket=output:1"],
          [0x8000, "group_id=9,type=all,bucket=output:1"],
          [1, "group_id=9,type=select,bucket=output:2,bucket=weight:3,output:1"],
          ...(version >= 6
            ? ([
                [0, "group_id=5,type=select,selection_method=hash,fields(eth_dst,ip_src=255.255.0.0),bucket=output:1"],
                [0, "group_id=6,type=select,selection_method=dp_hash,selection_method_param=9,bucket=bucket_id:7,output:1,bucket=output:2"],
                [3, "group_id=6,command_bucket_id=7,bucket=bucket_id:3,output:3"],
                [3, "group_id=6,command_bucket_id=first,bucket=bucket_id:3,output:3"],
                [5, "group_id=6,command_bucket_id=0"],
                [5, "group_id=6,command_bucket_id=42"],
              ] as [number, string][])
            : []),
        ];
        for (const [cmd, text] of mods) await s.mod(groupMsg(cmd, text, version), text);
        const ids = [1, 2, 3, 4, 5, 6, 9, 0xffffff00, 77];
        for (const id of ids) {
          await s.stats("OFPST_GROUP_REQUEST", { groupId: id }, `group stats ${id}`);
          if (version >= 6) await s.stats("OFPST_GROUP_DESC_REQUEST", { groupId: id }, `group desc ${id}`);
        }
        await s.stats("OFPST_GROUP_FEATURES_REQUEST", {}, "group features");
        if (version < 6) {
          // OF1.1-1.4 desc lists every group, in OVS's hash order: compare decoded, sorted.
          const [real] = await s.conn.transact([{ type: "OFPST_GROUP_DESC_REQUEST", body: { groupId: 0xfffffffc }, statsFlags: 0 } as never]);
          const d = decodeMessage(real!);
          assert.ok(d.ok);
          const theirs = (d.msg.body as { groups: { groupId: number }[] }).groups.sort((a, b) => a.groupId - b.groupId);
          const ours = decodeMessage(encodeMessage({ type: "OFPST_GROUP_DESC_REPLY", version, xid: 0, statsFlags: 0, body: { groups: s.sw.groups.descReply() } } as OfpMessage));
          assert.ok(ours.ok);
          assert.deepEqual((ours.msg.body as { groups: unknown[] }).groups, theirs);
        }
        await s.mod(groupMsg(2, "", version), "delete all");
      } finally {
        s.conn.close();
      }
    });
  }

  test("meters over OpenFlow 1.3: every error of the userspace datapath, config and stats replies per meter", async () => {
    const s = await session(4);
    try {
      await s.mod(meter(2, 0xffffffff, 0, []), "delete all");
      const mods: [ReturnType<typeof meter>, string][] = [
        [meter(0, 1, 1, [[1, 100, 0]]), "add"],
        [meter(0, 1, 1, [[1, 100, 0]]), "exists"],
        [meter(0, 2, 2 | 4 | 8, [[1, 10, 0], [1, 20, 30]]), "burst 0 becomes the rate"],
        [meter(0, 100, 1, [[1, 0, 0]]), "rate 0"],
        [meter(0, 0, 1, [[1, 5, 0]]), "meter 0"],
        [meter(0, 0xffffffff, 1, [[1, 5, 0]]), "meter all"],
        [meter(0, 0xffff0001, 1, [[1, 5, 0]]), "above max"],
        [meter(0, 0xfffffffe, 2, [[1, 5, 0]]), "controller meter"],
        [meter(0, 101, 0, [[1, 5, 0]]), "no unit"],
        [meter(0, 102, 16 | 1, [[1, 5, 0]]), "unknown flag"],
        [meter(0, 103, 3, [[1, 5, 0]]), "two units"],
        [meter(0, 104, 1, []), "no band"],
        [meter(0, 105, 1, Array.from({ length: 9 }, (_, i) => [1, 5 + i, 0] as [number, number, number])), "nine bands"],
        [meter(0, 106, 1, [[2, 5, 0, 1]]), "dscp_remark"],
        [meter(1, 5000, 1, [[2, 5, 0, 1]]), "modify a missing meter"],
        [meter(1, 1, 2 | 4, [[1, 7, 0]]), "modify"],
        [meter(1, 0xffffffff, 1, [[1, 5, 0]]), "modify all"],
        [meter(3, 1, 1, [[1, 5, 0]]), "bad command"],
        [meter(2, 0, 0, []), "delete meter 0"],
      ];
      for (const [m, what] of mods) await s.mod(m, what);
      for (const id of [1, 2, 0xfffffffe, 77]) {
        await s.stats("OFPST_METER_CONFIG_REQUEST", { meterId: id }, `meter config ${id}`);
        await s.stats("OFPST_METER_REQUEST", { meterId: id }, `meter stats ${id}`);
      }
      await s.stats("OFPST_METER_FEATURES_REQUEST", {}, "meter features");
      await s.mod(meter(2, 0xffffffff, 0, []), "delete all");
      await s.stats("OFPST_METER_REQUEST", { meterId: 1 }, "meter stats after delete");
    } finally {
      s.conn.close();
    }
  });
});
