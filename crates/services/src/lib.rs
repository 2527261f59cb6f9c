//! Real Redis and PostgreSQL servers on loopback, in a private folder: the one place that
//! knows how to start and stop them. The API tests own some (to stop and restart them), and
//! `tracklist-services` starts a pair that outlives it, for the test command's PostgreSQL +
//! Redis pass and the benchmark. They need the Debian packages `redis-server` and
//! `postgresql` (the scripts install them).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use tempfile::TempDir;

/// A port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16, up: bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() == up {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("port {port} did not go {}", if up { "up" } else { "down" })
}

/// Where a server keeps its files: a temporary folder removed with it, or a given one.
enum Folder {
    Temporary(TempDir),
    Kept(PathBuf),
}

impl Folder {
    fn path(&self) -> &Path {
        match self {
            Self::Temporary(dir) => dir.path(),
            Self::Kept(path) => path,
        }
    }

    fn new(kept: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match kept {
            Some(path) => {
                std::fs::create_dir_all(path)?;
                Self::Kept(path.to_owned())
            }
            None => Self::Temporary(tempfile::tempdir()?),
        })
    }
}

pub fn redis_available() -> bool {
    Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// `redis-server` on a private port, no persistence; stopped when dropped unless kept.
pub struct Redis {
    pub port: u16,
    folder: Folder,
    keep: bool,
}

impl Redis {
    /// On a free port, in a temporary folder.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_at(free_port()?, None)
    }

    /// On `port`, in `folder` when given.
    pub fn start_at(port: u16, folder: Option<&Path>) -> anyhow::Result<Self> {
        let redis = Self { port, folder: Folder::new(folder)?, keep: false };
        redis.up()?;
        Ok(redis)
    }

    /// The server already running on `port` (to stop it).
    pub fn running_at(port: u16, folder: &Path) -> Self {
        Self { port, folder: Folder::Kept(folder.to_owned()), keep: false }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn up(&self) -> anyhow::Result<()> {
        let dir = self.folder.path();
        let status = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--daemonize", "yes", "--dir"])
            .arg(dir)
            .arg("--pidfile")
            .arg(dir.join("redis.pid"))
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdout(Stdio::null())
            .status()
            .context("redis-server runs")?;
        ensure!(status.success(), "redis-server failed to start");
        wait_for_port(self.port, true)
    }

    pub fn down(&self) -> anyhow::Result<()> {
        let _ = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "shutdown", "nosave"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        wait_for_port(self.port, false)
    }

    /// Leaves the server running after this value is gone.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.down();
        }
    }
}

fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path()).collect();
    versions.sort();
    versions.pop().map(|version| version.join("bin"))
}

pub fn postgres_available() -> bool {
    pg_bin().is_some_and(|bin| bin.join("initdb").exists())
}

/// A private PostgreSQL cluster, run by the `postgres` account as PostgreSQL requires, trusting
/// loopback; stopped when dropped unless kept.
pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    folder: Folder,
    max_connections: u32,
    keep: bool,
}

impl Postgres {
    /// On a free port, in a temporary folder.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_at(free_port()?, None, 100)
    }

    /// On `port`, in `folder` when given, admitting `max_connections`.
    pub fn start_at(port: u16, folder: Option<&Path>, max_connections: u32) -> anyhow::Result<Self> {
        let bin = pg_bin().context("PostgreSQL is not installed")?;
        let postgres = Self { port, bin, folder: Folder::new(folder)?, max_connections, keep: false };
        let dir = postgres.folder.path();
        let status = Command::new("chown").arg("postgres:postgres").arg(dir).status()?;
        ensure!(status.success(), "cannot hand {} to the postgres account", dir.display());
        postgres.as_postgres("initdb", &["-D", &postgres.data(), "-U", "postgres", "--auth=trust"])?;
        postgres.up()?;
        Ok(postgres)
    }

    /// The cluster already running on `port` in `folder` (to stop it).
    pub fn running_at(port: u16, folder: &Path) -> anyhow::Result<Self> {
        let bin = pg_bin().context("PostgreSQL is not installed")?;
        Ok(Self { port, bin, folder: Folder::Kept(folder.to_owned()), max_connections: 0, keep: false })
    }

    /// The admin URL (database `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn up(&self) -> anyhow::Result<()> {
        let dir = self.folder.path().display();
        // Throwaway data: no fsync, and a small WAL (its default 1 GB ceiling is disk that a
        // test run creating a database per test would fill before recycling any of it).
        let options = format!(
            "-p {} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_wal_size=64MB \
             -c min_wal_size=32MB -c max_connections={}",
            self.port, self.max_connections
        );
        let log = format!("{dir}/log");
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-l", &log, "-w", "-o", &options, "start"])?;
        wait_for_port(self.port, true)
    }

    pub fn down(&self) -> anyhow::Result<()> {
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"])?;
        wait_for_port(self.port, false)
    }

    /// Leaves the cluster running after this value is gone.
    pub fn keep(mut self) {
        self.keep = true;
    }

    fn data(&self) -> String {
        format!("{}/data", self.folder.path().display())
    }

    fn as_postgres(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args)
            .output()
            .context("runuser runs")?;
        ensure!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.as_postgres("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
        }
    }
}
