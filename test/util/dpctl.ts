/**
 * Test helpers for the datapath-actions and dpctl tests: a real
 * ovs-vswitchd 3.1 with a dummy datapath (bridge br0, ports p1 = 1 and
 * p2 = 2) in a private run directory, and a minimal pcap reader for the
 * dummy ports' tx_pcap files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "./ovs.js";

/** Starts ovsdb-server + ovs-vswitchd (dummy datapath) in `dir`; returns a stop function (kills by pid). */
export function startRealVswitchd(dir: string): () => void {
  const env = (args: string[]) => run(args[0]!, args.slice(1), dir);
  env(["ovsdb-tool", "create", path.join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
  env(["ovsdb-server", "--detach", "--pidfile", "--log-file", `--remote=punix:${path.join(dir, "db.sock")}`, path.join(dir, "conf.db")]);
  env(["ovs-vsctl", "--no-wait", "init"]);
  env(["ovs-vswitchd", "--enable-dummy=override", "--disable-system", "--detach", "--pidfile", "--log-file"]);
  env(["ovs-vsctl", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
    "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
    "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2"]);
  return () => {
    for (const p of ["ovs-vswitchd", "ovsdb-server"]) {
      try {
        const pid = Number(fs.readFileSync(path.join(dir, `${p}.pid`), "utf8").trim());
        if (pid > 0) process.kill(pid, "SIGTERM");
      } catch {
        /* not running */
      }
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops what `startRealVswitchd` started in `dir` and waits for it to go
 * (SIGKILL after two seconds), then removes the directory.
 */
export async function stopRealVswitchd(dir: string, stop: () => void): Promise<void> {
  const pids = ["ovs-vswitchd", "ovsdb-server"].map((d) => {
    try {
      return Number(fs.readFileSync(path.join(dir, `${d}.pid`), "utf8").trim());
    } catch {
      return 0;
    }
  });
  stop();
  for (let i = 0; i < 40 && pids.some((p) => p > 0 && alive(p)); i++) await new Promise((r) => setTimeout(r, 50));
  for (const p of pids) if (p > 0 && alive(p)) process.kill(p, "SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The packets of a classic little-endian pcap file (empty when the file is missing or short). */
export function readPcap(file: string): Uint8Array[] {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch {
    return [];
  }
  const out: Uint8Array[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const incl = b.readUInt32LE(o + 8);
    if (o + 16 + incl > b.length) break;
    out.push(new Uint8Array(b.subarray(o + 16, o + 16 + incl)));
    o += 16 + incl;
  }
  return out;
}
