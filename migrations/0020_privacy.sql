-- Citizens' rights over their data (core/privacy): requests to erase an
-- account, and how long each service's closed dossiers are kept.

-- A citizen's request to be forgotten, worked by the town's admin. The
-- request outlives the account's personal data: once carried out it still
-- says when and by whom, and what was kept because the law requires it.
CREATE TABLE privacy_requests (
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    citizen_id    bigint NOT NULL,
    kind          text NOT NULL DEFAULT 'erasure' CHECK (kind IN ('erasure')),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    done_at       timestamptz,
    done_by       bigint,                               -- users.id of the admin
    -- What carrying it out did: {"deleted": n, "drafts": n, "kept": n}.
    outcome       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(outcome) = 'object'),
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'done') = (done_at IS NOT NULL)),
    -- The account row stays (anonymised), so the request keeps its link.
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id),
    FOREIGN KEY (tenant_id, done_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (done_by)
);
-- One open request per account: asking twice is the same request.
CREATE UNIQUE INDEX privacy_requests_one_pending ON privacy_requests (tenant_id, citizen_id) WHERE status = 'pending';
CREATE INDEX privacy_requests_pending ON privacy_requests (tenant_id, created_at) WHERE status = 'pending';

-- How many days a service's dossiers are kept once closed; a service
-- without a row keeps them (the safe default for public records).
CREATE TABLE privacy_retention (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    service_id  text NOT NULL CHECK (service_id ~ '^[a-z][a-z0-9_-]{0,39}$'),
    days        integer NOT NULL CHECK (days BETWEEN 1 AND 36500),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, service_id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['privacy_requests', 'privacy_retention']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

-- Requests are kept on record; retention rows come and go.
GRANT SELECT, INSERT, UPDATE ON privacy_requests TO sportello_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy_retention TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
