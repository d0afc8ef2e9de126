//! Staff: the training catalogue under /admin/trainings.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function(Function::StaffCatalogue).await
}
