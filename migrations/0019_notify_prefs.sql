-- What a citizen lets the town send them, the town's own wording of each
-- kind of message, the identity cards whose expiry the town imported, and
-- the reminders already queued (core/notify).

-- A citizen's consent per channel, as set on their profile page. Each
-- channel keeps when consent was last given or withdrawn, which is what a
-- town must be able to show; the row is updated, never deleted, so a
-- withdrawal stays on record. lang is the language the citizen used when
-- saving: messages to them are written in it.
CREATE TABLE notify_prefs (
    tenant_id         bigint NOT NULL,
    citizen_id        bigint NOT NULL,
    email             boolean NOT NULL DEFAULT false,
    email_changed_at  timestamptz NOT NULL DEFAULT now(),
    sms               boolean NOT NULL DEFAULT false,
    sms_changed_at    timestamptz NOT NULL DEFAULT now(),
    phone             text NOT NULL DEFAULT '' CHECK (phone = '' OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    lang              text NOT NULL DEFAULT '' CHECK (lang ~ '^([a-z]{2})?$'),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, citizen_id),
    -- No SMS consent without a number to send to.
    CHECK (NOT sms OR phone <> ''),
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id) ON DELETE CASCADE
);

-- A town's own subject and texts of one kind of message in one language,
-- replacing the defaults shipped in web/locales/notify.*.toml. Empty sms
-- keeps the default SMS text.
CREATE TABLE notify_templates (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{1,39}$'),
    lang        text NOT NULL CHECK (lang ~ '^[a-z]{2}$'),
    subject     text NOT NULL CHECK (subject <> '' AND length(subject) <= 200),
    body        text NOT NULL CHECK (body <> '' AND length(body) <= 8000),
    sms         text NOT NULL DEFAULT '' CHECK (length(sms) <= 480),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind, lang)
);

-- Identity cards and when they expire, imported by the town from its
-- registry (`sportello reminders import-id-cards`). One row per fiscal
-- code: a new import replaces the expiry of a renewed card.
CREATE TABLE id_card_expiries (
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    fiscal_code  text NOT NULL CHECK (fiscal_code ~ '^[A-Z0-9]{11,16}$'),
    expires_on   date NOT NULL,
    email        text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    phone        text NOT NULL DEFAULT '' CHECK (phone = '' OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    imported_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, fiscal_code)
);

-- Every reminder queued, by a key naming what it is about (the
-- appointment and its day, the card and its expiry, the dossier): the
-- key is claimed in the transaction that queues the messages, so a job
-- that runs twice, or on two instances at once, queues each one once.
CREATE TABLE notify_reminders (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key        text NOT NULL CHECK (key ~ '^[a-z_]+:[A-Za-z0-9:_-]{1,120}$'),
    queued     integer NOT NULL DEFAULT 0 CHECK (queued >= 0),  -- messages queued for it (0: nobody to tell)
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['notify_prefs', 'notify_templates', 'id_card_expiries', 'notify_reminders']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

-- Consent is withdrawn, not deleted (the row goes with the citizen).
GRANT SELECT, INSERT, UPDATE ON notify_prefs TO sportello_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notify_templates, id_card_expiries TO sportello_app;
GRANT SELECT, INSERT ON notify_reminders TO sportello_app;
