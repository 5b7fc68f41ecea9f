import { test } from "node:test";
import assert from "node:assert/strict";
import { JsonFramer } from "../../src/jsonrpc/index.js";

test("values split across chunks and packed together are each parsed once", () => {
  const f = new JsonFramer();
  const text = '{"method":"echo","params":["a}\\"{"],"id":1}  [1,[2]]{"x":{}}';
  const got: unknown[] = [];
  for (let i = 0; i < text.length; i += 3) {
    for (const r of f.push(Buffer.from(text.slice(i, i + 3)))) {
      assert.ok(r.ok);
      got.push(r.value);
    }
  }
  assert.deepEqual(got, [{ method: "echo", params: ['a}"{'], id: 1 }, [1, [2]], { x: {} }]);
  assert.equal(f.buffered, 0);
});

test("garbage is reported as a syntax error, not thrown", () => {
  const f = new JsonFramer();
  const r = f.push(Buffer.from("hello"));
  assert.equal(r.length, 1);
  assert.equal(r[0]!.ok, false);
  const r2 = f.push(Buffer.from('{"a":tru}'));
  assert.equal(r2[0]!.ok, false);
});
