/** Where a coordinator's REST API is and the headers (API key) a client sends it. */
export interface Api {
  url: string
  headers: Record<string, string>
}
