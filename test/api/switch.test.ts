/**
 * The programmatic API as a user of the package sees it: everything comes
 * from the package entry (src/index.ts). A switch started in-process
 * learns MAC addresses under NORMAL, forwards and rewrites by a flow
 * table, separates VLAN access ports, and sends a packet-in to a
 * controller written here with the package's OpenFlow codec.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import {
  startSwitch, buildPacket, describePacket, encodeMessage, decodeMessage, OfpFramer, OFP10_VERSION,
  ReceiveTimeoutError, SwitchStateError, ToolError, type OfpMessage, type Switch,
} from "../../src/index.js";

const MAC1 = "50:54:00:00:00:01";
const MAC2 = "50:54:00:00:00:02";
const MAC3 = "50:54:00:00:00:03";
const BCAST = "ff:ff:ff:ff:ff:ff";

/** A UDP packet from `src` to `dst` (flow text for Port.send). */
function udp(src: string, dst: string, extra = ""): string {
  return `udp,dl_src=${src},dl_dst=${dst},nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1000,udp_dst=2000${extra}`;
}

/** Runs `fn` with a fresh switch, always stopped afterwards. */
async function withSwitch(fn: (sw: Switch) => Promise<void>): Promise<void> {
  const sw = await startSwitch();
  try {
    await fn(sw);
  } finally {
    await sw.stop();
  }
}

test("a NORMAL bridge floods an unknown destination, then delivers to the learned port only", { timeout: 30_000 }, async () => {
  await withSwitch(async (sw) => {
    const br = await sw.addBridge("br0");
    const p1 = await br.addPort("p1", { ofport: 1 });
    const p2 = await br.addPort("p2", { ofport: 2 });
    const p3 = await br.addPort("p3", { ofport: 3 });
    assert.deepEqual([p1.ofport, p2.ofport, p3.ofport], [1, 2, 3]);

    // MAC2 is unknown: flooded to p2 and p3, not back to p1.
    const first = buildPacket(udp(MAC1, MAC2));
    await p1.send(first);
    assert.deepEqual(await p2.receive(), first);
    assert.deepEqual(await p3.receive(), first);
    assert.equal(await p1.tryReceive({ timeoutMs: 20 }), null);

    // The reply goes to p1 only: MAC1 was learned there.
    await p2.send(udp(MAC2, MAC1));
    assert.match(describePacket(await p1.receive()), new RegExp(`dl_src=${MAC2},dl_dst=${MAC1}`));
    assert.equal(await p3.tryReceive({ timeoutMs: 20 }), null);

    // Now both are known: p1 -> p2 is unicast, p3 sees nothing.
    await p1.send(udp(MAC1, MAC2));
    assert.match(describePacket(await p2.receive()), new RegExp(`dl_src=${MAC1},dl_dst=${MAC2}`));
    assert.equal(await p3.tryReceive({ timeoutMs: 20 }), null);

    const fdb = await sw.appctl("fdb/show", "br0");
    assert.match(fdb, new RegExp(`^\\s+1\\s+0\\s+${MAC1}\\s+\\d+$`, "m"));
    assert.match(fdb, new RegExp(`^\\s+2\\s+0\\s+${MAC2}\\s+\\d+$`, "m"));
  });
});

test("a flow table forwards and rewrites; the trace and the flow dump say so", { timeout: 30_000 }, async () => {
  await withSwitch(async (sw) => {
    const br = await sw.addBridge("br0", { failMode: "secure" });
    const p1 = await br.addPort("p1", { ofport: 1 });
    const p2 = await br.addPort("p2", { ofport: 2 });
    const p3 = await br.addPort("p3", { ofport: 3 });
    await br.addFlows([
      "priority=100,in_port=1,udp,udp_dst=2000,actions=mod_dl_dst:" + MAC3 + ",mod_nw_dst:192.168.1.9,mod_tp_dst:53,output:3",
      "priority=50,in_port=1,actions=output:2",
      "priority=0,actions=drop",
    ]);
    const flows = await br.dumpFlows();
    assert.equal(flows.length, 3);
    assert.ok(flows.some((f) => f.includes("actions=mod_dl_dst:" + MAC3)), flows.join("\n"));

    await p1.send(udp(MAC1, MAC2));
    const out = describePacket(await p3.receive());
    assert.match(out, new RegExp(`dl_dst=${MAC3}`));
    assert.match(out, /nw_dst=192\.168\.1\.9/);
    assert.match(out, /tp_dst=53/);
    assert.equal(await p2.tryReceive({ timeoutMs: 20 }), null);

    // Not UDP port 2000: the lower-priority flow sends it to p2 unchanged.
    const other = buildPacket(udp(MAC1, MAC2).replace("udp_dst=2000", "udp_dst=7"));
    await p1.send(other);
    assert.deepEqual(await p2.receive(), other);
    // From p2 nothing matches but the drop flow.
    await p2.send(udp(MAC2, MAC1));
    assert.equal(await p1.tryReceive({ timeoutMs: 20 }), null);

    const trace = await br.trace("in_port=1,udp,udp_dst=2000");
    assert.match(trace, /^Datapath actions: .*set\(udp\(dst=53\)\).*,3$/m);

    await br.delFlows("in_port=1,udp,udp_dst=2000");
    assert.equal((await br.dumpFlows()).length, 2);
  });
});

test("VLAN access ports separate traffic; a trunk port carries it tagged", { timeout: 30_000 }, async () => {
  await withSwitch(async (sw) => {
    const br = await sw.addBridge("br0");
    const a10 = await br.addPort("p1", { ofport: 1, tag: 10 });
    const a20 = await br.addPort("p2", { ofport: 2, tag: 20 });
    const b10 = await br.addPort("p3", { ofport: 3, tag: 10 });
    const trunk = await br.addPort("p4", { ofport: 4, trunks: [10, 20] });

    await a10.send(udp(MAC1, BCAST));
    assert.doesNotMatch(describePacket(await b10.receive()), /dl_vlan/);
    assert.match(describePacket(await trunk.receive()), /dl_vlan=10,/);
    assert.equal(await a20.tryReceive({ timeoutMs: 20 }), null);

    // Tagged 20 on the trunk: only the VLAN 20 access port, untagged.
    await trunk.send(udp(MAC2, BCAST, ",dl_vlan=20"));
    assert.doesNotMatch(describePacket(await a20.receive()), /dl_vlan/);
    assert.equal(await a10.tryReceive({ timeoutMs: 20 }), null);
    assert.equal(await b10.tryReceive({ timeoutMs: 20 }), null);

    // Retagging through vsctl moves p3 to VLAN 20.
    await sw.vsctl(["set", "port", "p3", "tag=20"]);
    await a20.send(udp(MAC3, BCAST));
    assert.ok((await b10.receive()).length > 0);
    assert.equal(await a10.tryReceive({ timeoutMs: 20 }), null);
    assert.match(describePacket(await trunk.receive()), /dl_vlan=20,/);
    assert.deepEqual(trunk.takeAll(), []);
  });
});

/** An OpenFlow 1.0 controller: accepts one connection, answers hellos and echoes, queues the rest. */
class TestController {
  readonly server = net.createServer();
  private sock: net.Socket | null = null;
  private readonly framer = new OfpFramer();
  private readonly queue: OfpMessage[] = [];
  private waiter: (() => void) | null = null;

  async listen(): Promise<number> {
    this.server.on("connection", (s) => {
      this.sock = s;
      s.write(encodeMessage({ type: "OFPT_HELLO", version: OFP10_VERSION, xid: 1, body: { versions: 1 << OFP10_VERSION } } as OfpMessage));
      s.on("data", (d: Buffer) => {
        this.framer.push(d);
        for (let m = this.framer.next(); m !== null; m = this.framer.next()) this.onMessage(m);
      });
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return (this.server.address() as net.AddressInfo).port;
  }

  private onMessage(bytes: Uint8Array): void {
    const d = decodeMessage(bytes);
    if (!d.ok) return;
    if (d.msg.type === "OFPT_ECHO_REQUEST") {
      this.sock?.write(encodeMessage({ ...d.msg, type: "OFPT_ECHO_REPLY" } as OfpMessage));
      return;
    }
    this.queue.push(d.msg);
    this.waiter?.();
  }

  /** The next message of `type`, skipping others. */
  async next(type: string, timeoutMs = 5000): Promise<OfpMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((m) => m.type === type);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`controller: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  close(): void {
    this.sock?.destroy();
    this.server.close();
  }
}

test("a controller of a fail_mode=secure bridge receives the packet-in of a table miss", { timeout: 30_000 }, async () => {
  const ctl = new TestController();
  const port = await ctl.listen();
  try {
    await withSwitch(async (sw) => {
      const br = await sw.addBridge("br0", { failMode: "secure", controllers: [`tcp:127.0.0.1:${port}`], protocols: ["OpenFlow10"] });
      const p1 = await br.addPort("p1", { ofport: 1 });
      await br.addPort("p2", { ofport: 2 });
      await ctl.next("OFPT_HELLO");
      // Connected: the Controller row says so once the status is written back.
      const deadline = Date.now() + 5000;
      while ((await sw.vsctl(["get", "controller", "br0", "is_connected"])).trim() !== "true") {
        assert.ok(Date.now() < deadline, "controller never connected");
        await new Promise((r) => setTimeout(r, 50));
      }
      const frame = buildPacket(udp(MAC1, MAC2));
      await p1.send(frame);
      const pin = await ctl.next("OFPT_PACKET_IN");
      assert.equal(pin.type, "OFPT_PACKET_IN");
      const body = (pin as Extract<OfpMessage, { type: "OFPT_PACKET_IN" }>).body;
      assert.deepEqual(body.packet, frame);
      assert.equal(body.totalLen, frame.length);
      // secure mode: nothing was forwarded on its own.
      assert.equal(await sw.port("p2").tryReceive({ timeoutMs: 20 }), null);
    });
  } finally {
    ctl.close();
  }
});

test("errors are the tools' own; one switch per process; stop is idempotent", { timeout: 30_000 }, async () => {
  const sw = await startSwitch();
  try {
    await assert.rejects(startSwitch(), SwitchStateError);
    await assert.rejects(sw.vsctl(["add-port", "nobr", "p1"]), (e: unknown) => e instanceof ToolError && /no bridge named nobr/.test(e.stderr));
    await assert.rejects(sw.appctl("no/such-command"), (e: unknown) => e instanceof ToolError && /is not a valid command/.test(e.message));
    const br = await sw.addBridge("br0");
    await assert.rejects(br.addFlows(["in_port=1,actions=frobnicate"]), ToolError);
    const p1 = await br.addPort("p1");
    await assert.rejects(p1.receive({ timeoutMs: 30 }), ReceiveTimeoutError);
    assert.throws(() => buildPacket("udp,nw_dst=1.2.3"), /1\.2\.3: invalid IP address/);
    assert.equal(buildPacket("udp", { len: 100 }).length, 100);
    assert.match(describePacket(buildPacket("udp", { payload: new Uint8Array(10) })), /^udp,.* udp_csum:/);
  } finally {
    await sw.stop();
    await sw.stop();
  }
  assert.equal(sw.running, false);
  await assert.rejects(sw.vsctl(["show"]), SwitchStateError);
});
