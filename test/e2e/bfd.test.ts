/**
 * BFD against OVS 3.1, through the real tools only (as OVS's own
 * tests/bfd.at): two bridges joined by patch ports p0–p1 with
 * bfd:enable=true on both ends, on `tsovs start` and on ovsdb-server +
 * ovs-vswitchd (dummy datapath), the clock stopped and warped in the same
 * 100 ms steps on both. `bfd/show` (without the random discriminators and
 * the jittered transmit times) and Interface.bfd_status must be the same
 * through bring-up, a forced forwarding change, one end going away and
 * coming back, cpath_down, changed intervals and decay; so must the
 * errors, list-commands and the traces of BFD and other UDP packets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { readPcap } from "../../src/packet/pcap.js";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, type Switch, withOvsAndTsovs } from "../util/vswitchd.js";
import { agreedActions, appctl, fastFailoverSetup, patchPairSetup, vsctl, warp } from "../util/monitor.js";

const SETUP = patchPairSetup([
  "--", "set", "interface", "p0", "bfd:enable=true", "--", "set", "interface", "p1", "bfd:enable=true",
]);

/** bfd/show of one interface without what is random (discriminators, jittered times). */
async function show(sw: Switch, iface: string): Promise<string> {
  const text = await appctl(sw, "bfd/show", iface);
  return text.split("\n").filter((l) => !/Time:|Discriminator/.test(l)).join("\n");
}

/**
 * ofproto/trace on br0, with a flood's output ports sorted: OVS floods
 * in the order of its Port rows' random uuids.
 */
async function trace(sw: Switch, flow: string): Promise<string> {
  const text = await appctl(sw, "ofproto/trace", "br0", flow);
  return text.replace(/^Datapath actions: ([\d,]+)$/m, (_l, ports: string) => `Datapath actions: ${ports.split(",").sort().join(",")}`);
}

test("BFD between two bridges behaves as OVS 3.1's: bfd/show, bfd_status, set-forwarding, peer loss, cpath_down, intervals, decay", { skip: ovsSkip(), timeout: 240_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    for (const sw of sws) {
      assert.equal(await appctl(sw, "time/stop"), "");
      await vsctl(sw, ...SETUP);
    }
    const both = async (f: (sw: Switch) => Promise<string>) => [await f(ovs), await f(ts)] as const;
    const same = async (what: string, f: (sw: Switch) => Promise<string>): Promise<string> => {
      const [a, b] = await both(f);
      assert.equal(b, a, what);
      return a;
    };
    /** Interface.bfd_status of both ends once each switch has written it. */
    const status = async (what: string, want: RegExp): Promise<void> => {
      const get = async (sw: Switch) => (await vsctl(sw, "get", "interface", "p0", "bfd_status")) + (await vsctl(sw, "get", "interface", "p1", "bfd_status"));
      let a = "";
      let b = "";
      for (let i = 0; i < 40; i++) {
        [a, b] = await both(get);
        if (a === b && want.test(a)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(a, want, `${what}: OVS's bfd_status`);
      assert.equal(b, a, `${what}: bfd_status`);
    };

    // Bring-up (not compared before: whether the first packet finds its peer ready is a race in OVS).
    await warp(sws, 41);
    for (const i of ["p0", "p1"]) assert.match(await same(`bfd/show ${i} after bring-up`, (sw) => show(sw, i)), /Local Session State: up/);
    await status("up", /flap_count="1", forwarding="true".*state=up.*\n.*state=up/);

    // A forced forwarding flag, then back to normal.
    assert.equal(await same("set-forwarding p0 false", (sw) => appctl(sw, "bfd/set-forwarding", "p0", "false")), "OK\n");
    await same("bfd/show p0 forced", (sw) => show(sw, "p0"));
    await status("forced", /forwarding="false"/);
    await same("set-forwarding normal", (sw) => appctl(sw, "bfd/set-forwarding", "normal"));
    await warp(sws, 2);
    await same("bfd/show p0 normal", (sw) => show(sw, "p0"));
    await status("normal again", /flap_count="1", forwarding="true".*\n.*forwarding="true"/);

    // One end goes away: the other's detection time expires.
    for (const sw of sws) await vsctl(sw, "set", "interface", "p0", "bfd:enable=false");
    await same("bfd/show p0 disabled", (sw) => appctl(sw, "bfd/show", "p0"));
    await warp(sws, 41);
    assert.match(await same("bfd/show p1 after p0 left", (sw) => show(sw, "p1")), /Local Diagnostic: Control Detection Time Expired/);
    await status("p0 gone", /^\{\}\n.*state=down/);

    // It comes back.
    for (const sw of sws) await vsctl(sw, "set", "interface", "p0", "bfd:enable=true");
    await warp(sws, 41);
    for (const i of ["p0", "p1"]) await same(`bfd/show ${i} back`, (sw) => show(sw, i));
    await status("back", /remote_diagnostic="Control Detection Time Expired"/);

    // Concatenated path down on p0: p1 stops forwarding.
    for (const sw of sws) await vsctl(sw, "set", "interface", "p0", "bfd:cpath_down=true");
    await warp(sws, 41);
    assert.match(await same("bfd/show p1 cpath_down", (sw) => show(sw, "p1")), /Forwarding: false/);
    await same("bfd/show p0 cpath_down", (sw) => show(sw, "p0"));
    for (const sw of sws) await vsctl(sw, "remove", "interface", "p0", "bfd", "cpath_down");
    await warp(sws, 41);

    // New intervals, negotiated by poll sequences.
    for (const sw of sws) await vsctl(sw, "set", "interface", "p0", "bfd:min_tx=200");
    await warp(sws, 21);
    for (const i of ["p0", "p1"]) await same(`bfd/show ${i} min_tx`, (sw) => show(sw, i));
    for (const sw of sws) await vsctl(sw, "set", "interface", "p1", "bfd:min_rx=300");
    await warp(sws, 21);
    for (const i of ["p0", "p1"]) await same(`bfd/show ${i} min_rx`, (sw) => show(sw, i));

    // Decay: no traffic but BFD, so p0's min_rx drops to decay_min_rx.
    for (const sw of sws) await vsctl(sw, "set", "interface", "p0", "bfd:decay_min_rx=3000");
    await warp(sws, 15);
    await same("bfd/show p0 before decay", (sw) => show(sw, "p0"));
    await warp(sws, 30);
    assert.match(await same("bfd/show p0 decayed", (sw) => show(sw, "p0")), /Local Minimum RX Interval: 3000ms/);
    await same("bfd/show p1 with p0 decayed", (sw) => show(sw, "p1"));

    // Commands and their errors.
    for (const args of [["bfd/show", "nosuch"], ["bfd/set-forwarding", "nosuch", "true"], ["bfd/set-forwarding", "p0", "maybe"], ["bfd/set-forwarding", "xx"]]) {
      await same(args.join(" "), (sw) => appctl(sw, ...args));
    }
    await same("list-commands", async (sw) => (await appctl(sw, "list-commands")).split("\n").filter((l) => l.includes("bfd/")).join("\n"));

    // Traces: a BFD packet on a BFD interface goes to the slow path; other UDP only un-wildcards what BFD's test read.
    for (const sw of sws) await vsctl(sw, "add-port", "br0", "d0", "--", "set", "interface", "d0", "type=dummy", "ofport_request=2", "bfd:enable=true");
    for (const flow of [
      "in_port=2,udp,udp_dst=3784,nw_ttl=255",
      "in_port=2,udp,udp_dst=3785",
      "in_port=2,udp,udp_dst=1",
      "in_port=2,tcp",
      "in_port=2,arp",
      "in_port=1,udp,udp_dst=3784,nw_ttl=255",
    ]) {
      await same(`ofproto/trace br0 ${flow}`, (sw) => trace(sw, flow));
    }
    for (const sw of sws) await vsctl(sw, "set", "interface", "d0", "bfd:bfd_remote_dst_mac=00:11:22:33:44:55", "bfd:check_tnl_key=true");
    for (const flow of ["in_port=2,udp,udp_dst=3784,dl_dst=00:11:22:33:44:55", "in_port=2,udp,udp_dst=3784,dl_dst=00:11:22:33:44:56"]) {
      await same(`ofproto/trace br0 ${flow}`, (sw) => trace(sw, flow));
    }

    // Bridges gone: their sessions too.
    for (const sw of sws) await vsctl(sw, "del-br", "br0");
    await same("bfd/show p0 after del-br", (sw) => appctl(sw, "bfd/show", "p0"));
    await warp(sws, 41);
    await same("bfd/show p1 alone", (sw) => show(sw, "p1"));
  });
});

test("BFD across a third bridge that drops one or both directions, as OVS 3.1 (init, Neighbor Signaled Session Down)", { skip: ovsSkip(), timeout: 240_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    for (const sw of sws) {
      await appctl(sw, "time/stop");
      await vsctl(sw,
        "add-br", "br-bfd0", "--", "set", "bridge", "br-bfd0", "datapath_type=dummy", "other_config:hwaddr=aa:55:aa:56:00:00",
        "--", "add-br", "br-bfd1", "--", "set", "bridge", "br-bfd1", "datapath_type=dummy", "other_config:hwaddr=aa:55:aa:57:00:00",
        "--", "add-br", "br-sw", "--", "set", "bridge", "br-sw", "datapath_type=dummy", "other_config:hwaddr=aa:55:aa:58:00:00",
        "--", "add-port", "br-sw", "p1-sw", "--", "set", "interface", "p1-sw", "type=patch", "options:peer=p1", "ofport_request=1",
        "--", "add-port", "br-sw", "p0-sw", "--", "set", "interface", "p0-sw", "type=patch", "options:peer=p0", "ofport_request=2",
        "--", "add-port", "br-bfd1", "p1", "--", "set", "interface", "p1", "type=patch", "options:peer=p1-sw", "bfd:enable=true",
        "--", "add-port", "br-bfd0", "p0", "--", "set", "interface", "p0", "type=patch", "options:peer=p0-sw", "bfd:enable=true");
    }
    const ofctl = async (...args: string[]) => {
      for (const sw of sws) {
        const r = await runAsync("ovs-ofctl", args, sw.dir);
        assert.equal(r.status, 0, `ovs-ofctl ${args.join(" ")}: ${r.stderr}`);
      }
    };
    const same = async (what: string, iface: string, want: RegExp): Promise<void> => {
      const a = await show(ovs, iface);
      const b = await show(ts, iface);
      assert.match(a, want, `${what}: OVS's bfd/show ${iface}`);
      assert.equal(b, a, `${what}: bfd/show ${iface}`);
    };
    await ofctl("add-flow", "br-sw", "priority=0,actions=NORMAL");
    await warp(sws, 41);
    for (const i of ["p0", "p1"]) await same("up through br-sw", i, /Local Session State: up/);

    await ofctl("add-flow", "br-sw", "priority=5,actions=drop");
    await warp(sws, 41);
    for (const i of ["p0", "p1"]) await same("br-sw drops everything", i, /Local Session State: down\n  Local Diagnostic: Control Detection Time Expired/);

    await ofctl("del-flows", "br-sw");
    await ofctl("add-flow", "br-sw", "priority=0,actions=NORMAL");
    await warp(sws, 41);
    for (const i of ["p0", "p1"]) await same("back up", i, /Local Session State: up/);

    // p1 → p0 lost (br-sw drops what comes from p1-sw): p0 expires, p1 hears p0 down and waits in init.
    await ofctl("add-flow", "br-sw", "in_port=1,priority=5,actions=drop");
    await warp(sws, 41);
    await same("one way lost", "p0", /Local Session State: down\n  Local Diagnostic: Control Detection Time Expired/);
    await warp(sws, 41);
    await same("one way lost", "p1", /Local Session State: init\n  Local Diagnostic: Neighbor Signaled Session Down/);
  });
});

test("BFD control packets on the wire are OVS 3.1's, byte for byte but the random discriminator", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const frames: string[] = [];
    for (const sw of sws) {
      await appctl(sw, "time/stop");
      const pcap = path.join(sw.dir, "d1.pcap");
      await vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
        "--", "add-port", "br0", "d1", "--", "set", "interface", "d1", "type=dummy", `options:tx_pcap=${pcap}`,
        "bfd:enable=true", "bfd:bfd_src_ip=10.1.2.3", "bfd:bfd_local_dst_mac=00:11:22:33:44:55");
      let recs: Uint8Array[] = [];
      for (let i = 0; i < 50 && recs.length === 0; i++) {
        await appctl(sw, "time/warp", "100");
        await new Promise((r) => setTimeout(r, 50));
        const f = fs.existsSync(pcap) ? readPcap(fs.readFileSync(pcap)) : null;
        recs = f !== null && "records" in f ? f.records.map((r) => r.data) : [];
      }
      assert.ok(recs.length > 0, "a control packet was sent");
      const hex = Buffer.from(recs[0]!).toString("hex");
      // The local discriminator (bytes 46..49) is random; the source is
      // the dummy device's address, numbered differently by the two.
      frames.push(hex.slice(0, 12) + "xxxxxxxxxxxx" + hex.slice(24, 92) + "xxxxxxxx" + hex.slice(100));
    }
    assert.equal(frames[1], frames[0]);
    assert.match(frames[0]!, /^001122334455.{12}0800/);
  });
});

test("a fast-failover group skips a port whose BFD does not forward, as OVS 3.1 (may_enable)", { skip: ovsSkip(), timeout: 90_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    await fastFailoverSetup(sws, SETUP);
    const actions = (what: string) => agreedActions(ovs, ts, what);
    await warp(sws, 41);
    const up = await actions("BFD up: the first bucket");
    await appctl(ovs, "bfd/set-forwarding", "p0", "false");
    await appctl(ts, "bfd/set-forwarding", "p0", "false");
    await warp(sws, 1);
    const down = await actions("forwarding forced off: the second bucket");
    assert.notEqual(down, up);
    for (const sw of sws) await appctl(sw, "bfd/set-forwarding", "p0", "normal");
    await warp(sws, 1);
    assert.equal(await actions("back to normal"), up);
  });
});
