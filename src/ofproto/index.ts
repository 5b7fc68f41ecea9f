/**
 * ofproto's public face: the OpenFlow tables of a switch (`OfprotoTables`)
 * with flow_mod semantics, transactions/bundles, timeouts, eviction and
 * statistics; the flow_mod model (`OfproFlowMod`) and rules (`OfRule`).
 */
export * from "./flow-mod.js";
export * from "./rule.js";
export * from "./tables.js";
