// Monaco from the local monaco-editor package (never a CDN: the dashboard must work offline), with the
// editor features, JSON (definitions) and TypeScript (agent code). Imported only by lazy-loaded pages.
import { loader } from "@monaco-editor/react";
import * as monaco from "monaco-editor/editor";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import JsonWorker from "monaco-editor/languages/features/json/json.worker?worker";
import TsWorker from "monaco-editor/languages/features/typescript/ts.worker?worker";
import "monaco-editor/features/register.all";
import * as json from "monaco-editor/languages/features/json/register";
import "monaco-editor/languages/definitions/typescript/register";
import * as typescript from "monaco-editor/languages/features/typescript/register";

// Monaco refers to its core worker in a form Vite does not bundle as a worker, and once getWorker exists
// it is asked for every worker: so each one is handed over here, bundled by Vite's `?worker` imports.
self.MonacoEnvironment = {
  getWorker: (_workerId: string, label: string) => {
    if (label === "json") return new JsonWorker();
    if (label === "typescript" || label === "javascript") return new TsWorker();
    return new EditorWorker();
  },
};

loader.config({ monaco });

export type Monaco = typeof monaco;
export { json, monaco, typescript };
