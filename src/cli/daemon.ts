/**
 * What every tsovs daemon subcommand (`ovsdb-server`, `vswitchd`, `start`)
 * does around its own work, as OVS's daemons do: `--detach` re-runs the
 * subcommand in a detached child and returns once the child is ready (or
 * prints the child's start-up error); in the foreground, SIGTERM and SIGINT
 * shut down cleanly, SIGHUP is ignored, and the process exits when the
 * daemon is done. Also the command-line options they all share.
 */
import * as path from "node:path";
import { spawn } from "node:child_process";
import { versionText } from "../unixctl/builtins.js";
import { logdir, rundir } from "../util/dirs.js";
import type { VlogModule } from "../util/vlog.js";

/** A file named relative to `dir` unless absolute (OVS's default pid, log and socket places). */
export function resolveIn(dir: string, file: string): string {
  return path.isAbsolute(file) ? file : path.join(dir, file);
}

/** Set in the detached child, so that it runs instead of detaching again. */
export const DETACHED_ENV = "TSOVS_DETACHED";

/** A daemon once started: how to stop it and when it has stopped. */
export interface RunningDaemon {
  shutdown(): Promise<void> | void;
  done: Promise<unknown>;
}

/** Re-runs `tsovs SUBCOMMAND ARGS` (without --detach) detached; 0 once it is ready, 1 (message printed) if it failed. */
export function detachDaemon(subcommand: string, args: string[], program: string): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, subcommand, ...args.filter((a) => a !== "--detach")], {
    detached: true,
    // The daemon's stderr goes nowhere once we exit; start-up errors come back over IPC.
    stdio: ["ignore", "ignore", "ignore", "ipc"],
    env: { ...process.env, [DETACHED_ENV]: "1" },
  });
  return new Promise((resolve) => {
    child.once("message", (msg: unknown) => {
      const err = typeof msg === "object" && msg !== null ? (msg as { error?: string }).error : undefined;
      if (err !== undefined) process.stderr.write(`${program}: ${err}\n`);
      child.disconnect();
      child.unref();
      resolve(err === undefined ? 0 : 1);
    });
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

/**
 * Runs a daemon: detaches first when asked (and not already the detached
 * child), starts it with `start`, reports start-up failure (over IPC to the
 * parent when detached), handles signals, and exits when it is done.
 */
export async function runDaemon<T extends RunningDaemon>(opts: {
  subcommand: string;
  program: string;
  args: string[];
  detach: boolean;
  log: VlogModule;
  start: () => Promise<T>;
  /** Called once the daemon runs (e.g. to log that it is ready). */
  started?: (running: T) => void;
}): Promise<number | undefined> {
  if (opts.detach && process.env[DETACHED_ENV] !== "1") return detachDaemon(opts.subcommand, opts.args, opts.program);
  let running: T;
  try {
    running = await opts.start();
  } catch (e) {
    // Exit outright: sockets opened before the failure must not keep us alive.
    if (process.send) {
      process.send({ error: (e as Error).message }, () => process.exit(1));
      return undefined;
    }
    process.stderr.write(`${opts.program}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  opts.started?.(running);
  const onSignal = (sig: string): void => {
    opts.log.info(`${sig} received, exiting`);
    void running.shutdown();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGHUP", () => undefined);
  if (process.send) {
    process.send("ready");
    process.disconnect();
  }
  await running.done;
  opts.log.info("exiting");
  // Sockets and storage are closed; do not wait for stray timers of clients' sessions.
  process.exit(0);
}

/** The options every OVS daemon takes, in the daemon's configuration. */
export interface DaemonOptions {
  pidfile: string | null;
  overwritePidfile: boolean;
  logFile: string | null;
  unixctl: string | null;
  verbose: string[];
  detach: boolean;
}

/**
 * Handles one of the options every OVS daemon takes (pid file, log file,
 * control socket, detaching, help, version, verbosity). `a` is the
 * argument, `name`/`inline` its option name and `=value` part, `value`
 * fetches a required argument (null, with the message printed, when it is
 * missing). Returns true when handled, false when the option is not one of
 * these, or the exit status when the program must end now.
 */
export function daemonOption(
  cfg: DaemonOptions, program: string, usage: () => string,
  a: string, name: string, inline: string | undefined, value: () => string | null,
): boolean | number {
  switch (name) {
    case "--pidfile":
      cfg.pidfile = resolveIn(rundir(), inline ?? `${program}.pid`);
      return true;
    case "--overwrite-pidfile":
      cfg.overwritePidfile = true;
      return true;
    case "--log-file":
      cfg.logFile = resolveIn(logdir(), inline ?? `${program}.log`);
      return true;
    case "--unixctl": {
      const v = value();
      if (v === null) return 1;
      cfg.unixctl = v;
      return true;
    }
    case "--detach":
      cfg.detach = true;
      return true;
    case "--no-chdir":
    case "--monitor":
    case "--no-self-confinement":
      return true;
    case "-h":
    case "--help":
      process.stdout.write(usage());
      return 0;
    case "-V":
    case "--version":
      process.stdout.write(versionText(program));
      return 0;
    case "--verbose":
      cfg.verbose.push(inline ?? "dbg");
      return true;
    default:
      if (a.startsWith("-v")) {
        cfg.verbose.push(a.length > 2 ? a.slice(2) : "dbg");
        return true;
      }
      return false;
  }
}
