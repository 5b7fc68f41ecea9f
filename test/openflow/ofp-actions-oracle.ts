/**
 * Runs real ovs-ofctl as the oracle for action tests: encodes a flow with
 * `parse-flow` (reading the actions/instructions bytes out of the printed
 * flow_mod hex dump) and decodes action bytes with `parse-actions` /
 * `parse-instructions`.
 */
import { spawn, spawnSync } from "node:child_process";

export const VERSION_NAMES: Readonly<Record<number, string>> = {
  1: "OpenFlow10", 2: "OpenFlow11", 3: "OpenFlow12", 4: "OpenFlow13", 5: "OpenFlow14", 6: "OpenFlow15",
};

export interface OvsEncoding {
  /** The actions text ovs-ofctl prints for the flow_mod it built, or its decode error. */
  text: string;
  /** Hex of the actions (OF1.0) or instructions (OF1.1+) part of the flow_mod. */
  hex: string;
}

function runAsync(args: string[], input = ""): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("ovs-ofctl", args, { stdio: [input === "" ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => p.kill(), 20_000);
    p.stdout!.on("data", (d) => (stdout += d));
    p.stderr!.on("data", (d) => (stderr += d));
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    if (p.stdin) p.stdin.end(input);
  });
}

function actionsHex(version: number, msgHex: string): string {
  if (version === 1) return msgHex.slice(72 * 2);
  if (version === 2) return msgHex.slice(136 * 2);
  const mlen = parseInt(msgHex.slice(50 * 2, 52 * 2), 16);
  return msgHex.slice((48 + ((mlen + 7) & ~7)) * 2);
}

/** Encodes `match,actions=...` with ovs-ofctl in `version`: the result, or OVS's error text. */
export async function ovsEncode(version: number, match: string, actions: string): Promise<OvsEncoding | { error: string }> {
  const args = ["-O", VERSION_NAMES[version]!, ...(version === 1 ? ["-F", "openflow10"] : []), "-mmmmm", "parse-flow", `${match === "" ? "" : match + ","}actions=${actions}`];
  const r = await runAsync(args);
  if (r.status !== 0) return { error: r.stderr.trim().split("\n").pop()!.replace(/^ovs-ofctl: /, "") };
  let text = "";
  let hex = "";
  for (const line of r.stdout.split("\n")) {
    const m = /^[0-9a-f]{8}  (.*?)\s*\|/.exec(line);
    if (m) hex += m[1]!.replace(/[- ]/g, "");
    else if (line.startsWith("OFPT_FLOW_MOD")) {
      const dec = /\*\*\*decode error: (\w+)\*\*\*/.exec(line);
      text = dec ? `error:${dec[1]}` : line.replace(/.*actions=/, "");
    }
  }
  return { text, hex: actionsHex(version, hex) };
}

/** Runs `f` over `items` with at most `n` in flight. */
export async function mapLimit<T, R>(items: readonly T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  }));
  return out;
}

/** The ovs-ofctl error message for bad actions text (parsed in a flow). */
export function ovsTextError(actions: string): string | null {
  const r = spawnSync("ovs-ofctl", ["parse-flow", `ip,actions=${actions}`], { encoding: "utf8", timeout: 20_000 });
  if (r.status === 0) return null;
  const lines = (r.stderr ?? "").trim().split("\n").filter((l) => l.startsWith("ovs-ofctl: "));
  return lines.length ? lines[lines.length - 1]!.replace(/^ovs-ofctl: /, "") : (r.stderr ?? "").trim();
}

/**
 * Decodes hex lines with `ovs-ofctl parse-actions|parse-instructions
 * VERSION`: per line, "actions=TEXT" text or "error:OFPBAC_..." name.
 */
export function ovsDecode(version: number, hexLines: readonly string[], instructions: boolean): string[] {
  const r = spawnSync("ovs-ofctl", [instructions ? "parse-instructions" : "parse-actions", VERSION_NAMES[version]!], {
    encoding: "utf8", input: hexLines.map((h) => (h === "" ? "00" : h)).join("\n") + "\n", timeout: 60_000, maxBuffer: 64 << 20,
  });
  const out: string[] = [];
  for (const line of (r.stdout ?? "").split("\n")) {
    if (line.startsWith("actions=")) out.push(line.slice(8));
    else if (line.startsWith("bad ")) out.push(`error:${line.replace(/.*: /, "")}`);
  }
  return out;
}
