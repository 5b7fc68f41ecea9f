/**
 * Test helpers for the datapath: frame builders, datapath action encoders
 * (netlink TLVs as OVS_ACTION_ATTR_*), keys and masks.
 */
import { DpPacket } from "../../src/packet/dp-packet.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { FLOW_U32S, W_DL_TYPE, W_IN_PORT, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_RECIRC_ID, W_TP_SRC, W_ETH_DST } from "../../src/flow/key-layout.js";

export interface UdpFrameSpec {
  src?: number; // IPv4 source
  dst?: number;
  sport?: number;
  dport?: number;
  payload?: number; // payload bytes
  vlan?: number;
}

/** An Ethernet/IPv4/UDP frame (64 bytes with the default 18-byte payload, without FCS: 60). */
export function udpFrame(s: UdpFrameSpec = {}): Uint8Array {
  const payload = s.payload ?? 18;
  const vl = s.vlan !== undefined ? 4 : 0;
  const f = new Uint8Array(14 + vl + 20 + 8 + payload);
  const dv = new DataView(f.buffer);
  f.set([0x50, 0x54, 0x00, 0x00, 0x00, 0x02, 0x50, 0x54, 0x00, 0x00, 0x00, 0x01], 0);
  let o = 12;
  if (s.vlan !== undefined) {
    dv.setUint16(o, 0x8100);
    dv.setUint16(o + 2, s.vlan);
    o += 4;
  }
  dv.setUint16(o, 0x0800);
  o += 2;
  f[o] = 0x45;
  dv.setUint16(o + 2, 20 + 8 + payload);
  f[o + 8] = 64;
  f[o + 9] = 17;
  dv.setUint32(o + 12, s.src ?? 0x0a000001);
  dv.setUint32(o + 16, s.dst ?? 0x0a000002);
  o += 20;
  dv.setUint16(o, s.sport ?? 1234);
  dv.setUint16(o + 2, s.dport ?? 5678);
  dv.setUint16(o + 4, 8 + payload);
  return f;
}

/** The datapath flow key of `frame` received on `inPort`. */
export function keyOf(frame: Uint8Array, inPort: number, recircId = 0): Uint32Array {
  const p = new DpPacket(2048);
  p.setData(frame);
  p.inPort = inPort;
  p.recircId = recircId;
  const k = new Uint32Array(FLOW_U32S);
  extractFlowKey(p, k);
  return k;
}

/** A mask matching in_port, recirc_id and dl_type exactly, plus `extra` words. */
export function maskOf(...extra: ("ip" | "proto" | "ports" | "eth")[]): Uint32Array {
  const m = new Uint32Array(FLOW_U32S);
  m[W_IN_PORT] = 0xffffffff;
  m[W_RECIRC_ID] = 0xffffffff;
  m[W_DL_TYPE] = 0xffff0000;
  for (const e of extra) {
    if (e === "ip") {
      m[W_NW_SRC] = 0xffffffff;
      m[W_NW_DST] = 0xffffffff;
    } else if (e === "proto") {
      m[W_NW_PROTO] = 0xff000000;
    } else if (e === "ports") {
      m[W_TP_SRC] = 0xffffffff;
    } else {
      m[W_ETH_DST] = 0xffffffff;
      m[W_ETH_DST + 1] = 0xffffffff;
      m[W_ETH_DST + 2] = 0xffffffff;
    }
  }
  return m;
}

function attr(type: number, payload: Uint8Array): Uint8Array {
  const len = 4 + payload.length;
  const out = new Uint8Array((len + 3) & ~3);
  out[0] = len & 0xff;
  out[1] = len >> 8;
  out[2] = type & 0xff;
  out[3] = type >> 8;
  out.set(payload, 4);
  return out;
}

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

export function actOutput(port: number): Uint8Array {
  return attr(1, u32le(port));
}

export function actRecirc(id: number): Uint8Array {
  return attr(7, u32le(id));
}

/** userspace(pid=0, userdata=...) */
export function actUserspace(userdata: Uint8Array | null): Uint8Array {
  const parts = [attr(1, u32le(0))];
  if (userdata !== null) parts.push(attr(2, userdata));
  return attr(2, concat(...parts));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
