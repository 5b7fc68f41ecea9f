/**
 * Meter specifications as ovs-ofctl(8) writes them (`add-meter`,
 * `mod-meter`, `del-meters`, `dump-meters`, `meter-stats`):
 *
 *   meter=N|all|controller|slowpath[,kbps|pktps][,burst][,stats]
 *     ,bands=type=drop|dscp_remark,rate=N[,burst_size=N][,prec_level=N]
 *       [,type=...]
 *
 * `band=` may stand for `bands=`; each `type=` after it starts a band.
 * Checks and messages are ovs-ofctl 3.1's: add and modify need a meter
 * id (1..0xffff0000 or a name), kbps or pktps (both pass: the switch
 * refuses them), at least one
 * band with a rate, and burst_size exactly when the burst flag is set; the
 * other commands take only the meter id (default all).
 */
const OFPM13_MAX = 0xffff0000;
const OFPM13_SLOWPATH = 0xfffffffd;
const OFPM13_CONTROLLER = 0xfffffffe;
const OFPM13_ALL = 0xffffffff;

export interface ParsedMeterBand {
  type: number;
  rate: number;
  burstSize: number;
  precLevel: number;
}

export interface ParsedMeterMod {
  /** 0 add, 1 modify, 2 delete (and the id-only commands). */
  command: number;
  meter: { meterId: number; flags: number; bands: ParsedMeterBand[] };
}

const FLAGS: Readonly<Record<string, number>> = { kbps: 1, pktps: 2, burst: 4, stats: 8 };

function num(s: string, max: number): number | null {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) return null;
  const v = Number(s);
  return v <= max ? v : null;
}

/** `meter=...` value: a number or a name. */
function meterId(v: string): number | { error: string } {
  switch (v.toLowerCase()) {
    case "all":
      return OFPM13_ALL;
    case "controller":
      return OFPM13_CONTROLLER;
    case "slowpath":
      return OFPM13_SLOWPATH;
  }
  const id = num(v, 0xffffffff);
  if (id === null) return { error: `invalid numeric format ${v}` };
  return id === 0 || id > OFPM13_MAX ? { error: "invalid value for meter" } : id;
}

/**
 * Parses a meter specification for `command` (0 add, 1 modify; 2 for
 * delete and the requests, which take only `meter=`), as ovs-ofctl does;
 * `{error}` carries ovs-ofctl's message.
 */
export function parseMeterMod(text: string, command: number): ParsedMeterMod | { error: string } {
  const mm: ParsedMeterMod = { command, meter: { meterId: OFPM13_ALL, flags: 0, bands: [] } };
  const idOnly = command !== 0 && command !== 1;
  const m = /(^|,)\s*bands?=/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const bandText = m ? text.slice(m.index + m[0].length) : null;
  let haveId = false;
  for (const part of head.split(/[,\s]+/).filter((p) => p !== "")) {
    const eq = part.search(/[=:]/);
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (key === "meter" && value !== null) {
      const id = meterId(value);
      if (typeof id !== "number") return id;
      mm.meter.meterId = id;
      haveId = true;
    } else if (!idOnly && value === null && FLAGS[key] !== undefined) {
      mm.meter.flags |= FLAGS[key]!;
    } else if (value === null) {
      return { error: `field ${key} missing value` };
    } else {
      return { error: `unknown keyword ${key}` };
    }
  }
  if (idOnly && bandText !== null) return { error: `unknown keyword ${m![0].replace(/^,?\s*/, "").replace("=", "")}` };
  if (!haveId) return { error: "must specify 'meter'" };
  if (idOnly) return mm;
  if (bandText !== null) {
    let band: ParsedMeterBand | null = null;
    for (const part of bandText.split(/[,\s]+/).filter((p) => p !== "")) {
      const eq = part.search(/[=:]/);
      const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? "" : part.slice(eq + 1);
      if (key === "type") {
        const type = value === "drop" ? 1 : value === "dscp_remark" ? 2 : null;
        if (type === null) return { error: `field type unknown value ${value}` };
        band = { type, rate: 0, burstSize: 0, precLevel: 0 };
        mm.meter.bands.push(band);
      } else if (band === null) {
        return { error: "band must start with the 'type' keyword" };
      } else if (eq < 0) {
        return { error: `field ${key} missing value` };
      } else if (key === "rate" || key === "burst_size" || key === "prec_level") {
        const v = num(value, 0xffffffff);
        if (v === null) return { error: `invalid numeric format ${value}` };
        if (key === "prec_level" && v > 0xff) return { error: `invalid prec_level "${value}"` };
        if (key === "rate") band.rate = v;
        else if (key === "burst_size") band.burstSize = v;
        else band.precLevel = v;
      } else {
        return { error: `unknown keyword ${key}` };
      }
    }
  }
  const units = mm.meter.flags & 3;
  // Both units pass here: the switch refuses them (OFPMMFC_BAD_FLAGS).
  if (units === 0) return { error: "meter must specify either 'kbps' or 'pktps'" };
  if (mm.meter.bands.length === 0) return { error: "must specify bands" };
  for (const b of mm.meter.bands) {
    if (b.rate === 0) return { error: "band must have 'rate'" };
    if (b.type === 2 && b.precLevel === 0) return { error: "'dscp_remark' band must have 'prec_level'" };
    if (mm.meter.flags & 4) {
      if (b.burstSize === 0) return { error: "band must have 'burst_size' when 'burst' flag is set" };
    } else if (b.burstSize !== 0) return { error: "band may have 'burst_size' only when 'burst' flag is set" };
  }
  return mm;
}
