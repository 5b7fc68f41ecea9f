/**
 * SSL controller connections: a tsovs bridge dials the real
 * ovs-testcontroller over `ssl:` and gets its flows; a tsovs `pssl:`
 * listener serves real `ovs-ofctl` clients holding a certificate from the
 * configured CA and refuses one from another CA; without key files the
 * bridge says what OVS says. Through the whole switch, `ovs-vsctl set-ssl`
 * supplies the files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { ovsSkip, tempDir, waitFor } from "../util/ovs.js";
import { ofctl, startTsovsBridge } from "../util/ofproto.js";
import { runAsync, startTsovsSwitch } from "../util/vswitchd.js";

const skip = ovsSkip("ovs-testcontroller", "ovs-ofctl", "openssl");

function openssl(dir: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

/** A CA and, signed by it, one key and certificate per name: `<name>.key`, `<name>.pem`, `<ca>.pem`. */
function makePki(dir: string, ca: string, names: string[]): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "2", "-subj", `/CN=${ca}`]);
  for (const n of names) {
    openssl(dir, ["req", ...ec, "-keyout", `${n}.key`, "-out", `${n}.csr`, "-subj", `/CN=${n}`]);
    openssl(dir, ["x509", "-req", "-in", `${n}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${n}.pem`, "-days", "2"]);
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const sslArgs = (dir: string, who: string, ca = "ca"): string[] => ["--private-key", path.join(dir, `${who}.key`), "--certificate", path.join(dir, `${who}.pem`), "--ca-cert", path.join(dir, `${ca}.pem`)];

test("a tsovs bridge reaches ovs-testcontroller over ssl: and a pssl: listener checks client certificates", { skip, timeout: 60_000 }, async () => {
  const pki = tempDir("tsovs-ssl-");
  makePki(pki, "ca", ["switch", "controller", "client"]);
  makePki(pki, "other-ca", ["stranger"]);
  const flowsFile = path.join(pki, "flows.txt");
  fs.writeFileSync(flowsFile, "priority=100,ip,nw_dst=10.0.0.1,actions=output:2\npriority=0,actions=CONTROLLER:65535\n");
  const port = await freePort();
  const tc = spawn("ovs-testcontroller", [`pssl:${port}:127.0.0.1`, "-p", path.join(pki, "controller.key"), "-c", path.join(pki, "controller.pem"), "-C", path.join(pki, "ca.pem"), "--with-flows", flowsFile, "-n", `--unixctl=${path.join(pki, "tc.ctl")}`], { stdio: "ignore" });
  const lport = await freePort();
  const ts = await startTsovsBridge(["br0", "--port", "p1:1", "--port", "p2:2", "--fail-mode", "secure", "--controller", `ssl:127.0.0.1:${port}`, "--controller", `pssl:${lport}:127.0.0.1`, ...sslArgs(pki, "switch")]);
  try {
    const dump = () => ofctl(ts.dir, ["dump-flows", "--no-stats", "br0"]).out;
    await waitFor(() => dump().includes("nw_dst=10.0.0.1"), 20_000, "the controller's flows").catch(() => undefined);
    assert.match(dump(), /priority=100,ip,nw_dst=10\.0\.0\.1 actions=output:2/, ts.output());

    const show = (who: string, ca: string) => spawnSync("ovs-ofctl", ["--timeout=5", ...sslArgs(pki, who, ca), "show", `ssl:127.0.0.1:${lport}`], { encoding: "utf8" });
    const ok = show("client", "ca");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^OFPT_FEATURES_REPLY/);
    const refused = show("stranger", "other-ca");
    assert.notEqual(refused.status, 0, "a certificate from another CA is refused");
  } finally {
    tc.kill("SIGTERM");
    await ts.stop();
    fs.rmSync(pki, { recursive: true, force: true });
  }
});

test("ssl: without a private key logs OVS's complaint and keeps retrying", { timeout: 30_000 }, async () => {
  const ts = await startTsovsBridge(["br0", "--controller", "ssl:127.0.0.1:9", "--log-file"]);
  const logFile = path.join(ts.dir, "ofproto-test.log");
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  try {
    await waitFor(() => /ERR\|ssl:127\.0\.0\.1:9: Private key must be configured to use SSL/.test(log()), 5000, "the SSL complaint");
    await waitFor(() => /waiting \d+ seconds before reconnect/.test(log()), 5000, "a retry");
  } finally {
    await ts.stop();
  }
});

test("ovs-vsctl set-ssl and an ssl: controller: the switch connects to ovs-testcontroller over SSL", { skip, timeout: 60_000 }, async () => {
  const pki = tempDir("tsovs-ssl-sw-");
  makePki(pki, "ca", ["switch", "controller"]);
  const port = await freePort();
  const tc = spawn("ovs-testcontroller", [`pssl:${port}:127.0.0.1`, "-p", path.join(pki, "controller.key"), "-c", path.join(pki, "controller.pem"), "-C", path.join(pki, "ca.pem"), `--unixctl=${path.join(pki, "tc.ctl")}`], { stdio: "ignore" });
  const sw = await startTsovsSwitch();
  try {
    const vsctl = async (args: string[]) => {
      const r = await runAsync("ovs-vsctl", args, sw.dir);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    await vsctl(["set-ssl", path.join(pki, "switch.key"), path.join(pki, "switch.pem"), path.join(pki, "ca.pem")]);
    await vsctl(["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "--", "set-controller", "br0", `ssl:127.0.0.1:${port}`]);
    let connected = "";
    for (let i = 0; i < 100 && connected !== "true"; i++) {
      connected = await vsctl(["get", "controller", "br0", "is_connected"]);
      if (connected !== "true") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(connected, "true");
  } finally {
    tc.kill("SIGTERM");
    await sw.stop();
    fs.rmSync(sw.dir, { recursive: true, force: true });
    fs.rmSync(pki, { recursive: true, force: true });
  }
});
