// A receiver for a webhook created with "signature": "hmac-sha256": one header,
// `signature: sha256=<hex HMAC-SHA256 of the body>`. No Standard Webhooks library covers this
// scheme, so it uses Node's crypto, with a constant-time compare.
//   HERALD_WEBHOOK_SECRET=... PORT=3000 node hmac-sha256.js
const crypto = require('node:crypto');
const express = require('express');

const secret = process.env.HERALD_WEBHOOK_SECRET;
if (!secret) throw new Error('Set HERALD_WEBHOOK_SECRET to the webhook signing secret.');
// The same key bytes as for Standard Webhooks: `whsec_` + base64, or your own key as UTF-8.
const key = secret.startsWith('whsec_')
  ? Buffer.from(secret.slice('whsec_'.length), 'base64')
  : Buffer.from(secret, 'utf8');

function validSignature(body, header) {
  const expected = Buffer.from(`sha256=${crypto.createHmac('sha256', key).update(body).digest('hex')}`);
  // Several space-separated signatures while a rotated-out secret still signs: any one may match.
  return String(header ?? '')
    .split(' ')
    .map((s) => Buffer.from(s))
    .some((given) => given.length === expected.length && crypto.timingSafeEqual(given, expected));
}

const app = express();

app.post('/webhook', express.raw({ type: '*/*', limit: '1mb' }), (req, res) => {
  const body = req.body ?? Buffer.alloc(0);
  if (!validSignature(body, req.headers.signature)) {
    console.error('rejected: no matching signature');
    return res.status(401).send('invalid signature');
  }
  res.status(204).end();
  const event = JSON.parse(body.toString('utf8'));
  console.log(`${event.type} ${event.id} (webhook-id ${req.headers['webhook-id']})`);
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/webhook`));
