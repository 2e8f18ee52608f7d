// The app shell: who is signed in (auth.me), then the page for the current path. Signed-out visitors
// see the login or sign-up page; the Monaco-based pages load on demand.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, type ReactNode, Suspense, useEffect } from "react";
import { Layout } from "./components/layout";
import { EmptyState, ErrorNotice, Spinner } from "./components/ui";
import { errorCode } from "./lib/errors";
import { Link, matchPath, navigate, useLocation } from "./lib/router";
import { setSignedOutHandler, useTRPC } from "./lib/trpc";
import { AccountPage } from "./pages/account-page";
import { ApiKeysPage } from "./pages/api-keys-page";
import { ApiReferencePage } from "./pages/api-reference-page";
import { AuthPage } from "./pages/auth-page";
import { ExecutionPage } from "./pages/execution-page";
import { ExecutionsPage } from "./pages/executions-page";
import { OrchestrationPage } from "./pages/orchestration-page";
import { OrchestrationsPage } from "./pages/orchestrations-page";
import { OverviewPage } from "./pages/overview-page";
import { ProviderEditorPage } from "./pages/provider-editor-page";
import { ProvidersPage } from "./pages/providers-page";
import { RoleEditorPage } from "./pages/role-editor-page";
import { RolesPage } from "./pages/roles-page";
import { UsagePage } from "./pages/usage-page";
import { WebhooksPage } from "./pages/webhooks-page";

const OrchestrationEditorPage = lazy(() => import("./pages/orchestration-editor-page"));
const ConsolePage = lazy(() => import("./pages/console-page"));

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode];

const ROUTES: Route[] = [
  ["/", () => <OverviewPage />],
  ["/roles", () => <RolesPage />],
  ["/roles/new", () => <RoleEditorPage />],
  ["/roles/:roleId", (p) => <RoleEditorPage roleId={p.roleId} />],
  ["/orchestrations", () => <OrchestrationsPage />],
  ["/orchestrations/new", () => <OrchestrationEditorPage />],
  [
    "/orchestrations/:orchestrationId/edit",
    (p) => <OrchestrationEditorPage orchestrationId={p.orchestrationId} />,
  ],
  [
    "/orchestrations/:orchestrationId",
    (p) => <OrchestrationPage orchestrationId={p.orchestrationId ?? ""} />,
  ],
  ["/executions", () => <ExecutionsPage />],
  [
    "/executions/:executionId",
    (p) => <ExecutionPage key={p.executionId} executionId={p.executionId ?? ""} />,
  ],
  ["/providers", () => <ProvidersPage />],
  ["/providers/new", () => <ProviderEditorPage />],
  ["/providers/:providerId", (p) => <ProviderEditorPage providerId={p.providerId} />],
  ["/usage", () => <UsagePage />],
  ["/webhooks", () => <WebhooksPage />],
  ["/keys", () => <ApiKeysPage />],
  ["/api-reference", () => <ApiReferencePage />],
  ["/account", () => <AccountPage />],
  ["/console", () => <ConsolePage />],
];

function pageFor(path: string): ReactNode {
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, path);
    if (params) return render(params);
  }
  return (
    <EmptyState title="There is no page here">
      <p>
        The address <code>{path}</code> does not match any page. Go to the <Link to="/">overview</Link>.
      </p>
    </EmptyState>
  );
}

export function App() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { path } = useLocation();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), retry: false, staleTime: 60_000 });
  const signedOut = errorCode(me.error) === "UNAUTHORIZED";

  useEffect(() => {
    // Any request answered UNAUTHORIZED while signed in means the session ended: ask auth.me again.
    setSignedOutHandler(() => {
      if (queryClient.getQueryData(trpc.auth.me.queryKey())) {
        void queryClient.resetQueries({ queryKey: trpc.auth.me.queryKey() });
      }
    });
  }, [queryClient, trpc]);

  const onAuthPage = path === "/login" || path === "/signup";
  useEffect(() => {
    if (me.data && onAuthPage) navigate("/", { replace: true });
  }, [me.data, onAuthPage]);

  if (me.isPending) return <Spinner label="Loading Troupe…" />;
  if (signedOut) return <AuthPage mode={path === "/signup" ? "signup" : "login"} />;
  if (!me.data) {
    return (
      <main className="auth-shell">
        <ErrorNotice error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  return (
    <Layout me={me.data}>
      <Suspense fallback={<Spinner label="Loading the editor…" />}>
        {pageFor(onAuthPage ? "/" : path)}
      </Suspense>
    </Layout>
  );
}
