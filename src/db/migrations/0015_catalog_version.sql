CREATE TABLE "catalog_version" (
	"id" integer PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL,
	CONSTRAINT "catalog_version_one_row" CHECK ("catalog_version"."id" = 1)
);
--> statement-breakpoint
INSERT INTO "catalog_version" ("id", "version") VALUES (1, 0);
--> statement-breakpoint
-- Every statement that changes what an order is priced and screened by bumps the version
-- (in its own transaction, so an order sees the bump only once the change is committed) and
-- tells the processes to forget what they cached.
CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  PERFORM pg_notify('catalog_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER skus_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON skus
  FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
--> statement-breakpoint
CREATE TRIGGER tier_prices_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tier_prices
  FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
--> statement-breakpoint
CREATE TRIGGER reseller_prices_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reseller_prices
  FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
--> statement-breakpoint
CREATE TRIGGER risk_rules_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON risk_rules
  FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
