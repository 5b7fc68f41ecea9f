/**
 * Small shared pieces of the action codecs: OVS's integer/MAC/IP text
 * parsing (with its error wording), the action header writers, and the
 * result types of parse and decode.
 */
import { OfpWriter } from "./ofp-buffer.js";
import { NX_VENDOR_ID } from "./ofp-errors.js";

/** A parse failure with OVS's message (what ovs-ofctl prints after "ovs-ofctl: "). */
export interface ActionTextError {
  readonly error: string;
}

export function isTextError(x: unknown): x is ActionTextError {
  return typeof x === "object" && x !== null && "error" in x && !Array.isArray(x);
}

export const err = (error: string): ActionTextError => ({ error });

/** strtoull with base 0 as OVS's str_to_* use it: 0x hex, leading-0 octal, decimal. */
export function parseUint(s: string): bigint | null {
  const t = s.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]*$/.test(t)) return t.length > 1 ? BigInt("0o" + t.slice(1)) : 0n;
  if (/^[1-9][0-9]*$/.test(t)) return BigInt(t);
  return null;
}

/** OVS's str_to_uN: a number that fits in `bits`, else "invalid WHAT "S"". */
/**
 * OVS's str_to_uN. With a name ("TOS"): a number that fits in `bits`, else
 * `invalid TOS "S"`. Without one (str_to_u32/u64): any number that fits in
 * 64 bits, truncated to `bits` as C's assignment does, else
 * "invalid numeric format S".
 */
export function parseUintBits(s: string, bits: number, what: string | null): number | ActionTextError {
  const v = parseUint(s);
  if (what === null) {
    if (v === null || v >= 1n << 64n) return err(`invalid numeric format ${s}`);
    return Number(BigInt.asUintN(bits, v));
  }
  if (v === null || v >= 1n << BigInt(bits)) return err(`invalid ${what} "${s}"`);
  return Number(v);
}

/** OVS's str_to_u64: "invalid numeric format S" on failure. */
export function parseU64(s: string): bigint | ActionTextError {
  const v = parseUint(s);
  if (v === null || v >= 1n << 64n) return err(`invalid numeric format ${s}`);
  return v;
}

export function parseMac(s: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(s.trim());
  if (!m) return null;
  return Uint8Array.from(m.slice(1), (x) => parseInt(x, 16));
}

export function formatMacBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}

export function parseIpv4Text(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return null;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function formatIpv4Num(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Hex bytes joined by "." (note, userdata). */
export function formatDottedHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(".");
}

/** Hex bytes with optional "." separators between bytes; null on a bad digit. */
export function parseDottedHex(s: string): Uint8Array | null {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ".") {
      i++;
      continue;
    }
    const pair = s.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return null;
    out.push(parseInt(pair, 16));
    i += 2;
  }
  return Uint8Array.from(out);
}

/** C's "%#x": 0x-prefixed hex, except plain "0" for zero. */
export function hexNum(v: number | bigint): string {
  return v === 0 || v === 0n ? "0" : "0x" + v.toString(16);
}

/**
 * Writes an OpenFlow action: type, length (patched), the body, and zero
 * padding to a multiple of 8.
 */
export function putOfAction(w: OfpWriter, type: number, body: (w: OfpWriter) => void): void {
  const start = w.length;
  w.u16(type).u16(0);
  body(w);
  w.padTo(8, start);
  w.setU16(start + 2, w.length - start);
}

/** Writes a Nicira vendor action (type 0xffff, NX vendor id, subtype) the same way. */
export function putNxAction(w: OfpWriter, subtype: number, body: (w: OfpWriter) => void): void {
  const start = w.length;
  w.u16(0xffff).u16(0).u32(NX_VENDOR_ID).u16(subtype);
  body(w);
  w.padTo(8, start);
  w.setU16(start + 2, w.length - start);
}

/** Splits an action list or argument list at top-level commas/whitespace, as ofputil_parse_key_value does. */
export interface KeyValueItem {
  key: string;
  value: string;
}

/**
 * OVS's ofputil_parse_key_value over a whole string: items are `key`,
 * `key:value`, `key=value` or `key(value)`, separated by commas or white
 * space; parentheses nest.
 */
export function splitItems(s: string): KeyValueItem[] {
  const items: KeyValueItem[] = [];
  let i = 0;
  const n = s.length;
  const isSep = (c: string): boolean => c === "," || c === " " || c === "\t" || c === "\r" || c === "\n";
  while (i < n) {
    while (i < n && isSep(s[i]!)) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && !":=(".includes(s[j]!) && !isSep(s[j]!)) j++;
    const key = s.slice(i, j);
    let value = "";
    if (j < n && s[j] === "(") {
      let depth = 1;
      let k = j + 1;
      while (k < n && depth > 0) {
        if (s[k] === "(") depth++;
        else if (s[k] === ")") depth--;
        k++;
      }
      value = s.slice(j + 1, depth === 0 ? k - 1 : k);
      if (s.startsWith("->", k)) {
        // check_pkt_larger(N)->DST: the destination belongs to the value.
        let e = k;
        while (e < n && !isSep(s[e]!)) e++;
        value = s.slice(j + 1, e);
        k = e;
      }
      i = k;
    } else if (j < n && (s[j] === ":" || s[j] === "=")) {
      let k = j + 1;
      let depth = 0;
      while (k < n) {
        const c = s[k]!;
        if (c === "(") depth++;
        else if (c === ")") depth--;
        else if (depth <= 0 && isSep(c)) break;
        k++;
      }
      value = s.slice(j + 1, k);
      i = k;
    } else {
      i = j;
    }
    items.push({ key, value });
  }
  return items;
}
