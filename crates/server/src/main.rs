//! The `tracklist` binary: parse the command line, set up logging, run.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracklist::Application;
use tracklist::cli::{self, Cli, Command, LogFormat};

// A request allocates many small short-lived values (rows, strings, JSON); mimalloc's
// per-thread free lists serve them faster than glibc's malloc (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // tower-sessions opens an INFO span around every request and every session load; our own
    // `request` span already gives each line its context, and those spans cost a span each
    // per request (measured), so by default they are off.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_sessions=warn,tower_sessions_core=warn"));
    // `tracklist user …` prints its results (a link, the account list) on standard output,
    // for scripts to take; its log lines go to standard error.
    let (writer, terminal) = match cli.command {
        Command::Serve(_) => (BoxMakeWriter::new(std::io::stdout), std::io::stdout().is_terminal()),
        Command::User(_) => (BoxMakeWriter::new(std::io::stderr), std::io::stderr().is_terminal()),
    };
    match cli.log_format {
        // Colours only for a person at a terminal: escape codes are noise in a log file, and
        // formatting them into every request's span showed in the profile.
        LogFormat::Text => {
            tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(terminal).init()
        }
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .with_writer(writer)
            .init(),
    }
    match cli.command {
        Command::Serve(config) => {
            let app = Application::build(*config).await?;
            tracing::info!("listening on http://{}", app.local_addr()?);
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::User(args) => cli::run(args).await,
    }
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
