//! Who is signing in: password hashing and the credential check.

pub mod password;
pub mod policy;
pub mod throttle;

use shared::validate;

use crate::auth::password::Passwords;
use crate::db::{self, Db, users::Account};
use crate::error::{ApiError, Result};
use crate::state::AppState;

/// Checks a username and password.
///
/// Unknown, malformed and disabled usernames cost the same Argon2 verification as a wrong
/// password and get the same error, so neither the answer nor its timing tells whether an
/// account exists.
pub async fn authenticate(state: &AppState, username: &str, password: &str) -> Result<Account> {
    let username = validate::normalize_username(username);
    let account = if validate::username(&username).is_ok() {
        db::users::find_by_username(&state.db, &username).await?
    } else {
        None
    };
    let verdict =
        state.passwords.verify(password, account.as_ref().map(|a| a.password_hash.as_str())).await?;
    let account = match account {
        Some(account) if verdict.matches && !account.disabled => account,
        _ => return Err(ApiError::InvalidCredentials),
    };
    if verdict.needs_rehash {
        // The hashing parameters were raised since this hash was made: upgrade it now that
        // we hold the plain password, unless the password changed while we checked it. The
        // new hash moves the credential epoch, so the account's other sessions end: a one-off
        // when the parameters are raised.
        let hash = state.passwords.hash(password).await?;
        if !db::users::upgrade_password_hash(&state.db, account.id, &account.password_hash, &hash).await? {
            return Err(ApiError::InvalidCredentials);
        }
        tracing::info!(user_id = account.id, "password hash upgraded to current parameters");
        return Ok(Account { password_hash: hash, ..account });
    }
    Ok(account)
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
