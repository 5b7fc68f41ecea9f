/**
 * Differential cases for `tsovs ofctl`'s switch commands, reusable against
 * any switch: each case is an ovs-ofctl command line (the switch is "SW",
 * a flow file "FILE"), run once by the reference ovs-ofctl and once by the
 * tool under test on the same switch, and compared after normalising what
 * legitimately differs (durations, ages, ping times, log timestamps).
 *
 * - READ_CASES: read-only commands in every OpenFlow version, and errors.
 * - WRITE_CASES, GROUP_METER_CASES, DIFF_CASES: state-changing commands,
 *   run by `runWriteCases`, which starts each run from the same state
 *   (`resetSwitch`: a few flows, group 10, meter 3, a TLV mapping, ports up)
 *   and also compares what real ovs-ofctl then dumps of the parts of the
 *   switch the command can change (restoring only what changed).
 * - MOD_TABLE_CASES (with tableStateOf/resetTables), SORT_CASES (on
 *   SORT_FLOWS).
 *
 * The ofproto tests reuse the lists with the roles turned: pass an `ours`
 * that runs real ovs-ofctl against the tsovs switch (and a second `dir`)
 * to compare real ovs-vswitchd with tsovs through the same commands.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { run, type RunResult } from "./ovs.js";

export interface OfctlCase {
  args: string[];
  /** Standard input (for "-" file arguments). */
  input?: string;
  /** Contents of the file the argument "FILE" names. */
  file?: string;
  /** Compare output lines as sets (diff-flows prints in hash order). */
  unordered?: boolean;
}

const c = (...args: string[]): OfctlCase => ({ args });

/** Read-only commands, in every version that matters. */
export const READ_CASES: OfctlCase[] = [
  ...["", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"].flatMap((v) => {
    const o = v ? ["-O", v] : [];
    return [
      c(...o, "show", "SW"),
      c(...o, "dump-desc", "SW"),
      c(...o, "dump-tables", "SW"),
      c(...o, "dump-ports", "SW"),
      c(...o, "dump-ports", "SW", "1"),
      c(...o, "dump-ports", "SW", "p2"),
      c(...o, "dump-ports-desc", "SW"),
      c(...o, "dump-ports-desc", "SW", "p1"),
      c(...o, "get-frags", "SW"),
      c(...o, "dump-flows", "SW"),
      c(...o, "dump-flows", "SW", "table=2"),
      c(...o, "dump-flows", "SW", "ip,nw_src=10.0.0.0/8"),
      c(...o, "--no-stats", "dump-flows", "SW"),
      c(...o, "--sort", "dump-flows", "SW"),
      c(...o, "--rsort=priority", "dump-flows", "SW"),
      c(...o, "dump-aggregate", "SW"),
      c(...o, "dump-aggregate", "SW", "table=2"),
      c(...o, "queue-stats", "SW"),
      c(...o, "queue-get-config", "SW"),
      c(...o, "dump-tlv-map", "SW"),
      c(...o, "dump-ipfix-bridge", "SW"),
      c(...o, "dump-ipfix-flow", "SW"),
      c(...o, "probe", "SW"),
      c(...o, "dump-meters", "SW"),
      c(...o, "meter-features", "SW"),
    ];
  }),
  ...["OpenFlow11", "OpenFlow13", "OpenFlow15"].flatMap((v) => [
    c("-O", v, "dump-groups", "SW"),
    c("-O", v, "dump-groups", "SW", "10"),
    c("-O", v, "dump-groups", "SW", "group_id=10"),
    c("-O", v, "dump-group-stats", "SW"),
    c("-O", v, "dump-group-stats", "SW", "group_id=10"),
    c("-O", v, "dump-group-features", "SW"),
  ]),
  c("dump-group-features", "SW"),
  c("-O", "OpenFlow13", "meter-stats", "SW"),
  c("-O", "OpenFlow13", "meter-stats", "SW", "meter=3"),
  c("-O", "OpenFlow13", "dump-meters", "SW", "meter=3"),
  c("-O", "OpenFlow14", "dump-table-desc", "SW"),
  c("-O", "OpenFlow13", "dump-table-features", "SW"),
  c("-O", "OpenFlow15", "dump-table-features", "SW"),
  c("dump-table-features", "SW"),
  c("-F", "nxm", "dump-flows", "SW"),
  c("--names", "dump-flows", "SW"),
  c("-m", "dump-flows", "SW"),
  c("-mm", "show", "SW"),
  c("-m", "-O", "OpenFlow13", "dump-ports", "SW"),
  c("--more", "-O", "OpenFlow13", "dump-table-features", "SW"),
  ...[["show"], ["dump-ports"], ["queue-stats"], ["queue-get-config"], ["-O", "OpenFlow13", "dump-groups"], ["-O", "OpenFlow13", "dump-ports"], ["-O", "OpenFlow15", "dump-groups"], ["-O", "OpenFlow13", "queue-get-config"], ["-O", "OpenFlow14", "queue-get-config"]].map((a) => c("--names", ...a, "SW")),
  c("--names", "--no-stats", "dump-flows", "SW"),
  c("--names", "--sort", "dump-flows", "SW"),
  c("dump-flows", "SW", "in_port=p1"),
  c("--no-names", "dump-flows", "SW", "in_port=p1"),
  c("-F", "OpenFlow10", "dump-flows", "SW"),
  c("-F", "OpenFlow10", "dump-flows", "SW", "reg0=1"),
  c("-O", "OpenFlow10,OpenFlow13", "dump-flows", "SW"),
  // Errors.
  c("dump-flows", "SW", "bogus=1"),
  c("dump-ports", "SW", "nosuchport"),
  c("dump-ports", "SW", "99999"),
  c("dump-ports", "SW", "4294967040"),
  c("queue-stats", "SW", "p1", "5"),
  c("queue-stats", "SW", "ALL", "3"),
  c("queue-get-config", "SW", "p1"),
  c("-O", "OpenFlow14", "queue-get-config", "SW", "2", "1"),
  c("mod-port", "SW", "nosuchport", "up"),
  c("mod-port", "SW", "p1", "sideways"),
  c("set-frags", "SW", "sideways"),
  c("show"),
  c("show", "SW", "extra"),
  c("no-such-command", "SW"),
  c("--read-only", "add-flow", "SW", "actions=drop"),
  c("-t", "0", "show", "SW"),
  c("show", "nosuchbridge"),
  ...[[], ["zone=5"], ["5"], ["bogus"], ["ct_nw_src=abc"], ["zone=abc"], ["ct_nw_src=10.0.0.1,ct_ipv6_dst=1::1"],
    ["icmp_id=5,ct_nw_proto=1"], ["ct_nw_proto=1,icmp_id=5,icmp_type=8,icmp_code=0"], ["ct_ipv6_src=1::1"],
    ["zone=3", "ct_nw_src=10.0.0.1,ct_nw_proto=6,ct_tp_src=80", "ct_nw_dst=10.0.0.1"]].map((a) => c("ct-flush", "SW", ...a)),
  c("ping", "SW", "8"),
  c("-O", "OpenFlow13", "ping", "SW"),
  c("ping", "SW", "70000"),
  c("benchmark", "SW", "100", "20"),
];


/** Commands that change the switch. */
export const WRITE_CASES: OfctlCase[] = [
  c("add-flow", "SW", "in_port=1,actions=output:2"),
  c("add-flow", "SW", "table=3,in_port=1,actions=output:2"),
  c("add-flow", "SW", "ipv6,actions=drop"),
  c("add-flow", "SW", "table=9,in_port=p1,actions=output:p2,p1,enqueue:p2:3,resubmit(p1,3)"),
  c("add-flow", "SW", "table=9,in_port=nosuch,actions=drop"),
  c("--no-names", "add-flow", "SW", "table=9,in_port=p1,actions=drop"),
  c("del-flows", "SW", "out_port=p2"),
  c("add-flow", "SW", "in_port=1,reg0=5,actions=set_field:3->reg1"),
  c("add-flow", "SW", "in_port=1,actions=goto_table:4"),
  c("add-flow", "SW", "bogus=1,actions=drop"),
  c("add-flow", "SW", "ip,check_overlap,priority=7,in_port=1,actions=drop"),
  c("add-flow", "SW", "in_port=1,actions=meter:5"),
  c("-O", "OpenFlow13", "add-flow", "SW", "table=3,in_port=1,actions=goto_table:4"),
  c("-O", "OpenFlow13", "add-flow", "SW", "in_port=1,actions=meter:5"),
  c("-O", "OpenFlow13", "add-flow", "SW", "in_port=1,actions=group:5"),
  c("-O", "OpenFlow11", "add-flow", "SW", "table=1,ip,actions=drop"),
  c("-O", "OpenFlow15", "add-flow", "SW", "in_port=1,actions=drop"),
  c("-F", "OpenFlow10", "add-flow", "SW", "reg0=1,actions=drop"),
  c("-F", "nxm", "add-flow", "SW", "in_port=1,actions=drop"),
  c("del-flows", "SW"),
  c("del-flows", "SW", "table=2"),
  c("--strict", "del-flows", "SW", "table=2,in_port=1,priority=7,ip"),
  c("mod-flows", "SW", "table=2,actions=drop"),
  c("--strict", "mod-flows", "SW", "table=2,in_port=1,priority=7,ip,actions=drop"),
  c("-O", "OpenFlow13", "mod-flows", "SW", "table=2,actions=drop"),
  { args: ["add-flows", "SW", "-"], input: "in_port=1,actions=2\n# comment\n\ntable=5,ip,nw_dst=10.0.0.1,actions=drop\ndelete table=2\n" },
  { args: ["add-flows", "SW", "-"], input: "in_port=1,actions=2\nbad=1,actions=drop\n" },
  { args: ["--bundle", "add-flows", "SW", "-"], input: "in_port=1,actions=2\ntable=5,ip,actions=drop\n" },
  { args: ["-O", "OpenFlow13", "--bundle", "add-flows", "SW", "-"], input: "in_port=1,actions=2\ntable=5,ip,actions=drop\n" },
  c("-O", "OpenFlow14", "--bundle", "add-flow", "SW", "in_port=1,actions=meter:5"),
  c("add-flows", "SW", "/nonexistent/flows"),
  c("set-frags", "SW", "drop"),
  c("-O", "OpenFlow13", "set-frags", "SW", "reassemble"),
  c("mod-port", "SW", "p1", "down"),
  c("mod-port", "SW", "2", "no-flood"),
  c("mod-port", "SW", "LOCAL", "down"),
  c("mod-port", "SW", "65534", "no-flood"),
  c("-O", "OpenFlow13", "mod-port", "SW", "p2", "no-receive"),
  c("-O", "OpenFlow13", "del-meters", "SW"),
  c("-O", "OpenFlow13", "del-groups", "SW"),
  c("ct-flush-zone", "SW", "5"),
  c("add-tlv-map", "SW", "{class=0xffff,type=0,len=4}->tun_metadata0"),
  c("add-tlv-map", "SW", "{class=0xffff,type=1,len=8}->tun_metadata1,{class=0x1,type=2,len=4}->tun_metadata2"),
  c("add-tlv-map", "SW", "{class=0xffff,type=9,len=4}->tun_metadata9"),
  c("add-tlv-map", "SW", "bogus"),
  c("add-tlv-map", "SW", "{class=0xffff,type=5,len=3}->tun_metadata5"),
  c("del-tlv-map", "SW", "{class=0xffff,type=9,len=4}->tun_metadata9"),
  c("del-tlv-map", "SW"),
];

/** Group and meter modifications. */
export const GROUP_METER_CASES: OfctlCase[] = [
  ...["", "OpenFlow13", "OpenFlow15"].flatMap((v) => {
    const o = v ? ["-O", v] : [];
    return [
      c(...o, "add-group", "SW", "group_id=1,type=all,bucket=output:1,bucket=output:2"),
      c(...o, "add-group", "SW", "group_id=2,type=ff,bucket=watch_port:1,output:1"),
      c(...o, "add-group", "SW", "group_id=2,type=bogus"),
      c(...o, "mod-group", "SW", "group_id=10,type=all,bucket=output:2"),
      c(...o, "--may-create", "mod-group", "SW", "group_id=11,type=all,bucket=output:2"),
      c(...o, "del-groups", "SW", "group_id=10"),
      c(...o, "del-groups", "SW"),
      c(...o, "remove-buckets", "SW", "group_id=10,command_bucket_id=first"),
      c(...o, "add-meter", "SW", "meter=1,kbps,band=type=drop,rate=100"),
      c(...o, "add-meter", "SW", "meter=3,kbps,band=type=drop,rate=100"),
      c(...o, "mod-meter", "SW", "meter=3,kbps,stats,band=type=dscp_remark,rate=100,prec_level=1"),
      c(...o, "add-meter", "SW", "meter=1,band=type=drop,rate=100"),
      c(...o, "del-meters", "SW", "meter=3"),
    ];
  }),
  c("-O", "OpenFlow11", "add-group", "SW", "group_id=1,type=all,bucket=output:1,bucket=output:2"),
  c("-O", "OpenFlow14", "--bundle", "add-group", "SW", "group_id=3,type=all,bucket=output:1"),
  c("--bundle", "add-group", "SW", "group_id=3,type=all,bucket=output:1"),
  c("-O", "OpenFlow14", "--bundle", "add-group", "SW", "group_id=3,type=indirect,bucket=output:1,bucket=output:2"),
  c("-O", "OpenFlow11", "remove-buckets", "SW", "group_id=10,command_bucket_id=first"),
  c("-O", "OpenFlow15", "insert-buckets", "SW", "group_id=10,command_bucket_id=last,bucket=output:3"),
  c("-O", "OpenFlow13", "insert-buckets", "SW", "group_id=10,command_bucket_id=last,bucket=output:3"),
  { args: ["-O", "OpenFlow13", "add-groups", "SW", "-"], input: "group_id=4,type=all,bucket=output:1\ngroup_id=5,type=indirect,bucket=output:2\n" },
];


/** Flows with assorted fields, for --sort/--rsort. */
export const SORT_FLOWS = [
  "ip,nw_src=10.0.0.9,actions=drop", "ip,nw_src=10.0.0.10,actions=drop", "ip,nw_src=9.0.0.1,priority=5,actions=drop",
  "tcp,tp_dst=80,actions=drop", "tcp,tp_dst=443,actions=drop", "tcp,tp_dst=8,priority=7,actions=drop",
  "in_port=10,actions=drop", "in_port=9,actions=drop", "priority=3,actions=drop",
  "dl_src=00:00:00:00:00:10,actions=drop", "dl_src=00:00:00:00:00:09,actions=drop", "ip,nw_src=10.0.0.0/8,actions=drop",
];

export const SORT_CASES: OfctlCase[] = [
  ["--sort=nw_src"], ["--rsort=nw_src"], ["--sort=tp_dst"], ["--sort=in_port"], ["--rsort=in_port", "--sort=priority"],
  ["--sort=dl_src"], ["--sort"], ["--rsort"], ["--sort=priority", "--sort=nw_src"], ["--sort=bogus"], ["--rsort=ip_src"],
].map((o) => c(...o, "--no-stats", "dump-flows", "SW"));

/** mod-table in each version (judged with tableStateOf). */
export const MOD_TABLE_CASES: OfctlCase[] = [
  c("mod-table", "SW", "1", "drop"),
  c("-O", "OpenFlow11", "mod-table", "SW", "1", "drop"),
  c("-O", "OpenFlow12", "mod-table", "SW", "1", "continue"),
  c("-O", "OpenFlow14", "mod-table", "SW", "1", "evict"),
  c("-O", "OpenFlow14", "mod-table", "SW", "1", "vacancy:20,80"),
  c("-O", "OpenFlow14", "mod-table", "SW", "2", "vacancy:5,5"),
  c("-O", "OpenFlow14", "mod-table", "SW", "1", "vacancy:80,20"),
  c("-O", "OpenFlow14", "mod-table", "SW", "1", "vacancy:200,300"),
  c("-O", "OpenFlow14", "mod-table", "SW", "1", "vacancy:20"),
  c("-O", "OpenFlow14", "mod-table", "SW", "1", "bogus"),
  c("-O", "OpenFlow14", "mod-table", "SW", "x", "evict"),
  c("-O", "OpenFlow14", "mod-table", "SW", "300", "evict"),
  c("mod-table", "SW", "1", "evict"),
  c("-O", "OpenFlow10,OpenFlow14", "mod-table", "SW", "2", "evict"),
];

/** The first tables' eviction and vacancy settings, as real ovs-ofctl shows them. */
export function tableStateOf(dir: string, bridge = "br0"): string {
  const x = realOfctl(dir, ["-O", "OpenFlow14", "dump-table-desc", bridge]);
  return x.stdout.split("\n").slice(0, 13).join("\n") + x.stderr;
}

/** Puts tables 1 and 2 back to no eviction, no vacancy events. */
export function resetTables(dir: string, bridge = "br0"): void {
  for (const t of ["1", "2"]) {
    realOfctl(dir, ["-O", "OpenFlow14", "mod-table", bridge, t, "novacancy"]);
    realOfctl(dir, ["-O", "OpenFlow14", "mod-table", bridge, t, "noevict"]);
  }
}

/** Replaces "SW" with the switch target and "FILE" with a file holding `cs.file` (written into `dir`). */
export function withTarget(cs: OfctlCase, target: string, dir?: string): string[] {
  let file = "";
  if (cs.file !== undefined && dir) {
    file = path.join(dir, "case-flows.txt");
    fs.writeFileSync(file, cs.file);
  }
  return cs.args.map((a) => (a === "SW" ? target : a === "FILE" ? file : a));
}

const DIFF_FILE = "priority=0,actions=NORMAL\ntable=2,in_port=1,priority=7,ip,actions=output:3\ntable=4,tcp,tp_dst=80,actions=drop\nin_port=2,actions=1\n";

/** Flow files against the switch and each other. */
export const DIFF_CASES: OfctlCase[] = [
  { args: ["diff-flows", "SW", "FILE"], file: DIFF_FILE, unordered: true },
  { args: ["diff-flows", "FILE", "SW"], file: DIFF_FILE, unordered: true },
  { args: ["diff-flows", "FILE", "FILE"], file: DIFF_FILE, unordered: true },
  { args: ["diff-flows", "SW", "SW"], unordered: true },
  { args: ["-O", "OpenFlow13", "diff-flows", "FILE", "SW"], file: DIFF_FILE, unordered: true },
  { args: ["diff-flows", "FILE", "SW"], file: DIFF_FILE + "bad=1,actions=drop\n" },
  { args: ["diff-flows", "/nonexistent/flows", "SW"] },
  { args: ["replace-flows", "SW", "FILE"], file: DIFF_FILE },
  { args: ["--readd", "replace-flows", "SW", "FILE"], file: DIFF_FILE },
  { args: ["-O", "OpenFlow13", "replace-flows", "SW", "FILE"], file: DIFF_FILE },
  { args: ["--bundle", "replace-flows", "SW", "FILE"], file: DIFF_FILE },
  { args: ["replace-flows", "SW", "FILE"], file: DIFF_FILE + "bad=1,actions=drop\n" },
];

/** Durations, ages and log timestamps differ between any two runs. */
export function normalize(s: string): string {
  return s
    .replace(/duration=[0-9.]+s/g, "duration=?")
    .replace(/(idle_age|hard_age)=[0-9]+/g, "$1=?")
    .replace(/duration_sec=[0-9]+/g, "duration_sec=?")
    .replace(/duration=[0-9.]+/g, "duration=?")
    .replace(/duration:[0-9.]+s/g, "duration:?")
    .replace(/time=[0-9.]+ ms/g, "time=? ms")
    .replace(/^Finished in [0-9.]+ ms \([0-9]+ packets\/s\) \([0-9]+ bytes\/s\)$/gm, "Finished in ?")
    .replace(/^[0-9TZ:.-]+\|[0-9]+\|/gm, "TIME|")
    // Whether a refused hello ends in EPIPE or EPROTO is a race in OVS itself.
    .replace(/failed to connect to socket \((Broken pipe|Connection reset by peer)\)/g, "failed to connect to socket (Protocol error)");
}

/** Runs the real ovs-ofctl with OVS_RUNDIR=`dir`. */
export function realOfctl(dir: string, args: string[], input?: string): RunResult {
  return run("ovs-ofctl", args, dir, input);
}

/** One part of the switch's state: how real ovs-ofctl shows it, and how to restore it. */
interface StatePart {
  /** Which commands can change this part (matched against the command name). */
  touchedBy: RegExp;
  dump: string[];
  reset: string[][];
  /** The switch lists these in hash order. */
  unordered?: boolean;
}

const BASE_FLOWS = [
  "priority=0,actions=NORMAL",
  "table=2,in_port=1,priority=7,ip,actions=output:2,enqueue:1:5",
  "table=2,priority=3,cookie=0x5,idle_timeout=60,ip,nw_src=10.1.0.0/16,actions=drop",
];

const STATE_PARTS: readonly StatePart[] = [
  {
    touchedBy: /flow|bundle/,
    dump: ["-O", "OpenFlow13", "--no-stats", "--sort", "dump-flows", "BR"],
    reset: [["del-flows", "BR"], ...BASE_FLOWS.map((f) => ["add-flow", "BR", f])],
  },
  { touchedBy: /frags/, dump: ["get-frags", "BR"], reset: [["set-frags", "BR", "normal"]] },
  {
    touchedBy: /port/,
    dump: ["-O", "OpenFlow13", "dump-ports-desc", "BR"],
    reset: [["mod-port", "BR", "p1", "up"], ["mod-port", "BR", "p2", "flood"], ["-O", "OpenFlow13", "mod-port", "BR", "p2", "receive"], ["mod-port", "BR", "65534", "up"], ["mod-port", "BR", "65534", "flood"]],
  },
  {
    touchedBy: /group|bucket/,
    dump: ["-O", "OpenFlow15", "dump-groups", "BR"],
    unordered: true,
    reset: [["-O", "OpenFlow13", "del-groups", "BR"], ["-O", "OpenFlow13", "add-group", "BR", "group_id=10,type=select,bucket=weight:5,output:1,bucket=weight:7,output:2"]],
  },
  {
    touchedBy: /meter/,
    dump: ["-O", "OpenFlow13", "dump-meters", "BR"],
    reset: [["-O", "OpenFlow13", "del-meters", "BR"], ["-O", "OpenFlow13", "add-meter", "BR", "meter=3,pktps,burst,band=type=drop,rate=10,burst_size=5"]],
  },
  { touchedBy: /tlv/, dump: ["dump-tlv-map", "BR"], reset: [["del-tlv-map", "BR"], ["add-tlv-map", "BR", "{class=0xffff,type=9,len=4}->tun_metadata9"]] },
];

const onBridge = (args: string[], bridge: string): string[] => args.map((a) => (a === "BR" ? bridge : a));

function partState(dir: string, part: StatePart, bridge: string): string {
  const x = realOfctl(dir, onBridge(part.dump, bridge));
  const out = part.unordered ? x.stdout.split("\n").sort().join("\n") : x.stdout;
  return normalize(out + x.stderr);
}

function resetPart(dir: string, part: StatePart, bridge: string): void {
  for (const cmd of part.reset) realOfctl(dir, onBridge(cmd, bridge));
}

/** Puts the switch into the state every write case starts from (with real ovs-ofctl). */
export function resetSwitch(dir: string, bridge = "br0"): void {
  for (const part of STATE_PARTS) resetPart(dir, part, bridge);
}

/** What real ovs-ofctl shows of the switch's state. */
export function stateOf(dir: string, bridge = "br0"): string {
  return STATE_PARTS.map((part) => partState(dir, part, bridge)).join("");
}

/** The command name in an ovs-ofctl argument list (skipping options and their arguments). */
export function commandOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (["-O", "-F", "-P", "-t"].includes(a)) i++;
    else if (!a.startsWith("-")) return a;
  }
  return "";
}

/**
 * Runs write cases the differential way: from the reset state, once with
 * real ovs-ofctl and once with `ours`, comparing outcome and state; the
 * switch is reset only when a run changed it. Returns the mismatches.
 */
export async function runWriteCases(
  dir: string,
  cases: readonly OfctlCase[],
  ours: (args: string[], input?: string) => Promise<{ stdout: string; stderr: string; status: number | null }>,
  bridge = "br0",
  state?: (dir: string, bridge: string) => string,
  reset?: (dir: string, bridge: string) => void,
): Promise<{ same: number; bad: string[] }> {
  const bad: string[] = [];
  let same = 0;
  let after: () => string;
  let stateFor: ((args: string[]) => string) | null = null;
  if (state && reset) {
    reset(dir, bridge);
    const baseline = state(dir, bridge);
    after = () => {
      const st = state(dir, bridge);
      if (st !== baseline) reset(dir, bridge);
      return st;
    };
  } else {
    // The switch's own state, part by part: the parts the command can
    // change are compared, and only what changed is restored.
    resetSwitch(dir, bridge);
    const baseline = STATE_PARTS.map((part) => partState(dir, part, bridge));
    after = () => "";
    stateFor = (args: string[]) => {
      const cmd = commandOf(args);
      let text = "";
      STATE_PARTS.forEach((part, i) => {
        if (!part.touchedBy.test(cmd)) return;
        const now = partState(dir, part, bridge);
        if (now !== baseline[i]) resetPart(dir, part, bridge);
        text += now;
      });
      return text;
    };
  }
  for (const cs of cases) {
    const args = withTarget(cs, bridge, dir);
    const state = (): string => (stateFor ? stateFor(args) : after());
    const real = { ...outcome(realOfctl(dir, args, cs.input), false, cs.unordered), state: state() };
    const ts = { ...outcome(await ours(args, cs.input), false, cs.unordered), state: state() };
    if (JSON.stringify(real) === JSON.stringify(ts)) same++;
    else bad.push(`${args.join(" ")}\n  real: ${JSON.stringify(real)}\n  ours: ${JSON.stringify(ts)}`);
  }
  return { same, bad };
}

/** The observable outcome of one command run. */
export interface Outcome {
  stdout: string;
  /** stderr without log lines (which only a subprocess shows in full). */
  stderr: string;
  status: number | null;
}

export function outcome(r: { stdout: string; stderr: string; status: number | null }, keepLogs = false, unordered = false): Outcome {
  const stderr = keepLogs ? r.stderr : r.stderr.split("\n").filter((l) => !/^[0-9TZ:.-]+\|[0-9]+\|/.test(l)).join("\n");
  const stdout = unordered ? r.stdout.split("\n").sort().join("\n") : r.stdout;
  return { stdout: normalize(stdout), stderr: normalize(stderr), status: r.status };
}
