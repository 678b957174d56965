import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

/** The server extension's API namespace, under the server's base URL. */
export const NAMESPACE = 'grader-student';

/** A failed call: the server extension's one line, and its HTTP status (0: none). */
export class GraderRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly aborted = false
  ) {
    super(message);
    this.name = 'GraderRequestError';
  }
}

/**
 * POST `body` as JSON to the server extension's `endPoint`; its JSON answer.
 *
 * ServerConnection.makeRequest adds the token and the XSRF header; `signal` aborts the
 * fetch (the panel's Cancel). Errors become one GraderRequestError line: the server's
 * `{"error": ...}`, or what stopped the request.
 */
export async function requestAPI<T>(
  endPoint: string,
  body: unknown,
  serverSettings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<T> {
  const url = URLExt.join(serverSettings.baseUrl, NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method: 'POST', body: JSON.stringify(body), signal },
      serverSettings
    );
  } catch (error) {
    if (signal?.aborted) {
      throw new GraderRequestError('cancelled', 0, true);
    }
    throw new GraderRequestError(
      `cannot reach the Jupyter server (${(error as Error).message ?? error})`,
      0
    );
  }
  const raw = await response.text();
  let data: any = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const said = data?.error ?? data?.message ?? (raw.slice(0, 200) || response.statusText);
    throw new GraderRequestError(String(said), response.status);
  }
  if (data === null) {
    throw new GraderRequestError('the Jupyter server sent no JSON', response.status);
  }
  return data as T;
}
