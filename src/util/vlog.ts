/**
 * Logging in the manner of OVS's vlog.
 *
 * Every module registers a named logger; each logger has one level per
 * destination (console, syslog, file), so `ovs-appctl vlog/set` and
 * `--verbose=module:dest:level` work as in OVS. Lines look like OVS's:
 *
 *   2026-11-25T21:42:17.123Z|00001|ovsdb_server|INFO|listening on db.sock
 *
 * Syslog is accepted as a destination name for compatibility but writes
 * nowhere: the machine has no syslog daemon we could rely on.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDir } from "./dirs.js";

export const LEVELS = ["off", "emer", "err", "warn", "info", "dbg"] as const;
export type Level = (typeof LEVELS)[number];
export const DESTINATIONS = ["console", "syslog", "file"] as const;
export type Destination = (typeof DESTINATIONS)[number];

const LEVEL_RANK: Record<Level, number> = { off: 0, emer: 1, err: 2, warn: 3, info: 4, dbg: 5 };
const LEVEL_LABEL: Record<Level, string> = {
  off: "OFF", emer: "EMER", err: "ERR", warn: "WARN", info: "INFO", dbg: "DBG",
};

/** Defaults as OVS 3.1 prints them in `vlog/list`: console off, syslog and file at INFO. */
const DEFAULT_LEVELS: Record<Destination, Level> = { console: "off", syslog: "info", file: "info" };

const modules = new Map<string, VlogModule>();
let sequence = 0;
let logFd: number | null = null;
let logFilePath: string | null = null;

/**
 * A second log file for some modules (`routeModules`): `tsovs start` runs
 * the database server and the switch in one process, yet OVS users look
 * for the switch's lines in ovs-vswitchd.log and the server's in
 * ovsdb-server.log.
 */
let routedFd: number | null = null;
let routedPath: string | null = null;
let routedPrefixes: readonly string[] = [];

function fdFor(name: string): number | null {
  if (routedFd !== null) for (const p of routedPrefixes) if (name.startsWith(p)) return routedFd;
  return logFd;
}

export class VlogModule {
  readonly levels: Record<Destination, Level>;
  /** False after `vlog/disable-rate-limit`: rate-limited messages all go through. */
  rateLimited = true;
  constructor(readonly name: string) {
    this.levels = { ...DEFAULT_LEVELS };
  }
  /** True when a message at `level` would be written anywhere. */
  enabled(level: Level): boolean {
    const rank = LEVEL_RANK[level];
    return (
      rank <= LEVEL_RANK[this.levels.console] ||
      (fdFor(this.name) !== null && rank <= LEVEL_RANK[this.levels.file])
    );
  }
  log(level: Level, message: string): void {
    const rank = LEVEL_RANK[level];
    const toConsole = rank <= LEVEL_RANK[this.levels.console];
    const fd = fdFor(this.name);
    const toFile = fd !== null && rank <= LEVEL_RANK[this.levels.file];
    if (!toConsole && !toFile) return;
    sequence++;
    const now = new Date().toISOString();
    const seq = String(sequence).padStart(5, "0");
    const tail = `${seq}|${this.name}|${LEVEL_LABEL[level]}|${message}\n`;
    if (toConsole) process.stderr.write(`${now.slice(0, 19)}Z|${tail}`);
    if (toFile && fd !== null) {
      try {
        fs.writeSync(fd, `${now}|${tail}`);
      } catch {
        /* A full disk must not take the daemon down with it. */
      }
    }
  }
  /**
   * Logs through a rate limit (OVS's VLOG_*_RL): beyond it the message is
   * dropped and counted, and the next one let through is preceded by how
   * many were dropped, as OVS words it.
   */
  logRl(rl: VlogRateLimit, level: Level, message: string): void {
    if (!this.enabled(level)) return;
    if (!this.rateLimited) {
      this.log(level, message);
      return;
    }
    const now = Date.now();
    if (!rl.take(now)) return;
    if (rl.dropped > 0) {
      const since = Math.round((now - rl.firstDropped) / 1000);
      const ago = Math.round((now - rl.lastDropped) / 1000);
      this.log(level, `Dropped ${rl.dropped} log messages in last ${since} seconds (most recently, ${ago} seconds ago) due to excessive rate`);
      rl.dropped = 0;
    }
    this.log(level, message);
  }
  emer(m: string): void { this.log("emer", m); }
  err(m: string): void { this.log("err", m); }
  warn(m: string): void { this.log("warn", m); }
  info(m: string): void { this.log("info", m); }
  dbg(m: string): void { this.log("dbg", m); }
}

/**
 * A token bucket for one call site's messages: `perMinute` a minute on
 * average, at most `burst` at once (OVS's VLOG_RATE_LIMIT_INIT).
 */
export class VlogRateLimit {
  private tokens: number;
  private last = 0;
  /** Messages dropped since the last one let through, and when. */
  dropped = 0;
  firstDropped = 0;
  lastDropped = 0;

  constructor(private readonly perMinute: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Spends a token if there is one; else counts a drop. */
  take(now: number): boolean {
    if (this.last !== 0) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    if (this.dropped === 0) this.firstDropped = now;
    this.dropped++;
    this.lastDropped = now;
    return false;
  }
}

/** The logger for `name`, created on first use. */
export function vlogModule(name: string): VlogModule {
  let m = modules.get(name);
  if (!m) {
    m = new VlogModule(name);
    modules.set(name, m);
  }
  return m;
}

/**
 * A daemon's --verbose specs and --log-file, applied at start-up; throws
 * with a message for the user on a bad spec.
 */
export function configureLogging(verbose: readonly string[], logFile: string | null): void {
  for (const spec of verbose) {
    const err = setLevels(spec);
    if (err !== null) throw new Error(`--verbose: ${err}`);
  }
  if (logFile !== null) {
    ensureDir(path.dirname(logFile));
    setLogFile(logFile);
  }
}

/** Opens (or reopens, for log rotation) the log file. */
export function setLogFile(file: string | null): void {
  if (logFd !== null) fs.closeSync(logFd);
  logFd = null;
  logFilePath = file;
  if (file) {
    logFd = fs.openSync(file, "a");
    vlogModule("vlog").info(`opened log file ${file}`);
  }
}

export function logFile(): string | null {
  return logFilePath;
}

/**
 * Sends the lines of modules whose names start with one of `prefixes` to
 * `file` instead of the main log file (null: back to the main one).
 */
export function routeModules(prefixes: readonly string[], file: string | null): void {
  if (routedFd !== null) fs.closeSync(routedFd);
  routedFd = null;
  routedPath = file;
  routedPrefixes = prefixes;
  if (file !== null) {
    ensureDir(path.dirname(file));
    routedFd = fs.openSync(file, "a");
  }
}

/** vlog/reopen: both files, for log rotation. */
export function reopenLogFile(): void {
  setLogFile(logFilePath);
  if (routedPath !== null) routeModules(routedPrefixes, routedPath);
}

/**
 * Applies one `vlog/set` / `--verbose` specification: words separated by
 * `:` or spaces, each a module name, a destination, a level or `ANY`.
 * Returns an error message, or null on success.
 */
export function setLevels(spec: string): string | null {
  let mods: VlogModule[] | null = null;
  let dests: Destination[] | null = null;
  let level: Level | null = null;
  for (const raw of spec.split(/[:\s]+/).filter((w) => w.length > 0)) {
    const w = raw.toLowerCase();
    if (w === "any") continue;
    if ((LEVELS as readonly string[]).includes(w)) {
      level = w as Level;
    } else if ((DESTINATIONS as readonly string[]).includes(w)) {
      (dests ??= []).push(w as Destination);
    } else if (modules.has(raw)) {
      (mods ??= []).push(modules.get(raw)!);
    } else if (w === "pattern" || w.startsWith("pattern")) {
      return "pattern setting is not supported";
    } else {
      return `no destination, level, or module "${raw}"`;
    }
  }
  level ??= "dbg";
  for (const m of mods ?? [...modules.values()]) {
    for (const d of dests ?? DESTINATIONS) m.levels[d] = level;
  }
  return null;
}

/** The `vlog/list` table, formatted as OVS formats it. */
export function listLevels(): string {
  let out = "                 console    syslog    file\n";
  out += "                 -------    ------    ------\n";
  for (const name of [...modules.keys()].sort()) {
    const m = modules.get(name)!;
    out += `${name.padEnd(19)}${LEVEL_LABEL[m.levels.console].padEnd(11)}${LEVEL_LABEL[m.levels.syslog].padEnd(10)}${LEVEL_LABEL[m.levels.file]}\n`;
  }
  return out;
}

/**
 * `vlog/enable-rate-limit` and `vlog/disable-rate-limit`: switches rate
 * limiting for the named modules (every module when none is named).
 * Returns an error text for an unknown module (nothing is changed then),
 * or null.
 */
export function setRateLimiting(names: readonly string[], on: boolean): string | null {
  const mods: VlogModule[] = [];
  for (const n of names) {
    const m = modules.get(n);
    if (m === undefined) return "unknown module";
    mods.push(m);
  }
  for (const m of names.length === 0 ? modules.values() : mods) m.rateLimited = on;
  return null;
}
