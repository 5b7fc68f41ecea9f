/**
 * Shares identical small byte strings among the actions of the rules a
 * switch keeps: a MAC, a set_field value or an all-ones mask decoded for
 * each flow_mod is a typed array of its own — about 200 bytes with its
 * buffer, for a few bytes of data — and a table of 100,000 flows repeats
 * the same constants over and over (bench openflow: memory per flow).
 * Rules never change their actions' bytes, so sharing them is safe.
 *
 * The table is bounded: once full, new values are kept as they come (the
 * common constants have been seen long before).
 */
import { byteKey } from "../util/byte-key.js";

const MAX_ENTRIES = 4096;
const MAX_BYTES = 32;
const table = new Map<string, Uint8Array>();

function intern(b: Uint8Array): Uint8Array {
  const key = byteKey(b);
  const have = table.get(key);
  if (have !== undefined && have.length === b.length) return have;
  if (table.size < MAX_ENTRIES) table.set(key, b);
  return b;
}

/** Lists already interned: decoded lists are shared among flow_mods with the same bytes, and come back often. */
const internedLists = new WeakSet<readonly object[]>();

/** Replaces, in place, every small byte array in `actions` (nested lists too) by its shared copy. */
export function internActionBytes(actions: readonly object[]): void {
  if (internedLists.has(actions)) return;
  internedLists.add(actions);
  for (const a of actions) {
    const o = a as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (v instanceof Uint8Array) {
        if (v.length > 0 && v.length <= MAX_BYTES) o[k] = intern(v);
      } else if (Array.isArray(v) && v.length > 0 && typeof v[0] === "object" && v[0] !== null) {
        internActionBytes(v as object[]);
      }
    }
  }
}
