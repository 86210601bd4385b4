-- Payments move through pagoPA's life cycle under a provider (the local
-- test provider, "pay at the counter", later a real PSP). A payment may pay
-- for a hold (a reservation or a booking): the hold is confirmed when the
-- payment completes and released when it fails for good or expires.

ALTER TABLE payments
    ADD COLUMN provider     text CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$'),  -- NULL until a provider opened it
    ADD COLUMN provider_ref text NOT NULL DEFAULT '',
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN hold_kind    text CHECK (hold_kind IN ('reservation', 'booking')),
    ADD COLUMN hold_id      bigint,
    ADD COLUMN paid_at      timestamptz,
    ADD COLUMN failure      text NOT NULL DEFAULT '' CHECK (length(failure) <= 500),
    ADD CONSTRAINT payments_hold CHECK ((hold_kind IS NULL) = (hold_id IS NULL)),
    ADD CONSTRAINT payments_paid CHECK ((status = 'complete') = (paid_at IS NOT NULL));

-- Open positions by due time, for the sweeper.
CREATE INDEX payments_open_due ON payments (expires_at)
    WHERE status IN ('creation_pending', 'payment_pending', 'payment_started', 'payment_failed');
CREATE INDEX payments_citizen ON payments (tenant_id, citizen_id, created_at DESC) WHERE citizen_id IS NOT NULL;

-- Every change of a payment's status, append-only.
CREATE TABLE payment_events (
    tenant_id   bigint NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    payment_id  bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL,
    actor       text NOT NULL,              -- "citizen:7", "user:3", "provider:local", "system"
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX payment_events_payment ON payment_events (tenant_id, payment_id, at);

ALTER TABLE payment_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payment_events
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, INSERT ON payment_events TO sportello_app;

-- The sweeper's one window across towns: which open payments are past due
-- or still wait for their provider. Runs as the owner (row-level security
-- does not apply to it) and returns ids only; the work on each is done in
-- that payment's tenant.
CREATE FUNCTION payments_needing_work(max_rows integer)
RETURNS TABLE (tenant_id bigint, id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    (SELECT tenant_id, id FROM payments
     WHERE status IN ('creation_pending', 'payment_pending', 'payment_started', 'payment_failed')
       AND expires_at <= now()
     ORDER BY expires_at LIMIT max_rows)
    UNION
    (SELECT tenant_id, id FROM payments WHERE status = 'creation_pending' AND provider IS NULL
     ORDER BY created_at LIMIT max_rows)
$$;
REVOKE ALL ON FUNCTION payments_needing_work(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payments_needing_work(integer) TO sportello_app;
