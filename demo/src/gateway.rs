//! The local stand-in for API Gateway: routes each request to the function that owns it,
//! checks the bearer token as the JWT authorizer would, and builds the HTTP API (v2) event
//! Lambda would deliver.

use crate::{Local, dev};
use axum::Router;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use cassiopee_api::http::MAX_IMPORT_BODY;
use cassiopee_api::problem::raw_problem;
use cassiopee_api::routes::{Lookup, lookup};
use lambda_http::Body as LambdaBody;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::request::LambdaRequest;
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
    let event = api_gateway_request(&parts, &body, &route_key, &params, claims);
    let request = lambda_http::Request::from(LambdaRequest::ApiGatewayV2(event));
    to_axum(cassiopee_api::handle(&local.deps, function, request).await)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The HTTP API (v2) payload, format 2.0, as API Gateway hands it to Lambda: the fields the
/// handlers read (route key, raw path and query, headers with repeated ones joined by commas,
/// path parameters, the JWT authorizer's claims, the body, base64 when it is not UTF-8) and the
/// request context's identifiers. Built as the structure `lambda_http` decodes the event into,
/// so that the local server does not write and parse JSON on every request.
pub fn api_gateway_request(
    parts: &axum::http::request::Parts,
    body: &[u8],
    route_key: &str,
    params: &[(String, String)],
    claims: Option<HashMap<String, String>>,
) -> ApiGatewayV2httpRequest {
    let mut headers = HeaderMap::with_capacity(parts.headers.keys_len());
    for name in parts.headers.keys() {
        let mut values = parts.headers.get_all(name).iter();
        let Some(first) = values.next() else { continue };
        let mut joined = first.clone();
        for more in values {
            let mut bytes = joined.as_bytes().to_vec();
            bytes.push(b',');
            bytes.extend_from_slice(more.as_bytes());
            if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                joined = v;
            }
        }
        headers.insert(name.clone(), joined);
    }
    let (body, base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (None, false),
        Ok(text) => (Some(text.to_string()), false),
        Err(_) => (
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let now = chrono::Utc::now();
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = parts.method.clone();
    http.path = Some(parts.uri.path().to_string());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some("127.0.0.1".into());
    http.user_agent = Some(
        parts
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    );
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.account_id = Some("000000000000".into());
    context.apiid = Some("local".into());
    context.domain_name = Some("127.0.0.1".into());
    context.domain_prefix = Some("local".into());
    context.http = http;
    context.request_id = Some(ulid::Ulid::generate().to_string());
    context.route_key = Some(route_key.to_string());
    context.stage = Some("$default".into());
    context.time = Some(now.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    context.time_epoch = now.timestamp_millis();
    if let Some(claims) = claims {
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = claims;
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        context.authorizer = Some(authorizer);
    }
    let mut request = ApiGatewayV2httpRequest::default();
    request.version = Some("2.0".into());
    request.route_key = Some(route_key.to_string());
    request.raw_path = Some(parts.uri.path().to_string());
    request.raw_query_string = Some(parts.uri.query().unwrap_or("").to_string());
    request.headers = headers;
    request.path_parameters = params.iter().cloned().collect();
    request.request_context = context;
    request.body = body;
    request.is_base64_encoded = base64;
    request
}
