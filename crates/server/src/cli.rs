//! `tracklist user …`: account administration from the shell.

use std::io::BufRead;

use anyhow::{Context, bail};
use shared::validate;

use crate::auth::{self, password::Passwords};
use crate::config::{UserAction, UserArgs};
use crate::db;

pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let db = db::connect(&args.database.database_url).await?;
    match args.action {
        UserAction::Add { name, admin, .. } => {
            check(validate::username(&name), "username")?;
            let password = read_password()?;
            let account = auth::create_account(&db, &Passwords::new()?, &name, &password, admin).await?;
            println!("created user {} (id {})", account.username, account.id);
        }
        UserAction::Passwd { name, .. } => {
            let account = db::users::find_by_username(&db, &validate::normalize_username(&name))
                .await?
                .with_context(|| format!("no user named {name:?}"))?;
            let password = read_password()?;
            let hash = Passwords::new()?.hash(&password).await?;
            db::users::set_password_hash(&db, account.id, &hash).await?;
            println!("password of {} changed", account.username);
        }
        UserAction::List => {
            println!("{:>6}  {:<32}  role", "id", "username");
            for account in db::users::list(&db).await? {
                let role = if account.is_admin { "admin" } else { "user" };
                let role = if account.disabled { format!("{role} (disabled)") } else { role.to_owned() };
                println!("{:>6}  {:<32}  {role}", account.id, account.username);
            }
        }
    }
    Ok(())
}

/// One line from standard input, so the password never shows in `ps` or shell history.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    check(validate::password(&password), "password")?;
    Ok(password)
}

fn check(rule: validate::Rule, field: &str) -> anyhow::Result<()> {
    match rule {
        Ok(()) => Ok(()),
        Err(message) => bail!("the {field} {message}"),
    }
}
