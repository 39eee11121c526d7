// A strict RFC 8259 parser, as docs/receipt.md section 1.2 asks: duplicate member names, lone
// surrogates, NaN/Infinity and anything after the value are errors; numbers keep their text so
// that `31337.0` is not mistaken for `31337`. JSON.parse can do none of that.

export class JsonSyntaxError extends Error {}

/** A JSON number as written: `raw` is its exact text. */
export class JsonNumber {
  constructor(raw) {
    this.raw = raw;
    Object.freeze(this);
  }

  /** The value as a BigInt when the text is an integer without fraction or exponent. */
  asInteger() {
    return /^-?(0|[1-9][0-9]*)$/.test(this.raw) ? BigInt(this.raw) : null;
  }
}

/** Decode UTF-8 bytes (no byte-order mark, fatal on invalid sequences) and parse one JSON text. */
export function parseJsonBytes(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new JsonSyntaxError("byte-order mark");
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new JsonSyntaxError("not UTF-8");
  }
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos !== text.length) throw new JsonSyntaxError(`text after the value at ${parser.pos}`);
  return value;
}

const MAX_DEPTH = 64;

class Parser {
  constructor(text) {
    this.text = text;
    this.pos = 0;
  }

  skipSpace() {
    while (this.pos < this.text.length && " \t\n\r".includes(this.text[this.pos])) this.pos += 1;
  }

  fail(what) {
    throw new JsonSyntaxError(`${what} at ${this.pos}`);
  }

  value(depth) {
    if (depth > MAX_DEPTH) this.fail("nested too deeply");
    const c = this.text[this.pos];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]]) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail("unexpected character");
  }

  object(depth) {
    const members = Object.create(null);
    this.pos += 1;
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos += 1;
      return members;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail("expected a member name");
      const name = this.string();
      if (Object.prototype.hasOwnProperty.call(members, name)) this.fail(`duplicate member "${name}"`);
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos += 1;
      this.skipSpace();
      members[name] = this.value(depth + 1);
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos += 1;
      if (c === "}") return members;
      if (c !== ",") this.fail("expected ',' or '}'");
    }
  }

  array(depth) {
    const items = [];
    this.pos += 1;
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos += 1;
      return items;
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos += 1;
      if (c === "]") return items;
      if (c !== ",") this.fail("expected ',' or ']'");
    }
  }

  number() {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos));
    if (!match) this.fail("bad number");
    this.pos += match[0].length;
    return new JsonNumber(match[0]);
  }

  string() {
    this.pos += 1;
    const units = [];
    for (;;) {
      if (this.pos >= this.text.length) this.fail("unterminated string");
      const c = this.text[this.pos];
      const code = c.charCodeAt(0);
      if (c === '"') break;
      if (code < 0x20) this.fail("control character in a string");
      if (c === "\\") {
        units.push(this.escape());
      } else {
        units.push(code);
        this.pos += 1;
      }
    }
    this.pos += 1;
    checkSurrogates(units, this);
    return String.fromCharCode(...units);
  }

  escape() {
    const c = this.text[this.pos + 1];
    const simple = { '"': 0x22, "\\": 0x5c, "/": 0x2f, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };
    if (c in simple) {
      this.pos += 2;
      return simple[c];
    }
    if (c === "u" && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
      const unit = parseInt(this.text.slice(this.pos + 2, this.pos + 6), 16);
      this.pos += 6;
      return unit;
    }
    return this.fail("bad escape");
  }
}

function checkSurrogates(units, parser) {
  for (let i = 0; i < units.length; i += 1) {
    const u = units[i];
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = units[i + 1];
      if (next === undefined || next < 0xdc00 || next > 0xdfff) parser.fail("lone surrogate");
      i += 1;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      parser.fail("lone surrogate");
    }
  }
}
