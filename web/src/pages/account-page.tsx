// The signed-in person's account: change the password (other devices are signed out) and sign out
// everywhere (every session ends, this one included).
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ConfirmDialog } from "../components/dialog";
import { Field } from "../components/field";
import { ErrorNotice, PageHeader } from "../components/ui";
import { describeError, issuesAt } from "../lib/errors";
import { useTRPC } from "../lib/trpc";
import { useSignedOut } from "../lib/use-signed-out";
import { useTitle } from "../lib/use-title";

export function AccountPage() {
  useTitle("Account");
  const trpc = useTRPC();
  // The app shell has already asked who is signed in; this reads the cached answer.
  const me = useQuery(trpc.auth.me.queryOptions()).data;
  return (
    <>
      <PageHeader title="Account" subtitle={me?.user ? `Signed in as ${me.user.email}.` : undefined} />
      {me?.via === "session" ? (
        <>
          <ChangePassword />
          <SignOutEverywhere />
        </>
      ) : (
        <p>This page is for people signed in with a password; an API key has no account settings.</p>
      )}
    </>
  );
}

function ChangePassword() {
  const trpc = useTRPC();
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        setCurrentPassword("");
        setNewPassword("");
      },
    }),
  );
  const issues = change.error ? describeError(change.error).issues : [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate({ currentPassword, newPassword });
  };
  const ended = change.data?.endedSessions ?? 0;
  return (
    <section className="card" aria-labelledby="change-password">
      <h2 id="change-password">Change password</h2>
      <form onSubmit={submit} noValidate>
        <Field label="Current password" errors={issuesAt(issues, "currentPassword")}>
          <input
            type="password"
            value={currentPassword}
            onChange={(e) => setCurrentPassword(e.target.value)}
            autoComplete="current-password"
            required
          />
        </Field>
        <Field
          label="New password"
          hint="At least 10 characters. Your other devices will be signed out."
          errors={issuesAt(issues, "newPassword")}
        >
          <input
            type="password"
            value={newPassword}
            onChange={(e) => setNewPassword(e.target.value)}
            autoComplete="new-password"
            required
          />
        </Field>
        {change.error && issues.length === 0 ? (
          <ErrorNotice error={change.error} title="Could not change the password" />
        ) : null}
        {change.isSuccess ? (
          <div className="notice notice-success" role="status">
            <p>
              Password changed.{" "}
              {ended === 0
                ? "No other device was signed in."
                : `${ended} other ${ended === 1 ? "session was" : "sessions were"} signed out.`}
            </p>
          </div>
        ) : null}
        <button type="submit" className="button primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </button>
      </form>
    </section>
  );
}

function SignOutEverywhere() {
  const trpc = useTRPC();
  const [confirming, setConfirming] = useState(false);
  const signOut = useMutation(trpc.auth.signOutEverywhere.mutationOptions({ onSuccess: useSignedOut() }));
  return (
    <section className="card" aria-labelledby="sign-out-everywhere">
      <h2 id="sign-out-everywhere">Sign out everywhere</h2>
      <p>Ends every session of your account, on every device and in every browser, this one included.</p>
      <button type="button" className="button danger" onClick={() => setConfirming(true)}>
        Sign out everywhere
      </button>
      <ConfirmDialog
        open={confirming}
        title="Sign out on every device?"
        confirmLabel="Sign out everywhere"
        danger
        busy={signOut.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => signOut.mutate()}
      >
        <p>You will need your password to sign in again, here and everywhere else.</p>
        <ErrorNotice error={signOut.error} />
      </ConfirmDialog>
    </section>
  );
}
