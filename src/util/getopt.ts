/**
 * Command-line option parsing with GNU getopt_long's behaviour and
 * messages, for the OVS-compatible tools: unique-prefix abbreviations,
 * `--opt=arg` or `--opt arg`, bundled short options (`-t5`), and `--`
 * ending the options. ovs-vsctl stops at the first non-option (OVS passes
 * "+"); ovsdb-tool and ovsdb-client let options follow operands, as GNU
 * getopt's default permutation does (`permute`).
 */

export type HasArg = 0 | 1 | 2;

export interface LongOption {
  name: string;
  hasArg: HasArg;
  /** Identity for ambiguity checks (same id = same option to getopt). */
  id: string;
  /** Short option letter that means the same, if any. */
  short?: string;
}

export interface ParsedOption {
  id: string;
  name: string;
  arg: string | null;
}

export class GetoptError extends Error {}

/**
 * Parses `argv` (without the program name) and returns the options and
 * the index of the first non-option argument. With `permute`, parsing goes
 * on past non-options, which are collected (in order) in `operands`, and
 * `optind` is argv.length.
 */
export function getoptLong(
  argv: string[],
  longs: LongOption[],
  prog: string,
  permute = false,
): { options: ParsedOption[]; optind: number; operands: string[] } {
  const out: ParsedOption[] = [];
  const operands: string[] = [];
  const shorts = new Map<string, LongOption>();
  for (const o of longs) if (o.short) shorts.set(o.short, o);
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      if (permute) {
        operands.push(...argv.slice(i));
        i = argv.length;
      }
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!permute) break;
      operands.push(a);
      i++;
      continue;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      let found = longs.find((o) => o.name === name);
      if (!found) {
        const matches = longs.filter((o) => o.name.startsWith(name));
        if (matches.length === 0) throw new GetoptError(`${prog}: unrecognized option '${eq >= 0 ? a.slice(0, eq) : a}'`);
        const first = matches[0]!;
        const ambiguous = matches.some((m) => m.hasArg !== first.hasArg || m.id !== first.id);
        if (ambiguous) {
          throw new GetoptError(
            `${prog}: option '${eq >= 0 ? a.slice(0, eq) : a}' is ambiguous; possibilities:${matches.map((m) => ` '--${m.name}'`).join("")}`,
          );
        }
        found = first;
      }
      i++;
      if (found.hasArg === 0) {
        if (eq >= 0) throw new GetoptError(`${prog}: option '--${found.name}' doesn't allow an argument`);
        out.push({ id: found.id, name: found.name, arg: null });
      } else if (eq >= 0) {
        out.push({ id: found.id, name: found.name, arg: a.slice(eq + 1) });
      } else if (found.hasArg === 1) {
        if (i >= argv.length) throw new GetoptError(`${prog}: option '--${found.name}' requires an argument`);
        out.push({ id: found.id, name: found.name, arg: argv[i++]! });
      } else {
        out.push({ id: found.id, name: found.name, arg: null });
      }
      continue;
    }
    // Short options, possibly bundled.
    let j = 1;
    i++;
    while (j < a.length) {
      const c = a[j++]!;
      const o = shorts.get(c);
      if (!o) throw new GetoptError(`${prog}: invalid option -- '${c}'`);
      if (o.hasArg === 0) {
        out.push({ id: o.id, name: o.name, arg: null });
        continue;
      }
      if (j < a.length) {
        out.push({ id: o.id, name: o.name, arg: a.slice(j) });
      } else if (o.hasArg === 1) {
        if (i >= argv.length) throw new GetoptError(`${prog}: option requires an argument -- '${c}'`);
        out.push({ id: o.id, name: o.name, arg: argv[i++]! });
      } else {
        out.push({ id: o.id, name: o.name, arg: null });
      }
      break;
    }
  }
  if (!permute) operands.push(...argv.slice(i));
  return { options: out, optind: i, operands };
}

/**
 * The --help text about remotes and SSL that OVS tools print
 * (`what` is "database" for ovs-vsctl, "SERVER" for ovsdb-client).
 */
export function remoteOptionsHelp(what: string): string {
  return `Active ${what} connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  ssl:HOST:PORT           SSL PORT at remote HOST
  unix:FILE               Unix domain socket named FILE
Passive ${what} connection methods:
  ptcp:PORT[:IP]          listen to TCP PORT on IP
  pssl:PORT[:IP]          listen for SSL on PORT on IP
  punix:FILE              listen on Unix domain socket FILE
PKI configuration (required to use SSL):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create
SSL options:
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable
`;
}

/** The --help text about logging options (vlog_usage), `logFile` being the default log file. */
export function loggingOptionsHelp(logFile: string): string {
  return `Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: ${logFile})
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP
`;
}
