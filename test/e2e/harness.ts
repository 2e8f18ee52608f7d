// A minimal runner for the browser journeys: named steps run in order, each timed; the first failure
// stops the run with the step's name, the page's URL and any errors the page logged.
import type { Page } from "playwright-core";

export interface StepResult {
  name: string;
  ms: number;
}

export class Journey {
  readonly results: StepResult[] = [];
  readonly pageErrors: string[] = [];

  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    page.on("pageerror", (error) => this.pageErrors.push(error.message));
    page.on("console", (message) => {
      // 4xx answers are part of the journeys (a wrong password, a revoked key); other errors are not.
      if (message.type() === "error" && !/status of 4\d\d/.test(message.text()))
        this.pageErrors.push(message.text());
    });
  }

  async step(name: string, run: () => Promise<void>): Promise<void> {
    const started = performance.now();
    process.stdout.write(`  … ${name}\n`);
    try {
      await run();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(
        `step "${name}" failed at ${this.page.url()}:\n${detail}` +
          (this.pageErrors.length ? `\npage errors:\n  ${this.pageErrors.join("\n  ")}` : ""),
      );
    }
    const ms = performance.now() - started;
    this.results.push({ name, ms });
    process.stdout.write(`  ✓ ${name} (${Math.round(ms)} ms)\n`);
  }
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`expected ${message}`);
}
