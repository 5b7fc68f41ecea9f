/**
 * An empty array that V8 already treats as holding objects.
 *
 * Why: an empty array literal starts out holding small integers only, and
 * moves to holding objects on its first push of one. Code optimized on
 * arrays that had moved (the server's start-up warm-up) is thrown away
 * when it meets one that has not: the served database, its file's log
 * writer, made before the warm-up ran, deoptimized the commit path on the
 * first real transaction (bench ovsdb (b')). Arrays made with this start
 * in the state they will be in anyway.
 */
export function objectArray<T extends object>(): T[] {
  const a: (T | null)[] = [null];
  a.pop();
  return a as T[];
}
