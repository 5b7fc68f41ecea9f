/**
 * Sub-fields for the register actions (move, load, output:reg, multipath,
 * learn): a field plus a bit range, written `NXM_NX_REG0[0..15]`,
 * `reg0[3]` or `NXM_OF_ETH_SRC[]`, and carried on the wire as an NXM
 * header plus an offset and bit count (often packed as `ofs_nbits`).
 */
import {
  encodeNxmHeader, formatNxmHeader, headerForCode, mfFromHeader, mfFromName, parseNxmHeader,
  type MfCode, type MfField, type NxmHeader,
} from "./meta-flow.js";

/** Bits `ofs` .. `ofs + nBits - 1` of `field`. */
export interface Subfield {
  readonly field: string;
  readonly ofs: number;
  readonly nBits: number;
}

/**
 * Widths OVS gives fields whose value does not fill whole bytes
 * (ovs-fields(7) "only the least-significant N bits may be nonzero"); the
 * registry records byte widths for them.
 */
const SUB_BYTE_BITS: Readonly<Record<string, number>> = {
  tun_flags: 1, vlan_pcp: 3, mpls_label: 20,
  mpls_tc: 3, mpls_bos: 1, ipv6_label: 20, ip_frag: 2, ip_dscp: 6, nw_ecn: 2, nsh_spi: 24, tcp_flags: 12,
};

/** The width in bits OVS uses for `fld` in sub-fields and loads. */
export function fieldBits(fld: MfField): number {
  return SUB_BYTE_BITS[fld.name] ?? fld.bits;
}

/** The field a sub-field names (registry lookup, by name or alias). */
export function subfieldField(sf: Subfield): MfField {
  const f = mfFromName(sf.field);
  if (!f) throw new Error(`ofp-actions: unknown field ${sf.field}`);
  return f;
}

/** The NXM header OVS writes for a field in Nicira actions (NXM code, else OXM). */
export function nxHeaderOf(fld: MfField): NxmHeader {
  const code = fld.nxm ?? fld.oxm ?? fld.oxm15;
  if (!code) throw new Error(`ofp-actions: field ${fld.name} has no NXM/OXM code`);
  return headerForCode(fld, code, false);
}

function nxHeaderCode(fld: MfField, h: NxmHeader): MfCode {
  return [fld.nxm, fld.oxm, fld.oxm15].find((c) => c && c.class === h.class && c.field === h.field && c.vendor === h.vendor) ?? (fld.nxm ?? fld.oxm)!;
}

/** nxHeaderBytesOf's answers: encoding actions asks it for every register load and move. */
const NX_HEADER_BYTES = new Map<MfField, Uint8Array>();

/**
 * The 4- or 8-byte wire header of nxHeaderOf(fld), shared: callers copy
 * it into a writer and must not change it.
 */
export function nxHeaderBytesOf(fld: MfField): Uint8Array {
  let b = NX_HEADER_BYTES.get(fld);
  if (b === undefined) {
    b = encodeNxmHeader(nxHeaderOf(fld));
    NX_HEADER_BYTES.set(fld, b);
  }
  return b;
}

/** The 4- or 8-byte wire header of a sub-field's field (shared: not to be changed). */
export function subfieldHeaderBytes(sf: Subfield): Uint8Array {
  return nxHeaderBytesOf(subfieldField(sf));
}

/** OVS's text for a sub-field: code name then `[]`, `[n]` or `[a..b]`. */
export function formatSubfield(sf: Subfield): string {
  const fld = subfieldField(sf);
  const name = formatNxmHeader(nxHeaderOf(fld));
  if (sf.ofs === 0 && sf.nBits === fieldBits(fld)) return `${name}[]`;
  if (sf.nBits === 1) return `${name}[${sf.ofs}]`;
  return `${name}[${sf.ofs}..${sf.ofs + sf.nBits - 1}]`;
}

/**
 * Parses `NAME[...]` as OVS's mf_parse_subfield does; returns the sub-field
 * and the unparsed rest, or OVS's error text.
 */
export function parseSubfield(s: string): { sf: Subfield; rest: string } | { error: string } {
  const m = /^([A-Za-z0-9_]+)(\[([0-9]*)(?:\.\.([0-9]*))?\])?/.exec(s);
  if (!m || m[1] === "") return { error: `${s}: missing field name` };
  const name = m[1]!;
  let fld: MfField | null = mfFromName(name);
  if (!fld) {
    const h = parseNxmHeader(name);
    fld = h ? mfFromHeader(h) : null;
    if (h && h.hasmask) fld = null;
  }
  if (!fld) return { error: `${s}: unknown field \`${name}'` };
  const rest = s.slice(m[0].length);
  if (m[2] === undefined) {
    return { sf: { field: fld.name, ofs: 0, nBits: fieldBits(fld) }, rest };
  }
  let ofs: number;
  let end: number;
  if (m[3] === "" && m[4] === undefined) {
    ofs = 0;
    end = fieldBits(fld) - 1;
  } else if (m[4] === undefined) {
    ofs = Number(m[3]);
    end = ofs;
  } else {
    if (m[3] === "" || m[4] === "") return { error: `${s}: syntax error expecting \`[\`, \`[<bit>]\`, or \`[<start>..<end>]\`` };
    ofs = Number(m[3]);
    end = Number(m[4]);
  }
  if (end < ofs) return { error: `${s}: starting bit ${ofs} is after ending bit ${end}` };
  const width = fieldBits(fld);
  if (ofs >= width) return { error: `${s}: starting bit ${ofs} is not valid because field is only ${width} bits wide` };
  if (end >= width) return { error: `${s}: ending bit ${end} is not valid because field is only ${width} bits wide` };
  return { sf: { field: fld.name, ofs, nBits: end - ofs + 1 }, rest };
}

/** Packs offset and width as NXM's `ofs_nbits` (ofs << 6 | nbits - 1). */
export function ofsNbits(ofs: number, nBits: number): number {
  return ((ofs << 6) | (nBits - 1)) & 0xffff;
}

/** The field a wire header names, when known. */
export function fieldOfHeaderBytes(b: Uint8Array, allowMask = false): { fld: MfField; header: NxmHeader; len: number } | null {
  const h = (b.length >= 4) ? parseHeaderAt(b) : null;
  if (!h) return null;
  const fld = mfFromHeader(h.header);
  if (!fld) return null;
  // The header must carry the field's exact length, as OVS's lookup requires
  // (tun_metadata fields have a variable length, up to 124 bytes, and OVS
  // finds them even with the mask bit set, taking the header as exact).
  const variable = fld.name.startsWith("tun_metadata");
  if (h.header.hasmask && !allowMask && !variable) return null;
  const want = headerForCode(fld, nxHeaderCode(fld, h.header), h.header.hasmask && allowMask).length;
  if (variable ? h.header.length < 1 || h.header.length > (h.header.hasmask ? 2 * want : want) : h.header.length !== want) return null;
  return { fld, header: h.header, len: h.len };
}

function parseHeaderAt(b: Uint8Array): { header: NxmHeader; len: number } | null {
  const cls = (b[0]! << 8) | b[1]!;
  const len = cls === 0xffff ? 8 : 4;
  if (b.length < len) return null;
  const v = new DataView(b.buffer, b.byteOffset, len);
  const w = v.getUint32(0);
  const header: NxmHeader = {
    class: cls, field: (w >>> 9) & 0x7f, vendor: len === 8 ? v.getUint32(4) : 0,
    hasmask: (w & 0x100) !== 0, length: (w & 0xff) - (len === 8 ? 4 : 0),
  };
  return { header, len };
}
