-- Processes cache what authentication reads about a credential (reseller_api_keys joined
-- with resellers). Every change to either table tells them to forget it, whoever writes:
-- a statement-level trigger, so a revocation, a suspension or a new allowlist reaches every
-- process within moments.
CREATE FUNCTION notify_credential_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('credential_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER resellers_credential_changes AFTER UPDATE OR DELETE ON resellers
  FOR EACH STATEMENT EXECUTE FUNCTION notify_credential_changes();
--> statement-breakpoint
CREATE TRIGGER reseller_api_keys_credential_changes AFTER UPDATE OR DELETE ON reseller_api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION notify_credential_changes();
