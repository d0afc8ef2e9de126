//! POST /sessions/{id}/enrolment and the offer answers: takes a seat or a place on the waiting list.

use cassiopee_api::handlers::Enrol;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<Enrol>().await
}
