//! The local stand-in for API Gateway: routes each request to the function that owns it,
//! checks the bearer token as the JWT authorizer would, and builds the HTTP API (v2) event
//! Lambda would deliver.

use crate::{Local, dev};
use axum::Router;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use cassiopee_api::http::MAX_IMPORT_BODY;
use cassiopee_api::problem::raw_problem;
use cassiopee_api::routes::{Lookup, lookup};
use lambda_http::Body as LambdaBody;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub fn router(local: Local) -> Router {
    Router::new()
        .route("/dev/sign-in", post(dev::sign_in))
        .route("/dev/clock", get(dev::get_clock).post(dev::set_clock))
        .route("/dev/outbox", get(dev::outbox))
        .route("/dev/jobs/{name}", post(dev::run_job))
        .fallback(gateway)
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .with_state(local)
}

/// The server's own refusals (a body over the limit, a wrong method on a `/dev/` route) come
/// as plain text or empty; give them the same problem+json shape as every other error. The
/// functions' own answers (JSON, or the HTML pages of the one-time links) pass as they are.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    let shaped = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"));
    if shaped || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, detail) = match status.as_u16() {
        405 => (
            "method-not-allowed",
            "Cette méthode n'est pas prise en charge pour cette adresse.",
        ),
        413 => (
            "payload-too-large",
            "Le corps de la requête est trop volumineux.",
        ),
        415 => (
            "unsupported-media-type",
            "Type de contenu non pris en charge.",
        ),
        400 | 422 => (
            "malformed-request",
            "Requête invalide : vérifiez le corps envoyé.",
        ),
        404 => ("route-not-found", "Cette adresse n'existe pas."),
        s if s >= 500 => ("internal", "Une erreur interne est survenue."),
        _ => ("request-refused", "La requête n'a pu aboutir."),
    };
    let allow = response.headers().get("allow").cloned();
    let mut r = refuse(status, code, detail);
    if let Some(allow) = allow {
        r.headers_mut().insert("allow", allow);
    }
    r
}

/// Converts a function's answer into the server's.
pub fn to_axum(r: lambda_http::Response<LambdaBody>) -> Response {
    let (parts, body) = r.into_parts();
    let body = match body {
        LambdaBody::Empty => AxumBody::empty(),
        LambdaBody::Text(t) => AxumBody::from(t),
        LambdaBody::Binary(b) => AxumBody::from(b),
        _ => AxumBody::empty(),
    };
    Response::from_parts(parts, body)
}

fn refuse(status: StatusCode, code: &str, detail: &str) -> Response {
    to_axum(raw_problem(status, code, detail, &[]))
}

/// Every route of the functions.
async fn gateway(State(local): State<Local>, req: Request) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let found = lookup(&method, &path);
    if matches!(found, Lookup::NotFound)
        && let Some(page) = crate::web::serve(&local.web, req.method(), &path, req.headers())
    {
        return page;
    }
    let (route_key, function, params) = match found {
        Lookup::Found(route, params) => (
            format!("{} {}", route.method, route.path),
            Some(route.function),
            params.0,
        ),
        // Unknown routes reach the handler, which refuses them in the same words as on AWS.
        _ => ("$default".to_string(), None, Vec::new()),
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_IMPORT_BODY).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Le corps de la requête est trop volumineux.",
        );
    };
    let claims = match bearer(&parts.headers) {
        None => None,
        Some(token) => match local.signer.verify(token) {
            Some(c) => Some(c),
            None => {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "invalid-token",
                    "Jeton invalide ou expiré : reconnectez-vous.",
                );
            }
        },
    };
    let event = api_gateway_event(&parts, &body, &route_key, &params, claims);
    let request = match serde_json::from_value::<ApiGatewayV2httpRequest>(event) {
        Ok(ag) => lambda_http::Request::from(LambdaRequest::ApiGatewayV2(ag)),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the API Gateway event");
            return refuse(
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "Requête illisible.",
            );
        }
    };
    to_axum(cassiopee_api::handle(&local.deps, function, request).await)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The HTTP API (v2) payload, format 2.0, as API Gateway sends it to Lambda.
pub fn api_gateway_event(
    parts: &axum::http::request::Parts,
    body: &[u8],
    route_key: &str,
    params: &[(String, String)],
    claims: Option<HashMap<String, String>>,
) -> Value {
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let key = name.as_str().to_string();
        match headers.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                headers.insert(key, Value::String(v));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let (body_value, base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_string()), false),
        Err(_) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let now = chrono::Utc::now();
    let mut context = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "local",
        "http": {
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
        },
        "requestId": ulid::Ulid::generate().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    let path_parameters: Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "pathParameters": path_parameters,
        "requestContext": context,
        "body": body_value,
        "isBase64Encoded": base64,
    })
}
