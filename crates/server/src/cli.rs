//! The command line: `tracklist serve` and `tracklist user …` (account administration from
//! the shell).

use std::io::BufRead;

use anyhow::{Context, bail};
use shared::{LinkPurpose, validate};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::password::Passwords;
use crate::auth::{self, links, policy};
use crate::config::{self, Config, DatabaseConfig, HashingConfig, SessionConfig};
use crate::db::{self, Db, users::Account};
use crate::session::{Sessions, Store};

/// Tracklist: a music-track library with accounts.
#[derive(Debug, Parser)]
#[command(name = "tracklist", version, about)]
pub struct Cli {
    /// `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, env = "TRACKLIST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(Box<Config>),
    /// Manage accounts.
    User(UserArgs),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account; the password is read from standard input.
    Add {
        name: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Let the user change and delete every track.
        #[arg(long)]
        admin: bool,
    },
    /// Set a new password, read from standard input.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable an account and sign out all of its sessions.
    Disable { name: String },
    /// Let a disabled account sign in again.
    Enable { name: String },
    /// List the accounts.
    List,
    /// Turn two-step sign-in off for a user who lost their app and recovery codes.
    #[command(name = "reset-2fa")]
    ResetTwoFactor { name: String },
    /// Print a one-time link that sets a new password for a user (and signs out all of
    /// their sessions when used).
    ResetLink {
        name: String,
        /// How long the link works, like `1h` or `2days` (at most 30 days).
        #[arg(long, default_value = "1h")]
        valid: String,
        #[command(flatten)]
        site: SiteArgs,
    },
    /// Print a one-time link to sign up, which works even with sign-up closed.
    Invite {
        /// Make the new account an admin.
        #[arg(long)]
        admin: bool,
        /// How long the link works, like `12h` or `7days` (at most 30 days).
        #[arg(long, default_value = "7days")]
        valid: String,
        #[command(flatten)]
        site: SiteArgs,
    },
}

/// Where printed links point.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The origin browsers reach the server at (as `serve --public-url`).
    #[arg(long, env = "TRACKLIST_PUBLIC_URL", default_value = "http://127.0.0.1:3000")]
    public_url: String,
}

pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.database.database_url).await?;
    let sessions = || async {
        let store = Store::open(
            &db,
            &args.database.session_store,
            db::redis::open(&args.database.session_store).await?,
        )
        .await?;
        anyhow::Ok(Sessions::new(db.clone(), store, config::defaults::<SessionConfig>()?))
    };
    match args.action {
        UserAction::Add { name, admin, .. } => {
            check(validate::username(&name), "username")?;
            let password = read_password(&name)?;
            let account = auth::create_account(
                &db,
                &Passwords::new(&config::defaults::<HashingConfig>()?)?,
                &name,
                &password,
                admin,
            )
            .await?;
            println!("created user {} (id {})", account.username, account.id);
        }
        UserAction::Passwd { name, .. } => {
            let account = find(&db, &name).await?;
            let password = read_password(&account.username)?;
            let hash = Passwords::new(&config::defaults::<HashingConfig>()?)?.hash(&password).await?;
            db::users::set_password_hash(&db, account.id, &hash).await?;
            let revoked = sessions().await?.revoke_all(account.id, None).await?;
            println!("password of {} changed; {revoked} session(s) signed out", account.username);
        }
        UserAction::Disable { name } => {
            let account = find(&db, &name).await?;
            db::users::set_disabled(&db, account.id, true).await?;
            let revoked = sessions().await?.revoke_all(account.id, None).await?;
            tracing::info!(event = "user_disabled", user_id = account.id, username = %account.username, revoked, "user disabled");
            println!("disabled {}; {revoked} session(s) signed out", account.username);
        }
        UserAction::Enable { name } => {
            let account = find(&db, &name).await?;
            db::users::set_disabled(&db, account.id, false).await?;
            println!("enabled {}", account.username);
        }
        UserAction::ResetTwoFactor { name } => {
            let account = find(&db, &name).await?;
            if !db::two_factor::disable(&db, account.id).await? {
                bail!("two-step sign-in is not on for {}", account.username);
            }
            tracing::info!(event = "two_factor_reset", user_id = account.id, username = %account.username, "two-step sign-in turned off by an admin");
            println!("two-step sign-in turned off for {}", account.username);
        }
        UserAction::ResetLink { name, valid, site } => {
            let account = find(&db, &name).await?;
            let valid = links::validity(Some(&valid), links::RESET_VALID)
                .map_err(|m| anyhow::anyhow!("--valid {m}"))?;
            let link = links::make(&db, &site.public_url, LinkPurpose::Reset, Some(account.id), false, valid)
                .await?;
            println!("{}", link.link);
            eprintln!("sets a new password for {}; works once, until {}", account.username, link.expires_at);
        }
        UserAction::Invite { admin, valid, site } => {
            let valid = links::validity(Some(&valid), links::INVITE_VALID)
                .map_err(|m| anyhow::anyhow!("--valid {m}"))?;
            let link = links::make(&db, &site.public_url, LinkPurpose::Invite, None, admin, valid).await?;
            println!("{}", link.link);
            let role = if admin { "an admin account" } else { "an account" };
            eprintln!("signs up {role}; works once, until {}", link.expires_at);
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

async fn find(db: &Db, name: &str) -> anyhow::Result<Account> {
    db::users::find_by_username(db, &validate::normalize_username(name))
        .await?
        .with_context(|| format!("no user named {name:?}"))
}

/// One line from standard input, so the password never shows in `ps` or shell history.
fn read_password(username: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    check(policy::check_new_password(&password, username), "password")?;
    Ok(password)
}

fn check(rule: validate::Rule, field: &str) -> anyhow::Result<()> {
    match rule {
        Ok(()) => Ok(()),
        Err(message) => bail!("the {field} {message}"),
    }
}
