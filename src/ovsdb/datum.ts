/**
 * OVSDB values: atoms and datums (RFC 7047 §5.1 <value>), their ordering,
 * JSON conversion with type and constraint checks, and column defaults.
 *
 * Atoms are plain JS values (integer/real -> number, boolean -> boolean,
 * string -> string, uuid -> canonical lowercase string). A datum keeps its
 * keys sorted and unique in OVS's order, with parallel values for maps.
 */
import { randomFillSync } from "node:crypto";
import { OvsdbError, syntaxError } from "./error.js";
import type { BaseType, OvsdbType } from "./types.js";
import { UINT_MAX } from "./types.js";
import { formatG } from "../util/format-g.js";
export { formatG };

export type Atom = number | boolean | string;

export interface Datum {
  keys: Atom[];
  values: Atom[] | null;
}

/** The shared empty datums: never mutate a datum once it is stored in a row. */
export const EMPTY_SET: Datum = Object.freeze({ keys: Object.freeze([]) as unknown as Atom[], values: null }) as Datum;
export const EMPTY_MAP: Datum = Object.freeze({
  keys: Object.freeze([]) as unknown as Atom[],
  values: Object.freeze([]) as unknown as Atom[],
}) as Datum;

export const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(s: string): boolean {
  return s.length === 36 && UUID_RE.test(s);
}

/**
 * A random (version 4) UUID as a flat string. Node's randomUUID() returns a
 * rope of ~20 concatenated pieces, which V8 keeps as ~14 ConsString objects
 * for as long as the string lives: ~460 bytes per stored row (heap snapshot
 * of 20,000 Queue rows, bench/ovsdb.ts (d)); this one costs 56.
 */
export function newUuid(): string {
  if (uuidPoolPos + 16 > uuidPool.length) {
    randomFillSync(uuidPool);
    uuidPoolPos = 0;
  }
  const p = uuidPoolPos;
  uuidPoolPos += 16;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidText[o++] = 0x2d;
    let x = uuidPool[p + i]!;
    if (i === 6) x = (x & 0x0f) | 0x40;
    else if (i === 8) x = (x & 0x3f) | 0x80;
    uuidText[o++] = HEX_DIGITS[x >> 4]!;
    uuidText[o++] = HEX_DIGITS[x & 15]!;
  }
  return uuidText.toString("latin1", 0, 36);
}
const uuidPool = Buffer.alloc(16 * 256);
let uuidPoolPos = uuidPool.length;
const uuidText = Buffer.alloc(36);
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");

/** Compares strings by their UTF-8 bytes (as strcmp does in OVS). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 order differs from UTF-8 order only between surrogates
      // (supplementary characters) and U+E000..U+FFFF.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === "number") return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === "string") return compareStrings(a, b as string);
  return a === b ? 0 : a ? 1 : -1;
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  const n = a.keys.length;
  if (n !== b.keys.length) return false;
  for (let i = 0; i < n; i++) if (a.keys[i] !== b.keys[i]) return false;
  const av = a.values;
  const bv = b.values;
  if (av === null || bv === null) return av === bv || n === 0;
  for (let i = 0; i < n; i++) if (av[i] !== bv[i]) return false;
  return true;
}

/** Three-way comparison of datums (keys then values), as OVS orders them. */
export function compareDatums(a: Datum, b: Datum): number {
  const n = Math.min(a.keys.length, b.keys.length);
  for (let i = 0; i < n; i++) {
    const c = compareAtoms(a.keys[i]!, b.keys[i]!);
    if (c !== 0) return c;
  }
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  if (a.values !== null && b.values !== null) {
    for (let i = 0; i < n; i++) {
      const c = compareAtoms(a.values[i]!, b.values[i]!);
      if (c !== 0) return c;
    }
  }
  return 0;
}

export function defaultAtom(base: BaseType): Atom {
  switch (base.type) {
    case "integer":
    case "real":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
  }
}

const defaultCache = new WeakMap<OvsdbType, Datum>();

/** The default value of a column of `type` (shared; do not mutate). */
export function defaultDatum(type: OvsdbType): Datum {
  let d = defaultCache.get(type);
  if (d === undefined) {
    if (type.min === 0) d = type.value !== null ? EMPTY_MAP : EMPTY_SET;
    else {
      d = {
        keys: [defaultAtom(type.key)],
        values: type.value !== null ? [defaultAtom(type.value)] : null,
      };
      Object.freeze(d.keys);
      if (d.values) Object.freeze(d.values);
      Object.freeze(d);
    }
    defaultCache.set(type, d);
  }
  return d;
}

export function emptyDatum(type: OvsdbType): Datum {
  return type.value !== null ? EMPTY_MAP : EMPTY_SET;
}


/** Counts Unicode code points (OVS counts UTF-8 characters). */
function charLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** An atom as OVS prints it in messages and in ovs-vsctl-like text. */
export function atomToString(base: BaseType, a: Atom): string {
  switch (base.type) {
    case "integer":
      return String(a);
    case "real":
      return formatG(a as number);
    case "boolean":
      return a ? "true" : "false";
    case "uuid":
      return a as string;
    case "string": {
      const s = a as string;
      return stringNeedsQuotes(s) ? JSON.stringify(s) : s;
    }
  }
}

/** OVS quotes strings that could be read back as something else. */
function stringNeedsQuotes(s: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.\-]*$/.test(s)) return true;
  return s === "true" || s === "false" || isUuid(s);
}

/** A datum as OVS prints it in messages: "a", "[a, b]", "{k=v}". */
export function datumToString(type: OvsdbType, d: Datum): string {
  if (type.value !== null) {
    const parts: string[] = [];
    for (let i = 0; i < d.keys.length; i++) parts.push(`${atomToString(type.key, d.keys[i]!)}=${atomToString(type.value, d.values![i]!)}`);
    return `{${parts.join(", ")}}`;
  }
  const parts = d.keys.map((k) => atomToString(type.key, k));
  if (type.max > 1 || parts.length === 0) return `[${parts.join(", ")}]`;
  return parts[0]!;
}

/** Checks an atom against its base type's constraints (not the ref). */
export function checkAtomConstraints(base: BaseType, a: Atom): OvsdbError | null {
  if (base.enum !== null) {
    if (!datumHasKey(base.enum, a)) {
      const plainType = { key: base, value: null, min: 1, max: Infinity, isScalar: () => false, isSet: () => true } as unknown as OvsdbType;
      return new OvsdbError(
        "constraint violation",
        `${atomToString(base, a)} is not one of the allowed values (${datumToString(plainType, base.enum)})`,
      );
    }
    return null;
  }
  switch (base.type) {
    case "integer": {
      const i = a as number;
      const min = base.minInteger;
      const max = base.maxInteger;
      if ((min === undefined || i >= min) && (max === undefined || i <= max)) return null;
      if (min !== undefined && max !== undefined)
        return new OvsdbError("constraint violation", `${i} is not in the valid range ${min} to ${max} (inclusive)`);
      if (min !== undefined) return new OvsdbError("constraint violation", `${i} is less than minimum allowed value ${min}`);
      return new OvsdbError("constraint violation", `${i} is greater than maximum allowed value ${max}`);
    }
    case "real": {
      const r = a as number;
      const min = base.minReal;
      const max = base.maxReal;
      if ((min === undefined || r >= min) && (max === undefined || r <= max)) return null;
      if (min !== undefined && max !== undefined)
        return new OvsdbError("constraint violation", `${formatG(r)} is not in the valid range ${formatG(min)} to ${formatG(max)} (inclusive)`);
      if (min !== undefined) return new OvsdbError("constraint violation", `${formatG(r)} is less than minimum allowed value ${formatG(min)}`);
      return new OvsdbError("constraint violation", `${formatG(r)} is greater than maximum allowed value ${formatG(max!)}`);
    }
    case "string": {
      if (base.minLength === undefined && base.maxLength === undefined) return null;
      const s = a as string;
      const n = charLength(s);
      if (base.minLength !== undefined && n < base.minLength)
        return new OvsdbError("constraint violation", `"${s}" length ${n} is less than minimum allowed length ${base.minLength}`);
      if (base.maxLength !== undefined && n > base.maxLength)
        return new OvsdbError("constraint violation", `"${s}" length ${n} is greater than maximum allowed length ${base.maxLength}`);
      return null;
    }
    default:
      return null;
  }
}

/** Binary search for a key in a sorted datum; returns the index or -1. */
export function datumFind(d: Datum, key: Atom): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(d.keys[mid]!, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function datumHasKey(d: Datum, key: Atom): boolean {
  return datumFind(d, key) >= 0;
}

export type Symtab = (name: string) => string | undefined;

const INT64_LIMIT = 9223372036854775808;

function unwrapError(json: unknown, name: string, valueType: string): OvsdbError {
  return syntaxError(json, null, `expected ["${name}", <${valueType}>]`);
}

function isPair(json: unknown, name: string): json is [string, string] {
  return Array.isArray(json) && json.length === 2 && json[0] === name && typeof json[1] === "string";
}

/** Parses one atom of `base` (without checking constraints). */
export function atomFromJSONUnchecked(base: BaseType, json: unknown, symtab?: Symtab): Atom {
  switch (base.type) {
    case "integer":
      // 2^63 is what JSON.parse makes of INT64_MAX (9223372036854775807), so it is allowed.
      if (typeof json === "number" && Number.isInteger(json) && json >= -INT64_LIMIT && json <= INT64_LIMIT) return json;
      break;
    case "real":
      if (typeof json === "number" && Number.isFinite(json)) return json;
      break;
    case "boolean":
      if (typeof json === "boolean") return json;
      break;
    case "string":
      if (typeof json === "string") return json;
      break;
    case "uuid": {
      if (isPair(json, "uuid")) {
        const s = json[1];
        if (!isUuid(s)) throw syntaxError(json, null, `"${s}" is not a valid UUID`);
        return s.toLowerCase();
      }
      if (symtab !== undefined && isPair(json, "named-uuid")) {
        const u = symtab(json[1]);
        if (u !== undefined) return u;
        throw syntaxError(json, null, `named-uuid "${json[1]}" not found`);
      }
      throw unwrapError(json, "uuid", "string");
    }
  }
  throw syntaxError(json, null, `expected ${base.type}`);
}

export function atomFromJSON(base: BaseType, json: unknown, symtab?: Symtab): Atom {
  const a = atomFromJSONUnchecked(base, json, symtab);
  const e = checkAtomConstraints(base, a);
  if (e !== null) throw e;
  return a;
}

export function atomToJSON(base: BaseType, a: Atom): unknown {
  return base.type === "uuid" ? ["uuid", a] : a;
}

/**
 * Sorts keys (and parallel values) and rejects duplicates, as
 * ovsdb_datum_sort does. Mutates the arrays in place.
 */
export function sortDatum(d: Datum, type: OvsdbType): OvsdbError | null {
  const n = d.keys.length;
  if (n < 2) return null;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (compareAtoms(d.keys[i - 1]!, d.keys[i]!) >= 0) {
      sorted = false;
      break;
    }
  }
  if (!sorted) {
    if (d.values === null) d.keys.sort(compareAtoms);
    else {
      const idx = d.keys.map((_, i) => i);
      idx.sort((x, y) => compareAtoms(d.keys[x]!, d.keys[y]!));
      const k = idx.map((i) => d.keys[i]!);
      const v = idx.map((i) => d.values![i]!);
      for (let i = 0; i < n; i++) {
        d.keys[i] = k[i]!;
        d.values[i] = v[i]!;
      }
    }
    for (let i = 1; i < n; i++) {
      if (compareAtoms(d.keys[i - 1]!, d.keys[i]!) === 0) {
        return type.value !== null
          ? new OvsdbError("ovsdb error", "map contains duplicate key")
          : new OvsdbError("ovsdb error", "set contains duplicate");
      }
    }
  }
  return null;
}

function sizeText(n: number): string {
  return n === Infinity ? String(UINT_MAX) : String(n);
}

/**
 * RFC 7047 <value> JSON -> Datum for a column of `type`, checking the
 * type, the constraints and the number of elements.
 */
export function datumFromJSON(type: OvsdbType, json: unknown, symtab?: Symtab): Datum {
  const isMap = type.value !== null;
  if (isMap || (Array.isArray(json) && json.length > 0 && json[0] === "set")) {
    const cls = isMap ? "map" : "set";
    if (!(Array.isArray(json) && json.length === 2 && json[0] === cls && Array.isArray(json[1]))) {
      throw unwrapError(json, cls, "array");
    }
    const inner = json[1] as unknown[];
    const n = inner.length;
    if (n < type.min || n > type.max) {
      if (type.min === 1 && type.max === 1) {
        throw syntaxError(json, null, `${cls} must have exactly one member but ${n} are present`);
      }
      throw syntaxError(json, null, `${cls} must have ${type.min} to ${sizeText(type.max)} members but ${n} are present`);
    }
    const keys: Atom[] = new Array<Atom>(n);
    const values: Atom[] | null = isMap ? new Array<Atom>(n) : null;
    for (let i = 0; i < n; i++) {
      const el = inner[i];
      if (isMap) {
        if (!Array.isArray(el) || el.length !== 2) throw syntaxError(el, null, "expected 2-element array");
        keys[i] = atomFromJSON(type.key, el[0], symtab);
        values![i] = atomFromJSON(type.value!, el[1], symtab);
      } else {
        keys[i] = atomFromJSON(type.key, el, symtab);
      }
    }
    if (n === 0) return isMap ? EMPTY_MAP : EMPTY_SET;
    if (n === 1 && !isMap) return singleton(keys[0]!);
    if (n === 1) return { keys: sharedKeys(keys[0]!, keys), values };
    const d: Datum = { keys, values };
    const e = sortDatum(d, type);
    if (e !== null) throw e;
    return d;
  }
  // A bare atom: a datum with exactly one element.
  return singleton(atomFromJSON(type.key, json, symtab));
}

/** Datum -> RFC 7047 <value> JSON, as ovsdb-server prints it. */
export function datumToJSON(type: OvsdbType, d: Datum): unknown {
  if (type.value !== null) {
    const pairs: unknown[] = new Array(d.keys.length);
    for (let i = 0; i < d.keys.length; i++) {
      pairs[i] = [atomToJSON(type.key, d.keys[i]!), atomToJSON(type.value, d.values![i]!)];
    }
    return ["map", pairs];
  }
  if (d.keys.length === 1) return atomToJSON(type.key, d.keys[0]!);
  return ["set", d.keys.map((k) => atomToJSON(type.key, k))];
}

/** JSON.stringify(atomToJSON(base, a)), without the intermediate array. */
function atomJsonText(base: BaseType, a: Atom): string {
  if (base.type === "uuid") return '["uuid","' + (a as string) + '"]';
  if (typeof a === "string") return JSON.stringify(a);
  if (typeof a === "number") return Number.isFinite(a) ? String(a) : "null";
  return a ? "true" : "false";
}

/**
 * JSON.stringify(datumToJSON(type, d)), built as text: records and monitor
 * updates print every changed column of every row (bench ovsdb (a): 2,000
 * inserted rows), and the arrays datumToJSON makes for that were only
 * garbage for the young generation.
 */
export function datumJsonText(type: OvsdbType, d: Datum): string {
  const n = d.keys.length;
  if (type.value !== null) {
    let s = '["map",[';
    for (let i = 0; i < n; i++) {
      s += (i > 0 ? ",[" : "[") + atomJsonText(type.key, d.keys[i]!) + "," + atomJsonText(type.value, d.values![i]!) + "]";
    }
    return s + "]]";
  }
  if (n === 1) return atomJsonText(type.key, d.keys[0]!);
  let s = '["set",[';
  for (let i = 0; i < n; i++) s += (i > 0 ? "," : "") + atomJsonText(type.key, d.keys[i]!);
  return s + "]]";
}

/**
 * The keys array of a one-pair map, shared (frozen) between datums when its
 * key is a short string: the same few keys ("id", "iface-id", ...) recur in
 * every row's external_ids, and a JS array costs 56 bytes (bench/ovsdb.ts
 * (d): Queue rows with one external_ids pair). Bounded.
 */
const sharedKeyArrays = new Map<Atom, Atom[]>();
function sharedKeys(key: Atom, fresh: Atom[]): Atom[] {
  if (typeof key !== "string" || key.length > 32) return fresh;
  let a = sharedKeyArrays.get(key);
  if (a === undefined) {
    if (sharedKeyArrays.size >= 10_000) return fresh;
    a = Object.freeze(fresh) as unknown as Atom[];
    sharedKeyArrays.set(key, a);
  }
  return a;
}

const internedInts: Datum[] = [];
const TRUE_DATUM: Datum = Object.freeze({ keys: Object.freeze([true]) as unknown as Atom[], values: null }) as Datum;
const FALSE_DATUM: Datum = Object.freeze({ keys: Object.freeze([false]) as unknown as Atom[], values: null }) as Datum;
const EMPTY_STRING_DATUM: Datum = Object.freeze({ keys: Object.freeze([""]) as unknown as Atom[], values: null }) as Datum;

/**
 * A one-element set/scalar datum. Common values (booleans, small integers,
 * "") are shared, which saves memory in big tables; never mutate datums.
 */
export function singleton(a: Atom): Datum {
  if (typeof a === "boolean") return a ? TRUE_DATUM : FALSE_DATUM;
  if (typeof a === "number") {
    if (Number.isInteger(a) && a >= 0 && a < 4096 && !Object.is(a, -0)) {
      let d = internedInts[a];
      if (d === undefined) {
        d = Object.freeze({ keys: Object.freeze([a]) as unknown as Atom[], values: null }) as Datum;
        internedInts[a] = d;
      }
      return d;
    }
  } else if (a === "") return EMPTY_STRING_DATUM;
  return { keys: [a], values: null };
}

/** Checks the number of elements and every atom's constraints (used after mutations). */
export function checkDatumConstraints(type: OvsdbType, d: Datum): OvsdbError | null {
  for (const k of d.keys) {
    const e = checkAtomConstraints(type.key, k);
    if (e !== null) return e;
  }
  if (type.value !== null && d.values !== null) {
    for (const v of d.values) {
      const e = checkAtomConstraints(type.value, v);
      if (e !== null) return e;
    }
  }
  return null;
}

/**
 * The difference from `old` to `d` as OVS writes it in update2 "modify"
 * and in "_is_diff" file records: for sets, the symmetric difference; for
 * maps, pairs removed (old value) or added/changed (new value); scalars
 * are just the new value. applyDatumDiff(old, diff) gives back `d`.
 */
export function datumDiff(type: OvsdbType, old: Datum, d: Datum): Datum {
  return type.isComposite() ? mergeSymmetric(type, old, d) : d;
}

/**
 * Applies a diff made by datumDiff (or read from an OVS "_is_diff" record).
 * Making and applying a diff are the same merge, which is its own inverse.
 */
export function applyDatumDiff(type: OvsdbType, old: Datum, diff: Datum): Datum {
  return type.isComposite() ? mergeSymmetric(type, old, diff) : diff;
}

/**
 * Merges two sorted datums: a key in only one of them is kept; a key in
 * both is dropped, unless (for a map) the values differ, when `b`'s value
 * is kept.
 */
function mergeSymmetric(type: OvsdbType, a: Datum, b: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | null = type.value !== null ? [] : null;
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i]!, b.keys[j]!);
    if (c < 0) {
      keys.push(a.keys[i]!);
      values?.push(a.values![i]!);
      i++;
    } else if (c > 0) {
      keys.push(b.keys[j]!);
      values?.push(b.values![j]!);
      j++;
    } else {
      if (values !== null && a.values![i] !== b.values![j]) {
        keys.push(b.keys[j]!);
        values.push(b.values![j]!);
      }
      i++;
      j++;
    }
  }
  if (keys.length === 0) return emptyDatum(type);
  return { keys, values };
}
