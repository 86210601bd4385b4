-- The outbox is delivered by core/notify: every row is tried until it is
-- sent, with growing pauses, and given up (failed) after a number of tries.
-- Attachments (an appointment's .ics, a receipt) travel with the message.

ALTER TABLE notifications
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN sent_at         timestamptz,
    ADD COLUMN last_error      text NOT NULL DEFAULT '' CHECK (length(last_error) <= 500),
    ADD CONSTRAINT notifications_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL));

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'queued';

CREATE TABLE notification_attachments (
    tenant_id        bigint NOT NULL,
    notification_id  bigint NOT NULL,
    position         smallint NOT NULL CHECK (position BETWEEN 0 AND 9),
    name             text NOT NULL CHECK (name ~ '^[^/\\]{1,100}$'),
    content_type     text NOT NULL CHECK (content_type ~ '^[a-z]+/[a-z0-9.+-]+$'),
    content          bytea NOT NULL CHECK (length(content) <= 1048576),
    PRIMARY KEY (tenant_id, notification_id, position),
    FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE notification_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_attachments
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, INSERT ON notification_attachments TO sportello_app;

-- The sender's one window across towns: which queued messages are due.
-- Runs as the owner and returns ids only; each is sent in its tenant.
CREATE FUNCTION notifications_due(max_rows integer)
RETURNS TABLE (tenant_id bigint, id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT tenant_id, id FROM notifications
    WHERE status = 'queued' AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT max_rows
$$;
REVOKE ALL ON FUNCTION notifications_due(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION notifications_due(integer) TO sportello_app;
