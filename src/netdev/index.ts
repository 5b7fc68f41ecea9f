/**
 * Network devices: the provider interface, the registry and the types
 * (dummy, pcap-backed dummy).
 */
export * from "./netdev-provider.js";
export * from "./netdev.js";
export { DummyNetdev, dummyNetdevClass } from "./netdev-dummy.js";
