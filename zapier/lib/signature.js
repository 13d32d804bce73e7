'use strict';
// Standard Webhooks signature check (design.md "Delivery semantics"): webhook-signature holds one or more
// space-separated "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>"; the key is the base64-decoded part of
// the subscription secret after "whsec_" (not its ASCII text).
const crypto = require('crypto');

const header = (headers, name) => {
  // Zapier renames raw request headers to "Http-" + Camel-Case (Http-Webhook-Signature); accept plain too.
  const want = [`http-${name}`, name];
  for (const [k, v] of Object.entries(headers || {})) {
    if (want.includes(k.toLowerCase())) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
};

/** true when `raw` (bundle.rawRequest) carries a valid v1 signature of its content for `secret`. */
const verify = (raw, secret) => {
  const id = header(raw.headers, 'webhook-id');
  const timestamp = header(raw.headers, 'webhook-timestamp');
  const signatures = header(raw.headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || typeof raw.content !== 'string') return false;
  const key = Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${raw.content}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',');
    if (version !== 'v1' || !sig) return false;
    const got = Buffer.from(sig, 'base64');
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
};

module.exports = { verify };
