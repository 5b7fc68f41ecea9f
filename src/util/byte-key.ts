/**
 * Byte strings as Map keys. Caches keyed by wire bytes (decoded action
 * lists, interned constants) need a string with one character per byte;
 * Node's native latin1 slice builds it several times faster than
 * `String.fromCharCode` over the bytes, which mattered on the flow_mod path.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** `b` as a string of the same length whose character codes are its bytes. */
export function byteKey(b: Uint8Array): string {
  return latin1Slice.call(b, 0, b.length);
}
