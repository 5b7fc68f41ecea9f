/**
 * The packet layer's public face: protocol constants, byte-level header
 * views with parse/emit Reprs, checksums, pcap files, and the datapath
 * packet buffer with its pools and batches.
 */
export * from "./constants.js";
export * from "./bytes.js";
export * from "./checksum.js";
export * from "./ethernet.js";
export * from "./arp.js";
export * from "./mpls.js";
export * from "./ipv4.js";
export * from "./ipv6.js";
export * from "./icmp.js";
export * from "./tcp.js";
export * from "./udp.js";
export * from "./sctp.js";
export * from "./vxlan.js";
export * from "./geneve.js";
export * from "./gre.js";
export * from "./nsh.js";
export * from "./pcap.js";
export * from "./dp-packet.js";
export * from "./rewrite.js";
