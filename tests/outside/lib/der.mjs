// A minimal DER reader: enough of ASN.1 to walk CMS SignedData and X.509 certificates.

export class DerError extends Error {}

/** One DER element of `buf` starting at `offset`. */
export function readElement(buf, offset = 0) {
  if (offset + 2 > buf.length) throw new DerError("truncated element");
  const first = buf[offset];
  if ((first & 0x1f) === 0x1f) throw new DerError("high tag numbers are not supported");
  let length = buf[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError("unsupported length");
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + buf[offset + 2 + i];
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError("element longer than its buffer");
  return new Element(buf, offset, header, end, first);
}

class Element {
  constructor(buf, start, header, end, tag) {
    this.buf = buf;
    this.start = start;
    this.header = header;
    this.end = end;
    this.tag = tag;
  }

  get constructed() {
    return (this.tag & 0x20) !== 0;
  }

  /** The whole element, header included (for hashing or comparing). */
  get raw() {
    return this.buf.subarray(this.start, this.end);
  }

  get content() {
    return this.buf.subarray(this.start + this.header, this.end);
  }

  children() {
    if (!this.constructed) throw new DerError("not a constructed element");
    const found = [];
    let offset = this.start + this.header;
    while (offset < this.end) {
      const child = readElement(this.buf.subarray(0, this.end), offset);
      found.push(child);
      offset = child.end;
    }
    return found;
  }

  /** The children of a context-specific [n] element, or null when absent. */
  static tagged(elements, n) {
    return elements.find((e) => e.tag === (0xa0 | n) || e.tag === (0x80 | n)) ?? null;
  }

  oid() {
    if (this.tag !== 0x06) throw new DerError("not an OBJECT IDENTIFIER");
    const bytes = this.content;
    const parts = [];
    let value = 0;
    for (const b of bytes) {
      value = value * 128 + (b & 0x7f);
      if (!(b & 0x80)) {
        parts.push(value);
        value = 0;
      }
    }
    const head = parts.shift();
    const first = head < 80 ? Math.floor(head / 40) : 2;
    return [first, head - first * 40, ...parts].join(".");
  }

  /** UTCTime or GeneralizedTime as Unix seconds. */
  time() {
    const s = this.content.toString("latin1");
    let m;
    if (this.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
      const year = Number(m[1]) < 50 ? 2000 + Number(m[1]) : 1900 + Number(m[1]);
      return Date.UTC(year, m[2] - 1, m[3], m[4], m[5], m[6]) / 1000;
    }
    if (this.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(s))) {
      return Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6]) / 1000;
    }
    throw new DerError("not a UTCTime or GeneralizedTime");
  }
}

export const tagged = Element.tagged;
