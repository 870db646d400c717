import type { FastifyRequest } from 'fastify';
import type { OperatorSession } from '../../core/operators.js';
import type { ListParams } from '../../core/lists.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { queryParam } from '../pages/html.js';
import { developerTabs } from './components.js';
import type { ListWindowView } from './components.js';
import { DEVELOPERS_TEXT } from './developers_text.js';
import type { DevelopersText } from './developers_text.js';
import type { DashboardPage } from './page.js';
import { signedInPage } from './views.js';
import type { PageLocation } from './views.js';

/** Helpers shared by the Developers pages (webhooks, events, request logs, audit log). */

export function developersText(location: PageLocation): DevelopersText {
  return DEVELOPERS_TEXT[location.lang];
}

/** A Developers page: the area's tabs above the page's own body. */
export function developersPage(location: PageLocation, session: OperatorSession, livemode: boolean, title: string, body: SafeHtml): DashboardPage {
  return signedInPage(location, session, livemode, title, html`${developerTabs(location, livemode)}${body}`);
}

/** The keyset cursor of a list page's query (`starting_after` / `ending_before`, as the API pages). */
export function cursorParams(req: FastifyRequest, limit: number): ListParams {
  const after = queryParam(req.query, 'starting_after');
  const before = queryParam(req.query, 'ending_before');
  return { limit, ...(after === undefined ? {} : { starting_after: after }), ...(before === undefined ? {} : { ending_before: before }) };
}

/**
 * The pager's view of a window. A page read backwards (`ending_before`) has older rows after it by
 * construction, and `hasMore` then says whether newer ones exist before it.
 */
export function windowOf(params: ListParams, ids: string[], hasMore: boolean): ListWindowView {
  const firstId = ids[0] ?? null;
  const lastId = ids[ids.length - 1] ?? null;
  if (params.ending_before != null) return { firstId, lastId, hasMore: true, paged: hasMore };
  return { firstId, lastId, hasMore, paged: params.starting_after != null };
}

/** Stored text shown as is (escaped), JSON pretty-printed when it parses. */
export function bodyBlock(text: string | null, empty: string, testId: string, label: string): SafeHtml {
  if (text === null || text === '') return html`<p class="muted" data-testid="${testId}">${empty}</p>`;
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON (a form body, plain text or a cut-off body): shown exactly as stored.
  }
  return html`<pre class="body" data-testid="${testId}" aria-label="${label}" tabindex="0">${shown}</pre>`;
}
