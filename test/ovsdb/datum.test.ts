/**
 * Property tests of values: JSON round trips keep datums sorted and unique,
 * and update2-style diffs applied to the old value give the new value.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OvsdbType, applyDatumDiff, compareAtoms, datumDiff, datumEquals, datumFromJSON, datumJsonText, datumToJSON, type Datum } from "../../src/ovsdb/index.js";

const setT = OvsdbType.fromJSON({ key: "string", min: 0, max: "unlimited" });
const mapT = OvsdbType.fromJSON({ key: "integer", value: "string", min: 0, max: "unlimited" });

const setJson = fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 8 }).map((a) => ["set", a]);
const mapJson = fc.uniqueArray(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.constantFrom("a", "b", "c")), { selector: (p) => p[0], maxLength: 8 }).map((a) => ["map", a]);

function sortedUnique(d: Datum): boolean {
  for (let i = 1; i < d.keys.length; i++) if (compareAtoms(d.keys[i - 1]!, d.keys[i]!) >= 0) return false;
  return true;
}

test("JSON -> datum -> JSON is stable and datums are sorted and unique", () => {
  fc.assert(
    fc.property(setJson, mapJson, (sj, mj) => {
      const s = datumFromJSON(setT, sj);
      const m = datumFromJSON(mapT, mj);
      assert.ok(sortedUnique(s) && sortedUnique(m));
      assert.ok(datumEquals(datumFromJSON(setT, datumToJSON(setT, s)), s));
      assert.ok(datumEquals(datumFromJSON(mapT, datumToJSON(mapT, m)), m));
    }),
    { numRuns: 300 },
  );
});

test("applying a diff to the old value gives the new value", () => {
  fc.assert(
    fc.property(setJson, setJson, mapJson, mapJson, (a, b, c, d) => {
      const s0 = datumFromJSON(setT, a);
      const s1 = datumFromJSON(setT, b);
      assert.ok(datumEquals(applyDatumDiff(setT, s0, datumDiff(setT, s0, s1)), s1));
      const m0 = datumFromJSON(mapT, c);
      const m1 = datumFromJSON(mapT, d);
      assert.ok(datumEquals(applyDatumDiff(mapT, m0, datumDiff(mapT, m0, m1)), m1));
    }),
    { numRuns: 300 },
  );
});

test("datumJsonText prints what JSON.stringify prints of datumToJSON, for every atom type", () => {
  const types = [
    OvsdbType.fromJSON({ key: "string", min: 0, max: "unlimited" }),
    OvsdbType.fromJSON({ key: "string" }),
    OvsdbType.fromJSON({ key: "integer", min: 0, max: "unlimited" }),
    OvsdbType.fromJSON({ key: "real", min: 0, max: 3 }),
    OvsdbType.fromJSON({ key: "boolean", min: 0, max: 2 }),
    OvsdbType.fromJSON({ key: "uuid", min: 0, max: "unlimited" }),
    OvsdbType.fromJSON({ key: "string", value: "string", min: 0, max: "unlimited" }),
    OvsdbType.fromJSON({ key: "uuid", value: "integer", min: 0, max: "unlimited" }),
    OvsdbType.fromJSON({ key: "integer", value: "real", min: 0, max: "unlimited" }),
  ];
  const atom = (t: string): fc.Arbitrary<unknown> =>
    t === "string"
      ? fc.string({ maxLength: 6, unit: "binary" })
      : t === "integer"
        ? fc.integer()
        : t === "real"
          ? fc.double({ noNaN: true, noDefaultInfinity: true })
          : t === "boolean"
            ? fc.boolean()
            : fc.uuid().map((u) => ["uuid", u]);
  for (const type of types) {
    const k = type.key.type;
    const v = type.value?.type;
    const json = v === undefined
      ? fc.array(atom(k), { maxLength: Math.min(type.max, 5) }).map((a) => (a.length === 1 && type.max === 1 ? a[0] : ["set", a]))
      : fc.array(fc.tuple(atom(k), atom(v)), { maxLength: 5 }).map((a) => ["map", a]);
    fc.assert(
      fc.property(json, (j) => {
        let d: Datum;
        try {
          d = datumFromJSON(type, j);
        } catch {
          return; // duplicate keys and the like: not a datum
        }
        assert.equal(datumJsonText(type, d), JSON.stringify(datumToJSON(type, d)));
      }),
      { numRuns: 150 },
    );
  }
});
