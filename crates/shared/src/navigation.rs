//! Where a browser may be sent after signing in.

/// Where to go after signing in (SECURITY.md 27): a path of this app on `origin`, never
/// another site; anything else lands on the library.
///
/// `next` is resolved against the page's origin the way the browser would resolve a link, and
/// only a same-origin result is kept, as its path, query and fragment. Before that, values
/// carrying what browsers silently drop or rewrite (tab, CR, LF and other controls, `\`),
/// raw or percent-encoded, are refused: `/%09/evil.example` is `//evil.example` to a browser.
pub fn safe_next(next: Option<&str>, origin: &str) -> String {
    let library = || LIBRARY.to_owned();
    let Some(next) = next.filter(|next| next.starts_with('/')) else {
        return library();
    };
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return library();
    }
    match resolve(next, origin) {
        Some(local) if !local.starts_with("//") => local,
        _ => library(),
    }
}

/// `next` resolved against `origin` by the WHATWG URL rules: its path, query and fragment
/// if it stays on `origin`. Natively with the `url` crate; in the browser with the browser's
/// own `URL`, the very parser that will follow the link (and no second copy of its Unicode
/// tables in the bundle).
#[cfg(not(target_arch = "wasm32"))]
fn resolve(next: &str, origin: &str) -> Option<String> {
    let base = url::Url::parse(origin).ok()?;
    let target = base.join(next).ok()?;
    (target.origin() == base.origin()).then(|| target[url::Position::BeforePath..].to_owned())
}

#[cfg(target_arch = "wasm32")]
fn resolve(next: &str, origin: &str) -> Option<String> {
    let base = web_sys::Url::new(origin).ok()?;
    let target = web_sys::Url::new_with_base(next, origin).ok()?;
    (target.origin() == base.origin())
        .then(|| format!("{}{}{}", target.pathname(), target.search(), target.hash()))
}

/// The library page, where anything unsafe lands.
const LIBRARY: &str = "/";

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://tracks.example.com";

    #[test]
    fn paths_of_this_app_are_kept_with_their_query() {
        assert_eq!(safe_next(Some("/account"), ORIGIN), "/account");
        assert_eq!(safe_next(Some("/?q=blue%20moon&skip=20"), ORIGIN), "/?q=blue%20moon&skip=20");
    }

    #[test]
    fn other_sites_and_browser_tricks_land_on_the_library() {
        for next in [
            "https://evil.example/",
            "//evil.example",
            "/%09/evil.example",
            "/\t/evil.example",
            "/%0A/evil.example",
            "/%0D/evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "/\\x",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(next), ORIGIN), "/", "{next:?}");
        }
        assert_eq!(safe_next(None, ORIGIN), "/");
    }
}
