/**
 * controller(pause) continuations (OVS's NXT_PACKET_IN2 continuation and
 * NXT_RESUME; ovs-actions(7) "controller", ofp-packet's
 * packet_in_private).
 *
 * A paused pipeline is frozen as a recirculation would be (xlate.ts): the
 * actions left (with OVS's unroll_xlate markers naming the table and rule
 * cookie they belong to), the action set, the stack, the mirrors already
 * used, whether the packet went through conntrack. Instead of a recirc()
 * the datapath gets a `userspace(controller(continuation=1, recirc_id=N))`
 * action; the upcall it causes becomes a packet-in that carries that state
 * as NXT_PACKET_IN2 continuation properties (`continuationProps`). A
 * controller sends it back unchanged in NXT_RESUME; `resumeContinuation`
 * rebuilds the frozen state and translates the rest of the pipeline for
 * the packet, whose datapath actions are then executed on it.
 *
 * The property codec is continuation-props.ts.
 */
import { FLOW_U32S, W_IN_PORT, W_RECIRC_ID } from "../flow/key-layout.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { PacketInBody } from "../openflow/ofp-packet.js";
import { allocRecircId, bridgeUuid, type FrozenState } from "./xlate-pin.js";
import type { XBridge } from "./xlate-types.js";
import { parseContinuation } from "./continuation-props.js";
import { sameBytes } from "../packet/bytes.js";

/** What resuming needs of the switch (ofproto-dpif provides it). */
export interface ResumeEnv {
  /** Every bridge a continuation may name. */
  bridges: readonly XBridge[];
  /** Extracts the flow of a packet into `flow`; false when the packet is too short. */
  extract(packet: Uint8Array, flow: Uint32Array): boolean;
  /** Translates and executes the resumed pipeline for the packet (the frozen state is under `flow`'s recirc_id). */
  run(bridge: XBridge, flow: Uint32Array, packet: Uint8Array): void;
}

/**
 * NXT_RESUME (OVS's handle_nxt_resume + xlate_resume): checks the message,
 * rebuilds the paused pipeline's state and runs the rest of it for the
 * packet. Returns the OpenFlow error to send, or null.
 */
export function resumeContinuation(body: PacketInBody, env: ResumeEnv): OfpErrorName | null {
  if (body.packet.length === 0 || body.totalLen < body.packet.length) return "OFPBRC_BAD_LEN";
  const c = parseContinuation(body.continuation);
  if (typeof c === "string") return c;
  const uuid = c.bridgeUuid;
  const bridge = uuid === null ? undefined : env.bridges.find((b) => sameBytes(bridgeUuid(b), uuid));
  if (bridge === undefined) return "NXR_STALE";
  const flow = new Uint32Array(FLOW_U32S);
  if (!env.extract(body.packet, flow)) return "OFPBRC_BAD_LEN";
  // The pipeline metadata the packet-in carried (in_port, registers, metadata, tunnel...).
  const mk = body.metadata.key;
  const mm = body.metadata.mask;
  for (let w = 0; w < FLOW_U32S && w < mm.length; w++) {
    const m = mm[w]!;
    if (m !== 0) flow[w] = ((flow[w]! & ~m) | (mk[w]! & m)) >>> 0;
  }
  flow[W_IN_PORT] = flow[W_IN_PORT]! & 0xffff;
  const st: FrozenState = {
    bridgeName: bridge.name,
    bridgeUuid: bridgeUuid(bridge),
    tableId: 0,
    flow: flow.slice(),
    userdata: null,
    // No actions left: a bare marker, so that resuming does not look up a table (OVS's no-op).
    actions: c.actions.length > 0 ? c.actions : [{ action: null, tableId: 0, cookie: 0n }],
    actionSet: c.actionSet,
    stack: c.stack,
    ruleCookie: 0n,
    conntracked: c.conntracked,
    mirrors: c.mirrors,
  };
  flow[W_RECIRC_ID] = allocRecircId(st);
  env.run(bridge, flow, body.packet);
  return null;
}
