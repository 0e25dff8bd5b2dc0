require "base64"
require "openssl"

# Receives Herald's webhooks and verifies their Standard Webhooks signature.
# ActionController::API has no CSRF check, so Herald's POST reaches it.
class HeraldWebhooksController < ApplicationController
  # How far webhook-timestamp may be from this server's clock, in either direction.
  TOLERANCE = 5.minutes

  def create
    # Verify the exact bytes Herald signed: request.raw_post, never params.
    body = request.raw_post
    problem = verification_problem(body)
    if problem
      logger.warn("rejected: #{problem}")
      return render plain: "invalid signature", status: :unauthorized
    end
    event = JSON.parse(body)
    # At least once: the same webhook-id can arrive again. Skip ids you have already handled,
    # and answer at once (enqueue a job for the work): anything but a 2xx within 15 s is retried.
    logger.info("#{event["type"]} #{event["id"]} (webhook-id #{request.headers["webhook-id"]})")
    head :no_content
  end

  private

  # Standard Webhooks verification: nil when Herald signed this request, otherwise why not.
  def verification_problem(body)
    id, timestamp, signatures = %w[webhook-id webhook-timestamp webhook-signature].map { |name| request.headers[name] }
    if [id, timestamp, signatures].any?(&:blank?)
      return "a webhook-id, webhook-timestamp or webhook-signature header is missing"
    end
    unless timestamp.match?(/\A\d+\z/) && (Time.now.to_i - timestamp.to_i).abs <= TOLERANCE
      return "the timestamp is too old or too new"
    end

    expected = Base64.strict_encode64(OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{timestamp}.#{body}"))
    # Two signatures, space-separated, while a rotated-out secret still signs: any v1 one may match.
    # secure_compare compares in constant time.
    matched = signatures.split(" ").any? do |signature|
      signature.start_with?("v1,") && ActiveSupport::SecurityUtils.secure_compare(signature.delete_prefix("v1,"), expected)
    end
    matched ? nil : "no matching signature"
  end

  # The HMAC key bytes of the webhook's secret.
  def key
    secret = ENV.fetch("HERALD_WEBHOOK_SECRET") { raise "Set HERALD_WEBHOOK_SECRET to the webhook signing secret." }
    # A generated secret is `whsec_` + base64 key bytes; a key you chose yourself is used as its UTF-8 bytes.
    secret.start_with?("whsec_") ? Base64.strict_decode64(secret.delete_prefix("whsec_")) : secret
  end
end
