-- What the Host API keeps for plugins: dossiers with their status history,
-- reservations, per-plugin settings, a notifications outbox and payment
-- positions. Plugins never see these tables; core/hostapi reads and writes
-- them on a plugin's behalf, always inside the tenant of the request.
--
-- service_id / plugin_id is the catalogue id of the plugin that made a row:
-- a plugin only ever sees its own service's rows.

-- btree_gist lets one GiST exclusion constraint mix equality (tenant,
-- service, resource) with range overlap (period). Trusted since PG 13, so a
-- database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The one record of a citizen's request, across services. Kept minimal:
-- assignment, priority, notes and attachments come with the dossier model.
CREATE TABLE dossiers (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    number      text NOT NULL CHECK (number ~ '^[0-9]{4}-[0-9]{6,}$'),  -- protocol number, "2026-000042"
    service_id  text NOT NULL,
    citizen_id  bigint,                                   -- NULL: opened by staff or anonymously
    status      text NOT NULL CHECK (status ~ '^[a-z][a-z0-9_]{0,31}$'),
    title       text NOT NULL CHECK (title <> ''),
    data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    channel     text NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'phone', 'counter', 'consultation')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    -- No cascade: a public record outlives a citizen account.
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id)
);
CREATE INDEX dossiers_service ON dossiers (tenant_id, service_id, created_at DESC);
CREATE INDEX dossiers_citizen ON dossiers (tenant_id, citizen_id, created_at DESC) WHERE citizen_id IS NOT NULL;

-- Protocol numbers run per tenant and calendar year without gaps: the
-- counter row is bumped in the dossier's own transaction, so a rolled-back
-- dossier gives its number back and concurrent ones queue on the row lock.
CREATE TABLE dossier_counters (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    year       integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last       bigint NOT NULL CHECK (last > 0),
    PRIMARY KEY (tenant_id, year)
);

-- Status history, append-only (the application may not update or delete).
CREATE TABLE dossier_events (
    tenant_id   bigint NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    dossier_id  bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,                        -- "plugin:<id>/<kind>:<id>", as in audit_log
    status      text NOT NULL CHECK (status ~ '^[a-z][a-z0-9_]{0,31}$'),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX dossier_events_dossier ON dossier_events (tenant_id, dossier_id, at);

-- A resource (a desk, a room, an expert) taken for a period. Double booking
-- is impossible by construction: the exclusion constraint refuses two live
-- reservations of one resource with overlapping periods. Resources are
-- named by the plugin, so they are scoped to its service: a plugin can
-- neither block nor probe another service's calendar.
-- An expired hold still counts for the constraint (a time-dependent WHERE
-- is impossible there); Reserve cancels the expired holds it collides with
-- in its own transaction before inserting.
CREATE TABLE reservations (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    service_id  text NOT NULL,
    resource    text NOT NULL CHECK (resource <> '' AND length(resource) <= 128),
    period      tstzrange NOT NULL CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)),
    status      text NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled')),
    code        text NOT NULL CHECK (code ~ '^[2-9A-HJ-NP-Z]{8}$'),  -- no 0/O, 1/I: read out on the phone
    expires_at  timestamptz,
    dossier_id  bigint,
    citizen_id  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code),
    CHECK (status <> 'held' OR expires_at IS NOT NULL),
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id),
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id),
    CONSTRAINT reservations_no_overlap EXCLUDE USING gist
        (tenant_id WITH =, service_id WITH =, resource WITH =, period WITH &&)
        WHERE (status <> 'cancelled')
);
CREATE INDEX reservations_citizen ON reservations (tenant_id, citizen_id) WHERE citizen_id IS NOT NULL;

-- A plugin's own key-value state in a tenant.
CREATE TABLE plugin_settings (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plugin_id   text NOT NULL,
    key         text NOT NULL CHECK (key ~ '^[a-z0-9_.-]{1,64}$'),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, plugin_id, key)
);

-- Outbox: the Host API only queues; a sender delivers and marks the row.
CREATE TABLE notifications (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    plugin_id   text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient   text NOT NULL CHECK (recipient <> ''),
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL CHECK (body <> ''),
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_queued ON notifications (tenant_id, created_at) WHERE status = 'queued';

-- A payment position (pagoPA). The statuses are pagoPA's life cycle of a
-- position; creation_pending until the provider has issued it. The IUV and
-- notice code are placeholders until then (see core/hostapi).
CREATE TABLE payments (
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    service_id    text NOT NULL,
    dossier_id    bigint,
    citizen_id    bigint,                              -- the debtor, when known
    amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
    currency      text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    reason        text NOT NULL CHECK (reason <> '' AND length(reason) <= 140),
    status        text NOT NULL DEFAULT 'creation_pending'
                  CHECK (status IN ('creation_pending', 'creation_failed', 'payment_pending', 'payment_started',
                                    'complete', 'payment_failed', 'canceled', 'expired')),
    iuv           text NOT NULL CHECK (iuv ~ '^[0-9]{17}$'),
    notice_code   text NOT NULL CHECK (notice_code ~ '^[0-9]{18}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, iuv),
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id),
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id)
);
CREATE INDEX payments_dossier ON payments (tenant_id, dossier_id) WHERE dossier_id IS NOT NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['dossiers', 'dossier_counters', 'dossier_events', 'reservations',
                             'plugin_settings', 'notifications', 'payments']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON dossiers, reservations, plugin_settings, notifications, payments TO sportello_app;
GRANT SELECT, INSERT, UPDATE ON dossier_counters TO sportello_app;
GRANT SELECT, INSERT ON dossier_events TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
