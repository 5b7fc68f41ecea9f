/**
 * OVSDB column types (RFC 7047 §3.2): atomic types, base types with their
 * constraints (ranges, lengths, enums, references) and full column types
 * (scalar, optional, set, map). Parsing follows ovsdb-tool's rules and words.
 */
import { OvsdbError, syntaxError } from "./error.js";
import { JsonObjectParser } from "./json-parser.js";
import type { Datum } from "./datum.js";
import { datumFromJSON, datumToJSON } from "./datum.js";

export type AtomicType = "integer" | "real" | "boolean" | "string" | "uuid";
export const ATOMIC_TYPES: readonly AtomicType[] = ["integer", "real", "boolean", "string", "uuid"];

export function isAtomicType(s: unknown): s is AtomicType {
  return s === "integer" || s === "real" || s === "boolean" || s === "string" || s === "uuid";
}

/** OVS stores "unlimited" set sizes as UINT_MAX and prints that number in messages. */
export const UINT_MAX = 4294967295;

function atomicTypeFromJSON(json: unknown): AtomicType {
  if (typeof json === "string") {
    if (isAtomicType(json)) return json;
    throw syntaxError(json, null, `"${json}" is not an atomic-type`);
  }
  throw syntaxError(json, null, "atomic-type expected");
}

export class BaseType {
  type: AtomicType;
  enum: Datum | null = null;
  minInteger: number | undefined = undefined;
  maxInteger: number | undefined = undefined;
  minReal: number | undefined = undefined;
  maxReal: number | undefined = undefined;
  minLength: number | undefined = undefined;
  maxLength: number | undefined = undefined;
  refTable: string | undefined = undefined;
  refType: "strong" | "weak" = "strong";

  constructor(type: AtomicType) {
    this.type = type;
  }

  /** True if any constraint beyond the bare atomic type applies. */
  hasConstraints(): boolean {
    return (
      this.enum !== null ||
      this.minInteger !== undefined ||
      this.maxInteger !== undefined ||
      this.minReal !== undefined ||
      this.maxReal !== undefined ||
      this.minLength !== undefined ||
      this.maxLength !== undefined ||
      this.refTable !== undefined
    );
  }

  /** The same atomic type without any constraint (used for mutation arguments). */
  withoutConstraints(): BaseType {
    return new BaseType(this.type);
  }

  /** A strong reference base type (refTable set, refType strong). */
  isStrongRef(): boolean {
    return this.refTable !== undefined && this.refType === "strong";
  }
  isWeakRef(): boolean {
    return this.refTable !== undefined && this.refType === "weak";
  }

  static fromJSON(json: unknown): BaseType {
    if (typeof json === "string") return new BaseType(atomicTypeFromJSON(json));
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw syntaxError(json, null, "base type expected");
    }
    const p = new JsonObjectParser(json as Record<string, unknown>, "ovsdb type");
    const typeJson = p.member("type", "string");
    if (p.error) throw p.finish()!;
    const base = new BaseType(atomicTypeFromJSON(typeJson));
    const enumJson = p.member("enum", "any", true);
    switch (base.type) {
      case "integer": {
        const min = p.member("minInteger", "integer", true) as number | undefined;
        const max = p.member("maxInteger", "integer", true) as number | undefined;
        if (min !== undefined) base.minInteger = min;
        if (max !== undefined) base.maxInteger = max;
        if (min !== undefined && max !== undefined && min > max) {
          p.finishOrThrow();
          throw syntaxError(json, null, "minInteger exceeds maxInteger");
        }
        break;
      }
      case "real": {
        const min = p.member("minReal", "number", true) as number | undefined;
        const max = p.member("maxReal", "number", true) as number | undefined;
        if (min !== undefined) base.minReal = min;
        if (max !== undefined) base.maxReal = max;
        if (min !== undefined && max !== undefined && min > max) {
          p.finishOrThrow();
          throw syntaxError(json, null, "minReal exceeds maxReal");
        }
        break;
      }
      case "string": {
        const min = p.member("minLength", "integer", true) as number | undefined;
        const max = p.member("maxLength", "integer", true) as number | undefined;
        if (min !== undefined) {
          if (min < 0 || min > UINT_MAX) { p.finishOrThrow(); throw syntaxError(json, null, `minLength out of valid range 0 to ${UINT_MAX}`); }
          base.minLength = min;
        }
        if (max !== undefined) {
          if (max < 0 || max > UINT_MAX) { p.finishOrThrow(); throw syntaxError(json, null, `maxLength out of valid range 0 to ${UINT_MAX}`); }
          base.maxLength = max;
        }
        if (min !== undefined && max !== undefined && min > max) {
          p.finishOrThrow();
          throw syntaxError(json, null, "minLength exceeds maxLength");
        }
        break;
      }
      case "uuid": {
        const refTable = p.member("refTable", "id", true) as string | undefined;
        if (refTable !== undefined) {
          base.refTable = refTable;
          const refType = p.member("refType", "id", true) as string | undefined;
          if (refType !== undefined) {
            if (refType === "weak") base.refType = "weak";
            else if (refType !== "strong") {
              p.finishOrThrow();
              throw syntaxError(json, null, `refType must be "strong" or "weak" (not "${refType}")`);
            }
          }
        }
        break;
      }
      case "boolean":
        break;
    }
    if (enumJson !== undefined) {
      const plain = new BaseType(base.type);
      Object.assign(plain, base);
      plain.enum = null;
      const enumType = new OvsdbType(plain, null, 1, Infinity);
      try {
        base.enum = datumFromJSON(enumType, enumJson);
      } catch (e) {
        p.finishOrThrow();
        throw e;
      }
    }
    p.finishOrThrow();
    return base;
  }

  toJSON(): unknown {
    if (!this.hasConstraints()) return this.type;
    const o: Record<string, unknown> = { type: this.type };
    if (this.enum !== null) {
      const plain = new BaseType(this.type);
      o["enum"] = datumToJSON(new OvsdbType(plain, null, 1, Infinity), this.enum);
    }
    if (this.minInteger !== undefined) o["minInteger"] = this.minInteger;
    if (this.maxInteger !== undefined) o["maxInteger"] = this.maxInteger;
    if (this.minReal !== undefined) o["minReal"] = this.minReal;
    if (this.maxReal !== undefined) o["maxReal"] = this.maxReal;
    if (this.minLength !== undefined) o["minLength"] = this.minLength;
    if (this.maxLength !== undefined) o["maxLength"] = this.maxLength;
    if (this.refTable !== undefined) {
      o["refTable"] = this.refTable;
      if (this.refType === "weak") o["refType"] = "weak";
    }
    return o;
  }
}

export class OvsdbType {
  key: BaseType;
  value: BaseType | null;
  min: number;
  /** Infinity for "unlimited". */
  max: number;

  constructor(key: BaseType, value: BaseType | null = null, min = 1, max = 1) {
    this.key = key;
    this.value = value;
    this.min = min;
    this.max = max;
  }

  isMap(): boolean {
    return this.value !== null;
  }
  /** A set in the brief's sense: more than one element allowed, not a map. */
  isSet(): boolean {
    return this.value === null && this.max > 1;
  }
  /** OVS's ovsdb_type_is_set(): not a map and not exactly one element (so optional counts). */
  isSetOrOptional(): boolean {
    return this.value === null && (this.min !== 1 || this.max !== 1);
  }
  isOptionalScalar(): boolean {
    return this.value === null && this.min === 0 && this.max === 1;
  }
  isScalar(): boolean {
    return this.min === 1 && this.max === 1 && this.value === null;
  }
  isOptional(): boolean {
    return this.min === 0 && this.max === 1;
  }
  /** A composite (set or map) in OVS's sense: anything but a plain scalar. */
  isComposite(): boolean {
    return this.max > 1 || this.value !== null;
  }

  private unconstrainedType: OvsdbType | undefined;

  /**
   * The same key and value atomic types with no constraint and any number
   * of elements: for reading data that was checked already (file records,
   * server replies) and diffs, which may hold more or fewer elements.
   */
  unconstrained(): OvsdbType {
    this.unconstrainedType ??= new OvsdbType(this.key.withoutConstraints(), this.value?.withoutConstraints() ?? null, 0, Infinity);
    return this.unconstrainedType;
  }

  /** A type-name as OVS prints it in messages ("integer", "set of strings", ...). */
  describe(): string {
    return describeType(this);
  }

  static fromJSON(json: unknown): OvsdbType {
    if (typeof json === "string") return new OvsdbType(new BaseType(atomicTypeFromJSON(json)));
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw syntaxError(json, null, "ovsdb type expected");
    }
    const obj = json as Record<string, unknown>;
    if (!("key" in obj)) {
      // An object without "key" is a constrained scalar base type.
      return new OvsdbType(BaseType.fromJSON(json));
    }
    const p = new JsonObjectParser(obj, "ovsdb type");
    const keyJson = p.member("key", "any");
    const valueJson = p.member("value", "any", true);
    const minJson = p.member("min", "integer", true) as number | undefined;
    const maxJson = p.member("max", "integer|string", true) as number | string | undefined;
    p.finishOrThrow();
    const key = BaseType.fromJSON(keyJson);
    const value = valueJson === undefined ? null : BaseType.fromJSON(valueJson);
    const bad = (j: unknown) => syntaxError(j, null, "bad min or max value");
    let min = 1;
    if (minJson !== undefined) {
      if (minJson < 0 || minJson > UINT_MAX) throw bad(minJson);
      min = minJson;
    }
    let max = 1;
    if (maxJson !== undefined) {
      if (maxJson === "unlimited") max = Infinity;
      else if (typeof maxJson === "number" && maxJson >= 0 && maxJson <= UINT_MAX) max = maxJson;
      else throw bad(maxJson);
    }
    if (min > 1 || min > max || max < 1) throw syntaxError(json, null, "ovsdb type fails constraint checks");
    return new OvsdbType(key, value, min, max);
  }

  toJSON(): unknown {
    if (this.isScalar() && !this.key.hasConstraints()) return this.key.type;
    const o: Record<string, unknown> = { key: this.key.toJSON() };
    if (this.value !== null) o["value"] = this.value.toJSON();
    if (this.min !== 1) o["min"] = this.min;
    if (this.max === Infinity) o["max"] = "unlimited";
    else if (this.max !== 1) o["max"] = this.max;
    return o;
  }
}

/** The type in words, as ovsdb_type_to_english() prints it in messages. */
function describeType(t: OvsdbType): string {
  const k = t.key.type;
  if (t.isScalar()) return k;
  const isSet = t.value === null;
  let s = isSet ? "set of " : "map of ";
  if (t.max === Infinity) s += t.min > 0 ? `${t.min} or more ` : "";
  else if (t.min > 0) s += `${t.min} to ${t.max} `;
  else s += `up to ${t.max} `;
  s += isSet ? `${k}s` : `(${k}, ${t.value!.type}) pairs`;
  return s;
}

export { OvsdbError };
