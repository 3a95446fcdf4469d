-- Orders move only as src/domain/orders/status.ts says: a final order (succeeded, failed)
-- never changes status, and what the reseller asked for never changes at all.
CREATE FUNCTION orders_guard_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'pending_review' AND NEW.status IN ('processing', 'failed'))
    OR (OLD.status = 'processing' AND NEW.status IN ('succeeded', 'failed'))
  ) THEN
    RAISE EXCEPTION 'order %: % -> % is not allowed', OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  IF (NEW.reseller_id, NEW.client_order_id, NEW.request_hash, NEW.sku, NEW.quantity, NEW.recipient, NEW.unit_price, NEW.amount, NEW.currency)
     IS DISTINCT FROM
     (OLD.reseller_id, OLD.client_order_id, OLD.request_hash, OLD.sku, OLD.quantity, OLD.recipient, OLD.unit_price, OLD.amount, OLD.currency) THEN
    RAISE EXCEPTION 'order %: the request is immutable', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER orders_guard_transition BEFORE UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_guard_transition();
