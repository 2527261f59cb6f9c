-- Two-step sign-in (RFC 6238). The key has to be kept as it is to check codes with it.
CREATE TABLE two_factor (
    user_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret    BLOB    NOT NULL,
    -- The newest time step whose code was used: a code is good once, and no older one after it.
    last_step INTEGER NOT NULL
);

-- Single-use recovery codes: only each code's SHA-256 is stored.
CREATE TABLE recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest  BLOB    NOT NULL,
    PRIMARY KEY (user_id, digest)
);

-- One-time links (password reset, invitation): the link carries selector.verifier in its
-- fragment; only the verifier's SHA-256 is stored.
CREATE TABLE one_time_links (
    selector        TEXT    PRIMARY KEY,
    verifier_digest BLOB    NOT NULL,
    purpose         TEXT    NOT NULL CHECK (purpose IN ('reset', 'invite')),
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,  -- reset: whose password
    is_admin        INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),  -- invite: the role
    expires_at      INTEGER NOT NULL,                                -- unix milliseconds
    used_at         INTEGER                                          -- unix milliseconds
);
