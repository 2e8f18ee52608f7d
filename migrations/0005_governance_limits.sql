CREATE TABLE `login_backoff` (
	`email_hash` text PRIMARY KEY NOT NULL,
	`failures` integer NOT NULL,
	`last_failure_at` integer NOT NULL,
	`next_attempt_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant_monthly_spend` (
	`tenant_id` text NOT NULL,
	`month` text NOT NULL,
	`spent_usd` real DEFAULT 0 NOT NULL,
	`reserved_usd` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`tenant_id`, `month`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `executions` ADD `tokens_in` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `executions` ADD `tokens_out` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `executions` ADD `cost_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `executions` ADD `calls` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `executions` ADD `usage_by_model` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `usage_settled` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `executions` ADD `month_spent_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `executions_finished_idx` ON `executions` (`finished_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `deleted_at` integer;