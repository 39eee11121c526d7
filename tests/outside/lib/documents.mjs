// The receipt (docs/receipt.md section 1) and the issuer profile (docs/profile.md section 1):
// a document that breaks a rule is refused with a FormError, never half-read.
import { X509Certificate } from "node:crypto";
import { parseJsonBytes } from "./strict_json.mjs";
import {
  FormError,
  HEX32,
  address,
  dateTime,
  exactMembers,
  foldProof,
  integer,
  leafOf,
  matching,
  text,
  before,
} from "./forms.mjs";

export { FormError } from "./forms.mjs";

const RECEIPT_MEMBERS = [
  "format", "certificate_id", "salt", "pdf_sha256", "leaf", "proof", "root", "chain_id",
  "contract", "transaction", "block_number", "anchored_at", "issuer",
];

/** Parse and check a receipt's bytes; the result is frozen and holds together (leaf, root). */
export function parseReceipt(bytes) {
  const doc = parseJson(bytes);
  exactMembers(doc, RECEIPT_MEMBERS, ["status"], "receipt");
  if (doc.format !== "sceau-receipt/1") throw new FormError("format: not sceau-receipt/1");
  const issuer = exactMembers(doc.issuer, ["name", "profile_url"], [], "issuer");
  text(issuer.name, "issuer.name");
  if (issuer.profile_url !== null) profileUrl(issuer.profile_url);
  const status = "status" in doc ? statusReference(doc.status, issuer.profile_url) : null;
  if (!Array.isArray(doc.proof)) throw new FormError("proof: not an array");
  const receipt = Object.freeze({
    certificateId: matching(doc.certificate_id, /^[0-9a-f]{32}$/, "certificate_id"),
    salt: matching(doc.salt, HEX32, "salt"),
    pdfSha256: matching(doc.pdf_sha256, /^[0-9a-f]{64}$/, "pdf_sha256"),
    leaf: matching(doc.leaf, HEX32, "leaf"),
    proof: Object.freeze(doc.proof.map((p, i) => matching(p, HEX32, `proof[${i}]`))),
    root: matching(doc.root, HEX32, "root"),
    chainId: integer(doc.chain_id, 1, "chain_id"),
    contract: address(doc.contract, "contract"),
    transaction: matching(doc.transaction, HEX32, "transaction"),
    blockNumber: integer(doc.block_number, 0, "block_number"),
    anchoredAt: dateTime(doc.anchored_at, "anchored_at"),
    status,
  });
  if (leafOf(receipt.certificateId, receipt.salt, receipt.pdfSha256) !== receipt.leaf) {
    throw new FormError("leaf: not the hash of certificate_id, salt and pdf_sha256");
  }
  if (foldProof(receipt.leaf, receipt.proof) !== receipt.root) {
    throw new FormError("proof: does not lead from leaf to root");
  }
  return receipt;
}

function profileUrl(value) {
  // docs/receipt.md section 1.1: an http(s) URL without space or control character, or null.
  if (!URL_FORM.test(text(value, "issuer.profile_url"))) throw new FormError("issuer.profile_url: not an http(s) URL");
}

/** docs/receipt.md section 1.1 and docs/profile.md section 1.1: the URL form of both documents. */
const URL_FORM = /^https?:\/\/[^\x00-\x20\x7f]+$/;

/** docs/receipt.md section 1.1: where a status list may be; https, or http on the loopback. */
const STATUS_LIST_URI =
  /^(?:https:\/\/[^/?#@\x00-\x20\x7f]+|http:\/\/(?:127\.0\.0\.1|localhost)(?::[0-9]{1,5})?)\/[^#\x00-\x20\x7f]*$/;
const STATUS_LIST_MAX_INDEX = (1n << 32n) - 1n;

/** The scheme and authority, lowercased: the text up to the first `/`, `?` or `#` after `://`. */
function originOf(url) {
  const [scheme, rest] = [url.slice(0, url.indexOf("://")), url.slice(url.indexOf("://") + 3)];
  return `${scheme}://${rest.split(/[/?#]/, 1)[0]}`.toLowerCase();
}

function statusListUri(value, where) {
  if (!STATUS_LIST_URI.test(text(value, where))) throw new FormError(`${where}: not a status list URL`);
  return value;
}

/** The receipt's optional `status` (an object when present, never null): list URL and index. */
function statusReference(value, profileUrlOrNull) {
  const status = exactMembers(value, ["status_list"], [], "status");
  const list = exactMembers(status.status_list, ["idx", "uri"], [], "status.status_list");
  const uri = statusListUri(list.uri, "status.status_list.uri");
  if (profileUrlOrNull !== null && originOf(uri) !== originOf(profileUrlOrNull)) {
    throw new FormError("status.status_list.uri: not on issuer.profile_url's origin");
  }
  const idx = integer(list.idx, 0, "status.status_list.idx", STATUS_LIST_MAX_INDEX);
  return Object.freeze({ idx, uri });
}

function parseJson(bytes) {
  try {
    return parseJsonBytes(bytes);
  } catch (error) {
    throw new FormError(`not strict JSON: ${error.message}`);
  }
}

const PROFILE_MEMBERS = [
  "format", "name", "public_base_url", "chain_id", "contract", "anchoring_addresses",
  "signing_certificates", "trust_roots",
];

/** Parse and check an issuer profile's bytes (docs/profile.md section 1). */
export function parseProfile(bytes) {
  const doc = parseJson(bytes);
  exactMembers(doc, PROFILE_MEMBERS, ["status_list"], "profile");
  if (doc.format !== "sceau-issuer-profile/1") throw new FormError("format: not sceau-issuer-profile/1");
  if (text(doc.name, "name").length === 0) throw new FormError("name: empty");
  if (!URL_FORM.test(text(doc.public_base_url, "public_base_url"))) {
    throw new FormError("public_base_url: not http(s)");
  }
  const statusList = "status_list" in doc ? profileStatusList(doc.status_list, doc.public_base_url) : null;
  return Object.freeze({
    statusList,
    chainId: integer(doc.chain_id, 1, "chain_id"),
    contract: address(doc.contract, "contract"),
    anchoringAddresses: nonEmpty(doc.anchoring_addresses, "anchoring_addresses").map((entry, i) => {
      const where = `anchoring_addresses[${i}]`;
      exactMembers(entry, ["address", "valid_from"], ["valid_until"], where);
      return Object.freeze({ address: address(entry.address, `${where}.address`), ...period(entry, where) });
    }),
    signingCertificates: nonEmpty(doc.signing_certificates, "signing_certificates").map((entry, i) => {
      const where = `signing_certificates[${i}]`;
      exactMembers(entry, ["pem", "valid_from"], ["valid_until"], where);
      return Object.freeze({ der: onePem(entry.pem, `${where}.pem`), ...period(entry, where) });
    }),
    trustRoots: nonEmpty(doc.trust_roots, "trust_roots").map((pem, i) => onePem(pem, `trust_roots[${i}]`)),
  });
}

/** The profile's optional `status_list` (an object when present): its URL and `bits`, exactly 2. */
function profileStatusList(value, publicBaseUrl) {
  const list = exactMembers(value, ["uri", "bits"], [], "status_list");
  const uri = statusListUri(list.uri, "status_list.uri");
  if (originOf(uri) !== originOf(publicBaseUrl)) throw new FormError("status_list.uri: not on public_base_url's origin");
  if (integer(list.bits, 2, "status_list.bits", 2n) !== 2n) throw new FormError("status_list.bits: not 2");
  return Object.freeze({ uri, bits: 2 });
}

function nonEmpty(value, where) {
  if (!Array.isArray(value) || value.length === 0) throw new FormError(`${where}: not a non-empty array`);
  return value;
}

function period(entry, where) {
  const validFrom = dateTime(entry.valid_from, `${where}.valid_from`);
  const open = entry.valid_until === undefined || entry.valid_until === null;
  const validUntil = open ? null : dateTime(entry.valid_until, `${where}.valid_until`);
  if (validUntil !== null && !before(validFrom, validUntil)) {
    throw new FormError(`${where}: valid_until not later than valid_from`);
  }
  return { validFrom, validUntil };
}

// docs/profile.md section 1.1: LF line ends only, the final LF required, nothing around it.
const PEM = /^-----BEGIN CERTIFICATE-----\n((?:[A-Za-z0-9+/=]+\n)+)-----END CERTIFICATE-----\n$/;

/** Exactly one PEM certificate; its DER bytes. */
function onePem(value, where) {
  const m = PEM.exec(text(value, where));
  if (!m) throw new FormError(`${where}: not exactly one PEM certificate`);
  const der = Buffer.from(m[1].replace(/\n/g, ""), "base64");
  try {
    new X509Certificate(der);
  } catch {
    throw new FormError(`${where}: not an X.509 certificate`);
  }
  return der;
}

/** Is `instant` within [validFrom, validUntil)? (docs/profile.md section 2) */
export function covers(entry, instant) {
  return !before(instant, entry.validFrom) && (entry.validUntil === null || before(instant, entry.validUntil));
}
