-- Signing certificates of the tenants (core/docsign): the documents a town
-- issues (a concession, a certificate) are PDF files signed with its own
-- certificate, so that any PDF reader can tell they come from the town and
-- were not changed since.
--
-- A certificate is issued to each tenant by the deployment's signing CA
-- (its key and certificate are in deployment_secrets) the first time the
-- tenant signs; an operator may import the town's own certificate later,
-- which then takes over. The private key is sealed (AES-256-GCM) with a
-- deployment secret and bound to its tenant and certificate: a row copied
-- out of the tenant, or into another one, is no usable key.

CREATE TABLE tenant_certificates (
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    subject          text NOT NULL CHECK (subject <> ''),
    -- The signing certificate first, then its issuers, as PEM.
    certificate_pem  text NOT NULL CHECK (certificate_pem LIKE '-----BEGIN CERTIFICATE-----%'),
    sha256           text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),   -- of the signing certificate's DER
    private_key      bytea NOT NULL CHECK (length(private_key) > 28),   -- nonce, sealed PKCS #8, tag
    source           text NOT NULL CHECK (source IN ('platform', 'imported')),
    not_before       timestamptz NOT NULL,
    not_after        timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, sha256),
    CHECK (not_after > not_before)
);
-- The certificate in use is the newest one valid now.
CREATE INDEX tenant_certificates_newest ON tenant_certificates (tenant_id, created_at DESC, id DESC);

ALTER TABLE tenant_certificates ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_certificates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_certificates
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_certificates TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
