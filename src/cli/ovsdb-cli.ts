/**
 * What tsovs ovsdb-tool and ovsdb-client share as command-line programs:
 * the fatal error that ends them, how OVS prints an error, and the wrapper
 * that turns errors into OVS's messages and exit statuses.
 */
import { OvsdbError } from "../ovsdb/index.js";
import { LogError } from "../ovsdb/storage/index.js";
import { GetoptError } from "../util/getopt.js";

/** The OVS release whose behaviour (and record comments) we reproduce. */
export const OVS_VERSION = "3.1.0";

/** A fatal error: printed as "<program>: <message>" (nothing when empty), exit `status`. */
export class Fatal extends Error {
  constructor(
    message: string,
    readonly status = 1,
  ) {
    super(message);
  }
}

export function out(s: string): void {
  process.stdout.write(s);
}

/** How ovsdb_error_to_string() prints an error. */
export function ovsdbErrorText(e: unknown): string {
  if (e instanceof LogError) return e.toString();
  if (e instanceof OvsdbError) {
    const body = e.details !== undefined ? `${e.tag}: ${e.details}` : e.tag;
    return e.syntax !== undefined ? `syntax "${e.syntax}": ${body}` : body;
  }
  return (e as Error).message ?? String(e);
}

/**
 * Runs a program's `main`, printing its errors as OVS does
 * ("<program>: <error>", getopt's messages as they are) and returning
 * the exit status. Other exceptions are bugs and propagate.
 */
export async function runProgram(program: string, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (e) {
    if (e instanceof GetoptError) {
      process.stderr.write(e.message + "\n");
      return 1;
    }
    if (e instanceof Fatal && e.message === "") return e.status;
    if (!(e instanceof Fatal || e instanceof LogError || e instanceof OvsdbError)) throw e;
    process.stderr.write(`${program}: ${ovsdbErrorText(e)}\n`);
    return e instanceof Fatal ? e.status : 1;
  }
}
