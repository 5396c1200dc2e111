//! Deadlines and escalation of citizen reports on an injectable clock: the working calendar
//! (weekends, Tết, make-up days, after-hours arrival), and the urgent procedure escalating to
//! the IOC on duty and the leader when no unit accepts in time — no sleeping, the clock moves.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use haidang_api::reports::follow;
use haidang_api::reports::intake::{Submission, submit};
use haidang_api::reports::workflow::{ActionRequest, plan};
use haidang_api::{ApiConfig, AppState};
use haidang_auth::PasswordHasher;
use haidang_core::{Clock, ManualClock, Principal};
use haidang_reports::Channel;
use haidang_store::{Actor, AuditCtx, ContactDetails, Report, Store};
use std::sync::Arc;

const QUY_NHON: &str = "21583";

fn vn(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(7 * 3600).unwrap().with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

struct World {
    state: AppState,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn world(start: DateTime<Utc>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start);
    let store = Store::open(dir.path(), Arc::new(clock.clone())).await.unwrap();
    haidang::demo::load(&store, &PasswordHasher::with_params(1024, 1), "demo-Password-2025", Some("follow-test-token"))
        .await
        .unwrap();
    haidang::demo_reports::load(&store, "follow-open311-key").await.unwrap();
    let config = ApiConfig {
        demo: true,
        reports: haidang_api::reports::ReportsConfig {
            dispatch_unit: Some(haidang::demo_reports::DISPATCH_UNIT.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let state = AppState::new(store, config, PasswordHasher::with_params(1024, 1)).await.unwrap();
    World { state, clock, _dir: dir }
}

impl World {
    async fn report(&self, category: &str, urgent: bool) -> Report {
        self.report_from(category, urgent, ContactDetails::default()).await
    }

    async fn report_from(&self, category: &str, urgent: bool, contact: ContactDetails) -> Report {
        let store = &self.state.store;
        let category = store.category_by_code(category).await.unwrap();
        let commune = store.org_unit_by_code(QUY_NHON).await.unwrap();
        let sub = Submission {
            channel: Channel::Hotline,
            category_id: category.id,
            title: None,
            description: "Mương thoát nước bị tắc".into(),
            lat: commune.lat.unwrap(),
            lon: commune.lon.unwrap(),
            address: None,
            urgent,
            contact,
            confidential: false,
            consent: true,
            attributes: Default::default(),
            open311_client_id: None,
            open311_token: None,
        };
        let ctx = AuditCtx::system("test");
        submit(&self.state, &ctx, ctx.actor.clone(), sub, Vec::new()).await.unwrap()
    }

    async fn act(&self, report: &Report, req: ActionRequest) -> Report {
        let ctx = AuditCtx::system("test");
        let actor = Actor { kind: "system".into(), id: None, name: "test".into() };
        let step = plan(&self.state, &Principal::system(), actor, report, &req).await.unwrap();
        self.state.store.report_step(&ctx, report.id, &step).await.unwrap()
    }

    async fn assign(&self, report: &Report) -> Report {
        let r = self
            .act(
                report,
                ActionRequest::Verify { category_id: None, urgent: None, public_description: None, note: None },
            )
            .await;
        let unit = self.state.store.org_unit_by_code(QUY_NHON).await.unwrap().id;
        self.act(&r, ActionRequest::Assign { unit_id: unit.0, user_id: None, coordinators: vec![], note: None }).await
    }

    async fn events(&self, r: &Report) -> Vec<(String, Option<String>)> {
        let events = self.state.store.work_events(r.work.id).await.unwrap();
        events.into_iter().map(|e| (e.kind, e.note)).collect()
    }

    async fn kinds(&self, r: &Report) -> Vec<String> {
        self.events(r).await.into_iter().map(|(k, _)| k).collect()
    }
}

#[tokio::test]
async fn a_report_received_after_hours_before_tet_is_due_after_the_holiday() {
    // Friday 13 Feb 2026, 16:30: half an hour of office time is left, then Tết (14–22 Feb).
    let w = world(vn(2026, 2, 13, 16, 30)).await;
    let r = w.report("waste", false).await;
    // The IOC has 4 working hours to verify: 0.5 h on Friday, 3.5 h from Monday 23 Feb 07:30.
    assert_eq!(r.work.due_at, Some(vn(2026, 2, 23, 11, 0)));
    assert_eq!(r.work.clocking.as_deref(), Some("working"));

    // Assigned on Saturday 10 Jan 2026 — a make-up working day — at 18:00, after hours.
    let w = world(vn(2026, 1, 10, 18, 0)).await;
    let r = w.assign(&w.report("waste", false).await).await;
    // 40 working hours (5 days of 8 h) from Monday 12 Jan 07:30: Friday 16 Jan 17:00.
    assert_eq!(r.work.due_at, Some(vn(2026, 1, 16, 17, 0)));
    assert_eq!(r.handling_due_at, r.work.due_at);

    // Received on the make-up Saturday itself at 10:00 — it counts as a working day.
    let w = world(vn(2026, 1, 10, 10, 0)).await;
    let r = w.report("waste", false).await;
    assert_eq!(r.work.due_at, Some(vn(2026, 1, 10, 15, 30)), "1.5 h before lunch, 2.5 h after");
}

#[tokio::test]
async fn a_weekend_and_a_holiday_are_skipped_and_wall_clock_runs_for_urgent_reports() {
    // Thursday 30 Apr 2026 09:00 is a holiday (with 1 May): counting starts Monday 4 May.
    let w = world(vn(2026, 4, 30, 9, 0)).await;
    let normal = w.report("waste", false).await;
    assert_eq!(normal.work.due_at, Some(vn(2026, 5, 4, 11, 30)));
    // An urgent report counts wall-clock time even on a holiday: 30 minutes to verify.
    let urgent = w.report("waste", true).await;
    assert_eq!(urgent.work.due_at, Some(vn(2026, 4, 30, 9, 30)));
    assert_eq!(urgent.work.clocking.as_deref(), Some("wall"));
    let assigned = w.assign(&urgent).await;
    assert_eq!(assigned.work.due_at, Some(vn(2026, 4, 30, 13, 0)), "4 hours, day or night");
}

#[tokio::test]
async fn an_urgent_report_nobody_accepts_escalates_to_the_ioc_on_duty_and_the_leader() {
    let w = world(vn(2026, 3, 3, 22, 0)).await; // Tuesday night
    let mut live = w.state.live.subscribe();
    let r = w.assign(&w.report("flooding", false).await).await; // urgent by category
    assert!(r.urgent);
    assert_eq!(r.work.accept_within_minutes, Some(30));
    while let Ok(e) = live.try_recv() {
        let _ = e; // the assignment's own events
    }

    w.clock.advance(Duration::minutes(29));
    assert_eq!(follow::tick(&w.state).await.unwrap(), 0, "still within the acceptance window");
    assert!(!w.kinds(&r).await.contains(&"escalated".to_owned()));

    w.clock.advance(Duration::minutes(2));
    assert_eq!(follow::tick(&w.state).await.unwrap(), 1);
    let events = w.events(&r).await;
    let escalations: Vec<&str> =
        events.iter().filter(|(k, _)| k == "escalated").filter_map(|(_, n)| n.as_deref()).collect();
    assert_eq!(escalations.len(), 2, "{events:?}");
    assert!(escalations[0].contains("IOC trực ban") && escalations[1].contains("lãnh đạo tỉnh"), "{escalations:?}");
    let now = w.state.store.report(r.id).await.unwrap();
    assert_eq!(now.work.level, 3);

    // On screen: an alarm for the IOC on duty.
    let mut alarms = 0;
    while let Ok(e) = live.try_recv() {
        if e.topic == "alarm" {
            alarms += 1;
        }
    }
    assert!(alarms >= 1, "the IOC on duty sees an alarm");
    // By e-mail: the operator on duty and the province's leader.
    let notices = w.state.store.notices_due(w.clock.now(), 100).await.unwrap();
    let to: Vec<&str> =
        notices.iter().filter(|n| n.reference.as_deref() == Some(&r.code)).map(|n| n.address.as_str()).collect();
    assert!(to.contains(&"operator@demo.haidang.invalid"), "{to:?}");
    assert!(to.contains(&"leader@demo.haidang.invalid"), "{to:?}");

    // The same tick again changes nothing: each step is told once.
    assert_eq!(follow::tick(&w.state).await.unwrap(), 0);
    assert_eq!(w.kinds(&r).await.iter().filter(|k| *k == "escalated").count(), 2);
}

#[tokio::test]
async fn accepted_work_warns_then_goes_overdue_then_reminds() {
    let w = world(vn(2026, 3, 2, 8, 0)).await; // Monday
    let r = w.assign(&w.report("waste", false).await).await;
    let r = w.act(&r, ActionRequest::Accept { user_id: None, note: None }).await;
    let due = r.work.due_at.unwrap();
    let warn = r.work.warn_at.unwrap();
    // 40 working hours from Monday 08:00: 7.5 h on Monday, 8 h Tuesday to Friday, 0.5 h the next Monday.
    assert_eq!(due, vn(2026, 3, 9, 8, 0));
    w.clock.set(warn - Duration::minutes(1));
    assert_eq!(follow::tick(&w.state).await.unwrap(), 0);
    w.clock.set(warn);
    follow::tick(&w.state).await.unwrap();
    assert!(w.kinds(&r).await.contains(&"due_soon".to_owned()));
    w.clock.set(due + Duration::minutes(1));
    follow::tick(&w.state).await.unwrap();
    let kinds = w.kinds(&r).await;
    assert!(kinds.contains(&"overdue".to_owned()), "{kinds:?}");
    // Four hours later the IOC on duty is told, and reminders follow every four hours.
    w.clock.set(due + Duration::hours(4) + Duration::minutes(1));
    follow::tick(&w.state).await.unwrap();
    let r2 = w.state.store.report(r.id).await.unwrap();
    assert_eq!(r2.work.level, 2);
    w.clock.set(due + Duration::hours(8) + Duration::minutes(2));
    follow::tick(&w.state).await.unwrap();
    assert!(w.kinds(&r).await.contains(&"reminder".to_owned()));
    // Resolving stops the follower.
    let r3 = w.act(&r2, ActionRequest::Resolve { result: "Đã nạo vét".into(), attachment_ids: vec![] }).await;
    assert_eq!(r3.work.next_check_at, None);
    w.clock.advance(Duration::days(3));
    assert_eq!(follow::tick(&w.state).await.unwrap(), 0);
}

#[tokio::test]
async fn the_citizen_is_told_of_each_public_step_by_e_mail_and_erased_details_stop_it() {
    let w = world(vn(2026, 3, 2, 9, 0)).await;
    let mut r = w.report("waste", false).await;
    let store = &w.state.store;
    let with_contact = w
        .report_from("waste", false, ContactDetails { name: None, phone: None, email: Some("dan@example.vn".into()) })
        .await;
    r = w.assign(&r).await; // no contact: nobody to tell
    let _ = r;
    let r2 = w.assign(&with_contact).await;
    let outbox = tempfile::tempdir().unwrap();
    let channels = haidang_notify::Channels::new()
        .with(haidang_notify::MaildirChannel::new(outbox.path(), "Hải Đăng <noreply@test.invalid>").unwrap());
    let sent = haidang::jobs::deliver_notices(&w.state, &channels).await.unwrap();
    // Received, verified, assigned: three messages to the citizen, none for the report without contact.
    let mails: Vec<String> = std::fs::read_dir(outbox.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|m| m.contains(&r2.code))
        .collect();
    assert_eq!(mails.len(), 3, "{sent} sent");
    assert!(mails.iter().all(|m| m.contains("To: dan@example.vn")), "{mails:?}");
    assert_eq!(haidang::jobs::deliver_notices(&w.state, &channels).await.unwrap(), 0, "each notice is sent once");

    // After erasure, later steps tell nobody.
    let ctx = AuditCtx::system("test");
    assert_eq!(store.erase_contacts(&ctx, &[r2.id], "test").await.unwrap(), 1);
    let r3 = store.report(r2.id).await.unwrap();
    w.act(&r3, ActionRequest::Accept { user_id: None, note: None }).await;
    assert_eq!(haidang::jobs::deliver_notices(&w.state, &channels).await.unwrap(), 0);
}
