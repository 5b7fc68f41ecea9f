/**
 * `dpif-netdev/pmd-stats-show` and its family for the userspace datapath.
 *
 * tsovs polls its datapath from the main event loop, which is what OVS
 * calls the "main thread" (the non-PMD thread that serves dummy and other
 * non-DPDK ports): so these commands show one "main thread" entry, and
 * `-pmd CORE` (a PMD core) selects nothing, as on an OVS without PMD
 * threads. `pmd-perf-show` and `pmd-rxq-show` have no PMD to report.
 *
 * The counters are the datapath's own (`DpifDpStats`). Clearing keeps a
 * baseline and shows differences, as OVS's pmd-stats-clear does, so the
 * datapath's counters (and dpif/show's hit/missed) are never rewound.
 */
import type { DpifDpStats } from "./dpif-provider.js";

/** The counters pmd-stats-show reports, read from a datapath. */
export interface PmdCounters {
  received: number;
  recirculations: number;
  emcHits: number;
  smcHits: number;
  megaflowHits: number;
  maskedLookups: number;
  upcallOk: number;
  upcallFailed: number;
  outputPackets: number;
  outputBatches: number;
}

/** The counters of a datapath's statistics (recirculations and tx batches are not counted by it). */
export function pmdCountersOf(st: DpifDpStats): PmdCounters {
  const lost = Math.min(st.lost, st.missed);
  return {
    received: st.hits + st.missed,
    recirculations: 0,
    emcHits: st.emcHits,
    smcHits: st.smcHits,
    megaflowHits: st.megaflowHits,
    maskedLookups: st.maskHit,
    upcallOk: st.missed - lost,
    upcallFailed: lost,
    // tsovs's datapath does not count tx batches: each packet that went
    // through counts as a batch of one (what one packet at a time gives).
    outputPackets: st.hits + st.missed,
    outputBatches: st.hits + st.missed,
  };
}

/** Baselines left by pmd-stats-clear, per datapath name. */
const baselines = new Map<string, PmdCounters>();

function minus(a: PmdCounters, b: PmdCounters | undefined): PmdCounters {
  if (b === undefined) return a;
  const o = { ...a };
  for (const k of Object.keys(o) as (keyof PmdCounters)[]) o[k] = Math.max(0, a[k] - b[k]);
  return o;
}

/**
 * The datapath's hit/missed/lost counters as dpif/show reports them: since
 * the last pmd-stats-clear, as OVS reads them from its PMD counters.
 */
export function statsSinceClear(dpName: string, st: DpifDpStats): DpifDpStats {
  const c = minus(pmdCountersOf(st), baselines.get(dpName));
  return { ...st, hits: c.emcHits + c.smcHits + c.megaflowHits, missed: c.upcallOk + c.upcallFailed, lost: c.upcallFailed, maskHit: c.maskedLookups };
}

/** pmd-stats-clear: later reports count from now. */
export function pmdStatsClear(dpName: string, st: DpifDpStats): void {
  baselines.set(dpName, pmdCountersOf(st));
}

function ratio(a: number, b: number): string {
  return (b > 0 ? a / b : 0).toFixed(2);
}

/** The "main thread:" block of pmd-stats-show. */
export function pmdStatsText(dpName: string, st: DpifDpStats): string {
  const c = minus(pmdCountersOf(st), baselines.get(dpName));
  const passes = c.received + c.recirculations;
  let s = "main thread:\n";
  s += `  packets received: ${c.received}\n`;
  s += `  packet recirculations: ${c.recirculations}\n`;
  s += `  avg. datapath passes per packet: ${ratio(passes, c.received)}\n`;
  s += "  phwol hits: 0\n";
  s += "  mfex opt hits: 0\n";
  s += "  simple match hits: 0\n";
  s += `  emc hits: ${c.emcHits}\n`;
  s += `  smc hits: ${c.smcHits}\n`;
  s += `  megaflow hits: ${c.megaflowHits}\n`;
  s += `  avg. subtable lookups per megaflow hit: ${ratio(c.maskedLookups, c.megaflowHits)}\n`;
  s += `  miss with success upcall: ${c.upcallOk}\n`;
  s += `  miss with failed upcall: ${c.upcallFailed}\n`;
  s += `  avg. packets per output batch: ${ratio(c.outputPackets, c.outputBatches)}\n`;
  return s;
}

/** The header pmd-rxq-show prints before its (here absent) PMD threads. */
export function pmdRxqText(secs: number): string {
  return `Displaying last ${secs} seconds pmd usage %\n`;
}
