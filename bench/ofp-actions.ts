/**
 * Benchmark of the action codecs (src/openflow/ofp-actions-*): action lists
 * of OVN's shape (5 actions: set_field/load, move, ct or resubmit, output)
 * parsed from text, printed, encoded for OpenFlow 1.3 and decoded, per
 * second. Times are this process's CPU time (the machine is shared). Last
 * line: one JSON object.
 *
 * usage: npm run bench -- ofp-actions [iterations]
 */
import { decodeInstructions, encodeInstructions, formatActions, parseActions } from "../src/openflow/ofp-actions-codec.js";
import type { OfpAction } from "../src/openflow/ofp-actions.js";

const TEXTS = [
  "load:0x1->NXM_NX_REG10[0],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:00:00:00:00:00:01->eth_src,resubmit(,9),output:5",
  "set_field:0x5->reg15,set_field:0x3->metadata,ct(commit,zone=NXM_NX_REG13[0..15],nat(src=10.0.0.1)),dec_ttl,resubmit(,40)",
  "load:0->NXM_NX_REG0[],load:0x8->NXM_NX_REG14[],move:NXM_NX_XXREG0[96..127]->NXM_OF_IP_DST[],mod_dl_dst:aa:bb:cc:dd:ee:ff,output:NXM_NX_REG15[0..15]",
  "controller(userdata=00.00.00.0a.00.00.00.00,pause),set_field:10.0.0.1->ip_dst,ct_clear,set_field:0x1/0x1->xreg4,resubmit(,30)",
];

function cpuSeconds(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

const n = Number(process.argv[2] ?? 20_000);
const lists: OfpAction[][] = TEXTS.map((t) => {
  const r = parseActions(t);
  if ("error" in r) throw new Error(`${t}: ${r.error}`);
  return r;
});
const wires = lists.map((l) => {
  const b = encodeInstructions(l, 4);
  if ("error" in b) throw new Error(b.error);
  return b;
});

let sink = 0;
const parse = cpuSeconds(() => {
  for (let i = 0; i < n; i++) {
    const r = parseActions(TEXTS[i & 3]!);
    if (!("error" in r)) sink += r.length;
  }
});
const format = cpuSeconds(() => {
  for (let i = 0; i < n; i++) sink += formatActions(lists[i & 3]!).length;
});
const encode = cpuSeconds(() => {
  for (let i = 0; i < n; i++) {
    const b = encodeInstructions(lists[i & 3]!, 4);
    if (!("error" in b)) sink += b.length;
  }
});
const decode = cpuSeconds(() => {
  for (let i = 0; i < n; i++) {
    const d = decodeInstructions(wires[i & 3]!, 4);
    if (Array.isArray(d)) sink += d.length;
  }
});

const rate = (s: number): number => Math.round(n / s);
console.log(`action lists of 5: parse ${rate(parse)}/s, format ${rate(format)}/s, encode ${rate(encode)}/s, decode ${rate(decode)}/s (sink ${sink})`);
console.log(JSON.stringify({
  bench: "ofp-actions", iterations: n, actions_per_list: 5,
  parse_per_sec: rate(parse), format_per_sec: rate(format), encode_per_sec: rate(encode), decode_per_sec: rate(decode),
}));
