// What the fake OpenAI-compatible server records of each request. Shared by the server (Node) and the
// Worker-side test helpers, so it holds types only.
export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  body: unknown;
  status: number | "hanging";
  abortedByClient: boolean;
}
