/**
 * The OVSDB log: the record framing of a standalone database file.
 *
 * A file is a sequence of records, each a header line and a JSON body:
 *
 *   OVSDB JSON <length> <sha1-hex>\n
 *   <json text of exactly <length> bytes, the last one a newline>
 *
 * The SHA-1 covers the body (including its final newline). The first record
 * of a standalone database is its schema; every later record is a
 * transaction. A reader stops at the first record it cannot accept (bad
 * header, short body, wrong digest, invalid JSON) and reports why in the
 * words of OVS's ovsdb/log.c, so `tsovs ovsdb-tool` and the server print the
 * same messages as their OVS counterparts. Everything before that record is
 * good; what follows it is the "torn tail" a crash can leave behind.
 */
import * as crypto from "node:crypto";
import { ovsJsonError } from "./ovs-json.js";
import { sha1HexInto } from "./sha1.js";

/** The magic of a standalone database file (clustered files use "CLUSTER"). */
export const OVSDB_MAGIC = "OVSDB JSON";
export const RAFT_MAGIC = "CLUSTER";

/** An error reading or writing a log, tagged as OVS tags ovsdb_error. */
export class LogError extends Error {
  constructor(
    /** "syntax error", "I/O error" or "ovsdb error", as OVS prints them. */
    readonly tag: string,
    message: string,
  ) {
    super(message);
  }
  /** The text OVS prints: "<tag>: <message>". */
  override toString(): string {
    return `${this.tag}: ${this.message}`;
  }
}

/** One record read from a log. */
export interface LogRecord {
  json: unknown;
  /** Byte offset of the header line. */
  offset: number;
  /** Byte offset just past the body. */
  end: number;
}

/** The result of scanning a whole log buffer. */
export interface LogScan {
  records: LogRecord[];
  /** The offset just past the last good record (where writing resumes). */
  goodEnd: number;
  /** Why reading stopped before the end of the buffer, or null at a clean end. */
  error: LogError | null;
}

/**
 * crypto.hash (Node >= 20.12) hashes in one call without a Hash object:
 * ~2 µs instead of ~5 µs per record, once per commit (bench ovsdb (b)).
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: "hex") => string }).hash;

export function sha1Hex(data: Buffer | string): string {
  if (oneShotHash !== undefined) return oneShotHash("sha1", data, "hex");
  return crypto.createHash("sha1").update(data).digest("hex");
}

/**
 * Serialises `json` as one record. The JSON is compact, as OVS's
 * json_to_string(json, 0) writes it, followed by a newline.
 */
export function encodeRecord(json: unknown, magic = OVSDB_MAGIC): Buffer {
  return encodeRecordText(JSON.stringify(json), magic);
}

/** Serialises one record given as compact JSON text. */
export function encodeRecordText(text: string, magic = OVSDB_MAGIC): Buffer {
  // The body is encoded once, straight into the record's buffer after room
  // for the header (whose length is known once the body's is), and hashed
  // there: hashing a string would encode it to UTF-8 a second time, and
  // building header + body as one string a third (once per commit, bench
  // ovsdb (b)).
  const bodyLength = Buffer.byteLength(text, "utf8") + 1;
  const prefix = `${magic} ${bodyLength} `;
  const headerLength = prefix.length + 41; // "<magic> <length> <40 hex digits>\n"
  const out = Buffer.allocUnsafe(headerLength + bodyLength);
  out.write(text, headerLength, "utf8");
  const end = headerLength + bodyLength;
  out[end - 1] = 0x0a;
  out.write(prefix, 0, "latin1");
  if (bodyLength <= SMALL_RECORD) sha1HexInto(out, headerLength, end, out, prefix.length);
  else out.write(sha1Hex(out.subarray(headerLength)), prefix.length, "latin1");
  out[headerLength - 1] = 0x0a;
  return out;
}

/** Records up to this size are hashed in JavaScript (see sha1.ts), bigger ones by node:crypto. */
const SMALL_RECORD = 4096;

const HEADER_MAX = 128;

/**
 * Checks that `buf` starts with a header of a known magic (as OVS does when
 * it opens a log) and returns that magic, or throws the error OVS reports.
 */
export function detectMagic(buf: Buffer, name: string, magics: readonly string[] = [OVSDB_MAGIC]): string {
  if (buf.length === 0) throw new LogError("ovsdb error", `${name}: cannot identify file type`);
  // Like OVS, recognise the file by a complete, well-formed first header line.
  const nl = buf.indexOf(0x0a);
  const line = buf.toString("latin1", 0, nl < 0 || nl >= HEADER_MAX ? 0 : nl);
  for (const m of magics) {
    if (line.startsWith(m + " ") && /^\d+ [0-9a-fA-F]{40}$/.test(line.slice(m.length + 1))) return m;
  }
  throw new LogError("ovsdb error", `${name}: unexpected file format`);
}

/**
 * Parses one header line `<magic> <length> <sha1>` starting at `offset`.
 * Returns null (with the line as OVS quotes it) when malformed.
 */
function parseHeader(
  buf: Buffer,
  offset: number,
  magic: string,
): { length: number; sha1: string; bodyOffset: number } | { bad: string } {
  const limit = Math.min(buf.length, offset + HEADER_MAX - 1);
  let nl = buf.indexOf(0x0a, offset);
  if (nl < 0 || nl >= limit) nl = -1;
  const line = buf.toString("latin1", offset, nl < 0 ? limit : nl);
  // OVS cuts the line after the magic once it has recognised it, so a
  // header that has the magic but bad fields is quoted as just the magic.
  if (!line.startsWith(magic + " ")) return { bad: line };
  if (nl < 0) return { bad: magic };
  const m = /^(\d+) ([0-9a-fA-F]{40})$/.exec(line.slice(magic.length + 1));
  if (!m) return { bad: magic };
  const length = Number(m[1]);
  if (!Number.isSafeInteger(length)) return { bad: magic };
  return { length, sha1: m[2]!.toLowerCase(), bodyOffset: nl + 1 };
}

/**
 * Reads every record of `buf` (the whole file), stopping at the first one
 * that is malformed. `name` is the file name used in error messages.
 */
export function scanLog(buf: Buffer, name: string, magic = OVSDB_MAGIC, maxRecords = Infinity): LogScan {
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset < buf.length && records.length < maxRecords) {
    const h = parseHeader(buf, offset, magic);
    if ("bad" in h) {
      return {
        records,
        goodEnd: offset,
        error: new LogError("syntax error", `${name}: parse error at offset ${offset} in header line "${h.bad}"`),
      };
    }
    if (h.bodyOffset + h.length > buf.length) {
      return {
        records,
        goodEnd: offset,
        error: new LogError(
          "I/O error",
          `${name}: error reading ${h.length} bytes starting at offset ${h.bodyOffset} (End of file)`,
        ),
      };
    }
    const body = buf.subarray(h.bodyOffset, h.bodyOffset + h.length);
    const actual = sha1Hex(body);
    if (actual !== h.sha1) {
      return {
        records,
        goodEnd: offset,
        error: new LogError(
          "syntax error",
          `${name}: ${h.length} bytes starting at offset ${h.bodyOffset} have SHA-1 hash ${actual} but should have hash ${h.sha1}`,
        ),
      };
    }
    let json: unknown;
    let why: string | null = null;
    try {
      json = JSON.parse(body.toString("utf8"));
      if (json === null || typeof json !== "object") why = ovsJsonError(body) ?? "syntax error at beginning of input";
    } catch (e) {
      why = ovsJsonError(body) ?? (e as Error).message;
    }
    if (why !== null) {
      return {
        records,
        goodEnd: offset,
        error: new LogError(
          "syntax error",
          `${name}: ${h.length} bytes starting at offset ${h.bodyOffset} are not valid JSON (${why})`,
        ),
      };
    }
    const end = h.bodyOffset + h.length;
    records.push({ json, offset, end });
    offset = end;
  }
  return { records, goodEnd: offset, error: null };
}
