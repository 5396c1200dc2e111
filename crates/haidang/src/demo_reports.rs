//! The demo's report set-up: the categories a province would start with, the official working
//! calendars, and one registered Open311 client (the province's SmartCity app).

use anyhow::Context;
use haidang_reports::{AttributeDef, AttributeType, AttributeValue, CategoryDeadlines, HandlingRule};
use haidang_store::{AuditCtx, CategoryInput, Store};

pub const DISPATCH_UNIT: &str = "GL-SKHCN-IOC";
const SET_UP: &str = "demo.reports";
const OPEN311_CLIENT: &str = "SmartCity Gia Lai (demo)";

/// (code, parent code, Vietnamese, English, rule: "place" or a unit code, field, urgent by default)
type Seed = (&'static str, Option<&'static str>, &'static str, &'static str, &'static str, Option<&'static str>, bool);

const CATEGORIES: [Seed; 16] = [
    ("urban_order", None, "Trật tự đô thị", "Urban order", "place", Some("urban_order"), false),
    (
        "sidewalk",
        Some("urban_order"),
        "Lấn chiếm vỉa hè, lòng đường",
        "Sidewalk and road encroachment",
        "place",
        Some("urban_order"),
        false,
    ),
    ("environment", None, "Môi trường, rác thải", "Environment and waste", "place", Some("environment"), false),
    (
        "waste",
        Some("environment"),
        "Rác thải không được thu gom",
        "Uncollected rubbish",
        "place",
        Some("environment"),
        false,
    ),
    ("roads", None, "Đường sá, giao thông", "Roads and traffic", "place", Some("transport"), false),
    (
        "fallen_tree",
        Some("roads"),
        "Cây đổ, vật cản trên đường",
        "Fallen tree or obstacle on a road",
        "place",
        Some("transport"),
        true,
    ),
    ("lighting", None, "Chiếu sáng công cộng", "Public lighting", "GL-SXD", Some("lighting"), false),
    ("water", None, "Cấp thoát nước", "Water and drainage", "place", Some("water"), false),
    ("flooding", Some("water"), "Ngập úng", "Flooding", "place", Some("water"), true),
    ("security", None, "An ninh, trật tự", "Security and order", "GL-CA", Some("security_order"), false),
    ("health", None, "Y tế, an toàn thực phẩm", "Health and food safety", "GL-SYT", Some("health"), false),
    ("education", None, "Giáo dục", "Education", "GL-SGDDT", Some("education"), false),
    ("public_services", None, "Dịch vụ công", "Public services", "place", Some("public_services"), false),
    ("construction", None, "Xây dựng trái phép", "Unauthorised construction", "place", Some("construction"), false),
    ("noise", Some("urban_order"), "Tiếng ồn", "Noise", "place", Some("urban_order"), false),
    ("other", None, "Khác", "Other", "place", None, false),
];

fn lamp_questions() -> Vec<AttributeDef> {
    vec![
        AttributeDef {
            code: "lamps".into(),
            label_vi: "Số bóng đèn hỏng".into(),
            label_en: "Lamps out".into(),
            datatype: AttributeType::Number,
            required: false,
            values: vec![],
        },
        AttributeDef {
            code: "state".into(),
            label_vi: "Tình trạng".into(),
            label_en: "State".into(),
            datatype: AttributeType::Singlevaluelist,
            required: true,
            values: vec![
                AttributeValue { key: "off".into(), name_vi: "Không sáng".into(), name_en: "Off".into() },
                AttributeValue { key: "flicker".into(), name_vi: "Chập chờn".into(), name_en: "Flickering".into() },
                AttributeValue { key: "day".into(), name_vi: "Sáng ban ngày".into(), name_en: "On by day".into() },
            ],
        },
    ]
}

/// Loads categories and calendars once; registers (or re-keys) the Open311 client every start.
pub async fn load(store: &Store, open311_key: &str) -> anyhow::Result<()> {
    let ctx = AuditCtx::system("demo");
    if store.setting(SET_UP).await?.is_none() {
        for year in [2025, 2026] {
            let days = haidang_work::official(year).with_context(|| format!("no official calendar for {year}"))?;
            store.set_calendar_days(&ctx, &days).await?;
        }
        for (i, (code, parent, vi, en, rule, field, urgent)) in CATEGORIES.into_iter().enumerate() {
            let rule = match rule {
                "place" => HandlingRule::ByPlace,
                unit => HandlingRule::ByField { unit_id: store.org_unit_by_code(unit).await?.id },
            };
            let parent_id = match parent {
                Some(p) => Some(store.category_by_code(p).await?.id),
                None => None,
            };
            let input = CategoryInput {
                code: code.into(),
                parent_id,
                name_vi: vi.into(),
                name_en: en.into(),
                description_vi: String::new(),
                description_en: String::new(),
                rule,
                field: field.map(haidang_core::FieldCode::parse).transpose()?,
                deadlines: CategoryDeadlines {
                    normal_working_hours: if urgent { 8.0 } else { 40.0 },
                    urgent_hours: 4.0,
                    accept_within_minutes: 30,
                },
                urgent_by_default: urgent,
                attributes: if code == "lighting" { lamp_questions() } else { Vec::new() },
                keywords: Vec::new(),
                active: true,
                sort_order: i as i64,
            };
            store.save_category(&ctx, None, &input).await?;
        }
        store.set_setting(SET_UP, "1").await?;
    }
    let hash = haidang_auth::hash_secret(open311_key);
    store.upsert_open311_client(&ctx, OPEN311_CLIENT, &hash).await?;
    Ok(())
}
