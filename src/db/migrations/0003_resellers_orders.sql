CREATE TYPE "public"."auth_mode" AS ENUM('bearer_or_signature', 'signature_only');--> statement-breakpoint
CREATE TYPE "public"."ledger_kind" AS ENUM('adjustment', 'order_debit', 'order_refund');--> statement-breakpoint
CREATE TYPE "public"."reseller_status" AS ENUM('active', 'suspended');--> statement-breakpoint
CREATE TYPE "public"."order_status" AS ENUM('processing', 'succeeded', 'failed', 'pending_review');--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"reseller_id" text NOT NULL,
	"kind" "ledger_kind" NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"order_id" text,
	"reason" text,
	"actor_id" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_entries_amount_nonzero" CHECK ("ledger_entries"."amount" <> 0)
);
--> statement-breakpoint
CREATE TABLE "request_nonces" (
	"key_id" text NOT NULL,
	"nonce" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "request_nonces_key_id_nonce_pk" PRIMARY KEY("key_id","nonce")
);
--> statement-breakpoint
CREATE TABLE "reseller_api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"reseller_id" text NOT NULL,
	"secret_hash" "bytea" NOT NULL,
	"secret_key_id" text NOT NULL,
	"secret_ciphertext" "bytea" NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "reseller_api_keys_secret_hash_key" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE TABLE "reseller_balance_buckets" (
	"reseller_id" text NOT NULL,
	"bucket" smallint NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"floor" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reseller_balance_buckets_reseller_id_bucket_pk" PRIMARY KEY("reseller_id","bucket"),
	CONSTRAINT "reseller_balance_buckets_within_floor" CHECK ("reseller_balance_buckets"."balance" + "reseller_balance_buckets"."floor" >= 0),
	CONSTRAINT "reseller_balance_buckets_floor_only_on_bucket_0" CHECK ("reseller_balance_buckets"."floor" >= 0 and ("reseller_balance_buckets"."bucket" = 0 or "reseller_balance_buckets"."floor" = 0))
);
--> statement-breakpoint
CREATE TABLE "reseller_prices" (
	"reseller_id" text NOT NULL,
	"sku" text NOT NULL,
	"price" bigint NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reseller_prices_reseller_id_sku_pk" PRIMARY KEY("reseller_id","sku"),
	CONSTRAINT "reseller_prices_price_nonnegative" CHECK ("reseller_prices"."price" >= 0)
);
--> statement-breakpoint
CREATE TABLE "resellers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"tier" text NOT NULL,
	"currency" text NOT NULL,
	"callback_url" text,
	"callback_includes_codes" boolean DEFAULT false NOT NULL,
	"auth_mode" "auth_mode" DEFAULT 'bearer_or_signature' NOT NULL,
	"ip_allowlist" text[] DEFAULT '{}'::text[] NOT NULL,
	"rate_limit_per_minute" integer DEFAULT 600 NOT NULL,
	"status" "reseller_status" DEFAULT 'active' NOT NULL,
	"webhook_secret_key_id" text NOT NULL,
	"webhook_secret_ciphertext" "bytea" NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "resellers_currency_iso" CHECK ("resellers"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "resellers_rate_limit_positive" CHECK ("resellers"."rate_limit_per_minute" > 0)
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" text PRIMARY KEY NOT NULL,
	"reseller_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"request_hash" "bytea" NOT NULL,
	"sku" text NOT NULL,
	"quantity" integer NOT NULL,
	"recipient" jsonb NOT NULL,
	"unit_price" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" "order_status" NOT NULL,
	"failure" jsonb,
	"callback_url" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "orders_amount_is_quantity_times_price" CHECK ("orders"."amount" = "orders"."quantity" * "orders"."unit_price"),
	CONSTRAINT "orders_quantity_range" CHECK ("orders"."quantity" between 1 and 100),
	CONSTRAINT "orders_final_has_time" CHECK (("orders"."status" in ('succeeded', 'failed')) = ("orders"."completed_at" is not null))
);
--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reseller_api_keys" ADD CONSTRAINT "reseller_api_keys_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reseller_balance_buckets" ADD CONSTRAINT "reseller_balance_buckets_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reseller_prices" ADD CONSTRAINT "reseller_prices_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reseller_prices" ADD CONSTRAINT "reseller_prices_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ledger_entries_reseller_idx" ON "ledger_entries" USING btree ("reseller_id","id");--> statement-breakpoint
CREATE INDEX "ledger_entries_order_idx" ON "ledger_entries" USING btree ("order_id") WHERE order_id is not null;--> statement-breakpoint
CREATE INDEX "request_nonces_expires_idx" ON "request_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "reseller_api_keys_reseller_idx" ON "reseller_api_keys" USING btree ("reseller_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_reseller_client_order_key" ON "orders" USING btree ("reseller_id","client_order_id");--> statement-breakpoint
CREATE INDEX "orders_reseller_created_idx" ON "orders" USING btree ("reseller_id","id");--> statement-breakpoint
CREATE INDEX "orders_status_idx" ON "orders" USING btree ("status","id") WHERE status in ('processing', 'pending_review');