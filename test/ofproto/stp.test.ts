/**
 * The 802.1D engine (src/ofproto/stp.ts) on its own: bridges wired
 * together in memory exchange BPDUs; a triangle elects the lowest bridge
 * id as root and blocks exactly one port; a lost link heals after max age;
 * bad BPDUs are counted as errors; timers clamp as 802.1D (and OVS) say.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Stp, STP_BLOCKING, STP_FORWARDING, STP_LISTENING, stpIdText, ticksToMs, type StpPort } from "../../src/ofproto/stp.js";

/** Bridges whose ports are joined by links; time advances in 100 ms steps. */
class Net {
  readonly bridges: Stp[] = [];
  /** [bridge, port] -> [bridge, port]. */
  private readonly links = new Map<string, [number, number]>();
  private readonly cut = new Set<string>();

  add(mac: number): Stp {
    const i = this.bridges.length;
    const s = new Stp(`br${i}`, BigInt(mac), {
      send: (no, bpdu) => this.deliver(i, no, bpdu),
    });
    this.bridges.push(s);
    return s;
  }

  link(a: number, pa: number, b: number, pb: number): void {
    this.links.set(`${a}.${pa}`, [b, pb]);
    this.links.set(`${b}.${pb}`, [a, pa]);
    this.bridges[a]!.enablePort(this.bridges[a]!.ports[pa]!);
    this.bridges[b]!.enablePort(this.bridges[b]!.ports[pb]!);
  }

  unlink(a: number, pa: number): void {
    this.cut.add(`${a}.${pa}`);
    const [b, pb] = this.links.get(`${a}.${pa}`)!;
    this.cut.add(`${b}.${pb}`);
  }

  private deliver(from: number, port: number, bpdu: Uint8Array): void {
    const key = `${from}.${port}`;
    const to = this.links.get(key);
    if (to === undefined || this.cut.has(key)) return;
    const [b, pb] = to;
    const s = this.bridges[b]!;
    // Delivered after the sender's turn, as a real link would.
    queueMicrotask(() => s.receivedBpdu(s.ports[pb]!, bpdu.slice()));
  }

  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      for (const s of this.bridges) s.tick(100);
      await new Promise((r) => setImmediate(r));
    }
  }
}

const state = (p: StpPort) => p.state;

test("a triangle elects the lowest id as root and blocks one port; a cut link heals after max age", async () => {
  const net = new Net();
  const [a, b, c] = [net.add(0x10), net.add(0x20), net.add(0x30)];
  net.link(0, 0, 1, 0);
  net.link(1, 1, 2, 0);
  net.link(2, 1, 0, 1);
  await net.run(500);
  for (const s of [a, b, c]) assert.equal(s.designatedRoot, a.bridgeId, `${s.name} follows the lowest id`);
  assert.equal(a.isRootBridge(), true);
  assert.equal(stpIdText(a.bridgeId), "8000.000000000010");
  assert.equal(state(a.ports[0]!), STP_LISTENING);

  await net.run(31_000);
  // Root ports and designated ports forward; the b-c link is blocked at c (the higher id).
  assert.deepEqual([a.ports[0]!, a.ports[1]!, b.ports[0]!, b.ports[1]!, c.ports[1]!].map(state), Array(5).fill(STP_FORWARDING));
  assert.equal(state(c.ports[0]!), STP_BLOCKING);
  assert.equal(c.role(c.ports[0]!), "alternate");
  assert.equal(c.rootPort, c.ports[1]);
  assert.equal(b.rootPathCost, 19);

  // c loses its root port: after max age (20 s) and two forward delays it uses the b link.
  net.unlink(2, 1);
  await net.run(21_000);
  assert.equal(c.rootPort, c.ports[0], "the alternate port becomes the root port");
  assert.equal(c.rootPathCost, 38);
  await net.run(31_000);
  assert.equal(state(c.ports[0]!), STP_FORWARDING);
  assert.ok(a.ports[0]!.txCount > 20 && c.ports[0]!.rxCount > 20);
});

test("bad BPDUs are errors; timers are clamped to 802.1D's ranges", () => {
  const s = new Stp("br", 0x1n, { send: () => undefined });
  const p = s.ports[0]!;
  s.enablePort(p);
  s.receivedBpdu(p, Uint8Array.of(0, 0));
  s.receivedBpdu(p, Uint8Array.of(0, 1, 0, 0));
  s.receivedBpdu(p, Uint8Array.of(0, 0, 0, 0x42));
  s.receivedBpdu(p, new Uint8Array(20));
  assert.equal(p.errorCount, 4);
  assert.equal(p.rxCount, 0);

  s.setForwardDelay(4000);
  assert.equal(ticksToMs(s.bridgeForwardDelay), 11000, "forward delay >= max age / 2 + 1 s");
  s.setHelloTime(50);
  assert.equal(ticksToMs(s.bridgeHelloTime), 1000);
  s.setMaxAge(100_000);
  assert.equal(ticksToMs(s.bridgeMaxAge), 40000);
});
