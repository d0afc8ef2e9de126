//! Scheduled: stores fill rate, attendance and withdrawals per session and training.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cassiopee_api::run_job_function(Function::ComputeStatistics).await
}
