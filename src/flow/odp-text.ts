/**
 * Small text helpers shared by the datapath-flow formatter and parser:
 * C printf conventions OVS's output depends on (`%#x` prints 0 as "0"),
 * Ethernet/IPv4/IPv6 address text exactly as glibc's inet_ntop writes it,
 * and OVS's flag-set printing (`format_flags`, `format_flags_masked`).
 */

/** C's `%#x`: "0" for zero, else "0x" + lowercase hex. */
export function hexAlt(v: number | bigint): string {
  return v === 0 || v === 0n ? "0" : "0x" + v.toString(16);
}

export function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, "0");
}

export function formatMac(b: Uint8Array, off = 0): string {
  let s = "";
  for (let i = 0; i < 6; i++) s += (i ? ":" : "") + hex2(b[off + i]!);
  return s;
}

export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** IPv6 address text as glibc inet_ntop prints it (RFC 5952 style, embedded IPv4 for ::a.b.c.d and ::ffff:a.b.c.d). */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1; } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ":";
      continue;
    }
    if (i !== 0) s += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += `${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
      return s;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ":";
  return s;
}

/** Parses IPv6 text (as inet_pton) into 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  let s = text;
  if (s.includes(".")) {
    const lastColon = s.lastIndexOf(":");
    if (lastColon < 0) return null;
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = s.slice(0, lastColon + 1) + ((v4 >>> 16) & 0xffff).toString(16) + ":" + (v4 & 0xffff).toString(16);
  }
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return null;
  const parseGroups = (p: string): number[] | null => {
    if (p === "") return [];
    const r: number[] = [];
    for (const g of p.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      r.push(parseInt(g, 16));
    }
    return r;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const g = parseGroups(s);
    if (g === null || g.length !== 8) return null;
    groups = g;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** Parses dotted-quad IPv4 text into a u32, or null. */
export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = v * 256 + o;
  }
  return v >>> 0;
}

/** Parses "xx:xx:xx:xx:xx:xx" into 6 bytes, or null. */
export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(text);
  if (!m) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(m[i + 1]!, 16);
  return out;
}

/** TCP flag bit names (packet_tcp_flag_to_string). */
export function tcpFlagName(bit: number): string | null {
  switch (bit) {
    case 0x001: return "fin";
    case 0x002: return "syn";
    case 0x004: return "rst";
    case 0x008: return "psh";
    case 0x010: return "ack";
    case 0x020: return "urg";
    case 0x040: return "ece";
    case 0x080: return "cwr";
    case 0x100: return "ns";
    case 0x200: return "[200]";
    case 0x400: return "[400]";
    case 0x800: return "[800]";
    default: return null;
  }
}

/** Tunnel flag bits as OVS numbers them in text (FLOW_TNL_F_*): the order flags print in. */
export const TNL_F_OAM = 1;
export const TNL_F_DONT_FRAGMENT = 2;
export const TNL_F_CSUM = 4;
export const TNL_F_KEY = 8;

/** Tunnel flag names (flow_tun_flag_to_string). */
export function tunFlagName(bit: number): string | null {
  switch (bit) {
    case TNL_F_OAM: return "oam";
    case TNL_F_DONT_FRAGMENT: return "df";
    case TNL_F_CSUM: return "csum";
    case TNL_F_KEY: return "key";
    default: return null;
  }
}

/** ct_state flag names for the datapath (odp_ct_state_to_string). */
export function odpCtStateName(bit: number): string | null {
  switch (bit) {
    case 0x08: return "rpl";
    case 0x20: return "trk";
    case 0x01: return "new";
    case 0x02: return "est";
    case 0x04: return "rel";
    case 0x10: return "inv";
    case 0x40: return "snat";
    case 0x80: return "dnat";
    default: return null;
  }
}

/** OVS format_flags: names of set bits, lowest first, joined by `del`; "0" for none. */
export function formatFlags(flags: number, name: (bit: number) => string | null, del: string): string {
  if (flags === 0) return "0";
  const parts: string[] = [];
  let bad = 0;
  let f = flags >>> 0;
  while (f) {
    const bit = (f & -f) >>> 0;
    const s = name(bit);
    if (s !== null) parts.push(s);
    else bad = (bad | bit) >>> 0;
    f = (f & ~bit) >>> 0;
  }
  if (bad) parts.push("0x" + bad.toString(16));
  return parts.join(del);
}

/** OVS format_flags_masked: "+syn-ack" style, "0/0" for an empty mask. */
export function formatFlagsMasked(flags: number, mask: number, maxMask: number, name: (bit: number) => string | null): string {
  if ((mask >>> 0) === (maxMask >>> 0)) return formatFlags(flags, name, "|");
  if (mask === 0) return "0/0";
  let s = "";
  let m = mask >>> 0;
  while (m) {
    const bit = (m & -m) >>> 0;
    const n = name(bit);
    s += (flags & bit ? "+" : "-") + (n ?? "[Unknown]");
    m = (m & ~bit) >>> 0;
  }
  return s;
}

/** Packet TCP flags as in stats ("S", "F", "." ...; packet_format_tcp_flags). */
export function formatTcpFlagsLetters(flags: number): string {
  if (!flags) return "none";
  let s = "";
  if (flags & 0x002) s += "S";
  if (flags & 0x001) s += "F";
  if (flags & 0x008) s += "P";
  if (flags & 0x004) s += "R";
  if (flags & 0x020) s += "U";
  if (flags & 0x010) s += ".";
  if (flags & 0x040) s += "E";
  if (flags & 0x080) s += "C";
  if (flags & 0x100) s += "N";
  if (flags & 0x200) s += "[200]";
  if (flags & 0x400) s += "[400]";
  if (flags & 0x800) s += "[800]";
  return s;
}
