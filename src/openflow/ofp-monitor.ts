/**
 * Flow monitoring in OpenFlow 1.3 (the ONF extension: ONFST_FLOW_MONITOR
 * and ONFT_FLOW_MONITOR_CANCEL/PAUSED/RESUMED) and 1.4+ (OFPMP_FLOW_MONITOR,
 * whose replies also carry the paused/resumed events). OpenFlow 1.0–1.2
 * use the Nicira form in ofp-flow.ts.
 *
 * The ONF form mirrors Nicira's (same flags, events and update header) but
 * with OXM matches and instructions, so it shares the Nicira bodies
 * (`FlowMonitorRequestBody`, `FlowMonitorReplyBody`). OpenFlow 1.4 has its
 * own flags, commands and events: `FlowMonitorRequest14Body`,
 * `FlowMonitorReply14Body`.
 */
import { encodeOxmMatch } from "./nx-match.js";
import { bitNames, type BodyCodec, type DecodeError, fail, formatPort, isDecodeError, OFPP_NONE, portFromOfp11, portToOfp11, withPartial } from "./ofp-codec.js";
import type { Match } from "./match.js";
import type { OfpReader } from "./ofp-buffer.js";
import type { OfpAction } from "./ofp-actions.js";
import { decodeInstructions, encodeInstructions, formatActions } from "./ofp-actions-codec.js";
import { isTextError } from "./ofp-actions-util.js";
import {
  type FlowMonitorReplyBody,
  type FlowMonitorRequest,
  type FlowMonitorRequestBody,
  type FlowUpdate,
  formatMatchWithPriority,
  NX_FLOW_MONITOR_REPLY_CODEC,
  NX_FLOW_MONITOR_REQUEST_CODEC,
  NXFMF_ADD,
  NXFMF_DELETE,
  NXFMF_MODIFY,
  OFP_DEFAULT_PRIORITY,
  pullOfp11Match,
  putOfp11Match,
  REMOVED_REASONS,
} from "./ofp-flow.js";

const OFPG_ANY = 0xffffffff;

function instructionsOrThrow(actions: readonly OfpAction[], version: number): Uint8Array {
  const b = encodeInstructions(actions, version);
  if (isTextError(b)) throw new RangeError(b.error);
  return b;
}

/** An OXM ofp_match and the unpadded length its header states (ONF's match_len). */
function oxmMatch(m: Match, version: number): { bytes: Uint8Array; len: number } {
  const bytes = encodeOxmMatch(m, version);
  return { bytes, len: (bytes[2]! << 8) | bytes[3]! };
}

/** The OXM match and the instructions that end a full flow update (which began at `start` and is `length` bytes long). */
function pullUpdateTail(r: OfpReader, start: number, length: number, version: number): { match: Match; actions: OfpAction[] } | DecodeError {
  const match = pullOfp11Match(r, true);
  if (isDecodeError(match)) return match;
  const instLen = start + length - r.pos;
  if (instLen < 0 || instLen > r.remaining) return fail("OFPBRC_BAD_LEN");
  const actions = decodeInstructions(r.bytes(instLen), version);
  if (isDecodeError(actions)) return actions;
  return { match, actions };
}

/* ---------------- ONF (OpenFlow 1.3) ---------------- */

/**
 * ONFST_FLOW_MONITOR request: id, flags (Nicira's), match_len, 32-bit
 * out_port, table, then an OXM match.
 */
export const ONF_FLOW_MONITOR_REQUEST_CODEC: BodyCodec<FlowMonitorRequestBody> = {
  decode(r) {
    const requests: FlowMonitorRequest[] = [];
    while (r.remaining > 0) {
      const bad = (e: DecodeError): DecodeError => withPartial(e, { requests });
      if (r.remaining < 16) return bad(fail("OFPBRC_BAD_LEN"));
      const id = r.u32();
      const flags = r.u16();
      r.skip(2); // match_len: the OXM match carries its own length.
      const outPort = portFromOfp11(r.u32());
      const tableId = r.u8();
      const zeros = r.bytes(3);
      if (!(flags & (NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY)) || flags & ~0x3f) return bad(fail("OFPMOFC_BAD_FLAGS"));
      if (zeros.some((x) => x !== 0)) return bad(fail("NXBRC_MUST_BE_ZERO"));
      if (isDecodeError(outPort)) return bad(outPort);
      const match = pullOfp11Match(r, true);
      if (isDecodeError(match)) return bad(match);
      requests.push({ id, flags, outPort, tableId, match });
    }
    return { requests };
  },
  encode(w, b, ctx) {
    for (const q of b.requests) {
      const m = oxmMatch(q.match, ctx.version);
      w.u32(q.id).u16(q.flags).u16(m.len).u32(portToOfp11(q.outPort)).u8(q.tableId).zeros(3).bytes(m.bytes);
    }
  },
  print: NX_FLOW_MONITOR_REQUEST_CODEC.print,
};

/** ONFST_FLOW_MONITOR reply: Nicira's update header with an OXM match and instructions. */
export const ONF_FLOW_MONITOR_REPLY_CODEC: BodyCodec<FlowMonitorReplyBody> = {
  decode(r, ctx) {
    const updates: FlowUpdate[] = [];
    while (r.remaining > 0) {
      const bad = (e: DecodeError): DecodeError => withPartial(e, { updates });
      if (r.remaining < 4) return bad(fail("OFPBRC_BAD_LEN"));
      const start = r.pos;
      const length = r.u16();
      const event = r.u16();
      if (length > r.remaining + 4 || length % 8) return bad(fail("OFPBRC_BAD_LEN"));
      if (event === 3) {
        if (length !== 8) return bad(fail("OFPBRC_BAD_LEN"));
        updates.push({ event: 3, xid: r.u32() });
      } else if (event <= 2) {
        if (length < 24) return bad(fail("OFPBRC_BAD_LEN"));
        const reason = r.u16();
        const priority = r.u16();
        const idleTimeout = r.u16();
        const hardTimeout = r.u16();
        const matchLen = r.u16();
        const tableId = r.u8();
        r.skip(1);
        const cookie = r.u64();
        if (24 + matchLen > length) return bad(fail("OFPBRC_BAD_LEN"));
        const tail = pullUpdateTail(r, start, length, ctx.version);
        if (isDecodeError(tail)) return bad(tail);
        const { match, actions } = tail;
        updates.push({ event: event as 0 | 1 | 2, reason, priority, idleTimeout, hardTimeout, tableId, cookie, match, actions });
      } else {
        return bad(fail("NXBRC_FM_BAD_EVENT"));
      }
    }
    return { updates };
  },
  encode(w, b, ctx) {
    for (const u of b.updates) {
      if (u.event === 3) {
        w.u16(8).u16(3).u32(u.xid);
        continue;
      }
      const start = w.length;
      const m = oxmMatch(u.match, ctx.version);
      w.u16(0).u16(u.event).u16(u.reason).u16(u.priority).u16(u.idleTimeout).u16(u.hardTimeout);
      w.u16(m.len).u8(u.tableId).zeros(1).u64(u.cookie).bytes(m.bytes);
      w.bytes(instructionsOrThrow(u.actions, ctx.version));
      w.setU16(start, w.length - start);
    }
  },
  print: NX_FLOW_MONITOR_REPLY_CODEC.print,
};

/* ---------------- OpenFlow 1.4+ ---------------- */

export const OFPFMF14_INITIAL = 1 << 0;
export const OFPFMF14_ADD = 1 << 1;
export const OFPFMF14_REMOVED = 1 << 2;
export const OFPFMF14_MODIFY = 1 << 3;
export const OFPFMF14_INSTRUCTIONS = 1 << 4;
export const OFPFMF14_NO_ABBREV = 1 << 5;
export const OFPFMF14_ONLY_OWN = 1 << 6;
const FLAG14_NAMES: Readonly<Record<number, string>> = {
  [OFPFMF14_INITIAL]: "initial", [OFPFMF14_ADD]: "add", [OFPFMF14_REMOVED]: "delete", [OFPFMF14_MODIFY]: "modify",
  [OFPFMF14_INSTRUCTIONS]: "actions", [OFPFMF14_NO_ABBREV]: "no-abbrev", [OFPFMF14_ONLY_OWN]: "own",
};

/** OpenFlow 1.4 monitor commands. */
export const OFPFMC14_ADD = 0;
export const OFPFMC14_MODIFY = 1;
export const OFPFMC14_DELETE = 2;

export interface FlowMonitorRequest14 {
  id: number;
  /** OFPFMC14_*. */
  command: number;
  /** OFPFMF14_* bits. */
  flags: number;
  outPort: number;
  outGroup: number;
  tableId: number;
  match: Match;
}

export interface FlowMonitorRequest14Body {
  requests: FlowMonitorRequest14[];
}

export const FLOW_MONITOR_REQUEST14_CODEC: BodyCodec<FlowMonitorRequest14Body> = {
  decode(r) {
    const requests: FlowMonitorRequest14[] = [];
    while (r.remaining > 0) {
      const bad = (e: DecodeError): DecodeError => withPartial(e, { requests });
      if (r.remaining < 16) return bad(fail("OFPBRC_BAD_LEN"));
      const id = r.u32();
      const rawPort = r.u32();
      const outGroup = r.u32();
      const flags = r.u16();
      const tableId = r.u8();
      const command = r.u8();
      if (command === OFPFMC14_DELETE) {
        // A delete names only its monitor; the rest is kept as sent.
        const match = pullOfp11Match(r, true);
        if (isDecodeError(match)) return bad(match);
        const port = portFromOfp11(rawPort);
        requests.push({ id, command, flags, outPort: isDecodeError(port) ? OFPP_NONE : port, outGroup, tableId, match });
        continue;
      }
      if (!(flags & (OFPFMF14_ADD | OFPFMF14_REMOVED | OFPFMF14_MODIFY)) || flags & ~0x5f) return bad(fail("OFPMOFC_BAD_FLAGS"));
      const outPort = portFromOfp11(rawPort);
      if (isDecodeError(outPort)) return bad(outPort);
      const match = pullOfp11Match(r, true);
      if (isDecodeError(match)) return bad(match);
      requests.push({ id, command, flags, outPort, outGroup, tableId, match });
    }
    return { requests };
  },
  encode(w, b, ctx) {
    for (const q of b.requests) {
      w.u32(q.id).u32(portToOfp11(q.outPort)).u32(q.outGroup).u16(q.flags).u8(q.tableId).u8(q.command);
      putOfp11Match(w, q.match, ctx.version);
    }
  },
  print(b) {
    return b.requests.map((q) => {
      if (q.command === OFPFMC14_DELETE) return `\n id=${q.id >>> 0} command=delete`;
      let s = `\n id=${q.id >>> 0} flags=${bitNames(q.flags, FLAG14_NAMES, ",")}`;
      if (q.outPort !== OFPP_NONE) s += ` out_port=${formatPort(q.outPort)}`;
      if (q.outGroup && q.outGroup !== OFPG_ANY) s += ` out_group=${q.outGroup | 0}`;
      if (q.tableId !== 0xff) s += ` table=${q.tableId}`;
      const m = formatMatchWithPriority(q.match, OFP_DEFAULT_PRIORITY);
      return m === "" ? s : `${s} ${m}`;
    }).join("");
  },
};

/** OpenFlow 1.4 flow update events. */
export const OFPFME14_INITIAL = 0;
export const OFPFME14_ADDED = 1;
export const OFPFME14_REMOVED = 2;
export const OFPFME14_MODIFIED = 3;
export const OFPFME14_ABBREV = 4;
export const OFPFME14_PAUSED = 5;
export const OFPFME14_RESUMED = 6;

export type FlowUpdate14 =
  | { event: 4; xid: number }
  | { event: 5 }
  | { event: 6 }
  | {
      event: 0 | 1 | 2 | 3; reason: number; priority: number; idleTimeout: number; hardTimeout: number; tableId: number;
      cookie: bigint; match: Match; actions: OfpAction[];
    };

export interface FlowMonitorReply14Body {
  updates: FlowUpdate14[];
}

const EVENT14_NAMES = ["INITIAL", "ADDED", "DELETED", "MODIFIED"];

export const FLOW_MONITOR_REPLY14_CODEC: BodyCodec<FlowMonitorReply14Body> = {
  decode(r, ctx) {
    const updates: FlowUpdate14[] = [];
    while (r.remaining > 0) {
      const bad = (e: DecodeError): DecodeError => withPartial(e, { updates });
      if (r.remaining < 4) return bad(fail("OFPBRC_BAD_LEN"));
      const start = r.pos;
      const length = r.u16();
      const event = r.u16();
      if (length > r.remaining + 4 || length % 8) return bad(fail("OFPBRC_BAD_LEN"));
      if (event === OFPFME14_ABBREV) {
        if (length !== 8) return bad(fail("OFPBRC_BAD_LEN"));
        updates.push({ event: 4, xid: r.u32() });
      } else if (event === OFPFME14_PAUSED || event === OFPFME14_RESUMED) {
        if (length !== 8) return bad(fail("OFPBRC_BAD_LEN"));
        r.skip(4);
        updates.push(event === OFPFME14_PAUSED ? { event: 5 } : { event: 6 });
      } else if (event <= OFPFME14_MODIFIED) {
        if (length < 24) return bad(fail("OFPBRC_BAD_LEN"));
        const tableId = r.u8();
        const reason = r.u8();
        const idleTimeout = r.u16();
        const hardTimeout = r.u16();
        const priority = r.u16();
        r.skip(4);
        const cookie = r.u64();
        const tail = pullUpdateTail(r, start, length, ctx.version);
        if (isDecodeError(tail)) return bad(tail);
        const { match, actions } = tail;
        updates.push({ event: event as 0 | 1 | 2 | 3, reason, priority, idleTimeout, hardTimeout, tableId, cookie, match, actions });
      } else {
        return bad(fail("NXBRC_FM_BAD_EVENT"));
      }
    }
    return { updates };
  },
  encode(w, b, ctx) {
    for (const u of b.updates) {
      if (u.event === 4) {
        w.u16(8).u16(4).u32(u.xid);
        continue;
      }
      if (u.event === 5 || u.event === 6) {
        w.u16(8).u16(u.event).zeros(4);
        continue;
      }
      const start = w.length;
      w.u16(0).u16(u.event).u8(u.tableId).u8(u.reason).u16(u.idleTimeout).u16(u.hardTimeout).u16(u.priority).zeros(4).u64(u.cookie);
      putOfp11Match(w, u.match, ctx.version);
      w.bytes(instructionsOrThrow(u.actions, ctx.version));
      w.setU16(start, w.length - start);
    }
  },
  print(b) {
    return b.updates.map((u) => {
      if (u.event === 4) return `\n event=ABBREV xid=0x${(u.xid >>> 0).toString(16)}`;
      if (u.event === 5) return "\n event=PAUSED";
      if (u.event === 6) return "\n event=RESUMED";
      let s = "\n event=" + EVENT14_NAMES[u.event];
      if (u.event === OFPFME14_REMOVED) s += ` reason=${REMOVED_REASONS[u.reason] ?? String(u.reason)}`;
      s += ` table=${u.tableId}`;
      if (u.idleTimeout) s += ` idle_timeout=${u.idleTimeout}`;
      if (u.hardTimeout) s += ` hard_timeout=${u.hardTimeout}`;
      s += ` cookie=${u.cookie === 0n ? "0" : "0x" + u.cookie.toString(16)}`;
      s += " " + formatMatchWithPriority(u.match, OFP_DEFAULT_PRIORITY);
      if (u.actions.length) {
        if (!s.endsWith(" ")) s += " ";
        s += "actions=" + formatActions(u.actions);
      }
      return s;
    }).join("");
  },
};
