/**
 * Comparing `ofproto/trace` reports of two switches where OVS itself is
 * not deterministic: a NORMAL flood lists its outputs in the order of the
 * bridge's bundle list, which follows the random uuids of the Port rows,
 * and output to ALL or FLOOD walks a port map whose order depends on the
 * order ports were added. For those traces the datapath actions are
 * compared as the set of outputs, each with the header changes in force
 * when it happens. Recirculation ids are allocation counters (OVS's are
 * global to the process): they are compared by order of appearance.
 */

/** Splits a datapath action list at its top-level commas. */
function splitActions(actions: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < actions.length; i++) {
    const c = actions[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(actions.slice(start, i));
      start = i + 1;
    }
  }
  out.push(actions.slice(start));
  return out;
}

/** The datapath actions of a flood or ALL/FLOOD output as a set of "port: state" entries; other actions unchanged. */
export function floodAsSet(trace: string, actions: string): string {
  if (!trace.includes("flooding") && !/^ +(ALL|FLOOD)$/m.test(trace)) return actions;
  const parts = splitActions(actions);
  // Only plain outputs and header changes: anything else keeps its order.
  if (!parts.every((a) => /^\d+$/.test(a) || /^(push_vlan|pop_vlan|set)\b/.test(a))) return actions;
  const input = /^Flow: .*\bdl_vlan=(\d+),dl_vlan_pcp=(\d+)/m.exec(trace);
  const state = new Map<string, string>([["vlan", input ? `vid=${input[1]},pcp=${input[2]}` : "untagged"]]);
  const outs: string[] = [];
  for (const a of parts) {
    if (a.startsWith("push_vlan")) state.set("vlan", a.slice(10, -1));
    else if (a === "pop_vlan") state.set("vlan", "untagged");
    else if (a.startsWith("set")) state.set(/^set\((\w+)/.exec(a)?.[1] ?? a, a);
    else outs.push(`${a}:${[...state].sort().map(([, v]) => v).join(";")}`);
  }
  return `flood{${outs.sort().join(" ")}}`;
}

/** Recirculation ids renumbered by order of appearance. */
export function canonicalRecirc(actions: string): string {
  const ids = new Map<string, number>();
  const id = (v: string): string => {
    const n = BigInt(v).toString();
    if (!ids.has(n)) ids.set(n, ids.size + 1);
    return `#${ids.get(n)}`;
  };
  return actions.replace(/recirc_id=(0x[0-9a-f]+|\d+)/g, (_, v: string) => `recirc_id=${id(v)}`).replace(/recirc\((0x[0-9a-f]+|\d+)\)/g, (_, v: string) => `recirc(${id(v)})`);
}

/** A whole trace report with its `Datapath actions:` line made comparable (see above). */
export function canonicalTrace(trace: string): string {
  return trace.replace(/^Datapath actions: (.*)$/m, (_, acts: string) => `Datapath actions: ${canonicalRecirc(floodAsSet(trace, acts))}`);
}
