// Signs RPC calls as the official SDKs' V1 signature does (HMAC-SHA1 over the sorted,
// percent-encoded parameters), so that the console is one more client of the signed API.
// WebCrypto signs where the browser offers it (HTTPS, localhost); elsewhere (plain HTTP on
// another host) the small SHA-1 below does.
"use strict";

const Signer = (() => {
  // RFC 3986: what the SDKs encode (encodeURIComponent leaves !'()* alone).
  const percentEncode = (text) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

  const utf8 = (text) => new TextEncoder().encode(text);

  function sha1(bytes) {
    const words = new Uint32Array(80);
    const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
    view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
    const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
    const rotl = (x, n) => (x << n) | (x >>> (32 - n));
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i++) words[i] = view.getUint32(offset + i * 4);
      for (let i = 16; i < 80; i++) words[i] = rotl(words[i - 3] ^ words[i - 8] ^ words[i - 14] ^ words[i - 16], 1);
      let [a, b, c, d, e] = h;
      for (let i = 0; i < 80; i++) {
        const [f, k] = i < 20 ? [(b & c) | (~b & d), 0x5a827999]
          : i < 40 ? [b ^ c ^ d, 0x6ed9eba1]
          : i < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc]
          : [b ^ c ^ d, 0xca62c1d6];
        const t = (rotl(a, 5) + f + e + k + words[i]) >>> 0;
        [e, d, c, b, a] = [d, c, rotl(b, 30) >>> 0, a, t];
      }
      h[0] = (h[0] + a) >>> 0; h[1] = (h[1] + b) >>> 0; h[2] = (h[2] + c) >>> 0;
      h[3] = (h[3] + d) >>> 0; h[4] = (h[4] + e) >>> 0;
    }
    const out = new Uint8Array(20);
    const outView = new DataView(out.buffer);
    h.forEach((word, i) => outView.setUint32(i * 4, word));
    return out;
  }

  function hmacSha1Fallback(key, message) {
    let block = key.length > 64 ? sha1(key) : key;
    const padded = new Uint8Array(64);
    padded.set(block);
    const inner = new Uint8Array(64 + message.length);
    const outer = new Uint8Array(64 + 20);
    for (let i = 0; i < 64; i++) {
      inner[i] = padded[i] ^ 0x36;
      outer[i] = padded[i] ^ 0x5c;
    }
    inner.set(message, 64);
    outer.set(sha1(inner), 64);
    return sha1(outer);
  }

  async function hmacSha1(key, message) {
    if (globalThis.crypto && crypto.subtle) {
      const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
      return new Uint8Array(await crypto.subtle.sign("HMAC", imported, message));
    }
    return hmacSha1Fallback(key, message);
  }

  const base64 = (bytes) => btoa(String.fromCharCode(...bytes));

  function nonce() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The form body of a signed POST: every parameter, the common ones and the Signature.
  async function signedBody(params, accessKeyId, accessKeySecret) {
    const all = {
      Format: "JSON",
      AccessKeyId: accessKeyId,
      SignatureMethod: "HMAC-SHA1",
      SignatureVersion: "1.0",
      SignatureNonce: nonce(),
      Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      ...params,
    };
    const canonical = Object.keys(all).sort()
      .map((name) => percentEncode(name) + "=" + percentEncode(String(all[name])))
      .join("&");
    const stringToSign = "POST&" + percentEncode("/") + "&" + percentEncode(canonical);
    const signature = base64(await hmacSha1(utf8(accessKeySecret + "&"), utf8(stringToSign)));
    return canonical + "&Signature=" + percentEncode(signature);
  }

  return { signedBody, percentEncode, sha1, hmacSha1Fallback };
})();
