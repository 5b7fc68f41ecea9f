/**
 * The poll loop that drives a userspace datapath inside the event loop
 * (the role of OVS's PMD threads, until the datapath moves to a worker).
 *
 * While packets arrive it polls back to back (`setImmediate`, so I/O and
 * timers still get their turn between rounds); after `idleRounds` empty
 * rounds it backs off to a timer (`idleMs`, default 1 ms), so an idle
 * switch costs ~nothing. `kick()` polls at once (e.g. after
 * `netdev-dummy/receive` queued a frame).
 */
import type { DpifProvider } from "./dpif-provider.js";

export interface PmdOptions {
  /** Empty rounds before backing off to the idle timer (default 64). */
  idleRounds?: number;
  /** Idle poll interval in ms (default 1). */
  idleMs?: number;
  /** Rounds per event-loop turn while busy (default 16). */
  roundsPerTurn?: number;
}

export class PmdLoop {
  private readonly dp: DpifProvider;
  private readonly idleRounds: number;
  private readonly idleMs: number;
  private readonly roundsPerTurn: number;
  private running = false;
  private empty = 0;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Packets received since start. */
  packets = 0;

  constructor(dp: DpifProvider, opts: PmdOptions = {}) {
    this.dp = dp;
    this.idleRounds = opts.idleRounds ?? 64;
    this.idleMs = opts.idleMs ?? 1;
    this.roundsPerTurn = opts.roundsPerTurn ?? 16;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(true);
  }

  stop(): void {
    this.running = false;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
  }

  /** Polls as soon as possible (new input is waiting). */
  kick(): void {
    if (!this.running) return;
    this.empty = 0;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.schedule(true);
    }
  }

  private schedule(busy: boolean): void {
    if (!this.running || this.immediate !== null || this.timer !== null) return;
    if (busy) {
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.round();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.round();
      }, this.idleMs);
      this.timer.unref?.();
    }
  }

  private round(): void {
    if (!this.running) return;
    let got = 0;
    for (let r = 0; r < this.roundsPerTurn; r++) {
      const n = this.dp.run();
      got += n;
      if (n === 0) break;
    }
    this.packets += got;
    this.empty = got === 0 ? this.empty + 1 : 0;
    this.schedule(this.empty < this.idleRounds);
  }
}
