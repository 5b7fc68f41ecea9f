/**
 * ofproto's public face: the OpenFlow tables of a switch (`OfprotoTables`)
 * with flow_mod semantics, transactions/bundles, timeouts, eviction and
 * statistics; the flow_mod model (`OfproFlowMod`) and rules (`OfRule`);
 * the adapters to and from the OpenFlow message bodies (flow-mod-wire).
 */
export * from "./flow-mod.js";
export * from "./rule.js";
export * from "./tables.js";
export * from "./flow-mod-wire.js";
