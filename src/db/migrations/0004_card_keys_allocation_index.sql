DROP INDEX "card_keys_sku_status_idx";--> statement-breakpoint
DROP INDEX "card_keys_allocation_idx";--> statement-breakpoint
CREATE INDEX "card_keys_allocation_idx" ON "card_keys" USING btree ("sku","status","expires_at","id");