//! Device cookies (OWASP "Slow down online guessing attacks with device cookies"): a browser
//! that signed in successfully gets a cookie naming it as a device of that account. When
//! guessing from many addresses has used up the account's shared ceiling, the owner's devices
//! still sign in on a budget of their own (see `throttle`).
//!
//! The cookie is a [`Token`], `selector.verifier`; the database keeps the selector and the
//! verifier's digest (see `token`).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use tower_sessions::cookie::{Cookie, SameSite};

use super::token::Token;

use crate::clock::{millis, now_millis};
use crate::db::{self, Db};
use crate::error::Result;

/// How long a device stays recognised after its last successful sign-in.
pub const LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// The device cookie's name: `__Host-` bound to this exact origin when cookies are secure.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-device" } else { "device" }
}

/// The selector of the device cookie on this request, if it is a valid one for `username`.
pub async fn recognise(db: &Db, headers: &HeaderMap, name: &str, username: &str) -> Result<Option<String>> {
    let Some(token) = presented(headers, name) else {
        return Ok(None);
    };
    let Some(device) = db::devices::find(db, &token.selector, now_millis()).await? else {
        return Ok(None);
    };
    let matches = token.matches(&device.verifier_digest);
    Ok((matches && device.username == username).then_some(token.selector))
}

/// Trusts this browser as a device of `user_id`; returns the `Set-Cookie` header value.
pub async fn remember(db: &Db, user_id: i64, name: &'static str, secure: bool) -> Result<HeaderValue> {
    let token = Token::new();
    let expires_at = now_millis().saturating_add(millis(LIFETIME));
    db::devices::insert(db, &token.selector, &token.verifier_digest(), user_id, expires_at).await?;
    let cookie = Cookie::build((name, token.to_string()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(i64::try_from(LIFETIME.as_secs()).unwrap_or(i64::MAX)))
        .build();
    Ok(HeaderValue::from_str(&cookie.to_string()).map_err(anyhow::Error::from)?)
}

/// The well-formed token of the cookie `name`, if the request has one.
fn presented(headers: &HeaderMap, name: &str) -> Option<Token> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(std::result::Result::ok)
        .find(|cookie| cookie.name() == name)?
        .value()
        .to_owned();
    Token::parse(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_cookie_of_that_name_is_presented() {
        let token = Token::new();
        let good = format!("other=1; device={token}");
        let headers: HeaderMap =
            [(header::COOKIE, HeaderValue::from_str(&good).expect("value"))].into_iter().collect();
        assert_eq!(presented(&headers, "device"), Some(token.clone()));
        let token = token.selector;
        assert!(presented(&headers, "__Host-device").is_none());
        for bad in
            ["device=abc.def", "device=", &format!("device={token}"), &format!("device={token}.{token}x")]
        {
            let headers: HeaderMap =
                [(header::COOKIE, HeaderValue::from_str(bad).expect("value"))].into_iter().collect();
            assert!(presented(&headers, "device").is_none(), "{bad}");
        }
    }
}
