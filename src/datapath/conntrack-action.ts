/**
 * The datapath's `ct` action (OVS_ACTION_ATTR_CT) on one packet: parses
 * the nested attributes (zone, commit, force_commit, mark, labels,
 * helper, timeout, eventmask, nat) as dpif-netdev does and runs the
 * connection tracker (conntrack.ts). Attribute parsing reads the action
 * bytes in place into module-level scratch; nothing is allocated per
 * packet except a helper name.
 */
import type { DpPacket } from "../packet/dp-packet.js";
import { extractFlowKey } from "../flow/extract.js";
import { FLOW_U32S } from "../flow/key-layout.js";
import * as A from "../flow/odp-attrs.js";
import { NAT_DST, NAT_DST_PORT, NAT_SRC, NAT_SRC_PORT, NatSpec, type Conntrack } from "./conntrack.js";
import { IPF_DONE, IPF_HELD } from "./ipf.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("dpif_netdev");

const NAT_ATTR_SRC = 1;
const NAT_ATTR_DST = 2;
const NAT_ATTR_IP_MIN = 3;
const NAT_ATTR_IP_MAX = 4;
const NAT_ATTR_PROTO_MIN = 5;
const NAT_ATTR_PROTO_MAX = 6;

const scratchKey = new Uint32Array(FLOW_U32S);
const nat = new NatSpec();
const labelVal = new Uint32Array(4);
const labelMask = new Uint32Array(4);
let natWarned = 0;

const u16le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32le = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const be32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Ethertype of the packet's L3 header (0 when there is none). */
function dlTypeOf(pkt: DpPacket): number {
  if (pkt.l3Ofs < 0) extractFlowKey(pkt, scratchKey);
  if (pkt.l3Ofs < 0) return 0;
  if (pkt.packetType !== 0) return pkt.packetType & 0xffff;
  if (pkt.l2_5Ofs >= 0 || pkt.l3Ofs < 14) return 0;
  const o = pkt.start + pkt.l3Ofs - 2;
  return (pkt.buf[o]! << 8) | pkt.buf[o + 1]!;
}

function readAddr(b: Uint8Array, o: number, len: number, out: Uint32Array): boolean {
  out.fill(0);
  if (len === 4) {
    out[0] = be32(b, o);
    return false;
  }
  if (len === 16) {
    for (let i = 0; i < 4; i++) out[i] = be32(b, o + 4 * i);
    return true;
  }
  return false;
}

/** executeCt: the packet went through the tracker. */
export const CT_DONE = 0;
/** executeCt: a fragment kept by reassembly; the caller stops executing the packet (and frees it). */
export const CT_STOLEN = 1;
/** executeCt: a fragment completed its packet; the kept fragments in `ct.ipf.resume` continue after the ct action. */
export const CT_RESUME = 2;

/** Runs `ct(...)` (attributes at b[off, end)) on `pkt` with tracker `ct` at time `now` (ms); CT_*. */
export function executeCt(ct: Conntrack, pkt: DpPacket, b: Uint8Array, off: number, end: number, now: number): number {
  let commit = false, force = false, zone = 0;
  let setMark = false, markVal = 0, markMask = 0;
  let setLabel = false;
  let helper: string | null = null;
  let haveNat = false;
  let o = off;
  while (o + 4 <= end) {
    const len = u16le(b, o);
    if (len < 4 || o + len > end) break;
    const t = u16le(b, o + 2) & 0x3fff;
    const p = o + 4;
    const plen = len - 4;
    switch (t) {
      case A.OVS_CT_ATTR_FORCE_COMMIT:
        force = true;
        commit = true;
        break;
      case A.OVS_CT_ATTR_COMMIT:
        commit = true;
        break;
      case A.OVS_CT_ATTR_ZONE:
        if (plen >= 2) zone = u16le(b, p);
        break;
      case A.OVS_CT_ATTR_MARK:
        if (plen >= 8) {
          setMark = true;
          markVal = u32le(b, p);
          markMask = u32le(b, p + 4);
        }
        break;
      case A.OVS_CT_ATTR_LABELS:
        if (plen >= 32) {
          setLabel = true;
          for (let i = 0; i < 4; i++) {
            labelVal[i] = be32(b, p + 4 * i);
            labelMask[i] = be32(b, p + 16 + 4 * i);
          }
        }
        break;
      case A.OVS_CT_ATTR_HELPER: {
        let e = p;
        while (e < p + plen && b[e] !== 0) e++;
        helper = e > p ? String.fromCharCode(...b.subarray(p, e)) : null;
        break;
      }
      case A.OVS_CT_ATTR_NAT: {
        haveNat = true;
        nat.reset();
        let ipMin = false, ipMax = false, pMin = false, pMax = false;
        let q = p;
        const qe = p + plen;
        while (q + 4 <= qe) {
          const ql = u16le(b, q);
          if (ql < 4 || q + ql > qe) break;
          const qt = u16le(b, q + 2) & 0x3fff;
          const qp = q + 4;
          const qlen = ql - 4;
          if (qt === NAT_ATTR_SRC) nat.action |= NAT_SRC;
          else if (qt === NAT_ATTR_DST) nat.action |= NAT_DST;
          else if (qt === NAT_ATTR_IP_MIN) {
            nat.v6 = readAddr(b, qp, qlen, nat.minAddr);
            ipMin = true;
          } else if (qt === NAT_ATTR_IP_MAX) {
            readAddr(b, qp, qlen, nat.maxAddr);
            ipMax = true;
          } else if (qt === NAT_ATTR_PROTO_MIN && qlen >= 2) {
            nat.minPort = u16le(b, qp);
            pMin = true;
          } else if (qt === NAT_ATTR_PROTO_MAX && qlen >= 2) {
            nat.maxPort = u16le(b, qp);
            pMax = true;
          }
          q += (ql + 3) & ~3;
        }
        if (ipMin && !ipMax) nat.maxAddr.set(nat.minAddr);
        if (pMin && !pMax) nat.maxPort = nat.minPort;
        if (pMin || pMax) {
          if (nat.action & NAT_SRC) nat.action |= NAT_SRC_PORT;
          else if (nat.action & NAT_DST) nat.action |= NAT_DST_PORT;
        }
        break;
      }
      default:
        // eventmask and timeout: nothing to do in userspace.
        break;
    }
    o += (len + 3) & ~3;
  }
  if (haveNat && (nat.action & (NAT_SRC | NAT_DST)) !== 0 && !commit && now - natWarned > 1000) {
    natWarned = now;
    log.warn("NAT specified without commit.");
  }
  const dlType = dlTypeOf(pkt);
  // Fragments are reassembled first (ipf.ts): the tracker sees whole packets.
  const f = ct.ipf.preprocess(pkt, dlType, zone, now);
  if (f === IPF_HELD) return CT_STOLEN;
  const target = f === IPF_DONE ? ct.ipf.reassembled! : pkt;
  if (f === IPF_DONE) extractFlowKey(target, scratchKey);
  ct.execute(target, dlType, zone, commit, force, markVal, markMask, setMark,
    setLabel ? labelVal : null, setLabel ? labelMask : null, haveNat ? nat : null, helper, now);
  if (f !== IPF_DONE) return CT_DONE;
  // Every fragment carries the reassembled packet's connection state.
  copyCtState(target, pkt);
  for (const h of ct.ipf.resume) copyCtState(target, h);
  return CT_RESUME;
}

function copyCtState(from: DpPacket, to: DpPacket): void {
  to.ctState = from.ctState;
  to.ctZone = from.ctZone;
  to.ctMark = from.ctMark;
  to.ctLabel.set(from.ctLabel);
  to.ctOrigTupleIpv6 = from.ctOrigTupleIpv6;
  to.ctNwProto = from.ctNwProto;
  to.ctNwSrc = from.ctNwSrc;
  to.ctNwDst = from.ctNwDst;
  to.ctIpv6Src.set(from.ctIpv6Src);
  to.ctIpv6Dst.set(from.ctIpv6Dst);
  to.ctTpSrc = from.ctTpSrc;
  to.ctTpDst = from.ctTpDst;
}
