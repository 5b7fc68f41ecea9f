/**
 * Groups on the wire for OpenFlow 1.1–1.4: OFPT_GROUP_MOD and the
 * OFPST_GROUP_DESC reply, buckets with their actions, the checks OVS makes
 * when it decodes them (bucket lengths, watch ports, liveness per group
 * type) and their ofp-print text, which also covers OpenFlow 1.5's bucket
 * ids and group properties (their wire form is in ofp-group15.ts).
 */
import type { OfpReader, OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type CodecContext, fail, formatPort, isDecodeError, OFPP_NONE, portFromOfp11, portToOfp11, type DecodeError, withPartial } from "./ofp-codec.js";
import type { OfpAction } from "./ofp-actions.js";
import { decodeActions, encodeActions, formatActions } from "./ofp-actions-codec.js";
import { isTextError } from "./ofp-actions-util.js";
import { formatMfValue, mfFromName } from "./meta-flow.js";
/** "No group" (ofp-stats exports the same; kept here to avoid an import cycle). */
const OFPG_ANY = 0xffffffff;

export const OFPGT_ALL = 0;
export const OFPGT_SELECT = 1;
export const OFPGT_INDIRECT = 2;
export const OFPGT_FF = 3;

export interface Bucket {
  /** OpenFlow 1.5 (and OVS's OpenFlow 1.0 groups): the bucket's id; absent in 1.1–1.4. */
  bucketId?: number;
  weight: number;
  /** OVS's 16-bit port space; OFPP_NONE (0xffff) when none. */
  watchPort: number;
  watchGroup: number;
  actions: OfpAction[];
}

/** OpenFlow 1.5 group properties: the (Netronome) selection method of a select group. */
export interface GroupProps {
  /** "hash" or "dp_hash". */
  selectionMethod: string;
  selectionMethodParam: bigint;
  /** Fields hashed by "hash", in OVS's field order, each with its mask (all-ones: whole field). */
  fields: { name: string; mask: Uint8Array }[];
}

export interface GroupDesc {
  groupId: number;
  type: number;
  buckets: Bucket[];
  /** OpenFlow 1.5 only. */
  props?: GroupProps;
}

export interface GroupModBody extends GroupDesc {
  /** OFPGC_*: 0 add, 1 modify, 2 delete, 3 insert-bucket, 5 remove-bucket, 0x8000 add-or-modify (OVS). */
  command: number;
  /** OpenFlow 1.5 bucket commands: the bucket to insert after / remove (0xffffffff all, 0xfffffffd first, 0xfffffffe last). */
  commandBucketId?: number;
}

const BUCKET_LEN = 16;

function pullBuckets(r: OfpReader, len: number, version: number): Bucket[] | DecodeError {
  const buckets: Bucket[] = [];
  const end = r.pos + len;
  while (r.pos < end) {
    if (end - r.pos < BUCKET_LEN) return fail("OFPGMFC_BAD_BUCKET");
    const blen = r.u16();
    if (blen < BUCKET_LEN || blen > end - r.pos + 2) return fail("OFPGMFC_BAD_BUCKET");
    const weight = r.u16();
    const rawWatchPort = r.u32();
    const watchGroup = r.u32();
    r.skip(4);
    // As OVS: the actions first (a length that is not a multiple of 8 is
    // theirs to reject), then the watch port.
    const actions = decodeActions(r.bytes(blen - BUCKET_LEN), version);
    if (isDecodeError(actions)) return actions;
    const wp = portFromOfp11(rawWatchPort);
    if (isDecodeError(wp)) return fail("OFPGMFC_BAD_WATCH");
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
 * command (a remove-bucket carries no buckets), then each bucket (weights
 * only in select groups or inserted buckets, liveness only and always in
 * fast-failover groups).
 */
export function checkGroupMod(g: GroupModBody, _version: number): DecodeError | null {
  const command = g.command;
  if (g.type > OFPGT_FF) return fail("OFPGMFC_BAD_TYPE");
  if (g.type === OFPGT_INDIRECT && command !== 2 && command !== 3 && g.buckets.length !== 1) return fail("OFPGMFC_INVALID_GROUP");
  if (COMMANDS[command] === undefined) return fail("OFPGMFC_BAD_COMMAND");
  if (command === 5 && g.buckets.length) return fail("OFPGMFC_BAD_BUCKET");
  for (const b of g.buckets) {
    // A bucket inserted into a group of any type may carry a weight.
    if (g.type !== OFPGT_SELECT && b.weight && command !== 3) return fail("OFPGMFC_INVALID_GROUP");
    if ((g.type === OFPGT_ALL || g.type === OFPGT_INDIRECT) && hasLiveness(b)) return fail("OFPGMFC_WATCH_UNSUPPORTED");
    if (g.type === OFPGT_FF && !hasLiveness(b)) return fail("OFPGMFC_INVALID_GROUP");
  }
  return null;
}

const TYPE_NAMES = ["all", "select", "indirect", "ff", "unknown"];

/** Bucket ids are shown only where they exist on the wire: OpenFlow 1.0 (OVS's extension) and 1.5+. */
const showsBucketIds = (version: number): boolean => version === 1 || version >= 6;

function bucketIdText(id: number): string {
  return id === 0xfffffffd ? "first" : id === 0xfffffffe ? "last" : id === 0xffffffff ? "all" : String(id >>> 0);
}

/** Text of a selection-method field array: "eth_dst,ip_dst=255.255.255.0". */
export function formatFieldArray(fields: GroupProps["fields"]): string {
  return fields
    .map((f) => {
      const fld = mfFromName(f.name);
      if (!fld || f.mask.every((x) => x === 0xff)) return f.name;
      return `${f.name}=${formatMfValue(fld, { value: f.mask, mask: null })}`;
    })
    .join(",");
}

/** "group_id=N,type=T,bucket=...,bucket=..." as OVS's ofp_print_group. */
export function formatGroup(g: GroupDesc, suppressType = false, version = 4): string {
  let s = `group_id=${g.groupId >>> 0}`;
  if (!suppressType) s += `,type=${TYPE_NAMES[Math.min(g.type, 4)]}`;
  const p = g.props;
  if (p && p.selectionMethod) {
    s += `,selection_method=${p.selectionMethod}`;
    if (p.selectionMethodParam) s += `,selection_method_param=${p.selectionMethodParam}`;
    if (p.fields.length === 1) s += `,fields=${formatFieldArray(p.fields)}`;
    else if (p.fields.length > 1) s += `,fields(${formatFieldArray(p.fields)})`;
  }
  s += ",";
  for (const b of g.buckets) {
    s += "bucket=";
    if (showsBucketIds(version)) s += `bucket_id:${bucketIdText(b.bucketId ?? 0)},`;
    if (b.weight !== (g.type === OFPGT_SELECT ? 1 : 0)) s += `weight:${b.weight},`;
    if (b.watchPort !== OFPP_NONE) s += `watch_port:${formatPort(b.watchPort)},`;
    if (b.watchGroup !== OFPG_ANY) s += `watch_group:${b.watchGroup >>> 0},`;
    s += "actions=" + formatActions(b.actions) + ",";
  }
  return s.replace(/,+$/, "");
}

/** ofp-print's text of a group_mod body. */
export function formatGroupMod(g: GroupModBody, version: number): string {
  const bucketCommand = isBucketCommand(g.command);
  let s = `\n ${COMMANDS[g.command] ?? `cmd:${g.command}`} `;
  if (bucketCommand && showsBucketIds(version)) s += `command_bucket_id:${bucketIdText(g.commandBucketId ?? 0xffffffff)},`;
  return s + formatGroup(g, bucketCommand, version);
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
    // OpenFlow 1.3.5 and later forbid buckets in a delete.
    if (ctx.version >= 4 && command === 2 && buckets.length) return fail("OFPGMFC_INVALID_GROUP");
    const g = { command, type, groupId, buckets };
    return checkGroupMod(g, ctx.version) ?? g;
  },
  encode(w, g, ctx) {
    w.u16(g.command).u8(g.type).zeros(1).u32(g.groupId);
    putBuckets(w, g.buckets, ctx.version);
  },
  print(g: GroupModBody, ctx: CodecContext) {
    return formatGroupMod(g, ctx.version);
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
  print: (b, ctx) => b.groups.map((g) => "\n " + formatGroup(g, false, ctx.version)).join(""),
};
