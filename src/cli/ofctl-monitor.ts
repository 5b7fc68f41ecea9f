/**
 * ovs-ofctl(8)'s commands for OpenFlow switches and controllers: probe,
 * ping, benchmark; packet-out (both syntaxes); and the ones that keep
 * listening: monitor (miss length, invalid_ttl, watch: flow monitoring,
 * -P packet-in format) and snoop, with the control socket, pid file and
 * --detach of a monitoring ovs-ofctl.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ofpToString, OFPP_NONE, type OfpMessage } from "../openflow/index.js";
import { encodeInstructions, parseActions } from "../openflow/ofp-actions-codec.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { isTextError } from "../openflow/ofp-actions-util.js";
import { protocolWire } from "../openflow/ofp-flow-parse.js";
import { Match } from "../openflow/match.js";
import { parseMatch } from "../openflow/match-parse.js";
import { allocXid, type Vconn, VconnError, xidOf } from "../openflow/vconn.js";
import { createPidfile, type Pidfile, registerBuiltins, UnixctlError, UnixctlRegistry, UnixctlServer } from "../unixctl/index.js";
import { rundir } from "../util/dirs.js";
import { Fatal, onFatalSignal, parseHex, setDirectOutput, write } from "./ofctl-common.js";
import { fetchConfig, msg, openForFlowMod, type Run, type Session, strToPortNo } from "./ofctl-switch.js";

/* ----- probe, ping, benchmark ----- */

export const cmdProbe: Run = async (sess, [name]) => {
  const v = await sess.open(name!);
  try {
    const reply = await sess.transact(v, msg({ type: "OFPT_ECHO_REQUEST", version: v.version, xid: allocXid(), body: { data: new Uint8Array(0) } }), name!);
    if (reply.length !== 8) throw new Fatal(`reply does not match request`);
  } finally {
    v.close();
  }
};

export const cmdPing: Run = async (sess, [name, sizeArg]) => {
  const payload = sizeArg !== undefined ? Number(sizeArg) : 64;
  const max = 65535 - 8;
  if (!(payload >= 0) || payload > max) throw new Fatal(`payload must be between 0 and ${max} bytes`);
  const v = await sess.open(name!);
  try {
    for (let i = 0; i < 10; i++) {
      const data = new Uint8Array(payload);
      for (let j = 0; j < payload; j++) data[j] = Math.floor(Math.random() * 256);
      const req = msg({ type: "OFPT_ECHO_REQUEST", version: v.version, xid: allocXid(), body: { data } });
      const t0 = process.hrtime.bigint();
      const reply = await sess.transact(v, req, name!);
      const t1 = process.hrtime.bigint();
      const ok = reply.length === req.length && reply[1] === 3 && Buffer.from(reply.subarray(8)).equals(Buffer.from(req.subarray(8)));
      if (!ok) {
        write(`Reply does not match request.  Request:\n${ofpToString(req, sess.opts.verbosity + 2)}Reply:\n${ofpToString(reply, sess.opts.verbosity + 2)}`);
      }
      const ms = Number(t1 - t0) / 1e6;
      write(`${reply.length - 8} bytes from ${name}: xid=${xidOf(reply).toString(16).padStart(8, "0")} time=${ms.toFixed(1)} ms\n`);
      sess.flush();
    }
  } finally {
    v.close();
  }
};

export const cmdBenchmark: Run = async (sess, [name, sizeArg, countArg]) => {
  const payload = parseInt(sizeArg!, 10) || 0;
  const max = 65535 - 8;
  if (payload < 0 || payload > max) throw new Fatal(`payload must be between 0 and ${max} bytes`);
  const size = payload + 8;
  const count = parseInt(countArg!, 10) || 0;
  write(`Sending ${count} packets * ${size} bytes (with header) = ${count * size} bytes total\n`);
  sess.flush();
  const v = await sess.open(name!);
  const t0 = process.hrtime.bigint();
  try {
    for (let i = 0; i < count; i++) {
      await sess.transact(v, msg({ type: "OFPT_ECHO_REQUEST", version: v.version, xid: allocXid(), body: { data: new Uint8Array(payload) } }), "transact");
    }
  } finally {
    v.close();
  }
  const secs = (Number(process.hrtime.bigint() - t0) / 1e6 + 1) / 1000;
  write(`Finished in ${(secs * 1000).toFixed(1)} ms (${(count / secs).toFixed(0)} packets/s) (${((count * size) / secs).toFixed(0)} bytes/s)\n`);
};

/* ----- packet-out ----- */

/** eth_from_hex: the packet bytes, or OVS's complaint. */
function packetFromHex(hex: string, prefix = ""): Uint8Array {
  const clean = hex.replace(/\s/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Fatal(`${prefix}Trailing garbage in packet data`);
  const b = Uint8Array.from(Buffer.from(clean, "hex"));
  if (b.length < 14) throw new Fatal(`${prefix}Packet data too short for Ethernet`);
  return b;
}

/** Protocols whose wire forms can carry `actions`. */
function actionsUsable(actions: OfpAction[]): number {
  let usable = 0;
  for (let i = 0; i < 9; i++) {
    const p = 1 << i;
    if (!isTextError(encodeInstructions(actions, protocolWire(p).version))) usable |= p;
  }
  return usable;
}

function packetOutMessage(version: number, metadata: Match, actions: OfpAction[], packet: Uint8Array): Uint8Array {
  return msg({ type: "OFPT_PACKET_OUT", version, xid: allocXid(), body: { bufferId: 0xffffffff, metadata, actions, packet } } as OfpMessage);
}

/** parse_ofp_packet_out_str: "in_port=...,packet=HEX,[fields,]actions=...". */
async function parsePacketOut(sess: Session, name: string, text: string): Promise<{ acts: OfpAction[]; metadata: Match; packet: Uint8Array }> {
  const ai = text.indexOf("actions=");
  const acts = ai < 0 ? [] : parseActions(text.slice(ai + 8));
  if (isTextError(acts)) throw new Fatal(acts.error);
  let packet: Uint8Array | null = null;
  const rest: string[] = [];
  let inPort: number | null = null;
  for (const part of (ai < 0 ? text : text.slice(0, ai)).split(/[,\s]+/).filter((x) => x !== "")) {
    const [k, val] = part.split("=", 2) as [string, string | undefined];
    if (k === "packet") packet = packetFromHex(val ?? "", "packet: ");
    else if (k === "in_port") {
      inPort = await strToPortNo(sess, name, val ?? "");
    } else rest.push(part);
  }
  if (!packet) throw new Fatal("must specify packet");
  const pm = parseMatch(rest.join(","));
  if (!pm.ok) throw new Fatal(pm.error);
  if (pm.others.length) throw new Fatal(`unknown keyword ${pm.others[0]!.key}`);
  const metadata = pm.match;
  metadata.setNum("in_port", inPort ?? 0xfffd);
  return { acts, metadata, packet };
}

export const cmdPacketOut: Run = async (sess, args) => {
  const [name] = args;
  if (args.length === 2) {
    // packet-out SWITCH "in_port=...,packet=...,actions=..."
    const { acts, metadata, packet } = await parsePacketOut(sess, name!, args[1]!);
    const { v } = await openForFlowMod(sess, name!, actionsUsable(acts));
    try {
      await sess.noreply(v, [packetOutMessage(v.version, metadata, acts, packet)]);
    } finally {
      v.close();
    }
    return;
  }
  // packet-out SWITCH IN_PORT ACTIONS PACKET...
  const acts = parseActions(args[2]!);
  if (isTextError(acts)) throw new Fatal(acts.error);
  const inPort = await strToPortNo(sess, name!, args[1]!);
  const { v } = await openForFlowMod(sess, name!, actionsUsable(acts));
  try {
    for (const hex of args.slice(3)) {
      const metadata = new Match();
      metadata.setNum("in_port", inPort);
      await sess.noreply(v, [packetOutMessage(v.version, metadata, acts, packetFromHex(hex))]);
    }
  } finally {
    v.close();
  }
};

/* ----- monitor / snoop ----- */

/**
 * What a monitoring ovs-ofctl sets up before printing: its control socket
 * (`ovs-ofctl.PID.ctl`, or --unixctl) with `exit`, the pid file if asked,
 * and the "ready" signal a --detach parent waits for. Resolves `exited`
 * when `ovs-appctl -t ovs-ofctl exit` arrives.
 */
async function daemonize(sess: Session, v: Vconn, ctrl: MonitorControl): Promise<{ exited: Promise<void>; close: () => void }> {
  const registry = new UnixctlRegistry();
  registerBuiltins(registry, "ovs-ofctl");
  let onExit = (): void => undefined;
  const exited = new Promise<void>((r) => (onExit = r));
  registry.register("exit", "", 0, 0, () => {
    setImmediate(onExit);
    return "";
  });
  registry.register("ofctl/send", "OFMSG...", 1, Infinity, (args) => {
    let reply = "";
    for (const hex of args) {
      const b = parseHex(hex);
      if (!b) throw new UnixctlError("Trailing garbage in hex data");
      if (b.length < 8) throw new UnixctlError("Message too short for OpenFlow");
      write("send: " + ofpToString(b, sess.opts.verbosity));
      sess.flush();
      try {
        v.send(b);
        reply += "sent\n";
      } catch (e) {
        reply += `${e instanceof VconnError ? e.reason : String(e)}\n`;
      }
    }
    return reply;
  });
  registry.register("ofctl/barrier", "", 0, 0, () => {
    const b = msg({ type: "OFPT_BARRIER_REQUEST", version: v.version, xid: allocXid(), body: {} });
    // The reply is printed by the monitor loop; ovs-appctl returns once it came.
    return new Promise<string>((resolve) => {
      ctrl.barriers.set(xidOf(b), () => resolve(""));
      v.send(b);
    });
  });
  registry.register("ofctl/set-output-file", "FILE", 1, 1, (args) => {
    let fd: number;
    try {
      fd = fs.openSync(args[0]!, "w");
    } catch (e) {
      throw new UnixctlError(`${args[0]}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : String((e as Error).message)}`);
    }
    sess.flush();
    setDirectOutput((text) => fs.writeSync(fd, Buffer.from(text, "latin1")));
    return "";
  });
  registry.register("ofctl/block", "", 0, 0, () => {
    ctrl.blocked = true;
    return "";
  });
  registry.register("ofctl/unblock", "", 0, 0, () => {
    ctrl.blocked = false;
    ctrl.wake?.();
    return "";
  });
  registry.register("ofctl/packet-out", "\"in_port=<port> packet=<hex data> actions=...\"", 1, 1, async (args) => {
    try {
      await sess.nameMaps(v.name, true);
      const { acts, metadata, packet } = await parsePacketOut(sess, v.name, args[0]!);
      const po = msg({ type: "OFPT_PACKET_OUT", version: v.version, xid: allocXid(), body: { bufferId: 0xffffffff, metadata, actions: acts, packet } } as OfpMessage);
      write(ofpToString(po, sess.opts.verbosity));
      sess.flush();
      v.send(po);
      return "";
    } catch (e) {
      if (e instanceof Fatal) throw new UnixctlError(e.message);
      throw e;
    }
  });
  const o = sess.opts;
  let pidfile: Pidfile | null = null;
  if (o.pidfile !== null) {
    const file = o.pidfile === "" ? path.join(rundir(), "ovs-ofctl.pid") : path.resolve(o.pidfile);
    try {
      pidfile = await createPidfile(file, o.overwritePidfile);
    } catch (e) {
      throw new Fatal(`${(e as Error).message}`);
    }
  }
  const ctl = o.unixctl ? path.resolve(rundir(), o.unixctl) : path.join(rundir(), `ovs-ofctl.${process.pid}.ctl`);
  let server: UnixctlServer | null = null;
  try {
    server = await UnixctlServer.listen(ctl, registry);
  } catch (e) {
    throw new Fatal(`${ctl}: could not create control socket (${(e as Error).message})`);
  }
  // `ovs-appctl -t ovs-ofctl` goes by the pid in the pid file.
  if (pidfile && !o.unixctl) pidfile.aliasControlSocket(ctl, "ovs-ofctl");
  if (process.send) {
    process.send("ready");
    process.disconnect();
  }
  const close = (): void => {
    server?.close();
    pidfile?.remove();
  };
  const forget = onFatalSignal(close);
  return {
    exited,
    close: () => {
      forget();
      close();
    },
  };
}

/** What the control socket changes in a running monitor. */
interface MonitorControl {
  /** ofctl/block: stop reading from the switch until ofctl/unblock. */
  blocked: boolean;
  wake: (() => void) | null;
  /** ofctl/barrier requests waiting for their replies, by xid. */
  barriers: Map<number, () => void>;
}

async function printIncoming(sess: Session, v: Vconn, replyEcho: boolean): Promise<void> {
  const ctrl: MonitorControl = { blocked: false, wake: null, barriers: new Map() };
  const d = await daemonize(sess, v, ctrl);
  let stop = false;
  void d.exited.then(() => {
    stop = true;
    ctrl.wake?.();
    v.close();
  });
  try {
    await printLoop(sess, v, replyEcho, () => stop, ctrl);
  } finally {
    d.close();
  }
}

async function printLoop(sess: Session, v: Vconn, replyEcho: boolean, stopped: () => boolean, ctrl: MonitorControl): Promise<void> {
  for (;;) {
    while (ctrl.blocked && !stopped()) await new Promise<void>((r) => (ctrl.wake = r));
    let m: Uint8Array;
    try {
      m = await v.recv(true);
    } catch (e) {
      if (stopped()) return;
      if (e instanceof VconnError) throw new Fatal(`vconn_recv (${e.reason})`);
      throw e;
    }
    if (sess.opts.timestamp) write(new Date().toISOString().replace("T", " ").slice(0, 23) + ": ");
    write(await sess.withNames(v, ofpToString(m, sess.opts.verbosity + 2)));
    sess.flush();
    if (replyEcho && m[1] === 2) {
      const reply = new Uint8Array(m);
      reply[1] = 3;
      v.send(reply);
    }
    const waiting = ctrl.barriers.get(xidOf(m));
    if (waiting) {
      ctrl.barriers.delete(xidOf(m));
      waiting();
    }
  }
}

let monitorIds = 0;

/** parse_flow_monitor_request: "!initial,!add,...,table=N,out_port=N" and a match. */
function parseFlowMonitorRequest(text: string, id: number): { id: number; flags: number; outPort: number; tableId: number; match: Match } {
  const fmr = { id, flags: 0x3f, outPort: OFPP_NONE, tableId: 0xff, match: new Match() };
  const bits: Readonly<Record<string, number>> = { "!initial": 1, "!add": 2, "!delete": 4, "!modify": 8, "!actions": 16, "!own": 32 };
  const matchParts: string[] = [];
  for (const part of text.split(/[,\s]+/).filter((x) => x !== "")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    if (key in bits) fmr.flags &= ~bits[key]!;
    else if (key === "table" || key === "out_port") {
      if (value === "") throw new Fatal(`${text}: field ${key} missing value`);
      if (key === "table") fmr.tableId = parseInt(value, 10) & 0xff;
      else fmr.outPort = parseInt(value, 10) & 0xffff;
    } else matchParts.push(part);
  }
  const pm = parseMatch(matchParts.join(","));
  if (!pm.ok) throw new Fatal(`${text}: ${pm.error}`);
  if (pm.others.length) throw new Fatal(`${text}: unknown keyword ${pm.others[0]!.key}`);
  fmr.match = pm.match;
  return fmr;
}

const PACKET_IN_FORMATS: Readonly<Record<string, number>> = { standard: 0, openflow10: 0, nxt_packet_in: 1, nxm: 1, nxt_packet_in2: 2 };

/** NXT_SET_PACKET_IN_FORMAT; false if the switch refused (and `mustSucceed` is off). */
async function setPacketInFormat(sess: Session, v: Vconn, format: number, mustSucceed: boolean): Promise<boolean> {
  const req = msg({ type: "NXT_SET_PACKET_IN_FORMAT", version: v.version, xid: allocXid(), body: { format } });
  if (mustSucceed) {
    await sess.noreply(v, [req]);
    return true;
  }
  try {
    return (await v.transactNoreply(req)) === null;
  } catch (e) {
    if (e instanceof VconnError) throw new Fatal(`talking to ${v.name} (${e.reason})`);
    throw e;
  }
}

export const cmdMonitor: Run = async (sess, [name, ...rest]) => {
  const v = await sess.open(name!);
  v.keepStrays = true;
  try {
    for (const arg of rest) {
      if (/^[0-9]/.test(arg)) {
        const c = await fetchConfig(sess, v, name!);
        await sess.noreply(v, [msg({ type: "OFPT_SET_CONFIG", version: v.version, xid: allocXid(), body: { ...c, missSendLen: parseInt(arg, 10) } })]);
      } else if (arg === "invalid_ttl") {
        const c = await fetchConfig(sess, v, name!);
        if (!c.invalidTtlToController) {
          await sess.noreply(v, [msg({ type: "OFPT_SET_CONFIG", version: v.version, xid: allocXid(), body: { ...c, invalidTtlToController: true } })]);
        }
      } else if (arg.startsWith("watch:")) {
        await sess.nameMaps(name!, true);
        const fmr = parseFlowMonitorRequest(sess.withPortNumbers(name!, arg.slice(6)), ++monitorIds);
        if (v.version > 3) throw new Fatal(`flow monitoring needs OpenFlow 1.0 to 1.2 ('-O OpenFlow10') in tsovs`);
        v.send(msg({ type: "NXST_FLOW_MONITOR_REQUEST", version: v.version, xid: allocXid(), body: { requests: [fmr] } }));
      } else {
        throw new Fatal(`${arg}: unsupported "monitor" argument`);
      }
    }
    const pif = sess.opts.packetInFormat;
    if (pif !== null) {
      await setPacketInFormat(sess, v, PACKET_IN_FORMATS[pif]!, true);
    } else if (!(await setPacketInFormat(sess, v, 2, false)) && v.version === 1) {
      await setPacketInFormat(sess, v, 1, false);
    }
    await printIncoming(sess, v, true);
  } finally {
    v.close();
  }
};

export const cmdSnoop: Run = async (sess, [name]) => {
  const v = await sess.open(name!, true);
  try {
    await printIncoming(sess, v, false);
  } finally {
    v.close();
  }
};
