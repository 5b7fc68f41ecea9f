/**
 * The datapath action executor (OVS's odp_execute_actions plus the
 * dpif-netdev callbacks for output, userspace and recirc): runs a
 * netlink-encoded action list on a batch of packets.
 *
 * Contract: see exec-context.ts. In short, the packets of `batch` are
 * handed over; each ends up output (`ctx.pushOutput`), upcalled
 * (`ctx.pushUpcall`), recirculated (`ctx.pushRecirc`) or released; a packet
 * that reached none of those is counted in `ctx.dropped`.
 *
 * Design.
 * - Per packet, the list is walked attribute by attribute with index
 *   arithmetic; no objects, closures or exceptions per packet. Nested lists
 *   (clone, sample, check_pkt_len) recurse with explicit offsets.
 * - Copies only where needed: the *last consumer* of a list (the last
 *   output/userspace/recirc/clone/sample/check_pkt_len) takes the packet
 *   itself; earlier consumers take a clone from `ctx.pool`. Actions after
 *   the last consumer cannot be observed and are skipped. When the pool is
 *   empty the clone is skipped and counted as dropped.
 * - Header rewrites (set / masked set) patch bytes in place and fix the
 *   IPv4 header checksum and TCP/UDP/ICMP/ICMPv6 checksums incrementally
 *   (RFC 1624); SCTP's CRC32c is recomputed. A UDP checksum of zero
 *   (none) stays zero.
 * - `trunc(n)` truncates only what the next consumer sends (OVS cutlen).
 * - Header offsets come from extraction (`pkt.l3Ofs` etc.); when absent
 *   (a packet injected with `execute`) they are computed on first need.
 *
 * Tunnels: tnl_push / tnl_pop (VXLAN, Geneve, GRE over IPv4/IPv6) are in
 * execute-tnl.ts. tnl_push, as OVS's dpif-netdev, encapsulates the packet
 * in place (metadata reset, in_port = the tunnel port) and execution goes
 * on with the next actions; as the last action it is not done (the packet
 * is dropped). tnl_pop decapsulates as the named tunnel port's type says
 * (`ctx.tnlType`) and re-classifies the inner packet with in_port set to
 * the tunnel port (through `ctx.pushRecirc`, recirc_id unchanged).
 *
 * Not yet supported (the packet copy is dropped and counted): lb_output,
 * push_nsh/pop_nsh, add_mpls, dec_ttl. `ct` runs the datapath's
 * connection tracker (conntrack-action.ts; without one, as in bare
 * executor tests, the packet is marked tracked+invalid); `meter`
 * passes packets (no meters yet).
 */
import { csumUpdate16, csumUpdate32, sctpChecksum } from "../packet/checksum.js";
import type { DpPacket, DpPacketBatch } from "../packet/dp-packet.js";
import { extractFlowKey } from "../flow/extract.js";
import { FLOW_U32S } from "../flow/key-layout.js";
import type { ExecContext } from "./exec-context.js";
import * as A from "../flow/odp-attrs.js";
import { tnlPop, tnlPush } from "./execute-tnl.js";
import { CT_RESUME, CT_STOLEN, executeCt } from "./conntrack-action.js";
import { get16 as be16, get32 as be32, get32le as u32le, set16 as wbe16, set32 as wbe32 } from "../packet/bytes.js";
import { hashAdd } from "../flow/key-ops.js";

const HDR = 4;

function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function aLen(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function aType(b: Uint8Array, o: number): number {
  return (b[o + 2]! | (b[o + 3]! << 8)) & 0x3fff;
}
function aOk(b: Uint8Array, o: number, end: number): boolean {
  if (o + HDR > end) return false;
  const l = aLen(b, o);
  return l >= HDR && o + l <= end;
}
function aNext(b: Uint8Array, o: number): number {
  return o + ((aLen(b, o) + 3) & ~3);
}
/** First nested attribute of `type` in [o, end), or -1. */
function findAttr(b: Uint8Array, o: number, end: number, type: number): number {
  while (aOk(b, o, end)) {
    if (aType(b, o) === type) return o;
    o = aNext(b, o);
  }
  return -1;
}

/* ---------------- counters and randomness ---------------- */

/** Executor counters (coverage-style), for tests and `coverage/show`. */
export const executeStats = {
  /** Actions the executor does not implement (the packet copy is dropped). */
  unsupported: 0,
  /** Malformed action attributes. */
  malformed: 0,
  /** set actions on packets lacking the header (ignored, as OVS does). */
  setMissingHeader: 0,
};

let rngState = 0x9e3779b9;
/** Seeds the sample() random source (tests make sampling reproducible). */
export function setExecuteRandomSeed(seed: number): void {
  rngState = seed >>> 0 || 1;
}
function randomU32(): number {
  let x = rngState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rngState = x >>> 0;
  return rngState;
}

/* ---------------- header offsets ---------------- */

const scratchKey = new Uint32Array(FLOW_U32S);

/** Makes sure l3/l4 offsets are known (packets injected without extraction). */
function ensureOffsets(pkt: DpPacket): void {
  if (pkt.l3Ofs < 0) extractFlowKey(pkt, scratchKey);
}

/** Offset (in the frame) of the ethertype that precedes the L2.5/L3 header, or -1. */
function lastEthertypeOfs(pkt: DpPacket): number {
  const b = pkt.buf;
  const s = pkt.start;
  if (pkt.packetType !== 0 || pkt.len < 14) return -1;
  let o = 12;
  let t = be16(b, s + o);
  while ((t === 0x8100 || t === 0x88a8) && o + 6 <= pkt.len) {
    o += 4;
    t = be16(b, s + o);
  }
  return o;
}

/**
 * Ethertype of the L3 header at l3Ofs: the ethertype field right before
 * it, or the packet type for L3 packets; -1 behind an MPLS stack (the
 * payload type of MPLS is unknown) or when offsets are unknown.
 */
function l3Type(pkt: DpPacket): number {
  if (pkt.packetType !== 0) return pkt.packetType & 0xffff;
  const l3 = pkt.l3Ofs;
  if (l3 < 14 || pkt.l2_5Ofs >= 0) return -1;
  return be16(pkt.buf, pkt.start + l3 - 2);
}

/* ---------------- the executor ---------------- */

/** Bumped whenever a packet (or clone) is handed to the context. */
let handed = 0;

/**
 * Runs `actions[offset, offset+length)` on every packet of `batch` and
 * empties the batch. HOT PATH.
 */
// HOT PATH: every datapath packet (bench datapath).
export function executeActions(ctx: ExecContext, batch: DpPacketBatch, actions: Uint8Array, offset: number, length: number): void {
  const end = offset + length;
  const last = lastConsumer(actions, offset, end);
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const pkt = batch.packets[i]!;
    batch.packets[i] = null;
    const before = handed;
    const kept = execList(ctx, pkt, actions, offset, end, last, 0);
    if (kept) pkt.release();
    if (handed === before) ctx.dropped++;
  }
  batch.count = 0;
}

/** Runs the list on one packet (convenience for callers outside the batch path). */
export function executeActionsOne(ctx: ExecContext, pkt: DpPacket, actions: Uint8Array, offset = 0, length = actions.length - offset): void {
  const end = offset + length;
  const before = handed;
  if (execList(ctx, pkt, actions, offset, end, lastConsumer(actions, offset, end), 0)) pkt.release();
  if (handed === before) ctx.dropped++;
}

function isConsumer(t: number): boolean {
  return t === A.OVS_ACTION_ATTR_OUTPUT || t === A.OVS_ACTION_ATTR_USERSPACE || t === A.OVS_ACTION_ATTR_RECIRC ||
    t === A.OVS_ACTION_ATTR_CLONE || t === A.OVS_ACTION_ATTR_SAMPLE || t === A.OVS_ACTION_ATTR_CHECK_PKT_LEN ||
    t === A.OVS_ACTION_ATTR_TUNNEL_POP;
}

/** Offset of the last consuming action in [off, end), or -1. */
function lastConsumer(b: Uint8Array, off: number, end: number): number {
  let last = -1;
  let o = off;
  while (aOk(b, o, end)) {
    const t = aType(b, o);
    if (isConsumer(t)) last = o;
    else if (t === A.OVS_ACTION_ATTR_DROP) break;
    o = aNext(b, o);
  }
  return last;
}

/** A clone of `pkt` from the pool, or null (counted) when none is free. */
function clonePacket(ctx: ExecContext, pkt: DpPacket): DpPacket | null {
  const c = ctx.pool.alloc();
  if (c === null) {
    ctx.dropped++;
    return null;
  }
  if (!c.copyFrom(pkt)) {
    c.release();
    ctx.dropped++;
    return null;
  }
  return c;
}

/**
 * Executes [off, end) on `pkt`. `last` is the last consumer's offset:
 * that action takes the packet itself. Returns true when the caller still
 * owns `pkt` (it was not handed over) and must release it.
 */
function execList(ctx: ExecContext, pkt: DpPacket, b: Uint8Array, off: number, end: number, last: number, depth: number): boolean {
  let cutlen = 0;
  let o = off;
  while (o < end) {
    if (!aOk(b, o, end)) {
      executeStats.malformed++;
      return true;
    }
    const t = aType(b, o);
    const steal = o === last;
    const p = o + HDR;
    const plen = aLen(b, o) - HDR;
    switch (t) {
      case A.OVS_ACTION_ATTR_OUTPUT:
      case A.OVS_ACTION_ATTR_RECIRC:
      case A.OVS_ACTION_ATTR_USERSPACE: {
        const out = steal ? pkt : clonePacket(ctx, pkt);
        if (out !== null) {
          if (cutlen > 0 && out.len > cutlen) out.truncate(cutlen);
          handed++;
          if (t === A.OVS_ACTION_ATTR_OUTPUT) {
            ctx.pushOutput(plen >= 4 ? u32le(b, p) : 0, out);
          } else if (t === A.OVS_ACTION_ATTR_RECIRC) {
            out.recircId = plen >= 4 ? u32le(b, p) : 0;
            ctx.pushRecirc(out);
          } else {
            const ud = findAttr(b, p, p + plen, A.OVS_USERSPACE_ATTR_USERDATA);
            if (ud >= 0) ctx.pushUpcall(out, b, ud + HDR, aLen(b, ud) - HDR);
            else ctx.pushUpcall(out, null, 0, -1);
          }
        }
        cutlen = 0;
        if (steal) return false;
        break;
      }
      case A.OVS_ACTION_ATTR_TUNNEL_PUSH: {
        // As OVS: the outer headers go onto the packet itself and the
        // following actions (the underlay bridge's output) send it. Later
        // consumers decide ownership; with none left the push is moot.
        if (cutlen > 0 && pkt.len > cutlen) pkt.truncate(cutlen);
        cutlen = 0;
        const h = pkt.dpHash !== 0 ? pkt.dpHash : l4Hash(pkt, 0, false);
        const port = tnlPush(pkt, b, p, plen, h);
        if (port < 0) {
          executeStats.malformed++;
          return true;
        }
        // pkt_metadata_init(out_port): the outer packet starts afresh.
        pkt.resetMetadata();
        pkt.inPort = port;
        break;
      }
      case A.OVS_ACTION_ATTR_TUNNEL_POP: {
        const out = steal ? pkt : clonePacket(ctx, pkt);
        if (out !== null) {
          const tp = plen >= 4 ? u32le(b, p) : -1;
          const type = tp >= 0 && tp < ctx.tnlType.length ? ctx.tnlType[tp]! : 0;
          if (type !== 0 && tnlPop(out, type)) {
            out.inPort = tp;
            handed++;
            ctx.pushRecirc(out);
          } else if (!steal) {
            out.release();
          } else {
            return true;
          }
        }
        if (steal) return false;
        break;
      }
      case A.OVS_ACTION_ATTR_CLONE: {
        if (!runNested(ctx, pkt, b, p, p + plen, steal, depth)) return false;
        break;
      }
      case A.OVS_ACTION_ATTR_SAMPLE: {
        const pr = findAttr(b, p, p + plen, A.OVS_SAMPLE_ATTR_PROBABILITY);
        const ac = findAttr(b, p, p + plen, A.OVS_SAMPLE_ATTR_ACTIONS);
        if (pr < 0 || ac < 0) {
          executeStats.malformed++;
          break;
        }
        const prob = u32le(b, pr + HDR);
        const take = prob !== 0 && (prob === 0xffffffff || randomU32() < prob);
        if (take) {
          if (!runNested(ctx, pkt, b, ac + HDR, ac + aLen(b, ac), steal, depth)) return false;
        } else if (steal) {
          return true;
        }
        break;
      }
      case A.OVS_ACTION_ATTR_CHECK_PKT_LEN: {
        const pl = findAttr(b, p, p + plen, A.OVS_CHECK_PKT_LEN_ATTR_PKT_LEN);
        const gt = findAttr(b, p, p + plen, A.OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
        const le = findAttr(b, p, p + plen, A.OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
        if (pl < 0 || gt < 0 || le < 0) {
          executeStats.malformed++;
          break;
        }
        const size = pkt.len - pkt.l2PadSize;
        const sel = size > u16le(b, pl + HDR) ? gt : le;
        if (!runNested(ctx, pkt, b, sel + HDR, sel + aLen(b, sel), steal, depth)) return false;
        break;
      }
      case A.OVS_ACTION_ATTR_TRUNC:
        if (plen >= 4) {
          const n = u32le(b, p);
          if (n < pkt.len) cutlen = n;
        }
        break;
      case A.OVS_ACTION_ATTR_SET:
        if (plen >= HDR) setField(pkt, b, p, false);
        break;
      case A.OVS_ACTION_ATTR_SET_MASKED:
        if (plen >= HDR) setField(pkt, b, p, true);
        break;
      case A.OVS_ACTION_ATTR_PUSH_VLAN:
        if (plen >= 4) pushVlan(pkt, be16(b, p), be16(b, p + 2));
        break;
      case A.OVS_ACTION_ATTR_POP_VLAN:
        popVlan(pkt);
        break;
      case A.OVS_ACTION_ATTR_PUSH_MPLS:
        if (plen >= 6) pushMpls(pkt, be32(b, p), be16(b, p + 4));
        break;
      case A.OVS_ACTION_ATTR_POP_MPLS:
        if (plen >= 2) popMpls(pkt, be16(b, p));
        break;
      case A.OVS_ACTION_ATTR_HASH:
        if (plen >= 8) {
          const h = l4Hash(pkt, u32le(b, p + 4), u32le(b, p) === A.OVS_HASH_ALG_SYM_L4);
          pkt.dpHash = h === 0 ? 1 : h;
        }
        break;
      case A.OVS_ACTION_ATTR_CT_CLEAR:
        pkt.ctState = 0;
        pkt.ctZone = 0;
        pkt.ctMark = 0;
        pkt.ctLabel.fill(0);
        pkt.ctNwProto = 0;
        break;
      case A.OVS_ACTION_ATTR_CT:
        // Without a connection tracker the packet is tracked but invalid.
        if (ctx.conntrack !== null) {
          const r = executeCt(ctx.conntrack, pkt, b, p, p + plen, ctx.now);
          // A fragment kept for reassembly: nothing more happens to this copy.
          if (r === CT_STOLEN) return true;
          // Its packet is complete: the kept fragments go on with the rest of these actions.
          if (r === CT_RESUME) resumeFragments(ctx, ctx.conntrack.ipf.resume.splice(0), b, aNext(b, o), end, last, depth);
        } else pkt.ctState = 0x20 | 0x10;
        break;
      case A.OVS_ACTION_ATTR_METER:
        // A meter band that drops the packet ends its actions.
        if (plen >= 4 && ctx.meter !== null && ctx.meter(u32le(b, p), pkt.len, ctx.now)) return true;
        break;
      case A.OVS_ACTION_ATTR_POP_ETH:
        if (pkt.packetType === 0 && pkt.len >= 14) {
          const et = be16(pkt.buf, pkt.start + 12);
          pkt.pull(14);
          pkt.packetType = ((1 << 16) | et) >>> 0;
        }
        break;
      case A.OVS_ACTION_ATTR_PUSH_ETH:
        if (plen >= 12 && pkt.packetType !== 0 && (pkt.packetType >>> 16) === 1) {
          const at = pkt.push(14);
          if (at >= 0) {
            pkt.buf.set(b.subarray(p + 6, p + 12), at);
            pkt.buf.set(b.subarray(p, p + 6), at + 6);
            wbe16(pkt.buf, at + 12, pkt.packetType & 0xffff);
            pkt.packetType = 0;
          }
        }
        break;
      case A.OVS_ACTION_ATTR_DROP:
        return true;
      default:
        executeStats.unsupported++;
        if (steal) return true;
        break;
    }
    o = aNext(b, o);
  }
  return true;
}


/** Fragments reassembly kept, continuing after the ct action that completed their packet. */
function resumeFragments(ctx: ExecContext, frags: DpPacket[], b: Uint8Array, off: number, end: number, last: number, depth: number): void {
  for (const f of frags) if (execList(ctx, f, b, off, end, last, depth)) f.release();
}

/**
 * Runs a nested list (clone, sample, check_pkt_len) on the packet itself
 * when `steal`, else on a clone. Returns false when `pkt` was handed over.
 */
function runNested(ctx: ExecContext, pkt: DpPacket, b: Uint8Array, off: number, end: number, steal: boolean, depth: number): boolean {
  if (depth >= 8) {
    executeStats.malformed++;
    return true;
  }
  const last = lastConsumer(b, off, end);
  if (steal) {
    if (execList(ctx, pkt, b, off, end, last, depth + 1)) pkt.release();
    return false;
  }
  if (last < 0) return true; // nothing in the nested list can be observed
  const c = clonePacket(ctx, pkt);
  if (c === null) return true;
  if (execList(ctx, c, b, off, end, last, depth + 1)) c.release();
  return true;
}

/* ---------------- L2 / L2.5 rewrites ---------------- */

function pushVlan(pkt: DpPacket, tpid: number, tci: number): void {
  if (pkt.packetType !== 0 || pkt.len < 14) return;
  if (!pkt.insertAt(12, 4)) {
    executeStats.unsupported++;
    return;
  }
  const s = pkt.start;
  wbe16(pkt.buf, s + 12, tpid);
  wbe16(pkt.buf, s + 14, tci & ~0x1000);
}

function popVlan(pkt: DpPacket): void {
  if (pkt.packetType !== 0 || pkt.len < 18) return;
  const t = be16(pkt.buf, pkt.start + 12);
  if (t === 0x8100 || t === 0x88a8) pkt.removeAt(12, 4);
}

function pushMpls(pkt: DpPacket, lse: number, ethertype: number): void {
  const eo = lastEthertypeOfs(pkt);
  if (eo < 0) return;
  const at = eo + 2;
  const old = be16(pkt.buf, pkt.start + eo);
  if (!pkt.insertAt(at, 4)) {
    executeStats.unsupported++;
    return;
  }
  const s = pkt.start;
  if (old !== 0x8847 && old !== 0x8848) wbe16(pkt.buf, s + eo, ethertype);
  wbe32(pkt.buf, s + at, lse);
  pkt.l2_5Ofs = at;
}

function popMpls(pkt: DpPacket, ethertype: number): void {
  const eo = lastEthertypeOfs(pkt);
  if (eo < 0) return;
  const s = pkt.start;
  const t = be16(pkt.buf, s + eo);
  if ((t !== 0x8847 && t !== 0x8848) || pkt.len < eo + 6) return;
  const lse = be32(pkt.buf, s + eo + 2);
  wbe16(pkt.buf, s + eo, ethertype);
  pkt.removeAt(eo + 2, 4);
  pkt.l2_5Ofs = lse & 0x100 ? -1 : eo + 2;
  if (lse & 0x100) pkt.l3Ofs = eo + 2;
}

/* ---------------- dp_hash ---------------- */


/** Hash of the packet's 5-tuple (L4 hash); `sym` makes it direction-independent. */
function l4Hash(pkt: DpPacket, basis: number, sym: boolean): number {
  ensureOffsets(pkt);
  const b = pkt.buf;
  const s = pkt.start;
  let h = basis | 0;
  const l3 = pkt.l3Ofs;
  const l4 = pkt.l4Ofs;
  const eo = lastEthertypeOfs(pkt);
  const et = eo >= 0 ? be16(b, s + eo) : pkt.packetType & 0xffff;
  let proto = 0;
  let a = 0, c = 0;
  if (et === 0x0800 && l3 >= 0 && l3 + 20 <= pkt.len) {
    a = be32(b, s + l3 + 12);
    c = be32(b, s + l3 + 16);
    proto = b[s + l3 + 9]!;
  } else if (et === 0x86dd && l3 >= 0 && l3 + 40 <= pkt.len) {
    for (let i = 0; i < 16; i += 4) {
      a ^= be32(b, s + l3 + 8 + i);
      c ^= be32(b, s + l3 + 24 + i);
    }
    proto = b[s + l3 + 6]!;
  }
  let ps = 0, pd = 0;
  if (l4 >= 0 && l4 + 4 <= pkt.len && (proto === 6 || proto === 17 || proto === 132)) {
    ps = be16(b, s + l4);
    pd = be16(b, s + l4 + 2);
  }
  if (sym) {
    h = hashAdd(h, (a ^ c) >>> 0);
    h = hashAdd(h, (ps ^ pd) | (proto << 16));
  } else {
    h = hashAdd(h, a);
    h = hashAdd(h, c);
    h = hashAdd(h, ((ps << 16) | pd) >>> 0);
    h = hashAdd(h, proto);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/* ---------------- set / set_masked ---------------- */

/** Byte i of the new value: key byte where the mask is one, old byte elsewhere. */
function mb(b: Uint8Array, k: number, m: number, i: number, masked: boolean, old: number): number {
  if (!masked) return b[k + i]!;
  const mm = b[m + i]!;
  return (b[k + i]! & mm) | (old & ~mm & 0xff);
}
function m16(b: Uint8Array, k: number, m: number, i: number, masked: boolean, old: number): number {
  if (!masked) return be16(b, k + i);
  const mm = be16(b, m + i);
  return (be16(b, k + i) & mm) | (old & ~mm & 0xffff);
}
function m32(b: Uint8Array, k: number, m: number, i: number, masked: boolean, old: number): number {
  if (!masked) return be32(b, k + i);
  const mm = be32(b, m + i);
  return ((be32(b, k + i) & mm) | (old & ~mm)) >>> 0;
}
function m32le(b: Uint8Array, k: number, m: number, masked: boolean, old: number): number {
  if (!masked) return u32le(b, k);
  const mm = u32le(b, m);
  return ((u32le(b, k) & mm) | (old & ~mm)) >>> 0;
}

/** The key attribute at `a` (with payload `len` bytes, or 2*len when masked). */
function setField(pkt: DpPacket, b: Uint8Array, a: number, masked: boolean): void {
  const type = aType(b, a);
  const total = aLen(b, a) - HDR;
  const len = masked ? total >> 1 : total;
  const k = a + HDR;
  const m = k + len;
  switch (type) {
    case A.OVS_KEY_ATTR_PRIORITY:
      if (len === 4) pkt.skbPriority = m32le(b, k, m, masked, pkt.skbPriority);
      return;
    case A.OVS_KEY_ATTR_SKB_MARK:
      if (len === 4) pkt.pktMark = m32le(b, k, m, masked, pkt.pktMark);
      return;
    case A.OVS_KEY_ATTR_DP_HASH:
      if (len === 4) pkt.dpHash = m32le(b, k, m, masked, pkt.dpHash);
      return;
    case A.OVS_KEY_ATTR_RECIRC_ID:
      if (len === 4) pkt.recircId = m32le(b, k, m, masked, pkt.recircId);
      return;
    case A.OVS_KEY_ATTR_CT_MARK:
      if (len === 4) pkt.ctMark = m32le(b, k, m, masked, pkt.ctMark);
      return;
    case A.OVS_KEY_ATTR_TUNNEL:
      if (!masked) setTunnel(pkt, b, a);
      return;
    case A.OVS_KEY_ATTR_ETHERNET:
      if (len === 12) setEthernet(pkt, b, k, m, masked);
      return;
    case A.OVS_KEY_ATTR_IPV4:
      if (len === 12) setIpv4(pkt, b, k, m, masked);
      return;
    case A.OVS_KEY_ATTR_IPV6:
      if (len === 40) setIpv6(pkt, b, k, m, masked);
      return;
    case A.OVS_KEY_ATTR_TCP:
    case A.OVS_KEY_ATTR_UDP:
    case A.OVS_KEY_ATTR_SCTP:
      if (len === 4) setPorts(pkt, b, k, m, masked, type);
      return;
    case A.OVS_KEY_ATTR_ICMP:
    case A.OVS_KEY_ATTR_ICMPV6:
      if (len === 2) setIcmp(pkt, b, k, m, masked, type === A.OVS_KEY_ATTR_ICMPV6);
      return;
    case A.OVS_KEY_ATTR_ARP:
      if (len === 24) setArp(pkt, b, k, m, masked);
      return;
    case A.OVS_KEY_ATTR_ND:
      if (len === 28) setNd(pkt, b, k, m, masked);
      return;
    case A.OVS_KEY_ATTR_MPLS:
      if (len >= 4) setMpls(pkt, b, k, m, masked);
      return;
    default:
      executeStats.unsupported++;
      return;
  }
}

function setTunnel(pkt: DpPacket, b: Uint8Array, a: number): void {
  // pkt.tun uses the flow key's TUN region layout (key-layout.ts W_TUN_* - 44).
  const t = pkt.tun;
  t.fill(0);
  pkt.tunGeneve.fill(0);
  const end = a + aLen(b, a);
  let o = a + HDR;
  let flags = 0;
  while (aOk(b, o, end)) {
    const q = o + HDR;
    switch (aType(b, o)) {
      case A.OVS_TUNNEL_KEY_ATTR_ID:
        t[0] = be32(b, q);
        t[1] = be32(b, q + 4);
        flags |= 4;
        break;
      case A.OVS_TUNNEL_KEY_ATTR_IPV4_SRC: t[2] = be32(b, q); break;
      case A.OVS_TUNNEL_KEY_ATTR_IPV4_DST: t[3] = be32(b, q); break;
      case A.OVS_TUNNEL_KEY_ATTR_IPV6_SRC: for (let i = 0; i < 4; i++) t[4 + i] = be32(b, q + 4 * i); break;
      case A.OVS_TUNNEL_KEY_ATTR_IPV6_DST: for (let i = 0; i < 4; i++) t[8 + i] = be32(b, q + 4 * i); break;
      case A.OVS_TUNNEL_KEY_ATTR_TOS: t[12] = ((t[12]! & 0x00ffffff) | (b[q]! << 24)) >>> 0; break;
      case A.OVS_TUNNEL_KEY_ATTR_TTL: t[12] = ((t[12]! & 0xff00ffff) | (b[q]! << 16)) >>> 0; break;
      case A.OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT: flags |= 1; break;
      case A.OVS_TUNNEL_KEY_ATTR_CSUM: flags |= 2; break;
      case A.OVS_TUNNEL_KEY_ATTR_OAM: flags |= 8; break;
      case A.OVS_TUNNEL_KEY_ATTR_TP_SRC: t[13] = ((t[13]! & 0xffff) | (be16(b, q) << 16)) >>> 0; break;
      case A.OVS_TUNNEL_KEY_ATTR_TP_DST: t[13] = ((t[13]! & 0xffff0000) | be16(b, q)) >>> 0; break;
      case A.OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS: {
        const n = Math.min(aLen(b, o) - HDR, 252);
        for (let i = 0; i < n; i += 4) pkt.tunGeneve[i >> 2] = be32(b, q + i);
        t[16] = ((t[16]! & ~0xff) | n) >>> 0;
        flags |= 0x10; // FLOW_TNL_F_UDPIF
        break;
      }
      default:
        break;
    }
    o = aNext(b, o);
  }
  t[12] = ((t[12]! & 0xffff0000) | flags) >>> 0;
}

function setEthernet(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean): void {
  if (pkt.packetType !== 0 || pkt.len < 14) return;
  const d = pkt.buf;
  const s = pkt.start;
  // Attribute order is src then dst; the frame has dst first.
  for (let i = 0; i < 6; i++) {
    d[s + 6 + i] = mb(b, k, m, i, masked, d[s + 6 + i]!);
    d[s + i] = mb(b, k, m, 6 + i, masked, d[s + i]!);
  }
}

/** Updates the L4 checksum at frame offset `co` (0 = none) for a 32-bit pseudo-header change. */
function l4CsumOffset(pkt: DpPacket, proto: number): number {
  const l4 = pkt.l4Ofs;
  if (l4 < 0) return -1;
  if (proto === 6 && l4 + 18 <= pkt.len) return l4 + 16;
  if (proto === 17 && l4 + 8 <= pkt.len) return l4 + 6;
  return -1;
}

function setIpv4(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean): void {
  ensureOffsets(pkt);
  const l3 = pkt.l3Ofs;
  if (l3Type(pkt) !== 0x0800 || l3 + 20 > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  const d = pkt.buf;
  const h = pkt.start + l3;
  let csum = be16(d, h + 10);
  const proto = d[h + 9]!;
  const frag = be16(d, h + 6);
  const hasL4 = (frag & 0x1fff) === 0;
  const co = hasL4 ? l4CsumOffset(pkt, proto) : -1;
  let l4c = co >= 0 ? be16(d, pkt.start + co) : 0;
  const udpNoCsum = proto === 17 && l4c === 0;

  const oldSrc = be32(d, h + 12), newSrc = m32(b, k, m, 0, masked, oldSrc);
  const oldDst = be32(d, h + 16), newDst = m32(b, k, m, 4, masked, oldDst);
  if (newSrc !== oldSrc) {
    csum = csumUpdate32(csum, oldSrc, newSrc);
    if (co >= 0 && !udpNoCsum) l4c = csumUpdate32(l4c, oldSrc, newSrc);
    wbe32(d, h + 12, newSrc);
  }
  if (newDst !== oldDst) {
    csum = csumUpdate32(csum, oldDst, newDst);
    if (co >= 0 && !udpNoCsum) l4c = csumUpdate32(l4c, oldDst, newDst);
    wbe32(d, h + 16, newDst);
  }
  // tos (byte 1) and ttl (byte 8) share checksum words with their neighbours.
  const oldTos = d[h + 1]!, newTos = mb(b, k, m, 9, masked, oldTos);
  if (newTos !== oldTos) {
    csum = csumUpdate16(csum, (d[h]! << 8) | oldTos, (d[h]! << 8) | newTos);
    d[h + 1] = newTos;
  }
  const oldTtl = d[h + 8]!, newTtl = mb(b, k, m, 10, masked, oldTtl);
  if (newTtl !== oldTtl) {
    csum = csumUpdate16(csum, (oldTtl << 8) | proto, (newTtl << 8) | proto);
    d[h + 8] = newTtl;
  }
  wbe16(d, h + 10, csum);
  if (co >= 0 && !udpNoCsum) wbe16(d, pkt.start + co, proto === 17 && l4c === 0 ? 0xffff : l4c);
}

function setIpv6(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean): void {
  ensureOffsets(pkt);
  const l3 = pkt.l3Ofs;
  if (l3Type(pkt) !== 0x86dd || l3 + 40 > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  const d = pkt.buf;
  const h = pkt.start + l3;
  // The transport checksum covers the addresses through the pseudo-header.
  let proto = -1;
  let co = -1;
  if (pkt.l4Ofs >= 0) {
    proto = l4ProtoV6(pkt);
    if (proto === 6 || proto === 17) co = l4CsumOffset(pkt, proto);
    else if (proto === 58 && pkt.l4Ofs + 4 <= pkt.len) co = pkt.l4Ofs + 2;
  }
  let l4c = co >= 0 ? be16(d, pkt.start + co) : 0;
  const udpNoCsum = proto === 17 && l4c === 0;
  for (let f = 0; f < 2; f++) {
    const fo = 8 + 16 * f;
    for (let i = 0; i < 16; i += 2) {
      const old = be16(d, h + fo + i);
      const now = m16(b, k, m, 16 * f + i, masked, old);
      if (now !== old) {
        if (co >= 0 && !udpNoCsum) l4c = csumUpdate16(l4c, old, now);
        wbe16(d, h + fo + i, now);
      }
    }
  }
  const vtcfl = be32(d, h);
  const oldLabel = vtcfl & 0xfffff;
  const newLabel = m32(b, k, m, 32, masked, oldLabel) & 0xfffff;
  const oldTc = (vtcfl >>> 20) & 0xff;
  const newTc = mb(b, k, m, 37, masked, oldTc);
  wbe32(d, h, ((vtcfl & 0xf0000000) | (newTc << 20) | newLabel) >>> 0);
  d[h + 7] = mb(b, k, m, 38, masked, d[h + 7]!);
  if (co >= 0 && !udpNoCsum) wbe16(d, pkt.start + co, proto === 17 && l4c === 0 ? 0xffff : l4c);
}

/** The upper-layer protocol of an IPv6 packet whose l4Ofs is known. */
function l4ProtoV6(pkt: DpPacket): number {
  const d = pkt.buf;
  const s = pkt.start;
  let nh = d[s + pkt.l3Ofs + 6]!;
  let o = pkt.l3Ofs + 40;
  while (o < pkt.l4Ofs && o + 2 <= pkt.len) {
    const next = d[s + o]!;
    const len = nh === 51 ? (d[s + o + 1]! + 2) * 4 : nh === 44 ? 8 : (d[s + o + 1]! + 1) * 8;
    nh = next;
    o += len;
  }
  return nh;
}

function transportProto(pkt: DpPacket): number {
  if (pkt.l3Ofs < 0 || pkt.l4Ofs < 0) return -1;
  const et = l3Type(pkt);
  if (et === 0x0800) {
    const h = pkt.start + pkt.l3Ofs;
    if ((be16(pkt.buf, h + 6) & 0x1fff) !== 0) return -1; // later fragment: no L4 header
    return pkt.buf[h + 9]!;
  }
  if (et === 0x86dd) return l4ProtoV6(pkt);
  return -1;
}

function setPorts(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean, type: number): void {
  ensureOffsets(pkt);
  const proto = transportProto(pkt);
  const want = type === A.OVS_KEY_ATTR_TCP ? 6 : type === A.OVS_KEY_ATTR_UDP ? 17 : 132;
  const l4 = pkt.l4Ofs;
  if (proto !== want || l4 + (want === 6 ? 20 : want === 17 ? 8 : 12) > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  const d = pkt.buf;
  const h = pkt.start + l4;
  const oldS = be16(d, h), newS = m16(b, k, m, 0, masked, oldS);
  const oldD = be16(d, h + 2), newD = m16(b, k, m, 2, masked, oldD);
  if (want === 132) {
    wbe16(d, h, newS);
    wbe16(d, h + 2, newD);
    const end = pkt.len - pkt.l2PadSize;
    wbe32(d, h + 8, sctpChecksum(d, h, end - l4));
    return;
  }
  const co = want === 6 ? h + 16 : h + 6;
  let c = be16(d, co);
  const none = want === 17 && c === 0;
  if (!none) {
    c = csumUpdate16(c, oldS, newS);
    c = csumUpdate16(c, oldD, newD);
    wbe16(d, co, want === 17 && c === 0 ? 0xffff : c);
  }
  wbe16(d, h, newS);
  wbe16(d, h + 2, newD);
}

function setIcmp(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean, v6: boolean): void {
  ensureOffsets(pkt);
  const proto = transportProto(pkt);
  if (proto !== (v6 ? 58 : 1) || pkt.l4Ofs + 4 > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  const d = pkt.buf;
  const h = pkt.start + pkt.l4Ofs;
  const old = be16(d, h);
  const now = (mb(b, k, m, 0, masked, d[h]!) << 8) | mb(b, k, m, 1, masked, d[h + 1]!);
  if (now !== old) {
    wbe16(d, h + 2, csumUpdate16(be16(d, h + 2), old, now));
    wbe16(d, h, now);
  }
}

function setArp(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean): void {
  ensureOffsets(pkt);
  const l3 = pkt.l3Ofs;
  if (l3 < 0 || l3 + 28 > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  const d = pkt.buf;
  const h = pkt.start + l3;
  // Attribute: sip(0) tip(4) op(8) sha(10) tha(16); frame: op(6) sha(8) spa(14) tha(18) tpa(24).
  wbe16(d, h + 6, m16(b, k, m, 8, masked, be16(d, h + 6)));
  for (let i = 0; i < 6; i++) {
    d[h + 8 + i] = mb(b, k, m, 10 + i, masked, d[h + 8 + i]!);
    d[h + 18 + i] = mb(b, k, m, 16 + i, masked, d[h + 18 + i]!);
  }
  wbe32(d, h + 14, m32(b, k, m, 0, masked, be32(d, h + 14)));
  wbe32(d, h + 24, m32(b, k, m, 4, masked, be32(d, h + 24)));
}

function setNd(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean): void {
  ensureOffsets(pkt);
  if (transportProto(pkt) !== 58 || pkt.l4Ofs + 24 > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  const d = pkt.buf;
  const s = pkt.start;
  const h = s + pkt.l4Ofs;
  const type = d[h]!;
  if ((type !== 135 && type !== 136) || d[h + 1] !== 0) {
    executeStats.setMissingHeader++;
    return;
  }
  let c = be16(d, h + 2);
  for (let i = 0; i < 16; i += 2) {
    const old = be16(d, h + 8 + i);
    const now = m16(b, k, m, i, masked, old);
    if (now !== old) {
      c = csumUpdate16(c, old, now);
      wbe16(d, h + 8 + i, now);
    }
  }
  // Options: type 1 = source link-layer address (sll), 2 = target (tll).
  const end = s + pkt.len - pkt.l2PadSize;
  let o = h + 24;
  while (o + 8 <= end) {
    const ot = d[o]!, ol = d[o + 1]! * 8;
    if (ol === 0 || o + ol > end) break;
    if ((ot === 1 || ot === 2) && ol === 8) {
      const ko = ot === 1 ? 16 : 22;
      for (let i = 0; i < 6; i += 2) {
        const old = be16(d, o + 2 + i);
        const now = m16(b, k, m, ko + i, masked, old);
        if (now !== old) {
          c = csumUpdate16(c, old, now);
          wbe16(d, o + 2 + i, now);
        }
      }
    }
    o += ol;
  }
  wbe16(d, h + 2, c);
}

function setMpls(pkt: DpPacket, b: Uint8Array, k: number, m: number, masked: boolean): void {
  const eo = lastEthertypeOfs(pkt);
  if (eo < 0) return;
  const s = pkt.start;
  const t = be16(pkt.buf, s + eo);
  if ((t !== 0x8847 && t !== 0x8848) || eo + 6 > pkt.len) {
    executeStats.setMissingHeader++;
    return;
  }
  wbe32(pkt.buf, s + eo + 2, m32(b, k, m, 0, masked, be32(pkt.buf, s + eo + 2)));
}
