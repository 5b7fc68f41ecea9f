/**
 * Daemon pid files that the real `ovs-appctl -t <program>` accepts.
 *
 * OVS finds a daemon by reading `$OVS_RUNDIR/<program>.pid` and then talks
 * to `<program>.<pid>.ctl`; but it trusts the pid only if the pid file is
 * held by a POSIX (fcntl) write lock whose owner is that pid. Node.js cannot
 * take fcntl locks, so a tiny lock-holder process does it for us: it locks
 * the file, writes its own pid into it and waits for its stdin to close
 * (which happens when this process ends, however it ends). The daemon then
 * also answers on `<program>.<holder pid>.ctl` (a symlink to its own
 * socket), and treats the holder's death — `kill $(cat <program>.pid)` — as
 * a request to exit.
 *
 * Without python3 the pid file simply holds our own pid, unlocked: `tsovs
 * appctl` still finds the daemon, the real ovs-appctl then needs `-t
 * <socket path>`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";

/** Locks argv[1] (non-blocking), writes our pid, says "locked", waits for stdin EOF. */
const HOLDER_SCRIPT = `
import fcntl, os, sys
f = open(sys.argv[1], "a+")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.stdout.write("busy\\n"); sys.stdout.flush(); sys.exit(1)
f.truncate(0); f.write("%d\\n" % os.getpid()); f.flush(); os.fsync(f.fileno())
sys.stdout.write("locked\\n"); sys.stdout.flush()
while sys.stdin.buffer.read(4096):
    pass
`;

export class PidfileError extends Error {}

export interface Pidfile {
  readonly path: string;
  /** The pid written in the file (the lock holder's, or ours). */
  readonly pid: number;
  /** Creates `<dir>/<program>.<pid>.ctl` → `socketPath` when the file's pid is not ours. */
  aliasControlSocket(socketPath: string, program: string): void;
  /** Called if the lock holder is killed (someone ran `kill $(cat pidfile)`). */
  onLost(cb: () => void): void;
  /** Removes the file (and alias) and lets the holder go. */
  remove(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function startHolder(file: string): Promise<ChildProcess | "busy" | null> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn("python3", ["-c", HOLDER_SCRIPT, file], { stdio: ["pipe", "pipe", "ignore"] });
    } catch {
      resolve(null);
      return;
    }
    let out = "";
    const done = (v: ChildProcess | "busy" | null): void => {
      child.stdout?.removeAllListeners("data");
      resolve(v);
    };
    child.once("error", () => done(null));
    child.once("exit", () => done(out.startsWith("busy") ? "busy" : null));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("locked\n")) {
        child.removeAllListeners("exit");
        child.removeAllListeners("error");
        child.on("error", () => undefined);
        done(child);
      } else if (out.includes("busy\n")) {
        done("busy");
      }
    });
  });
}

/**
 * Creates the pid file. Fails (PidfileError) if another live daemon holds
 * it, unless `overwrite`.
 */
export async function createPidfile(file: string, overwrite = false): Promise<Pidfile> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let old = NaN;
  try {
    old = Number(fs.readFileSync(file, "utf8").trim());
  } catch {
    /* no file: fine */
  }
  // With a lock holder the lock is the truth; a holder whose daemon just
  // died may need a moment to notice, so "busy" is retried for a second.
  let holder = await startHolder(file);
  for (let i = 0; holder === "busy" && i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    holder = await startHolder(file);
  }
  if (holder === "busy") {
    if (!overwrite) throw new PidfileError(`${file}: already running as pid ${old}, aborting`);
    holder = null;
  }
  if (holder === null && !overwrite && Number.isInteger(old) && old > 0 && old !== process.pid && pidAlive(old)) {
    throw new PidfileError(`${file}: already running as pid ${old}, aborting`);
  }
  let aliasPath: string | null = null;
  let lost: (() => void) | null = null;
  let removed = false;
  let pid: number;
  if (holder !== null) {
    pid = holder.pid!;
    holder.on("exit", () => {
      if (!removed && lost) lost();
    });
    // The holder must not keep us alive, nor we it beyond our life (its stdin closes with us).
    holder.unref();
    (holder.stdin as unknown as { unref?: () => void }).unref?.();
    (holder.stdout as unknown as { unref?: () => void }).unref?.();
  } else {
    pid = process.pid;
    const tmp = `${file}.tmp${process.pid}`;
    fs.writeFileSync(tmp, `${pid}\n`);
    fs.renameSync(tmp, file);
  }
  return {
    path: file,
    pid,
    aliasControlSocket(socketPath: string, program: string): void {
      if (pid === process.pid) return;
      aliasPath = path.join(path.dirname(socketPath), `${program}.${pid}.ctl`);
      try {
        fs.unlinkSync(aliasPath);
      } catch {
        /* none */
      }
      fs.symlinkSync(socketPath, aliasPath);
    },
    onLost(cb: () => void): void {
      lost = cb;
    },
    remove(): void {
      if (removed) return;
      removed = true;
      try {
        if (Number(fs.readFileSync(file, "utf8").trim()) === pid) fs.unlinkSync(file);
      } catch {
        /* already gone */
      }
      if (aliasPath !== null) {
        try {
          fs.unlinkSync(aliasPath);
        } catch {
          /* gone */
        }
      }
      if (holder !== null) holder.kill("SIGTERM");
    },
  };
}
