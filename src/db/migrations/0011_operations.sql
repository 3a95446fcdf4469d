CREATE TYPE "public"."risk_action" AS ENUM('refuse', 'review');--> statement-breakpoint
CREATE TYPE "public"."risk_rule_kind" AS ENUM('recipient_velocity', 'daily_quota', 'amount_ceiling', 'recipient_blocklist', 'ip_blocklist');--> statement-breakpoint
CREATE TABLE "risk_counters" (
	"rule_id" text NOT NULL,
	"reseller_id" text NOT NULL,
	"day" date NOT NULL,
	"orders" integer DEFAULT 0 NOT NULL,
	"amount" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "risk_counters_rule_id_reseller_id_day_pk" PRIMARY KEY("rule_id","reseller_id","day"),
	CONSTRAINT "risk_counters_nonnegative" CHECK ("risk_counters"."orders" >= 0 and "risk_counters"."amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "risk_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" "risk_rule_kind" NOT NULL,
	"action" "risk_action" NOT NULL,
	"sku" text,
	"reseller_id" text,
	"params" jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_states" (
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"firing" boolean NOT NULL,
	"changed_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_states_kind_subject_pk" PRIMARY KEY("kind","subject")
);
--> statement-breakpoint
CREATE TABLE "ops_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"severity" text NOT NULL,
	"message" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "client_ip" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "recipient_key" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "risk" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "low_balance_threshold" bigint;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "balance" bigint;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "balance_currency" text;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "balance_checked_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "risk_counters" ADD CONSTRAINT "risk_counters_rule_id_risk_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."risk_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_counters" ADD CONSTRAINT "risk_counters_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_rules" ADD CONSTRAINT "risk_rules_sku_skus_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."skus"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_rules" ADD CONSTRAINT "risk_rules_reseller_id_resellers_id_fk" FOREIGN KEY ("reseller_id") REFERENCES "public"."resellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "risk_rules_scope_idx" ON "risk_rules" USING btree ("sku","reseller_id") WHERE enabled;--> statement-breakpoint
CREATE INDEX "ops_events_created_idx" ON "ops_events" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "ops_events_kind_idx" ON "ops_events" USING btree ("kind","subject","id");--> statement-breakpoint
CREATE INDEX "orders_recipient_recent_idx" ON "orders" USING btree ("recipient_key","created_at") WHERE recipient_key is not null;