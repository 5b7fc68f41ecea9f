/**
 * The OVSDB core: RFC 7047 schemas, types, values, rows and the
 * transaction engine. The server (server/), storage (storage/) and
 * ovs-vsctl build on this module.
 *
 * Notes for users of this API:
 * - `TableSchema.columns` includes "_uuid" (index -1) and "_version"
 *   (index -2); `columnList` holds only the user columns.
 * - Committed `Row`s never change; do not mutate their datums.
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
