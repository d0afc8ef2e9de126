//! Cassiopée's Lambda handlers. The local server and the tests call [`handle`] with the API
//! Gateway HTTP API (v2) request that Lambda hands over, and [`jobs::dispatch`] with a job's
//! event; each function binary runs [`run_http_function`] or [`run_job_function`] with its own
//! operations ([`handlers::Operations`], [`jobs::Job`]), so that it links no other function's
//! code. Handlers stay thin: the work is in `cassiopee_domain::usecases`.

pub mod config;
pub mod handlers;
pub mod http;
pub mod jobs;
pub mod one_time;
pub mod pages;
pub mod problem;
pub mod routes;
pub mod tokens;

use crate::handlers::{Every, Operations};
use crate::http::Incoming;
use crate::jobs::Job;
use crate::problem::{problem, raw_problem};
use crate::routes::{Function, Lookup, lookup};
use cassiopee_domain::usecases::Deps;
use lambda_http::http::{Response, StatusCode, header};
use lambda_http::{Body, Request};
use tracing::Instrument;

/// Serves one HTTP request. `only` restricts the routes to one function's, as a deployed
/// function would; `None` serves every route, as the local one-process server does.
pub async fn handle(deps: &Deps, only: Option<Function>, req: Request) -> Response<Body> {
    serve::<Every>(deps, only, req).await
}

/// Serves one HTTP request with the operations `O`, on the routes of `only` (or all).
async fn serve<O: Operations>(deps: &Deps, only: Option<Function>, req: Request) -> Response<Body> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let (route, params) = match lookup(&method, &path) {
        Lookup::Found(route, params) if only.is_none_or(|f| f == route.function) => (route, params),
        Lookup::MethodNotAllowed(allowed) => {
            let mut r = raw_problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Cette méthode n'est pas prise en charge pour cette adresse.",
                &[],
            );
            if let Ok(v) = allowed.join(", ").parse() {
                r.headers_mut().insert(header::ALLOW, v);
            }
            return r;
        }
        _ => {
            return raw_problem(
                StatusCode::NOT_FOUND,
                "route-not-found",
                "Cette adresse n'existe pas.",
                &[],
            );
        }
    };
    let incoming = Incoming::from_request(req, params);
    if let Err(e) = check_body(route, &incoming) {
        return problem(&e);
    }
    let span = tracing::info_span!("request", route = route.path, method = route.method);
    match handlers::run::<O>(deps, route, &incoming)
        .instrument(span)
        .await
    {
        Ok(response) => response,
        Err(e) => problem(&e),
    }
}

/// A body where the route takes none: too large (413) or anything but nothing, blanks or `{}`
/// (400). Routes that read one check their own limits.
fn check_body(route: &routes::Route, req: &Incoming) -> cassiopee_domain::error::Result<()> {
    if route.op.takes_body() {
        return Ok(());
    }
    if req.body.len() > http::MAX_JSON_BODY {
        return Err(http::too_large(http::MAX_JSON_BODY));
    }
    let text = String::from_utf8_lossy(&req.body);
    let blank: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if blank.is_empty() || blank == "{}" {
        return Ok(());
    }
    Err(cassiopee_domain::DomainError::invalid(
        "malformed-request",
        "Cette adresse n'attend pas de contenu : envoyez la requête sans corps.",
    ))
}

/// Entry point of an HTTP function binary: it serves the routes of `O::FUNCTION` only.
pub async fn run_http_function<O: Operations>() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let unbused: config::Unbused = if O::EVENTS_IN_PROCESS {
        config::build_deps
    } else {
        config::build_deps_without_events
    };
    let deps = config::function_deps(unbused).await?;
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let deps = deps.clone();
        async move { Ok::<_, std::convert::Infallible>(serve::<O>(&deps, O::FUNCTION, req).await) }
    }))
    .await
}

/// Entry point of a job function binary. A failure is returned to Lambda, so that the
/// asynchronous invocation is retried and lands in the dead-letter queue at the end.
pub async fn run_job_function<J: Job>() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = config::function_deps(config::build_deps).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let deps = deps.clone();
            async move {
                J::run(&deps, event.payload)
                    .await
                    .map_err(|e| lambda_runtime::Error::from(e.to_string()))
            }
        },
    ))
    .await
}
