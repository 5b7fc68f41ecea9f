/** unixctl: the control socket of tsovs daemons (server, command registry, client). */
export { UnixctlServer, UnixctlRegistry, UnixctlError, type UnixctlHandler, type UnixctlCommand } from "./server.js";
export { registerBuiltins, versionText, OVS_VERSION } from "./builtins.js";
export {
  resolveTarget,
  connectUnixctl,
  unixctlCommand,
  unixctlTransact,
  UnixctlTargetError,
  type UnixctlReply,
} from "./client.js";
export { createPidfile, PidfileError, type Pidfile } from "./pidfile.js";
