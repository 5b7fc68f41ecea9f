/**
 * Tables of OVSDB data printed the way OVS's command-line tools print them
 * (ovs-vsctl `list`/`find`, ovsdb-client `dump`/`query`/`monitor`), in the
 * formats of their `--format` option: `table`, `list`, `html`, `csv`, `json`.
 *
 * A `Table` is headings plus rows of cells. A cell is either fixed text, or a
 * datum carried in three renderings at once — its OVSDB string form
 * (`{a=b}`, `[x, y]`), its bare form (`a=b`, `x y`) and its JSON form
 * (`["map",[["a","b"]]]`) — and the style (`--data=string|bare|json`) picks
 * one. The `json` output format always uses a datum cell's JSON form.
 *
 * OVS keeps a per-format counter for the whole process and separates each
 * table after the first with a blank line (`table`, `list` and `csv` formats);
 * `TablePrinter` holds that state, and `printTable` uses one shared printer.
 *
 * Widths are measured in bytes of UTF-8, as the C code does with strlen().
 */
import { formatG } from "./format-g.js";
import type { LongOption } from "./getopt.js";

export { formatG };

/** Output layout, as `--format=`. */
export type TableFormat = "table" | "list" | "html" | "csv" | "json";
/** Rendering of datum cells, as `--data=` (and `--bare`). */
export type CellFormat = "string" | "bare" | "json";

export interface TableStyle {
  format: TableFormat;
  cellFormat: CellFormat;
  /** Print column headings (false with `--no-headings` / `--bare`). */
  headings: boolean;
  /** `--pretty`: indent JSON output. */
  pretty: boolean;
  /** `--max-column-width`: cap (and truncate) `table` format columns; 0 or absent: no cap. */
  maxColumnWidth?: number;
}

export const DEFAULT_TABLE_STYLE: Readonly<TableStyle> = Object.freeze({
  format: "table",
  cellFormat: "string",
  headings: true,
  pretty: false,
});

/** A JSON value as OVSDB puts it on the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A cell with fixed text, printed verbatim in every style (a JSON string in `json` format). */
export interface TextCell {
  kind: "text";
  text: string;
}

/** A cell holding a datum in its three renderings. */
export interface DatumCell {
  kind: "datum";
  /** OVSDB string form: `{a=b, c=d}`, `[1, 2]`, `"quoted string"`. */
  string: string;
  /** Bare form: `a=b c=d`, `1 2`, `quoted string`. */
  bare: string;
  /** RFC 7047 JSON form. */
  json: Json;
}

/** A cell that has only JSON (no column type known): printed as JSON text in every cell format. */
export interface JsonCell {
  kind: "json";
  json: Json;
}

export type Cell = TextCell | DatumCell | JsonCell;

export interface Table {
  headings: string[];
  rows: Cell[][];
  /** Printed above the table (ovsdb-client `dump` uses "<name> table"). */
  caption?: string;
  /**
   * When set (ovsdb-client --timestamp), this time (ms since the epoch) is
   * printed as "YYYY-MM-DD HH:MM:SS.mmm" UTC before everything else, or as
   * the "time" member of the JSON format.
   */
  timestamp?: number;
}

/** A time as OVS's tables print it: "2024-01-31 12:34:56.789" (UTC). */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/Z$/, "");
}

export function textCell(text: string): TextCell {
  return { kind: "text", text };
}

export function jsonCell(json: Json): JsonCell {
  return { kind: "json", json };
}

/** Parses a `--format` argument; null when unknown (caller words the error). */
export function parseTableFormat(s: string): TableFormat | null {
  return s === "table" || s === "list" || s === "html" || s === "csv" || s === "json" ? s : null;
}

/** Parses a `--data` argument; null when unknown. */
export function parseCellFormat(s: string): CellFormat | null {
  return s === "string" || s === "bare" || s === "json" ? s : null;
}

/** The table output options every OVS tool with table output takes. */
export const TABLE_OPTIONS: readonly LongOption[] = [
  { name: "format", hasArg: 1, id: "format", short: "f" },
  { name: "data", hasArg: 1, id: "data", short: "d" },
  { name: "no-headings", hasArg: 0, id: "no-headings" },
  { name: "pretty", hasArg: 0, id: "pretty" },
  { name: "bare", hasArg: 0, id: "bare" },
  { name: "max-column-width", hasArg: 1, id: "max-column-width" },
];

/** Their --help text (ovsdb-client adds its --timestamp line after it). */
export const TABLE_OPTIONS_HELP = `Output formatting options:
  -f, --format=FORMAT         set output formatting to FORMAT
                              ("table", "html", "csv", or "json")
  -d, --data=FORMAT           set table cell output formatting to
                              FORMAT ("string", "bare", or "json")
  --no-headings               omit table heading row
  --pretty                    pretty-print JSON in output
  --bare                      equivalent to "--format=list --data=bare --no-headings"
`;

/**
 * Applies one of TABLE_OPTIONS (by id) to `style`. Returns the error
 * message OVS prints for a bad argument, or null.
 */
export function applyTableOption(style: TableStyle, id: string, arg: string | null): string | null {
  switch (id) {
    case "format": {
      const f = parseTableFormat(arg!);
      if (!f) return `unknown output format "${arg}"`;
      style.format = f;
      break;
    }
    case "data": {
      const d = parseCellFormat(arg!);
      if (!d) return `unknown data format "${arg}"`;
      style.cellFormat = d;
      break;
    }
    case "no-headings":
      style.headings = false;
      break;
    case "pretty":
      style.pretty = true;
      break;
    case "bare":
      style.format = "list";
      style.cellFormat = "bare";
      style.headings = false;
      break;
    case "max-column-width": {
      const m = /^\s*[+-]?\d+/.exec(arg!);
      style.maxColumnWidth = m ? Math.max(0, Number(m[0])) : 0;
      break;
    }
  }
  return null;
}

/** The text of a cell under `style` (for every format except `json`). */
export function cellText(cell: Cell, style: Pick<TableStyle, "cellFormat">): string {
  switch (cell.kind) {
    case "text":
      return cell.text;
    case "json":
      return jsonToString(cell.json, { sort: true });
    case "datum":
      if (style.cellFormat === "json") return jsonToString(cell.json, { sort: true });
      return style.cellFormat === "bare" ? cell.bare : cell.string;
  }
}

// ---------------------------------------------------------------------------
// JSON text exactly as OVS's json_to_string() writes it.

export interface JsonTextOptions {
  /** Indent nested values by two spaces per level, OVS style. */
  pretty?: boolean;
  /** Sort object members by name (OVS's JSSF_SORT). */
  sort?: boolean;
}

function jsonStringLiteral(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    start = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      default:
        out += "\\u" + c.toString(16).padStart(4, "0");
    }
  }
  return out + s.slice(start) + '"';
}

function jsonNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  return formatG(n, 17);
}

function serialize(v: Json, opts: JsonTextOptions, depth: number, out: string[]): void {
  const indent = (d: number): void => {
    if (opts.pretty) out.push("\n" + " ".repeat(2 * d));
  };
  if (v === null) out.push("null");
  else if (typeof v === "boolean") out.push(v ? "true" : "false");
  else if (typeof v === "number") out.push(jsonNumber(v));
  else if (typeof v === "string") out.push(jsonStringLiteral(v));
  else if (Array.isArray(v)) {
    out.push("[");
    if (v.length > 0) {
      indent(depth + 1);
      v.forEach((e, i) => {
        if (i > 0) {
          out.push(",");
          indent(depth + 1);
        }
        serialize(e, opts, depth + 1, out);
      });
    }
    out.push("]");
  } else {
    out.push("{");
    let keys = Object.keys(v);
    if (opts.sort) keys = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (keys.length > 0) indent(depth + 1);
    keys.forEach((k, i) => {
      if (i > 0) {
        out.push(",");
        indent(depth + 1);
      }
      out.push(jsonStringLiteral(k), opts.pretty ? ": " : ":");
      serialize(v[k] as Json, opts, depth + 1, out);
    });
    out.push("}");
  }
}

/** Serializes `v` as OVS does: no spaces, or OVS's own indentation when pretty. */
export function jsonToString(v: Json, opts: JsonTextOptions = {}): string {
  const out: string[] = [];
  serialize(v, opts, 0, out);
  return out.join("");
}

// ---------------------------------------------------------------------------
// The five output formats.

const byteLength = (s: string): number => Buffer.byteLength(s, "utf8");

function padRight(s: string, width: number): string {
  const n = width - byteLength(s);
  return n > 0 ? s + " ".repeat(n) : s;
}

const UUID_PREFIX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}

function htmlCell(element: string, content: string): string {
  let out = `    <${element}>`;
  let i = 0;
  while (i < content.length) {
    const m = UUID_PREFIX.exec(content.slice(i, i + 36));
    if (m) {
      out += `<a href="#${m[0]}">${m[0].slice(0, 8)}</a>`;
      i += 36;
    } else {
      out += escapeHtml(content[i] as string);
      i++;
    }
  }
  return out + `</${element}>\n`;
}

function csvCell(s: string): string {
  if (!/[\n",]/.test(s)) return s;
  return '"' + s.replace(/"/g, '""') + '"';
}

/**
 * Formats tables for one process's output, remembering (per format) whether
 * a table was already printed so the next one is preceded by a blank line.
 */
export class TablePrinter {
  private readonly printed: Record<TableFormat, number> = { table: 0, list: 0, html: 0, csv: 0, json: 0 };

  format(table: Table, style: TableStyle): string {
    const first = this.printed[style.format]++ === 0;
    const time = table.timestamp !== undefined && style.format !== "json" ? formatTimestamp(table.timestamp) + "\n" : "";
    switch (style.format) {
      case "table":
        return (first ? "" : "\n") + time + formatAsTable(table, style);
      case "list":
        return (first ? "" : "\n") + time + formatAsList(table, style);
      case "csv":
        return (first ? "" : "\n") + time + formatAsCsv(table, style);
      case "html":
        return time + formatAsHtml(table, style);
      case "json":
        return formatAsJson(table, style);
    }
  }
}

function formatAsTable(table: Table, style: TableStyle): string {
  const texts = table.rows.map((row) => row.map((c) => cellText(c, style)));
  const max = style.maxColumnWidth ?? 0;
  const widths = table.headings.map((h, x) => {
    let w = 0;
    for (const row of texts) w = Math.max(w, byteLength(row[x] ?? ""));
    if (max > 0 && w > max) w = max;
    if (style.headings) w = Math.max(w, byteLength(h));
    return w;
  });
  const truncate = (s: string, w: number): string => {
    const b = Buffer.from(s, "utf8");
    return b.length > w ? b.subarray(0, w).toString("utf8") : s;
  };
  const line = (cells: string[]): string =>
    cells
      .map((s, x) => padRight(truncate(s, widths[x] ?? 0), widths[x] ?? 0))
      .join(" ")
      .replace(/ +$/, "") + "\n";
  let out = table.caption !== undefined ? table.caption + "\n" : "";
  if (style.headings) {
    out += line(table.headings);
    out += line(widths.map((w) => "-".repeat(w)));
  }
  for (const row of texts) out += line(row);
  return out;
}

function formatAsList(table: Table, style: TableStyle): string {
  let out = table.caption !== undefined ? table.caption + "\n" : "";
  table.rows.forEach((row, y) => {
    if (y > 0) out += "\n";
    row.forEach((cell, x) => {
      if (style.headings) out += padRight(table.headings[x] ?? "", 20) + ": ";
      out += cellText(cell, style) + "\n";
    });
  });
  return out;
}

function formatAsHtml(table: Table, style: TableStyle): string {
  let out = "<table border=1>\n";
  if (table.caption !== undefined) out += htmlCell("caption", table.caption);
  if (style.headings) {
    out += "  <tr>\n";
    for (const h of table.headings) out += htmlCell("th", h);
    out += "  </tr>\n";
  }
  for (const row of table.rows) {
    out += "  <tr>\n";
    row.forEach((cell, x) => {
      const content = cellText(cell, style);
      if (table.headings[x] === "_uuid") {
        out += `    <td><a name="${escapeHtml(content)}">${escapeHtml(content.slice(0, 8))}</a></td>\n`;
      } else {
        out += htmlCell("td", content);
      }
    });
    out += "  </tr>\n";
  }
  return out + "</table>\n";
}

function formatAsCsv(table: Table, style: TableStyle): string {
  let out = table.caption !== undefined ? table.caption + "\n" : "";
  if (style.headings) out += table.headings.map(csvCell).join(",") + "\n";
  for (const row of table.rows) out += row.map((c) => csvCell(cellText(c, style))).join(",") + "\n";
  return out;
}

function formatAsJson(table: Table, style: TableStyle): string {
  const obj: { [k: string]: Json } = {};
  if (table.caption !== undefined) obj["caption"] = table.caption;
  obj["data"] = table.rows.map((row) => row.map((c): Json => (c.kind === "text" ? c.text : c.json)));
  obj["headings"] = table.headings;
  if (table.timestamp !== undefined) obj["time"] = formatTimestamp(table.timestamp);
  return jsonToString(obj, { pretty: style.pretty, sort: true }) + "\n";
}

const sharedPrinter = new TablePrinter();

/** Formats `table` with the process-wide printer (blank line between successive tables). */
export function formatTable(table: Table, style: TableStyle): string {
  return sharedPrinter.format(table, style);
}

/** Writes `table` to stdout with the process-wide printer. */
export function printTable(table: Table, style: TableStyle): void {
  process.stdout.write(formatTable(table, style));
}
