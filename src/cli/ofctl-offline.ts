/**
 * ovs-ofctl(8)'s offline commands, the ones that need no switch:
 * `ofp-print`, `parse-flow`, `parse-flows`, `parse-nxm`, `parse-oxm`,
 * `encode-hello`. Each writes OVS 3.1's exact text through the shared
 * output sink.
 */
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
import { Fatal, type Options, parseHex, preprocessedLines, readInput, stdinText, versionFromString, write } from "./ofctl-common.js";

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

export interface OfflineCommand {
  min: number;
  max: number;
  run: (args: string[], opts: Options) => void;
}

export const OFFLINE_COMMANDS: Readonly<Record<string, OfflineCommand>> = {
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
