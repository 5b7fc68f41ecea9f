/**
 * OVSDB error objects (RFC 7047 §3.1 "error" results): a tag such as
 * "syntax error" or "constraint violation", optional details, and — as
 * ovsdb-server adds for parse failures — the offending JSON text as "syntax".
 */
export class OvsdbError extends Error {
  readonly tag: string;
  readonly details: string | undefined;
  /** The JSON text that caused a syntax error, when OVS reports it. */
  readonly syntax: string | undefined;

  constructor(tag: string, details?: string, syntax?: string) {
    super(details !== undefined ? `${tag}: ${details}` : tag);
    this.name = "OvsdbError";
    this.tag = tag;
    this.details = details;
    this.syntax = syntax;
  }

  toJSON(): { error: string; details?: string; syntax?: string } {
    const o: { error: string; details?: string; syntax?: string } = { error: this.tag };
    if (this.details !== undefined) o.details = this.details;
    if (this.syntax !== undefined) o.syntax = this.syntax;
    return o;
  }
}

/** Serializes JSON the way OVS quotes it inside error messages (compact). */
export function jsonText(json: unknown): string {
  return sortedJson(json, 0);
}

/** Compact JSON with object members sorted by name, as OVS's JSSF_SORT prints it. */
function sortedJson(v: unknown, depth: number): string {
  if (depth > 1000) return "null";
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (Array.isArray(v)) return "[" + v.map((x) => sortedJson(x, depth + 1)).join(",") + "]";
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + sortedJson(o[k], depth + 1)).join(",") + "}";
    }
    default:
      return "null";
  }
}

/** A "syntax error" (or another tag) carrying the offending JSON, as ovsdb_syntax_error() does. */
export function syntaxError(json: unknown, tag: string | null, details: string): OvsdbError {
  return new OvsdbError(tag ?? "syntax error", details, json === undefined ? undefined : jsonText(json));
}
