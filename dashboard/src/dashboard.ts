import { ServerConnection } from '@jupyterlab/services';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  apiUrl,
  DashboardError,
  IAssignment,
  IChange,
  IJobStatus,
  IResults,
  postAPI,
  requestAPI
} from './api';
import { histogramSvg, passRateSvg } from './charts';
import { formatPoints, ISortState, nextSort, renderTable } from './table';

/** How often a running job is asked for its progress (ms). */
export const POLL_MS = 500;
const DOWNLOADS: [string, string][] = [
  ['csv', 'grades.csv'],
  ['json', 'grades.json'],
  ['junit', 'junit.xml']
];

function el<K extends keyof HTMLElementTagNameMap>(
  name: K,
  className = '',
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(name);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** What a release job changed, as one line and a list of files. */
export function describeChanges(result: HTMLElement, changes: readonly IChange[]): void {
  result.replaceChildren();
  result.dataset.changed = String(changes.length);
  if (!changes.length) {
    result.textContent = 'Nothing changed: the release and solutions match the source.';
    return;
  }
  const files = changes.length === 1 ? '1 file' : `${changes.length} files`;
  result.appendChild(el('div', '', `Regenerated: ${files} changed.`));
  const list = el('ul', 'grader-change-list');
  for (const change of changes) {
    const item = el('li', `grader-change grader-change-${change.change}`);
    item.dataset.change = change.change;
    item.dataset.path = change.path;
    item.textContent = `${change.change}: ${change.path}`;
    list.appendChild(item);
  }
  result.appendChild(list);
}

/**
 * The Grader dashboard: the course's assignments (with "Regenerate release"), grading
 * a folder or reading the grading service's store (a job on the server, polled for its
 * progress), and the results: the sortable grade table with feedback links, the
 * histogram of totals, the pass rate per exercise and the downloads.
 */
export class Dashboard extends Widget {
  constructor(private readonly serverSettings: ServerConnection.ISettings) {
    super();
    this.addClass('grader-dashboard');
    const root = this.node;

    const courseSection = el('section', 'grader-section grader-course');
    const heading = el('div', 'grader-section-heading');
    heading.appendChild(el('h2', '', 'Assignments'));
    const refresh = el('button', 'jp-mod-styled grader-refresh-button', 'Refresh');
    refresh.addEventListener('click', () => void this.loadAssignments());
    heading.appendChild(refresh);
    courseSection.appendChild(heading);
    this.assignmentList = el('ul', 'grader-assignment-list');
    courseSection.appendChild(this.assignmentList);
    root.appendChild(courseSection);

    const gradeSection = el('section', 'grader-section grader-grade');
    gradeSection.appendChild(el('h2', '', 'Grade'));
    const folderRow = el('div', 'grader-form-row');
    const folderLabel = el('label', '', 'Folder of submissions (relative to the server root) ');
    this.folderInput = el('input', 'jp-mod-styled grader-folder-input');
    this.folderInput.type = 'text';
    this.folderInput.placeholder = 'submissions';
    folderLabel.appendChild(this.folderInput);
    folderRow.appendChild(folderLabel);
    this.gradeButton = el('button', 'jp-mod-styled jp-mod-accept grader-grade-button', 'Grade');
    this.gradeButton.addEventListener('click', () => this.gradeFolder());
    this.folderInput.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this.gradeFolder();
      }
    });
    folderRow.appendChild(this.gradeButton);
    gradeSection.appendChild(folderRow);

    const dbRow = el('div', 'grader-form-row');
    const dbLabel = el('label', '', "or the grading service's database ");
    this.dbInput = el('input', 'jp-mod-styled grader-db-input');
    this.dbInput.type = 'text';
    this.dbInput.placeholder = 'grader.sqlite';
    dbLabel.appendChild(this.dbInput);
    dbRow.appendChild(dbLabel);
    this.dbButton = el('button', 'jp-mod-styled grader-db-button', 'Read the store');
    this.dbButton.addEventListener('click', () => this.readStore());
    dbRow.appendChild(this.dbButton);
    gradeSection.appendChild(dbRow);

    this.progress = el('div', 'grader-progress');
    this.progress.hidden = true;
    this.progressBar = el('div', 'grader-progress-bar');
    this.progressBar.setAttribute('role', 'progressbar');
    this.progressBar.setAttribute('aria-valuemin', '0');
    this.progressFill = el('div', 'grader-progress-fill');
    this.progressBar.appendChild(this.progressFill);
    this.progress.appendChild(this.progressBar);
    this.progressText = el('div', 'grader-progress-text');
    this.progress.appendChild(this.progressText);
    gradeSection.appendChild(this.progress);
    this.message = el('div', 'grader-message');
    gradeSection.appendChild(this.message);
    root.appendChild(gradeSection);

    this.resultsSection = el('section', 'grader-section grader-results');
    this.resultsSection.hidden = true;
    root.appendChild(this.resultsSection);
  }

  readonly assignmentList: HTMLUListElement;
  readonly folderInput: HTMLInputElement;
  readonly dbInput: HTMLInputElement;
  readonly gradeButton: HTMLButtonElement;
  readonly dbButton: HTMLButtonElement;

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this.started) {
      this.started = true;
      void this.loadAssignments();
      void this.resume();
    }
  }

  dispose(): void {
    this.disposedFlag = true;
    super.dispose();
  }

  /** GET assignments: one `li.grader-assignment[data-assignment]` each. */
  async loadAssignments(): Promise<void> {
    let assignments: IAssignment[];
    try {
      assignments = (await requestAPI<{ assignments: IAssignment[] }>('assignments', this.serverSettings))
        .assignments;
    } catch (error) {
      this.assignmentList.replaceChildren(
        el('li', 'grader-error', `Cannot list the assignments: ${(error as Error).message}`)
      );
      return;
    }
    this.assignmentList.replaceChildren();
    if (!assignments.length) {
      this.assignmentList.appendChild(
        el('li', 'grader-empty', 'No source_notebooks/ folder with an assignment under the server root.')
      );
    }
    for (const assignment of assignments) {
      this.assignmentList.appendChild(this.assignmentItem(assignment));
    }
  }

  private assignmentItem(assignment: IAssignment): HTMLLIElement {
    const item = el('li', 'grader-assignment');
    item.dataset.assignment = assignment.folder;
    const title = el('div', 'grader-assignment-title', assignment.title);
    item.appendChild(title);
    const points = formatPoints(assignment.max_score);
    const count = assignment.exercises.length;
    const details = assignment.error
      ? assignment.error
      : `${assignment.name}: ${count} exercise${count === 1 ? '' : 's'}, ${points} points · ` +
        `release ${assignment.release ? 'yes' : 'missing'} · solutions ${assignment.solutions ? 'yes' : 'missing'}`;
    item.appendChild(el('div', assignment.error ? 'grader-error' : 'grader-assignment-details', details));
    const button = el('button', 'jp-mod-styled grader-release-button', 'Regenerate release');
    button.title = 'Generate release/ and solutions/ again from source_notebooks/ (grader release)';
    const result = this.releaseResults.get(assignment.folder) ?? el('div', 'grader-release-result');
    this.releaseResults.set(assignment.folder, result);
    button.addEventListener('click', () => void this.release(assignment.folder, button, result));
    item.appendChild(button);
    item.appendChild(result);
    return item;
  }

  /** POST release, then poll: the files added, changed or removed. */
  async release(folder: string, button: HTMLButtonElement, result: HTMLElement): Promise<void> {
    button.disabled = true;
    result.replaceChildren();
    result.classList.remove('grader-error');
    result.textContent = 'Regenerating the release and solutions…';
    try {
      const started = await postAPI<IJobStatus>('release', { assignment: folder }, this.serverSettings);
      const status = await this.poll(started);
      if (status.state === 'done' && status.result) {
        describeChanges(result, status.result.changes);
      } else {
        result.classList.add('grader-error');
        result.textContent = `Release failed: ${status.error ?? 'unknown error'}`;
      }
    } catch (error) {
      result.classList.add('grader-error');
      result.textContent = `Release failed: ${(error as Error).message}`;
    } finally {
      button.disabled = false;
    }
  }

  gradeFolder(): void {
    const folder = this.folderInput.value.trim();
    if (!folder) {
      this.showMessage('Name a folder of submissions, relative to the server root.', true);
      return;
    }
    void this.runGrading({ folder });
  }

  readStore(): void {
    const db = this.dbInput.value.trim();
    if (!db) {
      this.showMessage("Name the grading service's database, relative to the server root.", true);
      return;
    }
    void this.runGrading({ db });
  }

  /** POST grade, poll with a live progress bar, then show the results. */
  async runGrading(body: { folder?: string; db?: string }): Promise<void> {
    this.setBusy(true);
    this.showMessage('');
    try {
      const started = await postAPI<IJobStatus>('grade', body, this.serverSettings);
      await this.follow(started);
    } catch (error) {
      this.showMessage((error as Error).message, true);
    } finally {
      this.setBusy(false);
    }
  }

  /** A grading job from start to results (also one found running on reopening). */
  private async follow(started: IJobStatus): Promise<void> {
    this.showProgress(started);
    const status = await this.poll(started, job => this.showProgress(job));
    if (status.state !== 'done') {
      this.showMessage(`Grading failed: ${status.error ?? 'unknown error'}`, true);
      return;
    }
    if (status.warnings.length) {
      this.showMessage(status.warnings.join('\n'));
    }
    await this.loadResults(status.id);
  }

  /** The newest grading job of this server: followed if running, shown if done. */
  private async resume(): Promise<void> {
    try {
      const { jobs } = await requestAPI<{ jobs: IJobStatus[] }>('jobs', this.serverSettings);
      const latest = jobs.find(job => job.kind !== 'release' && job.state !== 'failed');
      if (!latest || this.busy || this.results) {
        return;
      }
      this.setBusy(true);
      try {
        await this.follow(latest);
      } finally {
        this.setBusy(false);
      }
    } catch {
      // nothing to resume: the dashboard starts empty
    }
  }

  /** Ask for the job's state every POLL_MS until it is no longer running. */
  async poll(job: IJobStatus, update?: (job: IJobStatus) => void): Promise<IJobStatus> {
    let status = job;
    while (status.state === 'running' && !this.disposedFlag) {
      await sleep(POLL_MS);
      status = await requestAPI<IJobStatus>(`jobs/${job.id}`, this.serverSettings);
      update?.(status);
    }
    return status;
  }

  private showProgress(job: IJobStatus): void {
    this.progress.hidden = false;
    const total = Math.max(job.total, 0);
    const done = Math.min(job.done, total);
    this.progressBar.setAttribute('aria-valuemax', String(total));
    this.progressBar.setAttribute('aria-valuenow', String(done));
    this.progressBar.dataset.state = job.state;
    this.progressFill.style.width = total ? `${(100 * done) / total}%` : '0%';
    const what = job.kind === 'store' ? 'assignments read' : 'submissions graded';
    this.progressText.textContent =
      job.state === 'running'
        ? total
          ? `${job.target}: ${done} of ${total} ${what}…`
          : `${job.target}: starting…`
        : `${job.target}: ${done} of ${total} ${what}` + (job.state === 'failed' ? ' (failed)' : '');
  }

  /** GET jobs/<id>/results and draw them. */
  async loadResults(jobId: string, assignment?: string): Promise<void> {
    const query = assignment ? `?assignment=${encodeURIComponent(assignment)}` : '';
    try {
      this.results = await requestAPI<IResults>(`jobs/${jobId}/results${query}`, this.serverSettings);
    } catch (error) {
      this.showMessage(`Cannot read the results: ${(error as DashboardError).message}`, true);
      return;
    }
    this.renderResults();
  }

  private renderResults(): void {
    const results = this.results;
    if (!results) {
      return;
    }
    const section = this.resultsSection;
    section.replaceChildren();
    section.hidden = false;
    section.dataset.job = results.job;
    section.dataset.assignment = results.assignment;
    section.appendChild(el('h2', '', `Results: ${results.title}`));
    if (results.assignments.length > 1) {
      const select = el('select', 'jp-mod-styled grader-assignment-select');
      for (const name of results.assignments) {
        const option = el('option', '', name);
        option.value = name;
        option.selected = name === results.assignment;
        select.appendChild(option);
      }
      select.addEventListener('change', () => void this.loadResults(results.job, select.value));
      section.appendChild(select);
    }
    const stats = results.stats;
    const numbers =
      `${stats.submissions} submissions: ${stats.graded} graded, ${stats.unreadable} unreadable, ` +
      `${stats.missing} missing, ${stats.not_graded} not graded · mean ${formatPoints(stats.mean)}, ` +
      `median ${formatPoints(stats.median)} of ${formatPoints(results.max_score)} · reports in ${results.out}/`;
    section.appendChild(el('p', 'grader-stats', numbers));

    const downloads = el('div', 'grader-downloads');
    const query =
      results.assignments.length > 1 ? `?assignment=${encodeURIComponent(results.assignment)}` : '';
    for (const [format, file] of DOWNLOADS) {
      const link = el('a', 'jp-Button grader-download', file);
      link.dataset.format = format;
      link.href = apiUrl(this.serverSettings, 'jobs', results.job, 'download', file) + query;
      link.download = file;
      downloads.appendChild(link);
    }
    section.appendChild(downloads);

    const charts = el('div', 'grader-charts');
    const histogram = el('figure', 'grader-chart');
    histogram.appendChild(el('figcaption', '', 'Total scores'));
    histogram.appendChild(histogramSvg(results.histogram, results.max_score));
    charts.appendChild(histogram);
    const rates = el('figure', 'grader-chart');
    rates.appendChild(el('figcaption', '', 'Pass rate per exercise (graded submissions)'));
    rates.appendChild(passRateSvg(results.pass_rates));
    charts.appendChild(rates);
    section.appendChild(charts);

    this.tableHolder = el('div', 'grader-table-holder');
    section.appendChild(this.tableHolder);
    this.renderTable();
  }

  private renderTable(): void {
    const results = this.results;
    if (!results) {
      return;
    }
    const query =
      results.assignments.length > 1 ? `?assignment=${encodeURIComponent(results.assignment)}` : '';
    const table = renderTable(results.rows, {
      exercises: results.exercises,
      sort: this.sort,
      feedbackUrl: row =>
        `${apiUrl(this.serverSettings, 'jobs', results.job, 'feedback')}/${encodeURIComponent(row.student)}${query}`,
      onSort: key => {
        this.sort = nextSort(this.sort, key);
        this.renderTable();
      }
    });
    this.tableHolder.replaceChildren(table);
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.gradeButton.disabled = busy;
    this.dbButton.disabled = busy;
  }

  private showMessage(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('grader-error', error);
  }

  private readonly progress: HTMLDivElement;
  private readonly progressBar: HTMLDivElement;
  private readonly progressFill: HTMLDivElement;
  private readonly progressText: HTMLDivElement;
  private readonly message: HTMLDivElement;
  private readonly resultsSection: HTMLElement;
  private readonly releaseResults = new Map<string, HTMLElement>();
  private tableHolder: HTMLDivElement = el('div');
  private results: IResults | null = null;
  private sort: ISortState = { key: 'student', ascending: true };
  private busy = false;
  private started = false;
  private disposedFlag = false;
}
