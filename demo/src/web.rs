//! The web front, served at `/` as CloudFront serves it on AWS: the files of `web/public`
//! (embedded at build time, so that the binary needs nothing beside it), and `index.html` for
//! the front's own pages (any other GET that asks for HTML), so that a reload or a shared link
//! opens the right page. API routes and `/dev/` are never shadowed: the gateway asks here only
//! for paths that no route knows.
//!
//! `CASSIOPEE_WEB_DIR` serves the files from a folder instead, read at each request, to work on
//! the front without rebuilding the server.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use cassiopee_api::routes::ROUTES;
use std::path::PathBuf;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web.rs"));
}

/// The vendored design system lives under a versioned folder: its files never change in place.
const IMMUTABLE_PREFIX: &str = "assets/vendor/";

/// Where the files come from.
#[derive(Clone, Debug, Default)]
pub enum Source {
    #[default]
    Embedded,
    Folder(PathBuf),
}

impl Source {
    pub fn from_env() -> Self {
        match std::env::var_os("CASSIOPEE_WEB_DIR") {
            Some(dir) if !dir.is_empty() => Source::Folder(PathBuf::from(dir)),
            _ => Source::Embedded,
        }
    }

    fn get(&self, rel: &str) -> Option<(Vec<u8>, String)> {
        match self {
            Source::Embedded => embedded::FILES
                .iter()
                .find(|(name, _, _)| *name == rel)
                .map(|(_, bytes, etag)| (bytes.to_vec(), (*etag).to_string())),
            Source::Folder(dir) => {
                let bytes = std::fs::read(dir.join(rel)).ok()?;
                let etag = format!("\"{:x}-{}\"", bytes.len(), checksum(&bytes));
                Some((bytes, etag))
            }
        }
    }
}

fn checksum(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0u32, |h, b| h.rotate_left(5) ^ u32::from(*b))
}

/// The embedded files' paths, for tests and diagnostics.
pub fn embedded_paths() -> impl Iterator<Item = &'static str> {
    embedded::FILES.iter().map(|(name, _, _)| *name)
}

fn content_type(rel: &str) -> &'static str {
    let ext = rel.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A file name is safe when it has no empty, `.` or `..` segment.
fn safe(rel: &str) -> bool {
    !rel.is_empty()
        && rel
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'))
}

fn first_segment(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// Paths whose first segment is one of the API's (`/sessions`, `/me`, `/admin`…) or `/dev`
/// belong to the API, found or not: they are answered in problem+json, never with a page.
fn in_api_namespace(path: &str) -> bool {
    let first = first_segment(path);
    first == "dev" || ROUTES.iter().any(|r| first_segment(r.path) == first)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Answers a GET or HEAD that no API route knows: a file of the front, or `index.html` for the
/// front's pages; `None` lets the gateway refuse it as it would any unknown route.
pub fn serve(
    source: &Source,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    if in_api_namespace(path) {
        return None;
    }
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if safe(rel)
        && let Some((bytes, etag)) = source.get(rel)
    {
        return Some(file_response(method, rel, bytes, &etag, headers));
    }
    // A page of the front: the last segment has no extension and the browser asks for HTML.
    let last = rel.rsplit('/').next().unwrap_or("");
    if wants_html(headers) && !last.contains('.') {
        let (bytes, etag) = source.get("index.html")?;
        return Some(file_response(method, "index.html", bytes, &etag, headers));
    }
    None
}

fn file_response(
    method: &Method,
    rel: &str,
    bytes: Vec<u8>,
    etag: &str,
    headers: &HeaderMap,
) -> Response {
    let cache = if rel.starts_with(IMMUTABLE_PREFIX) {
        "public, max-age=31536000, immutable"
    } else {
        // The app's own files keep their names across versions: revalidate each time.
        "no-cache"
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut builder = Response::builder()
        .header(header::CACHE_CONTROL, cache)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Ok(v) = HeaderValue::from_str(etag) {
        builder = builder.header(header::ETAG, v);
    }
    if rel.ends_with(".html") {
        builder = builder
            .header(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
            )
            .header(header::REFERRER_POLICY, "same-origin");
    }
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        builder = builder
            .header(header::CONTENT_TYPE, content_type(rel))
            .header(header::CONTENT_LENGTH, bytes.len());
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(bytes)
        };
        (StatusCode::OK, body)
    };
    builder
        .status(status)
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html,*/*"));
        h
    }

    #[test]
    fn the_front_is_embedded_with_its_design_system() {
        let paths: Vec<_> = embedded_paths().collect();
        assert!(paths.contains(&"index.html"));
        assert!(paths.contains(&"config.json"));
        assert!(paths.iter().any(|p| p.ends_with("dsfr.min.css")));
    }

    #[test]
    fn files_have_their_type_and_caching() {
        let s = Source::Embedded;
        let r = serve(&s, &Method::GET, "/", &HeaderMap::new()).expect("index");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let css = embedded_paths()
            .find(|p| p.ends_with("dsfr.min.css"))
            .expect("css");
        let r = serve(&s, &Method::GET, &format!("/{css}"), &HeaderMap::new()).expect("css");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert!(
            r.headers()[header::CACHE_CONTROL]
                .to_str()
                .is_ok_and(|v| v.contains("immutable"))
        );
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, r.headers()[header::ETAG].clone());
        let r = serve(&s, &Method::GET, &format!("/{css}"), &again).expect("css");
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn pages_fall_back_to_the_index_only_for_html_requests() {
        let s = Source::Embedded;
        assert!(serve(&s, &Method::GET, "/officier/sessions", &html()).is_some());
        assert!(serve(&s, &Method::GET, "/officier/sessions", &HeaderMap::new()).is_none());
        assert!(serve(&s, &Method::GET, "/dev/nothing", &html()).is_none());
        assert!(serve(&s, &Method::GET, "/admin/nowhere", &html()).is_none());
        assert!(serve(&s, &Method::GET, "/me", &html()).is_none());
        assert!(serve(&s, &Method::GET, "/assets/missing.js", &html()).is_none());
        assert!(serve(&s, &Method::POST, "/officier/sessions", &html()).is_none());
        assert!(serve(&s, &Method::GET, "/assets/../../Cargo.toml", &html()).is_none());
    }
}
