/**
 * ofproto's public face: the OpenFlow tables of a switch (`OfprotoTables`)
 * with flow_mod semantics, transactions/bundles, timeouts, eviction and
 * statistics; the flow_mod model (`OfproFlowMod`) and rules (`OfRule`);
 * the adapters to and from the OpenFlow message bodies (flow-mod-wire);
 * the switch (`Ofproto`: ports, configuration, OpenFlow request handling)
 * and its connections (`Connmgr`, `Ofconn`).
 */
export * from "./flow-mod.js";
export * from "./rule.js";
export * from "./tables.js";
export * from "./flow-mod-wire.js";
export * from "./ofconn.js";
export * from "./connmgr.js";
export * from "./ofproto.js";
export * from "./groups.js";
export * from "./meters.js";
export * from "./warm-up.js";
