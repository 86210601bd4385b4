-- Idempotency keys of the POST APIs (Open311, the counter queue, a
-- service's actions asked for JSON): a client that sends a request again
-- with the same Idempotency-Key, after a timeout or a dropped connection,
-- gets the first answer back instead of a second report or booking.
-- Keys are kept a day; the same key with another request is refused.

CREATE TABLE idempotency_keys (
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Who sent it: a SHA-256 of their API key, session or address, so
    -- two clients' keys never meet.
    client        text NOT NULL CHECK (client ~ '^[0-9a-f]{64}$'),
    key           text NOT NULL CHECK (key ~ '^[\x21-\x7e]{1,255}$'),
    -- A SHA-256 of the method, path and body of the first request.
    request_hash  text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    -- NULL while the first request runs.
    status        integer CHECK (status BETWEEN 100 AND 599),
    content_type  text NOT NULL DEFAULT '' CHECK (length(content_type) <= 200),
    body          bytea NOT NULL DEFAULT '' CHECK (length(body) <= 1048576),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, client, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (tenant_id, created_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO sportello_app;
