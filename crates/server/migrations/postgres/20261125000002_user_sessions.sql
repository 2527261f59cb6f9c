-- Which sessions each user has, so they can be listed and revoked. The session record itself
-- lives in the session store; this row points at it by id.
CREATE TABLE user_sessions (
    reference    TEXT    PRIMARY KEY,
    session_id   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    last_seen_at TEXT    NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    expires_at   BIGINT  NOT NULL,
    user_agent   TEXT,
    client_addr  TEXT
);

CREATE INDEX user_sessions_user ON user_sessions (user_id, expires_at);
