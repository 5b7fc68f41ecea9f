/**
 * `tsovs vswitchd [DATABASE] [--pidfile[=FILE]] [--overwrite-pidfile]
 * [--detach] [--log-file[=FILE]] [-vSPEC] [--enable-dummy[=override]]
 * [--disable-system] [--disable-system-route] [--unixctl=SOCKET]`: the
 * switch daemon, with the
 * options of ovs-vswitchd(8). DATABASE defaults to
 * `unix:$OVS_RUNDIR/db.sock`; it may be tsovs's database server or OVS's.
 */
import * as path from "node:path";
import { defaultDbRemote, logdir, rundir } from "../util/dirs.js";
import { vlogModule } from "../util/vlog.js";
import { startVswitchd, PROGRAM, type VswitchdConfig } from "../vswitchd/vswitchd.js";
import { disableSystemRoutes } from "../netdev/tnl-route.js";
import { daemonOption, runDaemon } from "./daemon.js";

const log = vlogModule("vswitchd");

function usage(): string {
  return `${PROGRAM}: Open vSwitch daemon
usage: ${PROGRAM} [OPTIONS] [DATABASE]
where DATABASE is a socket on which ovsdb-server is listening
      (default: "${defaultDbRemote()}").

Active DATABASE connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  unix:FILE               Unix domain socket named FILE

Daemon options:
  --detach                run in background as daemon
  --no-chdir              do not chdir to '/' (accepted, ignored)
  --pidfile[=FILE]        create pidfile (default: ${path.join(rundir(), `${PROGRAM}.pid`)})
  --overwrite-pidfile     with --pidfile, start even if already running

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: ${path.join(logdir(), `${PROGRAM}.log`)})

Other options:
  --enable-dummy[=override]  enable dummy network devices (override: system devices are dummies)
  --disable-system        disable system datapath and devices
  --unixctl=SOCKET        override default control socket name
  -h, --help              display this help message
  -V, --version           display version information
`;
}

/** The daemon's configuration plus what only the command line sets. */
export type VswitchdArgs = VswitchdConfig & {
  /** `--disable-system-route`: no kernel routes in ovs/route (tunnels use user routes only). */
  disableSystemRoute: boolean;
};

/** Parses the command line; a config, or an exit status after printing. */
export function parseVswitchdArgs(args: string[]): VswitchdArgs | number {
  const cfg: VswitchdArgs = {
    remote: defaultDbRemote(), pidfile: null, overwritePidfile: false, logFile: null, unixctl: null,
    verbose: [], dummy: "none", disableSystem: false, detach: false, disableSystemRoute: false,
  };
  let database: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      if (database !== null) {
        process.stderr.write(`${PROGRAM}: exactly zero or one non-option argument required; use --help for usage\n`);
        return 1;
      }
      database = a;
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | null => {
      if (inline !== undefined) return inline;
      if (i + 1 < args.length) return args[++i]!;
      process.stderr.write(`${PROGRAM}: option '${name}' requires an argument\n`);
      return null;
    };
    const common = daemonOption(cfg, PROGRAM, usage, a, name, inline, value);
    if (typeof common === "number") return common;
    if (common) continue;
    switch (name) {
      case "--enable-dummy":
        if (inline !== undefined && inline !== "override" && inline !== "system") {
          process.stderr.write(`${PROGRAM}: --enable-dummy: unknown argument "${inline}"\n`);
          return 1;
        }
        cfg.dummy = inline === "override" ? "override" : "dummy";
        break;
      case "--disable-system":
        cfg.disableSystem = true;
        break;
      case "--disable-system-route":
        cfg.disableSystemRoute = true;
        break;
      case "--mlockall":
        break;
      default:
        process.stderr.write(`${PROGRAM}: unrecognized option '${a}'\n`);
        return 1;
    }
  }
  if (database !== null) cfg.remote = database.includes(":") ? database : `unix:${path.resolve(database)}`;
  return cfg;
}


export async function run(args: string[]): Promise<number | undefined> {
  const cfg = parseVswitchdArgs(args);
  if (typeof cfg === "number") return cfg;
  return runDaemon({
    subcommand: "vswitchd", program: PROGRAM, args, detach: cfg.detach, log,
    start: () => {
      if (cfg.disableSystemRoute) disableSystemRoutes();
      return startVswitchd(cfg);
    },
  });
}
