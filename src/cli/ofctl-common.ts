/**
 * What every `tsovs ofctl` command shares: parsed options, the fatal
 * error that becomes "ovs-ofctl: ..." on stderr, the output sink (latin1
 * text written by `run`, returned by `ofctl`) and input helpers (hex
 * strings, flow files with comments, standard input).
 */
import * as fs from "node:fs";

export class Fatal extends Error {}

export const VERSION_WORDS: Readonly<Record<string, number>> = {
  openflow10: 1, openflow11: 2, openflow12: 3, openflow13: 4, openflow14: 5, openflow15: 6,
};

export function versionFromString(s: string): number {
  return VERSION_WORDS[s.toLowerCase()] ?? 0;
}

export interface Options {
  versions: number[];
  protocols: number;
  strict: boolean;
  verbosity: number;
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

export function write(s: string): void {
  sink.push(s);
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
