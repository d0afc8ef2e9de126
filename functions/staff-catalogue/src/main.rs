//! Staff: the training catalogue under /admin/trainings.

use cassiopee_api::handlers::StaffCatalogue;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<StaffCatalogue>().await
}
