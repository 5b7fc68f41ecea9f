/**
 * The userspace datapath's public face: the dpif client functions and
 * message types, the netdev datapath, the caches and classifier, and the
 * execution-context contract for the action executor.
 */
export * from "./dpif-provider.js";
export * from "./dpif.js";
export {
  DpifNetdev,
  ufidFromKey,
  setActionExecutor,
  DEFAULT_FLOW_LIMIT,
  MAX_RECIRC_DEPTH,
  MAX_QUEUED_UPCALLS,
  upcallChannel,
  flowChannel,
  type DpifNetdevOptions,
} from "./dpif-netdev.js";
export { ExecContext, type ExecuteActionsFn } from "./exec-context.js";
export { executeActionsFallback } from "./exec-fallback.js";
export { Dpcls, RERANK_INTERVAL } from "./dpcls.js";
export { Emc, EMC_ENTRIES, DEFAULT_EMC_INSERT_INV_PROB } from "./emc.js";
export { Smc } from "./smc.js";
export { PmdLoop, type PmdOptions } from "./pmd.js";
