// Runs every compiled test file (dist/test/**/*.test.js) with node's test
// runner. Arguments are substrings that select test files.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function walk(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk("dist/test", []).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
// The database servers and switches tests start are short-lived: skip their
// JIT warm-ups (src/ovsdb/server/warm-up.ts, src/ofproto/warm-up.ts; their
// own tests turn them on) unless asked.
const env = {
  ...process.env,
  TSOVS_OVSDB_WARMUP: process.env.TSOVS_OVSDB_WARMUP ?? "0",
  TSOVS_OFPROTO_WARMUP: process.env.TSOVS_OFPROTO_WARMUP ?? "0",
};
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...files], { stdio: "inherit", env });
process.exit(r.status ?? 1);
