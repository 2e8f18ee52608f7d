// The "Show more" button under a paged list: shown while the API says another page follows.
export function ShowMore({
  list,
  what,
}: {
  list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> };
  what: string;
}) {
  if (!list.hasNextPage) return null;
  return (
    <p className="actions">
      <button
        type="button"
        className="button"
        onClick={() => void list.fetchNextPage()}
        disabled={list.isFetchingNextPage}
      >
        {list.isFetchingNextPage ? "Loading more…" : `Show more ${what}`}
      </button>
    </p>
  );
}
