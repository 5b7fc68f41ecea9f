/**
 * OVSDB data as text, the way ovs-vsctl (and ovn-nbctl, ovsdb-client's
 * table output) reads and prints it:
 *
 *   - atoms: integers (`5`, and `1-4` ranges inside sets), reals, booleans
 *     (`true/yes/on/1`), strings bare (`br0`) or JSON-quoted (`"a b"`), uuids
 *     and `@name` symbols that stand for rows created in the same command line;
 *   - data: `[a, b]` sets, `{k=v, k2=v2}` maps, a single atom, or `[]`/`{}`;
 *   - tokens: `column:key=value` arguments are split at `:=, []{}!<>` unless
 *     the delimiter is backslash-escaped or inside double quotes.
 *
 * Printing quotes a string only when it would not read back as the same
 * string (not an identifier, or `true`/`false`, or a uuid). Errors are
 * returned as the exact message text OVS prints after "ovs-vsctl: ".
 *
 * A datum here is `{keys, values}` with `values === null` for sets, keys in
 * OVSDB order (`compareAtoms`), the same shape as the OVSDB core's Datum.
 */
import type { BaseType, OvsdbType } from "./types.js";
import { compareAtoms, datumFind, datumFromJSON, datumToJSON, defaultAtom, formatG, isUuid, type Atom, type Datum } from "./datum.js";
import { OvsdbError } from "./error.js";
import { jsonToString, type DatumCell, type Json } from "../util/table-format.js";

export { compareAtoms, isUuid, type Atom };

/** A datum being parsed or edited (mutable, unlike a committed Datum). */
export type TextDatum = Datum;

/** An error message worded as OVS words it (printed after "ovs-vsctl: "). */
export class DatumTextError extends Error {
  constructor(message: string) {
    // OVS builds these messages as C strings: a NUL byte ends them.
    const nul = message.indexOf("\0");
    super(nul >= 0 ? message.slice(0, nul) : message);
    this.name = "DatumTextError";
  }
}

const UINT_MAX = 4294967295;
const MAX_RANGE_SIZE = 4096;
/** A fresh random (version 4) uuid. */
export function randomUuid(): string {
  return crypto.randomUUID();
}

// ---------------------------------------------------------------------------
// Symbols: `@name` row ids.

export interface OvsdbSymbol {
  uuid: string;
  /** Defined by `--id=@name` (create, get). */
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}

/** The `@name` symbols of one ovs-vsctl invocation. Insertion order is kept. */
export class SymbolTable {
  readonly symbols = new Map<string, OvsdbSymbol>();

  get(name: string): OvsdbSymbol | undefined {
    return this.symbols.get(name);
  }

  insert(name: string): OvsdbSymbol {
    let s = this.symbols.get(name);
    if (!s) {
      s = { uuid: randomUuid(), created: false, strongRef: false, weakRef: false };
      this.symbols.set(name, s);
    }
    return s;
  }
}

// ---------------------------------------------------------------------------
// Comparison (OVSDB order) and small datum operations.

export function emptyDatum(type: OvsdbType): TextDatum {
  return { keys: [], values: type.value ? [] : null };
}

/** Sorts a datum in place; returns false if there are duplicate keys. */
export function sortDatum(d: TextDatum): boolean {
  const idx = d.keys.map((_, i) => i);
  idx.sort((i, j) => compareAtoms(d.keys[i]!, d.keys[j]!));
  const keys = idx.map((i) => d.keys[i]!);
  const values = d.values ? idx.map((i) => d.values![i]!) : null;
  d.keys = keys;
  d.values = values;
  for (let i = 1; i < keys.length; i++) if (compareAtoms(keys[i - 1]!, keys[i]!) === 0) return false;
  return true;
}

/** Index of `key` in sorted `d`, or -1. */
export const findKey = datumFind;

export function compareData(a: TextDatum, b: TextDatum): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = compareAtoms(a.keys[i]!, b.keys[i]!);
    if (c) return c;
  }
  if (a.values && b.values) {
    for (let i = 0; i < a.values.length; i++) {
      const c = compareAtoms(a.values[i]!, b.values[i]!);
      if (c) return c;
    }
  }
  return 0;
}

export function dataEqual(a: TextDatum, b: TextDatum): boolean {
  return compareData(a, b) === 0;
}

/** True if every element (key, or key and value when `withValues`) of a is in b. */
export function includesAll(a: TextDatum, b: TextDatum, withValues: boolean): boolean {
  if (a.keys.length > b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) {
    const j = findKey(b, a.keys[i]!);
    if (j < 0) return false;
    if (withValues && a.values && b.values && compareAtoms(a.values[i]!, b.values[j]!) !== 0) return false;
  }
  return true;
}

/** a ∪ b, keeping a's value for keys in both (OVS's ovsdb_datum_union). */
export function unionData(a: TextDatum, b: TextDatum): TextDatum {
  const out: TextDatum = { keys: [...a.keys], values: a.values ? [...a.values] : null };
  for (let i = 0; i < b.keys.length; i++) {
    if (findKey(a, b.keys[i]!) >= 0) continue;
    out.keys.push(b.keys[i]!);
    if (out.values) out.values.push(b.values ? b.values[i]! : "");
  }
  sortDatum(out);
  return out;
}

/** a − b; when b has values, a pair is removed only if its value matches too. */
export function subtractData(a: TextDatum, b: TextDatum): TextDatum {
  const out: TextDatum = { keys: [], values: a.values ? [] : null };
  for (let i = 0; i < a.keys.length; i++) {
    const j = findKey(b, a.keys[i]!);
    const hit = j >= 0 && (!b.values || !a.values || compareAtoms(a.values[i]!, b.values[j]!) === 0);
    if (hit) continue;
    out.keys.push(a.keys[i]!);
    if (out.values) out.values.push(a.values![i]!);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Printing.

function isAsciiAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function stringNeedsQuotes(s: string): boolean {
  if (s.length === 0) return true;
  const c0 = s.charCodeAt(0);
  if (!isAsciiAlpha(c0) && c0 !== 0x5f) return true;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAsciiAlpha(c) && !(c >= 0x30 && c <= 0x39) && c !== 0x5f && c !== 0x2d && c !== 0x2e) return true;
  }
  if (s === "true" || s === "false") return true;
  return isUuid(s);
}

export function atomToString(atom: Atom, base: BaseType): string {
  switch (base.type) {
    case "integer":
      return String(atom);
    case "real":
      return formatG(atom as number, 15);
    case "boolean":
      return atom ? "true" : "false";
    case "string":
      return stringNeedsQuotes(atom as string) ? jsonToString(atom as string) : (atom as string);
    case "uuid":
      return atom as string;
  }
}

export function atomToBare(atom: Atom, base: BaseType): string {
  return base.type === "string" ? (atom as string) : atomToString(atom, base);
}

/** `[a, b]`, `{k=v}`, or a lone atom for a non-empty scalar/optional. */
export function datumToString(d: TextDatum, type: OvsdbType): string {
  const isMap = type.value !== null;
  const brackets = type.max > 1 || d.keys.length === 0;
  const parts = d.keys.map((k, i) =>
    isMap ? `${atomToString(k, type.key)}=${atomToString(d.values![i]!, type.value!)}` : atomToString(k, type.key),
  );
  const body = parts.join(", ");
  return brackets ? (isMap ? `{${body}}` : `[${body}]`) : body;
}

export function datumToBare(d: TextDatum, type: OvsdbType): string {
  return d.keys
    .map((k, i) => (type.value ? `${atomToBare(k, type.key)}=${atomToBare(d.values![i]!, type.value)}` : atomToBare(k, type.key)))
    .join(" ");
}

// ---------------------------------------------------------------------------
// JSON (RFC 7047 <value>) conversion.

export function datumToJson(d: TextDatum, type: OvsdbType): Json {
  return datumToJSON(type, d) as Json;
}

/** Reads a datum as the server sends it (no constraint checks). */
export function datumFromJson(json: unknown, type: OvsdbType): TextDatum {
  try {
    const d = datumFromJSON(type.unconstrained(), json);
    // A fresh copy: callers edit parsed datums in place.
    return { keys: [...d.keys], values: d.values === null ? (type.value !== null ? [] : null) : [...d.values] };
  } catch (e) {
    if (e instanceof OvsdbError) throw new DatumTextError(`bad ${type.value !== null ? "map" : type.key.type} JSON ${JSON.stringify(json)}`);
    throw e;
  }
}

/** The default datum of a type (empty, or the atomic default for min 1). */
export function defaultDatum(type: OvsdbType): TextDatum {
  const d = emptyDatum(type);
  if (type.min === 1) {
    d.keys.push(defaultAtom(type.key));
    if (d.values && type.value) d.values.push(defaultAtom(type.value));
  }
  return d;
}

/** A table cell holding `d`, in string, bare and JSON forms. */
export function datumCell(d: TextDatum, type: OvsdbType): DatumCell {
  return { kind: "datum", string: datumToString(d, type), bare: datumToBare(d, type), json: datumToJson(d, type) };
}

// ---------------------------------------------------------------------------
// Parsing.

const DELIMS = ":=, []{}!<>";

export function isTokenDelim(c: string): boolean {
  return c === "" || DELIMS.includes(c);
}

/**
 * Splits off one token at `pos`: up to the first unquoted, unescaped
 * delimiter. Returns the token and the position after it.
 */
export function parseToken(s: string, pos: number): { token: string; pos: number } {
  let out = "";
  let inQuotes = false;
  let p = pos;
  while (p < s.length) {
    const c = s[p++]!;
    if (c === "\\") {
      if (inQuotes) out += "\\";
      if (p >= s.length) throw new DatumTextError(`${s.slice(pos)}: backslash at end of argument`);
      out += s[p++];
    } else if (!inQuotes && DELIMS.includes(c)) {
      p--;
      break;
    } else {
      out += c;
      if (c === '"') inQuotes = !inQuotes;
    }
  }
  if (inQuotes) throw new DatumTextError(`${s.slice(pos)}: quoted string extends past end of argument`);
  return { token: out, pos: p };
}

/** JSON string unescaping as OVS's json_string_unescape (errors as its messages). */
function unescapeJsonString(s: string): string | { error: string } {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return { error: 'quoted string may not include unescaped "' };
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    i++;
    if (i >= s.length) return { error: "quoted string may not end with backslash" };
    const e = s[i++]!;
    switch (e) {
      case '"':
      case "\\":
      case "/":
        out += e;
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "t":
        out += "\t";
        break;
      case "u": {
        const hex = s.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return { error: "malformed \\u escape" };
        i += 4;
        let cp = parseInt(hex, 16);
        if (cp === 0) return { error: "null bytes not supported in quoted strings" };
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const lo = s.slice(i, i + 6);
          if (!/^\\u[dD][c-fC-F][0-9a-fA-F]{2}$/.test(lo)) return { error: "surrogate pair expected" };
          i += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(lo.slice(2), 16) - 0xdc00);
        }
        out += String.fromCodePoint(cp);
        break;
      }
      default:
        return { error: `bad escape \\${e}` };
    }
  }
  return out;
}

const INT_RE = /^[ \t\n\v\f\r]*[+-]?[0-9]+$/;
const REAL_RE = /^[ \t\n\v\f\r]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)$/i;

function parseLongLong(s: string): number | null {
  if (!INT_RE.test(s)) return null;
  const v = BigInt(s.trim());
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null;
  return Number(v);
}

/** C strtoll-style range "A-B" (A may be negative). */
function parseRange(s: string): [number, number] | null {
  const m = /^([ \t\n\v\f\r]*[+-]?[0-9]+)-(.*)$/.exec(s);
  if (!m) return null;
  const a = parseLongLong(m[1]!);
  const b = parseLongLong(m[2]!);
  return a === null || b === null ? null : [a, b];
}

function constraintError(details: string): DatumTextError {
  return new DatumTextError(`constraint violation: ${details}`);
}

function utf8Length(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Checks `atom` against `base`'s constraints; null or OVS's message. */
export function checkAtomConstraints(atom: Atom, base: BaseType): DatumTextError | null {
  if (base.enum && findKey(base.enum as TextDatum, atom) < 0) {
    const enumType = { key: base, value: null, min: 1, max: Infinity } as unknown as OvsdbType;
    return constraintError(
      `${atomToString(atom, base)} is not one of the allowed values (${datumToString(base.enum as TextDatum, enumType)})`,
    );
  }
  switch (base.type) {
    case "integer": {
      const v = atom as number;
      const min = base.minInteger;
      const max = base.maxInteger;
      if ((min === undefined || v >= min) && (max === undefined || v <= max)) return null;
      if (min !== undefined && max !== undefined) return constraintError(`${v} is not in the valid range ${min} to ${max} (inclusive)`);
      if (min !== undefined) return constraintError(`${v} is less than minimum allowed value ${min}`);
      return constraintError(`${v} is greater than maximum allowed value ${max}`);
    }
    case "real": {
      const v = atom as number;
      const min = base.minReal;
      const max = base.maxReal;
      if ((min === undefined || v >= min) && (max === undefined || v <= max)) return null;
      const g = (x: number | undefined): string => formatG(x!, 15);
      if (min !== undefined && max !== undefined) return constraintError(`${g(v)} is not in the valid range ${g(min)} to ${g(max)} (inclusive)`);
      if (min !== undefined) return constraintError(`${g(v)} is less than minimum allowed value ${g(min)}`);
      return constraintError(`${g(v)} is greater than maximum allowed value ${g(max)}`);
    }
    case "string": {
      const s = atom as string;
      const n = utf8Length(s);
      if (base.minLength !== undefined && n < base.minLength) {
        return constraintError(`"${s}" length ${n} is less than minimum allowed length ${base.minLength}`);
      }
      if (base.maxLength !== undefined && n > base.maxLength) {
        return constraintError(`"${s}" length ${n} is greater than maximum allowed length ${base.maxLength}`);
      }
      return null;
    }
    default:
      return null;
  }
}

export interface ParsedAtom {
  atom: Atom;
  /** End of an integer range `atom-rangeEnd`, when ranges were allowed. */
  rangeEnd?: number;
}

/**
 * Parses one atom of `base` from `s` (ovsdb_atom_from_string). `@name` uuids
 * resolve through `symtab` (when given), creating the symbol if new.
 */
export function atomFromString(base: BaseType, s: string, symtab: SymbolTable | null, allowRange = false): ParsedAtom {
  let atom: Atom;
  let rangeEnd: number | undefined;
  switch (base.type) {
    case "integer": {
      const r = allowRange ? parseRange(s) : null;
      if (r) {
        if (r[1] < r[0]) throw new DatumTextError(`"${s}" is not a valid range. Range end cannot be before start.`);
        atom = r[0];
        rangeEnd = r[1];
      } else {
        const v = parseLongLong(s);
        if (v === null) throw new DatumTextError(`"${s}" is not a valid integer or range`);
        atom = v;
      }
      break;
    }
    case "real": {
      if (!REAL_RE.test(s)) throw new DatumTextError(`"${s}" is not a valid real number`);
      const t = s.trim().toLowerCase();
      const neg = t.startsWith("-");
      const body = t.replace(/^[+-]/, "");
      let v = body.startsWith("inf") ? Infinity : body === "nan" ? NaN : Number(body);
      if (neg) v = -v;
      if (!Number.isFinite(v) && !body.startsWith("inf") && body !== "nan") throw new DatumTextError(`"${s}" is not a valid real number`);
      atom = v === 0 ? 0 : v;
      break;
    }
    case "boolean":
      if (s === "true" || s === "yes" || s === "on" || s === "1") atom = true;
      else if (s === "false" || s === "no" || s === "off" || s === "0") atom = false;
      else throw new DatumTextError(`"${s}" is not a valid boolean (use "true" or "false")`);
      break;
    case "string":
      if (s === "") throw new DatumTextError('An empty string is not valid as input; use "" to represent the empty string');
      if (s.startsWith('"')) {
        if (s.length < 2 || !s.endsWith('"')) throw new DatumTextError(`${s}: missing quote at end of quoted string`);
        const u = unescapeJsonString(s.slice(1, -1));
        if (typeof u !== "string") throw new DatumTextError(`${s}: ${u.error}`);
        atom = u;
      } else atom = s;
      break;
    case "uuid":
      if (s.startsWith("@") && symtab) {
        const sym = symtab.insert(s);
        atom = sym.uuid;
        if (base.refTable !== undefined) {
          if (base.refType === "weak") sym.weakRef = true;
          else sym.strongRef = true;
        }
      } else if (isUuid(s)) atom = s.toLowerCase();
      else throw new DatumTextError(`"${s}" is not a valid UUID`);
      break;
  }
  let err = checkAtomConstraints(atom, base);
  if (!err && rangeEnd !== undefined) {
    const start = atom as number;
    if (base.enum) {
      for (let i = start + 1; i <= rangeEnd && !err; i++) err = checkAtomConstraints(i, base);
    } else err = checkAtomConstraints(rangeEnd, base);
    if (!err && rangeEnd - start >= MAX_RANGE_SIZE) {
      err = constraintError(`Range "${start}-${rangeEnd}" is too big. Maximum allowed size is ${MAX_RANGE_SIZE}.`);
    }
  }
  if (err) throw err;
  return rangeEnd === undefined ? { atom } : { atom, rangeEnd };
}

/** "string", "set of up to 4096 integers", "map of (string, string) pairs"... */
export function typeToEnglish(type: OvsdbType): string {
  const key = type.key.type;
  const isScalar = type.min === 1 && type.max === 1 && type.value === null;
  if (isScalar) return key;
  const max = type.max === Infinity ? UINT_MAX : type.max;
  let s = type.value === null ? "set" : "map";
  if (max === UINT_MAX) s += type.min ? ` of ${type.min} or more` : " of";
  else if (type.min) s += ` of ${type.min} to ${max}`;
  else s += ` of up to ${max}`;
  s += type.value === null ? ` ${key}s` : ` (${key}, ${type.value.type}) pairs`;
  return s;
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

/**
 * Parses a datum of `type` (ovsdb_datum_from_string): atoms or `k=v` pairs
 * separated by commas and/or spaces, optionally in `[]` (set) or `{}` (map).
 */
export function datumFromString(type: OvsdbType, s: string, symtab: SymbolTable | null): TextDatum {
  const isMap = type.value !== null;
  const d = emptyDatum(type);
  let p = 0;
  const skip = (): void => {
    while (isSpace(s[p])) p++;
  };
  skip();
  let endDelim = "";
  if (s[p] === (isMap ? "{" : "[")) {
    endDelim = isMap ? "}" : "]";
    p++;
    skip();
  } else if (p >= s.length) {
    throw new DatumTextError(isMap ? 'use "{}" to specify the empty map' : 'use "[]" to specify the empty set');
  }
  while (p < s.length && s[p] !== endDelim) {
    const c = s[p]!;
    if (DELIMS.includes(c)) throw new DatumTextError(`${s}: unexpected "${c}" parsing ${typeToEnglish(type)}`);
    const start = p;
    const k = parseToken(s, p);
    p = k.pos;
    const key = atomFromString(type.key, k.token, symtab, true);
    if (type.value) {
      skip();
      if (s[p] === "=") {
        p++;
        skip();
        const v = parseToken(s, p);
        p = v.pos;
        const value = atomFromString(type.value, v.token, symtab, false);
        d.keys.push(key.atom);
        d.values!.push(value.atom);
      } else {
        throw new DatumTextError(`${s.slice(start)}: syntax error at "${s[p] ?? "\0"}" expecting "="`);
      }
    } else if (key.rangeEnd !== undefined) {
      for (let i = key.atom as number; i <= key.rangeEnd; i++) d.keys.push(i);
    } else {
      d.keys.push(key.atom);
    }
    skip();
    if (s[p] === ",") {
      p++;
      skip();
    }
  }
  if ((s[p] ?? "") !== endDelim) throw new DatumTextError(`${s}: missing "${endDelim || "\0"}" at end of data`);
  if (endDelim) {
    p++;
    skip();
    if (p < s.length) throw new DatumTextError(`${s}: trailing garbage after "${endDelim}"`);
  }
  const n = d.keys.length;
  const what = isMap ? "pair(s)" : "value(s)";
  if (n < type.min) throw new DatumTextError(`${s}: ${n} ${what} specified but the minimum number is ${type.min}`);
  const max = type.max === Infinity ? UINT_MAX : type.max;
  if (n > max) throw new DatumTextError(`${s}: ${n} ${what} specified but the maximum number is ${max}`);
  if (!sortDatum(d)) throw new DatumTextError(isMap ? `${s}: map contains duplicate key` : `${s}: set contains duplicate value`);
  return d;
}
