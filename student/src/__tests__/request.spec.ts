/**
 * requestAPI: the URL under the server's base URL, the JSON body, the token header, and
 * each failure as one GraderRequestError line (the server's, or a cancel).
 */

import { ServerConnection } from '@jupyterlab/services';

import { GraderRequestError, requestAPI } from '../request';

function settings(fetch: jest.Mock): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/a%40b/',
    token: 'secret',
    fetch
  });
}

function reply(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
}

describe('requestAPI', () => {
  it('posts JSON to grader-student/<end point> with the token', async () => {
    const fetch = jest.fn().mockResolvedValue(reply(200, '{"source": "local"}'));
    const answer = await requestAPI('check', { path: 'a/b.ipynb' }, settings(fetch));
    expect(answer).toEqual({ source: 'local' });
    const request: Request = fetch.mock.calls[0][0];
    expect(request.url.split('?')[0]).toBe('http://localhost:8888/a%40b/grader-student/check');
    expect(request.method).toBe('POST');
    expect(request.headers.get('Authorization')).toBe('token secret');
    expect(await request.text()).toBe('{"path":"a/b.ipynb"}');
  });

  it("gives the server's one line and status on an error", async () => {
    const fetch = jest.fn().mockResolvedValue(reply(404, '{"error": "no notebook at x.ipynb"}'));
    const failure = requestAPI('check', { path: 'x.ipynb' }, settings(fetch));
    await expect(failure).rejects.toThrow(new GraderRequestError('no notebook at x.ipynb', 404));
    await failure.catch((error: GraderRequestError) => expect(error.status).toBe(404));
  });

  it('says so when there is no JSON, or no server', async () => {
    const html = jest.fn().mockResolvedValue(reply(500, '<html>oops</html>'));
    await expect(requestAPI('check', {}, settings(html))).rejects.toThrow('<html>oops</html>');
    const down = jest.fn().mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(requestAPI('check', {}, settings(down))).rejects.toThrow(
      'cannot reach the Jupyter server'
    );
  });

  it('marks an aborted request as cancelled', async () => {
    const controller = new AbortController();
    const fetch = jest.fn().mockImplementation(
      (request: Request) =>
        new Promise((_, reject) =>
          request.signal.addEventListener('abort', () => reject(new Error('aborted')))
        )
    );
    const pending = requestAPI('check', {}, settings(fetch), controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ aborted: true, message: 'cancelled' });
  });
});
