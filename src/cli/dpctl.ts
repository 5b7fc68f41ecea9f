/**
 * `tsovs dpctl [OPTIONS] COMMAND [ARG...]`: manage datapaths, as
 * ovs-dpctl(8).
 *
 * The userspace datapath lives inside the switch daemon, so — like
 * `ovs-appctl dpctl/COMMAND` — the command is sent to the running
 * ovs-vswitchd (tsovs's or OVS's: `$OVS_RUNDIR/ovs-vswitchd.pid`, or
 * `--unixctl=TARGET`). With no daemon running, commands run in this
 * process: `parse-actions` works as usual, and datapath commands see no
 * datapaths (as ovs-dpctl does without a kernel module).
 *
 * Exit status: 0 on success, 1 on failure (ovs-dpctl's EXIT_FAILURE).
 */
import { parseDpctlOptions, runDpctl, COMMANDS } from "../datapath/dpctl-commands.js";
import { unixctlTransact, UnixctlTargetError, resolveTarget } from "../unixctl/client.js";
import { OVS_VERSION } from "../unixctl/builtins.js";
import * as fs from "node:fs";
import { rundir } from "../util/dirs.js";

/** Commands that change a datapath (pointless without a daemon holding it). */
const CHANGES_DATAPATH = new Set(["add-dp", "del-dp", "add-if", "set-if", "del-if", "add-flow", "mod-flow", "del-flow", "del-flows"]);

function usage(): string {
  let s = `ovs-dpctl: Open vSwitch datapath management utility
usage: ovs-dpctl [OPTIONS] COMMAND [ARG...]
`;
  for (const c of COMMANDS) s += `  ${c.name}${c.usage ? " " + c.usage : ""}\n`;
  s += `Each IFACE on add-dp, add-if, and set-if may be followed by
comma-separated options.  See ovs-dpctl(8) for syntax, or the
Interface table in ovs-vswitchd.conf.db(5) for an options list.
For COMMAND dump-flows, add-flow, mod-flow, del-flow and
del-flows, DP is optional if there is only one datapath.

Options for show and mod-flow:
  -s,  --statistics           print statistics for port or flow

Options for dump-flows:
  -m, --more                  increase verbosity of output
  --names                     use port names in output

Options for mod-flow:
  --may-create                create flow if it doesn't exist
  --clear                     reset existing stats to zero

Other options:
  --unixctl=TARGET            send the command to this daemon (default ovs-vswitchd)
  -t, --timeout=SECS          give up after SECS seconds
  -h, --help                  display this help message
  -V, --version               display version information
`;
  return s;
}

/** The daemon socket to send to, or null when none is running. */
function findDaemon(target: string, explicit: boolean): string | null {
  try {
    const sock = resolveTarget(target);
    if (explicit || fs.existsSync(sock)) return sock;
  } catch (e) {
    if (explicit) throw e;
  }
  return null;
}

export async function run(args: string[]): Promise<number | undefined> {
  let target = "ovs-vswitchd";
  let explicitTarget = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-h" || a === "--help") {
      process.stdout.write(usage());
      return 0;
    }
    if (a === "-V" || a === "--version") {
      process.stdout.write(`ovs-dpctl (Open vSwitch) ${OVS_VERSION}\n`);
      return 0;
    }
    if (a.startsWith("--unixctl=")) {
      target = a.slice(10);
      explicitTarget = true;
      continue;
    }
    if (a === "-t" || a === "--timeout") {
      i++;
      continue;
    }
    if (a.startsWith("--timeout=")) continue;
    rest.push(a);
  }
  // Options may come anywhere (getopt permutes ovs-dpctl's arguments); "--" ends them.
  const optArgs: string[] = [];
  const plain: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--") {
      plain.push(...rest.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a.length > 1) optArgs.push(a);
    else plain.push(a);
  }
  const parsed0 = parseDpctlOptions(optArgs);
  const parsed = "error" in parsed0 ? parsed0 : { opts: parsed0.opts, rest: plain };
  if ("error" in parsed) {
    process.stderr.write(`ovs-dpctl: ${parsed.error} (use --help for help)\n`);
    return 1;
  }
  const [cmd, ...cmdArgs] = parsed.rest;
  if (cmd === undefined) {
    process.stderr.write("ovs-dpctl: missing command name; use --help for help\n");
    return 1;
  }
  if (!COMMANDS.some((c) => c.name === cmd)) {
    process.stderr.write(`ovs-dpctl: unknown command '${cmd}'; use --help for help\n`);
    return 1;
  }

  // Commands that need no datapath run here.
  let sock: string | null = null;
  if (cmd !== "parse-actions" && cmd !== "list-commands") {
    try {
      sock = findDaemon(target, explicitTarget);
    } catch (e) {
      process.stderr.write(`ovs-dpctl: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (sock === null) {
    // A userspace datapath lives only as long as the process that holds it:
    // say so rather than report a change that is gone when we exit.
    if (CHANGES_DATAPATH.has(cmd)) {
      process.stderr.write(
        `ovs-dpctl: warning: no ${target} is running (looked in ${rundir()}); ` +
          `this change applies to a datapath held by this command only and is lost when it exits\n`,
      );
    }
    const r = runDpctl(parsed.rest, parsed.opts);
    writeSplit(r.text, r.errors);
    return r.status === 0 ? 0 : 1;
  }

  const opts: string[] = [];
  const o = parsed.opts;
  if (o.statistics) opts.push("-s");
  for (let v = 0; v < (o.verbosity ?? 0); v++) opts.push("-m");
  if (o.names === true) opts.push("--names");
  if (o.names === false) opts.push("--no-names");
  if (o.mayCreate) opts.push("--may-create");
  if (o.zeroStatistics) opts.push("--clear");
  try {
    const r = await unixctlTransact(sock, `dpctl/${cmd}`, [...opts, ...cmdArgs]);
    if (r.ok) {
      process.stdout.write(r.result);
      return 0;
    }
    process.stderr.write(r.error);
    return 1;
  } catch (e) {
    if (e instanceof UnixctlTargetError) {
      process.stderr.write(`ovs-dpctl: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Prints output lines on stdout and the error lines on stderr, in order. */
function writeSplit(text: string, errors: string): void {
  if (errors === "") {
    process.stdout.write(text);
    return;
  }
  const errLines = new Set(errors.split("\n").filter((l) => l !== ""));
  for (const line of text.split("\n").slice(0, -1)) {
    if (errLines.has(line)) process.stderr.write(line + "\n");
    else process.stdout.write(line + "\n");
  }
}
