import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

/** The server extension's API (grader.jupyter), under the server's base URL. */
export const NAMESPACE = 'grader/api';

/** One exercise of an assignment, as source_notebooks/ declares it. */
export interface IExercise {
  name: string;
  points: number;
}

/** An assignment folder of source_notebooks/ (GET assignments). */
export interface IAssignment {
  folder: string;
  name: string;
  title: string;
  release: boolean;
  solutions: boolean;
  exercises: IExercise[];
  max_score: number;
  error?: string;
}

/** A file a release job added, changed or removed. */
export interface IChange {
  path: string;
  change: 'added' | 'changed' | 'removed';
}

/** GET jobs/<id>: a job's state and progress. */
export interface IJobStatus {
  id: string;
  kind: 'grade' | 'store' | 'release';
  target: string;
  out: string | null;
  state: 'running' | 'done' | 'failed';
  done: number;
  total: number;
  warnings: string[];
  error?: string;
  summary?: any;
  result?: { changes: IChange[]; [key: string]: any };
}

/** One exercise of one submission. */
export interface IExerciseScore {
  score: number;
  max_score: number;
  status: string;
}

/** One row of the grade table: a student's submission. */
export interface IRow {
  student: string;
  submission: string;
  status: string;
  score: number;
  max_score: number;
  error: string | null;
  tampered: boolean | null;
  feedback: string;
  exercises: { [name: string]: IExerciseScore };
}

/** One bin of the histogram of totals. */
export interface IBin {
  low: number;
  high: number;
  count: number;
}

/** One exercise's share of the graded submissions that passed it. */
export interface IPassRate {
  exercise: string;
  rate: number;
  passed: number;
  mean_points: number;
  max_score: number;
}

/** GET jobs/<id>/results: one graded assignment, computed by the server. */
export interface IResults {
  job: string;
  assignments: string[];
  assignment: string;
  title: string;
  out: string;
  max_score: number;
  exercises: string[];
  rows: IRow[];
  histogram: IBin[];
  pass_rates: IPassRate[];
  stats: {
    submissions: number;
    graded: number;
    unreadable: number;
    missing: number;
    not_graded: number;
    mean: number | null;
    median: number | null;
  };
}

/** A failed call: the server's one line, and its HTTP status (0: none). */
export class DashboardError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'DashboardError';
  }
}

/** The absolute URL of an API path (for links: downloads, feedback pages). */
export function apiUrl(
  serverSettings: ServerConnection.ISettings,
  ...parts: string[]
): string {
  return URLExt.join(serverSettings.baseUrl, NAMESPACE, ...parts);
}

/**
 * Call the API: ServerConnection.makeRequest adds the token and the XSRF header.
 * Errors become one DashboardError line: the server's `{"error": ...}`, or what
 * stopped the request.
 */
export async function requestAPI<T>(
  endPoint: string,
  serverSettings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      apiUrl(serverSettings, endPoint),
      init,
      serverSettings
    );
  } catch (error) {
    throw new DashboardError(
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
    throw new DashboardError(String(said), response.status);
  }
  if (data === null) {
    throw new DashboardError('the Jupyter server sent no JSON', response.status);
  }
  return data as T;
}

/** POST `body` as JSON. */
export function postAPI<T>(
  endPoint: string,
  body: unknown,
  serverSettings: ServerConnection.ISettings
): Promise<T> {
  return requestAPI<T>(endPoint, serverSettings, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}
