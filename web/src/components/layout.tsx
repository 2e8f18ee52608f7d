// The signed-in frame: a skip link, the navigation (wraps on phones), who is signed in, and log out.
import { useMutation } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, useLocation } from "../lib/router";
import { type RouterOutputs, useTRPC } from "../lib/trpc";
import { useSignedOut } from "../lib/use-signed-out";

const NAV = [
  { to: "/", label: "Overview" },
  { to: "/orchestrations", label: "Orchestrations" },
  { to: "/executions", label: "Executions" },
  { to: "/roles", label: "Roles" },
  { to: "/providers", label: "Providers" },
  { to: "/usage", label: "Usage" },
  { to: "/console", label: "Agent console" },
  { to: "/webhooks", label: "Webhooks" },
  { to: "/keys", label: "API keys" },
  { to: "/api-reference", label: "API reference" },
  { to: "/account", label: "Account" },
];

function isCurrent(to: string, path: string) {
  return to === "/" ? path === "/" : path === to || path.startsWith(`${to}/`);
}

export function Layout({ me, children }: { me: RouterOutputs["auth"]["me"]; children: ReactNode }) {
  const trpc = useTRPC();
  const { path } = useLocation();
  const logout = useMutation(trpc.auth.logout.mutationOptions({ onSuccess: useSignedOut() }));
  return (
    <div className="shell">
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Troupe overview">
          <span className="brand-mark" aria-hidden="true" />
          Troupe
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={isCurrent(item.to, path) ? "page" : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <span className="muted" title={me.user?.email ?? ""}>
            {me.tenant.name}
            {me.user ? ` · ${me.user.email}` : ""}
          </span>
          <button
            type="button"
            className="button small"
            onClick={() => logout.mutate()}
            disabled={logout.isPending}
          >
            {logout.isPending ? "Logging out…" : "Log out"}
          </button>
        </div>
      </header>
      <main id="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
