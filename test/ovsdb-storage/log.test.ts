/**
 * The OVSDB log framing: records round-trip, and every kind of damage (bad
 * SHA-1, bad length, torn body, invalid JSON, bad header) stops the reader at
 * the damaged record with OVS's message, keeping the good records before it;
 * the JavaScript SHA-1 of small records agrees with node:crypto.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { encodeRecord, encodeRecordText, scanLog, sha1Hex, shashOrder, datumDiff, applyDatumDiff, ovsJsonError, parseOvsJson } from "../../src/ovsdb/storage/index.js";
import { OvsdbType, BaseType } from "../../src/ovsdb/index.js";
import { sha1HexInto } from "../../src/ovsdb/storage/sha1.js";

const schema = { name: "T", version: "1.0.0", tables: { A: { columns: { x: { type: "integer" } } } } };
const txn = { A: { "5deb3a70-0b24-4ed8-88fe-ec9a6bdb0a88": { x: 1 } }, _date: 1, _is_diff: true };

function file(...recs: unknown[]): Buffer {
  return Buffer.concat(recs.map((r) => encodeRecord(r)));
}

test("a record is header + JSON body with its length and SHA-1", () => {
  const rec = encodeRecord({ a: 1 });
  const text = rec.toString();
  assert.equal(text, `OVSDB JSON 8 ${sha1Hex('{"a":1}\n')}\n{"a":1}\n`);
  const scan = scanLog(rec, "f.db");
  assert.equal(scan.error, null);
  assert.deepEqual(scan.records.map((r) => r.json), [{ a: 1 }]);
  assert.equal(scan.goodEnd, rec.length);
});

test("records round-trip, including non-ASCII text", () => {
  const buf = file(schema, txn, { A: {}, _comment: "héllo ☃" });
  const scan = scanLog(buf, "f.db");
  assert.equal(scan.error, null);
  assert.equal(scan.records.length, 3);
  assert.deepEqual(scan.records[2]!.json, { A: {}, _comment: "héllo ☃" });
});

test("a bad SHA-1 stops reading at that record", () => {
  const good = file(schema);
  const bad = encodeRecord(txn);
  const text = bad.toString("latin1");
  const sha = text.split(" ")[3]!.slice(0, 40);
  const wrong = (sha[0] === "0" ? "1" : "0") + sha.slice(1);
  const damaged = Buffer.from(text.replace(sha, wrong), "latin1");
  const scan = scanLog(Buffer.concat([good, damaged, encodeRecord(txn)]), "f.db");
  assert.equal(scan.records.length, 1);
  assert.equal(scan.goodEnd, good.length);
  const bodyOffset = good.length + text.indexOf("\n") + 1;
  assert.equal(
    scan.error?.toString(),
    `syntax error: f.db: ${bad.length - (text.indexOf("\n") + 1)} bytes starting at offset ${bodyOffset} have SHA-1 hash ${sha} but should have hash ${wrong}`,
  );
});

test("a length past the end of file is an I/O error (torn tail)", () => {
  const good = file(schema, txn);
  const torn = encodeRecord(txn).subarray(0, 70);
  const scan = scanLog(Buffer.concat([good, torn]), "f.db");
  assert.equal(scan.records.length, 2);
  assert.equal(scan.goodEnd, good.length);
  assert.match(scan.error!.toString(), /^I\/O error: f\.db: error reading \d+ bytes starting at offset \d+ \(End of file\)$/);
});

test("a wrong (shorter) length makes the digest fail", () => {
  const good = file(schema);
  const rec = encodeRecord(txn).toString("latin1");
  const n = Number(rec.split(" ")[2]);
  const damaged = Buffer.from(rec.replace(`JSON ${n} `, `JSON ${n - 1} `), "latin1");
  const scan = scanLog(Buffer.concat([good, damaged]), "f.db");
  assert.equal(scan.records.length, 1);
  assert.match(scan.error!.toString(), /^syntax error: f\.db: \d+ bytes starting at offset \d+ have SHA-1 hash/);
});

test("a malformed header is quoted as OVS quotes it", () => {
  const good = file(schema);
  let scan = scanLog(Buffer.concat([good, Buffer.from("garbage here\n")]), "f.db");
  assert.equal(scan.error?.toString(), `syntax error: f.db: parse error at offset ${good.length} in header line "garbage here"`);
  scan = scanLog(Buffer.concat([good, Buffer.from("OVSDB JSON 16x abc\n")]), "f.db");
  assert.equal(scan.error?.toString(), `syntax error: f.db: parse error at offset ${good.length} in header line "OVSDB JSON"`);
  // A header cut before its newline (a crash mid-header).
  scan = scanLog(Buffer.concat([good, Buffer.from("OVSDB JSON 5 a6cbc1f6")]), "f.db");
  assert.equal(scan.records.length, 1);
  assert.equal(scan.goodEnd, good.length);
});

test("a body that is not JSON is rejected even with a matching digest", () => {
  const good = file(schema);
  const body = "{abc\n";
  const rec = Buffer.from(`OVSDB JSON ${body.length} ${sha1Hex(body)}\n${body}`);
  const scan = scanLog(Buffer.concat([good, rec]), "f.db");
  assert.equal(scan.records.length, 1);
  assert.match(scan.error!.toString(), /^syntax error: f\.db: 5 bytes starting at offset \d+ are not valid JSON \(/);
});

test("shash order matches OVS's hmap iteration (observed in OVS-written files)", () => {
  // Key orders copied from records and schemas written by OVS 3.1.
  assert.deepEqual(shashOrder(["_date", "_is_diff", "A"]), ["_date", "A", "_is_diff"]);
  assert.deepEqual(shashOrder(["name", "m", "tag", "s"]), ["name", "m", "tag", "s"]);
  assert.deepEqual(shashOrder(["name", "version", "tables", "cksum"]), ["cksum", "name", "version", "tables"]);
});

test("set and map diffs apply back to the new value", () => {
  const setT = new OvsdbType(new BaseType("integer"), null, 0, Infinity);
  const mapT = new OvsdbType(new BaseType("string"), new BaseType("string"), 0, Infinity);
  const d = datumDiff(setT, ["set", [1, 2, 3]], ["set", [2, 4]]);
  assert.deepEqual(d, ["set", [1, 3, 4]]);
  assert.deepEqual(applyDatumDiff(setT, ["set", [1, 2, 3]], d), ["set", [2, 4]]);
  const oldM = ["map", [["a", "1"], ["b", "2"]]];
  const newM = ["map", [["a", "9"], ["c", "3"]]];
  const md = datumDiff(mapT, oldM, newM);
  // What OVS 3.1 wrote for this very change.
  assert.deepEqual(md, ["map", [["a", "9"], ["b", "2"], ["c", "3"]]]);
  assert.deepEqual(applyDatumDiff(mapT, oldM, md), newM);
  assert.deepEqual(datumDiff(setT, ["set", [5]], 5), ["set", []]);
  assert.equal(datumDiff(setT, ["set", []], 7), 7);
});

test("JSON errors are worded and located as OVS's parser does", () => {
  // Expected texts printed by OVS 3.1's ovsdb-tool for these inputs.
  const cases: [string, string][] = [
    ["bad", "line 0, column 3, byte 3: invalid keyword 'bad'"],
    ["", "line 0, column 0, byte 0: empty input stream"],
    ['{"name":\n', "line 1, column 0, byte 9: unexpected end of input"],
    ["{abc\n", "line 0, column 4, byte 4: invalid keyword 'abc'"],
    ['{"a":1', "line 0, column 7, byte 7: unexpected end of input"],
    ["5", "line 0, column 1, byte 1: syntax error at beginning of input"],
  ];
  for (const [text, want] of cases) assert.equal(ovsJsonError(text), want, JSON.stringify(text));
  assert.equal(ovsJsonError('{"a":[1,2.5e3,true,null,"\\u00e9"]}'), null);
  assert.deepEqual(parseOvsJson('["x",{"y":1}]'), { ok: true, value: ["x", { y: 1 }] });
});

test("small records are hashed in JavaScript: the same SHA-1 as node:crypto at every length and offset", () => {
  const rnd = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + n * 7 + 13) & 0xff;
    return b;
  };
  // Block boundaries (55/56/63/64 bytes and their multiples) are where padding goes wrong.
  for (let n = 0; n <= 300; n++) {
    const data = rnd(n + 5);
    const out = Buffer.alloc(42, 0x2e);
    sha1HexInto(data, 5, n + 5, out, 1);
    assert.equal(out.toString("latin1", 1, 41), crypto.createHash("sha1").update(data.subarray(5)).digest("hex"), `length ${n}`);
    assert.equal(out[0], 0x2e, "nothing written before the digest");
    assert.equal(out[41], 0x2e, "nothing written after the digest");
  }
});

test("a record's header and body are the same whether its body is hashed in JavaScript or by node:crypto", () => {
  // Around SMALL_RECORD (4 kB): both sides of the switch, ASCII and UTF-8 bodies.
  for (const len of [0, 1, 100, 4000, 4094, 4095, 4096, 4097, 10_000]) {
    for (const extra of ["", "é☃"]) {
      const text = JSON.stringify({ s: "x".repeat(len) + extra });
      const body = text + "\n";
      const want = `OVSDB JSON ${Buffer.byteLength(body)} ${crypto.createHash("sha1").update(body).digest("hex")}\n${body}`;
      assert.equal(encodeRecordText(text).toString("utf8"), want, `length ${len}${extra}`);
    }
  }
});
