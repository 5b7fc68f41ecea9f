/**
 * The `tnl_push` datapath action (OVS_ACTION_ATTR_TUNNEL_PUSH, userspace
 * only) as text and bytes.
 *
 * Payload (struct ovs_action_push_tnl, host order): u32 tnl_port, u32
 * out_port, u32 header_len, u32 tnl_type (OVS_VPORT_TYPE_*: 3 GRE, 4 VXLAN,
 * 5 Geneve, 107 ip6gre), then `header_len` bytes of ready-made outer
 * headers (Ethernet, IPv4 or IPv6, then UDP+VXLAN/Geneve or GRE). The
 * datapath fills in the lengths, checksums and UDP source port when it
 * pushes them.
 *
 * Text, as OVS prints it:
 *   tnl_push(tnl_port(4),header(size=50,type=4,eth(dst=..,src=..,dl_type=0x0800),
 *     ipv4(src=..,dst=..,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),
 *     vxlan(flags=0x8000000,vni=0x1c7)),out_port(1))
 */
import { getBe16, getBe32, getU32, putBe16, putBe32, putU32 } from "./odp-netlink.js";
import { formatIpv4, formatIpv6, formatMac, hexAlt, parseIpv4, parseIpv6, parseMac } from "./odp-text.js";

export const OVS_VPORT_TYPE_GRE = 3;
export const OVS_VPORT_TYPE_VXLAN = 4;
export const OVS_VPORT_TYPE_GENEVE = 5;
export const OVS_VPORT_TYPE_IP6GRE = 107;
/** Offset of the header bytes in the payload. */
export const TNL_PUSH_HEADER_OFS = 16;

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Formats the payload at `p` (length `len`) as OVS's format_odp_tnl_push_action. */
export function formatTnlPush(b: Uint8Array, p: number, len: number, portName: (port: number) => string): string {
  if (len < TNL_PUSH_HEADER_OFS) return "tnl_push(error)";
  const tnlPort = getU32(b, p), outPort = getU32(b, p + 4), hlen = getU32(b, p + 8), type = getU32(b, p + 12);
  const h = p + TNL_PUSH_HEADER_OFS;
  if (hlen > len - TNL_PUSH_HEADER_OFS || hlen < 14) return "tnl_push(error)";
  let s = `tnl_push(tnl_port(${portName(tnlPort)}),header(size=${hlen},type=${type},eth(dst=${formatMac(b, h)},src=${formatMac(b, h + 6)},dl_type=0x${getBe16(b, h + 12).toString(16).padStart(4, "0")}),`;
  const et = getBe16(b, h + 12);
  let l4: number;
  let proto: number;
  if (et === 0x0800) {
    if (hlen < 34) return "tnl_push(error)";
    const ip = h + 14;
    proto = b[ip + 9]!;
    s += `ipv4(src=${formatIpv4(getBe32(b, ip + 12))},dst=${formatIpv4(getBe32(b, ip + 16))},proto=${proto},tos=${hexAlt(b[ip + 1]!)},ttl=${b[ip + 8]},frag=0x${getBe16(b, ip + 6).toString(16)}),`;
    l4 = ip + 20;
  } else {
    if (hlen < 54) return "tnl_push(error)";
    const ip = h + 14;
    const flow = getBe32(b, ip);
    proto = b[ip + 6]!;
    s += `ipv6(src=${formatIpv6(b, ip + 8)},dst=${formatIpv6(b, ip + 24)},label=${flow & 0xfffff},proto=${proto},tclass=0x${((flow >>> 20) & 0xff).toString(16)},hlimit=${b[ip + 7]}),`;
    l4 = ip + 40;
  }
  const udpHdr = (): string => `udp(src=${getBe16(b, l4)},dst=${getBe16(b, l4 + 2)},csum=0x${getBe16(b, l4 + 6).toString(16)}),`;
  if (type === OVS_VPORT_TYPE_VXLAN) {
    s += udpHdr() + `vxlan(flags=0x${getBe32(b, l4 + 8).toString(16)},vni=0x${(getBe32(b, l4 + 12) >>> 8).toString(16)})`;
  } else if (type === OVS_VPORT_TYPE_GENEVE) {
    const g = l4 + 8;
    const optLen = b[g]! & 0x3f;
    s += udpHdr() + `geneve(${b[g + 1]! & 0x80 ? "oam," : ""}${b[g + 1]! & 0x40 ? "crit," : ""}vni=0x${(getBe32(b, g + 4) >>> 8).toString(16)}`;
    if (optLen) {
      let o = g + 8;
      const end = o + optLen * 4;
      let opts = "";
      while (o + 4 <= end) {
        const dl = (b[o + 3]! & 0x1f) * 4;
        let data = "";
        for (let i = 0; i < dl; i++) data += b[o + 4 + i]!.toString(16).padStart(2, "0");
        data = data.replace(/^0+/, "");
        opts += `{class=${hexAlt(getBe16(b, o))},type=${hexAlt(b[o + 2]!)},len=${dl}${dl ? "," + (data === "" ? "0" : "0x" + data) : ""}}`;
        o += 4 + dl;
      }
      s += `,options(${opts})`;
    }
    s += ")";
  } else if (type === OVS_VPORT_TYPE_GRE || type === OVS_VPORT_TYPE_IP6GRE) {
    const flags = getBe16(b, l4), gproto = getBe16(b, l4 + 2);
    s += `gre((flags=0x${flags.toString(16)},proto=0x${gproto.toString(16)})`;
    let o = l4 + 4;
    if (flags & 0x8000) {
      s += `,csum=0x${getBe16(b, o).toString(16)}`;
      o += 4;
    }
    if (flags & 0x2000) {
      s += `,key=0x${getBe32(b, o).toString(16)}`;
      o += 4;
    }
    if (flags & 0x1000) s += `,seq=0x${getBe32(b, o).toString(16)}`;
    s += ")";
  }
  return s + `),out_port(${portName(outPort)}))`;
}

/** A minimal cursor for the fixed tnl_push grammar. */
class Cur {
  constructor(readonly s: string, public i: number) {}
  lit(p: string): boolean {
    if (this.s.startsWith(p, this.i)) {
      this.i += p.length;
      return true;
    }
    return false;
  }
  need(p: string): void {
    if (!this.lit(p)) throw new TnlParseError(this.i, `expected "${p}"`);
  }
  int(): number {
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(this.s.slice(this.i));
    if (!m) throw new TnlParseError(this.i, "expected a number");
    this.i += m[0].length;
    const t = m[0];
    return /^0[xX]/.test(t) ? Number.parseInt(t, 16) : t.length > 1 && t[0] === "0" ? Number.parseInt(t, 8) : Number(t);
  }
  hex(): number {
    const m = /^[0-9a-fA-F]+/.exec(this.s.slice(this.i));
    if (!m) throw new TnlParseError(this.i, "expected hex digits");
    this.i += m[0].length;
    return Number.parseInt(m[0], 16) >>> 0;
  }
  tok(re: RegExp): string {
    const m = re.exec(this.s.slice(this.i));
    if (!m) return "";
    this.i += m[0].length;
    return m[0];
  }
}

/** A tnl_push syntax error at offset `at` (relative to the text given). */
export class TnlParseError extends Error {
  constructor(readonly at: number, readonly detail: string) {
    super(detail);
  }
}

/**
 * Parses "tnl_push(...)" starting at `start` of `s`. Returns the payload
 * bytes and the offset after the closing parenthesis; throws TnlParseError.
 */
export function parseTnlPush(s: string, start: number): { payload: Uint8Array; end: number } {
  const c = new Cur(s, start);
  c.need("tnl_push(tnl_port(");
  const tnlPort = c.int();
  c.need("),header(size=");
  const size = c.int();
  c.need(",type=");
  const type = c.int();
  c.need(",eth(dst=");
  const hdr = new Uint8Array(512);
  const mac = (): Uint8Array => {
    const at = c.i;
    const m = parseMac(c.tok(/^[0-9a-fA-F:]+/));
    if (m === null) throw new TnlParseError(at, "expected an Ethernet address");
    return m;
  };
  hdr.set(mac(), 0);
  c.need(",src=");
  hdr.set(mac(), 6);
  c.need(",dl_type=0x");
  const et = c.hex();
  putBe16(hdr, 12, et);
  c.need("),");
  let l4: number;
  let ipOff = 14;
  if (c.lit("ipv4(src=")) {
    const ip4 = (): number => {
      const at = c.i;
      const v = parseIpv4(c.tok(/^[0-9.]+/));
      if (v === null) throw new TnlParseError(at, "expected an IPv4 address");
      return v;
    };
    hdr[ipOff] = 0x45;
    putBe32(hdr, ipOff + 12, ip4());
    c.need(",dst=");
    putBe32(hdr, ipOff + 16, ip4());
    c.need(",proto=");
    hdr[ipOff + 9] = c.int();
    c.need(",tos=");
    hdr[ipOff + 1] = c.int();
    c.need(",ttl=");
    hdr[ipOff + 8] = c.int();
    c.need(",frag=0x");
    putBe16(hdr, ipOff + 6, c.hex());
    c.need("),");
    putBe16(hdr, ipOff + 10, ipChecksum(hdr, ipOff, 20));
    l4 = ipOff + 20;
  } else if (c.lit("ipv6(src=")) {
    const ip6 = (): Uint8Array => {
      const at = c.i;
      const v = parseIpv6(c.tok(/^[0-9a-fA-F:.]+/));
      if (v === null) throw new TnlParseError(at, "expected an IPv6 address");
      return v;
    };
    hdr.set(ip6(), ipOff + 8);
    c.need(",dst=");
    hdr.set(ip6(), ipOff + 24);
    c.need(",label=");
    const label = c.int();
    c.need(",proto=");
    hdr[ipOff + 6] = c.int();
    c.need(",tclass=0x");
    const tc = c.hex();
    c.need(",hlimit=");
    hdr[ipOff + 7] = c.int();
    c.need("),");
    putBe32(hdr, ipOff, ((6 << 28) | ((tc & 0xff) << 20) | (label & 0xfffff)) >>> 0);
    l4 = ipOff + 40;
  } else {
    throw new TnlParseError(c.i, 'expected "ipv4(" or "ipv6("');
  }
  let hlen: number;
  const udp = (): void => {
    c.need("udp(src=");
    putBe16(hdr, l4, c.int());
    c.need(",dst=");
    putBe16(hdr, l4 + 2, c.int());
    c.need(",csum=0x");
    putBe16(hdr, l4 + 6, c.hex());
    c.need("),");
  };
  if (type === OVS_VPORT_TYPE_VXLAN) {
    udp();
    c.need("vxlan(flags=0x");
    putBe32(hdr, l4 + 8, c.hex());
    c.need(",vni=0x");
    putBe32(hdr, l4 + 12, (c.hex() << 8) >>> 0);
    c.need(")");
    hlen = l4 + 16;
  } else if (type === OVS_VPORT_TYPE_GENEVE) {
    udp();
    c.need("geneve(");
    const g = l4 + 8;
    if (c.lit("oam,")) hdr[g + 1] = hdr[g + 1]! | 0x80;
    if (c.lit("crit,")) hdr[g + 1] = hdr[g + 1]! | 0x40;
    c.need("vni=0x");
    putBe32(hdr, g + 4, (c.hex() << 8) >>> 0);
    putBe16(hdr, g + 2, 0x6558);
    let o = g + 8;
    if (c.lit(",options(")) {
      while (c.lit("{class=")) {
        putBe16(hdr, o, c.int());
        c.need(",type=");
        hdr[o + 2] = c.int();
        c.need(",len=");
        const dl = c.int();
        if (dl % 4 || dl > 124) throw new TnlParseError(c.i, "geneve option len must be a multiple of 4, at most 124");
        hdr[o + 3] = dl / 4;
        if (dl && c.lit(",")) {
          const t = c.tok(/^(0[xX])?[0-9a-fA-F]+/);
          if (t === "") throw new TnlParseError(c.i, "geneve option data must be a hex number");
          let v = BigInt(t.startsWith("0x") || t.startsWith("0X") ? t : "0x" + t);
          for (let i = dl - 1; i >= 0; i--) {
            hdr[o + 4 + i] = Number(v & 0xffn);
            v >>= 8n;
          }
        }
        c.need("}");
        o += 4 + dl;
      }
      c.need(")");
      hdr[g] = ((o - g - 8) / 4) & 0x3f;
    }
    c.need(")");
    hlen = o;
  } else if (type === OVS_VPORT_TYPE_GRE || type === OVS_VPORT_TYPE_IP6GRE) {
    c.need("gre((flags=0x");
    const flags = c.hex();
    c.need(",proto=0x");
    const proto = c.hex();
    c.need(")");
    putBe16(hdr, l4, flags);
    putBe16(hdr, l4 + 2, proto);
    let o = l4 + 4;
    if (flags & 0x8000) {
      c.need(",csum=0x");
      putBe16(hdr, o, c.hex());
      o += 4;
    }
    if (flags & 0x2000) {
      c.need(",key=0x");
      putBe32(hdr, o, c.hex());
      o += 4;
    }
    if (flags & 0x1000) {
      c.need(",seq=0x");
      putBe32(hdr, o, c.hex());
      o += 4;
    }
    c.need(")");
    hlen = o;
  } else {
    throw new TnlParseError(c.i, `unsupported tunnel type ${type}`);
  }
  if (hlen !== size) throw new TnlParseError(start, `header size ${size} does not match the headers given (${hlen} bytes)`);
  c.need("),out_port(");
  const outPort = c.int();
  c.need("))");
  const payload = new Uint8Array(TNL_PUSH_HEADER_OFS + hlen);
  putU32(payload, 0, tnlPort);
  putU32(payload, 4, outPort);
  putU32(payload, 8, hlen);
  putU32(payload, 12, type);
  payload.set(hdr.subarray(0, hlen), TNL_PUSH_HEADER_OFS);
  return { payload, end: c.i };
}
