import { IRow } from './api';

/** What the grade table is sorted by: a column key and a direction. */
export interface ISortState {
  /** 'student' | 'status' | 'score' | 'exercise:<name>' */
  key: string;
  ascending: boolean;
}

/** The order of submission statuses in a sorted table (the better first). */
const STATUS_ORDER: { [status: string]: number } = {
  graded: 0,
  unreadable: 1,
  missing: 2,
  not_graded: 3
};

/** The value a row is sorted by for `key`; undefined sorts last either way. */
export function sortValue(row: IRow, key: string): string | number | undefined {
  if (key === 'student') {
    return row.student;
  }
  if (key === 'status') {
    return STATUS_ORDER[row.status] ?? 9;
  }
  if (key === 'score') {
    return row.score;
  }
  if (key.startsWith('exercise:')) {
    return row.exercises[key.slice('exercise:'.length)]?.score;
  }
  return undefined;
}

/**
 * The rows sorted by `state` (a new array): numbers as numbers, names by locale,
 * rows without a value (an exercise a broken notebook never reached) last in both
 * directions, and ties kept in student order.
 */
export function sortRows(rows: readonly IRow[], state: ISortState): IRow[] {
  const sign = state.ascending ? 1 : -1;
  const byStudent = (a: IRow, b: IRow) =>
    a.student < b.student ? -1 : a.student > b.student ? 1 : 0;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, state.key);
    const y = sortValue(b, state.key);
    if (x === undefined || y === undefined) {
      return x === y ? byStudent(a, b) : x === undefined ? 1 : -1;
    }
    let order: number;
    if (typeof x === 'number' && typeof y === 'number') {
      order = x - y;
    } else {
      order = String(x).localeCompare(String(y));
    }
    return order !== 0 ? sign * order : byStudent(a, b);
  });
}

/** The state after a click on the header of `key`: the same key flips the direction;
 * a new one starts ascending for names, descending for scores. */
export function nextSort(state: ISortState, key: string): ISortState {
  if (state.key === key) {
    return { key, ascending: !state.ascending };
  }
  return { key, ascending: key === 'student' || key === 'status' };
}

/** A number as the reports print it: at most 2 decimals, no trailing zeros. */
export function formatPoints(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '';
  }
  return String(Math.round(value * 100) / 100);
}

/** Options of the table: the columns, the order, and where links go. */
export interface ITableOptions {
  exercises: string[];
  sort: ISortState;
  /** The URL of a student's feedback page. */
  feedbackUrl: (row: IRow) => string;
  /** Called with the column key when a header is clicked. */
  onSort: (key: string) => void;
}

function header(
  table: HTMLTableSectionElement,
  label: string,
  key: string | null,
  options: ITableOptions,
  title?: string
): void {
  const th = document.createElement('th');
  th.textContent = label;
  if (title) {
    th.title = title;
  }
  if (key !== null) {
    th.dataset.key = key;
    th.classList.add('grader-sortable');
    th.tabIndex = 0;
    if (options.sort.key === key) {
      th.setAttribute('aria-sort', options.sort.ascending ? 'ascending' : 'descending');
    }
    th.addEventListener('click', () => options.onSort(key));
    th.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        options.onSort(key);
      }
    });
  }
  table.rows[0].appendChild(th);
}

/** `table.grader-grade-table`: one `tr[data-student]` per row, sorted, each with its
 * feedback link; clicking a header sorts by it. */
export function renderTable(rows: readonly IRow[], options: ITableOptions): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'grader-grade-table';
  const head = table.createTHead();
  head.insertRow();
  header(head, 'Student', 'student', options);
  header(head, 'Status', 'status', options);
  header(head, 'Score', 'score', options);
  header(head, 'Feedback', null, options);
  for (const name of options.exercises) {
    header(head, name, `exercise:${name}`, options, name);
  }
  const body = table.createTBody();
  for (const row of sortRows(rows, options.sort)) {
    const tr = body.insertRow();
    tr.dataset.student = row.student;
    tr.dataset.status = row.status;
    tr.insertCell().textContent = row.student;
    const status = tr.insertCell();
    status.textContent = row.status + (row.tampered ? ' (locked cells changed)' : '');
    status.className = `grader-status grader-status-${row.status}`;
    if (row.error) {
      status.title = row.error;
    }
    const score = tr.insertCell();
    score.textContent = `${formatPoints(row.score)} / ${formatPoints(row.max_score)}`;
    score.className = 'grader-score';
    const link = document.createElement('a');
    link.className = 'grader-feedback-link';
    link.href = options.feedbackUrl(row);
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = 'feedback';
    link.title = `${row.student}'s feedback page (opens in a new tab)`;
    tr.insertCell().appendChild(link);
    for (const name of options.exercises) {
      const cell = tr.insertCell();
      const exercise = row.exercises[name];
      cell.textContent = exercise ? formatPoints(exercise.score) : '';
      if (exercise) {
        cell.className = `grader-exercise grader-exercise-${exercise.status}`;
        cell.title = `${name}: ${exercise.status}`;
      }
    }
  }
  return table;
}
