CREATE TABLE "card_key_floors" (
	"sku" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"card_key_id" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "card_key_floors" ADD CONSTRAINT "card_key_floors_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Allocation reads the sellable keys of a SKU from the front of card_keys_allocation_idx.
-- Every sale leaves a dead entry there until VACUUM removes it, so without a bound each
-- allocation walks all keys sold since the last VACUUM (architecture.md, "Where the time
-- goes"). A SKU's floor is a position in allocation order (expires_at, id) that no sellable
-- key sorts before; allocation starts its index scan there. Triggers lower it whenever a
-- key appears or moves before it; card_key_floors_advance raises it to the first sellable
-- key. Keys never return to 'available' (card_keys_guard_transition), so sales need not
-- touch it.
INSERT INTO "card_key_floors" ("sku", "expires_at", "card_key_id")
SELECT DISTINCT ON ("sku") "sku", "expires_at", "id" FROM "card_keys" WHERE "status" = 'available' ORDER BY "sku", "expires_at", "id";
--> statement-breakpoint
CREATE FUNCTION card_key_floors_lower() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO card_key_floors AS f (sku, expires_at, card_key_id)
  SELECT DISTINCT ON (k.sku) k.sku, k.expires_at, k.id FROM new_keys k
  WHERE k.status = 'available'
  ORDER BY k.sku, k.expires_at, k.id
  ON CONFLICT (sku) DO UPDATE SET expires_at = excluded.expires_at, card_key_id = excluded.card_key_id
  WHERE (excluded.expires_at, excluded.card_key_id) < (f.expires_at, f.card_key_id);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER card_keys_insert_lowers_floor AFTER INSERT ON card_keys
  REFERENCING NEW TABLE AS new_keys FOR EACH STATEMENT EXECUTE FUNCTION card_key_floors_lower();
--> statement-breakpoint
CREATE FUNCTION card_key_floors_lower_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO card_key_floors AS f (sku, expires_at, card_key_id) VALUES (NEW.sku, NEW.expires_at, NEW.id)
  ON CONFLICT (sku) DO UPDATE SET expires_at = excluded.expires_at, card_key_id = excluded.card_key_id
  WHERE (excluded.expires_at, excluded.card_key_id) < (f.expires_at, f.card_key_id);
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- An available key whose place in allocation order changes may now sort before the floor.
CREATE TRIGGER card_keys_move_lowers_floor AFTER UPDATE OF expires_at, id ON card_keys
  FOR EACH ROW WHEN (NEW.status = 'available' AND (NEW.expires_at, NEW.id) IS DISTINCT FROM (OLD.expires_at, OLD.id))
  EXECUTE FUNCTION card_key_floors_lower_row();
--> statement-breakpoint
-- Raises a SKU's floor to its first sellable key; called now and then by allocating
-- processes, never waiting: a floor row locked elsewhere is left for the next call. The
-- row is locked before the keys are read, and in READ COMMITTED the reading statement
-- takes its snapshot after the lock is held: every import or move that lowered the floor
-- before is visible to it, and every later one waits for this lock and lowers the floor
-- again after. Under a transaction-wide snapshot that reasoning fails, so it does nothing.
CREATE FUNCTION card_key_floors_advance(p_sku text) RETURNS void LANGUAGE plpgsql AS $$
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
  WHERE k.sku = p_sku AND k.status = 'available' AND k.expires_at > now()
    AND (k.expires_at, k.id) >= (floor_at, floor_key)
  ORDER BY k.expires_at, k.id LIMIT 1;
  IF FOUND AND (next_at, next_key) > (floor_at, floor_key) THEN
    UPDATE card_key_floors SET expires_at = next_at, card_key_id = next_key WHERE sku = p_sku;
  END IF;
END
$$;
