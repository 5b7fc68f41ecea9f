/**
 * OpenFlow ports on the wire: `ofp10_phy_port` (48 bytes), `ofp11_port`
 * (64 bytes) and `ofp14_port` (with properties), decoded into one
 * version-independent `PhyPort` as OVS's ofputil_phy_port; plus the bodies
 * of port-status, port-mod and port-desc messages.
 *
 * Bits are kept in OVS's internal layouts: config as OF1.0's OFPPC_*,
 * state as OF1.1's OFPPS_* plus OF1.0's STP state in bits 8-9, features
 * as OF1.1's OFPPF_* (OF1.0's high bits are shifted up on decode).
 */
import { OfpReader, OfpWriter } from "./ofp-buffer.js";
import {
  decodeEntries,
  bitNames,
  type BodyCodec,
  type DecodeError,
  fail,
  formatMac,
  formatPort,
  isDecodeError,
  pullProperty,
  putProperty,
  readPort,
  writePort,
} from "./ofp-codec.js";

/* ---------------- config, state, features ---------------- */

export const OFPPC_PORT_DOWN = 1 << 0;
export const OFPPC_NO_STP = 1 << 1;
export const OFPPC_NO_RECV = 1 << 2;
export const OFPPC_NO_RECV_STP = 1 << 3;
export const OFPPC_NO_FLOOD = 1 << 4;
export const OFPPC_NO_FWD = 1 << 5;
export const OFPPC_NO_PACKET_IN = 1 << 6;
/** Config bits each version can carry. */
const OFPPC10_ALL = 0x7f;
const OFPPC11_ALL = OFPPC_PORT_DOWN | OFPPC_NO_RECV | OFPPC_NO_FWD | OFPPC_NO_PACKET_IN;

export const PORT_CONFIG_NAMES: Readonly<Record<number, string>> = {
  [OFPPC_PORT_DOWN]: "PORT_DOWN",
  [OFPPC_NO_STP]: "NO_STP",
  [OFPPC_NO_RECV]: "NO_RECV",
  [OFPPC_NO_RECV_STP]: "NO_RECV_STP",
  [OFPPC_NO_FLOOD]: "NO_FLOOD",
  [OFPPC_NO_FWD]: "NO_FWD",
  [OFPPC_NO_PACKET_IN]: "NO_PACKET_IN",
};

export const OFPPS_LINK_DOWN = 1 << 0;
export const OFPPS_BLOCKED = 1 << 1;
export const OFPPS_LIVE = 1 << 2;
export const OFPPS_STP_LISTEN = 0 << 8;
export const OFPPS_STP_LEARN = 1 << 8;
export const OFPPS_STP_FORWARD = 2 << 8;
export const OFPPS_STP_BLOCK = 3 << 8;
export const OFPPS_STP_MASK = 3 << 8;

const PORT_STATE_NAMES: Readonly<Record<number, string>> = {
  [OFPPS_LINK_DOWN]: "LINK_DOWN",
  [OFPPS_BLOCKED]: "BLOCKED",
  [OFPPS_LIVE]: "LIVE",
};

export const PORT_FEATURE_NAMES: Readonly<Record<number, string>> = {
  [1 << 0]: "10MB-HD",
  [1 << 1]: "10MB-FD",
  [1 << 2]: "100MB-HD",
  [1 << 3]: "100MB-FD",
  [1 << 4]: "1GB-HD",
  [1 << 5]: "1GB-FD",
  [1 << 6]: "10GB-FD",
  [1 << 7]: "40GB-FD",
  [1 << 8]: "100GB-FD",
  [1 << 9]: "1TB-FD",
  [1 << 10]: "OTHER",
  [1 << 11]: "COPPER",
  [1 << 12]: "FIBER",
  [1 << 13]: "AUTO_NEG",
  [1 << 14]: "AUTO_PAUSE",
  [1 << 15]: "AUTO_PAUSE_ASYM",
};

/** OF1.0 features: bits 0-6 as OF1.1, bits 7-11 are OF1.1's 11-15. */
function features10To11(f: number): number {
  return (f & 0x7f) | ((f & 0xf80) << 4);
}
function features11To10(f: number): number {
  return (f & 0x7f) | ((f >>> 4) & 0xf80);
}

/** Speed in kbps implied by a features bitmap (OVS netdev_features_to_bps). */
export function featuresToKbps(f: number): number {
  if (f & (1 << 9)) return 1_000_000_000;
  if (f & (1 << 8)) return 100_000_000;
  if (f & (1 << 7)) return 40_000_000;
  if (f & (1 << 6)) return 10_000_000;
  if (f & ((1 << 4) | (1 << 5))) return 1_000_000;
  if (f & ((1 << 2) | (1 << 3))) return 100_000;
  if (f & ((1 << 0) | (1 << 1))) return 10_000;
  return 0;
}

export function formatPortConfig(c: number): string {
  return bitNames(c, PORT_CONFIG_NAMES);
}

export function formatPortState(s: number): string {
  const stp = s & OFPPS_STP_MASK;
  if (stp) {
    const name = stp === OFPPS_STP_LEARN ? "STP_LEARN" : stp === OFPPS_STP_FORWARD ? "STP_FORWARD" : "STP_BLOCK";
    const rest = s & ~OFPPS_STP_MASK;
    // OVS 3.1 prints the other state bits right after the STP name, with no separator.
    return rest ? `${name}${bitNames(rest, PORT_STATE_NAMES)}` : name;
  }
  return bitNames(s, PORT_STATE_NAMES);
}

export function formatPortFeatures(f: number): string {
  return bitNames(f, PORT_FEATURE_NAMES);
}

/* ---------------- the port structure ---------------- */

export interface PhyPort {
  portNo: number;
  hwAddr: Uint8Array;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  /** Current and maximum speed in kbps. */
  currSpeed: number;
  maxSpeed: number;
}

export const OFP10_PHY_PORT_LEN = 48;
export const OFP11_PORT_LEN = 64;
export const OFP14_PORT_LEN = 40;
const OFPPDPT14_ETHERNET = 0;

function decodePort10(r: OfpReader): PhyPort {
  const portNo = r.u16();
  const hwAddr = r.bytes(6);
  const name = r.fixedString(16);
  const config = r.u32() & OFPPC10_ALL;
  const st = r.u32();
  const state = (st & OFPPS_LINK_DOWN) | (st & OFPPS_STP_MASK);
  const curr = features10To11(r.u32() & 0xfff);
  const advertised = features10To11(r.u32() & 0xfff);
  const supported = features10To11(r.u32() & 0xfff);
  const peer = features10To11(r.u32() & 0xfff);
  return {
    portNo, hwAddr, name, config, state, curr, advertised, supported, peer,
    currSpeed: featuresToKbps(curr),
    maxSpeed: featuresToKbps(supported),
  };
}

function decodePort11(r: OfpReader): PhyPort | DecodeError {
  const portNo = readPort(r, 2);
  r.skip(4);
  const hwAddr = r.bytes(6);
  r.skip(2);
  const name = r.fixedString(16);
  const config = r.u32() & OFPPC11_ALL;
  const state = r.u32() & 7;
  const curr = r.u32() & 0xffff;
  const advertised = r.u32() & 0xffff;
  const supported = r.u32() & 0xffff;
  const peer = r.u32() & 0xffff;
  const currSpeed = r.u32();
  const maxSpeed = r.u32();
  if (isDecodeError(portNo)) return portNo;
  return { portNo, hwAddr, name, config, state, curr, advertised, supported, peer, currSpeed, maxSpeed };
}

function decodePort14(r: OfpReader): PhyPort | DecodeError {
  if (r.remaining < OFP14_PORT_LEN) return fail("OFPBRC_BAD_LEN");
  const portNo = readPort(r, 5);
  const len = r.u16();
  r.skip(2);
  const hwAddr = r.bytes(6);
  r.skip(2);
  const name = r.fixedString(16);
  const config = r.u32() & OFPPC11_ALL;
  const state = r.u32() & 7;
  if (len < OFP14_PORT_LEN || len - OFP14_PORT_LEN > r.remaining) return fail("OFPBRC_BAD_LEN");
  if (isDecodeError(portNo)) return portNo;
  const port: PhyPort = {
    portNo, hwAddr, name, config, state,
    curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
  };
  const props = r.sub(len - OFP14_PORT_LEN);
  while (props.remaining > 0) {
    const p = pullProperty(props);
    if (isDecodeError(p)) return p;
    if (p.type === OFPPDPT14_ETHERNET) {
      if (p.data.length < 28) return fail("OFPBPC_BAD_LEN");
      const pr = new OfpReader(p.data);
      pr.skip(4);
      port.curr = pr.u32() & 0xffff;
      port.advertised = pr.u32() & 0xffff;
      port.supported = pr.u32() & 0xffff;
      port.peer = pr.u32() & 0xffff;
      port.currSpeed = pr.u32();
      port.maxSpeed = pr.u32();
    }
    // Other properties (optical, experimenter) are ignored, as OVS does.
  }
  return port;
}

/** Decodes one port structure of the version's format. */
export function decodePort(r: OfpReader, version: number): PhyPort | DecodeError {
  if (version === 1) {
    if (r.remaining < OFP10_PHY_PORT_LEN) return fail("OFPBRC_BAD_LEN");
    return decodePort10(r);
  }
  if (version <= 4) {
    if (r.remaining < OFP11_PORT_LEN) return fail("OFPBRC_BAD_LEN");
    return decodePort11(r);
  }
  return decodePort14(r);
}

export function encodePort(w: OfpWriter, p: PhyPort, version: number): void {
  if (version === 1) {
    w.u16(p.portNo).bytes(p.hwAddr).fixedString(p.name, 16);
    w.u32(p.config & OFPPC10_ALL).u32(p.state & (OFPPS_LINK_DOWN | OFPPS_STP_MASK));
    w.u32(features11To10(p.curr)).u32(features11To10(p.advertised));
    w.u32(features11To10(p.supported)).u32(features11To10(p.peer));
  } else if (version <= 4) {
    writePort(w, p.portNo, version);
    w.zeros(4).bytes(p.hwAddr).zeros(2).fixedString(p.name, 16);
    w.u32(p.config & OFPPC11_ALL).u32(p.state & 7);
    w.u32(p.curr).u32(p.advertised).u32(p.supported).u32(p.peer).u32(p.currSpeed).u32(p.maxSpeed);
  } else {
    const start = w.length;
    writePort(w, p.portNo, version);
    const f = w.fork(2);
    w.zeros(2).bytes(p.hwAddr).zeros(2).fixedString(p.name, 16);
    w.u32(p.config & OFPPC11_ALL).u32(p.state & 7);
    putProperty(w, OFPPDPT14_ETHERNET, (w) => {
      w.zeros(4).u32(p.curr).u32(p.advertised).u32(p.supported).u32(p.peer).u32(p.currSpeed).u32(p.maxSpeed);
    });
    w.setU16(f.at, w.length - start);
  }
}

/** ofp-print's multi-line description of one port (starts with a space). */
export function formatPhyPort(p: PhyPort): string {
  // ofp-print shows the name up to its first unprintable character.
  const bad = p.name.search(/[^\x20-\x7e]/);
  const name = bad < 0 ? p.name : p.name.slice(0, bad);
  let s = ` ${formatPort(p.portNo)}(${name}): addr:${formatMac(p.hwAddr)}\n`;
  s += `     config:     ${formatPortConfig(p.config)}\n`;
  s += `     state:      ${formatPortState(p.state)}\n`;
  if (p.curr) s += `     current:    ${formatPortFeatures(p.curr)}\n`;
  if (p.advertised) s += `     advertised: ${formatPortFeatures(p.advertised)}\n`;
  if (p.supported) s += `     supported:  ${formatPortFeatures(p.supported)}\n`;
  if (p.peer) s += `     peer:       ${formatPortFeatures(p.peer)}\n`;
  s += `     speed: ${Math.floor(p.currSpeed / 1000)} Mbps now, ${Math.floor(p.maxSpeed / 1000)} Mbps max\n`;
  return s;
}

/** A list of ports, sorted by number as ofp-print shows them. */
export function formatPhyPorts(ports: readonly PhyPort[]): string {
  return [...ports].sort((a, b) => a.portNo - b.portNo).map(formatPhyPort).join("");
}

/** Decodes ports until the reader is empty. */
export function decodePorts(r: OfpReader, version: number): PhyPort[] | DecodeError {
  const out: PhyPort[] = [];
  while (r.remaining > 0) {
    const p = decodePort(r, version);
    if (isDecodeError(p)) return p;
    out.push(p);
  }
  return out;
}

/* ---------------- OFPT_PORT_STATUS ---------------- */

export const OFPPR_ADD = 0;
export const OFPPR_DELETE = 1;
export const OFPPR_MODIFY = 2;

export interface PortStatusBody {
  reason: number;
  desc: PhyPort;
}

export const PORT_STATUS_CODEC: BodyCodec<PortStatusBody> = {
  decode(r, ctx) {
    const reason = r.u8();
    r.skip(7);
    if (reason > OFPPR_MODIFY) return fail("NXBRC_BAD_REASON");
    const desc = decodePort(r, ctx.version);
    if (isDecodeError(desc)) return desc;
    return { reason, desc };
  },
  encode(w, b, ctx) {
    w.u8(b.reason).zeros(7);
    encodePort(w, b.desc, ctx.version);
  },
  print(b) {
    const r = b.reason === OFPPR_ADD ? " ADD:" : b.reason === OFPPR_DELETE ? " DEL:" : " MOD:";
    return r + formatPhyPort(b.desc);
  },
};

/* ---------------- OFPT_PORT_MOD ---------------- */

export interface PortModBody {
  portNo: number;
  hwAddr: Uint8Array;
  config: number;
  mask: number;
  /** Features to advertise, 0 for "leave unchanged". */
  advertise: number;
}

const OFPPMPT14_ETHERNET = 0;

export const PORT_MOD_CODEC: BodyCodec<PortModBody> = {
  decode(r, ctx) {
    const v = ctx.version;
    if (v === 1) {
      const portNo = r.u16();
      const hwAddr = r.bytes(6);
      const rawConfig = r.u32();
      const mask = r.u32() & OFPPC10_ALL;
      // Only the bits being changed matter; OVS keeps just those.
      const config = rawConfig & mask;
      const advertise = features10To11(r.u32() & 0xfff);
      return { portNo, hwAddr, config, mask, advertise };
    }
    const portNo = readPort(r, v);
    r.skip(4);
    const hwAddr = r.bytes(6);
    r.skip(2);
    const rawConfig = r.u32();
    const mask = r.u32() & OFPPC11_ALL;
    const config = rawConfig & mask;
    if (isDecodeError(portNo)) return portNo;
    let advertise = 0;
    if (v <= 4) {
      advertise = r.u32() & 0xffff;
    } else {
      while (r.remaining > 0) {
        const p = pullProperty(r);
        if (isDecodeError(p)) return p;
        if (p.type === OFPPMPT14_ETHERNET) {
          if (p.data.length !== 4) return fail("OFPBPC_BAD_LEN");
          advertise = new OfpReader(p.data).u32() & 0xffff;
        }
        // Other properties are ignored, as OVS does.
      }
    }
    return { portNo, hwAddr, config, mask, advertise };
  },
  encode(w, b, ctx) {
    const v = ctx.version;
    if (v === 1) {
      w.u16(b.portNo).bytes(b.hwAddr).u32(b.config).u32(b.mask).u32(features11To10(b.advertise)).zeros(4);
      return;
    }
    writePort(w, b.portNo, v);
    w.zeros(4).bytes(b.hwAddr).zeros(2).u32(b.config).u32(b.mask);
    if (v <= 4) w.u32(b.advertise).zeros(4);
    else putProperty(w, OFPPMPT14_ETHERNET, (w) => w.u32(b.advertise));
  },
  print(b) {
    let s = ` port: ${formatPort(b.portNo)}: addr:${formatMac(b.hwAddr)}\n`;
    s += `     config: ${formatPortConfig(b.config)}\n`;
    s += `     mask:   ${formatPortConfig(b.mask)}\n`;
    s += `     advertise: ${b.advertise ? formatPortFeatures(b.advertise) : "UNCHANGED"}\n`;
    return s;
  },
};

/* ---------------- port-desc request / reply ---------------- */

export interface PortDescRequestBody {
  /** Port to describe (OF1.5+ only; OFPP_NONE means all). */
  portNo: number;
}

export const PORT_DESC_REQUEST_CODEC: BodyCodec<PortDescRequestBody> = {
  decode(r, ctx) {
    if (ctx.version < 6) return { portNo: 0xffff };
    const p = readPort(r, ctx.version);
    r.skip(4);
    return isDecodeError(p) ? p : { portNo: p };
  },
  encode(w, b, ctx) {
    if (ctx.version >= 6) {
      writePort(w, b.portNo, ctx.version);
      w.zeros(4);
    }
  },
  print(b, ctx) {
    void ctx;
    return ` port=${formatPort(b.portNo)}`;
  },
};

export interface PortListBody {
  ports: PhyPort[];
}

export const PORT_DESC_REPLY_CODEC: BodyCodec<PortListBody> = {
  decode(r, ctx) {
    return decodeEntries(r, (r) => decodePort(r, ctx.version), (ports): PortListBody => ({ ports }));
  },
  encode(w, b, ctx) {
    for (const p of b.ports) encodePort(w, p, ctx.version);
  },
  print(b) {
    return "\n" + formatPhyPorts(b.ports);
  },
};

