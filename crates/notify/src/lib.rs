//! Notification channels (e-mail now; SMS, Zalo OA and webhooks later) with retry policy.
