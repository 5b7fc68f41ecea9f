/**
 * Test helpers: ovs-ofctl flow text -> OfproFlowMod<string> (actions kept
 * as text), decoded as OVS 3.1 decodes what `ovs-ofctl` sends by default
 * (OF1.0 flow_mods; NXM when a cookie mask is given), and rules printed
 * as `ovs-ofctl -O OpenFlow14 --no-stats dump-flows` prints them.
 */
import { formatMatch, Match, parseMatch, splitKeyValues } from "../../src/openflow/index.js";
import { flowMod, NO_FLAGS, OFP_DEFAULT_PRIORITY, OFPTT_ALL, type ActionFacts, type FlowModCommand, type OfproFlowMod, type OfRule } from "../../src/ofproto/index.js";

const FLAG_KEYS = { send_flow_rem: "sendFlowRem", check_overlap: "checkOverlap", reset_counts: "resetCounts", no_packet_counts: "noPacketCounts", no_byte_counts: "noByteCounts" } as const;

/** Action facts for action text: `output:N` outputs to N, `group:N` forwards to group N. */
export const TEXT_ACTIONS: ActionFacts<string> = {
  outputsTo: (a, port) => a.split(",").some((x) => x === `output:${port}`),
  forwardsToGroup: (a, g) => a.split(",").some((x) => x === `group:${g}`),
};

function bigOf(s: string): bigint {
  if (s === "-1") return 0xffffffffffffffffn;
  return BigInt(s);
}

/**
 * Parses `[table=..,][cookie=..,][flags,]match[,actions=...]` for `command`
 * as OVS decodes what `ovs-ofctl` sends: by default an OF1.0 flow_mod (NXM
 * when a cookie mask is given); `of13` for `-O OpenFlow13`/`14` (OXM).
 */
export function parseFlowMod(command: FlowModCommand, text: string, of13 = false): OfproFlowMod<string> {
  const at = text.indexOf("actions=");
  const head = at >= 0 ? text.slice(0, at) : text;
  const actions = at >= 0 ? text.slice(at + "actions=".length) : "drop";
  const fm = flowMod<string>(command, new Match(), actions);
  fm.flags = { ...NO_FLAGS };
  const matchParts: string[] = [];
  let cookie: string | null = null;
  let cookieMatch: string | null = null;
  for (const { key, value } of splitKeyValues(head)) {
    if (key in FLAG_KEYS && value === null) {
      fm.flags[FLAG_KEYS[key as keyof typeof FLAG_KEYS]] = true;
      continue;
    }
    switch (key) {
      case "table":
        fm.tableId = Number(value);
        continue;
      case "priority":
        fm.priority = Number(value);
        continue;
      case "cookie":
        if (value !== null && value.includes("/")) cookieMatch = value;
        else cookie = value;
        continue;
      case "idle_timeout":
        fm.idleTimeout = Number(value);
        continue;
      case "hard_timeout":
        fm.hardTimeout = Number(value);
        continue;
      case "importance":
        fm.importance = Number(value);
        continue;
      case "out_port":
        fm.outPort = Number(value);
        continue;
    }
    matchParts.push(value === null ? key : `${key}=${value}`);
  }
  const pm = parseMatch(matchParts.join(","));
  if (!pm.ok) throw new Error(pm.error);
  fm.match = pm.match;
  if (!head.includes("table=")) fm.tableId = command === "add" ? 0 : OFPTT_ALL;
  if (of13) {
    // OF1.2+: an add's cookie is its new cookie; other commands match on cookie/mask and never set one.
    const [v, m] = (cookieMatch ?? cookie ?? "0").split("/");
    if (command === "add") {
      fm.cookie = 0n;
      fm.cookieMask = 0n;
      fm.newCookie = bigOf(v!);
    } else {
      fm.cookie = bigOf(v!);
      fm.cookieMask = m === undefined ? 0n : bigOf(m);
      fm.newCookie = null;
    }
    fm.modifyCookie = false;
    // OF1.2+ allows table 255 only in deletes: ovs-ofctl sends a modify without table= to table 0.
    if ((command === "modify" || command === "modify_strict") && fm.tableId === OFPTT_ALL) fm.tableId = 0;
    return fm;
  }
  if (cookieMatch !== null) {
    // NXM: the cookie to match is in the match, the new one (if any) in the message.
    const [v, m] = cookieMatch.split("/");
    fm.cookie = bigOf(v!);
    fm.cookieMask = bigOf(m!);
    fm.newCookie = cookie === null ? null : bigOf(cookie);
    fm.modifyCookie = cookie !== null;
  } else {
    fm.cookie = 0n;
    fm.cookieMask = 0n;
    fm.newCookie = cookie === null ? 0n : bigOf(cookie);
    fm.modifyCookie = true;
  }
  // OVS's OF1.0/1.1 decoders: an add always resets counters.
  if (command === "add") fm.flags.resetCounts = true;
  return fm;
}

/** A rule as `ovs-ofctl -O OpenFlow14 --no-stats dump-flows` prints it. */
export function formatRule(r: OfRule<string>): string {
  let s = " ";
  if (r.cookie !== 0n) s += `cookie=0x${r.cookie.toString(16)}, `;
  if (r.tableId !== 0) s += `table=${r.tableId}, `;
  if (r.idleTimeout !== 0) s += `idle_timeout=${r.idleTimeout}, `;
  if (r.hardTimeout !== 0) s += `hard_timeout=${r.hardTimeout}, `;
  for (const [k, f] of Object.entries(FLAG_KEYS)) if (r.flags[f]) s += `${k} `;
  if (r.importance !== 0) s += `importance=${r.importance}, `;
  const m = formatMatch(r.match);
  const match = r.priority !== OFP_DEFAULT_PRIORITY ? (m ? `priority=${r.priority},${m}` : `priority=${r.priority}`) : m;
  s += match + (match ? " " : "") + `actions=${r.actions}`;
  return s;
}
