#!/usr/bin/env node
// The `troupe` CLI entry (run by Node >= 22, which strips the types): wires the real process into main().
import { main } from "../src/cli/main.ts";

const interrupt = new AbortController();
// The first Ctrl-C stops waiting (the command says what goes on); a second one ends the process.
process.once("SIGINT", () => {
  interrupt.abort(new Error("interrupted"));
  process.once("SIGINT", () => process.exit(130));
});

// `troupe executions list | head`: a reader that went away is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interrupted: interrupt.signal,
});
