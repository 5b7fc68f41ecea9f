/**
 * Dummy ports backed by pcap files: `options:pcap=FILE` receives the
 * frames of FILE, `options:tx_pcap=FILE` appends transmitted frames to
 * FILE (`rxq_pcap` is an alias of `pcap`, as netdev-dummy has both).
 */
import type { Netdev, NetdevClass } from "./netdev-provider.js";

export const pcapNetdevClass: NetdevClass = {
  type: "dummy",
  open(name: string, _options: Record<string, string>): Netdev | string {
    return `${name}: pcap ports are not available yet`;
  },
};
