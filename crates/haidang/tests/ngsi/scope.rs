//! Org-unit scope on context data: a commune's token reads and writes its own commune only;
//! anonymous callers read nothing but open types.

use super::common::*;
use serde_json::Value;

#[tokio::test]
async fn a_commune_token_cannot_read_or_write_another_communes_entities() {
    let a = unit_token("21583").await; // Phường Quy Nhơn
    let b = unit_token("23575").await; // Phường Pleiku
    let (alon, alat) = centre("21583").await;
    let (blon, blat) = centre("23575").await;
    let in_a = uid("AirQualityObserved");
    assert_eq!(post_json(&a, "/entities", &air_quality(&in_a, alon, alat, 5.0)).await.status(), 201);
    // A cannot create in B's place.
    let in_b = uid("AirQualityObserved");
    let res = post_json(&a, "/entities", &air_quality(&in_b, blon, blat, 5.0)).await;
    assert_eq!(res.status(), 403);
    ngsi_problem(get(&b, &format!("/entities/{in_a}")).await, 404, "ResourceNotFound").await;
    let listed: Vec<Value> = get(&b, "/entities?type=AirQualityObserved&limit=1000").await.json().await.unwrap();
    assert!(listed.iter().all(|e| e["id"] != in_a.as_str()));
    let res = b.delete(url(&format!("/entities/{in_a}"))).send().await.unwrap();
    ngsi_problem(res, 404, "ResourceNotFound").await;
    assert_eq!(get(&a, &format!("/entities/{in_a}")).await.status(), 200);
    // The province sees it.
    assert_eq!(get(&admin(), &format!("/entities/{in_a}")).await.status(), 200);
    // Anonymous: nothing unless the type is open; writing needs a token.
    let anon = reqwest::Client::new();
    ngsi_problem(get(&anon, &format!("/entities/{in_a}")).await, 404, "ResourceNotFound").await;
    let res = post_json(&anon, "/entities", &air_quality(&uid("AirQualityObserved"), alon, alat, 1.0)).await;
    assert_eq!(res.status(), 401);
}
