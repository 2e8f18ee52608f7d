// Builds the dashboard (React) into web/dist, which the Worker serves as static assets. `vite dev` on
// its own proxies the API to a running `npm start` on port 8787.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = "http://127.0.0.1:8787";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // Monaco's language services run in module workers (`new Worker(new URL(...), { type: "module" })`).
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Monaco is one large chunk, loaded only by the editor pages.
    chunkSizeWarningLimit: 8000,
  },
  server: {
    proxy: { "/trpc": api, "/schema": api, "/health": api, "/meta-api.d.ts": api },
  },
});
