import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { ExercisesPanel, IPanelActions } from './panel';
import { GraderRequestError, requestAPI } from './request';
import { findExerciseCell, IAnswer, ICellInfo, isGraderNotebook, requestId } from './results';

export const COMMAND = 'grader-student:check';
const LABEL = 'Check exercises';

/** The cells of a notebook as the pure helpers read them. */
function cellsOf(notebook: NotebookPanel): ICellInfo[] {
  const model = notebook.model;
  const cells: ICellInfo[] = [];
  if (!model) {
    return cells;
  }
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    cells.push({
      cell_type: cell.type,
      source: cell.sharedModel.getSource(),
      metadata: { nbgrader: cell.getMetadata('nbgrader') }
    });
  }
  return cells;
}

function isGrader(notebook: NotebookPanel): boolean {
  const model = notebook.model;
  return !!model && isGraderNotebook({ grader: model.getMetadata('grader') }, cellsOf(notebook));
}

/**
 * One Exercises panel for the app: it checks or submits the notebook it was opened
 * for, through the server extension (never the browser to the service), one run at a
 * time; Cancel aborts the request and asks the server to stop the run.
 */
class Controller implements IPanelActions {
  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly labShell: ILabShell | null
  ) {}

  /** Open the panel beside `notebook` and check it. */
  async open(notebook: NotebookPanel): Promise<void> {
    this._notebook = notebook;
    const panel = this._ensurePanel();
    panel.setNotebook(notebook.context.localPath);
    if (!panel.isAttached) {
      if (this.labShell) {
        this.app.shell.add(panel, 'main', { mode: 'split-right', ref: notebook.id });
      } else {
        this.app.shell.add(panel, 'right', { rank: 1000 }); // Notebook 7: one main widget
      }
    }
    this.app.shell.activateById(panel.id);
    await this._run('check');
  }

  check(): void {
    void this._run('check');
  }

  submit(): void {
    void this._run('submit');
  }

  cancel(): void {
    const running = this._running;
    if (!running) {
      return;
    }
    running.abort.abort();
    const settings = this.app.serviceManager.serverSettings;
    requestAPI('cancel', { request_id: running.id }, settings).catch(() => undefined);
  }

  /** Select and scroll to the exercise's cell in the notebook. */
  show(exercise: string): void {
    const notebook = this._notebook;
    if (!notebook || notebook.isDisposed) {
      return;
    }
    const index = findExerciseCell(cellsOf(notebook), exercise);
    if (index < 0) {
      return;
    }
    const content = notebook.content;
    content.mode = 'command';
    content.activeCellIndex = index;
    content.deselectAll();
    const cell = content.widgets[index];
    if (cell) {
      void content.scrollToCell(cell, 'start');
    }
    if (this.labShell) {
      this.app.shell.activateById(notebook.id);
    }
  }

  private _ensurePanel(): ExercisesPanel {
    if (!this._panel || this._panel.isDisposed) {
      this._panel = new ExercisesPanel(this);
      this._panel.disposed.connect(() => this.cancel());
    }
    return this._panel;
  }

  private async _run(kind: 'check' | 'submit'): Promise<void> {
    const notebook = this._notebook;
    const panel = this._panel;
    if (this._running || !notebook || notebook.isDisposed || !panel) {
      return;
    }
    const running = { id: requestId(), abort: new AbortController() };
    this._running = running;
    panel.start(kind === 'check' ? 'Checking' : 'Submitting');
    try {
      await notebook.context.save();
      if (running.abort.signal.aborted) {
        throw new GraderRequestError('cancelled', 0, true);
      }
      const path = this.app.serviceManager.contents.localPath(notebook.context.path);
      const answer = await requestAPI<IAnswer>(
        kind,
        { path, request_id: running.id },
        this.app.serviceManager.serverSettings,
        running.abort.signal
      );
      panel.showAnswer(answer);
    } catch (error) {
      const aborted = error instanceof GraderRequestError && error.aborted;
      const line = aborted
        ? `Cancelled: the ${kind} was stopped.`
        : `Could not ${kind} the notebook: ${(error as Error).message ?? error}`;
      panel.showError(line);
    } finally {
      this._running = null;
      panel.busy(null);
    }
  }

  private _notebook: NotebookPanel | null = null;
  private _panel: ExercisesPanel | null = null;
  private _running: { id: string; abort: AbortController } | null = null;
}

/** The toolbar button, shown on a course's notebooks only. */
class ButtonExtension implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(private readonly controller: Controller) {}

  createNew(notebook: NotebookPanel, context: DocumentRegistry.IContext<INotebookModel>): IDisposable {
    const button = new ToolbarButton({
      className: 'grader-check-button',
      label: LABEL,
      tooltip: 'Save the notebook and check its exercises',
      onClick: () => void this.controller.open(notebook)
    });
    button.hide();
    notebook.toolbar.insertItem(10, 'graderCheckExercises', button);
    const update = () => {
      if (!button.isDisposed) {
        button.setHidden(!isGrader(notebook));
      }
    };
    void context.ready.then(update);
    context.model.metadataChanged.connect(update);
    return new DisposableDelegate(() => {
      context.model.metadataChanged.disconnect(update);
      button.dispose();
    });
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nb-grader-student:plugin',
  description: 'A "Check exercises" button and panel for course notebooks.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    labShell: ILabShell | null
  ) => {
    const controller = new Controller(app, labShell);
    app.docRegistry.addWidgetExtension('Notebook', new ButtonExtension(controller));
    app.commands.addCommand(COMMAND, {
      label: LABEL,
      caption: 'Save the current notebook and check its exercises',
      isEnabled: () => !!tracker.currentWidget && isGrader(tracker.currentWidget),
      execute: () => {
        const notebook = tracker.currentWidget;
        return notebook ? controller.open(notebook) : undefined;
      }
    });
    palette?.addItem({ command: COMMAND, category: 'Grader' });
  }
};

export default plugin;
