"""Growth with data: the same requests against a small and a large database, in turns.

    python3 bench/growth.py TRACKLIST_BIN [SECONDS]

- /users/me with 1 000 000 live sessions in the store against 1 000 (target >= 0.9x);
- list and search with the page cache off at 1 000 000 tracks against 10 000 (>= 0.8x);
- server RSS after 100 000 sign-ins against after 100 (within 64 MiB);
- server RSS after 20 s of requests with metrics on and never scraped (within 16 MiB).

Prints a Markdown table. The filler sessions are rows the server never reads (the measured
session is a real sign-in); they make the store's tables and indexes as large as a busy
instance's. Sign-ins are bound by Argon2 (about 150/s on 2 cores), so the last part takes
about 11 minutes.
"""

import concurrent.futures
import http.client
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = sys.argv[1]
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 4
ROUNDS = 2
DEMO = urllib.parse.urlencode({"username": "john", "password": "tracklist-demo-password"})
FAR = 4102444800000  # 2100-01-01, unix ms


def launch(port, db, *extra):
    args = [BIN, "serve", "--bind", f"127.0.0.1:{port}", "--demo", "--database-url", f"sqlite://{db}",
            "--login-max-failures", "1000000000", "--login-max-failures-per-client", "1000000000", *extra]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "RUST_LOG": "warn"})
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def sign_in(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login", DEMO, {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookie = [v for k, v in response.getheaders() if k.lower() == "set-cookie" and v.startswith("id=")]
    return cookie[0].split(";")[0] if cookie else None


def wrk(url, cookie=None, seconds=SECONDS):
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def in_turns(rows):
    """rows: name -> (url, cookie); each runs ROUNDS times for SECONDS/ROUNDS, in turns."""
    totals = {name: 0.0 for name in rows}
    for _ in range(ROUNDS):
        for name, (url, cookie) in rows.items():
            totals[name] += wrk(url, cookie, max(1, SECONDS // ROUNDS))
    return {name: total / ROUNDS for name, total in totals.items()}


def seed_sessions(db, count):
    conn = sqlite3.connect(db)
    rows = ((secrets.token_urlsafe(16), secrets.token_urlsafe(16)) for _ in range(count))
    conn.execute("BEGIN")
    for session_id, reference in rows:
        conn.execute("INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, x'80', '2100-01-01T00:00:00Z')",
                     (session_id,))
        conn.execute("INSERT INTO user_sessions (reference, session_id, user_id, expires_at) VALUES (?, ?, 1, ?)",
                     (reference, session_id, FAR))
    conn.commit()
    conn.close()


def seed_tracks(db, count):
    conn = sqlite3.connect(db)
    conn.execute(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
        "INSERT INTO tracks (title, artist, album, year) "
        "SELECT 'Song ' || n, 'Artist ' || (n % 500), 'Album ' || (n % 900), 1950 + (n % 70) FROM s", (count,))
    conn.execute("INSERT INTO tracks_search (tracks_search) VALUES ('optimize')")
    conn.commit()
    conn.close()


def rss_kib(proc):
    with open(f"/proc/{proc.pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def rss_growth(server, warm_up, work):
    """The server's RSS after warm_up() and after work() (then the server is stopped), what
    each returned, and how long work() took."""
    try:
        warmed = warm_up()
        before = rss_kib(server)
        started = time.time()
        worked = work()
        took = time.time() - started
        return before, rss_kib(server), warmed, worked, took
    finally:
        server.terminate()
        server.wait()


def rss_row(name, before, after, within_mib):
    growth_mib = (after - before) / 1024
    return (name, f"{before / 1024:.1f} MiB → {after / 1024:.1f} MiB: **{growth_mib:+.1f} MiB**",
            growth_mib <= within_mib)


def sign_ins(port, count, workers=16):
    def one(_):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/login", DEMO, {"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        statuses = list(pool.map(one, range(count)))
    return sum(1 for s in statuses if s == 200)


def prepared(work, name, seed):
    """A migrated database file with the demo user, then `seed` applied."""
    db = os.path.join(work, f"{name}.db")
    proc = launch(3080, db)
    proc.terminate()
    proc.wait()
    seed(db)
    return db


def main():
    table = []
    with tempfile.TemporaryDirectory() as work:
        # Sessions.
        small = prepared(work, "sessions-small", lambda db: seed_sessions(db, 1_000))
        large = prepared(work, "sessions-large", lambda db: seed_sessions(db, 1_000_000))
        a, b = launch(3081, small), launch(3082, large)
        try:
            rows = {"small": ("http://127.0.0.1:3081/users/me", sign_in(3081)),
                    "large": ("http://127.0.0.1:3082/users/me", sign_in(3082))}
            rps = in_turns(rows)
        finally:
            a.terminate(), b.terminate(), a.wait(), b.wait()
        ratio = rps["large"] / rps["small"]
        table.append(("/users/me, 1 000 000 sessions vs 1 000 (>= 0.9x)",
                      f"{rps['large']:.0f} / {rps['small']:.0f} = **{ratio:.2f}x**", ratio >= 0.9))

        # Tracks, page cache off.
        small = prepared(work, "tracks-small", lambda db: seed_tracks(db, 10_000))
        large = prepared(work, "tracks-large", lambda db: seed_tracks(db, 1_000_000))
        off = ("--catalogue-cache-mib", "0")
        a, b = launch(3081, small, *off), launch(3082, large, *off)
        try:
            rows = {"list small": ("http://127.0.0.1:3081/tracks?limit=20", None),
                    "list large": ("http://127.0.0.1:3082/tracks?limit=20", None),
                    "search small": ("http://127.0.0.1:3081/tracks?q=song%209&limit=20", None),
                    "search large": ("http://127.0.0.1:3082/tracks?q=song%209&limit=20", None)}
            rps = in_turns(rows)
        finally:
            a.terminate(), b.terminate(), a.wait(), b.wait()
        for kind in ("list", "search"):
            ratio = rps[f"{kind} large"] / rps[f"{kind} small"]
            table.append((f"{kind}, page cache off, 1 000 000 tracks vs 10 000 (>= 0.8x)",
                          f"{rps[f'{kind} large']:.0f} / {rps[f'{kind} small']:.0f} = **{ratio:.2f}x**",
                          ratio >= 0.8))

        # Memory after many sign-ins.
        before, after, first, rest, took = rss_growth(launch(3083, os.path.join(work, "sign-ins.db")),
                                                      lambda: sign_ins(3083, 100),
                                                      lambda: sign_ins(3083, 100_000 - 100))
        table.append(rss_row(f"RSS after 100 000 sign-ins vs after 100 (within 64 MiB; {first + rest} succeeded in {took:.0f} s)",
                             before, after, 64))

        # Memory with metrics on, never scraped: the recorder must not keep every latency.
        server = launch(3084, os.path.join(work, "metrics.db"), "--metrics-bind", "127.0.0.1:3085")
        url = "http://127.0.0.1:3084/healthz"
        before, after, _, rps, _ = rss_growth(server, lambda: wrk(url, seconds=2), lambda: wrk(url, seconds=20))
        table.append(rss_row(f"RSS after {rps * 20 / 1e6:.1f} million requests with metrics on, never scraped (within 16 MiB)",
                             before, after, 16))

    print(f"Growth, SQLite, release build, wrk -t2 -c16, {ROUNDS} rounds of {max(1, SECONDS // ROUNDS)} s in turns:")
    print()
    print("| target | measured | |")
    print("|---|---|---|")
    for name, measured, met in table:
        print(f"| {name} | {measured} | {'met' if met else '**not met**'} |")


main()
