// Sign up (a new team and its first user) and log in. Field errors from the server appear under the
// field they name; rate limits and wrong passwords appear above the button.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { Field } from "../components/field";
import { ErrorNotice } from "../components/ui";
import { describeError, issuesAt } from "../lib/errors";
import { Link, navigate } from "../lib/router";
import { useTRPC } from "../lib/trpc";

export function AuthPage({ mode }: { mode: "login" | "signup" }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [tenantName, setTenantName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const onSuccess = async () => {
    await queryClient.resetQueries({ queryKey: trpc.auth.me.queryKey() });
    navigate("/", { replace: true });
  };
  const signup = useMutation(trpc.auth.signup.mutationOptions({ onSuccess }));
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess }));
  const active = mode === "signup" ? signup : login;
  const issues = active.error ? describeError(active.error).issues : [];

  useEffect(() => {
    document.title = mode === "signup" ? "Sign up · Troupe" : "Log in · Troupe";
  }, [mode]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === "signup") signup.mutate({ tenantName, email, password });
    else login.mutate({ email, password });
  };

  return (
    <main className="auth-shell" id="content">
      <div className="auth-card">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true" /> Troupe
        </p>
        <h1>{mode === "signup" ? "Create your team" : "Log in"}</h1>
        <p className="muted">
          {mode === "signup"
            ? "Define roles, chain them into orchestrations and watch them run."
            : "Welcome back. Log in to see your roles, orchestrations and executions."}
        </p>
        <form onSubmit={submit} noValidate>
          {mode === "signup" ? (
            <Field
              label="Team name"
              errors={issuesAt(issues, "tenantName")}
              hint="Your company or project; you can invite others later."
            >
              <input
                value={tenantName}
                onChange={(e) => setTenantName(e.target.value)}
                autoComplete="organization"
                required
              />
            </Field>
          ) : null}
          <Field label="Email" errors={issuesAt(issues, "email")}>
            <input
              type="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoComplete="email"
              required
            />
          </Field>
          <Field
            label="Password"
            errors={issuesAt(issues, "password")}
            hint={mode === "signup" ? "At least 10 characters." : undefined}
          >
            <input
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete={mode === "signup" ? "new-password" : "current-password"}
              required
            />
          </Field>
          {active.error && issues.length === 0 ? (
            <ErrorNotice
              error={active.error}
              title={mode === "signup" ? "Could not create the team" : "Could not log you in"}
            />
          ) : null}
          <button type="submit" className="button primary wide" disabled={active.isPending}>
            {active.isPending
              ? mode === "signup"
                ? "Creating your team…"
                : "Logging in…"
              : mode === "signup"
                ? "Sign up"
                : "Log in"}
          </button>
        </form>
        <p className="muted">
          {mode === "signup" ? (
            <>
              Already have an account? <Link to="/login">Log in</Link>
            </>
          ) : (
            <>
              New to Troupe? <Link to="/signup">Create a team</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
