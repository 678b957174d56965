/**
 * The panel's pure parts and its DOM, in jsdom: which notebooks get the button, the
 * rows of a result (the end-to-end test's contract), the cell an exercise is, the
 * receipt, and the panel's progress, Cancel, source line and row clicks.
 */

import { ExercisesPanel, IPanelActions, PANEL_ID } from '../panel';
import {
  findExerciseCell,
  IAnswer,
  ICellInfo,
  IResult,
  isGraderNotebook,
  messages,
  points,
  receiptLines,
  renderRows,
  requestId
} from '../results';

const solution = (name: string, source: string): ICellInfo => ({
  cell_type: 'code',
  source,
  metadata: { nbgrader: { grade_id: name, solution: true } }
});
const test = (name: string): ICellInfo => ({
  cell_type: 'code',
  source: `assert ${name}() == 1\n`,
  metadata: { nbgrader: { grade_id: `${name}_test`, grade: true, points: 2 } }
});
const plain = (source: string | string[], cellType = 'code'): ICellInfo => ({
  cell_type: cellType,
  source,
  metadata: {}
});

const RESULT: IResult = {
  status: 'graded',
  score: 10,
  max_score: 20,
  error: null,
  kind: 'check',
  exercises: {
    linear_forward: {
      status: 'passed',
      score: 10,
      max_score: 10,
      message: '',
      checks: [{ name: 'case 1', passed: true, message: '' }]
    },
    compute_cost: {
      status: 'failed',
      score: 0,
      max_score: 10,
      message: '',
      checks: [
        { name: 'case 1', passed: true, message: '' },
        { name: 'hidden case 2', passed: false, message: 'Wrong value for `cost`' }
      ]
    }
  }
};

describe('isGraderNotebook', () => {
  it('knows a release by its metadata or its nbgrader cells', () => {
    expect(isGraderNotebook({ grader: { assignment: 'week1' } }, [])).toBe(true);
    expect(isGraderNotebook({}, [plain('x = 1'), test('f')])).toBe(true);
    expect(isGraderNotebook({}, [plain('x = 1')])).toBe(false);
    expect(isGraderNotebook(undefined, [])).toBe(false);
    expect(isGraderNotebook({ grader: {} }, [{ source: '', metadata: { nbgrader: {} } }])).toBe(
      false
    );
  });
});

describe('findExerciseCell', () => {
  const cells = [
    plain('# Week 1', 'markdown'),
    plain('import numpy as np\n'),
    solution('linear_forward', 'def linear_forward(A, W, b):\n    return W @ A + b\n'),
    test('linear_forward'),
    plain(['def helper():\n', '    pass\n', 'def compute_cost(AL, Y):\n', '    return 0\n']),
    plain('def compute_cost(AL, Y): see above', 'markdown'),
    test('only_tested')
  ];

  it('finds the solution cell by grade_id first', () => {
    expect(findExerciseCell(cells, 'linear_forward')).toBe(2);
  });

  it('then the code cell that defines the function', () => {
    expect(findExerciseCell(cells, 'compute_cost')).toBe(4);
  });

  it('then the test cell, else -1', () => {
    expect(findExerciseCell(cells, 'only_tested')).toBe(6);
    expect(findExerciseCell(cells, 'absent')).toBe(-1);
    expect(findExerciseCell(cells, 'linear')).toBe(-1); // not a prefix match
    expect(findExerciseCell(cells, 'a.b(')).toBe(-1); // names are not patterns
  });
});

describe('renderRows', () => {
  it('gives one row per exercise with data-exercise and data-status', () => {
    const rows = renderRows(document, RESULT);
    const exercises = rows.filter(row => row.classList.contains('grader-exercise-row'));
    expect(exercises.map(row => [row.dataset.exercise, row.dataset.status])).toEqual([
      ['linear_forward', 'passed'],
      ['compute_cost', 'failed']
    ]);
    expect(exercises[0].querySelector('.grader-exercise-points')?.textContent).toBe('10/10');
    expect(exercises[1].querySelector('.grader-exercise-points')?.textContent).toBe('0/10');
  });

  it("puts a failed check's message right after its row", () => {
    const rows = renderRows(document, RESULT);
    expect(rows).toHaveLength(3);
    const details = rows[2];
    expect(details.dataset.exercise).toBe('compute_cost');
    const shown = Array.from(details.querySelectorAll('.grader-exercise-message')).map(
      node => node.textContent
    );
    expect(shown).toEqual(['hidden case 2: Wrong value for `cost`']);
  });

  it("shows a local run's error, a timeout, and escapes what it shows", () => {
    const rows = renderRows(document, {
      exercises: {
        f: { status: 'timeout', message: 'did not finish within 4 s', checks: [] },
        g: { status: 'error', message: '<img src=x onerror=alert(1)>' },
        h: {}
      }
    });
    expect(rows.map(row => row.dataset.status ?? 'details')).toEqual([
      'timeout',
      'details',
      'error',
      'details',
      'error'
    ]);
    expect(rows[3].querySelector('img')).toBeNull();
    expect(rows[3].textContent).toContain('<img src=x onerror=alert(1)>');
    expect(rows[4].dataset.exercise).toBe('h');
  });

  it('lists every failed check, with a name when there is none', () => {
    expect(
      messages({
        message: 'cell 3 raised NameError',
        checks: [{ passed: false }, { name: 'case 2', passed: false, message: 'off by one' }]
      })
    ).toEqual(['cell 3 raised NameError', 'check', 'case 2: off by one']);
  });
});

describe('points and receipts', () => {
  it('prints points as the table does', () => {
    expect([points(10), points(7.5), points(null), points('x')]).toEqual(['10', '7.5', '?', '?']);
  });

  it("keeps the service's receipt lines and adds the score", () => {
    const lines = receiptLines(
      { id: 42, text: 'Submitted: receipt 42, received 2030-01-02 03:04:05 UTC, on time' },
      { ...RESULT, score: 90, max_score: 100 }
    );
    expect(lines).toEqual([
      'Submitted: receipt 42, received 2030-01-02 03:04:05 UTC, on time',
      'Score: 90/100'
    ]);
    const late = receiptLines(
      { id: 7, score: 10, max_score: 20, score_after_penalty: 8 },
      { penalty: 0.2 }
    );
    expect(late).toEqual([
      'Submitted: receipt 7',
      'Score: 10/20 (8/20 after the late penalty)'
    ]);
  });

  it('makes distinct request ids', () => {
    expect(requestId()).not.toEqual(requestId());
  });
});

describe('ExercisesPanel', () => {
  const actions = (): IPanelActions & { [name: string]: jest.Mock } => ({
    check: jest.fn(),
    submit: jest.fn(),
    cancel: jest.fn(),
    show: jest.fn()
  });

  it('shows progress and Cancel while running, then the rows and the source', () => {
    const calls = actions();
    const panel = new ExercisesPanel(calls);
    expect(panel.id).toBe(PANEL_ID);
    expect(panel.title.label).toBe('Exercises');
    panel.start('Checking');
    expect(panel.node.querySelector('.grader-progress')).not.toBeNull();
    (panel.node.querySelector('.grader-cancel-button') as HTMLButtonElement).click();
    expect(calls.cancel).toHaveBeenCalled();
    expect((panel.node.querySelector('.grader-submit-button') as HTMLButtonElement).disabled).toBe(
      true
    );

    const answer: IAnswer = { source: 'service', result: RESULT };
    panel.showAnswer(answer);
    expect(panel.node.querySelector('.grader-progress')).toBeNull();
    const source = panel.node.querySelector('.grader-source') as HTMLElement;
    expect(source.dataset.source).toBe('service');
    expect(source.textContent).toBe('Checked by the grading service (hidden checks included)');
    expect(panel.rows().map(row => row.dataset.status)).toEqual(['passed', 'failed']);
    expect(panel.node.querySelector('.grader-total')?.textContent).toBe(
      'Total: 10/20 points, 1 of 2 exercises passed'
    );
    panel.dispose();
  });

  it('asks to show the exercise of a clicked row or message', () => {
    const calls = actions();
    const panel = new ExercisesPanel(calls);
    panel.showAnswer({ source: 'local', result: RESULT });
    const source = panel.node.querySelector('.grader-source') as HTMLElement;
    expect(source.dataset.source).toBe('local');
    expect(source.textContent).toBe('Public tests only: no grading service is configured');
    (panel.node.querySelector('.grader-exercise-message') as HTMLElement).click();
    expect(calls.show).toHaveBeenLastCalledWith('compute_cost');
    (panel.rows()[0].querySelector('td') as HTMLElement).click();
    expect(calls.show).toHaveBeenLastCalledWith('linear_forward');
    expect(panel.rows()[0].classList.contains('grader-selected')).toBe(true);
    panel.dispose();
  });

  it('shows a receipt after a submission, and one line for an error', () => {
    const calls = actions();
    const panel = new ExercisesPanel(calls);
    (panel.node.querySelector('.grader-submit-button') as HTMLButtonElement).click();
    expect(calls.submit).toHaveBeenCalled();
    panel.start('Submitting');
    panel.showAnswer({
      source: 'service',
      result: { ...RESULT, score: 90, max_score: 100 },
      receipt: { id: 5, text: 'Submitted: receipt 5, received 2030-01-02 03:04:05 UTC, on time' }
    });
    const receipt = panel.node.querySelector('.grader-receipt') as HTMLElement;
    expect(receipt.hidden).toBe(false);
    expect(receipt.textContent).toContain('Submitted: receipt 5');
    expect(receipt.textContent).toContain('Score: 90/100');
    panel.showError('Could not submit the notebook: the grading service is busy');
    const error = panel.node.querySelector('.grader-error') as HTMLElement;
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe('Could not submit the notebook: the grading service is busy');
    panel.dispose();
  });
});
