/**
 * OpenFlow flow text read as one exact flow, as OVS's
 * `parse_ofp_exact_flow` does for `ofproto/trace BRIDGE FLOW`: protocol
 * shorthands and `field=value` pairs, no masks, every field's
 * prerequisites met by what came before it, no field given twice, and an
 * in_port of OFPP_NONE when none is given. Errors are OVS's words, each
 * starting with the whole flow text.
 *
 * The result is a flow key (src/flow/key-layout.ts) that
 * src/flow/compose.ts turns into a packet; `ofpExactFlowParser` fits its
 * `openflow` option.
 */
import { FLOW_U32S, S_VLAN_TPID, W_IN_PORT, W_VLAN0 } from "../flow/key-layout.js";
import type { OpenFlowFlowParser } from "../flow/compose.js";
import { mfFromName } from "./meta-flow.js";
import { mfGet, mfSet } from "./mf-key.js";
import { Match, mfArePrereqsOk, VLAN_CFI } from "./match.js";
import { parseFieldValue, PROTOCOLS, splitKeyValues } from "./match-parse.js";

const OFPP_NONE = 0xffff;
const ETH_TYPE_VLAN_8021Q = 0x8100;

/** OVS flow_fix_vlan_tpid: a present first tag without a TPID gets 802.1Q. */
function fixVlanTpid(flow: Uint32Array): void {
  const w = flow[W_VLAN0]!;
  if ((w >>> S_VLAN_TPID) === 0 && (w & VLAN_CFI) !== 0) flow[W_VLAN0] = ((ETH_TYPE_VLAN_8021Q << S_VLAN_TPID) | (w & 0xffff)) >>> 0;
}

/** Parses a decimal/0x number for dl_vlan / dl_vlan_pcp; null when it is not one. */
function parseSmallInt(s: string, max: number): number | null {
  const v = /^0[xX][0-9a-fA-F]+$/.test(s) ? parseInt(s.slice(2), 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  return Number.isFinite(v) && v <= max ? v : null;
}

/**
 * OVS parse_ofp_exact_flow: `text` as one exact flow (OpenFlow ports;
 * names resolved through `portNumbers`), or the error OVS gives.
 */
export function parseOfpExactFlow(text: string, portNumbers?: ReadonlyMap<string, number> | null): { flow: Uint32Array } | { error: string } {
  const flow = new Uint32Array(FLOW_U32S);
  const scratch = new Uint32Array(FLOW_U32S);
  const match = new Match(flow, new Uint32Array(FLOW_U32S).fill(0xffffffff));
  let dlTypeSet = false;
  let nwProtoSet = false;
  for (const kv of splitKeyValues(text)) {
    const key = kv.key;
    const value = kv.value ?? "";
    const proto = PROTOCOLS[key];
    if (proto !== undefined) {
      if (dlTypeSet || match.dlType !== 0) return { error: `${text}: Ethernet type set multiple times` };
      match.setNum("eth_type", proto[0]);
      dlTypeSet = true;
      if (proto[1] >= 0) {
        if (nwProtoSet || match.nwProto !== 0) return { error: `${text}: network protocol set multiple times` };
        match.setNum("nw_proto", proto[1]);
        nwProtoSet = true;
      }
      continue;
    }
    if (key === "dl_vlan" || key === "dl_vlan_pcp") {
      // OpenFlow 1.0's views of the first TCI.
      const tci = flow[W_VLAN0]! & 0xffff;
      const isVlan = key === "dl_vlan";
      if (isVlan ? (tci & 0x0fff) !== 0 : (tci & 0xe000) !== 0) return { error: `${text}: field ${key} set multiple times` };
      const v = parseSmallInt(value, isVlan ? 0xffff : 0xff);
      if (v === null) return { error: `${text}: bad value for ${key} (${value}: bad syntax for ${key} value)` };
      let now: number;
      if (isVlan) now = v === 0xffff ? 0 : (tci & 0xe000) | (v & 0x0fff) | VLAN_CFI;
      else now = (tci & 0x0fff) | ((v & 7) << 13) | VLAN_CFI;
      flow[W_VLAN0] = ((flow[W_VLAN0]! & 0xffff0000) | now) >>> 0;
      fixVlanTpid(flow);
      continue;
    }
    const fld = mfFromName(key);
    if (fld === null) return { error: `${text}: unknown field ${key}` };
    if (!mfArePrereqsOk(fld, match)) return { error: `${text}: prerequisites not met for setting ${key}` };
    let current: Uint8Array;
    try {
      current = mfGet(flow, match.mask, fld).value;
    } catch {
      return { error: `${text}: unknown field ${key}` };
    }
    if (current.some((b) => b !== 0)) return { error: `${text}: field ${key} set multiple times` };
    let bytes: Uint8Array;
    const port = fld.format === "ofp-port" || fld.format === "ofp11-port" ? portNumbers?.get(value) : undefined;
    if (port !== undefined) {
      const n = fld.format === "ofp-port" ? 2 : 4;
      bytes = new Uint8Array(n);
      for (let i = n - 1, x = port; i >= 0; i--, x = Math.floor(x / 256)) bytes[i] = x & 0xff;
    } else {
      const r = parseFieldValue(fld, value);
      if (!r.ok) return { error: `${text}: bad value for ${key} (${r.error})` };
      // Flag names alone ("syn|ack") are exact in OVS even though the field is wider than its flags.
      const masked = value.includes("/") || ((fld.format === "tcp-flags" || fld.format === "ct-state") && /^[+-]/.test(value));
      if (r.mask !== null && masked && !r.mask.every((b) => b === 0xff)) {
        return { error: `${text}: bad value for ${key} (${value}: wildcards not allowed here)` };
      }
      bytes = r.value;
    }
    try {
      mfSet(flow, scratch, fld, bytes, null);
    } catch {
      return { error: `${text}: unknown field ${key}` };
    }
    if (fld.name === "vlan_tci" || fld.name === "vlan_vid" || fld.name === "vlan_pcp") fixVlanTpid(flow);
  }
  if (flow[W_IN_PORT] === 0) flow[W_IN_PORT] = OFPP_NONE;
  return { flow };
}

/** A parser for src/flow/compose.ts's `openflow` option, with the bridge's port names. */
export function ofpExactFlowParser(portNumbers?: ReadonlyMap<string, number> | null): OpenFlowFlowParser {
  return (text) => parseOfpExactFlow(text, portNumbers);
}
