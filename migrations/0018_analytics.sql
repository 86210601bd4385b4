-- The figures of a town's analytics page (core/analytics), kept as running
-- totals so that the page reads a few thousand rows however many dossiers
-- the town has.
--
-- Every total is kept by statement-level triggers on the rows it counts:
-- a trigger adds what the statement's new rows contribute and takes away
-- what its old rows contributed, both read from the statement's transition
-- tables, so a bulk load of a million rows costs one grouped upsert per
-- table, and a single change one small one. The totals are therefore exact
-- at every commit, with no watermark and no lag; core/analytics' tests
-- compare them with the same figures computed from the raw rows.
--
-- Days are calendar days in Europe/Rome, as protocol numbers are.
-- Durations are whole seconds (floor of the difference), so sums are
-- exact integers.
--
-- The application only reads these tables. The trigger functions run as
-- their owner (SECURITY DEFINER), still under row-level security: they
-- write rows of the tenant the statement runs in. On deletes they only
-- update existing totals, never insert, and an update adds no total for a
-- tenant that is gone, so that deleting a whole tenant (which cascades
-- here, and sets its dossiers' offices to none) cannot trip over its own
-- foreign keys.

-- Requests filed (not drafts) per day of filing, counted three times
-- over: by service (key: its id), by channel and by office (key: its id,
-- 0 for none). Three narrow series rather than one row per combination
-- keep the page's read small. A dossier moved to another office moves
-- with it.
CREATE TABLE analytics_requests (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        date NOT NULL,
    dim        text NOT NULL CHECK (dim IN ('service', 'channel', 'office')),
    key        text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, dim, key)
);

-- The same filings per day and hour of the day, for the weekday × hour
-- heat map over any period.
CREATE TABLE analytics_hours (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        date NOT NULL,
    hour       smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    n          bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, hour)
);

-- Entries into a status, from dossier_events: an event counts when its
-- status differs from the dossier's previous event's (by time, then id),
-- drafts never. secs sums the time from the dossier's creation to the
-- event. Which statuses close a dossier is up to each service's manifest,
-- so the reader picks them: the closings of a day and the resolution
-- times are these rows with a final status.
CREATE TABLE analytics_transitions (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day         date NOT NULL,
    service_id  text NOT NULL,
    status      text NOT NULL,
    n           bigint NOT NULL,
    secs        bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, service_id, status)
);

-- Filed dossiers with a due date, by service, current status and due day
-- (in UTC, where the day boundary is the reader's own clock's midnight):
-- the overdue ones are the days before today with a status that is not
-- final, plus today's up to now, read from dossiers_due.
CREATE TABLE analytics_due (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    due_day     date NOT NULL,
    service_id  text NOT NULL,
    status      text NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (tenant_id, due_day, service_id, status)
);
CREATE INDEX dossiers_due ON dossiers (tenant_id, due_at) INCLUDE (service_id, status)
    WHERE due_at IS NOT NULL AND status <> 'draft';

-- Live consultations per day of joining and desk: entries, those taken
-- (with the wait from joining to being taken) and the calls that ended
-- after being taken (with their length).
CREATE TABLE analytics_consultations (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        date NOT NULL,
    desk       text NOT NULL,
    entries    bigint NOT NULL,
    taken      bigint NOT NULL,
    wait_secs  bigint NOT NULL,
    calls      bigint NOT NULL,
    call_secs  bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, desk)
);

-- Page ratings per day and page.
CREATE TABLE analytics_ratings (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        date NOT NULL,
    path       text NOT NULL,
    n          bigint NOT NULL,
    stars      bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, path)
);

-- Citizens registered per day.
CREATE TABLE analytics_citizens (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        date NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['analytics_requests', 'analytics_hours', 'analytics_transitions', 'analytics_due',
                             'analytics_consultations', 'analytics_ratings', 'analytics_citizens']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
        EXECUTE format('GRANT SELECT ON %I TO sportello_app', t);
    END LOOP;
END $$;

-- What a dossier row contributes is a function of the row alone, so the
-- delta of a statement is its new rows' contribution minus its old rows'.
-- Each delta is grouped and zero deltas are dropped before the totals are
-- touched: the many updates that change nothing counted (a priority, a
-- version) write nothing.
CREATE FUNCTION analytics_dossiers_delta() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    sql_rows text;
    upsert boolean := TG_OP <> 'DELETE';
BEGIN
    sql_rows := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows'
    END;
    IF upsert THEN
        EXECUTE 'INSERT INTO analytics_requests AS a (tenant_id, day, dim, key, n)
            SELECT r.tenant_id, (r.submitted_at AT TIME ZONE ''Europe/Rome'')::date, v.dim, v.key, sum(r.sign)
            FROM (' || sql_rows || ') r
            CROSS JOIN LATERAL (VALUES (''service'', r.service_id), (''channel'', r.channel), (''office'', coalesce(r.office_id, 0)::text)) v (dim, key)
            WHERE r.status <> ''draft''
            GROUP BY 1, 2, 3, 4 HAVING sum(r.sign) <> 0 AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = r.tenant_id)
            ON CONFLICT (tenant_id, day, dim, key) DO UPDATE SET n = a.n + excluded.n';
        EXECUTE 'INSERT INTO analytics_hours AS a (tenant_id, day, hour, n)
            SELECT tenant_id, (submitted_at AT TIME ZONE ''Europe/Rome'')::date,
                extract(hour FROM submitted_at AT TIME ZONE ''Europe/Rome'')::smallint, sum(sign)
            FROM (' || sql_rows || ') r WHERE status <> ''draft''
            GROUP BY 1, 2, 3 HAVING sum(sign) <> 0 AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = r.tenant_id)
            ON CONFLICT (tenant_id, day, hour) DO UPDATE SET n = a.n + excluded.n';
        EXECUTE 'INSERT INTO analytics_due AS a (tenant_id, due_day, service_id, status, n)
            SELECT tenant_id, (due_at AT TIME ZONE ''UTC'')::date, service_id, status, sum(sign)
            FROM (' || sql_rows || ') r WHERE status <> ''draft'' AND due_at IS NOT NULL
            GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0 AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = r.tenant_id)
            ON CONFLICT (tenant_id, due_day, service_id, status) DO UPDATE SET n = a.n + excluded.n';
    ELSE
        EXECUTE 'UPDATE analytics_requests a SET n = a.n + d.n FROM (
            SELECT r.tenant_id, (r.submitted_at AT TIME ZONE ''Europe/Rome'')::date AS day, v.dim, v.key, sum(r.sign) AS n
            FROM (' || sql_rows || ') r
            CROSS JOIN LATERAL (VALUES (''service'', r.service_id), (''channel'', r.channel), (''office'', coalesce(r.office_id, 0)::text)) v (dim, key)
            WHERE r.status <> ''draft'' GROUP BY 1, 2, 3, 4) d
            WHERE a.tenant_id = d.tenant_id AND a.day = d.day AND a.dim = d.dim AND a.key = d.key';
        EXECUTE 'UPDATE analytics_hours a SET n = a.n + d.n FROM (
            SELECT tenant_id, (submitted_at AT TIME ZONE ''Europe/Rome'')::date AS day,
                extract(hour FROM submitted_at AT TIME ZONE ''Europe/Rome'')::smallint AS hour, sum(sign) AS n
            FROM (' || sql_rows || ') r WHERE status <> ''draft'' GROUP BY 1, 2, 3) d
            WHERE a.tenant_id = d.tenant_id AND a.day = d.day AND a.hour = d.hour';
        EXECUTE 'UPDATE analytics_due a SET n = a.n + d.n FROM (
            SELECT tenant_id, (due_at AT TIME ZONE ''UTC'')::date AS due_day, service_id, status, sum(sign) AS n
            FROM (' || sql_rows || ') r WHERE status <> ''draft'' AND due_at IS NOT NULL GROUP BY 1, 2, 3, 4) d
            WHERE a.tenant_id = d.tenant_id AND a.due_day = d.due_day AND a.service_id = d.service_id AND a.status = d.status';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_insert AFTER INSERT ON dossiers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_dossiers_delta();
CREATE TRIGGER analytics_update AFTER UPDATE ON dossiers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_dossiers_delta();
CREATE TRIGGER analytics_delete AFTER DELETE ON dossiers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_dossiers_delta();

-- Events are append-only (only a discarded draft's go, with it, and a
-- draft's events enter no status that counts), and written in time order:
-- the application stamps each with its clock as it writes it. A new
-- event's previous one is read from the table, which already holds the
-- statement's own rows. (An event back-dated before a dossier's later
-- ones would be judged against the events before it, and would not
-- re-judge the later ones; analytics_rebuild puts such totals right.)
CREATE FUNCTION analytics_events_added() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
BEGIN
    INSERT INTO analytics_transitions AS a (tenant_id, day, service_id, status, n, secs)
    SELECT e.tenant_id, (e.at AT TIME ZONE 'Europe/Rome')::date, d.service_id, e.status,
        count(*), sum(floor(extract(epoch FROM e.at - d.created_at)))::bigint
    FROM new_rows e
    JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id
    WHERE e.status <> 'draft'
      AND e.status IS DISTINCT FROM (
        SELECT p.status FROM dossier_events p
        WHERE p.tenant_id = e.tenant_id AND p.dossier_id = e.dossier_id AND (p.at, p.id) < (e.at, e.id)
        ORDER BY p.at DESC, p.id DESC LIMIT 1)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (tenant_id, day, service_id, status) DO UPDATE SET n = a.n + excluded.n, secs = a.secs + excluded.secs;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_insert AFTER INSERT ON dossier_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_events_added();

-- Consultation entries change as they go (taken, ended): the same delta
-- as the dossiers'.
CREATE FUNCTION analytics_consultations_delta() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    sql_rows text;
    grouped text;
BEGIN
    sql_rows := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows'
    END;
    grouped := 'SELECT tenant_id, (joined_at AT TIME ZONE ''Europe/Rome'')::date AS day, desk,
            sum(sign) AS entries,
            sum(sign) FILTER (WHERE taken_at IS NOT NULL) AS taken,
            sum(sign * floor(extract(epoch FROM taken_at - joined_at))) FILTER (WHERE taken_at IS NOT NULL) AS wait_secs,
            sum(sign) FILTER (WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL) AS calls,
            sum(sign * floor(extract(epoch FROM ended_at - taken_at))) FILTER (WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL) AS call_secs
        FROM (' || sql_rows || ') r GROUP BY 1, 2, 3';
    IF TG_OP <> 'DELETE' THEN
        EXECUTE 'INSERT INTO analytics_consultations AS a (tenant_id, day, desk, entries, taken, wait_secs, calls, call_secs)
            SELECT tenant_id, day, desk, entries, coalesce(taken, 0), coalesce(wait_secs, 0)::bigint,
                coalesce(calls, 0), coalesce(call_secs, 0)::bigint
            FROM (' || grouped || ') g
            WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = g.tenant_id)
              AND (entries <> 0 OR coalesce(taken, 0) <> 0 OR coalesce(wait_secs, 0) <> 0 OR coalesce(calls, 0) <> 0 OR coalesce(call_secs, 0) <> 0)
            ON CONFLICT (tenant_id, day, desk) DO UPDATE SET entries = a.entries + excluded.entries,
                taken = a.taken + excluded.taken, wait_secs = a.wait_secs + excluded.wait_secs,
                calls = a.calls + excluded.calls, call_secs = a.call_secs + excluded.call_secs';
    ELSE
        EXECUTE 'UPDATE analytics_consultations a SET entries = a.entries + g.entries,
                taken = a.taken + coalesce(g.taken, 0), wait_secs = a.wait_secs + coalesce(g.wait_secs, 0)::bigint,
                calls = a.calls + coalesce(g.calls, 0), call_secs = a.call_secs + coalesce(g.call_secs, 0)::bigint
            FROM (' || grouped || ') g
            WHERE a.tenant_id = g.tenant_id AND a.day = g.day AND a.desk = g.desk';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_insert AFTER INSERT ON consultation_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_consultations_delta();
CREATE TRIGGER analytics_update AFTER UPDATE ON consultation_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_consultations_delta();
CREATE TRIGGER analytics_delete AFTER DELETE ON consultation_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_consultations_delta();

-- Ratings and citizens are only ever added (and removed with their
-- tenant, or a citizen by hand): their day never changes.
CREATE FUNCTION analytics_ratings_delta() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analytics_ratings AS a (tenant_id, day, path, n, stars)
        SELECT tenant_id, (created_at AT TIME ZONE 'Europe/Rome')::date, path, count(*), sum(stars)
        FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (tenant_id, day, path) DO UPDATE SET n = a.n + excluded.n, stars = a.stars + excluded.stars;
    ELSE
        UPDATE analytics_ratings a SET n = a.n - g.n, stars = a.stars - g.stars
        FROM (SELECT tenant_id, (created_at AT TIME ZONE 'Europe/Rome')::date AS day, path, count(*) AS n, sum(stars) AS stars
              FROM old_rows GROUP BY 1, 2, 3) g
        WHERE a.tenant_id = g.tenant_id AND a.day = g.day AND a.path = g.path;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_insert AFTER INSERT ON page_ratings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_ratings_delta();
CREATE TRIGGER analytics_delete AFTER DELETE ON page_ratings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_ratings_delta();

CREATE FUNCTION analytics_citizens_delta() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analytics_citizens AS a (tenant_id, day, n)
        SELECT tenant_id, (created_at AT TIME ZONE 'Europe/Rome')::date, count(*) FROM new_rows GROUP BY 1, 2
        ON CONFLICT (tenant_id, day) DO UPDATE SET n = a.n + excluded.n;
    ELSE
        UPDATE analytics_citizens a SET n = a.n - g.n
        FROM (SELECT tenant_id, (created_at AT TIME ZONE 'Europe/Rome')::date AS day, count(*) AS n FROM old_rows GROUP BY 1, 2) g
        WHERE a.tenant_id = g.tenant_id AND a.day = g.day;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_insert AFTER INSERT ON citizens
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_citizens_delta();
CREATE TRIGGER analytics_delete AFTER DELETE ON citizens
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_citizens_delta();

-- analytics_rebuild computes every total afresh from the raw rows: here
-- for what is already there, and after a bulk load made with the triggers
-- disabled (the benchmark's). The owner's alone: it rewrites every town's
-- totals at once.
CREATE FUNCTION analytics_rebuild() RETURNS void
LANGUAGE plpgsql SET search_path = public
AS $$
BEGIN
    DELETE FROM analytics_requests;
    DELETE FROM analytics_hours;
    DELETE FROM analytics_due;
    DELETE FROM analytics_transitions;
    DELETE FROM analytics_consultations;
    DELETE FROM analytics_ratings;
    DELETE FROM analytics_citizens;

    INSERT INTO analytics_requests (tenant_id, day, dim, key, n)
    SELECT d.tenant_id, (d.submitted_at AT TIME ZONE 'Europe/Rome')::date, v.dim, v.key, count(*)
    FROM dossiers d
    CROSS JOIN LATERAL (VALUES ('service', d.service_id), ('channel', d.channel), ('office', coalesce(d.office_id, 0)::text)) v (dim, key)
    WHERE d.status <> 'draft' GROUP BY 1, 2, 3, 4;

    INSERT INTO analytics_hours (tenant_id, day, hour, n)
    SELECT tenant_id, (submitted_at AT TIME ZONE 'Europe/Rome')::date, extract(hour FROM submitted_at AT TIME ZONE 'Europe/Rome')::smallint, count(*)
    FROM dossiers WHERE status <> 'draft' GROUP BY 1, 2, 3;

    INSERT INTO analytics_due (tenant_id, due_day, service_id, status, n)
    SELECT tenant_id, (due_at AT TIME ZONE 'UTC')::date, service_id, status, count(*)
    FROM dossiers WHERE status <> 'draft' AND due_at IS NOT NULL GROUP BY 1, 2, 3, 4;

    INSERT INTO analytics_transitions (tenant_id, day, service_id, status, n, secs)
    SELECT e.tenant_id, (e.at AT TIME ZONE 'Europe/Rome')::date, d.service_id, e.status,
        count(*), sum(floor(extract(epoch FROM e.at - d.created_at)))::bigint
    FROM (SELECT tenant_id, dossier_id, at, status,
            lag(status) OVER (PARTITION BY tenant_id, dossier_id ORDER BY at, id) AS prev
          FROM dossier_events) e
    JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id
    WHERE e.status <> 'draft' AND e.status IS DISTINCT FROM e.prev
    GROUP BY 1, 2, 3, 4;

    INSERT INTO analytics_consultations (tenant_id, day, desk, entries, taken, wait_secs, calls, call_secs)
    SELECT tenant_id, (joined_at AT TIME ZONE 'Europe/Rome')::date, desk, count(*),
        count(*) FILTER (WHERE taken_at IS NOT NULL),
        coalesce(sum(floor(extract(epoch FROM taken_at - joined_at))) FILTER (WHERE taken_at IS NOT NULL), 0)::bigint,
        count(*) FILTER (WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL),
        coalesce(sum(floor(extract(epoch FROM ended_at - taken_at))) FILTER (WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL), 0)::bigint
    FROM consultation_entries GROUP BY 1, 2, 3;

    INSERT INTO analytics_ratings (tenant_id, day, path, n, stars)
    SELECT tenant_id, (created_at AT TIME ZONE 'Europe/Rome')::date, path, count(*), sum(stars)
    FROM page_ratings GROUP BY 1, 2, 3;

    INSERT INTO analytics_citizens (tenant_id, day, n)
    SELECT tenant_id, (created_at AT TIME ZONE 'Europe/Rome')::date, count(*)
    FROM citizens GROUP BY 1, 2;
END $$;
REVOKE ALL ON FUNCTION analytics_rebuild() FROM PUBLIC;

SELECT analytics_rebuild();
