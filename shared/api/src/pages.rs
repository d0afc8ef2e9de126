//! Small French HTML pages for the routes a browser opens straight from an email (the one-time
//! links): self-contained (no script, inline style), every value escaped.

use lambda_http::Body;
use lambda_http::http::{Response, StatusCode, header};

/// Escapes text for an HTML element or a double-quoted attribute (the only kind written here,
/// so that apostrophes, frequent in French, stay as typed).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A form that posts to `action` with one button; nothing happens until it is pressed.
pub struct Button<'a> {
    pub action: &'a str,
    pub label: &'a str,
}

const STYLE: &str = "body{font-family:Marianne,Arial,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem;color:#161616;line-height:1.5}h1{font-size:1.5rem;color:#000091}\
button{background:#000091;color:#fff;border:0;padding:.5rem 1.5rem;font-size:1rem;\
cursor:pointer}button:focus{outline:2px solid #0a76f6;outline-offset:2px}\
footer{margin-top:2rem;font-size:.875rem;color:#666}";

/// The page: a heading, paragraphs (plain text, escaped here), and an optional button.
pub fn page(title: &str, paragraphs: &[String], button: Option<Button<'_>>) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(title));
    for p in paragraphs {
        body.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    if let Some(b) = button {
        body.push_str(&format!(
            "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>\n",
            escape(b.action),
            escape(b.label)
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{} – Cassiopée</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         <footer>La cellule formation de la MiRVOG – Cassiopée</footer>\n</body>\n</html>\n",
        escape(title)
    )
}

/// An HTML answer; never cached, since each page tells the state of one link.
pub fn html(status: StatusCode, page: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-content-type-options", "nosniff")
        .header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        )
        .body(Body::Text(page))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped_and_the_button_posts() {
        let p = page(
            "Titre <b>",
            &["« Gérer » & <script>alert(1)</script>".to_string()],
            Some(Button {
                action: "/liens/a\"b",
                label: "Confirmer",
            }),
        );
        assert!(p.contains("Titre &lt;b&gt;"));
        assert!(p.contains("&amp; &lt;script&gt;"));
        assert!(!p.contains("<script>"));
        assert!(p.contains("<form method=\"post\" action=\"/liens/a&quot;b\">"));
        assert!(p.contains("<html lang=\"fr\">"));
    }
}
