/**
 * Multipart (stats) bodies without matches or actions: switch description,
 * table, port and queue statistics, queue configuration (OF1.0-1.3
 * OFPT_QUEUE_GET_CONFIG and OF1.4 queue-desc), group features, and the
 * meter family (meter-mod, meter stats/config/features), request-forward
 * (a forwarded meter-mod or group-mod, in every version's form).
 */
import { nestedMessageType } from "./ofp-codec.js";
import { GROUP_MOD15_CODEC } from "./ofp-group15.js";
import { GROUP_MOD_CODEC, type GroupModBody } from "./ofp-group.js";
import { OfpReader, type OfpWriter } from "./ofp-buffer.js";
import {
  decodeEntries,
  bitNames,
  type BodyCodec,
  type DecodeError,
  fail,
  formatPort,
  hexAlt,
  isDecodeError,
  OFPP_ALL,
  OFPP_MAX,
  OFPP_NONE,
  pullProperty,
  putProperty,
  readPort,
  withPartial,
  writePort,
} from "./ofp-codec.js";

const U64_MAX = 0xffffffffffffffffn;
const U32_MAX = 0xffffffff;

function stat(v: bigint): string {
  return v === U64_MAX ? "?" : v.toString();
}

/**
 * OVS's duration text: seconds, then milliseconds, then any finer digits
 * without trailing zeros ("3.500s", "3.48656512s", "5.000000006s").
 */
function duration(sec: number, nsec: number): string {
  if (sec === U32_MAX) return "?";
  let s = String(sec);
  if (nsec > 0) {
    const frac = String(nsec).padStart(9, "0");
    s += "." + (frac.endsWith("000000") ? frac.slice(0, 3) : frac.replace(/0+$/, ""));
  }
  return s + "s";
}

/* ---------------- desc ---------------- */

export interface DescReplyBody {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export const DESC_REPLY_CODEC: BodyCodec<DescReplyBody> = {
  decode(r) {
    return {
      mfrDesc: r.fixedString(256),
      hwDesc: r.fixedString(256),
      swDesc: r.fixedString(256),
      serialNum: r.fixedString(32),
      dpDesc: r.fixedString(256),
    };
  },
  encode(w, b) {
    w.fixedString(b.mfrDesc, 256).fixedString(b.hwDesc, 256).fixedString(b.swDesc, 256);
    w.fixedString(b.serialNum, 32).fixedString(b.dpDesc, 256);
  },
  print(b) {
    return `\nManufacturer: ${b.mfrDesc}\nHardware: ${b.hwDesc}\nSoftware: ${b.swDesc}\nSerial Num: ${b.serialNum}\nDP Description: ${b.dpDesc}\n`;
  },
};

/* ---------------- table stats (OF1.0, OF1.1, OF1.3+) ---------------- */

export interface TableStats {
  tableId: number;
  /** OF1.0/1.1 only. */
  name: string;
  /** OF1.0/1.1: wildcardable fields (each version's bit layout). */
  wildcards: number;
  /** OF1.1: matchable fields. */
  match: number;
  /** OF1.1: instruction bitmap (bit = instruction type). */
  instructions: number;
  /** OF1.1: action bitmaps (bit = OF1.1 action type). */
  writeActions: number;
  applyActions: number;
  /** OF1.1/1.2: table-miss config (OFPTC11_TABLE_MISS_*). */
  config: number;
  /** OF1.2: OXM field bitmaps (bit n = OXM_OF_* field n). */
  oxmMatch: bigint;
  oxmWildcards: bigint;
  writeSetfields: bigint;
  applySetfields: bigint;
  metadataMatch: bigint;
  metadataWrite: bigint;
  maxEntries: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface TableStatsReplyBody {
  tables: TableStats[];
}

function decodeTableStats(r: OfpReader, v: number): TableStats {
  const t: TableStats = {
    tableId: r.u8(), name: "", wildcards: 0, match: 0, instructions: 0, writeActions: 0, applyActions: 0,
    config: 0, oxmMatch: 0n, oxmWildcards: 0n, writeSetfields: 0n, applySetfields: 0n, metadataMatch: 0n,
    metadataWrite: 0n, maxEntries: 0, activeCount: 0, lookupCount: 0n, matchedCount: 0n,
  };
  if (v === 1) {
    r.skip(3);
    t.name = r.fixedString(32);
    t.wildcards = r.u32();
  } else if (v === 2) {
    r.skip(7);
    t.name = r.fixedString(32);
    t.wildcards = r.u32();
    t.match = r.u32();
    t.instructions = r.u32();
    t.writeActions = r.u32();
    t.applyActions = r.u32();
    t.config = r.u32();
  } else if (v === 3) {
    r.skip(7);
    t.name = r.fixedString(32);
    t.oxmMatch = r.u64();
    t.oxmWildcards = r.u64();
    t.writeActions = r.u32();
    t.applyActions = r.u32();
    t.writeSetfields = r.u64();
    t.applySetfields = r.u64();
    t.metadataMatch = r.u64();
    t.metadataWrite = r.u64();
    t.instructions = r.u32();
    t.config = r.u32();
  } else {
    r.skip(3);
  }
  if (v <= 3) t.maxEntries = r.u32();
  t.activeCount = r.u32();
  t.lookupCount = r.u64();
  t.matchedCount = r.u64();
  return t;
}

function encodeTableStats(w: OfpWriter, t: TableStats, v: number): void {
  w.u8(t.tableId);
  if (v === 1) w.zeros(3).fixedString(t.name, 32).u32(t.wildcards);
  else if (v === 2) {
    w.zeros(7).fixedString(t.name, 32).u32(t.wildcards).u32(t.match).u32(t.instructions);
    w.u32(t.writeActions).u32(t.applyActions).u32(t.config);
  } else if (v === 3) {
    w.zeros(7).fixedString(t.name, 32).u64(t.oxmMatch).u64(t.oxmWildcards).u32(t.writeActions).u32(t.applyActions);
    w.u64(t.writeSetfields).u64(t.applySetfields).u64(t.metadataMatch).u64(t.metadataWrite);
    w.u32(t.instructions).u32(t.config);
  } else w.zeros(3);
  if (v <= 3) w.u32(t.maxEntries);
  w.u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
}

export const TABLE_STATS_REPLY_CODEC: BodyCodec<TableStatsReplyBody> = {
  decode(r, ctx) {
    const tables: TableStats[] = [];
    while (r.remaining > 0) tables.push(decodeTableStats(r, ctx.version));
    return { tables };
  },
  encode(w, b, ctx) {
    for (const t of b.tables) encodeTableStats(w, t, ctx.version);
  },
  print(b, ctx) {
    let s = "";
    let firstDitto = -1;
    let lastDitto = -1;
    const finish = (): void => {
      if (firstDitto < 0) return;
      s += firstDitto === lastDitto ? `\n  table ${firstDitto}: ditto\n` : `\n  tables ${firstDitto}...${lastDitto}: ditto\n`;
      firstDitto = -1;
    };
    b.tables.forEach((t, i) => {
      const prev = i > 0 ? b.tables[i - 1]! : null;
      const f = tableFeatures(t, ctx.version);
      const pf = prev ? tableFeatures(prev, ctx.version) : null;
      const sameStats = prev !== null && prev.activeCount === t.activeCount && prev.lookupCount === t.lookupCount &&
        prev.matchedCount === t.matchedCount;
      const sameFeatures = pf !== null && pf.key === f.key;
      if (sameStats && sameFeatures && !t.name) {
        if (firstDitto < 0) firstDitto = t.tableId;
        lastDitto = t.tableId;
        return;
      }
      finish();
      s += `\n  table ${t.tableId}` + (t.name ? ` ("${t.name}")` : "") + ":";
      if (sameStats && sameFeatures) {
        s += " ditto";
        return;
      }
      s += "\n";
      s += `    active=${t.activeCount}, lookup=${t.lookupCount}, matched=${t.matchedCount}\n`;
      if (sameFeatures) {
        if (!f.empty) s += "    (same features)\n";
        return;
      }
      if (t.metadataMatch || t.metadataWrite) {
        s += `    metadata: match=${hexAlt64(t.metadataMatch)} write=${hexAlt64(t.metadataWrite)}\n`;
      }
      if (f.miss) s += `    config=${f.miss}\n`;
      if (t.maxEntries) s += `    max_entries=${t.maxEntries}\n`;
      const insnEmpty = f.insnKey === "||||";
      if (pf && pf.insnKey === f.insnKey) {
        if (!insnEmpty) s += "    (same instructions)\n";
      } else if (!insnEmpty) {
        s += "    instructions (table miss and others):\n";
        if (f.instructions.length) {
          if (pf && pf.instructions.join() === f.instructions.join()) s += "      (same instructions)\n";
          else s += `      instructions: ${f.instructions.join(" ")}\n`;
        }
        const acts = (names: string[], fields: string[]): string =>
          (names.length ? `        actions: ${names.join(" ")}\n` : "") +
          (fields.length ? `        supported on Set-Field: ${compressNames(fields)}\n` : "");
        const writeKey = f.actions.join() + "|" + f.setFields.join();
        const applyKey = f.applyActions.join() + "|" + f.applySetFields.join();
        const sameActions = pf !== null && pf.actions.join() + "|" + pf.setFields.join() === writeKey &&
          pf.applyActions.join() + "|" + pf.applySetFields.join() === applyKey && f.setFields.length > 0;
        if (sameActions) s += "      (same actions)\n";
        else if (writeKey !== applyKey) {
          s += "      Write-Actions features:\n" + acts(f.actions, f.setFields);
          s += "      Apply-Actions features:\n" + acts(f.applyActions, f.applySetFields);
        } else if (f.actions.length || f.setFields.length) {
          s += "      Write-Actions and Apply-Actions features:\n" + acts(f.actions, f.setFields);
        }
      }
      if (f.wild.length || f.exact.length) {
        if (pf && pf.matchKey === f.matchKey) s += "    (same matching)\n";
        else {
          s += "    matching:\n";
          if (f.wild.length) s += `      exact match or wildcard: ${compressNames(f.wild)}\n`;
          if (f.exact.length) s += `      must exact match: ${compressNames(f.exact)}\n`;
        }
      }
    });
    finish();
    return s;
  },
};

/** A table's features as ofp-print compares and shows them. */
interface TableFeaturesView {
  miss: string | null;
  instructions: string[];
  /** Write-actions (and their set-field fields), apply-actions likewise. */
  actions: string[];
  setFields: string[];
  applyActions: string[];
  applySetFields: string[];
  wild: string[];
  exact: string[];
  empty: boolean;
  key: string;
  insnKey: string;
  matchKey: string;
}

function tableFeatures(t: TableStats, v: number): TableFeaturesView {
  let wild: string[] = [];
  let exact: string[] = [];
  let instructions: string[] = [];
  let actions: string[] = [];
  let applyActions: string[] = [];
  let setFields: string[] = [];
  let applySetFields: string[] = [];
  let miss: string | null = null;
  if (v === 1) {
    wild = OF10_WILDCARD_FIELDS.filter(([bits]) => t.wildcards & bits).map(([, n]) => n);
  } else if (v === 2) {
    for (const [bit, name] of OF11_MATCH_FIELDS) {
      if (!(t.match & bit)) continue;
      (t.wildcards & bit ? wild : exact).push(name);
    }
    instructions = OF11_INSTRUCTIONS.filter(([type]) => t.instructions & (1 << type)).map(([, n]) => n);
    // OVS reads both action sets from the write-actions bitmap.
    actions = OF11_ACTION_ORDER.filter(([type]) => t.writeActions & (1 << type)).map(([, n]) => n);
    applyActions = actions;
    miss = ["controller", "continue", "drop", "controller"][t.config & 3]!;
  } else if (v === 3) {
    for (const [bit, name] of OF12_FIELDS) {
      if (!(t.oxmMatch & bit)) continue;
      (t.oxmWildcards & bit ? wild : exact).push(name);
    }
    instructions = OF11_INSTRUCTIONS.filter(([type]) => t.instructions & (1 << type)).map(([, n]) => n);
    actions = OF12_ACTION_ORDER.filter(([type]) => t.writeActions & (1 << type)).map(([, n]) => n);
    applyActions = OF12_ACTION_ORDER.filter(([type]) => t.applyActions & (1 << type)).map(([, n]) => n);
    setFields = OF12_FIELDS.filter(([bit]) => t.writeSetfields & bit).map(([, n]) => n);
    applySetFields = OF12_FIELDS.filter(([bit]) => t.applySetfields & bit).map(([, n]) => n);
    miss = ["controller", "continue", "drop", "controller"][t.config & 3]!;
  }
  const insnKey = [instructions, actions, setFields, applyActions, applySetFields].map((x) => x.join()).join("|");
  const matchKey = wild.join() + "|" + exact.join();
  const key = `${miss}|${t.maxEntries}|${t.metadataMatch}|${t.metadataWrite}|${insnKey}|${matchKey}`;
  const empty = !miss && !t.maxEntries && !t.metadataMatch && !t.metadataWrite && insnKey === "||||" && matchKey === "|";
  return { miss, instructions, actions, setFields, applyActions, applySetFields, wild, exact, empty, key, insnKey, matchKey };
}

/** OF1.0 wildcard bits and the fields they stand for, in OVS's field order. */
const OF10_WILDCARD_FIELDS: readonly [number, string][] = [
  [1 << 0, "in_port"], [1 << 2, "eth_src"], [1 << 3, "eth_dst"], [1 << 4, "eth_type"], [1 << 1, "vlan_vid"],
  [1 << 20, "vlan_pcp"], [0x3f << 8, "ip_src"], [0x3f << 14, "ip_dst"], [1 << 5, "nw_proto"], [1 << 21, "nw_tos"],
  [1 << 6, "tcp_src"], [1 << 7, "tcp_dst"],
];

/** OF1.1 match/wildcard bits and their fields, in OVS's field order. */
const OF11_MATCH_FIELDS: readonly [number, string][] = [
  [1 << 15, "metadata"], [1 << 0, "in_port"], [1 << 11, "eth_src"], [1 << 12, "eth_dst"], [1 << 3, "eth_type"],
  [1 << 1, "vlan_vid"], [1 << 2, "vlan_pcp"], [1 << 8, "mpls_label"], [1 << 9, "mpls_tc"], [1 << 13, "ip_src"],
  [1 << 14, "ip_dst"], [1 << 5, "nw_proto"], [1 << 4, "nw_tos"], [1 << 6, "tcp_src"], [1 << 7, "tcp_dst"],
];

/** OF1.2 OXM fields (by OXM_OF_* number) in the order ofp-print lists them. */
const OF12_FIELDS: readonly [bigint, string][] = (
  [
    [2, "metadata"], [0, "in_port_oxm"], [4, "eth_src"], [3, "eth_dst"], [5, "eth_type"], [6, "vlan_vid"],
    [7, "vlan_pcp"], [34, "mpls_label"], [35, "mpls_tc"], [11, "ip_src"], [12, "ip_dst"], [26, "ipv6_src"],
    [27, "ipv6_dst"], [28, "ipv6_label"], [10, "nw_proto"], [8, "ip_dscp"], [9, "nw_ecn"], [21, "arp_op"],
    [22, "arp_spa"], [23, "arp_tpa"], [24, "arp_sha"], [25, "arp_tha"], [13, "tcp_src"], [14, "tcp_dst"],
    [15, "udp_src"], [16, "udp_dst"], [17, "sctp_src"], [18, "sctp_dst"], [19, "icmp_type"], [20, "icmp_code"],
    [29, "icmpv6_type"], [30, "icmpv6_code"], [31, "nd_target"], [32, "nd_sll"], [33, "nd_tll"],
  ] as const
).map(([n, name]) => [1n << BigInt(n), name] as [bigint, string]);

function hexAlt64(v: bigint): string {
  return v === 0n ? "0" : `0x${v.toString(16)}`;
}

/** OF1.1 instruction types in the order ofp-print lists them. */
const OF11_INSTRUCTIONS: readonly [number, string][] = [
  [4, "apply_actions"], [5, "clear_actions"], [3, "write_actions"], [2, "write_metadata"], [1, "goto_table"],
];

/** OF1.1 action types OVS supports, in the order ofp-print lists them. */
const OF11_ACTION_ORDER: readonly [number, string][] = [
  [0, "output"], [22, "group"], [1, "set_vlan_vid"], [2, "set_vlan_pcp"], [18, "strip_vlan"], [17, "push_vlan"],
  [3, "mod_dl_src"], [4, "mod_dl_dst"], [5, "mod_nw_src"], [6, "mod_nw_dst"], [7, "mod_nw_tos"], [8, "mod_nw_ecn"],
  [23, "mod_nw_ttl"], [9, "mod_tp_src"], [10, "mod_tp_dst"], [24, "dec_ttl"], [13, "set_mpls_label"],
  [14, "set_mpls_tc"], [15, "set_mpls_ttl"], [16, "dec_mpls_ttl"], [19, "push_mpls"], [20, "pop_mpls"],
  [21, "set_queue"],
];

/** "eth_src eth_dst vlan_vid" -> "eth_{src,dst} vlan_vid", as ofp-print groups field names. */
function compressNames(names: readonly string[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < names.length) {
    const pre = names[i]!.split("_")[0]!;
    let j = i + 1;
    while (j < names.length && names[j]!.split("_")[0] === pre) j++;
    if (j - i === 1) out.push(names[i]!);
    else out.push(`${pre}_{${names.slice(i, j).map((n) => n.slice(pre.length + 1)).join(",")}}`);
    i = j;
  }
  return out.join(" ");
}

/* ---------------- port stats ---------------- */

export interface PortStatsRequestBody {
  portNo: number;
}

export const PORT_STATS_REQUEST_CODEC: BodyCodec<PortStatsRequestBody> = {
  decode(r, ctx) {
    const p = readPort(r, ctx.version);
    r.skip(ctx.version === 1 ? 6 : 4);
    return isDecodeError(p) ? p : { portNo: p };
  },
  encode(w, b, ctx) {
    writePort(w, b.portNo, ctx.version);
    w.zeros(ctx.version === 1 ? 6 : 4);
  },
  print: (b) => ` port_no=${formatPort(b.portNo)}`,
};

export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  /** OF1.3+; 0xffffffff when unknown. */
  durationSec: number;
  durationNsec: number;
  /**
   * OF1.4+: the 21 RFC 2819 counters of Intel's experimenter property
   * (packet-size buckets, broadcast/multicast, ...), when present.
   */
  rfc2819?: bigint[];
  /** OF1.4+: named counters of Intel's "custom statistics" property. */
  customStats?: PortCustomStat[];
}

export interface PortCustomStat {
  name: string;
  value: bigint;
}

export interface PortStatsReplyBody {
  stats: PortStats[];
}

const OFPPSPT14_ETHERNET = 0;
const OFPPSPT14_EXPERIMENTER = 0xffff;
/** Intel's experimenter id, and its two port statistics property types. */
const INTEL_VENDOR_ID = 0x0000aa01;
const INTEL_PORT_STATS_RFC2819 = 1;
const INTEL_PORT_STATS_CUSTOM = 2;
export const RFC2819_COUNTERS = 21;
/** Longest custom counter name OVS carries (NETDEV_CUSTOM_STATS_NAME_SIZE - 1). */
const CUSTOM_NAME_MAX = 63;

/** Decodes the body of an Intel experimenter property (after type/len) into `ps`. */
function decodeIntelPortStatsProperty(data: Uint8Array, ps: PortStats): DecodeError | null {
  if (data.length < 8) return fail("OFPBPC_BAD_LEN");
  const pr = new OfpReader(data);
  if (pr.u32() !== INTEL_VENDOR_ID) return null;
  const expType = pr.u32();
  if (expType === INTEL_PORT_STATS_RFC2819) {
    if (data.length !== 8 + 4 + RFC2819_COUNTERS * 8) return fail("OFPBPC_BAD_LEN");
    pr.skip(4);
    ps.rfc2819 = Array.from({ length: RFC2819_COUNTERS }, () => pr.u64());
  } else if (expType === INTEL_PORT_STATS_CUSTOM) {
    if (pr.remaining < 4) return fail("OFPBPC_BAD_LEN");
    pr.skip(2);
    const n = pr.u16();
    const stats: PortCustomStat[] = [];
    for (let i = 0; i < n; i++) {
      if (pr.remaining < 1) return fail("OFPBPC_BAD_LEN");
      const len = pr.u8();
      if (pr.remaining < len + 8) return fail("OFPBPC_BAD_LEN");
      const name = Buffer.from(pr.bytes(len)).toString("latin1");
      stats.push({ name: name.slice(0, CUSTOM_NAME_MAX), value: pr.u64() });
    }
    ps.customStats = stats;
  }
  return null;
}

function decodePortStats(r: OfpReader, v: number): PortStats | DecodeError {
  if (v >= 5) {
    if (r.remaining < 80) return fail("OFPBRC_BAD_LEN");
    const len = r.u16();
    r.skip(2);
    const portNo = readPort(r, v);
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const c = Array.from({ length: 8 }, () => r.u64());
    if (len < 80 || len - 80 > r.remaining) return fail("OFPBRC_BAD_LEN");
    if (isDecodeError(portNo)) return portNo;
    const ps: PortStats = {
      portNo, rxPackets: c[0]!, txPackets: c[1]!, rxBytes: c[2]!, txBytes: c[3]!, rxDropped: c[4]!,
      txDropped: c[5]!, rxErrors: c[6]!, txErrors: c[7]!, rxFrameErr: U64_MAX, rxOverErr: U64_MAX,
      rxCrcErr: U64_MAX, collisions: U64_MAX, durationSec, durationNsec,
    };
    const props = r.sub(len - 80);
    while (props.remaining > 0) {
      const p = pullProperty(props);
      if (isDecodeError(p)) return p;
      if (p.type === OFPPSPT14_ETHERNET) {
        if (p.data.length !== 36) return fail("OFPBPC_BAD_LEN");
        const pr = new OfpReader(p.data);
        pr.skip(4);
        ps.rxFrameErr = pr.u64();
        ps.rxOverErr = pr.u64();
        ps.rxCrcErr = pr.u64();
        ps.collisions = pr.u64();
      } else if (p.type === OFPPSPT14_EXPERIMENTER) {
        const err = decodeIntelPortStatsProperty(p.data, ps);
        if (err !== null) return err;
      }
    }
    return ps;
  }
  const portNo = readPort(r, v);
  r.skip(v === 1 ? 6 : 4);
  const c = Array.from({ length: 12 }, () => r.u64());
  let durationSec = U32_MAX;
  let durationNsec = U32_MAX;
  if (v === 4) {
    durationSec = r.u32();
    durationNsec = r.u32();
  }
  if (isDecodeError(portNo)) return portNo;
  return {
    portNo, rxPackets: c[0]!, txPackets: c[1]!, rxBytes: c[2]!, txBytes: c[3]!, rxDropped: c[4]!,
    txDropped: c[5]!, rxErrors: c[6]!, txErrors: c[7]!, rxFrameErr: c[8]!, rxOverErr: c[9]!,
    rxCrcErr: c[10]!, collisions: c[11]!, durationSec, durationNsec,
  };
}

function encodePortStats(w: OfpWriter, s: PortStats, v: number): void {
  if (v >= 5) {
    const start = w.length;
    const f = w.fork(2);
    w.zeros(2);
    writePort(w, s.portNo, v);
    w.u32(s.durationSec).u32(s.durationNsec);
    for (const x of [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes, s.rxDropped, s.txDropped, s.rxErrors, s.txErrors]) w.u64(x);
    putProperty(w, OFPPSPT14_ETHERNET, (w) => {
      w.zeros(4).u64(s.rxFrameErr).u64(s.rxOverErr).u64(s.rxCrcErr).u64(s.collisions);
    });
    const rfc = s.rfc2819;
    if (rfc !== undefined) {
      putProperty(w, OFPPSPT14_EXPERIMENTER, (w) => {
        w.u32(INTEL_VENDOR_ID).u32(INTEL_PORT_STATS_RFC2819).zeros(4);
        for (let i = 0; i < RFC2819_COUNTERS; i++) w.u64(rfc[i] ?? U64_MAX);
      });
    }
    const custom = s.customStats;
    if (custom !== undefined && custom.length > 0) {
      putProperty(w, OFPPSPT14_EXPERIMENTER, (w) => {
        w.u32(INTEL_VENDOR_ID).u32(INTEL_PORT_STATS_CUSTOM).zeros(2).u16(custom.length);
        for (const c of custom) {
          const name = Buffer.from(c.name.slice(0, CUSTOM_NAME_MAX), "latin1");
          w.u8(name.length).bytes(name).u64(c.value);
        }
      });
    }
    w.setU16(f.at, w.length - start);
    return;
  }
  writePort(w, s.portNo, v);
  w.zeros(v === 1 ? 6 : 4);
  for (const x of [
    s.rxPackets, s.txPackets, s.rxBytes, s.txBytes, s.rxDropped, s.txDropped, s.rxErrors, s.txErrors,
    s.rxFrameErr, s.rxOverErr, s.rxCrcErr, s.collisions,
  ]) w.u64(x);
  if (v === 4) w.u32(s.durationSec).u32(s.durationNsec);
}

export const PORT_STATS_REPLY_CODEC: BodyCodec<PortStatsReplyBody> = {
  decode(r, ctx) {
    return decodeEntries(r, (r) => decodePortStats(r, ctx.version), (stats): PortStatsReplyBody => ({ stats }));
  },
  encode(w, b, ctx) {
    for (const s of b.stats) encodePortStats(w, s, ctx.version);
  },
  print(b) {
    let out = ` ${b.stats.length} ports\n`;
    for (const s of b.stats) {
      out += "  port " + (s.portNo < 10 ? " " : "") + formatPort(s.portNo) + ": ";
      out += `rx pkts=${stat(s.rxPackets)}, bytes=${stat(s.rxBytes)}, drop=${stat(s.rxDropped)}, errs=${stat(s.rxErrors)}, `;
      out += `frame=${stat(s.rxFrameErr)}, over=${stat(s.rxOverErr)}, crc=${stat(s.rxCrcErr)}\n`;
      out += `           tx pkts=${stat(s.txPackets)}, bytes=${stat(s.txBytes)}, drop=${stat(s.txDropped)}, errs=${stat(s.txErrors)}, coll=${stat(s.collisions)}\n`;
      if (s.durationSec !== U32_MAX) out += `           duration=${duration(s.durationSec, s.durationNsec)}\n`;
      if (s.rfc2819 !== undefined) out += formatRfc2819(s.rfc2819);
      if (s.customStats !== undefined && s.customStats.length > 0) out += formatCustomStats(s.customStats);
    }
    return out;
  },
};

/**
 * The RFC 2819 counters by wire index, received then transmitted, in the
 * order ofp-print lists the known ones.
 */
const RFC2819_RX: readonly [number, string][] = [
  [0, "1_to_64_packets"], [1, "65_to_127_packets"], [2, "128_to_255_packets"], [3, "256_to_511_packets"],
  [4, "512_to_1023_packets"], [5, "1024_to_1522_packets"], [6, "1523_to_max_packets"], [15, "broadcast_packets"],
  [17, "undersized_errors"], [18, "oversize_errors"], [19, "rx_fragmented_errors"], [20, "rx_jabber_errors"],
];
const RFC2819_TX: readonly [number, string][] = [
  [7, "1_to_64_packets"], [8, "65_to_127_packets"], [9, "128_to_255_packets"], [10, "256_to_511_packets"],
  [11, "512_to_1023_packets"], [12, "1024_to_1522_packets"], [13, "1523_to_max_packets"], [14, "multicast_packets"],
  [16, "broadcast_packets"],
];

/** The "rx rfc2819" and "tx rfc2819" lines: each only when one of its counters is known. */
function formatRfc2819(c: readonly bigint[]): string {
  let out = "";
  for (const [dir, names] of [["rx", RFC2819_RX], ["tx", RFC2819_TX]] as const) {
    const known = names.filter(([i]) => c[i] !== undefined && c[i] !== U64_MAX);
    if (known.length === 0) continue;
    out += `           ${dir} rfc2819 ` + known.map(([i, n]) => `${n}=${c[i]}, `).join("") + "\n";
  }
  return out;
}

/** The "CUSTOM Statistics" block of a port: three `name=value,` a row. */
function formatCustomStats(stats: readonly PortCustomStat[]): string {
  let out = "           CUSTOM Statistics";
  for (let i = 0; i < stats.length; i++) {
    const c = stats[i]!;
    if (c.name === "") continue;
    out += i % 3 === 0 ? "\n                      " : " ";
    out += `${c.name}=${c.value},`;
  }
  return out + "\n";
}

/* ---------------- queue stats ---------------- */

export const OFPQ_ALL = 0xffffffff;

function formatQueue(q: number): string {
  return q === OFPQ_ALL ? "ALL" : String(q);
}

export interface QueueStatsRequestBody {
  portNo: number;
  queueId: number;
}

export const QUEUE_STATS_REQUEST_CODEC: BodyCodec<QueueStatsRequestBody> = {
  decode(r, ctx) {
    let p = readPort(r, ctx.version);
    if (ctx.version === 1) {
      r.skip(2);
      if (p === OFPP_ALL) p = OFPP_NONE;
    }
    const queueId = r.u32();
    return isDecodeError(p) ? p : { portNo: p, queueId };
  },
  encode(w, b, ctx) {
    if (ctx.version === 1) w.u16(b.portNo === OFPP_NONE ? OFPP_ALL : b.portNo).zeros(2);
    else writePort(w, b.portNo, ctx.version);
    w.u32(b.queueId);
  },
  print(b, ctx) {
    if (ctx.type === "OFPST_QUEUE_DESC_REQUEST") {
      return ` port=${formatPort(b.portNo)}` + (b.queueId !== OFPQ_ALL ? ` queue=${b.queueId}` : "");
    }
    return ` port=${formatPort(b.portNo)} queue=${formatQueue(b.queueId)}`;
  },
};

export interface QueueStats {
  portNo: number;
  queueId: number;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface QueueStatsReplyBody {
  stats: QueueStats[];
}

export const QUEUE_STATS_REPLY_CODEC: BodyCodec<QueueStatsReplyBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    const stats: QueueStats[] = [];
    while (r.remaining > 0) {
      let end = -1;
      if (v >= 5) {
        if (r.remaining < 48) return withPartial(fail("OFPBRC_BAD_LEN"), { stats });
        const len = r.u16();
        r.skip(6);
        if (len < 48 || len - 8 > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { stats });
        end = r.pos + len - 8;
      }
      const portNo = readPort(r, v);
      if (v === 1) r.skip(2);
      const queueId = r.u32();
      const txBytes = r.u64();
      const txPackets = r.u64();
      const txErrors = r.u64();
      let durationSec = U32_MAX;
      let durationNsec = U32_MAX;
      if (v >= 4) {
        durationSec = r.u32();
        durationNsec = r.u32();
      }
      if (end >= 0) r.pos = end;
      if (isDecodeError(portNo)) return withPartial(portNo, { stats });
      stats.push({ portNo, queueId, txBytes, txPackets, txErrors, durationSec, durationNsec });
    }
    return { stats };
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    for (const s of b.stats) {
      if (v >= 5) w.u16(48).zeros(6);
      if (v === 1) w.u16(s.portNo).zeros(2);
      else writePort(w, s.portNo, v);
      w.u32(s.queueId).u64(s.txBytes).u64(s.txPackets).u64(s.txErrors);
      if (v >= 4) w.u32(s.durationSec).u32(s.durationNsec);
    }
  },
  print(b) {
    let out = ` ${b.stats.length} queues\n`;
    for (const s of b.stats) {
      out += `  port ${formatPort(s.portNo)} queue ${formatQueue(s.queueId)}: bytes=${stat(s.txBytes)}, pkts=${stat(s.txPackets)}, errors=${stat(s.txErrors)}, duration=${duration(s.durationSec, s.durationNsec)}\n`;
    }
    return out;
  },
};

/* ---------------- queue configuration ---------------- */

export interface QueueGetConfigRequestBody {
  portNo: number;
}

export const QUEUE_GET_CONFIG_REQUEST_CODEC: BodyCodec<QueueGetConfigRequestBody> = {
  decode(r, ctx) {
    const p = readPort(r, ctx.version);
    r.skip(ctx.version === 1 ? 2 : 4);
    if (isDecodeError(p)) return p;
    // OF1.1+ may ask for every port (OFPP_ANY); OF1.0 only for one port.
    if (p >= OFPP_MAX && (ctx.version === 1 || p !== OFPP_NONE)) return fail("OFPQOFC_BAD_PORT");
    return { portNo: p };
  },
  encode(w, b, ctx) {
    writePort(w, b.portNo, ctx.version);
    w.zeros(ctx.version === 1 ? 2 : 4);
  },
  print: (b) => ` port=${formatPort(b.portNo)}`,
};

/** One queue's configuration; rates in tenths of a percent, 0xffff = none. */
export interface QueueConfig {
  portNo: number;
  queueId: number;
  minRate: number;
  maxRate: number;
}

const OFPQT_MIN_RATE = 1;
const OFPQT_MAX_RATE = 2;
const NO_RATE = 0xffff;

function formatRate(label: string, rate: number): string {
  if (rate === NO_RATE) return "";
  return rate > 1000 ? ` ${label}:(disabled)` : ` ${label}:${Math.floor(rate / 10)}.${rate % 10}%`;
}

function formatQueues(portNo: number | null, unsorted: readonly QueueConfig[]): string {
  // ofp-print lists queues sorted by port, then queue id.
  const queues = [...unsorted].sort((a, b) => a.portNo - b.portNo || a.queueId - b.queueId);
  let s = "";
  let lastPort = portNo;
  if (portNo !== null) s += ` port=${formatPort(portNo)}\n`;
  for (const q of queues) {
    if (portNo === null && q.portNo !== lastPort) {
      s += `${lastPort === null ? " " : ""}port=${formatPort(q.portNo)}\n`;
      lastPort = q.portNo;
    }
    s += `queue ${q.queueId}:` + formatRate("min_rate", q.minRate) + formatRate("max_rate", q.maxRate) + "\n";
  }
  return s;
}

/** Reads OF1.0-1.3 queue properties (16-byte min/max rate). */
function decodeQueueProps(r: OfpReader, q: QueueConfig, oldFormat: boolean): DecodeError | null {
  while (r.remaining > 0) {
    const p = pullProperty(r, 8);
    if (isDecodeError(p)) return oldFormat ? fail("OFPBRC_BAD_LEN") : p;
    if (p.type === OFPQT_MIN_RATE || p.type === OFPQT_MAX_RATE) {
      const pr = new OfpReader(p.data);
      if (oldFormat) pr.skip(4);
      const rate = pr.u16();
      if (p.type === OFPQT_MIN_RATE) q.minRate = rate;
      else q.maxRate = rate;
    }
  }
  return null;
}

function encodeQueueProps(w: OfpWriter, q: QueueConfig, v: number): void {
  for (const [type, rate] of [[OFPQT_MIN_RATE, q.minRate], [OFPQT_MAX_RATE, q.maxRate]] as const) {
    if (rate === NO_RATE) continue;
    if (v >= 5) putProperty(w, type, (w) => w.u16(rate).zeros(2));
    else {
      w.u16(type).u16(16).zeros(4).u16(rate).zeros(6);
    }
  }
}

export interface QueueGetConfigReplyBody {
  portNo: number;
  queues: QueueConfig[];
}

export const QUEUE_GET_CONFIG_REPLY_CODEC: BodyCodec<QueueGetConfigReplyBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    const portNo = readPort(r, v);
    r.skip(v === 1 ? 6 : 4);
    if (isDecodeError(portNo)) return portNo;
    const queues: QueueConfig[] = [];
    while (r.remaining > 0) {
      const q: QueueConfig = { portNo, queueId: 0, minRate: NO_RATE, maxRate: NO_RATE };
      let len: number;
      let hdr: number;
      if (v <= 2) {
        q.queueId = r.u32();
        len = r.u16();
        r.skip(2);
        hdr = 8;
      } else {
        q.queueId = r.u32();
        r.skip(4);
        len = r.u16();
        r.skip(6);
        hdr = 16;
      }
      if (len < hdr || len - hdr > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { portNo, queues });
      const e = decodeQueueProps(r.sub(len - hdr), q, true);
      if (e) return withPartial(e, { portNo, queues });
      queues.push(q);
    }
    return { portNo, queues };
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    writePort(w, b.portNo, v);
    w.zeros(v === 1 ? 6 : 4);
    for (const q of b.queues) {
      const start = w.length;
      if (v <= 2) {
        w.u32(q.queueId);
        const f = w.fork(2);
        w.zeros(2);
        encodeQueueProps(w, q, v);
        w.setU16(f.at, w.length - start);
      } else {
        w.u32(q.queueId);
        writePort(w, b.portNo, v);
        const f = w.fork(2);
        w.zeros(6);
        encodeQueueProps(w, q, v);
        w.setU16(f.at, w.length - start);
      }
    }
  },
  print: (b) => formatQueues(null, b.queues),
};

export interface QueueDescReplyBody {
  queues: QueueConfig[];
}

export const QUEUE_DESC_REPLY_CODEC: BodyCodec<QueueDescReplyBody> = {
  decode(r) {
    const queues: QueueConfig[] = [];
    while (r.remaining > 0) {
      const portNo = readPort(r, 5);
      const queueId = r.u32();
      const len = r.u16();
      r.skip(6);
      if (r.overrun || len < 16 || len - 16 > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { queues });
      if (isDecodeError(portNo)) return withPartial(portNo, { queues });
      const q: QueueConfig = { portNo, queueId, minRate: NO_RATE, maxRate: NO_RATE };
      const e = decodeQueueProps(r.sub(len - 16), q, false);
      if (e) return withPartial(e, { queues });
      queues.push(q);
    }
    return { queues };
  },
  encode(w, b) {
    for (const q of b.queues) {
      const start = w.length;
      writePort(w, q.portNo, 5);
      w.u32(q.queueId);
      const f = w.fork(2);
      w.zeros(6);
      encodeQueueProps(w, q, 5);
      w.setU16(f.at, w.length - start);
    }
  },
  print: (b) => formatQueues(null, b.queues),
};

/* ---------------- group features ---------------- */

const GROUP_TYPE_NAMES = ["all", "select", "indirect", "fast failover"];

/** OF1.2+ action type numbers in the order ofp-print lists them, with names. */
/** OF1.0 action types OVS supports, in the order ofp-print lists them. */
const OF10_ACTION_ORDER: readonly [number, string][] = [
  [0, "output"], [11, "enqueue"], [1, "set_vlan_vid"], [2, "set_vlan_pcp"], [3, "strip_vlan"], [4, "mod_dl_src"],
  [5, "mod_dl_dst"], [6, "mod_nw_src"], [7, "mod_nw_dst"], [8, "mod_nw_tos"], [9, "mod_tp_src"], [10, "mod_tp_dst"],
];

const OF12_ACTION_ORDER: readonly [number, string][] = [
  [0, "output"], [22, "group"], [25, "set_field"], [18, "strip_vlan"], [17, "push_vlan"],
  [23, "mod_nw_ttl"], [24, "dec_ttl"], [15, "set_mpls_ttl"], [16, "dec_mpls_ttl"], [19, "push_mpls"],
  [20, "pop_mpls"], [21, "set_queue"],
];

export interface GroupFeaturesBody {
  types: number;
  capabilities: number;
  maxGroups: number[];
  actions: number[];
}

export const GROUP_FEATURES_CODEC: BodyCodec<GroupFeaturesBody> = {
  decode(r) {
    const types = r.u32();
    const capabilities = r.u32();
    const maxGroups = [r.u32(), r.u32(), r.u32(), r.u32()];
    const actions = [r.u32(), r.u32(), r.u32(), r.u32()];
    return { types, capabilities, maxGroups, actions };
  },
  encode(w, b) {
    w.u32(b.types).u32(b.capabilities);
    for (let i = 0; i < 4; i++) w.u32(b.maxGroups[i] ?? 0);
    for (let i = 0; i < 4; i++) w.u32(b.actions[i] ?? 0);
  },
  print(b, ctx) {
    const order = ctx.version === 1 ? OF10_ACTION_ORDER : ctx.version === 2 ? OF11_ACTION_ORDER : OF12_ACTION_ORDER;
    let s = `\n Group table:\n    Types:  0x${b.types.toString(16)}\n    Capabilities:  0x${b.capabilities.toString(16)}\n`;
    for (let i = 0; i < 4; i++) {
      if (!(b.types & (1 << i))) continue;
      const acts = b.actions[i] ?? 0;
      s += `    ${GROUP_TYPE_NAMES[i]} group:\n       max_groups=${hexAlt(b.maxGroups[i] ?? 0)}\n`;
      const names = order.filter(([bit]) => acts & (1 << bit)).map(([, n]) => n);
      s += "       actions: " + (names.length ? names.join(" ") : "<none>") + "\n";
    }
    return s;
  },
};

/* ---------------- meters ---------------- */

export const OFPM13_MAX = 0xffff0000;
export const OFPM13_SLOWPATH = 0xfffffffd;
export const OFPM13_CONTROLLER = 0xfffffffe;
export const OFPM13_ALL = 0xffffffff;

function formatMeterId(id: number): string {
  if (id === OFPM13_ALL) return "all";
  if (id === OFPM13_CONTROLLER) return "controller";
  if (id === OFPM13_SLOWPATH) return "slowpath";
  return id > OFPM13_MAX ? "unknown" : String(id);
}

export interface MeterRequestBody {
  meterId: number;
}

export const METER_REQUEST_CODEC: BodyCodec<MeterRequestBody> = {
  decode(r) {
    const meterId = r.u32();
    r.skip(4);
    return { meterId };
  },
  encode: (w, b) => void w.u32(b.meterId).zeros(4),
  print: (b) => ` meter=${formatMeterId(b.meterId)}`,
};

export const OFPMBT13_DROP = 1;
export const OFPMBT13_DSCP_REMARK = 2;
export const OFPMBT13_EXPERIMENTER = 0xffff;
const METER_FLAGS: Readonly<Record<number, string>> = { 1: "kbps", 2: "pktps", 4: "burst", 8: "stats" };
const OFPMF13_BURST = 4;

export interface MeterBand {
  type: number;
  rate: number;
  burstSize: number;
  /** dscp_remark only. */
  precLevel: number;
}

export interface MeterConfig {
  meterId: number;
  flags: number;
  bands: MeterBand[];
}

function decodeBands(r: OfpReader): MeterBand[] | DecodeError {
  const bands: MeterBand[] = [];
  while (r.remaining > 0) {
    if (r.remaining < 16) return fail("OFPBRC_BAD_LEN");
    const type = r.u16();
    const len = r.u16();
    const rate = r.u32();
    const burstSize = r.u32();
    let precLevel = 0;
    if (len !== 16) return fail("OFPBRC_BAD_LEN");
    if (type === OFPMBT13_DROP) r.skip(4);
    else if (type === OFPMBT13_DSCP_REMARK) {
      precLevel = r.u8();
      r.skip(3);
    } else return fail("OFPMMFC_BAD_BAND");
    bands.push({ type, rate, burstSize, precLevel });
  }
  return bands;
}

function encodeBands(w: OfpWriter, bands: readonly MeterBand[]): void {
  for (const b of bands) {
    w.u16(b.type).u16(16).u32(b.rate).u32(b.burstSize);
    if (b.type === OFPMBT13_DSCP_REMARK) w.u8(b.precLevel).zeros(3);
    else w.zeros(4);
  }
}

function formatMeterConfig(m: MeterConfig): string {
  let s = `meter=${formatMeterId(m.meterId)}`;
  for (const bit of [1, 2, 4, 8]) if (m.flags & bit) s += ` ${METER_FLAGS[bit]}`;
  if (m.flags & ~0xf) s += ` flags:0x${(m.flags & ~0xf).toString(16)}`;
  s += " bands=";
  for (const b of m.bands) {
    s += `\ntype=${b.type === OFPMBT13_DROP ? "drop" : "dscp_remark"} rate=${b.rate}`;
    if (m.flags & OFPMF13_BURST) s += ` burst_size=${b.burstSize}`;
    if (b.type === OFPMBT13_DSCP_REMARK) s += ` prec_level=${b.precLevel}`;
  }
  return s;
}

export interface MeterModBody {
  /** 0 add, 1 modify, 2 delete. */
  command: number;
  meter: MeterConfig;
}

export const METER_MOD_CODEC: BodyCodec<MeterModBody> = {
  decode(r) {
    const command = r.u16();
    const flags = r.u16();
    const meterId = r.u32();
    if (command > 2) return fail("OFPMMFC_BAD_COMMAND");
    // A delete carries no flags or bands that matter; OVS ignores them.
    if (command === 2) {
      r.rest();
      return { command, meter: { meterId, flags: 0, bands: [] } };
    }
    const bands = decodeBands(r);
    if (isDecodeError(bands)) return bands;
    return { command, meter: { meterId, flags, bands } };
  },
  encode(w, b) {
    w.u16(b.command).u16(b.meter.flags).u32(b.meter.meterId);
    encodeBands(w, b.meter.bands);
  },
  print(b) {
    const cmd = ["ADD", "MOD", "DEL"][b.command] ?? `cmd:${b.command}`;
    return ` ${cmd} ${formatMeterConfig(b.meter)}`;
  },
};

export interface MeterConfigReplyBody {
  meters: MeterConfig[];
}

export const METER_CONFIG_REPLY_CODEC: BodyCodec<MeterConfigReplyBody> = {
  decode(r) {
    const meters: MeterConfig[] = [];
    while (r.remaining > 0) {
      const len = r.u16();
      const flags = r.u16();
      const meterId = r.u32();
      if (r.overrun || len < 8 || len - 8 > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { meters });
      const bands = decodeBands(r.sub(len - 8));
      if (isDecodeError(bands)) return withPartial(bands, { meters });
      meters.push({ meterId, flags, bands });
    }
    return { meters };
  },
  encode(w, b) {
    for (const m of b.meters) {
      w.u16(8 + 16 * m.bands.length).u16(m.flags).u32(m.meterId);
      encodeBands(w, m.bands);
    }
  },
  print(b) {
    return b.meters.map((m) => "\n" + formatMeterConfig(m) + "\n").join("");
  },
};

export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bands: { packetCount: bigint; byteCount: bigint }[];
}

export interface MeterStatsReplyBody {
  stats: MeterStats[];
}

export const METER_STATS_REPLY_CODEC: BodyCodec<MeterStatsReplyBody> = {
  decode(r) {
    const stats: MeterStats[] = [];
    while (r.remaining > 0) {
      const meterId = r.u32();
      const len = r.u16();
      r.skip(6);
      const flowCount = r.u32();
      const packetInCount = r.u64();
      const byteInCount = r.u64();
      const durationSec = r.u32();
      const durationNsec = r.u32();
      if (r.overrun || len < 40 || (len - 40) % 16 !== 0 || len - 40 > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { stats });
      const bands: MeterStats["bands"] = [];
      for (let i = 0; i < (len - 40) / 16; i++) bands.push({ packetCount: r.u64(), byteCount: r.u64() });
      stats.push({ meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bands });
    }
    return { stats };
  },
  encode(w, b) {
    for (const s of b.stats) {
      w.u32(s.meterId).u16(40 + 16 * s.bands.length).zeros(6).u32(s.flowCount);
      w.u64(s.packetInCount).u64(s.byteInCount).u32(s.durationSec).u32(s.durationNsec);
      for (const x of s.bands) w.u64(x.packetCount).u64(x.byteCount);
    }
  },
  print(b) {
    let s = "";
    for (const m of b.stats) {
      s += `\nmeter:${formatMeterId(m.meterId)} flow_count:${m.flowCount} packet_in_count:${m.packetInCount} byte_in_count:${m.byteInCount} duration:${duration(m.durationSec, m.durationNsec)} bands:\n`;
      m.bands.forEach((x, i) => (s += `${i}: packet_count:${x.packetCount} byte_count:${x.byteCount}\n`));
    }
    return s;
  },
};

export interface MeterFeaturesBody {
  maxMeter: number;
  bandTypes: number;
  capabilities: number;
  maxBands: number;
  maxColor: number;
}

export const METER_FEATURES_CODEC: BodyCodec<MeterFeaturesBody> = {
  decode(r) {
    const maxMeter = r.u32();
    const bandTypes = r.u32();
    const capabilities = r.u32();
    const maxBands = r.u8();
    const maxColor = r.u8();
    r.skip(2);
    return { maxMeter, bandTypes, capabilities, maxBands, maxColor };
  },
  encode(w, b) {
    w.u32(b.maxMeter).u32(b.bandTypes).u32(b.capabilities).u8(b.maxBands).u8(b.maxColor).zeros(2);
  },
  print(b) {
    let s = `\nmax_meter:${b.maxMeter} max_bands:${b.maxBands} max_color:${b.maxColor}\n`;
    s += `band_types: ${bitNames(b.bandTypes, { 2: "drop", 4: "dscp_remark" })}\n`;
    s += `capabilities: ${bitNames(b.capabilities, METER_FLAGS)}\n`;
    return s;
  },
};

/* ---------------- request forward ---------------- */

export interface RequestForwardBody {
  /** The forwarded request's header xid and version come from the outer message. */
  xid: number;
  /** The forwarded meter-mod, or (when absent) `groupMod`. */
  meterMod?: MeterModBody;
  groupMod?: GroupModBody;
}

/**
 * OF1.4+ request-forward: the body is a whole OpenFlow message, a
 * meter-mod or a group-mod (the latter in OpenFlow 1.4 only for now: 1.5's
 * group-mod form is not decoded yet).
 */
export const REQUESTFORWARD_CODEC: BodyCodec<RequestForwardBody> = {
  decode(r, ctx) {
    const version = r.u8();
    r.skip(1); // type: the message table identifies the inner message below.
    const len = r.u16();
    const xid = r.u32();
    if (r.overrun || len < 8 || len - 8 !== r.remaining) return fail("OFPBFC_MSG_BAD_LEN");
    if (version !== ctx.version) return fail("OFPBRC_BAD_VERSION");
    // The inner message is identified as any message is; only a group-mod
    // (OFPT_GROUP_MOD, or OVS's NXT_GROUP_MOD in 1.0) or a meter-mod may be here.
    const innerType = nestedMessageType(r.data.subarray(r.pos - 8, r.end));
    if (isDecodeError(innerType)) return innerType;
    const nxGroupMod = innerType === "NXT_GROUP_MOD";
    if (innerType === "OFPT_GROUP_MOD" || nxGroupMod) {
      if (nxGroupMod) r.skip(8);
      const codec = version >= 2 && version <= 5 ? GROUP_MOD_CODEC : GROUP_MOD15_CODEC;
      if (r.remaining < (codec === GROUP_MOD_CODEC ? 8 : 16)) return fail("OFPBRC_BAD_LEN");
      const gm = codec.decode(r, ctx);
      if (isDecodeError(gm)) return gm;
      return { groupMod: gm, xid };
    }
    if (innerType !== "OFPT_METER_MOD") return fail("OFPBFC_MSG_UNSUP");
    if (r.remaining < 8) return fail("OFPBRC_BAD_LEN");
    const mm = METER_MOD_CODEC.decode(r, ctx);
    if (isDecodeError(mm)) return mm;
    // As OVS decodes a forwarded meter-mod: unknown flag bits are shown,
    // but a rate cannot be both in kb/s and in packets/s.
    if ((mm.meter.flags & 3) === 3) return fail("OFPMMFC_BAD_FLAGS");
    return { meterMod: mm, xid };
  },
  encode(w, b, ctx) {
    const start = w.length;
    const nx = !b.meterMod && ctx.version === 1;
    w.u8(ctx.version).u8(b.meterMod ? 29 : nx ? 4 : 15).u16(0).u32(b.xid);
    if (nx) w.u32(0x2320).u32(31);
    if (b.meterMod) METER_MOD_CODEC.encode(w, b.meterMod, ctx);
    else if (b.groupMod) (ctx.version >= 2 && ctx.version <= 5 ? GROUP_MOD_CODEC : GROUP_MOD15_CODEC).encode(w, b.groupMod, ctx);
    w.setU16(start + 2, w.length - start);
  },
  print(b, ctx) {
    if (b.meterMod) return " reason=meter_mod" + METER_MOD_CODEC.print(b.meterMod, ctx);
    return " reason=group_mod" + (b.groupMod ? GROUP_MOD_CODEC.print(b.groupMod, ctx) : "");
  },
};

/* ---------------- group stats (no buckets' actions needed) ---------------- */

export const OFPG_ALL = 0xfffffffc;
export const OFPG_ANY = 0xffffffff;

function formatGroupId(g: number): string {
  return g === OFPG_ALL ? "ALL" : g === OFPG_ANY ? "ANY" : String(g);
}

export interface GroupRequestBody {
  /** Group to report; OFPG_ALL for all (the only choice in OF1.1-1.4 group-desc). */
  groupId: number;
}

/** OFPST_GROUP and OFPST_GROUP_DESC requests (OF1.5 adds the group id to the latter). */
export const GROUP_REQUEST_CODEC: BodyCodec<GroupRequestBody> = {
  decode(r) {
    if (r.remaining === 0) return { groupId: OFPG_ALL };
    const groupId = r.u32();
    r.skip(4);
    return { groupId };
  },
  encode(w, b, ctx) {
    if (ctx.type === "OFPST_GROUP_DESC_REQUEST" && ctx.version < 6) return;
    w.u32(b.groupId).zeros(4);
  },
  print: (b) => ` group_id=${formatGroupId(b.groupId)}`,
};

export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  /** OF1.3+; 0xffffffff when unknown. */
  durationSec: number;
  durationNsec: number;
  buckets: { packetCount: bigint; byteCount: bigint }[];
}

export interface GroupStatsReplyBody {
  stats: GroupStats[];
  /** Set on the entries decoded before a bad one, which ofp-print follows with " ***parse error***". */
  parseError?: true;
}

export const GROUP_STATS_REPLY_CODEC: BodyCodec<GroupStatsReplyBody> = {
  decode(r, ctx) {
    // OpenFlow 1.3+ and OVS's OpenFlow 1.0 extension carry durations.
    const long = ctx.version >= 4 || ctx.version === 1;
    const hdr = long ? 40 : 32;
    const stats: GroupStats[] = [];
    while (r.remaining > 0) {
      if (r.remaining < hdr) return withPartial(fail("OFPBRC_BAD_LEN"), { stats, parseError: true });
      const len = r.u16();
      r.skip(2);
      const groupId = r.u32();
      const refCount = r.u32();
      r.skip(4);
      const packetCount = r.u64();
      const byteCount = r.u64();
      let durationSec = U32_MAX;
      let durationNsec = U32_MAX;
      if (long) {
        durationSec = r.u32();
        durationNsec = r.u32();
      }
      // As OVS: the length names whole bucket counters after the header
      // (a remainder is ignored, not skipped), and only the counters are
      // consumed.
      const nBuckets = Math.floor((len - hdr) / 16);
      if (len < hdr || nBuckets * 16 > r.remaining) return withPartial(fail("OFPBRC_BAD_LEN"), { stats, parseError: true });
      const buckets: GroupStats["buckets"] = [];
      for (let i = 0; i < nBuckets; i++) buckets.push({ packetCount: r.u64(), byteCount: r.u64() });
      stats.push({ groupId, refCount, packetCount, byteCount, durationSec, durationNsec, buckets });
    }
    return { stats };
  },
  encode(w, b, ctx) {
    const long = ctx.version >= 4 || ctx.version === 1;
    const hdr = long ? 40 : 32;
    for (const g of b.stats) {
      w.u16(hdr + 16 * g.buckets.length).zeros(2).u32(g.groupId).u32(g.refCount).zeros(4);
      w.u64(g.packetCount).u64(g.byteCount);
      if (long) w.u32(g.durationSec).u32(g.durationNsec);
      for (const x of g.buckets) w.u64(x.packetCount).u64(x.byteCount);
    }
  },
  print(b) {
    let s = "";
    for (const g of b.stats) {
      s += `\n group_id=${g.groupId}`;
      if (g.durationSec !== U32_MAX) s += `,duration=${duration(g.durationSec, g.durationNsec)}`;
      s += `,ref_count=${g.refCount},packet_count=${g.packetCount},byte_count=${g.byteCount}`;
      g.buckets.forEach((x, i) => {
        // OVS leaves out buckets whose counters are unknown.
        if (x.packetCount !== 0xffffffffffffffffn) s += `,bucket${i}:packet_count=${x.packetCount},byte_count=${x.byteCount}`;
      });
    }
    return b.parseError ? s + " ***parse error***" : s;
  },
};

/* ---------------- Nicira IPFIX statistics ---------------- */

export interface IpfixStats {
  collectorSetId: number;
  totalFlows: bigint;
  currentFlows: bigint;
  pkts: bigint;
  ipv4Pkts: bigint;
  ipv6Pkts: bigint;
  errorPkts: bigint;
  ipv4ErrorPkts: bigint;
  ipv6ErrorPkts: bigint;
  txPkts: bigint;
  txErrors: bigint;
}

function decodeIpfix(r: OfpReader): IpfixStats {
  const c = Array.from({ length: 10 }, () => r.u64());
  const collectorSetId = r.u32();
  r.skip(4);
  return {
    collectorSetId, totalFlows: c[0]!, currentFlows: c[1]!, pkts: c[2]!, ipv4Pkts: c[3]!, ipv6Pkts: c[4]!,
    errorPkts: c[5]!, ipv4ErrorPkts: c[6]!, ipv6ErrorPkts: c[7]!, txPkts: c[8]!, txErrors: c[9]!,
  };
}

function encodeIpfix(w: OfpWriter, s: IpfixStats): void {
  for (const x of [s.totalFlows, s.currentFlows, s.pkts, s.ipv4Pkts, s.ipv6Pkts, s.errorPkts, s.ipv4ErrorPkts, s.ipv6ErrorPkts, s.txPkts, s.txErrors]) {
    w.u64(x);
  }
  w.u32(s.collectorSetId).zeros(4);
}

function formatIpfix(s: IpfixStats, indent: string): string {
  return `flows=${stat(s.totalFlows)}, current flows=${stat(s.currentFlows)}, sampled pkts=${stat(s.pkts)}, ` +
    `ipv4 ok=${stat(s.ipv4Pkts)}, ipv6 ok=${stat(s.ipv6Pkts)}, tx pkts=${stat(s.txPkts)}\n` +
    `${indent}pkts errs=${stat(s.errorPkts)}, ipv4 errs=${stat(s.ipv4ErrorPkts)}, ipv6 errs=${stat(s.ipv6ErrorPkts)}, tx errs=${stat(s.txErrors)}\n`;
}

export interface IpfixBridgeReplyBody {
  stats: IpfixStats;
}

export const IPFIX_BRIDGE_REPLY_CODEC: BodyCodec<IpfixBridgeReplyBody> = {
  decode: (r) => ({ stats: decodeIpfix(r) }),
  encode: (w, b) => encodeIpfix(w, b.stats),
  print: (b) => "\n  bridge ipfix: " + formatIpfix(b.stats, "                "),
};

export interface IpfixFlowReplyBody {
  stats: IpfixStats[];
}

export const IPFIX_FLOW_REPLY_CODEC: BodyCodec<IpfixFlowReplyBody> = {
  decode(r) {
    const stats: IpfixStats[] = [];
    while (r.remaining > 0) stats.push(decodeIpfix(r));
    return { stats };
  },
  encode(w, b) {
    for (const s of b.stats) encodeIpfix(w, s);
  },
  print(b) {
    let s = ` ${b.stats.length} ids\n`;
    for (const x of b.stats) s += `  id ${String(x.collectorSetId).padStart(3)}: ` + formatIpfix(x, "          ");
    return s;
  },
};
