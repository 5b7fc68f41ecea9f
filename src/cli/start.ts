/**
 * `tsovs start [--detach] [--enable-dummy[=override]] [--disable-system]
 * [--disable-system-route]
 * [OVSDB-SERVER OPTIONS...]`: the whole switch in one process — the
 * database server on the default database (`$OVS_DBDIR/conf.db`, created
 * from the bundled schema when missing) listening on
 * `$OVS_RUNDIR/db.sock`, and the vswitchd connected to it over that
 * socket, with the pid files and control sockets of both
 * (`ovsdb-server.pid`, `ovs-vswitchd.pid`), so the real `ovs-vsctl`,
 * `ovs-ofctl` and `ovs-appctl` work as with OVS.
 *
 * In the foreground it logs at INFO to the console; the database
 * server's modules log to `$OVS_LOGDIR/ovsdb-server.log` and the rest to
 * `$OVS_LOGDIR/ovs-vswitchd.log`, where OVS users look for them; `--detach`
 * returns once both are ready. Ctrl-C (SIGINT) or SIGTERM stops it
 * cleanly; so does `ovs-appctl -t ovs-vswitchd exit` followed by
 * `ovs-appctl -t ovsdb-server exit` (the process ends when both have
 * exited). Dummy devices and datapaths are enabled (`--enable-dummy`), as
 * a test bed wants them. Other arguments go to the database server
 * (e.g. `--remote=ptcp:6640`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OVS_VERSION } from "../unixctl/index.js";
import { parseArgs, startOvsdbServer, type RunningOvsdbServer } from "./ovsdb-server.js";
import { rundir } from "../util/dirs.js";
import { logFile, routeModules, setLogFile, vlogModule } from "../util/vlog.js";
import { startVswitchd, PROGRAM as VSWITCHD, type RunningVswitchd, type VswitchdConfig } from "../vswitchd/vswitchd.js";
import type { DummyMode } from "../vswitchd/port-config.js";
import { DETACHED_ENV, detachDaemon } from "./daemon.js";
import { disableSystemRoutes } from "../netdev/tnl-route.js";

const log = vlogModule("tsovs_start");

/** system_type / system_version as ovs-ctl records them: the ID and VERSION_ID of /etc/os-release. */
function systemIds(): { systemType: string; systemVersion: string; hostname: string } {
  let text = "";
  try {
    text = fs.readFileSync("/etc/os-release", "utf8");
  } catch {
    /* none: fall back to the kernel's name */
  }
  const field = (k: string): string | undefined => {
    const m = new RegExp(`^${k}=(.*)$`, "m").exec(text);
    return m ? m[1]!.replace(/^"(.*)"$/, "$1") : undefined;
  };
  return { systemType: field("ID") ?? os.type().toLowerCase(), systemVersion: field("VERSION_ID") ?? os.release(), hostname: os.hostname() };
}


export async function run(args: string[]): Promise<number | undefined> {
  let dummy: DummyMode = "dummy";
  let disableSystem = false;
  let wantDetach = false;
  const dbArgs: string[] = [];
  for (const a of args) {
    if (a === "--enable-dummy") dummy = "dummy";
    else if (a === "--enable-dummy=override") dummy = "override";
    else if (a === "--disable-system") disableSystem = true;
    else if (a === "--disable-system-route") disableSystemRoutes();
    else if (a === "--detach") wantDetach = true;
    else dbArgs.push(a);
  }
  if (wantDetach && process.env[DETACHED_ENV] !== "1") return detachDaemon("start", args, "tsovs start");
  const detached = process.env[DETACHED_ENV] === "1";
  const sock = path.join(rundir(), "db.sock");
  const cfg = parseArgs(["--pidfile", "--log-file", `--remote=punix:${sock}`, ...dbArgs]);
  if (typeof cfg === "number") return cfg;
  if (!detached) cfg.verbose.unshift("console:info");
  const fail = (m: string): undefined => {
    if (process.send) process.send({ error: m }, () => process.exit(1));
    else {
      process.stderr.write(`tsovs start: ${m}\n`);
      process.exit(1);
    }
    return undefined;
  };
  // Signals are handled from the start: a stop asked for while starting ends the run once it is safe.
  let stopRequested = false;
  let stopNow: (() => Promise<void>) | null = null;
  const onSignal = (sig: string): void => {
    log.info(`${sig} received, exiting`);
    stopRequested = true;
    void stopNow?.();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGHUP", () => undefined);
  let db: RunningOvsdbServer;
  try {
    db = await startOvsdbServer(cfg);
  } catch (e) {
    return fail((e as Error).message);
  }
  // One process, two log files as with OVS: the database server's modules
  // keep ovsdb-server.log, everything else goes to ovs-vswitchd.log.
  const dbLog = logFile();
  if (dbLog !== null) {
    routeModules(["ovsdb_server", "ovsdb_jsonrpc_server", "ovsdb_file", "ovsdb_transaction", "lockfile"], dbLog);
    setLogFile(path.join(path.dirname(dbLog), `${VSWITCHD}.log`));
  }
  log.info(`database server ready: unix:${sock} (${cfg.databases.join(", ")})`);
  stopNow = () => db.shutdown();
  if (stopRequested) {
    await db.shutdown();
    process.exit(0);
  }
  const vcfg: VswitchdConfig = {
    remote: `unix:${sock}`, pidfile: path.join(rundir(), `${VSWITCHD}.pid`), overwritePidfile: false,
    logFile: null, unixctl: null, verbose: [], dummy, disableSystem, detach: false,
  };
  let vs: RunningVswitchd;
  try {
    vs = await startVswitchd(vcfg, { initDatabase: { ovsVersion: OVS_VERSION, ...systemIds() } });
  } catch (e) {
    await db.shutdown();
    return fail(`vswitchd: ${(e as Error).message}`);
  }
  log.info(`switch ready: ovs-vsctl, ovs-ofctl and ovs-appctl find it in ${rundir()}`);
  stopNow = () => vs.shutdown().then(() => db.shutdown());
  if (stopRequested) void stopNow();
  if (process.send) {
    process.send("ready");
    process.disconnect();
  }
  await Promise.all([db.done, vs.done]);
  process.exit(0);
}
