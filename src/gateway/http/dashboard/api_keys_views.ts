import type { ApiKeyListing } from '../../core/dashboard_api_keys.js';
import type { OperatorSession } from '../../core/operators.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { BALANCE_TEXT } from './balance_text.js';
import type { BalanceText } from './balance_text.js';
import { csrfField, developerTabs, emptyRow, notice, pageHeading, statusBadge, timeOf } from './components.js';
import type { DashboardPage } from './page.js';
import { modePath, signedInPage } from './views.js';
import type { PageLocation } from './views.js';

export const API_KEYS_PATH = '/dashboard/api_keys';

export interface ApiKeysView {
  livemode: boolean;
  keys: ApiKeyListing[];
  /** The secret of a key just created or rolled (its one showing), 'gone' when its token no longer holds one. */
  revealed: { id: string; plaintext: string } | 'gone' | null;
  done: string | null;
  error: string | null;
}

function actionPath(id: string, action: 'roll' | 'revoke', livemode: boolean): string {
  return modePath(`${API_KEYS_PATH}/${encodeURIComponent(id)}/${action}`, livemode);
}

/** Roll and revoke sit behind a disclosure: a second, deliberate press does it (no script needed). */
function keyActions(session: OperatorSession, key: ApiKeyListing, livemode: boolean, b: BalanceText): SafeHtml {
  const form = (action: 'roll' | 'revoke', summary: string, submit: string, tone: string) => html`<details class="key-action" data-testid="${action}-${key.id}"><summary>${summary}</summary>
<form method="post" action="${actionPath(key.id, action, livemode)}">${csrfField(session)}<button class="button small ${tone}" type="submit" data-testid="${action}-confirm-${key.id}">${submit}</button></form></details>`;
  return html`${form('roll', b.roll, b.rollNow, 'secondary')}${form('revoke', b.revoke, b.revokeNow, 'danger')}`;
}

function revealedSecret(view: ApiKeysView, b: BalanceText): SafeHtml {
  if (view.revealed === null) return html``;
  if (view.revealed === 'gone') return notice(b.secretGone, 'bad');
  return html`<section class="card" aria-labelledby="new-secret-title" data-testid="new-secret-card" data-key-id="${view.revealed.id}"><h2 id="new-secret-title">${b.newSecretTitle}</h2>
<p role="status">${b.newSecretText}</p>
<input id="new-secret" aria-labelledby="new-secret-title" class="secret mono" readonly value="${view.revealed.plaintext}" data-testid="new-secret" size="60" autocomplete="off" spellcheck="false"></section>`;
}

export function apiKeysPage(location: PageLocation, session: OperatorSession, view: ApiKeysView): DashboardPage {
  const b = BALANCE_TEXT[location.lang];
  const admin = session.operator.role === 'admin';
  const create = admin ? html`<form class="filters" method="post" action="${modePath(`${API_KEYS_PATH}/create`, view.livemode)}" data-testid="create-key-form">${csrfField(session)}
<div><label for="new-key-kind">${b.newKeyKind}</label><select id="new-key-kind" name="kind" data-testid="new-key-kind"><option value="secret">${b.kindLabels.secret}</option><option value="publishable">${b.kindLabels.publishable}</option></select></div>
<button class="button small" type="submit" data-testid="create-key">${b.createKey}</button></form>` : html`<p class="muted" data-testid="viewer-note">${b.viewerNote}</p>`;
  const notices = html`${view.done === 'revoked' ? notice(b.doneRevoked) : ''}${view.error === 'last_secret_key' ? notice(b.errorLastSecret, 'bad') : ''}${view.error === 'api_key_revoked' ? notice(b.errorRevoked, 'bad') : ''}`;
  const rows = view.keys.length === 0
    ? emptyRow(admin ? 5 : 4, b.noKeys)
    : view.keys.map((key) => html`<tr data-testid="key-row" data-id="${key.id}" data-kind="${key.kind}" data-state="${key.revokedAt === null ? 'active' : 'revoked'}"><td>${b.kindLabels[key.kind]}</td><td class="mono" data-field="key">${key.redacted}</td><td>${timeOf(key.created)}</td><td>${key.revokedAt === null ? statusBadge('active', b.active) : html`${statusBadge('revoked', b.revoked)} ${timeOf(key.revokedAt)}`}</td>${admin ? html`<td>${key.revokedAt === null ? keyActions(session, key, view.livemode, b) : ''}</td>` : ''}</tr>`);
  const body = html`${developerTabs(location, view.livemode)}
${pageHeading(b.apiKeysTitle, 'api-keys-title', create)}
${notices}
${revealedSecret(view, b)}
<section class="card"><p class="muted" data-testid="keys-intro">${b.keysIntro}</p>
<table class="list" data-testid="api-keys"><thead><tr><th scope="col">${b.kind}</th><th scope="col">${b.key}</th><th scope="col">${b.created}</th><th scope="col">${b.status}</th>${admin ? html`<th scope="col">${b.actions}</th>` : ''}</tr></thead>
<tbody>${rows}</tbody></table></section>`;
  return signedInPage(location, session, view.livemode, b.apiKeysTitle, body);
}
