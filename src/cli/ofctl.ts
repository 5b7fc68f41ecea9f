/**
 * `tsovs ofctl [OPTIONS] COMMAND [ARG...]`: ovs-ofctl(8). Options are
 * parsed here (anywhere on the line, as GNU getopt allows) and commands
 * dispatched: the switch commands (ofctl-switch.ts, asynchronous: they
 * talk OpenFlow) first, then the offline ones (ofctl-offline.ts, run
 * synchronously by `ofctl()`). Output is byte-identical to ovs-ofctl 3.1
 * (written as latin1, like OVS writes raw bytes); errors go to stderr as
 * "ovs-ofctl: ..." with exit status 1.
 *
 * Options: `-O/--protocols VERSIONS` (OpenFlow versions allowed),
 * `-F/--flow-format FORMATS` (flow protocols allowed), `--strict`,
 * `-m/--more` (raise ofp-print verbosity), `--names`/`--no-names`,
 * `--stats`/`--no-stats`, `--sort`/`--rsort[=FIELD]`, `--bundle`,
 * `--readd`, `--may-create`, `-t/--timeout`, `--read-only`,
 * `-P/--packet-in-format`, `--timestamp`, `--color`, `--unixctl`,
 * `--detach`/`--pidfile`, `-v/--verbose`, `-h/--help`, `-V/--version`.
 */
import { spawn } from "node:child_process";
import { protocolsFromString, protocolsOfVersion, protocolsToString, P_ANY } from "../openflow/ofp-flow-parse.js";
import { mfFromName } from "../openflow/meta-flow.js";
import { resetXids } from "../openflow/vconn.js";
import { OVS_VERSION } from "../unixctl/builtins.js";
import { setLevels, vlogModule } from "../util/vlog.js";
import { defaultOptions, Exit, Fatal, flushOutput, runFatalCleanups, type Options, replaceStdin, setDirectOutput, takeOutput, versionFromString, withStdin, write } from "./ofctl-common.js";
import { OFFLINE_COMMANDS } from "./ofctl-offline.js";
import { Session, SWITCH_COMMANDS } from "./ofctl-switch.js";

/** Created now so that the console level set in `run` applies to it. */
const fatalSignalLog = vlogModule("fatal_signal");

function usage(): string {
  return `ovs-ofctl: OpenFlow switch management utility
usage: ovs-ofctl [OPTIONS] COMMAND [ARG...]

For OpenFlow switches:
  show SWITCH                 show OpenFlow information
  dump-desc SWITCH            print switch description
  dump-tables SWITCH          print table stats
  dump-table-features SWITCH  print table features
  dump-table-desc SWITCH      print table description (OF1.4+)
  mod-port SWITCH IFACE ACT   modify port behavior
  mod-table SWITCH MOD        modify flow table behavior
      OF1.1/1.2 MOD: controller, continue, drop
      OF1.4+ MOD: evict, noevict, vacancy:low,high, novacancy
  get-frags SWITCH            print fragment handling behavior
  set-frags SWITCH FRAG_MODE  set fragment handling behavior
      FRAG_MODE: normal, drop, reassemble, nx-match
  dump-ports SWITCH [PORT]    print port statistics
  dump-ports-desc SWITCH [PORT]  print port descriptions
  dump-flows SWITCH           print all flow entries
  dump-flows SWITCH FLOW      print matching FLOWs
  dump-aggregate SWITCH       print aggregate flow statistics
  dump-aggregate SWITCH FLOW  print aggregate stats for FLOWs
  queue-stats SWITCH [PORT [QUEUE]]  dump queue stats
  add-flow SWITCH FLOW        add flow described by FLOW
  add-flows SWITCH FILE       add flows from FILE
  mod-flows SWITCH FLOW       modify actions of matching FLOWs
  del-flows SWITCH [FLOW]     delete matching FLOWs
  replace-flows SWITCH FILE   replace flows with those in FILE
  diff-flows SOURCE1 SOURCE2  compare flows from two sources
  packet-out SWITCH IN_PORT ACTIONS PACKET...
                              execute ACTIONS on PACKET
  monitor SWITCH [MISSLEN] [invalid_ttl] [watch:[...]]
                              print packets received from SWITCH
  snoop SWITCH                snoop on SWITCH and its controller
  add-group SWITCH GROUP      add group described by GROUP
  add-groups SWITCH FILE      add group from FILE
  [--may-create] mod-group SWITCH GROUP   modify specific group
  del-groups SWITCH [GROUP]   delete matching GROUPs
  insert-buckets SWITCH [GROUP] add buckets to GROUP
  remove-buckets SWITCH [GROUP] remove buckets from GROUP
  dump-group-features SWITCH  print group features
  dump-groups SWITCH [GROUP]  print group description
  dump-group-stats SWITCH [GROUP]  print group statistics
  queue-get-config SWITCH [PORT]  print queue config for PORT
  add-meter SWITCH METER      add meter described by METER
  mod-meter SWITCH METER      modify specific METER
  del-meters SWITCH [METER]   delete meters matching METER
  dump-meters SWITCH [METER]  print METER configuration
  meter-stats SWITCH [METER]  print meter statistics
  meter-features SWITCH       print meter features
  add-tlv-map SWITCH MAP      add TLV option MAPpings
  del-tlv-map SWITCH [MAP] delete TLV option MAPpings
  dump-tlv-map SWITCH      print TLV option mappings
  dump-ipfix-bridge SWITCH    print ipfix stats of bridge
  dump-ipfix-flow SWITCH      print flow ipfix of a bridge
  ct-flush-zone SWITCH ZONE   flush conntrack entries in ZONE
  ct-flush SWITCH [ZONE] [CT_ORIG_TUPLE [CT_REPLY_TUPLE]]
                              flush conntrack entries specified
                              by CT_ORIG/REPLY_TUPLE and ZONE

For OpenFlow switches and controllers:
  probe TARGET                probe whether TARGET is up
  ping TARGET [N]             latency of N-byte echos
  benchmark TARGET N COUNT    bandwidth of COUNT N-byte echos
SWITCH or TARGET is an active OpenFlow connection method.

Other commands:
  ofp-parse FILE              print messages read from FILE

Options:
  -O, --protocols=VERSIONS    allow only the given OpenFlow versions
  -F, --flow-format=FORMAT    allow only the given flow formats
  --strict                    use strict match for flow commands
  --read-only                 do not execute read/write commands
  --readd                     replace flows that haven't changed
  -P, --packet-in-format=FRMT force particular packet in format
  -m, --more                  be more verbose printing OpenFlow
  --timestamp                 (monitor, snoop) print timestamps
  -t, --timeout=SECS          give up after SECS seconds
  --sort[=field]              sort in ascending order
  --rsort[=field]             sort in descending order
  --names                     show port names instead of numbers
  --no-names                  show port numbers, but not names
  --unixctl=SOCKET            set control socket name
  --detach                    (monitor, snoop) run in background as daemon
  --pidfile[=FILE]            create pidfile (default: $OVS_RUNDIR/ovs-ofctl.pid)
  --overwrite-pidfile         with --pidfile, start even if already running
  --color[=always|never|auto] control use of color in output
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

function parseOptions(argv: string[]): { opts: Options; rest: string[] } | number {
  const opts: Options = defaultOptions(P_ANY);
  let versionsGiven = false;
  let i = 0;
  const takeArg = (a: string, name: string): string => {
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq >= 0) return a.slice(eq + 1);
    if (!a.startsWith("--") && a.length > 2) return a.slice(2);
    const v = argv[++i];
    if (v === undefined) throw new Fatal(`option '${name}' requires an argument`);
    return v;
  };
  // As GNU getopt: options may come anywhere; "--" ends them.
  const rest: string[] = [];
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      rest.push(a);
      continue;
    }
    // Flags without an argument may be bundled, as getopt allows ("-mmm").
    if (/^-[mhV]{2,}$/.test(a)) {
      argv = [...argv.slice(0, i), ...[...a.slice(1)].map((c) => `-${c}`), ...argv.slice(i + 1)];
      i--;
      continue;
    }
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : a.slice(0, 2);
    if (name === "-h" || name === "help") {
      write(usage());
      return 0;
    } else if (name === "-V" || name === "version") {
      write(`ovs-ofctl (Open vSwitch) ${OVS_VERSION}\nOpenFlow versions 0x1:0x6\n`);
      return 0;
    } else if (name === "-O" || name === "protocols") {
      const s = takeArg(a, "--protocols");
      const vs: number[] = [];
      for (const w of s.split(/[\s,]+/).filter((x) => x !== "")) {
        const v = versionFromString(w);
        if (!v) throw new Fatal(`Unknown OpenFlow version: "${w}"`);
        vs.push(v);
      }
      opts.versions = vs;
      versionsGiven = true;
    } else if (name === "-F" || name === "flow-format") {
      const p = protocolsFromString(takeArg(a, "--flow-format"));
      if (typeof p !== "number") throw new Fatal(`${p.bad}: unknown flow protocol`);
      opts.protocols = p;
    } else if (name === "strict") {
      opts.strict = true;
    } else if (name === "names") {
      opts.names = 1;
    } else if (name === "no-names") {
      opts.names = 0;
    } else if (name === "stats") {
      opts.stats = true;
    } else if (name === "no-stats") {
      opts.stats = false;
    } else if (name === "sort" || name === "rsort") {
      const eq = a.indexOf("=");
      const field = eq >= 0 ? a.slice(eq + 1) : "priority";
      if (field !== "priority" && !mfFromName(field)) throw new Fatal(`${field}: unknown field name`);
      opts.sort.push({ field, desc: name === "rsort" });
    } else if (name === "bundle") {
      opts.bundle = true;
    } else if (name === "readd") {
      opts.readd = true;
    } else if (name === "read-only") {
      opts.readOnly = true;
    } else if (name === "may-create") {
      opts.mayCreate = true;
    } else if (name === "timestamp") {
      opts.timestamp = true;
    } else if (name === "color") {
      const eq = a.indexOf("=");
      opts.color = eq >= 0 ? a.slice(eq + 1) : "always";
    } else if (name === "detach") {
      opts.detach = true;
    } else if (name === "pidfile") {
      const eq = a.indexOf("=");
      opts.pidfile = eq >= 0 ? a.slice(eq + 1) : "";
    } else if (name === "overwrite-pidfile") {
      opts.overwritePidfile = true;
    } else if (name === "no-chdir" || name === "monitor") {
      // Accepted as OVS accepts them; tsovs never changes directory.
    } else if (name === "unixctl") {
      opts.unixctl = takeArg(a, "--unixctl");
    } else if (name === "-P" || name === "packet-in-format") {
      const f = takeArg(a, "--packet-in-format");
      if (!["standard", "openflow10", "nxt_packet_in", "nxm", "nxt_packet_in2"].includes(f)) throw new Fatal(`unknown packet-in format \`${f}'`);
      opts.packetInFormat = f;
    } else if (name === "-t" || name === "timeout") {
      const v = takeArg(a, "--timeout");
      const n = /^[0-9]+$/.test(v) ? Number(v) : 0;
      if (n <= 0) throw new Fatal(`value ${v} on -t or --timeout is invalid`);
      opts.timeout = n;
    } else if (name === "-v" || name === "verbose") {
      const eq = a.indexOf("=");
      const spec = a.startsWith("--") ? (eq >= 0 ? a.slice(eq + 1) : "") : a.slice(2);
      const err = setLevels(spec === "" ? "dbg" : spec);
      if (err) throw new Fatal(err);
    } else if (name === "-m" || name === "more") {
      opts.verbosity++;
    } else {
      throw new Fatal(`unrecognized option '${a}'`);
    }
  }
  void versionsGiven;
  // Bundles need OpenFlow 1.3 (ONF extension) or later: --bundle adds 1.4 when none of those is allowed.
  if (opts.bundle && !opts.versions.some((v) => v >= 4)) opts.versions = [...opts.versions, 5];
  // The allowed protocols are those of the allowed versions, narrowed by -F.
  let byVersion = 0;
  for (const v of opts.versions) byVersion |= protocolsOfVersion(v);
  if (!(opts.protocols & byVersion)) {
    const vnames = opts.versions.map((v) => `OpenFlow1${v - 1}`).join(", ");
    throw new Fatal(`None of the enabled OpenFlow versions (${vnames}) supports any of the enabled flow formats (${protocolsToString(opts.protocols)}).  (Use -O to enable additional OpenFlow versions or -F to enable additional flow formats.)`);
  }
  opts.protocols &= byVersion;
  return { opts, rest: [...rest, ...argv.slice(i)] };
}

/**
 * Runs an ofctl command line in-process: what it writes to stdout (latin1
 * text), its error line for stderr, and its exit status. `stdin` supplies
 * standard input for `-` and parse-nxm/parse-oxm.
 */
export function ofctl(argv: string[], stdin?: string): { stdout: string; stderr: string; status: number } {
  takeOutput();
  try {
    return withStdin(stdin, () => {
      const p = parseOptions(argv);
      if (typeof p === "number") return { stdout: takeOutput(), stderr: "", status: p };
      const [cmd, ...args] = p.rest;
      if (cmd === undefined) throw new Fatal("missing command name; use --help for help");
      const c = OFFLINE_COMMANDS[cmd];
      if (!c) throw new Fatal(`unknown command '${cmd}'; use --help for help`);
      if (args.length < c.min) throw new Fatal(`'${cmd}' command requires at least ${c.min} arguments`);
      if (args.length > c.max) throw new Fatal(`'${cmd}' command takes at most ${c.max} arguments`);
      c.run(args, p.opts);
      return { stdout: takeOutput(), stderr: "", status: 0 };
    });
  } catch (e) {
    if (e instanceof Fatal) return { stdout: takeOutput(), stderr: `ovs-ofctl: ${e.message}\n`, status: 1 };
    takeOutput();
    throw e;
  }
}

/**
 * Runs a switch command (one of SWITCH_COMMANDS) in-process: its output,
 * error text and status, as `ofctl` does for the offline commands.
 * `stream` receives output as it is produced (monitor, ping) instead.
 */
export async function ofctlSwitch(argv: string[], stream?: (s: string) => void, stdin?: string): Promise<{ stdout: string; stderr: string; status: number }> {
  takeOutput();
  const restoreStdin = replaceStdin(stdin);
  resetXids();
  setDirectOutput(stream ?? null);
  try {
    const p = parseOptions(argv);
    if (typeof p === "number") return { stdout: takeOutput(), stderr: "", status: p };
    const [cmd, ...args] = p.rest;
    const c = cmd === undefined ? undefined : SWITCH_COMMANDS[cmd];
    if (!c) throw new Fatal(`unknown command '${cmd}'; use --help for help`);
    if (args.length < c.min) throw new Fatal(`'${cmd}' command requires at least ${c.min} arguments`);
    if (args.length > c.max) throw new Fatal(`'${cmd}' command takes at most ${c.max} arguments`);
    if (c.rw && p.opts.readOnly) throw new Fatal(`'${cmd}' command does not work in read only mode`);
    await c.run(new Session(p.opts), args);
    flushOutput();
    return { stdout: takeOutput(), stderr: "", status: 0 };
  } catch (e) {
    flushOutput();
    if (e instanceof Fatal) return { stdout: takeOutput(), stderr: `ovs-ofctl: ${e.message}\n`, status: 1 };
    if (e instanceof Exit) return { stdout: takeOutput(), stderr: e.stderr, status: e.status };
    // A message this version cannot carry (a codec tsovs lacks) is the user's dead end, not a crash.
    if (e instanceof Error && (e as { code?: string }).code === "OFP_ENCODE") {
      return { stdout: takeOutput(), stderr: `ovs-ofctl: ${e.message}\n`, status: 1 };
    }
    takeOutput();
    throw e;
  } finally {
    setDirectOutput(null);
    restoreStdin();
  }
}

/**
 * --detach: runs the command again in a detached child (same standard
 * output and error, as OVS's daemonize keeps them) and returns once it is
 * set up (monitor: connected and configured) or has failed.
 */
function detach(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, "ofctl", ...argv.filter((a) => a !== "--detach")], {
    detached: true,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, TSOVS_DETACHED: "1" },
  });
  return new Promise((resolve) => {
    child.once("message", () => {
      child.disconnect();
      child.unref();
      resolve(0);
    });
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

/** True if the command line names a switch command (after the options). */
function isSwitchCommand(argv: string[]): boolean {
  try {
    const p = parseOptions(argv);
    takeOutput();
    return typeof p !== "number" && p.rest[0] !== undefined && p.rest[0] in SWITCH_COMMANDS;
  } catch {
    takeOutput();
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  // Like OVS's command-line tools, log INFO and above to the console (stderr).
  setLevels("console:info");
  if (!isSwitchCommand(argv)) {
    const r = ofctl(argv);
    process.stdout.write(Buffer.from(r.stdout, "latin1"));
    if (r.stderr) process.stderr.write(r.stderr);
    return r.status;
  }
  const p = parseOptions(argv);
  if (typeof p !== "number" && p.opts.timeout > 0) {
    // As OVS's time_alarm: the process ends by SIGALRM when the time is up.
    setTimeout(() => {
      fatalSignalLog.warn("terminating with signal 14 (Alarm clock)");
      // Let the log line reach a pipe before the signal ends the process.
      runFatalCleanups();
      process.stderr.write("", () => process.kill(process.pid, "SIGALRM"));
    }, p.opts.timeout * 1000).unref();
  }
  if (typeof p !== "number" && p.opts.detach && process.env["TSOVS_DETACHED"] !== "1") return detach(argv);
  process.on("SIGPIPE", () => undefined);
  // Like OVS (SIGPIPE ignored): a reader that went away does not stop the command.
  process.stdout.on("error", () => undefined);
  // As OVS's fatal_signal: say which signal ends the process, then die by it.
  for (const [sig, num, text] of [["SIGTERM", 15, "Terminated"], ["SIGINT", 2, "Interrupt"], ["SIGHUP", 1, "Hangup"]] as const) {
    process.once(sig, () => {
      flushOutput();
      runFatalCleanups();
      fatalSignalLog.warn(`terminating with signal ${num} (${text})`);
      process.stderr.write("", () => process.kill(process.pid, sig));
    });
  }
  const r = await ofctlSwitch(argv, (s) => process.stdout.write(Buffer.from(s, "latin1")));
  if (r.stdout) process.stdout.write(Buffer.from(r.stdout, "latin1"));
  if (r.stderr) process.stderr.write(r.stderr);
  return r.status;
}
