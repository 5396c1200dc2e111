//! JSON-LD @context handling (ETSI GS CIM 009 V1.8.1 clauses 4.4, 5.5.5, 5.5.6, 5.5.7, annex B).

use std::future::Future;
use std::sync::Arc;

use haidang_ngsi::context::{CORE_CONTEXT_URL, Context, ContextLoader, DEFAULT_VOCAB, MapLoader, is_core_context_url};
use haidang_ngsi::error::{ErrorKind, NgsiError};
use serde_json::{Value, json};

/// The futures of these tests never wait (the loaders answer at once).
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn resolve(value: Value, loader: &MapLoader) -> Result<Arc<Context>, NgsiError> {
    block_on(Context::resolve(&value, loader))
}

const NGSI: &str = "https://uri.etsi.org/ngsi-ld/";

mod annex_b_core_context {
    use super::*;

    #[test]
    fn core_terms_expand_to_their_normative_iris() {
        let core = Context::core();
        let cases = [
            ("id", "@id"),
            ("type", "@type"),
            ("value", "https://uri.etsi.org/ngsi-ld/hasValue"),
            ("object", "https://uri.etsi.org/ngsi-ld/hasObject"),
            ("languageMap", "https://uri.etsi.org/ngsi-ld/hasLanguageMap"),
            ("vocab", "https://uri.etsi.org/ngsi-ld/hasVocab"),
            ("json", "https://uri.etsi.org/ngsi-ld/hasJSON"),
            ("valueList", "https://uri.etsi.org/ngsi-ld/hasValueList"),
            ("objectList", "https://uri.etsi.org/ngsi-ld/hasObjectList"),
            ("objectType", "https://uri.etsi.org/ngsi-ld/hasObjectType"),
            ("observedAt", "https://uri.etsi.org/ngsi-ld/observedAt"),
            ("createdAt", "https://uri.etsi.org/ngsi-ld/createdAt"),
            ("modifiedAt", "https://uri.etsi.org/ngsi-ld/modifiedAt"),
            ("datasetId", "https://uri.etsi.org/ngsi-ld/datasetId"),
            ("unitCode", "https://uri.etsi.org/ngsi-ld/unitCode"),
            ("location", "https://uri.etsi.org/ngsi-ld/location"),
            ("observationSpace", "https://uri.etsi.org/ngsi-ld/observationSpace"),
            ("operationSpace", "https://uri.etsi.org/ngsi-ld/operationSpace"),
            ("scope", "https://uri.etsi.org/ngsi-ld/scope"),
            ("Property", "https://uri.etsi.org/ngsi-ld/Property"),
            ("Relationship", "https://uri.etsi.org/ngsi-ld/Relationship"),
            ("GeoProperty", "https://uri.etsi.org/ngsi-ld/GeoProperty"),
            ("LanguageProperty", "https://uri.etsi.org/ngsi-ld/LanguageProperty"),
            ("VocabProperty", "https://uri.etsi.org/ngsi-ld/VocabProperty"),
            ("JsonProperty", "https://uri.etsi.org/ngsi-ld/JsonProperty"),
            ("ListProperty", "https://uri.etsi.org/ngsi-ld/ListProperty"),
            ("ListRelationship", "https://uri.etsi.org/ngsi-ld/ListRelationship"),
            ("Subscription", "https://uri.etsi.org/ngsi-ld/Subscription"),
            ("notification", "https://uri.etsi.org/ngsi-ld/notification"),
            ("entities", "https://uri.etsi.org/ngsi-ld/entities"),
            ("watchedAttributes", "https://uri.etsi.org/ngsi-ld/watchedAttributes"),
            ("q", "https://uri.etsi.org/ngsi-ld/q"),
            ("geoQ", "https://uri.etsi.org/ngsi-ld/geoQ"),
            ("lang", "https://uri.etsi.org/ngsi-ld/lang"),
            ("description", "http://purl.org/dc/terms/description"),
            ("title", "http://purl.org/dc/terms/title"),
            ("containedBy", "https://uri.etsi.org/ngsi-ld/isContainedBy"),
            ("Point", "https://purl.org/geojson/vocab#Point"),
            ("Polygon", "https://purl.org/geojson/vocab#Polygon"),
            ("MultiPolygon", "https://purl.org/geojson/vocab#MultiPolygon"),
            ("LineString", "https://purl.org/geojson/vocab#LineString"),
            ("Feature", "https://purl.org/geojson/vocab#Feature"),
            ("coordinates", "https://purl.org/geojson/vocab#coordinates"),
            ("attributeCount", "https://uri.etsi.org/ngsi-ld/default-context/attributeCount"),
        ];
        for (term, iri) in cases {
            assert_eq!(core.expand(term), iri, "{term}");
        }
        assert_eq!(core.vocab(), Some(DEFAULT_VOCAB));
    }

    #[test]
    fn term_definitions_carry_type_coercions() {
        let core = Context::core();
        assert_eq!(core.term("object").unwrap().type_mapping.as_deref(), Some("@id"));
        assert_eq!(core.term("vocab").unwrap().type_mapping.as_deref(), Some("@vocab"));
        assert_eq!(core.term("json").unwrap().type_mapping.as_deref(), Some("@json"));
        assert_eq!(
            core.term("observedAt").unwrap().type_mapping.as_deref(),
            Some("https://uri.etsi.org/ngsi-ld/DateTime")
        );
        assert_eq!(core.term("languageMap").unwrap().container, vec!["@language".to_string()]);
    }

    #[test]
    fn every_core_context_version_url_is_the_bundled_one() {
        for url in [
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld",
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
            CORE_CONTEXT_URL,
        ] {
            assert!(is_core_context_url(url), "{url}");
            // The empty loader would fail on any load.
            let ctx = resolve(json!(url), &MapLoader::new()).unwrap();
            assert_eq!(ctx.source(), json!(CORE_CONTEXT_URL));
        }
        assert!(!is_core_context_url("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"));
        assert!(!is_core_context_url("https://example.org/ngsi-ld-core-context.jsonld"));
    }
}

mod clause_5_5_5_default_context {
    use super::*;

    #[test]
    fn undefined_terms_expand_into_the_default_vocabulary_and_compact_back() {
        let core = Context::core();
        assert_eq!(core.expand("temperature"), format!("{DEFAULT_VOCAB}temperature"));
        assert_eq!(core.compact(&format!("{DEFAULT_VOCAB}temperature")), "temperature");
        assert_eq!(core.compact("https://uri.etsi.org/ngsi-ld/location"), "location");
    }

    #[test]
    fn null_context_is_the_core_context() {
        let ctx = resolve(Value::Null, &MapLoader::new()).unwrap();
        assert_eq!(ctx.expand("speed"), format!("{DEFAULT_VOCAB}speed"));
    }
}

mod clause_5_5_7_expansion_and_compaction {
    use super::*;

    fn user() -> Arc<Context> {
        Context::resolve_local(&json!([{
            "ex": "https://example.org/",
            "Vehicle": "ex:Vehicle",
            "speed": {"@id": "https://example.org/speed", "@type": "@id"},
            "brand": "https://example.org/brandName",
            "schema": {"@id": "https://schema.org/", "@prefix": true},
            "Pointy": "geojson:Point"
        }]))
        .unwrap()
    }

    #[test]
    fn terms_compact_iris_and_absolute_iris() {
        let ctx = user();
        assert_eq!(ctx.expand("Vehicle"), "https://example.org/Vehicle");
        assert_eq!(ctx.expand("speed"), "https://example.org/speed");
        assert_eq!(ctx.expand("ex:thing"), "https://example.org/thing");
        assert_eq!(ctx.expand("schema:name"), "https://schema.org/name");
        assert_eq!(ctx.expand("urn:ngsi-ld:Thing:1"), "urn:ngsi-ld:Thing:1");
        assert_eq!(ctx.expand("https://other.org/x"), "https://other.org/x");
        assert_eq!(ctx.expand("unknown"), format!("{DEFAULT_VOCAB}unknown"));
        // A user context may use the core prefixes.
        assert_eq!(ctx.expand("Pointy"), "https://purl.org/geojson/vocab#Point");
    }

    #[test]
    fn compaction_prefers_terms_then_vocab_then_compact_iris() {
        let ctx = user();
        assert_eq!(ctx.compact("https://example.org/Vehicle"), "Vehicle");
        assert_eq!(ctx.compact("https://example.org/brandName"), "brand");
        assert_eq!(ctx.compact("https://example.org/other"), "ex:other");
        assert_eq!(ctx.compact("https://schema.org/name"), "schema:name");
        assert_eq!(ctx.compact(&format!("{DEFAULT_VOCAB}foo")), "foo");
        assert_eq!(ctx.compact("https://nowhere.example/x#y"), "https://nowhere.example/x#y");
        assert_eq!(ctx.compact("@id"), "id");
    }

    #[test]
    fn an_unmatched_iri_compacts_to_itself_under_the_core_context() {
        let core = Context::core();
        assert_eq!(
            core.compact("https://ngsi-ld-test-suite/context#Vehicle"),
            "https://ngsi-ld-test-suite/context#Vehicle"
        );
    }

    #[test]
    fn later_definitions_win_in_arrays() {
        let ctx = Context::resolve_local(&json!([
            {"speed": "https://a.example/speed"},
            {"speed": "https://b.example/speed"}
        ]))
        .unwrap();
        assert_eq!(ctx.expand("speed"), "https://b.example/speed");
    }

    #[test]
    fn a_null_context_resets_user_terms() {
        let ctx = Context::resolve_local(&json!([{"speed": "https://a.example/speed"}, null])).unwrap();
        assert_eq!(ctx.expand("speed"), format!("{DEFAULT_VOCAB}speed"));
    }

    #[test]
    fn terms_may_reference_each_other_in_any_order() {
        let ctx = Context::resolve_local(&json!({"Car": "ex:Car", "ex": "https://example.org/"})).unwrap();
        assert_eq!(ctx.expand("Car"), "https://example.org/Car");
    }

    #[test]
    fn version_and_protected_are_accepted() {
        let ctx =
            Context::resolve_local(&json!({"@version": 1.1, "@protected": true, "speed": "https://a.example/speed"}))
                .unwrap();
        assert_eq!(ctx.expand("speed"), "https://a.example/speed");
    }

    #[test]
    fn the_core_context_is_applied_last_and_cannot_be_overridden() {
        // Clause 4.4 / 5.5.7: the core context is protected and processed last.
        let ctx = Context::resolve_local(&json!({
            "Property": "https://evil.example/Property",
            "location": "https://evil.example/location",
            "value": "https://evil.example/value"
        }))
        .unwrap();
        assert_eq!(ctx.expand("Property"), format!("{NGSI}Property"));
        assert_eq!(ctx.expand("location"), format!("{NGSI}location"));
        assert_eq!(ctx.expand("value"), format!("{NGSI}hasValue"));
    }

    #[test]
    fn scoped_contexts_are_bad_request_data() {
        let err = Context::resolve_local(&json!({"Vehicle": {"@id": "https://e.org/V", "@context": {"a": "b:c"}}}))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequestData);
    }

    #[test]
    fn malformed_contexts_are_invalid_requests() {
        for bad in [
            json!(42),
            json!({"speed": 42}),
            json!({"@version": 1.0}),
            json!({"@vocab": 3}),
            json!({"speed": {"@id": 5}}),
            json!([[{"a": "b:c"}]]),
            json!("not a url"),
            json!({"a": "b", "b": "a"}),
        ] {
            let err = Context::resolve_local(&bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn source_echoes_the_client_context_followed_by_the_core_context() {
        let ctx = Context::resolve_local(&json!([{"a": "https://a.example/a"}])).unwrap();
        assert_eq!(ctx.source(), json!([{"a": "https://a.example/a"}, CORE_CONTEXT_URL]));
        let loader =
            MapLoader::new().with("https://ctx.example/c.jsonld", json!({"@context": {"a": "https://a.example/a"}}));
        let ctx = resolve(
            json!(["https://ctx.example/c.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld"]),
            &loader,
        )
        .unwrap();
        assert_eq!(ctx.source(), json!(["https://ctx.example/c.jsonld", CORE_CONTEXT_URL]));
        assert_eq!(ctx.link_url(), Some("https://ctx.example/c.jsonld"));
    }
}

mod clause_5_5_7_remote_contexts {
    use super::*;

    #[test]
    fn remote_contexts_are_loaded_and_nested() {
        let loader = MapLoader::new()
            .with(
                "https://ctx.example/compound.jsonld",
                json!({"@context": ["https://ctx.example/terms.jsonld", CORE_CONTEXT_URL]}),
            )
            .with(
                "https://ctx.example/terms.jsonld",
                json!({"@context": {"Vehicle": "https://ngsi-ld-test-suite/context#Vehicle"}}),
            );
        let ctx = resolve(json!("https://ctx.example/compound.jsonld"), &loader).unwrap();
        assert_eq!(ctx.expand("Vehicle"), "https://ngsi-ld-test-suite/context#Vehicle");
        assert_eq!(ctx.compact("https://ngsi-ld-test-suite/context#Vehicle"), "Vehicle");
    }

    #[test]
    fn an_unavailable_context_is_ld_context_not_available() {
        let err = resolve(json!("https://unreachable.example/c.jsonld"), &MapLoader::new()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::LdContextNotAvailable);
        assert_eq!(err.kind.status(), 503);
    }

    #[test]
    fn recursion_and_depth_are_limited() {
        let loader = MapLoader::new()
            .with("https://c.example/a", json!({"@context": "https://c.example/b"}))
            .with("https://c.example/b", json!({"@context": "https://c.example/a"}));
        assert_eq!(resolve(json!("https://c.example/a"), &loader).unwrap_err().kind, ErrorKind::InvalidRequest);

        let mut loader = MapLoader::new();
        for i in 0..20 {
            loader = loader
                .with(format!("https://c.example/{i}"), json!({"@context": format!("https://c.example/{}", i + 1)}));
        }
        assert_eq!(resolve(json!("https://c.example/0"), &loader).unwrap_err().kind, ErrorKind::InvalidRequest);
    }

    #[test]
    fn a_document_without_context_is_an_invalid_request() {
        let loader = MapLoader::new().with("https://c.example/x", json!({"foo": 1}));
        assert_eq!(resolve(json!("https://c.example/x"), &loader).unwrap_err().kind, ErrorKind::InvalidRequest);
    }

    /// A loader that counts its calls (to show core URLs never reach it).
    struct Counting(std::sync::atomic::AtomicUsize);

    impl ContextLoader for Counting {
        fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>, NgsiError>> + Send {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let url = url.to_string();
            async move { Err(NgsiError::new(ErrorKind::LdContextNotAvailable, url)) }
        }
    }

    #[test]
    fn core_urls_never_reach_the_loader() {
        let loader = Counting(Default::default());
        let ctx = block_on(Context::resolve(
            &json!([{"a": "https://a.example/a"}, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld"]),
            &loader,
        ))
        .unwrap();
        assert_eq!(ctx.expand("a"), "https://a.example/a");
        assert_eq!(loader.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
