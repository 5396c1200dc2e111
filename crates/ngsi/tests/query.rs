//! The `q` language: every operator, path form, value type and error, on entities built
//! directly (no context processing: names are expanded by a stand-in expander).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::query::{CmpOp, Expr, Operand, ParseOptions, Query, Root, Test, Value as QValue};
use haidang_ngsi::{AttrKind, Attribute, Entity, NgsiError};
use serde_json::{Value, json};

const NS: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// Stand-in for `Context::expand`: every term into the default vocabulary.
fn ex(term: &str) -> String {
    format!("{NS}{term}")
}

fn parse(text: &str) -> Result<Query, NgsiError> {
    Query::parse_with(text, &ex, &ParseOptions::default())
}

fn q(text: &str) -> Query {
    parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn err(text: &str) -> NgsiError {
    match parse(text) {
        Ok(query) => panic!("{text:?} should not parse, got {query:?}"),
        Err(e) => e,
    }
}

fn bad(text: &str) -> String {
    let e = err(text);
    assert_eq!(e.kind, ErrorKind::BadRequestData, "{text:?}: {e}");
    assert_eq!(e.kind.status(), 400);
    e.detail
}

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn attr(kind: AttrKind, value: Value) -> Attribute {
    Attribute {
        kind,
        value,
        dataset_id: None,
        observed_at: None,
        unit_code: None,
        object_type: None,
        sub_attrs: BTreeMap::new(),
        created_at: None,
        modified_at: None,
        ..Default::default()
    }
}

fn prop(value: Value) -> Attribute {
    attr(AttrKind::Property, value)
}

fn rel(object: &str) -> Attribute {
    attr(AttrKind::Relationship, json!(object))
}

fn entity(id: &str, ty: &str, attrs: Vec<(&str, Attribute)>) -> Entity {
    let mut map: BTreeMap<String, Vec<Attribute>> = BTreeMap::new();
    for (name, a) in attrs {
        map.entry(ex(name)).or_default().push(a);
    }
    Entity {
        id: id.to_string(),
        types: vec![ex(ty)],
        scope: Vec::new(),
        attrs: map,
        created_at: Some(time("2024-03-01T10:00:00Z")),
        modified_at: Some(time("2024-03-05T10:00:00Z")),
    }
}

fn count(text: &str, entities: &[Entity]) -> usize {
    let query = q(text);
    entities.iter().filter(|e| query.matches(e)).count()
}

/// The three buildings of the ETSI test suite's `building-simple-attributes*.jsonld`.
fn buildings() -> Vec<Entity> {
    let level =
        |v: i64, at: &str| Attribute { unit_code: Some("C62".into()), observed_at: Some(time(at)), ..prop(json!(v)) };
    vec![
        entity(
            "urn:ngsi-ld:Building:1",
            "Building",
            vec![
                ("name", prop(json!("Eiffel Tower"))),
                ("subCategory", prop(json!("tourism"))),
                ("airQualityLevel", level(4, "2020-09-09T16:40:00.000Z")),
                ("almostFull", prop(json!(false))),
            ],
        ),
        entity(
            "urn:ngsi-ld:Building:2",
            "Building",
            vec![
                ("name", prop(json!("Pisa Tower"))),
                ("subCategory", prop(json!("tourism"))),
                ("airQualityLevel", level(6, "2020-10-10T16:40:00.000Z")),
                ("almostFull", prop(json!(true))),
            ],
        ),
        entity(
            "urn:ngsi-ld:Building:3",
            "Building",
            vec![
                ("name", prop(json!("Pisa Tower"))),
                ("subCategory", prop(json!("sightseeing"))),
                ("airQualityLevel", level(7, "2023-10-10T16:40:00.000Z")),
                ("almostFull", prop(json!(false))),
                ("locatedIn", rel("urn:ngsi-ld:City:Pisa")),
            ],
        ),
    ]
}

#[test]
fn etsi_019_09_queries_on_q() {
    let b = buildings();
    assert_eq!(count(r#"name=="Eiffel Tower""#, &b), 1);
    assert_eq!(count(r#"name=="Pisa Tower";almostFull==false"#, &b), 1);
    assert_eq!(count(r#"name=="Pisa Tower"|almostFull==false"#, &b), 3);
    assert_eq!(count(r#"(name=="Pisa Tower"|name=="Eiffel Tower");almostFull==false"#, &b), 2);
    assert_eq!(count("airQualityLevel==4", &b), 1);
    assert_eq!(count("airQualityLevel>=4;airQualityLevel<7", &b), 2);
    assert_eq!(count("locatedIn==urn:ngsi-ld:City:Pisa", &b), 1);
    assert_eq!(count("locatedIn==urn:ngsi-ld:City:Paris", &b), 0);
    assert_eq!(count("locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris", &b), 1);
}

#[test]
fn etsi_019_28_lists_ranges_and_not_pattern() {
    let b = &buildings()[..2];
    assert_eq!(count("airQualityLevel==4..5", b), 1);
    assert_eq!(count("airQualityLevel!=4..5", b), 1);
    assert_eq!(count(r#"name=="Eiffel Tower","Pisa Tower""#, b), 2);
    assert_eq!(count(r#"name!="Eiffel Tower","Big Ben""#, b), 1);
    assert_eq!(count(r#"name!~="^Eiffel""#, b), 1);
    let detail = bad("airQualityLevel>4..5");
    assert!(detail.contains("position 18") && detail.contains("range"), "{detail}");
}

#[test]
fn and_binds_tighter_than_or() {
    let b = buildings();
    // a|b;c is a|(b;c): Eiffel, plus the Pisa tower that is not almost full
    assert_eq!(count(r#"name=="Eiffel Tower"|name=="Pisa Tower";almostFull==false"#, &b), 2);
    assert_eq!(count(r#"(name=="Eiffel Tower"|name=="Pisa Tower");almostFull==false"#, &b), 2);
    assert_eq!(count(r#"almostFull==true;name=="Pisa Tower"|airQualityLevel==4"#, &b), 2);
    assert_eq!(count(r#"almostFull==true;(name=="Pisa Tower"|airQualityLevel==4)"#, &b), 1);
    let Expr::Or(items) = q("a|b;c").expr().clone() else { panic!("or at the top") };
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[1], Expr::And(v) if v.len() == 2));
}

#[test]
fn comparisons_on_numbers() {
    let b = buildings();
    assert_eq!(count("airQualityLevel==4", &b), 1);
    assert_eq!(count("airQualityLevel==4.0", &b), 1);
    assert_eq!(count("airQualityLevel!=4", &b), 2);
    assert_eq!(count("airQualityLevel>6", &b), 1);
    assert_eq!(count("airQualityLevel>=6", &b), 2);
    assert_eq!(count("airQualityLevel<6", &b), 1);
    assert_eq!(count("airQualityLevel<=6", &b), 2);
    assert_eq!(count("airQualityLevel>-1e3", &b), 3);
    assert_eq!(count("airQualityLevel==4,7", &b), 2);
    assert_eq!(count("airQualityLevel!=4,7", &b), 1);
    assert_eq!(count("airQualityLevel==7..5", &b), 2, "a range is between its minimum and maximum");
    // a number never equals a string, and != on an attribute of another type is true
    assert_eq!(count(r#"airQualityLevel=="4""#, &b), 0);
    assert_eq!(count(r#"airQualityLevel!="4""#, &b), 3);
    assert_eq!(count(r#"airQualityLevel>"4""#, &b), 0);
}

#[test]
fn comparisons_on_strings_and_booleans() {
    let b = buildings();
    assert_eq!(count(r#"name>"F""#, &b), 2, "strings order by code point");
    assert_eq!(count(r#"name<"F""#, &b), 1);
    assert_eq!(count(r#"name=="A".."F""#, &b), 1);
    assert_eq!(count("almostFull==true", &b), 1);
    assert_eq!(count("almostFull!=true", &b), 2);
    assert_eq!(count(r#"almostFull=="true""#, &b), 0, "a quoted string is not a boolean");
    assert_eq!(count("subCategory==tourism", &b), 2, "an unquoted term compares like a string");
}

#[test]
fn missing_attribute_matches_no_comparison() {
    let b = buildings();
    for text in ["missing==1", "missing!=1", "missing>1", r#"missing~=".*""#, r#"missing!~="x""#] {
        assert_eq!(count(text, &b), 0, "{text}");
    }
    assert_eq!(count("missing", &b), 0);
    assert_eq!(count("!missing", &b), 3);
    assert_eq!(count("locatedIn", &b), 1);
    assert_eq!(count("!locatedIn", &b), 2);
    assert_eq!(count("! locatedIn", &b), 2);
}

#[test]
fn patterns() {
    let b = buildings();
    assert_eq!(count(r#"name~="Tower$""#, &b), 3);
    assert_eq!(count(r#"name~="^Pisa""#, &b), 2);
    assert_eq!(count(r#"name~="(?i)^eiffel""#, &b), 1);
    assert_eq!(count("name~=(?i)^eiffel", &b), 1, "unquoted patterns run to the end of the term");
    assert!(bad("name~=^(Pisa|Eiffel) Tower$").contains("position 22"), "an unquoted pattern ends at a space");
    assert_eq!(count("name~=^(Pisa|Eiffel)", &b), 3, "| inside the pattern's parentheses is alternation");
    assert_eq!(count(r#"name~="\d""#, &b), 0, "backslashes other than \\\" and \\\\ are kept");
    assert_eq!(count(r#"subCategory!~="^tour""#, &b), 1);
    assert_eq!(count(r#"airQualityLevel~=".*""#, &b), 0, "patterns only match strings");
    assert_eq!(count(r#"airQualityLevel!~=".*""#, &b), 3);
    let query = q(r#"name~="a\"b\\.""#);
    let Expr::Term(term) = query.expr() else { panic!() };
    let Test::Pattern { pattern, negated: false } = &term.test else { panic!() };
    assert_eq!(pattern.source(), r#"a"b\."#);
}

#[test]
fn relationships_compare_object_with_equality_only() {
    let e = entity(
        "urn:ngsi-ld:Building:x",
        "Building",
        vec![
            ("managedBy", rel("urn:ngsi-ld:Building:target")),
            ("owners", attr(AttrKind::Relationship, json!(["urn:a", "urn:b"]))),
        ],
    );
    let one = [e];
    assert_eq!(count("managedBy==urn:ngsi-ld:Building:target", &one), 1);
    assert_eq!(count(r#"managedBy=="urn:ngsi-ld:Building:target""#, &one), 1);
    assert_eq!(count("managedBy!=urn:ngsi-ld:Building:other", &one), 1);
    assert_eq!(count("managedBy!=urn:ngsi-ld:Building:target", &one), 0);
    // 019_29_11: any other operator never matches a Relationship
    assert_eq!(count(r#"managedBy>"urn:a""#, &one), 0);
    assert_eq!(count(r#"managedBy~="urn""#, &one), 0);
    assert_eq!(count(r#"managedBy!~="zzz""#, &one), 0);
    assert_eq!(count("owners==urn:b", &one), 1, "an array of objects matches on any element");
    assert_eq!(count("owners!=urn:b", &one), 0);
    assert_eq!(count("owners==urn:c,urn:a", &one), 1);
    let list = attr(AttrKind::ListRelationship, json!([{"object": "urn:x"}, {"object": "urn:y"}]));
    assert_eq!(count("items==urn:y", &[entity("urn:e", "T", vec![("items", list)])]), 1);
}

#[test]
fn arrays_match_on_any_element() {
    let e =
        entity("urn:e", "T", vec![("tags", prop(json!(["red", "green", ["blue"]]))), ("n", prop(json!([1, 5, 9])))]);
    let one = [e];
    assert_eq!(count(r#"tags=="green""#, &one), 1);
    assert_eq!(count(r#"tags=="blue""#, &one), 1, "nested arrays are looked into");
    assert_eq!(count(r#"tags!="green""#, &one), 0, "!= holds only when no element is equal");
    assert_eq!(count(r#"tags!="black""#, &one), 1);
    assert_eq!(count("n>8", &one), 1);
    assert_eq!(count("n<0", &one), 0);
    assert_eq!(count("n==2..4", &one), 0);
    assert_eq!(count("n==2..5", &one), 1);
    assert_eq!(count("n!=2..4", &one), 1);
    assert_eq!(count("n!=1..9", &one), 0);
    let empty = [entity("urn:e", "T", vec![("tags", prop(json!([])))])];
    assert_eq!(count("tags", &empty), 1, "an empty array still exists");
    assert_eq!(count(r#"tags=="x""#, &empty), 0);
}

#[test]
fn language_properties() {
    // 019_29_04..07 (building-query-language-features.jsonld)
    let color = attr(AttrKind::LanguageProperty, json!({"fr": "rouge", "en": "red", "de": "rot"}));
    let one = [entity("urn:e", "Building", vec![("color", color)])];
    assert_eq!(count(r#"color[en]=="red""#, &one), 1);
    assert_eq!(count(r#"color[en]=="rouge""#, &one), 0);
    assert_eq!(count(r#"color[*]=="rouge""#, &one), 1);
    assert_eq!(count(r#"color[*]!="red""#, &one), 0);
    assert_eq!(count(r#"color=="rot""#, &one), 1, "without a language, any language value");
    assert_eq!(count(r#"color!="blue""#, &one), 1);
    assert_eq!(count(r#"color[EN]=="red""#, &one), 1, "language tags compare case-insensitively");
    assert_eq!(count(r#"color[it]=="rosso""#, &one), 0);
    assert_eq!(count("color[en]", &one), 1);
    assert_eq!(count("color[it]", &one), 0);
    assert_eq!(count(r#"color[fr]~="^rou""#, &one), 1);
}

#[test]
fn compound_values() {
    // 019_29_01..03
    let address = prop(
        json!({"city": "Berlin", "street": "Ulrich Strasse", "geo": {"zip": 10115}, "phones": [{"n": "1"}, {"n": "2"}]}),
    );
    let one = [entity("urn:e", "Building", vec![("address", address)])];
    assert_eq!(count(r#"address[city]=="Berlin""#, &one), 1);
    assert_eq!(count(r#"address[postcode]=="Berlin""#, &one), 0);
    assert_eq!(count("address[city]", &one), 1);
    assert_eq!(count("address[postcode]", &one), 0);
    assert_eq!(count("!address[postcode]", &one), 1);
    assert_eq!(count("address[geo.zip]==10115", &one), 1);
    assert_eq!(count("address[geo][zip]>10000", &one), 1, "[a][b] is the same as [a.b]");
    assert_eq!(count(r#"address[phones.n]=="2""#, &one), 1, "arrays of objects on the way are looked into");
    assert_eq!(count(r#"address=="Berlin""#, &one), 0, "an object equals no literal");
    assert_eq!(count("address", &one), 1);
}

#[test]
fn sub_attributes_and_metadata() {
    let mut level = prop(json!(42));
    level.observed_at = Some(time("2020-09-09T16:40:00Z"));
    level.unit_code = Some("C62".into());
    level.created_at = Some(time("2020-01-01T00:00:00Z"));
    level.modified_at = Some(time("2021-01-01T00:00:00Z"));
    let mut accuracy = prop(json!(0.9));
    accuracy.observed_at = Some(time("2020-09-09T16:41:00Z"));
    level.sub_attrs.insert(ex("accuracy"), vec![accuracy]);
    level.sub_attrs.insert(ex("measuredBy"), vec![rel("urn:ngsi-ld:Device:1")]);
    let one = [entity("urn:e", "T", vec![("level", level)])];
    assert_eq!(count("level.accuracy>0.5", &one), 1);
    assert_eq!(count("level.accuracy>0.95", &one), 0);
    assert_eq!(count("level.accuracy", &one), 1);
    assert_eq!(count("level.precision", &one), 0);
    assert_eq!(count("!level.precision", &one), 1);
    assert_eq!(count("level.measuredBy==urn:ngsi-ld:Device:1", &one), 1);
    assert_eq!(count("level.observedAt>=2020-09-09T16:40:00Z", &one), 1);
    assert_eq!(count("level.observedAt>2020-09-09T16:40:00Z", &one), 0);
    assert_eq!(count("level.observedAt==2020-09-09T18:40:00+02:00", &one), 1, "instants, not text");
    assert_eq!(count(r#"level.observedAt=="2020-09-09T16:40:00.000Z""#, &one), 1, "a quoted date-time too");
    assert_eq!(count("level.observedAt<2020-09-10", &one), 1, "a date is that day at 00:00 UTC");
    assert_eq!(count("level.accuracy.observedAt==2020-09-09T16:41:00Z", &one), 1);
    assert_eq!(count(r#"level.unitCode=="C62""#, &one), 1);
    assert_eq!(count("level.unitCode==C62", &one), 1);
    assert_eq!(count("level.createdAt<2020-06-01T00:00:00Z", &one), 1);
    assert_eq!(count("level.modifiedAt>2020-06-01T00:00:00Z", &one), 1);
    assert_eq!(count("level.datasetId", &one), 0, "the default instance has no datasetId");
}

#[test]
fn dataset_instances() {
    let mut fr = prop(json!("Tour Eiffel"));
    fr.dataset_id = Some("urn:ngsi-ld:Dataset:french-name".into());
    let one = [entity("urn:e", "T", vec![("name", prop(json!("Eiffel Tower"))), ("name", fr)])];
    assert_eq!(count(r#"name=="Tour Eiffel""#, &one), 1, "any instance");
    assert_eq!(count(r#"name=="Eiffel Tower""#, &one), 1);
    assert_eq!(count(r#"name!="Tour Eiffel""#, &one), 0, "!= needs every instance to differ");
    assert_eq!(count("name.datasetId==urn:ngsi-ld:Dataset:french-name", &one), 1);
    assert_eq!(count("name.datasetId==urn:ngsi-ld:Dataset:german-name", &one), 0);
}

#[test]
fn dates_times_and_typed_literals() {
    let e = entity(
        "urn:e",
        "T",
        vec![
            ("opened", prop(json!("2019-05-01"))),
            ("inspected", prop(json!({"@type": "DateTime", "@value": "2024-02-29T12:00:00Z"}))),
            ("closing", prop(json!("18:30:00"))),
            ("label", prop(json!("2024-02-29T12:00:00Z"))),
        ],
    );
    let one = [e];
    assert_eq!(count("opened==2019-05-01", &one), 1);
    assert_eq!(count("opened>2019-04-30", &one), 1);
    assert_eq!(count("opened==2019-01-01..2019-12-31", &one), 1);
    assert_eq!(count("opened<2019-05-01T00:00:01Z", &one), 1, "a date target is 00:00 UTC against a date-time");
    assert_eq!(count("inspected==2024-02-29T13:00:00+01:00", &one), 1, "typed literals are unwrapped");
    assert_eq!(count("inspected>2024-02-29", &one), 1);
    assert_eq!(count("closing>18:00:00", &one), 1);
    assert_eq!(count("closing<18:00Z", &one), 0);
    assert_eq!(count("closing==18:00:00..19:00:00", &one), 1);
    assert_eq!(count("label==2024-02-29T12:00:00.000Z", &one), 1);
    assert_eq!(count(r#"label=="2024-02-29T12:00:00.000Z""#, &one), 0, "a quoted string compares as text");
    assert_eq!(count("label>18:00:00", &one), 0, "a date-time is not a time");
}

#[test]
fn entity_members() {
    let b = buildings();
    assert_eq!(count("id==urn:ngsi-ld:Building:2", &b), 1);
    assert_eq!(count("type==Building", &b), 3, "type values are expanded like type names");
    bad(&format!("type==<{NS}Building>")); // <...> is a name form, not a value
    assert_eq!(count("createdAt>=2024-03-01T10:00:00Z", &b), 3);
    assert_eq!(count(r#"modifiedAt>"2020-01-01T00:00:00Z""#, &b), 3, "5722_01_02: parses, and compares as instants");
    assert_eq!(count("modifiedAt<2024-03-05", &b), 0);
    assert!(q(r#"modifiedAt>"2020-01-01T00:00:00Z""#).attributes().is_empty());
    for text in ["id.x==1", "type[a]==1", "createdAt.observedAt==1", "modifiedAt{a}==1"] {
        bad(text);
    }
}

#[test]
fn expand_values_option() {
    // 019_29_12/13: the stored vocab value is expanded; without expandValues the term is literal
    let category = attr(AttrKind::VocabProperty, json!(ex("commercial")));
    let one = [entity("urn:e", "Building", vec![("category", category)])];
    assert_eq!(count("category==commercial", &one), 0);
    let opts = ParseOptions { expand_values: vec![ex("category")] };
    let query = Query::parse_with("category==commercial", &ex, &opts).unwrap();
    assert!(query.matches(&one[0]));
    let query = Query::parse_with(r#"category==industrial,"commercial""#, &ex, &opts).unwrap();
    assert!(query.matches(&one[0]));
    let query = Query::parse_with("other==commercial", &ex, &opts).unwrap();
    assert_eq!(query.to_string(), format!("<{NS}other>==commercial"));
}

#[test]
fn linked_entity_subqueries() {
    // 019_29_08..10
    let target = entity("urn:ngsi-ld:Building:target", "Building", vec![("name", prop(json!("Pisa Tower")))]);
    let owner = entity("urn:ngsi-ld:Person:p", "Person", vec![("works", rel("urn:ngsi-ld:Building:target"))]);
    let e = entity(
        "urn:e",
        "Building",
        vec![("managedBy", rel("urn:ngsi-ld:Building:target")), ("owner", rel("urn:ngsi-ld:Person:p"))],
    );
    let store = [target.clone(), owner];
    let resolve = |id: &str| store.iter().find(|x| x.id == id).cloned();
    let hit = |text: &str| q(text).matches_with(&e, &resolve);
    assert!(hit(r#"managedBy{name}=="Pisa Tower""#));
    assert!(hit(r#"managedBy{Building:name}=="Pisa Tower""#));
    assert!(!hit(r#"managedBy{Vehicle:name}=="Pisa Tower""#));
    assert!(!hit(r#"managedBy{name}=="Eiffel Tower""#));
    assert!(hit(r#"owner{works{name}}~="Pisa""#));
    assert!(hit("managedBy{name}"));
    assert!(!hit("managedBy{height}"));
    assert!(!q(r#"managedBy{name}=="Pisa Tower""#).matches(&e), "nothing is followed without a resolver");
    assert_eq!(q(r#"owner{works{name}}=="x""#).linked_depth(), 2);
    assert_eq!(q(r#"a==1;(b{c}|d{e{f{g}}})"#).linked_depth(), 3);
    assert_eq!(q("a==1").linked_depth(), 0);
    assert_eq!(q(r#"managedBy{name}=="x";size>1;managedBy"#).attributes(), vec![ex("managedBy"), ex("size")]);
    bad("managedBy.x{name}==1");
    bad("managedBy{name");
    bad("managedBy{}");
}

#[test]
fn attributes_read() {
    let query = q(r#"b.c==1;(a|!d)|b[x]~="y";id==urn:x;e.observedAt>2020-01-01"#);
    assert_eq!(query.attributes(), vec![ex("b"), ex("a"), ex("d"), ex("e")]);
}

#[test]
fn whitespace_is_tolerated_around_tokens() {
    let b = buildings();
    assert_eq!(count(r#" ( name == "Pisa Tower" | name=="Eiffel Tower" ) ; almostFull == false "#, &b), 2);
    assert_eq!(count("airQualityLevel == 4 , 6", &b), 2);
    assert_eq!(count("airQualityLevel == 4 .. 6", &b), 2);
}

#[test]
fn sub_attribute_names_are_expanded_but_members_are_not() {
    let query = q("a.b[c.d]==1");
    let Expr::Term(term) = query.expr() else { panic!() };
    assert_eq!(term.path.root, Root::Attribute(ex("a")));
    assert_eq!(term.path.sub_attrs, vec![ex("b")]);
    assert_eq!(term.path.members, vec!["c".to_string(), "d".to_string()]);
    assert_eq!(term.test, Test::Compare { op: CmpOp::Eq, operand: Operand::One(QValue::Number(1.0)) });
    let query = q("<http://example.org/a>.<http://example.org/b>==1");
    let Expr::Term(term) = query.expr() else { panic!() };
    assert_eq!(term.path.root, Root::Attribute("http://example.org/a".into()));
    assert_eq!(term.path.sub_attrs, vec!["http://example.org/b".to_string()]);
}

#[test]
fn value_types() {
    let value = |text: &str| {
        let query = q(&format!("a=={text}"));
        let Expr::Term(term) = query.expr() else { panic!() };
        let Test::Compare { operand: Operand::One(v), .. } = &term.test else { panic!("{text}") };
        v.clone()
    };
    assert_eq!(value("-2.5e3"), QValue::Number(-2500.0));
    assert_eq!(value("007"), QValue::Number(7.0));
    assert_eq!(value(r#""x\"y""#), QValue::String("x\"y".into()));
    assert_eq!(value("true"), QValue::Bool(true));
    assert_eq!(value("false"), QValue::Bool(false));
    assert_eq!(
        value("2024-05-01T08:30:00+07:00"),
        QValue::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 1, 30, 0).unwrap())
    );
    assert_eq!(value("2024-05-01T08:30:00"), QValue::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 8, 30, 0).unwrap()));
    assert!(matches!(value("2024-05-01"), QValue::Date(_)));
    assert!(matches!(value("08:30:00Z"), QValue::Time(_)));
    assert_eq!(value("urn:ngsi-ld:Parking:1"), QValue::Token("urn:ngsi-ld:Parking:1".into()));
    assert_eq!(value("https://example.org/a?b=c#d"), QValue::Token("https://example.org/a?b=c#d".into()));
    assert_eq!(value("commercial"), QValue::Token("commercial".into()));
    assert_eq!(value("TRUE"), QValue::Token("TRUE".into()));
}

#[test]
fn syntax_errors_name_position_and_expectation() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("   ", "empty"),
        ("a==", "position 4: expected a value, found the end"),
        ("a==1;", "position 6: expected a query term"),
        ("a==1|", "expected a query term"),
        ("|a==1", "position 1: expected a query term"),
        ("a==1;;b", "position 6"),
        ("(a==1", "to close the '(' at position 1"),
        ("a==1)", "')' has no matching '('"),
        ("()", "expected a query term"),
        ("a=1", "expected an operator"),
        ("a===1", "found '='"),
        ("a==1 b==2", "position 6: expected ';', '|', ')' or the end"),
        ("a>true", "must be a number, a quoted string"),
        ("a<urn:x", "must be a number, a quoted string"),
        ("a>1,2", "a list of values only goes with == or !="),
        ("a>=1..2", "a range (low..high) only goes with == or !="),
        ("a==1..\"x\"", "same type"),
        ("a==true..false", "an end of a range"),
        ("a==1..2,3", "expected ';', '|', ')' or the end"),
        ("a==1,2..3", "cannot contain a range"),
        ("a==1e400", "out of range"),
        ("a==2024-13-01", "not a valid date"),
        ("a==2024-02-30T00:00:00Z", "not a valid date-time"),
        ("a==25:00:00", "not a valid time"),
        ("a==\"abc", "position 4: this string is not closed"),
        ("a~=\"(\"", "invalid regular expression"),
        ("a~=", "expected a regular expression"),
        ("!a==1", "takes no operator"),
        ("!(a==1)", "expected an attribute name"),
        ("a.observedAt.b==1", "'observedAt' can only end a path"),
        ("a.unitCode[x]==1", "has no members"),
        ("a.==1", "expected a sub-attribute name"),
        ("a[]==1", "expected a member name"),
        ("a[b==1", "expected '.' or ']'"),
        ("a[b]{c}==1", "can only follow the Relationship's name"),
        ("<http://x==1", "not closed with '>'"),
        ("<>==1", "empty IRI"),
        ("a.b c==1", "expected an operator"),
        ("==1", "position 1: expected an attribute name, found '='"),
        ("a==1;b!==2", "found '='"),
    ];
    for (text, needle) in cases {
        let detail = bad(text);
        assert!(detail.contains(needle), "{text:?}: {detail:?} should contain {needle:?}");
        assert!(detail.starts_with("invalid q at position"), "{text:?}: {detail}");
    }
}

#[test]
fn error_positions_count_characters() {
    let detail = bad(r#"tên=="Hải Đăng";x=="#);
    assert!(detail.contains("position 20"), "{detail}");
}

#[test]
fn too_long_and_too_deep_are_too_complex() {
    let long = format!("a==\"{}\"", "x".repeat(4092));
    assert_eq!(long.len(), 4097);
    let e = err(&long);
    assert_eq!((e.kind, e.kind.status()), (ErrorKind::TooComplexQuery, 403));
    assert!(parse(&format!("a==\"{}\"", "x".repeat(4091))).is_ok());

    let nested = |n: usize| format!("{}a==1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse(&nested(32)).is_ok());
    assert_eq!(err(&nested(33)).kind, ErrorKind::TooComplexQuery);
    let linked = |n: usize| format!("{}b{}==1", "a{".repeat(n), "}".repeat(n));
    assert!(parse(&linked(32)).is_ok());
    assert_eq!(err(&linked(33)).kind, ErrorKind::TooComplexQuery);
    // far deeper than the limit: refused without exhausting the stack
    assert_eq!(err(&"(".repeat(4000)).kind, ErrorKind::TooComplexQuery);
    assert_eq!(err(&format!("a{}", "{a".repeat(2000))).kind, ErrorKind::TooComplexQuery);

    let e = err(r#"a~="\w{1000}\w{1000}""#);
    assert_eq!(e.kind, ErrorKind::TooComplexQuery, "{e}");
}

#[test]
fn long_flat_queries_are_fine() {
    let terms: Vec<String> = (0..400).map(|i| format!("a{i}=={i}")).collect();
    let text = terms.join(";");
    assert!(text.len() < 4096);
    let query = q(&text);
    assert_eq!(query.attributes().len(), 400);
    let path = format!("a{}==1", ".b".repeat(1500));
    assert!(parse(&path).is_ok());
    let members = format!("a[{}]==1", vec!["m"; 1500].join("."));
    let query = q(&members);
    assert!(!query.matches(&buildings()[0]));
}

#[test]
fn canonical_text() {
    let cases: &[(&str, &str)] = &[
        (r#"name=="Eiffel Tower""#, r#"<NS:name>=="Eiffel Tower""#),
        ("a==1;b==2|c", "<NS:a>==1;<NS:b>==2|<NS:c>"),
        ("(a|b);c", "(<NS:a>|<NS:b>);<NS:c>"),
        ("((a;b);c)", "<NS:a>;<NS:b>;<NS:c>"),
        ("(a|(b|c))", "<NS:a>|<NS:b>|<NS:c>"),
        ("!a.b[c.d]", "!<NS:a>.<NS:b>[c.d]"),
        ("a.observedAt>=2020-01-01T00:00:00.000Z", "<NS:a>.observedAt>=2020-01-01T00:00:00Z"),
        ("a==2020-01-01T00:00:00.5+01:00", "<NS:a>==2019-12-31T23:00:00.500Z"),
        ("a==5..1", "<NS:a>==1..5"),
        ("a!=1,\"x\",true,urn:y", "<NS:a>!=1,\"x\",true,urn:y"),
        ("a==1e300", "<NS:a>==1e300"),
        ("a==0.000001", "<NS:a>==1e-6"),
        ("a==0.5", "<NS:a>==0.5"),
        ("a==2024-05-01;b<08:30Z", "<NS:a>==2024-05-01;<NS:b><08:30:00"),
        ("a~=x|y", "<NS:a>~=\"x\"|<NS:y>"),
        (r#"a!~="q\"\\d""#, r#"<NS:a>!~="q\"\\d""#),
        ("id==urn:a;type==T", "id==urn:a;type==NS:T"),
        ("r{T:a.b}==1", "<NS:r>{<NS:T>:<NS:a>.<NS:b>}==1"),
        ("<id>==1;<observedAt>", "<id>==1;<observedAt>"),
    ];
    for (text, expected) in cases {
        let query = q(text);
        let canonical = query.to_string();
        assert_eq!(canonical, expected.replace("NS:", NS), "{text}");
        let back = Query::from_canonical(&canonical).unwrap_or_else(|e| panic!("{canonical}: {e}"));
        assert_eq!(back, query, "{text}");
    }
}

#[test]
fn canonical_text_with_compaction() {
    let compact = |iri: &str| iri.strip_prefix(NS).unwrap_or(iri).to_string();
    let query = q(r#"name=="Eiffel Tower";address[city]=="Berlin";<http://x.org/a>>1;r{T:a}"#);
    assert_eq!(
        query.to_string_with(&compact),
        r#"name=="Eiffel Tower";address[city]=="Berlin";<http://x.org/a>>1;r{T:a}"#
    );
    // compacting to an entity member's or a metadata name keeps the IRI form
    let query = q("<https://x/id>==1;a.<https://x/observedAt>==2");
    let weird = |iri: &str| iri.rsplit('/').next().unwrap_or(iri).to_string();
    let text = query.to_string_with(&weird);
    assert_eq!(text, "<https://x/id>==1;a.<https://x/observedAt>==2");
    assert_eq!(Query::from_canonical(&query.to_string()).unwrap(), query);
}

#[test]
fn url_decoded_example_from_the_subscription_fixture() {
    // the suite's subscription body holds q percent-encoded; the caller decodes it first
    let b = buildings();
    assert_eq!(count(r#"name=="Eiffel Tower""#, &b), 1);
    assert_eq!(count(r#"name=="Eiffel%20Tower""#, &b), 0);
}

/// What the store may check in SQL before the exact filter: only conditions every match needs.
#[test]
fn clause_4_9_numeric_bounds_are_necessary_conditions_only() {
    use haidang_ngsi::query::{CmpOp, NumericBound};
    let b = |attr: &str, op, value| NumericBound { attr: ex(attr), op, value };
    assert_eq!(q("pm25>10").numeric_bounds(), vec![b("pm25", CmpOp::Gt, 10.0)]);
    assert_eq!(
        q("pm25>=10;no2<40;status==\"ok\"").numeric_bounds(),
        vec![b("pm25", CmpOp::Ge, 10.0), b("no2", CmpOp::Lt, 40.0)]
    );
    assert_eq!(q("(pm25==5;o3<=1);x").numeric_bounds(), vec![b("pm25", CmpOp::Eq, 5.0), b("o3", CmpOp::Le, 1.0)]);
    // Not required by every match, or not a plain numeric comparison: nothing to narrow by.
    for text in [
        "pm25>10|no2<3",
        "pm25!=3",
        "pm25==1..5",
        "pm25==1,2",
        "pm25.observedAt>2026-01-01T00:00:00Z",
        "pm25[a]>3",
        "pm25.sub>3",
        "pm25>\"x\"",
    ] {
        assert!(q(text).numeric_bounds().is_empty(), "{text}");
    }
}
