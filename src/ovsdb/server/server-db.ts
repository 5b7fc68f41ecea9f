/**
 * The `_Server` database: one `Database` row per database this server
 * serves, so that clients (the IDL, ovs-vsctl, ovsdb-client) can learn a
 * database's schema, model and health by monitoring `_Server` first.
 *
 * For a standalone database OVS 3.1 fills the row as: name, model
 * "standalone", connected true, leader true, schema (the schema as compact
 * JSON with sorted keys), and leaves cid, sid and index empty. The rows are
 * written through ordinary transactions so that monitors of `_Server` see
 * them change; clients may only read this database.
 */
import { randomUUID } from "node:crypto";
import { Database, DatabaseSchema } from "../index.js";

/** The `_Server` schema, member for member as OVS 3.1's `get_schema` reports it. */
export const SERVER_SCHEMA_JSON = {
  cksum: "3009684573 744",
  name: "_Server",
  version: "1.2.0",
  tables: {
    Database: {
      columns: {
        name: { type: "string" },
        model: { type: { key: { type: "string", enum: ["set", ["clustered", "relay", "standalone"]] } } },
        connected: { type: "boolean" },
        leader: { type: "boolean" },
        schema: { type: { min: 0, key: "string" } },
        sid: { type: { min: 0, key: "uuid" } },
        cid: { type: { min: 0, key: "uuid" } },
        index: { type: { min: 0, key: "integer" } },
      },
    },
  },
};

/** JSON text with object keys sorted at every level, as OVS prints a schema into `_Server`. */
export function sortedJsonText(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(sortedJsonText).join(",") + "]";
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + sortedJsonText(o[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

/**
 * A schema's JSON as ovsdb-server sends it: when some table is a root,
 * only root tables carry "isRoot" (true); false is the default then.
 */
export function schemaToJson(schema: DatabaseSchema): unknown {
  const json = schema.toJSON() as { tables?: Record<string, Record<string, unknown>> };
  const tables = Object.values(json.tables ?? {});
  if (tables.some((t) => t["isRoot"] === true)) {
    for (const t of tables) if (t["isRoot"] === false) delete t["isRoot"];
  }
  return json;
}

export class ServerDatabase {
  readonly schema = DatabaseSchema.fromJSON(SERVER_SCHEMA_JSON);
  readonly db = new Database(this.schema);

  /** Adds or replaces the row for database `name`. */
  setDatabase(name: string, schemaJson: unknown): void {
    const row = {
      name,
      model: "standalone",
      connected: true,
      leader: true,
      schema: sortedJsonText(schemaJson),
    };
    // Clients may not write to a reserved database, so the rows are
    // installed as storage records are, which monitors still see as commits.
    this.db.applyRecord({ Database: { [this.uuidOf(name) ?? randomUUID()]: row } });
  }

  removeDatabase(name: string): void {
    const uuid = this.uuidOf(name);
    if (uuid !== null) this.db.applyRecord({ Database: { [uuid]: null } });
  }

  private uuidOf(name: string): string | null {
    for (const r of this.db.tables.get("Database")!.rows.values()) if (r.get("name").keys[0] === name) return r.uuid;
    return null;
  }
}
