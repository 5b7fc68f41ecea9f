/**
 * The programmatic API of tsovs: start a switch inside a Node.js program,
 * configure it as ovs-vsctl/ovs-ofctl would, inject packets into dummy
 * ports and await what comes out (switch.ts); build and describe packets
 * in OVS's flow words (packets.ts).
 */
export {
  startSwitch, Switch, Bridge, Port, ToolError, ReceiveTimeoutError, SwitchStateError,
  type StartSwitchOptions, type AddBridgeOptions, type AddPortOptions, type ReceiveOptions, type FailMode, type VlanMode,
} from "./switch.js";
export { buildPacket, describePacket, PacketSyntaxError, type BuildPacketOptions } from "./packets.js";
