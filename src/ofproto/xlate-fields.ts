/**
 * Field access for translation: set_field/load, move, sub-field reads and
 * writes on a working flow, with megaflow un-wildcarding, and the
 * prerequisite checks OVS makes before touching a field (which themselves
 * un-wildcard what they look at: dl_type, nw_proto, the VLAN CFI bit...).
 *
 * Values of up to 32 bits are plain numbers; wider sub-fields (xreg,
 * ipv6, metadata...) go through BigInt, off the common path.
 */
import {
  S_DL_TYPE, W_DL_TYPE, W_NW_PROTO, W_PACKET_TYPE, W_TP_SRC, W_VLAN0,
} from "../flow/key-layout.js";
import type { MfField, MfPrereq } from "../openflow/meta-flow.js";
import { mfFromName } from "../openflow/meta-flow.js";
import { mfKey, mfPortFromOfp11, mfPortToOfp11, type MfKey } from "../openflow/mf-key.js";
import type { Subfield } from "../openflow/ofp-actions-subfield.js";

function dl(f: Uint32Array): number {
  return f[W_DL_TYPE]! >>> S_DL_TYPE;
}
function maskWord(wc: Uint32Array | null, w: number, bits: number): void {
  if (wc !== null) wc[w] = (wc[w]! | bits) >>> 0;
}

/** OVS's mf_are_prereqs_ok with wildcard tracking. */
export function prereqsOk(p: MfPrereq, flow: Uint32Array, wc: Uint32Array | null): boolean {
  const t = dl(flow);
  const ip = t === 0x0800 || t === 0x86dd;
  const proto = flow[W_NW_PROTO]! >>> 24;
  switch (p) {
    case "none":
      return true;
    case "ethernet":
      maskWord(wc, W_PACKET_TYPE, 0xffffffff);
      return flow[W_PACKET_TYPE] === 0;
    case "arp":
      return t === 0x0806 || t === 0x8035;
    case "ipv4":
      return t === 0x0800;
    case "ipv6":
      return t === 0x86dd;
    case "ip_any":
      return ip;
    case "mpls":
      return t === 0x8847 || t === 0x8848;
    case "nsh":
      return t === 0x894f;
    case "tcp":
    case "udp":
    case "sctp": {
      if (!ip) return false;
      maskWord(wc, W_NW_PROTO, 0xff000000);
      return proto === (p === "tcp" ? 6 : p === "udp" ? 17 : 132);
    }
    case "icmpv4":
      if (t !== 0x0800) return false;
      maskWord(wc, W_NW_PROTO, 0xff000000);
      return proto === 1;
    case "icmpv6":
      if (t !== 0x86dd) return false;
      maskWord(wc, W_NW_PROTO, 0xff000000);
      return proto === 58;
    case "nd":
    case "nd_solicit":
    case "nd_advert": {
      if (t !== 0x86dd) return false;
      maskWord(wc, W_NW_PROTO, 0xff000000);
      if (proto !== 58) return false;
      maskWord(wc, W_TP_SRC, 0x0000ffff);
      if ((flow[W_TP_SRC]! & 0xffff) !== 0) return false;
      maskWord(wc, W_TP_SRC, 0xffff0000);
      const type = flow[W_TP_SRC]! >>> 16;
      if (p === "nd_solicit") return type === 135;
      if (p === "nd_advert") return type === 136;
      return type === 135 || type === 136;
    }
    case "vlan_vid":
      maskWord(wc, W_VLAN0, 0x1000);
      return (flow[W_VLAN0]! & 0x1000) !== 0;
    case "ct":
      return true;
  }
}

/* ---------------- whole-field access ---------------- */

const keyCache = new Map<string, { fld: MfField; key: MfKey }>();

/** The field and its flow binding by name (cached); null when unknown or unbound. */
export function boundField(name: string): { fld: MfField; key: MfKey } | null {
  let e = keyCache.get(name);
  if (e !== undefined) return e;
  const fld = mfFromName(name);
  if (fld === null) return null;
  const key = mfKey(fld);
  if (key === null) return null;
  e = { fld, key };
  keyCache.set(name, e);
  keyCache.set(fld.name, e);
  return e;
}

function byteAt(f: Uint32Array, b: number): number {
  return (f[b >>> 2]! >>> (24 - 8 * (b & 3))) & 0xff;
}
function setByteAt(f: Uint32Array, b: number, v: number): void {
  const sh = 24 - 8 * (b & 3);
  f[b >>> 2] = ((f[b >>> 2]! & ~(0xff << sh)) | ((v & 0xff) << sh)) >>> 0;
}

function bytesToNum(b: Uint8Array): number {
  let v = 0;
  const n = b.length;
  for (let i = Math.max(0, n - 4); i < n; i++) v = ((v << 8) | b[i]!) >>> 0;
  return v;
}

/** Applies OVS's side effects of writing the VLAN fields (CFI for pcp, a default TPID). */
function fixVlan(flow: Uint32Array, name: string): void {
  if (name === "vlan_pcp") flow[W_VLAN0] = (flow[W_VLAN0]! | 0x1000) >>> 0;
  if (name === "vlan_pcp" || name === "vlan_vid" || name === "vlan_tci") {
    const q = flow[W_VLAN0]!;
    if ((q & 0x1000) !== 0 && q >>> 16 === 0) flow[W_VLAN0] = (q | 0x81000000) >>> 0;
  }
}

/**
 * set_field: writes `value` under `mask` (big-endian bytes of the field's
 * width) into `flow` and un-wildcards those bits in `wc`.
 */
export function setFieldMasked(flow: Uint32Array, wc: Uint32Array | null, name: string, value: Uint8Array, mask: Uint8Array): boolean {
  const e = boundField(name);
  if (e === null) return false;
  const k = e.key;
  if (k.kind === "bits") {
    const m = (bytesToNum(mask) & k.mask) >>> 0;
    const v = bytesToNum(value) & m;
    const sm = (m << k.shift) >>> 0;
    flow[k.word] = ((flow[k.word]! & ~sm) | ((v << k.shift) >>> 0)) >>> 0;
    maskWord(wc, k.word, sm);
  } else if (k.kind === "port32") {
    const cur = flow[k.word]! & 0xffff;
    const m = bytesToNum(mask);
    const v32 = ((mfPortToOfp11(cur) & ~m) | (bytesToNum(value) & m)) >>> 0;
    const p = mfPortFromOfp11(v32);
    if (p !== null) flow[k.word] = p;
    maskWord(wc, k.word, 0xffff);
  } else {
    const off = value.length - k.len;
    const moff = mask.length - k.len;
    for (let i = 0; i < k.len; i++) {
      const mb = mask[moff + i] ?? 0;
      if (mb === 0) continue;
      const vb = value[off + i] ?? 0;
      const b = k.offset + i;
      setByteAt(flow, b, (byteAt(flow, b) & ~mb) | (vb & mb));
      if (wc !== null) setByteAt(wc, b, byteAt(wc, b) | mb);
    }
  }
  fixVlan(flow, e.fld.name);
  return true;
}

/* ---------------- sub-fields ---------------- */

/** Bits of a field as a BigInt (bit 0 = least significant bit of the value). */
export function readFieldBig(f: Uint32Array, k: MfKey): bigint {
  if (k.kind === "bits") return BigInt(((f[k.word]! >>> k.shift) & k.mask) >>> 0);
  if (k.kind === "port32") return BigInt(mfPortToOfp11(f[k.word]! & 0xffff));
  let v = 0n;
  for (let i = 0; i < k.len; i++) v = (v << 8n) | BigInt(byteAt(f, k.offset + i));
  return v;
}

/** Writes bits of a field: `flow = (flow & ~mask) | (value & mask)`, in field value units. */
export function writeFieldBig(f: Uint32Array, k: MfKey, value: bigint, mask: bigint): void {
  if (k.kind === "bits") {
    const m = Number(mask & BigInt(k.mask));
    const v = Number(value & BigInt(m));
    const sm = (m << k.shift) >>> 0;
    f[k.word] = ((f[k.word]! & ~sm) | ((v << k.shift) >>> 0)) >>> 0;
    return;
  }
  if (k.kind === "port32") {
    const cur = BigInt(mfPortToOfp11(f[k.word]! & 0xffff));
    const p = mfPortFromOfp11(Number(((cur & ~mask) | (value & mask)) & 0xffffffffn));
    if (p !== null) f[k.word] = p;
    return;
  }
  for (let i = k.len - 1; i >= 0; i--) {
    const mb = Number(mask & 0xffn);
    if (mb !== 0) {
      const b = k.offset + i;
      setByteAt(f, b, (byteAt(f, b) & ~mb) | (Number(value & 0xffn) & mb));
    }
    mask >>= 8n;
    value >>= 8n;
  }
}

/** Un-wildcards bits of a field (`mask` in value units). */
export function maskFieldBig(wc: Uint32Array | null, k: MfKey, mask: bigint): void {
  if (wc === null) return;
  if (k.kind === "bits") {
    maskWord(wc, k.word, (Number(mask & BigInt(k.mask)) << k.shift) >>> 0);
    return;
  }
  if (k.kind === "port32") {
    if (mask !== 0n) maskWord(wc, k.word, 0xffff);
    return;
  }
  for (let i = k.len - 1; i >= 0; i--) {
    const mb = Number(mask & 0xffn);
    if (mb !== 0) setByteAt(wc, k.offset + i, byteAt(wc, k.offset + i) | mb);
    mask >>= 8n;
  }
}

function sfMask(sf: Subfield): bigint {
  return ((1n << BigInt(sf.nBits)) - 1n) << BigInt(sf.ofs);
}

/** The value of a sub-field (shifted down to bit 0), or null when the field is unknown. */
export function readSubfield(flow: Uint32Array, sf: Subfield): bigint | null {
  const e = boundField(sf.field);
  if (e === null) return null;
  return (readFieldBig(flow, e.key) >> BigInt(sf.ofs)) & ((1n << BigInt(sf.nBits)) - 1n);
}

/** Writes `value` (bit 0 up) into a sub-field; un-wildcards it when `wc` is given. */
export function writeSubfield(flow: Uint32Array, wc: Uint32Array | null, sf: Subfield, value: bigint): boolean {
  const e = boundField(sf.field);
  if (e === null) return false;
  const m = sfMask(sf);
  writeFieldBig(flow, e.key, value << BigInt(sf.ofs), m);
  maskFieldBig(wc, e.key, m);
  fixVlan(flow, e.fld.name);
  return true;
}

/** Un-wildcards a sub-field. */
export function maskSubfield(wc: Uint32Array | null, sf: Subfield): void {
  const e = boundField(sf.field);
  if (e !== null) maskFieldBig(wc, e.key, sfMask(sf));
}

/** The prerequisites of the field a sub-field names. */
export function subfieldPrereqsOk(sf: Subfield, flow: Uint32Array, wc: Uint32Array | null): boolean {
  const e = boundField(sf.field);
  return e !== null && prereqsOk(e.fld.prereqs, flow, wc);
}

/** The field's width in bits (as sub-fields count them). */
export function fieldWidth(name: string): number {
  const e = boundField(name);
  return e === null ? 0 : e.fld.bits;
}
