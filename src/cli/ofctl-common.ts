/**
 * What every `tsovs ofctl` command shares: parsed options, the fatal
 * error that becomes "ovs-ofctl: ..." on stderr (and `Exit` for other
 * endings, such as an OpenFlow error printed to stderr), the output sink
 * (latin1 text written by `run`, returned by `ofctl`; streamed as it comes
 * for monitor and ping), cleanups for a fatal signal, and input helpers
 * (hex strings, flow files with comments, standard input).
 */
import * as fs from "node:fs";

export class Fatal extends Error {}

/** Leave with `status`, after writing `stderr` (e.g. an OpenFlow error as ofp-print shows it). */
export class Exit extends Error {
  constructor(readonly status: number, readonly stderr = "") {
    super(`exit ${status}`);
  }
}

export const VERSION_WORDS: Readonly<Record<string, number>> = {
  openflow10: 1, openflow11: 2, openflow12: 3, openflow13: 4, openflow14: 5, openflow15: 6,
};

export function versionFromString(s: string): number {
  return VERSION_WORDS[s.toLowerCase()] ?? 0;
}

export interface SortCriterion {
  /** A match field name, or "priority". */
  field: string;
  desc: boolean;
}

export interface Options {
  versions: number[];
  protocols: number;
  strict: boolean;
  verbosity: number;
  /** --names (1), --no-names (0), or neither (-1: accept names, show numbers). */
  names: number;
  /** --stats (default) / --no-stats. */
  stats: boolean;
  /** --sort / --rsort criteria in order. */
  sort: SortCriterion[];
  bundle: boolean;
  readd: boolean;
  /** -t/--timeout in seconds, 0 for none. */
  timeout: number;
  color: string;
  readOnly: boolean;
  mayCreate: boolean;
  timestamp: boolean;
  /** -P/--packet-in-format. */
  packetInFormat: string | null;
  unixctl: string | null;
  /** Daemon options (monitor, snoop): --detach, --pidfile[=FILE], --overwrite-pidfile. */
  detach: boolean;
  pidfile: string | null;
  overwritePidfile: boolean;
}

/** Options as ovs-ofctl has them when none are given. */
export function defaultOptions(protocols: number): Options {
  return {
    versions: [1], protocols, strict: false, verbosity: 0, names: -1, stats: true, sort: [], bundle: false, readd: false,
    timeout: 0, color: "auto", readOnly: false, mayCreate: false, timestamp: false, packetInFormat: null, unixctl: null,
    detach: false, pidfile: null, overwritePidfile: false,
  };
}

/** Reads hex digits (blanks allowed between bytes) as OVS's ofpbuf_put_hex. */
export function parseHex(s: string): Uint8Array | null {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const h = s.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
    out.push(parseInt(h, 16));
    i += 2;
  }
  return Uint8Array.from(out);
}

/** Where commands write: collected, then written out by `run` (or returned by `ofctl`). */
let sink: string[] = [];
let stdinReader: () => string = () => fs.readFileSync(0, "latin1");

let direct: ((s: string) => void) | null = null;

export function write(s: string): void {
  sink.push(s);
}

/**
 * Streams output as it is written (monitor, ping): `out` receives what
 * `flushOutput` finds pending; null collects again.
 */
export function setDirectOutput(out: ((s: string) => void) | null): void {
  direct = out;
}

/** In streaming mode, hands everything written so far to the output. */
export function flushOutput(): void {
  if (direct && sink.length) direct(takeOutput());
}

/** Everything written since the last call, emptied. */
export function takeOutput(): string {
  const s = sink.join("");
  sink = [];
  return s;
}

/** Standard input as text (latin1), or what a test supplied in its place. */
export function stdinText(): string {
  return stdinReader();
}

/** Makes `text` stand in for standard input until the returned function is called. */
export function replaceStdin(text: string | undefined): () => void {
  const saved = stdinReader;
  if (text !== undefined) stdinReader = () => text;
  return () => {
    stdinReader = saved;
  };
}

/** Runs `fn` with `text` standing in for standard input (when given). */
export function withStdin<T>(text: string | undefined, fn: () => T): T {
  const saved = stdinReader;
  if (text !== undefined) stdinReader = () => text;
  try {
    return fn();
  } finally {
    stdinReader = saved;
  }
}

/** Lines of a flow file as ds_get_preprocessed_line: comments cut, blank lines skipped. */
export function preprocessedLines(text: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  text.split("\n").forEach((raw, i) => {
    if (i === text.split("\n").length - 1 && raw === "") return;
    const hash = raw.indexOf("#");
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).replace(/\r$/, "");
    if (line.trim() !== "") out.push({ line, n: i + 1 });
  });
  return out;
}

export function readInput(file: string): string {
  if (file === "-") return stdinText();
  try {
    return fs.readFileSync(file, "latin1");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "No such file or directory" : code === "EACCES" ? "Permission denied" : code === "EISDIR" ? "Is a directory" : String(code);
    throw new Fatal(`${file}: open failed (${why})`);
  }
}

/** Cleanups to run before a fatal signal ends the process (control socket, pid file). */
const fatalCleanups = new Set<() => void>();

export function onFatalSignal(fn: () => void): () => void {
  fatalCleanups.add(fn);
  return () => fatalCleanups.delete(fn);
}

export function runFatalCleanups(): void {
  for (const fn of fatalCleanups) {
    try {
      fn();
    } catch {
      /* dying anyway */
    }
  }
  fatalCleanups.clear();
}
