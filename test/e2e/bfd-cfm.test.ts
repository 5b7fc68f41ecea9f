/**
 * CFM (802.1ag CCMs) against OVS 3.1, through the real tools only (as
 * OVS's tests/cfm.at): two bridges joined by patch ports p0–p1 with
 * cfm_mpid 1 and 2, on `tsovs start` and on ovsdb-server + ovs-vswitchd
 * (dummy datapath), the clock stopped and warped in the same 100 ms steps
 * on both. `cfm/show` (without the timer countdowns) and the Interface
 * cfm_* columns must be the same through bring-up, cfm/set-fault, the
 * peer going away, extended mode with an operationally down peer and the
 * health average; so must the errors, list-commands and a CCM's trace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip } from "../util/ovs.js";
import { type Switch, withOvsAndTsovs } from "../util/vswitchd.js";
import { agreedActions, appctl, fastFailoverSetup, patchPairSetup, vsctl, warp } from "../util/monitor.js";

const SETUP = patchPairSetup([
  "--", "set", "interface", "p0", "cfm_mpid=1", "--", "set", "interface", "p1", "cfm_mpid=2",
]);

const COLUMNS = ["cfm_fault", "cfm_fault_status", "cfm_remote_mpids", "cfm_flap_count", "cfm_health", "cfm_remote_opstate"];

/** cfm/show of one interface without the timer countdowns. */
async function show(sw: Switch, iface: string): Promise<string> {
  return (await appctl(sw, "cfm/show", iface)).split("\n").filter((l) => !/next /.test(l)).join("\n");
}

async function columns(sw: Switch): Promise<string> {
  let out = "";
  for (const i of ["p0", "p1"]) for (const c of COLUMNS) out += `${i} ${c}=${(await vsctl(sw, "get", "interface", i, c)).trim()}\n`;
  return out;
}

test("CFM between two bridges behaves as OVS 3.1's: cfm/show, cfm_* columns, set-fault, peer loss, extended opstate, health", { skip: ovsSkip(), timeout: 240_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    for (const sw of sws) {
      await appctl(sw, "time/stop");
      await vsctl(sw, ...SETUP);
    }
    const same = async (what: string, f: (sw: Switch) => Promise<string>): Promise<string> => {
      const a = await f(ovs);
      const b = await f(ts);
      assert.equal(b, a, what);
      return a;
    };
    /** The cfm_* columns once both switches have written them. */
    const status = async (what: string): Promise<string> => {
      let a = "";
      let b = "";
      for (let i = 0; i < 30; i++) {
        a = await columns(ovs);
        b = await columns(ts);
        if (a === b) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(b, a, `${what}: cfm_* columns`);
      return a;
    };

    await warp(sws, 41);
    for (const i of ["p0", "p1"]) await same(`cfm/show ${i} after bring-up`, (sw) => show(sw, i));
    assert.match(await status("up"), /p0 cfm_fault=false\n.*\np0 cfm_remote_mpids=\[2\]/);

    assert.equal(await same("set-fault p0 true", (sw) => appctl(sw, "cfm/set-fault", "p0", "true")), "OK\n");
    assert.match(await same("cfm/show p0 forced", (sw) => show(sw, "p0")), /fault_override\n  fault: override/);
    assert.match(await status("forced"), /p0 cfm_fault=true\np0 cfm_fault_status=\[override\]/);
    await same("set-fault normal", (sw) => appctl(sw, "cfm/set-fault", "normal"));
    await same("cfm/show p0 normal", (sw) => show(sw, "p0"));

    // The peer goes away: no CCM, a recv fault and a flap.
    for (const sw of sws) await vsctl(sw, "clear", "interface", "p1", "cfm_mpid");
    await same("cfm/show p1 gone", (sw) => appctl(sw, "cfm/show", "p1"));
    await warp(sws, 81);
    assert.match(await same("cfm/show p0 alone", (sw) => show(sw, "p0")), /fault: recv/);
    assert.match(await status("alone"), /p0 cfm_fault=true\np0 cfm_fault_status=\[recv\]/);

    // Back, extended, the peer operationally down.
    for (const sw of sws) {
      await vsctl(sw, "set", "interface", "p1", "cfm_mpid=2", "other_config:cfm_extended=true", "other_config:cfm_opstate=down",
        "--", "set", "interface", "p0", "other_config:cfm_extended=true");
    }
    await warp(sws, 41);
    for (const i of ["p0", "p1"]) await same(`cfm/show ${i} extended`, (sw) => show(sw, i));
    assert.match(await status("extended"), /p0 cfm_remote_opstate=down/);

    // Six fault checks later the health average is known.
    await warp(sws, 250);
    for (const i of ["p0", "p1"]) assert.match(await same(`cfm/show ${i} health`, (sw) => show(sw, i)), /average health: \d+/);
    await status("health");

    for (const args of [["cfm/show", "nosuch"], ["cfm/set-fault", "nosuch", "true"], ["cfm/set-fault", "p0", "maybe"]]) {
      await same(args.join(" "), (sw) => appctl(sw, ...args));
    }
    await same("list-commands", async (sw) => (await appctl(sw, "list-commands")).split("\n").filter((l) => l.includes("cfm/")).join("\n"));
    for (const flow of ["in_port=1,dl_dst=01:23:20:00:00:30,dl_type=0x8902", "in_port=1,dl_dst=01:80:c2:00:00:30,dl_type=0x8902", "in_port=1,dl_type=0x8902"]) {
      await same(`ofproto/trace br0 ${flow}`, (sw) => appctl(sw, "ofproto/trace", "br0", flow));
    }

    for (const sw of sws) await vsctl(sw, "del-br", "br0");
    await same("cfm/show p0 after del-br", (sw) => appctl(sw, "cfm/show", "p0"));
  });
});

test("a fast-failover group skips a port whose CFM reports a fault, as OVS 3.1 (may_enable)", { skip: ovsSkip(), timeout: 90_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    const [ovs, ts] = sws as [Switch, Switch];
    await fastFailoverSetup(sws, SETUP);
    const actions = (what: string) => agreedActions(ovs, ts, what);
    await warp(sws, 41);
    const up = await actions("CFM without fault: the first bucket");
    for (const sw of sws) await appctl(sw, "cfm/set-fault", "p0", "true");
    await warp(sws, 1);
    const down = await actions("fault forced: the second bucket");
    assert.notEqual(down, up);
    for (const sw of sws) await appctl(sw, "cfm/set-fault", "normal");
    await warp(sws, 1);
    assert.equal(await actions("back to normal"), up);
  });
});
