//! Clauses 6.14–6.17: batch operations.

use super::common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn batch_upsert_creates_then_updates_and_reports_failures_per_entity() {
    let (lon, lat) = centre("21583").await;
    let ids: Vec<String> = (0..5).map(|_| uid("WeatherObserved")).collect();
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"id": id, "type": "WeatherObserved",
                         "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
                         "temperature": {"type": "Property", "value": 27.5}})
        })
        .collect();
    let res = post_json(&admin(), "/entityOperations/upsert", &Value::Array(batch.clone())).await;
    assert_eq!(res.status(), 201);
    let created: Vec<String> = res.json().await.unwrap();
    assert_eq!(created, ids);
    let res = post_json(&admin(), "/entityOperations/upsert?options=update", &Value::Array(batch)).await;
    assert_eq!(res.status(), 204);

    let mut mixed = vec![json!({"id": uid("WeatherObserved"), "type": "WeatherObserved"})];
    mixed.push(json!({"id": "not a uri", "type": "WeatherObserved"}));
    let res = post_json(&admin(), "/entityOperations/create", &Value::Array(mixed)).await;
    assert_eq!(res.status(), 207);
    let result: Value = res.json().await.unwrap();
    assert_eq!(result["success"].as_array().unwrap().len(), 1);
    assert_eq!(result["errors"][0]["entityId"], "not a uri");
    assert_eq!(result["errors"][0]["error"]["type"], "https://uri.etsi.org/ngsi-ld/errors/BadRequestData");

    let res = post_json(&admin(), "/entityOperations/delete", &json!(ids)).await;
    assert_eq!(res.status(), 204);
    let res = post_json(&admin(), "/entityOperations/delete", &json!([ids[0]])).await;
    assert_eq!(res.status(), 207);
}

#[tokio::test]
async fn query_by_type_counts_and_pages() {
    let (lon, lat) = centre("21583").await;
    let ty = format!("Counted{}", uid("T").replace([':', '-'], ""));
    let batch: Vec<Value> = (0..7)
        .map(|_| {
            json!({"id": uid(&ty), "type": ty,
                        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}})
        })
        .collect();
    assert_eq!(post_json(&admin(), "/entityOperations/create", &Value::Array(batch)).await.status(), 201);
    let res = get(&admin(), &format!("/entities?type={ty}&count=true&limit=5")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["ngsild-results-count"], "7");
    let page: Vec<Value> = res.json().await.unwrap();
    assert_eq!(page.len(), 5);
    let rest: Vec<Value> = get(&admin(), &format!("/entities?type={ty}&limit=5&offset=5")).await.json().await.unwrap();
    assert_eq!(rest.len(), 2);
    ngsi_problem(get(&admin(), "/entities").await, 400, "BadRequestData").await;
    ngsi_problem(get(&admin(), &format!("/entities?type={ty}&limit=5000")).await, 403, "TooManyResults").await;
}

#[tokio::test]
async fn query_with_q_and_geo_queries() {
    let (lon, lat) = centre("21583").await;
    let ty = format!("Station{}", uid("T").replace([':', '-'], ""));
    let batch: Vec<Value> = [(5.0, 0.0), (40.0, 0.001), (80.0, 0.5)]
        .iter()
        .map(|(pm25, dlat)| {
            json!({"id": uid(&ty), "type": ty,
                   "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat + dlat]}},
                   "pm25": {"type": "Property", "value": pm25},
                   "status": {"type": "Property", "value": if *pm25 > 50.0 { "bad" } else { "ok" }}})
        })
        .collect();
    assert_eq!(post_json(&admin(), "/entityOperations/create", &Value::Array(batch)).await.status(), 201);
    let n = |q: &str| {
        let path = format!("/entities?type={ty}&count=true&limit=0&{q}");
        async move {
            let res = get(&admin(), &path).await;
            assert_eq!(res.status(), 200, "{path}");
            res.headers()["ngsild-results-count"].to_str().unwrap().parse::<u32>().unwrap()
        }
    };
    assert_eq!(n("q=pm25%3E10").await, 2);
    assert_eq!(n("q=pm25%3E10;status==%22ok%22").await, 1);
    assert_eq!(n("q=pm25==1..45").await, 2);
    assert_eq!(n("q=status==%22bad%22|pm25%3C6").await, 2);
    // Numeric terms are narrowed in SQL first; values that are not plain numbers still reach the
    // exact filter: a text value, a list, and a second instance (datasetId) that passes.
    let odd = [
        json!({"id": uid(&ty), "type": ty, "pm25": {"type": "Property", "value": "high"}}),
        json!({"id": uid(&ty), "type": ty, "pm25": {"type": "Property", "value": [3, 99]}}),
        json!({"id": uid(&ty), "type": ty, "pm25": [{"type": "Property", "value": 1},
                                                    {"type": "Property", "value": 90, "datasetId": "urn:ngsi-ld:Dataset:b"}]}),
    ];
    assert_eq!(post_json(&admin(), "/entityOperations/create", &Value::Array(odd.to_vec())).await.status(), 201);
    let exact = |pm25: &Value, above: f64| -> bool {
        let values: Vec<&Value> = match pm25 {
            Value::Array(instances) if instances.iter().all(Value::is_object) => {
                instances.iter().map(|i| &i["value"]).collect()
            }
            one => vec![&one["value"]],
        };
        values.iter().any(|v| match v {
            Value::Number(x) => x.as_f64().unwrap() > above,
            Value::Array(items) => items.iter().any(|x| x.as_f64().is_some_and(|x| x > above)),
            _ => false,
        })
    };
    let expected = odd.iter().filter(|e| exact(&e["pm25"], 50.0)).count() as u32 + 1;
    assert_eq!(n("q=pm25%3E50").await, expected, "SQL narrowing agrees with the exact filter");
    let near = format!("georel=near;maxDistance==1000&geometry=Point&coordinates=%5B{lon},{lat}%5D");
    assert_eq!(n(&near).await, 2);
    ngsi_problem(get(&admin(), &format!("/entities?type={ty}&q=pm25%3E%3E")).await, 400, "BadRequestData").await;
    ngsi_problem(
        get(&admin(), &format!("/entities?type={ty}&georel=near;maxDistance==10&geometry=Point")).await,
        400,
        "BadRequestData",
    )
    .await;
    ngsi_problem(
        get(
            &admin(),
            &format!("/entities?type={ty}&georel=within&geometry=Polygon&coordinates=%5B%5B%5B1,1%5D,%5B2,2%5D%5D%5D"),
        )
        .await,
        400,
        "BadRequestData",
    )
    .await;
}
