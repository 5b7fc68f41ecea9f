/**
 * Text of conntrack entries as `dpctl/dump-conntrack` prints them (OVS's
 * ct_dpif_format_entry as the netdev datapath fills entries): the
 * protocol, the original and reply tuples, the zone, with `-s` the
 * timeout, the mark and labels, the TCP protocol info (one coalesced
 * state, or with `-m` both peers' states, window scales and flags), the
 * helper.
 */
import { CtConn, CtTuple, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "./conntrack.js";
import { TCP_STATE_NAMES, TCPS_ESTABLISHED, TCPS_FIN_WAIT_2, TCPS_SYN_RECV, TCPS_TIME_WAIT, tcpPeerFlags, tcpPeerWscale } from "./conntrack-tcp.js";

export function protoName(p: number): string {
  switch (p) {
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_SCTP: return "sctp";
    case 136: return "udplite";
    case 33: return "dccp";
    case 2: return "igmp";
    default: return String(p);
  }
}

function ip4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** RFC 5952 text of an IPv6 address given as four big-endian words. */
export function ip6(w: Uint32Array): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push(w[i]! >>> 16, w[i]! & 0xffff);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${ip4(w[3]!)}`;
  }
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** One direction's tuple; ICMP shows id, type and code with or without -m (as OVS 3.1 prints them). */
export function formatTuple(t: CtTuple): string {
  let s = t.v6 ? `src=${ip6(t.src)},dst=${ip6(t.dst)}` : `src=${ip4(t.src[0]!)},dst=${ip4(t.dst[0]!)}`;
  if (t.proto === IPPROTO_ICMP || t.proto === IPPROTO_ICMPV6) {
    s += `,id=${t.sport},type=${t.stype},code=${t.scode}`;
  } else {
    s += `,sport=${t.sport},dport=${t.dport}`;
  }
  return s;
}

const TCP_FLAG_NAMES: readonly [number, string][] = [
  [1, "WINDOW_SCALE"], [2, "SACK_PERM"], [4, "CLOSE_INIT"], [8, "BE_LIBERAL"], [16, "UNACKED"], [32, "MAXACK_SET"],
  [64, "CHALLENGE_ACK"], [128, "SACK_PERM"],
];

function flagsText(f: number): string {
  if (f === 0) return "0";
  const out: string[] = [];
  for (const [bit, name] of TCP_FLAG_NAMES) if (f & bit) out.push(name);
  return out.join("|");
}

function stateName(s: number): string {
  return s < TCP_STATE_NAMES.length ? TCP_STATE_NAMES[s]! : `[${s}]`;
}

function labelsHex(l: Uint32Array): string {
  let s = "";
  for (let i = 0; i < 4; i++) s += l[i]!.toString(16).padStart(8, "0");
  return "0x" + (s.replace(/^0+/, "") || "0");
}

/** One dump-conntrack line (no newline). */
export function formatConn(c: CtConn, now: number, verbose: boolean, stats: boolean): string {
  let s = `${protoName(c.key.proto)},orig=(${formatTuple(c.key)}),reply=(${formatTuple(c.rev)})`;
  if (verbose) s += ",id=0";
  if (c.key.zone) s += `,zone=${c.key.zone}`;
  if (verbose) s += ",status=0";
  if (stats) {
    const left = c.expiration - now;
    s += `,timeout=${left > 0 ? Math.floor(left / 1000) : 0}`;
  }
  if (c.mark) s += `,mark=${c.mark >>> 0}`;
  if ((c.label[0]! | c.label[1]! | c.label[2]! | c.label[3]!) !== 0) s += `,labels=${labelsHex(c.label)}`;
  if (c.key.proto === IPPROTO_TCP) {
    const a = c.peer0, b = c.peer1;
    if (verbose) {
      s += `,protoinfo=(state_orig=${stateName(a.state)},state_reply=${stateName(b.state)}`;
      const wo = tcpPeerWscale(a), wr = tcpPeerWscale(b);
      if (wo || wr) s += `,wscale_orig=${wo},wscale_reply=${wr}`;
      s += `,flags_orig=${flagsText(tcpPeerFlags(a))},flags_reply=${flagsText(tcpPeerFlags(b))})`;
    } else {
      let st = Math.max(a.state, b.state);
      if (st === TCPS_FIN_WAIT_2) st = TCPS_TIME_WAIT;
      else if (st === TCPS_SYN_RECV) st = TCPS_ESTABLISHED;
      s += `,protoinfo=(state=${stateName(st)})`;
    }
  }
  if (c.helper !== null) s += `,helper=${c.helper}`;
  if (verbose && c.algRelated && c.parentKey !== null) s += `,parent=(${formatTuple(c.parentKey)})`;
  return s;
}
