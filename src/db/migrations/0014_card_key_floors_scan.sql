-- card_key_floors_advance again, its scan written as allocation writes it: the expiry
-- bound folded into the bound on (expires_at, id), plus `expires_at <> now()`. Given a
-- plain `expires_at > now()` beside the floor, PostgreSQL 18 starts the index scan at
-- now() and walks every entry the floor exists to skip.
CREATE OR REPLACE FUNCTION card_key_floors_advance(p_sku text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  floor_at timestamptz;
  floor_key text;
  next_at timestamptz;
  next_key text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN;
  END IF;
  SELECT f.expires_at, f.card_key_id INTO floor_at, floor_key FROM card_key_floors f WHERE f.sku = p_sku FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT k.expires_at, k.id INTO next_at, next_key FROM card_keys k
  WHERE k.sku = p_sku AND k.status = 'available'
    AND (k.expires_at, k.id) >= (greatest(floor_at, now()), CASE WHEN floor_at > now() THEN floor_key ELSE '' END)
    AND k.expires_at <> now()
  ORDER BY k.expires_at, k.id LIMIT 1;
  IF FOUND AND (next_at, next_key) > (floor_at, floor_key) THEN
    UPDATE card_key_floors SET expires_at = next_at, card_key_id = next_key WHERE sku = p_sku;
  END IF;
END
$$;
