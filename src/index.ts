/**
 * The package entry of tsovs (`import { startSwitch } from "tsovs"`): the
 * programmatic switch of src/api, and the OpenFlow wire codec a test
 * needs to act as a controller or talk to a bridge's management socket
 * (encode/decode messages, split a byte stream into messages, print one
 * as ovs-ofctl does).
 */
export * from "./api/index.js";
export {
  encodeMessage, decodeMessage, OfpFramer, type OfpMessage, type OfpMsgType, type DecodeResult,
} from "./openflow/ofp-msgs.js";
export { ofpToString } from "./openflow/ofp-print.js";
export { OFP10_VERSION, OFP11_VERSION, OFP12_VERSION, OFP13_VERSION, OFP14_VERSION, OFP15_VERSION } from "./openflow/ofp-version.js";
