import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';

export interface DashboardTab {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far (a CSP violation shows up here). */
  problems: string[];
}

/**
 * A fresh browser context signed in to the dashboard through its sign-in form, in the language
 * asked for (the form's labels are that language's), landing on Home.
 */
export async function signInToDashboard(
  browser: Browser,
  gatewayUrl: string,
  operator: { email: string; password: string },
  options: { lang?: 'zh' | 'en'; context?: BrowserContextOptions } = {},
): Promise<DashboardTab> {
  const lang = options.lang ?? 'en';
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: lang === 'en' ? 'en-US' : 'zh-CN', ...options.context });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${gatewayUrl}/dashboard/login${lang === 'en' ? '?lang=en' : ''}`);
  await page.getByLabel(lang === 'en' ? 'E-mail' : '电子邮箱').fill(operator.email);
  const password = page.getByLabel(lang === 'en' ? 'Password' : '密码');
  await password.fill(operator.password);
  await password.press('Enter');
  await page.getByTestId('home-title').waitFor();
  return { context, page, problems };
}
