/**
 * `tsovs <subcommand>`: dispatches to the daemons and the command-line tools.
 *
 * Each subcommand lives in its own module and is loaded only when used, so
 * `tsovs vsctl` starts without loading the datapath. A subcommand's `run`
 * returns the process exit status (or undefined while a daemon keeps running).
 */

type Runner = (args: string[]) => Promise<number | undefined>;

/** Subcommand name → module path (relative to this file) exporting `run`. */
const SUBCOMMANDS: Record<string, { module: string; summary: string }> = {
  start: { module: "./start.js", summary: "start the whole switch: database server and vswitchd in one process" },
  vswitchd: { module: "./vswitchd.js", summary: "run the switch daemon against an OVSDB server, as ovs-vswitchd(8)" },
  "ovsdb-server": { module: "./ovsdb-server.js", summary: "run the OVSDB database server" },
  "ovsdb-client": { module: "./ovsdb-client.js", summary: "query and monitor an OVSDB server, as ovsdb-client(1)" },
  "ovsdb-tool": { module: "./ovsdb-tool.js", summary: "manage OVSDB database files, as ovsdb-tool(1)" },
  vsctl: { module: "./vsctl.js", summary: "configure the switch database, as ovs-vsctl(8)" },
  ofctl: { module: "./ofctl.js", summary: "OpenFlow switch management, as ovs-ofctl(8)" },
  appctl: { module: "./appctl.js", summary: "talk to a running daemon, as ovs-appctl(8)" },
  dpctl: { module: "./dpctl.js", summary: "manage datapaths, as ovs-dpctl(8)" },
  "ofproto-test": { module: "./ofproto-test.js", summary: "run one OpenFlow bridge with dummy ports, without a database" },
};

function usage(): string {
  let s = "usage: tsovs <subcommand> [args...]\n\nsubcommands:\n";
  for (const [name, { summary }] of Object.entries(SUBCOMMANDS)) s += `  ${name.padEnd(14)}${summary}\n`;
  return s;
}

export async function main(argv: string[]): Promise<number | undefined> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(usage());
    return sub === undefined ? 1 : 0;
  }
  const entry = SUBCOMMANDS[sub];
  if (!entry) {
    process.stderr.write(`tsovs: unknown subcommand "${sub}" (use --help for help)\n`);
    return 1;
  }
  let mod: { run?: Runner };
  try {
    mod = (await import(entry.module)) as { run?: Runner };
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      process.stderr.write(`tsovs: "${sub}" is not built yet\n`);
      return 1;
    }
    throw e;
  }
  if (typeof mod.run !== "function") {
    process.stderr.write(`tsovs: "${sub}" is not built yet\n`);
    return 1;
  }
  return mod.run(rest);
}
