//! Integration tests through the HTTP API, against the demo province served in-process.

mod api {
    pub mod auth;
    pub mod input;
    pub mod open311;
    pub mod ops;
    pub mod places;
    pub mod reports;
    pub mod scope;
    pub mod support;
}
