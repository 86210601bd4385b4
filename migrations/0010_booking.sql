-- The booking engine (core/booking): bookable resources (an office desk, a
-- room, an expert) with their calendar settings, named opening hours,
-- closing days, and the bookings themselves.
--
-- Times of day and dates are local to the resource's time zone; the
-- engine turns them into instants, so a booking's period is a tstzrange.

CREATE TABLE booking_resources (
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    kind            text NOT NULL CHECK (kind IN ('desk', 'room', 'expert')),
    slug            text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name            jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object'),  -- per language
    office_id       bigint,
    -- Capacity N is N seats; a booking takes one seat for one slot.
    capacity        smallint NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 1000),
    price_cents     bigint CHECK (price_cents > 0),                  -- NULL: free of charge
    currency        text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    approval_required boolean NOT NULL DEFAULT false,
    active          boolean NOT NULL DEFAULT true,
    timezone        text NOT NULL DEFAULT 'Europe/Rome' CHECK (timezone <> ''),
    slot_minutes    integer NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 5 AND 1440),
    horizon_days    integer NOT NULL DEFAULT 60 CHECK (horizon_days BETWEEN 1 AND 730),
    min_notice_minutes      integer NOT NULL DEFAULT 0 CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    cancel_deadline_minutes integer NOT NULL DEFAULT 0 CHECK (cancel_deadline_minutes BETWEEN 0 AND 43200),
    hold_minutes    integer NOT NULL DEFAULT 15 CHECK (hold_minutes BETWEEN 1 AND 1440),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug),
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id) ON DELETE SET NULL (office_id)
);

-- Named opening-hour rules. Rules may overlap: a time is open when any
-- rule valid on that day covers it. Weekdays are ISO (1 = Monday).
CREATE TABLE booking_hours (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    resource_id  bigint NOT NULL,
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 80),
    weekdays     smallint[] NOT NULL CHECK (cardinality(weekdays) > 0 AND weekdays <@ '{1,2,3,4,5,6,7}'),
    opens        time NOT NULL,
    closes       time NOT NULL CHECK (closes > opens),                -- '24:00' closes at midnight
    valid_from   date,
    valid_to     date CHECK (valid_to >= valid_from),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES booking_resources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX booking_hours_resource ON booking_hours (tenant_id, resource_id);

-- Closing days, first and last day included. No resource: the whole town
-- is closed (a public holiday).
CREATE TABLE booking_closures (
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    resource_id  bigint,
    first_day    date NOT NULL,
    last_day     date NOT NULL CHECK (last_day >= first_day AND last_day - first_day <= 366),
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES booking_resources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX booking_closures_days ON booking_closures (tenant_id, last_day);

-- A seat of a resource taken for a period. Double booking is impossible by
-- construction: the exclusion constraint refuses two live bookings of one
-- seat with overlapping periods, whatever the Go code does. A hold past
-- its expires_at still counts for the constraint (its WHERE cannot depend
-- on the time); the engine flips such holds to 'expired' in the reserving
-- transaction, and a sweeper does the same for all of them.
-- 'pending' waits for staff approval and keeps its seat meanwhile.
CREATE TABLE bookings (
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    resource_id    bigint NOT NULL,
    seat           smallint NOT NULL CHECK (seat >= 1),
    period         tstzrange NOT NULL CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)),
    status         text NOT NULL CHECK (status IN ('held', 'pending', 'confirmed', 'cancelled', 'expired')),
    code           text NOT NULL CHECK (code ~ '^[2-9A-HJ-NP-Z]{8}$'),  -- no 0/O, 1/I: read out on the phone
    expires_at     timestamptz,
    citizen_id     bigint,
    contact_name   text NOT NULL DEFAULT '' CHECK (length(contact_name) <= 200),
    contact_email  text NOT NULL DEFAULT '' CHECK (length(contact_email) <= 254),
    contact_phone  text NOT NULL DEFAULT '' CHECK (length(contact_phone) <= 32),
    service_id     text NOT NULL DEFAULT '' CHECK (service_id = '' OR service_id ~ '^[a-z][a-z0-9_-]{1,39}$'),
    office_id      bigint,
    dossier_id     bigint,
    price_cents    bigint CHECK (price_cents > 0),
    cancel_reason  text NOT NULL DEFAULT '' CHECK (length(cancel_reason) <= 500),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code),
    CHECK (status <> 'held' OR expires_at IS NOT NULL),
    CHECK (citizen_id IS NOT NULL OR contact_name <> ''),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES booking_resources (tenant_id, id),
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id),
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id) ON DELETE SET NULL (office_id),
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist
        (tenant_id WITH =, resource_id WITH =, seat WITH =, period WITH &&)
        WHERE (status IN ('held', 'pending', 'confirmed'))
);
CREATE INDEX bookings_holds ON bookings (tenant_id, expires_at) WHERE status = 'held';
CREATE INDEX bookings_citizen ON bookings (tenant_id, citizen_id) WHERE citizen_id IS NOT NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['booking_resources', 'booking_hours', 'booking_closures', 'bookings']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON booking_resources, booking_hours, booking_closures TO sportello_app;
-- Bookings are never deleted: a cancelled or expired one stays on record.
GRANT SELECT, INSERT, UPDATE ON bookings TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
