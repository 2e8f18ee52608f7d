// A paged API list ({ items, nextCursor }) shown as one growing list with "Show more". The pages live under
// the procedure's own key, so invalidating the procedure (its pathKey) refreshes every page loaded.
import { keepPreviousData, type QueryKey, useInfiniteQuery } from "@tanstack/react-query";
import { DEFAULT_LIMITS } from "../../../worker/limits";
import type { Page } from "../../../worker/schemas/page";

/** What pickers ask for: one page as large as the platform gives (its maxPageSize). */
export const LARGEST_PAGE = { limit: DEFAULT_LIMITS.maxPageSize };

export function usePagedList<Item>(
  queryKey: QueryKey,
  fetchPage: (cursor: string | undefined) => Promise<Page<Item>>,
) {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => fetchPage(pageParam ?? undefined),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
    placeholderData: keepPreviousData,
  });
  const items = query.data?.pages.flatMap((page) => page.items);
  return { ...query, items };
}
