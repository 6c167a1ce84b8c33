//! HTML escaping, for everything the crate writes into a page: notebook cells, the measure
//! tools' info box, error pages.

/// Escapes `text` for HTML text and attribute values (double- or single-quoted).
///
/// ```
/// assert_eq!(ocp_notebook::html::escape(r#"<a href="x">'b' & c</a>"#),
///     "&lt;a href=&quot;x&quot;&gt;&#39;b&#39; &amp; c&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
