//! Scheduled: stores fill rate, attendance and withdrawals per session and training.

use cassiopee_api::jobs::ComputeStatistics;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cassiopee_api::run_job_function::<ComputeStatistics>().await
}
