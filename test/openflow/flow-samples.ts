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
