/**
 * Parsing JSON text with OVS's error messages.
 *
 * The values come from JSON.parse; this module only finds the first error
 * the way OVS's lib/json.c reports it ("line 0, column 3, byte 3: invalid
 * keyword 'bad'"), so our tools print the same diagnostics for bad JSON
 * arguments, schema files and database records. It follows OVS's grammar:
 * the top level must be an object or an array, keywords are lowercase
 * letters, numbers are validated after the token ends, and line, column and
 * byte count bytes of UTF-8 (an error is reported at the position where the
 * byte that revealed it arrives).
 */

const MAX_HEIGHT = 1000;

type Tok = "{" | "}" | "[" | "]" | ":" | "," | "value";
type ParseState = "start" | "end" | "objInit" | "objName" | "objColon" | "objValue" | "objNext" | "arrInit" | "arrValue" | "arrNext";

class Checker {
  line = 0;
  column = 0;
  byte = 0;
  error: string | null = null;
  private lex: "start" | "keyword" | "number" | "string" | "escape" = "start";
  private buf: number[] = [];
  private state: ParseState = "start";
  private stack: ("obj" | "arr")[] = [];
  /** Whether the token being parsed is a string (for object member names). */
  private tokIsString = false;

  fail(msg: string): void {
    if (this.error === null) this.error = `line ${this.line}, column ${this.column}, byte ${this.byte}: ${msg}`;
  }

  feed(data: Uint8Array): void {
    for (let i = 0; i < data.length && this.error === null; ) {
      const c = data[i]!;
      if (this.input(c)) {
        this.byte++;
        if (c === 0x0a) {
          this.column = 0;
          this.line++;
        } else {
          this.column++;
        }
        i++;
      }
    }
  }

  finish(): void {
    if (this.error !== null) return;
    if (this.lex === "string" || this.lex === "escape") this.fail("unexpected end of input in quoted string");
    // OVS ends a pending number or keyword by feeding one more space.
    else if (this.lex === "number" || this.lex === "keyword") this.feed(Uint8Array.of(0x20));
    if (this.error !== null) return;
    if (this.state === "start") this.fail("empty input stream");
    else if (this.state !== "end") this.fail("unexpected end of input");
  }

  /** Returns false when `c` was not consumed (it ends a token and is seen again). */
  private input(c: number): boolean {
    switch (this.lex) {
      case "start":
        if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) return true;
        if (c >= 0x61 && c <= 0x7a) this.lex = "keyword";
        else if ("[{]}:,".includes(String.fromCharCode(c))) {
          this.token(String.fromCharCode(c) as Tok, false);
          return true;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) this.lex = "number";
        else if (c === 0x22) {
          this.lex = "string";
          return true;
        } else {
          if (c >= 0x20 && c < 0x7f) this.fail(`invalid character '${String.fromCharCode(c)}'`);
          else this.fail(`invalid character U+${c.toString(16).padStart(4, "0")}`);
          return true;
        }
        break;
      case "keyword":
        if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) {
          const word = Buffer.from(this.buf).toString("latin1");
          if (word === "true" || word === "false" || word === "null") this.token("value", false);
          else this.fail(`invalid keyword '${word}'`);
          return false;
        }
        break;
      case "number":
        if (!".0123456789eE-+".includes(String.fromCharCode(c))) {
          const why = numberError(Buffer.from(this.buf).toString("latin1"));
          if (why !== null) this.fail(why);
          else this.token("value", false);
          return false;
        }
        break;
      case "string":
        if (c === 0x5c) this.lex = "escape";
        else if (c === 0x22) {
          const why = stringError(Buffer.from(this.buf));
          if (why !== null) this.fail(why);
          else this.token("value", true);
          return true;
        } else if (c < 0x20) {
          this.fail(`U+${c.toString(16).toUpperCase().padStart(4, "0")} must be escaped in quoted string`);
          return true;
        }
        break;
      case "escape":
        this.lex = "string";
        break;
    }
    this.buf.push(c);
    return true;
  }

  private push(kind: "obj" | "arr"): void {
    if (this.stack.length >= MAX_HEIGHT) {
      this.fail(`input exceeds maximum nesting depth ${MAX_HEIGHT}`);
      return;
    }
    this.stack.push(kind);
    this.state = kind === "obj" ? "objInit" : "arrInit";
  }

  private pop(): void {
    if (this.stack.length === 1) {
      this.state = "end";
      return;
    }
    this.stack.pop();
    this.state = this.stack[this.stack.length - 1] === "arr" ? "arrNext" : "objNext";
  }

  private value(t: Tok, next: ParseState): void {
    if (t === "{") this.push("obj");
    else if (t === "[") this.push("arr");
    else if (t === "value") this.state = next;
    else this.fail("syntax error expecting value");
  }

  private token(t: Tok, isString: boolean): void {
    this.tokIsString = isString;
    switch (this.state) {
      case "start":
        if (t === "{") this.push("obj");
        else if (t === "[") this.push("arr");
        else this.fail("syntax error at beginning of input");
        break;
      case "end":
        this.fail("trailing garbage at end of input");
        break;
      case "objInit":
      case "objName":
        if (this.state === "objInit" && t === "}") this.pop();
        else if (t === "value" && this.tokIsString) this.state = "objColon";
        else this.fail("syntax error parsing object expecting string");
        break;
      case "objColon":
        if (t === ":") this.state = "objValue";
        else this.fail("syntax error parsing object expecting ':'");
        break;
      case "objValue":
        this.value(t, "objNext");
        break;
      case "objNext":
        if (t === ",") this.state = "objName";
        else if (t === "}") this.pop();
        else this.fail("syntax error expecting '}' or ','");
        break;
      case "arrInit":
      case "arrValue":
        if (this.state === "arrInit" && t === "]") this.pop();
        else this.value(t, "arrNext");
        break;
      case "arrNext":
        if (t === ",") this.state = "arrValue";
        else if (t === "]") this.pop();
        else this.fail("syntax error expecting ']' or ','");
        break;
    }
    this.lex = "start";
    this.buf = [];
  }
}

function numberError(s: string): string | null {
  const m = /^(-?)(\d*)(\.\d*)?([eE][-+]?\d*)?(.*)$/.exec(s)!;
  const [, , intPart, frac, exp, rest] = m as unknown as [string, string, string, string | undefined, string | undefined, string];
  if (intPart === "") return s.startsWith("-") || s === "" ? "'-' must be followed by digit" : "syntax error in number";
  if (intPart.length > 1 && intPart.startsWith("0")) return "leading zeros not allowed";
  if (frac !== undefined && frac.length === 1) return "decimal point must be followed by digit";
  if (exp !== undefined) {
    const digits = exp.replace(/^[eE][-+]?/, "");
    if (digits === "") return "exponent must contain at least one digit";
    if (digits.length > 9 && Number(digits) >= 214748364) return "exponent outside valid range";
  }
  if (rest !== "") return "syntax error in number";
  if (!Number.isFinite(Number(s))) return "number outside valid range";
  return null;
}

function stringError(raw: Buffer): string | null {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x5c) continue;
    const e = raw[++i];
    if (e === undefined) return "quoted string may not end with backslash";
    const ch = String.fromCharCode(e);
    if ('"\\/bfnrt'.includes(ch)) continue;
    if (ch !== "u") return `bad escape \\${ch}`;
    const hex = (at: number): number | string => {
      if (at + 4 > raw.length) return "quoted string ends within \\u escape";
      const t = raw.toString("latin1", at, at + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(t)) return "malformed \\u escape";
      const v = parseInt(t, 16);
      return v === 0 ? "null bytes not supported in quoted strings" : v;
    };
    const c0 = hex(i + 1);
    if (typeof c0 === "string") return c0;
    i += 4;
    if (c0 >= 0xd800 && c0 <= 0xdbff) {
      if (i + 2 >= raw.length || raw[i + 1] !== 0x5c || raw[i + 2] !== 0x75) return "malformed escaped surrogate pair";
      const c1 = hex(i + 3);
      if (typeof c1 === "string") return c1;
      if (c1 < 0xdc00 || c1 > 0xdfff) return "second half of escaped surrogate pair is not trailing surrogate";
      i += 6;
    }
  }
  return null;
}

/** The first error OVS would report for `text`, or null if OVS accepts it. */
export function ovsJsonError(text: string | Uint8Array): string | null {
  const c = new Checker();
  c.feed(typeof text === "string" ? Buffer.from(text, "utf8") : text);
  c.finish();
  return c.error;
}

/** Parses JSON as OVS does: the value, or an error worded as OVS words it. */
export function parseOvsJson(text: string | Uint8Array): { ok: true; value: unknown } | { ok: false; error: string } {
  const error = ovsJsonError(text);
  if (error !== null) return { ok: false, error };
  try {
    return { ok: true, value: JSON.parse(typeof text === "string" ? text : Buffer.from(text).toString("utf8")) };
  } catch (e) {
    // Something OVS accepts but JSON.parse does not (e.g. a raw control
    // character OVS let through): report JSON.parse's reason.
    return { ok: false, error: (e as Error).message };
  }
}
