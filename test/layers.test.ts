/**
 * The layering of DESIGN.md §2–3, checked: a module may import only from its
 * own folder and from the folders below it, never upward (the datapath never
 * imports OpenFlow; the database never imports the command line).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "./util/ovs.js";

/** Folder → the folders it may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  util: [],
  jsonrpc: ["util"],
  unixctl: ["util", "jsonrpc"],
  packet: ["util"],
  flow: ["util", "packet"],
  netdev: ["util", "packet", "flow"],
  datapath: ["util", "packet", "flow", "netdev", "unixctl", "jsonrpc"],
  classifier: ["util", "flow"],
  openflow: ["util", "packet", "flow"],
  ofproto: ["util", "jsonrpc", "unixctl", "packet", "flow", "netdev", "datapath", "classifier", "openflow"],
  ovsdb: ["util", "jsonrpc", "unixctl"],
  vsctl: ["util", "jsonrpc", "ovsdb"],
  vswitchd: ["util", "jsonrpc", "unixctl", "packet", "flow", "netdev", "datapath", "classifier", "openflow", "ofproto", "ovsdb"],
  cli: ["*"],
  // The programmatic API (`import ... from "tsovs"`) sits on top beside the CLI, and the package entry above it.
  api: ["*"],
  "index.ts": ["*"],
};

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) tsFiles(p, out);
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

test("imports go only down the layers", () => {
  const src = path.join(REPO_ROOT, "src");
  const violations: string[] = [];
  for (const file of tsFiles(src)) {
    const layer = path.relative(src, file).split(path.sep)[0]!;
    const allowed = ALLOWED[layer];
    if (!allowed) {
      violations.push(`${path.relative(REPO_ROOT, file)}: folder "${layer}" has no place in the layer table`);
      continue;
    }
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = path.resolve(path.dirname(file), m[1]!);
      const targetLayer = path.relative(src, target).split(path.sep)[0]!;
      if (targetLayer === layer || allowed.includes("*") || allowed.includes(targetLayer)) continue;
      violations.push(`${path.relative(REPO_ROOT, file)} imports ${m[1]} (${layer} → ${targetLayer})`);
    }
  }
  assert.deepEqual(violations, []);
});
