//! The password policy (SECURITY.md 17): the shared length rules plus what the browser does
//! not carry, a blocklist of common and breached passwords and this service's own words.

use shared::validate;

/// Checks a new password for `username`; the message is shown next to the password input.
pub fn check_new_password(password: &str, username: &str) -> validate::Rule {
    validate::password(password)?;
    let normalized = validate::normalize_password(password);
    // The `passwords` crate bundles ~100 000 passwords seen most often in breaches; case
    // changes are the first thing a guesser tries, so the lower-case form counts too.
    let lower = normalized.to_lowercase();
    if passwords::analyzer::is_common_password(&normalized) || passwords::analyzer::is_common_password(&lower)
    {
        return Err("is a commonly used password; choose another".into());
    }
    let normalized = lower;
    let distinct: std::collections::HashSet<char> = normalized.chars().collect();
    if distinct.len() < 4 {
        return Err("repeats too few different characters".into());
    }
    let username = validate::normalize_username(username);
    for word in ["tracklist", username.as_str()] {
        if word.len() >= 3 && normalized.replace(word, "").chars().filter(|c| c.is_alphanumeric()).count() < 8
        {
            return Err("is mostly your username or the name of this service".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_new_password;

    #[test]
    fn a_long_passphrase_passes() {
        assert_eq!(check_new_password("plum velvet harbour sunrise", "alice"), Ok(()));
    }

    #[test]
    fn length_rules_still_apply() {
        assert!(check_new_password("short", "alice").is_err_and(|m| m.contains("15")));
    }

    #[test]
    fn breached_passwords_are_refused_whatever_their_case() {
        // Both appear in the bundled breach list and are long enough for the length rule.
        for common in ["1qaz2wsx3edc4rfv", "1Q2W3E4R5T6Y7U8I"] {
            assert!(
                check_new_password(common, "alice").is_err_and(|m| m.contains("commonly used")),
                "{common}"
            );
        }
    }

    #[test]
    fn repetitive_passwords_are_refused() {
        assert!(check_new_password("aaaaaaaaaaaaaaaaaaaa", "alice").is_err());
        assert!(check_new_password("abababababababab", "alice").is_err());
    }

    #[test]
    fn the_username_or_service_name_padded_out_is_refused() {
        assert!(check_new_password("alicealice12345", "alice").is_err_and(|m| m.contains("username")));
        assert!(check_new_password("Tracklist-2026!!", "bob").is_err());
    }
}
