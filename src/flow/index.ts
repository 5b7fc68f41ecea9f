/**
 * The flow layer's public face: the flow key layout (field positions, the
 * FLOW_FIELDS table), key/mask operations (hashing, masking, compact form)
 * and extraction of a key from a packet. The odp text syntax
 * (src/flow/odp-*.ts) is exported from its own modules.
 */
export * from "./key-layout.js";
export * from "./key-ops.js";
export * from "./extract.js";
