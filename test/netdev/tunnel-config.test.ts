/**
 * Tunnel interface options (netdev-vport.ts): parsing, the errors OVS puts
 * in Interface.error, and the configuration it reports back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTunnelOptions, tunnelConfigSmap, tunnelDpifPortName, type TunnelConfig } from "../../src/netdev/netdev-vport.js";

test("vxlan with a fixed remote and key: defaults as OVS's", () => {
  const c = parseTunnelOptions("t2", "vxlan", { remote_ip: "1.1.2.92", key: "123" }) as TunnelConfig;
  assert.equal(typeof c, "object");
  assert.equal(c.dstPort, 4789);
  assert.equal(c.ttl, 64);
  assert.equal(c.dontFragment, true);
  assert.equal(c.inKey, 123n);
  assert.equal(c.outKey, 123n);
  assert.deepEqual(tunnelConfigSmap(c), { remote_ip: "1.1.2.92", key: "123" });
  assert.equal(tunnelDpifPortName("vxlan", c.dstPort), "vxlan_sys_4789");
  assert.equal(tunnelDpifPortName("geneve", 6081), "genev_sys_6081");
  assert.equal(tunnelDpifPortName("gre", 0), "gre_sys");
});

test("bad options give OVS's Interface.error texts", () => {
  assert.equal(parseTunnelOptions("e1", "vxlan", {}), "e1: vxlan type requires valid 'remote_ip' argument");
  assert.equal(parseTunnelOptions("e2", "vxlan", { remote_ip: "abc" }), "e2: bad vxlan 'remote_ip'\ne2: vxlan type requires valid 'remote_ip' argument");
  assert.equal(parseTunnelOptions("e4", "geneve", { remote_ip: "224.0.0.1" }), "e4: multicast remote_ip=224.0.0.1 not allowed");
  assert.equal(parseTunnelOptions("e5", "vxlan", { remote_ip: "1.2.3.4", local_ip: "flow" }), "e5: vxlan type requires 'remote_ip=flow' with 'local_ip=flow'");
  assert.equal(parseTunnelOptions("e6", "vxlan", { remote_ip: "1.2.3.4", local_ip: "::1" }), "e6: 'remote_ip' and 'local_ip' has to be of the same address family");
  // An unknown option is only warned about.
  assert.equal(typeof parseTunnelOptions("e3", "gre", { remote_ip: "1.2.3.4", foo: "bar" }), "object");
});

test("reported configuration lists what differs from the defaults", () => {
  const c = parseTunnelOptions("e7", "vxlan", {
    remote_ip: "1.2.3.5", dst_port: "4790", ttl: "5", tos: "inherit", csum: "true", df_default: "false", in_key: "5", out_key: "flow",
  }) as TunnelConfig;
  assert.deepEqual(tunnelConfigSmap(c), {
    remote_ip: "1.2.3.5", in_key: "5", out_key: "flow", ttl: "5", tos: "inherit", dst_port: "4790", csum: "true", df_default: "false",
  });
  const g = parseTunnelOptions("e8", "gre", { remote_ip: "1.2.3.6", packet_type: "legacy_l3" }) as TunnelConfig;
  assert.deepEqual(tunnelConfigSmap(g), { remote_ip: "1.2.3.6", packet_type: "legacy_l3" });
});

test("ovs-vswitchd's --disable-system-route is accepted and leaves only user routes", async () => {
  const { parseVswitchdArgs } = await import("../../src/cli/vswitchd.js");
  const { disableSystemRoutes, routeShowText, setSystemRouting } = await import("../../src/netdev/tnl-route.js");
  const cfg = parseVswitchdArgs(["--enable-dummy", "--disable-system", "--disable-system-route"]);
  assert.ok(typeof cfg === "object" && cfg.disableSystemRoute && cfg.dummy === "dummy" && cfg.disableSystem);
  const plain = parseVswitchdArgs([]);
  assert.ok(typeof plain === "object" && !plain.disableSystemRoute);
  disableSystemRoutes();
  setSystemRouting(true); // as vswitchd start-up does with dummy devices not overriding system ones
  assert.doesNotMatch(routeShowText(), /\(kernel\)|Cached:/);
});
