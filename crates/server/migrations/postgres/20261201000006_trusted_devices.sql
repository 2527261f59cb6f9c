-- Devices that signed in successfully (OWASP "device cookies"): they keep their own budget of
-- failed sign-ins when the account's shared ceiling is reached. The cookie carries
-- selector.verifier; only the verifier's SHA-256 is stored.
CREATE TABLE trusted_devices (
    selector        TEXT   PRIMARY KEY,
    verifier_digest BYTEA  NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at      BIGINT NOT NULL
);

CREATE INDEX trusted_devices_expiry ON trusted_devices (expires_at);
