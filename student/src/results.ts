/**
 * The panel's pure parts: which notebooks get the button, the rows of a result, which
 * cell an exercise is. No JupyterLab import here, so that jest tests them in jsdom.
 */

/** One check of an exercise, as the grading service (or the local run) reports it. */
export interface ICheck {
  name?: string;
  passed?: boolean;
  message?: string;
}

/** One exercise of a result. */
export interface IExercise {
  status?: string;
  score?: number;
  max_score?: number;
  message?: string;
  checks?: ICheck[];
}

/** The dict check() returns (the service's student-facing shape). */
export interface IResult {
  status?: string;
  score?: number;
  max_score?: number;
  error?: string | null;
  kind?: string;
  exercises?: { [name: string]: IExercise };
  notes?: string[];
  cell_errors?: string[];
  score_after_penalty?: number | null;
  penalty?: number | null;
}

/** A submission's receipt, as the server extension sends it. */
export interface IReceipt {
  id?: number | string;
  received_at?: string;
  late?: boolean;
  late_days?: number;
  counted?: boolean;
  score?: number;
  max_score?: number;
  score_after_penalty?: number | null;
  text?: string;
}

/** The server extension's answer to /check and /submit. */
export interface IAnswer {
  source: 'service' | 'local';
  assignment?: string;
  path?: string;
  request_id?: string;
  result: IResult;
  receipt?: IReceipt;
}

/** What the panel needs of a cell: its source and metadata (a model's or a file's). */
export interface ICellInfo {
  cell_type?: string;
  source: string | string[];
  metadata?: { [key: string]: any };
}

export const STATUSES = ['passed', 'failed', 'error', 'timeout', 'missing'];

export const SOURCE_LINES: { [source: string]: string } = {
  service: 'Checked by the grading service (hidden checks included)',
  local: 'Public tests only: no grading service is configured'
};

function text(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : String(source ?? '');
}

function nbgrader(cell: ICellInfo): { [key: string]: any } {
  const marks = cell.metadata?.nbgrader;
  return marks && typeof marks === 'object' ? marks : {};
}

/**
 * Whether a notebook is a course's: `metadata.grader.assignment`, or nbgrader marks on
 * one of its cells.
 */
export function isGraderNotebook(
  metadata: { [key: string]: any } | undefined,
  cells: ICellInfo[]
): boolean {
  const grader = metadata?.grader;
  if (grader && typeof grader === 'object' && grader.assignment) {
    return true;
  }
  return cells.some(cell => Object.keys(nbgrader(cell)).length > 0);
}

/**
 * The index of the cell to show for an exercise: its nbgrader solution cell
 * (grade_id == name), else the code cell that defines `def name(`, else its test cell
 * (grade_id `name_test`); -1 when none.
 */
export function findExerciseCell(cells: ICellInfo[], name: string): number {
  const byId = cells.findIndex(cell => nbgrader(cell).grade_id === name);
  if (byId >= 0) {
    return byId;
  }
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const defines = new RegExp(`^\\s*(async\\s+)?def\\s+${escaped}\\s*\\(`, 'm');
  const byDef = cells.findIndex(
    cell => (cell.cell_type ?? 'code') === 'code' && defines.test(text(cell.source))
  );
  if (byDef >= 0) {
    return byDef;
  }
  return cells.findIndex(cell => nbgrader(cell).grade_id === `${name}_test`);
}

/** 10 -> "10", 7.5 -> "7.5", missing -> "?". */
export function points(value: unknown): string {
  const number = Number(value);
  if (value === null || value === undefined || !isFinite(number)) {
    return '?';
  }
  return String(Math.round(number * 100) / 100);
}

/** The lines shown under an exercise that did not pass: its message, each failed check. */
export function messages(exercise: IExercise): string[] {
  const lines: string[] = [];
  if (exercise.message) {
    lines.push(exercise.message);
  }
  for (const check of exercise.checks ?? []) {
    if (!check.passed) {
      const said = check.message ? `: ${check.message}` : '';
      lines.push(`${check.name || 'check'}${said}`);
    }
  }
  return lines;
}

function element<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  className: string,
  content?: string
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  node.className = className;
  if (content !== undefined) {
    node.textContent = content;
  }
  return node;
}

/**
 * The table's rows for a result: one `tr.grader-exercise-row` per exercise (with
 * `data-exercise` and `data-status`), then, for one that did not pass, a row of its
 * messages (`.grader-exercise-message`), marked with the same `data-exercise`.
 */
export function renderRows(doc: Document, result: IResult): HTMLTableRowElement[] {
  const rows: HTMLTableRowElement[] = [];
  for (const [name, exercise] of Object.entries(result.exercises ?? {})) {
    const status = String(exercise.status ?? 'error');
    const row = element(doc, 'tr', `grader-exercise-row grader-status-${status}`);
    row.dataset.exercise = name;
    row.dataset.status = status;
    row.title = `Show ${name} in the notebook`;
    row.append(
      element(doc, 'td', 'grader-exercise-name', name),
      element(doc, 'td', 'grader-exercise-status', status),
      element(
        doc,
        'td',
        'grader-exercise-points',
        `${points(exercise.score)}/${points(exercise.max_score)}`
      )
    );
    rows.push(row);
    const lines = status === 'passed' ? [] : messages(exercise);
    if (lines.length) {
      const details = element(doc, 'tr', 'grader-exercise-details');
      details.dataset.exercise = name;
      const cell = element(doc, 'td', 'grader-exercise-messages');
      cell.colSpan = 3;
      for (const line of lines) {
        cell.append(element(doc, 'pre', 'grader-exercise-message', line));
      }
      details.append(cell);
      rows.push(details);
    }
  }
  return rows;
}

/** "7/10 points, 1 of 2 exercises passed". */
export function summary(result: IResult): string {
  const exercises = Object.values(result.exercises ?? {});
  const passed = exercises.filter(e => e.status === 'passed').length;
  return (
    `${points(result.score)}/${points(result.max_score)} points, ` +
    `${passed} of ${exercises.length} exercises passed`
  );
}

/** The receipt's lines: the service's (id, time, late or not), then the score. */
export function receiptLines(receipt: IReceipt, result: IResult): string[] {
  const lines = (receipt.text || `Submitted: receipt ${receipt.id ?? '?'}`).split('\n');
  const max = receipt.max_score ?? result.max_score;
  const after = receipt.score_after_penalty ?? result.score_after_penalty;
  let score = `Score: ${points(receipt.score ?? result.score)}/${points(max)}`;
  if (after !== null && after !== undefined && (result.penalty ?? 0) > 0) {
    score += ` (${points(after)}/${points(max)} after the late penalty)`;
  }
  lines.push(score);
  return lines;
}

/** A fresh id for a run, so that Cancel can name it. */
export function requestId(): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `run-${Date.now().toString(36)}-${random}`;
}
