/**
 * Test helpers for the group and meter tests: ovs-ofctl commands
 * (`add-group`, `mod-group`, `del-groups`, `insert-buckets`,
 * `remove-buckets`, `add-meter`, `mod-meter`, `del-meters`, `add-flow`,
 * `del-flows`) applied to a GroupTable / MeterTable / OfprotoTables as the
 * switch would get them (actions through the wire encoding of the
 * command's version), and the reply bodies printed as ovs-ofctl prints
 * them.
 */
import {
  encodeMessage,
  ofpToString,
  type OfpMessage,
  decodeActions,
  decodeInstructions,
  encodeActions,
  encodeInstructions,
  formatActions,
  isDecodeError,
  parseActions,
  type OfpAction,
} from "../../src/openflow/index.js";
import { GROUP_COMMAND_ADD, GROUP_COMMAND_ADD_OR_MOD, GROUP_COMMAND_DELETE, GROUP_COMMAND_INSERT_BUCKET, GROUP_COMMAND_MODIFY, GROUP_COMMAND_REMOVE_BUCKET, parseGroupMod } from "../../src/openflow/ofp-group-parse.js";
import { parseMeterMod } from "../../src/openflow/ofp-meter-parse.js";
import { isTextError } from "../../src/openflow/ofp-actions-util.js";
import {
  groupsOfActions,
  meterOfActions,
  OfprotoTables,
  type ActionFacts,
  type OfRule,
  type RemovedRule,
} from "../../src/ofproto/index.js";
import { GroupTable } from "../../src/ofproto/groups.js";
import { MeterTable } from "../../src/ofproto/meters.js";
import { formatRule, parseFlowMod } from "./flow-text.js";

export type Actions = OfpAction[];

/** Action facts for OpenFlow action lists, enough for these tests. */
export const FACTS: ActionFacts<Actions> = {
  outputsTo: (l, port) => l.some((a) => a.type === "output" && a.port === port),
  forwardsToGroup: (l, g) => l.some((a) => a.type === "group" && a.groupId === g),
  groupsOf: groupsOfActions,
  meterOf: meterOfActions,
};

export interface Switch {
  tables: OfprotoTables<Actions>;
  groups: GroupTable<Actions>;
  meters: MeterTable<Actions>;
}

export function newSwitch(): Switch {
  const tables = new OfprotoTables<Actions>(FACTS);
  return { tables, groups: new GroupTable(tables), meters: new MeterTable(tables) };
}

const VERSION: Record<string, number> = { OpenFlow13: 4, OpenFlow14: 5, OpenFlow15: 6 };

/** Actions as the switch gets them: encoded for `version`, decoded back. */
function wire(list: Actions, version: number, instructions = false): Actions | { error: string } {
  const b = instructions ? encodeInstructions(list, version) : encodeActions(list, version);
  if (isTextError(b)) return { error: b.error };
  const d = instructions ? decodeInstructions(b, version) : decodeActions(b, version);
  if (isDecodeError(d)) return { error: d.decodeError };
  return d;
}

export type Outcome = { ok: true; removed: RemovedRule<Actions>[] } | { ok: false; error: string; parse: boolean };

const GROUP_COMMANDS: Record<string, number> = {
  "add-group": GROUP_COMMAND_ADD,
  "mod-group": GROUP_COMMAND_MODIFY,
  "del-groups": GROUP_COMMAND_DELETE,
  "insert-buckets": GROUP_COMMAND_INSERT_BUCKET,
  "remove-buckets": GROUP_COMMAND_REMOVE_BUCKET,
};

/**
 * Applies one ovs-ofctl command (`-O proto`, `cmd`, `arg`; `mayCreate` for
 * `--may-create mod-group`) to our switch. `parse: true` errors are
 * ovs-ofctl's own (the text never reaches the switch).
 */
export function apply(sw: Switch, proto: string, cmd: string, arg: string, now: number, mayCreate = false): Outcome {
  const version = VERSION[proto]!;
  const gcmd = GROUP_COMMANDS[cmd];
  if (gcmd !== undefined) {
    const p = parseGroupMod(arg, mayCreate && gcmd === GROUP_COMMAND_MODIFY ? GROUP_COMMAND_ADD_OR_MOD : gcmd);
    if ("error" in p) return { ok: false, error: p.error, parse: true };
    const buckets = [];
    for (const b of p.buckets) {
      const acts = wire(b.actions, version);
      if ("error" in acts) return { ok: false, error: acts.error, parse: true };
      // OF1.1-1.4 buckets carry no id: the switch numbers them by position.
      buckets.push(version >= 6 ? { ...b, actions: acts } : { weight: b.weight, watchPort: b.watchPort, watchGroup: b.watchGroup, actions: acts });
    }
    const gm = version >= 6 ? { ...p, buckets } : { command: p.command, type: p.type, groupId: p.groupId, buckets };
    const r = sw.groups.groupMod(gm, now);
    return r.ok ? r : { ...r, parse: false };
  }
  if (cmd === "add-meter" || cmd === "mod-meter" || cmd === "del-meters") {
    // No argument at all (not an empty one) means every meter.
    const p = parseMeterMod(arg === "" && cmd === "del-meters" ? "meter=all" : arg, cmd === "add-meter" ? 0 : cmd === "mod-meter" ? 1 : 2);
    if ("error" in p) return { ok: false, error: p.error, parse: true };
    const r = sw.meters.meterMod(p, now);
    return r.ok ? r : { ...r, parse: false };
  }
  if (cmd === "add-flow" || cmd === "del-flows") {
    const fm = parseFlowMod(cmd === "add-flow" ? "add" : "delete", arg, true);
    const parsed = parseActions(fm.actions);
    if (isTextError(parsed)) return { ok: false, error: parsed.error, parse: true };
    const acts = wire(parsed, version, true);
    if ("error" in acts) return { ok: false, error: acts.error, parse: true };
    const r = sw.tables.flowMod({ ...fm, actions: acts }, now);
    return r.ok ? r : { ...r, parse: false };
  }
  throw new Error(`no such command ${cmd}`);
}

/**
 * Our reply as ovs-ofctl would print it: the body encoded into a reply
 * message of `version` by the codecs, decoded back and printed; the
 * header line dropped, like `bodyLines` does for ovs-ofctl's output.
 */
function printed(type: OfpMessage["type"], version: number, body: unknown): string[] {
  const bytes = encodeMessage({ type, version, xid: 2, body } as OfpMessage);
  return bodyLines(ofpToString(bytes));
}

/** Lines of `text` without the first (the reply header), without empty ones. */
export function bodyLines(text: string): string[] {
  return text.split("\n").slice(1).filter((l) => l.trim() !== "");
}

/** Durations differ between two switches. */
export const noDurations = (s: string): string => s.replace(/duration[=:][0-9.]+s/g, "duration=?");

/** Our `dump-groups` lines for `proto` (sorted: OVS lists groups in hash order). */
export function ourGroupDesc(sw: Switch, proto: string): string[] {
  return printed("OFPST_GROUP_DESC_REPLY", VERSION[proto]!, { groups: sw.groups.descReply() }).sort();
}

export function ourGroupStats(sw: Switch, proto: string, now: number): string[] {
  return printed("OFPST_GROUP_REPLY", VERSION[proto]!, { stats: sw.groups.statsReply(0xfffffffc, now) }).map(noDurations).sort();
}

export function ourGroupFeatures(sw: Switch, proto: string): string[] {
  return printed("OFPST_GROUP_FEATURES_REPLY", VERSION[proto]!, sw.groups.featuresReply());
}

/** Meter reply text split into one block per meter, sorted (OVS lists meters in hash order). */
export function meterBlocks(lines: string[]): string[] {
  const blocks: string[] = [];
  for (const l of lines) {
    if (/^meter[=:]/.test(l) || blocks.length === 0) blocks.push(l);
    else blocks[blocks.length - 1] += "\n" + l;
  }
  return blocks.sort();
}

export function ourMeterConfig(sw: Switch, meterId = 0xffffffff): string[] | string {
  const r = sw.meters.configReply(meterId);
  if (!r.ok) return r.error;
  return meterBlocks(printed("OFPST_METER_CONFIG_REPLY", 4, { meters: r.entries }));
}

export function ourMeterStats(sw: Switch, now: number, meterId = 0xffffffff): string[] | string {
  const r = sw.meters.statsReply(meterId, now);
  if (!r.ok) return r.error;
  return meterBlocks(printed("OFPST_METER_REPLY", 4, { stats: r.entries }).map(noDurations));
}

export function ourMeterFeatures(sw: Switch): string[] {
  return printed("OFPST_METER_FEATURES_REPLY", 4, sw.meters.featuresReply());
}

/** Our rules as `ovs-ofctl -O OpenFlow14 --no-stats dump-flows` prints them, sorted. */
export function ourFlows(sw: Switch): string[] {
  return sw.tables
    .allRules()
    .map((r) => formatRule({ ...r, priority: r.priority, match: r.match, actions: formatActions(r.actions) } as unknown as OfRule<string>))
    .sort();
}
