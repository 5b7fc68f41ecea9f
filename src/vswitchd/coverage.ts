/**
 * Event counters shown by `coverage/show` (OVS's lib/coverage.c): each
 * named counter counts an event; the report gives, per counter that ever
 * fired, its average rate over the last 5 seconds, minute and hour and its
 * total, in OVS's layout.
 *
 * Counting is one Map lookup and an add, cheap enough for control paths
 * (reconfiguration, upcalls); per-packet code should keep its own counters.
 */

interface Counter {
  total: number;
  /** (time ms, total at that time) samples, one per second at most, an hour deep. */
  samples: [number, number][];
}

const counters = new Map<string, Counter>();

/** Adds `n` to counter `name`. */
export function coverageInc(name: string, n = 1): void {
  let c = counters.get(name);
  if (c === undefined) {
    c = { total: 0, samples: [[Date.now(), 0]] };
    counters.set(name, c);
  }
  c.total += n;
  const now = Date.now();
  const last = c.samples[c.samples.length - 1]!;
  if (now - last[0] >= 1000) {
    c.samples.push([now, c.total - n]);
    const cutoff = now - 3_600_000;
    while (c.samples.length > 2 && c.samples[0]![0] < cutoff) c.samples.shift();
  }
}

/** The total of a counter, or null when it never fired (`coverage/read-counter`'s "No such counter"). */
export function coverageTotal(name: string): number | null {
  return counters.get(name)?.total ?? null;
}

/** The current total of a counter (0 when it never fired). */
export function coverageRead(name: string): number {
  return counters.get(name)?.total ?? 0;
}

function rate(c: Counter, now: number, windowMs: number): number {
  // The oldest sample inside the window (or the first one ever) is the baseline.
  let base = c.samples[0]!;
  for (const s of c.samples) {
    if (now - s[0] <= windowMs) {
      base = s;
      break;
    }
  }
  return (c.total - base[1]) / (windowMs / 1000);
}

function fmt(x: number, digits: number): string {
  return x.toFixed(digits);
}

/** The `coverage/show` text. */
export function coverageShowText(now = Date.now()): string {
  let out = "Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=00000000:\n";
  let zero = 0;
  for (const [name, c] of [...counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (c.total === 0) {
      zero++;
      continue;
    }
    out += `${name.padEnd(24)} ${fmt(rate(c, now, 5000), 1).padStart(5)}/sec ${fmt(rate(c, now, 60_000), 3).padStart(9)}/sec ${fmt(rate(c, now, 3_600_000), 4).padStart(13)}/sec   total: ${c.total}\n`;
  }
  out += `${zero} events never hit\n`;
  return out;
}
