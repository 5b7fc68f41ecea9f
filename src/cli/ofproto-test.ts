/**
 * `tsovs ofproto-test BRIDGE [--port NAME[:OFPORT[:MAC]]]... [--controller TARGET]...
 * [--protocols OpenFlow10,...] [--datapath-id HEX] [--hwaddr MAC] [--fail-mode MODE]
 * [--private-key FILE --certificate FILE --ca-cert FILE] [--pidfile[=FILE]]
 * [--log-file[=FILE]]`: runs one OpenFlow bridge with dummy
 * ports and its management socket `$OVS_RUNDIR/BRIDGE.mgmt`, in the
 * foreground, until SIGTERM/SIGINT.
 *
 * A stand-in until ovs-vswitchd builds bridges from OVSDB: it does what
 * the bridge layer will do for one bridge (the LOCAL port, dummy ports,
 * the fail-open NORMAL flow when no controller is configured and the fail
 * mode is standalone, the management socket, the controllers).
 */
import * as path from "node:path";
import { dummyNetdevClass } from "../netdev/index.js";
import type { Netdev } from "../netdev/netdev-provider.js";
import { bitmapOf } from "../openflow/ofp-version.js";
import { ALL_OFP_VERSIONS, Ofproto, warmUpOfproto, type FailMode } from "../ofproto/index.js";
import { createPidfile, type Pidfile } from "../unixctl/index.js";
import type { SslFiles } from "../jsonrpc/ssl.js";
import { ensureDir, rundir, logdir } from "../util/dirs.js";
import { setLogFile, vlogModule } from "../util/vlog.js";

const PROGRAM = "ofproto-test";
const log = vlogModule("bridge");

const PROTOCOL_NAMES: Readonly<Record<string, number>> = {
  OpenFlow10: 1, OpenFlow11: 2, OpenFlow12: 3, OpenFlow13: 4, OpenFlow14: 5, OpenFlow15: 6,
};

function usage(): string {
  return `usage: tsovs ${PROGRAM} BRIDGE [OPTIONS]
  --port NAME[:OFPORT[:MAC]]  add a dummy port (repeatable)
  --controller TARGET         connect to / listen for a controller (repeatable)
  --protocols LIST            allowed OpenFlow versions (OpenFlow10,...,OpenFlow15)
  --datapath-id HEX           datapath id (16 hex digits)
  --hwaddr MAC                Ethernet address of the LOCAL port
  --fail-mode MODE            standalone (default) or secure
  --private-key FILE          SSL private key (PEM), for ssl:/pssl: controllers
  --certificate FILE          SSL certificate (PEM) for the private key
  --ca-cert FILE              CA certificate (PEM) that controllers' certificates must chain to
  --pidfile[=FILE]            write a pidfile (default $OVS_RUNDIR/${PROGRAM}.pid)
  --log-file[=FILE]           log to FILE (default $OVS_LOGDIR/${PROGRAM}.log)
`;
}

function parseMac(s: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/.exec(s);
  return m ? Uint8Array.from(m.slice(1).map((x) => parseInt(x, 16))) : null;
}

interface PortArg {
  name: string;
  ofport: number | null;
  mac: Uint8Array | null;
}

export async function run(args: string[]): Promise<number | undefined> {
  let bridge: string | null = null;
  const ports: PortArg[] = [];
  const controllers: string[] = [];
  let versions = ALL_OFP_VERSIONS;
  let dpid: bigint | undefined;
  let hwaddr: Uint8Array | undefined;
  let failMode: FailMode = "standalone";
  const ssl: SslFiles = { privateKey: null, certificate: null, caCert: null };
  let pidfilePath: string | null = null;
  let logFilePath: string | null = null;

  const fail = (m: string): number => {
    process.stderr.write(`${PROGRAM}: ${m}\n`);
    return 1;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const opt = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : null;
    const value = (): string | null => inline ?? args[++i] ?? null;
    switch (opt) {
      case "--help":
      case "-h":
        process.stdout.write(usage());
        return 0;
      case "--port": {
        const v = value();
        if (v === null) return fail("--port requires an argument");
        const [name, no, ...mac] = v.split(":");
        const macStr = mac.join(":");
        const ofport = no === undefined || no === "" ? null : Number(no);
        if (!name || (ofport !== null && (!Number.isInteger(ofport) || ofport < 1 || ofport >= 0xff00))) return fail(`bad port "${v}"`);
        const m = macStr === "" ? null : parseMac(macStr);
        if (macStr !== "" && m === null) return fail(`bad Ethernet address in "${v}"`);
        ports.push({ name, ofport, mac: m });
        break;
      }
      case "--controller": {
        const v = value();
        if (v === null) return fail("--controller requires an argument");
        controllers.push(v);
        break;
      }
      case "--protocols": {
        const v = value();
        if (v === null) return fail("--protocols requires an argument");
        const list: number[] = [];
        for (const n of v.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
          const ver = PROTOCOL_NAMES[n];
          if (ver === undefined) return fail(`unknown OpenFlow version "${n}"`);
          list.push(ver);
        }
        versions = bitmapOf(list);
        break;
      }
      case "--datapath-id": {
        const v = value();
        if (v === null || !/^(0x)?[0-9a-fA-F]{1,16}$/.test(v)) return fail("--datapath-id requires 1 to 16 hex digits");
        dpid = BigInt(v.startsWith("0x") ? v : `0x${v}`);
        break;
      }
      case "--hwaddr": {
        const v = value();
        const m = v === null ? null : parseMac(v);
        if (m === null) return fail("--hwaddr requires an Ethernet address");
        hwaddr = m;
        break;
      }
      case "--fail-mode": {
        const v = value();
        if (v !== "standalone" && v !== "secure") return fail("--fail-mode must be standalone or secure");
        failMode = v;
        break;
      }
      case "--private-key":
      case "--certificate":
      case "--ca-cert": {
        const v = value();
        if (v === null) return fail(`${opt} requires an argument`);
        ssl[opt === "--private-key" ? "privateKey" : opt === "--certificate" ? "certificate" : "caCert"] = path.resolve(v);
        break;
      }
      case "--pidfile":
        pidfilePath = path.resolve(rundir(), inline ?? `${PROGRAM}.pid`);
        break;
      case "--log-file":
        logFilePath = path.resolve(logdir(), inline ?? `${PROGRAM}.log`);
        break;
      default:
        if (a.startsWith("-")) return fail(`unknown option "${a}" (use --help for help)`);
        if (bridge !== null) return fail("exactly one bridge name is required");
        bridge = a;
    }
  }
  if (bridge === null) return fail("a bridge name is required (use --help for help)");

  ensureDir(rundir());
  if (logFilePath !== null) setLogFile(logFilePath);
  let pidfile: Pidfile | null = null;
  if (pidfilePath !== null) {
    try {
      pidfile = await createPidfile(pidfilePath);
    } catch (e) {
      return fail((e as Error).message);
    }
  }

  await warmUpOfproto();
  const opts: ConstructorParameters<typeof Ofproto>[1] = { allowedVersions: versions };
  if (dpid !== undefined) opts.datapathId = dpid;
  if (hwaddr !== undefined) opts.hwAddr = hwaddr;
  const ofproto = new Ofproto(bridge, opts);
  ofproto.setFailMode(failMode);

  // OpenFlow port numbers: requested ones first, then the lowest free, as OVS.
  const used = new Set(ports.filter((p) => p.ofport !== null).map((p) => p.ofport!));
  let next = 1;
  for (const p of ports) {
    let no = p.ofport;
    if (no === null) {
      while (used.has(next)) next++;
      no = next;
      used.add(no);
    }
    const dev = dummyNetdevClass.open(p.name, {});
    if (typeof dev === "string") return fail(dev);
    const netdev = dev as Netdev;
    if (p.mac !== null) netdev.setMac(p.mac);
    ofproto.addPort({ name: p.name, ofpNo: no, netdev }, false);
  }

  // The bridge's fail-open flow: with no controller, a standalone bridge is a learning switch.
  if (controllers.length === 0 && failMode === "standalone") ofproto.setStandaloneFlow(true);

  const mgmt = path.join(rundir(), `${bridge}.mgmt`);
  await ofproto.connmgr.setManagementSocket(mgmt);
  if (ssl.privateKey !== null || ssl.certificate !== null || ssl.caCert !== null) await ofproto.connmgr.setSsl(ssl);
  await ofproto.connmgr.setControllers(controllers.map((target) => ({ target })));
  log.info(`${bridge}: using datapath ID ${ofproto.datapathId.toString(16).padStart(16, "0")}`);
  log.info(`${bridge}: listening on ${mgmt}`);

  const stop = (sig: string): void => {
    log.info(`${sig}: exiting`);
    ofproto.close();
    pidfile?.remove();
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  pidfile?.onLost(() => stop("pidfile lost"));
  return undefined;
}
