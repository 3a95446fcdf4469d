CREATE TYPE "public"."card_key_status" AS ENUM('available', 'sold', 'redeemed', 'voided');--> statement-breakpoint
CREATE TABLE "card_key_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"sku" text NOT NULL,
	"source" text,
	"unit_cost" bigint NOT NULL,
	"currency" text NOT NULL,
	"expires_at" timestamp with time zone,
	"imported_by" text NOT NULL,
	"imported" integer DEFAULT 0 NOT NULL,
	"duplicates" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "card_key_batches_unit_cost_nonnegative" CHECK ("card_key_batches"."unit_cost" >= 0)
);
--> statement-breakpoint
CREATE TABLE "card_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"batch_id" text NOT NULL,
	"sku" text NOT NULL,
	"key_id" text NOT NULL,
	"code_ciphertext" "bytea" NOT NULL,
	"pin_ciphertext" "bytea",
	"serial_ciphertext" "bytea",
	"fingerprint" "bytea" NOT NULL,
	"status" "card_key_status" DEFAULT 'available' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"order_id" text,
	"sold_at" timestamp with time zone,
	"redeemed_at" timestamp with time zone,
	"redeemed_ip" text,
	"voided_at" timestamp with time zone,
	"void_reason" text,
	"revealed_at" timestamp with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "card_keys_sold_has_order" CHECK (("card_keys"."status" in ('sold', 'redeemed')) <= ("card_keys"."order_id" is not null and "card_keys"."sold_at" is not null)),
	CONSTRAINT "card_keys_available_is_untouched" CHECK ("card_keys"."status" <> 'available' or ("card_keys"."order_id" is null and "card_keys"."sold_at" is null and "card_keys"."revealed_at" is null and "card_keys"."voided_at" is null)),
	CONSTRAINT "card_keys_redeemed_has_time" CHECK (("card_keys"."status" = 'redeemed') <= ("card_keys"."redeemed_at" is not null)),
	CONSTRAINT "card_keys_voided_has_time" CHECK (("card_keys"."status" = 'voided') <= ("card_keys"."voided_at" is not null))
);
--> statement-breakpoint
ALTER TABLE "skus" ADD COLUMN "low_stock_threshold" integer;--> statement-breakpoint
ALTER TABLE "card_key_batches" ADD CONSTRAINT "card_key_batches_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_batch_id_card_key_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."card_key_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "card_key_batches_sku_idx" ON "card_key_batches" USING btree ("sku","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "card_keys_fingerprint_key" ON "card_keys" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "card_keys_allocation_idx" ON "card_keys" USING btree ("sku","expires_at","id") WHERE status = 'available';--> statement-breakpoint
CREATE INDEX "card_keys_sku_status_idx" ON "card_keys" USING btree ("sku","status");--> statement-breakpoint
CREATE INDEX "card_keys_order_idx" ON "card_keys" USING btree ("order_id") WHERE order_id is not null;--> statement-breakpoint
ALTER TABLE "skus" ADD CONSTRAINT "skus_low_stock_threshold_nonnegative" CHECK ("skus"."low_stock_threshold" >= 0);