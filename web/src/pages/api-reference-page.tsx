// The API reference, rendered from the Worker's own /openapi.json: operations grouped by noun, each with
// its method and path, who may call it, its input fields and a curl line to copy; a link downloads the
// document for code generators.
import "../styles/api-reference.css";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { CopyButton } from "../components/copy-button";
import { Field } from "../components/field";
import { ErrorNotice, PageHeader, Spinner } from "../components/ui";
import {
  type ApiOperation,
  accessLabel,
  curlOf,
  fieldRows,
  type OpenApiDocument,
  operationsByTag,
} from "../lib/openapi-view";
import { useTitle } from "../lib/use-title";

async function fetchDocument(): Promise<OpenApiDocument> {
  const response = await fetch("/openapi.json");
  if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
  return (await response.json()) as OpenApiDocument;
}

function InputFields({ document, operation }: { document: OpenApiDocument; operation: ApiOperation }) {
  if (!operation.input) return <p className="muted">No input.</p>;
  const rows = fieldRows(document, operation.input);
  if (rows.length === 0) return <p className="muted">Input: any JSON.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Input of {operation.id}</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <th scope="row">
                <code>{row.name}</code>
              </th>
              <td>{row.type}</td>
              <td>{row.required ? "required" : "optional"}</td>
              <td>{row.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OperationCard({ document, operation }: { document: OpenApiDocument; operation: ApiOperation }) {
  const curl = curlOf(document, operation, window.location.origin);
  const headingId = `op-${operation.id.replaceAll(".", "-")}`;
  return (
    <article className="api-operation" aria-labelledby={headingId}>
      <h3 id={headingId}>{operation.id}</h3>
      <p className="api-line">
        <span className={`badge api-method api-method-${operation.method.toLowerCase()}`}>
          {operation.method}
        </span>{" "}
        <code>{operation.path}</code> <span className="tag">{accessLabel(operation.access)}</span>{" "}
        {operation.kind === "subscription" ? <span className="tag">Server-Sent Events</span> : null}
      </p>
      {operation.description ? <p className="muted">{operation.description.split("\n")[0]}</p> : null}
      <InputFields document={document} operation={operation} />
      <div className="json-block">
        <div className="json-block-bar">
          <span className="muted">curl</span>
          <CopyButton text={curl} label="Copy curl" />
        </div>
        <pre>{curl}</pre>
      </div>
    </article>
  );
}

export function ApiReferencePage() {
  useTitle("API reference");
  const document = useQuery({ queryKey: ["openapi.json"], queryFn: fetchDocument, staleTime: 300_000 });
  const [filter, setFilter] = useState("");
  const wanted = filter.trim().toLowerCase();
  const groups = document.data
    ? operationsByTag(document.data)
        .map(({ tag, operations }) => ({
          tag,
          operations: operations.filter((operation) => operation.id.toLowerCase().includes(wanted)),
        }))
        .filter((group) => group.operations.length > 0)
    : [];
  return (
    <>
      <PageHeader
        title="API reference"
        subtitle="Every call of the Troupe API over plain HTTP, from the OpenAPI 3.1 document this deployment serves. Queries are GET with ?input=<JSON>, mutations POST a JSON body; send an API key as “Authorization: Bearer <key>”."
        actions={
          <a className="button" href="/openapi.json" download="troupe-openapi.json">
            Download openapi.json
          </a>
        }
      />
      {document.isPending ? <Spinner label="Loading the API description…" /> : null}
      <ErrorNotice error={document.error} onRetry={() => void document.refetch()} />
      {document.data ? (
        <>
          <Field label="Filter by procedure" className="api-filter">
            <input
              type="search"
              value={filter}
              onChange={(event) => setFilter(event.target.value)}
              placeholder="e.g. execute"
            />
          </Field>
          {groups.map(({ tag, operations }) => (
            <section key={tag} className="card" aria-labelledby={`tag-${tag}`}>
              <h2 id={`tag-${tag}`}>{tag}</h2>
              {operations.map((operation) => (
                <OperationCard key={operation.path} document={document.data} operation={operation} />
              ))}
            </section>
          ))}
          {groups.length === 0 ? <p className="muted">No procedure matches “{filter}”.</p> : null}
        </>
      ) : null}
    </>
  );
}
