/**
 * TCP state tracking for the userspace connection tracker, with the
 * behaviour of OVS 3.1's lib/conntrack-tcp.c (itself pf's sequence-window
 * tracker): each direction ("peer") keeps the highest sequence sent, the
 * highest sequence the other side may send, its largest window and its
 * window scale, and a state; a segment outside the windows, or with an
 * impossible flag combination, is invalid. The connection's timeout class
 * follows the pair of peer states.
 *
 * The peers live in the connection object (plain numbers, no allocation
 * per packet).
 */
import { get16 as rd16, get32 as rd32 } from "../packet/bytes.js";

/** TCP states as ct_dpif numbers them (CT_DPIF_TCPS_*). */
export const TCPS_CLOSED = 0;
export const TCPS_LISTEN = 1;
export const TCPS_SYN_SENT = 2;
export const TCPS_SYN_RECV = 3;
export const TCPS_ESTABLISHED = 4;
export const TCPS_CLOSE_WAIT = 5;
export const TCPS_FIN_WAIT_1 = 6;
export const TCPS_CLOSING = 7;
export const TCPS_LAST_ACK = 8;
export const TCPS_FIN_WAIT_2 = 9;
export const TCPS_TIME_WAIT = 10;

export const TCP_STATE_NAMES: readonly string[] = [
  "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "CLOSE_WAIT",
  "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT",
];

/** Timeout classes (enum ct_timeout), shared with the other protocols. */
export const TM_TCP_FIRST_PACKET = 0;
export const TM_TCP_OPENING = 1;
export const TM_TCP_ESTABLISHED = 2;
export const TM_TCP_CLOSING = 3;
export const TM_TCP_FIN_WAIT = 4;
export const TM_TCP_CLOSED = 5;
export const TM_OTHER_FIRST = 6;
export const TM_OTHER_MULTIPLE = 7;
export const TM_OTHER_BIDIR = 8;
export const TM_ICMP_FIRST = 9;
export const TM_ICMP_REPLY = 10;

/** The default timeout policy of the netdev datapath, seconds per class. */
export const DEFAULT_TIMEOUTS: readonly number[] = [
  30, // tcp first packet (syn_sent)
  30, // tcp opening (syn_recv)
  24 * 60 * 60, // tcp established
  15 * 60, // tcp closing (fin_wait)
  45, // tcp fin wait (time_wait)
  30, // tcp closed (close)
  60, // other first (udp_first)
  60, // other multiple (udp_single)
  30, // other bidir (udp_multiple)
  60, // icmp first
  30, // icmp reply
];

/** Outcome of updating a connection with a packet (enum ct_update_res). */
export const UPDATE_INVALID = 0;
export const UPDATE_VALID = 1;
export const UPDATE_NEW = 2;
export const UPDATE_VALID_NEW = 3;

const F_FIN = 0x01;
const F_SYN = 0x02;
const F_RST = 0x04;
const F_PSH = 0x08;
const F_ACK = 0x10;
const F_URG = 0x20;

const MAX_WSCALE = 14;
/** Window-scale byte: the option was seen (flag) / unknown (picked up mid-stream). */
export const WSCALE_FLAG = 0x80;
export const WSCALE_UNKNOWN = 0x40;
const WSCALE_MASK = 0xf;
const MAXACKWINDOW = 0xffff + 1500;

/** One direction's tracking state. */
export class TcpPeer {
  seqlo = 0;
  seqhi = 0;
  maxWin = 0;
  wscale = 0;
  state = TCPS_CLOSED;
  reset(): void {
    this.seqlo = 0;
    this.seqhi = 0;
    this.maxWin = 0;
    this.wscale = 0;
    this.state = TCPS_CLOSED;
  }
}

function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function tcpFlags(b: Uint8Array, l4: number): number {
  return rd16(b, l4 + 12) & 0x0fff;
}

/** Flag combinations no TCP sends (pf's normalisation check). */
export function tcpInvalidFlags(flags: number): boolean {
  if (flags & F_SYN) {
    if (flags & (F_RST | F_FIN)) return true;
  } else if (!(flags & (F_ACK | F_RST))) {
    return true;
  }
  if (!(flags & F_ACK) && flags & (F_FIN | F_PSH | F_URG)) return true;
  return false;
}

/** Whether a segment may open a connection (a SYN, or a mid-stream pickup; no SYN+ACK). */
export function tcpValidNew(b: Uint8Array, l4: number): boolean {
  const f = tcpFlags(b, l4);
  if (tcpInvalidFlags(f)) return false;
  return !((f & F_SYN) && (f & F_ACK));
}

function getWscale(b: Uint8Array, l4: number, l4Len: number): number {
  const hdr = (b[l4 + 12]! >>> 4) * 4;
  let len = Math.min(hdr, l4Len) - 20;
  let o = l4 + 20;
  let ws = 0;
  while (len >= 3) {
    const kind = b[o]!;
    if (kind === 0) return ws;
    if (kind === 1) {
      o++;
      len--;
      continue;
    }
    if (kind === 3) ws = Math.min(b[o + 2]!, MAX_WSCALE) | WSCALE_FLAG;
    let optlen = b[o + 1]!;
    if (optlen < 2) optlen = 2;
    len -= optlen;
    o += optlen;
  }
  return ws;
}

function payloadLen(b: Uint8Array, l4: number, l4Len: number): number {
  const n = l4Len - (b[l4 + 12]! >>> 4) * 4;
  return n > 0 ? n : 0;
}

/** Initialises the two peers from the first segment (tcp_new_conn). Returns the timeout class. */
export function tcpNewConn(src: TcpPeer, dst: TcpPeer, b: Uint8Array, l4: number, l4Len: number): number {
  src.reset();
  dst.reset();
  const flags = tcpFlags(b, l4);
  src.seqlo = rd32(b, l4 + 4);
  src.seqhi = (src.seqlo + payloadLen(b, l4, l4Len) + 1) >>> 0;
  if (flags & F_SYN) {
    src.seqhi = (src.seqhi + 1) >>> 0;
    src.wscale = getWscale(b, l4, l4Len);
  } else {
    src.wscale = WSCALE_UNKNOWN;
    dst.wscale = WSCALE_UNKNOWN;
  }
  src.maxWin = Math.max(rd16(b, l4 + 14), 1);
  if (src.wscale & WSCALE_MASK) {
    const sws = src.wscale & WSCALE_MASK;
    src.maxWin = Math.ceil(src.maxWin / (1 << sws));
  }
  if (flags & F_FIN) src.seqhi = (src.seqhi + 1) >>> 0;
  dst.seqhi = 1;
  dst.maxWin = 1;
  src.state = TCPS_SYN_SENT;
  dst.state = TCPS_CLOSED;
  return TM_TCP_FIRST_PACKET;
}

/** The timeout class the last tcpConnUpdate set, or -1 (it kept the expiration). */
export let tcpUpdateTimeout = -1;
/** The last tcpConnUpdate accepted a segment outside the windows because `seqChk` was off. */
export let tcpSeqChkBypassed = false;

/**
 * Tracks a segment sent by `src` to `dst` (tcp_conn_update). Returns an
 * UPDATE_* outcome; `tcpUpdateTimeout` is the new timeout class, or -1
 * when the expiration stays. With `seqChk` false (sequence checking
 * disabled) every segment with valid flags passes the window checks, RST
 * included, and moves the states as an in-window one would.
 */
export function tcpConnUpdate(src: TcpPeer, dst: TcpPeer, b: Uint8Array, l4: number, l4Len: number, seqChk = true): number {
  tcpUpdateTimeout = -1;
  tcpSeqChkBypassed = false;
  const flags = tcpFlags(b, l4);
  if (tcpInvalidFlags(flags)) return UPDATE_INVALID;
  if ((flags & (F_SYN | F_ACK)) === F_SYN) {
    if (dst.state >= TCPS_FIN_WAIT_2 && src.state >= TCPS_FIN_WAIT_2) {
      // A SYN on a closed connection starts a new one.
      src.state = dst.state = TCPS_CLOSED;
      return UPDATE_NEW;
    }
    if (src.state <= TCPS_SYN_SENT) {
      // A (retransmitted) SYN of a side still opening: new again.
      src.state = TCPS_SYN_SENT;
      tcpUpdateTimeout = TM_TCP_FIRST_PACKET;
      return UPDATE_VALID_NEW;
    }
  }
  let sws = 0;
  let dws = 0;
  if (src.wscale & WSCALE_FLAG && dst.wscale & WSCALE_FLAG && !(flags & F_SYN)) {
    sws = src.wscale & WSCALE_MASK;
    dws = dst.wscale & WSCALE_MASK;
  } else if (src.wscale & WSCALE_UNKNOWN && dst.wscale & WSCALE_UNKNOWN && !(flags & F_SYN)) {
    sws = MAX_WSCALE;
    dws = MAX_WSCALE;
  }
  let win = rd16(b, l4 + 14);
  const pLen = payloadLen(b, l4, l4Len);
  const origSeq = rd32(b, l4 + 4);
  let seq = origSeq;
  let ack = rd32(b, l4 + 8);
  let end: number;
  let checkAckskew = true;
  if (src.state < TCPS_SYN_SENT) {
    // The first segment from this side.
    end = (seq + pLen) >>> 0;
    if (flags & F_SYN) {
      end = (end + 1) >>> 0;
      if (dst.wscale & WSCALE_FLAG) {
        src.wscale = getWscale(b, l4, l4Len);
        if (src.wscale & WSCALE_FLAG) {
          sws = src.wscale & WSCALE_MASK;
          win = Math.ceil(win / (1 << sws));
          dws = dst.wscale & WSCALE_MASK;
        } else {
          dst.maxWin = (dst.maxWin << (dst.wscale & WSCALE_MASK)) >>> 0;
          dst.wscale = 0;
        }
      }
    }
    if (flags & F_FIN) end = (end + 1) >>> 0;
    src.seqlo = seq;
    src.state = TCPS_SYN_SENT;
    const slide = (end + Math.max(1, (dst.maxWin << dws) >>> 0)) >>> 0;
    if (src.seqhi === 1 || seqDiff(slide, src.seqhi) >= 0) {
      src.seqhi = slide;
      checkAckskew = false;
    }
    if (win > src.maxWin) src.maxWin = win;
  } else {
    end = (seq + pLen) >>> 0;
    if (flags & F_SYN) end = (end + 1) >>> 0;
    if (flags & F_FIN) end = (end + 1) >>> 0;
  }
  if ((flags & F_ACK) === 0) ack = dst.seqlo;
  else if (ack === 0 && (flags & (F_ACK | F_RST)) === (F_ACK | F_RST)) ack = dst.seqlo;
  if (seq === end) {
    // Segments without data: no sequence constraint.
    seq = src.seqlo;
    end = seq;
  }
  const ackskew = checkAckskew ? seqDiff(dst.seqlo, ack) : 0;
  const dstWin = (dst.maxWin << dws) >>> 0;
  const winScaled = (win << sws) >>> 0;
  const inWindow = seqDiff(src.seqhi, end) >= 0 &&
    seqDiff(seq, (src.seqlo - dstWin) >>> 0) >= 0 &&
    ackskew >= -MAXACKWINDOW &&
    ackskew <= MAXACKWINDOW * (1 << sws) &&
    ((flags & F_RST) === 0 || origSeq === src.seqlo || origSeq === ((src.seqlo + 1) >>> 0) || ((origSeq + 1) >>> 0) === src.seqlo);
  if (!inWindow && !seqChk) tcpSeqChkBypassed = true;
  if (inWindow || !seqChk) {
    if (src.maxWin < win) src.maxWin = win;
    if (seqDiff(end, src.seqlo) > 0) src.seqlo = end;
    if (seqDiff((ack + winScaled) >>> 0, dst.seqhi) >= 0) dst.seqhi = (ack + Math.max(winScaled, 1)) >>> 0;
    if (flags & F_SYN && src.state < TCPS_SYN_SENT) src.state = TCPS_SYN_SENT;
    if (flags & F_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
    if (flags & F_ACK) {
      if (dst.state === TCPS_SYN_SENT) dst.state = TCPS_ESTABLISHED;
      else if (dst.state === TCPS_CLOSING) dst.state = TCPS_FIN_WAIT_2;
    }
    if (flags & F_RST) src.state = dst.state = TCPS_TIME_WAIT;
    if (src.state >= TCPS_FIN_WAIT_2 && dst.state >= TCPS_FIN_WAIT_2) tcpUpdateTimeout = TM_TCP_CLOSED;
    else if (src.state >= TCPS_CLOSING && dst.state >= TCPS_CLOSING) tcpUpdateTimeout = TM_TCP_FIN_WAIT;
    else if (src.state < TCPS_ESTABLISHED || dst.state < TCPS_ESTABLISHED) tcpUpdateTimeout = TM_TCP_OPENING;
    else if (src.state >= TCPS_CLOSING || dst.state >= TCPS_CLOSING) tcpUpdateTimeout = TM_TCP_CLOSING;
    else tcpUpdateTimeout = TM_TCP_ESTABLISHED;
    return UPDATE_VALID;
  }
  if ((dst.state < TCPS_SYN_SENT || dst.state >= TCPS_FIN_WAIT_2 || src.state >= TCPS_FIN_WAIT_2) &&
    seqDiff((src.seqhi + MAXACKWINDOW) >>> 0, end) >= 0 &&
    seqDiff(seq, (src.seqlo - MAXACKWINDOW) >>> 0) >= 0) {
    // Loose tracking: shotgunned SYNs, a stream picked up mid-way, stray
    // segments right after a close. The timeout is not refreshed.
    if (src.maxWin < win) src.maxWin = win;
    if (seqDiff(end, src.seqlo) > 0) src.seqlo = end;
    if (seqDiff((ack + winScaled) >>> 0, dst.seqhi) >= 0) dst.seqhi = (ack + Math.max(winScaled, 1)) >>> 0;
    if (flags & F_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
    if (flags & F_RST) src.state = dst.state = TCPS_TIME_WAIT;
    return UPDATE_VALID;
  }
  return UPDATE_INVALID;
}

/** ct_dpif TCP flags of a peer (WINDOW_SCALE = 1, BE_LIBERAL = 8). */
export function tcpPeerFlags(p: TcpPeer): number {
  let f = 0;
  if (p.wscale & WSCALE_FLAG) f |= 1;
  if (p.wscale & WSCALE_UNKNOWN) f |= 8;
  return f;
}

export function tcpPeerWscale(p: TcpPeer): number {
  return p.wscale & WSCALE_MASK;
}
