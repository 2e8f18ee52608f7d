// The current time, re-read every `intervalMs` while `active`: running durations and timeline bars grow
// on screen between pushed updates. This only re-renders; it never asks the server anything.
import { useEffect, useState } from "react";

export function useNow(active: boolean, intervalMs = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
