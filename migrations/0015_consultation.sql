-- Live consultations (core/live): the waiting queue of each desk, the
-- operators' presence and the chat transcript of each call.
--
-- The queue lives here rather than in an app instance's memory so that
-- every instance sees the same line, an operator on one instance can take
-- a citizen connected to another, and a crash loses nobody's place.

-- One row per visit to a desk's queue, from joining to the end of the
-- call. The ids come from one identity, so they are unique across towns
-- as well: an id alone names the entry in URLs and notifications, the
-- tenant still scopes every read.
CREATE TABLE consultation_entries (
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    desk            text NOT NULL CHECK (length(desk) BETWEEN 1 AND 64),
    -- Every consultation is filed as a dossier when the citizen joins:
    -- files exchanged during the call are its attachments.
    dossier_id      bigint NOT NULL,
    citizen_id      bigint NOT NULL,
    citizen_name    text NOT NULL DEFAULT '' CHECK (length(citizen_name) <= 200),
    mode            text NOT NULL CHECK (mode IN ('video', 'voice', 'chat')),
    topic           text NOT NULL DEFAULT '' CHECK (length(topic) <= 200),
    lang            text NOT NULL DEFAULT '' CHECK (length(lang) <= 16),
    status          text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'in_call', 'ended', 'left')),
    -- The order key: when the citizen joined, or the time of the
    -- appointment they booked, so that a booked citizen is served at
    -- their time and not before it.
    queued_at       timestamptz NOT NULL,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    appointment_at  timestamptz,
    -- Back at the head of the line: the call broke off or was handed on,
    -- and the citizen has waited their turn already.
    head            boolean NOT NULL DEFAULT false,
    -- Handed on to this colleague: only they take it.
    for_operator    bigint,
    operator_id     bigint,
    operator_name   text NOT NULL DEFAULT '' CHECK (length(operator_name) <= 200),
    -- The app instance whose plugin relays the call's media: when that
    -- instance or its plugin restarts, its calls are known to be broken.
    instance        text NOT NULL DEFAULT '' CHECK (length(instance) <= 200),
    taken_at        timestamptz,
    ended_at        timestamptz,
    -- The citizen's connection went away; they keep their place for a
    -- while and lose it to the sweeper if they do not come back.
    dropped_at      timestamptz,
    end_reason      text NOT NULL DEFAULT '' CHECK (length(end_reason) <= 200),
    PRIMARY KEY (tenant_id, id),
    CHECK ((status IN ('ended', 'left')) = (ended_at IS NOT NULL)),
    CHECK (status <> 'in_call' OR taken_at IS NOT NULL),
    -- A discarded dossier takes its queue entry along.
    FOREIGN KEY (tenant_id, dossier_id) REFERENCES dossiers (tenant_id, id) ON DELETE CASCADE,
    -- No cascade: like the dossier, the transcript outlives the account.
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id),
    -- A removed account leaves the record without its operator; the
    -- column list keeps tenant_id (PostgreSQL 15).
    FOREIGN KEY (tenant_id, for_operator) REFERENCES users (tenant_id, id) ON DELETE SET NULL (for_operator),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (operator_id)
);

-- A citizen waits in one line at a time, and an operator has one call at
-- a time. Concurrent joins or takes meet here, not in a check made before
-- writing.
CREATE UNIQUE INDEX consultation_entries_one_live_per_citizen ON consultation_entries (tenant_id, citizen_id)
    WHERE status IN ('waiting', 'in_call');
CREATE UNIQUE INDEX consultation_entries_one_call_per_operator ON consultation_entries (tenant_id, operator_id)
    WHERE status = 'in_call';
-- The line itself, in the order operators take from it.
CREATE INDEX consultation_entries_queue ON consultation_entries (tenant_id, desk, head DESC, queued_at, id)
    WHERE status = 'waiting';
-- The desk's recent calls, for the expected wait shown to citizens.
CREATE INDEX consultation_entries_handled ON consultation_entries (tenant_id, desk, ended_at DESC)
    WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL;
-- The sweepers' questions across towns (see the functions below).
CREATE INDEX consultation_entries_dropped ON consultation_entries (dropped_at)
    WHERE status = 'waiting' AND dropped_at IS NOT NULL;
CREATE INDEX consultation_entries_instance ON consultation_entries (instance)
    WHERE status = 'in_call';
-- Foreign keys are checked on deleting a dossier, citizen or user.
CREATE INDEX consultation_entries_dossier ON consultation_entries (tenant_id, dossier_id);
CREATE INDEX consultation_entries_citizen ON consultation_entries (tenant_id, citizen_id);
CREATE INDEX consultation_entries_operator ON consultation_entries (tenant_id, operator_id) WHERE operator_id IS NOT NULL;
CREATE INDEX consultation_entries_for_operator ON consultation_entries (tenant_id, for_operator) WHERE for_operator IS NOT NULL;

-- Operators' presence, shared by the instances: who is available at which
-- desks, for the citizens' "operators online" and for handing calls on.
CREATE TABLE consultation_operators (
    tenant_id   bigint NOT NULL,
    user_id     bigint NOT NULL,
    name        text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    status      text NOT NULL CHECK (status IN ('available', 'away', 'busy')),
    desks       text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- The chat of a call, kept with it: what was written stays written.
CREATE TABLE consultation_messages (
    tenant_id  bigint NOT NULL,
    entry_id   bigint NOT NULL,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    at         timestamptz NOT NULL DEFAULT now(),
    author     text NOT NULL CHECK (author IN ('citizen', 'operator', 'system')),
    name       text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES consultation_entries (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX consultation_messages_entry ON consultation_messages (tenant_id, entry_id, id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['consultation_entries', 'consultation_operators', 'consultation_messages']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
    END LOOP;
END $$;

-- Entries are kept on record (they end, they are not deleted) and the
-- transcript is append-only; presence rows come and go.
GRANT SELECT, INSERT, UPDATE ON consultation_entries TO sportello_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON consultation_operators TO sportello_app;
GRANT SELECT, INSERT ON consultation_messages TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;

-- The two windows across towns, for the sweepers that run once per
-- deployment rather than once per town. Each runs as the owner and
-- returns ids only; every change is then made in the entry's own town.

-- Waiting citizens whose connection went away before older_than and did
-- not come back: they lose their place.
CREATE FUNCTION consultation_stale_drops(older_than timestamptz)
RETURNS TABLE (tenant_id bigint, id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT e.tenant_id, e.id FROM consultation_entries e
    WHERE e.status = 'waiting' AND e.dropped_at < older_than
    ORDER BY e.dropped_at, e.id
$$;
REVOKE ALL ON FUNCTION consultation_stale_drops(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION consultation_stale_drops(timestamptz) TO sportello_app;

-- Calls relayed by an instance whose plugin restarted, or which starts
-- again after a crash: their media are gone and the citizens go back to
-- the head of their line.
CREATE FUNCTION consultation_live_calls(instance text)
RETURNS TABLE (tenant_id bigint, id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT e.tenant_id, e.id FROM consultation_entries e
    WHERE e.status = 'in_call' AND e.instance = consultation_live_calls.instance
    ORDER BY e.tenant_id, e.id
$$;
REVOKE ALL ON FUNCTION consultation_live_calls(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION consultation_live_calls(text) TO sportello_app;
