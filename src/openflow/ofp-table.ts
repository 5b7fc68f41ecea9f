/**
 * OpenFlow 1.4+ table descriptions: the OFPST_TABLE_DESC reply and the
 * OFPT_TABLE_STATUS message that carries one description (eviction and
 * vacancy configuration as properties).
 */
import { OfpReader, type OfpWriter } from "./ofp-buffer.js";
import { bitNames, type BodyCodec, type DecodeError, decodeEntries, fail, isDecodeError, pullProperty, putProperty } from "./ofp-codec.js";

const OFPTC14_EVICTION = 4;
const OFPTC14_VACANCY_EVENTS = 8;
const OFPTMPT14_EVICTION = 2;
const OFPTMPT14_VACANCY = 3;

export interface TableDesc {
  tableId: number;
  eviction: boolean;
  vacancy: boolean;
  /** Eviction-flags property, null when absent. */
  evictionFlags: number | null;
  /** Vacancy property, null when absent. */
  vacancyProp: { down: number; up: number; vacancy: number } | null;
}

function decodeTableDesc(r: OfpReader): TableDesc | DecodeError {
  if (r.remaining < 8) return fail("OFPBRC_BAD_LEN");
  const len = r.u16();
  const tableId = r.u8();
  r.skip(1);
  const config = r.u32();
  if (len < 8 || len - 8 > r.remaining) return fail("OFPBRC_BAD_LEN");
  const d: TableDesc = {
    tableId,
    eviction: (config & OFPTC14_EVICTION) !== 0,
    vacancy: (config & OFPTC14_VACANCY_EVENTS) !== 0,
    evictionFlags: null,
    vacancyProp: null,
  };
  const props = r.sub(len - 8);
  while (props.remaining > 0) {
    const p = pullProperty(props);
    if (isDecodeError(p)) return p;
    const pr = new OfpReader(p.data);
    if (p.type === OFPTMPT14_EVICTION) {
      if (p.data.length !== 4) return fail("OFPBPC_BAD_LEN");
      d.evictionFlags = pr.u32();
    } else if (p.type === OFPTMPT14_VACANCY) {
      if (p.data.length !== 4) return fail("OFPBPC_BAD_LEN");
      const down = pr.u8();
      const up = pr.u8();
      const vacancy = pr.u8();
      d.vacancyProp = { down, up, vacancy };
    }
    // Other properties are ignored, as OVS does.
  }
  return d;
}

function encodeTableDesc(w: OfpWriter, d: TableDesc): void {
  const start = w.length;
  const f = w.fork(2);
  w.u8(d.tableId).zeros(1).u32((d.eviction ? OFPTC14_EVICTION : 0) | (d.vacancy ? OFPTC14_VACANCY_EVENTS : 0));
  if (d.evictionFlags !== null) putProperty(w, OFPTMPT14_EVICTION, (w) => w.u32(d.evictionFlags!));
  if (d.vacancyProp) {
    const v = d.vacancyProp;
    putProperty(w, OFPTMPT14_VACANCY, (w) => w.u8(v.down).u8(v.up).u8(v.vacancy).zeros(1));
  }
  w.setU16(f.at, w.length - start);
}

function formatTableDesc(d: TableDesc): string {
  let s = `\n  table ${d.tableId}:\n`;
  s += `   eviction=${d.eviction ? "on" : "off"} eviction_flags=`;
  if (d.evictionFlags === null) s += "(default)";
  else s += bitNames(d.evictionFlags, { 1: "OTHER", 2: "IMPORTANCE", 4: "LIFETIME" }, "|");
  s += `\n   vacancy=${d.vacancy ? "on" : "off"}`;
  if (d.vacancy) {
    const v = d.vacancyProp ?? { down: 0, up: 0, vacancy: 0 };
    s += ` vacancy_down=${v.down}% vacancy_up=${v.up}% vacancy=${v.vacancy}%`;
  }
  return s + "\n";
}

export interface TableDescReplyBody {
  tables: TableDesc[];
}

export const TABLE_DESC_REPLY_CODEC: BodyCodec<TableDescReplyBody> = {
  decode(r) {
    return decodeEntries(r, decodeTableDesc, (tables): TableDescReplyBody => ({ tables }));
  },
  encode(w, b) {
    for (const d of b.tables) encodeTableDesc(w, d);
  },
  print: (b) => b.tables.map(formatTableDesc).join(""),
};

export const OFPTR_VACANCY_DOWN = 3;
export const OFPTR_VACANCY_UP = 4;

export interface TableStatusBody {
  reason: number;
  desc: TableDesc;
}

export const TABLE_STATUS_CODEC: BodyCodec<TableStatusBody> = {
  decode(r) {
    const reason = r.u8();
    r.skip(7);
    if (reason !== OFPTR_VACANCY_DOWN && reason !== OFPTR_VACANCY_UP) return fail("OFPBPC_BAD_VALUE");
    const desc = decodeTableDesc(r);
    if (isDecodeError(desc)) return desc;
    return { reason, desc };
  },
  encode(w, b) {
    w.u8(b.reason).zeros(7);
    encodeTableDesc(w, b.desc);
  },
  print(b) {
    return ` reason=${b.reason === OFPTR_VACANCY_DOWN ? "VACANCY_DOWN" : "VACANCY_UP"}\ntable_desc:-` + formatTableDesc(b.desc);
  },
};
