-- Card keys only move forward (src/domain/pool/card-key.ts): nothing ever returns to
-- 'available', and a key's order never changes once set. Enforced here as well so that
-- no code path, script or manual fix can put a seen code back on sale.
CREATE FUNCTION card_keys_guard_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'available' AND NEW.status IN ('sold', 'voided'))
    OR (OLD.status = 'sold' AND NEW.status IN ('redeemed', 'voided'))
    OR (OLD.status = 'redeemed' AND NEW.status = 'voided')
  ) THEN
    RAISE EXCEPTION 'card key %: % -> % is not allowed', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.order_id IS NOT NULL AND NEW.order_id IS DISTINCT FROM OLD.order_id THEN
    RAISE EXCEPTION 'card key %: already sold to another order', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.fingerprint IS DISTINCT FROM OLD.fingerprint OR NEW.sku IS DISTINCT FROM OLD.sku OR NEW.batch_id IS DISTINCT FROM OLD.batch_id THEN
    RAISE EXCEPTION 'card key %: code, SKU and batch are immutable', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER card_keys_guard_transition BEFORE UPDATE ON card_keys
  FOR EACH ROW EXECUTE FUNCTION card_keys_guard_transition();
--> statement-breakpoint
-- Allocation turns available keys into dead index entries at the front of the allocation
-- index; vacuum this table after every ~10k changed rows rather than 20 % of it, so scans do
-- not slow down as a large pool drains (architecture.md, "Where the time goes").
ALTER TABLE card_keys SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
