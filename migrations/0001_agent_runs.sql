CREATE TABLE `agent_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`role_id` text NOT NULL,
	`execution_id` text,
	`step_name` text,
	`turn` integer,
	`code_hash` text NOT NULL,
	`code_bytes` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`calls` integer NOT NULL,
	`outcome` text NOT NULL,
	`error` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `agent_runs_tenant_created_idx` ON `agent_runs` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_runs_tenant_execution_idx` ON `agent_runs` (`tenant_id`,`execution_id`);