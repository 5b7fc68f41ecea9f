/**
 * The README's "Using tsovs from a program" example runs as printed: it is
 * cut out of README.md, written beside the package (so `import ... from
 * "tsovs"` resolves through package.json's "exports", as it would for a
 * user), run with node, and its output checked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root: this file runs as dist/test/api/readme-example.test.js. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("## Using tsovs from a program");
  assert.ok(at >= 0, "README has no 'Using tsovs from a program' section");
  const m = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, "the section has no js example");
  return m[1]!;
}

test("the README example runs and prints what it says", { timeout: 60_000 }, async () => {
  const code = readmeExample();
  assert.match(code, /from "tsovs"/);
  // Inside the package directory, so the package resolves itself by name.
  const file = path.join(ROOT, "dist", "test", "api", `readme-example-${process.pid}.mjs`);
  fs.writeFileSync(file, code);
  try {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [file], { cwd: ROOT, timeout: 45_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : null, stdout, stderr });
      });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tcp,.*nw_dst=10\.0\.0\.2,.*tp_dst=8080,tcp_flags=0 tcp_csum:[0-9a-f]+$/m);
    assert.match(r.stdout, /^Datapath actions: set\(tcp\(dst=8080\)\),2$/m);
    assert.match(r.stdout, /actions:set\(tcp\(dst=8080\)\),2/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
