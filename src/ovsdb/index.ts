/**
 * The OVSDB core: RFC 7047 schemas, types, values, rows and the
 * transaction engine. The server (server/), storage (storage/) and
 * ovs-vsctl build on this module.
 *
 * Notes for users of this API:
 * - `TableSchema.columns` includes "_uuid" (index -1) and "_version"
 *   (index -2); `columnList` holds only the user columns.
 * - Committed `Row`s never change; do not mutate their datums (common
 *   datums such as empty sets, booleans and small integers are shared).
 * - `Database.transact` never throws: bad input and even internal bugs
 *   come back as RFC 7047 error objects in `results`. When `blocked` is
 *   set, `results` is empty: run the same operations again after a later
 *   commit with `elapsedWaitMs`, until the wait succeeds or times out.
 * - Writes to a database whose name starts with "_" (the `_Server`
 *   database) are refused by `transact`, as OVS does; the server fills
 *   such databases with `applyRecord`, which checks nothing.
 * - `applyRecord(record, { isDiff: true })` replays OVS "_is_diff" file
 *   records; `datumDiff`/`applyDatumDiff` make and apply such diffs
 *   (also the update2 "modify" format).
 */
export { OvsdbError, syntaxError, jsonText } from "./error.js";
export { type AtomicType, BaseType, OvsdbType, ATOMIC_TYPES, isAtomicType, UINT_MAX } from "./types.js";
export { ColumnSchema, TableSchema, DatabaseSchema, parseColumnSet } from "./schema.js";
export {
  type Atom,
  type Datum,
  type Symtab,
  compareAtoms,
  compareStrings,
  compareDatums,
  datumEquals,
  defaultDatum,
  emptyDatum,
  datumFromJSON,
  datumToJSON,
  datumJsonText,
  atomToJSON,
  atomFromJSON,
  atomToString,
  datumToString,
  checkAtomConstraints,
  datumFind,
  datumDiff,
  singleton,
  applyDatumDiff,
  checkDatumConstraints,
  sortDatum,
  newUuid,
  isUuid,
  formatG,
  EMPTY_SET,
  EMPTY_MAP,
  ZERO_UUID,
} from "./datum.js";
export { Row, Table, changedColumns } from "./row.js";
export {
  Database,
  type RowChange,
  type ChangeSet,
  type TransactOutcome,
  type TransactOptions,
  type CommitListener,
} from "./database.js";
export { type Condition, parseConditions, rowMatches, conditionMatcher } from "./condition.js";
export { isId, JsonObjectParser } from "./json-parser.js";
