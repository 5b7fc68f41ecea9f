/**
 * OVSDB locks (RFC 7047 §4.1.8–4.1.10): named advisory locks that clients
 * take with `lock`, take over with `steal` and give back with `unlock`.
 *
 * Each lock is a queue of waiting sessions; the head owns it. `lock` joins
 * the tail, `steal` jumps to the head (the displaced owner is told
 * "stolen" but stays queued, so it gets the lock back when the thief lets
 * go, as OVS does), and leaving the queue while at its head hands the lock
 * to the next waiter, who is told "locked". A session's queue entries go
 * away when it unlocks or disconnects.
 */

/** Who can hold a lock: anything with a way to be told about it. */
export interface LockHolder {
  /** Called when this holder becomes the owner after waiting. */
  notifyLocked(name: string): void;
  /** Called when another holder steals the lock from this one. */
  notifyStolen(name: string): void;
}

export class LockTable {
  private readonly queues = new Map<string, LockHolder[]>();

  /** Queues `holder` for `name`; true if it owns the lock right away. */
  lock(name: string, holder: LockHolder): boolean {
    let q = this.queues.get(name);
    if (!q) {
      q = [];
      this.queues.set(name, q);
    }
    q.push(holder);
    return q.length === 1;
  }

  /** Makes `holder` the owner of `name`; tells the previous owner it was stolen. */
  steal(name: string, holder: LockHolder): void {
    let q = this.queues.get(name);
    if (!q) {
      q = [];
      this.queues.set(name, q);
    }
    const idx = q.indexOf(holder);
    if (idx >= 0) q.splice(idx, 1);
    const victim = q[0];
    q.unshift(holder);
    if (victim !== undefined && victim !== holder) victim.notifyStolen(name);
  }

  /** Removes `holder` from `name`'s queue; the next waiter, if it becomes owner, is told. */
  unlock(name: string, holder: LockHolder): void {
    const q = this.queues.get(name);
    if (!q) return;
    const idx = q.indexOf(holder);
    if (idx < 0) return;
    q.splice(idx, 1);
    if (q.length === 0) {
      this.queues.delete(name);
      return;
    }
    if (idx === 0) q[0]!.notifyLocked(name);
  }

  /** True if `holder` currently owns `name`. */
  isOwner(name: string, holder: LockHolder): boolean {
    const q = this.queues.get(name);
    return q !== undefined && q[0] === holder;
  }

  owner(name: string): LockHolder | undefined {
    return this.queues.get(name)?.[0];
  }
}
