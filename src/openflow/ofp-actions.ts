/**
 * OpenFlow actions and instructions: the model, and the one table that
 * drives their wire codecs (OpenFlow 1.0–1.5 and Nicira extensions) and
 * their text (the `actions=` part of ovs-ofctl's flow syntax).
 *
 * Design. As in OVS, an action list is a flat sequence of plain values
 * (`OfpAction`), instructions included: `meter`, `clear_actions`,
 * `write_actions`, `write_metadata` and `goto_table` are variants like any
 * other, and everything before them is the apply-actions instruction. The
 * model is version free; a version only matters when encoding (which picks
 * the wire form that version has, or translates, e.g. `mod_nw_tos` becomes
 * set_field ip_dscp in OpenFlow 1.2+, `enqueue` becomes
 * set_queue,output,pop_queue in 1.1+) and when decoding (which accepts what
 * OVS accepts in that version and rejects the rest with OVS's error).
 *
 * `ACTION_TABLE` (ofp-actions-table.ts) holds per variant: the text keywords,
 * parse, format and encode; `WIRE_ACTIONS` lists every wire action (OpenFlow
 * type or Nicira subtype, versions, length rule) with its decoder.
 */
import type { Subfield } from "./ofp-actions-subfield.js";

/** The reason codes of packet-ins (`controller(reason=...)`). */
export const PACKET_IN_REASONS: readonly string[] = [
  "no_match", "action", "invalid_ttl", "action_set", "group", "packet_out",
];

/**
 * One flow_mod_spec of learn: `src` null means the immediate `imm`
 * (big-endian, whole 16-bit units); `dst` null for output specs.
 */
export interface LearnSpec {
  dstType: "match" | "load" | "output";
  src: Subfield | null;
  imm: Uint8Array | null;
  dst: Subfield | null;
  nBits: number;
}

/** One action or instruction. */
export type OfpAction =
  | { type: "output"; port: number; maxLen: number }
  | { type: "output_reg"; src: Subfield; maxLen: number }
  | { type: "output_trunc"; port: number; maxLen: number }
  | {
      type: "controller"; maxLen: number; controllerId: number; reason: number;
      userdata: Uint8Array | null; pause: boolean; meterId: number | null;
      /** Decoded from NXAST_CONTROLLER2: OVS writes it back in that form. */
      raw2?: boolean;
    }
  | { type: "enqueue"; port: number; queue: number }
  | { type: "group"; groupId: number }
  /** `push`: OVS's push_vlan_if_needed (mod_vlan_vid / OpenFlow 1.0 semantics). */
  | { type: "set_vlan_vid"; vid: number; push: boolean }
  | { type: "set_vlan_pcp"; pcp: number; push: boolean }
  /** `pop`: written as pop_vlan (OpenFlow 1.1 spelling) rather than strip_vlan. */
  | { type: "strip_vlan"; pop: boolean }
  | { type: "push_vlan"; ethertype: number }
  | { type: "set_eth_src"; mac: Uint8Array }
  | { type: "set_eth_dst"; mac: Uint8Array }
  | { type: "set_ipv4_src"; addr: number }
  | { type: "set_ipv4_dst"; addr: number }
  /** The whole TOS byte with the ECN bits clear (mod_nw_tos:8 → 8). */
  | { type: "set_ip_dscp"; tos: number }
  | { type: "set_ip_ecn"; ecn: number }
  | { type: "set_ip_ttl"; ttl: number }
  | { type: "set_l4_src"; port: number }
  | { type: "set_l4_dst"; port: number }
  /**
   * set_field and load: `value`/`mask` are big-endian bytes of the field's
   * width; `load` means it came from `load:` or NXAST_REG_LOAD and prints so.
   */
  | { type: "set_field"; field: string; value: Uint8Array; mask: Uint8Array; load: boolean }
  | { type: "reg_move"; src: Subfield; dst: Subfield }
  /** `legacy`: came from NXAST_RESUBMIT, so it is re-encoded that way. */
  | { type: "resubmit"; inPort: number; tableId: number; ct: boolean; legacy: boolean }
  /** `ids` empty: plain dec_ttl (controller id 0); `cntIds`: written with ids. */
  | { type: "dec_ttl"; ids: number[]; cntIds: boolean }
  | { type: "set_mpls_label"; label: number }
  | { type: "set_mpls_tc"; tc: number }
  | { type: "set_mpls_ttl"; ttl: number }
  | { type: "dec_mpls_ttl" }
  | { type: "push_mpls"; ethertype: number }
  | { type: "pop_mpls"; ethertype: number }
  | { type: "set_queue"; queue: number }
  | { type: "pop_queue" }
  | { type: "set_tunnel"; tunId: bigint; wide: boolean }
  | { type: "note"; data: Uint8Array }
  | { type: "exit" }
  | { type: "ct_clear" }
  | { type: "fin_timeout"; idle: number; hard: number }
  | { type: "conjunction"; id: number; clause: number; nClauses: number }
  | { type: "multipath"; fields: number; basis: number; algorithm: number; maxLink: number; arg: number; dst: Subfield }
  | { type: "stack_push"; sf: Subfield }
  | { type: "stack_pop"; sf: Subfield }
  | { type: "sample"; probability: number; collectorSetId: number; obsDomainId: number; obsPointId: number; port: number; direction: number }
  | { type: "check_pkt_larger"; pktLen: number; dst: Subfield }
  | { type: "delete_field"; field: string }
  | { type: "clone"; actions: OfpAction[] }
  | { type: "bundle"; fields: number; basis: number; algorithm: number; members: number[] }
  | { type: "bundle_load"; fields: number; basis: number; algorithm: number; members: number[]; dst: Subfield }
  /** `packetType`: (namespace << 16) | type; `mdType` 0 when not given (NSH only). */
  | {
    type: "encap"; packetType: number; mdType: number; tlvs: { tlvClass: number; tlvType: number; value: Uint8Array; pad?: Uint8Array }[];
    /** The wire's hdr_size (OVS keeps it as decoded; 0 from text). */
    hdrSize?: number;
  }
  | { type: "decap"; packetType: number }
  | { type: "dec_nsh_ttl" }
  | {
      type: "learn"; table: number; idle: number; hard: number; finIdle: number; finHard: number; priority: number;
      cookie: bigint; flags: number; limit: number; resultDst: Subfield | null; specs: LearnSpec[];
    }
  /** `actions`: nested nat and exec(...) actions, in text order. `table` 255: none. */
  | {
      type: "ct"; flags: number; zoneImm: number; zoneSrc: Subfield | null; table: number; alg: number;
      actions: OfpAction[];
    }
  /** Address bytes are 4 (IPv4) or 16 (IPv6) long; ports 0 when absent. */
  | {
      type: "nat"; flags: number; addrMin: Uint8Array | null; addrMax: Uint8Array | null; portMin: number;
      portMax: number;
    }
  | { type: "meter"; meterId: number }
  | { type: "clear_actions" }
  | { type: "write_actions"; actions: OfpAction[] }
  | { type: "write_metadata"; metadata: bigint; mask: bigint }
  | { type: "goto_table"; tableId: number };

export type OfpActionType = OfpAction["type"];
export type ActionOf<T extends OfpActionType> = Extract<OfpAction, { type: T }>;

/** Instruction types in the order OpenFlow 1.1+ requires them. */
export const INSTRUCTION_ORDER = ["meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table"] as const;
export type InstructionName = (typeof INSTRUCTION_ORDER)[number];

/** Which instruction an action belongs to (apply_actions for plain actions). */
export function instructionOf(a: OfpAction): InstructionName {
  switch (a.type) {
    case "meter":
    case "clear_actions":
    case "write_actions":
    case "write_metadata":
    case "goto_table":
      return a.type;
    default:
      return "apply_actions";
  }
}
