import { IRow } from '../api';
import { formatPoints, nextSort, renderTable, sortRows } from '../table';

function row(student: string, score: number, status = 'graded', exercises: any = {}): IRow {
  return {
    student,
    submission: `${student}.ipynb`,
    status,
    score,
    max_score: 10,
    error: status === 'unreadable' ? 'not a notebook' : null,
    tampered: false,
    feedback: student,
    exercises
  };
}

const ROWS: IRow[] = [
  row('carol', 7.5, 'graded', { first: { score: 5, max_score: 5, status: 'passed' } }),
  row('alice', 10, 'graded', { first: { score: 5, max_score: 5, status: 'passed' } }),
  row('frank', 0, 'unreadable'),
  row('bob', 2.5, 'graded', { first: { score: 0, max_score: 5, status: 'failed' } }),
  row('dave', 7.5, 'graded', { first: { score: 2.5, max_score: 5, status: 'failed' } })
];

const names = (rows: IRow[]) => rows.map(r => r.student);

describe('sortRows', () => {
  it('sorts by student, both ways', () => {
    expect(names(sortRows(ROWS, { key: 'student', ascending: true }))).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
      'frank'
    ]);
    expect(names(sortRows(ROWS, { key: 'student', ascending: false }))).toEqual([
      'frank',
      'dave',
      'carol',
      'bob',
      'alice'
    ]);
  });

  it('sorts scores as numbers, ties by student', () => {
    expect(names(sortRows(ROWS, { key: 'score', ascending: false }))).toEqual([
      'alice',
      'carol',
      'dave',
      'bob',
      'frank'
    ]);
    expect(names(sortRows(ROWS, { key: 'score', ascending: true }))).toEqual([
      'frank',
      'bob',
      'carol',
      'dave',
      'alice'
    ]);
  });

  it('puts rows without the exercise last in both directions', () => {
    const up = names(sortRows(ROWS, { key: 'exercise:first', ascending: true }));
    const down = names(sortRows(ROWS, { key: 'exercise:first', ascending: false }));
    expect(up).toEqual(['bob', 'dave', 'alice', 'carol', 'frank']);
    expect(down).toEqual(['alice', 'carol', 'dave', 'bob', 'frank']);
  });

  it('orders statuses graded first', () => {
    expect(names(sortRows(ROWS, { key: 'status', ascending: true })).pop()).toBe('frank');
  });

  it('leaves its input alone', () => {
    const before = names(ROWS);
    sortRows(ROWS, { key: 'score', ascending: true });
    expect(names(ROWS)).toEqual(before);
  });
});

describe('nextSort', () => {
  it('flips the direction of the same column, starts scores descending', () => {
    expect(nextSort({ key: 'student', ascending: true }, 'student')).toEqual({
      key: 'student',
      ascending: false
    });
    expect(nextSort({ key: 'student', ascending: true }, 'score')).toEqual({
      key: 'score',
      ascending: false
    });
    expect(nextSort({ key: 'score', ascending: false }, 'student').ascending).toBe(true);
  });
});

describe('renderTable', () => {
  it('renders sorted rows with feedback links, and sorts on a header click', () => {
    const clicked: string[] = [];
    const table = renderTable(ROWS, {
      exercises: ['first'],
      sort: { key: 'score', ascending: false },
      feedbackUrl: r => `/feedback/${encodeURIComponent(r.student)}`,
      onSort: key => clicked.push(key)
    });
    expect(table.classList.contains('grader-grade-table')).toBe(true);
    const rows = Array.from(table.querySelectorAll('tbody tr[data-student]')) as HTMLElement[];
    expect(rows.map(r => r.dataset.student)).toEqual(['alice', 'carol', 'dave', 'bob', 'frank']);
    const link = rows[0].querySelector('a.grader-feedback-link') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe('/feedback/alice');
    expect(link.target).toBe('_blank');
    expect(rows[4].querySelector('.grader-status')!.textContent).toBe('unreadable');
    const headers = Array.from(table.querySelectorAll('th')) as HTMLElement[];
    expect(headers.map(h => h.textContent)).toEqual([
      'Student',
      'Status',
      'Score',
      'Feedback',
      'first'
    ]);
    expect(headers[2].getAttribute('aria-sort')).toBe('descending');
    headers[4].click();
    headers[0].click();
    headers[3].click(); // not sortable
    expect(clicked).toEqual(['exercise:first', 'student']);
    expect(rows[1].textContent).toContain('7.5 / 10');
  });

  it('formats points as the reports do', () => {
    expect(formatPoints(95.454545)).toBe('95.45');
    expect(formatPoints(100)).toBe('100');
    expect(formatPoints(null)).toBe('');
  });
});
