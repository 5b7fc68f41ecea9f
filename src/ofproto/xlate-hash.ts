/**
 * The flow hashes of OVS's multipath and bundle actions (and the default
 * select-group hash): jhash (Bob Jenkins' lookup3, as OVS's jhash_bytes),
 * the symmetric L4 / L3L4 / L3 hashes over a flow, and which fields each
 * hash un-wildcards. Bit-exact with OVS so that link and member choices,
 * and the megaflows they produce, are the same.
 */
import {
  O_ETH_DST, O_ETH_SRC, O_IPV6_DST, O_IPV6_SRC, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_TP_SRC, W_VLAN0, W_VLAN1,
} from "../flow/key-layout.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { hashAdd, hashFinish } from "../flow/key-ops.js";
import { hashInt } from "./ofport-order.js";
import { dlType } from "./xlate-commit.js";
import { writeSubfield } from "./xlate-fields.js";

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

const scratch = new Uint8Array(64);
const dv = new DataView(scratch.buffer);

/** OVS's jhash_bytes over scratch[0..n). */
function jhashScratch(n: number, basis: number): number {
  let a = (0xdeadbeef + n + basis) >>> 0;
  let b = a;
  let c = a;
  let p = 0;
  let left = n;
  while (left >= 12) {
    a = (a + dv.getUint32(p, true)) >>> 0;
    b = (b + dv.getUint32(p + 4, true)) >>> 0;
    c = (c + dv.getUint32(p + 8, true)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    left -= 12;
    p += 12;
  }
  if (left > 0) {
    for (let i = left; i < 12; i++) scratch[p + i] = 0;
    a = (a + dv.getUint32(p, true)) >>> 0;
    b = (b + dv.getUint32(p + 4, true)) >>> 0;
    c = (c + dv.getUint32(p + 8, true)) >>> 0;
    c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
    a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
    b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
    c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
    a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
    b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
    c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  }
  return c >>> 0;
}

function keyByte(f: Uint32Array, b: number): number {
  return (f[b >>> 2]! >>> (24 - 8 * (b & 3))) & 0xff;
}
function orWord(wc: Uint32Array | null, w: number, m: number): void {
  if (wc !== null) wc[w] = (wc[w]! | m) >>> 0;
}
function orBytes(wc: Uint32Array | null, off: number, n: number): void {
  if (wc === null) return;
  for (let i = 0; i < n; i++) {
    const b = off + i;
    wc[b >>> 2] = (wc[b >>> 2]! | (0xff << (24 - 8 * (b & 3)))) >>> 0;
  }
}

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;

/** OVS's flow_hash_symmetric_l4 (no wildcard side effects). */
export function hashSymmetricL4(flow: Uint32Array, basis: number): number {
  scratch.fill(0, 0, 32);
  for (let i = 0; i < 6; i++) scratch[22 + i] = keyByte(flow, O_ETH_SRC + i) ^ keyByte(flow, O_ETH_DST + i);
  let tci = 0;
  for (let i = 0; i < 2; i++) {
    const t = flow[W_VLAN0 + i]! & 0xffff;
    if (t === 0) break;
    tci ^= t & 0xfff;
  }
  const t = dlType(flow);
  dv.setUint16(16, t, false);
  dv.setUint16(18, tci, false);
  const proto = flow[W_NW_PROTO]! >>> 24;
  if (t === ETH_TYPE_IP) {
    dv.setUint32(0, (flow[W_NW_SRC]! ^ flow[W_NW_DST]!) >>> 0, false);
    scratch[28] = proto;
    if (proto === 6 || proto === 132) dv.setUint16(20, ((flow[W_TP_SRC]! >>> 16) ^ (flow[W_TP_SRC]! & 0xffff)) & 0xffff, false);
  } else if (t === ETH_TYPE_IPV6) {
    for (let i = 0; i < 16; i++) scratch[i] = keyByte(flow, O_IPV6_SRC + i) ^ keyByte(flow, O_IPV6_DST + i);
    scratch[28] = proto;
    if (proto === 6 || proto === 132) dv.setUint16(20, ((flow[W_TP_SRC]! >>> 16) ^ (flow[W_TP_SRC]! & 0xffff)) & 0xffff, false);
  }
  return jhashScratch(32, basis);
}

/** The symmetric L4 hash and its wildcards (the select group default). */
export function symmetricL4Hash(flow: Uint32Array, wc: Uint32Array | null, basis: number): number {
  maskHashFields(flow, wc, 1);
  return hashSymmetricL4(flow, basis);
}

/** Mixes in the addresses symmetrically (the L3 part of OVS's symmetric hashes); null when the flow is neither IPv4 nor IPv6. */
function symmetricL3Part(flow: Uint32Array, hash: number): number | null {
  const t = dlType(flow);
  if (t === ETH_TYPE_IP) {
    hash = hashAdd(hash, flow[W_NW_SRC]! & flow[W_NW_DST]!);
    return hashAdd(hash, flow[W_NW_SRC]! ^ flow[W_NW_DST]!);
  }
  if (t !== ETH_TYPE_IPV6) return null;
  for (let w = 0; w < 4; w++) {
    const a = flow[O_IPV6_SRC / 4 + w]!;
    const b = flow[O_IPV6_DST / 4 + w]!;
    hash = hashAdd(hash, a & b);
    hash = hashAdd(hash, a ^ b);
  }
  return hash;
}

/** OVS's flow_hash_symmetric_l3l4 (with or without UDP ports). */
function hashSymmetricL3L4(flow: Uint32Array, basis: number, incUdp: boolean): number {
  let hash = symmetricL3Part(flow, basis);
  if (hash === null) return hashFinish(basis, basis);
  const proto = flow[W_NW_PROTO]! >>> 24;
  hash = hashAdd(hash, proto);
  if (proto === 6 || proto === 132 || (incUdp && proto === 17)) {
    const s = flow[W_TP_SRC]! >>> 16;
    const d = flow[W_TP_SRC]! & 0xffff;
    hash = hashAdd(hash, (s & d) | ((s ^ d) << 16));
  }
  return hashFinish(hash, basis);
}

/** OVS's flow_hash_symmetric_l3. */
function hashSymmetricL3(flow: Uint32Array, basis: number): number {
  return hashFinish(symmetricL3Part(flow, basis) ?? basis, basis);
}

/** OVS's flow_hash_fields (NX_HASH_FIELDS_*: 0 eth_src, 1 symmetric_l4, 2 symmetric_l3l4, 3 symmetric_l3l4+udp, 4 nw_src, 5 nw_dst, 6 symmetric_l3). */
export function hashFields(flow: Uint32Array, fields: number, basis: number): number {
  switch (fields) {
    case 0:
      for (let i = 0; i < 6; i++) scratch[i] = keyByte(flow, O_ETH_SRC + i);
      return jhashScratch(6, basis);
    case 1:
      return hashSymmetricL4(flow, basis);
    case 2:
      return hashSymmetricL3L4(flow, basis, false);
    case 3:
      return hashSymmetricL3L4(flow, basis, true);
    case 4:
    case 5: {
      const t = dlType(flow);
      if (t === ETH_TYPE_IP) {
        dv.setUint32(0, flow[fields === 4 ? W_NW_SRC : W_NW_DST]!, false);
        return jhashScratch(4, basis);
      }
      if (t === ETH_TYPE_IPV6) {
        const off = fields === 4 ? O_IPV6_SRC : O_IPV6_DST;
        for (let i = 0; i < 16; i++) scratch[i] = keyByte(flow, off + i);
        return jhashScratch(16, basis);
      }
      return basis;
    }
    case 6:
      return hashSymmetricL3(flow, basis);
    default:
      return basis;
  }
}

/** OVS's flow_mask_hash_fields. */
export function maskHashFields(flow: Uint32Array, wc: Uint32Array | null, fields: number): void {
  const t = dlType(flow);
  const ip = t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
  const proto = flow[W_NW_PROTO]! >>> 24;
  const l3 = (): void => {
    if (t === ETH_TYPE_IP) {
      orWord(wc, W_NW_SRC, 0xffffffff);
      orWord(wc, W_NW_DST, 0xffffffff);
    } else if (t === ETH_TYPE_IPV6) {
      orBytes(wc, O_IPV6_SRC, 32);
    }
  };
  switch (fields) {
    case 0:
      orBytes(wc, O_ETH_SRC, 6);
      break;
    case 1:
      orBytes(wc, O_ETH_DST, 12);
      l3();
      if (ip) {
        orWord(wc, W_NW_PROTO, 0xff000000);
        if (proto === 6 || proto === 132) orWord(wc, W_TP_SRC, 0xffffffff);
      }
      orWord(wc, W_VLAN0, 0x1fff);
      orWord(wc, W_VLAN1, 0x1fff);
      break;
    case 2:
    case 3:
      if (fields === 3 && ip && proto === 17) orWord(wc, W_TP_SRC, 0xffffffff);
      l3();
      orWord(wc, W_NW_PROTO, 0xff000000);
      if (proto === 6 || proto === 132) orWord(wc, W_TP_SRC, 0xffffffff);
      break;
    case 4:
      if (t === ETH_TYPE_IP) orWord(wc, W_NW_SRC, 0xffffffff);
      else if (t === ETH_TYPE_IPV6) orBytes(wc, O_IPV6_SRC, 16);
      break;
    case 5:
      if (t === ETH_TYPE_IP) orWord(wc, W_NW_DST, 0xffffffff);
      else if (t === ETH_TYPE_IPV6) orBytes(wc, O_IPV6_DST, 16);
      break;
    case 6:
      l3();
      break;
  }
}

/** OVS's hash_2words. */
function hash2(a: number, b: number): number {
  return hashInt(a, b);
}

function roundUpPow2(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

/** The link the multipath algorithm picks (NX_MP_ALG_*: 0 modulo_n, 1 hash_threshold, 2 hrw, 3 iter_hash). */
export function multipathLink(hash: number, algorithm: number, nLinks: number, arg: number): number {
  switch (algorithm) {
    case 0:
      return hash % nLinks;
    case 1:
      if (nLinks === 1) return 0;
      return Math.floor(hash / (Math.floor(0xffffffff / nLinks) + 1));
    case 2: {
      if (nLinks <= 64) {
        let best = 0;
        let bestW = hash2(hash, 0);
        for (let l = 1; l < nLinks; l++) {
          const w = hash2(hash, l);
          if (w > bestW) {
            best = l;
            bestW = w;
          }
        }
        return best;
      }
      return hash % nLinks;
    }
    case 3: {
      const m = roundUpPow2(nLinks) - 1;
      let i = 0;
      let h = hash;
      do {
        h = hash2(h, i++);
        void arg;
      } while ((h & m) >= nLinks);
      return h & m;
    }
    default:
      return 0;
  }
}

/** OVS's multipath_execute. */
export function multipathExecute(flow: Uint32Array, wc: Uint32Array | null, a: Extract<OfpAction, { type: "multipath" }>): void {
  const hash = hashFields(flow, a.fields, a.basis);
  const link = multipathLink(hash, a.algorithm, a.maxLink + 1, a.arg);
  maskHashFields(flow, wc, a.fields);
  writeSubfield(flow, wc, a.dst, BigInt(link));
}

/** OVS's bundle_execute: the member port chosen (OFPP_NONE when none is enabled). */
export function bundleExecute(ctx: { flow: Uint32Array; wc: Uint32Array }, a: Extract<OfpAction, { type: "bundle" | "bundle_load" }>,
  enabled: (port: number) => boolean): number {
  const en = (p: number): boolean => {
    switch (p) {
      case 0xfff8: case 0xfff9: case 0xfffa: case 0xfffb: case 0xfffc: case 0xffff:
        return true;
      case 0xfffd:
        return false;
      default:
        return enabled(p);
    }
  };
  if (a.algorithm === 0) {
    for (const m of a.members) if (en(m)) return m;
    return 0xffff;
  }
  if (a.members.length > 1) maskHashFields(ctx.flow, ctx.wc, a.fields);
  const fh = hashFields(ctx.flow, a.fields, a.basis);
  let best = -1;
  let bestHash = 0;
  for (let i = 0; i < a.members.length; i++) {
    if (!en(a.members[i]!)) continue;
    const h = hash2(i, fh);
    if (best < 0 || h > bestHash) {
      best = i;
      bestHash = h;
    }
  }
  return best >= 0 ? a.members[best]! : 0xffff;
}
