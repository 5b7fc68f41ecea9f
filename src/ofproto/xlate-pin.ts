/**
 * Controller packet-ins from translation (OVS's xlate_controller_action and
 * the CONTROLLER upcall of ofproto-dpif-upcall).
 *
 * As in OVS, a controller action becomes a datapath `userspace` action
 * whose userdata is a 48-byte `user_action_cookie` of type CONTROLLER:
 * reason, rule cookie, controller id, max_len, and a recirculation id that
 * names the "frozen state" — the pipeline metadata (table, in_port,
 * registers, metadata...) at the moment of the action, kept here. When the
 * datapath runs the action it hands the packet up (DPIF_UC_ACTION); the
 * upcall handler (ofproto-dpif) calls `handleControllerUpcall`, which
 * turns the cookie and the packet (already modified by the preceding
 * actions) into a packet-in for the bridge's controllers.
 */
import {
  FLOW_U32S, S_CT_NW_PROTO, S_CT_STATE, S_CT_TP_DST, S_CT_TP_SRC, S_CT_ZONE, S_DL_TYPE, W_CT_IPV6_DST, W_CT_IPV6_SRC, W_CT_LABEL,
  W_CT_MARK, W_CT_NW_DST, W_CT_NW_PROTO, W_CT_NW_SRC, W_CT_STATE, W_CT_TP_DST, W_CT_TP_SRC, W_CT_ZONE, W_DL_TYPE, W_IN_PORT,
  W_METADATA, W_PACKET_TYPE, W_PKT_MARK, W_REG0, W_TUN_ID, W_TUN_SRC, W_TUN_DST,
} from "../flow/key-layout.js";
import { Match } from "../openflow/match.js";
import {
  NO_BUFFER, OFPR_EXPLICIT_MISS, OFPR_IMPLICIT_MISS, OFPR_NO_MATCH, packetInReasonForVersion, type ContinuationProp, type PacketInBody,
} from "../openflow/ofp-packet.js";
import { continuationProps } from "./continuation-props.js";
import type { OfpMessage } from "../openflow/ofp-msgs.js";
import type { Ofconn } from "./ofconn.js";
import type { XBridge } from "./xlate-types.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { formatActions } from "../openflow/ofp-actions-codec.js";

/** USER_ACTION_COOKIE_CONTROLLER. */
export const COOKIE_CONTROLLER = 5;
export const USER_ACTION_COOKIE_LEN = 48;

/** One item of frozen actions: an action, or (action null) OVS's unroll_xlate marker restoring table and cookie. */
export interface FrozenItem {
  action: OfpAction | null;
  tableId: number;
  cookie: bigint;
}

/**
 * What a controller action or a recirculation froze: enough to build the
 * packet-in later, or to resume translation when the packet comes back
 * with the recirculation id (OVS's frozen_state).
 */
export interface FrozenState {
  bridgeName: string;
  bridgeUuid: Uint8Array;
  tableId: number;
  /** The flow (pipeline metadata) when the action ran. */
  flow: Uint32Array;
  userdata: Uint8Array | null;
  /** Recirculation: the actions to resume with (empty: look up `tableId`); undefined for a controller action. */
  actions?: FrozenItem[];
  actionSet?: OfpAction[];
  stack?: bigint[];
  ruleCookie?: bigint;
  /** The packet went through ct() before freezing (OVS's frozen_state.conntracked). */
  conntracked?: boolean;
  /** Mirrors the packet was already sent to (OVS's frozen_state.mirrors). */
  mirrors?: number;
}

const frozenById = new Map<number, FrozenState>();
const idByKey = new Map<string, number>();
let nextRecircId = 1;
const MAX_FROZEN = 1 << 18;

function stateKey(s: FrozenState): string {
  let k = `${s.bridgeName}|${s.tableId}|`;
  for (let i = W_REG0; i < FLOW_U32S; i++) k += s.flow[i]!.toString(36) + ",";
  k += s.flow[W_IN_PORT]!.toString(36) + "," + s.flow[W_PKT_MARK]!.toString(36);
  for (let i = W_TUN_ID; i <= W_TUN_DST; i++) k += "," + s.flow[i]!.toString(36);
  if (s.userdata !== null) for (const b of s.userdata) k += "." + b.toString(16);
  if (s.actions !== undefined) {
    k += "|A";
    for (const it of s.actions) k += it.action === null ? `|u${it.tableId},${it.cookie}` : "|" + formatActions([it.action]);
    k += "|S" + formatActions(s.actionSet ?? []);
    k += "|K" + (s.stack ?? []).join(",") + (s.conntracked === true ? "|ct" : "") + (s.mirrors ? `|m${s.mirrors}` : "");
  }
  return k;
}

/**
 * A recirculation id for `state` (OVS's recirc_alloc_id_ctx): the same
 * state gets the same id; ids start at 1 and are shared by all bridges.
 */
export function allocRecircId(state: FrozenState): number {
  const key = stateKey(state);
  const have = idByKey.get(key);
  if (have !== undefined) return have;
  const id = nextRecircId++;
  if (nextRecircId > 0xffffffff) nextRecircId = 1;
  frozenById.set(id, state);
  idByKey.set(key, id);
  // Bounded: the oldest states go first (OVS frees them with their last megaflow).
  if (frozenById.size > MAX_FROZEN) {
    const [oldId, old] = frozenById.entries().next().value as [number, FrozenState];
    frozenById.delete(oldId);
    idByKey.delete(stateKey(old));
  }
  return id;
}

/** The frozen state of a recirculation id, or null. */
export function frozenState(id: number): FrozenState | null {
  return frozenById.get(id) ?? null;
}

const uuids = new WeakMap<XBridge, Uint8Array>();

/** A stable per-bridge 16-byte id (the ofproto uuid of the cookie). */
export function bridgeUuid(b: XBridge): Uint8Array {
  let u = uuids.get(b);
  if (u === undefined) {
    u = new Uint8Array(16);
    let h = 0x811c9dc5;
    for (let i = 0; i < b.name.length; i++) h = Math.imul(h ^ b.name.charCodeAt(i), 0x01000193) >>> 0;
    for (let i = 0; i < 16; i++) {
      h = Math.imul(h ^ i, 0x01000193) >>> 0;
      u[i] = h & 0xff;
    }
    uuids.set(b, u);
  }
  return u;
}

/** The controller part of a user_action_cookie. */
export interface ControllerCookie {
  uuid: Uint8Array;
  dontSend: boolean;
  continuation: boolean;
  reason: number;
  recircId: number;
  ruleCookie: bigint;
  controllerId: number;
  maxLen: number;
}

/** Encodes a CONTROLLER user_action_cookie (48 bytes, host byte order where OVS uses it). */
export function encodeControllerCookie(c: ControllerCookie): Uint8Array {
  const b = new Uint8Array(USER_ACTION_COOKIE_LEN);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, COOKIE_CONTROLLER, true);
  dv.setUint16(2, 0xffff, true);
  b.set(c.uuid.subarray(0, 16), 4);
  b[24] = c.dontSend ? 1 : 0;
  b[25] = c.continuation ? 1 : 0;
  dv.setUint16(26, c.reason, true);
  dv.setUint32(28, c.recircId, true);
  dv.setBigUint64(32, c.ruleCookie, false);
  dv.setUint16(40, c.controllerId, true);
  dv.setUint16(42, c.maxLen, true);
  return b;
}

/** Decodes a CONTROLLER cookie from userspace-action userdata; null for anything else. */
export function decodeControllerCookie(u: Uint8Array | null): ControllerCookie | null {
  if (u === null || u.length < USER_ACTION_COOKIE_LEN) return null;
  const dv = new DataView(u.buffer, u.byteOffset, u.length);
  if (dv.getUint16(0, true) !== COOKIE_CONTROLLER) return null;
  return {
    uuid: u.slice(4, 20),
    dontSend: u[24] !== 0,
    continuation: u[25] !== 0,
    reason: dv.getUint16(26, true),
    recircId: dv.getUint32(28, true),
    ruleCookie: dv.getBigUint64(32, false),
    controllerId: dv.getUint16(40, true),
    maxLen: dv.getUint16(42, true),
  };
}

/** The packet-in metadata match (OVS's flow_get_metadata): in_port always, other pipeline fields when nonzero. */
export function packetInMetadata(flow: Uint32Array): Match {
  const m = new Match();
  m.key[W_IN_PORT] = flow[W_IN_PORT]! & 0xffff;
  m.mask[W_IN_PORT] = 0xffff;
  const copy = (w: number, mask = 0xffffffff): void => {
    if ((flow[w]! & mask) !== 0) {
      m.key[w] = (m.key[w]! | (flow[w]! & mask)) >>> 0;
      m.mask[w] = (m.mask[w]! | mask) >>> 0;
    }
  };
  for (let i = 0; i < 16; i++) copy(W_REG0 + i);
  copy(W_METADATA);
  copy(W_METADATA + 1);
  copy(W_PKT_MARK);
  copy(W_TUN_ID);
  copy(W_TUN_ID + 1);
  copy(W_TUN_SRC);
  copy(W_TUN_DST);
  copy(W_PACKET_TYPE);
  const ctState = (flow[W_CT_STATE]! >>> S_CT_STATE) & 0xff;
  if (ctState !== 0) {
    copy(W_CT_STATE, 0xff << S_CT_STATE);
    // dl_type too: the conntrack fields mean nothing without it.
    m.key[W_DL_TYPE] = (m.key[W_DL_TYPE]! | (flow[W_DL_TYPE]! & (0xffff << S_DL_TYPE))) >>> 0;
    m.mask[W_DL_TYPE] = (m.mask[W_DL_TYPE]! | (0xffff << S_DL_TYPE)) >>> 0;
    const dlType = (flow[W_DL_TYPE]! >>> S_DL_TYPE) & 0xffff;
    const valid = (ctState & CS_TRACKED) !== 0 && (ctState & CS_INVALID) === 0;
    if (valid && ((flow[W_CT_NW_PROTO]! >>> S_CT_NW_PROTO) & 0xff) !== 0) {
      const all = (w: number, mask = 0xffffffff): void => {
        m.key[w] = (m.key[w]! | (flow[w]! & mask)) >>> 0;
        m.mask[w] = (m.mask[w]! | mask) >>> 0;
      };
      if (dlType === 0x0800) {
        all(W_CT_NW_SRC);
        all(W_CT_NW_DST);
      } else if (dlType === 0x86dd) {
        for (let i = 0; i < 4; i++) {
          all(W_CT_IPV6_SRC + i);
          all(W_CT_IPV6_DST + i);
        }
      }
      if (dlType === 0x0800 || dlType === 0x86dd) {
        all(W_CT_NW_PROTO, 0xff << S_CT_NW_PROTO);
        all(W_CT_TP_SRC, 0xffff << S_CT_TP_SRC);
        all(W_CT_TP_DST, 0xffff << S_CT_TP_DST);
      }
    }
  }
  copy(W_CT_ZONE, 0xffff << S_CT_ZONE);
  copy(W_CT_MARK);
  if ((flow[W_CT_LABEL]! | flow[W_CT_LABEL + 1]! | flow[W_CT_LABEL + 2]! | flow[W_CT_LABEL + 3]!) !== 0) {
    for (let j = 0; j < 4; j++) {
      m.key[W_CT_LABEL + j] = flow[W_CT_LABEL + j]!;
      m.mask[W_CT_LABEL + j] = 0xffffffff;
    }
  }
  return m;
}

/** ct_state bits (OVS's CS_TRACKED, CS_INVALID). */
const CS_TRACKED = 0x20;
const CS_INVALID = 0x10;

function isMiss(reason: number): boolean {
  return reason === OFPR_NO_MATCH || reason === OFPR_EXPLICIT_MISS || reason === OFPR_IMPLICIT_MISS;
}

/** Builds the packet-in message for one connection, in its packet-in format and version. */
export function buildPacketIn(conn: Ofconn, packet: Uint8Array, reason: number, tableId: number, cookie: bigint,
  flow: Uint32Array, userdata: Uint8Array | null, maxLen: number,
  continuation: ((version: number) => ContinuationProp[]) | null = null): OfpMessage | null {
  let len = packet.length;
  const limit = isMiss(reason) && maxLen === 0xffff ? conn.missSendLen : maxLen;
  if (limit !== 0xffff && limit < len) len = limit;
  const version = conn.version || 1;
  const fmt = conn.packetInFormat;
  const body: PacketInBody = {
    packet: packet.slice(0, len),
    totalLen: packet.length,
    bufferId: NO_BUFFER,
    reason: fmt === "nxt_packet_in2" ? reason : packetInReasonForVersion(reason, fmt === "standard" ? version : 4),
    tableId,
    cookie: fmt === "standard" && version < 4 ? 0xffffffffffffffffn : cookie,
    metadata: packetInMetadata(flow),
    userdata: fmt === "nxt_packet_in2" ? userdata : null,
    continuation: fmt === "nxt_packet_in2" && continuation !== null ? continuation(version) : null,
  };
  if (fmt === "nxt_packet_in2") return { type: "NXT_PACKET_IN2", version, xid: 0, body } as OfpMessage;
  if (fmt === "nxt_packet_in") return { type: "NXT_PACKET_IN", version, xid: 0, body } as OfpMessage;
  return { type: "OFPT_PACKET_IN", version, xid: 0, body } as OfpMessage;
}

/**
 * Sends the packet-in a controller cookie asks for (the upcall side of the
 * controller action): `packet` is the packet as the datapath handed it up.
 * `findBridge` maps the cookie's bridge uuid to the bridge. Returns the
 * number of connections that got it, or -1 when the cookie is not a
 * controller cookie / the state is unknown.
 */
export function handleControllerUpcall(userdata: Uint8Array | null, packet: Uint8Array,
  findBridge: (uuid: Uint8Array, name: string | null) => XBridge | null): number {
  const c = decodeControllerCookie(userdata);
  if (c === null) return -1;
  if (c.dontSend) return 0;
  const st = frozenState(c.recircId);
  const bridge = findBridge(c.uuid, st?.bridgeName ?? null);
  if (bridge === null || st === null) return -1;
  // A paused pipeline: the packet-in carries its continuation (NXT_PACKET_IN2 only).
  let cont: ((version: number) => ContinuationProp[]) | null = null;
  if (c.continuation) {
    const odpPort = bridge.ports.get(st.flow[W_IN_PORT]! & 0xffff)?.odpNo ?? 0;
    cont = (version) => continuationProps(st, odpPort > 0 ? odpPort : 0, version);
  }
  // A continuation carries the whole packet (it is resumed from it), whatever max_len says.
  return sendPacketIn(bridge, packet, c.reason, st.tableId, c.ruleCookie, st.flow, st.userdata, c.controllerId,
    cont !== null ? 0xffff : c.maxLen, cont);
}

/** Sends a packet-in to the controllers of `bridge` that want it. */
export function sendPacketIn(bridge: XBridge, packet: Uint8Array, reason: number, tableId: number, cookie: bigint,
  flow: Uint32Array, userdata: Uint8Array | null, controllerId: number, maxLen: number,
  continuation: ((version: number) => ContinuationProp[]) | null = null): number {
  return bridge.ofproto.connmgr.sendPacketIn(reason, controllerId,
    (conn) => buildPacketIn(conn, packet, reason, tableId, cookie, flow, userdata, maxLen, continuation));
}
