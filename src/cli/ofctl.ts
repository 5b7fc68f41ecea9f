/**
 * `tsovs ofctl [OPTIONS] COMMAND [ARG...]`: ovs-ofctl(8). Options are
 * parsed here and commands dispatched: the offline ones (ofctl-offline.ts)
 * run in-process; output is byte-identical to ovs-ofctl 3.1 (written as
 * latin1, like OVS writes raw bytes); errors go to stderr as
 * "ovs-ofctl: ..." with exit status 1.
 *
 * Options: `-O/--protocols VERSIONS` (OpenFlow versions allowed),
 * `-F/--flow-format FORMATS` (flow protocols allowed), `--strict`,
 * `-m/--more` (raise ofp-print verbosity), `-h/--help`, `-V/--version`.
 */
import { protocolsFromString, protocolsOfVersion, protocolsToString, P_ANY } from "../openflow/ofp-flow-parse.js";
import { OVS_VERSION } from "../unixctl/builtins.js";
import { setLevels } from "../util/vlog.js";
import { Fatal, type Options, takeOutput, versionFromString, withStdin, write } from "./ofctl-common.js";
import { OFFLINE_COMMANDS } from "./ofctl-offline.js";

function usage(): string {
  return `ovs-ofctl: OpenFlow switch management utility
usage: ovs-ofctl [OPTIONS] COMMAND [ARG...]

Offline commands supported by tsovs ofctl:
  ofp-print HEXSTRING [VERBOSITY]  print OpenFlow message in HEXSTRING
  parse-flow FLOW             print FLOW as OpenFlow messages
  parse-flows FILE            print the flows in FILE as OpenFlow messages
  parse-nxm                   parse NXM matches read from stdin
  parse-oxm VERSION           parse OXM matches read from stdin
  encode-hello BITMAP         print an OFPT_HELLO with the version BITMAP

Options:
  -O, --protocols=VERSIONS    allow only the given OpenFlow versions
  -F, --flow-format=FORMAT    allow only the given flow formats
  --strict                    use strict match decoding
  -m, --more                  be more verbose printing OpenFlow
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

function parseOptions(argv: string[]): { opts: Options; rest: string[] } | number {
  const opts: Options = { versions: [1], protocols: P_ANY, strict: false, verbosity: 0 };
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
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
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
    } else if (name === "-m" || name === "more") {
      opts.verbosity++;
    } else {
      throw new Fatal(`unrecognized option '${a}'`);
    }
  }
  void versionsGiven;
  // The allowed protocols are those of the allowed versions, narrowed by -F.
  let byVersion = 0;
  for (const v of opts.versions) byVersion |= protocolsOfVersion(v);
  if (!(opts.protocols & byVersion)) {
    const vnames = opts.versions.map((v) => `OpenFlow1${v - 1}`).join(", ");
    throw new Fatal(`None of the enabled OpenFlow versions (${vnames}) supports any of the enabled flow formats (${protocolsToString(opts.protocols)}).  (Use -O to enable additional OpenFlow versions or -F to enable additional flow formats.)`);
  }
  opts.protocols &= byVersion;
  return { opts, rest: argv.slice(i) };
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

export async function run(argv: string[]): Promise<number> {
  // Like OVS's command-line tools, log INFO and above to the console (stderr).
  setLevels("console:info");
  const r = ofctl(argv);
  process.stdout.write(Buffer.from(r.stdout, "latin1"));
  if (r.stderr) process.stderr.write(r.stderr);
  return r.status;
}
