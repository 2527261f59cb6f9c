//! Real Redis and PostgreSQL servers that a test owns, so it can stop and restart them.
//! They need the Debian packages `redis-server` and `postgresql` (scripts/test.sh installs
//! them); without them the fault tests say so loudly and skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn wait_for_port(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let listening = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if listening == up {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("port {port} did not go {}", if up { "up" } else { "down" });
}

/// Prints why a test does not run, where nobody can miss it: straight to stderr, which the
/// test harness does not capture (it captures only the print macros).
pub fn skip(test: &str, why: &str) {
    report(&format!("*** SKIPPED {test}: {why} ***"));
}

/// A line on the real stderr, shown even when the test passes.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n{line}\n");
}

pub fn redis_available() -> bool {
    Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// `redis-server` on a private port, no persistence.
pub struct Redis {
    pub port: u16,
    dir: TempDir,
}

impl Redis {
    pub fn start() -> Self {
        let redis = Self { port: free_port(), dir: tempfile::tempdir().expect("folder") };
        redis.up();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn up(&self) {
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
            .arg(self.dir.path())
            .arg("--pidfile")
            .arg(self.dir.path().join("redis.pid"))
            .stdout(Stdio::null())
            .status()
            .expect("redis-server runs");
        assert!(status.success());
        wait_for_port(self.port, true);
    }

    pub fn down(&self) {
        let _ = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "shutdown", "nosave"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        wait_for_port(self.port, false);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.down();
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

/// A private PostgreSQL cluster (run by the `postgres` account, as PostgreSQL requires).
pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    dir: TempDir,
}

impl Postgres {
    pub fn start() -> Self {
        let bin = pg_bin().expect("PostgreSQL is installed");
        let dir = tempfile::tempdir().expect("folder");
        let postgres = Self { port: free_port(), bin, dir };
        postgres.chown_to_postgres(postgres.dir.path());
        postgres.as_postgres(
            &postgres.bin.join("initdb"),
            &["-D", &postgres.data(), "-U", "postgres", "--auth=trust"],
        );
        postgres.up();
        postgres
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = format!("{}/log", self.dir.path().display());
        self.as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &self.data(), "-l", &log, "-w", "-o", &options, "start"],
        );
        wait_for_port(self.port, true);
    }

    pub fn down(&self) {
        self.as_postgres(&self.bin.join("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
        wait_for_port(self.port, false);
    }

    fn data(&self) -> String {
        format!("{}/data", self.dir.path().display())
    }

    fn chown_to_postgres(&self, path: &Path) {
        let status = Command::new("chown").arg("postgres:postgres").arg(path).status().expect("chown runs");
        assert!(status.success());
    }

    fn as_postgres(&self, program: &Path, args: &[&str]) {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args)
            .output()
            .expect("runuser runs");
        assert!(output.status.success(), "{program:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}
