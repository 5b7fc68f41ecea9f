/**
 * Deterministic frame mutation for fuzzing: truncation, bit flips, and
 * corruption of the length/type fields extraction trusts (ethertype, IHL,
 * total/payload length, next header, TCP data offset, option lengths).
 */

/** A small fast PRNG (xorshift32) so runs are reproducible from a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

const INTERESTING = [0, 1, 2, 4, 5, 6, 0x0f, 0x11, 0x2c, 0x3a, 0x3c, 0x40, 0x45, 0x60, 0x7f, 0x80, 0x81, 0x86, 0x87, 0x88, 0xa8, 0xdd, 0xff];

/**
 * Writes a mutated copy of `src` into `out` (which must be at least
 * src.length + 64 bytes) and returns the new length.
 */
export function mutateInto(src: Uint8Array, out: Uint8Array, rng: Rng): number {
  let len = src.length;
  out.set(src);
  const kind = rng.below(8);
  if (kind === 0) {
    len = rng.below(src.length + 1);
  } else if (kind <= 3) {
    const flips = 1 + rng.below(4);
    for (let i = 0; i < flips && len > 0; i++) {
      const at = rng.below(len);
      out[at] = out[at]! ^ (1 << rng.below(8));
    }
  } else if (kind <= 6) {
    // Overwrite a byte in the first 80 (where all headers live) with an interesting value.
    const n = 1 + rng.below(3);
    for (let i = 0; i < n && len > 0; i++) {
      const at = rng.below(Math.min(len, 80));
      out[at] = INTERESTING[rng.below(INTERESTING.length)]!;
    }
  } else {
    // Random bytes appended or the tail randomised.
    const extra = rng.below(64);
    for (let i = 0; i < extra; i++) out[len + i] = rng.below(256);
    len += extra;
  }
  return len;
}
