//! The SAM template and the route table must declare the same routes, each served by the same
//! function: the local server mounts the table, AWS mounts the template.

use cassiopee_api::routes::ROUTES;
use std::collections::BTreeSet;

fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = include_str!("../../../infra/template.yaml");
    let mut routes = BTreeSet::new();
    let mut binary = String::new();
    let mut method = None;
    for line in template.lines().map(str::trim) {
        if let Some(b) = line.strip_prefix("Binary: ") {
            binary = b.to_string();
        } else if let Some(m) = line.strip_prefix("Method: ") {
            method = Some(m.to_string());
        } else if let Some(p) = line.strip_prefix("Path: ") {
            let m = method
                .take()
                .expect("a Method: line before each Path: line");
            routes.insert((m, p.to_string(), binary.clone()));
        }
    }
    routes
}

#[test]
fn the_template_and_the_local_server_serve_the_same_routes_with_the_same_functions() {
    let table: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.function.name().to_string(),
            )
        })
        .collect();
    let template = template_routes();
    let missing: Vec<_> = table.difference(&template).collect();
    let extra: Vec<_> = template.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes missing from infra/template.yaml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "routes only in infra/template.yaml: {extra:?}"
    );
}

#[test]
fn every_function_binary_has_a_template_resource() {
    let template = include_str!("../../../infra/template.yaml");
    for f in cassiopee_api::routes::Function::ALL {
        assert!(
            template.contains(&format!("Binary: {}\n", f.name())),
            "{} has no resource",
            f.name()
        );
        let dir = format!(
            "{}/../../functions/{}",
            env!("CARGO_MANIFEST_DIR"),
            f.name()
        );
        assert!(
            std::path::Path::new(&dir).is_dir(),
            "functions/{} is missing",
            f.name()
        );
    }
}
