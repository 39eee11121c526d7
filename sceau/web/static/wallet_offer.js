// The wallet offer on the candidate's page: the link key is read from the URL fragment and
// posted in a body (never in a URL); the offer is shown as a QR code and a link, the
// transaction code apart from both.
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
  $("wallet-offer-made").hidden = false;
  $("wallet-offer-link").href = offer.offer_uri;
  if (offer.tx_code) {
    $("wallet-offer-tx").hidden = false;
    $("wallet-offer-tx-code").textContent = offer.tx_code;
  }
  const expires = new Date(offer.expires_at);
  $("wallet-offer-expires").dateTime = offer.expires_at;
  $("wallet-offer-expires").textContent = expires.toLocaleTimeString(document.documentElement.lang);
  try {
    const qrcode = (await import("/vendor/qrcode/qrcode.mjs")).default;
    const qr = qrcode(0, "M");
    qr.addData(offer.offer_uri);
    qr.make();
    $("wallet-offer-qr").src = qr.createDataURL(4, 2);
  } catch { $("wallet-offer-qr").hidden = true; }
}

const button = $("wallet-offer-button");
if (button) button.addEventListener("click", makeOffer);
