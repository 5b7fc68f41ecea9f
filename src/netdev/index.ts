/**
 * Network devices: the provider interface, the registry and the types
 * (dummy, with pcap capture/source options).
 */
export * from "./netdev-provider.js";
export * from "./netdev.js";
export { DummyNetdev, dummyNetdevClass } from "./netdev-dummy.js";
export { PcapWriter, readPcapFrames } from "./netdev-pcap.js";
