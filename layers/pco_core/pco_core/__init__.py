"""PCO Sync's domain logic: PCO client, record store, pull/push sync, runs and webhooks."""
