// Sets the browser tab's title for the page being shown.
import { useEffect } from "react";

export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Troupe`;
  }, [title]);
}
