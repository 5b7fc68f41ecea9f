/**
 * Groups on the wire for OpenFlow 1.1–1.4: OFPT_GROUP_MOD and the
 * OFPST_GROUP_DESC reply, buckets with their actions, the checks OVS makes
 * when it decodes them (bucket lengths, watch ports, liveness per group
 * type) and their ofp-print text. (OpenFlow 1.5's bucket ids and group
 * properties are not here yet.)
 */
import type { OfpReader, OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type CodecContext, fail, formatPort, isDecodeError, OFPP_NONE, portFromOfp11, portToOfp11, type DecodeError, withPartial } from "./ofp-codec.js";
import type { OfpAction } from "./ofp-actions.js";
import { decodeActions, encodeActions, formatActions } from "./ofp-actions-codec.js";
import { isTextError } from "./ofp-actions-util.js";
/** "No group" (ofp-stats exports the same; kept here to avoid an import cycle). */
const OFPG_ANY = 0xffffffff;

export const OFPGT_ALL = 0;
export const OFPGT_SELECT = 1;
export const OFPGT_INDIRECT = 2;
export const OFPGT_FF = 3;

export interface Bucket {
  weight: number;
  /** OVS's 16-bit port space; OFPP_NONE (0xffff) when none. */
  watchPort: number;
  watchGroup: number;
  actions: OfpAction[];
}

export interface GroupDesc {
  groupId: number;
  type: number;
  buckets: Bucket[];
}

export interface GroupModBody extends GroupDesc {
  /** OFPGC_*: 0 add, 1 modify, 2 delete, 3 insert-bucket, 5 remove-bucket, 0x8000 add-or-modify (OVS). */
  command: number;
}

const BUCKET_LEN = 16;

function pullBuckets(r: OfpReader, len: number, version: number): Bucket[] | DecodeError {
  const buckets: Bucket[] = [];
  const end = r.pos + len;
  while (r.pos < end) {
    if (end - r.pos < BUCKET_LEN) return fail("OFPGMFC_BAD_BUCKET");
    const blen = r.u16();
    if (blen < BUCKET_LEN || blen > end - r.pos + 2 || blen % 8 !== 0) return fail("OFPGMFC_BAD_BUCKET");
    const weight = r.u16();
    const wp = portFromOfp11(r.u32());
    if (isDecodeError(wp)) return fail("OFPGMFC_BAD_WATCH");
    const watchGroup = r.u32();
    r.skip(4);
    const actions = decodeActions(r.bytes(blen - BUCKET_LEN), version);
    if (isDecodeError(actions)) return actions;
    buckets.push({ weight, watchPort: wp, watchGroup, actions });
  }
  return buckets;
}

function putBuckets(w: OfpWriter, buckets: readonly Bucket[], version: number): void {
  for (const b of buckets) {
    const acts = encodeActions(b.actions, version);
    if (isTextError(acts)) throw new RangeError(acts.error);
    w.u16(BUCKET_LEN + acts.length).u16(b.weight).u32(portToOfp11(b.watchPort)).u32(b.watchGroup).zeros(4).bytes(acts);
  }
}

const hasLiveness = (b: Bucket): boolean => b.watchPort !== OFPP_NONE || b.watchGroup !== OFPG_ANY;

/**
 * OVS's checks of a decoded group, in its order: the type, an indirect
 * group's single bucket (except for deletes and bucket inserts), the
 * command, then each bucket (weights only in select groups, liveness only
 * and always in fast-failover groups).
 */
function checkGroup(g: GroupDesc, command: number): DecodeError | null {
  if (g.type > OFPGT_FF) return fail("OFPGMFC_BAD_TYPE");
  if (g.type === OFPGT_INDIRECT && command !== 2 && command !== 3 && g.buckets.length !== 1) return fail("OFPGMFC_INVALID_GROUP");
  if (COMMANDS[command] === undefined) return fail("OFPGMFC_BAD_COMMAND");
  for (const b of g.buckets) {
    if (g.type !== OFPGT_SELECT && b.weight) return fail("OFPGMFC_INVALID_GROUP");
    if ((g.type === OFPGT_ALL || g.type === OFPGT_INDIRECT) && hasLiveness(b)) return fail("OFPGMFC_WATCH_UNSUPPORTED");
    if (g.type === OFPGT_FF && !hasLiveness(b)) return fail("OFPGMFC_INVALID_GROUP");
  }
  return null;
}

const TYPE_NAMES = ["all", "select", "indirect", "ff", "unknown"];

/** "group_id=N,type=T,bucket=...,bucket=..." as OVS's ofp_print_group. */
export function formatGroup(g: GroupDesc, suppressType = false): string {
  let s = `group_id=${g.groupId >>> 0}`;
  if (!suppressType) s += `,type=${TYPE_NAMES[Math.min(g.type, 4)]}`;
  s += ",";
  for (const b of g.buckets) {
    s += "bucket=";
    if (b.weight !== (g.type === OFPGT_SELECT ? 1 : 0)) s += `weight:${b.weight},`;
    if (b.watchPort !== OFPP_NONE) s += `watch_port:${formatPort(b.watchPort)},`;
    if (b.watchGroup !== OFPG_ANY) s += `watch_group:${b.watchGroup >>> 0},`;
    s += "actions=" + formatActions(b.actions) + ",";
  }
  return s.replace(/,+$/, "");
}

/** Wire commands: OpenFlow's three, OF1.5's bucket commands, OVS's add-or-modify. */
const COMMANDS: Readonly<Record<number, string>> = { 0: "ADD", 1: "MOD", 2: "DEL", 3: "INSERT_BUCKET", 5: "REMOVE_BUCKET", 0x8000: "ADD_OR_MOD" };
const isBucketCommand = (c: number): boolean => c === 3 || c === 5;

export const GROUP_MOD_CODEC: BodyCodec<GroupModBody> = {
  decode(r, ctx) {
    const command = r.u16();
    const type = r.u8();
    r.skip(1);
    const groupId = r.u32();
    const buckets = pullBuckets(r, r.remaining, ctx.version);
    if (isDecodeError(buckets)) return buckets;
    const g = { command, type, groupId, buckets };
    return checkGroup(g, command) ?? g;
  },
  encode(w, g, ctx) {
    w.u16(g.command).u8(g.type).zeros(1).u32(g.groupId);
    putBuckets(w, g.buckets, ctx.version);
  },
  print(g: GroupModBody, _ctx: CodecContext) {
    return `\n ${COMMANDS[g.command] ?? `cmd:${g.command}`} ` + formatGroup(g, isBucketCommand(g.command));
  },
};

export interface GroupDescReplyBody {
  groups: GroupDesc[];
}

export const GROUP_DESC_REPLY_CODEC: BodyCodec<GroupDescReplyBody> = {
  decode(r, ctx) {
    const groups: GroupDesc[] = [];
    while (r.remaining > 0) {
      if (r.remaining < 8) return withPartial(fail("OFPBRC_BAD_LEN"), { groups });
      const len = r.u16();
      if (len < 8 || len - 2 > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { groups });
      const type = r.u8();
      r.skip(1);
      const groupId = r.u32();
      const buckets = pullBuckets(r, len - 8, ctx.version);
      if (isDecodeError(buckets)) return withPartial(buckets, { groups });
      // A reply describes groups as they are: OVS checks them only in group-mods.
      groups.push({ groupId, type, buckets });
    }
    return { groups };
  },
  encode(w, b, ctx) {
    for (const g of b.groups) {
      const f = w.fork(2);
      w.u8(g.type).zeros(1).u32(g.groupId);
      putBuckets(w, g.buckets, ctx.version);
      w.join(f);
    }
  },
  print: (b) => b.groups.map((g) => "\n " + formatGroup(g)).join(""),
};
