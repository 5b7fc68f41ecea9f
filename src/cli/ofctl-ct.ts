/**
 * `ct-flush SWITCH [zone=N] [ORIG_TUPLE [REPLY_TUPLE]]`: the conntrack
 * flush request (NXT_CT_FLUSH) with tuples written as ovs-ofctl takes them
 * (ct_nw_src/dst, ct_ipv6_src/dst, ct_nw_proto, ct_tp_src/dst, icmp_id,
 * icmp_type, icmp_code) and ovs-ofctl's messages for bad text.
 */
import * as net from "node:net";
import { AF_INET, AF_INET6, emptyCtTuple, type CtFlushBody, type CtTuple } from "../openflow/ofp-ct.js";
import { allocXid } from "../openflow/vconn.js";
import { Fatal } from "./ofctl-common.js";
import { msg, type Run } from "./ofctl-switch.js";

function ipv4Mapped(s: string): Uint8Array | null {
  if (net.isIPv4(s) === false) return null;
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  s.split(".").forEach((x, i) => (b[12 + i] = Number(x)));
  return b;
}

function ipv6Bytes(s: string): Uint8Array | null {
  if (!net.isIPv6(s)) return null;
  const [head, tail] = s.includes("::") ? s.split("::") as [string, string] : [s, null];
  const parse = (t: string): number[] => (t === "" ? [] : t.split(":").flatMap((g) => {
    if (g.includes(".")) {
      const p = g.split(".").map(Number);
      return [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    }
    return [parseInt(g, 16)];
  }));
  const h = parse(head);
  const t = tail === null ? [] : parse(tail);
  const groups = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

interface TupleParse {
  tuple: CtTuple;
  family: number;
  proto: number | null;
}

function uintIn(s: string, max: number): number | null {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(s)) return null;
  const v = Number(s);
  return v <= max ? v : null;
}

/** One tuple's text; `family`/`proto` carry what earlier text established. */
function parseTuple(text: string, family: number, proto: number | null): TupleParse {
  const tuple = emptyCtTuple();
  const bad = (why: string): never => {
    throw new Fatal(`Failed to parse ct-tuple: ${why}`);
  };
  for (const part of text.split(/[,\s]+/).filter((x) => x !== "")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    if (eq < 0 || value === "") bad(`field ${key} missing value`);
    switch (key) {
      case "ct_nw_src":
      case "ct_nw_dst":
      case "ct_ipv6_src":
      case "ct_ipv6_dst": {
        const v6 = key.startsWith("ct_ipv6");
        const addr = v6 ? ipv6Bytes(value) : ipv4Mapped(value);
        if (!addr) bad(`failed to parse field ${key}`);
        const fam = v6 ? AF_INET6 : AF_INET;
        if (family && family !== fam) bad(`the L3 protocol does not match ${value}`);
        family = fam;
        if (key.endsWith("src")) tuple.src = addr!;
        else tuple.dst = addr!;
        break;
      }
      case "ct_nw_proto": {
        const p = uintIn(value, 255);
        if (p === null) bad(`failed to parse field ${key}`);
        proto = p;
        break;
      }
      case "ct_tp_src":
      case "ct_tp_dst": {
        const p = uintIn(value, 0xffff);
        if (p === null) bad(`failed to parse field ${key}`);
        if (key === "ct_tp_src") tuple.srcPort = p!;
        else tuple.dstPort = p!;
        break;
      }
      case "icmp_id":
      case "icmp_type":
      case "icmp_code": {
        if (proto !== 1 && proto !== 58) bad("invalid L4 fields");
        const p = uintIn(value, key === "icmp_id" ? 0xffff : 0xff);
        if (p === null) bad(`failed to parse field ${key}`);
        if (key === "icmp_id") tuple.srcPort = p!;
        else if (key === "icmp_type") tuple.dstPort = (tuple.dstPort & 0xff00) | p!;
        else tuple.dstPort = (tuple.dstPort & 0xff) | (p! << 8);
        break;
      }
      default:
        bad(`invalid conntrack tuple field: ${key}`);
    }
  }
  return { tuple, family, proto };
}

export const cmdCtFlush: Run = async (sess, [name, ...rest]) => {
  let zoneId: number | null = null;
  if (rest[0]?.startsWith("zone=")) {
    const z = rest.shift()!.slice(5);
    if (!/^[0-9]+$/.test(z)) throw new Fatal("Failed to parse zone");
    zoneId = Number(z) & 0xffff;
  }
  let family = 0;
  let proto: number | null = null;
  let orig = emptyCtTuple();
  let reply = emptyCtTuple();
  if (rest[0] !== undefined) {
    const o = parseTuple(rest[0], family, proto);
    ({ tuple: orig, family, proto } = o);
  }
  if (rest[1] !== undefined) {
    const r = parseTuple(rest[1], family, proto);
    ({ tuple: reply, family, proto } = r);
  }
  const body: CtFlushBody = { zoneId, ipProto: proto ?? 0, family, orig, reply };
  const v = await sess.open(name!);
  try {
    await sess.noreply(v, [msg({ type: "NXT_CT_FLUSH", version: v.version, xid: allocXid(), body })]);
  } finally {
    v.close();
  }
};
