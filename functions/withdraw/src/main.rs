//! DELETE /sessions/{id}/enrolment: gives up a seat (on time or late) or leaves the waiting list.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function(Function::Withdraw).await
}
