// A minimal Herald webhook receiver: the JDK's HTTP server and the Standard Webhooks library.
//   mvn -q package && HERALD_WEBHOOK_SECRET=whsec_... PORT=3000 java -jar target/herald-receiver.jar
package herald.example;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public final class Receiver {
  public static void main(String[] args) throws Exception {
    String secret = System.getenv("HERALD_WEBHOOK_SECRET");
    if (secret == null || secret.isEmpty()) {
      throw new IllegalStateException("Set HERALD_WEBHOOK_SECRET to the webhook signing secret.");
    }
    // A generated secret is `whsec_` + base64 key bytes; a key you chose yourself is used as its UTF-8 bytes.
    Webhook webhook = secret.startsWith("whsec_")
        ? new Webhook(secret)
        : new Webhook(secret.getBytes(StandardCharsets.UTF_8));

    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "3000"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/webhook", exchange -> {
      try {
        receive(webhook, exchange);
      } finally {
        exchange.close();
      }
    });
    server.start();
    System.out.printf("listening on http://127.0.0.1:%d/webhook%n", port);
  }

  private static void receive(Webhook webhook, HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("POST")) {
      exchange.sendResponseHeaders(405, -1);
      return;
    }
    // Verify the exact bytes Herald signed: the raw body, before any JSON parsing.
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    try {
      // Checks webhook-id, webhook-timestamp (5 minutes tolerance) and webhook-signature, in constant time.
      webhook.verify(body, exchange.getRequestHeaders());
    } catch (WebhookVerificationException e) {
      System.err.println("rejected: " + e.getMessage());
      exchange.sendResponseHeaders(401, -1);
      return;
    }
    JsonObject event = JsonParser.parseString(body).getAsJsonObject();
    // Answer at once, work afterwards: anything but a 2xx within 15 s is retried.
    exchange.sendResponseHeaders(204, -1);
    // At least once: the same webhook-id can arrive again. Skip ids you have already handled.
    System.out.printf("%s %s (webhook-id %s)%n", event.get("type").getAsString(),
        event.get("id").getAsString(), exchange.getRequestHeaders().getFirst("webhook-id"));
  }
}
