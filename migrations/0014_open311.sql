-- Keys of the Open311 GeoReport v2 interface (core/open311): the apps and
-- dashboards a town lets file reports through its helpdesk. A key belongs
-- to one town; reading is public, only filing a report needs one.
--
-- Only a SHA-256 of each key is kept: the key is shown once, when issued.
-- Keys are 256 random bits, so a fast hash is enough (no guessing to slow
-- down).
CREATE TABLE open311_api_keys (
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    label         text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    key_hash      bytea NOT NULL CHECK (length(key_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- Unique across towns: a key names at most one, which is what lets the
-- interface tell a key of another town from a wrong one.
CREATE UNIQUE INDEX open311_api_keys_hash ON open311_api_keys (key_hash);

ALTER TABLE open311_api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE open311_api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON open311_api_keys
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- Kept on record: a key is revoked, not deleted.
GRANT SELECT, INSERT, UPDATE ON open311_api_keys TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;

-- The one window across towns: which town a live key was issued by, so a
-- key sent to the wrong town is refused as such ("issued by another
-- town") rather than as unknown. Runs as the owner and returns the
-- tenant's id only, nothing of the key or of the town's data.
CREATE FUNCTION open311_key_tenant(hash bytea)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT tenant_id FROM open311_api_keys WHERE key_hash = hash AND revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION open311_key_tenant(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION open311_key_tenant(bytea) TO sportello_app;
