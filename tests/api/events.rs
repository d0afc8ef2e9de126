//! The sample events of `events/`: each one is what Lambda hands its function, and each
//! function answers it as expected on the demo data.

use crate::helpers::*;
use cassiopee_api::routes::{Function, ROUTES};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use serde_json::Value;

fn event(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn invoke_http(app: &TestApp, function: Function, name: &str) -> (u16, Value) {
    let raw = event(name);
    let route_key = raw["routeKey"].as_str().unwrap().to_string();
    assert!(
        ROUTES
            .iter()
            .any(|r| format!("{} {}", r.method, r.path) == route_key && r.function == function),
        "{name}: {route_key} is not a route of {}",
        function.name()
    );
    let ag: ApiGatewayV2httpRequest = serde_json::from_value(raw).expect("an HTTP API v2 event");
    let req = lambda_http::Request::from(LambdaRequest::ApiGatewayV2(ag));
    let response = cassiopee_api::handle(&app.local.deps, Some(function), req).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

#[tokio::test]
async fn every_http_sample_event_is_served_by_its_function() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let cases = [
        (Function::ListSessions, "list-sessions.json", 200),
        (Function::Enrol, "enrol.json", 201),
        (Function::Withdraw, "withdraw.json", 200),
        (Function::OfficerProfile, "officer-profile.json", 200),
        (Function::StaffCatalogue, "staff-catalogue.json", 200),
        (Function::StaffSessions, "staff-sessions.json", 200),
        (Function::StaffOfficers, "staff-officers.json", 200),
        (Function::StaffImports, "staff-imports.json", 200),
    ];
    for (function, name, expected) in cases {
        let (status, body) = invoke_http(&app, function, name).await;
        assert_eq!(status, expected, "{name}: {body}");
        match name {
            "list-sessions.json" => assert!(body["count"].as_u64().unwrap() > 0, "{body}"),
            "enrol.json" => assert_eq!(body["status"], "confirmed"),
            "withdraw.json" => assert_eq!(body["status"], "withdrawn"),
            "staff-imports.json" => assert_eq!(body["created"], 1, "{body}"),
            "staff-sessions.json" => assert_eq!(body["roster"].as_array().unwrap().len(), 11),
            _ => {}
        }
    }
    // A deployed function serves only its own routes.
    let (status, _) = invoke_http_as(&app, Function::ListSessions, "enrol.json").await;
    assert_eq!(status, 404);
}

async fn invoke_http_as(app: &TestApp, function: Function, name: &str) -> (u16, Value) {
    let ag: ApiGatewayV2httpRequest = serde_json::from_value(event(name)).unwrap();
    let req = lambda_http::Request::from(LambdaRequest::ApiGatewayV2(ag));
    let response = cassiopee_api::handle(&app.local.deps, Some(function), req).await;
    (response.status().as_u16(), Value::Null)
}

#[tokio::test]
async fn every_job_sample_event_runs_its_job() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    for (function, name) in [
        (Function::PromoteWaitlist, "promote-waitlist.json"),
        (Function::PromoteWaitlist, "promote-waitlist-sweep.json"),
        (
            Function::PromoteWaitlist,
            "promote-waitlist-ses-bounce.json",
        ),
        (Function::SendReminders, "send-reminders.json"),
        (Function::ComputeStatistics, "compute-statistics.json"),
    ] {
        let out = cassiopee_api::jobs::dispatch(&app.local.deps, function, event(name)).await;
        assert!(out.is_ok(), "{name}: {out:?}");
    }
    let stats = cassiopee_api::jobs::dispatch(
        &app.local.deps,
        Function::ComputeStatistics,
        event("compute-statistics.json"),
    )
    .await
    .unwrap();
    // One row per training with a session started by the clock of the demo data.
    assert!(stats["rows"].as_u64().unwrap() > 10, "{stats}");
}

#[test]
fn every_function_has_a_sample_event() {
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for f in Function::ALL {
        assert!(
            names.iter().any(|n| n.starts_with(f.name())),
            "no sample event for {}",
            f.name()
        );
    }
}
