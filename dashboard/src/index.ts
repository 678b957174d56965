import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { LabIcon } from '@jupyterlab/ui-components';

import { Dashboard } from './dashboard';

/** The palette command, its label, and the main-area widget's id and title. */
export const COMMAND = 'grader:dashboard';
export const LABEL = 'Grader dashboard';
export const WIDGET_ID = 'grader-dashboard';
export const TITLE = 'Grader';

/** A gradebook: a ruled sheet with a check mark. */
export const graderIcon = new LabIcon({
  name: 'nb-grader-dashboard:grader',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">' +
    '<rect class="jp-icon3" fill="#616161" x="3" y="2" width="18" height="20" rx="2"/>' +
    '<path fill="#fff" d="M6 6h12v1.5H6zM6 10h7v1.5H6zM6 14h5v1.5H6z"/>' +
    '<path fill="#fff" d="M13.5 17.2l-2.2-2.2-1 1 3.2 3.2 5.5-5.5-1-1z"/></svg>'
});

/** Opens the dashboard in the main area (one for the app), from the launcher or the
 * palette; JupyterLab's layout restorer reopens it after a reload. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nb-grader-dashboard:plugin',
  description: "The Grader dashboard: grade a course's submissions and see the results.",
  autoStart: true,
  optional: [ICommandPalette, ILauncher, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget<Dashboard>>({ namespace: WIDGET_ID });
    let widget: MainAreaWidget<Dashboard> | null = null;

    app.commands.addCommand(COMMAND, {
      label: args => (args.isLauncher ? TITLE : LABEL),
      caption: 'Grade submissions, see the grade table and the class charts',
      icon: args => (args.isPalette ? undefined : graderIcon),
      execute: () => {
        if (!widget || widget.isDisposed) {
          const content = new Dashboard(app.serviceManager.serverSettings);
          widget = new MainAreaWidget({ content });
          widget.id = WIDGET_ID;
          widget.title.label = TITLE;
          widget.title.icon = graderIcon;
          widget.title.closable = true;
          void tracker.add(widget);
        }
        if (!widget.isAttached) {
          app.shell.add(widget, 'main');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    palette?.addItem({ command: COMMAND, category: 'Grader' });
    launcher?.add({ command: COMMAND, category: 'Other', rank: 0, args: { isLauncher: true } });
    if (restorer) {
      void restorer.restore(tracker, { command: COMMAND, name: () => WIDGET_ID });
    }
  }
};

export default plugin;
