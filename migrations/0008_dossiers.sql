-- The dossier model (core/dossier): assignment to an office and an
-- operator, priority, due date, optimistic locking, drafts, the applicant
-- of requests taken by phone or at the counter, messages (public replies
-- and internal notes) and attachments.

-- Trigram indexes answer "part of a title or a name" searches; btree_gin
-- lets the same GIN index carry the tenant. Both are trusted extensions
-- (PostgreSQL 13+), so the database owner may create them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

ALTER TABLE dossiers
    ADD COLUMN office_id     bigint,
    ADD COLUMN assignee_id   bigint,
    ADD COLUMN priority      smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3),  -- low, normal, high, urgent
    ADD COLUMN due_at        timestamptz,
    -- Bumped by every change; a change names the version it was made on
    -- and is refused when the row moved on (two operators, one dossier).
    ADD COLUMN version       bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    -- Who the request is for, as given when it was filed:
    -- {"name", "email", "fiscal_code", "phone"}.
    ADD COLUMN applicant     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(applicant) = 'object'),
    ADD COLUMN created_by    bigint,                  -- the staff user who entered it
    ADD COLUMN submitted_at  timestamptz DEFAULT now(), -- NULL while a draft
    ADD COLUMN search        text GENERATED ALWAYS AS (title || ' ' || coalesce(applicant ->> 'name', '')) STORED,
    ADD CONSTRAINT dossiers_draft CHECK ((status = 'draft') = (submitted_at IS NULL)) NOT VALID,
    -- A removed office or account leaves its dossiers unassigned; the
    -- column list keeps tenant_id (PostgreSQL 15).
    ADD FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id) ON DELETE SET NULL (office_id),
    ADD FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (assignee_id),
    ADD FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by);

UPDATE dossiers SET submitted_at = created_at WHERE status <> 'draft';
ALTER TABLE dossiers VALIDATE CONSTRAINT dossiers_draft;

-- A draft is not filed yet: it gets its protocol number when submitted,
-- so a draft given up leaves no gap in the register. Until then it is
-- known as "D-<id>".
ALTER TABLE dossiers DROP CONSTRAINT dossiers_number_check;
ALTER TABLE dossiers ADD CONSTRAINT dossiers_number CHECK (
    CASE WHEN status = 'draft' THEN number ~ '^D-[0-9]+$' ELSE number ~ '^[0-9]{4}-[0-9]{6,}$' END);

-- The back office's lists, newest first with the id as tie-break (the
-- keyset of a page): an office's queue by status, an operator's own, the
-- whole town's by status or not at all, and a citizen's "my requests".
CREATE INDEX dossiers_office_queue ON dossiers (tenant_id, office_id, status, created_at DESC, id DESC);
CREATE INDEX dossiers_assignee ON dossiers (tenant_id, assignee_id, status, created_at DESC, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX dossiers_status ON dossiers (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX dossiers_created ON dossiers (tenant_id, created_at DESC, id DESC);
DROP INDEX dossiers_citizen;
CREATE INDEX dossiers_citizen ON dossiers (tenant_id, citizen_id, created_at DESC, id DESC) WHERE citizen_id IS NOT NULL;
CREATE INDEX dossiers_search ON dossiers USING gin (tenant_id, search gin_trgm_ops);
-- Foreign keys to users are checked on deleting a user.
CREATE INDEX dossiers_created_by ON dossiers (tenant_id, created_by) WHERE created_by IS NOT NULL;

-- dossier_events is the whole history, not only statuses: kind says what
-- happened, details the rest (office, assignee, priority, due date, file).
ALTER TABLE dossier_events
    ADD COLUMN kind        text NOT NULL DEFAULT 'status'
                           CHECK (kind IN ('opened', 'submitted', 'status', 'assigned', 'priority', 'due', 'attached')),
    ADD COLUMN actor_name  text NOT NULL DEFAULT '' CHECK (length(actor_name) <= 200),
    ADD COLUMN details     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object');

UPDATE dossier_events e SET kind = 'opened'
WHERE e.id = (SELECT min(f.id) FROM dossier_events f WHERE f.tenant_id = e.tenant_id AND f.dossier_id = e.dossier_id);

-- Public replies (the citizen sees them) and internal notes (staff only).
-- Append-only, like the events: what was said stays said.
CREATE TABLE dossier_messages (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    dossier_id   bigint NOT NULL,
    internal     boolean NOT NULL,
    author_kind  text NOT NULL CHECK (author_kind IN ('staff', 'citizen', 'anonymous', 'system')),
    author_id    bigint NOT NULL DEFAULT 0,           -- users.id or citizens.id by kind; no FK, the record outlives accounts
    author_name  text NOT NULL DEFAULT '' CHECK (length(author_name) <= 200),
    plugin_id    text NOT NULL DEFAULT '',            -- the plugin that wrote it for the author, if any
    body         text NOT NULL CHECK (body <> '' AND length(body) <= 10000),
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (NOT internal OR author_kind IN ('staff', 'system')),
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX dossier_messages_dossier ON dossier_messages (tenant_id, dossier_id, at);

-- Attachments: the content lives in the data folder under
-- <tenant_id>/<sha256>, the record here. dossier_id is NULL while an
-- upload waits for the dossier its form files.
CREATE TABLE dossier_attachments (
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    dossier_id     bigint,
    name           text NOT NULL CHECK (name <> '' AND length(name) <= 255),
    content_type   text NOT NULL CHECK (content_type ~ '^[a-z]+/[a-z0-9.+-]+$'),
    size           bigint NOT NULL CHECK (size > 0),
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key    text NOT NULL CHECK (storage_key <> ''),
    internal       boolean NOT NULL DEFAULT false,
    uploader_kind  text NOT NULL CHECK (uploader_kind IN ('staff', 'citizen', 'anonymous', 'system')),
    uploader_id    bigint NOT NULL DEFAULT 0,
    uploader_name  text NOT NULL DEFAULT '' CHECK (length(uploader_name) <= 200),
    plugin_id      text NOT NULL DEFAULT '',
    request_id     text NOT NULL DEFAULT '',          -- the request a pending upload belongs to
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX dossier_attachments_dossier ON dossier_attachments (tenant_id, dossier_id, id) WHERE dossier_id IS NOT NULL;
CREATE INDEX dossier_attachments_pending ON dossier_attachments (tenant_id, created_at) WHERE dossier_id IS NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['dossier_messages', 'dossier_attachments']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT ON dossier_messages TO sportello_app;
-- UPDATE links a pending upload to its dossier; DELETE drops abandoned ones.
GRANT SELECT, INSERT, UPDATE, DELETE ON dossier_attachments TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
