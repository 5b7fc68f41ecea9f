/**
 * `tsovs appctl [-t TARGET] COMMAND [ARG...]`: sends one command to a
 * running daemon's control socket and prints the reply, as ovs-appctl(8).
 *
 * Exit status as ovs-appctl: 0 on success, 2 when the daemon replied with
 * an error (printed on stderr), 1 when the daemon could not be reached.
 */
import { unixctlTransact, UnixctlTargetError, versionText } from "../unixctl/index.js";

const USAGE = `ovs-appctl, for querying and controlling Open vSwitch daemon
usage: ovs-appctl [TARGET] COMMAND [ARG...]
Targets:
  -t, --target=TARGET  pidfile or socket to contact
Common commands:
  list-commands      List commands supported by the target
  version            Print version of the target
  vlog/list          List current logging levels
  vlog/list-pattern  List logging patterns for each destination.
  vlog/set [SPEC]
      Set log levels as detailed in SPEC, which may include:
      A valid module name (all modules, by default)
      'syslog', 'console', 'file' (all destinations, by default))
      'off', 'emer', 'err', 'warn', 'info', or 'dbg' ('dbg', bydefault)
  vlog/reopen        Make the program reopen its log file
Other options:
  --timeout=SECS     wait at most SECS seconds for a response
  -h, --help         Print this helpful information
  -V, --version      Display ovs-appctl version information
`;

function fail(msg: string): number {
  process.stderr.write(`ovs-appctl: ${msg}\n`);
  return 1;
}

export async function run(args: string[]): Promise<number | undefined> {
  let target = "ovs-vswitchd";
  let timeoutSecs = 0;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-") || a === "-") break;
    let value: string | undefined;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (a.startsWith("--") && eq > 0) value = a.slice(eq + 1);
    const needValue = (): string | null => {
      if (value !== undefined) return value;
      if (i + 1 >= args.length) return null;
      return args[++i]!;
    };
    switch (name) {
      case "-t":
      case "--target": {
        const v = needValue();
        if (v === null) return fail(`option '${name}' requires an argument`);
        target = v;
        break;
      }
      case "-T":
      case "--timeout": {
        const v = needValue();
        if (v === null) return fail(`option '${name}' requires an argument`);
        timeoutSecs = Number(v);
        if (!Number.isFinite(timeoutSecs) || timeoutSecs < 0) return fail(`value ${v} on --timeout is invalid`);
        break;
      }
      case "-h":
      case "--help":
        process.stdout.write(USAGE);
        return 0;
      case "-V":
      case "--version":
        process.stdout.write(versionText("ovs-appctl"));
        return 0;
      default:
        if (a.startsWith("-t") && a.length > 2) {
          target = a.slice(2);
          break;
        }
        return fail(`unrecognized option '${a}'`);
    }
  }
  const rest = args.slice(i);
  if (rest.length === 0) return fail("at least one non-option argument is required (use --help for help)");
  const [command, ...cmdArgs] = rest as [string, ...string[]];
  let timer: NodeJS.Timeout | undefined;
  if (timeoutSecs > 0) {
    timer = setTimeout(() => {
      process.stderr.write(`ovs-appctl: timeout after ${timeoutSecs} seconds\n`);
      process.exit(2);
    }, timeoutSecs * 1000);
  }
  try {
    const reply = await unixctlTransact(target, command, cmdArgs);
    if (reply.ok) {
      process.stdout.write(reply.result);
      return 0;
    }
    process.stderr.write(reply.error);
    process.stderr.write(`ovs-appctl: ${target}: server returned an error\n`);
    return 2;
  } catch (e) {
    if (e instanceof UnixctlTargetError) return fail(e.message);
    return fail(`${target}: transaction error (${(e as Error).message})`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
