/**
 * Bodies of controller-session messages: role request/reply/status
 * (OpenFlow and Nicira), get/set async configuration (OF1.3 struct, OF1.4
 * properties, Nicira NXT_SET_ASYNC_CONFIG/2), table-mod, bundle control,
 * and the small Nicira settings messages (flow format, packet-in format,
 * controller id, flow-mod table-id, TLV table mod/reply).
 */
import { OfpReader, type OfpWriter } from "./ofp-buffer.js";
import { type BodyCodec, fail, hexAlt, isDecodeError, pullProperty, putProperty, bitNames } from "./ofp-codec.js";

/* ---------------- roles ---------------- */

export type Role = "nochange" | "equal" | "primary" | "secondary";
const ROLES: readonly Role[] = ["nochange", "equal", "primary", "secondary"];

export interface RoleBody {
  role: Role;
  /** Generation id; null when the role carries none (nochange). */
  generationId: bigint | null;
}

export const ROLE_CODEC: BodyCodec<RoleBody> = {
  decode(r) {
    const code = r.u32();
    r.skip(4);
    const gen = r.u64();
    if (code > 3) return fail("OFPRRFC_BAD_ROLE");
    const role = ROLES[code]!;
    return { role, generationId: role === "nochange" ? null : gen };
  },
  encode(w, b) {
    w.u32(ROLES.indexOf(b.role)).zeros(4).u64(b.generationId ?? 0n);
  },
  print(b) {
    return ` role=${b.role}` + (b.generationId !== null ? ` generation_id=${b.generationId}` : "");
  },
};

/** Nicira roles: other (0) = equal, master (1) = primary, slave (2) = secondary. */
const NX_ROLES: readonly Role[] = ["equal", "primary", "secondary"];

export interface NxRoleBody {
  role: Role;
}

export const NX_ROLE_CODEC: BodyCodec<NxRoleBody> = {
  decode(r) {
    const code = r.u32();
    if (code > 2) return fail("OFPRRFC_BAD_ROLE");
    return { role: NX_ROLES[code]! };
  },
  encode(w, b) {
    w.u32(Math.max(0, NX_ROLES.indexOf(b.role)));
  },
  print: (b) => ` role=${b.role}`,
};

const ROLE_STATUS_REASONS = ["primary_request", "configuration_changed", "experimenter_data_changed"];

export interface RoleStatusBody {
  role: Role;
  reason: number;
  generationId: bigint | null;
}

export const ROLE_STATUS_CODEC: BodyCodec<RoleStatusBody> = {
  decode(r) {
    const code = r.u32();
    const reason = r.u8();
    r.skip(3);
    const gen = r.u64();
    if (code > 3) return fail("OFPRRFC_BAD_ROLE");
    const role = ROLES[code]!;
    // Properties (experimenter only) are ignored, as OVS does.
    return { role, reason, generationId: role === "nochange" ? null : gen };
  },
  encode(w, b) {
    w.u32(ROLES.indexOf(b.role)).u8(b.reason).zeros(3).u64(b.generationId ?? 0n);
  },
  print(b) {
    let s = ` role=${b.role}`;
    if (b.generationId !== null) s += ` generation_id=${b.generationId}`;
    s += ` reason=${ROLE_STATUS_REASONS[b.reason] ?? "(unknown)"}`;
    return s;
  },
};

/* ---------------- async configuration ---------------- */

/** Async message kinds in OVS's order, with the names of their reason bits. */
const ASYNC_TYPES: readonly { name: string; reasons: readonly string[] }[] = [
  { name: "PACKET_IN", reasons: ["no_match", "action", "invalid_ttl", "action_set", "group", "packet_out"] },
  { name: "PORT_STATUS", reasons: ["add", "delete", "modify"] },
  { name: "FLOW_REMOVED", reasons: ["idle", "hard", "delete", "group_delete", "meter_delete", "eviction"] },
  { name: "ROLE_STATUS", reasons: ["primary_request", "configuration_changed", "experimenter_data_changed"] },
  { name: "TABLE_STATUS", reasons: ["", "", "", "vacancy_down", "vacancy_up"] },
  { name: "REQUESTFORWARD", reasons: ["group_mod_request", "meter_mod_request"] },
];

/** Reason bits each async message kind may carry, by version (<=1.3, 1.4+). */
function asyncMasks(version: number): readonly number[] {
  return version <= 4 ? [0x7, 0x7, 0x3f, 0, 0, 0] : [0x3f, 0x7, 0x3f, 0x7, 0x18, 0x3];
}

export interface AsyncConfigBody {
  /** Per async message kind (ASYNC_TYPES order), reason bitmaps. */
  primary: number[];
  secondary: number[];
}

/** OF1.4 property type for (kind, secondary?): kind*2 + (primary ? 1 : 0). */
function asyncPropType(kind: number, primary: boolean): number {
  return kind * 2 + (primary ? 1 : 0);
}

export const ASYNC_CODEC: BodyCodec<AsyncConfigBody> = {
  decode(r, ctx) {
    const primary = [0, 0, 0, 0, 0, 0];
    const secondary = [0, 0, 0, 0, 0, 0];
    // The 24-byte struct (OF1.3, NXT_SET_ASYNC_CONFIG) or properties.
    const masks = asyncMasks(ctx.version);
    if (asyncIsStruct(ctx.type, ctx.version)) {
      // Bits a version does not define are dropped, as OVS does.
      for (let k = 0; k < 3; k++) {
        primary[k] = r.u32() & masks[k]!;
        secondary[k] = r.u32() & masks[k]!;
      }
      return { primary, secondary };
    }
    while (r.remaining > 0) {
      const p = pullProperty(r);
      if (isDecodeError(p)) return p;
      if (p.type >= 0xfffe) continue;
      const kind = p.type >> 1;
      // A reply is read loosely (unknown kinds skipped, unknown bits
      // dropped); a request strictly, as OVS does.
      const loose = ctx.type === "OFPT_GET_ASYNC_REPLY";
      if (kind >= ASYNC_TYPES.length) {
        if (loose) continue;
        return fail("OFPACFC_UNSUPPORTED");
      }
      if (p.data.length !== 4) return fail("OFPBPC_BAD_LEN");
      let v = new OfpReader(p.data).u32();
      if (v & ~masks[kind]!) {
        if (!loose) return fail("OFPACFC_INVALID");
        v &= masks[kind]!;
      }
      if (p.type & 1) primary[kind] = v;
      else secondary[kind] = v;
    }
    return { primary, secondary };
  },
  encode(w, b, ctx) {
    if (asyncIsStruct(ctx.type, ctx.version)) {
      for (let k = 0; k < 3; k++) w.u32(b.primary[k] ?? 0).u32(b.secondary[k] ?? 0);
      return;
    }
    for (let k = 0; k < ASYNC_TYPES.length; k++) {
      putProperty(w, asyncPropType(k, false), (w) => w.u32(b.secondary[k] ?? 0));
      putProperty(w, asyncPropType(k, true), (w) => w.u32(b.primary[k] ?? 0));
    }
  },
  print(b) {
    let s = "";
    for (let i = 0; i < 2; i++) {
      s += `\n ${i === 0 ? "primary" : "secondary"}:\n`;
      const masks = i === 0 ? b.primary : b.secondary;
      ASYNC_TYPES.forEach((t, k) => {
        const m = masks[k] ?? 0;
        s += t.name.padStart(16) + ":";
        for (let j = 0; j < 32; j++) if (m & (1 << j) && t.reasons[j]) s += ` ${t.reasons[j]}`;
        if (!m) s += " (off)";
        s += "\n";
      });
    }
    return s;
  },
};

/** NXT_SET_ASYNC_CONFIG and OF1.3's messages use the fixed 24-byte struct. */
function asyncIsStruct(type: string, version: number): boolean {
  return type === "NXT_SET_ASYNC_CONFIG" || (version === 4 && type.startsWith("OFPT_"));
}

/* ---------------- table-mod ---------------- */

export type TableMiss = "default" | "controller" | "continue" | "drop";
const MISS: readonly TableMiss[] = ["controller", "continue", "drop"];

export interface TableModBody {
  tableId: number;
  /** OF1.1/1.2 table-miss behaviour; "default" elsewhere. */
  miss: TableMiss;
  /** OF1.4+: eviction and vacancy events (from config bits). */
  eviction: boolean;
  /** OF1.4+ eviction-flags property, null when absent. */
  evictionFlags: number | null;
  vacancy: boolean;
  /** OF1.4+ vacancy property, null when absent. */
  vacancyProp: { down: number; up: number; vacancy: number } | null;
}

const OFPTC14_EVICTION = 4;
const OFPTC14_VACANCY_EVENTS = 8;
const OFPTMPT14_EVICTION = 2;
const OFPTMPT14_VACANCY = 3;

export const TABLE_MOD_CODEC: BodyCodec<TableModBody> = {
  decode(r, ctx) {
    const tableId = r.u8();
    r.skip(3);
    const config = r.u32();
    const v = ctx.version;
    const body: TableModBody = {
      tableId, miss: "default", eviction: false, evictionFlags: null, vacancy: false, vacancyProp: null,
    };
    // OVS takes the invalid value 3 as the default, "controller".
    if (v <= 3) body.miss = MISS[config & 3] ?? "controller";
    if (v >= 5) {
      body.eviction = (config & OFPTC14_EVICTION) !== 0;
      body.vacancy = (config & OFPTC14_VACANCY_EVENTS) !== 0;
      while (r.remaining > 0) {
        const p = pullProperty(r);
        if (isDecodeError(p)) return p;
        const pr = new OfpReader(p.data);
        if (p.type === OFPTMPT14_EVICTION) {
          if (p.data.length !== 4) return fail("OFPBPC_BAD_LEN");
          body.evictionFlags = pr.u32();
        } else if (p.type === OFPTMPT14_VACANCY) {
          if (p.data.length !== 4) return fail("OFPBPC_BAD_LEN");
          const down = pr.u8();
          const up = pr.u8();
          const vacancy = pr.u8();
          // A table-mod sets thresholds; the current vacancy must be zero.
          if (down > up || up > 100 || vacancy !== 0) return fail("OFPBPC_BAD_VALUE");
          body.vacancyProp = { down, up, vacancy };
        } else {
          return fail("OFPBRC_BAD_TYPE");
        }
      }
    }
    return body;
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    let config = 0;
    if (v <= 3) config = Math.max(0, MISS.indexOf(b.miss));
    if (v >= 5) config = (b.eviction ? OFPTC14_EVICTION : 0) | (b.vacancy ? OFPTC14_VACANCY_EVENTS : 0);
    w.u8(b.tableId).zeros(3).u32(config);
    if (v >= 5) {
      if (b.evictionFlags !== null) putProperty(w, OFPTMPT14_EVICTION, (w) => w.u32(b.evictionFlags!));
      if (b.vacancyProp) {
        const vp = b.vacancyProp;
        putProperty(w, OFPTMPT14_VACANCY, (w) => w.u8(vp.down).u8(vp.up).u8(vp.vacancy).zeros(1));
      }
    }
  },
  print(b, ctx) {
    let s = ` table_id=${b.tableId}`;
    if (ctx.version <= 3) s += `, flow_miss_config=${b.miss}`;
    if (ctx.version >= 5) {
      // OVS 3.1 prints "***error***" when an eviction-flags property is present.
      s += `, eviction=${b.evictionFlags !== null ? "***error***" : b.eviction ? "on" : "off"}`;
      s += `, vacancy=${b.vacancy ? "on" : "off"}`;
      if (b.vacancy) s += ` vacancy:${b.vacancyProp?.down ?? 0},${b.vacancyProp?.up ?? 0}`;
    }
    return s;
  },
};

/* ---------------- bundle control ---------------- */

const BUNDLE_TYPES = [
  "OPEN_REQUEST", "OPEN_REPLY", "CLOSE_REQUEST", "CLOSE_REPLY",
  "COMMIT_REQUEST", "COMMIT_REPLY", "DISCARD_REQUEST", "DISCARD_REPLY",
];
const BUNDLE_FLAGS: Readonly<Record<number, string>> = { 1: "atomic", 2: "ordered" };

export interface BundleControlBody {
  bundleId: number;
  /** OFPBCT_* (0..7). */
  ctrlType: number;
  flags: number;
}

export const BUNDLE_CONTROL_CODEC: BodyCodec<BundleControlBody> = {
  decode(r) {
    const bundleId = r.u32();
    const ctrlType = r.u16();
    const flags = r.u16();
    while (r.remaining > 0) {
      const p = pullProperty(r);
      if (isDecodeError(p)) return p;
      // Unknown properties are ignored, as OVS does.
    }
    return { bundleId, ctrlType, flags };
  },
  encode(w, b) {
    w.u32(b.bundleId).u16(b.ctrlType).u16(b.flags);
  },
  print(b) {
    return `\n bundle_id=${hexAlt(b.bundleId)} type=${BUNDLE_TYPES[b.ctrlType] ?? ""} flags=${bitNames(b.flags, BUNDLE_FLAGS)}`;
  },
};

/* ---------------- Nicira settings ---------------- */

const FLOW_FORMATS: Readonly<Record<number, string>> = { 0: "openflow10", 2: "nxm" };

export interface SetFlowFormatBody {
  /** 0 = OpenFlow 1.0, 2 = NXM. */
  format: number;
}

/**
 * Any format value decodes (ofp-print shows "(unknown)"); the switch
 * answers an unknown one with OFPBRC_EPERM when it acts on the message.
 */
export const SET_FLOW_FORMAT_CODEC: BodyCodec<SetFlowFormatBody> = {
  decode: (r) => ({ format: r.u32() }),
  encode: (w, b) => void w.u32(b.format),
  print: (b) => ` format=${FLOW_FORMATS[b.format] ?? "(unknown)"}`,
};

const PACKET_IN_FORMATS: Readonly<Record<number, string>> = { 0: "standard", 1: "nxt_packet_in", 2: "nxt_packet_in2" };

export interface SetPacketInFormatBody {
  format: number;
}

export const SET_PACKET_IN_FORMAT_CODEC: BodyCodec<SetPacketInFormatBody> = {
  decode(r) {
    const format = r.u32();
    if (!(format in PACKET_IN_FORMATS)) return fail("OFPBRC_EPERM");
    return { format };
  },
  encode: (w, b) => void w.u32(b.format),
  print: (b) => ` format=${PACKET_IN_FORMATS[b.format]}`,
};

export interface FlowModTableIdBody {
  enable: boolean;
}

export const FLOW_MOD_TABLE_ID_CODEC: BodyCodec<FlowModTableIdBody> = {
  decode(r) {
    const set = r.u8();
    r.skip(7);
    return { enable: set !== 0 };
  },
  encode: (w, b) => void w.u8(b.enable ? 1 : 0).zeros(7),
  print: (b) => ` ${b.enable ? "enable" : "disable"}`,
};

export interface ControllerIdBody {
  controllerId: number;
}

export const CONTROLLER_ID_CODEC: BodyCodec<ControllerIdBody> = {
  decode(r) {
    r.skip(6);
    return { controllerId: r.u16() };
  },
  encode: (w, b) => void w.zeros(6).u16(b.controllerId),
  print: (b) => ` id=${b.controllerId}`,
};

/* ---------------- TLV table ---------------- */

export interface TlvMap {
  optionClass: number;
  optionType: number;
  optionLen: number;
  index: number;
}

const NXTTMC_ADD = 0;
const NXTTMC_DELETE = 1;
const NXTTMC_CLEAR = 2;
/** OVS's limits: 64 tun_metadata fields, option length multiple of 4 up to 124. */
const TUN_METADATA_NUM_OPTS = 64;

function decodeTlvMaps(r: OfpReader, checkLen: boolean): TlvMap[] | ReturnType<typeof fail> {
  const maps: TlvMap[] = [];
  while (r.remaining >= 8) {
    const optionClass = r.u16();
    const optionType = r.u8();
    const optionLen = r.u8();
    const index = r.u16();
    r.skip(2);
    if (checkLen && (optionLen % 4 !== 0 || optionLen > 124)) return fail("NXTTMFC_BAD_OPT_LEN");
    if (index >= TUN_METADATA_NUM_OPTS) return fail("NXTTMFC_BAD_FIELD_IDX");
    maps.push({ optionClass, optionType, optionLen, index });
  }
  return maps;
}

function encodeTlvMaps(w: OfpWriter, maps: readonly TlvMap[]): void {
  for (const m of maps) w.u16(m.optionClass).u8(m.optionType).u8(m.optionLen).u16(m.index).zeros(2);
}

function hexC(v: number): string {
  return v === 0 ? "0" : `0x${v.toString(16)}`;
}

function formatTlvTable(maps: readonly TlvMap[]): string {
  let s = " mapping table:\n  class  type  length  match field\n ------  ----  ------  --------------";
  for (const m of maps) {
    s += `\n ${hexC(m.optionClass).padStart(6)}  ${hexC(m.optionType).padStart(4)}  ${String(m.optionLen).padStart(6)}  tun_metadata${m.index}`;
  }
  return s + "\n";
}

export interface TlvTableModBody {
  /** 0 add, 1 delete, 2 clear. */
  command: number;
  mappings: TlvMap[];
}

export const TLV_TABLE_MOD_CODEC: BodyCodec<TlvTableModBody> = {
  decode(r) {
    const command = r.u16();
    r.skip(6);
    if (command > NXTTMC_CLEAR) return fail("NXTTMFC_BAD_COMMAND");
    const maps = decodeTlvMaps(r, true);
    if (!Array.isArray(maps)) return maps;
    return { command, mappings: command === NXTTMC_CLEAR ? [] : maps };
  },
  encode(w, b) {
    w.u16(b.command).zeros(6);
    encodeTlvMaps(w, b.mappings);
  },
  print(b) {
    const name = b.command === NXTTMC_ADD ? "ADD" : b.command === NXTTMC_DELETE ? "DEL" : "CLEAR";
    return `\n ${name}` + (b.command !== NXTTMC_CLEAR ? formatTlvTable(b.mappings) : "");
  },
};

export interface TlvTableReplyBody {
  maxOptionSpace: number;
  maxFields: number;
  mappings: TlvMap[];
}

export const TLV_TABLE_REPLY_CODEC: BodyCodec<TlvTableReplyBody> = {
  decode(r) {
    const maxOptionSpace = r.u32();
    const maxFields = r.u16();
    r.skip(10);
    const maps = decodeTlvMaps(r, true);
    if (!Array.isArray(maps)) return maps;
    return { maxOptionSpace, maxFields, mappings: maps };
  },
  encode(w, b) {
    w.u32(b.maxOptionSpace).u16(b.maxFields).zeros(10);
    encodeTlvMaps(w, b.mappings);
  },
  print(b) {
    const used = b.mappings.reduce((a, m) => a + m.optionLen, 0);
    return `\n max option space=${b.maxOptionSpace} max fields=${b.maxFields}\n allocated option space=${used}\n\n` +
      formatTlvTable(b.mappings);
  },
};

/* ---------------- flow monitor cancel, conntrack flush ---------------- */

export interface FlowMonitorCancelBody {
  id: number;
}

export const FLOW_MONITOR_CANCEL_CODEC: BodyCodec<FlowMonitorCancelBody> = {
  decode: (r) => ({ id: r.u32() }),
  encode: (w, b) => void w.u32(b.id),
  print: (b) => ` id=${b.id}`,
};

export interface CtFlushZoneBody {
  zoneId: number;
}

export const CT_FLUSH_ZONE_CODEC: BodyCodec<CtFlushZoneBody> = {
  decode(r) {
    r.skip(6);
    return { zoneId: r.u16() };
  },
  encode: (w, b) => void w.zeros(6).u16(b.zoneId),
  print: (b) => ` zone_id=${b.zoneId}`,
};
