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

test("escapes and quotes at chunk boundaries", () => {
  const text = '["a\\\\","b\\"c",{"k\\\\\\"":"\\u0041"}]';
  const expected = JSON.parse(text);
  for (let cut = 1; cut < text.length; cut++) {
    const f = new JsonFramer();
    const got = [...f.push(Buffer.from(text.slice(0, cut))), ...f.push(Buffer.from(text.slice(cut)))];
    assert.equal(got.length, 1, `cut at ${cut}`);
    assert.ok(got[0]!.ok);
    assert.deepEqual(got[0]!.value, expected);
  }
});

test("a value that never ends is cut off, not buffered forever", () => {
  const f = new JsonFramer();
  const chunk = Buffer.alloc(16 * 1024 * 1024, 0x20);
  chunk[0] = 0x5b; // "[" then spaces
  let errors = 0;
  for (let i = 0; i < 20 && errors === 0; i++) {
    for (const r of f.push(i === 0 ? chunk : chunk.subarray(1))) if (!r.ok) errors++;
  }
  assert.equal(errors, 1);
  assert.equal(f.buffered, 0);
});
