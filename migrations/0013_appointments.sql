-- Office appointments (core/appointment): what a town lets citizens book at
-- which office, the state of each appointment at the counter, and the keys
-- the queue-management systems at the counter ("eliminacode") use.
--
-- The bookings themselves are the booking engine's (0010_booking.sql): an
-- office's desks are one booking resource whose seats are the desks. These
-- tables only add what the engine does not know: the topic booked, and
-- what happened on the day (checked in, called, served).

-- One row per town that offers appointments, written from its manifest.
CREATE TABLE appointment_settings (
    tenant_id     bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- Visitors may book without logging in (a name and an e-mail address).
    anonymous     boolean NOT NULL DEFAULT false,
    timezone      text NOT NULL DEFAULT 'Europe/Rome' CHECK (timezone <> ''),
    -- The manifest section last applied: an unchanged one writes nothing.
    config_sha256 text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- What one books for: "carta d'identità elettronica", "cambio di residenza".
CREATE TABLE appointment_topics (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    slug       text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name       jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object'),  -- per language
    position   integer NOT NULL DEFAULT 0,
    -- A topic the manifest no longer lists is kept (appointments name it)
    -- but offered no more.
    active     boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug)
);

-- An office that takes appointments, and the booking resource of its desks.
CREATE TABLE appointment_offices (
    tenant_id    bigint NOT NULL,
    office_id    bigint NOT NULL,
    resource_id  bigint NOT NULL,
    position     integer NOT NULL DEFAULT 0,
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, office_id),
    UNIQUE (tenant_id, resource_id),
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, resource_id) REFERENCES booking_resources (tenant_id, id) ON DELETE CASCADE
);

-- Which topics an office takes appointments for.
CREATE TABLE appointment_offerings (
    tenant_id  bigint NOT NULL,
    office_id  bigint NOT NULL,
    topic_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, office_id, topic_id),
    FOREIGN KEY (tenant_id, office_id) REFERENCES appointment_offices (tenant_id, office_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, topic_id) REFERENCES appointment_topics (tenant_id, id) ON DELETE CASCADE
);

-- An appointment: a booking of an office's desks, for a topic, and where
-- the person is on the day. States only go forward:
-- booked -> checked_in -> called -> served.
CREATE TABLE appointments (
    tenant_id      bigint NOT NULL,
    booking_id     bigint NOT NULL,
    topic_id       bigint NOT NULL,
    channel        text NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'phone', 'counter')),
    booked_by      text NOT NULL DEFAULT '',                 -- "user:12" for staff on a citizen's behalf
    -- iCalendar SEQUENCE of the event sent to the person: each move and
    -- each cancellation sends a newer version of the same UID.
    sequence       integer NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    state          text NOT NULL DEFAULT 'booked' CHECK (state IN ('booked', 'checked_in', 'called', 'served')),
    checked_in_at  timestamptz,
    called_at      timestamptz,
    served_at      timestamptz,
    calls          integer NOT NULL DEFAULT 0 CHECK (calls >= 0),
    counter        text NOT NULL DEFAULT '' CHECK (length(counter) <= 40),  -- where the person was called to
    PRIMARY KEY (tenant_id, booking_id),
    FOREIGN KEY (tenant_id, booking_id) REFERENCES bookings (tenant_id, id),
    FOREIGN KEY (tenant_id, topic_id) REFERENCES appointment_topics (tenant_id, id),
    CHECK (state = 'booked' OR checked_in_at IS NOT NULL),
    CHECK (state NOT IN ('called', 'served') OR called_at IS NOT NULL),
    CHECK (state <> 'served' OR served_at IS NOT NULL)
);
CREATE INDEX appointments_topic ON appointments (tenant_id, topic_id);

-- Keys of the queue-management systems at an office's counter. Only a
-- SHA-256 of each key is kept: the key is shown once, when issued. Keys are
-- 256 random bits, so a fast hash is enough (no guessing to slow down).
CREATE TABLE appointment_api_keys (
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    office_id     bigint NOT NULL,
    label         text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    key_hash      bytea NOT NULL CHECK (length(key_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key_hash),
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['appointment_settings', 'appointment_topics', 'appointment_offices',
        'appointment_offerings', 'appointments', 'appointment_api_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON appointment_settings, appointment_topics, appointment_offices,
    appointment_offerings TO sportello_app;
-- Appointments and keys are kept on record: a key is revoked, not deleted.
GRANT SELECT, INSERT, UPDATE ON appointments, appointment_api_keys TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
