// Sceau pages. The link key lives in the URL fragment, which browsers never send to a
// server: this script reads it and posts it in a request body, and nothing else leaves.
import { qrImage } from "/static/qr.js";

const body = document.body;
const lang = body.dataset.lang || "fr";
const words = JSON.parse(document.getElementById("words").textContent);
const $ = (id) => document.getElementById(id);

function keyFromFragment() {
  const key = decodeURIComponent(location.hash.slice(1));
  return /^[A-Za-z0-9_-]{43}$/.test(key) ? key : null;
}

async function postJson(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
    credentials: "same-origin",
    cache: "no-store",
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return { ok: response.ok, status: response.status, data };
}

const locale = lang === "fr" ? "fr-FR" : "en-GB";
// French writes the first day of a month as an ordinal: « le 1er décembre ».
const ordinalFirst = (text) => (lang === "fr" ? text.replace(/^1 /, "1er ") : text);

function formatDate(iso) {
  if (!iso) return "";
  return ordinalFirst(new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" })
    .format(new Date(iso)));
}

// The calendar day in UTC, as the server-rendered pages write it.
function formatDay(iso) {
  return ordinalFirst(new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" })
    .format(new Date(iso)));
}

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
const reasonName = (code) => words[`reason_name.${code}`] || words["reason_name.unspecified"];

// "Suspended since 1 December 2026 (appeal under way)": suspension is reversible, said so.
function suspendedHeadline(at, reason) {
  if (!at) return words["suspended.title.undated"];
  const why = words[`suspension_reason.${reason}`] || words["suspension_reason.other"];
  return fill(words["suspended.title"], { date: formatDay(at), reason: why });
}

function verdictExplanation(report) {
  const verdict = report.verdict;
  if (verdict === "REVOKED") {
    return `${revokedHeadline(report.revoked_at, report.revocation_reason)}. ${words["verdict.REVOKED.explain"]}`;
  }
  if (verdict === "SUSPENDED") {
    return `${suspendedHeadline(report.suspended_at, report.suspension_reason)}. ${words["verdict.SUSPENDED.explain"]}`;
  }
  return words[`verdict.${verdict}.explain`];
}

function revokedHeadline(at, reason) {
  if (!at) return words["error.revoked.title.undated"];
  const phrase = words[`reason.${reason}`];
  if (!phrase) return fill(words["error.revoked.title.no_reason"], { date: formatDay(at) });
  return fill(words["error.revoked.title"], { date: formatDay(at), reason: phrase });
}

// What an API answer's code means to a reader: the words of a page, never the code itself.
const PROBLEMS = {
  wrong_link_key: "wrong_link_key",
  share_not_found: "share_unknown",
  share_unknown: "share_unknown",
  share_ended: "share_ended",
  share_expired: "share_expired",
  share_exhausted: "share_exhausted",
  certificate_revoked: "revoked",
  certificate_not_found: "not_found",
  chain_unavailable: "chain",
};

function problemOf(code) {
  return PROBLEMS[code] || "server";
}

function problemTitle(problem, details = {}) {
  if (problem === "share_expired") {
    return details.expired_at
      ? fill(words["error.share_expired.title"], { date: formatDay(details.expired_at) })
      : words["error.share_expired.title.undated"];
  }
  if (problem === "revoked") return revokedHeadline(details.revoked_at, details.reason);
  return words[`error.${problem}.title`];
}

// Heads the page with what happened: a link that does not open, a share that no longer does.
function showProblem(problem, details = {}) {
  for (const id of ["waiting", "page-title"]) $(id)?.setAttribute("hidden", "");
  $("problem").hidden = false;
  $("problem-title").textContent = problemTitle(problem, details);
  $("problem-explain").textContent = words[`error.${problem}`];
  document.title = `${problemTitle(problem, details)} — Sceau`;
}

// A check's message in the reader's words: dates formatted, reasons named, no codes.
function checkMessage(check) {
  const template = words[`check.${check.code}`];
  if (!template) return lang === "fr" ? check.message_fr : check.message_en;
  const details = check.details || {};
  const date = details.revoked_at || details.expired_at || details.anchored_at || details.judged_at;
  return fill(template, { ...details, date: date ? formatDate(date) : "", reason: reasonName(details.reason) });
}

function element(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showReport(report) {
  $("result").hidden = false;
  const verdict = report.verdict;
  const box = $("verdict");
  box.className = `card verdict verdict-${verdict}`;
  $("verdict-word").textContent = words[`verdict.${verdict}`];
  $("verdict-explain").textContent = verdictExplanation(report);
  const facts = [];
  if (report.anchored_at) facts.push(`${words.anchored_on} ${formatDate(report.anchored_at)}`);
  if (report.revoked_at) facts.push(`${words.revoked_on} ${formatDate(report.revoked_at)}`);
  if (report.revocation_reason) facts.push(`${words.reason} : ${reasonName(report.revocation_reason)}`);
  if (report.suspended_at) facts.push(`${words.suspended_since} ${formatDate(report.suspended_at)}`);
  $("verdict-facts").textContent = facts.join(" · ");
  const list = $("checks");
  list.replaceChildren();
  for (const check of report.checks) {
    const message = checkMessage(check);
    const item = element(
      "li", { class: `check check-${check.status}` },
      element("span", { class: "check-status" }, words[`status.${check.status}`]),
      " ",
      element("span", { class: "check-message" }, message),
    );
    if (check.name === "anchoring" && check.details && check.details.transaction) {
      item.append(" ", element("span", { class: "mono" }, check.details.transaction));
    }
    list.append(item);
  }
  box.focus?.();
}

function pdfBlobUrl(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return { bytes, url: URL.createObjectURL(new Blob([bytes], { type: "application/pdf" })) };
}

async function showPdf(bytes, container) {
  try {
    const pdfjs = await import("/vendor/pdfjs/pdf.min.mjs");
    pdfjs.GlobalWorkerOptions.workerSrc = "/vendor/pdfjs/pdf.worker.min.mjs";
    const pdf = await pdfjs.getDocument({ data: bytes.slice(), isEvalSupported: false }).promise;
    container.replaceChildren();
    for (let number = 1; number <= pdf.numPages; number += 1) {
      const page = await pdf.getPage(number);
      const width = Math.min(container.clientWidth || 800, 900);
      const viewport = page.getViewport({ scale: 1 });
      const scale = (width / viewport.width) * (window.devicePixelRatio || 1);
      const scaled = page.getViewport({ scale });
      const canvas = element("canvas", { class: "page", role: "img", "aria-label": `PDF page ${number}` });
      canvas.width = scaled.width;
      canvas.height = scaled.height;
      canvas.style.width = `${width}px`;
      container.append(canvas);
      await page.render({ canvasContext: canvas.getContext("2d"), viewport: scaled }).promise;
    }
  } catch (error) {
    container.textContent = "";  // the download button still works
  }
  // Every page is drawn (or none could be): what follows the pages stops moving.
  container.dataset.shown = "true";
}

// A report refused before the certificate was looked at (the share or its key) says so,
// and gives no verdict about the certificate.
function refusal(report) {
  const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
  if (byName.decryption && byName.decryption.code === "decryption_failed") return ["wrong_link_key", {}];
  const share = byName.share;
  if (share && share.status === "invalid") return [problemOf(share.code), share.details || {}];
  return null;
}

async function sharePage() {
  const key = keyFromFragment();
  if (!key) { showProblem("wrong_link_key"); return; }
  const answer = await postJson(`/api/v1/shares/${body.dataset.share}/open`, { key });
  $("waiting").hidden = true;
  if (!answer.data || !answer.data.report) { showProblem(problemOf(answer.data && answer.data.code)); return; }
  const refused = refusal(answer.data.report);
  if (refused) { showProblem(...refused); return; }
  showReport(answer.data.report);
  if (answer.data.transaction) {
    const facts = $("verdict-facts");
    const tx = answer.data.transaction_url
      ? element("a", { href: answer.data.transaction_url, rel: "noreferrer" }, answer.data.transaction)
      : element("span", { class: "mono" }, answer.data.transaction);
    facts.append(element("br"), `${words.transaction} : `, tx);
  }
  if (answer.data.pdf_base64) {
    const { bytes, url } = pdfBlobUrl(answer.data.pdf_base64);
    $("document").hidden = false;
    $("download").href = url;
    $("download").download = `certificate-${answer.data.report.certificate_id}.pdf`;
    await showPdf(bytes, $("pages"));
  }
}

// The verdict box before an answer, and when no report came back (the problem in words).
function startChecking() {
  $("result").hidden = false;
  $("document").hidden = true;
  $("disclosed").hidden = true;
  $("verdict").className = "card verdict";
  $("verdict-word").textContent = words.checking;
  $("verdict-explain").textContent = "";
  $("verdict-facts").textContent = "";
  $("checks").replaceChildren();
}

function showCheckProblem(problem) {
  $("verdict").className = "card verdict verdict-ERROR";
  $("verdict-word").textContent = words["verdict.ERROR"];
  $("verdict-explain").textContent = words[`error.${problem}`];
  $("checks").replaceChildren();
}

const colon = lang === "fr" ? " : " : ": ";

// A disclosed claim's value for a reader: a day as the pages write it, an object (the skills)
// member by member, each under its own name.
function claimValue(value) {
  if (Array.isArray(value)) return value.map(claimValue).join(", ");
  if (value && typeof value === "object") {
    return Object.entries(value).map(([name, member]) => `${name}${colon}${claimValue(member)}`).join(" · ");
  }
  const text = String(value ?? "");
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? formatDay(`${text}T00:00:00Z`) : text;
}

// Exactly the claims the holder disclosed, under their names in the reader's language.
function showDisclosed(report) {
  const claims = Object.entries(report.disclosed || {});
  const list = $("disclosed-claims");
  list.replaceChildren();
  for (const [name, value] of claims) {
    list.append(element("dt", {}, words[`claim.${name}`] || name), element("dd", {}, claimValue(value)));
  }
  $("disclosed").hidden = false;
  $("disclosed-explain").hidden = claims.length === 0;
  $("disclosed-none").hidden = claims.length > 0;
}

function checkPage() {
  const form = $("drop");
  const input = $("file");
  if (!form || !input) return;
  const send = async (file) => {
    if (!file) return;
    const data = new FormData();
    data.append("file", file);
    startChecking();
    const response = await fetch("/api/v1/verify", { method: "POST", body: data });
    const json = await response.json().catch(() => null);
    if (json && json.verdict) { showReport(json); return; }
    showCheckProblem({ 413: "too_large", 415: "not_pdf", 503: "chain" }[response.status] || "server");
  };
  input.addEventListener("change", () => send(input.files[0]));
  form.addEventListener("dragover", (event) => { event.preventDefault(); form.classList.add("over"); });
  form.addEventListener("dragleave", () => form.classList.remove("over"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("over");
    send(event.dataTransfer.files[0]);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); send(input.files[0]); });
  presentationForm();
}

// A presentation from a wallet: first the nonce and audience its key binding must carry (one
// use, a few minutes), then the presentation pasted, checked like a PDF.
function presentationForm() {
  const form = $("presentation-form");
  if (!form) return;
  $("presentation-request").addEventListener("click", async () => {
    const binding = await fetch("/api/v1/presentations/nonce", { cache: "no-store", credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
    if (!binding) { $("presentation-problem").textContent = words["presentation.request_failed"]; return; }
    $("presentation-problem").textContent = "";
    $("presentation-nonce").value = binding.nonce;
    $("presentation-audience").value = binding.audience;
    $("presentation-expires").dateTime = binding.expires_at;
    $("presentation-expires").textContent = formatDate(binding.expires_at);
    $("presentation-binding").hidden = false;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    startChecking();
    $("result").scrollIntoView?.({ block: "start" });
    const answer = await postJson("/api/v1/presentations", { presentation: $("presentation-text").value.trim() })
      .catch(() => ({ ok: false, status: 0, data: null }));
    if (answer.data && answer.data.verdict) {
      showReport(answer.data);
      showDisclosed(answer.data);
      return;
    }
    showCheckProblem({ 413: "not_presentation", 422: "not_presentation", 503: "chain" }[answer.status] || "server");
  });
}

async function candidatePage() {
  const key = keyFromFragment();
  const id = body.dataset.certificate;
  if (!key) { showProblem("wrong_link_key"); return; }
  const base = `/api/v1/me/${id}`;
  const mine = await postJson(base, { key });
  if (!mine.ok) { showProblem(problemOf(mine.data && mine.data.code)); return; }
  $("mine").hidden = false;
  const { bytes, url } = pdfBlobUrl(mine.data.pdf_base64);
  $("download").href = url;
  $("download").download = `certificate-${id}.pdf`;
  const receipt = new Blob([JSON.stringify(mine.data.receipt, null, 2)], { type: "application/json" });
  $("download-receipt").href = URL.createObjectURL(receipt);
  $("download-receipt").download = `receipt-${id}.json`;
  showPdf(bytes, $("pages"));

  const refresh = async () => {
    const listed = await postJson(`${base}/shares/list`, { key });
    const list = $("shares");
    list.replaceChildren();
    if (!listed.ok || listed.data.length === 0) { list.append(element("li", {}, words.no_shares)); return; }
    for (const share of listed.data) {
      const openings = share.openings.length
        ? share.openings.map((o) => `${formatDate(o.opened_at)} (${o.client})`).join(", ")
        : words.no_opens;
      const item = element(
        "li", { class: "share" },
        element("strong", {}, share.recipient), " — ",
        share.ended_at ? words.ended : `${words.expires} ${formatDate(share.expires_at)}`,
        element("br"), `${words.opens} : ${share.opens}${share.max_opens ? ` / ${share.max_opens}` : ""} — ${openings}`,
      );
      if (!share.ended_at) {
        const end = element("button", { type: "button", class: "secondary" }, words.end_share);
        end.addEventListener("click", async () => {
          await postJson(`${base}/shares/${share.share_id}/end`, { key });
          refresh();
        });
        item.append(" ", end);
      }
      list.append(item);
    }
  };
  await refresh();

  $("share-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const maxOpens = form.max_opens.value ? Number(form.max_opens.value) : null;
    const created = await postJson(`${base}/shares`, {
      key, recipient: form.recipient.value, expires_in_days: Number(form.days.value), max_opens: maxOpens,
    });
    if (!created.ok) return;
    // The form is emptied at once, and the new link shown only with its QR code drawn (a
    // module load): a link shown first could be followed by a reset of what is typed next.
    form.reset();
    const image = await qrImage(created.data.link);
    if (image) $("share-qr").src = image;
    $("share-qr").hidden = !image;
    $("share-link").value = created.data.link;
    $("new-share").hidden = false;
    refresh();
  });
  $("copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("share-link").value); } catch { $("share-link").select(); }
    $("copied").textContent = words.copied;
  });
  $("request-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const sent = await postJson(`${base}/requests`, {
      key, kind: form.kind.value, explanation: form.explanation.value,
    });
    $("request-done").textContent = sent.ok
      ? words.request_sent
      : words[`error.${problemOf(sent.data && sent.data.code)}`];
  });
}

const pages = { share: sharePage, check: checkPage, candidate: candidatePage };
Promise.resolve((pages[body.dataset.page] || (() => {}))()).finally(() => {
  body.dataset.ready = "true";  // every handler is attached
});
