/**
 * Datapath actions: the OVS_ACTION_ATTR_* netlink encoding (numbers and
 * payloads in src/flow/odp-attrs.ts), a builder that ofproto's translation
 * and tests use to write action lists, and allocation-free readers the
 * executor uses to walk them per packet.
 *
 * Wire form (one action): u16 length (header included), u16 type, both
 * little-endian; payload padded to 4 bytes. Nested actions (sample, clone,
 * check_pkt_len, userspace) hold further attributes in their payload.
 *
 *   output        u32 odp port
 *   userspace     nested: PID u32, USERDATA bytes (≥ 8, zero-padded), EGRESS_TUN_PORT u32, ACTIONS flag
 *   set           nested: one OVS_KEY_ATTR_* with the new value
 *   set_masked    nested: one OVS_KEY_ATTR_* whose payload is value then mask
 *   push_vlan     be16 tpid, be16 tci (CFI set)
 *   pop_vlan      -
 *   push_mpls     be32 lse, be16 ethertype (+2 pad)
 *   pop_mpls      be16 ethertype
 *   recirc        u32 recirc id
 *   hash          u32 algorithm (0 = L4, 1 = symmetric L4), u32 basis
 *   sample        nested: PROBABILITY u32 (of 2^32-1), ACTIONS nested
 *   clone         nested actions
 *   trunc         u32 max length
 *   check_pkt_len nested: PKT_LEN u16, ACTIONS_IF_GREATER, ACTIONS_IF_LESS_EQUAL
 *   drop          u32 reason (0 = XLATE_OK)
 *   meter, tnl_pop, lb_output  u32
 */
import * as A from "../flow/odp-attrs.js";
import { NLA_HDRLEN, NlWriter, putBe16, putBe32, putU32 } from "../flow/odp-netlink.js";

export * from "../flow/odp-attrs.js";

/* ---------------- reading (allocation-free) ---------------- */

/** Length field of the action at `off` (header included). */
export function actLen(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}
/** Type of the action at `off`. */
export function actType(buf: Uint8Array, off: number): number {
  return (buf[off + 2]! | (buf[off + 3]! << 8)) & 0x3fff;
}
/** Offset of the action after the one at `off`. */
export function actNext(buf: Uint8Array, off: number): number {
  return off + ((actLen(buf, off) + 3) & ~3);
}
/** True when a well-formed action starts at `off` and fits before `end`. */
export function actOk(buf: Uint8Array, off: number, end: number): boolean {
  if (off + NLA_HDRLEN > end) return false;
  const len = actLen(buf, off);
  return len >= NLA_HDRLEN && off + len <= end;
}
/** u32 (host order) payload of the action at `off`. */
export function actU32(buf: Uint8Array, off: number): number {
  return (buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16) | (buf[off + 7]! << 24)) >>> 0;
}
/** Offset of the first nested attribute of `type` inside the action at `off`, or -1. */
export function actFindNested(buf: Uint8Array, off: number, type: number): number {
  const end = off + actLen(buf, off);
  let o = off + NLA_HDRLEN;
  while (actOk(buf, o, end)) {
    if (actType(buf, o) === type) return o;
    o = actNext(buf, o);
  }
  return -1;
}

/**
 * Iterates an action list without allocating: reuse one iterator,
 * `reset(buf, off, len)`, then `while (it.next()) { it.type, it.off, it.len }`.
 */
export class OdpActionIter {
  buf: Uint8Array = new Uint8Array(0);
  /** Offset of the current action's header. */
  off = 0;
  /** Current action's type. */
  type = 0;
  /** Current action's payload length. */
  len = 0;
  private pos = 0;
  private end = 0;

  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.pos = off;
    this.end = off + len;
    return this;
  }

  /** Advances to the next action; false at the end or on a malformed attribute. */
  next(): boolean {
    if (!actOk(this.buf, this.pos, this.end)) return false;
    this.off = this.pos;
    this.type = actType(this.buf, this.pos);
    this.len = actLen(this.buf, this.pos) - NLA_HDRLEN;
    this.pos = actNext(this.buf, this.pos);
    return true;
  }

  /** True when the current action is the last one of the list. */
  isLast(): boolean {
    return !actOk(this.buf, this.pos, this.end);
  }
}

/* ---------------- building ---------------- */

/** Probability for `sample` from a fraction in [0, 1] (OVS rounds to the nearest of 2^32-1). */
export function sampleProbability(fraction: number): number {
  const p = Math.floor(0xffffffff * fraction + 0.5);
  return p <= 0 ? 0 : p >= 0xffffffff ? 0xffffffff : p;
}

/** Writes datapath action lists. Every method returns `this` for chaining. */
export class OdpActionsBuilder {
  readonly w: NlWriter;

  constructor(initial = 64) {
    this.w = new NlWriter(initial);
  }

  /** The encoded list (a copy). */
  finish(): Uint8Array {
    return this.w.finish();
  }

  get size(): number {
    return this.w.size;
  }

  output(port: number): this {
    this.w.putU32(A.OVS_ACTION_ATTR_OUTPUT, port);
    return this;
  }

  /**
   * userspace(pid, userdata): sends the packet to userspace. Userdata
   * shorter than 8 bytes is zero-padded to 8, as OVS does.
   */
  userspace(pid: number, userdata: Uint8Array | null = null, opts: { tunnelOutPort?: number; actions?: boolean } = {}): this {
    const n = this.w.startNested(A.OVS_ACTION_ATTR_USERSPACE);
    this.w.putU32(A.OVS_USERSPACE_ATTR_PID, pid);
    if (userdata !== null) {
      const padded = new Uint8Array(Math.max(8, userdata.length));
      padded.set(userdata);
      this.w.putBytes(A.OVS_USERSPACE_ATTR_USERDATA, padded);
    }
    if (opts.tunnelOutPort !== undefined) this.w.putU32(A.OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, opts.tunnelOutPort);
    if (opts.actions === true) this.w.putFlag(A.OVS_USERSPACE_ATTR_ACTIONS);
    this.w.endNested(n);
    return this;
  }

  /** set(KEY_ATTR(value)): `value` is the key attribute's payload. */
  set(keyAttr: number, value: Uint8Array): this {
    const n = this.w.startNested(A.OVS_ACTION_ATTR_SET);
    this.w.putBytes(keyAttr, value);
    this.w.endNested(n);
    return this;
  }

  /** set(KEY_ATTR(value/mask)): only the mask's one bits of `value` are written. */
  setMasked(keyAttr: number, value: Uint8Array, mask: Uint8Array): this {
    if (value.length !== mask.length) throw new RangeError("set_masked: value and mask differ in length");
    const both = new Uint8Array(value.length * 2);
    for (let i = 0; i < value.length; i++) both[i] = value[i]! & mask[i]!;
    both.set(mask, value.length);
    const n = this.w.startNested(A.OVS_ACTION_ATTR_SET_MASKED);
    this.w.putBytes(keyAttr, both);
    this.w.endNested(n);
    return this;
  }

  /** set(tunnel(...)): tunnel metadata, built as nested OVS_TUNNEL_KEY_ATTR_* by `build`. */
  setTunnel(build: (w: NlWriter) => void): this {
    const n = this.w.startNested(A.OVS_ACTION_ATTR_SET);
    const t = this.w.startNested(A.OVS_KEY_ATTR_TUNNEL);
    build(this.w);
    this.w.endNested(t);
    this.w.endNested(n);
    return this;
  }

  /** push_vlan: `tci` without CFI; the CFI bit is added as the datapath requires. */
  pushVlan(vid: number, pcp: number, tpid = 0x8100): this {
    const p = this.w.putUninit(A.OVS_ACTION_ATTR_PUSH_VLAN, 4);
    putBe16(this.w.buf, p, tpid);
    putBe16(this.w.buf, p + 2, (vid & 0xfff) | ((pcp & 7) << 13) | 0x1000);
    return this;
  }

  popVlan(): this {
    this.w.putFlag(A.OVS_ACTION_ATTR_POP_VLAN);
    return this;
  }

  pushMpls(label: number, tc: number, ttl: number, bos: boolean, ethertype = 0x8847): this {
    const p = this.w.putUninit(A.OVS_ACTION_ATTR_PUSH_MPLS, 8);
    putBe32(this.w.buf, p, ((label & 0xfffff) * 4096 + ((tc & 7) << 9) + (bos ? 0x100 : 0) + (ttl & 0xff)) >>> 0);
    putBe16(this.w.buf, p + 4, ethertype);
    return this;
  }

  popMpls(ethertype: number): this {
    this.w.putBe16(A.OVS_ACTION_ATTR_POP_MPLS, ethertype);
    return this;
  }

  recirc(id: number): this {
    this.w.putU32(A.OVS_ACTION_ATTR_RECIRC, id);
    return this;
  }

  hash(basis: number, alg: number = A.OVS_HASH_ALG_L4): this {
    const p = this.w.putUninit(A.OVS_ACTION_ATTR_HASH, 8);
    putU32(this.w.buf, p, alg);
    putU32(this.w.buf, p + 4, basis);
    return this;
  }

  /** sample(probability, actions): `probability` out of 2^32-1 (see sampleProbability). */
  sample(probability: number, build: (b: OdpActionsBuilder) => void): this {
    const n = this.w.startNested(A.OVS_ACTION_ATTR_SAMPLE);
    this.w.putU32(A.OVS_SAMPLE_ATTR_PROBABILITY, probability);
    const a = this.w.startNested(A.OVS_SAMPLE_ATTR_ACTIONS);
    build(this);
    this.w.endNested(a);
    this.w.endNested(n);
    return this;
  }

  clone(build: (b: OdpActionsBuilder) => void): this {
    const n = this.w.startNested(A.OVS_ACTION_ATTR_CLONE);
    build(this);
    this.w.endNested(n);
    return this;
  }

  trunc(maxLen: number): this {
    this.w.putU32(A.OVS_ACTION_ATTR_TRUNC, maxLen);
    return this;
  }

  checkPktLen(size: number, greater: (b: OdpActionsBuilder) => void, lessEqual: (b: OdpActionsBuilder) => void): this {
    const n = this.w.startNested(A.OVS_ACTION_ATTR_CHECK_PKT_LEN);
    this.w.putU16(A.OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, size);
    const g = this.w.startNested(A.OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
    greater(this);
    this.w.endNested(g);
    const l = this.w.startNested(A.OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
    lessEqual(this);
    this.w.endNested(l);
    this.w.endNested(n);
    return this;
  }

  /** Explicit drop with an xlate error code (0 = XLATE_OK). */
  drop(reason = 0): this {
    this.w.putU32(A.OVS_ACTION_ATTR_DROP, reason);
    return this;
  }

  meter(id: number): this {
    this.w.putU32(A.OVS_ACTION_ATTR_METER, id);
    return this;
  }

  tnlPop(port: number): this {
    this.w.putU32(A.OVS_ACTION_ATTR_TUNNEL_POP, port);
    return this;
  }

  ctClear(): this {
    this.w.putFlag(A.OVS_ACTION_ATTR_CT_CLEAR);
    return this;
  }

  /** Appends already-encoded actions. */
  raw(actions: Uint8Array): this {
    this.w.putRaw(actions);
    return this;
  }
}
