//! Who is signing in: password hashing and the credential check.

pub mod device;
pub mod links;
pub mod password;
pub mod policy;
pub mod throttle;
pub mod token;
pub mod two_factor;

use shared::validate;

use crate::auth::password::Passwords;
use crate::db::{self, Db, users::Account};
use crate::error::{ApiError, Result};

/// Why a sign-in was refused. The client learns only "incorrect username or password"; the
/// log learns which account was tried, when there is one.
#[derive(Debug)]
pub enum Refused {
    /// No such account. What was typed as the username may be anything, a password included,
    /// so it is never logged.
    NoAccount,
    /// The account exists but the password was wrong, the account is disabled, or its
    /// password changed while this one was being checked.
    Account(Account),
}

/// Checks a username and password. The outer `Result` is the server failing; the inner one is
/// the verdict.
///
/// Unknown, malformed and disabled usernames cost the same Argon2 verification as a wrong
/// password and get the same error, so neither the answer nor its timing tells whether an
/// account exists.
pub async fn authenticate(
    db: &Db,
    passwords: &Passwords,
    username: &str,
    password: &str,
) -> Result<Result<Account, Refused>> {
    let username = validate::normalize_username(username);
    let account = if validate::username(&username).is_ok() {
        db::users::find_by_username(db, &username).await?
    } else {
        None
    };
    let verdict = passwords.verify(password, account.as_ref().map(|a| a.password_hash.as_str())).await?;
    let account = match account {
        Some(account) if verdict.matches && !account.disabled => account,
        Some(account) => return Ok(Err(Refused::Account(account))),
        None => return Ok(Err(Refused::NoAccount)),
    };
    if verdict.needs_rehash {
        // The hashing parameters were raised since this hash was made: upgrade it now that
        // we hold the plain password, unless the password changed while we checked it. The
        // new hash moves the credential epoch, so the account's other sessions end: a one-off
        // when the parameters are raised.
        let hash = passwords.hash(password).await?;
        if !db::users::upgrade_password_hash(db, account.id, &account.password_hash, &hash).await? {
            return Ok(Err(Refused::Account(account)));
        }
        tracing::info!(user_id = account.id, "password hash upgraded to current parameters");
        return Ok(Ok(Account { password_hash: hash, ..account }));
    }
    Ok(Ok(account))
}

/// Hashes and stores a new account; the caller has validated the input.
pub async fn create_account(
    db: &Db,
    passwords: &Passwords,
    username: &str,
    password: &str,
    is_admin: bool,
) -> Result<Account> {
    let username = validate::normalize_username(username);
    let hash = passwords.hash(password).await?;
    db::users::insert(db, &username, &hash, is_admin).await.map_err(|err| {
        if db::is_unique_violation(&err) { ApiError::Conflict("That username is taken") } else { err.into() }
    })
}
