/** Test helper: cross-checks the engine's incremental bookkeeping against a full recomputation. */
import type { Database } from "../../src/ovsdb/index.js";

/**
 * Recomputes reference counts, hash indexes and weak-reference entries from
 * the rows and compares them with what the engine maintains incrementally.
 */
export function checkBookkeeping(db: Database): string | null {
  const refs = new Map<string, number>();
  for (const t of db.tables.values()) {
    for (const r of t.rows.values()) {
      for (const c of t.schema.columnList) {
        const d = r.data[c.index]!;
        const k = c.type.key;
        const v = c.type.value;
        const visit = (atoms: readonly unknown[] | null, strong: boolean, weak: boolean) => {
          for (const a of atoms ?? []) {
            if (strong) refs.set(a as string, (refs.get(a as string) ?? 0) + 1);
            if (weak && !db.weakIn.get(a as string)?.has(r.uuid)) throw new Error(`weak ref ${r.uuid} -> ${String(a)} not indexed`);
          }
        };
        visit(d.keys, k.isStrongRef(), k.isWeakRef());
        if (v !== null) visit(d.values, v.isStrongRef(), v.isWeakRef());
      }
    }
  }
  for (const t of db.tables.values()) {
    for (const r of t.rows.values()) {
      if (r.refs !== (refs.get(r.uuid) ?? 0)) return `${t.schema.name} row ${r.uuid} has refs ${r.refs}, expected ${refs.get(r.uuid) ?? 0}`;
    }
    for (let i = 0; i < t.schema.indexes.length; i++) {
      if (t.indexMaps[i]!.size !== t.rows.size) return `${t.schema.name} index ${i} has ${t.indexMaps[i]!.size} entries for ${t.rows.size} rows`;
      for (const u of t.indexMaps[i]!.values()) if (!t.rows.has(u)) return `${t.schema.name} index ${i} names missing row ${u}`;
    }
  }
  return null;
}

