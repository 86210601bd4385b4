-- The catalogue of service plugins and each town's path to a service:
-- requested by its admin, approved (or rejected) by platform staff,
-- configured, published to citizens, disabled (data kept).

-- One row per plugin binary the platform trusts. sha256 is recorded when
-- platform staff register the binary; a binary whose hash differs is
-- refused at start. manifest is what the plugin said of itself (Init), kept
-- so that pages can show the catalogue while a plugin is down.
CREATE TABLE catalog_plugins (
    id             text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]{1,39}$'),
    file           text NOT NULL,            -- file name under the plugin folder
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    version        text NOT NULL DEFAULT '',
    manifest       jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'registered'
                   CHECK (status IN ('registered', 'starting', 'running', 'restarting', 'failed', 'refused', 'stopped')),
    status_reason  text NOT NULL DEFAULT '',
    pid            integer NOT NULL DEFAULT 0,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The state of a service in a town. Manifests (platform onboarding) enable
-- services directly as published.
ALTER TABLE tenant_services
    ADD COLUMN state text NOT NULL DEFAULT 'published'
        CHECK (state IN ('requested', 'approved', 'rejected', 'published', 'disabled')),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE tenant_services SET state = CASE WHEN enabled THEN 'published' ELSE 'disabled' END;

-- A town admin's request for a catalogue service, and the platform's answer.
CREATE TABLE service_requests (
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    service_id   text NOT NULL,
    message      text NOT NULL CHECK (length(message) <= 2000),
    requested_by bigint NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by   bigint,                     -- platform_users.id
    reason       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, requested_by) REFERENCES users (tenant_id, id)
);
-- At most one open request per town and service.
CREATE UNIQUE INDEX service_requests_one_pending ON service_requests (tenant_id, service_id) WHERE status = 'pending';

ALTER TABLE service_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE service_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON service_requests
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON service_requests TO sportello_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON catalog_plugins TO sportello_app;

-- Platform staff answer requests from every town. This function is their
-- one window across towns: it runs as the owner (who bypasses row-level
-- security) and returns only what the console lists.
CREATE FUNCTION platform_service_requests(want_status text)
RETURNS TABLE (tenant_id bigint, id bigint, service_id text, message text, status text, reason text,
               created_at timestamptz, decided_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT tenant_id, id, service_id, message, status, reason, created_at, decided_at
    FROM service_requests WHERE status = want_status ORDER BY created_at
$$;
REVOKE ALL ON FUNCTION platform_service_requests(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION platform_service_requests(text) TO sportello_app;
