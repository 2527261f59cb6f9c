-- Two-step sign-in (RFC 6238). The key has to be kept as it is to check codes with it.
CREATE TABLE two_factor (
    user_id   BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret    BYTEA  NOT NULL,
    -- The newest time step whose code was used: a code is good once, and no older one after it.
    last_step BIGINT NOT NULL
);

-- Single-use recovery codes: only each code's SHA-256 is stored.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest  BYTEA  NOT NULL,
    PRIMARY KEY (user_id, digest)
);

-- One-time links (password reset, invitation): the link carries selector.verifier in its
-- fragment; only the verifier's SHA-256 is stored.
CREATE TABLE one_time_links (
    selector        TEXT    PRIMARY KEY,
    verifier_digest BYTEA   NOT NULL,
    purpose         TEXT    NOT NULL CHECK (purpose IN ('reset', 'invite')),
    user_id         BIGINT  REFERENCES users (id) ON DELETE CASCADE,  -- reset: whose password
    is_admin        BOOLEAN NOT NULL DEFAULT FALSE,                   -- invite: the role
    expires_at      BIGINT  NOT NULL,                                 -- unix milliseconds
    used_at         BIGINT                                            -- unix milliseconds
);
