Rails.application.routes.draw do
  post "/webhook", to: "herald_webhooks#create"
end
