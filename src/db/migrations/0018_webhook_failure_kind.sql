CREATE TYPE "public"."webhook_failure_kind" AS ENUM('http_status', 'timeout', 'connection_failed', 'no_public_address', 'url_refused');--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "last_error_kind" "webhook_failure_kind";--> statement-breakpoint
-- Added by hand: events that failed before this migration get the kind their last_error's
-- wording shows (src/webhooks/dispatcher.ts wrote these forms), so resellers never fall back to the detail.
UPDATE "webhook_events" SET "last_error_kind" = CASE
  WHEN "last_status" IS NOT NULL THEN 'http_status'
  WHEN "last_error" LIKE 'no answer within %' OR "last_error" ~ '^(Connect|Headers|Body) Timeout Error' THEN 'timeout'
  WHEN "last_error" LIKE 'callback URL not allowed:%' THEN 'url_refused'
  WHEN "last_error" LIKE '% resolves to a non-public address' OR "last_error" LIKE 'getaddrinfo %' THEN 'no_public_address'
  ELSE 'connection_failed'
END::"webhook_failure_kind"
WHERE "last_error" IS NOT NULL;
