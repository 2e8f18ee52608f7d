// Entry point: the query cache, the typed tRPC client and the app, mounted into #root.
import "@xyflow/react/dist/style.css";
import "./styles/base.css";
import "./styles/controls.css";
import "./styles/surfaces.css";
import "./styles/flow.css";
import "./styles/execution.css";
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { makeQueryClient, makeTrpcClient, TRPCProvider } from "./lib/trpc";

const queryClient = makeQueryClient();
const trpcClient = makeTrpcClient();
const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <App />
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);
