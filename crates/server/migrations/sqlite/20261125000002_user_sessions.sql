-- Which sessions each user has, so they can be listed and revoked. The session record itself
-- lives in the session store; this row points at it by id.
CREATE TABLE user_sessions (
    reference    TEXT    PRIMARY KEY,          -- shown to the user instead of the session id
    session_id   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seen_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at   INTEGER NOT NULL,             -- unix milliseconds
    user_agent   TEXT,
    client_addr  TEXT
);

CREATE INDEX user_sessions_user ON user_sessions (user_id, expires_at);
