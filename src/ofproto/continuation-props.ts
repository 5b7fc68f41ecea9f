/**
 * The NXT_PACKET_IN2 continuation of a paused pipeline, both ways: from a
 * frozen state to the properties OVS sends (`continuationProps`), and from
 * the properties NXT_RESUME hands back to the state to resume
 * (`parseContinuation`). See continuation.ts for the whole story.
 *
 * Encoding follows OVS: bridge uuid, stack values (top first), mirrors,
 * conntracked, then the actions in groups — each group's table id and
 * cookie as properties when they change (both start at 0), its actions as
 * one NXCPT_ACTIONS — then the action set and the datapath input port.
 * Actions are written in the connection's OpenFlow version: instructions
 * have no action form there and are dropped, except goto_table (a
 * resubmit) and write_metadata (a set_field), as OVS does.
 */
import { encodeActions } from "../openflow/ofp-actions-codec.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { ContinuationProp } from "../openflow/ofp-packet.js";
import type { FrozenItem, FrozenState } from "./xlate-pin.js";
import { bigToBytes, bytesToBig } from "../packet/bytes.js";

/** OpenFlow's IN_PORT, the in_port of a resubmit(,N). */
const OFPP_IN_PORT = 0xfff8;

/** Whether `a` is an instruction (no action form in an action list). */
function asAction(a: OfpAction, version: number): OfpAction | null {
  switch (a.type) {
    case "meter": case "clear_actions": case "write_actions":
      return null;
    case "goto_table":
      return { type: "resubmit", inPort: OFPP_IN_PORT, tableId: a.tableId, ct: false, legacy: false };
    case "write_metadata": {
      const value = new Uint8Array(8);
      const mask = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, a.metadata & a.mask);
      new DataView(mask.buffer).setBigUint64(0, a.mask);
      const full = a.mask === 0xffffffffffffffffn;
      return { type: "set_field", field: "metadata", value, mask, load: full && version === 1 };
    }
    default: {
      const b = encodeActions([a], version);
      return b instanceof Uint8Array ? a : null;
    }
  }
}

function encodable(list: readonly OfpAction[], version: number): OfpAction[] {
  const out: OfpAction[] = [];
  for (const a of list) {
    const x = asAction(a, version);
    if (x !== null) out.push(x);
  }
  return out;
}

/** A stack value as the bytes OVS pushes (the narrowest of 4, 8 or 16 bytes that holds it). */
function stackBytes(v: bigint): Uint8Array {
  return bigToBytes(v, v < 1n << 32n ? 4 : v < 1n << 64n ? 8 : 16);
}


/** The continuation properties of a paused pipeline's frozen state, for a connection speaking `version`. */
export function continuationProps(st: FrozenState, odpPort: number, version: number): ContinuationProp[] {
  const props: ContinuationProp[] = [];
  props.push({ kind: "bridge", uuid: st.bridgeUuid });
  const stack = st.stack ?? [];
  for (let i = stack.length - 1; i >= 0; i--) props.push({ kind: "stack", value: stackBytes(stack[i]!) });
  if (st.mirrors) props.push({ kind: "mirrors", value: st.mirrors >>> 0 });
  if (st.conntracked === true) props.push({ kind: "conntracked" });
  // Groups of actions, each after the unroll marker that names its table and cookie.
  let table = 0;
  let cookie = 0n;
  let group: OfpAction[] = [];
  let marker: FrozenItem | null = null;
  const flush = (): void => {
    if (marker !== null) {
      if (marker.tableId !== table) {
        table = marker.tableId;
        props.push({ kind: "table_id", value: table });
      }
      if (marker.cookie !== cookie) {
        cookie = marker.cookie;
        props.push({ kind: "cookie", value: cookie });
      }
    }
    const acts = encodable(group, version);
    if (acts.length > 0) props.push({ kind: "actions", actions: acts });
    group = [];
  };
  for (const it of st.actions ?? []) {
    if (it.action !== null) {
      group.push(it.action);
      continue;
    }
    // A marker naming the table and cookie already in force adds nothing (OVS's freeze_put_unroll_xlate).
    if (marker !== null && marker.tableId === it.tableId && marker.cookie === it.cookie) continue;
    flush();
    marker = it;
  }
  flush();
  const set = encodable(st.actionSet ?? [], version);
  if (set.length > 0) props.push({ kind: "action_set", actions: set });
  if (odpPort > 0) props.push({ kind: "odp_port", value: odpPort });
  return props;
}

/** A continuation as NXT_RESUME hands it back. */
export interface Continuation {
  bridgeUuid: Uint8Array | null;
  /** Bottom first, as translation keeps its stack. */
  stack: bigint[];
  mirrors: number;
  conntracked: boolean;
  actions: FrozenItem[];
  actionSet: OfpAction[];
  odpPort: number;
}

/** Reads the properties of NXT_RESUME's continuation (strictly: an unknown property is an error, as OVS). */
export function parseContinuation(props: readonly ContinuationProp[] | null): Continuation | OfpErrorName {
  const c: Continuation = { bridgeUuid: null, stack: [], mirrors: 0, conntracked: false, actions: [], actionSet: [], odpPort: 0 };
  let table = 0;
  let cookie = 0n;
  for (const p of props ?? []) {
    switch (p.kind) {
      case "bridge":
        c.bridgeUuid = p.uuid;
        break;
      case "stack":
        c.stack.unshift(bytesToBig(p.value));
        break;
      case "mirrors":
        c.mirrors = p.value >>> 0;
        break;
      case "conntracked":
        c.conntracked = true;
        break;
      case "table_id":
        table = p.value;
        break;
      case "cookie":
        cookie = p.value;
        break;
      case "actions":
        c.actions.push({ action: null, tableId: table, cookie });
        for (const a of p.actions) c.actions.push({ action: a, tableId: 0, cookie: 0n });
        break;
      case "action_set":
        c.actionSet.push(...p.actions);
        break;
      case "odp_port":
        c.odpPort = p.value;
        break;
      case "unknown":
        return "OFPBPC_BAD_TYPE";
    }
  }
  return c;
}
