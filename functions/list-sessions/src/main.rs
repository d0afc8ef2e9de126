//! GET /sessions and GET /sessions/{id}: upcoming sessions, seats left, the caller's standing.

use cassiopee_api::handlers::ListSessions;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<ListSessions>().await
}
