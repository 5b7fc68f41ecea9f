/** ovs-vsctl: the database commands, the vsctl commands and the command-line driver. */
export { vsctlMain, ALL_COMMANDS, type VsctlIo } from "./vsctl.js";
export { Idl, schemaFromJson, type DbSchema, type TableSchema, type ColumnSchema } from "./idl.js";
export { CtlError } from "./context.js";
