/**
 * ovs-ofctl(8)'s offline commands, the ones that need no switch:
 * `ofp-print`, `parse-flow`, `parse-flows`, `parse-nxm`, `parse-oxm`,
 * `encode-hello`, `ofp-parse`, and the hidden test commands that exercise
 * the codec (`parse-actions`, `parse-instructions`, `parse-ofp10-match`,
 * `parse-ofp11-match`, `parse-nx-match`, `check-vlan`, `print-error`,
 * `encode-error-reply`, `parse-key-value`, `parse-group`, `parse-pcap`,
 * `parse-packet`). Each writes OVS 3.1's exact text through the shared
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
  actionProtocols,
} from "../openflow/ofp-flow-parse.js";
import { OFPFC_ADD, pullNxMatchBytes, nxMatchBytes, formatMatchWithPriority, OFP_DEFAULT_PRIORITY } from "../openflow/ofp-flow.js";
import { decodeActions, decodeInstructions, encodeActions, encodeInstructions, formatActions } from "../openflow/ofp-actions-codec.js";
import { checkActions } from "../openflow/ofp-actions-check.js";
import { GROUP_COMMAND_ADD, parseGroupMod } from "../openflow/ofp-group-parse.js";
import type { GroupModBody } from "../openflow/ofp-group.js";
import { instructionOf } from "../openflow/ofp-actions.js";
import { isTextError } from "../openflow/ofp-actions-util.js";
import { decodeOfp10Match, decodeOfp11Match, encodeOfp10Match, encodeOfp11Match } from "../openflow/ofp-match.js";
import { normalizeMatchLogged } from "../openflow/match-format.js";
import { Match } from "../openflow/match.js";
import { W_VLAN0 } from "../flow/key-layout.js";
import { extractFlowKey } from "../flow/extract.js";
import { newFlowKey } from "../flow/key-ops.js";
import { DpPacket } from "../packet/dp-packet.js";
import { isPcapError, readPcap } from "../packet/pcap.js";
import { packetMatch, packetToString } from "../openflow/ofp-packet-text.js";
import { splitKeyValues } from "../openflow/match-parse.js";
import { encodeErrorBody, errorSpelling, isErrorName } from "../openflow/ofp-errors.js";
import { OfpWriter } from "../openflow/ofp-buffer.js";
import { decodeNxmHeader, mfFromHeader } from "../openflow/meta-flow.js";
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
      text = nxMatchToString(tunMetadataAsOvsPrints(bytes)).replace(/NXM_NX_MPLS_TTL(_W)?\((?=[0-9a-f]{16}[/)])/g, "NXM_NX_COOKIE$1(");
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
      text = nxMatchToString(tunMetadataAsOvsPrints(bytes)).replace(/NXM_NX_MPLS_TTL(_W)?\((?=[0-9a-f]{16}[/)])/g, "NXM_NX_COOKIE$1(");
    }
    out += text + "\n";
    if (opts.verbosity > 0) out += hexDump(oxmVersion ? withOxmHeader(bytes) : padTo8(bytes), 0, false);
  }
  write(out);
}

/**
 * What OVS's parse-nxm/parse-oxm print for tun_metadata entries without a
 * TLV map: an N-byte value comes back as the first N bytes of the value
 * placed at the end of the 124-byte field (so short values print as
 * zeros). Applied to a copy of the TLVs.
 */
function tunMetadataAsOvsPrints(tlvs: Uint8Array): Uint8Array {
  const b = Uint8Array.from(tlvs);
  let o = 0;
  while (o + 4 <= b.length) {
    const h = decodeNxmHeader(b.subarray(o));
    if (!h) break;
    const hl = h.class === 0xffff ? 8 : 4;
    const f = mfFromHeader({ ...h, length: 0 }) ?? mfFromHeader(h);
    if (f && f.name.startsWith("tun_metadata")) {
      const n = h.hasmask ? h.length >> 1 : h.length;
      for (let part = 0; part < (h.hasmask ? 2 : 1); part++) {
        const at = o + hl + part * n;
        const full = new Uint8Array(124);
        full.set(b.subarray(at, at + n), 124 - n);
        b.set(full.subarray(0, n), at);
      }
    }
    o += hl + h.length;
  }
  return b;
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


/* ---------------- hidden test commands ---------------- */

/** OVS's print_differences: byte positions where `b` differs from `a`. */
function differences(prefix: string, a: Uint8Array, b: Uint8Array): string {
  let out = "";
  const idx = (i: number): string => String(i).padStart(2, " ");
  const hex = (x: number): string => x.toString(16).padStart(2, "0");
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) out += `${prefix}${idx(i)}: ${hex(a[i]!)} -> ${hex(b[i]!)}\n`;
  }
  for (let i = a.length; i < b.length; i++) out += `${prefix}${idx(i)}: (none) -> ${hex(b[i]!)}\n`;
  for (let i = b.length; i < a.length; i++) out += `${prefix}${idx(i)}: ${hex(a[i]!)} -> (none)\n`;
  return out;
}

/** Hex digits of a test line, or the fatal error OVS gives for anything else. */
function hexLine(s: string): Uint8Array {
  const b = parseHex(s);
  if (!b) throw new Fatal("Trailing garbage in hex data");
  return b;
}

const VERSION_NAMES = ["", "OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"];

/**
 * `parse-actions VERSION` / `parse-instructions VERSION`: each line of
 * standard input is hex (optionally "TABLE," first); prints the decoded
 * list, then the bytes that differ when it is encoded again.
 */
function cmdParseActions(args: string[], instructions: boolean): void {
  const version = versionFromString(args[0]!);
  if (!version) throw new Fatal(`${args[0]}: not a valid OpenFlow version`);
  let out = "";
  try {
    for (const { line } of preprocessedLines(stdinText())) {
      let text = line;
      let tableId = 0;
      const comma = text.indexOf(",");
      if (comma >= 0) {
        // atoi: leading digits, 0 when none.
        tableId = Number.parseInt(text.slice(0, comma).trim(), 10) || 0;
        text = text.slice(comma + 1);
      }
      const bytes = hexLine(text);
      let list = instructions ? decodeInstructions(bytes, version) : decodeActions(bytes, version);
      if (!isDecodeError(list) && instructions) {
        const chk = checkActions(list, { match: new Match(), tableId: tableId & 0xff });
        const err = chk.error ?? (chk.of10Only && version !== 1 ? "OFPBAC_MATCH_INCONSISTENT" : null);
        if (err) list = { decodeError: err } as never;
      }
      if (isDecodeError(list)) {
        out += `bad ${VERSION_NAMES[version]} ${instructions ? "instructions" : "actions"}: ${list.decodeError}\n\n`;
        continue;
      }
      out += `actions=${formatActions(list)}\n`;
      const again = instructions ? encodeInstructions(list, version) : encodeActions(list, version);
      if (!isTextError(again)) out += differences("", bytes, again);
      out += "\n";
    }
  } finally {
    write(out);
  }
}

/** Reads standard input's test lines as hex structures of exactly `size` bytes. */
function structLines(size: number, each: (b: Uint8Array) => string): void {
  let out = "";
  try {
    for (const { line } of preprocessedLines(stdinText())) {
      const b = hexLine(line);
      if (b.length !== size) throw new Fatal(`Input is ${b.length} bytes, expected ${size}`);
      out += each(b);
    }
  } finally {
    write(out);
  }
}

/** `parse-ofp10-match`: ofp10_match hex → match text, re-encoding and normalization differences. */
function cmdParseOfp10Match(): void {
  structLines(40, (b) => {
    const m = decodeOfp10Match(b);
    if (isDecodeError(m)) return `bad ofp10_match: ${m.decodeError}\n\n`;
    let s = formatMatchWithPriority(m, OFP_DEFAULT_PRIORITY) + "\n";
    const again = encodeOfp10Match(m);
    s += differences("", b, again);
    const normal = m.clone();
    normalizeMatchLogged(normal, false);
    s += differences("normal: ", again, encodeOfp10Match(normal));
    return s + "\n";
  });
}

/** `parse-ofp11-match`: ofp11_match hex → match text and re-encoding differences. */
function cmdParseOfp11Match(): void {
  structLines(88, (b) => {
    // OVS converts the structure without looking at its type and length fields.
    const fixed = Uint8Array.from(b);
    fixed.set([0, 0, 0, 88], 0);
    const m = decodeOfp11Match(fixed);
    if (isDecodeError(m)) return `bad ofp11_match: ${m.decodeError}\n\n`;
    return formatMatchWithPriority(m, OFP_DEFAULT_PRIORITY) + "\n" + differences("", b, encodeOfp11Match(m)) + "\n";
  });
}

/** `print-error ERROR`: the error's vendor, type and code in every OpenFlow version. */
function cmdPrintError(args: string[]): void {
  const name = args[0]!;
  if (!isErrorName(name) || name.startsWith("<")) throw new Fatal(`unknown error "${name}"`);
  let out = "";
  for (let v = 1; v <= 6; v++) {
    const sp = errorSpelling(name, v);
    if (!sp) continue;
    const vendor = sp.vendor ? "0x" + sp.vendor.toString(16) : "0";
    out += `OpenFlow 1.${v - 1}: vendor ${vendor}, type ${sp.type}, code ${Math.max(sp.code, 0)}\n`;
  }
  write(out);
}

/** `encode-error-reply ERROR REQUEST`: the error message replying to the hex request. */
function cmdEncodeErrorReply(args: string[]): void {
  const name = args[0]!;
  if (!isErrorName(name) || name.startsWith("<")) throw new Fatal(`unknown error "${name}"`);
  const req = hexLine(args[1]!);
  if (req.length < 8) throw new Fatal("Request too short");
  const len = (req[2]! << 8) | req[3]!;
  if (req.length !== len) throw new Fatal("Request size inconsistent");
  const version = req[0]!;
  const w = new OfpWriter(64);
  w.u8(version).u8(1).u16(0).bytes(req.subarray(4, 8));
  encodeErrorBody(w, { error: name, data: req }, version);
  const b = w.finish();
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  write(hexDump(b, 0, false));
}

/** strtoul(s, NULL, 16): leading hex digits (an optional 0x), 0 when none; kept to 16 bits. */
function hex16(s: string): number {
  const m = /^\s*[+]?(?:0[xX])?([0-9a-fA-F]*)/.exec(s)!;
  return m[1] ? Number(BigInt("0x" + m[1]) & 0xffffn) : 0;
}

function tciText(m: Match): string {
  const v = m.key[W_VLAN0]! & 0xffff;
  const k = m.mask[W_VLAN0]! & 0xffff;
  return `${v.toString(16).padStart(4, "0")}/${k.toString(16).padStart(4, "0")}`;
}

/**
 * `check-vlan TCI MASK`: a VLAN TCI match through flow text, NXM, OXM,
 * OpenFlow 1.0 and 1.1 and back, showing what each keeps.
 */
function cmdCheckVlan(args: string[]): void {
  const match = new Match();
  match.key[W_VLAN0] = ((match.key[W_VLAN0]! & ~0xffff) | hex16(args[0]!)) >>> 0;
  match.mask[W_VLAN0] = ((match.mask[W_VLAN0]! & ~0xffff) | hex16(args[1]!)) >>> 0;
  const text = formatMatchWithPriority(match, OFP_DEFAULT_PRIORITY);
  let out = `${text} -> `;
  const r = parseFlowText(text, -1);
  if (!r.ok) {
    write(out);
    throw new Fatal(r.error);
  }
  out += tciText(r.fm.match) + "\n";

  // OVS writes the TCI unmasked: 1-bits outside the mask make an entry
  // that neither prints nor decodes. (Our Match keeps values masked.)
  const tci = match.key[W_VLAN0]! & 0xffff;
  const tciMask = match.mask[W_VLAN0]! & 0xffff;
  const nm = nxMatchBytes(match, 0n, 0n);
  const nx = nm.bytes.subarray(0, nm.length);
  const back = pullNxMatchBytes(nm.bytes, nm.length, true);
  if (tciMask && tci & ~tciMask) out += "NXM:  -> OFPBMC_BAD_WILDCARDS\n";
  else out += `NXM: ${nxMatchToString(nx)} -> ${isDecodeError(back) ? back.decodeError : tciText(back.match)}\n`;

  const ox = encodeNxRaw(match, 3);
  const oback = decodeNxRaw(ox, true);
  const oxmBad = (tciMask & 0x1fff) !== 0 && (tci & ~tciMask & 0x1fff) !== 0;
  if (oxmBad) out += "OXM:  -> ";
  else out += `OXM: ${nxMatchToString(ox)} -> `;
  if (oxmBad) out += "OFPBMC_BAD_WILDCARDS\n";
  else if (isDecodeError(oback)) out += `${oback.decodeError}\n`;
  else {
    const vid = oback.key[W_VLAN0]! & 0x1fff;
    const mask = oback.mask[W_VLAN0]! & 0x1fff;
    out += `${vid.toString(16).padStart(4, "0")}/${mask.toString(16).padStart(4, "0")},`;
    const pcpMask = (oback.mask[W_VLAN0]! & 0xffff) >> 13;
    out += vid && pcpMask ? `${String((oback.key[W_VLAN0]! & 0xffff) >> 13).padStart(2, "0")}\n` : "--\n";
  }

  const raw = (b: Uint8Array, vlanAt: number, wcAt: number, vlanBit: number, pcpBit: number): string => {
    const wc = ((b[wcAt]! << 24) | (b[wcAt + 1]! << 16) | (b[wcAt + 2]! << 8) | b[wcAt + 3]!) >>> 0;
    const vlan = (b[vlanAt]! << 8) | b[vlanAt + 1]!;
    return `${vlan.toString(16).padStart(4, "0")}/${wc & vlanBit ? 1 : 0},${String(b[vlanAt + 2]!).padStart(2, "0")}/${wc & pcpBit ? 1 : 0}`;
  };
  const of10 = encodeOfp10Match(match);
  const m10 = decodeOfp10Match(of10);
  out += `OF1.0: ${raw(of10, 18, 0, 1 << 1, 1 << 20)} -> ${isDecodeError(m10) ? m10.decodeError : tciText(m10)}\n`;
  const of11 = encodeOfp11Match(match);
  const m11 = decodeOfp11Match(of11);
  out += `OF1.1: ${raw(of11, 36, 8, 1 << 1, 1 << 2)} -> ${isDecodeError(m11) ? m11.decodeError : tciText(m11)}\n`;
  write(out);
}

/**
 * `parse-group GROUP`: a group_mod (add) from text, the protocols its
 * actions allow, and the message in the lowest allowed version that can
 * carry it.
 */
function cmdParseGroup(args: string[], opts: Options): void {
  const g = parseGroupMod(args[0]!, GROUP_COMMAND_ADD);
  if ("error" in g) throw new Fatal(g.error);
  // Buckets hold actions (meter being one, as OpenFlow 1.5 has it).
  for (const b of g.buckets) {
    const inst = b.actions.find((a) => a.type !== "meter" && instructionOf(a) !== "apply_actions");
    if (inst) throw new Fatal(`${instructionOf(inst)} instruction not allowed here`);
  }
  let usable = P_ANY;
  for (const b of g.buckets) {
    usable &= actionProtocols(b.actions);
    // A bucket's meter can only be written as OpenFlow 1.5's meter action.
    if (b.actions.some((a) => a.type === "meter")) usable &= protocolsOfVersion(6);
  }
  let out = `usable protocols: ${protocolsToString(usable)}\n`;
  const version = [...opts.versions].sort((a, b) => a - b).find((v) => protocolsOfVersion(v) & usable & opts.protocols);
  if (version === undefined) {
    write(out);
    throw new Fatal("no usable protocol");
  }
  out += `chosen version: OpenFlow1${version - 1}\n`;
  const body: GroupModBody = {
    command: g.command,
    type: g.type,
    groupId: g.groupId,
    // OpenFlow 1.1-1.4 number buckets by position.
    buckets: g.buckets.map((b) => (version > 1 && version < 6
      ? { weight: b.weight, watchPort: b.watchPort, watchGroup: b.watchGroup, actions: b.actions }
      : { bucketId: b.bucketId, weight: b.weight, watchPort: b.watchPort, watchGroup: b.watchGroup, actions: b.actions })),
    commandBucketId: g.commandBucketId,
  };
  if (g.props.selectionMethod) body.props = g.props;
  const msg = { type: version === 1 ? "NXT_GROUP_MOD" : "OFPT_GROUP_MOD", version, xid: 1, body } as OfpMessage;
  out += ofpToString(encodeMessage(msg), opts.verbosity);
  write(out);
}

/** `ofp-parse FILE`: every OpenFlow message in a file of raw messages, printed. */
function cmdOfpParse(args: string[], opts: Options): void {
  const file = args[0]!;
  let data: Uint8Array;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Reading a directory fails like an empty file does for OVS's fread.
    if (code === "EISDIR") return;
    const why = code === "ENOENT" ? "No such file or directory" : code === "EACCES" ? "Permission denied" : String(code);
    throw new Fatal(`${file}: open (${why})`);
  }
  let out = "";
  try {
    let o = 0;
    while (o < data.length) {
      if (data.length - o < 8) throw new Fatal(`${file}: unexpected end of file mid-message`);
      const len = (data[o + 2]! << 8) | data[o + 3]!;
      if (len < 8) throw new Fatal(`${file}: ${len}-byte message is too short for OpenFlow`);
      if (data.length - o < len) throw new Fatal(`${file}: unexpected end of file mid-message`);
      out += ofpToString(data.subarray(o, o + len), opts.verbosity + 2);
      o += len;
    }
  } finally {
    write(out);
  }
}

function packetText(bytes: Uint8Array, inPort: number | null): string {
  const pkt = new DpPacket();
  pkt.setData(bytes);
  const key = newFlowKey();
  extractFlowKey(pkt, key);
  return formatMatchWithPriority(packetMatch(key, inPort), OFP_DEFAULT_PRIORITY);
}

/** `parse-packet`: the Ethernet frame on standard input (raw bytes), as OVS's ofp_packet_to_string prints it. */
function cmdParsePacket(): void {
  write(packetToString(Uint8Array.from(Buffer.from(stdinText(), "latin1"))));
}

/** `parse-pcap FILE...`: the flow of every packet in pcap files. */
function cmdParsePcap(args: string[]): void {
  let out = "";
  try {
    for (const file of args) {
      let data: Uint8Array;
      try {
        data = fs.readFileSync(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new Fatal(`${file}: open failed (${code === "ENOENT" ? "No such file or directory" : String(code)})`);
      }
      const pcap = readPcap(data);
      // OVS reports a bad header as a failed open, with the errno it mapped it to.
      if (isPcapError(pcap)) throw new Fatal(`${file}: open failed (${/End of file/.test(pcap.error) ? "End of file" : "Protocol error"})`);
      for (const rec of pcap.records) {
        // parse-pcap stops at an empty record.
        if (rec.data.length === 0) break;
        out += packetText(rec.data, 0xffff) + "\n";
      }
    }
  } finally {
    write(out);
  }
}

/** `parse-key-value ARG...`: each argument split as OVS splits key-value lists. */
function cmdParseKeyValue(args: string[]): void {
  let out = "";
  for (const a of args) {
    out += splitKeyValues(a).map(({ key, value }) => (value ? `${key}=${value}` : key)).join(", ") + "\n";
  }
  write(out);
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
  "parse-nx-match": { min: 0, max: 0, run: (_a, o) => cmdParseNxm(0, o) },
  "parse-actions": { min: 1, max: 1, run: (a) => cmdParseActions(a, false) },
  "parse-instructions": { min: 1, max: 1, run: (a) => cmdParseActions(a, true) },
  "parse-ofp10-match": { min: 0, max: 0, run: cmdParseOfp10Match },
  "parse-ofp11-match": { min: 0, max: 0, run: cmdParseOfp11Match },
  "print-error": { min: 1, max: 1, run: cmdPrintError },
  "encode-error-reply": { min: 2, max: 2, run: cmdEncodeErrorReply },
  "check-vlan": { min: 2, max: 2, run: cmdCheckVlan },
  "parse-group": { min: 1, max: 1, run: cmdParseGroup },
  "ofp-parse": { min: 1, max: 1, run: cmdOfpParse },
  "parse-packet": { min: 0, max: 0, run: cmdParsePacket },
  "parse-pcap": { min: 1, max: Infinity, run: cmdParsePcap },
  "parse-key-value": { min: 1, max: Infinity, run: cmdParseKeyValue },
};
