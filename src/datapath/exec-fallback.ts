/**
 * A minimal action executor with the signature of execute.ts's
 * `executeActions` (see exec-context.ts for the contract): output,
 * recirc, userspace and drop. The datapath uses the full executor when it
 * is present; this one keeps the datapath testable and benchmarkable on
 * its own and documents the contract by example.
 */
import type { DpPacket, DpPacketBatch } from "../packet/dp-packet.js";
import type { ExecContext } from "./exec-context.js";

const ATTR_OUTPUT = 1;
const ATTR_USERSPACE = 2;
const ATTR_RECIRC = 7;
const USERSPACE_ATTR_USERDATA = 2;

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Index (in the list) of the last attribute that consumes the packet, or -1. */
function lastConsumer(a: Uint8Array, off: number, end: number): number {
  let last = -1;
  for (let o = off; o + 4 <= end;) {
    const len = u16(a, o);
    if (len < 4 || o + len > end) break;
    const t = u16(a, o + 2) & 0x3fff;
    if (t === ATTR_OUTPUT || t === ATTR_RECIRC) last = o;
    o += (len + 3) & ~3;
  }
  return last;
}

// HOT PATH: execution (bench datapath "EMC hits ≥5 Mpps" uses output only).
export function executeActionsFallback(ctx: ExecContext, batch: DpPacketBatch, actions: Uint8Array, offset: number, length: number): void {
  const end = offset + length;
  const last = lastConsumer(actions, offset, end);
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    let pkt: DpPacket | null = batch.packets[i]!;
    batch.packets[i] = null;
    for (let o = offset; o + 4 <= end && pkt !== null;) {
      const len = u16(actions, o);
      if (len < 4 || o + len > end) break;
      const t = u16(actions, o + 2) & 0x3fff;
      if (t === ATTR_OUTPUT || t === ATTR_RECIRC) {
        const arg = len >= 8 ? u32(actions, o + 4) : 0;
        let out: DpPacket | null = pkt;
        if (o !== last) {
          out = ctx.pool.alloc();
          if (out !== null && !out.copyFrom(pkt)) {
            out.release();
            out = null;
          }
          if (out === null) ctx.dropped++;
        } else {
          pkt = null;
        }
        if (out !== null) {
          if (t === ATTR_OUTPUT) ctx.pushOutput(arg, out);
          else {
            out.recircId = arg;
            ctx.pushRecirc(out);
          }
        }
      } else if (t === ATTR_USERSPACE) {
        let ud = -1;
        let udLen = -1;
        for (let q = o + 4; q + 4 <= o + len;) {
          const l2 = u16(actions, q);
          if (l2 < 4 || q + l2 > o + len) break;
          if ((u16(actions, q + 2) & 0x3fff) === USERSPACE_ATTR_USERDATA) {
            ud = q + 4;
            udLen = l2 - 4;
          }
          q += (l2 + 3) & ~3;
        }
        const copy = ctx.pool.alloc();
        if (copy !== null && copy.copyFrom(pkt)) ctx.pushUpcall(copy, ud >= 0 ? actions : null, ud, udLen);
        else {
          if (copy !== null) copy.release();
          ctx.dropped++;
        }
      }
      o += (len + 3) & ~3;
    }
    if (pkt !== null) {
      pkt.release();
      ctx.dropped++;
    }
  }
  batch.count = 0;
}
