/**
 * The database lock file (`.<name>.~lock~` beside the database), so that a
 * tool never writes a database that a running server owns.
 *
 * OVS locks that file with fcntl(F_SETLK), which Node cannot do. We still
 * honour OVS's lock: /proc/locks lists every POSIX lock with its owner's pid
 * and the locked file's device and inode, so a real ovsdb-server (or
 * ovsdb-tool) holding the database is detected. Between tsovs processes the
 * holder's pid is written into the lock file and checked for liveness (a
 * stale pid left by a killed process is taken over). Limitation: OVS's
 * tools cannot see a tsovs holder, since we hold no fcntl lock.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { vlogModule } from "../../util/vlog.js";
import { LogError } from "./log.js";

const vlog = vlogModule("lockfile");

export function lockFilePath(dbPath: string): string {
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}.~lock~`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid of another process holding an fcntl (POSIX) lock on `st`'s file, if any. */
function posixLockHolder(st: fs.Stats): number | null {
  let text: string;
  try {
    text = fs.readFileSync("/proc/locks", "utf8");
  } catch {
    return null;
  }
  const major = Number((BigInt(st.dev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.dev) & 0xffn) | ((BigInt(st.dev) >> 12n) & 0xfff00n));
  for (const line of text.split("\n")) {
    const m = /\bPOSIX\s+ADVISORY\s+WRITE\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m) continue;
    if (Number(m[4]) !== st.ino || parseInt(m[2]!, 16) !== major || parseInt(m[3]!, 16) !== minor) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid) return pid;
  }
  return null;
}

/** The pid a tsovs process wrote into the lock file, if it is another live process. */
function tsovsHolder(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return pid;
  } catch {
    /* unreadable: treat as free */
  }
  return null;
}

export interface DbLock {
  release(): void;
}

/**
 * Locks `dbPath` for writing, or throws OVS's error if another process
 * holds it: "I/O error: <db>: failed to lock lockfile (Resource
 * temporarily unavailable)" (after logging who holds it, as OVS does).
 */
export function lockDb(dbPath: string): DbLock {
  const file = lockFilePath(dbPath);
  let st: fs.Stats;
  try {
    fs.closeSync(fs.openSync(file, "a", 0o600));
    st = fs.statSync(file);
  } catch {
    // A directory we cannot write: nothing to coordinate through.
    return { release: () => undefined };
  }
  const holder = posixLockHolder(st) ?? tsovsHolder(file);
  if (holder !== null) {
    const msg = `${file}: cannot lock file because it is already locked by pid ${holder}`;
    vlog.warn(msg);
    if (!vlog.enabled("warn")) process.stderr.write(`${new Date().toISOString().slice(0, 19)}Z|00001|lockfile|WARN|${msg}\n`);
    throw new LogError("I/O error", `${dbPath}: failed to lock lockfile (Resource temporarily unavailable)`);
  }
  try {
    fs.writeFileSync(file, `${process.pid}\n`);
  } catch {
    /* best effort */
  }
  let released = false;
  return {
    release(): void {
      if (released) return;
      released = true;
      try {
        if (Number(fs.readFileSync(file, "utf8").trim()) === process.pid) fs.truncateSync(file, 0);
      } catch {
        /* gone */
      }
    },
  };
}
