/**
 * A checker for JSON objects with named members, worded as OVS's
 * ovsdb_parser: "Parsing <what> failed: Required 'x' member is missing.",
 * "Type mismatch for member 'x'.", "Member 'x' is present but not allowed here."
 * Only the first problem is kept; `finish()` reports leftover members.
 */
import { OvsdbError, syntaxError } from "./error.js";

export type MemberKind = "any" | "string" | "id" | "integer" | "number" | "boolean" | "object" | "array" | "integer|string" | "true";

/** An OVSDB identifier: a letter or "_" then letters, digits, "_". */
export function isId(s: string): boolean {
  // A loop, not /^[A-Za-z_][A-Za-z0-9_]*$/: every operation's "op" and
  // "table" are checked, and a regular expression costs more per call.
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) continue;
    if (i > 0 && c >= 0x30 && c <= 0x39) continue;
    return false;
  }
  return true;
}

function kindMatches(kind: MemberKind, v: unknown): boolean {
  switch (kind) {
    case "any":
      return true;
    case "string":
      return typeof v === "string";
    case "id":
      return typeof v === "string" && isId(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "true":
      return v === true;
    case "object":
      return v !== null && typeof v === "object" && !Array.isArray(v);
    case "array":
      return Array.isArray(v);
    case "integer|string":
      return typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
  }
}

export class JsonObjectParser {
  readonly json: unknown;
  readonly name: string;
  error: OvsdbError | null = null;
  /**
   * Names of the members taken so far, the first `usedCount` entries. An
   * array, not a Set: an operation has a handful of members, and the
   * engine makes one parser per operation (bench ovsdb (a): 2,000 of them
   * in one transaction). Made with room for four, so that the usual
   * operation does not grow it (an empty array's first push allocates
   * room for 17).
   */
  private used: string[] = ["", "", "", ""];
  private usedCount = 0;
  private obj: Record<string, unknown> | null;

  constructor(json: unknown, name: string) {
    this.json = json;
    this.name = name;
    if (json !== null && typeof json === "object" && !Array.isArray(json)) {
      this.obj = json as Record<string, unknown>;
    } else {
      this.obj = null;
      // OVS reports this one without the offending JSON.
      this.error = new OvsdbError("syntax error", `Parsing ${name} failed: Object expected.`);
    }
  }

  raise(message: string): void {
    if (this.error === null) this.error = syntaxError(this.json, null, `Parsing ${this.name} failed: ${message}`);
  }

  /** Sets an already-built error as the parser's error (if none yet). */
  put(e: OvsdbError): void {
    if (this.error === null) this.error = e;
  }

  member(name: string, kind: MemberKind, optional = false): unknown {
    if (this.error !== null || this.obj === null) return undefined;
    if (!Object.prototype.hasOwnProperty.call(this.obj, name)) {
      if (!optional) this.raise(`Required '${name}' member is missing.`);
      return undefined;
    }
    const v = this.obj[name];
    if (kindMatches(kind, v)) {
      if (!this.isUsed(name)) {
        if (this.usedCount < this.used.length) this.used[this.usedCount] = name;
        else this.used.push(name);
        this.usedCount++;
      }
      return v;
    }
    this.raise(`Type mismatch for member '${name}'.`);
    return undefined;
  }

  private isUsed(name: string): boolean {
    for (let i = 0; i < this.usedCount; i++) if (this.used[i] === name) return true;
    return false;
  }

  /** The error, or the first unexpected member, or null. */
  finish(): OvsdbError | null {
    if (this.error === null && this.obj !== null) {
      // Usual case first, without allocating: every member was taken.
      let n = 0;
      for (const k in this.obj) if (Object.prototype.hasOwnProperty.call(this.obj, k)) n++;
      if (n === this.usedCount) return null;
      const unused = Object.keys(this.obj).filter((k) => !this.isUsed(k));
      if (unused.length === 1) this.raise(`Member '${unused[0]}' is present but not allowed here.`);
      else if (unused.length > 1) {
        const more = unused.length - 1;
        this.raise(`Member '${unused[0]}' and ${more} other member${more > 1 ? "s" : ""} are present but not allowed here.`);
      }
    }
    return this.error;
  }

  finishOrThrow(): void {
    const e = this.finish();
    if (e !== null) throw e;
  }
}
