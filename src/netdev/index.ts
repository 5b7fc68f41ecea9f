/**
 * Network devices: the provider interface, the registry and the types
 * (dummy, with pcap capture/source options; vxlan, geneve and gre tunnel
 * ports), and what native tunnelling consults: device addresses and
 * routes, the neighbour cache, the ports tunnels listen on.
 */
export * from "./netdev-provider.js";
export * from "./netdev.js";
export { DummyNetdev, dummyNetdevClass } from "./netdev-dummy.js";
export { PcapWriter, readPcapFrames } from "./netdev-pcap.js";
export * from "./netdev-vport.js";
export * from "./tnl-route.js";
export * from "./tnl-neigh.js";
export * from "./tnl-ports.js";
