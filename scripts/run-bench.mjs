// `npm run bench -- <name> [args...]` runs dist/bench/<name>.js, whose last
// line of output is one JSON object with the figures.
import { existsSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";

const [name, ...args] = process.argv.slice(2);
/** Modules in bench/ that benchmarks import, not benchmarks themselves. */
const HELPERS = new Set(["util-net", "stats"]);
const available = existsSync("dist/bench")
  ? readdirSync("dist/bench").filter((f) => f.endsWith(".js")).map((f) => f.slice(0, -3)).filter((n) => !HELPERS.has(n))
  : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(", ") || "none"})`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--expose-gc", `dist/bench/${name}.js`, ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
