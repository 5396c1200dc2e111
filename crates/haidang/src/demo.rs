//! The demo province: Gia Lai (code 52), which since July 2025 includes Bình Định, the model
//! province of the 2025 IOC document. Its communes, codes, centres and areas in km² are the
//! official dataset; its departments' codes, the IOC's placement and the people are invented
//! for the demo and marked as such.

use crate::import::import_province;
use anyhow::Context;
use chrono::{Duration, FixedOffset, TimeZone, Utc};
use haidang_auth::{PasswordHasher, hash_secret};
use haidang_core::{FieldCode, OrgUnitId, OrgUnitType, Permission, Role};
use haidang_store::{AuditCtx, Contact, NewOrgUnit, NewToken, NewUser, Store};

pub const PROVINCE: &str = "52";
pub const DEFAULT_PASSWORD: &str = "demo-Password-2025";
const LOADED: &str = "demo.loaded";

/// Departments of the demo province. Their codes are placeholders (`demo_code`), since the
/// province assigns its own.
const DEPARTMENTS: [(&str, &str, OrgUnitType); 13] = [
    ("GL-VP", "Văn phòng UBND tỉnh", OrgUnitType::Agency),
    ("GL-SKHCN", "Sở Khoa học và Công nghệ", OrgUnitType::Department),
    ("GL-SYT", "Sở Y tế", OrgUnitType::Department),
    ("GL-SGDDT", "Sở Giáo dục và Đào tạo", OrgUnitType::Department),
    ("GL-SNNMT", "Sở Nông nghiệp và Môi trường", OrgUnitType::Department),
    ("GL-SXD", "Sở Xây dựng", OrgUnitType::Department),
    ("GL-STC", "Sở Tài chính", OrgUnitType::Department),
    ("GL-SCT", "Sở Công Thương", OrgUnitType::Department),
    ("GL-SNV", "Sở Nội vụ", OrgUnitType::Department),
    ("GL-STP", "Sở Tư pháp", OrgUnitType::Department),
    ("GL-SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", OrgUnitType::Department),
    ("GL-CA", "Công an tỉnh", OrgUnitType::Police),
    ("GL-BCHQS", "Bộ Chỉ huy Quân sự tỉnh", OrgUnitType::Agency),
];

const IOC_CODE: &str = "GL-SKHCN-IOC";
const SOC_CODE: &str = "GL-SKHCN-SOC";

/// Fields of work (lĩnh vực) that grants can be narrowed to.
pub const FIELDS: [(&str, &str, &str); 12] = [
    ("urban_order", "Trật tự đô thị", "Urban order"),
    ("environment", "Môi trường, rác thải", "Environment and waste"),
    ("transport", "Giao thông", "Roads and traffic"),
    ("construction", "Xây dựng", "Construction"),
    ("water", "Cấp thoát nước", "Water and drainage"),
    ("lighting", "Chiếu sáng công cộng", "Public lighting"),
    ("security_order", "An ninh, trật tự", "Security and order"),
    ("health", "Y tế", "Health"),
    ("education", "Giáo dục", "Education"),
    ("agriculture", "Nông nghiệp", "Agriculture"),
    ("public_services", "Dịch vụ công", "Public services"),
    ("information_security", "An toàn thông tin", "Information security"),
];

/// A demo account: username, display name, home unit code, role, grant unit code, fields.
type DemoAccount = (&'static str, &'static str, &'static str, Role, &'static str, &'static [&'static str]);

const ACCOUNTS: [DemoAccount; 7] = [
    ("admin", "Quản trị hệ thống (demo)", PROVINCE, Role::Administrator, PROVINCE, &[]),
    ("leader", "Lãnh đạo UBND tỉnh (demo)", "GL-VP", Role::Leader, PROVINCE, &[]),
    ("operator", "Điều hành viên IOC (demo)", IOC_CODE, Role::Operator, PROVINCE, &[]),
    ("specialist", "Chuyên viên Sở Xây dựng (demo)", "GL-SXD", Role::Specialist, PROVINCE, &["construction"]),
    ("commune", "Cán bộ phường Quy Nhơn (demo)", "21583", Role::CommuneOfficer, "21583", &[]),
    ("commune2", "Cán bộ phường Pleiku (demo)", "23575", Role::CommuneOfficer, "23575", &[]),
    ("soc", "Chuyên viên SOC (demo)", SOC_CODE, Role::SocAnalyst, PROVINCE, &[]),
];

pub struct DemoSummary {
    pub province: String,
    pub communes: i64,
    pub departments: i64,
    pub token: String,
}

fn demo_ctx() -> AuditCtx {
    AuditCtx::system("demo")
}

/// Loads the demo province into an empty store, or brings an existing demo store up to date:
/// the demo password, the demo token and a duty roster around the present moment.
pub async fn load(
    store: &Store,
    hasher: &PasswordHasher,
    password: &str,
    token: Option<&str>,
) -> anyhow::Result<DemoSummary> {
    let ctx = demo_ctx();
    if store.setting(LOADED).await?.is_none() {
        import_province(store, &ctx, PROVINCE).await.context("importing the demo province")?;
        let root = store.root_unit().await?.context("the demo province has no root")?;
        for (code, name, unit_type) in DEPARTMENTS {
            store.create_org_unit(&ctx, unit(code, name, unit_type, root.id)).await?;
        }
        let skhcn = store.org_unit_by_code("GL-SKHCN").await?;
        store
            .create_org_unit(
                &ctx,
                unit(IOC_CODE, "Trung tâm Giám sát, điều hành thông minh (IOC)", OrgUnitType::Division, skhcn.id),
            )
            .await?;
        store
            .create_org_unit(
                &ctx,
                unit(SOC_CODE, "Trung tâm Giám sát an toàn thông tin (SOC)", OrgUnitType::Division, skhcn.id),
            )
            .await?;
        for (code, vi, en) in FIELDS {
            store.upsert_field(&FieldCode::parse(code)?, vi, en).await?;
        }
        for (username, display, home, role, grant_unit, fields) in ACCOUNTS {
            let home = store.org_unit_by_code(home).await?;
            let user = store
                .create_user(
                    &ctx,
                    NewUser {
                        username: username.into(),
                        display_name: display.into(),
                        email: Some(format!("{username}@demo.haidang.invalid")),
                        phone: None,
                        home_unit: home.id,
                        password_hash: hasher.hash(password),
                        must_change_password: false,
                    },
                )
                .await?;
            let grant_unit = store.org_unit_by_code(grant_unit).await?;
            let fields: Vec<FieldCode> = fields.iter().map(|f| FieldCode::parse(f)).collect::<Result<_, _>>()?;
            store.grant(&ctx, user.id, role, grant_unit.id, &fields).await?;
        }
        store.set_setting(LOADED, &Utc::now().to_rfc3339()).await?;
    }
    for (username, ..) in ACCOUNTS {
        let creds =
            store.credentials(username).await?.with_context(|| format!("demo account {username} is missing"))?;
        if !hasher.verify(password, &creds.password_hash) {
            store.set_password(&ctx, creds.user_id, &hasher.hash(password), false, None).await?;
        }
    }
    ensure_roster(store).await?;
    let root = store.root_unit().await?.context("the demo province has no root")?;
    let token = match token {
        Some(t) => t.to_owned(),
        None => haidang_auth::new_secret("hdt_").value,
    };
    store
        .upsert_named_token(
            &ctx,
            NewToken {
                name: "demo".into(),
                secret_hash: hash_secret(&token),
                unit: root.id,
                permissions: Permission::ALL.to_vec(),
                entity_types: None,
                expires_at: None,
                created_by: None,
            },
        )
        .await?;
    let communes = [OrgUnitType::Ward, OrgUnitType::Commune, OrgUnitType::SpecialZone];
    let mut n = 0;
    for t in communes {
        n += store.count_org_units(Some(t)).await?;
    }
    let departments = store.count_org_units(Some(OrgUnitType::Department)).await?
        + store.count_org_units(Some(OrgUnitType::Agency)).await?
        + store.count_org_units(Some(OrgUnitType::Police)).await?;
    Ok(DemoSummary { province: root.name, communes: n, departments, token })
}

fn unit(code: &str, name: &str, unit_type: OrgUnitType, parent: OrgUnitId) -> NewOrgUnit {
    NewOrgUnit {
        code: code.into(),
        name: name.into(),
        short_name: None,
        unit_type,
        parent_id: Some(parent),
        lat: None,
        lon: None,
        area_km2: None,
        demo_code: true,
        contact: Contact::default(),
    }
}

/// Day (07:00–19:00) and night shifts at the IOC for yesterday to a week ahead, so that
/// someone is always "the IOC on duty" in the demo. Existing shifts are kept.
async fn ensure_roster(store: &Store) -> anyhow::Result<()> {
    let ioc = store.org_unit_by_code(IOC_CODE).await?;
    let operator = store.user_by_username("operator").await?;
    let local = FixedOffset::east_opt(7 * 3600).context("UTC+7")?;
    let now = store.clock().now();
    let today = now.with_timezone(&local).date_naive();
    let ctx = demo_ctx();
    for day in -1..=7 {
        for start_hour in [7, 19] {
            let date = today + Duration::days(day);
            let Some(start) = date.and_hms_opt(start_hour, 0, 0).and_then(|t| local.from_local_datetime(&t).single())
            else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            let end = start + Duration::hours(12);
            if !store.list_shifts(start, end, None).await?.is_empty() {
                continue;
            }
            store.create_shift(&ctx, ioc.id, operator.id, start, end).await?;
        }
    }
    Ok(())
}

/// The logins the demo prints.
pub fn accounts() -> impl Iterator<Item = (&'static str, &'static str)> {
    ACCOUNTS.iter().map(|(u, d, ..)| (*u, *d))
}
