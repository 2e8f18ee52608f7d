// TypeScript in Monaco for agent code: the meta API's declarations (GET /meta-api.d.ts) give completion
// and hover; top-level await and a top-level `return` are allowed, as the sandbox runs the code that way.
import Editor, { type OnMount } from "@monaco-editor/react";
import { useEffect, useRef } from "react";
import { type Monaco, monaco, typescript } from "../lib/monaco";

const MODEL_URI = "file:///agent-code.ts";
/** A statement `return` outside a function, and `await` at the top of a script: both fine in the sandbox. */
const ALLOWED_DIAGNOSTICS = [1108, 1375, 1378, 1431];

typescript.typescriptDefaults.setCompilerOptions({
  target: typescript.ScriptTarget.ESNext,
  module: typescript.ModuleKind.ESNext,
  lib: ["esnext"],
  strict: true,
  noEmit: true,
});
typescript.typescriptDefaults.setDiagnosticsOptions({ diagnosticCodesToIgnore: ALLOWED_DIAGNOSTICS });
// What the sandbox provides besides the meta API: a captured console and timers (no DOM, no network).
typescript.typescriptDefaults.addExtraLib(
  `declare const console: { log(...data: unknown[]): void; info(...data: unknown[]): void; warn(...data: unknown[]): void; error(...data: unknown[]): void };
declare function setTimeout(callback: () => void, ms?: number): number;
declare function clearTimeout(id: number): void;`,
  "file:///sandbox-globals.d.ts",
);

let declarationsLoaded: Promise<boolean> | undefined;
/** Loads the meta API declarations once. Not an API call: a static .d.ts the Worker serves. */
export function loadMetaDeclarations(): Promise<boolean> {
  declarationsLoaded ??= fetch("/meta-api.d.ts")
    .then(async (response) => {
      if (!response.ok) return false;
      typescript.typescriptDefaults.addExtraLib(await response.text(), "file:///meta-api.d.ts");
      return true;
    })
    .catch(() => false);
  return declarationsLoaded;
}

export interface CodeMark {
  line: number;
  column: number;
  message: string;
}

interface AgentCodeEditorProps {
  value: string;
  onChange: (code: string) => void;
  onRun: () => void;
  mark: CodeMark | null;
}

export function AgentCodeEditor({ value, onChange, onRun, mark }: AgentCodeEditorProps) {
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const monacoRef = useRef<Monaco | null>(null);
  const runRef = useRef(onRun);
  runRef.current = onRun;

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model || !monacoRef.current) return;
    const markers = mark
      ? [
          {
            severity: monaco.MarkerSeverity.Error,
            message: mark.message,
            source: "run",
            startLineNumber: mark.line,
            startColumn: mark.column,
            endLineNumber: mark.line,
            endColumn: model.getLineMaxColumn(Math.min(mark.line, model.getLineCount())),
          },
        ]
      : [];
    monacoRef.current.editor.setModelMarkers(model, "agent-run", markers);
  }, [mark]);

  const onMount: OnMount = (editor, instance) => {
    editorRef.current = editor;
    monacoRef.current = instance as unknown as Monaco;
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => runRef.current());
  };

  return (
    <div className="code-editor">
      <Editor
        height="100%"
        language="typescript"
        path={MODEL_URI}
        value={value}
        onChange={(code) => onChange(code ?? "")}
        onMount={onMount}
        loading="Loading the editor…"
        options={{
          ariaLabel:
            "Agent code (TypeScript). Ctrl+Enter runs it; Ctrl+M makes Tab move focus out of the editor.",
          minimap: { enabled: false },
          fontSize: 13,
          scrollBeyondLastLine: false,
          automaticLayout: true,
          tabSize: 2,
          fixedOverflowWidgets: true,
        }}
      />
    </div>
  );
}
