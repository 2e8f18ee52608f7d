// What the dashboard does once this browser's session has ended (log out, sign out everywhere): go to the
// login page, forget the tenant's data, then ask auth.me again, which answers UNAUTHORIZED.
import { useQueryClient } from "@tanstack/react-query";
import { navigate } from "./router";
import { useTRPC } from "./trpc";

export function useSignedOut(): () => Promise<void> {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return async () => {
    navigate("/login", { replace: true });
    const meKey = trpc.auth.me.queryKey();
    queryClient.removeQueries({ predicate: (query) => query.queryHash !== JSON.stringify(meKey) });
    await queryClient.resetQueries({ queryKey: meKey });
  };
}
