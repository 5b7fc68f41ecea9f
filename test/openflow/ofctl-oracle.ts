/**
 * FOR TESTS: runs `ovs-ofctl ofp-print` on many messages with a small pool
 * of processes, and compares its text with tsovs's for each, returning the
 * differences as readable reports.
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import { bytesToHex, ofpToString } from "../../src/openflow/index.js";

/** ovs-ofctl ofp-print HEX [verbosity] for each message, `parallel` at a time. */
export async function ofpPrintAll(msgs: readonly Uint8Array[], verbosity?: number, parallel = 4): Promise<string[]> {
  const out: string[] = new Array(msgs.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < msgs.length) {
      const i = next++;
      const args = ["ofp-print", bytesToHex(msgs[i]!)];
      if (verbosity !== undefined) args.push(String(verbosity));
      out[i] = await new Promise<string>((resolve) => {
        const p = spawn("ovs-ofctl", args, { stdio: ["ignore", "pipe", "ignore"] });
        let s = "";
        p.stdout.setEncoding("latin1");
        p.stdout.on("data", (d: string) => (s += d));
        const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
        p.on("close", () => {
          clearTimeout(timer);
          resolve(s);
        });
      });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** Messages whose ofp-print text differs between OVS and tsovs, as reports. */
export async function printDiffs(msgs: readonly Uint8Array[], labels: readonly string[], verbosity?: number): Promise<string[]> {
  const theirs = await ofpPrintAll(msgs, verbosity);
  const diffs: string[] = [];
  msgs.forEach((m, i) => {
    const mine = ofpToString(m, verbosity ?? 2);
    if (mine !== theirs[i]) diffs.push(`${labels[i]} ${bytesToHex(m)}\n--- ovs-ofctl\n${theirs[i]}--- tsovs\n${mine}`);
  });
  return diffs;
}

/**
 * Sends a hello of `version` and `request` on a switch's management socket
 * and resolves with every reply part (multipart replies until the last,
 * other replies: the first one whose type is not hello or echo).
 */
export function multipart(sock: string, version: number, request: Uint8Array): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    const parts: Uint8Array[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("no complete reply"));
    }, 10_000);
    s.on("connect", () => {
      s.write(Buffer.from([version, 0, 0, 8, 0, 0, 0, 1]));
      s.write(request);
    });
    s.on("error", reject);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        const len = buf.readUInt16BE(2);
        const m = new Uint8Array(buf.subarray(0, len));
        buf = buf.subarray(len);
        if (m[1] === 0 || m[1] === 2 || m[1] === 3) continue; // hello, echo
        parts.push(m);
        const statsReply = version === 1 ? 17 : 19;
        if (m[1] !== statsReply || !(m[version === 1 ? 11 : 11]! & 1)) {
          clearTimeout(timer);
          s.end();
          resolve(parts);
        }
      }
    });
  });
}
