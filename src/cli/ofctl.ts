/**
 * `tsovs ofctl [OPTIONS] COMMAND [ARG...]`: ovs-ofctl(8)'s offline
 * commands (the ones that need no switch): `ofp-print`, `parse-flow`,
 * `parse-flows`, `parse-nxm`, `parse-oxm`, `encode-hello`. Output is
 * byte-identical to ovs-ofctl 3.1 (written as latin1, like OVS writes raw
 * bytes); errors go to stderr as "ovs-ofctl: ..." with exit status 1.
 *
 * Options: `-O/--protocols VERSIONS` (OpenFlow versions allowed),
 * `-F/--flow-format FORMATS` (flow protocols allowed), `--strict`,
 * `-m/--more` (raise ofp-print verbosity), `-h/--help`, `-V/--version`.
 */
import * as fs from "node:fs";
import {
  encodeMessage,
  hexDump,
  makeHello,
  ofpToString,
  type OfpMessage,
  type FlowModBody,
  decodeNxRaw,
  encodeNxRaw,
  nxMatchFromString,
  nxMatchToString,
  isDecodeError,
} from "../openflow/index.js";
import {
  parseFlowText,
  protocolName,
  protocolsFromString,
  protocolsOfVersion,
  protocolsToString,
  protocolWire,
  P_ANY,
} from "../openflow/ofp-flow-parse.js";
import { OFPFC_ADD, pullNxMatchBytes, nxMatchBytes } from "../openflow/ofp-flow.js";
import { OVS_VERSION } from "../unixctl/builtins.js";
import { setLevels } from "../util/vlog.js";

class Fatal extends Error {}

const VERSION_WORDS: Readonly<Record<string, number>> = {
  openflow10: 1, openflow11: 2, openflow12: 3, openflow13: 4, openflow14: 5, openflow15: 6,
};

function versionFromString(s: string): number {
  return VERSION_WORDS[s.toLowerCase()] ?? 0;
}

interface Options {
  versions: number[];
  protocols: number;
  strict: boolean;
  verbosity: number;
}

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

/** Reads hex digits (blanks allowed between bytes) as OVS's ofpbuf_put_hex. */
function parseHex(s: string): Uint8Array | null {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const h = s.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
    out.push(parseInt(h, 16));
    i += 2;
  }
  return Uint8Array.from(out);
}

/** Where commands write: collected, then written out by `run` (or returned by `ofctl`). */
let sink: string[] = [];
let stdinText: () => string = () => fs.readFileSync(0, "latin1");

function write(s: string): void {
  sink.push(s);
}

/** Lines of a flow file as ds_get_preprocessed_line: comments cut, blank lines skipped. */
function preprocessedLines(text: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  text.split("\n").forEach((raw, i) => {
    if (i === text.split("\n").length - 1 && raw === "") return;
    const hash = raw.indexOf("#");
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).replace(/\r$/, "");
    if (line.trim() !== "") out.push({ line, n: i + 1 });
  });
  return out;
}

function readInput(file: string): string {
  if (file === "-") return stdinText();
  try {
    return fs.readFileSync(file, "latin1");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "No such file or directory" : code === "EACCES" ? "Permission denied" : code === "EISDIR" ? "Is a directory" : String(code);
    throw new Fatal(`${file}: open failed (${why})`);
  }
}

function parseFlows(fms: FlowModBody[], usable: number, opts: Options): string {
  let out = `usable protocols: ${protocolsToString(usable)}\n`;
  const allowed = opts.protocols;
  if (!(usable & allowed)) {
    write(out);
    throw new Fatal("no usable protocol");
  }
  let protocol = 0;
  for (let i = 0; i < 32; i++) {
    if (usable & allowed & (1 << i)) {
      protocol = 1 << i;
      break;
    }
  }
  out += `chosen protocol: ${protocolName(protocol)}\n`;
  const wire = protocolWire(protocol);
  fms.forEach((fm, i) => {
    const body: FlowModBody = { ...fm, tid: wire.tid };
    if (!wire.tid) body.tableId = 0xff;
    const msg = { type: wire.nxm ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD", version: wire.version, xid: i + 1, body } as OfpMessage;
    out += ofpToString(encodeMessage(msg), opts.verbosity);
  });
  return out;
}

function cmdParseFlow(args: string[], opts: Options): void {
  const r = parseFlowText(args[0]!, OFPFC_ADD);
  if (!r.ok) throw new Fatal(r.error);
  write(parseFlows([r.fm], r.usable, opts));
}

function cmdParseFlows(args: string[], opts: Options): void {
  const file = args[0]!;
  const text = readInput(file);
  const fms: FlowModBody[] = [];
  let usable = P_ANY;
  for (const { line, n } of preprocessedLines(text)) {
    const r = parseFlowText(line, OFPFC_ADD);
    if (!r.ok) throw new Fatal(`${file}:${n}: ${r.error}`);
    fms.push(r.fm);
    usable &= r.usable;
  }
  write(parseFlows(fms, usable, opts));
}

function cmdOfpPrint(args: string[]): void {
  // ovs-ofctl prints at verbosity 2 unless told otherwise.
  const verbosity = args.length > 1 ? parseInt(args[1]!, 10) || 0 : 2;
  let hex = args[0]!;
  if (hex === "-") {
    // The message is the first line of standard input.
    const text = stdinText();
    if (text === "") throw new Fatal("Failed to read stdin");
    hex = text.split("\n")[0]!;
  }
  const b = parseHex(hex);
  if (!b) throw new Fatal("trailing garbage following hex bytes");
  write(ofpToString(b, verbosity));
}

function cmdEncodeHello(args: string[], opts: Options): void {
  const bitmap = Number.parseInt(args[0]!, args[0]!.toLowerCase().startsWith("0x") ? 16 : 10) >>> 0;
  const b = encodeMessage(makeHello(bitmap, 1));
  write(hexDump(b, 0, false) + ofpToString(b, opts.verbosity));
}

function cmdParseNxm(oxmVersion: number, opts: Options): void {
  let out = "";
  const lines = stdinText().split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const raw of lines) {
    // ds_get_test_line: comment lines and blank lines are echoed.
    if (raw.startsWith("#")) {
      out += raw + "\n";
      continue;
    }
    const line = raw.includes("#") ? raw.slice(0, raw.indexOf("#")) : raw;
    if (line.trim() === "") {
      out += "\n";
      continue;
    }
    // The cookie pseudo-field has no meta-flow field: spell it as its raw header.
    const tlv = nxMatchFromString(line.replace(/NXM_NX_COOKIE_W\(/g, "00013d10(").replace(/NXM_NX_COOKIE\(/g, "00013c08("));
    if (!(tlv instanceof Uint8Array)) {
      write(out);
      throw new Fatal(tlv.error);
    }
    let text: string;
    let bytes: Uint8Array;
    if (oxmVersion) {
      const m = decodeNxRaw(tlv, opts.strict);
      if (isDecodeError(m)) {
        out += `nx_pull_match() returned error ${m.decodeError}\n`;
        continue;
      }
      bytes = encodeNxRaw(m, oxmVersion);
      text = nxMatchToString(bytes).replace(/NXM_NX_MPLS_TTL(_W)?\((?=[0-9a-f]{16}[/)])/g, "NXM_NX_COOKIE$1(");
    } else {
      const padded = new Uint8Array((tlv.length + 7) & ~7);
      padded.set(tlv);
      const pm = pullNxMatchBytes(padded, tlv.length, opts.strict);
      if (isDecodeError(pm)) {
        out += `nx_pull_match() returned error ${pm.decodeError}\n`;
        continue;
      }
      const nm = nxMatchBytes(pm.match, pm.cookie, pm.cookieMask);
      bytes = nm.bytes.subarray(0, nm.length);
      text = nxMatchToString(bytes).replace(/NXM_NX_MPLS_TTL(_W)?\((?=[0-9a-f]{16}[/)])/g, "NXM_NX_COOKIE$1(");
    }
    out += text + "\n";
    if (opts.verbosity > 0) out += hexDump(oxmVersion ? withOxmHeader(bytes) : padTo8(bytes), 0, false);
  }
  write(out);
}

function padTo8(b: Uint8Array): Uint8Array {
  const p = new Uint8Array((b.length + 7) & ~7);
  p.set(b);
  return p;
}

function withOxmHeader(tlv: Uint8Array): Uint8Array {
  const len = 4 + tlv.length;
  const p = new Uint8Array((len + 7) & ~7);
  p.set([0, 1, len >> 8, len & 0xff]);
  p.set(tlv, 4);
  return p;
}

interface Command {
  min: number;
  max: number;
  run: (args: string[], opts: Options) => void;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  "ofp-print": { min: 1, max: 2, run: cmdOfpPrint },
  "parse-flow": { min: 1, max: 1, run: cmdParseFlow },
  "parse-flows": { min: 1, max: 1, run: cmdParseFlows },
  "parse-nxm": { min: 0, max: 0, run: (_a, o) => cmdParseNxm(0, o) },
  "parse-oxm": {
    min: 1, max: 1,
    run: (a, o) => {
      const v = versionFromString(a[0]!);
      if (v < 3) throw new Fatal(`${a[0]}: not a valid version for OXM`);
      cmdParseNxm(v, o);
    },
  },
  "encode-hello": { min: 1, max: 1, run: cmdEncodeHello },
};

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
  sink = [];
  const saved = stdinText;
  if (stdin !== undefined) stdinText = () => stdin;
  try {
    const p = parseOptions(argv);
    if (typeof p === "number") return { stdout: sink.join(""), stderr: "", status: p };
    const [cmd, ...args] = p.rest;
    if (cmd === undefined) throw new Fatal("missing command name; use --help for help");
    const c = COMMANDS[cmd];
    if (!c) throw new Fatal(`unknown command '${cmd}'; use --help for help`);
    if (args.length < c.min) throw new Fatal(`'${cmd}' command requires at least ${c.min} arguments`);
    if (args.length > c.max) throw new Fatal(`'${cmd}' command takes at most ${c.max} arguments`);
    c.run(args, p.opts);
    return { stdout: sink.join(""), stderr: "", status: 0 };
  } catch (e) {
    if (e instanceof Fatal) return { stdout: sink.join(""), stderr: `ovs-ofctl: ${e.message}\n`, status: 1 };
    throw e;
  } finally {
    stdinText = saved;
    sink = [];
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
