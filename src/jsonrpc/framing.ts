/**
 * Splits a byte stream into JSON texts.
 *
 * OVSDB and unixctl peers send JSON values back to back with no delimiter
 * (RFC 7047 §4). The scanner tracks nesting depth and string state across
 * chunk boundaries, so each complete top-level value is parsed exactly once
 * with `JSON.parse`, and a value split over many reads costs one scan.
 */

export type FrameResult = { ok: true; value: unknown } | { ok: false; error: string };

const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22, BACKSLASH = 0x5c;
/** A peer that never finishes a value must not grow our memory without bound. */
export const MAX_VALUE_BYTES = 256 * 1024 * 1024;
/** indexOf's -1 as an unsigned number: larger than any position. */
const NONE = 0xffffffff;

export class JsonFramer {
  private chunks: Buffer[] = [];
  private pending = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;

  /** Feeds bytes; returns every complete value (or a syntax error) found. */
  push(data: Buffer): FrameResult[] {
    const out: FrameResult[] = [];
    let start = 0;
    let nextBackslash = -1;
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (!this.started) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          start = i + 1;
          continue;
        }
        if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
          out.push({ ok: false, error: `syntax error at beginning of input` });
          this.reset();
          return out;
        }
        this.started = true;
        start = i;
      }
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        // Skip to the next quote or backslash with indexOf instead of byte
        // by byte: most of an OVSDB message is string content (a 300 kB
        // ovs-vsctl request went from ~50 ms to a few ms).
        const q = data.indexOf(QUOTE, i);
        // The next backslash is remembered per chunk: searching for it from
        // every string would rescan the whole chunk each time when there is
        // none (quadratic on a 300 kB request).
        if (nextBackslash < i) nextBackslash = data.indexOf(BACKSLASH, i) >>> 0;
        const b = nextBackslash === NONE ? -1 : nextBackslash;
        if (b !== -1 && (q === -1 || b < q)) {
          this.escaped = true;
          i = b;
        } else if (q !== -1) {
          this.inString = false;
          i = q;
        } else {
          i = data.length - 1;
        }
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          const piece = data.subarray(start, i + 1);
          const text =
            this.pending > 0 ? Buffer.concat([...this.chunks, piece]).toString("utf8") : piece.toString("utf8");
          this.chunks = [];
          this.pending = 0;
          this.started = false;
          try {
            out.push({ ok: true, value: JSON.parse(text) });
          } catch (e) {
            out.push({ ok: false, error: `syntax error: ${(e as Error).message}` });
          }
          start = i + 1;
        }
      }
    }
    if (this.started && start < data.length) {
      this.chunks.push(Buffer.from(data.subarray(start)));
      this.pending += data.length - start;
      if (this.pending > MAX_VALUE_BYTES) {
        out.push({ ok: false, error: `JSON value exceeds ${MAX_VALUE_BYTES} bytes` });
        this.reset();
      }
    }
    return out;
  }

  /** Bytes of an incomplete value held back. */
  get buffered(): number {
    return this.pending;
  }

  private reset(): void {
    this.chunks = [];
    this.pending = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.started = false;
  }
}
