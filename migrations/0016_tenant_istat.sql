-- Towns onboarded in bulk from the ISTAT list of municipalities
-- (`sportello tenant import --csv`). The ISTAT code is what a re-run
-- recognises a town by, so an import can be repeated or resumed without
-- duplicates; towns made from a manifest alone have none.
ALTER TABLE tenants
    ADD COLUMN istat_code  text UNIQUE CHECK (istat_code ~ '^[0-9]{6}$'),
    ADD COLUMN population  integer CHECK (population >= 0),
    ADD COLUMN region      text CHECK (length(region) <= 100);
