/**
 * tun_metadata values longer than 4 bytes (up to 124), without a TLV map
 * as ovs-ofctl's offline commands run: flow text, set_field/load actions
 * (NXAST_REG_LOAD2, variable-length OXM set_field), the 256-byte budget of
 * one match, and parse-nxm / parse-oxm, against real ovs-ofctl.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip } from "../util/ovs.js";
import { ofctl } from "../../src/cli/ofctl.js";

const skip = ovsSkip("ovs-ofctl");

function errorLines(stderr: string): string {
  return stderr.split("\n").filter((l) => l.startsWith("ovs-ofctl:")).join("\n");
}

function compare(args: string[], input?: string): string | null {
  const r = spawnSync("ovs-ofctl", args, { encoding: "latin1", input: input ?? "", timeout: 20_000 });
  const t = { stdout: r.stdout, error: errorLines(r.stderr), status: r.status };
  const x = ofctl(args, input);
  const m = { stdout: x.stdout, error: errorLines(x.stderr), status: x.status };
  return JSON.stringify(t) === JSON.stringify(m) ? null : `${args.join(" ").slice(0, 200)}\n--- ovs-ofctl\n${JSON.stringify(t).slice(0, 600)}\n--- tsovs\n${JSON.stringify(m).slice(0, 600)}`;
}

const ones = (n: number): string => "11".repeat(n);
const counting = (n: number): string => Array.from({ length: n }, (_, i) => ((i + 1) & 0xff).toString(16).padStart(2, "0")).join("");

const FLOWS: string[] = [
  "tun_metadata0=0x1234567890,actions=drop",
  "tun_metadata0=0x12345678901234567890,actions=drop",
  "tun_metadata0=0x1/0xff00000000ff,actions=drop",
  `tun_metadata63=0x${ones(124)},actions=drop`,
  `tun_metadata0=0x${ones(125)},actions=drop`,
  "tun_metadata0=0,actions=drop",
  "tun_metadata0=0x0/0xff,actions=drop",
  "tun_metadata0=0x100,tun_metadata1=2,actions=drop",
  "tun_metadata0=1,tun_metadata0=2,actions=drop",
  `tun_metadata0=0x${ones(124)},tun_metadata1=0x${counting(124)},tun_metadata2=0x${ones(8)},actions=drop`,
  `tun_metadata0=0x${ones(124)},tun_metadata1=0x${ones(124)},tun_metadata2=0x${ones(9)},actions=drop`,
  "tun_metadata5=0x3,tun_metadata0=0x1/0xff00000000000000ff,actions=drop",
  "tun_metadata5=0x3/0x3,actions=drop",
  "actions=set_field:0x1234567890abcdef12->tun_metadata1",
  "actions=set_field:0x1->tun_metadata1",
  "actions=set_field:0x1/0xf->tun_metadata1",
  `actions=set_field:0x${counting(124)}->tun_metadata7`,
  "actions=load:0x1->NXM_NX_TUN_METADATA1[0..7]",
  "actions=load:0x1->NXM_NX_TUN_METADATA1[64..71]",
  "actions=move:NXM_NX_TUN_METADATA1[0..31]->NXM_NX_REG0[]",
  "tun_metadata0=1,actions=output:NXM_NX_TUN_METADATA0[0..15]",
  "tun_metadata3=0xabcdef0123,actions=move:NXM_NX_TUN_METADATA3[]->NXM_NX_TUN_METADATA4[]",
];

test("parse-flow: long tun_metadata matches and actions match ovs-ofctl in every version", { skip, timeout: 60_000 }, () => {
  const failures: string[] = [];
  for (const o of [[], ["-O", "OpenFlow10"], ["-O", "OpenFlow11"], ["-O", "OpenFlow12"], ["-O", "OpenFlow13"], ["-O", "OpenFlow15"]]) {
    for (const f of FLOWS) {
      const d = compare([...o, "parse-flow", f]);
      if (d) failures.push(d);
    }
  }
  assert.deepEqual(failures, [], failures.slice(0, 3).join("\n"));
});

test("parse-nxm and parse-oxm: long tun_metadata entries match ovs-ofctl", { skip, timeout: 30_000 }, () => {
  const lines = [
    "NXM_NX_TUN_METADATA0(1234567890)",
    "NXM_NX_TUN_METADATA0(01)",
    "NXM_NX_TUN_METADATA0_W(01/ff)",
    "NXM_NX_TUN_METADATA0(00001234)",
    `NXM_NX_TUN_METADATA0(${ones(124)})`,
    `NXM_NX_TUN_METADATA9(${counting(100)})`,
    "NXM_NX_TUN_METADATA0(0102), NXM_NX_TUN_METADATA1(03)",
    `NXM_NX_TUN_METADATA0(${ones(124)}), NXM_NX_TUN_METADATA3(${ones(124)}), NXM_NX_TUN_METADATA7(${ones(124)})`,
  ].join("\n") + "\n";
  const failures: string[] = [];
  for (const args of [["parse-nxm"], ["-m", "parse-nxm"], ["parse-oxm", "OpenFlow13"], ["-m", "parse-oxm", "OpenFlow15"]]) {
    const d = compare(args, lines);
    if (d) failures.push(d);
  }
  assert.deepEqual(failures, [], failures.join("\n"));
});
