"""PCO webhooks: verified deliveries received and queued (receive), then merged into the records (apply)."""
