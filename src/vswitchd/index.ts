/**
 * The vswitchd: the bridge layer that turns the Open_vSwitch database into
 * running ofproto-dpif bridges and writes their state back (bridge.ts), and
 * the daemon around it with its control socket (vswitchd.ts).
 */
export { Bridges, VSWITCHD_LOCK, datapathTypes, ifaceTypes, type BridgeOptions, type BridgeState, type OpenDpifBridge } from "./bridge.js";
export { startVswitchd, PROGRAM as VSWITCHD_PROGRAM, type VswitchdConfig, type RunningVswitchd, type VswitchdCommandContext } from "./vswitchd.js";
export { coverageInc, coverageRead, coverageShowText } from "./coverage.js";
export { datapathTypeFor, netdevTypeFor, resolveVlan, type DummyMode } from "./port-config.js";
