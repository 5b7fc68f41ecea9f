/**
 * The process clock (OVS's timeval): the milliseconds every part of the
 * switch reads by default — OpenFlow rule timeouts, megaflow idle expiry,
 * MAC learning aging, the datapath's "used" times.
 *
 * It follows the wall clock (`Date.now()`) until `time/stop` freezes it;
 * `time/warp [LARGE_MSECS] MSECS` then moves it forward (LARGE_MSECS in
 * all, MSECS at a time), running the registered timer hooks after every step — the
 * way
 * OVS's tests age MAC entries or expire flows without waiting.
 *
 * Once warped the clock stays offset from the wall clock: warping is a
 * testing tool, and a switch whose clock went 10 s forward keeps counting
 * from there, as OVS's does.
 */

/** Added to `Date.now()` by warps. */
let offset = 0;
/** The frozen time while stopped, else null. */
let stoppedAt: number | null = null;
/** Run after each warp step (the daemon's timers: expiry, aging, revalidation). */
const hooks = new Set<(now: number) => void>();

/** The process clock in milliseconds. Pass this as a `() => number` clock. */
export function timeMsec(): number {
  return stoppedAt ?? Date.now() + offset;
}

/** Whole seconds of the process clock. */
export function timeSec(): number {
  return Math.floor(timeMsec() / 1000);
}

/** True while `time/stop` holds the clock. */
export function timeIsStopped(): boolean {
  return stoppedAt !== null;
}

/** `time/stop`: the clock no longer advances by itself. */
export function timeStop(): void {
  if (stoppedAt === null) stoppedAt = Date.now() + offset;
}

/** Lets the clock run again from where it stands. */
export function timeResume(): void {
  if (stoppedAt === null) return;
  offset = stoppedAt - Date.now();
  stoppedAt = null;
}

/**
 * `time/warp`: moves the clock `total` ms forward in steps of `step` ms
 * (the last one shorter), running every hook after each step.
 */
export function timeWarp(total: number, step: number): void {
  let left = total;
  const stride = step > 0 ? step : total;
  while (left > 0) {
    const d = Math.min(stride, left);
    left -= d;
    if (stoppedAt !== null) stoppedAt += d;
    else offset += d;
    const now = timeMsec();
    for (const h of hooks) h(now);
  }
}

/** Registers a timer hook run after each warp step; returns its remover. */
export function onTimeWarp(hook: (now: number) => void): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}
