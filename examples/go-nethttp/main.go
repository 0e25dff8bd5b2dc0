// A minimal Herald webhook receiver: net/http and the Standard Webhooks library.
//
//	HERALD_WEBHOOK_SECRET=whsec_... PORT=3000 go run .
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	secret := os.Getenv("HERALD_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("Set HERALD_WEBHOOK_SECRET to the webhook signing secret.")
	}
	// A generated secret is `whsec_` + base64 key bytes; a key you chose yourself is used as its UTF-8 bytes.
	var wh *standardwebhooks.Webhook
	var err error
	if strings.HasPrefix(secret, "whsec_") {
		wh, err = standardwebhooks.NewWebhook(secret)
	} else {
		wh, err = standardwebhooks.NewWebhookRaw([]byte(secret))
	}
	if err != nil {
		log.Fatal(err)
	}

	http.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		// Verify the exact bytes Herald signed: the raw body, before any JSON decoding.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		// Checks webhook-id, webhook-timestamp (5 minutes tolerance) and webhook-signature, in constant time.
		if err := wh.Verify(body, r.Header); err != nil {
			log.Printf("rejected: %v", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var event struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		// Answer at once, work afterwards: anything but a 2xx within 15 s is retried.
		w.WriteHeader(http.StatusNoContent)
		// At least once: the same webhook-id can arrive again. Skip ids you have already handled.
		fmt.Printf("%s %s (webhook-id %s)\n", event.Type, event.ID, r.Header.Get("webhook-id"))
	})

	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	addr := "127.0.0.1:" + port
	log.Printf("listening on http://%s/webhook", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
