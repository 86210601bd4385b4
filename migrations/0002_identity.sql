-- Staff accounts, citizens and sessions of each tenant; platform staff apart.

CREATE TABLE users (
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    email            text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name             text NOT NULL,
    password_hash    text NOT NULL DEFAULT '',  -- argon2id, PHC string; '' cannot log in
    failed_logins    integer NOT NULL DEFAULT 0,
    first_failed_at  timestamptz,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);

-- Role grants (casbin "g" lines) come from here; office_slug narrows a role
-- to one office where it matters (operator of the registry office).
CREATE TABLE user_roles (
    tenant_id  bigint NOT NULL,
    user_id    bigint NOT NULL,
    role       text NOT NULL CHECK (role IN ('operator', 'office_manager', 'tenant_admin')),
    PRIMARY KEY (tenant_id, user_id, role),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE user_offices (
    tenant_id  bigint NOT NULL,
    user_id    bigint NOT NULL,
    office_id  bigint NOT NULL,
    PRIMARY KEY (tenant_id, user_id, office_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE citizens (
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    name         text NOT NULL DEFAULT '',
    email        text NOT NULL DEFAULT '',
    fiscal_code  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_login   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, issuer, subject)
);

-- A session belongs to a staff user or a citizen of one tenant. The id is
-- the SHA-256 of the cookie's token, so a read of this table logs nobody in.
CREATE TABLE sessions (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          text NOT NULL,
    user_id     bigint,
    citizen_id  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((user_id IS NULL) <> (citizen_id IS NULL)),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, citizen_id) REFERENCES citizens (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Platform staff are nobody's tenant: their own accounts and sessions.
CREATE TABLE platform_users (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email            text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name             text NOT NULL,
    password_hash    text NOT NULL DEFAULT '',
    failed_logins    integer NOT NULL DEFAULT 0,
    first_failed_at  timestamptz,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE platform_sessions (
    id          text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES platform_users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

-- Short-lived state of login flows (OIDC state and nonce, CSRF tokens):
-- shared by all app instances, so any instance can finish a flow.
CREATE TABLE ephemeral (
    key         text PRIMARY KEY,
    value       bytea NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX ephemeral_expiry ON ephemeral (expires_at);
