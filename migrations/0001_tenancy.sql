-- Tenants and what every tenant-owned table stands on.
--
-- Conventions for every tenant-owned table:
--   * tenant_id is the first column of the primary key and of every foreign
--     key, so the schema can be distributed by tenant (Citus);
--   * row-level security is enabled and forced, with the policy
--     tenant_isolation comparing tenant_id to the transaction's tenant;
--   * the application role sportello_app is granted DML, never ownership.
-- The application sets the tenant per transaction with
--   SELECT set_config('sportello.tenant_id', '<id>', true);
-- A transaction that sets none sees no tenant-owned rows at all.

CREATE FUNCTION current_tenant_id() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('sportello.tenant_id', true), '')::bigint $$;

CREATE TABLE tenants (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug             text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    name             text NOT NULL CHECK (name <> ''),
    languages        text[] NOT NULL CHECK (cardinality(languages) > 0),
    branding         jsonb NOT NULL DEFAULT '{}',
    citizen_login    jsonb NOT NULL DEFAULT '{}',
    logo             bytea,
    logo_type        text NOT NULL DEFAULT '',
    manifest_sha256  text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Custom domains: one tenant per domain, across the deployment.
CREATE TABLE tenant_domains (
    domain     text PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

CREATE TABLE offices (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    slug       text NOT NULL,
    name       jsonb NOT NULL,             -- per language: {"it": "...", "de": "..."}
    address    text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    hours      jsonb NOT NULL DEFAULT '[]', -- [{"days": ["mon",...], "open": "08:30", "close": "12:30"}]
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug)
);

-- Services a tenant has enabled, with that tenant's configuration.
CREATE TABLE tenant_services (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    service_id  text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    config      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, service_id)
);

CREATE TABLE audit_log (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    object     text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at DESC);

-- Secrets the whole deployment shares (the key that signs CSRF tokens),
-- made at first start so every app instance uses the same ones.
CREATE TABLE deployment_secrets (
    name        text PRIMARY KEY,
    value       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
