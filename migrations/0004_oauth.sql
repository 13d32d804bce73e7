-- 0003: the OAuth 2.0 authorization server (issue #3, docs/oauth.md): registered clients, their exact
-- redirect URIs, authorization codes and tokens.
--
-- Secrets are never stored: client secrets, codes, access and refresh tokens are kept as the lower-case
-- hex SHA-256 of the value (all are 256-bit random values, so a plain hash cannot be brute-forced; see
-- docs/oauth.md "Storage"). Times are Unix milliseconds.

CREATE TABLE oauth_clients (
  client_id     TEXT    NOT NULL PRIMARY KEY,
  name          TEXT    NOT NULL,
  secret_hash   TEXT,                       -- NULL for a public client
  is_public     INTEGER NOT NULL CHECK (is_public IN (0, 1)),
  pkce_required INTEGER NOT NULL CHECK (pkce_required IN (0, 1)),
  created_at_ms INTEGER NOT NULL,
  CHECK ((is_public = 1) = (secret_hash IS NULL))
) STRICT;

-- Several exact redirect URIs per client (RFC 9700 §4.1.3: exact string matching).
CREATE TABLE oauth_client_redirect_uris (
  client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
  uri       TEXT NOT NULL,
  PRIMARY KEY (client_id, uri)
) STRICT;

-- One row per authorization code. family_id is chosen when the code is issued and carried by every token
-- issued from it, so a replayed code revokes them all (RFC 6749 §4.1.2).
CREATE TABLE oauth_codes (
  code_hash      TEXT    NOT NULL PRIMARY KEY,
  client_id      TEXT    NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
  family_id      TEXT    NOT NULL,
  account_id     TEXT    NOT NULL,
  user_id        TEXT    NOT NULL,
  identity       TEXT    NOT NULL,           -- JSON object (oauth::identity)
  scopes         TEXT    NOT NULL,           -- space-separated
  redirect_uri   TEXT    NOT NULL,
  code_challenge TEXT,                       -- S256 challenge; NULL without PKCE
  created_at_ms  INTEGER NOT NULL,
  expires_at_ms  INTEGER NOT NULL,
  used_at_ms     INTEGER
) STRICT;
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at_ms);

-- Access and refresh tokens. A refresh rotation adds a row with parent_hash = the rotated token and the
-- same family_id, and sets rotated_at_ms on the parent (the grace window counts from it).
CREATE TABLE oauth_tokens (
  token_hash    TEXT    NOT NULL PRIMARY KEY,
  kind          TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
  family_id     TEXT    NOT NULL,
  parent_hash   TEXT,
  client_id     TEXT    NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
  account_id    TEXT    NOT NULL,
  user_id       TEXT    NOT NULL,
  identity      TEXT    NOT NULL,
  scopes        TEXT    NOT NULL,
  issued_at_ms  INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER,
  rotated_at_ms INTEGER
) STRICT;
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at_ms);
