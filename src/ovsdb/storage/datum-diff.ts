/**
 * Column diffs as OVS 3.1 writes them in transaction records (`_is_diff`).
 *
 * For a modified row OVS writes only the changed columns. A column whose
 * type allows more than one element (a set or map with max > 1) is written
 * as the difference between old and new: the set elements present in exactly
 * one of them; for a map, the keys removed (with their old value), added, or
 * whose value changed (with the new value). Applying that diff toggles set
 * elements, and for a map removes a key whose pair matches, replaces a
 * key's value when it differs and adds a missing key. Every other column
 * (scalar or optional) is written as its new value. Inserted rows carry
 * their non-default columns in full.
 *
 * These functions work on the RFC 7047 JSON form of datums, so storage does
 * not depend on the engine's in-memory datum representation.
 */
import type { OvsdbType } from "../types.js";

type Json = unknown;

/** True when this column is written as a diff in a modification. */
export function isDiffColumn(type: OvsdbType): boolean {
  return type.max > 1;
}

/** The elements of a set datum (atom JSONs) or map datum ([key, value] pairs). */
function elements(type: OvsdbType, json: Json): Json[] {
  if (type.value !== null) {
    if (Array.isArray(json) && json[0] === "map" && Array.isArray(json[1])) return json[1] as Json[];
    return [];
  }
  if (Array.isArray(json) && json[0] === "set" && Array.isArray(json[1])) return json[1] as Json[];
  return [json];
}

function atomKey(atom: Json): string {
  return JSON.stringify(atom);
}

/** Orders atoms as OVS sorts datums: numbers numerically, strings and uuids by text. */
export function compareAtoms(a: Json, b: Json): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = Array.isArray(a) ? String(a[1]) : String(a);
  const sb = Array.isArray(b) ? String(b[1]) : String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function build(type: OvsdbType, elems: Json[]): Json {
  if (type.value !== null) {
    elems.sort((x, y) => compareAtoms((x as Json[])[0], (y as Json[])[0]));
    return ["map", elems];
  }
  elems.sort(compareAtoms);
  if (elems.length === 1) return elems[0];
  return ["set", elems];
}

/** The diff that turns `oldJson` into `newJson` (both datums of `type`). */
export function datumDiff(type: OvsdbType, oldJson: Json, newJson: Json): Json {
  const out: Json[] = [];
  if (type.value !== null) {
    const oldMap = new Map<string, Json[]>();
    for (const p of elements(type, oldJson)) oldMap.set(atomKey((p as Json[])[0]), p as Json[]);
    const newKeys = new Set<string>();
    for (const p of elements(type, newJson)) {
      const pair = p as Json[];
      const k = atomKey(pair[0]);
      newKeys.add(k);
      const o = oldMap.get(k);
      if (!o || atomKey(o[1]) !== atomKey(pair[1])) out.push(pair);
    }
    for (const [k, pair] of oldMap) if (!newKeys.has(k)) out.push(pair);
  } else {
    const oldSet = new Map<string, Json>();
    for (const a of elements(type, oldJson)) oldSet.set(atomKey(a), a);
    const newSet = new Set<string>();
    for (const a of elements(type, newJson)) {
      const k = atomKey(a);
      newSet.add(k);
      if (!oldSet.has(k)) out.push(a);
    }
    for (const [k, a] of oldSet) if (!newSet.has(k)) out.push(a);
  }
  return build(type, out);
}

/** Applies a diff written by `datumDiff` (or by OVS) to `oldJson`. */
export function applyDatumDiff(type: OvsdbType, oldJson: Json, diffJson: Json): Json {
  if (type.value !== null) {
    const m = new Map<string, Json[]>();
    for (const p of elements(type, oldJson)) m.set(atomKey((p as Json[])[0]), p as Json[]);
    for (const p of elements(type, diffJson)) {
      const pair = p as Json[];
      const k = atomKey(pair[0]);
      const o = m.get(k);
      if (o && atomKey(o[1]) === atomKey(pair[1])) m.delete(k);
      else m.set(k, pair);
    }
    return build(type, [...m.values()]);
  }
  const s = new Map<string, Json>();
  for (const a of elements(type, oldJson)) s.set(atomKey(a), a);
  for (const a of elements(type, diffJson)) {
    const k = atomKey(a);
    if (s.has(k)) s.delete(k);
    else s.set(k, a);
  }
  return build(type, [...s.values()]);
}
