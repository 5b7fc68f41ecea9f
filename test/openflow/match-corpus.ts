/**
 * A deterministic generator of OpenFlow match text for the match tests:
 * random combinations of protocol shorthands and fields with valid values,
 * masks, CIDR prefixes and flag sets (including fields whose prerequisites
 * are not met, so normalization is exercised too).
 */

/** xorshift32 PRNG: the same seed gives the same corpus. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function corpus(n: number, seed = 1): string[] {
  const r = rng(seed);
  const int = (k: number): number => Math.floor(r() * k);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  const hex = (bits: number): string => "0x" + Math.floor(r() * 2 ** Math.min(bits, 32)).toString(16);
  const hexMask = (bits: number): string => `${hex(bits)}/${hex(bits)}`;
  const mac = (): string => Array.from({ length: 6 }, () => int(256).toString(16).padStart(2, "0")).join(":");
  const ip = (): string => `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
  const ip6 = (): string => pick(["::1", "fe80::1", "2001:db8::" + int(65536).toString(16), "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "::"]);
  const ipm = (): string => pick([ip(), `${ip()}/${int(33)}`, `${ip()}/255.255.${pick([0, 255, 240])}.0`]);
  const ip6m = (): string => pick([ip6(), `${ip6()}/${int(129)}`]);
  const flags = (names: string[]): string => {
    let s = "";
    for (const f of names) if (r() < 0.3) s += (r() < 0.5 ? "+" : "-") + f;
    return s || "+" + names[0];
  };
  const port = (): string => pick([String(1 + int(100)), "LOCAL", "CONTROLLER", String(int(65280))]);
  const protos = ["ip", "ipv6", "icmp", "icmp6", "tcp", "tcp6", "udp", "udp6", "sctp", "sctp6", "arp", "rarp", "mpls", "mplsm"];
  const gens: (() => string)[] = [
    () => `in_port=${port()}`,
    () => `dl_vlan=${int(4096)}`,
    () => `dl_vlan_pcp=${int(8)}`,
    () => `vlan_tci=${pick([hex(16), hexMask(16)])}`,
    () => `dl_src=${pick([mac(), `${mac()}/${mac()}`])}`,
    () => `dl_dst=${pick([mac(), `${mac()}/ff:ff:ff:00:00:00`])}`,
    () => `dl_type=${pick(["0x0800", "0x86dd", "0x0806", "0x8847", "0x1234", "0x8035"])}`,
    () => `nw_src=${ipm()}`,
    () => `nw_dst=${ipm()}`,
    () => `nw_proto=${pick([1, 6, 17, 58, 132, 2, int(256)])}`,
    () => `nw_tos=${4 * int(64)}`,
    () => `nw_ecn=${int(4)}`,
    () => `ip_dscp=${int(64)}`,
    () => `nw_ttl=${int(256)}`,
    () => `nw_frag=${pick(["no", "yes", "first", "later", "not_later"])}`,
    () => `tp_src=${pick([String(int(65536)), hexMask(16)])}`,
    () => `tp_dst=${pick([String(int(65536)), hexMask(16)])}`,
    () => `icmp_type=${pick([int(256), 135, 136])}`,
    () => `icmp_code=${pick([0, int(256)])}`,
    () => `tcp_flags=${flags(["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"])}`,
    () => `ipv6_src=${ip6m()}`,
    () => `ipv6_dst=${ip6m()}`,
    () => `ipv6_label=${pick([hex(20), hexMask(20)])}`,
    () => `nd_target=${ip6()}`,
    () => `nd_sll=${mac()}`,
    () => `nd_tll=${mac()}`,
    () => `arp_op=${int(3)}`,
    () => `arp_spa=${ipm()}`,
    () => `arp_tpa=${ipm()}`,
    () => `arp_sha=${mac()}`,
    () => `arp_tha=${mac()}`,
    () => `mpls_label=${int(1 << 20)}`,
    () => `mpls_tc=${int(8)}`,
    () => `mpls_bos=${int(2)}`,
    () => `mpls_ttl=${int(256)}`,
    () => `reg${int(16)}=${pick([hex(32), hexMask(32), String(int(1000))])}`,
    () => `xreg${int(8)}=${pick([hex(32), hexMask(32)])}`,
    () => `metadata=${pick([hex(32), hexMask(32)])}`,
    () => `tun_id=${pick([hex(32), hexMask(32)])}`,
    () => `tun_src=${ipm()}`,
    () => `tun_dst=${ipm()}`,
    () => `tun_ipv6_src=${ip6m()}`,
    () => `tun_gbp_id=${int(65536)}`,
    () => `tun_gbp_flags=${int(256)}`,
    () => `tun_flags=${pick(["+oam", "-oam"])}`,
    () => `pkt_mark=${pick([hex(32), hexMask(32)])}`,
    () => `ct_state=${flags(["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"])}`,
    () => `ct_zone=${int(65536)}`,
    () => `ct_mark=${pick([hex(32), hexMask(32)])}`,
    () => `ct_label=${pick([hex(32), hexMask(32)])}`,
    () => `conj_id=${int(100000)}`,
    () => `recirc_id=${int(1000)}`,
    () => `dp_hash=${pick([hex(32), hexMask(32)])}`,
    () => `actset_output=${port()}`,
    () => `tun_metadata${int(63)}=${pick([hex(32), hexMask(32)])}`,
    () => `xxreg${int(4)}=${pick([hex(32), hexMask(32)])}`,
    () => `tun_erspan_ver=${int(3)}`,
    () => `tun_erspan_idx=${hex(20)}`,
    () => `tun_erspan_dir=${int(2)}`,
    () => `tun_erspan_hwid=${int(64)}`,
    () => `tun_gtpu_flags=${int(256)}`,
    () => `tun_gtpu_msgtype=${int(256)}`,
    () => `ct_nw_src=${ipm()}`,
    () => `ct_ipv6_dst=${ip6m()}`,
    () => `ct_nw_proto=${pick([6, 17])}`,
    () => `ct_tp_src=${int(65536)}`,
    () => `nd_reserved=${int(1000)}`,
    () => `nd_options_type=${int(3)}`,
    () => `dl_type=0x894f,nsh_spi=${hex(24)},nsh_si=${int(256)},nsh_mdtype=1,nsh_c1=${hex(32)}`,
    () => `packet_type=(1,0x800)`,
    () => `in_port_oxm=${port()}`,
    () => `vlan_vid=${pick([int(8192), `${hex(13)}/${hex(13)}`])}`,
    () => `vlan_pcp=${int(8)}`,
    () => `ip_ecn=${int(4)}`,
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    if (r() < 0.8) parts.push(pick(protos));
    const k = 1 + int(6);
    for (let j = 0; j < k; j++) parts.push(pick(gens)());
    out.push(parts.join(","));
  }
  return out;
}
