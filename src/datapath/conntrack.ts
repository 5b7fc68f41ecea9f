/**
 * The userspace connection tracker (OVS 3.1's lib/conntrack.c with
 * conntrack-other.c and conntrack-icmp.c; TCP is in conntrack-tcp.ts):
 * what the datapath's `ct` action does.
 *
 * Connections are kept per zone, keyed by the original-direction tuple
 * (addresses, protocol, ports or ICMP id/type/code) and found from either
 * direction: each connection is indexed under its original tuple and its
 * reply tuple (which NAT may have rewritten). A packet through `ct` gets
 * ct_state (new/est/rel/rpl/inv/trk/snat/dnat computed as OVS does),
 * ct_zone, ct_mark, ct_label and the original tuple (ct_nw_proto,
 * ct_nw_src/dst or ct_ipv6_src/dst, ct_tp_src/dst); `commit` creates the
 * connection, `force` replaces one seen in the reply direction, `nat`
 * translates as the connection says, both ways, with checksums fixed.
 * Timeouts follow the netdev datapath's default policy; expired
 * connections are invisible to lookups and swept every five seconds
 * (counted until then, as OVS counts them).
 *
 * Per packet: parsing reads the frame in place into one preallocated
 * tuple; lookups walk a hash chain without allocating. Only creating a
 * connection allocates.
 *
 * ALGs: `tftp` (a request to port 69 lets the server answer from any
 * port: that connection is related, inherits mark and labels, and
 * carries the parent's tuple); `ftp` (PORT/EPRT commands and 227/229
 * replies announce the data connection, which is then related; a bad
 * announcement is invalid; the payload is not NATed).
 *
 * Per-zone connection limits (ct-limits.ts) are enforced when a
 * connection is committed: over its zone's limit (or over maxconns) the
 * packet stays +new and nothing is committed, as in OVS. TCP sequence
 * checking can be switched off (`tcpSeqChk`, dpctl/ct-disable-tcp-seq-chk).
 *
 * Fragments are reassembled in front of the tracker (ipf.ts, from the
 * `ct` action). Not done:
 * timeout policies other than the default, NAT of ALG-related
 * connections, the per-packet connection cache of pkt_metadata (every
 * `ct` does the full lookup).
 */
import type { DpPacket } from "../packet/dp-packet.js";
import { csumPartial, csumFinish, csumUpdate16, csumUpdate32 } from "../packet/checksum.js";
import { vlogModule } from "../util/vlog.js";
import {
  DEFAULT_TIMEOUTS, TcpPeer, TM_ICMP_FIRST, TM_ICMP_REPLY, TM_OTHER_BIDIR, TM_OTHER_FIRST, TM_OTHER_MULTIPLE,
  UPDATE_INVALID, UPDATE_NEW, UPDATE_VALID, UPDATE_VALID_NEW, tcpConnUpdate, tcpNewConn, tcpSeqChkBypassed, tcpUpdateTimeout, tcpValidNew,
} from "./conntrack-tcp.js";
import { get16 as rd16, get32 as rd32, set16 as wr16, set32 as wr32 } from "../packet/bytes.js";
import { hashAdd } from "../flow/key-ops.js";
import { CtZoneLimits, type ZoneLimit } from "./ct-limits.js";
import { Ipf } from "./ipf.js";

const log = vlogModule("conntrack");

/** ct_state bits (OVS_CS_F_*). */
export const CS_NEW = 0x01;
export const CS_ESTABLISHED = 0x02;
export const CS_RELATED = 0x04;
export const CS_REPLY_DIR = 0x08;
export const CS_INVALID = 0x10;
export const CS_TRACKED = 0x20;
export const CS_SRC_NAT = 0x40;
export const CS_DST_NAT = 0x80;

/** NAT action bits. */
export const NAT_SRC = 1;
export const NAT_DST = 2;
export const NAT_SRC_PORT = 4;
export const NAT_DST_PORT = 8;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;

const TFTP_PORT = 69;

/** How often expired connections are removed (OVS's clean interval). */
const SWEEP_INTERVAL_MS = 5000;

/** Default maximum number of connections (ct-get-maxconns). */
export const DEFAULT_MAX_CONNS = 3000000;

/** A connection tuple in one direction, with its zone. */
export class CtTuple {
  v6 = false;
  /** Addresses; IPv4 in word 0 (host order), IPv6 as four big-endian words. */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** TCP/UDP/SCTP ports; for ICMP both are the echo id. */
  sport = 0;
  dport = 0;
  /** ICMP type and code of each end (the reply type on the dst side). */
  stype = 0;
  scode = 0;
  dtype = 0;
  dcode = 0;
  proto = 0;
  zone = 0;

  copyFrom(o: CtTuple): void {
    this.v6 = o.v6;
    copy4(this.src, o.src);
    copy4(this.dst, o.dst);
    this.sport = o.sport;
    this.dport = o.dport;
    this.stype = o.stype;
    this.scode = o.scode;
    this.dtype = o.dtype;
    this.dcode = o.dcode;
    this.proto = o.proto;
    this.zone = o.zone;
  }

  /** Sets this to `o` seen from the other end. */
  reverseOf(o: CtTuple): void {
    this.v6 = o.v6;
    this.proto = o.proto;
    this.zone = o.zone;
    const s0 = o.src[0]!, s1 = o.src[1]!, s2 = o.src[2]!, s3 = o.src[3]!;
    copy4(this.src, o.dst);
    this.dst[0] = s0;
    this.dst[1] = s1;
    this.dst[2] = s2;
    this.dst[3] = s3;
    const sp = o.sport, st = o.stype, sc = o.scode;
    this.sport = o.dport;
    this.stype = o.dtype;
    this.scode = o.dcode;
    this.dport = sp;
    this.dtype = st;
    this.dcode = sc;
  }

  equals(o: CtTuple): boolean {
    const a = this.src, b = o.src, c = this.dst, d = o.dst;
    return this.proto === o.proto && this.zone === o.zone && this.sport === o.sport && this.dport === o.dport &&
      a[0] === b[0] && c[0] === d[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] &&
      c[1] === d[1] && c[2] === d[2] && c[3] === d[3] && this.v6 === o.v6 &&
      this.stype === o.stype && this.scode === o.scode && this.dtype === o.dtype && this.dcode === o.dcode;
  }

  hash(): number {
    let h = hashAdd(0x2545f491, this.zone | (this.proto << 16) | (this.v6 ? 1 << 24 : 0));
    for (let i = 0; i < 4; i++) {
      h = hashAdd(h, this.src[i]!);
      h = hashAdd(h, this.dst[i]!);
    }
    h = hashAdd(h, this.sport | (this.dport << 16));
    h = hashAdd(h, this.stype | (this.scode << 8) | (this.dtype << 16) | (this.dcode << 24));
    return h;
  }
}


/** The translation a `nat(...)` action asks for. */
export class NatSpec {
  action = 0;
  v6 = false;
  readonly minAddr = new Uint32Array(4);
  readonly maxAddr = new Uint32Array(4);
  minPort = 0;
  maxPort = 0;
  reset(): void {
    this.action = 0;
    this.v6 = false;
    this.minAddr.fill(0);
    this.maxAddr.fill(0);
    this.minPort = 0;
    this.maxPort = 0;
  }
}

const KIND_OTHER = 0;
const KIND_TCP = 1;
const KIND_ICMP4 = 2;
const KIND_ICMP6 = 3;

function kindOf(proto: number): number {
  return proto === IPPROTO_TCP ? KIND_TCP : proto === IPPROTO_ICMP ? KIND_ICMP4 : proto === IPPROTO_ICMPV6 ? KIND_ICMP6 : KIND_OTHER;
}

/** One tracked connection. */
export class CtConn {
  readonly key = new CtTuple();
  /** The reply-direction tuple (the reverse of key, NAT applied). */
  readonly rev = new CtTuple();
  mark = 0;
  readonly label = new Uint32Array(4);
  /** Expiry time, ms. */
  expiration = 0;
  /** Timeout class (TM_*). */
  tm = 0;
  kind = KIND_OTHER;
  /** TCP peers: original and reply direction. */
  readonly peer0 = new TcpPeer();
  readonly peer1 = new TcpPeer();
  /** State of an other/ICMP connection: 0 first, 1 multiple, 2 bidir (ICMP: 0 first, 1 reply). */
  state = 0;
  natAction = 0;
  helper: string | null = null;
  /** Created from an ALG expectation: related to `parentKey`'s connection. */
  algRelated = false;
  parentKey: CtTuple | null = null;
  /** Removed from the table. */
  dead = false;
  /** The zone limit record this connection was admitted under (it counts there), or null. */
  admitLimit: ZoneLimit | null = null;
}

/**
 * A connection an ALG expects (alg_exp_node): from `key`'s source (any
 * port) to its destination address and port; it will be related to
 * `parent`, whose mark and labels it inherits.
 */
class AlgExpectation {
  readonly key = new CtTuple();
  readonly parentKey = new CtTuple();
  parentMark = 0;
  readonly parentLabel = new Uint32Array(4);
  constructor(readonly parent: CtConn) {}
}

/** A hash-chain node: one direction of a connection. */
class CtNode {
  constructor(readonly tuple: CtTuple, readonly conn: CtConn, readonly reply: boolean, public next: CtNode | null) {}
}

/** Counters (coverage-style). */
export interface ConntrackStats {
  full: number;
  /** Commits refused by a zone limit (conntrack_zone_full). */
  zoneFull: number;
  /** TCP segments let through unchecked because sequence checking is off. */
  tcpSeqChkBypass: number;
  natExhausted: number;
  l3CsumErr: number;
  l4CsumErr: number;
}


const FTP_PORT = 21;
/** Bytes of an FTP control segment looked at (LARGEST_FTP_MSG_OF_INTEREST). */
const FTP_MSG_MAX = 128;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
function skipNonDigits(m: string, i: number): number {
  while (i < m.length && !isDigit(m[i])) i++;
  return i;
}
/** Digits at `i` (at most `max` + 1 of them, as OVS reads them), or -1. */
function readNumber(m: string, i: number, max: number): [number, number] {
  let j = i;
  while (j < m.length && isDigit(m[j]) && j - i <= max) j++;
  if (j === i) return [-1, j];
  return [Number(m.slice(i, j)), j];
}
function parseDottedQuad(t: string): number {
  const p = t.split(".");
  if (p.length !== 4) return -1;
  let a = 0;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return -1;
    a = a * 256 + Number(x);
  }
  return a;
}

/** The port an IPv4 FTP announcement (PORT a,b,c,d,p1,p2 or a 227 reply) names, or -1 when it is invalid. */
function ftpParseV4(m: string, conn: CtConn): number {
  const active = m.startsWith("PORT");
  let i = m.indexOf(" ", active ? 4 : 3);
  if (i < 0) return -1;
  i = skipNonDigits(m, i);
  if (i >= m.length) return -1;
  // a,b,c,d: the first three commas are dots.
  let t = "";
  let commas = 0;
  let j = i;
  for (; j < m.length; j++) {
    let c = m[j]!;
    if (c === "," && commas < 3) {
      c = ".";
      commas++;
    }
    if (!isDigit(c) && c !== ".") break;
    t += c;
  }
  const addr = parseDottedQuad(t);
  if (addr < 0) return -1;
  const [hi, k] = readNumber(m, j + 1, 3);
  if (hi < 0 || hi > 255) return -1;
  const [lo] = readNumber(m, k + 1, 8);
  if (lo < 0 || lo > 255) return -1;
  // The address must be one of this connection's (no third-party bounce).
  const rep = active ? conn.rev.dst[0]! : conn.key.dst[0]!;
  const own = active ? conn.key.src[0]! : conn.rev.src[0]!;
  if (addr >>> 0 !== own && addr >>> 0 !== rep) return -1;
  return (hi << 8) | lo;
}

/** The port an IPv6 FTP announcement (EPRT |2|addr|port| or an EPSV reply) names, or -1. */
function ftpParseV6(m: string, conn: CtConn): number {
  let i: number;
  let addr: Uint32Array | null = null;
  if (m.startsWith("EPRT")) {
    i = skipNonDigits(m, 4);
    if (m[i] !== "2" || isDigit(m[i + 1])) return -1;
    i += 2;
    let j = i;
    while (j < m.length && /[0-9A-F:.]/.test(m[j]!)) j++;
    addr = parseIpv6Words(m.slice(i, j));
    if (addr === null) return -1;
    i = j + 1;
  } else {
    i = m.indexOf("(");
    i = skipNonDigits(m, i < 0 ? m.length : i);
    if (!isDigit(m[i])) return -1;
  }
  const [v] = readNumber(m, i, 5);
  if (v < 0 || v > 65535) return -1;
  if (addr !== null) {
    const eq = (a: Uint32Array, b: Uint32Array): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
    if (!eq(addr, conn.rev.dst) && !eq(addr, conn.key.src)) return -1;
  }
  return v;
}

/** An IPv6 address in text as four words, or null. */
function parseIpv6Words(t: string): Uint32Array | null {
  let head = t, tail = "";
  const dc = t.indexOf("::");
  if (dc >= 0) {
    head = t.slice(0, dc);
    tail = t.slice(dc + 2);
    if (tail.includes("::")) return null;
  }
  const groups = (x: string): number[] | null => {
    if (x === "") return [];
    const out: number[] = [];
    const parts = x.split(":");
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (k === parts.length - 1 && p.includes(".")) {
        const q = parseDottedQuad(p);
        if (q < 0) return null;
        out.push(q >>> 16, q & 0xffff);
      } else if (/^[0-9A-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const h = groups(head), tl = groups(tail);
  if (h === null || tl === null) return null;
  const n = h.length + tl.length;
  if (dc < 0 ? n !== 8 : n > 7) return null;
  const all = [...h, ...new Array<number>(8 - n).fill(0), ...tl];
  const w = new Uint32Array(4);
  for (let k = 0; k < 4; k++) w[k] = ((all[2 * k]! << 16) | all[2 * k + 1]!) >>> 0;
  return w;
}

function clear4(a: Uint32Array): void {
  a[0] = a[1] = a[2] = a[3] = 0;
}
function copy4(a: Uint32Array, b: Uint32Array): void {
  a[0] = b[0]!;
  a[1] = b[1]!;
  a[2] = b[2]!;
  a[3] = b[3]!;
}

function reverseIcmpType(t: number): number {
  switch (t) {
    case 8: return 0;
    case 0: return 8;
    case 13: return 14;
    case 14: return 13;
    case 15: return 16;
    case 16: return 15;
    default: return 0;
  }
}
function reverseIcmp6Type(t: number): number {
  return t === 128 ? 129 : t === 129 ? 128 : 0;
}

/** The connection tracker of one datapath. */
export class Conntrack {
  /** Hash → chain of (tuple, connection, direction). */
  private readonly index = new Map<number, CtNode>();
  /** Every live connection, in creation order. */
  private readonly conns = new Set<CtConn>();
  maxConns = DEFAULT_MAX_CONNS;
  readonly timeouts: number[] = DEFAULT_TIMEOUTS.slice();
  readonly stats: ConntrackStats = { full: 0, zoneFull: 0, tcpSeqChkBypass: 0, natExhausted: 0, l3CsumErr: 0, l4CsumErr: 0 };
  /** Per-zone connection limits (dpctl/ct-set-limits). */
  readonly zoneLimits = new CtZoneLimits();
  /** TCP sequence checking (dpctl/ct-enable-tcp-seq-chk); on by default. */
  tcpSeqChk = true;
  /** Fragment reassembly in front of the tracker (ipf.ts; dpctl/ipf-*). */
  readonly ipf = new Ipf();
  private lastSweep = 0;
  /** ALG expectations (few; scanned only for packets that would open a connection). */
  private readonly expectations: AlgExpectation[] = [];
  /** The expectation the current packet matched, if any. */
  private algExp: AlgExpectation | null = null;

  /* per-packet scratch */
  private readonly pk = new CtTuple();
  private readonly inner = new CtTuple();
  private readonly tmp = new CtTuple();
  private related = false;
  /** Absolute offsets of the packet's L3/L4 headers and the L4 length, from the last extraction. */
  private l3 = 0;
  private l4 = 0;
  private l4Len = 0;
  private foundConn: CtConn | null = null;
  /** The last lookup missed but met the reply tuple of an expired NATed connection. */
  private foundStaleNat = false;
  private foundReply = false;

  /** Number of connections (expired ones not yet swept included, as OVS counts). */
  get nConns(): number {
    return this.conns.size;
  }

  /**
   * The `ct` action on one packet. `dlType` is the packet's ethertype
   * (0x0800 / 0x86dd; anything else is invalid); the packet's l3/l4
   * offsets must be set. `setMark`/`setLabel` are null when absent; the
   * label value and mask are four big-endian words.
   */
  execute(pkt: DpPacket, dlType: number, zone: number, commit: boolean, force: boolean,
    markVal: number, markMask: number, setMark: boolean, labelVal: Uint32Array | null, labelMask: Uint32Array | null,
    nat: NatSpec | null, helper: string | null, now: number): void {
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS || now < this.lastSweep) this.sweep(now);
    const key = this.pk;
    this.algExp = null;
    if (!this.extract(pkt, dlType, zone, key)) {
      pkt.ctState = CS_INVALID;
      this.writeMd(pkt, zone, null, null);
      return;
    }
    this.processOne(pkt, key, zone, commit || force, force, nat, helper, now);
    const conn = this.lastConn;
    if (conn !== null) {
      if (setMark) {
        pkt.ctMark = ((markVal & markMask) | (pkt.ctMark & ~markMask)) >>> 0;
        conn.mark = pkt.ctMark;
      }
      if (labelVal !== null && labelMask !== null) {
        for (let i = 0; i < 4; i++) {
          const m = labelMask[i]!;
          pkt.ctLabel[i] = ((labelVal[i]! & m) | (pkt.ctLabel[i]! & ~m)) >>> 0;
        }
        conn.label.set(pkt.ctLabel);
      }
      // TFTP: a request opens the way for the server's reply from any port.
      if (conn.helper !== null && key.proto === IPPROTO_UDP && key.dport === TFTP_PORT && conn.helper.startsWith("tftp")) {
        this.expect(conn, conn.key.sport, (pkt.ctState & CS_REPLY_DIR) !== 0);
      }
      // FTP: PORT/EPRT commands and 227/229 replies announce data connections.
      if (conn.helper !== null && key.proto === IPPROTO_TCP && (key.sport === FTP_PORT || key.dport === FTP_PORT) &&
        conn.helper.startsWith("ftp")) {
        this.ftpCtl(pkt, conn);
      }
    }
  }

  /**
   * An FTP control segment: PORT / EPRT (active) or a 227 / 229 reply
   * (passive) makes the announced port expected; an announcement that
   * does not parse, or names an address not of this connection, makes
   * the segment invalid. (No NAT of the payload.)
   */
  private ftpCtl(pkt: DpPacket, conn: CtConn): void {
    const b = pkt.buf;
    const l4 = this.l4;
    const data = l4 + (b[l4 + 12]! >>> 4) * 4;
    const end = Math.min(l4 + this.l4Len, data + FTP_MSG_MAX);
    if (data >= end) return;
    let msg = "";
    for (let i = data; i < end; i++) msg += String.fromCharCode(b[i]!);
    const v6 = conn.key.v6;
    const up = msg.toUpperCase();
    // OVS 3.1 knows PORT and 227 over IPv4, EPRT and EPSV replies over IPv6.
    if (v6 ? !up.startsWith("EPRT") && !up.includes("EXTENDED PASSIVE") : !up.startsWith("PORT") && !up.startsWith("227")) return;
    const port = v6 ? ftpParseV6(up, conn) : ftpParseV4(up, conn);
    if (port < 0) {
      log.warn("Invalid FTP control packet format");
      pkt.ctState |= CS_TRACKED | CS_INVALID;
      return;
    }
    this.expect(conn, port, (pkt.ctState & CS_REPLY_DIR) !== 0);
  }

  /** Records that `parent` expects a connection to port `dport` (expectation_create). */
  private expect(parent: CtConn, dport: number, reply: boolean): void {
    const e = new AlgExpectation(parent);
    const k = e.key;
    const from = reply ? parent.key : parent.rev;
    k.v6 = from.v6;
    k.proto = from.proto;
    k.zone = from.zone;
    k.src.set(from.src);
    k.dst.set(from.dst);
    k.sport = 0;
    k.dport = dport;
    for (const x of this.expectations) if (x.key.equals(k)) return;
    e.parentKey.copyFrom(parent.key);
    e.parentMark = parent.mark;
    e.parentLabel.set(parent.label);
    this.expectations.push(e);
  }

  /** The expectation a packet about to open a connection fulfils, or null. */
  private findExpectation(key: CtTuple): AlgExpectation | null {
    if (this.expectations.length === 0) return null;
    const sport = key.sport;
    key.sport = 0;
    let found: AlgExpectation | null = null;
    for (const e of this.expectations) {
      if (!e.parent.dead && e.key.equals(key)) {
        found = e;
        break;
      }
    }
    key.sport = sport;
    return found;
  }

  private lastConn: CtConn | null = null;

  private processOne(pkt: DpPacket, key: CtTuple, zone: number, commit: boolean, force: boolean, nat: NatSpec | null, helper: string | null, now: number): void {
    // A new zone starts from a clean state.
    if (pkt.ctState !== 0 && pkt.ctZone !== zone) pkt.ctState = 0;
    const natted = (pkt.ctState & (CS_SRC_NAT | CS_DST_NAT)) !== 0;
    let conn: CtConn | null;
    let reply: boolean;
    if (natted) {
      // Already translated by an earlier ct: look the connection up by the
      // translated tuple seen from the other end.
      this.tmp.reverseOf(key);
      this.lookup(this.tmp, now);
      conn = this.foundConn;
      reply = this.foundReply;
      if (conn !== null) {
        reply = !reply;
        key.copyFrom(reply ? conn.rev : conn.key);
      }
    } else {
      this.lookup(key, now);
      conn = this.foundConn;
      reply = this.foundReply;
      if (conn === null && this.foundStaleNat) {
        // A reply to an expired NATed connection not yet cleaned: OVS
        // finds the un-NAT entry but not its parent, and calls it invalid.
        pkt.ctState |= CS_INVALID;
        this.writeMd(pkt, zone, null, null);
        this.lastConn = null;
        return;
      }
    }
    const related = this.related;
    if (force && reply && conn !== null) {
      this.expire(conn);
      conn = null;
    }
    let createNew = false;
    if (conn !== null) {
      createNew = this.updateState(pkt, conn, reply, related, now);
      if (nat !== null && !createNew) this.handleNat(pkt, conn, zone, reply, related);
    } else if (related) {
      // No connection is ever created from an ICMP error.
      pkt.ctState = CS_INVALID;
    } else {
      createNew = true;
    }
    this.algExp = null;
    if (createNew) {
      this.algExp = this.findExpectation(key);
      this.lookup(key, now);
      conn = this.foundConn === null ? this.connNotFound(pkt, key, commit, nat, helper, now) : conn;
    }
    this.writeMd(pkt, zone, conn, key);
    this.lastConn = conn;
  }

  private updateState(pkt: DpPacket, conn: CtConn, reply: boolean, related: boolean, now: number): boolean {
    if (related) {
      pkt.ctState |= CS_RELATED;
      if (reply) pkt.ctState |= CS_REPLY_DIR;
      return false;
    }
    if (conn.algRelated) pkt.ctState |= CS_RELATED;
    switch (this.connUpdate(conn, pkt, reply, now)) {
      case UPDATE_VALID:
        pkt.ctState = (pkt.ctState | CS_ESTABLISHED) & ~CS_NEW;
        if (reply) pkt.ctState |= CS_REPLY_DIR;
        return false;
      case UPDATE_INVALID:
        pkt.ctState = CS_INVALID;
        return false;
      case UPDATE_NEW:
        this.expire(conn);
        return true;
      default:
        pkt.ctState |= CS_NEW;
        return false;
    }
  }

  private setTimeout(conn: CtConn, tm: number, now: number): void {
    conn.tm = tm;
    conn.expiration = now + this.timeouts[tm]! * 1000;
  }

  /** The protocol's update of a connection with a packet (UPDATE_*). */
  private connUpdate(conn: CtConn, pkt: DpPacket, reply: boolean, now: number): number {
    switch (conn.kind) {
      case KIND_TCP: {
        const chk = this.tcpSeqChk;
        const r = reply ? tcpConnUpdate(conn.peer1, conn.peer0, pkt.buf, this.l4, this.l4Len, chk)
          : tcpConnUpdate(conn.peer0, conn.peer1, pkt.buf, this.l4, this.l4Len, chk);
        if (tcpSeqChkBypassed) this.stats.tcpSeqChkBypass++;
        if (tcpUpdateTimeout >= 0) this.setTimeout(conn, tcpUpdateTimeout, now);
        return r;
      }
      case KIND_ICMP4:
      case KIND_ICMP6: {
        let r = UPDATE_VALID;
        if (reply && conn.state === 0) conn.state = 1;
        else if (conn.state === 0) r = UPDATE_VALID_NEW;
        this.setTimeout(conn, conn.state === 0 ? TM_ICMP_FIRST : TM_ICMP_REPLY, now);
        return r;
      }
      default: {
        // New until the other side has spoken.
        if (reply && conn.state !== 2) conn.state = 2;
        else if (conn.state === 0) conn.state = 1;
        this.setTimeout(conn, conn.state === 0 ? TM_OTHER_FIRST : conn.state === 1 ? TM_OTHER_MULTIPLE : TM_OTHER_BIDIR, now);
        return conn.state === 2 ? UPDATE_VALID : UPDATE_VALID_NEW;
      }
    }
  }

  private validNew(pkt: DpPacket, key: CtTuple): boolean {
    switch (kindOf(key.proto)) {
      case KIND_TCP: return tcpValidNew(pkt.buf, this.l4);
      case KIND_ICMP4: return key.stype === 8 || key.stype === 15 || key.stype === 13;
      case KIND_ICMP6: return key.stype === 128;
      default: return true;
    }
  }

  private connNotFound(pkt: DpPacket, key: CtTuple, commit: boolean, nat: NatSpec | null, helper: string | null, now: number): CtConn | null {
    if (!this.validNew(pkt, key)) {
      pkt.ctState = CS_INVALID;
      return null;
    }
    pkt.ctState = CS_NEW;
    const exp = this.algExp;
    if (exp !== null) pkt.ctState |= CS_RELATED;
    if (!commit) return null;
    const zl = this.zoneLimits.lookupOrDefault(key.zone);
    if (zl !== null && zl.count >= zl.limit) {
      this.stats.zoneFull++;
      return null;
    }
    if (this.conns.size >= this.maxConns) {
      this.stats.full++;
      return null;
    }
    const nc = new CtConn();
    nc.kind = kindOf(key.proto);
    nc.key.copyFrom(key);
    nc.rev.reverseOf(key);
    nc.helper = helper;
    if (exp !== null) {
      nc.algRelated = true;
      nc.mark = exp.parentMark;
      nc.label.set(exp.parentLabel);
      nc.parentKey = new CtTuple();
      nc.parentKey.copyFrom(exp.parentKey);
    }
    if (nc.kind === KIND_TCP) this.setTimeout(nc, tcpNewConn(nc.peer0, nc.peer1, pkt.buf, this.l4, this.l4Len), now);
    else if (nc.kind === KIND_OTHER) this.setTimeout(nc, TM_OTHER_FIRST, now);
    else this.setTimeout(nc, TM_ICMP_FIRST, now);
    if (nat !== null && (nat.action & (NAT_SRC | NAT_DST)) !== 0 && exp === null) {
      nc.natAction = nat.action;
      if (!this.natUniqueTuple(nc, nat, now)) {
        this.stats.natExhausted++;
        log.warn("Unable to NAT due to tuple space exhaustion - if DoS attack, use firewalling and/or zone partitioning.");
        return null;
      }
      this.natPacket(pkt, nc, false);
    }
    if (zl !== null) {
      zl.count++;
      nc.admitLimit = zl;
    }
    this.insert(nc);
    return nc;
  }

  /* ---------------- the table ---------------- */

  private insert(conn: CtConn): void {
    this.conns.add(conn);
    this.link(conn.key, conn, false);
    this.link(conn.rev, conn, true);
  }

  private link(t: CtTuple, conn: CtConn, reply: boolean): void {
    const h = t.hash();
    this.index.set(h, new CtNode(t, conn, reply, this.index.get(h) ?? null));
  }

  private unlink(t: CtTuple, conn: CtConn): void {
    const h = t.hash();
    let n = this.index.get(h) ?? null;
    let prev: CtNode | null = null;
    while (n !== null) {
      if (n.conn === conn && n.tuple === t) {
        if (prev === null) {
          if (n.next === null) this.index.delete(h);
          else this.index.set(h, n.next);
        } else prev.next = n.next;
        return;
      }
      prev = n;
      n = n.next;
    }
  }

  /**
   * Ends a connection now (conn_force_expire): lookups no longer see it;
   * it counts in nConns until the next sweep, as in OVS.
   */
  private expire(conn: CtConn): void {
    conn.expiration = 0;
  }

  private remove(conn: CtConn): void {
    if (conn.dead) return;
    conn.dead = true;
    if (this.expectations.length !== 0) {
      for (let i = this.expectations.length - 1; i >= 0; i--) if (this.expectations[i]!.parent === conn) this.expectations.splice(i, 1);
    }
    this.conns.delete(conn);
    const zl = conn.admitLimit;
    if (zl !== null && this.zoneLimits.isLive(zl)) zl.count--;
    this.unlink(conn.key, conn);
    this.unlink(conn.rev, conn);
  }

  /** Finds the live connection with `t` in either direction (foundConn/foundReply). */
  private lookup(t: CtTuple, now: number): boolean {
    let n = this.index.get(t.hash()) ?? null;
    this.foundStaleNat = false;
    while (n !== null) {
      if (n.tuple.equals(t)) {
        if (n.conn.expiration > now) {
          this.foundConn = n.conn;
          this.foundReply = n.reply;
          return true;
        }
        // OVS keeps a NATed connection's reply tuple (its "un-NAT" entry,
        // which never expires by itself) until the cleaner removes both.
        if (n.reply && n.conn.natAction !== 0) this.foundStaleNat = true;
      }
      n = n.next;
    }
    this.foundConn = null;
    this.foundReply = false;
    return false;
  }

  /** Whether `t` is taken for a new NAT reply tuple (live, or a stale un-NAT entry). */
  private natTupleTaken(t: CtTuple, now: number): boolean {
    return this.lookup(t, now) || this.foundStaleNat;
  }

  /** Removes expired connections. */
  sweep(now: number): void {
    this.lastSweep = now;
    for (const c of this.conns) if (c.expiration <= now) this.remove(c);
  }

  /** Live connections (optionally of one zone), for dumps. */
  connections(now: number, zone: number | null = null): CtConn[] {
    const out: CtConn[] = [];
    for (const c of this.conns) if (c.expiration > now && (zone === null || c.key.zone === zone)) out.push(c);
    return out;
  }

  /**
   * Sets the connection limit of `zone` (DEFAULT_ZONE: the default
   * limit), logging as OVS does; false for a zone out of range.
   */
  setZoneLimit(zone: number, limit: number): boolean {
    const r = this.zoneLimits.set(zone, limit);
    if (r === "changed") log.info(`Changed zone limit of ${limit} for zone ${zone}`);
    else if (r === "created") log.info(`Created zone limit of ${limit} for zone ${zone}`);
    else log.warn(`Request to create zone limit for invalid zone ${zone}`);
    return r !== null;
  }

  /** Deletes the connection limit of `zone` (a zone without one is logged and ignored). */
  delZoneLimit(zone: number): void {
    if (this.zoneLimits.delete(zone)) log.info(`Deleted zone limit for zone ${zone}`);
    else log.info(`Attempted delete of non-existent zone limit: zone ${zone}`);
  }

  /** Removes every connection (of `zone` when given). */
  flush(zone: number | null = null): void {
    for (const c of [...this.conns]) if (zone === null || c.key.zone === zone) this.remove(c);
  }

  /** Removes one connection. */
  removeConn(conn: CtConn): void {
    this.remove(conn);
  }

  /** Removes the connection whose original tuple is `t`; false when there is none. */
  flushTuple(t: CtTuple, now: number): boolean {
    if (!this.lookup(t, now) || this.foundReply) return false;
    this.remove(this.foundConn!);
    return true;
  }

  /* ---------------- packet metadata ---------------- */

  private writeMd(pkt: DpPacket, zone: number, conn: CtConn | null, key: CtTuple | null): void {
    pkt.ctState |= CS_TRACKED;
    pkt.ctZone = zone;
    const lbl = pkt.ctLabel;
    if (conn !== null) {
      pkt.ctMark = conn.mark;
      const cl = conn.label;
      lbl[0] = cl[0]!;
      lbl[1] = cl[1]!;
      lbl[2] = cl[2]!;
      lbl[3] = cl[3]!;
      key = conn.algRelated && conn.parentKey !== null ? conn.parentKey : conn.key;
    } else if (this.algExp !== null && key !== null) {
      // Not committed yet: the expectation's parent speaks for it.
      const e = this.algExp;
      pkt.ctMark = e.parentMark;
      copy4(lbl, e.parentLabel);
      key = e.parentKey;
    } else {
      pkt.ctMark = 0;
      lbl[0] = lbl[1] = lbl[2] = lbl[3] = 0;
    }
    if (key === null) {
      pkt.ctOrigTupleIpv6 = false;
      pkt.ctNwProto = 0;
      pkt.ctNwSrc = 0;
      pkt.ctNwDst = 0;
      clear4(pkt.ctIpv6Src);
      clear4(pkt.ctIpv6Dst);
      pkt.ctTpSrc = 0;
      pkt.ctTpDst = 0;
      return;
    }
    const icmp = key.proto === (key.v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    pkt.ctNwProto = key.proto;
    pkt.ctTpSrc = icmp ? key.stype : key.sport;
    pkt.ctTpDst = icmp ? key.scode : key.dport;
    if (key.v6) {
      pkt.ctOrigTupleIpv6 = true;
      copy4(pkt.ctIpv6Src, key.src);
      copy4(pkt.ctIpv6Dst, key.dst);
      pkt.ctNwSrc = 0;
      pkt.ctNwDst = 0;
    } else {
      pkt.ctOrigTupleIpv6 = false;
      pkt.ctNwSrc = key.src[0]!;
      pkt.ctNwDst = key.dst[0]!;
      clear4(pkt.ctIpv6Src);
      clear4(pkt.ctIpv6Dst);
    }
  }

  /* ---------------- key extraction ---------------- */

  /** Parses the packet into `key` (conn_key_extract); false: invalid. */
  private extract(pkt: DpPacket, dlType: number, zone: number, key: CtTuple): boolean {
    if (pkt.l3Ofs < 0) return false;
    const b = pkt.buf;
    const l3 = pkt.start + pkt.l3Ofs;
    const end = pkt.start + pkt.len - pkt.l2PadSize;
    key.zone = zone;
    key.sport = key.dport = key.stype = key.scode = key.dtype = key.dcode = 0;
    this.related = false;
    this.l3 = l3;
    let l4: number;
    if (dlType === 0x0800) {
      l4 = this.extractL3v4(b, l3, end, key, true);
    } else if (dlType === 0x86dd) {
      l4 = this.extractL3v6(b, l3, end, key);
    } else return false;
    if (l4 < 0) return false;
    this.l4 = l4;
    this.l4Len = end - l4;
    return this.extractL4(b, l4, end, key, true, l3, 0);
  }

  /** IPv4 header at `o`: fills addresses and protocol, returns the L4 offset or -1. */
  private extractL3v4(b: Uint8Array, o: number, end: number, key: CtTuple, validate: boolean): number {
    if (end - o < 20) return -1;
    const ihl = (b[o]! & 0x0f) * 4;
    if (ihl < 20 || end - o < ihl) return -1;
    if ((rd16(b, o + 6) & 0x3fff) !== 0) return -1;
    if (validate) {
      let sum = 0;
      for (let i = o; i < o + ihl; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      if (sum !== 0xffff) {
        this.stats.l3CsumErr++;
        return -1;
      }
    }
    key.v6 = false;
    const ks = key.src, kd = key.dst;
    ks[0] = rd32(b, o + 12);
    kd[0] = rd32(b, o + 16);
    ks[1] = ks[2] = ks[3] = 0;
    kd[1] = kd[2] = kd[3] = 0;
    key.proto = b[o + 9]!;
    return o + ihl;
  }

  /** IPv6 header at `o` (extension headers skipped; fragments refused). */
  private extractL3v6(b: Uint8Array, o: number, end: number, key: CtTuple): number {
    if (end - o < 40) return -1;
    let nh = b[o + 6]!;
    let p = o + 40;
    for (;;) {
      if (nh === 0 || nh === 43 || nh === 60) {
        if (end - p < 8) return -1;
        const l = (b[p + 1]! + 1) * 8;
        nh = b[p]!;
        p += l;
      } else if (nh === 51) {
        if (end - p < 8) return -1;
        const l = (b[p + 1]! + 2) * 4;
        nh = b[p]!;
        p += l;
      } else if (nh === 44) {
        return -1;
      } else break;
      if (p > end) return -1;
    }
    key.v6 = true;
    for (let i = 0; i < 4; i++) {
      key.src[i] = rd32(b, o + 8 + 4 * i);
      key.dst[i] = rd32(b, o + 24 + 4 * i);
    }
    key.proto = nh;
    return p;
  }

  /** Sum of the pseudo-header for the L4 checksum of the packet whose L3 header is at l3. */
  private pseudo(b: Uint8Array, l3: number, v6: boolean, proto: number, len: number): number {
    if (!v6) {
      const s = rd32(b, l3 + 12), d = rd32(b, l3 + 16);
      return (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + proto + len;
    }
    let sum = csumPartial(b, l3 + 8, 32);
    return sum + (len >>> 16) + (len & 0xffff) + proto;
  }

  private l4CsumOk(b: Uint8Array, l4: number, len: number, l3: number, v6: boolean, proto: number): boolean {
    const ok = csumFinish(csumPartial(b, l4, len, this.pseudo(b, l3, v6, proto, len))) === 0;
    if (!ok) this.stats.l4CsumErr++;
    return ok;
  }

  /**
   * The L4 part of the key. `top`: the packet itself (checksums checked,
   * ICMP errors looked into); else the header quoted in an ICMP error,
   * of which `minLen` bytes are needed.
   */
  private extractL4(b: Uint8Array, o: number, end: number, key: CtTuple, top: boolean, l3: number, minLen: number): boolean {
    const size = end - o;
    const proto = key.proto;
    if (proto === IPPROTO_TCP) {
      if (top) {
        if (size < 20) return false;
        const hl = (b[o + 12]! >>> 4) * 4;
        if (hl < 20 || hl > size) return false;
        if (!this.l4CsumOk(b, o, size, l3, key.v6, proto)) return false;
      } else if (size < minLen) return false;
      key.sport = rd16(b, o);
      key.dport = rd16(b, o + 2);
      return key.sport !== 0 && key.dport !== 0;
    }
    if (proto === IPPROTO_UDP) {
      if (top) {
        if (size < 8) return false;
        const ul = rd16(b, o + 4);
        if (ul < 8 || ul > size) return false;
        if (!(rd16(b, o + 6) === 0 && !key.v6) && !this.l4CsumOk(b, o, size, l3, key.v6, proto)) return false;
      } else if (size < minLen) return false;
      key.sport = rd16(b, o);
      key.dport = rd16(b, o + 2);
      return key.sport !== 0 && key.dport !== 0;
    }
    if (proto === IPPROTO_ICMP && !key.v6) {
      if (size < 8) return false;
      if (top && csumFinish(csumPartial(b, o, size)) !== 0) {
        this.stats.l4CsumErr++;
        return false;
      }
      const type = b[o]!, code = b[o + 1]!;
      switch (type) {
        case 8: case 0: case 13: case 14: case 15: case 16:
          if (code !== 0) return false;
          key.sport = key.dport = rd16(b, o + 4);
          key.stype = type;
          key.dtype = reverseIcmpType(type);
          return true;
        case 3: case 11: case 12: case 4: case 5: {
          if (!top) return false;
          const inner = this.inner;
          inner.zone = key.zone;
          inner.sport = inner.dport = inner.stype = inner.scode = inner.dtype = inner.dcode = 0;
          const il4 = this.extractL3v4(b, o + 8, end, inner, false);
          if (il4 < 0) return false;
          if (inner.src[0] !== key.dst[0]) return false;
          if (!this.extractL4(b, il4, end, inner, false, o + 8, 8)) return false;
          key.reverseOf(inner);
          this.related = true;
          return true;
        }
        default:
          return false;
      }
    }
    if (proto === IPPROTO_ICMPV6 && key.v6) {
      if (size < 8) return false;
      if (top && !this.l4CsumOk(b, o, size, l3, true, proto)) return false;
      const type = b[o]!, code = b[o + 1]!;
      switch (type) {
        case 128: case 129:
          if (code !== 0) return false;
          key.sport = key.dport = rd16(b, o + 4);
          key.stype = type;
          key.dtype = reverseIcmp6Type(type);
          return true;
        case 1: case 2: case 3: case 4: {
          if (!top) return false;
          const inner = this.inner;
          inner.zone = key.zone;
          inner.sport = inner.dport = inner.stype = inner.scode = inner.dtype = inner.dcode = 0;
          const il4 = this.extractL3v6(b, o + 8, end, inner);
          if (il4 < 0) return false;
          for (let i = 0; i < 4; i++) if (inner.src[i] !== key.dst[i]) return false;
          if (!this.extractL4(b, il4, end, inner, false, o + 8, 8)) return false;
          key.reverseOf(inner);
          this.related = true;
          return true;
        }
        default:
          return false;
      }
    }
    return true;
  }

  /* ---------------- NAT ---------------- */

  /** Picks the reply tuple of a new NATed connection (nat_get_unique_tuple). */
  private natUniqueTuple(nc: CtConn, nat: NatSpec, now: number): boolean {
    const k = nc.key;
    const rev = nc.rev;
    const pat = k.proto === IPPROTO_TCP || k.proto === IPPROTO_UDP;
    const snat = (nat.action & NAT_SRC) !== 0;
    const h = k.hash() >>> 0;
    // Address range.
    const v6 = k.v6;
    const nAddr = v6 ? rangeSize6(nat.minAddr, nat.maxAddr) : Math.max(1, nat.maxAddr[0]! - nat.minAddr[0]! + 1);
    // Port range: the given one, or the original port's class.
    const origPort = snat ? k.sport : k.dport;
    const portGiven = (nat.action & (snat ? NAT_SRC_PORT : NAT_DST_PORT)) !== 0;
    let minP: number, maxP: number, firstP: number;
    if (portGiven) {
      minP = nat.minPort;
      maxP = Math.max(nat.maxPort, minP);
      firstP = minP + (h % (maxP - minP + 1));
    } else {
      firstP = origPort;
      if (origPort < 512) {
        minP = 1;
        maxP = 511;
      } else if (origPort < 1024) {
        minP = 600;
        maxP = 1023;
      } else {
        minP = 1024;
        maxP = 65535;
      }
    }
    const firstA = nAddr > 1 ? h % nAddr : 0;
    for (let ai = 0; ai < Math.min(nAddr, 65536); ai++) {
      const a = (firstA + ai) % nAddr;
      const addr = snat ? rev.dst : rev.src;
      addr.set(nat.minAddr);
      if (v6) addToAddr6(addr, a);
      else addr[0] = (nat.minAddr[0]! + a) >>> 0;
      if (!pat) {
        if (!this.natTupleTaken(rev, now)) return true;
        continue;
      }
      const span = maxP - minP + 1;
      for (let pi = 0; pi <= span; pi++) {
        const p = pi === 0 ? firstP : minP + ((firstP - minP + pi) % span + span) % span;
        if (pi > 0 && p === firstP) continue;
        if (snat) rev.dport = p;
        else rev.sport = p;
        if (!this.natTupleTaken(rev, now)) return true;
      }
    }
    return false;
  }

  private handleNat(pkt: DpPacket, conn: CtConn, zone: number, reply: boolean, related: boolean): void {
    if (conn.natAction === 0) return;
    const st = pkt.ctState & (CS_SRC_NAT | CS_DST_NAT);
    if (st !== 0 && zone === pkt.ctZone) return;
    pkt.ctState &= ~(CS_SRC_NAT | CS_DST_NAT);
    if (reply) this.unNatPacket(pkt, conn, related);
    else this.natPacket(pkt, conn, related);
  }

  /** Original direction: rewrite towards the reply tuple. */
  private natPacket(pkt: DpPacket, conn: CtConn, related: boolean): void {
    const b = pkt.buf;
    const l3 = this.l3;
    if (conn.natAction & NAT_SRC) {
      pkt.ctState |= CS_SRC_NAT;
      this.setAddr(b, l3, conn.key.v6, conn.key.proto, true, conn.rev.dst, related);
      if (!related) this.setPorts(b, conn.key.proto, conn.rev.dport, -1);
    } else if (conn.natAction & NAT_DST) {
      pkt.ctState |= CS_DST_NAT;
      this.setAddr(b, l3, conn.key.v6, conn.key.proto, false, conn.rev.src, related);
      if (!related) this.setPorts(b, conn.key.proto, -1, conn.rev.sport);
    }
  }

  /** Reply direction: rewrite back to the original tuple. */
  private unNatPacket(pkt: DpPacket, conn: CtConn, related: boolean): void {
    const b = pkt.buf;
    const l3 = this.l3;
    if (conn.natAction & NAT_SRC) {
      pkt.ctState |= CS_DST_NAT;
      this.setAddr(b, l3, conn.key.v6, conn.key.proto, false, conn.key.src, related);
      if (related) this.reverseNatInner(pkt, conn);
      else this.setPorts(b, conn.key.proto, -1, conn.key.sport);
    } else if (conn.natAction & NAT_DST) {
      pkt.ctState |= CS_SRC_NAT;
      this.setAddr(b, l3, conn.key.v6, conn.key.proto, true, conn.key.dst, related);
      if (related) this.reverseNatInner(pkt, conn);
      else this.setPorts(b, conn.key.proto, conn.key.dport, -1);
    }
  }

  /** Rewrites the quoted header of an ICMP error back to the original tuple, then the ICMP checksum. */
  private reverseNatInner(pkt: DpPacket, conn: CtConn): void {
    const b = pkt.buf;
    const l4 = this.l4;
    const end = pkt.start + pkt.len - pkt.l2PadSize;
    const il3 = l4 + 8;
    const v6 = conn.key.v6;
    const il4 = v6 ? il3 + 40 : il3 + (b[il3]! & 0x0f) * 4;
    if (il4 + 4 > end) return;
    const proto = conn.key.proto;
    // The quoted transport checksum, when the quote holds it (UDP: zero means none).
    let l4Csum = -1;
    if (proto === IPPROTO_TCP && end - il4 >= 20) l4Csum = il4 + 16;
    else if (proto === IPPROTO_UDP && end - il4 >= 8 && (v6 || rd16(b, il4 + 6) !== 0)) l4Csum = il4 + 6;
    else if (proto === IPPROTO_ICMPV6 && v6 && end - il4 >= 8) l4Csum = il4 + 2;
    const srcSide = (conn.natAction & NAT_SRC) !== 0;
    if (!v6) {
      const sumOfs = il3 + 10;
      const at = srcSide ? il3 + 12 : il3 + 16;
      const now = srcSide ? conn.key.src[0]! : conn.key.dst[0]!;
      const old = rd32(b, at);
      wr32(b, at, now);
      wr16(b, sumOfs, csumUpdate32(rd16(b, sumOfs), old, now));
      if (l4Csum >= 0) wr16(b, l4Csum, csumUpdate32(rd16(b, l4Csum), old, now));
    } else {
      const at = srcSide ? il3 + 8 : il3 + 24;
      const a = srcSide ? conn.key.src : conn.key.dst;
      for (let i = 0; i < 4; i++) {
        const old = rd32(b, at + 4 * i);
        wr32(b, at + 4 * i, a[i]!);
        if (l4Csum >= 0) wr16(b, l4Csum, csumUpdate32(rd16(b, l4Csum), old, a[i]!));
      }
    }
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
      const at = srcSide ? il4 : il4 + 2;
      const now = srcSide ? conn.key.sport : conn.key.dport;
      const old = rd16(b, at);
      wr16(b, at, now);
      if (l4Csum >= 0) wr16(b, l4Csum, csumUpdate16(rd16(b, l4Csum), old, now));
    }
    // The ICMP checksum over everything.
    const len = end - l4;
    wr16(b, l4 + 2, 0);
    const c = v6 ? csumFinish(csumPartial(b, l4, len, this.pseudo(b, this.l3, true, IPPROTO_ICMPV6, len))) : csumFinish(csumPartial(b, l4, len));
    wr16(b, l4 + 2, c);
  }

  /** Sets the source (or destination) address, fixing the IPv4 and L4 checksums. */
  private setAddr(b: Uint8Array, l3: number, v6: boolean, proto: number, src: boolean, addr: Uint32Array, related: boolean): void {
    const l4 = this.l4;
    const l4Csum = related ? -1 : proto === IPPROTO_TCP ? l4 + 16 : proto === IPPROTO_UDP ? l4 + 6 : (v6 && proto === IPPROTO_ICMPV6) ? l4 + 2 : -1;
    const udpZero = proto === IPPROTO_UDP && !v6 && rd16(b, l4 + 6) === 0;
    if (!v6) {
      const at = l3 + (src ? 12 : 16);
      const old = rd32(b, at);
      const now = addr[0]!;
      wr32(b, at, now);
      wr16(b, l3 + 10, csumUpdate32(rd16(b, l3 + 10), old, now));
      if (l4Csum >= 0 && !udpZero) wr16(b, l4Csum, csumUpdate32(rd16(b, l4Csum), old, now));
      return;
    }
    const at = l3 + (src ? 8 : 24);
    for (let i = 0; i < 4; i++) {
      const old = rd32(b, at + 4 * i);
      const now = addr[i]!;
      wr32(b, at + 4 * i, now);
      if (l4Csum >= 0) wr16(b, l4Csum, csumUpdate32(rd16(b, l4Csum), old, now));
    }
  }

  /** Sets TCP/UDP ports (-1: unchanged), fixing the checksum. */
  private setPorts(b: Uint8Array, proto: number, sport: number, dport: number): void {
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
    const l4 = this.l4;
    const cs = proto === IPPROTO_TCP ? l4 + 16 : l4 + 6;
    const fix = proto === IPPROTO_TCP || rd16(b, cs) !== 0;
    if (sport >= 0) {
      const old = rd16(b, l4);
      wr16(b, l4, sport);
      if (fix) wr16(b, cs, csumUpdate16(rd16(b, cs), old, sport));
    }
    if (dport >= 0) {
      const old = rd16(b, l4 + 2);
      wr16(b, l4 + 2, dport);
      if (fix) wr16(b, cs, csumUpdate16(rd16(b, cs), old, dport));
    }
  }
}

function rangeSize6(min: Uint32Array, max: Uint32Array): number {
  // Only the low 32 bits of an IPv6 range are walked.
  let same = true;
  for (let i = 0; i < 3; i++) if (min[i] !== max[i]) same = false;
  if (!same) return 65536;
  const n = max[3]! - min[3]! + 1;
  return n > 0 ? Math.min(n, 65536) : 1;
}

function addToAddr6(a: Uint32Array, n: number): void {
  let carry = n;
  for (let i = 3; i >= 0 && carry !== 0; i--) {
    const v = a[i]! + carry;
    a[i] = v >>> 0;
    carry = v > 0xffffffff ? 1 : 0;
  }
}
