/**
 * `dpctl/normalize-actions FLOW ACTIONS [NAME=NUMBER...]`: datapath actions
 * shown per VLAN, independent of their order — a debugging aid for people
 * comparing two translations of the same packet.
 *
 * The actions are walked with the flow's VLAN stack: push_vlan and
 * pop_vlan change the stack (and are not shown); every other action is
 * filed under the stack in force when it runs. Each group is printed as
 * "vlan(vid=..,pcp=..): " for each tag (or "no vlan: "), "no mpls: " (or
 * the flow's outer MPLS label), then its actions, runs of outputs sorted
 * by port. Groups come in the order of their VLAN words (tpid, then tci),
 * no VLAN first, as OVS orders them.
 */
import { OdpParseError, parseOdpActions, parseOdpFlow } from "../flow/odp-parse.js";
import { OdpKeyError, odpKeyToFlow } from "../flow/odp-key.js";
import { formatOdpActions, formatOdpFlow } from "../flow/odp-format.js";
import { OVS_ACTION_ATTR_OUTPUT, OVS_ACTION_ATTR_POP_VLAN, OVS_ACTION_ATTR_PUSH_VLAN } from "../flow/odp-attrs.js";
import { W_DL_TYPE, S_DL_TYPE, W_MPLS_LSE0, W_VLAN0, W_VLAN1 } from "../flow/key-layout.js";
import { concatBytes } from "../packet/bytes.js";

/** What was printed and, on failure, the error (errno and OVS's message). */
export interface NormalizeResult {
  text: string;
  error: { errno: number; message: string } | null;
}

const EINVAL = 22;
const ENOENT = 2;

/** One group: the VLAN words in force and the actions filed under them (netlink attributes). */
interface Group {
  vlan0: number;
  vlan1: number;
  attrs: Uint8Array[];
}

function attrType(a: Uint8Array): number {
  return a[2]! | (a[3]! << 8);
}

function outputPort(a: Uint8Array): number {
  return (a[4]! | (a[5]! << 8) | (a[6]! << 16) | (a[7]! << 24)) >>> 0;
}

/** Sorts each run of consecutive output actions by port (OVS's sort_output_actions). */
function sortOutputRuns(attrs: Uint8Array[]): void {
  let start = -1;
  for (let i = 0; i <= attrs.length; i++) {
    const isOut = i < attrs.length && attrType(attrs[i]!) === OVS_ACTION_ATTR_OUTPUT;
    if (isOut && start < 0) start = i;
    if (!isOut && start >= 0) {
      const run = attrs.slice(start, i).sort((a, b) => outputPort(a) - outputPort(b));
      attrs.splice(start, run.length, ...run);
      start = -1;
    }
  }
}


function vlanPrefix(word: number): string {
  const tpid = word >>> 16;
  const tci = word & 0xffff;
  // OVS prints the tpid as it sits in memory (network order) read as a
  // host (little-endian) number: 0x88a8 shows as 0xa888.
  const shown = ((tpid & 0xff) << 8) | (tpid >>> 8);
  const t = tpid !== 0x8100 ? `tpid=0x${shown.toString(16).padStart(4, "0")},` : "";
  return `vlan(${t}vid=${tci & 0xfff},pcp=${tci >>> 13}): `;
}

/** Runs normalize-actions; `args` are FLOW, ACTIONS and NAME=NUMBER port names. */
export function normalizeActions(args: readonly string[]): NormalizeResult {
  const ports = new Map<string, number>();
  for (const a of args.slice(2)) {
    const m = /^([^=]{1,15})=([+-]?\d+)/.exec(a);
    if (m === null) return { text: "", error: { errno: 0, message: `${a}: expected NAME=NUMBER` } };
    ports.set(m[1]!, Number(m[2]));
  }
  let key: Uint8Array;
  try {
    key = parseOdpFlow(args[0]!, ports).key;
  } catch (e) {
    if (!(e instanceof OdpParseError)) throw e;
    // OVS says where the syntax error is, without tsovs's explanation after it.
    const m = /^(.*) \(([^()]* [^()]*)\)$/.exec(e.message);
    return { text: "", error: { errno: EINVAL, message: `odp_flow_key_from_string (${m !== null ? m[1]! : e.message})` } };
  }
  let text = `input flow: ${formatOdpFlow(key, null)}\n`;
  let flow: Uint32Array;
  try {
    flow = odpKeyToFlow(key);
  } catch (e) {
    if (!(e instanceof OdpKeyError)) throw e;
    return { text, error: { errno: ENOENT, message: "odp_flow_key_to_flow failed (reason unknown)" } };
  }
  let actions: Uint8Array;
  try {
    // A copy: the parser's buffer may be reused by the formatting below.
    actions = parseOdpActions(args[1]!, ports).slice();
  } catch (e) {
    if (!(e instanceof OdpParseError)) throw e;
    return { text, error: { errno: EINVAL, message: "odp_actions_from_string" } };
  }
  let vlan0 = flow[W_VLAN0]!;
  let vlan1 = flow[W_VLAN1]!;
  const groups: Group[] = [];
  for (let off = 0; off + 4 <= actions.length; ) {
    const len = actions[off]! | (actions[off + 1]! << 8);
    if (len < 4) break;
    const attr = actions.subarray(off, off + ((len + 3) & ~3));
    off += (len + 3) & ~3;
    const type = attrType(attr);
    if (type === OVS_ACTION_ATTR_POP_VLAN) {
      vlan0 = vlan1;
      vlan1 = 0;
      continue;
    }
    if (type === OVS_ACTION_ATTR_PUSH_VLAN) {
      vlan1 = vlan0;
      // struct ovs_action_push_vlan: tpid and tci, big-endian.
      vlan0 = (((attr[4]! << 8) | attr[5]!) << 16 | ((attr[6]! << 8) | attr[7]!)) >>> 0;
      continue;
    }
    let g = groups.find((x) => x.vlan0 === vlan0 && x.vlan1 === vlan1);
    if (g === undefined) {
      g = { vlan0, vlan1, attrs: [] };
      groups.push(g);
    }
    g.attrs.push(attr);
  }
  groups.sort((a, b) => a.vlan0 - b.vlan0 || a.vlan1 - b.vlan1);
  const dlType = flow[W_DL_TYPE]! >>> S_DL_TYPE;
  const lse = flow[W_MPLS_LSE0]! >>> 0;
  const mpls = dlType === 0x8847 || dlType === 0x8848
    ? `mpls(label=${lse >>> 12},tc=${(lse >>> 9) & 7},ttl=${lse & 0xff}): `
    : "no mpls: ";
  for (const g of groups) {
    sortOutputRuns(g.attrs);
    let prefix = "";
    for (const w of [g.vlan0, g.vlan1]) {
      if ((w & 0xffff) === 0) {
        if (prefix === "") prefix = "no vlan: ";
        break;
      }
      prefix += vlanPrefix(w);
    }
    // Groups follow each other without a separator, as OVS prints them.
    text += `${prefix}${mpls}${formatOdpActions(concatBytes(g.attrs))}`;
  }
  return { text, error: null };
}
