// A minimal Herald webhook receiver: Express and the Standard Webhooks library.
//   HERALD_WEBHOOK_SECRET=whsec_... PORT=3000 node server.js
const express = require('express');
const { Webhook } = require('standardwebhooks');

const secret = process.env.HERALD_WEBHOOK_SECRET;
if (!secret) throw new Error('Set HERALD_WEBHOOK_SECRET to the webhook signing secret.');
// A generated secret is `whsec_` + base64 key bytes; a key you chose yourself is used as its UTF-8 bytes.
const webhook = secret.startsWith('whsec_')
  ? new Webhook(secret)
  : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });

const app = express();

// Verify the exact bytes Herald signed: take the raw body, never re-serialised JSON.
app.post('/webhook', express.raw({ type: '*/*', limit: '1mb' }), (req, res) => {
  receive(req.body ?? '', req.headers, res);
});

// A GET webhook carries the same envelope as the base64url `payload` query parameter.
app.get('/webhook', (req, res) => {
  receive(Buffer.from(String(req.query.payload ?? ''), 'base64url'), req.headers, res);
});

function receive(body, headers, res) {
  let event;
  try {
    // Checks webhook-id, webhook-timestamp (5 minutes tolerance) and webhook-signature, in constant time.
    event = webhook.verify(body, headers);
  } catch (err) {
    console.error(`rejected: ${err.message}`);
    return res.status(401).send('invalid signature');
  }
  // Answer at once, work afterwards: anything but a 2xx within 15 s is retried.
  res.status(204).end();
  // At least once: the same webhook-id can arrive again. Skip ids you have already handled.
  console.log(`${event.type} ${event.id} (webhook-id ${headers['webhook-id']})`);
}

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/webhook`));
