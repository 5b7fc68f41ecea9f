/**
 * Benchmark of the datapath action executor (src/datapath/execute.ts):
 * batches of 32 TCP/IPv4 packets through typical action lists, ns/packet
 * and Mpps per list (executeActions alone is timed; refilling the batch is
 * not). Last line: one JSON object.
 */
import { DpPacketBatch, DpPacketPool, type DpPacket } from "../src/packet/dp-packet.js";
import { ExecContext } from "../src/datapath/exec-context.js";
import { executeActions } from "../src/datapath/execute.js";
import { parseOdpActions } from "../src/flow/odp-parse.js";
import { extractFlowKey } from "../src/flow/extract.js";
import { FLOW_U32S } from "../src/flow/key-layout.js";

function frame(): Uint8Array {
  const f = new Uint8Array(64);
  const hex = "66778899aabb001122334455080045000032000040004006" + "0000" + "0a0000010a000002" + "04d2005000000001000000005002200000000000";
  for (let i = 0; i < hex.length / 2; i++) f[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return f;
}

const LISTS: Record<string, string> = {
  output: "1",
  "set_ipv4_src+output": "set(ipv4(src=192.168.1.1)),1",
  "set_tcp_ports+output": "set(tcp(src=1,dst=2)),1",
  "push_vlan+output": "push_vlan(vid=5,pcp=0),1",
  "two_outputs(clone)": "1,2",
  "clone(set,output)+output": "clone(set(ipv4(ttl=1)),1),2",
};

const ROUNDS = Number(process.argv[2] ?? 20000);
const pool = new DpPacketPool(256, 2048);
const ctx = new ExecContext(pool);
const batch = new DpPacketBatch();
const key = new Uint32Array(FLOW_U32S);
const f = frame();
const results: Record<string, { nsPerPacket: number; mpps: number }> = {};

for (const [name, text] of Object.entries(LISTS)) {
  const acts = parseOdpActions(text);
  // Only executeActions is timed (two clock reads per 32-packet batch).
  const run = (rounds: number): number => {
    let t = 0n;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 32; i++) {
        const p = pool.alloc()!;
        p.setData(f);
        extractFlowKey(p, key);
        batch.add(p);
      }
      const t0 = process.hrtime.bigint();
      executeActions(ctx, batch, acts, 0, acts.length);
      t += process.hrtime.bigint() - t0;
      for (let i = 0; i < ctx.outCount; i++) (ctx.outPkt[i] as DpPacket).release();
      ctx.reset();
    }
    return Number(t);
  };
  run(Math.max(100, ROUNDS / 10)); // warm up
  const ns = run(ROUNDS) / (ROUNDS * 32);
  results[name] = { nsPerPacket: Math.round(ns * 10) / 10, mpps: Math.round((1000 / Math.max(ns, 0.001)) * 10) / 10 };
  console.log(`${name.padEnd(28)} ${results[name]!.nsPerPacket.toFixed(1).padStart(7)} ns/packet  ${results[name]!.mpps.toFixed(1).padStart(7)} Mpps (executor only)`);
}
console.log(JSON.stringify({ bench: "odp-execute", rounds: ROUNDS, batch: 32, results }));
