-- NGSI-LD subscriptions: what a subscriber may be notified of, and the outbox in order per
-- subscription.

-- The subscriber's reach when it subscribed: JSON {"units": [org unit ids] | null,
-- "types": [expanded entity types] | null}; null members (or a NULL column) mean no limit.
-- Notifications carry only entities the subscriber could read.
ALTER TABLE ctx_subscriptions ADD COLUMN visibility TEXT;

-- A subscription's pending notifications, oldest first; their next attempt only grows with pk
-- (a new one waits behind older ones that are backing off).
CREATE INDEX ctx_notifications_subscription ON ctx_notifications(subscription, next_attempt);
