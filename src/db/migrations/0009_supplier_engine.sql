CREATE TYPE "public"."supplier_attempt_status" AS ENUM('submitting', 'pending', 'unknown', 'succeeded', 'failed', 'not_found');--> statement-breakpoint
CREATE TYPE "public"."supplier_force_state" AS ENUM('open', 'closed');--> statement-breakpoint
CREATE TABLE "order_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"attempt_id" text NOT NULL,
	"type" text NOT NULL,
	"reference" text,
	"key_id" text,
	"code_ciphertext" "bytea",
	"pin_ciphertext" "bytea",
	"serial_ciphertext" "bytea",
	"expires_at" timestamp with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_deliveries_codes_sealed" CHECK (("order_deliveries"."type" = 'card_key') = ("order_deliveries"."code_ciphertext" is not null and "order_deliveries"."key_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "supplier_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"supplier_id" text NOT NULL,
	"supplier_product_id" text NOT NULL,
	"cost" bigint NOT NULL,
	"status" "supplier_attempt_status" NOT NULL,
	"supplier_order_id" text,
	"failure_code" text,
	"failure_message" text,
	"retryable" boolean,
	"latency_ms" integer,
	"queries" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (6) with time zone,
	CONSTRAINT "supplier_attempts_cost_nonnegative" CHECK ("supplier_attempts"."cost" >= 0),
	CONSTRAINT "supplier_attempts_final_has_time" CHECK (("supplier_attempts"."status" in ('succeeded', 'failed', 'not_found')) = ("supplier_attempts"."completed_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "suppliers" (
	"id" text PRIMARY KEY NOT NULL,
	"adapter" text NOT NULL,
	"base_url" text NOT NULL,
	"credentials_key_id" text NOT NULL,
	"credentials_ciphertext" "bytea" NOT NULL,
	"timeout_ms" integer NOT NULL,
	"error_threshold_percentage" integer NOT NULL,
	"reset_timeout_ms" integer NOT NULL,
	"volume_threshold" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"force_state" "supplier_force_state",
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suppliers_timeout_range" CHECK ("suppliers"."timeout_ms" between 100 and 120000),
	CONSTRAINT "suppliers_threshold_range" CHECK ("suppliers"."error_threshold_percentage" between 1 and 100),
	CONSTRAINT "suppliers_reset_timeout_range" CHECK ("suppliers"."reset_timeout_ms" between 100 and 3600000),
	CONSTRAINT "suppliers_volume_threshold_range" CHECK ("suppliers"."volume_threshold" between 1 and 100000)
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "lease_token" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "lease_until" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "next_check_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "order_deliveries" ADD CONSTRAINT "order_deliveries_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_deliveries" ADD CONSTRAINT "order_deliveries_attempt_id_supplier_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."supplier_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_attempts" ADD CONSTRAINT "supplier_attempts_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_attempts" ADD CONSTRAINT "supplier_attempts_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "order_deliveries_order_idx" ON "order_deliveries" USING btree ("order_id","id");--> statement-breakpoint
CREATE INDEX "supplier_attempts_order_idx" ON "supplier_attempts" USING btree ("order_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "supplier_attempts_one_open_per_order" ON "supplier_attempts" USING btree ("order_id") WHERE status in ('submitting', 'pending', 'unknown');--> statement-breakpoint
CREATE INDEX "orders_next_check_idx" ON "orders" USING btree ("next_check_at") WHERE status = 'processing';