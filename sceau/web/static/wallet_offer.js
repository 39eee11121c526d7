// The wallet offer on the candidate's page: the link key is read from the URL fragment and
// posted in a body (never in a URL); the offer is shown as a QR code and a link, the
// transaction code apart from both.
import { qrImage } from "/static/qr.js";

const $ = (id) => document.getElementById(id);

function keyFromFragment() {
  const key = decodeURIComponent(location.hash.slice(1));
  return /^[A-Za-z0-9_-]{43}$/.test(key) ? key : null;
}

async function makeOffer() {
  const key = keyFromFragment();
  const id = document.body.dataset.certificate;
  const section = $("wallet-offer");
  const response = await fetch(`/api/v1/me/${id}/wallet-offer`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key }),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) { $("wallet-offer-problem").textContent = section.dataset.failed; return; }
  const offer = await response.json();
  // Everything is filled in before the offer is shown: the QR code is drawn after a module
  // load, and an offer shown before it would be one without its image.
  const image = await qrImage(offer.offer_uri);
  const qr = $("wallet-offer-qr");
  if (image) qr.src = image; else qr.hidden = true;
  $("wallet-offer-link").href = offer.offer_uri;
  $("wallet-offer-tx").hidden = !offer.tx_code;
  $("wallet-offer-tx-code").textContent = offer.tx_code || "";
  const expires = new Date(offer.expires_at);
  $("wallet-offer-expires").dateTime = offer.expires_at;
  $("wallet-offer-expires").textContent = expires.toLocaleTimeString(document.documentElement.lang);
  $("wallet-offer-problem").textContent = "";
  $("wallet-offer-made").hidden = false;
}

const button = $("wallet-offer-button");
if (button) button.addEventListener("click", makeOffer);
