/**
 * Bodies of the connection-level messages: hello (with its version bitmap
 * element), echo, error, features request/reply, get/set config.
 */
import { hexDump, type OfpReader } from "./ofp-buffer.js";
import {
  bitNames,
  type BodyCodec,
  fail,
  hex64,
  isDecodeError,
  printNested,
  withPartial,
} from "./ofp-codec.js";
import { decodeErrorBody, encodeErrorBody, type ErrorMsgBody, printableText } from "./ofp-errors.js";
import { decodePort, encodePort, formatPhyPorts, type PhyPort } from "./ofp-port.js";
import { highestVersion, versionsOf } from "./ofp-version.js";

/* ---------------- OFPT_HELLO ---------------- */

export const OFPHET_VERSIONBITMAP = 1;

export interface HelloBody {
  /**
   * Versions the sender allows, bit v for version v. On encode, a bitmap
   * element is written unless the bitmap is exactly "every version up to
   * the header's" (as OVS's ofputil_encode_hello).
   */
  versions: number;
  /**
   * Elements after decoding that OVS could not understand (then ofp-print
   * adds "unknown data in hello" and a dump); encode ignores this.
   */
  unknownData?: boolean;
  /** The raw message, kept only to dump it when `unknownData`. */
  raw?: Uint8Array;
}

function defaultBitmap(version: number): number {
  let b = 0;
  for (let v = 1; v <= Math.min(version, 31); v++) b |= 1 << v;
  return b >>> 0;
}

/** Parses hello elements the way OVS does (never fails). */
export function decodeHelloElements(r: OfpReader, headerVersion: number): { versions: number; ok: boolean } {
  let versions = defaultBitmap(headerVersion);
  let ok = true;
  while (r.remaining > 0) {
    if (r.remaining < 4) return { versions, ok: false };
    const type = r.peekU16(0);
    const len = r.peekU16(2);
    const padded = (len + 7) & ~7;
    if (len < 4 || padded > r.remaining) return { versions, ok: false };
    const el = r.sub(padded);
    el.skip(4);
    if (type !== OFPHET_VERSIONBITMAP) {
      ok = false;
      continue;
    }
    const bitmapLen = len - 4;
    if (bitmapLen === 0 || bitmapLen % 4 !== 0) {
      ok = false;
      continue;
    }
    let b = el.u32() >>> 0;
    b = (b & ~1) >>> 0;
    versions = b === 0 ? defaultBitmap(headerVersion) : b;
  }
  return { versions, ok };
}

export const HELLO_CODEC: BodyCodec<HelloBody> = {
  decode(r, ctx) {
    const start = r.pos - 8;
    const raw = r.data.slice(start, r.end);
    const { versions, ok } = decodeHelloElements(r, ctx.version);
    return ok ? { versions } : { versions, unknownData: true, raw };
  },
  encode(w, b, ctx) {
    if (b.versions === defaultBitmap(ctx.version)) return;
    w.u16(OFPHET_VERSIONBITMAP).u16(8).u32(b.versions);
  },
  print(b) {
    const list = versionsOf(b.versions)
      .map((v) => `0x${v.toString(16).padStart(2, "0")}`)
      .join(", ");
    let s = `\n version bitmap: ${list}\n`;
    if (b.unknownData && b.raw) s += " unknown data in hello:\n" + hexDump(b.raw);
    return s;
  },
};

/** The hello OVS sends for a set of allowed versions. */
export function helloFor(versions: number): { version: number; body: HelloBody } {
  return { version: highestVersion(versions), body: { versions } };
}

/* ---------------- OFPT_ECHO_* ---------------- */

export interface EchoBody {
  data: Uint8Array;
}

export const ECHO_CODEC: BodyCodec<EchoBody> = {
  decode: (r) => ({ data: r.rest() }),
  encode: (w, b) => void w.bytes(b.data),
  print(b, ctx) {
    let s = ` ${b.data.length} bytes of payload\n`;
    if (ctx.verbosity > 1) s += hexDump(b.data);
    return s;
  },
};

/* ---------------- OFPT_ERROR ---------------- */

export const ERROR_CODEC: BodyCodec<ErrorMsgBody> = {
  decode(r, ctx) {
    const b = decodeErrorBody(r, ctx.version);
    return b ?? fail("OFPBRC_BAD_LEN");
  },
  encode(w, b, ctx) {
    encodeErrorBody(w, b, ctx.version);
  },
  print(b, ctx) {
    let s = ` ${b.error}\n`;
    if (b.error === "OFPHFC_INCOMPATIBLE" || b.error === "OFPHFC_EPERM") s += printableText(b.data);
    else s += printNested(b.data, 1);
    void ctx;
    return s;
  },
};

/* ---------------- features ---------------- */

const CAPS: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: { 1: "FLOW_STATS", 2: "TABLE_STATS", 4: "PORT_STATS", 8: "STP", 32: "IP_REASM", 64: "QUEUE_STATS", 128: "ARP_MATCH_IP" },
  2: { 1: "FLOW_STATS", 2: "TABLE_STATS", 4: "PORT_STATS", 8: "GROUP_STATS", 32: "IP_REASM", 64: "QUEUE_STATS", 128: "ARP_MATCH_IP" },
  3: { 1: "FLOW_STATS", 2: "TABLE_STATS", 4: "PORT_STATS", 8: "GROUP_STATS", 32: "IP_REASM", 64: "QUEUE_STATS", 256: "PORT_BLOCKED" },
  4: { 1: "FLOW_STATS", 2: "TABLE_STATS", 4: "PORT_STATS", 8: "GROUP_STATS", 32: "IP_REASM", 64: "QUEUE_STATS", 256: "PORT_BLOCKED" },
  5: {
    1: "FLOW_STATS", 2: "TABLE_STATS", 4: "PORT_STATS", 8: "GROUP_STATS", 32: "IP_REASM", 64: "QUEUE_STATS",
    256: "PORT_BLOCKED", 512: "BUNDLES", 1024: "FLOW_MONITORING",
  },
};
function capNames(version: number): Readonly<Record<number, string>> {
  return CAPS[Math.min(version, 5)]!;
}
function capMask(version: number): number {
  let m = 0;
  for (const k of Object.keys(capNames(version))) m |= Number(k);
  return m;
}

/** OF1.0 action bits in the order ofp-print lists them. */
const OF10_ACTION_ORDER: readonly [number, string][] = [
  [0, "output"], [11, "enqueue"], [1, "set_vlan_vid"], [2, "set_vlan_pcp"], [3, "strip_vlan"],
  [4, "mod_dl_src"], [5, "mod_dl_dst"], [6, "mod_nw_src"], [7, "mod_nw_dst"], [8, "mod_nw_tos"],
  [9, "mod_tp_src"], [10, "mod_tp_dst"],
];

export interface FeaturesReplyBody {
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  /** OF1.3+ auxiliary connection id. */
  auxiliaryId: number;
  /** Capability bits as the version defines them (unknown bits dropped). */
  capabilities: number;
  /** OF1.0 supported-actions bitmap (0 in other versions). */
  actions: number;
  /** Ports (OF1.0 to 1.2 only). */
  ports: PhyPort[];
}

export const FEATURES_REPLY_CODEC: BodyCodec<FeaturesReplyBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    const datapathId = r.u64();
    const nBuffers = r.u32();
    const nTables = r.u8();
    const auxiliaryId = v >= 4 ? r.u8() : (r.skip(1), 0);
    r.skip(2);
    const capabilities = r.u32() & capMask(v);
    const actions = v === 1 ? r.u32() & 0xfff : (r.skip(4), 0);
    const ports: PhyPort[] = [];
    const body = { datapathId, nBuffers, nTables, auxiliaryId, capabilities, actions, ports };
    if (v <= 3) {
      while (r.remaining > 0) {
        const p = decodePort(r, v);
        if (isDecodeError(p)) return withPartial(p, body);
        ports.push(p);
      }
    }
    return body;
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    w.u64(b.datapathId).u32(b.nBuffers).u8(b.nTables).u8(v >= 4 ? b.auxiliaryId : 0).zeros(2);
    w.u32(b.capabilities & capMask(v)).u32(v === 1 ? b.actions : 0);
    if (v <= 3) for (const p of b.ports) encodePort(w, p, v);
  },
  print(b, ctx) {
    const v = ctx.version;
    let s = ` dpid:${hex64(b.datapathId)}\n`;
    s += `n_tables:${b.nTables}, n_buffers:${b.nBuffers}`;
    if (v >= 4 && b.auxiliaryId) s += `, auxiliary_id:${b.auxiliaryId}`;
    s += "\n";
    s += `capabilities: ${bitNames(b.capabilities, capNames(v))}\n`;
    if (v === 1 && b.actions) {
      s += "actions: " + OF10_ACTION_ORDER.filter(([bit]) => b.actions & (1 << bit)).map(([, n]) => n).join(" ") + "\n";
    }
    if (v <= 3) s += formatPhyPorts(b.ports);
    return s;
  },
};

/* ---------------- get/set config ---------------- */

export const OFPC_FRAG_NORMAL = 0;
export const OFPC_FRAG_DROP = 1;
export const OFPC_FRAG_REASM = 2;
export const OFPC_FRAG_NX_MATCH = 3;
const OFPC_FRAG_MASK = 3;
const OFPC_INVALID_TTL_TO_CONTROLLER = 4;
const FRAG_NAMES = ["normal", "drop", "reassemble", "nx-match"];

export interface SwitchConfigBody {
  /** One of OFPC_FRAG_*. */
  frag: number;
  /** OF1.0-1.2 only: send packets with invalid TTL to the controller. */
  invalidTtlToController: boolean;
  missSendLen: number;
}

function configCodec(strict: boolean): BodyCodec<SwitchConfigBody> {
  return {
    decode(r, ctx) {
      const flags = r.u16();
      const missSendLen = r.u16();
      const ttlOk = ctx.version <= 3;
      const allowed = OFPC_FRAG_MASK | (ttlOk ? OFPC_INVALID_TTL_TO_CONTROLLER : 0);
      if (strict && flags & ~allowed) return fail("OFPSCFC_BAD_FLAGS");
      return {
        frag: flags & OFPC_FRAG_MASK,
        invalidTtlToController: ttlOk && (flags & OFPC_INVALID_TTL_TO_CONTROLLER) !== 0,
        missSendLen,
      };
    },
    encode(w, b, ctx) {
      const ttlOk = ctx.version <= 3;
      w.u16((b.frag & OFPC_FRAG_MASK) | (ttlOk && b.invalidTtlToController ? OFPC_INVALID_TTL_TO_CONTROLLER : 0));
      w.u16(b.missSendLen);
    },
    print(b) {
      let s = ` frags=${FRAG_NAMES[b.frag]}`;
      if (b.invalidTtlToController) s += " invalid_ttl_to_controller";
      return s + ` miss_send_len=${b.missSendLen}\n`;
    },
  };
}

export const GET_CONFIG_REPLY_CODEC = configCodec(false);
export const SET_CONFIG_CODEC = configCodec(true);

