/**
 * The OpenFlow wire codec: framing, the message table, errors, version
 * negotiation, the field registry and ofp-print compatible text.
 */
export * from "./ofp-buffer.js";
export * from "./ofp-codec.js";
export * from "./ofp-errors.js";
export * from "./ofp-version.js";
export * from "./ofp-msgs.js";
export * from "./ofp-print.js";
export * from "./meta-flow.js";
export type * from "./ofp-port.js";
export type * from "./ofp-switch.js";
export type * from "./ofp-control.js";
export type * from "./ofp-stats.js";
export type * from "./ofp-table.js";
