/**
 * OpenFlow 1.5's flow messages whose counters moved into OXS statistics
 * (TLVs after the match): OFPT_FLOW_REMOVED, the OFPST_FLOW reply (flow
 * descriptions) and the OFPST_AGGREGATE reply. Bodies are the same as for
 * the earlier versions (ofp-flow.ts); a counter OVS leaves out travels as
 * all-ones (unknown) and prints as OVS prints it.
 */
import type { OfpReader, OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type DecodeError, decodeEntries, fail, failInvalid, isDecodeError } from "./ofp-codec.js";
import {
  type AggregateReplyBody,
  blankStats,
  decodeFlowFlags,
  putActionsOrThrow,
  encodeFlowFlags,
  type FlowRemovedBody,
  type FlowStats,
  type FlowStatsReplyBody,
  printFlowRemoved,
  printFlowStatsReply,
  pullInstructions,
  pullOfp11Match,
  putOfp11Match,
} from "./ofp-flow.js";

const U32_MAX = 0xffffffff;
const U64_MAX = 0xffffffffffffffffn;

/** OXS statistics; a field OVS did not send is all-ones. */
export interface OxsStats {
  durationSec: number;
  durationNsec: number;
  /** Seconds idle. */
  idleAge: number;
  flowCount: number;
  packetCount: bigint;
  byteCount: bigint;
}

const OXS_CLASS = 0x8002;
const OXS_DURATION = 0;
const OXS_IDLE_TIME = 1;
const OXS_FLOW_COUNT = 3;
const OXS_PACKET_COUNT = 4;
const OXS_BYTE_COUNT = 5;
/** The statistics OVS knows, by their whole 32-bit header (class, field, length). */
const oxsHeader = (field: number, len: number): number => ((OXS_CLASS << 16) | (field << 9) | len) >>> 0;
const H_DURATION = oxsHeader(OXS_DURATION, 8);
const H_IDLE = oxsHeader(OXS_IDLE_TIME, 8);
const H_FLOWS = oxsHeader(OXS_FLOW_COUNT, 4);
const H_PACKETS = oxsHeader(OXS_PACKET_COUNT, 8);
const H_BYTES = oxsHeader(OXS_BYTE_COUNT, 8);

function unknownStats(): OxsStats {
  return { durationSec: U32_MAX, durationNsec: U32_MAX, idleAge: U32_MAX, flowCount: U32_MAX, packetCount: U64_MAX, byteCount: U64_MAX };
}

/** oxs_pull_stat: an ofp_oxs_stat header, its TLVs, padding to 8 bytes. */
export function pullOxsStats(r: OfpReader): OxsStats | DecodeError {
  const st = unknownStats();
  if (r.remaining < 4) return fail("OFPBMC_BAD_LEN");
  const start = r.pos;
  r.skip(2);
  const len = r.u16();
  if (len < 4 || ((len + 7) & ~7) > r.end - start) return fail("OFPBMC_BAD_LEN");
  const end = start + len;
  while (r.pos < end) {
    if (end - r.pos < 4) return fail("OFPBMC_BAD_LEN");
    let header = r.u32();
    const cls = header >>> 16;
    let hlen = header & 0xff;
    if (cls === 0xffff) {
      if (end - r.pos < 4) return fail("OFPBMC_BAD_LEN");
      if (hlen < 4) return fail("OFPBMC_BAD_LEN");
      r.skip(4);
      hlen -= 4;
      header = 0;
    }
    if (hlen > end - r.pos) return fail("OFPBMC_BAD_LEN");
    const at = r.pos;
    const dv = new DataView(r.data.buffer, r.data.byteOffset + at, hlen);
    switch (header) {
      case H_DURATION:
        st.durationSec = dv.getUint32(0);
        st.durationNsec = dv.getUint32(4);
        break;
      case H_IDLE:
        st.idleAge = dv.getUint32(0);
        break;
      case H_FLOWS:
        st.flowCount = dv.getUint32(0);
        break;
      case H_PACKETS:
        st.packetCount = dv.getBigUint64(0);
        break;
      case H_BYTES:
        st.byteCount = dv.getBigUint64(0);
        break;
      default:
        // Statistics OVS does not know are skipped.
        break;
    }
    r.pos = at + hlen;
  }
  r.pos = start + ((len + 7) & ~7);
  return st;
}

/** oxs_put_stats: every known statistic, padded to 8 bytes. */
export function putOxsStats(w: OfpWriter, st: OxsStats): void {
  const start = w.length;
  w.u16(0).u16(0);
  if (st.durationSec !== U32_MAX) w.u32(H_DURATION).u32(st.durationSec).u32(st.durationNsec);
  if (st.idleAge !== U32_MAX) w.u32(H_IDLE).u32(st.idleAge).u32(0);
  if (st.packetCount !== U64_MAX) w.u32(H_PACKETS).u64(st.packetCount);
  if (st.byteCount !== U64_MAX) w.u32(H_BYTES).u64(st.byteCount);
  if (st.flowCount !== U32_MAX) w.u32(H_FLOWS).u32(st.flowCount);
  w.setU16(start + 2, w.length - start);
  w.padTo(8, start);
}

/** Not an OpenFlow error: OVS's OpenFlow 1.5 flow statistics decoder fails with EINVAL. */
const invalid = (): DecodeError => failInvalid();

/** OFPST_FLOW reply, OpenFlow 1.5: flow descriptions with OXS statistics. */
export const OFP15_FLOW_STATS_REPLY_CODEC: BodyCodec<FlowStatsReplyBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    return decodeEntries(
      r,
      (r): FlowStats | DecodeError => {
        if (r.remaining < 24) return invalid();
        const start = r.pos;
        const fs = blankStats();
        const length = r.u16();
        r.skip(2);
        fs.tableId = r.u8();
        r.skip(1);
        fs.priority = r.u16();
        fs.idleTimeout = r.u16();
        fs.hardTimeout = r.u16();
        const rawFlags = r.u16();
        fs.importance = r.u16();
        fs.cookie = r.u64();
        if (length < 24) return invalid();
        const m = pullOfp11Match(r, true);
        if (isDecodeError(m)) return invalid();
        fs.match = m;
        const flags = decodeFlowFlags(rawFlags, -1, v);
        if (isDecodeError(flags)) return flags;
        fs.flags = flags;
        const st = pullOxsStats(r);
        if (isDecodeError(st)) return invalid();
        fs.durationSec = st.durationSec;
        fs.durationNsec = st.durationNsec;
        fs.packetCount = st.packetCount;
        fs.byteCount = st.byteCount;
        fs.idleAge = st.idleAge === U32_MAX ? -1 : st.idleAge;
        fs.hardAge = -1;
        const acts = pullInstructions(r, length - (r.pos - start), v);
        if (isDecodeError(acts)) return acts;
        fs.actions = acts;
        return fs;
      },
      (stats): FlowStatsReplyBody => ({ stats }),
    );
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    for (const fs of b.stats) {
      const start = w.length;
      w.u16(0).zeros(2).u8(fs.tableId).zeros(1).u16(fs.priority).u16(fs.idleTimeout).u16(fs.hardTimeout);
      w.u16(encodeFlowFlags(fs.flags, v)).u16(fs.importance).u64(fs.cookie);
      putOfp11Match(w, fs.match, v);
      putOxsStats(w, {
        durationSec: fs.durationSec, durationNsec: fs.durationNsec, idleAge: fs.idleAge >= 0 ? fs.idleAge : U32_MAX,
        flowCount: U32_MAX, packetCount: fs.packetCount, byteCount: fs.byteCount,
      });
      putActionsOrThrow(w, fs.actions, v);
      w.setU16(start, w.length - start);
    }
  },
  print: printFlowStatsReply,
};

/** OFPT_FLOW_REMOVED, OpenFlow 1.5: the counters are OXS statistics after the match. */
export const OFP15_FLOW_REMOVED_CODEC: BodyCodec<FlowRemovedBody> = {
  decode(r) {
    const tableId = r.u8();
    const reason = r.u8();
    const priority = r.u16();
    const idleTimeout = r.u16();
    const hardTimeout = r.u16();
    const cookie = r.u64();
    const m = pullOfp11Match(r, true);
    if (isDecodeError(m)) return m;
    const st = pullOxsStats(r);
    if (isDecodeError(st)) return st;
    return {
      match: m, priority, reason, tableId, cookie, durationSec: st.durationSec, durationNsec: st.durationNsec,
      idleTimeout, hardTimeout, packetCount: st.packetCount, byteCount: st.byteCount,
    };
  },
  encode(w, fr, ctx) {
    w.u8(fr.tableId).u8(fr.reason).u16(fr.priority).u16(fr.idleTimeout).u16(fr.hardTimeout).u64(fr.cookie);
    putOfp11Match(w, fr.match, ctx.version);
    putOxsStats(w, {
      durationSec: fr.durationSec, durationNsec: fr.durationNsec, idleAge: U32_MAX, flowCount: U32_MAX,
      packetCount: fr.packetCount, byteCount: fr.byteCount,
    });
  },
  print: printFlowRemoved,
};

/** OFPST_AGGREGATE reply, OpenFlow 1.5: OXS statistics only. */
export const OFP15_AGGREGATE_REPLY_CODEC: BodyCodec<AggregateReplyBody> = {
  decode(r) {
    const st = pullOxsStats(r);
    if (isDecodeError(st)) return st;
    return { packetCount: st.packetCount, byteCount: st.byteCount, flowCount: st.flowCount };
  },
  encode(w, b) {
    putOxsStats(w, { durationSec: U32_MAX, durationNsec: U32_MAX, idleAge: U32_MAX, flowCount: b.flowCount, packetCount: b.packetCount, byteCount: b.byteCount });
  },
  print: (b) => ` packet_count=${b.packetCount} byte_count=${b.byteCount} flow_count=${b.flowCount}`,
};
