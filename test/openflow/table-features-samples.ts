/**
 * Sample table-features bodies for `samples.ts` and the table-features
 * test: a switch-like pipeline (like OVS's own reply), tables with names,
 * different miss features, OpenFlow 1.5 commands and property-less tables.
 */
import type { TableFeatures, TableFeaturesBody, TableInstructionFeatures } from "../../src/openflow/index.js";
import { sortFieldNames } from "../../src/openflow/index.js";

const ALL_ACTIONS = ["output", "group", "set_field", "strip_vlan", "push_vlan", "mod_nw_ttl", "dec_ttl", "set_mpls_ttl", "dec_mpls_ttl", "push_mpls", "pop_mpls", "set_queue"];

function insts(v: number, next: number[], over: Partial<TableInstructionFeatures> = {}): TableInstructionFeatures {
  const names = ["meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table"].filter((n) => v < 6 || n !== "meter");
  const set = sortFieldNames(["eth_src", "eth_dst", "reg0", "reg1", "reg2", "reg3", "ip_src", "ip_dst", "tun_id", "tun_ipv6_src", "tun_ipv6_dst", "metadata"]);
  return {
    next,
    instructions: next.length ? names : names.filter((n) => n !== "goto_table"),
    write: { actions: ALL_ACTIONS, setFields: set },
    apply: { actions: ALL_ACTIONS, setFields: set },
    ...over,
  };
}

export function table(v: number, id: number, over: Partial<TableFeatures> = {}): TableFeatures {
  const next = Array.from({ length: 8 - id - 1 > 0 ? 8 - id - 1 : 0 }, (_, i) => id + 1 + i);
  const match = sortFieldNames(["in_port", "eth_src", "eth_dst", "eth_type", "vlan_vid", "ip_src", "ip_dst", "nw_proto", "tcp_src", "tcp_dst", "reg0", "reg1", "reg2", "metadata"]);
  const mask = sortFieldNames(["eth_src", "eth_dst", "ip_src", "ip_dst", "reg0", "reg1", "reg2", "metadata"]);
  return {
    tableId: id, name: "", command: 0, metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn,
    supportsEviction: v >= 5 ? false : null, supportsVacancyEvents: v >= 5 ? false : null, maxEntries: 1000000,
    anyProperties: true, nonmiss: insts(v, next), miss: insts(v, next), match, mask,
    wildcard: sortFieldNames([...mask, "in_port", "eth_type", "nw_proto", "tcp_src", "tcp_dst"]),
    ...over,
  };
}

export function tableFeaturesSamples(v: number, request: boolean): TableFeaturesBody[] {
  const pipeline = Array.from({ length: 8 }, (_, i) => table(v, i));
  const varied = [
    table(v, 0, { name: "classifier" }),
    table(v, 1, { miss: insts(v, [2, 3], { instructions: ["apply_actions"], apply: { actions: ["output", "group"], setFields: [] }, write: { actions: [], setFields: [] } }) }),
    table(v, 2, { metadataMatch: 0n, metadataWrite: 0n, maxEntries: 0, match: [], mask: [], wildcard: [] }),
    table(v, 3, { nonmiss: insts(v, [4], { write: { actions: ["output"], setFields: ["eth_dst"] } }), miss: insts(v, [4], { write: { actions: ["output"], setFields: ["eth_dst"] } }) }),
    table(v, 4, { supportsEviction: v >= 5 ? true : null, supportsVacancyEvents: v >= 5 ? true : null, name: "x" }),
    table(v, 5, { name: "x" }),
    table(v, 6),
  ];
  const out: TableFeaturesBody[] = [{ tables: pipeline }, { tables: varied }];
  if (request) out.unshift({ tables: [] });
  if (v >= 6) {
    const bare = (id: number, command: number): TableFeatures => ({
      ...table(v, id, { command }), anyProperties: false, nonmiss: insts(v, [], { instructions: [], write: { actions: [], setFields: [] }, apply: { actions: [], setFields: [] } }),
      miss: insts(v, [], { instructions: [], write: { actions: [], setFields: [] }, apply: { actions: [], setFields: [] } }), match: [], mask: [], wildcard: [],
    });
    out.push({ tables: [bare(1, 2), bare(2, 3)] }, { tables: [table(v, 0, { command: 1 })] });
  }
  return out;
}
