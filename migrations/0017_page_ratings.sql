-- The page rating of a town's portal ("Quanto sono chiare le informazioni su
-- questa pagina?", core/server/rating.go): one row per rating a visitor
-- sends. Anonymous on purpose: no person, no address, no session is kept,
-- only which page, how clear it was, why, and the language it was read in.
CREATE TABLE page_ratings (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    -- The page's path below the town ("/", "/services/helpdesk").
    path        text NOT NULL CHECK (left(path, 1) = '/' AND length(path) <= 300),
    stars       smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    -- The follow-up answer, a fixed code: what went well for 4 or 5 stars,
    -- where it was hard for 1 to 3.
    answer      text NOT NULL CHECK (
        (stars >= 4 AND answer IN ('clear', 'complete', 'on_track', 'no_problems', 'other_good'))
        OR (stars <= 3 AND answer IN ('unclear', 'incomplete', 'lost', 'problems', 'other_bad'))),
    comment     text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 200),
    lang        text NOT NULL CHECK (lang ~ '^[a-z]{2}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- A town reads its ratings page by page, newest first.
CREATE INDEX page_ratings_page ON page_ratings (tenant_id, path, created_at);

ALTER TABLE page_ratings ENABLE ROW LEVEL SECURITY;
ALTER TABLE page_ratings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON page_ratings
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- A rating is kept as sent: never changed, never removed but with its town.
GRANT SELECT, INSERT ON page_ratings TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
