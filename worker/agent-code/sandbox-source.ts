// The prelude module of the agent-code sandbox (main.js of the loaded isolate), as source text: the guard
// the instrumented code calls, console capture, and the meta functions, which go to the MetaTools stub the
// host passes with each run (the isolate's env holds nothing). Nothing it returns is trusted by the host
// (see sandbox-reply.ts): the agent's code runs in the same isolate and could have bent any global this
// prelude uses after it loaded.
import { SANDBOX_LIMITS } from "./limits";
import { META_FUNCTION_NAMES } from "./meta-names";

export const SANDBOX_MAIN_MODULE = "main.js";
export const SANDBOX_AGENT_MODULE = "agent.js";

export const SANDBOX_SOURCE = `
import { WorkerEntrypoint } from "cloudflare:workers";
import bindAgent from "./${SANDBOX_AGENT_MODULE}";

const LIMITS = ${JSON.stringify(SANDBOX_LIMITS)};
const NAMES = ${JSON.stringify(META_FUNCTION_NAMES)};
// Taken before any agent code runs.
const now = Date.now;
const stringify = JSON.stringify;
const ErrorClass = Error;
const freeze = Object.freeze;
const iteratorKey = Symbol.iterator;
const asyncIteratorKey = Symbol.asyncIterator;

class AgentError extends ErrorClass {
  constructor(name, message, details) {
    super(message);
    this.name = name;
    if (details && typeof details.code === "string") this.code = details.code;
    if (details && details.issues) this.issues = details.issues;
  }
}

// Only an object inside itself is circular; one object reached twice (a status shares its step outputs
// with its context) is written out both times. \`this\` is the object holding \`v\`, so the path from the
// root to it is what remains of \`ancestors\` once the siblings' subtrees are dropped.
function toJson(value, indent) {
  const ancestors = [];
  try {
    return stringify(value, function (key, v) {
      if (typeof v === "bigint") return String(v) + "n";
      if (typeof v === "function") return "[Function " + (v.name || "anonymous") + "]";
      if (typeof v === "symbol") return String(v);
      if (v instanceof ErrorClass) return { name: v.name, message: v.message };
      if (typeof v === "object" && v !== null) {
        while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.length -= 1;
        for (let i = 0; i < ancestors.length; i++) if (ancestors[i] === v) return "[Circular]";
        ancestors[ancestors.length] = v;
      }
      return v;
    }, indent);
  } catch (error) {
    return undefined;
  }
}

function format(value) {
  if (typeof value === "string") return value;
  if (value instanceof ErrorClass) return value.name + ": " + value.message;
  if (value === undefined) return "undefined";
  const text = toJson(value, 2);
  return text === undefined ? String(value) : text;
}

function startRun(request, meta) {
  const state = { ticks: 0, countdown: 1, lastCheck: now(), busySince: now(), trip: null, calls: 0,
    logs: [], logChars: 0, droppedEntries: 0, droppedChars: 0 };

  function tripError() {
    const error = new AgentError(state.trip.name, state.trip.message);
    error.stack = state.trip.stack;
    return error;
  }
  function fail(name, message) {
    if (!state.trip) state.trip = { name: name, message: message, stack: String(new ErrorClass(message).stack) };
    throw tripError();
  }
  function tick() {
    if (state.trip) throw tripError();
    state.ticks += 1;
    if (state.ticks > LIMITS.maxTicks)
      fail("LimitExceeded", "the code ran " + LIMITS.maxTicks + " loop iterations and function calls, the limit per run: an endless loop or unbounded recursion?");
    if (--state.countdown > 0) return true;
    const t = now();
    const elapsed = t - state.lastCheck;
    // Check every 64 ticks while they are cheap, at every tick once they are not.
    state.countdown = elapsed > 10 ? 1 : 64;
    if (elapsed > LIMITS.idleGapMs) state.busySince = t;
    state.lastCheck = t;
    if (t > request.deadline) fail("TimeoutError", "the code ran longer than its time limit of " + request.timeoutMs + " ms");
    if (t - state.busySince > LIMITS.busyMs)
      fail("LimitExceeded", "the code computed for " + LIMITS.busyMs + " ms without waiting for anything: an endless loop?");
    return true;
  }
  function notIterable(value) {
    return new TypeError("for...of needs something iterable, not " + format(value).slice(0, 100));
  }
  function* iter(iterable) {
    if (iterable == null || typeof iterable[iteratorKey] !== "function") throw notIterable(iterable);
    for (const value of iterable) {
      tick();
      yield value;
    }
  }
  async function* aiter(iterable) {
    if (iterable == null || (typeof iterable[asyncIteratorKey] !== "function" && typeof iterable[iteratorKey] !== "function"))
      throw notIterable(iterable);
    for await (const value of iterable) {
      tick();
      yield value;
    }
  }

  function write(level) {
    return function () {
      let text = "";
      for (let i = 0; i < arguments.length; i++) text += (i > 0 ? " " : "") + format(arguments[i]);
      const room = LIMITS.maxLogChars - state.logChars;
      if (room <= 0 || state.logs.length >= LIMITS.maxLogEntries) {
        state.droppedEntries += 1;
        state.droppedChars += text.length;
        return;
      }
      if (text.length > room) {
        state.droppedChars += text.length - room;
        text = text.slice(0, room);
      }
      state.logs[state.logs.length] = { level: level, message: text };
      state.logChars += text.length;
    };
  }
  const log = write("log");
  const console = freeze({ log: log, info: write("info"), warn: write("warn"), error: write("error"),
    debug: log, trace: log, dir: log, table: log });

  async function call(name, args) {
    // The agent's call site, for the line and column of any error this call ends in.
    const site = String(new ErrorClass().stack);
    const located = function (error) {
      const cut = site.indexOf("\\n");
      error.stack = error.name + ": " + error.message + (cut >= 0 ? site.slice(cut) : "");
      return error;
    };
    if (state.trip) throw tripError();
    if (state.calls >= LIMITS.maxCalls)
      throw located(new AgentError("LimitExceeded", name + ": this run already made " + LIMITS.maxCalls + " meta calls, the limit per run"));
    if (now() > request.deadline)
      throw located(new AgentError("TimeoutError", name + ": the code ran longer than its time limit of " + request.timeoutMs + " ms"));
    let payload;
    try {
      payload = args === undefined ? "null" : stringify(args);
    } catch (error) {
      throw located(new AgentError("TypeError", name + ": the argument cannot be sent as JSON: " + (error && error.message)));
    }
    if (typeof payload !== "string") payload = "null";
    if (payload.length > LIMITS.maxArgumentChars)
      throw located(new AgentError("LimitExceeded", name + ": the argument is " + payload.length + " characters of JSON; the limit is " + LIMITS.maxArgumentChars));
    state.calls += 1;
    let reply;
    try {
      reply = await meta.call(name, payload);
    } catch (error) {
      throw located(new AgentError("InternalError", name + ": the call did not reach Troupe: " + (error && error.message)));
    } finally {
      state.lastCheck = now();
      state.busySince = state.lastCheck;
    }
    if (reply && reply.ok === true) return reply.value;
    const failure = (reply && reply.error) || {};
    throw located(new AgentError(String(failure.name || "Error"), name + ": " + failure.message, failure));
  }

  const scope = { tick: tick, iter: iter, aiter: aiter, console: console };
  const system = {};
  for (let i = 0; i < NAMES.length; i++) {
    const name = NAMES[i];
    const fn = { [name]: function (args) { return call(name, args); } }[name];
    scope[name] = fn;
    system[name] = fn;
  }
  scope.system = freeze(system);

  function describeError(error) {
    if (error instanceof ErrorClass) {
      const described = { name: String(error.name), message: String(error.message), stack: String(error.stack) };
      if (typeof error.code === "string") described.code = error.code;
      return described;
    }
    return { name: "Error", message: "the code threw a value that is not an Error: " + format(error), stack: "" };
  }

  function finish(ok, value, error) {
    // A guard error the agent caught still ends the run as failed.
    const failed = !ok || state.trip !== null;
    const reply = { ok: !failed, logs: state.logs, droppedEntries: state.droppedEntries,
      droppedChars: state.droppedChars, calls: state.calls, ticks: state.ticks };
    if (failed) {
      reply.error = describeError(state.trip ? tripError() : error);
      return reply;
    }
    const text = value === undefined ? "null" : toJson(value, undefined);
    const json = typeof text === "string" ? text : "null";
    reply.result = json.slice(0, LIMITS.maxResultChars);
    reply.resultChars = json.length;
    return reply;
  }

  return { scope: scope, finish: finish };
}

export default class AgentSandbox extends WorkerEntrypoint {
  async run(request, meta) {
    const run = startRun(request, meta);
    try {
      const value = await bindAgent(run.scope)();
      return run.finish(true, value);
    } catch (error) {
      return run.finish(false, undefined, error);
    }
  }
}
`;
