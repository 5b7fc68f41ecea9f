/**
 * The text of `ovs-vsctl --help`, `--commands` and `--options` (OVS 3.1),
 * which drop-in use requires byte for byte. `db` and `logfile` are the
 * defaults computed from the run and log directories.
 */
import { TABLE_OPTIONS_HELP } from "../util/table-format.js";
import { loggingOptionsHelp, remoteOptionsHelp } from "../util/getopt.js";

export function helpText(db: string, logfile: string): string {
  return `ovs-vsctl: ovs-vswitchd management utility
usage: ovs-vsctl [OPTIONS] COMMAND [ARG...]

Open vSwitch commands:
  init                        initialize database, if not yet initialized
  show                        print overview of database contents
  emer-reset                  reset configuration to clean state

Bridge commands:
  add-br BRIDGE               create a new bridge named BRIDGE
  add-br BRIDGE PARENT VLAN   create new fake BRIDGE in PARENT on VLAN
  del-br BRIDGE               delete BRIDGE and all of its ports
  list-br                     print the names of all the bridges
  br-exists BRIDGE            exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE           print the VLAN which BRIDGE is on
  br-to-parent BRIDGE         print the parent of BRIDGE
  br-set-external-id BRIDGE KEY VALUE  set KEY on BRIDGE to VALUE
  br-set-external-id BRIDGE KEY  unset KEY on BRIDGE
  br-get-external-id BRIDGE KEY  print value of KEY on BRIDGE
  br-get-external-id BRIDGE  list key-value pairs on BRIDGE

Port commands (a bond is considered to be a single port):
  list-ports BRIDGE           print the names of all the ports on BRIDGE
  add-port BRIDGE PORT        add network device PORT to BRIDGE
  add-bond BRIDGE PORT IFACE...  add bonded port PORT in BRIDGE from IFACES
  del-port [BRIDGE] PORT      delete PORT (which may be bonded) from BRIDGE
  port-to-br PORT             print name of bridge that contains PORT

Interface commands (a bond consists of multiple interfaces):
  list-ifaces BRIDGE          print the names of all interfaces on BRIDGE
  iface-to-br IFACE           print name of bridge that contains IFACE

Controller commands:
  get-controller BRIDGE      print the controllers for BRIDGE
  del-controller BRIDGE      delete the controllers for BRIDGE
  [--inactivity-probe=MSECS]
  set-controller BRIDGE TARGET...  set the controllers for BRIDGE
  get-fail-mode BRIDGE       print the fail-mode for BRIDGE
  del-fail-mode BRIDGE       delete the fail-mode for BRIDGE
  set-fail-mode BRIDGE MODE  set the fail-mode for BRIDGE to MODE

Manager commands:
  get-manager                print the managers
  del-manager                delete the managers
  [--inactivity-probe=MSECS]
  set-manager TARGET...      set the list of managers to TARGET...

SSL commands:
  get-ssl                     print the SSL configuration
  del-ssl                     delete the SSL configuration
  set-ssl PRIV-KEY CERT CA-CERT  set the SSL configuration

Auto Attach commands:
  add-aa-mapping BRIDGE I-SID VLAN   add Auto Attach mapping to BRIDGE
  del-aa-mapping BRIDGE I-SID VLAN   delete Auto Attach mapping VLAN from BRIDGE
  get-aa-mapping BRIDGE              get Auto Attach mappings from BRIDGE

Switch commands:
  emer-reset                  reset switch to known good state

Database commands:
  list TBL [REC]              list RECord (or all records) in TBL
  find TBL CONDITION...       list records satisfying CONDITION in TBL
  get TBL REC COL[:KEY]       print values of COLumns in RECord in TBL
  set TBL REC COL[:KEY]=VALUE set COLumn values in RECord in TBL
  add TBL REC COL [KEY=]VALUE add (KEY=)VALUE to COLumn in RECord in TBL
  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn
  clear TBL REC COL           clear values from COLumn in RECord in TBL
  create TBL COL[:KEY]=VALUE  create and initialize new record
  destroy TBL REC             delete RECord from TBL
  wait-until TBL REC [COL[:KEY]=VALUE]  wait until condition is true
Potentially unsafe database commands require --force option.
Database commands may reference a row in each table in the following ways:
  AutoAttach:
    by UUID
    via "auto_attach" of Bridge with matching "name"
  Bridge:
    by UUID
    by "name"
  CT_Timeout_Policy:
    by UUID
  CT_Zone:
    by UUID
  Controller:
    by UUID
    via "controller" of Bridge with matching "name"
  Datapath:
    by UUID
  Flow_Sample_Collector_Set:
    by UUID
    by "id"
  Flow_Table:
    by UUID
    by "name"
  IPFIX:
    by UUID
    via "ipfix" of Bridge with matching "name"
  Interface:
    by UUID
    by "name"
  Manager:
    by UUID
    by "target"
  Mirror:
    by UUID
    by "name"
  NetFlow:
    by UUID
    via "netflow" of Bridge with matching "name"
  Open_vSwitch:
    by UUID
    as "."
  Port:
    by UUID
    by "name"
  QoS:
    by UUID
    via "qos" of Port with matching "name"
  Queue:
    by UUID
  SSL:
    by UUID
    as "."
  sFlow:
    by UUID
    via "sflow" of Bridge with matching "name"

Options:
  --db=DATABASE               connect to DATABASE
                              (default: ${db})
  --no-wait                   do not wait for ovs-vswitchd to reconfigure
  --retry                     keep trying to connect to server forever
  -t, --timeout=SECS          wait at most SECS seconds for ovs-vswitchd
  --dry-run                   do not commit changes to database
  --oneline                   print exactly one line of output per command

${TABLE_OPTIONS_HELP}
${loggingOptionsHelp(logfile)}  --no-syslog             equivalent to --verbose=vsctl:syslog:warn

${remoteOptionsHelp("database")}
Other options:
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

/** `--commands`: options, name and argument pattern of every command, in OVS's order. */
export const COMMANDS_TEXT = `,wait-until,!TABLE !RECORD *COLUMN?:KEY=VALUE
[--may-exist] ,add-zone-tp,
,comment,*ARG
[--if-exists] ,clear,!TABLE !RECORD +COLUMN
,init,
[--id=] ,create,!TABLE +COLUMN?:KEY=VALUE
,set-fail-mode,!BRIDGE !MODE
[--may-exist] ,add-port,!BRIDGE !NEW-PORT *COLUMN?:KEY=VALUE
[--if-exists] ,del-bond-iface,?BOND !IFACE
,del-ssl,
[--inactivity-probe=] ,set-controller,!BRIDGE +TARGET
[--real] [--fake] ,list-br,
,br-exists,!BRIDGE
,list-ports,!BRIDGE
,del-manager,
,list-dp-cap,
[--may-exist] ,add-bond-iface,!BOND !IFACE
,get-manager,
,get-controller,!BRIDGE
,br-set-external-id,!BRIDGE !KEY ?VALUE
,list-ifaces,!BRIDGE
,list-zone-tp,
,get-aa-mapping,!BRIDGE
[--if-exists] [--id=] ,get,!TABLE !RECORD *COLUMN?:KEY
,add-aa-mapping,!BRIDGE !ARG !ARG
,del-fail-mode,!BRIDGE
,br-get-external-id,!BRIDGE ?KEY
[--if-exists] ,del-zone-tp,
[--if-exists] [--with-iface] ,del-port,?BRIDGE !PORT|IFACE
,port-to-br,!PORT
,del-controller,!BRIDGE
[--columns=] ,find,!TABLE *COLUMN?:KEY=VALUE
[--if-exists] ,set,!TABLE !RECORD +COLUMN?:KEY=VALUE
,emer-reset,
[--bootstrap] ,set-ssl,!PRIVATE-KEY !CERTIFICATE !CA-CERT
,del-aa-mapping,!BRIDGE !ARG !ARG
[--may-exist] ,add-br,!NEW-BRIDGE ?PARENT ?NEW-VLAN
,br-to-parent,!BRIDGE
,iface-to-br,!IFACE
[--if-exists] [--columns=] ,list,!TABLE *RECORD
[--if-exists] ,add,!TABLE !RECORD !COLUMN +?KEY=VALUE
[--inactivity-probe=] ,set-manager,+TARGET
[--if-exists] ,del-br,!BRIDGE
[--if-exists] ,remove,!TABLE !RECORD !COLUMN +KEY|VALUE|KEY=VALUE
,get-ssl,
,get-fail-mode,!BRIDGE
[--if-exists] [--all] ,destroy,!TABLE *RECORD
,br-to-vlan,!BRIDGE
[--may-exist] [--fake-iface] ,add-bond,!BRIDGE !BOND +IFACE *COLUMN?:KEY=VALUE
,show,
`;

/** `--options`: the global options. */
export const OPTIONS_TEXT = `--db=ARG
--no-syslog
--no-wait
--dry-run
--oneline
--timeout=ARG
-t ARG
--retry
--help
-h
--commands
--options
--leader-only
--no-leader-only
--shuffle-remotes
--no-shuffle-remotes
--version
-V
--verbose=ARG
-v ARG
--log-file=ARG
--syslog-method=ARG
--syslog-target=ARG
--format=ARG
-f ARG
--data=ARG
-d ARG
--no-headings
--pretty
--bare
--max-column-width=ARG
--private-key=ARG
-p ARG
--certificate=ARG
-c ARG
--ca-cert=ARG
-C ARG
--ssl-protocols=ARG
--ssl-ciphers=ARG
--bootstrap-ca-cert=ARG
--peer-ca-cert=ARG
`;
