/**
 * `tsovs vsctl`: configure the switch database, as ovs-vsctl(8) of OVS 3.1.
 * The implementation lives in src/vsctl/; this is the subcommand entry.
 */
import { vsctlMain } from "../vsctl/vsctl.js";

export async function run(args: string[]): Promise<number | undefined> {
  return vsctlMain(args);
}
