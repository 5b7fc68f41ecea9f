/**
 * Groups in OpenFlow 1.5's wire form, which OVS also uses for its
 * OpenFlow 1.0 group extension (NXT_GROUP_MOD, NXST_GROUP_DESC): buckets
 * with ids and TLV properties (weight, watch port, watch group), the
 * bucket commands' command_bucket_id, and the group properties (the
 * Netronome selection-method property: method, parameter and hash fields).
 *
 * Bodies are the same `GroupModBody` / `GroupDesc` as OpenFlow 1.1–1.4
 * (ofp-group.ts) with the 1.5 parts filled in (`bucketId`,
 * `commandBucketId`, `props`), so one body encodes into any version.
 */
import { OfpReader, type OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, type CodecContext, type DecodeError, fail, isDecodeError, type OfpProp, OFPP_NONE, pullOfpProp, portFromOfp11, portToOfp11, withPartial, putProperty } from "./ofp-codec.js";
import { decodeActions, encodeActions } from "./ofp-actions-codec.js";
import { isTextError } from "./ofp-actions-util.js";
import { decodeNxmHeader, encodeNxmHeader, headerForCode, mfFromHeader, mfFromName } from "./meta-flow.js";
import { codeFor } from "./nx-match.js";
import { type Bucket, checkGroupMod, formatGroupMod, formatGroup, type GroupDesc, type GroupModBody, type GroupProps, OFPGT_SELECT } from "./ofp-group.js";
import { headerLengthFits, sortFieldNames } from "./ofp-table-features.js";

export const OFPG15_BUCKET_MAX = 0xffffff00;
export const OFPG15_BUCKET_FIRST = 0xfffffffd;
export const OFPG15_BUCKET_LAST = 0xfffffffe;
export const OFPG15_BUCKET_ALL = 0xffffffff;
const OFPG_ANY = 0xffffffff;

const OFPGBPT15_WEIGHT = 0;
const OFPGBPT15_WATCH_PORT = 1;
const OFPGBPT15_WATCH_GROUP = 2;
/** Netronome's experimenter id and its selection-method property. */
export const NTR_VENDOR_ID = 0x0000154d;
const NTR_COMPAT_VENDOR_ID = 0x00001540;
const NTRT_SELECTION_METHOD = 1;
const NTR_PROP_LEN = 40;

const BUCKET15_LEN = 8;
const OFPGC15_ADD = 0;
const OFPGC15_MODIFY = 1;
const OFPGC15_DELETE = 2;
const OFPGC15_INSERT_BUCKET = 3;
const OFPGC15_REMOVE_BUCKET = 5;
const OFPGC_ADD_OR_MOD = 0x8000;

/** OFPPROP_UNKNOWN in strict mode, as group properties are decoded. */
function unknownProp(p: OfpProp): DecodeError {
  return fail(p.type < 0 ? "OFPBPC_BAD_EXP_TYPE" : "OFPBPC_BAD_TYPE");
}

function pullBuckets15(r: OfpReader, len: number, version: number, groupType: number): Bucket[] | DecodeError {
  const buckets: Bucket[] = [];
  let left = len;
  while (left > 0) {
    if (r.remaining < BUCKET15_LEN) return fail("OFPGMFC_BAD_BUCKET");
    const blen = r.u16();
    const actionsLen = r.u16();
    const bucketId = r.u32();
    if (blen < BUCKET15_LEN || blen > left || actionsLen > blen - BUCKET15_LEN) return fail("OFPGMFC_BAD_BUCKET");
    left -= blen;
    if (actionsLen > r.remaining) return fail("OFPBRC_BAD_LEN");
    const actions = decodeActions(r.bytes(actionsLen), version);
    if (isDecodeError(actions)) return actions;
    const propsLen = blen - BUCKET15_LEN - actionsLen;
    if (propsLen > r.remaining) return fail("OFPBRC_BAD_LEN");
    const pr = r.sub(propsLen);
    let weight = groupType === OFPGT_SELECT ? 1 : 0;
    let watchPort = 0xffffffff;
    let watchGroup = OFPG_ANY;
    while (pr.remaining > 0) {
      const p = pullOfpProp(pr);
      if (isDecodeError(p)) return p;
      const dv = new DataView(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength);
      if (p.type === OFPGBPT15_WEIGHT) {
        if (p.payload.length < 2) return fail("OFPBPC_BAD_LEN");
        weight = dv.getUint16(0);
      } else if (p.type === OFPGBPT15_WATCH_PORT || p.type === OFPGBPT15_WATCH_GROUP) {
        if (p.payload.length !== 4) return fail("OFPBPC_BAD_LEN");
        if (p.type === OFPGBPT15_WATCH_PORT) watchPort = dv.getUint32(0);
        else watchGroup = dv.getUint32(0);
      } else {
        return unknownProp(p);
      }
    }
    const wp = portFromOfp11(watchPort);
    if (isDecodeError(wp)) return fail("OFPGMFC_BAD_WATCH");
    if (bucketId > OFPG15_BUCKET_MAX) return fail("OFPGMFC_BAD_BUCKET");
    buckets.push({ bucketId, weight, watchPort: wp, watchGroup, actions });
  }
  const ids = new Set(buckets.map((b) => b.bucketId));
  if (ids.size !== buckets.length) return fail("OFPGMFC_BAD_BUCKET");
  return buckets;
}

/**
 * oxm_pull_field_array: the hash fields of a selection method, each entry a
 * field's mask. Checked entry by entry in OVS's order: length, a masked
 * entry's consistency, masks not allowed here, unknown field, duplicate,
 * a mask the field cannot take.
 */
function pullFieldArray(b: Uint8Array): { name: string; mask: Uint8Array }[] | DecodeError {
  const out: { name: string; mask: Uint8Array }[] = [];
  let o = 0;
  while (o < b.length) {
    const h = decodeNxmHeader(b.subarray(o));
    if (!h || h.length < 0) return fail("OFPBMC_BAD_LEN");
    const hl = h.class === 0xffff ? 8 : 4;
    if (o + hl + h.length > b.length) return fail("OFPBMC_BAD_LEN");
    const payload = b.subarray(o + hl, o + hl + h.length);
    o += hl + h.length;
    if (h.hasmask) {
      const width = h.length >> 1;
      for (let i = 0; i < width; i++) if (payload[i]! & ~payload[width + i]!) return fail("OFPBMC_BAD_WILDCARDS");
      return fail("OFPBMC_BAD_MASK");
    }
    const f = mfFromHeader(h);
    if (!f || !headerLengthFits(f, false, h.length)) return fail("OFPBMC_BAD_FIELD");
    if (out.some((x) => x.name === f.name)) return fail("OFPBMC_DUP_FIELD");
    // The value is right-aligned in the field's width, as OVS copies it.
    const mask = new Uint8Array(f.bytes);
    const n = Math.min(f.bytes, payload.length);
    mask.set(payload.subarray(payload.length - n), f.bytes - n);
    const allOnes = mask.every((x) => x === 0xff);
    const zero = mask.every((x) => x === 0);
    if (!f.maskable && !allOnes && !zero) return fail("OFPBMC_BAD_MASK");
    out.push({ name: f.name, mask });
  }
  // Kept in OVS's field order, as its field array is.
  const order = sortFieldNames(out.map((x) => x.name));
  return order.map((n) => out.find((x) => x.name === n)!);
}

function parseSelectionMethod(p: OfpProp, groupType: number, command: number): GroupProps | DecodeError {
  if (groupType !== OFPGT_SELECT) return fail(groupType > 3 ? "OFPGMFC_BAD_TYPE" : "OFPBPC_BAD_VALUE");
  if (command !== OFPGC15_ADD && command !== OFPGC15_MODIFY && command !== OFPGC_ADD_OR_MOD) {
    return fail(command === OFPGC15_DELETE || command === OFPGC15_INSERT_BUCKET || command === OFPGC15_REMOVE_BUCKET ? "OFPBPC_BAD_VALUE" : "OFPGMFC_BAD_COMMAND");
  }
  if (p.whole.length < NTR_PROP_LEN) return fail("OFPBPC_BAD_LEN");
  const nameBytes = p.whole.subarray(16, 32);
  const nul = nameBytes.indexOf(0);
  if (nul < 0) return fail("OFPBPC_BAD_VALUE");
  const method = new TextDecoder("latin1").decode(nameBytes.subarray(0, nul));
  if (method !== "hash" && method !== "dp_hash") return fail("OFPBPC_BAD_VALUE");
  const param = new DataView(p.whole.buffer, p.whole.byteOffset + 32, 8).getBigUint64(0);
  const fieldsBytes = p.whole.subarray(NTR_PROP_LEN);
  if (fieldsBytes.length && method !== "hash") return fail("OFPBPC_BAD_VALUE");
  const fields = pullFieldArray(fieldsBytes);
  if (isDecodeError(fields)) return fields;
  return { selectionMethod: method, selectionMethodParam: param, fields };
}

function pullGroupProps(r: OfpReader, len: number, groupType: number, command: number): GroupProps | null | DecodeError {
  const pr = r.sub(len);
  let props: GroupProps | null = null;
  while (pr.remaining > 0) {
    const p = pullOfpProp(pr);
    if (isDecodeError(p)) return p;
    if (p.type === -1 && (p.exp === NTR_VENDOR_ID || p.exp === NTR_COMPAT_VENDOR_ID) && p.expType === NTRT_SELECTION_METHOD) {
      const sm = parseSelectionMethod(p, groupType, command);
      if (isDecodeError(sm)) return sm;
      props = sm;
    } else {
      return unknownProp(p);
    }
  }
  return props;
}

/* ---------------- encoding ---------------- */

function putBuckets15(w: OfpWriter, g: GroupDesc, version: number): void {
  // Buckets without an id get the lowest id no later bucket uses, as OVS assigns them.
  const used = new Set(g.buckets.map((b) => b.bucketId).filter((x): x is number => x !== undefined && x <= OFPG15_BUCKET_MAX));
  let next = 0;
  for (const b of g.buckets) {
    let id = b.bucketId;
    if (id === undefined || id > OFPG15_BUCKET_MAX) {
      while (used.has(next)) next++;
      id = next;
      used.add(id);
    }
    const acts = encodeActions(b.actions, version);
    if (isTextError(acts)) throw new RangeError(acts.error);
    const start = w.length;
    w.u16(0).u16(acts.length).u32(id).bytes(acts);
    if (g.type === OFPGT_SELECT || b.weight) putProperty(w, OFPGBPT15_WEIGHT, (w) => w.u16(b.weight).zeros(2));
    if (b.watchPort !== OFPP_NONE) putProperty(w, OFPGBPT15_WATCH_PORT, (w) => w.u32(portToOfp11(b.watchPort)));
    if (b.watchGroup !== OFPG_ANY) putProperty(w, OFPGBPT15_WATCH_GROUP, (w) => w.u32(b.watchGroup));
    w.setU16(start, w.length - start);
  }
}

function putGroupProps(w: OfpWriter, props: GroupProps | undefined, version: number): void {
  if (!props || !props.selectionMethod) return;
  const start = w.length;
  w.u16(0xffff).u16(0).u32(NTR_VENDOR_ID).u32(NTRT_SELECTION_METHOD).zeros(4).fixedString(props.selectionMethod, 16);
  w.u64(props.selectionMethodParam);
  for (const f of props.fields) {
    const fld = mfFromName(f.name);
    const code = fld ? codeFor(fld, version) : null;
    if (!fld || !code) continue;
    w.bytes(encodeNxmHeader(headerForCode(fld, code, false))).bytes(f.mask);
  }
  w.setU16(start + 2, w.length - start);
  w.padTo(8, start);
}

/* ---------------- codecs ---------------- */

/** OFPT_GROUP_MOD (OpenFlow 1.5) and NXT_GROUP_MOD (OpenFlow 1.0). */
export const GROUP_MOD15_CODEC: BodyCodec<GroupModBody> = {
  decode(r, ctx) {
    const command = r.u16();
    const type = r.u8();
    r.skip(1);
    const groupId = r.u32();
    const bucketsLen = r.u16();
    r.skip(2);
    const commandBucketId = r.u32();
    let ok: boolean;
    if (command === OFPGC15_REMOVE_BUCKET || command === OFPGC15_INSERT_BUCKET) {
      ok = commandBucketId <= OFPG15_BUCKET_MAX || commandBucketId === OFPG15_BUCKET_FIRST || commandBucketId === OFPG15_BUCKET_LAST ||
        (command === OFPGC15_REMOVE_BUCKET && commandBucketId === OFPG15_BUCKET_ALL);
    } else {
      ok = commandBucketId === OFPG15_BUCKET_ALL;
    }
    if (!ok) return fail("OFPGMFC_BAD_BUCKET");
    if (bucketsLen > r.remaining) return fail("OFPBRC_BAD_LEN");
    const buckets = pullBuckets15(r, bucketsLen, ctx.version, type);
    if (isDecodeError(buckets)) return buckets;
    const props = pullGroupProps(r, r.remaining, type, command);
    if (isDecodeError(props)) return props;
    const g: GroupModBody = { command, type, groupId, buckets, commandBucketId };
    if (props) g.props = props;
    return checkGroupMod(g, 6) ?? g;
  },
  encode(w, g, ctx) {
    const start = w.length;
    w.u16(g.command).u8(g.type).zeros(1).u32(g.groupId).u16(0).zeros(2).u32(g.commandBucketId ?? OFPG15_BUCKET_ALL);
    putBuckets15(w, g, ctx.version);
    w.setU16(start + 8, w.length - start - 16);
    putGroupProps(w, g.props, ctx.version);
  },
  print(g: GroupModBody, ctx: CodecContext) {
    return formatGroupMod(g, ctx.version);
  },
};

const GROUP_DESC15_LEN = 16;

export interface GroupDescReply15Body {
  groups: GroupDesc[];
}

/** OFPST_GROUP_DESC reply (OpenFlow 1.5) and NXST_GROUP_DESC reply (OpenFlow 1.0). */
export const GROUP_DESC_REPLY15_CODEC: BodyCodec<GroupDescReply15Body> = {
  decode(r, ctx) {
    const groups: GroupDesc[] = [];
    while (r.remaining > 0) {
      const partial = (e: DecodeError): DecodeError => withPartial(e, { groups });
      if (r.remaining < GROUP_DESC15_LEN) return partial(fail("OFPBRC_BAD_LEN"));
      const len = r.u16();
      const type = r.u8();
      r.skip(1);
      const groupId = r.u32();
      const bucketsLen = r.u16();
      r.skip(6);
      if (len < GROUP_DESC15_LEN || len - GROUP_DESC15_LEN > r.remaining) return partial(fail("OFPBRC_BAD_LEN"));
      if (len < bucketsLen + GROUP_DESC15_LEN) return partial(fail("OFPBRC_BAD_LEN"));
      const buckets = pullBuckets15(r, bucketsLen, ctx.version, type);
      if (isDecodeError(buckets)) return partial(buckets);
      const props = pullGroupProps(r, len - GROUP_DESC15_LEN - bucketsLen, type, OFPGC15_ADD);
      if (isDecodeError(props)) return partial(props);
      const g: GroupDesc = { groupId, type, buckets };
      if (props) g.props = props;
      groups.push(g);
    }
    return { groups };
  },
  encode(w, b, ctx) {
    for (const g of b.groups) {
      const start = w.length;
      w.u16(0).u8(g.type).zeros(1).u32(g.groupId).u16(0).zeros(6);
      putBuckets15(w, g, ctx.version);
      w.setU16(start + 8, w.length - start - GROUP_DESC15_LEN);
      putGroupProps(w, g.props, ctx.version);
      w.setU16(start, w.length - start);
    }
  },
  print: (b, ctx) => b.groups.map((g) => "\n " + formatGroup(g, false, ctx.version)).join(""),
};

/** Reads a group's OpenFlow 1.5 buckets from raw bytes (for callers outside the message table). */
export function decodeBuckets15(b: Uint8Array, version: number, groupType: number): Bucket[] | DecodeError {
  return pullBuckets15(new OfpReader(b), b.length, version, groupType);
}
