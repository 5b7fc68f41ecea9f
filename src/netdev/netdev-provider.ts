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
 * - Readiness (`watchRx`, kernel-backed types only): the datapath's run
 *   loop watches every port that offers it, so an idle switch sleeps on
 *   a long timer and a real frame wakes it at once. A watch is
 *   level-triggered: it calls back while the device has input (or an
 *   error) and is not paused.
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

/** A readiness watch on a device's receive side (Netdev.watchRx). */
export interface NetdevRxWatch {
  /** Stops calling back until resume() (the poll loop is busy anyway). */
  pause(): void;
  resume(): void;
  /** Stops for good. */
  close(): void;
  /** True once closed (the device closes its watches with the descriptor they watch). */
  isClosed(): boolean;
  /** Lets the process exit while the watch is active. */
  unref(): void;
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
  /**
   * Calls `cb` from the event loop whenever the device has input to read.
   * Optional: absent means the device must be polled (dummy devices,
   * whose frames are injected and processed at once).
   */
  watchRx?(cb: () => void): NetdevRxWatch;
  /**
   * The descriptor watchRx() watches (-1 while the device has none). A
   * device that rebuilds its socket (revalidate(), a larger MTU) closes
   * the watches of the old one: the caller makes a new watch when its
   * watch is closed or the descriptor changed. Optional, with watchRx.
   */
  getFd?(): number;
  /** Link (carrier) state, for Interface.link_state. Optional: absent means "as isUp()". */
  hasCarrier?(): boolean;
  /** The kernel's ifindex (Interface.ifindex), -1 when gone. Optional: absent means 0, as OVS writes for devices without one. */
  getIfindex?(): number;
  /**
   * Link speed (bits/s) and duplex (Interface.link_speed, duplex), null
   * where the driver does not know them. Optional: absent means unknown.
   */
  getLinkSpeed?(): { bps: number | null; duplex: "full" | "half" | null };
  /**
   * The OpenFlow "current" features of the device (OpenFlow 1.1 bits:
   * speed and duplex, COPPER/FIBER, AUTO_NEG), as OVS derives them from
   * the driver. Optional: absent means none known (0).
   */
  getCurrentFeatures?(): number;
  /**
   * Interface.status for the device (a kernel device's driver_name,
   * driver_version, firmware_version). Optional: absent means none.
   */
  getStatus?(): Record<string, string>;
  /**
   * Interface.statistics as OVS writes it for a kernel device (its
   * fourteen counters). Optional: absent means the datapath's packet and
   * byte counts.
   */
  getKernelStats?(): Record<string, number>;
  /**
   * Follows the kernel device after it was deleted, re-created or its
   * link went down and up; returns null when the port works, else the
   * Interface.error text. Optional: absent means nothing to follow.
   */
  revalidate?(): string | null;
  /** Releases resources (files, queued packets). */
  close(): void;
}

export interface NetdevClass {
  readonly type: string;
  /** Creates a device, or returns an error message. */
  open(name: string, options: Record<string, string>): Netdev | string;
}
