/**
 * Group specifications as ovs-ofctl(8) writes them (`add-group`,
 * `mod-group`, `del-groups`, `insert-buckets`, `remove-buckets`):
 *
 *   group_id=N,type=all|select|indirect|ff|fast_failover
 *     [,selection_method=hash|dp_hash][,selection_method_param=N]
 *     [,fields=F | fields(F,F=MASK,...)][,command_bucket_id=first|last|all|N]
 *     ,bucket=[bucket_id:N,][weight:N,][watch_port:P,][watch_group:G,]actions=...
 *     ,bucket=...
 *
 * Each `bucket=` starts a bucket (the text is split at every "bucket=",
 * as OVS does); within one, the keys above set the bucket and everything
 * else is its action list. Which keys a command takes, the defaults and
 * the messages for bad text are ovs-ofctl 3.1's: a delete takes only
 * group_id (default all), remove-buckets only group_id and
 * command_bucket_id (default all), insert-buckets needs command_bucket_id
 * and no type; buckets without bucket_id are numbered as ovs-ofctl does
 * for OpenFlow 1.5 (from 0, skipping ids given to later buckets); select
 * buckets weigh 1 unless told. (OpenFlow 1.1–1.4 carry no bucket ids:
 * drop them, the switch numbers buckets by position.)
 */
import { parseActions } from "./ofp-actions-codec.js";
import type { OfpAction } from "./ofp-actions.js";
import { isTextError } from "./ofp-actions-util.js";
import { parsePortText, splitKeyValues } from "./match-parse.js";
import { mfFromName, parseMfValue } from "./meta-flow.js";
import { sortFieldNames } from "./ofp-table-features.js";

export const GROUP_COMMAND_ADD = 0;
export const GROUP_COMMAND_MODIFY = 1;
export const GROUP_COMMAND_DELETE = 2;
export const GROUP_COMMAND_INSERT_BUCKET = 3;
export const GROUP_COMMAND_REMOVE_BUCKET = 5;
export const GROUP_COMMAND_ADD_OR_MOD = 0x8000;

const OFPG_MAX = 0xffffff00;
const OFPG_ALL = 0xfffffffc;
const OFPG_ANY = 0xffffffff;
const BUCKET_MAX = 0xffffff00;
const BUCKET_FIRST = 0xfffffffd;
const BUCKET_LAST = 0xfffffffe;
const BUCKET_ALL = 0xffffffff;
/** No watch port, OVS's 16-bit space. */
const PORT_NONE = 0xffff;
const OFPP_MAX = 0xff00;
const OFPP_CONTROLLER = 0xfffd;

export interface ParsedBucket {
  bucketId: number;
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: OfpAction[];
}

export interface ParsedGroupMod {
  command: number;
  type: number;
  groupId: number;
  buckets: ParsedBucket[];
  commandBucketId: number;
  /** The codec's GroupProps: fields with masks, in OVS's field order. */
  props: { selectionMethod: string; selectionMethodParam: bigint; fields: { name: string; mask: Uint8Array }[] };
}

const TYPES: Readonly<Record<string, number>> = { all: 0, select: 1, indirect: 2, ff: 3, fast_failover: 3 };


function u32(s: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(s) || /^\d+$/.test(s)) {
    const v = Number(s);
    return v <= 0xffffffff ? v : null;
  }
  return null;
}

function u64(s: string): bigint | null {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) return null;
  const v = BigInt(s);
  return v <= 0xffffffffffffffffn ? v : null;
}

function parseBucket(text: string, type: number): ParsedBucket | { error: string } {
  const b: ParsedBucket = { bucketId: BUCKET_ALL, weight: type === 1 ? 1 : 0, watchPort: PORT_NONE, watchGroup: OFPG_ANY, actions: [] };
  const acts: string[] = [];
  for (const t of splitKeyValues(text)) {
    const key = t.key.toLowerCase();
    const v = t.value ?? "";
    if (key === "weight") {
      const w = u32(v);
      if (w === null || w > 0xffff) return { error: `invalid weight "${v}"` };
      b.weight = w;
    } else if (key === "watch_port") {
      const p = parsePortText(v);
      if (p === null || (p >= OFPP_MAX && p !== PORT_NONE && p !== OFPP_CONTROLLER)) return { error: `${v}: invalid watch_port` };
      b.watchPort = p;
    } else if (key === "watch_group") {
      const g = v.toLowerCase() === "any" ? OFPG_ANY : u32(v);
      if (g === null) return { error: `invalid numeric format ${v}` };
      if (g > OFPG_MAX && g !== OFPG_ANY) return { error: `invalid watch_group id ${g}` };
      b.watchGroup = g;
    } else if (key === "bucket_id") {
      const id = u32(v);
      if (id === null) return { error: `invalid numeric format ${v}` };
      if (id > BUCKET_MAX) return { error: `invalid bucket_id id ${id}` };
      b.bucketId = id;
    } else if (key === "action" || key === "actions") {
      acts.push(v);
    } else {
      acts.push(t.raw);
    }
  }
  const list = parseActions(acts.join(","));
  if (isTextError(list)) return { error: list.error };
  b.actions = list;
  if (type === 3 && b.watchPort === PORT_NONE && b.watchGroup === OFPG_ANY) return { error: "fast failover bucket requires watch_port or watch_group" };
  return b;
}

/**
 * Parses a group specification for `command` (GROUP_COMMAND_*), as
 * ovs-ofctl does; `{error}` carries ovs-ofctl's message.
 */
export function parseGroupMod(text: string, command: number): ParsedGroupMod | { error: string } {
  const at = text.indexOf("bucket=");
  const head = at >= 0 ? text.slice(0, at) : text;
  const bucketTexts = at >= 0 ? text.slice(at + "bucket=".length).split("bucket=") : [];
  const isDelete = command === GROUP_COMMAND_DELETE;
  const isInsert = command === GROUP_COMMAND_INSERT_BUCKET;
  const isRemove = command === GROUP_COMMAND_REMOVE_BUCKET;
  const gm: ParsedGroupMod = {
    command,
    type: 0,
    groupId: isDelete ? OFPG_ALL : OFPG_ANY,
    buckets: [],
    commandBucketId: isRemove ? BUCKET_ALL : BUCKET_ALL,
    props: { selectionMethod: "", selectionMethodParam: 0n, fields: [] },
  };
  let haveType = false;
  let haveId = false;
  let haveCbid = false;
  let haveFields = false;
  for (const t of splitKeyValues(head)) {
    const key = t.key.toLowerCase();
    const v = t.value ?? "";
    switch (key) {
      case "group_id": {
        haveId = true;
        if (v.toLowerCase() === "all") gm.groupId = OFPG_ALL;
        else {
          const g = u32(v);
          if (g === null) return { error: `invalid numeric format ${v}` };
          // OFPG_ALL passes (the switch refuses it where it must).
          if (g > OFPG_MAX && g !== OFPG_ALL) return { error: `invalid group id ${g}` };
          gm.groupId = g;
        }
        break;
      }
      case "type": {
        if (isDelete || isInsert || isRemove) return { error: "type is not needed" };
        const ty = TYPES[v.toLowerCase()];
        if (ty === undefined) return { error: `invalid group type ${v}` };
        gm.type = ty;
        haveType = true;
        break;
      }
      case "command_bucket_id": {
        if (!isInsert && !isRemove) return { error: "command bucket id is not needed" };
        const lv = v.toLowerCase();
        let id: number | null;
        if (lv === "first") id = BUCKET_FIRST;
        else if (lv === "last") id = BUCKET_LAST;
        else if (lv === "all") id = BUCKET_ALL;
        else {
          id = u32(v);
          if (id === null) return { error: `invalid numeric format ${v}` };
          if (id > BUCKET_MAX) return { error: `invalid command bucket id ${id}` };
        }
        if (id === BUCKET_ALL && isInsert) return { error: "command_bucket_id=all is not permitted" };
        gm.commandBucketId = id;
        haveCbid = true;
        break;
      }
      case "selection_method":
        if (isDelete || isInsert || isRemove) return { error: "selection method is not needed" };
        // Any name passes: the switch refuses what it does not know (OFPBPC_BAD_VALUE).
        gm.props.selectionMethod = v;
        break;
      case "selection_method_param": {
        if (isDelete || isInsert || isRemove) return { error: "selection method param is not needed" };
        const p = u64(v);
        if (p === null) return { error: `invalid numeric format ${v}` };
        gm.props.selectionMethodParam = p;
        break;
      }
      case "fields": {
        if (isDelete || isInsert || isRemove) return { error: "fields are not needed" };
        haveFields = true;
        const fields = new Map<string, Uint8Array>();
        for (const f of splitKeyValues(v)) {
          const fld = mfFromName(f.key);
          if (fld === null) return { error: `: unknown field ${f.key}` };
          if (f.value === null) fields.set(fld.name, new Uint8Array(fld.bytes).fill(0xff));
          else {
            const m = parseMfValue(fld, f.value);
            if (!m.ok) return { error: m.error };
            fields.set(fld.name, m.value.value);
          }
        }
        gm.props.fields = sortFieldNames(fields.keys()).map((name) => ({ name, mask: fields.get(name)! }));
        break;
      }
      default:
        return { error: `unknown keyword ${t.key}` };
    }
  }
  if (!haveId && !isDelete) return { error: "must specify a group_id" };
  if (!haveType && (command === GROUP_COMMAND_ADD || command === GROUP_COMMAND_MODIFY || command === GROUP_COMMAND_ADD_OR_MOD)) return { error: "must specify a type" };
  if (isInsert && !haveCbid) return { error: "must specify a command bucket id" };
  if (haveFields && gm.props.selectionMethod !== "hash") return { error: 'fields may only be specified with "selection_method=hash"' };
  if (bucketTexts.length > 0 && (isDelete || isRemove)) return { error: "bucket is not needed" };
  const explicit: boolean[] = [];
  for (const bt of bucketTexts) {
    const b = parseBucket(bt, gm.type);
    if ("error" in b) return b;
    explicit.push(b.bucketId !== BUCKET_ALL);
    gm.buckets.push(b);
  }
  // ovs-ofctl numbers the buckets given no id from 0 up, skipping the ids
  // given to buckets later in the list (not earlier ones: "bucket_id:0"
  // then a bucket without id is a duplicate the switch refuses).
  let next = 0;
  for (let i = 0; i < gm.buckets.length; i++) {
    if (explicit[i]) continue;
    while (gm.buckets.some((b, j) => j > i && explicit[j] && b.bucketId === next)) next++;
    gm.buckets[i]!.bucketId = next++;
  }
  if (gm.type === 2 && gm.buckets.length > 1) return { error: "Indirect groups can have at most one bucket." };
  if (gm.type !== 1 && gm.buckets.some((b) => b.weight !== 0)) return { error: "Only select groups can have bucket weights." };
  return gm;
}
