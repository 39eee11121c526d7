// The value forms shared by the receipt and the profile (docs/receipt.md sections 1.3 and 1.4),
// and the hashes of section 2.
import { getAddress, keccak256, concat, toUtf8Bytes, getBytes } from "ethers";
import { JsonNumber } from "./strict_json.mjs";

export class FormError extends Error {}

const UINT64_MAX = (1n << 64n) - 1n;

export function exactMembers(value, names, optional, where) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new FormError(`${where}: not an object`);
  }
  for (const name of Object.keys(value)) {
    if (!names.includes(name) && !optional.includes(name)) {
      throw new FormError(`${where}: unknown member "${name}"`);
    }
  }
  for (const name of names) {
    if (!(name in value)) throw new FormError(`${where}: missing member "${name}"`);
  }
  return value;
}

export function text(value, where) {
  if (typeof value !== "string") throw new FormError(`${where}: not a string`);
  return value;
}

export function matching(value, pattern, where) {
  if (!pattern.test(text(value, where))) throw new FormError(`${where}: wrong form`);
  return value;
}

export const HEX32 = /^0x[0-9a-f]{64}$/;

/** An integer (no fraction, no exponent) within [min, max], max 2^64 - 1 unless a field says. */
export function integer(value, min, where, max = UINT64_MAX) {
  const n = value instanceof JsonNumber ? value.asInteger() : null;
  if (n === null || n < BigInt(min) || n > max) throw new FormError(`${where}: not an integer in range`);
  return n;
}

/** Section 1.3: all-lowercase or all-uppercase digits, or the exact EIP-55 form. */
export function address(value, where) {
  matching(value, /^0x[0-9a-fA-F]{40}$/, where);
  const digits = value.slice(2);
  const lower = digits.toLowerCase();
  if (digits !== lower && digits !== digits.toUpperCase()) {
    if (getAddress("0x" + lower) !== value) throw new FormError(`${where}: bad EIP-55 checksum`);
  }
  return "0x" + lower;
}

const DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** Section 1.4: an instant, as { seconds (BigInt Unix), micros (0..999999) }. */
export function dateTime(value, where) {
  const m = DATE_TIME.exec(text(value, where));
  if (!m) throw new FormError(`${where}: not a date-time`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const monthDays = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const bad =
    month < 1 || month > 12 || day < 1 || day > monthDays[month - 1] || hour > 23 || minute > 59 || second > 59;
  let offset = 0;
  if (m[8] !== "Z") {
    const [oh, om] = m[8].slice(1).split(":").map(Number);
    if (oh > 23 || om > 59) throw new FormError(`${where}: bad offset`);
    offset = (m[8][0] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  }
  if (bad) throw new FormError(`${where}: impossible date-time`);
  const seconds = BigInt(Date.UTC(year, month - 1, day, hour, minute, second) / 1000) - BigInt(offset);
  const micros = m[7] ? Number(m[7].padEnd(6, "0")) : 0;
  return Object.freeze({ seconds, micros });
}

function isLeap(year) {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** `a < b` for two instants. */
export function before(a, b) {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.micros < b.micros);
}

export function isoOf(instant) {
  const base = new Date(Number(instant.seconds) * 1000).toISOString().slice(0, 19);
  return instant.micros ? `${base}.${String(instant.micros).padStart(6, "0")}Z` : `${base}Z`;
}

// --- docs/receipt.md section 2 ------------------------------------------------------------------

const LEAF_TAG = toUtf8Bytes("SCEAU/leaf/v1");

/** keccak256(keccak256("SCEAU/leaf/v1" || id || salt || sha256(pdf))), as 0x-hex. */
export function leafOf(certificateIdHex, saltHex, pdfSha256Hex) {
  const inner = keccak256(concat([LEAF_TAG, getBytes("0x" + certificateIdHex), getBytes(saltHex), getBytes("0x" + pdfSha256Hex)]));
  return keccak256(inner);
}

/** Fold the proof onto the leaf with the commutative node hash. */
export function foldProof(leaf, proof) {
  let h = leaf;
  for (const p of proof) h = BigInt(h) <= BigInt(p) ? keccak256(concat([h, p])) : keccak256(concat([p, h]));
  return h;
}
