/**
 * Column diffs as OVS 3.1 writes them in transaction records (`_is_diff`),
 * on the RFC 7047 JSON form of datums.
 *
 * For a modified row OVS writes only the changed columns. A column whose
 * type allows more than one element (a set or map with max > 1) is written
 * as the difference between old and new (see the engine's datumDiff);
 * every other column, including an optional set or map (max 1), is written
 * whole as its new value. Inserted rows carry their non-default columns in
 * full. The merge itself is the engine's; these wrappers only convert.
 */
import { OvsdbType } from "../types.js";
import { applyDatumDiff as applyDiff, datumDiff as diff, datumFromJSON, datumToJSON } from "../datum.js";

type Json = unknown;

/** True when this column is written as a diff in a modification. */
export function isDiffColumn(type: OvsdbType): boolean {
  return type.max > 1;
}

const looseTypes = new WeakMap<OvsdbType, OvsdbType>();

/** `type` without its element count limits (a diff may hold more or fewer); atom constraints stay. */
export function looseType(type: OvsdbType): OvsdbType {
  let t = looseTypes.get(type);
  if (t === undefined) {
    t = new OvsdbType(type.key, type.value, 0, Infinity);
    looseTypes.set(type, t);
  }
  return t;
}

/** The diff that turns `oldJson` into `newJson` (both datums of `type`). */
export function datumDiff(type: OvsdbType, oldJson: Json, newJson: Json): Json {
  const t = looseType(type);
  return datumToJSON(t, diff(t, datumFromJSON(t, oldJson), datumFromJSON(t, newJson)));
}

/** Applies a diff written by `datumDiff` (or by OVS) to `oldJson`. */
export function applyDatumDiff(type: OvsdbType, oldJson: Json, diffJson: Json): Json {
  const t = looseType(type);
  return datumToJSON(t, applyDiff(t, datumFromJSON(t, oldJson), datumFromJSON(t, diffJson)));
}
