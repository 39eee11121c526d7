// The signature step (docs/receipt.md section 5): one PAdES signature covering the whole file,
// its CMS intact, its signer certificate chaining to a trust root of the profile at the judging
// time. Node's crypto does the maths; the PDF and CMS are read here, with the few parts needed.
import { X509Certificate, constants, createHash, verify } from "node:crypto";
import { DerError, readElement, tagged } from "./der.mjs";

export class SignatureFailure extends Error {
  constructor(code, message, status = "invalid") {
    super(message);
    this.code = code;
    this.status = status;
    this.signerDer = null;
  }
}

const fail = (code, message) => {
  throw new SignatureFailure(code, message);
};

const HASHES = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const SIGNATURE_HASHES = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const DIGEST_ONLY = new Set(["1.2.840.10045.2.1", "1.2.840.113549.1.1.1"]);
const RSA_PSS = "1.2.840.113549.1.1.10";
const ED25519 = "1.3.101.112";
const MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
const CRL_POINTS = "2.5.29.31";
const AUTHORITY_INFO = "1.3.6.1.5.5.7.1.1";
const OCSP_METHOD = "1.3.6.1.5.5.7.48.1";
const MAX_PATH = 8;

/**
 * Check the PDF's one signature against the profile's trust roots at `judgedAt` (Unix seconds).
 * Returns { signerDer }; throws SignatureFailure with the docs' code otherwise (with
 * `signerDer` set when the CMS named a readable signer certificate).
 */
export function checkSignature(pdf, trustRoots, judgedAt) {
  if (pdf.subarray(0, 5).toString("latin1") !== "%PDF-") fail("pdf_unreadable", "not a PDF file");
  const fields = signatureDictionaries(pdf).filter((d) => !d.docTimestamp);
  if (fields.length === 0) fail("no_signature", "the PDF carries no signature");
  if (fields.length > 1) fail("several_signatures", `the PDF carries ${fields.length} signatures`);
  const field = fields[0];
  const cms = parseCms(field.contents);
  try {
    checkDigestAndSignature(pdf, field.byteRange, cms);
    checkCoverage(pdf, field.byteRange);
    checkPath(cms, trustRoots, judgedAt, pdf);
  } catch (error) {
    // The signer certificate stays readable when the signature fails (issuer_identity uses it).
    if (error instanceof SignatureFailure) error.signerDer = cms.signer.raw;
    throw error;
  }
  return { signerDer: cms.signer.raw };
}

// --- the PDF -----------------------------------------------------------------------------------

/** Every dictionary with a /ByteRange: its range, its /Contents bytes, whether a doc timestamp. */
function signatureDictionaries(pdf) {
  const text = pdf.toString("latin1");
  const found = [];
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const byteRange = m.slice(1, 5).map(Number);
    const [a, b, c, d] = byteRange;
    if (a !== 0 || b >= c || c + d > pdf.length) fail("pdf_unreadable", "a /ByteRange outside the file");
    const hole = text.slice(b, c);
    if (!/^<[0-9a-fA-F]*>$/.test(hole)) fail("pdf_unreadable", "a /ByteRange hole that is not a hex string");
    const start = text.lastIndexOf(" obj", m.index);
    const end = text.indexOf("endobj", m.index);
    const dictionary = text.slice(start, b) + text.slice(c, end);
    found.push({
      byteRange,
      contents: Buffer.from(hole.slice(1, -1), "hex"),
      docTimestamp: /\/Type\s*\/DocTimeStamp\b/.test(dictionary) || /\/SubFilter\s*\/ETSI\.RFC3161\b/.test(dictionary),
    });
  }
  return found;
}

/**
 * The signature covers the whole file, or its revision and later updates that add only
 * validation data. The docs do not define "only validation data" object by object; this
 * verifier accepts later updates that end as an incremental update (`%%EOF`) and define no page,
 * no content, no font, no image and no other signature.
 */
function checkCoverage(pdf, [, , c, d]) {
  if (c + d === pdf.length) return;
  const tail = pdf.subarray(c + d).toString("latin1");
  const update = /startxref\s+\d+\s+%%EOF\s*$/.test(tail) && /\/DSS\b|\/DocTimeStamp\b/.test(tail);
  const forbidden = /\/Type\s*\/(Page|Pages|XObject|Font|Annot)\b|\/Subtype\s*\/Image\b|\/Type\s*\/Sig\b/.test(tail);
  if (!update || forbidden) fail("signature_partial", `${pdf.length - c - d} bytes after the signed revision`);
}

// --- the CMS -----------------------------------------------------------------------------------

function parseCms(contents) {
  try {
    const info = readElement(contents, 0).children();
    if (info[0].oid() !== "1.2.840.113549.1.7.2") fail("signature_broken", "not a CMS SignedData");
    const signedData = tagged(info, 0).children()[0].children();
    const certificates = (tagged(signedData.slice(3), 0)?.children() ?? []).filter((e) => e.tag === 0x30);
    const signerInfos = signedData[signedData.length - 1].children();
    if (signerInfos.length !== 1) fail("signature_broken", `${signerInfos.length} signer infos`);
    const info1 = signerInfos[0].children();
    const signedAttrs = info1.find((e) => e.tag === 0xa0);
    if (!signedAttrs) fail("signature_broken", "no signed attributes");
    const afterAttrs = info1.indexOf(signedAttrs);
    const cms = {
      sid: info1[1],
      digestAlgorithm: info1[2].children()[0].oid(),
      signedAttrs,
      signatureAlgorithm: info1[afterAttrs + 1].children(),
      signature: info1[afterAttrs + 2].content,
      certificates,
    };
    cms.signer = certificates.find((cert) => identifies(cms.sid, cert));
    if (!cms.signer) fail("signature_broken", "the CMS does not carry its signer's certificate");
    return cms;
  } catch (error) {
    if (error instanceof DerError || error instanceof TypeError) fail("signature_broken", `unreadable CMS: ${error.message}`);
    throw error;
  }
}

function identifies(sid, cert) {
  const tbs = tbsParts(cert);
  if (sid.tag === 0x30) {
    const [issuer, serial] = sid.children();
    return issuer.raw.equals(tbs.issuer.raw) && serial.content.equals(tbs.serial.content);
  }
  if (sid.tag === 0x80) {
    const ski = extension(cert, "2.5.29.14");
    return ski !== null && readElement(ski, 0).content.equals(sid.content);
  }
  return false;
}

function tbsParts(cert) {
  const kids = cert.children()[0].children();
  const i = kids[0].tag === 0xa0 ? 1 : 0;
  return { serial: kids[i], issuer: kids[i + 2], validity: kids[i + 3].children(), extensions: tagged(kids.slice(i + 6), 3) };
}

/** The extnValue bytes of extension `oid`, or null. */
function extension(cert, oid) {
  const extensions = tbsParts(cert).extensions;
  if (!extensions) return null;
  for (const ext of extensions.children()[0].children()) {
    const parts = ext.children();
    if (parts[0].oid() === oid) return parts[parts.length - 1].content;
  }
  return null;
}

function checkDigestAndSignature(pdf, [a, b, c, d], cms) {
  const hash = HASHES[cms.digestAlgorithm];
  if (!hash) fail("signature_broken", `unsupported digest ${cms.digestAlgorithm}`);
  const digest = createHash(hash).update(pdf.subarray(a, a + b)).update(pdf.subarray(c, c + d)).digest();
  const attributes = cms.signedAttrs.children().map((attr) => attr.children());
  const messageDigest = attributes.find(([oid]) => oid.oid() === MESSAGE_DIGEST);
  if (!messageDigest || !messageDigest[1].children()[0].content.equals(digest)) {
    fail("signature_broken", "the signed bytes do not hash to the CMS message digest");
  }
  const signed = Buffer.from(cms.signedAttrs.raw);
  signed[0] = 0x31; // the signature covers the attributes as a SET OF (RFC 5652, 5.4)
  if (!verifies(signed, cms, hash)) fail("signature_broken", "the CMS signature does not verify");
}

function verifies(signed, cms, digestHash) {
  const algorithm = cms.signatureAlgorithm[0].oid();
  const key = new X509Certificate(cms.signer.raw).publicKey;
  if (algorithm === ED25519) return verify(null, signed, key, cms.signature);
  if (algorithm === RSA_PSS) {
    const params = cms.signatureAlgorithm[1].children();
    const hashOid = tagged(params, 0)?.children()[0].children()[0].oid() ?? "1.3.14.3.2.26";
    const salt = tagged(params, 2);
    const saltLength = salt ? Number(BigInt("0x" + salt.children()[0].content.toString("hex"))) : 20;
    const hash = HASHES[hashOid] ?? fail("signature_broken", "unsupported PSS hash");
    return verify(hash, signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, cms.signature);
  }
  const hash = SIGNATURE_HASHES[algorithm] ?? (DIGEST_ONLY.has(algorithm) ? digestHash : null);
  if (!hash) fail("signature_broken", `unsupported signature algorithm ${algorithm}`);
  return verify(hash, signed, { key, dsaEncoding: "der" }, cms.signature);
}

// --- the certificate path ----------------------------------------------------------------------

/** RFC 5280-style path from the signer to a trust root, every certificate valid at `judgedAt`. */
function checkPath(cms, trustRoots, judgedAt, pdf) {
  const pool = [...cms.certificates.map((c) => c.raw), ...trustRoots];
  let current = cms.signer.raw;
  const path = [];
  for (let depth = 0; depth < MAX_PATH; depth += 1) {
    const x509 = new X509Certificate(current);
    if (!validAt(readElement(current, 0), judgedAt)) {
      fail("signature_untrusted", `${x509.subject.split("\n").pop()} is not valid at the judging time`);
    }
    if (trustRoots.some((root) => root.equals(current))) return checkRevocationData(path, pdf);
    path.push(current);
    const issuer = pool.find((der) => {
      const candidate = new X509Certificate(der);
      return !der.equals(current) && candidate.ca && x509.checkIssued(candidate) && x509.verify(candidate.publicKey);
    });
    if (!issuer) fail("signature_untrusted", "the signer certificate does not chain to a trust root of the profile");
    current = issuer;
  }
  return fail("signature_untrusted", "certificate path too long");
}

function validAt(cert, judgedAt) {
  const [notBefore, notAfter] = tbsParts(cert).validity.map((t) => t.time());
  return notBefore <= judgedAt && judgedAt <= notAfter;
}

/**
 * This verifier does not read CRLs or OCSP responses: a path certificate that names a
 * revocation location fails when the PDF carries no validation data (as the docs say), and
 * makes the check "could not decide" when it does.
 */
function checkRevocationData(path, pdf) {
  const named = path.some((der) => {
    const cert = readElement(der, 0);
    const aia = extension(cert, AUTHORITY_INFO);
    return extension(cert, CRL_POINTS) !== null || (aia !== null && readElement(aia, 0).children().some((ad) => ad.children()[0].oid() === OCSP_METHOD));
  });
  if (!named) return;
  if (!/\/DSS\b/.test(pdf.toString("latin1"))) fail("signature_untrusted", "revocation data named but not carried");
  throw new SignatureFailure("signature_unchecked", "this outside verifier does not read CRLs or OCSP responses", "error");
}
