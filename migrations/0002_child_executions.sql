ALTER TABLE `executions` ADD `parent_execution_id` text;--> statement-breakpoint
CREATE INDEX `executions_tenant_parent_idx` ON `executions` (`tenant_id`,`parent_execution_id`);