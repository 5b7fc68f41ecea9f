/** Sample NXT_CT_FLUSH bodies (IPv4, IPv6, ICMP, zones, empty tuples) for `samples.ts`. */
import { type CtFlushBody, emptyCtTuple, hexToBytes } from "../../src/openflow/index.js";

const v4 = (a: string): Uint8Array => hexToBytes("00000000000000000000ffff" + a.split(".").map((x) => Number(x).toString(16).padStart(2, "0")).join(""));

export function ctFlushSamples(): CtFlushBody[] {
  return [
    { zoneId: null, ipProto: 0, family: 0, orig: emptyCtTuple(), reply: emptyCtTuple() },
    { zoneId: 5, ipProto: 6, family: 2, orig: { src: v4("10.0.0.1"), dst: v4("10.0.0.2"), srcPort: 1234, dstPort: 80 }, reply: emptyCtTuple() },
    { zoneId: 0, ipProto: 17, family: 10, orig: emptyCtTuple(), reply: { src: hexToBytes("20010db8000000000000000000000001"), dst: hexToBytes("20010db8000000000000000000000002"), srcPort: 53, dstPort: 0 } },
    { zoneId: 65535, ipProto: 1, family: 2, orig: { src: v4("1.2.3.4"), dst: new Uint8Array(16), srcPort: 7, dstPort: (3 << 8) | 8 }, reply: { src: new Uint8Array(16), dst: v4("1.2.3.4"), srcPort: 7, dstPort: 0 } },
    { zoneId: null, ipProto: 58, family: 0, orig: emptyCtTuple(), reply: emptyCtTuple() },
  ];
}
