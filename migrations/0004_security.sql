-- Row-level security on every tenant-owned table, and the application
-- role's grants. Keep this list in step with the tables above: a test fails
-- when a table with a tenant_id column lacks the policy.

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['offices', 'tenant_services', 'audit_log', 'users', 'user_roles',
                             'user_offices', 'citizens', 'sessions', 'casbin_rules']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO sportello_app', t);
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO sportello_app;
GRANT EXECUTE ON FUNCTION current_tenant_id() TO sportello_app;
-- Global tables: tenants are resolved before any tenant is set.
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, tenant_domains, platform_users, platform_sessions, ephemeral TO sportello_app;
GRANT SELECT, INSERT ON deployment_secrets TO sportello_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sportello_app;
