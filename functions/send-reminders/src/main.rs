//! Scheduled: queues the J-7 and J-1 reminders that are due, each exactly once.

use cassiopee_api::jobs::SendReminders;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cassiopee_api::run_job_function::<SendReminders>().await
}
