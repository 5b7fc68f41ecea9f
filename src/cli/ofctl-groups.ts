/**
 * ovs-ofctl(8)'s group and meter commands: add-group(s), mod-group
 * (--may-create), del-groups, insert-buckets, remove-buckets, dump-groups,
 * dump-group-stats, dump-group-features; add-meter, mod-meter, del-meters,
 * dump-meters, meter-stats, meter-features. Groups use OVS's Nicira forms
 * in OpenFlow 1.0, meters need OpenFlow 1.3 (negotiated as for flow mods).
 */
import { OFPG_ALL, OFPG_ANY, OFPM13_ALL, type OfpMessage } from "../openflow/index.js";
import type { GroupModBody } from "../openflow/ofp-group.js";
import {
  GROUP_COMMAND_ADD,
  GROUP_COMMAND_DELETE,
  GROUP_COMMAND_REMOVE_BUCKET,
  parseGroupMod,
  type ParsedGroupMod,
} from "../openflow/ofp-group-parse.js";
import { parseMeterMod } from "../openflow/ofp-meter-parse.js";
import { P_OF10_ANY, P_OF13_UP, P_OF15_OXM } from "../openflow/ofp-flow-parse.js";
import { allocXid } from "../openflow/vconn.js";
import { vlogModule } from "../util/vlog.js";
import { Fatal, type Options, preprocessedLines, readInput } from "./ofctl-common.js";
import { bundleTransact, msg, openForFlowMod, type Run, type Session } from "./ofctl-switch.js";

/* ----- groups and meters (simple forms) ----- */

const groupLog = vlogModule("ofp_group");

/** ofputil_group_from_string: a number, "all" or "any"; anything else warns and means all. */
function groupIdArg(s: string | undefined): number {
  if (s === undefined) return OFPG_ALL;
  if (s.toLowerCase() === "any") return OFPG_ANY;
  if (s.toLowerCase() === "all") return OFPG_ALL;
  if (/^[0-9]+$/.test(s) && Number(s) <= 0xffffffff) return Number(s);
  groupLog.warn(`${s} is not a valid group ID.  (Valid group IDs are 32-bit nonnegative integers or the keywords ANY or ALL.)`);
  return OFPG_ALL;
}

export const cmdDumpGroups: Run = async (sess, [name, group]) => {
  const v = await sess.open(name!);
  try {
    const groupId = groupIdArg(group);
    const type = v.version === 1 ? "NXST_GROUP_DESC_REQUEST" : "OFPST_GROUP_DESC_REQUEST";
    await sess.dump(v, msg({ type, version: v.version, xid: allocXid(), body: { groupId } } as OfpMessage));
  } finally {
    v.close();
  }
};

function parseGroupOrFatal(text: string, command: number): GroupModBody {
  const g = parseGroupMod(text, command);
  if ("error" in g) throw new Fatal(g.error);
  return groupModBody(g);
}

/** The parsed group in the codec's form. */
function groupModBody(g: ParsedGroupMod): GroupModBody {
  const body: GroupModBody = {
    command: g.command,
    type: g.type,
    groupId: g.groupId,
    buckets: g.buckets.map((b) => ({ bucketId: b.bucketId, weight: b.weight, watchPort: b.watchPort, watchGroup: b.watchGroup, actions: b.actions })),
    commandBucketId: g.commandBucketId,
  };
  if (g.props.selectionMethod) body.props = g.props;
  return body;
}

function encodeGroupMod(g: GroupModBody, version: number, xid = allocXid()): Uint8Array {
  const names: Readonly<Record<number, string>> = { 3: "insert-bucket", 5: "remove-bucket" };
  if ((g.command === 3 || g.command === 5) && version > 1 && version < 6) {
    throw new Fatal(`${names[g.command]} needs OpenFlow 1.5 or later ('-O OpenFlow15')`);
  }
  // OpenFlow 1.1-1.4 number buckets by position.
  const body = version > 1 && version < 6 ? { ...g, buckets: g.buckets.map(({ bucketId: _id, ...b }) => b) } : g;
  return msg({ type: version === 1 ? "NXT_GROUP_MOD" : "OFPT_GROUP_MOD", version, xid, body } as OfpMessage);
}

async function groupModsToSwitch(sess: Session, name: string, gms: GroupModBody[]): Promise<void> {
  // Removing buckets needs OpenFlow 1.5's group_mod (or OVS's 1.0 extension).
  const usable = gms.some((g) => g.command === GROUP_COMMAND_REMOVE_BUCKET) ? P_OF10_ANY | P_OF15_OXM : 0x1ff;
  const { v } = await openForFlowMod(sess, name, usable);
  try {
    if (sess.opts.bundle) {
      await bundleTransact(sess, v, gms.map((g) => (xid: number) => encodeGroupMod(g, v.version, xid)));
      return;
    }
    for (const g of gms) await sess.noreply(v, [encodeGroupMod(g, v.version)]);
  } finally {
    v.close();
  }
}

export function groupCommand(command: number | ((o: Options) => number)): Run {
  return async (sess, [name, spec]) => {
    const cmd = typeof command === "number" ? command : command(sess.opts);
    if (spec === "-") {
      await groupFile(sess, name!, "-", cmd);
      return;
    }
    await sess.nameMaps(name!, true);
    await groupModsToSwitch(sess, name!, [parseGroupOrFatal(sess.withPortNumbers(name!, spec ?? ""), cmd)]);
  };
}

async function groupFile(sess: Session, name: string, file: string, command: number): Promise<void> {
  await sess.nameMaps(name, true);
  const text = readInput(file);
  const gms: GroupModBody[] = [];
  for (const { line, n } of preprocessedLines(text)) {
    const g = parseGroupMod(sess.withPortNumbers(name, line), command);
    if ("error" in g) throw new Fatal(`${file}:${n}: ${g.error}`);
    gms.push(groupModBody(g));
  }
  await groupModsToSwitch(sess, name, gms);
}

export const cmdAddGroups: Run = (sess, [name, file]) => groupFile(sess, name!, file!, GROUP_COMMAND_ADD);

export const cmdDumpGroupStats: Run = async (sess, [name, group]) => {
  await sess.nameMaps(name!, true);
  const g = parseGroupMod(group ?? "", GROUP_COMMAND_DELETE);
  if ("error" in g) throw new Fatal(g.error);
  const v = await sess.open(name!);
  try {
    const type = v.version === 1 ? "NXST_GROUP_REQUEST" : "OFPST_GROUP_REQUEST";
    await sess.dump(v, msg({ type, version: v.version, xid: allocXid(), body: { groupId: g.groupId } } as OfpMessage));
  } finally {
    v.close();
  }
};

export const cmdDumpGroupFeatures: Run = async (sess, [name]) => {
  const v = await sess.open(name!);
  try {
    const type = v.version < 3 ? "NXST_GROUP_FEATURES_REQUEST" : "OFPST_GROUP_FEATURES_REQUEST";
    await sess.dump(v, msg({ type, version: v.version, xid: allocXid(), body: {} } as OfpMessage));
  } finally {
    v.close();
  }
};

export const cmdDelGroups: Run = groupCommand(GROUP_COMMAND_DELETE);

/** Meters: add/mod with a full specification, the rest with `meter=N` (default all). */
export function meterMod(command: number): Run {
  return async (sess, [name, spec]) => {
    // del-meters without an argument means all meters, unparsed.
    const mm = spec === undefined && command === 2 ? { command, meter: { meterId: OFPM13_ALL, flags: 0, bands: [] } } : parseMeterMod(spec ?? "", command);
    if ("error" in mm) throw new Fatal(mm.error);
    const { v } = await openForFlowMod(sess, name!, P_OF13_UP);
    try {
      await sess.noreply(v, [msg({ type: "OFPT_METER_MOD", version: v.version, xid: allocXid(), body: { command, meter: mm.meter } })]);
    } finally {
      v.close();
    }
  };
}

export function meterStats(type: "OFPST_METER_REQUEST" | "OFPST_METER_CONFIG_REQUEST"): Run {
  return async (sess, [name, meter]) => {
    // Without an argument: all meters, unparsed.
    const mm = meter === undefined ? { meter: { meterId: OFPM13_ALL } } : parseMeterMod(meter, 2);
    if ("error" in mm) throw new Fatal(mm.error);
    const id = mm.meter.meterId;
    const { v } = await openForFlowMod(sess, name!, P_OF13_UP);
    try {
      await sess.dump(v, msg({ type, version: v.version, xid: allocXid(), body: { meterId: id } }));
    } finally {
      v.close();
    }
  };
}

export const cmdMeterFeatures: Run = async (sess, [name]) => {
  const { v } = await openForFlowMod(sess, name!, P_OF13_UP);
  try {
    await sess.dump(v, msg({ type: "OFPST_METER_FEATURES_REQUEST", version: v.version, xid: allocXid(), body: {} }));
  } finally {
    v.close();
  }
};

export const cmdDelMeters: Run = meterMod(2);
