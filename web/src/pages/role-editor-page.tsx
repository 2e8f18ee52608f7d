// Create or edit a role; delete it after confirming. Server field errors land on the field they name.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ConfirmDialog } from "../components/dialog";
import { EMPTY_ROLE, type RoleDraft, RoleForm } from "../components/role-form";
import { ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { describeError, type FieldIssue } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { draftOf, inputOf } from "../lib/role-draft";
import { Link, navigate } from "../lib/router";
import { type Role, useTRPC } from "../lib/trpc";
import { useTitle } from "../lib/use-title";

/** The form's names for the API's field paths, for the summary above the form. */
const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  description: "Description",
  basePrompt: "Base prompt",
  "contextLimits.minContext": "Minimum context",
  "contextLimits.maxContext": "Maximum context",
  "hyperparameters.temperature": "Temperature",
  "hyperparameters.maxTokens": "Max tokens",
  "hyperparameters.topP": "Top P",
  "hyperparameters.model": "Model",
};
const labelOf = (path: string) => FIELD_LABELS[path] ?? (path.startsWith("tools") ? "Tools" : path || "Role");

/**
 * Updates merge into the stored role, so an optional value once set cannot be emptied: say so at the
 * field instead of silently keeping the old value.
 */
function unclearable(draft: RoleDraft, stored: Role | undefined): FieldIssue[] {
  if (!stored) return [];
  const issues: FieldIssue[] = [];
  if (stored.hyperparameters.model && !draft.model.trim()) {
    issues.push({ path: "hyperparameters.model", message: "cannot be emptied once set; name another model" });
  }
  if (stored.hyperparameters.topP !== undefined && !draft.topP.trim()) {
    issues.push({
      path: "hyperparameters.topP",
      message: "cannot be emptied once set; use 1 for the default",
    });
  }
  return issues;
}

class FormIssues extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super("the form has problems");
  }
}

/** role.update reports paths under "updates."; the form knows them without it. */
function formIssues(error: unknown): FieldIssue[] {
  if (!error) return [];
  if (error instanceof FormIssues) return error.issues;
  return describeError(error).issues.map((issue) => ({
    ...issue,
    path: issue.path.replace(/^updates\.?/, ""),
  }));
}

export function RoleEditorPage({ roleId }: { roleId?: string }) {
  const editing = roleId !== undefined;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const role = useQuery({ ...trpc.role.get.queryOptions({ nameOrId: roleId ?? "" }), enabled: editing });
  const [draft, setDraft] = useState<RoleDraft>(EMPTY_ROLE);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [saved, setSaved] = useState(false);
  useTitle(editing ? `Role ${role.data?.name ?? ""}` : "New role");

  useEffect(() => {
    if (role.data) setDraft(draftOf(role.data));
  }, [role.data]);

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.role.pathKey() });
  const create = useMutation(
    trpc.role.create.mutationOptions({
      onSuccess: async (created) => {
        await invalidate();
        navigate(`/roles/${created.id}`, { replace: true });
      },
    }),
  );
  const update = useMutation(
    trpc.role.update.mutationOptions({
      onSuccess: async () => {
        setSaved(true);
        await invalidate();
      },
    }),
  );
  const remove = useMutation(
    trpc.role.delete.mutationOptions({
      onSuccess: async () => {
        await invalidate();
        navigate("/roles");
      },
    }),
  );
  const save = useMutation({
    mutationFn: async () => {
      setSaved(false);
      const local = unclearable(draft, role.data);
      if (local.length) throw new FormIssues(local);
      if (editing && role.data) await update.mutateAsync({ roleId: role.data.id, updates: inputOf(draft) });
      else await create.mutateAsync(inputOf(draft));
    },
  });
  const issues = formIssues(save.error);

  if (editing && role.isPending) return <Spinner label="Loading the role…" />;
  if (editing && role.error) return <ErrorNotice error={role.error} onRetry={() => void role.refetch()} />;

  return (
    <>
      <PageHeader
        title={editing ? `Role: ${role.data?.name ?? ""}` : "New role"}
        subtitle={
          editing && role.data ? (
            <>
              Last changed {formatDateTime(role.data.updatedAt)} · <Link to="/roles">All roles</Link>
            </>
          ) : (
            "A role is an agent: the prompt it follows, what it can do and which model serves it."
          )
        }
        actions={
          editing ? (
            <button type="button" className="button danger" onClick={() => setConfirmDelete(true)}>
              Delete role
            </button>
          ) : null
        }
      />
      {save.error && issues.length === 0 ? <ErrorNotice error={save.error} /> : null}
      {issues.length ? (
        <div className="notice notice-error" role="alert">
          <strong>Please fix {issues.length === 1 ? "this field" : `these ${issues.length} fields`}:</strong>{" "}
          {issues.map((issue) => `${labelOf(issue.path)} ${issue.message}`).join("; ")}
        </div>
      ) : null}
      {saved ? (
        <output className="notice notice-success">
          Saved. Executions started from now on use these settings.
        </output>
      ) : null}
      <RoleForm
        draft={draft}
        onChange={(next) => {
          setSaved(false);
          setDraft(next);
        }}
        onSubmit={() => save.mutate()}
        issues={issues}
        submitLabel={editing ? "Save changes" : "Create role"}
        busy={save.isPending}
      />
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete the role “${role.data?.name ?? ""}”?`}
        confirmLabel="Delete role"
        danger
        busy={remove.isPending}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => role.data && remove.mutate({ roleId: role.data.id })}
      >
        <p>
          Orchestrations whose steps name this role will not start until a role with this name exists again.
          Running executions keep the snapshot they started with.
        </p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </>
  );
}
