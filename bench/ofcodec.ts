/**
 * Benchmark of the OpenFlow codec with flows of OVN's size (10 match
 * fields, 5 actions): flow text parsed and printed per second, and
 * flow_mods encoded and decoded per second, for OpenFlow 1.3 (OXM) and
 * for the Nicira NXM form ovs-ofctl uses by default, and flows encoded
 * per second into a flow stats reply (a dump) in both forms. Times are this
 * process's CPU time (the machine is shared). Last line: one JSON object.
 *
 * usage: npm run bench -- ofcodec [flows]
 */
import { decodeMessage, encodeMessage, type OfpMessage } from "../src/openflow/ofp-msgs.js";
import { parseFlowText } from "../src/openflow/ofp-flow-parse.js";
import { blankStats, flowStatsText, OFPFC_ADD, type FlowModBody } from "../src/openflow/ofp-flow.js";

const N = Number(process.argv[2] ?? 5000);

/** Flow i: 10 match fields and 5 actions, as in OVN's logical pipelines. */
function flowText(i: number): string {
  const a = (i >> 8) & 0xff;
  const b = i & 0xff;
  const mac = `00:00:00:00:${a.toString(16).padStart(2, "0")}:${b.toString(16).padStart(2, "0")}`;
  const shapes = [
    `table=21,priority=${100 + (i % 50)},tcp,reg14=0x${(i % 4096).toString(16)},metadata=0x${(i % 64).toString(16)},dl_src=${mac},dl_dst=00:00:00:00:00:01,nw_src=10.${a}.${b}.1,nw_dst=10.0.0.2,nw_ttl=64,tp_dst=${1 + (i % 60000)}` +
      `,actions=load:0x1->NXM_NX_REG10[0],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:${mac}->eth_src,ct(commit,zone=NXM_NX_REG13[0..15]),resubmit(,22)`,
    `table=40,priority=${200 + (i % 50)},udp,reg15=0x${(i % 4096).toString(16)},reg13=0x${(i % 97).toString(16)},metadata=0x${(i % 64).toString(16)},dl_vlan=${1 + (i % 4000)},nw_src=192.168.${a}.${b},nw_dst=172.16.0.0/12,nw_tos=0,tp_src=${1 + (i % 60000)}` +
      `,actions=set_field:0x${(i % 4096).toString(16)}->reg15,set_field:0x3->metadata,dec_ttl,mod_dl_dst:${mac},output:${1 + (i % 100)}`,
    `table=9,priority=${50 + (i % 50)},ip,in_port=${1 + (i % 100)},reg0=0x${i.toString(16)}/0xffff,reg1=0x1,metadata=0x${(i % 64).toString(16)},dl_type=0x0800,nw_proto=6,nw_src=10.${a}.0.0/16,nw_dst=10.${b}.0.0/16,tp_dst=443` +
      `,actions=ct_clear,load:0->NXM_NX_REG0[],move:NXM_NX_XXREG0[96..127]->NXM_OF_IP_DST[],set_field:10.0.${a}.${b}->ip_dst,resubmit(,40)`,
  ];
  return shapes[i % shapes.length]!;
}

function cpuSeconds(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

/** Runs `f` repeatedly for about `budget` seconds of CPU; returns operations per second. */
function rate(ops: number, f: () => void, budget = 1.5): number {
  f(); // warm-up
  let total = 0;
  let n = 0;
  while (total < budget) {
    total += cpuSeconds(f);
    n++;
  }
  return Math.round((ops * n) / total);
}

const texts = Array.from({ length: N }, (_, i) => flowText(i));
const bodies: FlowModBody[] = texts.map((t) => {
  const r = parseFlowText(t, OFPFC_ADD);
  if (!r.ok) throw new Error(`${t}: ${r.error}`);
  return r.fm;
});
const stats = bodies.map((fm) => ({ ...blankStats(), tableId: fm.tableId, priority: fm.priority, match: fm.match, actions: fm.actions }));
const msgs = (version: number, nxm: boolean): OfpMessage[] =>
  bodies.map((body, i) => ({ type: nxm ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD", version, xid: i, body: { ...body, tid: true } }) as OfpMessage);
const of13 = msgs(4, false);
const nx = msgs(1, true);
const wire13 = of13.map((m) => encodeMessage(m));
const wireNx = nx.map((m) => encodeMessage(m));
for (const w of [...wire13, ...wireNx]) {
  const d = decodeMessage(w);
  if (!d.ok) throw new Error(`a flow_mod tsovs encoded does not decode: ${d.error}`);
}

let sink = 0;
const result = {
  bench: "ofcodec",
  flows: N,
  match_fields: 10,
  actions: 5,
  text_parse_per_s: rate(N, () => {
    for (const t of texts) sink += parseFlowText(t, OFPFC_ADD).ok ? 1 : 0;
  }),
  text_print_per_s: rate(N, () => {
    for (const s of stats) sink += flowStatsText(s).length;
  }),
  of13_encode_per_s: rate(N, () => {
    for (const m of of13) sink += encodeMessage(m).length;
  }),
  of13_decode_per_s: rate(N, () => {
    for (const w of wire13) sink += decodeMessage(w).ok ? 1 : 0;
  }),
  nxm_encode_per_s: rate(N, () => {
    for (const m of nx) sink += encodeMessage(m).length;
  }),
  nxm_decode_per_s: rate(N, () => {
    for (const w of wireNx) sink += decodeMessage(w).ok ? 1 : 0;
  }),
  // A dump: every flow in one flow stats reply (as ofproto encodes it before cutting it into messages).
  nxm_flow_stats_per_s: rate(N, () => {
    sink += encodeMessage({ type: "NXST_FLOW_REPLY", version: 1, xid: 1, body: { stats } }, Infinity).length;
  }),
  of13_flow_stats_per_s: rate(N, () => {
    sink += encodeMessage({ type: "OFPST_FLOW_REPLY", version: 4, xid: 1, body: { stats } }, Infinity).length;
  }),
  bytes_per_of13_flow_mod: Math.round(wire13.reduce((a, w) => a + w.length, 0) / N),
};
if (sink === -1) console.log("");
console.log(JSON.stringify(result));
