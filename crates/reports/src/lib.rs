//! Citizen field reports: statuses and legal transitions, categories and handling rules, tracking codes.
