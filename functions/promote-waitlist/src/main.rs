//! Runs on seat-released and capacity-raised events, and on the periodic offer-expiry sweep.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cassiopee_api::run_job_function(Function::PromoteWaitlist).await
}
