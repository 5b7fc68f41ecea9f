/**
 * The bridge layer against a real (tsovs, in-process) database server,
 * configured with `tsovs vsctl` (which waits for cur_cfg as ovs-vsctl
 * does), with a fake ofproto-dpif bridge that records what it is asked:
 * ports and VLAN modes, fake bridges, the bridge address and datapath ID,
 * the standalone NORMAL flow and its flushes, controllers, Flow_Table
 * settings, and the status written back.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BridgeDpConfig, BundleConfig, DpifBridgeApi, IfaceStatus, XBridge } from "../../src/ofproto/xlate-types.js";
import { Ofproto } from "../../src/ofproto/ofproto.js";
import { OFPP_LOCAL, OFPP_NORMAL } from "../../src/openflow/ofp-codec.js";
import { parseArgs, startOvsdbServer, type RunningOvsdbServer } from "../../src/cli/ovsdb-server.js";
import { Bridges } from "../../src/vswitchd/bridge.js";
import { tsovsVsctlInProcess } from "../util/vsctl.js";
import { tempDir } from "../util/ovs.js";

class FakeBridge implements DpifBridgeApi {
  readonly ofproto: Ofproto;
  readonly xbridge = {} as XBridge;
  bundles: BundleConfig[] = [];
  config: BridgeDpConfig = {};
  closed = false;
  private readonly ofports = new Map<string, number>();
  private nextOfport = 1;

  constructor(readonly name: string, readonly datapathType: string) {
    this.ofproto = new Ofproto(name, { expiryTimer: false });
  }

  setBundles(bundles: readonly BundleConfig[]): void {
    this.bundles = bundles.map((b) => ({ ...b, ifaces: b.ifaces.map((i) => ({ ...i })) }));
    const names = new Set<string>();
    for (const b of bundles) {
      for (const i of b.ifaces) {
        names.add(i.name);
        if (i.name === this.name) {
          if (i.mac !== undefined) this.ofproto.ports.get(OFPP_LOCAL)!.hwAddr = Uint8Array.from(i.mac);
          continue;
        }
        if (!this.ofports.has(i.name)) {
          let no = i.ofportRequest ?? this.nextOfport++;
          while ([...this.ofports.values()].includes(no)) no = this.nextOfport++;
          this.ofports.set(i.name, no);
        }
      }
    }
    for (const n of [...this.ofports.keys()]) if (!names.has(n)) this.ofports.delete(n);
  }

  setConfig(cfg: BridgeDpConfig): void {
    this.config = cfg;
  }

  private iface(name: string) {
    for (const b of this.bundles) for (const i of b.ifaces) if (i.name === name) return i;
    return null;
  }

  ifaceStatus(name: string): IfaceStatus | null {
    const cfg = this.iface(name);
    if (name === this.name) {
      return { ofport: OFPP_LOCAL, error: null, adminState: "up", linkState: "up", macInUse: this.ofproto.ports.get(OFPP_LOCAL)!.hwAddr, mtu: 1500, statistics: { rx_packets: 0 } };
    }
    if (cfg === null) return null;
    if (cfg.type === "nonexistent") {
      return { ofport: -1, error: `could not open network device ${name} (Address family not supported by protocol)`, adminState: "down", linkState: "down", macInUse: new Uint8Array(6), mtu: 0, statistics: {} };
    }
    const n = this.ofports.get(name)!;
    return { ofport: n, error: null, adminState: "up", linkState: "up", macInUse: Uint8Array.of(0x00, 0x11, 0x22, 0x33, 0x44, n), mtu: 1500, statistics: { rx_packets: n, tx_packets: 0 } };
  }

  close(): void {
    this.closed = true;
    this.ofproto.close();
  }

  bundle(name: string): BundleConfig | undefined {
    return this.bundles.find((b) => b.name === name);
  }

  normalFlows(): number {
    return this.ofproto.tables.allRules().filter((r) => r.priority === 0 && JSON.stringify(r.actions).includes(String(OFPP_NORMAL))).length;
  }
}

let dir: string;
let server: RunningOvsdbServer;
let bridges: Bridges;
const opened = new Map<string, FakeBridge>();
let remote: string;
let serverCfg: Parameters<typeof startOvsdbServer>[0];

async function vsctl(...args: string[]): Promise<string> {
  const r = await tsovsVsctlInProcess(remote, ["--timeout=10", ...args]);
  assert.equal(r.status, 0, `vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dir = tempDir("vswitchd-bridge-");
  const sock = path.join(dir, "db.sock");
  remote = `unix:${sock}`;
  const cfg = parseArgs([`--remote=punix:${sock}`, "--unixctl=none", path.join(dir, "conf.db")]);
  assert.notEqual(typeof cfg, "number");
  serverCfg = cfg as Exclude<typeof cfg, number>;
  server = await startOvsdbServer(serverCfg);
  await tsovsVsctlInProcess(remote, ["--no-wait", "init"]);
  bridges = new Bridges({
    remote,
    dummy: "override",
    rundir: dir,
    statusIntervalMs: 200,
    backoffMinMs: 100,
    openBridge: (name, type) => {
      const b = new FakeBridge(name, type);
      opened.set(name, b);
      return b;
    },
  });
  bridges.start();
});

after(async () => {
  await bridges.close();
  await server.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("add-br opens a bridge, writes cur_cfg and the local interface's status", async () => {
  await vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
  const br = opened.get("br0")!;
  assert.equal(br.datapathType, "dummy");
  assert.deepEqual(br.bundle("br0")?.ifaces.map((i) => [i.name, i.type]), [["br0", "internal"]]);
  const [cur, next] = (await vsctl("get", "Open_vSwitch", ".", "cur_cfg", "next_cfg")).trim().split("\n");
  assert.equal(cur, next);
  assert.equal((await vsctl("get", "Interface", "br0", "ofport")).trim(), "65534");
  assert.equal((await vsctl("get", "Bridge", "br0", "datapath_version")).trim(), '"<built-in>"');
  const dpid = JSON.parse((await vsctl("get", "Bridge", "br0", "datapath_id")).trim()) as string;
  assert.equal(BigInt(`0x${dpid}`), br.ofproto.datapathId);
  assert.match(await vsctl("get", "Open_vSwitch", ".", "datapath_types"), /dummy, netdev, system/);
  // Standalone and no controller: the NORMAL flow.
  assert.equal(br.normalFlows(), 1);
  // The management socket.
  assert.ok(fs.existsSync(path.join(dir, "br0.mgmt")));
});

test("ports: ofport_request, VLAN mode resolution, qinq, protected", async () => {
  await vsctl("add-port", "br0", "p1", "--", "set", "Interface", "p1", "ofport_request=5", "type=dummy");
  await vsctl("add-port", "br0", "p2", "tag=10");
  await vsctl("add-port", "br0", "p3", "trunks=10,20");
  await vsctl("add-port", "br0", "p4", "tag=7", "vlan_mode=native-untagged", "trunks=8", "protected=true");
  await vsctl("add-port", "br0", "p5", "tag=9", "trunks=1,2");
  await vsctl("add-port", "br0", "p6", "vlan_mode=dot1q-tunnel", "tag=4", "cvlans=5,6", "other_config:qinq-ethtype=802.1q");
  const br = opened.get("br0")!;
  const pick = (n: string) => {
    const b = br.bundle(n)!;
    return [b.vlanMode, b.tag, b.trunks, b.cvlans, b.qinqEthtype.toString(16), b.protected];
  };
  assert.deepEqual(pick("p1"), ["trunk", -1, null, null, "88a8", false]);
  assert.deepEqual(pick("p2"), ["access", 10, null, null, "88a8", false]);
  assert.deepEqual(pick("p3"), ["trunk", -1, [10, 20], null, "88a8", false]);
  assert.deepEqual(pick("p4"), ["native-untagged", 7, [8], null, "88a8", true]);
  // An implicit access port keeps its trunks list (ignored by NORMAL, as OVS warns).
  assert.deepEqual(pick("p5"), ["access", 9, [1, 2], null, "88a8", false]);
  assert.deepEqual(pick("p6"), ["dot1q-tunnel", 4, null, [5, 6], "8100", false]);
  assert.equal(br.bundle("p1")!.ifaces[0]!.ofportRequest, 5);
  assert.equal((await vsctl("get", "Interface", "p1", "ofport")).trim(), "5");
  assert.equal((await vsctl("get", "Interface", "p1", "mac_in_use")).trim(), '"00:11:22:33:44:05"');
  assert.equal((await vsctl("get", "Interface", "p1", "link_state")).trim(), "up");
  assert.match(await vsctl("get", "Interface", "p1", "statistics"), /rx_packets=5/);
});

test("the bridge address is the lowest universal interface address; datapath-id and hwaddr override", async () => {
  const br = opened.get("br0")!;
  // Fake interface addresses are 00:11:22:33:44:<ofport>: the lowest is p2's (ofport 1).
  await vsctl("add-port", "br0", "p7");
  const mac = Array.from(br.ofproto.ports.get(OFPP_LOCAL)!.hwAddr);
  assert.deepEqual(mac, [0x00, 0x11, 0x22, 0x33, 0x44, 1]);
  assert.equal(br.ofproto.datapathId, 0x001122334401n);
  await vsctl("set", "bridge", "br0", "other_config:hwaddr=02:00:00:00:00:99");
  assert.deepEqual(Array.from(br.ofproto.ports.get(OFPP_LOCAL)!.hwAddr), [2, 0, 0, 0, 0, 0x99]);
  assert.equal((await vsctl("get", "Bridge", "br0", "datapath_id")).trim(), '"0000020000000099"');
  await vsctl("set", "bridge", "br0", "other_config:datapath-id=00000000000000aa");
  assert.equal(br.ofproto.datapathId, 0xaan);
  assert.equal((await vsctl("get", "Bridge", "br0", "datapath_id")).trim(), '"00000000000000aa"');
});

test("fake bridges are access ports whose internal interface has the bridge address", async () => {
  await vsctl("add-br", "fk", "br0", "20");
  const br = opened.get("br0")!;
  assert.equal(opened.has("fk"), false, "a fake bridge is no bridge of its own");
  const b = br.bundle("fk")!;
  assert.equal(b.vlanMode, "access");
  assert.equal(b.tag, 20);
  assert.deepEqual(Array.from(b.ifaces[0]!.mac ?? []), [2, 0, 0, 0, 0, 0x99]);
});

test("Interface.mac (internal interfaces only) and mtu_request reach the interface configuration", async () => {
  await vsctl("add-port", "br0", "int1", "--", "set", "Interface", "int1", "type=internal", 'mac="00:00:00:00:00:aa"', "mtu_request=9000");
  await vsctl("add-port", "br0", "d1", "--", "set", "Interface", "d1", "type=dummy", 'mac="00:00:00:00:00:bb"');
  const br = opened.get("br0")!;
  const int1 = br.bundle("int1")!.ifaces[0]!;
  assert.deepEqual([Array.from(int1.mac ?? []), int1.mtuRequest], [[0, 0, 0, 0, 0, 0xaa], 9000]);
  assert.equal(br.bundle("d1")!.ifaces[0]!.mac, undefined);
  await vsctl("del-port", "br0", "int1", "--", "del-port", "br0", "d1");
});

test("an interface that cannot be opened gets ofport -1 and its error", async () => {
  const r = await tsovsVsctlInProcess(remote, ["--timeout=10", "add-port", "br0", "bad", "--", "set", "Interface", "bad", "type=nonexistent"]);
  assert.match(r.stderr, /Error detected while setting up 'bad'/);
  assert.equal((await vsctl("get", "Interface", "bad", "ofport")).trim(), "-1");
  assert.match(await vsctl("get", "Interface", "bad", "error"), /could not open network device bad/);
  await vsctl("del-port", "br0", "bad");
});

test("fail mode and controllers flush flows as OVS does; controller status is written", async () => {
  const br = opened.get("br0")!;
  await vsctl("set-fail-mode", "br0", "secure");
  assert.equal(br.normalFlows(), 0);
  await vsctl("set-fail-mode", "br0", "standalone");
  assert.equal(br.normalFlows(), 1);
  await vsctl("set-controller", "br0", "tcp:127.0.0.1:1");
  assert.equal(br.normalFlows(), 0, "gaining a controller flushes the NORMAL flow");
  assert.deepEqual(br.ofproto.connmgr.controllerStatus().map((s) => s.target), ["tcp:127.0.0.1:1"]);
  // The status pass writes the connection state.
  const deadline = Date.now() + 5000;
  let status = "";
  while (Date.now() < deadline) {
    status = await vsctl("get", "Controller", ".", "status");
    if (/state=/.test(status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(status, /state=(BACKOFF|CONNECTING)/);
  assert.equal((await vsctl("get", "Controller", ".", "is_connected")).trim(), "false");
  await vsctl("del-controller", "br0");
  assert.equal(br.normalFlows(), 1, "losing the last controller restores it");
  assert.deepEqual(br.ofproto.connmgr.controllerStatus(), []);
});

test("Flow_Table rows configure tables; other_config knobs reach ofproto-dpif", async () => {
  const br = opened.get("br0")!;
  await vsctl("--", "--id=@ft", "create", "Flow_Table", "name=first", "flow_limit=10", "overflow_policy=evict", 'groups="NXM_OF_IN_PORT[]"',
    "--", "set", "bridge", "br0", "flow_tables:0=@ft");
  const t = br.ofproto.tables.tables[0]!;
  assert.deepEqual([t.config.name, t.config.flowLimit, t.config.overflowPolicy, t.config.groups], ["first", 10, "evict", ["NXM_OF_IN_PORT[]"]]);
  await vsctl("clear", "bridge", "br0", "flow_tables");
  assert.deepEqual([t.config.name, t.config.flowLimit], [null, null]);
  await vsctl("set", "bridge", "br0", "other_config:mac-aging-time=60", "other_config:mac-table-size=100", "other_config:forward-bpdu=true", "flood_vlans=20,10");
  assert.deepEqual(br.config, { macAgingTime: 60, macTableSize: 100, forwardBpdu: true, floodVlans: [10, 20] });
});

test("del-port and del-br take effect; a changed datapath type reopens the bridge", async () => {
  const br = opened.get("br0")!;
  await vsctl("del-port", "br0", "p2");
  assert.equal(br.bundle("p2"), undefined);
  await vsctl("add-br", "br1");
  const br1 = opened.get("br1")!;
  assert.equal(br1.datapathType, "system");
  await vsctl("set", "bridge", "br1", "datapath_type=netdev");
  assert.equal(br1.closed, true);
  assert.equal(opened.get("br1")!.datapathType, "netdev");
  await vsctl("del-br", "br1");
  assert.equal(opened.get("br1")!.closed, true);
  assert.deepEqual([...bridges.bridges.keys()], ["br0"]);
  assert.equal(br.closed, false);
});

test("the bridges survive a database restart and follow it again after reconnecting", async () => {
  const br = opened.get("br0")!;
  await server.shutdown();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(br.closed, false, "bridges keep running without the database");
  server = await startOvsdbServer(serverCfg);
  await vsctl("add-br", "br5");
  assert.ok(opened.has("br5"));
  assert.deepEqual([...bridges.bridges.keys()].sort(), ["br0", "br5"]);
  assert.equal(opened.get("br0"), br, "the running bridge was kept, not reopened");
});
