/**
 * learn() specs that ovs-ofctl refuses get its exact message from tsovs:
 * a value that is neither a field nor an immediate (with both reasons, the
 * immediate one in the field's own value syntax), a value too wide for a
 * partial field, and fields of different widths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ofctl } from "../../src/cli/ofctl.js";
import { ovsSkip, run } from "../util/ovs.js";

const CASES = [
  "actions=learn(in_port=foo)",
  "actions=learn(in_port=99999)",
  "actions=learn(tcp_dst=abc)",
  "actions=learn(NXM_OF_TCP_DST[]=abc)",
  "actions=learn(eth_dst=zz)",
  "actions=learn(ip_dst=1.2.3)",
  "actions=learn(NXM_NX_REG0[0..3]=0x1ff)",
  "actions=learn(NXM_NX_REG0[]=NXM_NX_REG1[0..3])",
  "actions=learn(NXM_OF_TCP_DST[]=NXM_OF_IP_SRC[])",
  "actions=learn(eth_dst=01:02:03:04:05:06,tcp_dst=80,output:NXM_OF_IN_PORT[])",
];

/** The error line (and output) without log time stamps. */
const strip = (s: string): string => s.replace(/^[0-9T:.Z-]+\|[0-9]+\|/gm, "");

test("learn spec errors are worded as ovs-ofctl words them", { skip: ovsSkip("ovs-ofctl") }, () => {
  for (const flow of CASES) {
    const real = run("ovs-ofctl", ["parse-flow", flow]);
    const ours = ofctl(["parse-flow", flow]);
    assert.equal(ours.status, real.status, flow);
    assert.equal(strip(ours.stdout), strip(real.stdout), flow);
    assert.equal(ours.stderr.trim().split("\n").pop(), real.stderr.trim().split("\n").pop(), flow);
  }
});
