"""A minimal Herald webhook receiver: Flask and the Standard Webhooks library.

    HERALD_WEBHOOK_SECRET=whsec_... PORT=3000 python app.py
"""

import os

from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

secret = os.environ["HERALD_WEBHOOK_SECRET"]
# A generated secret is `whsec_` + base64 key bytes; a key you chose yourself is used as its UTF-8 bytes.
webhook = Webhook(secret if secret.startswith("whsec_") else secret.encode("utf-8"))

app = Flask(__name__)


@app.post("/webhook")
def receive():
    try:
        # Verify the exact bytes Herald signed: the raw body, before any JSON parsing. Checks
        # webhook-id, webhook-timestamp (5 minutes tolerance) and webhook-signature, in constant time.
        event = webhook.verify(request.get_data(), dict(request.headers))
    except (WebhookVerificationError, ValueError) as err:  # ValueError: a malformed header
        print(f"rejected: {err}", flush=True)
        return "invalid signature", 401
    # At least once: the same webhook-id can arrive again. Skip ids you have already handled,
    # and answer at once: anything but a 2xx within 15 s is retried.
    print(f"{event['type']} {event['id']} (webhook-id {request.headers['webhook-id']})", flush=True)
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "3000")))
