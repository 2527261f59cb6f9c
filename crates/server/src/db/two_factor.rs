//! Queries on `two_factor` and `recovery_codes` (see `auth::two_factor`).

use super::{Db, on_backend};

/// A user's authenticator key, and the newest time step a code was used for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Factor {
    pub secret: Vec<u8>,
    pub last_step: i64,
}

pub async fn find(db: &Db, user_id: i64) -> sqlx::Result<Option<Factor>> {
    const SQL: &str = "SELECT secret, last_step FROM two_factor WHERE user_id = $1";
    on_backend!(db, pool => sqlx::query_as(SQL).bind(user_id).fetch_optional(pool).await)
}

const DELETE_CODES: &str = "DELETE FROM recovery_codes WHERE user_id = $1";

/// Replaces the user's recovery codes with `digests` inside the transaction `tx` (a macro,
/// like `on_backend!`: each engine's transaction is its own type).
macro_rules! replace_codes {
    ($tx:ident, $user_id:expr, $digests:expr) => {
        sqlx::query(DELETE_CODES).bind($user_id).execute(&mut *$tx).await?;
        for digest in $digests {
            sqlx::query("INSERT INTO recovery_codes (user_id, digest) VALUES ($1, $2)")
                .bind($user_id)
                .bind(digest.as_slice())
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Turns two-step sign-in on with `secret`, its code for `step` just used, and these
/// recovery code digests in place of any earlier ones. Returns false if it was already on.
pub async fn enable(
    db: &Db,
    user_id: i64,
    secret: &[u8],
    step: i64,
    digests: &[[u8; 32]],
) -> sqlx::Result<bool> {
    const INSERT: &str = "INSERT INTO two_factor (user_id, secret, last_step) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING";
    on_backend!(db, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(INSERT).bind(user_id).bind(secret).bind(step).execute(&mut *tx).await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        replace_codes!(tx, user_id, digests);
        tx.commit().await?;
        Ok(true)
    })
}

/// Turns two-step sign-in off and forgets the recovery codes. Returns whether it was on.
pub async fn disable(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    on_backend!(db, pool => {
        let mut tx = pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM two_factor WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query(DELETE_CODES).bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() == 1)
    })
}

/// Records that the code for `step` was used, if no code for it or a later step was: returns
/// whether this use is the first (two requests with one code cannot both win).
pub async fn use_step(db: &Db, user_id: i64, step: i64) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE two_factor SET last_step = $1 WHERE user_id = $2 AND last_step < $1";
    let updated = on_backend!(db, pool => sqlx::query(SQL).bind(step).bind(user_id).execute(pool).await?.rows_affected());
    Ok(updated == 1)
}

/// The digests of the user's unused recovery codes.
pub async fn recovery_digests(db: &Db, user_id: i64) -> sqlx::Result<Vec<Vec<u8>>> {
    const SQL: &str = "SELECT digest FROM recovery_codes WHERE user_id = $1";
    on_backend!(db, pool => sqlx::query_scalar(SQL).bind(user_id).fetch_all(pool).await)
}

/// Uses up the recovery code with this digest: returns whether it was still there.
pub async fn use_recovery_code(db: &Db, user_id: i64, digest: &[u8]) -> sqlx::Result<bool> {
    const SQL: &str = "DELETE FROM recovery_codes WHERE user_id = $1 AND digest = $2";
    let deleted = on_backend!(db, pool => sqlx::query(SQL).bind(user_id).bind(digest).execute(pool).await?.rows_affected());
    Ok(deleted == 1)
}

/// Replaces the user's recovery codes.
pub async fn replace_recovery_codes(db: &Db, user_id: i64, digests: &[[u8; 32]]) -> sqlx::Result<()> {
    on_backend!(db, pool => {
        let mut tx = pool.begin().await?;
        replace_codes!(tx, user_id, digests);
        tx.commit().await
    })
}

pub async fn count_recovery_codes(db: &Db, user_id: i64) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT count(*) FROM recovery_codes WHERE user_id = $1";
    on_backend!(db, pool => sqlx::query_scalar(SQL).bind(user_id).fetch_one(pool).await)
}
