/**
 * Which tables and columns the real ovs-vsctl would replicate for a command
 * line (the columns its commands' prerequisite functions register). tsovs
 * monitors everything, but needs this set to reproduce the order in which
 * OVS's IDL inserts rows into its hash maps (see hmap-order.ts).
 */
import type { ParsedCommand } from "./context.js";
import { VSCTL_ROW_IDS } from "./context.js";
import type { DbSchema, TableSchema } from "./idl.js";
import { VSCTL_SHOW_TABLES } from "./db-commands.js";

/** table → monitored columns (an empty set: the table with no columns). */
export type MonitorSet = Map<string, Set<string>>;

function bestMatch<T extends { name: string }>(items: T[], s: string): T | undefined {
  const norm = (x: string): string => x.toLowerCase().replace(/-/g, "_");
  const exact = items.find((i) => i.name === s) ?? items.find((i) => norm(i.name) === norm(s));
  if (exact) return exact;
  const m = items.filter((i) => norm(i.name).startsWith(norm(s)));
  return m.length === 1 ? m[0] : undefined;
}

export function computeMonitorSet(commands: ParsedCommand[], schema: DbSchema, waitForReload: boolean): MonitorSet {
  const set: MonitorSet = new Map();
  const table = (t: string): Set<string> => {
    let s = set.get(t);
    if (!s) set.set(t, (s = new Set()));
    return s;
  };
  const col = (t: string, c: string): void => {
    if (schema.byName.get(t)?.byName.has(c)) table(t).add(c);
  };
  table("Open_vSwitch");
  if (waitForReload) col("Open_vSwitch", "cur_cfg");

  const preGetTable = (name: string | undefined): TableSchema | undefined => {
    const t = name === undefined ? undefined : bestMatch(schema.tables, name);
    if (!t) return undefined;
    table(t.name);
    for (const id of VSCTL_ROW_IDS[t.name] ?? []) {
      col(id.table, id.nameColumn);
      if (id.uuidColumn) col(id.table, id.uuidColumn);
    }
    return t;
  };
  const colArg = (t: TableSchema, arg: string): void => {
    const name = /^[^:=!<>{ ]*/.exec(arg)![0];
    const c = bestMatch(t.columns, name);
    if (c) table(t.name).add(c.name);
  };
  const getInfo = (): void => {
    col("Open_vSwitch", "bridges");
    for (const c of ["name", "controller", "fail_mode", "ports"]) col("Bridge", c);
    for (const c of ["name", "fake_bridge", "tag", "interfaces"]) col("Port", c);
    for (const c of ["name", "ofport"]) col("Interface", c);
  };

  for (const cmd of commands) {
    const a = cmd.argv;
    switch (cmd.syntax.name) {
      case "get": {
        const t = preGetTable(a[1]);
        if (t) for (const x of a.slice(3)) if (x.toLowerCase() !== "_uuid" && x.toLowerCase() !== "-uuid") colArg(t, x);
        break;
      }
      case "list":
      case "find": {
        const t = preGetTable(a[1]);
        if (!t) break;
        const cols = cmd.options.get("--columns");
        if (cols === undefined || cols === null) for (const c of t.columns) table(t.name).add(c.name);
        else for (const c of cols.split(/[, ]+/)) if (c && c.toLowerCase() !== "_uuid") colArg(t, c);
        if (cmd.syntax.name === "find") for (const x of a.slice(2)) colArg(t, x);
        break;
      }
      case "set":
      case "wait-until":
      case "clear": {
        const t = preGetTable(a[1]);
        if (t) for (const x of a.slice(3)) colArg(t, x);
        break;
      }
      case "add":
      case "remove": {
        const t = preGetTable(a[1]);
        if (t && a[3] !== undefined) colArg(t, a[3]);
        break;
      }
      case "destroy":
        preGetTable(a[1]);
        break;
      case "show":
        for (const s of VSCTL_SHOW_TABLES) {
          table(s.table);
          if (s.nameColumn) col(s.table, s.nameColumn);
          for (const c of s.columns) col(s.table, c);
        }
        break;
      case "br-set-external-id":
      case "br-get-external-id":
        getInfo();
        col("Bridge", "external_ids");
        col("Port", "external_ids");
        break;
      case "get-controller":
      case "del-controller":
      case "set-controller":
        getInfo();
        col("Controller", "target");
        break;
      case "get-manager":
      case "del-manager":
      case "set-manager":
        col("Open_vSwitch", "manager_options");
        col("Manager", "target");
        break;
      case "get-ssl":
        col("Open_vSwitch", "ssl");
        for (const c of ["private_key", "certificate", "ca_cert", "bootstrap_ca_cert"]) col("SSL", c);
        break;
      case "del-ssl":
      case "set-ssl":
        col("Open_vSwitch", "ssl");
        break;
      case "add-aa-mapping":
      case "del-aa-mapping":
      case "get-aa-mapping":
        getInfo();
        col("Bridge", "auto_attach");
        col("AutoAttach", "mappings");
        break;
      case "emer-reset":
        col("Open_vSwitch", "manager_options");
        col("Open_vSwitch", "ssl");
        for (const c of ["controller", "fail_mode", "mirrors", "netflow", "sflow", "ipfix", "flood_vlans", "other_config"]) col("Bridge", c);
        col("Port", "other_config");
        col("Interface", "ingress_policing_rate");
        col("Interface", "ingress_policing_burst");
        break;
      case "add-zone-tp":
      case "del-zone-tp":
      case "list-zone-tp":
      case "list-dp-cap":
        col("Open_vSwitch", "datapaths");
        col("Datapath", "ct_zones");
        col("Datapath", "capabilities");
        col("CT_Zone", "timeout_policy");
        col("CT_Timeout_Policy", "timeouts");
        break;
      case "init":
      case "comment":
      case "create":
        break;
      default:
        getInfo();
        break;
    }
  }
  return set;
}
