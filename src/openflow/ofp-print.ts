/**
 * Text of OpenFlow messages exactly as `ovs-ofctl ofp-print` shows them:
 * the header line ("OFPT_ECHO_REQUEST (OF1.3) (xid=0x5):"), the body as the
 * message table's codec prints it, and OVS's handling of truncated,
 * over-long and undecodable input (hex dumps and "***decode error***").
 */
import { hexDump } from "./ofp-buffer.js";
import { isDecodeError, setNestedPrinter } from "./ofp-codec.js";
import { decodeMessage, lengthOk, lengthWarningText, lookupRaw, OFPSF_REPLY_MORE, type OfpMessage, rawFor } from "./ofp-msgs.js";
import { versionTag } from "./ofp-version.js";
import type { BodyCodec } from "./ofp-codec.js";

function header(name: string, version: number, xid: number): string {
  return `${name}${versionTag(version)} (xid=0x${(xid >>> 0).toString(16)}):`;
}

/** ofp_print_stats: the multipart flags after the header. */
function statsFlagsText(flags: number, isRequest: boolean, version: number): string {
  if (!flags) return "";
  let s = " flags=";
  if ((!isRequest || version >= 4) && flags & OFPSF_REPLY_MORE) {
    s += "[more]";
    flags &= ~OFPSF_REPLY_MORE;
  }
  if (flags) s += `[***unknown flags 0x${flags.toString(16).padStart(4, "0")}***]`;
  return s;
}

/** Body text of an already decoded message (after the header line). */
export function formatMessageBody(m: OfpMessage, verbosity = 2): string {
  const raw = rawFor(m.type, m.version)!;
  const ctx = { version: m.version, verbosity, type: raw.type, xid: m.xid };
  let s = "";
  if (raw.wire.kind === "stats" || raw.wire.kind === "vstats") {
    s += statsFlagsText(m.statsFlags ?? 0, !raw.wire.reply, m.version);
  }
  return s + (raw.codec as BodyCodec<unknown>).print(m.body, ctx);
}

/** ds_chomp: drops one trailing `c`, as OVS does to a printed message's last space. */
function chomp(s: string, c = " "): string {
  return s.endsWith(c) ? s.slice(0, -1) : s;
}

/** The header line plus body of a decoded message (no trailing newline rules; a trailing space is dropped, as OVS does). */
export function formatMessage(m: OfpMessage, verbosity = 2): string {
  const raw = rawFor(m.type, m.version)!;
  return chomp(header(raw.name, m.version, m.xid) + formatMessageBody(m, verbosity));
}

function ensureNewline(s: string): string {
  return s.endsWith("\n") ? s : s + "\n";
}

/**
 * What `ovs-ofctl ofp-print` prints for these bytes (stdout only; OVS's
 * length warnings go to its log).
 */
export function ofpToString(b: Uint8Array, verbosity = 2): string {
  if (b.length === 0) return "OpenFlow message is empty\n";
  if (b.length < 8) return `OpenFlow packet too short (only ${b.length} bytes):\n` + hexDump(b);
  const length = (b[2]! << 8) | b[3]!;
  const version = b[0]!;
  const xid = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4);
  if (length > b.length) {
    let s = "";
    const look = lookupRaw(b, b.length);
    if (!isDecodeError(look)) s += header(look.raw.name, version, xid) + "\n";
    return s + `(***truncated to ${b.length} bytes from ${length}***)\n` + hexDump(b);
  }
  if (length < b.length) {
    return `(***only uses ${length} bytes out of ${b.length}***)\n` + hexDump(b);
  }
  const res = decodeMessage(b, verbosity);
  if (res.ok) return ensureNewline(formatMessage(res.msg, verbosity));
  if (res.raw) {
    // What OVS prints before giving up: multipart flags, entries decoded so far.
    let body = "";
    const raw = res.raw;
    if (raw.wire.kind === "stats" || raw.wire.kind === "vstats") {
      body += statsFlagsText(res.statsFlags ?? 0, !raw.wire.reply, version);
    }
    if (res.partial !== undefined) {
      body += (raw.codec as BodyCodec<unknown>).print(res.partial, { version, verbosity, type: raw.type, xid });
    }
    if (body !== "") body = chomp(body);
    const sep = body === "" ? " " : body.endsWith("\n") ? "" : "\n";
    return header(raw.name, version, xid) + body + sep + `***decode error: ${res.errorText ?? res.error}***\n` + hexDump(b);
  }
  return `***decode error: ${res.error}***\n` + hexDump(b);
}

/** The warning OVS logs for a message of the wrong length, or null. */
export function lengthWarning(b: Uint8Array): string | null {
  if (b.length < 8) return null;
  const look = lookupRaw(b, b.length);
  if (isDecodeError(look)) return null;
  if (lengthOk(look.raw, look.bodyOffset, b.length)) return null;
  return lengthWarningText(look.raw, look.bodyOffset, b.length);
}

setNestedPrinter((b, verbosity) => ofpToString(b, verbosity));
