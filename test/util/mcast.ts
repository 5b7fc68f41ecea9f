/**
 * Test helpers for multicast snooping: IGMP (v1/v2/v3) and MLD (v1/v2)
 * frames as hex for `netdev-dummy/receive` and `ofproto/trace`, with
 * correct IPv4 header, IGMP and ICMPv6 checksums (a bad checksum is
 * ignored by the snooping switch, which is tested on purpose).
 */

function csum(b: number[], init = 0): number {
  let s = init;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

function hex(a: number[]): string {
  return Buffer.from(a).toString("hex");
}

function ip4(s: string): number[] {
  return s.split(".").map(Number);
}

/** 16 bytes of an IPv6 address written with "::" at most once. */
export function ip6(s: string): number[] {
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":").filter((x) => x !== "") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const words = [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t].map((w) => parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function mac(s: string): number[] {
  return s.split(":").map((x) => parseInt(x, 16));
}

function vlanTag(vlan: number | undefined): number[] {
  return vlan === undefined ? [] : [0x81, 0x00, (vlan >> 8) & 0x0f, vlan & 0xff];
}

function ipv4Frame(srcMac: string, src: string, dst: string, proto: number, payload: number[], vlan?: number): string {
  const d = ip4(dst);
  const dmac = [0x01, 0x00, 0x5e, d[1]! & 0x7f, d[2]!, d[3]!];
  const h = [0x45, 0, 0, 0, 0, 0, 0, 0, 1, proto, 0, 0, ...ip4(src), ...d];
  const len = 20 + payload.length;
  h[2] = len >> 8;
  h[3] = len & 0xff;
  const c = csum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return hex([...dmac, ...mac(srcMac), ...vlanTag(vlan), 0x08, 0x00, ...h, ...payload]);
}

/** An IGMPv1/v2 message of `type` (0x11 query, 0x12 v1 report, 0x16 v2 report, 0x17 leave) about `group`, to `dst`. */
export function igmp(srcMac: string, src: string, dst: string, type: number, group: string, opts: { vlan?: number; badCsum?: boolean } = {}): string {
  const p = [type, type === 0x11 ? 100 : 0, 0, 0, ...ip4(group)];
  const c = csum(p) ^ (opts.badCsum === true ? 0x5555 : 0);
  p[2] = c >> 8;
  p[3] = c & 0xff;
  return ipv4Frame(srcMac, src, dst, 2, p, opts.vlan);
}

export interface GroupRecord {
  /** 1 MODE_IS_INCLUDE .. 6 BLOCK_OLD_SOURCES. */
  type: number;
  group: string;
  sources?: string[];
}

/** An IGMPv3 membership report to 224.0.0.22. */
export function igmpv3Report(srcMac: string, src: string, records: GroupRecord[], vlan?: number): string {
  const body: number[] = [];
  for (const r of records) {
    const n = r.sources?.length ?? 0;
    body.push(r.type, 0, n >> 8, n & 0xff, ...ip4(r.group));
    for (const s of r.sources ?? []) body.push(...ip4(s));
  }
  const p = [0x22, 0, 0, 0, 0, 0, records.length >> 8, records.length & 0xff, ...body];
  const c = csum(p);
  p[2] = c >> 8;
  p[3] = c & 0xff;
  return ipv4Frame(srcMac, src, "224.0.0.22", 2, p, vlan);
}

function ipv6Frame(srcMac: string, src: string, dst: string, icmp: number[]): string {
  const s = ip6(src);
  const d = ip6(dst);
  const len = icmp.length;
  const pseudo = [...s, ...d, 0, 0, len >> 8, len & 0xff, 0, 0, 0, 58];
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | pseudo[i + 1]!;
  const c = csum(icmp, sum);
  icmp[2] = c >> 8;
  icmp[3] = c & 0xff;
  const h = [0x60, 0, 0, 0, len >> 8, len & 0xff, 58, 1, ...s, ...d];
  const dmac = [0x33, 0x33, ...d.slice(12)];
  return hex([...dmac, ...mac(srcMac), 0x86, 0xdd, ...h, ...icmp]);
}

/** An MLDv1 message (130 query, 131 report, 132 done) about `group`, to `dst`. */
export function mld(srcMac: string, src: string, dst: string, type: number, group: string): string {
  return ipv6Frame(srcMac, src, dst, [type, 0, 0, 0, 0, type === 130 ? 100 : 0, 0, 0, ...ip6(group)]);
}

/** An MLDv2 report to ff02::16. */
export function mldv2Report(srcMac: string, src: string, records: GroupRecord[]): string {
  const body: number[] = [];
  for (const r of records) {
    const n = r.sources?.length ?? 0;
    body.push(r.type, 0, n >> 8, n & 0xff, ...ip6(r.group));
    for (const s of r.sources ?? []) body.push(...ip6(s));
  }
  return ipv6Frame(srcMac, src, "ff02::16", [143, 0, 0, 0, 0, 0, records.length >> 8, records.length & 0xff, ...body]);
}
