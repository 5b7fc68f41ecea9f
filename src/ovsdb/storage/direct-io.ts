/**
 * What LogWriter needs to write through O_DIRECT: block-aligned memory and
 * a descriptor opened with O_DIRECT|O_DSYNC (see log-writer.ts for why).
 *
 * O_DIRECT wants the buffer's address, the file offset and the length all
 * multiples of the block size. JavaScript cannot choose where an
 * ArrayBuffer lives, so the memory comes from libc through koffi (already a
 * dependency, for netdev's FFI) and is seen as a Buffer over it
 * (`koffi.view`): fs.writeSync hands that Buffer's address straight to
 * pwrite(2). Blocks are never freed: a closed writer's block goes back to a
 * pool for the next one (a server has a handful of writers at most), so no
 * Buffer can ever see freed memory.
 *
 * Everything here may be unavailable (no koffi, a file system refusing
 * O_DIRECT, `TSOVS_DIRECT_IO=0` in the environment): callers then get null
 * and keep writing through the page cache.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";

/** The alignment (and unit) of direct writes: ext4's and the page size. */
export const DIRECT_BLOCK = 4096;

/**
 * Bytes of each aligned buffer: the file's last partial block, up to 32 KiB
 * of records (SYNC_FLUSH_MAX_BYTES) and a reserve header, rounded up.
 */
export const DIRECT_BUFFER_BYTES = 40 * 1024;

let koffiState: { alloc(): Buffer } | string | null = null;
const pool: Buffer[] = [];
/** The buffers made here: only they go back to the pool. */
const made = new WeakSet<Buffer>();

/** Whether direct writes are wanted at all (`TSOVS_DIRECT_IO=0` turns them off). */
export function directIoEnabled(): boolean {
  return process.platform === "linux" && process.env["TSOVS_DIRECT_IO"] !== "0";
}

function loadKoffi(): { alloc(): Buffer } | string {
  try {
    const require = createRequire(import.meta.url);
    const koffi = require("koffi") as typeof import("koffi");
    return {
      alloc(): Buffer {
        // A block of slack, so an aligned DIRECT_BUFFER_BYTES fits anywhere in it.
        const ptr = koffi.alloc("uint8_t", DIRECT_BUFFER_BYTES + DIRECT_BLOCK);
        const address = Number(koffi.address(ptr));
        const pad = (DIRECT_BLOCK - (address % DIRECT_BLOCK)) % DIRECT_BLOCK;
        return Buffer.from(koffi.view(ptr, DIRECT_BUFFER_BYTES + DIRECT_BLOCK), pad, DIRECT_BUFFER_BYTES);
      },
    };
  } catch (e) {
    return `koffi not available: ${(e as Error).message}`;
  }
}

/**
 * A DIRECT_BUFFER_BYTES buffer whose address is a multiple of DIRECT_BLOCK,
 * or null when none can be had. Give it back with releaseAlignedBuffer.
 */
export function takeAlignedBuffer(): Buffer | null {
  const reused = pool.pop();
  if (reused !== undefined) return reused;
  if (koffiState === null) koffiState = loadKoffi();
  if (typeof koffiState === "string") return null;
  try {
    const buf = koffiState.alloc();
    made.add(buf);
    return buf;
  } catch {
    return null;
  }
}

/** Returns a buffer from takeAlignedBuffer to the pool (its owner must drop it). */
export function releaseAlignedBuffer(buf: Buffer): void {
  if (made.has(buf)) pool.push(buf);
}

/**
 * Opens `file` for writing with O_DIRECT|O_DSYNC (every write reaches the
 * disk, data and cache flush, before it returns), or returns -1 when the
 * file system refuses it (EINVAL: tmpfs before Linux 6.6, some FUSE ones).
 */
export function openDirect(file: string): number {
  const c = fs.constants;
  if (c.O_DIRECT === undefined || c.O_DSYNC === undefined) return -1;
  try {
    return fs.openSync(file, c.O_WRONLY | c.O_DIRECT | c.O_DSYNC);
  } catch {
    return -1;
  }
}

/** Closes a descriptor from openDirect, ignoring errors (-1: none). */
export function closeDirect(fd: number): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    /* nothing to do */
  }
}
