//! One-time links, for deployments without mail: a password reset for an account, or an
//! invitation to sign up (which works with sign-up closed). An admin makes one (CLI or API)
//! and passes it on; it is `{public URL}{page}#selector.verifier`: the secret rides in the
//! fragment, which browsers send to no server and put in no `Referer`. The database keeps
//! the selector and the verifier's digest (see `token`), the purpose, the user or role, the
//! deadline and when it was used; a link works once.

use std::time::Duration;

use shared::{LinkState, OneTimeLink};

use super::token::Token;
use crate::clock::{self, millis, now_millis};
use shared::LinkPurpose;

use crate::db::links::{Link, NewLink};
use crate::db::{self, Db};
use crate::error::{ApiError, Result};

/// How long a reset link works unless told otherwise.
pub const RESET_VALID: Duration = Duration::from_secs(3600);
/// How long an invitation works unless told otherwise.
pub const INVITE_VALID: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest a link may work.
pub const LONGEST: Duration = Duration::from_secs(30 * 24 * 3600);

/// `text` (`1h`, `7days`, …) as a validity, `default` when absent; at most [`LONGEST`].
pub fn validity(text: Option<&str>, default: Duration) -> Result<Duration, String> {
    let valid = match text.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => humantime::parse_duration(text).map_err(|err| format!("is not a duration ({err})"))?,
        None => default,
    };
    if valid.is_zero() || valid > LONGEST {
        Err("must be more than 0 and at most 30 days".into())
    } else {
        Ok(valid)
    }
}

/// Makes a link to `page` on `base` (`https://host`, no trailing slash) for `purpose`.
pub async fn make(
    db: &Db,
    base: &str,
    purpose: LinkPurpose,
    user_id: Option<i64>,
    is_admin: bool,
    valid: Duration,
) -> Result<OneTimeLink> {
    let token = Token::new();
    let expires_at = now_millis().saturating_add(millis(valid));
    let link = NewLink {
        selector: &token.selector,
        verifier_digest: &token.verifier_digest(),
        purpose,
        user_id,
        is_admin,
        expires_at,
    };
    db::links::insert(db, &link).await?;
    let page = match purpose {
        LinkPurpose::Reset => frontend::Page::ResetPassword.path(),
        LinkPurpose::Invite => frontend::Page::SignUp.path(),
    };
    Ok(OneTimeLink {
        link: format!("{}{page}#{token}", base.trim_end_matches('/')),
        expires_at: clock::from_millis(expires_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    })
}

/// Whether `link` can still be used at `now` (unix milliseconds).
pub fn state(link: &Link, now: i64) -> LinkState {
    if link.used_at.is_some() {
        LinkState::Used
    } else if link.expires_at <= now {
        LinkState::Expired
    } else {
        LinkState::Valid
    }
}

/// The link `token` names, if it can be used for `purpose` now (nothing is used up). A
/// token that is malformed, unknown, of the wrong verifier or for another purpose is 404; a
/// used or expired link is 410.
pub async fn check(db: &Db, token: &str, purpose: LinkPurpose) -> Result<(String, Link)> {
    let not_found = || ApiError::NotFound("Link not found");
    let token = Token::parse(token.trim()).ok_or_else(not_found)?;
    let link = db::links::find(db, &token.selector).await?.ok_or_else(not_found)?;
    if !token.matches(&link.verifier_digest) || link.purpose != purpose {
        return Err(not_found());
    }
    match state(&link, now_millis()) {
        LinkState::Valid => Ok((token.selector, link)),
        unusable => Err(ApiError::LinkUnusable(unusable.explain())),
    }
}

/// Uses up the checked link `selector`: 410 if another request used it a moment earlier
/// (or it expired since).
pub async fn use_up(db: &Db, selector: &str) -> Result<()> {
    if db::links::use_once(db, selector, now_millis()).await? {
        Ok(())
    } else {
        Err(ApiError::LinkUnusable(LinkState::Used.explain()))
    }
}

/// [`check`], then [`use_up`].
pub async fn redeem(db: &Db, token: &str, purpose: LinkPurpose) -> Result<(String, Link)> {
    let (selector, link) = check(db, token, purpose).await?;
    use_up(db, &selector).await?;
    Ok((selector, link))
}

/// Makes a redeemed link usable again, when what it was redeemed for failed (an invitation's
/// username was taken): a refusal must not cost the invitation.
pub async fn give_back(db: &Db, selector: &str) -> Result<()> {
    db::links::release(db, selector).await?;
    Ok(())
}
