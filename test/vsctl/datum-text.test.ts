/**
 * Datum ↔ text as ovs-vsctl reads and prints it. Expected strings and error
 * messages were captured from the real ovs-vsctl 3.1 (`get`, `set` with bad
 * values) on the Open_vSwitch schema's column types.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OvsdbType } from "../../src/ovsdb/types.js";
import {
  DatumTextError,
  SymbolTable,
  datumFromString,
  datumToBare,
  datumToString,
  parseToken,
  typeToEnglish,
  type TextDatum,
} from "../../src/ovsdb/datum-text.js";

const t = (json: unknown): OvsdbType => OvsdbType.fromJSON(json);
const STRING_MAP = t({ key: "string", value: "string", min: 0, max: "unlimited" });
const TRUNKS = t({ key: { type: "integer", minInteger: 0, maxInteger: 4095 }, min: 0, max: 4096 });
const TAG = t({ key: { type: "integer", minInteger: 0, maxInteger: 4095 }, min: 0, max: 1 });
const FAIL_MODE = t({ key: { type: "string", enum: ["set", ["standalone", "secure"]] }, min: 0, max: 1 });
const INTERFACES = t({ key: { type: "uuid", refTable: "Interface" }, min: 1, max: "unlimited" });
const BOOL = t("boolean");
const REAL = t("real");

function parseError(type: OvsdbType, s: string): string {
  try {
    datumFromString(type, s, new SymbolTable());
  } catch (e) {
    assert.ok(e instanceof DatumTextError, String(e));
    return e.message;
  }
  assert.fail(`"${s}" parsed without error`);
}

test("strings are quoted only when they would not read back unchanged", () => {
  // ovs-vsctl get bridge br0 external_ids
  const d = datumFromString(
    STRING_MAP,
    '{"a b"=true, x=123, y=a.b-c_d, z="", u=f72c64f0-b433-46b4-b2bd-ed7c1fdb62e7, e="é", n="line\\nbreak"}',
    null,
  );
  assert.equal(
    datumToString(d, STRING_MAP),
    '{"a b"="true", e="é", n="line\\nbreak", u="f72c64f0-b433-46b4-b2bd-ed7c1fdb62e7", x="123", y=a.b-c_d, z=""}',
  );
  assert.equal(datumToBare(d, STRING_MAP), 'a b=true e=é n=line\nbreak u=f72c64f0-b433-46b4-b2bd-ed7c1fdb62e7 x=123 y=a.b-c_d z=');
});

test("sets, ranges, optional values and empty data", () => {
  assert.deepEqual(datumFromString(TRUNKS, "1 2,3", null), { keys: [1, 2, 3], values: null });
  assert.deepEqual(datumFromString(TRUNKS, "1-3,7", null), { keys: [1, 2, 3, 7], values: null });
  assert.equal(datumToString(datumFromString(TRUNKS, "[7, 1]", null), TRUNKS), "[1, 7]");
  assert.equal(datumToString({ keys: [], values: null }, TAG), "[]");
  assert.equal(datumToString({ keys: [5], values: null }, TAG), "5");
  assert.equal(datumToString({ keys: [], values: [] }, STRING_MAP), "{}");
  assert.equal(datumToString(datumFromString(BOOL, "yes", null), BOOL), "true");
  assert.equal(datumToString(datumFromString(REAL, "1.5e3", null), REAL), "1500");
  assert.equal(datumToString(datumFromString(FAIL_MODE, "secure", null), FAIL_MODE), "secure");
});

test("bad values are reported with ovs-vsctl's exact messages", () => {
  assert.equal(parseError(FAIL_MODE, "bogus"), "constraint violation: bogus is not one of the allowed values ([secure, standalone])");
  assert.equal(parseError(TAG, "5000"), "constraint violation: 5000 is not in the valid range 0 to 4095 (inclusive)");
  assert.equal(parseError(TAG, "1-3"), "1-3: 3 value(s) specified but the maximum number is 1");
  assert.equal(parseError(TAG, "1.5"), '"1.5" is not a valid integer or range');
  assert.equal(parseError(TRUNKS, "[1,,2]"), '[1,,2]: unexpected "," parsing set of up to 4096 integers');
  assert.equal(parseError(TRUNKS, "3-1"), '"3-1" is not a valid range. Range end cannot be before start.');
  assert.equal(parseError(TRUNKS, "1-5000"), "constraint violation: 5000 is not in the valid range 0 to 4095 (inclusive)");
  assert.equal(parseError(STRING_MAP, "{a}"), 'a}: syntax error at "}" expecting "="');
  assert.equal(parseError(STRING_MAP, "a"), 'a: syntax error at "');
  assert.equal(parseError(STRING_MAP, "{a=1,a=2}"), "{a=1,a=2}: map contains duplicate key");
  assert.equal(parseError(STRING_MAP, "{a=1} x"), '{a=1} x: trailing garbage after "}"');
  assert.equal(parseError(STRING_MAP, "{a=1"), '{a=1: missing "}" at end of data');
  assert.equal(parseError(STRING_MAP, ""), 'use "{}" to specify the empty map');
  assert.equal(parseError(STRING_MAP, '{a="\\q"}'), '"\\q": bad escape \\q');
  assert.equal(parseError(INTERFACES, "[]"), "[]: 0 value(s) specified but the minimum number is 1");
  assert.equal(parseError(INTERFACES, "xyz"), '"xyz" is not a valid UUID');
  assert.equal(parseError(BOOL, "maybe"), '"maybe" is not a valid boolean (use "true" or "false")');
  assert.equal(parseError(REAL, "x"), '"x" is not a valid real number');
});

test("tokens split at unquoted delimiters; @names become symbols", () => {
  assert.deepEqual(parseToken('external_ids:"x y"="1,2"', 0), { token: "external_ids", pos: 12 });
  assert.deepEqual(parseToken('external_ids:"x y"="1,2"', 13), { token: '"x y"', pos: 18 });
  assert.deepEqual(parseToken("a\\:b=c", 0), { token: "a:b", pos: 4 });
  assert.throws(() => parseToken('"a=1', 0), /"a=1: quoted string extends past end of argument/);
  const symtab = new SymbolTable();
  const d = datumFromString(INTERFACES, "[@i1, @i2]", symtab);
  assert.equal(d.keys.length, 2);
  assert.equal(symtab.get("@i1")!.strongRef, true);
  assert.equal(symtab.get("@i1")!.created, false);
});

test("type names in messages", () => {
  assert.equal(typeToEnglish(TRUNKS), "set of up to 4096 integers");
  assert.equal(typeToEnglish(STRING_MAP), "map of (string, string) pairs");
  assert.equal(typeToEnglish(INTERFACES), "set of 1 or more uuids");
  assert.equal(typeToEnglish(BOOL), "boolean");
});

test("printing then parsing a string map gives the same map (property)", () => {
  const str = fc.string({ minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(fc.dictionary(str, str, { maxKeys: 6 }), (obj) => {
      const keys = Object.keys(obj).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const d: TextDatum = { keys, values: keys.map((k) => obj[k]!) };
      const back = datumFromString(STRING_MAP, datumToString(d, STRING_MAP), null);
      assert.deepEqual(back, d);
    }),
    { numRuns: 300 },
  );
});
