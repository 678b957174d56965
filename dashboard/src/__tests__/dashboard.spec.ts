import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { Dashboard } from '../dashboard';

/** The server extension, faked: answers by method and path, records what it got. */
class FakeServer {
  calls: string[] = [];
  bodies: any[] = [];
  polls = 0;

  answer(method: string, path: string, body: any): [number, any] {
    if (method === 'GET' && path === 'assignments') {
      return [
        200,
        {
          assignments: [
            {
              folder: 'hw1',
              name: 'hw1',
              title: 'Homework 1',
              release: true,
              solutions: true,
              exercises: [{ name: 'first', points: 5 }],
              max_score: 5
            }
          ]
        }
      ];
    }
    if (method === 'GET' && path === 'jobs') {
      return [200, { jobs: [] }];
    }
    if (method === 'POST' && path === 'grade') {
      if (!body.folder) {
        return [404, { error: 'database x does not exist' }];
      }
      return [202, this.job('aaaaaaaaaaaa', 'grade', 'running', 0, 2)];
    }
    if (method === 'GET' && path === 'jobs/aaaaaaaaaaaa') {
      this.polls += 1;
      return [200, this.job('aaaaaaaaaaaa', 'grade', this.polls < 2 ? 'running' : 'done', this.polls, 2)];
    }
    if (method === 'GET' && path === 'jobs/aaaaaaaaaaaa/results') {
      return [200, RESULTS];
    }
    if (method === 'POST' && path === 'release') {
      return [202, this.job('bbbbbbbbbbbb', 'release', 'running', 0, 1)];
    }
    if (method === 'GET' && path === 'jobs/bbbbbbbbbbbb') {
      return [
        200,
        {
          ...this.job('bbbbbbbbbbbb', 'release', 'done', 1, 1),
          result: { changes: [{ path: 'release/hw1/helper.py', change: 'changed' }] }
        }
      ];
    }
    return [404, { error: `no ${path}` }];
  }

  job(id: string, kind: string, state: string, done: number, total: number): any {
    return { id, kind, target: 'subs', out: 'grading-output/subs', state, done, total, warnings: [] };
  }

  settings(): ServerConnection.ISettings {
    const server = this;
    class FakeRequest {
      url: string;
      method: string;
      body: any;
      headers = new Map<string, string>();
      constructor(url: string, init: any) {
        this.url = url;
        this.method = init.method ?? 'GET';
        this.body = init.body;
        (this.headers as any).append = (k: string, v: string) => this.headers.set(k, v);
      }
    }
    const fetch = async (request: FakeRequest) => {
      const path = request.url
        .replace('http://localhost/grader/api/', '')
        .replace(/[?&]\d{10,}$/, ''); // the cache buster of init.cache 'no-store'
      const body = request.body ? JSON.parse(request.body) : null;
      server.calls.push(`${request.method} ${path}`);
      server.bodies.push(body);
      const [status, data] = server.answer(request.method, path, body);
      return {
        ok: status < 400,
        status,
        statusText: '',
        text: async () => JSON.stringify(data)
      };
    };
    return ServerConnection.makeSettings({
      baseUrl: 'http://localhost/',
      fetch: fetch as any,
      Request: FakeRequest as any
    });
  }
}

const RESULTS = {
  job: 'aaaaaaaaaaaa',
  assignments: ['hw1'],
  assignment: 'hw1',
  title: 'Homework 1',
  out: 'grading-output/subs',
  max_score: 5,
  exercises: ['first'],
  rows: [
    {
      student: 'bob',
      submission: 'subs/bob.ipynb',
      status: 'graded',
      score: 0,
      max_score: 5,
      error: null,
      tampered: false,
      feedback: 'bob',
      exercises: { first: { score: 0, max_score: 5, status: 'failed' } }
    },
    {
      student: 'a b/c',
      submission: 'subs/a b.ipynb',
      status: 'graded',
      score: 5,
      max_score: 5,
      error: null,
      tampered: false,
      feedback: 'a_b_c',
      exercises: { first: { score: 5, max_score: 5, status: 'passed' } }
    }
  ],
  histogram: [
    { low: 0, high: 2.5, count: 1 },
    { low: 2.5, high: 5, count: 1 }
  ],
  pass_rates: [{ exercise: 'first', rate: 0.5, passed: 1, mean_points: 2.5, max_score: 5 }],
  stats: { submissions: 2, graded: 2, unreadable: 0, missing: 0, not_graded: 0, mean: 2.5, median: 2.5 }
};

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

describe('Dashboard', () => {
  let server: FakeServer;
  let dashboard: Dashboard;

  beforeEach(() => {
    server = new FakeServer();
    dashboard = new Dashboard(server.settings());
    Widget.attach(dashboard, document.body);
  });

  afterEach(() => {
    dashboard.dispose();
  });

  const $ = (selector: string) => dashboard.node.querySelector(selector) as HTMLElement;
  const $$ = (selector: string) =>
    Array.from(dashboard.node.querySelectorAll(selector)) as HTMLElement[];

  it('lists the assignments and shows what a release changed', async () => {
    await until(() => !!$('.grader-assignment[data-assignment="hw1"]'));
    expect($('.grader-assignment').textContent).toContain('Homework 1');
    $('.grader-release-button').click();
    await until(() => $$('.grader-release-result li').length === 1);
    expect($('.grader-release-result').textContent).toContain('changed: release/hw1/helper.py');
    expect(server.bodies[server.calls.indexOf('POST release')]).toEqual({ assignment: 'hw1' });
  });

  it('grades a folder with a live progress bar, then shows the results', async () => {
    dashboard.folderInput.value = ' subs ';
    $('.grader-grade-button').click();
    expect(($('.grader-grade-button') as HTMLButtonElement).disabled).toBe(true);
    await until(() => !!$('table.grader-grade-table'));
    expect(server.bodies[server.calls.indexOf('POST grade')]).toEqual({ folder: 'subs' });
    const bar = $('.grader-progress-bar');
    expect(bar.getAttribute('role')).toBe('progressbar');
    expect([bar.getAttribute('aria-valuenow'), bar.getAttribute('aria-valuemax')]).toEqual([
      '2',
      '2'
    ]);
    const students = () => $$('tr[data-student]').map(r => r.dataset.student);
    expect(students()).toEqual(['a b/c', 'bob']);
    $$('th').find(th => th.textContent === 'Score')!.click(); // highest first
    expect(students()).toEqual(['a b/c', 'bob']);
    $$('th').find(th => th.dataset.key === 'score')!.click();
    expect(students()).toEqual(['bob', 'a b/c']);
    const link = $('tr[data-student="a b/c"] a.grader-feedback-link') as HTMLAnchorElement;
    expect(link.href).toBe('http://localhost/grader/api/jobs/aaaaaaaaaaaa/feedback/a%20b%2Fc');
    expect($('svg.grader-histogram')).toBeTruthy();
    expect($$('svg.grader-pass-rate g[data-exercise]').length).toBe(1);
    const downloads = $$('a.grader-download').map(a => [
      a.dataset.format,
      (a as HTMLAnchorElement).href
    ]);
    expect(downloads).toEqual([
      ['csv', 'http://localhost/grader/api/jobs/aaaaaaaaaaaa/download/grades.csv'],
      ['json', 'http://localhost/grader/api/jobs/aaaaaaaaaaaa/download/grades.json'],
      ['junit', 'http://localhost/grader/api/jobs/aaaaaaaaaaaa/download/junit.xml']
    ]);
    expect(($('.grader-grade-button') as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows the server's one-line error", async () => {
    dashboard.dbInput.value = 'x.db';
    $('.grader-db-button').click();
    await until(() => $('.grader-message').textContent !== '');
    expect($('.grader-message').textContent).toBe('database x does not exist');
    expect($('.grader-message').classList.contains('grader-error')).toBe(true);
  });

  it('asks for a folder before grading nothing', () => {
    $('.grader-grade-button').click();
    expect($('.grader-message').textContent).toContain('Name a folder');
    expect(server.calls).not.toContain('POST grade');
  });
});
