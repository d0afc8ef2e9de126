//! Runs on seat-released and capacity-raised events, and on the periodic offer-expiry sweep.

use cassiopee_api::jobs::PromoteWaitlist;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cassiopee_api::run_job_function::<PromoteWaitlist>().await
}
