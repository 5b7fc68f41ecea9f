/**
 * `tsovs start`: runs the switch in the foreground. For now that is the
 * database server on the default database (`$OVS_DBDIR/conf.db`, created
 * from the bundled schema when missing) listening on
 * `$OVS_RUNDIR/db.sock`, logging at INFO to the console and to
 * `$OVS_LOGDIR/ovsdb-server.log`. Ctrl-C (SIGINT) or SIGTERM stops it
 * cleanly. Extra arguments are passed to the database server
 * (e.g. `--remote=ptcp:6640`).
 */
import * as path from "node:path";
import { parseArgs, startOvsdbServer } from "./ovsdb-server.js";
import { rundir } from "../util/dirs.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("tsovs_start");

export async function run(args: string[]): Promise<number | undefined> {
  const cfg = parseArgs(["--pidfile", "--log-file", `--remote=punix:${path.join(rundir(), "db.sock")}`, ...args]);
  if (typeof cfg === "number") return cfg;
  cfg.verbose.unshift("console:info");
  let running;
  try {
    running = await startOvsdbServer(cfg);
  } catch (e) {
    process.stderr.write(`tsovs start: ${(e as Error).message}\n`);
    return 1;
  }
  log.info(`database server ready: unix:${path.join(rundir(), "db.sock")} (${cfg.databases.join(", ")})`);
  const stop = (sig: string): void => {
    log.info(`${sig} received, exiting`);
    void running.shutdown();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await running.done;
  process.exit(0);
}
