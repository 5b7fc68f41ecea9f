/**
 * The connection manager with controllers speaking real OpenFlow over
 * sockets: a switch dialling a controller (tcp, with reconnect), a switch
 * listening (ptcp) for two controllers that fight over the primary role,
 * hello negotiation, echo keepalives and the inactivity probe, async
 * configuration and flow-removed messages.
 */
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeMessage, encodeMessage, makeHello, Match, OfpFramer, type OfpMessage } from "../../src/openflow/index.js";
import { Ofproto } from "../../src/ofproto/index.js";

/** A controller's end of one OpenFlow connection. */
class TestController {
  readonly received: OfpMessage[] = [];
  readonly raw: Uint8Array[] = [];
  private readonly framer = new OfpFramer();
  private waiters: { pred: (m: OfpMessage) => boolean; resolve: (m: OfpMessage) => void }[] = [];
  closed = false;
  private xid = 100;

  constructor(readonly sock: net.Socket, readonly version: number, private readonly autoEcho = true) {
    sock.on("data", (d) => {
      this.framer.push(d);
      for (let m = this.framer.next(); m !== null; m = this.framer.next()) {
        this.raw.push(m);
        const r = decodeMessage(m);
        if (!r.ok) continue;
        const msg = r.msg;
        if (msg.type === "OFPT_ECHO_REQUEST" && this.autoEcho) {
          this.send({ type: "OFPT_ECHO_REPLY", version: msg.version, xid: msg.xid, body: msg.body });
        }
        this.received.push(msg);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(msg)) return true;
          w.resolve(msg);
          return false;
        });
      }
    });
    sock.on("close", () => (this.closed = true));
    sock.on("error", () => undefined);
  }

  send(m: OfpMessage): void {
    this.sock.write(encodeMessage(m));
  }

  wait(pred: (m: OfpMessage) => boolean, what: string, ms = 5000): Promise<OfpMessage> {
    const have = this.received.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }

  /** Sends a request and waits for the message with its xid. */
  request(m: Omit<OfpMessage, "xid" | "version">): Promise<OfpMessage> {
    const xid = this.xid++;
    this.send({ ...m, xid, version: this.version } as OfpMessage);
    return this.wait((r) => r.xid === xid && r.type !== "OFPT_HELLO", `reply to ${m.type}`);
  }

  /** Sends a request that has no reply when it succeeds (a flow_mod). */
  cast(m: Omit<OfpMessage, "xid" | "version">): void {
    this.send({ ...m, xid: this.xid++, version: this.version } as OfpMessage);
  }

  close(): void {
    this.sock.destroy();
  }
}

function flowAdd(version: number, extra: Partial<Record<string, unknown>> = {}) {
  return {
    type: "OFPT_FLOW_MOD" as const,
    body: {
      command: 0, tableId: 0, match: new Match(), priority: 10, cookie: 0n, cookieMask: 0n, newCookie: 0x55n,
      idleTimeout: 0, hardTimeout: 0, importance: 0, bufferId: 0xffffffff, outPort: version === 1 ? 0xffff : 0xffff,
      outGroup: 0xffffffff, flags: 0, actions: [], ...extra,
    },
  };
}

/** Connects to `port` as a controller speaking `version` (hello sent at once). */
async function dial(port: number, version: number): Promise<TestController> {
  const sock = net.createConnection({ host: "127.0.0.1", port });
  await new Promise((r) => sock.once("connect", r));
  const c = new TestController(sock, version);
  c.send(makeHello(1 << version));
  await c.wait((m) => m.type === "OFPT_HELLO", "hello");
  return c;
}

function listenOnce(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

describe("connmgr", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("dials a tcp: controller, handshakes, answers features and echo, probes an idle controller", async () => {
    const server = net.createServer();
    const port = await listenOnce(server);
    cleanups.push(() => server.close());
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const sw = new Ofproto("br7", { datapathId: 0x1234n, expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: `tcp:127.0.0.1:${port}`, probeInterval: 1 }]);
    const c = new TestController(await accepted, 4);
    const hello = await c.wait((m) => m.type === "OFPT_HELLO", "switch hello");
    assert.equal(hello.version, 6, "the switch offers up to OpenFlow 1.5");
    c.send(makeHello(1 << 4));
    const f = await c.request({ type: "OFPT_FEATURES_REQUEST", body: {} });
    assert.equal(f.type, "OFPT_FEATURES_REPLY");
    if (f.type === "OFPT_FEATURES_REPLY") {
      assert.equal(f.body.datapathId, 0x1234n);
      assert.equal(f.body.nTables, 254);
    }
    const e = await c.request({ type: "OFPT_ECHO_REQUEST", body: { data: Uint8Array.of(1, 2, 3) } });
    assert.equal(e.type, "OFPT_ECHO_REPLY");
    if (e.type === "OFPT_ECHO_REPLY") assert.deepEqual([...e.body.data], [1, 2, 3]);
    // Idle for the probe interval: the switch sends an echo request (answered by the test controller).
    await c.wait((m) => m.type === "OFPT_ECHO_REQUEST", "inactivity probe", 4000);
    const st = sw.connmgr.controllerStatus()[0]!;
    assert.equal(st.isConnected, true);
    assert.equal(st.role, "other");
    assert.equal(st.state, "ACTIVE");
    assert.equal(c.closed, false);
    c.close();
  });

  it("drops a controller that does not answer the inactivity probe", async () => {
    const server = net.createServer();
    const port = await listenOnce(server);
    cleanups.push(() => server.close());
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const sw = new Ofproto("br8", { expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: `tcp:127.0.0.1:${port}`, probeInterval: 1 }]);
    const sock = await accepted;
    const c = new TestController(sock, 4, false);
    c.send(makeHello(1 << 4));
    await c.wait((m) => m.type === "OFPT_ECHO_REQUEST", "probe", 4000);
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      if (c.closed) return resolve();
      const t = setTimeout(() => reject(new Error("not disconnected")), 4000);
      sock.once("close", () => (clearTimeout(t), resolve()));
    });
    assert.ok(Date.now() - t0 < 3000);
    await new Promise((r) => setTimeout(r, 50));
    const st = sw.connmgr.controllerStatus()[0]!;
    assert.equal(st.isConnected, false);
    assert.notEqual(st.secSinceDisconnect, null);
  });

  it("redials a controller that was not there, with backoff", async () => {
    const probe = net.createServer();
    const port = await listenOnce(probe);
    await new Promise((r) => probe.close(r));
    const sw = new Ofproto("br9", { expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: `tcp:127.0.0.1:${port}` }]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sw.connmgr.controllerStatus()[0]!.state, "BACKOFF");
    const server = net.createServer();
    cleanups.push(() => server.close());
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    const sock = await Promise.race([accepted, new Promise<null>((r) => setTimeout(() => r(null), 4000))]);
    assert.ok(sock, "the switch reconnected within the backoff");
    const c = new TestController(sock!, 1);
    c.send(makeHello(1 << 1));
    const f = await c.request({ type: "OFPT_FEATURES_REQUEST", body: {} });
    assert.equal(f.type, "OFPT_FEATURES_REPLY");
    c.close();
  });

  it("unix: controllers are dialled and punix: listeners accept, each a controller connection", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsovs-cm-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const ctlPath = path.join(dir, "ctl.sock");
    const server = net.createServer();
    cleanups.push(() => server.close());
    await new Promise<void>((r) => server.listen(ctlPath, () => r()));
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const sw = new Ofproto("br16", { expiryTimer: false, datapathId: 0xabcn });
    cleanups.push(() => sw.close());
    const listenPath = path.join(dir, "br16.listen");
    await sw.connmgr.setControllers([{ target: `unix:${ctlPath}` }, { target: `punix:${listenPath}` }]);
    const c = new TestController(await accepted, 4);
    c.send(makeHello(1 << 4));
    const f = await c.request({ type: "OFPT_FEATURES_REQUEST", body: {} });
    if (f.type === "OFPT_FEATURES_REPLY") assert.equal(f.body.datapathId, 0xabcn);
    const sock = net.createConnection({ path: listenPath });
    await new Promise((r) => sock.once("connect", r));
    const d = new TestController(sock, 1);
    d.send(makeHello(1 << 1));
    const g = await d.request({ type: "OFPT_GET_CONFIG_REQUEST", body: {} });
    // A controller connection gets OFP_DEFAULT_MISS_SEND_LEN (128); ovs-ofctl on the .mgmt socket gets 0.
    if (g.type === "OFPT_GET_CONFIG_REPLY") assert.equal(g.body.missSendLen, 128);
    const st = sw.connmgr.controllerStatus();
    assert.deepEqual(st.map((x) => [x.target, x.isConnected]), [[`unix:${ctlPath}`, true], [`punix:${listenPath}`, true]]);
    // Removing the controllers closes their connections.
    await sw.connmgr.setControllers([]);
    await c.wait(() => c.closed, "close", 2000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.closed, true);
    assert.equal(d.closed, true);
    assert.equal(fs.existsSync(listenPath), false);
  });

  it("refuses a controller with no common version (hello failed)", async () => {
    const sw = new Ofproto("br10", { expiryTimer: false, allowedVersions: 1 << 4 });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: "ptcp:0:127.0.0.1" }]);
    const port = (sw.connmgr.listenAddress("ptcp:0:127.0.0.1") as net.AddressInfo).port;
    const sock = net.createConnection({ host: "127.0.0.1", port });
    const c = new TestController(sock, 1);
    c.send(makeHello(1 << 1));
    const err = await c.wait((m) => m.type === "OFPT_ERROR", "hello failed");
    if (err.type === "OFPT_ERROR") assert.equal(err.body.error, "OFPHFC_INCOMPATIBLE");
    await c.wait(() => c.closed, "close", 2000).catch(() => undefined);
  });

  it("roles: primary demotes the other primary, secondaries may not modify, stale generation ids are refused", async () => {
    const sw = new Ofproto("br11", { expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: "ptcp:0:127.0.0.1" }]);
    const port = (sw.connmgr.listenAddress("ptcp:0:127.0.0.1") as net.AddressInfo).port;
    const a = await dial(port, 4);
    const b = await dial(port, 4);
    cleanups.push(() => (a.close(), b.close()));

    let r = await a.request({ type: "OFPT_ROLE_REQUEST", body: { role: "primary", generationId: 10n } });
    assert.equal(r.type, "OFPT_ROLE_REPLY");
    if (r.type === "OFPT_ROLE_REPLY") assert.deepEqual(r.body, { role: "primary", generationId: 10n });
    r = await b.request({ type: "OFPT_ROLE_REQUEST", body: { role: "primary", generationId: 11n } });
    if (r.type === "OFPT_ROLE_REPLY") assert.equal(r.body.role, "primary");
    r = await a.request({ type: "OFPT_ROLE_REQUEST", body: { role: "nochange", generationId: null } });
    assert.equal(r.type, "OFPT_ROLE_REPLY");
    if (r.type === "OFPT_ROLE_REPLY") assert.deepEqual(r.body, { role: "secondary", generationId: 11n });

    // A secondary may read but not write.
    r = await a.request(flowAdd(4) as Omit<OfpMessage, "xid" | "version">);
    assert.equal(r.type, "OFPT_ERROR");
    if (r.type === "OFPT_ERROR") assert.equal(r.body.error, "OFPBRC_IS_SECONDARY");
    r = await a.request({ type: "OFPST_DESC_REQUEST", body: {} });
    assert.equal(r.type, "OFPST_DESC_REPLY");
    b.cast(flowAdd(4) as Omit<OfpMessage, "xid" | "version">);
    r = await b.request({ type: "OFPT_BARRIER_REQUEST", body: {} });
    assert.equal(r.type, "OFPT_BARRIER_REPLY");
    assert.equal(sw.tables.allRules().length, 1);

    // An older generation id is stale.
    r = await a.request({ type: "OFPT_ROLE_REQUEST", body: { role: "primary", generationId: 9n } });
    assert.equal(r.type, "OFPT_ERROR");
    if (r.type === "OFPT_ERROR") assert.equal(r.body.error, "OFPRRFC_STALE");
    // Equal needs no generation id and makes the connection writable again.
    r = await a.request({ type: "OFPT_ROLE_REQUEST", body: { role: "equal", generationId: 0n } });
    if (r.type === "OFPT_ROLE_REPLY") assert.equal(r.body.role, "equal");
    assert.deepEqual(sw.connmgr.controllerStatus()[0]!.nConnections, 2);
  });

  it("NXT role requests and the OpenFlow 1.0 connection", async () => {
    const sw = new Ofproto("br12", { expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: "ptcp:0:127.0.0.1" }]);
    const port = (sw.connmgr.listenAddress("ptcp:0:127.0.0.1") as net.AddressInfo).port;
    const a = await dial(port, 1);
    cleanups.push(() => a.close());
    const r = await a.request({ type: "NXT_ROLE_REQUEST", body: { role: "secondary" } });
    assert.equal(r.type, "NXT_ROLE_REPLY");
    if (r.type === "NXT_ROLE_REPLY") assert.equal(r.body.role, "secondary");
    const e = await a.request(flowAdd(1) as Omit<OfpMessage, "xid" | "version">);
    assert.equal(e.type, "OFPT_ERROR");
    // OpenFlow 1.0 has no "is secondary" code: OVS sends OFPBRC_EPERM's code.
    if (e.type === "OFPT_ERROR") assert.equal(e.body.error, "OFPBRC_EPERM");
  });

  it("async configuration and flow-removed messages", async () => {
    let clock = 1_000_000;
    const sw = new Ofproto("br13", { expiryTimer: false, now: () => clock });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: "ptcp:0:127.0.0.1" }]);
    const port = (sw.connmgr.listenAddress("ptcp:0:127.0.0.1") as net.AddressInfo).port;
    const a = await dial(port, 4);
    cleanups.push(() => a.close());
    const g = await a.request({ type: "OFPT_GET_ASYNC_REQUEST", body: {} });
    assert.equal(g.type, "OFPT_GET_ASYNC_REPLY");
    if (g.type === "OFPT_GET_ASYNC_REPLY") assert.deepEqual(g.body, { primary: [3, 7, 15, 0, 0, 0], secondary: [0, 7, 0, 0, 0, 0] });

    // send_flow_rem + hard timeout: a flow-removed message when it expires.
    a.cast(flowAdd(4, { hardTimeout: 5, flags: 1, priority: 33 }) as Omit<OfpMessage, "xid" | "version">);
    await a.request({ type: "OFPT_BARRIER_REQUEST", body: {} });
    clock += 6000;
    assert.equal(sw.expire().length, 1);
    const fr = await a.wait((m) => m.type === "OFPT_FLOW_REMOVED", "flow removed");
    if (fr.type === "OFPT_FLOW_REMOVED") {
      assert.equal(fr.body.reason, 1, "hard timeout");
      assert.equal(fr.body.priority, 33);
      assert.equal(fr.body.cookie, 0x55n);
      assert.equal(fr.body.durationSec, 6);
    }

    // Turn flow-removed off: a deleted flow is not reported.
    a.cast({ type: "OFPT_SET_ASYNC", body: { primary: [3, 7, 0, 0, 0, 0], secondary: [0, 7, 0, 0, 0, 0] } });
    a.cast(flowAdd(4, { flags: 1, priority: 34 }) as Omit<OfpMessage, "xid" | "version">);
    a.cast(flowAdd(4, { command: 3, tableId: 255, outPort: 0xffff }) as Omit<OfpMessage, "xid" | "version">);
    await a.request({ type: "OFPT_BARRIER_REQUEST", body: {} });
    assert.equal(a.received.filter((m) => m.type === "OFPT_FLOW_REMOVED").length, 1);
    assert.equal(sw.tables.allRules().length, 0);

    // Port status goes to controllers.
    sw.addPort({ name: "p5", ofpNo: 5, hwAddr: Uint8Array.of(2, 0, 0, 0, 0, 5) });
    const ps = await a.wait((m) => m.type === "OFPT_PORT_STATUS", "port status");
    if (ps.type === "OFPT_PORT_STATUS") assert.equal(ps.body.desc.name, "p5");
  });

  it("rate limits packet-ins with a token bucket", async () => {
    const sw = new Ofproto("br14", { expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: "ptcp:0:127.0.0.1", rateLimit: 100, burstLimit: 5 }]);
    const port = (sw.connmgr.listenAddress("ptcp:0:127.0.0.1") as net.AddressInfo).port;
    const a = await dial(port, 4);
    cleanups.push(() => a.close());
    await a.request({ type: "OFPT_BARRIER_REQUEST", body: {} });
    let sent = 0;
    for (let i = 0; i < 50; i++) {
      sent += sw.connmgr.sendPacketIn(0, 0, (c) => ({ type: "OFPT_ECHO_REQUEST", version: c.version, xid: 7000 + i, body: { data: new Uint8Array(0) } }));
    }
    assert.ok(sent >= 5 && sent <= 7, `burst of 5 (+ refill), got ${sent}`);
  });

  it("survives mutated messages on a live connection (no crash, no hang, still answers)", async () => {
    const sw = new Ofproto("br15", { expiryTimer: false });
    cleanups.push(() => sw.close());
    await sw.connmgr.setControllers([{ target: "ptcp:0:127.0.0.1", probeInterval: 0 }]);
    const port = (sw.connmgr.listenAddress("ptcp:0:127.0.0.1") as net.AddressInfo).port;
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (const version of [1, 4, 5]) {
      const c = await dial(port, version);
      const seeds: Uint8Array[] = [
        encodeMessage({ ...flowAdd(version, { priority: 7, idleTimeout: 3 }), version, xid: 1 } as OfpMessage),
        encodeMessage({ type: "OFPST_FLOW_REQUEST", version, xid: 2, body: { match: new Match(), tableId: 255, outPort: 0xffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n } }),
        encodeMessage({ type: "OFPST_PORT_REQUEST", version, xid: 3, body: { portNo: 0xffff } }),
        encodeMessage({ type: "OFPT_SET_CONFIG", version, xid: 4, body: { frag: 0, invalidTtlToController: false, missSendLen: 128 } }),
        encodeMessage({ type: "NXT_ROLE_REQUEST", version, xid: 5, body: { role: "equal" } }),
        encodeMessage({ type: "OFPT_ECHO_REQUEST", version, xid: 6, body: { data: new Uint8Array(8) } }),
      ];
      if (version >= 4) {
        seeds.push(encodeMessage({ type: version === 4 ? "ONFT_BUNDLE_CONTROL" : "OFPT_BUNDLE_CONTROL", version, xid: 7, body: { bundleId: 1, ctrlType: 0, flags: 0 } } as OfpMessage));
        seeds.push(encodeMessage({ type: "OFPT_GET_ASYNC_REQUEST", version, xid: 8, body: {} }));
        seeds.push(encodeMessage({ type: "OFPT_TABLE_MOD", version, xid: 9, body: { tableId: 1, miss: "default", eviction: false, evictionFlags: null, vacancy: false, vacancyProp: null } } as OfpMessage));
      }
      for (let i = 0; i < 1500; i++) {
        const base = seeds[rnd(seeds.length)]!;
        let m = base.slice();
        const n = 1 + rnd(4);
        for (let k = 0; k < n; k++) m[8 + rnd(Math.max(1, m.length - 8))] = rnd(256);
        if (rnd(5) === 0) m = m.slice(0, 8 + rnd(m.length - 7));
        if (rnd(8) === 0) {
          const longer = new Uint8Array(m.length + 8 * (1 + rnd(3)));
          longer.set(m);
          m = longer;
        }
        m[0] = version;
        m[2] = m.length >> 8;
        m[3] = m.length & 0xff;
        c.sock.write(m);
      }
      const r = await c.request({ type: "OFPT_BARRIER_REQUEST", body: {} });
      assert.equal(r.type, "OFPT_BARRIER_REPLY", `version ${version}: the connection still answers`);
      assert.equal(c.closed, false);
      c.close();
    }
    assert.equal(sw.counters.internalErrors, 0, "no request hit an exception");
  });
});
