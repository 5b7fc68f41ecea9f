/** The OVSDB server: sessions, monitors, locks, remotes and the `_Server` database. */
export { OvsdbServer, DEFAULT_PROBE_MS, type OvsdbServerOptions } from "./server.js";
export { ServedDb, HISTORY_LIMIT, type DbStorage, type CommitEvent } from "./served-db.js";
export { ServerDatabase, SERVER_SCHEMA_JSON, sortedJsonText, schemaToJson } from "./server-db.js";
export { LockTable, type LockHolder } from "./locks.js";
export { datumDiff } from "./monitor.js";
export { ScratchClient, warmUp, skipWarmUp, isWarm } from "./warm-up.js";
