import type { TestGateway } from './gateway-server.js';

/**
 * A minimal browser for dashboard tests over fetch: keeps cookies per name, does not follow
 * redirects (tests assert them), and posts forms.
 */
export class DashboardClient {
  readonly cookies = new Map<string, string>();

  constructor(private readonly gateway: Pick<TestGateway, 'url'>) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers; location: string | null; setCookies: string[] }> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(this.gateway.url + path, {
      method, redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const index = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, index);
      const value = (pair ?? '').slice(index + 1);
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, text: await response.text(), headers: response.headers, location: response.headers.get('location'), setCookies };
  }

  get(path: string) {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>) {
    return this.request('POST', path, form);
  }

  /** Opens the sign-in page and submits it; returns the POST's answer. */
  async signIn(email: string, password: string) {
    const page = await this.get('/dashboard/login');
    return this.post('/dashboard/login', { csrf_token: csrfTokenIn(page.text), email, password });
  }
}

/** The CSRF token of the first form on a page. */
export function csrfTokenIn(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error(`no csrf_token in page: ${html.slice(0, 500)}`);
  return match[1];
}
