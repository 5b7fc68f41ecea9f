/**
 * The commands every OVS daemon answers on its control socket:
 * `list-commands`, `version` and the `vlog/...` family, with OVS's texts.
 */
import { listLevels, logFile, reopenLogFile, setLevels, setLogFile, setRateLimiting } from "../util/vlog.js";
import { UnixctlError, type UnixctlRegistry } from "./server.js";

/** The version string daemons report, as OVS 3.1 prints it. */
export const OVS_VERSION = "3.1.0";

/** `<program> (Open vSwitch) 3.1.0`, the `version` reply and `--version` line. */
export function versionText(program: string): string {
  return `${program} (Open vSwitch) ${OVS_VERSION}\n`;
}

/** `vlog/list-pattern`: the line formats, fixed in tsovs, as OVS shows its defaults. */
const LOG_PATTERNS =
  "         prefix                            format\n" +
  "         ------                            ------\n" +
  "SYSLOG   <%B> %D{%h %e %T} %E %A:          ovs|%05N|%c%T|%p|%m\n" +
  "CONSOLE  none                              %D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m\n" +
  "FILE     none                              %D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m\n";

/** Registers the built-in commands on `registry` for daemon `program`. */
export function registerBuiltins(registry: UnixctlRegistry, program: string): void {
  registry.register("list-commands", "", 0, 0, () => registry.listText());
  // `help` is not an OVS command; kept as an unlisted alias for people who try it.
  registry.register("help", "", 0, 0, () => registry.listText(), true);
  registry.register("version", "", 0, 0, () => versionText(program));
  registry.register("vlog/list", "", 0, 0, () => listLevels());
  registry.register("vlog/set", "{spec | PATTERN:destination:pattern}", 0, Infinity, (args) => {
    for (const spec of args) {
      if (/^pattern:/i.test(spec)) continue; // Patterns are accepted and ignored: our line format is fixed.
      const err = setLevels(spec);
      if (err !== null) {
        const m = /^unknown module "(.*)"$/.exec(err);
        throw new UnixctlError(m ? `no destination, level, or module "${m[1]}"` : err);
      }
    }
    return "";
  });
  registry.register("vlog/list-pattern", "", 0, 0, () => LOG_PATTERNS);
  for (const [name, on] of [["vlog/enable-rate-limit", true], ["vlog/disable-rate-limit", false]] as const) {
    registry.register(name, "[module]...", 0, Infinity, (args) => {
      const err = setRateLimiting(args, on);
      if (err !== null) throw new UnixctlError(err);
      return "";
    });
  }
  registry.register("vlog/reopen", "", 0, 0, () => {
    if (reopenClosedLogFile()) return "";
    if (logFile() === null) throw new UnixctlError("Logging to file not configured");
    try {
      reopenLogFile();
    } catch (e) {
      throw new UnixctlError(`could not reopen log file: ${(e as Error).message}`);
    }
    return "";
  });
  registry.register("vlog/close", "", 0, 0, () => {
    // Closing keeps the file name so that a later vlog/reopen opens it again.
    const name = logFile();
    setLogFile(null);
    if (name !== null) closedLogFile = name;
    return "";
  });
}

/** The log file closed by `vlog/close`, reopened by `vlog/reopen`. */
let closedLogFile: string | null = null;

/** Reopens a log file closed by `vlog/close` (used by `vlog/reopen`). */
export function reopenClosedLogFile(): boolean {
  if (closedLogFile === null) return false;
  setLogFile(closedLogFile);
  closedLogFile = null;
  return true;
}
