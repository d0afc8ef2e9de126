//! DELETE /sessions/{id}/enrolment: gives up a seat (on time or late) or leaves the waiting list.

use cassiopee_api::handlers::Withdraw;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<Withdraw>().await
}
