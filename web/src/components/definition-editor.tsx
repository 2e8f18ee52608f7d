// The orchestration definition as JSON in Monaco: completion and hover from the API's own JSON Schema,
// and every issue (local schema check or the server's answer) underlined at the field it names.
import Editor, { type OnMount } from "@monaco-editor/react";
import { useEffect, useRef } from "react";
import { z } from "zod";
import { orchestrationInputSchema } from "../../../worker/schemas/orchestration";
import type { FieldIssue } from "../lib/errors";
import { jsonLocations, rangeOf } from "../lib/json-locations";
import { json, type Monaco, monaco } from "../lib/monaco";

const MODEL_URI = "inmemory://troupe/orchestration.json";
const SCHEMA_URI = "https://troupe.local/schema/orchestration.json";

// Completion and hover from the schema the server exports at /schema/orchestration.json. Its own
// validation is off: the issues shown come from the zod schema itself, exactly as the API reports them.
json.jsonDefaults.setDiagnosticsOptions({
  validate: true,
  allowComments: false,
  schemaValidation: "ignore",
  schemas: [
    {
      uri: SCHEMA_URI,
      fileMatch: [MODEL_URI],
      schema: z.toJSONSchema(orchestrationInputSchema, { io: "input", unrepresentable: "any" }) as never,
    },
  ],
});

export interface EditorIssue extends FieldIssue {
  severity: "error" | "warning";
  source: "schema" | "server" | "syntax";
  offset?: number;
}

export interface EditorHandle {
  reveal: (issue: EditorIssue) => void;
}

interface DefinitionEditorProps {
  value: string;
  onChange: (text: string) => void;
  issues: readonly EditorIssue[];
  handleRef: { current: EditorHandle | null };
}

function markersFor(model: monaco.editor.ITextModel, text: string, issues: readonly EditorIssue[]) {
  const ranges = jsonLocations(text);
  return issues.map((issue) => {
    const range =
      issue.offset !== undefined
        ? { start: issue.offset, end: issue.offset + 1 }
        : rangeOf(ranges, issue.path);
    const start = model.getPositionAt(range?.start ?? 0);
    const end = model.getPositionAt(range?.end ?? 1);
    return {
      severity: issue.severity === "error" ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
      message: issue.path ? `${issue.path}: ${issue.message}` : issue.message,
      source: issue.source === "server" ? "Troupe server" : "Troupe",
      startLineNumber: start.lineNumber,
      startColumn: start.column,
      endLineNumber: end.lineNumber,
      endColumn: end.column,
    };
  });
}

export function DefinitionEditor({ value, onChange, issues, handleRef }: DefinitionEditorProps) {
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const monacoRef = useRef<Monaco | null>(null);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model || !monacoRef.current) return;
    monacoRef.current.editor.setModelMarkers(model, "troupe", markersFor(model, model.getValue(), issues));
  }, [issues]);

  const onMount: OnMount = (editor, instance) => {
    editorRef.current = editor;
    monacoRef.current = instance as unknown as Monaco;
    handleRef.current = {
      reveal: (issue) => {
        const model = editor.getModel();
        if (!model) return;
        const range =
          issue.offset !== undefined
            ? { start: issue.offset }
            : rangeOf(jsonLocations(model.getValue()), issue.path);
        const position = model.getPositionAt(range?.start ?? 0);
        editor.setPosition(position);
        editor.revealPositionInCenter(position);
        editor.focus();
      },
    };
    const model = editor.getModel();
    if (model) instance.editor.setModelMarkers(model, "troupe", markersFor(model, model.getValue(), issues));
  };

  return (
    <div className="code-editor">
      <Editor
        height="100%"
        language="json"
        path={MODEL_URI}
        value={value}
        onChange={(text) => onChange(text ?? "")}
        onMount={onMount}
        loading="Loading the editor…"
        options={{
          ariaLabel:
            "Orchestration definition (JSON). Press Ctrl+M to make Tab move focus out of the editor.",
          minimap: { enabled: false },
          fontSize: 13,
          scrollBeyondLastLine: false,
          automaticLayout: true,
          tabSize: 2,
          wordWrap: "on",
          fixedOverflowWidgets: true,
        }}
      />
    </div>
  );
}
