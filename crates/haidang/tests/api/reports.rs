//! Citizen field reports through the HTTP API: who sees a report (scope), what never leaves
//! for the public or for those outside the handling chain (privacy), citizens' data requests,
//! bad input refused with a precise problem and nothing stored, the public form's rate limit,
//! staff-entered channels, and the statistics after a full loop.
//!
//! The store is shared with every other test: each test follows its own reports (by id or
//! tracking code) or its own category, never global counts.

use super::support::*;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const QUY_NHON: &str = "21583"; // `commune`
const PLEIKU: &str = "23575"; // `commune2`

// ---------------------------------------------------------------------------------------------
// Helpers

/// A commune's id and centre, as staff see it through the API.
#[derive(Debug, Clone, Copy)]
struct Place {
    unit: i64,
    lat: f64,
    lon: f64,
}

async fn place(code: &str) -> Place {
    let admin = login("admin").await;
    let res = admin.get(&format!("/api/org-units?q={code}&limit=50")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let unit = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap_or_else(|| panic!("no unit {code} in {body}"))
        .clone();
    Place { unit: unit["id"].as_i64().unwrap(), lat: unit["lat"].as_f64().unwrap(), lon: unit["lon"].as_f64().unwrap() }
}

/// The id of a category by its code.
async fn category(code: &str) -> i64 {
    let admin = login("admin").await;
    let all: Value = admin.get("/api/report-categories").await.json().await.unwrap();
    all.as_array().unwrap().iter().find(|c| c["code"] == code).unwrap_or_else(|| panic!("no category {code}"))["id"]
        .as_i64()
        .unwrap()
}

/// A category of this test's own (handled by the commune of the place, in the environment
/// field), so statistics grouped or filtered by it count only this test's reports.
async fn own_category(code: &str) -> i64 {
    let admin = login("admin").await;
    let res = admin
        .post(
            "/api/report-categories",
            json!({
                "code": code, "parent_id": null, "name_vi": format!("Kiểm thử {code}"), "name_en": format!("Test {code}"),
                "rule": {"kind": "by_place"}, "field": "environment",
                "normal_working_hours": 40.0, "urgent_hours": 4.0, "accept_within_minutes": 30,
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The public form's multipart body: the `report` part and `file` parts (bytes, declared type).
fn form(report: Option<String>, files: &[(Vec<u8>, &str)]) -> Form {
    let mut form = Form::new();
    if let Some(r) = report {
        form = form.part("report", Part::text(r).mime_str("application/json").unwrap());
    }
    for (i, (bytes, content_type)) in files.iter().enumerate() {
        let part = Part::bytes(bytes.clone()).file_name(format!("photo-{i}")).mime_str(content_type).unwrap();
        form = form.part("file", part);
    }
    form
}

/// Sends the public form to the server at `base`, as a citizen without an account.
async fn submit_raw(base: &str, report: Option<String>, files: &[(Vec<u8>, &str)]) -> Response {
    Client::new().post(format!("{base}/api/public/reports")).multipart(form(report, files)).send().await.unwrap()
}

/// A valid public report at the centre of `at`, with `extra` fields merged in.
fn report_json(category_id: i64, at: Place, description: &str, extra: Value) -> Value {
    let mut r = json!({
        "category_id": category_id, "description": description, "lat": at.lat, "lon": at.lon, "consent": true,
    });
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// Submits a report that must be accepted; returns its tracking code and id.
async fn submit(report: Value, files: &[(Vec<u8>, &str)]) -> (String, i64) {
    let res = submit_raw(&servers().demo, Some(report.to_string()), files).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "received", "{body}");
    let code = body["code"].as_str().unwrap().to_owned();
    (code.clone(), id_of(&code).await)
}

/// A report's id from its tracking code, as the operator finds it.
async fn id_of(code: &str) -> i64 {
    let operator = login("operator").await;
    let items = list(&operator, &format!("/api/reports?view=all&q={code}")).await;
    assert_eq!(items.len(), 1, "{code}: {items:?}");
    items[0]["id"].as_i64().unwrap()
}

async fn list(s: &Session, path: &str) -> Vec<Value> {
    let res = s.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let body: Value = res.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn listed_ids(s: &Session, path: &str) -> Vec<i64> {
    list(s, path).await.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

async fn act(s: &Session, id: i64, body: Value) -> Response {
    s.post(&format!("/api/reports/{id}/actions"), body).await
}

/// An action that must succeed; returns the report's detail after it.
async fn step(s: &Session, id: i64, body: Value) -> Value {
    let res = act(s, id, body.clone()).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body} on {id}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn detail(s: &Session, id: i64) -> Value {
    let res = s.get(&format!("/api/reports/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Takes the report from where it stands to published: verify, assign to `unit`, accept and
/// resolve (by the `commune` officer), approve with the given photos published.
async fn handle_to_published(id: i64, unit: i64, result: &str, publish: &[i64]) -> Value {
    let operator = login("operator").await;
    let commune = login("commune").await;
    let steps = [
        ("received", &operator, json!({"action": "verify"})),
        ("verified", &operator, json!({"action": "assign", "unit_id": unit})),
        ("assigned", &commune, json!({"action": "accept"})),
        ("in_progress", &commune, json!({"action": "resolve", "result": result})),
        ("resolved", &operator, json!({"action": "approve", "publish_attachment_ids": publish})),
    ];
    let mut d = detail(&operator, id).await;
    for (from, who, action) in steps {
        if d["status"] == from {
            d = step(who, id, action).await;
        }
    }
    assert_eq!(d["status"], "published", "{d}");
    d
}

async fn stats(s: &Session, query: &str) -> Value {
    let res = s.get(&format!("/api/reports/stats?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

/// The stats row of `key`, or zeros when the group has no report.
fn row(stats: &Value, key: i64) -> Value {
    stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"].as_str() == Some(key.to_string().as_str()))
        .cloned()
        .unwrap_or_else(
            || json!({"received": 0, "on_time": 0, "late": 0, "resolved": 0, "satisfied": 0, "unsatisfied": 0}),
        )
}

fn n(v: &Value, field: &str) -> i64 {
    v[field].as_i64().unwrap_or_else(|| panic!("{field} in {v}"))
}

fn halves() -> RgbImage {
    RgbImage::from_fn(40, 20, |x, _| if x < 20 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) })
}

fn png() -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(halves()).write_with_encoder(PngEncoder::new(&mut out)).unwrap();
    out
}

/// A little-endian TIFF block as EXIF holds it, with only a GPS position:
/// 13°46'12"N 109°13'48"E (Quy Nhơn).
fn exif_gps_tiff() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    // Header 8, IFD0 (1 entry) 18 bytes, GPS IFD (4 entries) 54 bytes, then the rationals.
    let (gps_ifd, lat_at, lon_at) = (26u32, 80u32, 104u32);
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut t, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, gps_ifd);
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, lat_at.to_le_bytes());
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, RATIONAL, 3, lon_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, lat_at);
    for v in [13u32, 46, 12, 109, 13, 48] {
        t.extend_from_slice(&v.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
    }
    t
}

/// A JPEG photo carrying an EXIF segment with a GPS position, right after the start marker.
fn jpeg_with_gps() -> Vec<u8> {
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&halves()).unwrap();
    let exif = [b"Exif\0\0".as_slice(), &exif_gps_tiff()].concat();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(exif.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// 1. Scope

#[tokio::test]
async fn a_report_is_seen_only_within_its_commune_and_handling_chain() {
    let cat = own_category("test_scope").await;
    let quy_nhon = place(QUY_NHON).await;
    let operator = login("operator").await;
    let commune = login("commune").await;
    let commune2 = login("commune2").await;
    let specialist = login("specialist").await;
    let stats_query = format!("category={cat}");
    let b_before = stats(&commune2, &stats_query).await;

    let (code, id) = submit(
        report_json(cat, quy_nhon, "Rác tồn đọng ở góc đường, kiểm tra phạm vi", json!({})),
        &[(png(), "image/png")],
    )
    .await;
    let first = detail(&operator, id).await;
    assert_eq!(first["commune"]["id"], quy_nhon.unit, "the centre of Quy Nhơn lies in Quy Nhơn: {first}");
    let aid = first["attachments"][0]["id"].as_i64().expect("the photo is attached");

    // Received: in the IOC's queue, not yet in the commune's, but in the commune's reports.
    assert!(listed_ids(&operator, "/api/reports?view=inbox&limit=500").await.contains(&id));
    assert!(!listed_ids(&commune, "/api/reports?view=inbox&limit=500").await.contains(&id));
    assert!(listed_ids(&commune, "/api/reports?view=all&limit=500").await.contains(&id));
    assert_eq!(detail(&commune, id).await["id"], id);

    let outsiders_refused = |when: &'static str| {
        let (commune2, specialist, code) = (&commune2, &specialist, code.clone());
        async move {
            for s in [commune2, specialist] {
                let who = s.me["username"].as_str().unwrap_or("?").to_owned();
                for path in [
                    format!("/api/reports/{id}"),
                    format!("/api/reports/{id}/contact"),
                    format!("/api/reports/{id}/duplicates"),
                    format!("/api/reports/{id}/attachments/{aid}"),
                    format!("/api/reports/{id}/attachments/{aid}?size=thumb"),
                ] {
                    problem(s.get(&path).await, 404, "not-found").await;
                }
                for action in
                    [json!({"action": "verify"}), json!({"action": "accept"}), json!({"action": "update", "note": "x"})]
                {
                    let res = act(s, id, action.clone()).await;
                    assert!(
                        matches!(res.status().as_u16(), 403 | 404),
                        "{who} {when}: {action} answered {}",
                        res.status()
                    );
                }
                for view in ["all", "inbox"] {
                    let ids = listed_ids(s, &format!("/api/reports?view={view}&limit=500")).await;
                    assert!(!ids.contains(&id), "{who} {when}: {view} lists {id}");
                    let found = list(s, &format!("/api/reports?view={view}&q={code}")).await;
                    assert!(found.is_empty(), "{who} {when}: search by code finds {found:?}");
                }
                let res = s.get("/api/reports/export?format=csv&view=all").await;
                assert_eq!(res.status(), StatusCode::OK);
                let csv = res.text().await.unwrap();
                assert!(csv.trim_start_matches('\u{feff}').starts_with("id,code,status"), "{csv}");
                assert!(!csv.contains(&code), "{who} {when}: the export holds {code}");
                let bulk: Value =
                    s.post("/api/reports/bulk", json!({"ids": [id], "action": "accept"})).await.json().await.unwrap();
                assert_eq!(bulk["done"], json!([]), "{who} {when}: {bulk}");
                assert_eq!(bulk["failed"][0]["problem"]["status"], 404, "{who} {when}: {bulk}");
            }
        }
    };
    outsiders_refused("while received").await;

    step(&operator, id, json!({"action": "verify"})).await;
    // Verified: still the IOC's work, not the commune's.
    assert!(!listed_ids(&commune, "/api/reports?view=inbox&limit=500").await.contains(&id));
    let assigned = step(&operator, id, json!({"action": "assign", "unit_id": quy_nhon.unit})).await;
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["handler_unit"]["id"], quy_nhon.unit);

    // Assigned to Quy Nhơn: in its inbox now, and its officer may open the photo.
    assert!(listed_ids(&commune, "/api/reports?view=inbox&limit=500").await.contains(&id));
    let photo = commune.get(&format!("/api/reports/{id}/attachments/{aid}")).await;
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/png");
    let csv = commune.get("/api/reports/export?format=csv&view=all").await.text().await.unwrap();
    assert!(csv.contains(&code), "the handling commune exports its report");
    assert!(detail(&commune, id).await["allowed_actions"].as_array().unwrap().contains(&json!("accept")));
    outsiders_refused("once assigned").await;

    // Statistics of this category: one report for Quy Nhơn, none for Pleiku.
    let a_stats = stats(&commune, &stats_query).await;
    assert_eq!(n(&a_stats["totals"], "received"), 1, "{a_stats}");
    let b_after = stats(&commune2, &stats_query).await;
    assert_eq!(b_after["totals"], b_before["totals"], "Pleiku's statistics changed: {b_after}");
    assert_eq!(n(&b_after["totals"], "received"), 0, "{b_after}");
    let spec = stats(&specialist, &stats_query).await;
    assert_eq!(n(&spec["totals"], "received"), 0, "a specialist of another field counts it: {spec}");
    // Naming another commune's unit is refused, not answered with its numbers.
    problem(commune2.get(&format!("/api/reports/stats?unit={}", quy_nhon.unit)).await, 422, "validation").await;
    problem(commune2.get(&format!("/api/reports?view=inbox&unit={}", quy_nhon.unit)).await, 422, "validation").await;
    assert!(list(&commune2, &format!("/api/reports?view=all&commune={}", quy_nhon.unit)).await.is_empty());
    // And the other way round: Quy Nhơn's officer cannot ask for Pleiku's queue.
    let pleiku = place(PLEIKU).await;
    problem(commune.get(&format!("/api/reports?view=inbox&unit={}", pleiku.unit)).await, 422, "validation").await;
}

// ---------------------------------------------------------------------------------------------
// 2. Privacy

#[tokio::test]
async fn contact_details_are_shown_only_on_request_to_the_handling_chain_and_never_in_public() {
    const NAME: &str = "Trần Thị Riêng Tư";
    const PHONE: &str = "0905123456";
    const EMAIL: &str = "rieng.tu.privacy@example.com";
    const DESC_PHONE: &str = "0912345678";
    const STAFF_NOTE: &str = "Ghi chú nội bộ: gọi chị Riêng Tư trước khi đến";
    const RESULT_PHONE: &str = "0987654321";
    let staff_names = ["Điều hành viên IOC (demo)", "Cán bộ phường Quy Nhơn (demo)", "Lãnh đạo UBND tỉnh (demo)"];
    let quy_nhon = place(QUY_NHON).await;
    let waste = category("waste").await;
    let operator = login("operator").await;
    let commune = login("commune").await;
    let commune2 = login("commune2").await;
    let leader = login("leader").await;
    let admin = login("admin").await;

    let (code, id) = submit(
        report_json(
            waste,
            quy_nhon,
            &format!("Bãi rác tự phát sau chợ, ai cần thì gọi {DESC_PHONE} để được chỉ chỗ"),
            json!({"contact": {"name": NAME, "phone": PHONE, "email": EMAIL}}),
        ),
        &[(jpeg_with_gps(), "image/jpeg"), (png(), "image/png")],
    )
    .await;

    // The detail says only that there are details, and whether the caller may open them.
    let secret_free = |what: &str, text: &str| {
        for secret in [NAME, PHONE, EMAIL] {
            assert!(!text.contains(secret), "{what} holds {secret}: {text}");
        }
    };
    let d = detail(&operator, id).await;
    secret_free("the operator's detail", &d.to_string());
    assert_eq!(d["contact"], json!({"present": true, "erased": false, "may_view": true}), "{d}");
    let d = detail(&leader, id).await;
    secret_free("the leader's detail", &d.to_string());
    assert_eq!(d["contact"]["may_view"], false, "{d}");
    let photo = d["attachments"][0]["id"].as_i64().unwrap();
    let unpublished = d["attachments"][1]["id"].as_i64().unwrap();
    secret_free("the list", &list(&operator, &format!("/api/reports?view=all&q={code}")).await[0].to_string());
    let csv = operator.get(&format!("/api/reports/export?format=csv&view=all&q={code}")).await.text().await.unwrap();
    secret_free("the export", &csv);

    // The leader reads reports but does not handle them: no contact.
    problem(leader.get(&format!("/api/reports/{id}/contact")).await, 403, "forbidden").await;
    // The operator (dispatching) may, and the view is logged.
    let res = operator.get(&format!("/api/reports/{id}/contact")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"name": NAME, "phone": PHONE, "email": EMAIL}));

    step(&operator, id, json!({"action": "verify"})).await;
    step(&operator, id, json!({"action": "assign", "unit_id": quy_nhon.unit, "note": STAFF_NOTE})).await;
    // The commune officer handling it may too; another commune's officer does not even see it.
    assert_eq!(detail(&commune, id).await["contact"]["may_view"], true);
    let res = commune.get(&format!("/api/reports/{id}/contact")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["phone"], PHONE);
    problem(commune2.get(&format!("/api/reports/{id}/contact")).await, 404, "not-found").await;
    problem(leader.get(&format!("/api/reports/{id}/contact")).await, 403, "forbidden").await;

    // Each view: a `viewed_contact` event on the staff timeline and an audit entry.
    let d = detail(&operator, id).await;
    let views: Vec<&Value> =
        d["timeline"].as_array().unwrap().iter().filter(|e| e["kind"] == "viewed_contact").collect();
    let viewers: Vec<&str> = views.iter().map(|e| e["actor"]["name"].as_str().unwrap()).collect();
    assert_eq!(viewers, ["operator", "commune"], "{views:?}");
    assert!(views.iter().all(|e| e["public"] == false));
    assert!(
        d["timeline"].as_array().unwrap().iter().any(|e| e["note"] == STAFF_NOTE && e["public"] == false),
        "the staff note is on the staff timeline: {d}"
    );
    let audit = list(&admin, &format!("/api/audit?object_type=report&object_id={id}&limit=500")).await;
    let mut logged: Vec<&str> = audit
        .iter()
        .filter(|e| e["action"] == "report.view_contact")
        .map(|e| e["actor"]["name"].as_str().unwrap())
        .collect();
    logged.sort();
    assert_eq!(logged, ["commune", "operator"], "{audit:?}");
    secret_free("the audit log", &serde_json::to_string(&audit).unwrap());

    // The public sees nothing personal, at any stage.
    let public_clean = |what: String, v: Value| {
        let text = v.to_string();
        secret_free(&what, &text);
        for secret in [DESC_PHONE, RESULT_PHONE, STAFF_NOTE] {
            assert!(!text.contains(secret), "{what} holds {secret}: {text}");
        }
        for name in staff_names {
            assert!(!text.contains(name), "{what} names {name}: {text}");
        }
        assert!(!text.contains("\"actor\"") && !text.contains("handler_user"), "{what}: {text}");
        assert!(!text.contains(&code), "{what} shows the tracking code: {text}");
    };
    let track = |code: String| async move {
        let res = Client::new().get(format!("{}/api/public/track/{code}", servers().demo)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()
    };
    let public_get =
        |path: String| async move { Client::new().get(format!("{}{path}", servers().demo)).send().await.unwrap() };
    let tracked = track(code.clone()).await;
    assert_eq!(tracked["status"], "assigned");
    assert!(tracked["description"].as_str().unwrap().contains("[số điện thoại]"), "{tracked}");
    public_clean("tracking while assigned".into(), tracked);
    problem(public_get(format!("/api/public/reports/{id}")).await, 404, "not-found").await;
    for a in [photo, unpublished] {
        problem(public_get(format!("/api/public/media/{a}")).await, 404, "not-found").await;
    }

    // Published with one of its two photos.
    let result = format!("Đã thu gom xong; nếu còn rác xin gọi {RESULT_PHONE}");
    handle_to_published(id, quy_nhon.unit, &result, &[photo]).await;
    let tracked = track(code.clone()).await;
    assert_eq!(tracked["status"], "published");
    assert_eq!(tracked["can_rate"], true);
    assert!(tracked["result"].as_str().unwrap().contains("[số điện thoại]"), "{tracked}");
    assert!(tracked["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == "assign"), "{tracked}");
    public_clean("tracking once published".into(), tracked);
    let res = public_get(format!("/api/public/reports/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let one: Value = res.json().await.unwrap();
    assert_eq!(one["photos"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["photos"][0]["id"], photo);
    public_clean("the public report".into(), one);
    let res = public_get(format!("/api/public/reports?commune={}&limit=200", quy_nhon.unit)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    let mine = page["items"].as_array().unwrap().iter().find(|r| r["id"] == id).cloned();
    public_clean("the public list".into(), mine.expect("the published report is listed"));

    // The published photo is served, re-encoded without its EXIF position; the other is not.
    let res = public_get(format!("/api/public/media/{photo}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(!contains(&bytes, b"Exif"), "the EXIF segment left with the photo");
    assert!(!contains(&bytes, &exif_gps_tiff()[26..50]), "the GPS directory left with the photo");
    let thumb = public_get(format!("/api/public/media/{photo}?size=thumb")).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert!(!contains(&thumb.bytes().await.unwrap(), b"Exif"));
    problem(public_get(format!("/api/public/media/{unpublished}")).await, 404, "not-found").await;
}

// ---------------------------------------------------------------------------------------------
// 3. Privacy requests

#[tokio::test]
async fn citizens_data_requests_find_and_erase_their_contact_details() {
    const EMAIL: &str = "xoa.du.lieu@example.com";
    const PHONE: &str = "0935111222";
    let quy_nhon = place(QUY_NHON).await;
    let waste = category("waste").await;
    let admin = login("admin").await;
    let operator = login("operator").await;
    let (code, id) = submit(
        report_json(
            waste,
            quy_nhon,
            "Rác chưa được thu gom ba ngày nay, gọi tôi 0935111222",
            json!({"contact": {"name": "Lê Văn Xoá", "phone": PHONE, "email": EMAIL}}),
        ),
        &[],
    )
    .await;

    // Only administrators take these requests.
    problem(operator.post("/api/privacy/lookup", json!({"email": EMAIL})).await, 403, "forbidden").await;
    problem(
        operator.post("/api/privacy/erase", json!({"email": EMAIL, "note": "yêu cầu số 1"})).await,
        403,
        "forbidden",
    )
    .await;
    let p = problem(admin.post("/api/privacy/lookup", json!({})).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "email", "{p}");
    let p = problem(admin.post("/api/privacy/erase", json!({"email": EMAIL})).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "note", "{p}");

    let res = admin.post("/api/privacy/lookup", json!({"email": EMAIL})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let found: Value = res.json().await.unwrap();
    let held = found["reports"].as_array().unwrap();
    assert_eq!(held.len(), 1, "{found}");
    assert_eq!(held[0]["id"], id);
    assert_eq!(held[0]["code"], code.as_str());
    assert_eq!(held[0]["email"], EMAIL);
    assert_eq!(held[0]["phone"], PHONE);
    let by_phone: Value = admin.post("/api/privacy/lookup", json!({"phone": PHONE})).await.json().await.unwrap();
    assert_eq!(by_phone["reports"][0]["id"], id, "{by_phone}");
    // The lookup read the details: it is logged like any view.
    let d = detail(&operator, id).await;
    assert!(d["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == "viewed_contact"), "{d}");

    let res = admin.post("/api/privacy/erase", json!({"email": EMAIL, "note": "Yêu cầu xoá dữ liệu số 7/2025"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let erased: Value = res.json().await.unwrap();
    assert_eq!(erased["erased"], 1, "{erased}");

    let d = detail(&operator, id).await;
    assert_eq!(d["contact"]["erased"], true, "{d}");
    assert_eq!(d["contact"]["present"], false, "{d}");
    assert!(d["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == "contact_erased"), "{d}");
    // The phone number written into the text is gone too.
    assert!(!d["description"].as_str().unwrap().contains(PHONE), "{d}");
    assert!(d["description"].as_str().unwrap().contains("[số điện thoại]"), "{d}");
    let res = operator.get(&format!("/api/reports/{id}/contact")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"name": null, "phone": null, "email": null}));
    let again: Value = admin.post("/api/privacy/lookup", json!({"phone": PHONE})).await.json().await.unwrap();
    assert_eq!(again["reports"], json!([]), "{again}");
    let audit =
        list(&admin, &format!("/api/audit?object_type=report&object_id={id}&action=report.erase_contact")).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Bad input

#[tokio::test]
async fn bad_submissions_are_refused_precisely_and_store_nothing() {
    const MARK: &str = "kiemtrasai";
    let quy_nhon = place(QUY_NHON).await;
    let waste = category("waste").await;
    let lighting = category("lighting").await;
    let admin = login("admin").await;
    let base = &servers().demo;
    let good = |extra: Value| report_json(waste, quy_nhon, &format!("Phản ánh {MARK} có lỗi"), extra);
    let stored = || async { list(&admin, &format!("/api/reports?view=all&limit=500&q={MARK}")).await.len() };
    assert_eq!(stored().await, 0);

    let field_of = |p: &Value| p["errors"][0]["field"].as_str().unwrap_or_default().to_owned();
    let refused = |report: Option<String>, files: Vec<(Vec<u8>, &'static str)>, status: u16, slug: &'static str| async move {
        problem(submit_raw(base, report, &files).await, status, slug).await
    };

    // Hà Nội is not in the province.
    let p = refused(Some(good(json!({"lat": 21.03, "lon": 105.85})).to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "lat", "{p}");
    let p = refused(Some(good(json!({"lat": 95.0})).to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "lat", "{p}");
    let p = refused(Some(good(json!({"category_id": 987_654})).to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "category_id", "{p}");
    let p = refused(Some(good(json!({"consent": false})).to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "consent", "{p}");
    let mut no_consent = good(json!({}));
    no_consent.as_object_mut().unwrap().remove("consent");
    let p = refused(Some(no_consent.to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "consent", "{p}");
    let p = refused(Some(good(json!({"contact": {"email": "not-an-address"}})).to_string()), vec![], 422, "validation")
        .await;
    assert_eq!(field_of(&p), "contact.email", "{p}");
    let p = refused(Some(good(json!({"is_admin": true})).to_string()), vec![], 422, "validation").await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("is_admin"), "{p}");

    // Files: an executable dressed as a PNG, a truncated PNG, six files, one too large.
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    exe.resize(2048, 0);
    let p = refused(Some(good(json!({})).to_string()), vec![(exe, "image/png")], 422, "validation").await;
    assert_eq!(field_of(&p), "file[0]", "{p}");
    let whole = png();
    let truncated = whole[..whole.len() / 2].to_vec();
    let p = refused(
        Some(good(json!({})).to_string()),
        vec![(whole.clone(), "image/png"), (truncated, "image/png")],
        422,
        "validation",
    )
    .await;
    assert_eq!(field_of(&p), "file[1]", "{p}");
    let six = vec![(whole.clone(), "image/png"); 6];
    let p = refused(Some(good(json!({})).to_string()), six, 422, "validation").await;
    assert_eq!(field_of(&p), "file[5]", "{p}");
    let mut huge = whole[..33].to_vec(); // signature and IHDR: a PNG by its bytes
    huge.resize(10 * 1024 * 1024 + 4096, 0);
    refused(Some(good(json!({})).to_string()), vec![(huge, "image/png")], 413, "payload-too-large").await;

    // The form itself: no report part, malformed JSON, a required attribute missing.
    let p = refused(None, vec![(whole.clone(), "image/png")], 422, "validation").await;
    assert_eq!(field_of(&p), "report", "{p}");
    refused(Some("{\"category_id\": ".into()), vec![], 400, "malformed-json").await;
    let lamp = |attributes: Value| {
        report_json(lighting, quy_nhon, &format!("Đèn đường {MARK} hỏng"), json!({"attributes": attributes}))
    };
    let p = refused(Some(lamp(json!({"lamps": ["2"]})).to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "attributes.state", "{p}");
    let p = refused(Some(lamp(json!({"state": ["exploded"]})).to_string()), vec![], 422, "validation").await;
    assert_eq!(field_of(&p), "attributes.state", "{p}");

    // None of these left a report behind.
    assert_eq!(stored().await, 0, "a refused submission was stored");

    // The control: the same form, corrected, is stored (so the count above can see one).
    let (_, id) = submit(good(json!({})), &[(whole, "image/png")]).await;
    assert_eq!(stored().await, 1);

    // Workflow: an illegal move, the wrong duty, an unknown action.
    let operator = login("operator").await;
    let commune = login("commune").await;
    let p = problem(act(&operator, id, json!({"action": "resolve", "result": "xong"})).await, 409, "conflict").await;
    let detail_text = p["detail"].as_str().unwrap();
    assert!(detail_text.contains("received") && detail_text.contains("resolve"), "{p}");
    problem(act(&commune, id, json!({"action": "verify"})).await, 403, "forbidden").await;
    let p = problem(act(&operator, id, json!({"action": "teleport"})).await, 422, "validation").await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("teleport"), "{p}");
    let p = problem(
        act(&operator, id, json!({"action": "reject", "reason": "boring", "note": "x"})).await,
        422,
        "validation",
    )
    .await;
    // (Not named by field: the action's tag is read first and the path inside it is lost; the
    // reason names the bad value.)
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("boring"), "{p}");
    let p = problem(act(&operator, id, json!({"action": "merge", "into": id})).await, 422, "validation").await;
    assert_eq!(field_of(&p), "into", "{p}");
    step(&operator, id, json!({"action": "verify"})).await;
    let p = problem(act(&operator, id, json!({"action": "assign", "unit_id": 987_654})).await, 422, "validation").await;
    assert_eq!(field_of(&p), "unit_id", "{p}");
    assert_eq!(detail(&operator, id).await["status"], "verified", "a refused action changed the report");

    // Bulk: 1 to 200 reports.
    let unit = quy_nhon.unit;
    let p = problem(
        operator.post("/api/reports/bulk", json!({"ids": [], "action": "assign", "unit_id": unit})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(field_of(&p), "ids", "{p}");
    let many: Vec<i64> = (1..=201).collect();
    let p = problem(
        operator.post("/api/reports/bulk", json!({"ids": many, "action": "assign", "unit_id": unit})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(field_of(&p), "ids", "{p}");
    let p = problem(
        operator.post("/api/reports/bulk", json!({"ids": [id], "action": "assign", "unit_id": unit, "x": 1})).await,
        422,
        "validation",
    )
    .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("`x`"), "{p}");
    assert_eq!(detail(&operator, id).await["status"], "verified");
    // A good batch: each report succeeds or fails alone.
    let res =
        operator.post("/api/reports/bulk", json!({"ids": [id, 987_654], "action": "assign", "unit_id": unit})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bulk: Value = res.json().await.unwrap();
    assert_eq!(bulk["done"], json!([id]), "{bulk}");
    assert_eq!(bulk["failed"][0]["id"], 987_654, "{bulk}");
    assert_eq!(bulk["failed"][0]["problem"]["status"], 404, "{bulk}");
    assert_eq!(detail(&operator, id).await["status"], "assigned");
}

/// The web form sends a single-value attribute as a string and a multi-value one as a list.
#[tokio::test]
async fn category_attributes_are_accepted_as_the_web_form_sends_them() {
    let quy_nhon = place(QUY_NHON).await;
    let lighting = category("lighting").await;
    let operator = login("operator").await;
    let (_, id) = submit(
        report_json(
            lighting,
            quy_nhon,
            "Đèn đường không sáng cả đoạn",
            json!({"attributes": {"state": "off", "lamps": "3"}}),
        ),
        &[],
    )
    .await;
    let d = detail(&operator, id).await;
    assert_eq!(d["attributes"]["state"], json!(["off"]), "{d}");
    assert_eq!(d["attributes"]["lamps"], json!(["3"]), "{d}");
    let (_, id) =
        submit(report_json(lighting, quy_nhon, "Đèn chập chờn", json!({"attributes": {"state": ["flicker"]}})), &[])
            .await;
    assert_eq!(detail(&operator, id).await["attributes"]["state"], json!(["flicker"]));
}

// ---------------------------------------------------------------------------------------------
// 5. Rate limit

#[tokio::test]
async fn the_public_form_is_limited_per_address() {
    use haidang_api::{ApiConfig, AppState};
    let store = servers().store.clone();
    let config = ApiConfig {
        demo: true,
        tile_url: None,
        reports: haidang_api::reports::ReportsConfig {
            dispatch_unit: Some(haidang::demo_reports::DISPATCH_UNIT.into()),
            public_submissions_per_hour: 3,
            ..Default::default()
        },
        ..Default::default()
    };
    let state = AppState::new(store, config, haidang_auth::PasswordHasher::with_params(1024, 1)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let limited = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(haidang_api::serve(listener, state, std::future::pending()));

    let quy_nhon = place(QUY_NHON).await;
    let waste = category("waste").await;
    let report = report_json(waste, quy_nhon, "Rác thải ven đường, kiểm tra giới hạn", json!({})).to_string();
    for i in 0..3 {
        let res = submit_raw(&limited, Some(report.clone()), &[]).await;
        assert_eq!(res.status(), StatusCode::CREATED, "submission {i}: {}", res.text().await.unwrap());
    }
    let res = submit_raw(&limited, Some(report.clone()), &[]).await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
    problem(res, 429, "rate-limited").await;
    // The other servers keep their own count.
    let res = submit_raw(&servers().demo, Some(report), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

// ---------------------------------------------------------------------------------------------
// 6. Staff-entered channels

#[tokio::test]
async fn operators_enter_hotline_reports_but_not_web_ones() {
    let quy_nhon = place(QUY_NHON).await;
    let roads = category("roads").await;
    let operator = login("operator").await;
    let commune = login("commune").await;
    let body = |channel: &str| {
        json!({
            "channel": channel, "category_id": roads, "description": "Ổ gà lớn giữa đường, người dân gọi đường dây nóng",
            "lat": quy_nhon.lat, "lon": quy_nhon.lon, "contact": {"name": "Người gọi", "phone": "0905999888"},
        })
    };
    let res = operator.post("/api/reports", body("hotline")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["channel"], "hotline", "{created}");
    assert_eq!(created["status"], "received");
    assert_eq!(created["commune"]["id"], quy_nhon.unit);
    assert_eq!(created["contact"]["present"], true);
    assert!(!created.to_string().contains("0905999888"), "{created}");
    let id = created["id"].as_i64().unwrap();
    let received = &created["timeline"][0];
    assert_eq!(received["kind"], "received");
    assert!(received["note"].as_str().unwrap().contains("hotline"), "{received}");
    assert!(listed_ids(&operator, "/api/reports?view=all&channel=hotline&limit=500").await.contains(&id));
    assert!(!listed_ids(&operator, "/api/reports?view=all&channel=web&limit=500").await.contains(&id));
    assert_eq!(detail(&operator, id).await["channel"], "hotline");

    for channel in ["web", "open311", "carrier_pigeon"] {
        let p = problem(operator.post("/api/reports", body(channel)).await, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], "channel", "{channel}: {p}");
    }
    // Entering reports is dispatching: a commune officer may not.
    problem(commune.post("/api/reports", body("hotline")).await, 403, "forbidden").await;
}

// ---------------------------------------------------------------------------------------------
// 7. Statistics

#[tokio::test]
async fn statistics_count_a_full_loop_and_export() {
    let cat = own_category("test_stats").await;
    let quy_nhon = place(QUY_NHON).await;
    let admin = login("admin").await;
    let before = stats(&admin, "group=category").await;
    assert_eq!(n(&row(&before, cat), "received"), 0);

    let (code, id) =
        submit(report_json(cat, quy_nhon, "Vũng nước đọng lâu ngày, kiểm tra thống kê", json!({})), &[]).await;
    let middle = stats(&admin, "group=category").await;
    let r = row(&middle, cat);
    assert_eq!((n(&r, "received"), n(&r, "in_progress"), n(&r, "resolved")), (1, 1, 0), "{r}");

    handle_to_published(id, quy_nhon.unit, "Đã khơi thông cống", &[]).await;
    let res = Client::new()
        .post(format!("{}/api/public/track/{code}/rating", servers().demo))
        .json(&json!({"satisfied": true, "comment": "Cảm ơn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rated: Value = res.json().await.unwrap();
    assert_eq!(rated["status"], "closed", "{rated}");
    assert_eq!(rated["can_rate"], false);
    // Rated once: a second rating is refused.
    let res = Client::new()
        .post(format!("{}/api/public/track/{code}/rating", servers().demo))
        .json(&json!({"satisfied": false}))
        .send()
        .await
        .unwrap();
    problem(res, 409, "conflict").await;

    let after = stats(&admin, "group=category").await;
    let r = row(&after, cat);
    for (field, expected) in [
        ("received", 1),
        ("resolved", 1),
        ("on_time", 1),
        ("late", 0),
        ("in_progress", 0),
        ("satisfied", 1),
        ("unsatisfied", 0),
    ] {
        assert_eq!(n(&r, field), expected, "{field} in {r}");
    }
    assert_eq!(r["satisfaction_rate"], 1.0, "{r}");
    assert!(r["mean_handling_hours"].as_f64().is_some(), "{r}");
    assert_eq!(r["name"], "Kiểm thử test_stats");
    for field in ["received", "resolved", "on_time", "satisfied"] {
        assert!(n(&after["totals"], field) > n(&before["totals"], field), "{field}: {before} → {after}");
    }
    // Filtered to the category, the totals are this one report.
    let only = stats(&admin, &format!("category={cat}")).await;
    assert_eq!((n(&only["totals"], "resolved"), n(&only["totals"], "satisfied")), (1, 1), "{only}");

    let res = admin.get(&format!("/api/reports/stats/export?format=xlsx&group=category&category={cat}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let xlsx = res.bytes().await.unwrap();
    assert!(xlsx.starts_with(b"PK"), "not an XLSX (zip) file");
    let res = admin.get(&format!("/api/reports/stats/export?format=csv&group=category&category={cat}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "key,name,received,on_time,late,in_progress,overdue,resolved,rejected,satisfied,unsatisfied,satisfaction_rate,mean_handling_hours"
    );
    let line = lines.next().unwrap();
    assert!(line.starts_with(&format!("{cat},Kiểm thử test_stats,1,1,0,0,0,1,0,1,0,1.000,")), "{csv}");
    problem(admin.get("/api/reports/stats/export?format=pdf").await, 422, "validation").await;
    problem(admin.get("/api/reports/stats?group=planet").await, 422, "validation").await;
}
