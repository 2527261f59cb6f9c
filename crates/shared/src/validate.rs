//! Validation rules. Each rule returns `Err(message)` with a message fit to show next to the
//! input; [`Checker`] gathers them per field.

use crate::FieldErrors;

/// Usernames: 3 to 32 of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or digit.
/// Case-insensitive: they are stored and compared in lower case.
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
/// NIST SP 800-63B-4: at least 15 characters when the password is the only factor.
pub const PASSWORD_MIN: usize = 15;
/// NIST asks to allow at least 64; longer inputs only cost hashing time.
pub const PASSWORD_MAX: usize = 128;
/// Title, artist, album and label.
pub const TRACK_TEXT_MAX: usize = 200;
pub const YEAR_MIN: i32 = 1000;

/// One message per field.
pub type Rule = Result<(), String>;

/// Collects the first failure of each field.
#[derive(Debug, Default)]
pub struct Checker {
    errors: FieldErrors,
}

impl Checker {
    pub fn field(&mut self, name: &str, rule: impl FnOnce() -> Rule) {
        if let Err(message) = rule() {
            self.errors.insert(name.to_owned(), message);
        }
    }

    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

pub fn required(value: &str) -> Rule {
    if value.is_empty() { Err("is required".into()) } else { Ok(()) }
}

/// Applies `rule` to a value that may be absent.
pub fn optional(value: Option<&str>, rule: fn(&str) -> Rule) -> Rule {
    value.map_or(Ok(()), rule)
}

/// The form a username is stored and compared in. ASCII case folding only: a valid username
/// is ASCII anyway, and full Unicode folding would make look-alikes equal (the Kelvin sign
/// `K` folds to `k`) and ship Unicode's case tables in the browser bundle (about 5 KB gzip).
pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

/// Checks a username as typed (before [`normalize_username`]).
pub fn username(raw: &str) -> Rule {
    let name = normalize_username(raw);
    let length = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&length) {
        return Err(format!("must be {USERNAME_MIN} to {USERNAME_MAX} characters"));
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)) {
        return Err("may only contain letters a–z, digits, '.', '_' and '-'".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or a digit".into());
    }
    Ok(())
}

/// The form a password is hashed in: Unicode NFKC, so the same password typed on different
/// keyboards (composed or decomposed accents, full-width digits) is the same password.
#[cfg(not(target_arch = "wasm32"))]
pub fn normalize_password(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    raw.nfkc().collect()
}

/// In the browser, its own NFKC (`String.prototype.normalize`): the same rule for the live
/// feedback, without shipping a second copy of the Unicode tables (about 60 KB gzipped). The
/// server's check stays the one that counts.
#[cfg(target_arch = "wasm32")]
pub fn normalize_password(raw: &str) -> String {
    js_sys::JsString::from(raw).normalize("NFKC").into()
}

/// NIST SP 800-63B-4 length rules, counted in characters after normalisation. No composition
/// rules: a long passphrase of lower-case words is fine.
pub fn password(raw: &str) -> Rule {
    let length = normalize_password(raw).chars().count();
    if length < PASSWORD_MIN {
        Err(format!("must be at least {PASSWORD_MIN} characters (a few words make a good one)"))
    } else if length > PASSWORD_MAX {
        Err(format!("must be at most {PASSWORD_MAX} characters"))
    } else {
        Ok(())
    }
}

/// Text without control characters (NUL, escapes, line breaks): they have no place in a
/// title or a search, and databases treat some of them specially.
pub fn printable(value: &str) -> Rule {
    if value.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

pub fn track_text(value: &str) -> Rule {
    printable(value)?;
    let length = value.trim().chars().count();
    if length == 0 {
        Err("is required".into())
    } else if length > TRACK_TEXT_MAX {
        Err(format!("must be at most {TRACK_TEXT_MAX} characters"))
    } else {
        Ok(())
    }
}

/// A release year from [`YEAR_MIN`] to next year (announced releases).
pub fn year(year: i32, current_year: i32) -> Rule {
    let max = current_year + 1;
    if (YEAR_MIN..=max).contains(&year) {
        Ok(())
    } else {
        Err(format!("must be between {YEAR_MIN} and {max}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_compared_in_lower_case() {
        assert_eq!(normalize_username("  John "), "john");
        assert_eq!(username("John"), Ok(()));
    }

    #[test]
    fn look_alikes_do_not_fold_into_a_valid_username() {
        // The Kelvin sign folds to `k` under Unicode's rules; here it stays what it is.
        assert_eq!(normalize_username("\u{212A}ate"), "\u{212A}ate");
        assert!(username("\u{212A}ate").is_err());
    }

    #[test]
    fn usernames_outside_the_documented_set_are_refused() {
        assert!(username("jo").is_err());
        assert!(username(&"a".repeat(33)).is_err());
        assert!(username("jöhn").is_err());
        assert!(username("john doe").is_err());
        assert!(username("_john").is_err());
        assert!(username("名前名前").is_err());
        assert_eq!(username("j.o_h-n9"), Ok(()));
    }

    #[test]
    fn passwords_need_fifteen_characters_and_no_composition_rules() {
        assert!(password("short").is_err());
        assert!(password(&"a".repeat(14)).is_err());
        assert_eq!(password("all lower case words"), Ok(()));
        assert!(password(&"a".repeat(129)).is_err());
        assert_eq!(password(&"a".repeat(128)), Ok(()));
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        // 15 characters, 45 bytes.
        assert_eq!(password(&"€".repeat(15)), Ok(()));
        assert!(password(&"€".repeat(14)).is_err());
    }

    #[test]
    fn passwords_are_nfkc_normalised() {
        // "é" precomposed vs. "e" + combining acute; full-width digits vs. ASCII.
        assert_eq!(normalize_password("caf\u{e9}"), normalize_password("cafe\u{301}"));
        assert_eq!(normalize_password("１２３"), "123");
    }

    #[test]
    fn track_text_must_be_one_to_two_hundred_characters() {
        assert!(track_text("").is_err());
        assert!(track_text("   ").is_err());
        assert_eq!(track_text("Song 2"), Ok(()));
        assert!(track_text(&"x".repeat(201)).is_err());
    }

    #[test]
    fn control_characters_are_refused_in_track_text() {
        assert!(track_text("Song\u{0}2").is_err());
        assert!(track_text("Song\n2").is_err());
        assert_eq!(track_text("Song 2 – live"), Ok(()));
    }

    #[test]
    fn years_run_from_1000_to_next_year() {
        assert_eq!(year(1000, 2026), Ok(()));
        assert_eq!(year(2027, 2026), Ok(()));
        assert!(year(999, 2026).is_err());
        assert!(year(2028, 2026).is_err());
    }
}
