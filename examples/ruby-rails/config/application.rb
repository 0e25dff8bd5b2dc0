require_relative "boot"

require "rails"
# Only what an API that receives webhooks needs: no database, mailer, views or assets.
require "action_controller/railtie"

Bundler.require(*Rails.groups)

module HeraldReceiver
  class Application < Rails::Application
    config.load_defaults 6.1
    config.api_only = true
    config.eager_load = Rails.env.production?
    # Log to standard output, as `bin/rails server` does in development, in every environment.
    $stdout.sync = true
    config.logger = ActiveSupport::Logger.new($stdout)
    config.log_level = :info
  end
end
