// A QR code as a data: URL, drawn by the vendored encoder (served by Sceau itself); null when
// the encoder cannot be loaded: the link beside it still works without its image.
export async function qrImage(text) {
  try {
    const qrcode = (await import("/vendor/qrcode/qrcode.mjs")).default;
    const qr = qrcode(0, "M");
    qr.addData(text);
    qr.make();
    return qr.createDataURL(4, 2);
  } catch {
    return null;
  }
}
