/**
 * Start-up warm-up of the OpenFlow paths that a large flow table runs:
 * decoding and adding flow_mods, and encoding flow stats replies.
 *
 * Why: V8 interprets new code and compiles the hot functions only after
 * watching them run. A fresh switch therefore spent about a third of its
 * first `dump-flows` of a big table compiling the encoder on V8's
 * background threads, which competed with ovs-ofctl for the machine's
 * cores (bench openflow: the first dump of 91,385 flows took 650–690 ms
 * of CPU, a second one about 500). OVS's C switch has no such cost.
 *
 * What: once per process, before the switch opens its sockets, a scratch
 * bridge (no ports, no datapath) listens on a scratch Unix socket (on
 * tmpfs when there is one), and an in-process client sends it, in
 * OpenFlow 1.0 with NXM and again in OpenFlow 1.3, a few thousand
 * flow_mods each followed by a barrier, as ovs-ofctl sends them, dumps
 * them back as ovs-ofctl dump-flows asks, and deletes them. The flows mix
 * the matches and actions common in OVS pipelines, so that V8 compiles
 * the general paths rather than one shape. Nothing of it outlives the
 * warm-up: the bridge is closed and the directory removed.
 *
 * Cost, on the 2-core development VM: about 1.1 s from start to end and
 * 2 s of CPU (V8's compiler threads included). TSOVS_OFPROTO_WARMUP=0 in
 * the environment skips it (short-lived switches, e.g. in tests).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeMessage, type OfpMessage } from "../openflow/ofp-msgs.js";
import { parseFlowText } from "../openflow/ofp-flow-parse.js";
import { allocXid, Vconn } from "../openflow/vconn.js";
import { bitmapOf } from "../openflow/ofp-version.js";
import { vlogModule } from "../util/vlog.js";
import { ALL_OFP_VERSIONS } from "./connmgr.js";
import { Ofproto } from "./ofproto.js";

const log = vlogModule("ofproto");

/** Flows per pass (one pass per protocol). */
const FLOWS_PER_PASS = 2500;
/** Flow_mods (each with its barrier) sent before waiting for the replies. */
const WINDOW = 50;

/** Flow `i` of a pass: matches and actions of the kinds OVS pipelines use, values varying with `i`. */
function warmFlow(i: number): string {
  const a = (i >> 8) & 0xff;
  const b = i & 0xff;
  const mac = `00:00:00:00:${a.toString(16).padStart(2, "0")}:${b.toString(16).padStart(2, "0")}`;
  const t = i % 8;
  switch (t) {
    case 0:
      return `table=0,in_port=${1 + (i % 4)},dl_src=${mac},actions=resubmit(,1)`;
    case 1:
      return `table=1,tcp,nw_src=10.${a}.${b}.1,nw_dst=10.0.0.0/16,tp_dst=${1 + (i % 1000)},actions=mod_dl_dst:${mac},output:2`;
    case 2:
      return `table=1,udp,reg0=0x${i.toString(16)},metadata=0x${(i % 16).toString(16)},nw_dst=192.168.${a}.${b},tp_src=53,actions=load:0x${(i % 7).toString(16)}->NXM_NX_REG1[],resubmit(,2)`;
    case 3:
      return `table=2,ip,reg14=0x${(i % 4096).toString(16)},nw_src=172.16.${a}.${b},nw_ttl=64,actions=dec_ttl,set_field:10.1.${a}.${b}->ip_dst,goto_table:3`;
    case 4:
      return `table=3,arp,arp_spa=10.${a}.${b}.2,arp_op=1,dl_vlan=${1 + (i % 4000)},actions=strip_vlan,move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:1`;
    case 5:
      return `table=4,ipv6,ipv6_src=2001:db8::${i.toString(16)},dl_dst=${mac},actions=set_field:${mac}->eth_src,output:3`;
    case 6:
      return `table=5,ct_state=+trk+est,ip,reg15=0x${i.toString(16)},actions=ct(zone=${i % 100}),resubmit(,6)`;
    default:
      return `table=6,icmp,icmp_type=8,nw_dst=10.2.${a}.${b},cookie=0x${i.toString(16)},actions=push_vlan:0x8100,set_field:${4096 | (i % 4000)}->vlan_vid,output:4`;
  }
}

/** Distinct flows parsed from text; the pass repeats them at other priorities (parsing text costs more than the switch's work). */
const TEMPLATES = 64;

/** The flow_mod messages of one pass, for `version` (1: NXM flow mods, else OpenFlow's own). */
function passFlowMods(version: number): Uint8Array[] {
  const bodies = [];
  for (let i = 0; i < TEMPLATES; i++) {
    const p = parseFlowText(warmFlow(i), 0);
    if (!p.ok) throw new Error(`warm-up flow ${i}: ${p.error}`);
    bodies.push(p.fm);
  }
  const type = version === 1 ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD";
  const out: Uint8Array[] = [];
  for (let i = 0; i < FLOWS_PER_PASS; i++) {
    const body = { ...bodies[i % TEMPLATES]!, priority: 1000 + Math.floor(i / TEMPLATES), tid: true };
    out.push(encodeMessage({ type, version, xid: allocXid(), body } as OfpMessage));
  }
  return out;
}

/** One pass in `version`: add every flow (flow_mod + barrier each), dump them all `dumps` times, delete them all. */
async function warmPass(sock: string, version: number, dumps: number): Promise<void> {
  const v = await Vconn.open(`unix:${sock}`, bitmapOf([version]));
  try {
    if (version === 1) {
      // As ovs-ofctl sets up OpenFlow 1.0 for NXM flows in several tables.
      await v.transactNoreply(encodeMessage({ type: "NXT_SET_FLOW_FORMAT", version, xid: allocXid(), body: { format: 2 } }));
      await v.transactNoreply(encodeMessage({ type: "NXT_FLOW_MOD_TABLE_ID", version, xid: allocXid(), body: { enable: true } }));
    }
    const mods = passFlowMods(version);
    for (let i = 0; i < mods.length; i += WINDOW) {
      const window = mods.slice(i, i + WINDOW);
      const last = window.pop()!;
      for (const m of window) {
        v.send(m);
        v.sendMessage({ type: "OFPT_BARRIER_REQUEST", version, xid: allocXid(), body: {} });
      }
      const err = await v.transactNoreply(last);
      if (err !== null) throw new Error("warm-up flow_mod rejected");
    }
    const all = parseFlowText("", -1);
    if (!all.ok) throw new Error(all.error);
    const q = all.fm;
    const request = {
      type: version === 1 ? "NXST_FLOW_REQUEST" : "OFPST_FLOW_REQUEST", version, xid: allocXid(),
      body: { match: q.match, tableId: q.tableId, outPort: q.outPort, outGroup: q.outGroup, cookie: q.cookie, cookieMask: q.cookieMask },
    } as OfpMessage;
    // Several dumps: V8 compiles a function that runs often, and a dump
    // calls its table walk once per table.
    for (let d = 0; d < dumps; d++) {
      let replies = 0;
      for await (const _ of v.dumpStats(encodeMessage(request))) replies++;
      if (replies === 0) throw new Error("warm-up dump got no reply");
    }
    const del = parseFlowText("", 3);
    if (!del.ok) throw new Error(del.error);
    await v.transactNoreply(encodeMessage({ type: version === 1 ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD", version, xid: allocXid(), body: { ...del.fm, tid: true } } as OfpMessage));
  } finally {
    v.close();
  }
}

let done = false;

/** Runs the warm-up once per process (see the module comment); never throws: a failure is logged and skipped. */
export async function warmUpOfproto(): Promise<void> {
  if (done || process.env["TSOVS_OFPROTO_WARMUP"] === "0") return;
  done = true;
  const base = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  let dir: string | null = null;
  let ofp: Ofproto | null = null;
  try {
    dir = fs.mkdtempSync(path.join(base, "tsovs-ofwarm-"));
    ofp = new Ofproto("warm-up", { allowedVersions: ALL_OFP_VERSIONS });
    const sock = path.join(dir, "warm-up.mgmt");
    await ofp.connmgr.setManagementSocket(sock);
    // OpenFlow 1.0 last: what ovs-ofctl speaks unless told otherwise, so
    // the code V8 is left with has seen its kinds of objects last.
    await warmPass(sock, 4, 2);
    await warmPass(sock, 1, 4);
  } catch (e) {
    log.warn(`warm-up skipped: ${(e as Error).message}`);
  } finally {
    ofp?.close();
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
  }
}
