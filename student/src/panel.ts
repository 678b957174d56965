import { Widget } from '@lumino/widgets';

import {
  IAnswer,
  IResult,
  receiptLines,
  renderRows,
  SOURCE_LINES,
  summary
} from './results';

export const PANEL_ID = 'grader-exercises-panel';

/** What the panel asks of the plugin (which talks to the notebook and the server). */
export interface IPanelActions {
  check(): void;
  submit(): void;
  cancel(): void;
  show(exercise: string): void;
}

function div(className: string, content?: string): HTMLDivElement {
  const node = document.createElement('div');
  node.className = className;
  if (content !== undefined) {
    node.textContent = content;
  }
  return node;
}

function button(className: string, label: string, onClick: () => void): HTMLButtonElement {
  const node = document.createElement('button');
  node.className = `jp-Button jp-mod-styled ${className}`;
  node.type = 'button';
  node.textContent = label;
  node.addEventListener('click', onClick);
  return node;
}

/**
 * The "Exercises" panel: progress and Cancel while a run is on, then one row per
 * exercise (a click shows its cell), which back end answered, Submit and the receipt.
 * Plain DOM in a Lumino widget; every wait is the plugin's, so nothing here blocks.
 */
export class ExercisesPanel extends Widget {
  constructor(private readonly actions: IPanelActions) {
    super();
    this.id = PANEL_ID;
    this.title.label = 'Exercises';
    this.title.caption = 'Check exercises: the result of the last check';
    this.title.closable = true;
    this.addClass('grader-exercises-panel');

    this._heading = div('grader-notebook-name');
    this._progress = div('grader-progress');
    this._progress.setAttribute('role', 'status');
    this._progressText = div('grader-progress-text');
    this._cancel = button('jp-mod-warn grader-cancel-button', 'Cancel', () =>
      this.actions.cancel()
    );
    const bar = document.createElement('progress'); // indeterminate: no value
    bar.className = 'grader-progress-bar';
    this._progress.append(this._progressText, bar, this._cancel);
    this._error = div('grader-error');
    this._error.setAttribute('role', 'alert');
    this._source = div('grader-source');
    this._table = document.createElement('table');
    this._table.className = 'grader-exercise-table';
    const head = this._table.createTHead().insertRow();
    for (const label of ['exercise', 'status', 'points']) {
      const th = document.createElement('th');
      th.textContent = label;
      head.append(th);
    }
    this._body = this._table.createTBody();
    this._body.addEventListener('click', event => this._clicked(event));
    this._total = div('grader-total');
    this._notes = div('grader-notes');
    this._checkButton = button('grader-recheck-button', 'Check again', () =>
      this.actions.check()
    );
    this._submitButton = button('jp-mod-accept grader-submit-button', 'Submit', () =>
      this.actions.submit()
    );
    this._submitButton.title = 'Save the notebook and send it as your submission';
    const buttons = div('grader-actions');
    buttons.append(this._checkButton, this._submitButton);
    this._receipt = div('grader-receipt');
    this.node.append(
      this._heading,
      this._error,
      this._source,
      this._table,
      this._total,
      this._notes,
      buttons,
      this._receipt
    );
    this._clear();
    this.busy(null);
  }

  /** The notebook the panel is about (its name in the heading). */
  setNotebook(name: string): void {
    this._heading.textContent = name;
  }

  /**
   * Show the progress line and Cancel (`what`: "Checking", "Submitting") with the
   * seconds elapsed, or hide them (`null`).
   */
  busy(what: string | null): void {
    window.clearInterval(this._timer);
    const running = what !== null;
    if (running) {
      this._heading.after(this._progress); // in the page only while a run is on
    } else {
      this._progress.remove();
    }
    this._checkButton.disabled = running;
    this._submitButton.disabled = running;
    this._cancel.disabled = !running;
    if (!running) {
      return;
    }
    const started = Date.now();
    const tick = () => {
      const seconds = Math.round((Date.now() - started) / 1000);
      this._progressText.textContent = `${what} the saved notebook… ${seconds} s`;
    };
    tick();
    this._timer = window.setInterval(tick, 1000);
  }

  /** Forget the last answer (a new run starts). */
  start(what: string): void {
    if (what === 'Checking') {
      this._clear();
    } else {
      this._error.textContent = '';
      this._error.hidden = true;
      this._receipt.replaceChildren();
      this._receipt.hidden = true;
    }
    this.busy(what);
  }

  /** A run's answer: the rows, which back end answered, the total, notes, a receipt. */
  showAnswer(answer: IAnswer): void {
    this.busy(null);
    const result: IResult = answer.result ?? {};
    this._source.dataset.source = answer.source;
    this._source.textContent = SOURCE_LINES[answer.source] ?? answer.source;
    this._source.hidden = false;
    this._body.replaceChildren(...renderRows(document, result));
    this._table.hidden = false;
    this._total.textContent = `Total: ${summary(result)}`;
    this._total.hidden = false;
    const notes = [...(result.notes ?? []), ...(result.cell_errors ?? [])];
    this._notes.replaceChildren(...notes.map(note => div('grader-note', note)));
    this._notes.hidden = notes.length === 0;
    if (result.error) {
      this.showError(`The notebook could not be graded in full: ${result.error}`);
    }
    if (answer.receipt) {
      const lines = receiptLines(answer.receipt, result);
      this._receipt.replaceChildren(...lines.map(line => div('grader-receipt-line', line)));
      this._receipt.dataset.receipt = String(answer.receipt.id ?? '');
      this._receipt.hidden = false;
    }
  }

  /** One line saying what went wrong (or that the run was cancelled). */
  showError(line: string): void {
    this.busy(null);
    this._error.textContent = line;
    this._error.hidden = false;
  }

  /** The rows shown, by exercise: for tests and the plugin. */
  rows(): HTMLTableRowElement[] {
    return Array.from(this._body.querySelectorAll('tr.grader-exercise-row'));
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this._timer);
  }

  private _clear(): void {
    this._error.hidden = true;
    this._error.textContent = '';
    this._source.hidden = true;
    this._body.replaceChildren();
    this._table.hidden = true;
    this._total.hidden = true;
    this._notes.hidden = true;
    this._receipt.hidden = true;
    this._receipt.replaceChildren();
  }

  private _clicked(event: MouseEvent): void {
    const row = (event.target as HTMLElement).closest('tr');
    const name = row?.dataset.exercise;
    if (!name) {
      return;
    }
    for (const other of this.rows()) {
      other.classList.toggle('grader-selected', other.dataset.exercise === name);
    }
    this.actions.show(name);
  }

  private _heading: HTMLDivElement;
  private _progress: HTMLDivElement;
  private _progressText: HTMLDivElement;
  private _cancel: HTMLButtonElement;
  private _error: HTMLDivElement;
  private _source: HTMLDivElement;
  private _table: HTMLTableElement;
  private _body: HTMLTableSectionElement;
  private _total: HTMLDivElement;
  private _notes: HTMLDivElement;
  private _checkButton: HTMLButtonElement;
  private _submitButton: HTMLButtonElement;
  private _receipt: HTMLDivElement;
  private _timer = 0;
}
