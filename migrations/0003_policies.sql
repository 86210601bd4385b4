-- Each tenant's own casbin rules, added by its tenant admin on top of the
-- default grants in policies/. Loaded one tenant at a time (filtered load).
CREATE TABLE casbin_rules (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    ptype      text NOT NULL CHECK (ptype IN ('p', 'g')),
    v0         text NOT NULL DEFAULT '',
    v1         text NOT NULL DEFAULT '',
    v2         text NOT NULL DEFAULT '',
    v3         text NOT NULL DEFAULT '',
    v4         text NOT NULL DEFAULT '',
    v5         text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, ptype, v0, v1, v2, v3, v4, v5)
);
