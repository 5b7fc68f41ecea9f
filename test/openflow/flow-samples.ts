/**
 * Sample bodies of the flow messages (flow_mod, flow/aggregate statistics)
 * for `samples.ts`: matches and actions written in flow syntax, chosen per
 * version so every sample is expressible in the wire form of that version.
 */
import {
  type AggregateReplyBody,
  COOKIE_NONE,
  FF_CHECK_OVERLAP,
  FF_NO_BYT_COUNTS,
  FF_NO_PKT_COUNTS,
  FF_RESET_COUNTS,
  FF_SEND_FLOW_REM,
  type FlowModBody,
  type FlowStatsRequestBody,
  type FlowStats,
  type FlowRemovedBody,
  type GroupModBody,
  type GroupDesc,
  type Bucket,
  type FlowMonitorRequest,
  type FlowUpdate,
  type Match,
  OFPG_ANY,
  OFPP_NONE,
  parseMatch,
} from "../../src/openflow/index.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";

export function matchOf(text: string): Match {
  const r = parseMatch(text);
  if (!r.ok) throw new Error(`${text}: ${r.error}`);
  return r.match;
}

function actionsOf(text: string) {
  const a = parseActions(text);
  if ("error" in a) throw new Error(`${text}: ${a.error}`);
  return a;
}

function fm(over: Partial<FlowModBody> & { m: string; a: string }): FlowModBody {
  const { m, a, ...rest } = over;
  return {
    command: 0, tableId: 0, match: matchOf(m), priority: 0x8000, cookie: 0n, cookieMask: 0n, newCookie: 0n,
    idleTimeout: 0, hardTimeout: 0, importance: 0, bufferId: 0xffffffff, outPort: OFPP_NONE, outGroup: OFPG_ANY, flags: 0,
    actions: actionsOf(a), ...rest,
  };
}

export function flowModSamples(v: number, nx: boolean): FlowModBody[] {
  const std10 = v === 1 && !nx;
  const out: FlowModBody[] = [
    fm({ m: "tcp,nw_src=10.0.0.0/8,tp_dst=80", a: "output:3", priority: 100, newCookie: 0x1234n, idleTimeout: 10, hardTimeout: 60, flags: FF_SEND_FLOW_REM | FF_CHECK_OVERLAP | (v <= 2 ? FF_RESET_COUNTS : 0) }),
    fm({ m: "in_port=1,dl_src=00:11:22:33:44:55,dl_vlan=5", a: "strip_vlan", command: 3, tableId: v === 1 ? 255 : 255, outPort: 7 }),
    fm({ m: "arp,arp_tpa=192.168.0.1", a: "mod_dl_src:00:00:00:00:00:01,NORMAL", command: 1, tableId: 5, newCookie: v === 1 || nx ? 7n : COOKIE_NONE, bufferId: 0x55 }),
    fm({ m: "udp,tp_src=53", a: "output:2", command: 2, priority: 7, tableId: 0 }),
  ];
  if (!std10) {
    out.push(fm({ m: "ipv6,ipv6_src=2001:db8::/32,reg0=0x5/0xff", a: "resubmit(,3),dec_ttl", command: 4, cookie: 0x10n, cookieMask: 0xf0n, newCookie: COOKIE_NONE, tableId: 2 }));
    out.push(fm({ m: "ct_state=+trk+new,tcp", a: "ct(commit,zone=5),output:1", priority: 200 }));
  }
  if (v >= 2 && !nx) {
    out.push(fm({ m: "ip", a: "write_metadata:0x5/0xff,goto_table:3", tableId: 1 }));
    out.push(fm({ m: "", a: "", command: 3, tableId: v >= 3 ? 255 : 0, outGroup: 9, cookie: 0n, cookieMask: 0n, newCookie: COOKIE_NONE }));
  }
  if (v >= 4 && !nx) out.push(fm({ m: "icmp", a: "meter:2,output:4", flags: FF_NO_PKT_COUNTS | FF_NO_BYT_COUNTS | FF_RESET_COUNTS, importance: v >= 5 ? 9 : 0 }));
  return out;
}

export function flowStatsRequestSamples(v: number, nx: boolean): FlowStatsRequestBody[] {
  const out: FlowStatsRequestBody[] = [
    { match: matchOf(""), tableId: 0xff, outPort: OFPP_NONE, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n },
    { match: matchOf("tcp,tp_dst=22"), tableId: 3, outPort: 2, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n },
  ];
  if (v > 1 || nx) out.push({ match: matchOf("ipv6,reg3=7"), tableId: 0, outPort: 0xfffe, outGroup: v > 1 && !nx ? 4 : OFPG_ANY, cookie: 0x100n, cookieMask: 0xff00n });
  return out;
}

export const aggregateReplySamples = (): AggregateReplyBody[] => [
  { packetCount: 123n, byteCount: 45678n, flowCount: 3 },
  { packetCount: 0xffffffffffffffffn, byteCount: 0n, flowCount: 0 },
];

export function flowStatsReplySamples(v: number, nx: boolean): { stats: FlowStats[] }[] {
  const base = (over: Partial<FlowStats> & { m: string; a: string }): FlowStats => {
    const { m, a, ...rest } = over;
    return {
      tableId: 0, durationSec: 5, durationNsec: 0, priority: 0x8000, idleTimeout: 0, hardTimeout: 0, flags: 0, importance: 0,
      idleAge: -1, hardAge: -1, cookie: 0n, packetCount: 10n, byteCount: 600n, match: matchOf(m), actions: actionsOf(a), ...rest,
    };
  };
  const std10 = v === 1 && !nx;
  const a: FlowStats[] = [
    base({ m: "tcp,tp_dst=80", a: "output:1", priority: 100, durationSec: 12, durationNsec: 345000000, idleTimeout: 60, cookie: 0xabn }),
    base({ m: "", a: "drop", tableId: 3, hardTimeout: 30, durationNsec: 123 }),
  ];
  if (!std10) a.push(base({ m: "ipv6,reg1=5", a: "resubmit(,4)", flags: v >= 4 && !nx ? FF_SEND_FLOW_REM | FF_NO_BYT_COUNTS : 0, importance: v >= 5 && !nx ? 7 : 0 }));
  if (nx) a.push(base({ m: "arp", a: "NORMAL", idleAge: 3, hardAge: 9, durationSec: 9 }), base({ m: "ip", a: "drop", idleAge: 0, hardAge: 2 }));
  if (v >= 2 && !nx) a.push(base({ m: "ip", a: "write_actions(output:3),goto_table:5", tableId: 1 }));
  return [{ stats: a }, { stats: [] }];
}

export function flowRemovedSamples(v: number, nx: boolean): FlowRemovedBody[] {
  const fr = (m: string, over: Partial<FlowRemovedBody>): FlowRemovedBody => ({
    match: matchOf(m), priority: 0x8000, reason: 0, tableId: v === 1 && !nx ? 255 : 0, cookie: 0n, durationSec: 3, durationNsec: 0,
    idleTimeout: 10, hardTimeout: 0, packetCount: 5n, byteCount: 300n, ...over,
  });
  const out = [
    fr("tcp,tp_dst=80", { priority: 100, reason: 1, cookie: 0x77n, durationNsec: 500000000 }),
    fr("", { reason: 2, idleTimeout: 0, durationNsec: 1 }),
    fr("arp", { reason: 9 }),
  ];
  if (v > 1 || nx) out.push(fr("ipv6,reg2=3", { reason: 3, tableId: 4, hardTimeout: v > 1 && !nx ? 30 : 0 }), fr("ip", { reason: 5, tableId: 254 }));
  if (nx) out.push(fr("ip", { reason: 4, tableId: 255 }));
  return out;
}

export function groupModSamples(v: number): GroupModBody[] {
  const b = (a: string, over: Partial<Bucket> = {}): Bucket => ({ weight: 0, watchPort: 0xffff, watchGroup: 0xffffffff, actions: actionsOf(a), ...over });
  return [
    { command: 0, type: 0, groupId: 1, buckets: [b("output:1"), b("output:2,mod_vlan_vid:5")] },
    { command: 1, type: 1, groupId: 2, buckets: [b("output:3", { weight: 1 }), b("output:4", { weight: 50 })] },
    { command: 2, type: 2, groupId: 0xfffffffc, buckets: [] },
    { command: 0x8000, type: 3, groupId: 7, buckets: [b("output:5", { watchPort: 5 }), b("drop", { watchGroup: 9, watchPort: 0xfffe })] },
    { command: 0, type: 2, groupId: 8, buckets: [b(v === 2 ? "output:1" : "set_field:10.0.0.1->ip_dst")] },
    { command: 3, type: 0, groupId: 9, buckets: [b("output:6")] },
    { command: 5, type: 0, groupId: 9, buckets: [] },
  ];
}

export function groupDescSamples(v: number): { groups: GroupDesc[] }[] {
  return [{ groups: groupModSamples(v).filter((g) => g.command === 0 || g.command === 1).map(({ groupId, type, buckets }) => ({ groupId, type, buckets })) }, { groups: [] }];
}

export function flowMonitorRequestSamples(): { requests: FlowMonitorRequest[] }[] {
  return [
    {
      requests: [
        { id: 1, flags: 0x3f, outPort: 0xffff, tableId: 0xff, match: matchOf("") },
        { id: 77, flags: 0x6, outPort: 3, tableId: 2, match: matchOf("tcp,tp_dst=80") },
        { id: 0xffffffff, flags: 0x9, outPort: 0xfffe, tableId: 0, match: matchOf("reg0=5,ip") },
      ],
    },
    { requests: [] },
  ];
}

export function flowMonitorReplySamples(): { updates: FlowUpdate[] }[] {
  const full = (event: 0 | 1 | 2, m: string, a: string, over: Partial<FlowUpdate> = {}): FlowUpdate =>
    ({ event, reason: 0, priority: 0x8000, idleTimeout: 0, hardTimeout: 0, tableId: 0, cookie: 0n, match: matchOf(m), actions: actionsOf(a), ...over }) as FlowUpdate;
  return [
    {
      updates: [
        full(0, "tcp,tp_dst=80", "output:1", { priority: 100, idleTimeout: 5, hardTimeout: 10, tableId: 3, cookie: 0x12n } as Partial<FlowUpdate>),
        full(1, "", "", { reason: 2 } as Partial<FlowUpdate>),
        full(1, "arp", "drop", { reason: 9 } as Partial<FlowUpdate>),
        full(2, "ip", "resubmit(,2)"),
        { event: 3, xid: 0x1234 },
      ],
    },
    { updates: [] },
  ];
}
