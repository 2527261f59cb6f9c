//! Two-step sign-in: time-based codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one
//! step of clock drift either way) from the user's authenticator app, and single-use recovery
//! codes for when the app is lost.
//!
//! A code is good once: the newest step used is stored, and only a later step's code is
//! accepted after it (`db::two_factor::use_step`, one conditional update, so two requests
//! with the same code cannot both pass). Recovery codes are stored as SHA-256 digests and
//! checked like every other handed-out secret (see `token`).

use base64::Engine;
use qrcode::QrCode;
use qrcode::render::svg;
use shared::{TwoFactorSetup, TwoFactorStatus};
use totp_rs::{Algorithm, Secret, TOTP};

use std::net::IpAddr;

use super::throttle::LoginThrottle;
use super::token::{self, random_bytes};
use crate::db::users::Account;
use crate::db::{self, Db};
use crate::error::{ApiError, Result};

/// Shown by authenticator apps next to the account name.
const ISSUER: &str = "Tracklist";
const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
pub const RECOVERY_CODES: usize = 10;

/// A new authenticator key: 160 bits, as RFC 4226 recommends.
pub fn new_secret() -> Vec<u8> {
    random_bytes::<20>().to_vec()
}

fn totp(secret: &[u8], username: &str) -> Result<TOTP> {
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, secret.to_vec(), Some(ISSUER.into()), username.into())
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("authenticator key refused: {err:?}")))
}

/// What the enrolment page shows: the key as text, as an `otpauth://` URL, and as a QR code
/// of that URL (SVG markup drawn here: the key never leaves for a QR service).
pub fn setup(secret: &[u8], username: &str) -> Result<TwoFactorSetup> {
    let totp = totp(secret, username)?;
    let url = totp.get_url();
    let qr = QrCode::new(url.as_bytes()).map_err(|err| ApiError::Internal(err.into()))?;
    let qr_svg = qr.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // The XML declaration is for files; the page embeds the element itself.
    let qr_svg = match qr_svg.find("<svg") {
        Some(start) => qr_svg[start..].to_owned(),
        None => qr_svg,
    };
    Ok(TwoFactorSetup { secret: totp.get_secret_base32(), otpauth_url: url, qr_svg })
}

/// The state of `account`'s two-step sign-in, with `offered` (the key offered on the asking
/// session, if any) ready to show.
pub async fn status(db: &Db, account: &Account, offered: Option<&[u8]>) -> Result<TwoFactorStatus> {
    let enabled = db::two_factor::find(db, account.id).await?.is_some();
    let recovery_codes_left = db::two_factor::count_recovery_codes(db, account.id).await?;
    let offered = match offered.filter(|_| !enabled) {
        Some(secret) => Some(setup(secret, &account.username)?),
        None => None,
    };
    Ok(TwoFactorStatus { enabled, recovery_codes_left, offered })
}

/// The time step (of `now_seconds`, or one either side) whose code `code` is, if any.
pub fn matching_step(secret: &[u8], code: &str, now_seconds: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let totp =
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, secret.to_vec(), None, String::new());
    let now = now_seconds / STEP_SECONDS;
    // Every candidate is computed and compared, in constant time each, wherever the match is.
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = totp.generate(step * STEP_SECONDS);
        if token::digest_matches(&token::digest(expected.as_bytes()), &token::digest(code.as_bytes())) {
            found = Some(step);
        }
    }
    found.and_then(|step| i64::try_from(step).ok())
}

/// Ten new recovery codes, as shown to the user once (`xxxxx-xxxxx`, 50 random bits each),
/// with the digests to store.
pub fn new_recovery_codes() -> (Vec<String>, Vec<[u8; 32]>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            // Base32 (RFC 4648, as authenticator keys are written), lower case, 10 of its letters.
            let text: String =
                Secret::Raw(random_bytes::<7>().to_vec()).to_encoded().to_string().to_lowercase();
            let text = &text[..10];
            let code = format!("{}-{}", &text[..5], &text[5..]);
            let digest = recovery_digest(&code);
            (code, digest)
        })
        .unzip()
}

/// A recovery code's digest, as typed: case, spaces and hyphens do not matter.
fn recovery_digest(code: &str) -> [u8; 32] {
    let normal: String =
        code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
    token::digest(normal.as_bytes())
}

/// How a second factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Code,
    RecoveryCode,
}

/// Checks `code` for `user_id`: a current authenticator code not used before, or an unused
/// recovery code (used up by this check). `None` when neither; an error when two-step
/// sign-in is off for this user.
pub async fn check(db: &Db, user_id: i64, code: &str) -> Result<Option<Proof>> {
    let factor = db::two_factor::find(db, user_id).await?.ok_or(ApiError::TwoFactorOff)?;
    if let Some(step) = matching_step(&factor.secret, code, now_seconds()) {
        return Ok(db::two_factor::use_step(db, user_id, step).await?.then_some(Proof::Code));
    }
    let presented = recovery_digest(code);
    let stored = db::two_factor::recovery_digests(db, user_id).await?;
    // Compared with every stored digest, without stopping at a match.
    let matched =
        stored.iter().fold(false, |found, digest| found | token::digest_matches(&presented, digest));
    if matched && db::two_factor::use_recovery_code(db, user_id, &presented).await? {
        return Ok(Some(Proof::RecoveryCode));
    }
    Ok(None)
}

/// [`check`], throttled: a wrong code counts against `account` from `client` (see
/// `LoginThrottle::begin_code`), and is logged.
pub async fn check_throttled(
    db: &Db,
    throttle: &LoginThrottle,
    account: &Account,
    client: IpAddr,
    code: &str,
) -> Result<Option<Proof>> {
    let attempt = throttle.begin_code(&account.username, client).await?;
    match check(db, account.id, code).await {
        Ok(Some(proof)) => {
            throttle.succeeded(attempt).await?;
            Ok(Some(proof))
        }
        Ok(None) => {
            // The attempt stays counted.
            tracing::warn!(event = "second_factor_failed", user_id = account.id, username = %account.username, %client, "wrong code");
            Ok(None)
        }
        Err(err) => {
            throttle.abandoned(attempt).await?;
            Err(err)
        }
    }
}

pub fn now_seconds() -> u64 {
    u64::try_from(crate::clock::now_millis() / 1000).unwrap_or(0)
}

/// The secret as base64, for keeping in a session while enrolment is confirmed.
pub fn encode_secret(secret: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(secret)
}

pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok().filter(|secret| secret.len() == 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_the_current_and_neighbouring_steps_match_and_others_do_not() {
        let secret = [1u8; 20];
        let totp = TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            1,
            STEP_SECONDS,
            secret.to_vec(),
            None,
            String::new(),
        );
        let now = 1_800_000_000;
        let step = i64::try_from(now / STEP_SECONDS).expect("step");
        assert_eq!(matching_step(&secret, &totp.generate(now), now), Some(step));
        assert_eq!(matching_step(&secret, &totp.generate(now - 30), now), Some(step - 1));
        assert_eq!(matching_step(&secret, &totp.generate(now + 30), now), Some(step + 1));
        assert_eq!(matching_step(&secret, &totp.generate(now - 90), now), None);
        for bad in ["", "12345", "1234567", "abcdef", "12 456"] {
            assert_eq!(matching_step(&secret, bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let (codes, digests) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert!(code.len() == 11 && code.as_bytes()[5] == b'-', "{code}");
        assert_eq!(recovery_digest(&code.to_uppercase().replace('-', " ")), digests[0]);
    }

    #[test]
    fn the_setup_names_the_issuer_and_draws_an_svg() {
        let setup = setup(&[2u8; 20], "alice").expect("setup");
        assert!(setup.otpauth_url.starts_with("otpauth://totp/Tracklist:alice?"), "{}", setup.otpauth_url);
        assert!(setup.otpauth_url.contains(&format!("secret={}", setup.secret)));
        assert!(setup.qr_svg.starts_with("<svg") && setup.qr_svg.ends_with("</svg>"));
    }
}
