//! NGSI-LD conformance tests through the HTTP API, one module per clause group of ETSI GS CIM
//! 009 V1.8.1 (see docs/ngsi-ld-conformance.md for what is covered and what is not yet).

#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

mod ngsi {
    pub mod common;
    pub mod s6_14_batch;
    pub mod s6_18_temporal;
    pub mod s6_25_discovery;
    pub mod s6_4_entities;
    pub mod scope;
}
