//! Open311 GeoReport v2 under `/open311/v2/`, as an Open311 app sees it: services and their
//! definitions, the citizen's loop through Open311 alone while staff move the report through
//! the platform API, the filters of `GET requests`, tokens, and every refusal as an Open311
//! error list (JSON and XML, read back with quick-xml) with nothing stored.
//!
//! The store is shared with the other tests: each test follows its own requests by id or by a
//! marker in their description, never global counts.

use super::support::*;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use quick_xml::events::Event;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const QUY_NHON: &str = "21583"; // `commune`
/// Inside Phường Quy Nhơn.
const LAT: &str = "13.7765";
const LONG: &str = "109.2237";

// ---------------------------------------------------------------------------------------------
// Helpers

fn url(path: &str) -> String {
    format!("{}/open311/v2/{path}", servers().demo)
}

async fn get(path: &str) -> Response {
    Client::new().get(url(path)).send().await.unwrap()
}

async fn post_form(path: &str, fields: &[(&str, &str)]) -> Response {
    Client::new().post(url(path)).form(fields).send().await.unwrap()
}

/// A JSON answer with the spec's content type; its text and value.
async fn json_ok(res: Response, status: StatusCode) -> (String, Value) {
    let what = res.url().to_string();
    assert_eq!(res.status(), status, "{what}");
    assert_eq!(content_type(&res), "application/json; charset=utf-8", "{what}");
    assert_eq!(res.headers().get("access-control-allow-origin").unwrap(), "*");
    let text = res.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
    (text, value)
}

/// An XML answer with the spec's content type, parsed.
async fn xml_ok(res: Response, status: StatusCode) -> Node {
    let what = res.url().to_string();
    assert_eq!(res.status(), status, "{what}");
    assert_eq!(content_type(&res), "text/xml; charset=utf-8", "{what}");
    let text = res.text().await.unwrap();
    assert!(text.starts_with(r#"<?xml version="1.0" encoding="utf-8"?>"#), "{text}");
    parse_xml(&text)
}

fn content_type(res: &Response) -> String {
    res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// An Open311 error list in JSON: one `{code, description}` per error, the code the HTTP status.
async fn json_errors(res: Response, status: u16) -> Vec<String> {
    let (_, body) = json_ok(res, StatusCode::from_u16(status).unwrap()).await;
    let errors = body.as_array().unwrap_or_else(|| panic!("not a list: {body}"));
    assert!(!errors.is_empty());
    errors
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().unwrap().len(), 2, "{e}");
            assert_eq!(e["code"], status, "{e}");
            e["description"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The same in XML: `<errors><error><code/><description/></error>…</errors>`.
async fn xml_errors(res: Response, status: u16) -> Vec<String> {
    let doc = xml_ok(res, StatusCode::from_u16(status).unwrap()).await;
    assert_eq!(doc.name, "errors");
    doc.children
        .iter()
        .map(|e| {
            assert_eq!(e.name, "error");
            assert_eq!(e.names(), ["code", "description"]);
            assert_eq!(e.text("code"), status.to_string());
            e.text("description").to_owned()
        })
        .collect()
}

/// An XML element: its name, text, and child elements in order.
#[derive(Debug, Default, Clone)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> &Node {
        self.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
    }

    fn text(&self, name: &str) -> &str {
        &self.child(name).text
    }

    fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

fn parse_xml(text: &str) -> Node {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("bad XML: {e}: {text}")) {
            Event::Start(e) => stack.push(Node { name: e.name().0.to_owned(), ..Default::default() }),
            Event::Empty(e) => {
                stack.last_mut().unwrap().children.push(Node { name: e.name().0.to_owned(), ..Default::default() })
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::unescape(&format!("&{};", &*r)).unwrap().into_owned(),
                };
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements in {text}");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element in {text}");
    root.children.pop().unwrap()
}

/// The keys of a JSON object in the order the server wrote them (serde_json sorts its maps).
fn key_order(text: &str, keys: &[&str]) {
    let positions: Vec<usize> =
        keys.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("no {k} in {text}"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "keys not in the spec's order {keys:?}: {text}");
}

/// A form body: names and values.
type Fields<'a> = Vec<(&'a str, &'a str)>;

const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

fn at(text: &str) -> DateTime<FixedOffset> {
    assert!(text.ends_with("+07:00"), "not in the province's offset: {text}");
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn w3c(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Submits a request through Open311 with the demo client's key; its id.
async fn submit(service: &str, description: &str, extra: &[(&str, &str)]) -> i64 {
    let mut fields = vec![
        ("api_key", OPEN311_KEY),
        ("service_code", service),
        ("lat", LAT),
        ("long", LONG),
        ("description", description),
    ];
    fields.extend_from_slice(extra);
    let (_, body) = json_ok(post_form("requests.json", &fields).await, StatusCode::OK).await;
    body[0]["service_request_id"].as_str().unwrap_or_else(|| panic!("{body}")).parse().unwrap()
}

/// One request as JSON (with or without the key), or the status when refused.
async fn read(id: i64, with_key: bool) -> Result<(String, Value), StatusCode> {
    let path =
        if with_key { format!("requests/{id}.json?api_key={OPEN311_KEY}") } else { format!("requests/{id}.json") };
    let res = get(&path).await;
    if res.status() != StatusCode::OK {
        return Err(res.status());
    }
    let (text, body) = json_ok(res, StatusCode::OK).await;
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{body}");
    Ok((text, list[0].clone()))
}

async fn act(session: &Session, id: i64, action: Value) -> Value {
    let res = session.post(&format!("/api/reports/{id}/actions"), action.clone()).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

/// Ids listed by a `GET requests` query.
async fn listed(query: &str) -> Vec<i64> {
    let (_, body) = json_ok(get(&format!("requests.json?{query}")).await, StatusCode::OK).await;
    body.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().parse().unwrap()).collect()
}

/// Reports whose text holds `marker` (the staff search), to show a refusal stored nothing.
async fn stored_with(marker: &str) -> usize {
    let filter = haidang_store::ReportFilter { q: Some(marker.into()), limit: 50, ..Default::default() };
    servers().store.list_reports(&filter).await.unwrap().items.len()
}

// ---------------------------------------------------------------------------------------------
// Services

#[tokio::test]
async fn services_and_definitions_in_json_and_xml() {
    let (text, body) = json_ok(get("services.json").await, StatusCode::OK).await;
    let services = body.as_array().unwrap();
    let find = |code: &str| services.iter().find(|s| s["service_code"] == code).cloned().expect(code);
    let lighting = find("lighting");
    assert_eq!(
        lighting,
        json!({"service_code": "lighting", "service_name": "Chiếu sáng công cộng", "description": null,
               "metadata": true, "type": "realtime", "keywords": "", "group": null})
    );
    key_order(&text, &["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]);
    let waste = find("waste");
    assert_eq!(waste["group"], "Môi trường, rác thải");
    assert_eq!(waste["metadata"], false);

    let doc = xml_ok(get("services.xml?jurisdiction_id=gialai.gov.vn").await, StatusCode::OK).await;
    assert_eq!(doc.name, "services");
    assert_eq!(doc.children.len(), services.len());
    let lamp = doc.children.iter().find(|s| s.text("service_code") == "lighting").unwrap();
    assert_eq!(lamp.names(), ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]);
    assert_eq!(lamp.text("service_name"), "Chiếu sáng công cộng");
    assert_eq!(lamp.text("metadata"), "true");
    assert_eq!(lamp.text("type"), "realtime");
    let bin = doc.children.iter().find(|s| s.text("service_code") == "waste").unwrap();
    assert_eq!(bin.text("group"), "Môi trường, rác thải");

    let (_, def) = json_ok(get("services/lighting.json").await, StatusCode::OK).await;
    assert_eq!(def["service_code"], "lighting");
    assert_eq!(
        def["attributes"][0],
        json!({"variable": true, "code": "lamps", "datatype": "number", "required": false,
               "datatype_description": null, "order": 1, "description": "Số bóng đèn hỏng", "values": []})
    );
    let state = &def["attributes"][1];
    assert_eq!(
        (state["code"].as_str(), state["required"].as_bool(), state["order"].as_u64()),
        (Some("state"), Some(true), Some(2))
    );
    assert_eq!(state["datatype"], "singlevaluelist");
    assert_eq!(state["values"][0], json!({"key": "off", "name": "Không sáng"}));
    assert_eq!(state["values"].as_array().unwrap().len(), 3);

    let doc = xml_ok(get("services/lighting.xml").await, StatusCode::OK).await;
    assert_eq!(doc.name, "service_definition");
    assert_eq!(doc.text("service_code"), "lighting");
    let attributes = &doc.child("attributes").children;
    assert_eq!(attributes.len(), 2);
    assert_eq!(
        attributes[1].names(),
        ["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
    );
    assert_eq!(attributes[1].text("datatype"), "singlevaluelist");
    let values = &attributes[1].child("values").children;
    assert_eq!(
        (values[1].name.as_str(), values[1].text("key"), values[1].text("name")),
        ("value", "flicker", "Chập chờn")
    );
    // A service without questions has an empty definition.
    let (_, def) = json_ok(get("services/waste.json").await, StatusCode::OK).await;
    assert_eq!(def, json!({"service_code": "waste", "attributes": []}));

    // Unknown services, resources and formats.
    let e = json_errors(get("services/no_such.json").await, 404).await;
    assert!(e[0].starts_with("service_code: no_such"), "{e:?}");
    xml_errors(get("services/no_such.xml").await, 404).await;
    xml_errors(get("discovery.xml").await, 404).await;
    json_errors(get("requests/%FF.json").await, 404).await;
    for path in ["services.html", "services", "services.JSON", "requests/1.csv"] {
        let e = json_errors(get(path).await, 404).await;
        assert!(e[0].contains(".json or .xml"), "{path}: {e:?}");
    }
    let e = json_errors(get("services.json?jurisdiction_id=a&jurisdiction_id=b").await, 400).await;
    assert!(e[0].starts_with("jurisdiction_id:"), "{e:?}");
    // Services are read, not written.
    let res = Client::new().post(url("services.xml")).form(&[("a", "b")]).send().await.unwrap();
    assert_eq!(res.headers().get("allow").unwrap(), "GET, HEAD");
    xml_errors(res, 405).await;
    let res = Client::new().delete(url("requests/1.json")).send().await.unwrap();
    json_errors(res, 405).await;
}

// ---------------------------------------------------------------------------------------------
// The loop: the citizen through Open311 only, staff through the platform API

#[tokio::test]
async fn the_citizen_follows_a_request_through_open311_while_staff_handle_it() {
    let marker = "o311-loop-marker";
    let fields = [
        ("api_key", OPEN311_KEY),
        ("jurisdiction_id", "gialai.gov.vn"),
        ("service_code", "waste"),
        ("lat", LAT),
        ("long", LONG),
        ("address_string", "12 Trần Hưng Đạo, Quy Nhơn"),
        ("description", &format!("Rác dồn đống ở đầu hẻm ({marker}), gọi tôi 0905123456")),
        ("email", "citizen@example.org"),
        ("first_name", "Lan"),
        ("last_name", "Nguyễn"),
        ("phone", "0905123456"),
        ("device_id", "android-1"),
    ];
    let before = Utc::now();
    let (text, created) = json_ok(post_form("requests.json", &fields).await, StatusCode::OK).await;
    assert_eq!(created.as_array().unwrap().len(), 1, "{created}");
    let created = &created[0];
    assert_eq!(created.as_object().unwrap().len(), 3, "id, notice and account only: {created}");
    key_order(&text, &["service_request_id", "service_notice", "account_id"]);
    assert_eq!(created["account_id"], Value::Null);
    let id: i64 = created["service_request_id"].as_str().unwrap().parse().unwrap();
    let report = servers().store.report(id).await.unwrap();
    assert_eq!(report.channel.as_str(), "open311");
    assert!(report.open311_client_id.is_some());
    assert!(created["service_notice"].as_str().unwrap().contains(&report.code), "{created}");
    assert_eq!(report.contact.name.as_deref(), Some("Lan Nguyễn"));
    assert_eq!(report.contact.email.as_deref(), Some("citizen@example.org"));
    assert_eq!(report.address.as_deref(), Some("12 Trần Hưng Đạo, Quy Nhơn"));

    // Not verified yet: the public does not see it, the submitting client does.
    assert_eq!(read(id, false).await.unwrap_err(), StatusCode::NOT_FOUND);
    let (text, first) = read(id, true).await.unwrap();
    key_order(&text, &REQUEST_FIELDS);
    assert_eq!(first.as_object().unwrap().len(), REQUEST_FIELDS.len(), "{first}");
    assert_eq!(first["service_request_id"], id.to_string());
    assert_eq!(first["status"], "open");
    assert!(first["status_notes"].as_str().unwrap().contains("open311"), "{first}");
    assert_eq!(
        (first["service_code"].as_str(), first["service_name"].as_str()),
        (Some("waste"), Some("Rác thải không được thu gom"))
    );
    let description = first["description"].as_str().unwrap();
    assert!(description.contains(marker) && !description.contains("0905123456"), "moderated text only: {first}");
    assert!(!text.contains("citizen@example.org") && !text.contains("Lan"), "no contact: {text}");
    assert_eq!(first["agency_responsible"], Value::Null);
    let requested = at(first["requested_datetime"].as_str().unwrap());
    assert!(requested >= before - TimeDelta::seconds(1) && requested <= Utc::now());
    let updated_first = at(first["updated_datetime"].as_str().unwrap());
    assert!(first["expected_datetime"].is_string(), "the verification deadline while received: {first}");
    assert_eq!((first["lat"].as_f64(), first["long"].as_f64()), (Some(13.7765), Some(109.2237)));
    assert_eq!(first["address"], "12 Trần Hưng Đạo, Quy Nhơn");
    assert_eq!(first["media_url"], Value::Null);

    // Times are written to the second: let the steps fall on a later one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let operator = login("operator").await;
    let commune = login("commune").await;
    act(&operator, id, json!({"action": "verify", "note": "Staff only: checked on the camera"})).await;
    // Verified: now anyone reads it; a public step without public text is told by its status,
    // and the staff's note stays inside.
    let (text, verified) = read(id, false).await.unwrap();
    assert_eq!(verified["status"], "open");
    assert_eq!(verified["status_notes"], "Đã xác minh");
    assert!(!text.contains("Staff only"), "{text}");
    let commune_unit = unit_id(QUY_NHON).await;
    act(&operator, id, json!({"action": "assign", "unit_id": commune_unit, "note": "Giao phường xử lý"})).await;
    act(&commune, id, json!({"action": "accept"})).await;
    let (_, handling) = read(id, false).await.unwrap();
    assert_eq!(handling["status_notes"], "Đang xử lý");
    let commune_name = servers().store.org_unit(haidang_core::OrgUnitId(commune_unit)).await.unwrap().name;
    assert_eq!(handling["agency_responsible"], commune_name.as_str());
    assert_eq!(handling["status"], "open");
    let expected = at(handling["expected_datetime"].as_str().unwrap());
    assert!(expected > requested, "{handling}");
    act(&commune, id, json!({"action": "resolve", "result": "Đã thu gom, liên hệ anh Bình 0912345678"})).await;
    let (_, resolved) = read(id, false).await.unwrap();
    assert_eq!(resolved["status"], "open", "awaiting the IOC's approval: {resolved}");
    let public_result = "Phường đã thu gom toàn bộ rác tại điểm phản ánh.";
    act(&operator, id, json!({"action": "approve", "public_result": public_result})).await;

    // Published: closed for Open311, the public result as the note, a later update time.
    let (_, done) = read(id, false).await.unwrap();
    assert_eq!(done["status"], "closed", "{done}");
    assert_eq!(done["status_notes"], public_result);
    assert_eq!(done["expected_datetime"], Value::Null);
    assert_eq!(done["agency_responsible"], commune_name.as_str());
    let updated = at(done["updated_datetime"].as_str().unwrap());
    assert!(updated > updated_first, "{updated} after {updated_first}");
    assert_eq!(at(done["requested_datetime"].as_str().unwrap()), requested);
    assert!(!done.to_string().contains("0912345678"), "the staff's result stays inside: {done}");

    let doc = xml_ok(get(&format!("requests/{id}.xml")).await, StatusCode::OK).await;
    assert_eq!(doc.name, "service_requests");
    assert_eq!(doc.children.len(), 1);
    let request = &doc.children[0];
    assert_eq!(request.name, "request");
    assert_eq!(request.names(), REQUEST_FIELDS);
    assert_eq!(request.text("service_request_id"), id.to_string());
    assert_eq!(request.text("status"), "closed");
    assert_eq!(request.text("status_notes"), public_result);
    assert_eq!(request.text("service_code"), "waste");
    assert_eq!(request.text("agency_responsible"), commune_name);
    assert_eq!(at(request.text("updated_datetime")), updated);
    assert_eq!(request.text("expected_datetime"), "");
    assert_eq!(request.text("lat").parse::<f64>().unwrap(), 13.7765);
    assert_eq!(request.text("long").parse::<f64>().unwrap(), 109.2237);

    // The token stored with the request leads back to it.
    let token = servers().store.report(id).await.unwrap().open311_token.expect("a token");
    let (text, tokens) = json_ok(get(&format!("tokens/{token}.json")).await, StatusCode::OK).await;
    assert_eq!(tokens, json!([{"service_request_id": id.to_string(), "token": token}]));
    key_order(&text, &["service_request_id", "token"]);
    let doc = xml_ok(get(&format!("tokens/{token}.xml")).await, StatusCode::OK).await;
    assert_eq!(doc.children[0].names(), ["service_request_id", "token"]);
    assert_eq!(doc.children[0].text("service_request_id"), id.to_string());
    let e = json_errors(get("tokens/o311_not-a-token.json").await, 404).await;
    assert!(e[0].starts_with("token:"), "{e:?}");
    xml_errors(get("tokens/o311_not-a-token.xml").await, 404).await;

    // Unknown requests.
    xml_errors(get("requests/999999999.xml").await, 404).await;
    let e = json_errors(get("requests/abc.json").await, 404).await;
    assert!(e[0].starts_with("service_request_id:"), "{e:?}");
    // A wrong key is refused on reads too, rather than silently ignored.
    json_errors(get(&format!("requests/{id}.json?api_key=wrong-key-123")).await, 403).await;
}

#[tokio::test]
async fn a_rejected_request_closes_with_the_reason_for_its_client_only() {
    let id = submit("environment", "Khói từ lò gạch (o311-reject-marker)", &[]).await;
    let operator = login("operator").await;
    act(&operator, id, json!({"action": "reject", "reason": "out_of_scope", "note": "Không thuộc thẩm quyền"})).await;
    let (_, rejected) = read(id, true).await.unwrap();
    assert_eq!(rejected["status"], "closed");
    assert!(rejected["status_notes"].as_str().is_some_and(|n| !n.is_empty()), "the reason: {rejected}");
    assert_eq!(read(id, false).await.unwrap_err(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attributes_and_multipart_submissions() {
    let id = submit(
        "lighting",
        "Đèn đường tắt cả dãy (o311-lamp-marker)",
        &[("attribute[state]", "off"), ("attribute[lamps]", "3"), ("media_url", "https://example.org/lamp.jpg")],
    )
    .await;
    let report = servers().store.report(id).await.unwrap();
    assert_eq!(report.attributes["state"], ["off"]);
    assert_eq!(report.attributes["lamps"], ["3"]);
    assert!(report.description.contains("https://example.org/lamp.jpg"), "the staff see the photo link");
    // The marker search that shows refusals stored nothing finds what was stored.
    assert_eq!(stored_with("o311-lamp-marker").await, 1);
    // No description: the service's name stands for it.
    let id = submit("waste", "", &[]).await;
    assert_eq!(servers().store.report(id).await.unwrap().description, "Rác thải không được thu gom");

    // multipart/form-data with text fields only.
    let form = Form::new()
        .text("api_key", OPEN311_KEY)
        .text("service_code", "lighting")
        .text("lat", LAT)
        .text("long", LONG)
        .text("attribute[state]", "flicker")
        .text("description", "Đèn chập chờn (o311-multipart-marker)");
    let res = Client::new().post(url("requests.xml")).multipart(form).send().await.unwrap();
    let doc = xml_ok(res, StatusCode::OK).await;
    assert_eq!(doc.children[0].names(), ["service_request_id", "service_notice", "account_id"]);
    let id: i64 = doc.children[0].text("service_request_id").parse().unwrap();
    assert_eq!(servers().store.report(id).await.unwrap().attributes["state"], ["flicker"]);
    // Files are not taken: media come as media_url.
    let form = Form::new()
        .text("api_key", OPEN311_KEY)
        .text("service_code", "waste")
        .text("lat", LAT)
        .text("long", LONG)
        .text("description", "o311-file-marker")
        .part("media", Part::bytes(vec![0xFF, 0xD8, 0xFF]).file_name("a.jpg").mime_str("image/jpeg").unwrap());
    let res = Client::new().post(url("requests.json")).multipart(form).send().await.unwrap();
    let e = json_errors(res, 400).await;
    assert!(e[0].starts_with("media:") && e[0].contains("media_url"), "{e:?}");
    assert_eq!(stored_with("o311-file-marker").await, 0);
}

// ---------------------------------------------------------------------------------------------
// GET requests: filters

#[tokio::test]
async fn get_requests_filters() {
    let waste = submit("waste", "Rác (o311-filter-waste)", &[]).await;
    let lamp = submit("lighting", "Đèn (o311-filter-lamp)", &[("attribute[state]", "day")]).await;
    let key = format!("api_key={OPEN311_KEY}");

    // Unverified: listed for their client only.
    assert!(listed(&key).await.contains(&waste));
    assert!(!listed("").await.contains(&waste));
    let operator = login("operator").await;
    act(&operator, waste, json!({"action": "verify"})).await;
    act(&operator, lamp, json!({"action": "verify"})).await;
    let all = listed("").await;
    assert!(all.contains(&waste) && all.contains(&lamp));
    // Newest first.
    assert!(all.iter().position(|x| *x == lamp) < all.iter().position(|x| *x == waste));

    let lights = listed("service_code=lighting").await;
    assert!(lights.contains(&lamp) && !lights.contains(&waste));
    let both = listed("service_code=lighting,waste").await;
    assert!(both.contains(&lamp) && both.contains(&waste));
    let both = listed("service_code=lighting&service_code=waste&status=open").await;
    assert!(both.contains(&lamp) && both.contains(&waste));
    assert!(!listed("status=closed").await.contains(&waste));
    assert!(listed("status=open,closed").await.contains(&waste));

    let now = Utc::now();
    let window = |from: DateTime<Utc>, to: DateTime<Utc>| {
        format!("start_date={}&end_date={}", w3c(from), w3c(to)).replace('+', "%2B")
    };
    let recent = listed(&window(now - TimeDelta::hours(1), now + TimeDelta::minutes(1))).await;
    assert!(recent.contains(&waste) && recent.contains(&lamp));
    assert!(listed(&window(now - TimeDelta::days(10), now - TimeDelta::days(9))).await.is_empty());
    assert!(listed(&format!("start_date={}", w3c(now + TimeDelta::hours(1)))).await.is_empty());
    let in_ict = (now - TimeDelta::hours(1)).with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap());
    let from_ict = listed(&format!(
        "start_date={}",
        in_ict.to_rfc3339_opts(chrono::SecondsFormat::Secs, false).replace('+', "%2B")
    ))
    .await;
    assert!(from_ict.contains(&waste));

    // service_request_id overrides the other filters.
    let mut ids = listed(&format!("service_request_id={waste},{lamp}&status=closed&service_code=education")).await;
    ids.sort();
    assert_eq!(ids, [waste.min(lamp), waste.max(lamp)]);
    assert_eq!(listed(&format!("service_request_id={waste}&service_request_id=999999999,abc")).await, [waste]);
    assert_eq!(listed("page_size=1").await.len(), 1);
    let second = listed("page_size=1&page=2").await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, listed("page_size=1").await);

    let doc = xml_ok(get(&format!("requests.xml?service_request_id={lamp}")).await, StatusCode::OK).await;
    assert_eq!(doc.name, "service_requests");
    assert_eq!(doc.children.len(), 1);
    assert_eq!(doc.children[0].names(), REQUEST_FIELDS);
    assert_eq!(doc.children[0].text("service_code"), "lighting");
    assert_eq!(doc.children[0].text("status"), "open");

    // Bad filters: a 400 naming the parameter, in the format asked.
    let bad = [
        ("start_date=yesterday", "start_date:"),
        ("end_date=2026-01-01T00:00:00", "end_date:"),
        ("start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", "start_date: after end_date"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date: more than 90 days"),
        ("status=pending", "status:"),
        ("service_code=no_such", "service_code: no_such"),
        ("page=0", "page:"),
        ("page_size=-5", "page_size:"),
    ];
    for (query, start) in bad {
        let e = json_errors(get(&format!("requests.json?{query}")).await, 400).await;
        assert!(e.iter().any(|d| d.starts_with(start)), "{query}: {e:?}");
        let e = xml_errors(get(&format!("requests.xml?{query}")).await, 400).await;
        assert!(e.iter().any(|d| d.starts_with(start)), "{query}: {e:?}");
    }
    json_errors(get("requests.json?api_key=wrong-key-123").await, 403).await;
}

// ---------------------------------------------------------------------------------------------
// POST requests: refusals, nothing stored

#[tokio::test]
async fn bad_submissions_are_refused_with_open311_errors_and_nothing_stored() {
    let marker = "o311-refused-marker";
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut fields: Vec<(&str, &str)> = vec![
            ("api_key", OPEN311_KEY),
            ("service_code", "waste"),
            ("lat", LAT),
            ("long", LONG),
            ("description", marker),
        ];
        for (name, value) in extra {
            fields.retain(|(n, _)| n != name);
            if !value.is_empty() {
                fields.push((name, value));
            }
        }
        fields
    };
    let cases: Vec<(Fields, u16, &str)> = vec![
        (base(&[("api_key", "")]), 403, "api_key: required"),
        (base(&[("api_key", "not-the-key-at-all")]), 403, "api_key: not a valid key"),
        (base(&[("service_code", "no_such")]), 404, "service_code: no_such is not a service"),
        (base(&[("service_code", "")]), 400, "service_code: required"),
        (base(&[("lat", ""), ("long", "")]), 400, "lat: required with long"),
        (base(&[("lat", ""), ("long", ""), ("address_string", "12 Trần Hưng Đạo")]), 400, "lat: required with long"),
        (base(&[("long", "")]), 400, "long: required with lat"),
        (base(&[("lat", "abc")]), 400, "lat: not a number"),
        (base(&[("lat", "91")]), 400, "lat: out of range"),
        // Hà Nội: a real place, outside the province.
        (base(&[("lat", "21.0285"), ("long", "105.8542")]), 400, "lat: the place is outside the province"),
        (base(&[("email", "not-an-address")]), 400, "email: not an e-mail address"),
        (base(&[("phone", "call me")]), 400, "phone: not a phone number"),
        (base(&[("media_url", "javascript:alert(1)")]), 400, "media_url: not an http or https URL"),
        (base(&[("attribute[colour]", "red")]), 400, "attribute[colour]: not asked by this service"),
        (base(&[("service_code", "lighting")]), 400, "attribute[state]: required"),
        (
            base(&[("service_code", "lighting"), ("attribute[state]", "broken")]),
            400,
            "attribute[state]: broken is not one of the choices",
        ),
        (
            base(&[("service_code", "lighting"), ("attribute[state]", "off"), ("attribute[lamps]", "many")]),
            400,
            "attribute[lamps]: not a number",
        ),
        (base(&[("first_name", "Lan\u{7}")]), 400, "first_name:"),
    ];
    for (fields, status, start) in &cases {
        let e = json_errors(post_form("requests.json", fields).await, *status).await;
        assert!(e.iter().any(|d| d.starts_with(start)), "{fields:?}: {e:?}");
        let e = xml_errors(post_form("requests.xml", fields).await, *status).await;
        assert!(e.iter().any(|d| d.starts_with(start)), "{fields:?}: {e:?}");
    }
    // Given twice, malformed bodies, other content types, too large.
    let raw = |body: &'static [u8], content_type: &'static str| async move {
        Client::new().post(url("requests.json")).header("content-type", content_type).body(body).send().await.unwrap()
    };
    let form = "application/x-www-form-urlencoded";
    let twice = format!(
        "api_key={OPEN311_KEY}&service_code=waste&service_code=roads&lat={LAT}&long={LONG}&description={marker}"
    );
    let res = Client::new().post(url("requests.json")).header("content-type", form).body(twice).send().await.unwrap();
    let e = json_errors(res, 400).await;
    assert!(e[0].starts_with("service_code: given more than once"), "{e:?}");
    let bad_utf8 = format!("api_key={OPEN311_KEY}&service_code=waste&lat={LAT}&long={LONG}&description=%FF{marker}");
    let res =
        Client::new().post(url("requests.json")).header("content-type", form).body(bad_utf8).send().await.unwrap();
    assert!(json_errors(res, 400).await[0].starts_with("description: not UTF-8"));
    let e = json_errors(raw(br#"{"service_code": "waste"}"#, "application/json").await, 400).await;
    assert!(e[0].starts_with("body:"), "{e:?}");
    let e = json_errors(raw(b"--x\r\nbroken", "multipart/form-data; boundary=x").await, 400).await;
    assert!(e[0].starts_with("body:"), "{e:?}");
    let big = format!("api_key={OPEN311_KEY}&description={}", "a".repeat(70 * 1024));
    let res = Client::new().post(url("requests.json")).header("content-type", form).body(big).send().await.unwrap();
    assert!(json_errors(res, 413).await[0].starts_with("body: larger than"));
    // Unknown format on POST: a 404 in JSON.
    let res = Client::new().post(url("requests.html")).form(&base(&[])).send().await.unwrap();
    json_errors(res, 404).await;

    // Never an RFC 9457 problem on /open311, and none of it stored.
    assert_eq!(stored_with(marker).await, 0, "a refused request left a report behind");
}

#[tokio::test]
async fn submissions_are_limited_per_address() {
    use haidang_api::{ApiConfig, AppState};
    let config = ApiConfig {
        demo: true,
        tile_url: None,
        reports: haidang_api::reports::ReportsConfig {
            dispatch_unit: Some(haidang::demo_reports::DISPATCH_UNIT.into()),
            public_submissions_per_hour: 2,
            ..Default::default()
        },
        ..Default::default()
    };
    let state = AppState::new(servers().store.clone(), config, haidang_auth::PasswordHasher::with_params(1024, 1))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let limited = format!("http://{}/open311/v2/requests.xml", listener.local_addr().unwrap());
    tokio::spawn(haidang_api::serve(listener, state, std::future::pending()));
    let fields = [
        ("api_key", OPEN311_KEY),
        ("service_code", "waste"),
        ("lat", LAT),
        ("long", LONG),
        ("description", "o311-limit"),
    ];
    for _ in 0..2 {
        let res = Client::new().post(&limited).form(&fields).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = Client::new().post(&limited).form(&fields).send().await.unwrap();
    let retry: u64 = res.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry));
    let e = xml_errors(res, 429).await;
    assert!(e[0].contains("try again"), "{e:?}");
}
