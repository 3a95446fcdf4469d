CREATE TYPE "public"."operator_role" AS ENUM('admin', 'ops', 'support', 'finance');--> statement-breakpoint
CREATE TYPE "public"."recipient_type" AS ENUM('account', 'phone', 'game_account', 'none');--> statement-breakpoint
CREATE TYPE "public"."sku_category" AS ENUM('video', 'game', 'mobile', 'gift_card', 'other');--> statement-breakpoint
CREATE TYPE "public"."sku_delivery" AS ENUM('direct_recharge', 'card_key');--> statement-breakpoint
CREATE TYPE "public"."sku_status" AS ENUM('active', 'inactive');--> statement-breakpoint
CREATE TABLE "admin_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" "operator_role" NOT NULL,
	"token_hash" "bytea" NOT NULL,
	"token_prefix" text NOT NULL,
	"created_by" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "admin_tokens_id_prefix" CHECK ("admin_tokens"."id" like 'adt\_%')
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"actor_id" text NOT NULL,
	"actor_role" "operator_role" NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"request_id" text NOT NULL,
	"ip" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "skus" (
	"sku" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"category" "sku_category" NOT NULL,
	"delivery" "sku_delivery" NOT NULL,
	"recipient_type" "recipient_type" NOT NULL,
	"face_value" bigint NOT NULL,
	"currency" text NOT NULL,
	"max_quantity" integer NOT NULL,
	"status" "sku_status" DEFAULT 'active' NOT NULL,
	"fulfilment" jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "skus_currency_iso" CHECK ("skus"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "skus_face_value_nonnegative" CHECK ("skus"."face_value" >= 0),
	CONSTRAINT "skus_max_quantity_range" CHECK ("skus"."max_quantity" between 1 and 100),
	CONSTRAINT "skus_recipient_fits_delivery" CHECK (("skus"."delivery" = 'card_key') = ("skus"."recipient_type" = 'none'))
);
--> statement-breakpoint
CREATE TABLE "tier_prices" (
	"tier" text NOT NULL,
	"sku" text NOT NULL,
	"price" bigint NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tier_prices_tier_sku_pk" PRIMARY KEY("tier","sku"),
	CONSTRAINT "tier_prices_price_nonnegative" CHECK ("tier_prices"."price" >= 0)
);
--> statement-breakpoint
ALTER TABLE "tier_prices" ADD CONSTRAINT "tier_prices_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "admin_tokens_token_hash_key" ON "admin_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "admin_tokens_active_role_idx" ON "admin_tokens" USING btree ("role") WHERE revoked_at is null;--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target_type","target_id","id");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","id");