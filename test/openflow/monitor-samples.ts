/** Sample flow-monitor bodies for OpenFlow 1.3 (ONF) and 1.4+ for `samples.ts`. */
import type { FlowMonitorRequest14Body, FlowMonitorReply14Body, FlowUpdate14 } from "../../src/openflow/index.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";
import { matchOf } from "./flow-samples.js";

function actionsOf(text: string) {
  const a = parseActions(text);
  if ("error" in a) throw new Error(`${text}: ${a.error}`);
  return a;
}

export function monitorRequest14Samples(): FlowMonitorRequest14Body[] {
  return [
    {
      requests: [
        { id: 1, command: 0, flags: 0x5f, outPort: 0xffff, outGroup: 0xffffffff, tableId: 0xff, match: matchOf("") },
        { id: 77, command: 1, flags: 0x6, outPort: 3, outGroup: 5, tableId: 2, match: matchOf("tcp,tp_dst=80") },
        { id: 0xffffffff, command: 0, flags: 0x49, outPort: 0xfffe, outGroup: 0, tableId: 0, match: matchOf("reg0=5,ip") },
        { id: 9, command: 2, flags: 0, outPort: 0xffff, outGroup: 0xffffffff, tableId: 0xff, match: matchOf("") },
      ],
    },
    { requests: [] },
  ];
}

export function monitorReply14Samples(): FlowMonitorReply14Body[] {
  const full = (event: 0 | 1 | 2 | 3, m: string, a: string, over: Record<string, unknown> = {}): FlowUpdate14 =>
    ({ event, reason: 0, priority: 0x8000, idleTimeout: 0, hardTimeout: 0, tableId: 0, cookie: 0n, match: matchOf(m), actions: actionsOf(a), ...over }) as FlowUpdate14;
  return [
    {
      updates: [
        full(0, "tcp,tp_dst=80", "output:1", { priority: 100, idleTimeout: 5, hardTimeout: 10, tableId: 3, cookie: 0x12n }),
        full(1, "ip", "resubmit(,2),goto_table:5"),
        full(2, "", "", { reason: 2 }),
        full(2, "arp", "drop", { reason: 9 }),
        full(3, "ipv6", "write_actions(output:3)", { cookie: 0xffffffffffffffffn }),
        { event: 4, xid: 0x1234 },
        { event: 5 },
        { event: 6 },
      ],
    },
    { updates: [] },
  ];
}
