/**
 * The netdev provider interface (OVS's netdev-provider.h): what a network
 * device type offers the datapath. Callers use `netdev.ts`; types register
 * a `NetdevClass`.
 *
 * Lifecycle: `NetdevClass.open(name, options)` constructs a device (or
 * returns an error string, worded as OVS logs it); the datapath then calls
 * `rxBatch` on every poll and `txBatch` for every output batch, and
 * `close()` when the port is deleted.
 *
 * Contracts.
 * - `rxBatch(batch, pool)` appends up to `BATCH_SIZE - batch.count`
 *   received packets, taken from `pool`, and returns how many it added.
 *   When the pool is empty it stops and counts `rxDropped`. May not throw.
 * - `txBatch(batch)` sends every packet of the batch and releases them
 *   (the device owns them now); it empties the batch. A device that is
 *   down or cannot send counts `txDropped`. May not throw.
 * - Statistics are cumulative since open.
 * - Optional members: a type without a concept leaves them at defaults
 *   (`mtu` 1500, a random locally administered MAC, up).
 */
import type { DpPacketBatch, DpPacketPool } from "../packet/dp-packet.js";

export interface NetdevStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
  txErrors: number;
}

/** One device-specific named counter (OVS netdev_get_custom_stats). */
export interface NetdevCustomStat {
  name: string;
  value: number;
}

export function zeroNetdevStats(): NetdevStats {
  return { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
}

export interface Netdev {
  readonly name: string;
  /** Type name as in Interface.type ("dummy", "internal", ...). */
  readonly type: string;
  /** Receive into `batch` from `pool`; returns packets added. HOT PATH. */
  rxBatch(batch: DpPacketBatch, pool: DpPacketPool): number;
  /** Send and release every packet of `batch`; empties it. HOT PATH. */
  txBatch(batch: DpPacketBatch): void;
  /** Copies cumulative statistics into `out`. */
  getStats(out: NetdevStats): void;
  /** Device-specific named counters, in the device's order. Optional: absent means none. */
  getCustomStats?(): NetdevCustomStat[];
  getMtu(): number;
  /** Returns an error string or null. */
  setMtu(mtu: number): string | null;
  /** 6-byte Ethernet address (a copy). */
  getMac(): Uint8Array;
  setMac(mac: Uint8Array): string | null;
  /** Administrative state (NETDEV_UP). */
  isUp(): boolean;
  setUp(up: boolean): void;
  /** Applies Interface.options; returns an error string or null. */
  setConfig(options: Record<string, string>): string | null;
  getConfig(): Record<string, string>;
  /**
   * The configuration the device reports back (OVS netdev_get_config):
   * only what survives opening it — OVS's dummy, e.g., forgets pcap file
   * names but reports its stream connections. Optional: absent means none.
   */
  getReportedConfig?(): Record<string, string>;
  /** Releases resources (files, queued packets). */
  close(): void;
}

export interface NetdevClass {
  readonly type: string;
  /** Creates a device, or returns an error message. */
  open(name: string, options: Record<string, string>): Netdev | string;
}
