/**
 * A generated corpus of flows for checking "usable protocols" against
 * ovs-ofctl: every match of `ACTION_MATCHES` with every action list of
 * `ACTION_LISTS` — legacy set actions that only OpenFlow 1.0 tolerates on
 * an inconsistent match, set_field of fields each version can or cannot
 * carry, instructions, Nicira-only and OpenFlow 1.3-only actions, nested
 * lists, VLAN/MPLS pushes and pops that change what later actions may do.
 * `wireActionLines` turns these and the action-test corpus into hex lines
 * for parse-actions / parse-instructions, with damaged copies.
 */
import { parseActions, encodeActions, encodeInstructions } from "../../src/openflow/ofp-actions-codec.js";
import { isTextError } from "../../src/openflow/ofp-actions-util.js";
import { ACTION_CORPUS, setFieldCorpus } from "../openflow/ofp-actions-corpus.js";
import { rng } from "../openflow/match-corpus.js";

/** Matches that satisfy (or not) the prerequisites of the actions below. */
export const ACTION_MATCHES: readonly string[] = [
  "",
  "ip",
  "ipv6",
  "tcp",
  "udp",
  "sctp",
  "arp",
  "mpls",
  "dl_vlan=5",
  "vlan_tci=0x1000/0x1000",
  "ct_state=+trk-inv,tcp",
  "table=3,ip",
  "ip,nw_frag=later",
  "packet_type=(1,0x894f)",
];

/** Action lists (the text after `actions=`). */
export const ACTION_LISTS: readonly string[] = [
  // Legacy set actions: inconsistent with some matches (OpenFlow 1.0 only then).
  "mod_vlan_vid:5", "set_vlan_vid:5", "mod_vlan_pcp:3", "set_vlan_pcp:3", "strip_vlan", "pop_vlan",
  "mod_dl_src:00:11:22:33:44:55", "mod_dl_dst:00:11:22:33:44:55",
  "mod_nw_src:1.2.3.4", "mod_nw_dst:1.2.3.4", "mod_nw_tos:4", "mod_nw_ecn:2", "mod_nw_ttl:9", "dec_ttl", "dec_ttl(1,2)",
  "mod_tp_src:1", "mod_tp_dst:2", "set_mpls_label:5", "set_mpls_tc:3", "set_mpls_ttl:5", "dec_mpls_ttl",
  "push_mpls:0x8847", "pop_mpls:0x0800", "push_vlan:0x8100", "push_vlan:0x88a8",
  "fin_timeout(idle_timeout=5)", "dec_nsh_ttl",
  // set_field of fields with different OpenFlow 1.0/1.1/NXM/OXM support.
  "set_field:4101->vlan_vid", "set_field:3->vlan_pcp", "set_field:0x1005->vlan_tci", "set_field:0->vlan_tci",
  "set_field:00:11:22:33:44:55->eth_src", "set_field:00:11:22:33:44:55/ff:ff:ff:00:00:00->eth_dst",
  "set_field:1.2.3.4->ip_src", "set_field:1.2.3.4/255.255.0.0->ip_dst", "set_field:4->ip_dscp", "set_field:16->nw_tos",
  "set_field:1->ip_ecn", "set_field:5->nw_ttl", "set_field:1->tcp_src", "set_field:2->udp_dst", "set_field:3->sctp_src",
  "set_field:5->mpls_label", "set_field:2->mpls_tc", "set_field:1->mpls_bos", "set_field:0x5->metadata",
  "set_field:0x5/0xf->metadata", "set_field:5->tun_id", "set_field:1.1.1.1->tun_src", "set_field:1->reg0",
  "set_field:1/3->reg1", "set_field:1->xreg2", "set_field:1->pkt_mark", "set_field:1->ipv6_label",
  "set_field:::1->ipv6_src", "set_field:1->icmp_type", "set_field:1->arp_op", "set_field:1.2.3.4->arp_spa",
  "set_field:0x10->ct_mark", "set_field:1->ct_label",
  "load:1->NXM_NX_REG0[]", "load:1->NXM_OF_IP_SRC[0..7]", "move:NXM_NX_REG0[]->NXM_NX_REG1[]",
  "move:NXM_OF_TCP_SRC[]->NXM_NX_REG1[0..15]", "push:NXM_NX_REG0[]", "pop:NXM_NX_REG0[]",
  // Instructions.
  "goto_table:5", "goto_table:3", "clear_actions", "write_actions(output:1)", "write_actions(mod_nw_src:1.2.3.4)",
  "write_metadata:5", "write_metadata:5/7", "meter:1", "meter:0", "meter:1,output:2,goto_table:9",
  // Others.
  "output:1", "output:NXM_NX_REG0[]", "output:NXM_OF_TCP_SRC[]", "output(port=1,max_len=100)", "enqueue:1:2",
  "controller", "controller(reason=no_match,meter_id=3)", "group:3", "set_queue:5", "pop_queue", "set_tunnel:5",
  "set_tunnel64:5", "resubmit(,3)", "resubmit(1,3,ct)", "ct(commit)", "ct(commit,nat(src=1.2.3.4))",
  "ct(nat(dst=::1))", "ct(alg=ftp)", "ct(zone=NXM_NX_REG0[0..15])", "ct(commit,exec(set_field:1->ct_mark))", "ct_clear",
  "learn(table=1,NXM_OF_VLAN_TCI[0..11])", "learn(table=1,load:NXM_OF_IP_SRC[]->NXM_NX_REG0[])",
  "sample(probability=1,collector_set_id=2)", "conjunction(1,1/2)", "note:01.02", "exit",
  "bundle(eth_src,0,hrw,ofport,members:1)", "multipath(eth_src,50,modulo_n,1,0,NXM_NX_REG0[])",
  "multipath(eth_src,50,modulo_n,1,0,NXM_OF_IP_SRC[])", "check_pkt_larger(100)->NXM_NX_REG0[0]",
  "delete_field:tun_metadata0", "encap(nsh)", "encap(ethernet)", "decap", "decap,dec_ttl",
  // Lists where earlier actions change what later ones may do.
  "push_vlan:0x8100,set_field:4101->vlan_vid", "push_vlan:0x8100,set_field:5->vlan_vid", "push_vlan:0x8100,mod_vlan_vid:5",
  "mod_vlan_vid:5,mod_vlan_pcp:3", "strip_vlan,mod_vlan_pcp:2", "set_field:0x1005->vlan_tci,set_field:4102->vlan_vid",
  "push_vlan:0x8100,push_vlan:0x8100,push_vlan:0x8100", "push_mpls:0x8847,set_mpls_label:5,set_field:9->mpls_label",
  "pop_mpls:0x0800,mod_nw_src:1.2.3.4,set_field:1.1.1.1->ip_dst", "clone(strip_vlan),strip_vlan",
  "mod_nw_src:1.2.3.4,clone(output:1)", "clone(mod_nw_src:1.2.3.4)", "clone(push_vlan:0x8100),set_field:4101->vlan_vid",
  "write_actions(set_field:4101->vlan_vid)", "clone(set_field:1->tcp_src)",
];

/** Every flow of the corpus. */
export function actionCorpus(): string[] {
  const out: string[] = [];
  for (const m of ACTION_MATCHES) for (const a of ACTION_LISTS) out.push(`${m ? m + "," : ""}actions=${a}`);
  return out;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Deterministic damaged copies of `b`: truncated to whole 8-byte units, and single bytes changed. */
export function mutations(b: Uint8Array, r: () => number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (b.length > 8) out.push(b.subarray(0, (b.length - 8) & ~7));
  for (let i = 0; i < n && b.length > 0; i++) {
    const c = Uint8Array.from(b);
    const at = Math.floor(r() * c.length);
    c[at] = r() < 0.5 ? c[at]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
    out.push(c);
  }
  return out;
}

const INSTRUCTIONS = ["meter", "clear_actions", "write_actions", "write_metadata", "goto_table"];

/**
 * Hex input lines for `parse-actions` and `parse-instructions` in OpenFlow
 * version `v` (wire number): every corpus action list as tsovs encodes it,
 * or (`damaged`) truncated and byte-changed copies of each.
 */
export function wireActionLines(v: number, damaged = true): { actions: string[]; instructions: string[] } {
  const texts = [...new Set([...ACTION_CORPUS.map((c) => c.a), ...setFieldCorpus().map((c) => c.a), ...ACTION_LISTS])];
  const r = rng(v * 7919);
  const actions: string[] = ["# generated", ""];
  const instructions: string[] = [];
  for (const t of texts) {
    const list = parseActions(t);
    if (isTextError(list)) continue;
    const a = encodeActions(list.filter((x) => !INSTRUCTIONS.includes(x.type)), v);
    if (!isTextError(a) && a.length) for (const b of damaged ? mutations(a, r, 2) : [a]) actions.push(hex(b));
    if (v === 1) continue;
    const ins = encodeInstructions(list, v);
    if (!isTextError(ins) && ins.length) {
      for (const b of damaged ? mutations(ins, r, 2) : [ins]) instructions.push(hex(b));
      // A table id first: goto_table must then go forward from it.
      if (!damaged && list.some((x) => x.type === "goto_table")) instructions.push(`7,${hex(ins)}`);
    }
  }
  return { actions, instructions };
}
