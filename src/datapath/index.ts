/**
 * The userspace datapath's public face: the dpif client functions and
 * message types, the netdev datapath, and the execution-context contract
 * for the action executor.
 */
export * from "./dpif-provider.js";
export * from "./dpif.js";
export { DpifNetdev, ufidFromKey, setActionExecutor, DEFAULT_FLOW_LIMIT, MAX_RECIRC_DEPTH } from "./dpif-netdev.js";
export { ExecContext, type ExecuteActionsFn } from "./exec-context.js";
export { Dpcls } from "./dpcls.js";
export { Emc, EMC_ENTRIES } from "./emc.js";
