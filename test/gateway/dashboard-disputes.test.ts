import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator } from '../../src/gateway/index.js';
import { createOperator, listAudit } from '../../src/gateway/core/operators.js';
import type { OperatorDeps } from '../../src/gateway/core/operators.js';
import { api } from '../support/gateway-server.js';
import { startPaymentStack } from '../support/e2e-harness.js';
import type { PaymentStack } from '../support/e2e-harness.js';
import { csrfTokenIn, DashboardClient } from '../support/dashboard-client.js';
import { EVIDENCE, documentsOf, gatewayDispute, openDispute, paidCharge, retrieveDispute, sandboxDispute, sortedDocuments } from '../support/dispute-support.js';

const PASSWORD = 'correct horse battery';
const DAY_MS = 24 * 3600_000;

/** The ids of the listed disputes, in page order. */
function listedIds(page: string): string[] {
  return [...page.matchAll(/data-testid="dispute-row" data-id="([^"]+)"/g)].map((match) => match[1] as string);
}

/** The row of one dispute in a list page. */
function rowOf(page: string, id: string): string {
  const start = page.indexOf(`data-testid="dispute-row" data-id="${id}"`);
  assert.ok(start >= 0, `${id} is listed`);
  return page.slice(start, page.indexOf('</tr>', start));
}

/** The href of the pager's link (`next` / `prev`), unescaped; null when there is none. */
function pagerLink(page: string, rel: 'next' | 'prev'): string | null {
  const match = new RegExp(`rel="${rel}" data-testid="page-(?:next|previous)" href="([^"]+)"`).exec(page);
  return match?.[1]?.replaceAll('&amp;', '&') ?? null;
}

function noticeOf(page: string): string | null {
  return /data-testid="notice">([^<]*)</.exec(page)?.[1] ?? null;
}

/**
 * The dashboard's Disputes pages over the real sandbox (issue 11): the list by status and
 * deadline with keyset paging, a dispute's page, and the evidence form, submit and accept going
 * through the same core as the API — so the sandbox (Alipay+) receives the response — plus the
 * refusals: viewers, other accounts, missing confirmation, past deadlines, bad filters.
 * The worker is off, so a dispute past its deadline stays open for the page to show it overdue.
 */
describe('dashboard disputes', () => {
  let stack: PaymentStack;
  let deps: OperatorDeps;
  const disputes: Record<'a' | 'b' | 'c' | 'd', { id: string; sandboxId: string; intentId: string }> = {} as never;
  let otherKey = '';

  async function signedIn(email: string): Promise<DashboardClient> {
    const client = new DashboardClient(stack.gateway);
    const answer = await client.signIn(email, PASSWORD);
    assert.equal(answer.status, 303, answer.text);
    // English pages from here on (the choice is remembered in a cookie).
    assert.equal((await client.get('/dashboard?lang=en')).status, 200);
    return client;
  }

  async function open(type: 'retrieval' | 'escalation', amount: number, dueInDays: number, reasonCode: string) {
    const paid = await paidCharge(stack, { amount });
    const opened = await openDispute(stack, paid.paymentId, { type, dueInDays, reasonCode, reasonMessage: `case of ${amount}` });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    return { id: dispute.id as string, sandboxId: opened.disputeId as string, intentId: paid.intentId };
  }

  before(async () => {
    stack = await startPaymentStack({ worker: false });
    const clock = stack.gateway.clock;
    deps = { database: stack.gateway.database, clock, ids: createIdGenerator(clock) };
    const other = await stack.gateway.newAccount();
    otherKey = other.test.secretKey;
    await createOperator(deps, { accountId: stack.gateway.accountId, email: 'admin@tea.test', password: PASSWORD, role: 'admin', liveAccess: true });
    await createOperator(deps, { accountId: stack.gateway.accountId, email: 'viewer@tea.test', password: PASSWORD, role: 'viewer', liveAccess: false });
    await createOperator(deps, { accountId: other.accountId, email: 'admin@other.test', password: PASSWORD, role: 'admin', liveAccess: false });
    // Created in this order (a oldest); deadlines d (past) < b < a < c.
    disputes.a = await open('escalation', 1000, 10, 'GOODS_NOT_RECEIVED');
    disputes.b = await open('retrieval', 2000, 3, 'TRANSACTION_INFORMATION_REQUEST');
    disputes.c = await open('escalation', 3000, 20, 'FRAUD');
    disputes.d = await open('escalation', 4000, -1, 'DUPLICATE_TRANSACTION');
  });
  after(async () => {
    await stack?.stop();
  });

  it('lists disputes newest first, filters by status and deadline, and orders open ones by deadline with the time left', async () => {
    const admin = await signedIn('admin@tea.test');
    const { a, b, c, d } = disputes;
    const all = await admin.get('/dashboard/disputes');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(listedIds(all.text), [d.id, c.id, b.id, a.id], 'newest first');
    assert.match(all.text, /data-testid="nav-disputes" href="\/dashboard\/disputes" aria-current="page"/);
    const rowA = rowOf(all.text, a.id);
    assert.match(rowA, />HKD 10\.00</);
    assert.match(rowA, /Product not received/);
    assert.match(rowA, /data-status="needs_response">Needs response</);
    assert.match(rowA, new RegExp(`href="/dashboard/payments/${a.intentId}"`));
    assert.match(rowA, new RegExp(`href="/dashboard/disputes/${a.id}"`));
    assert.match(rowA, /9 days left/);
    assert.match(rowOf(all.text, b.id), /2 days left/);
    assert.match(rowOf(all.text, b.id), /Inquiry: needs response/);
    const overdue = rowOf(all.text, d.id);
    assert.match(overdue, /data-overdue="true">overdue by 1 day</, 'past the deadline: highlighted');
    assert.match(overdue, /class="badge bad"/);

    const openOnes = await admin.get('/dashboard/disputes?status=open');
    assert.deepEqual(listedIds(openOnes.text), [d.id, b.id, a.id, c.id], 'open disputes: soonest deadline first');
    assert.match(openOnes.text, /<option value="" selected>Automatic \(open ones by deadline\)<\/option>/);
    const forced = await admin.get('/dashboard/disputes?status=open&order=created');
    assert.deepEqual(listedIds(forced.text), [d.id, c.id, b.id, a.id], 'newest first when asked');
    assert.match(forced.text, /<option value="created" selected>/);
    const escalations = await admin.get('/dashboard/disputes?status=needs_response');
    assert.deepEqual(listedIds(escalations.text), [d.id, a.id, c.id]);
    const inquiries = await admin.get('/dashboard/disputes?status=warning_needs_response');
    assert.deepEqual(listedIds(inquiries.text), [b.id]);
    const won = await admin.get('/dashboard/disputes?status=won');
    assert.deepEqual(listedIds(won.text), []);
    assert.match(won.text, /data-testid="empty">No disputes match\.</);
    const byDeadline = await admin.get('/dashboard/disputes?order=deadline');
    assert.deepEqual(listedIds(byDeadline.text), [d.id, b.id, a.id, c.id]);

    const soon = new Date(Date.now() + 5 * DAY_MS).toISOString().slice(0, 10);
    const dueSoon = await admin.get(`/dashboard/disputes?due_before=${soon}`);
    assert.deepEqual(listedIds(dueSoon.text), [d.id, b.id], 'due within five days, newest first');
    assert.match(dueSoon.text, new RegExp(`name="due_before" type="date" value="${soon}"`));

    const chinese = await admin.get('/dashboard/disputes?status=open&lang=zh');
    assert.match(chinese.text, /<html lang="zh-CN">/);
    assert.match(chinese.text, /data-testid="disputes-title">争议</);
    assert.match(rowOf(chinese.text, a.id), /未收到商品.*拒付·待答复.*剩余 9 天/s);
    assert.match(rowOf(chinese.text, d.id), /已逾期 1 天/);
    assert.equal((await admin.get('/dashboard?lang=en')).status, 200);
  });

  it('pages through the list with keyset links in both orders, keeping the filters', async () => {
    const admin = await signedIn('admin@tea.test');
    const { a, b, c, d } = disputes;
    const first = await admin.get('/dashboard/disputes?status=open&limit=2');
    assert.deepEqual(listedIds(first.text), [d.id, b.id]);
    assert.equal(pagerLink(first.text, 'prev'), null);
    const next = pagerLink(first.text, 'next');
    assert.equal(next, `/dashboard/disputes?status=open&limit=2&starting_after=${b.id}`);
    const second = await admin.get(next);
    assert.deepEqual(listedIds(second.text), [a.id, c.id]);
    assert.equal(pagerLink(second.text, 'next'), null, 'nothing after the last deadline');
    const back = await admin.get(pagerLink(second.text, 'prev') ?? 'no previous link');
    assert.deepEqual(listedIds(back.text), [d.id, b.id]);
    assert.equal(pagerLink(back.text, 'prev'), null, 'back at the start');
    assert.ok(pagerLink(back.text, 'next'));

    const newest = await admin.get('/dashboard/disputes?limit=3');
    assert.deepEqual(listedIds(newest.text), [d.id, c.id, b.id]);
    const older = await admin.get(pagerLink(newest.text, 'next') ?? 'no next link');
    assert.deepEqual(listedIds(older.text), [a.id]);
    assert.equal(pagerLink(older.text, 'next'), null);
    const newer = await admin.get(pagerLink(older.text, 'prev') ?? 'no previous link');
    assert.deepEqual(listedIds(newer.text), [d.id, c.id, b.id]);
  });

  it('shows a dispute: amount, reason and code, deadline, payment, events, the withheld amount and the evidence form', async () => {
    const admin = await signedIn('admin@tea.test');
    const { a } = disputes;
    const page = await admin.get(`/dashboard/disputes/${a.id}`);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /data-testid="dispute-amount">HKD 10\.00</);
    assert.match(page.text, /data-testid="dispute-reason">Product not received</);
    assert.match(page.text, /data-testid="network-reason">GOODS_NOT_RECEIVED</);
    assert.match(page.text, /case of 1000/, 'Alipay+\'s message');
    assert.match(page.text, /data-testid="dispute-status"><span class="badge warn" data-status="needs_response">Needs response</);
    assert.match(page.text, /data-testid="dispute-deadline">.*9 days left/s);
    assert.match(page.text, new RegExp(`data-testid="payment-link">${a.intentId}<`));
    const events = [...page.text.matchAll(/data-testid="dispute-event" data-type="([^"]+)"/g)].map((match) => match[1]);
    assert.deepEqual(events, ['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
    const txn = /data-testid="balance-transaction"[^]*?<\/tr>/.exec(page.text)?.[0] ?? '';
    assert.match(txn, /<td>dispute<\/td><td class="num" data-minor="-1000">HKD -10\.00</);
    assert.match(page.text, /data-testid="evidence-form"/);
    assert.match(page.text, /<label for="ev-product_description">Product description<\/label><textarea id="ev-product_description" name="product_description"/);
    assert.match(page.text, /<label for="ev-access_activity_log">/, 'every evidence field is offered');
    assert.match(page.text, /I accept losing HKD 10\.00/);
    assert.match(page.text, /data-testid="accept-form"/);
  });

  it('saves evidence without sending it, then submits it: under review, and Alipay+ holds the documents', async () => {
    const admin = await signedIn('admin@tea.test');
    const { a } = disputes;
    const page = await admin.get(`/dashboard/disputes/${a.id}`);
    const csrf = csrfTokenIn(page.text);
    const saved = await admin.post(`/dashboard/disputes/${a.id}/evidence`, {
      csrf_token: csrf, intent: 'save', product_description: EVIDENCE.product_description, customer_name: EVIDENCE.customer_name, receipt: 'Receipt #42\r\npaid in full',
    });
    assert.deepEqual([saved.status, saved.location], [303, `/dashboard/disputes/${a.id}?done=saved`], saved.text);
    const staged = await retrieveDispute(stack, stack.gateway.secretKey, a.id);
    assert.deepEqual([staged.status, staged.evidence_details.submission_count, staged.evidence.product_description, staged.evidence.receipt], ['needs_response', 0, EVIDENCE.product_description, 'Receipt #42\npaid in full']);
    assert.equal((await sandboxDispute(stack, a.sandboxId)).response, null, 'a draft is not sent');
    const afterSave = await admin.get(saved.location ?? '');
    assert.equal(noticeOf(afterSave.text), 'Evidence draft saved.');
    assert.match(afterSave.text, /name="customer_name" type="text" value="Li Wei"/);

    const submitted = await admin.post(`/dashboard/disputes/${a.id}/evidence`, {
      csrf_token: csrf, intent: 'submit', product_description: EVIDENCE.product_description, customer_name: EVIDENCE.customer_name,
      receipt: EVIDENCE.receipt, shipping_tracking_number: EVIDENCE.shipping_tracking_number,
    });
    assert.deepEqual([submitted.status, submitted.location], [303, `/dashboard/disputes/${a.id}?done=submitted`], submitted.text);
    const answered = await retrieveDispute(stack, stack.gateway.secretKey, a.id);
    assert.deepEqual([answered.status, answered.evidence_details.submission_count], ['under_review', 1]);
    const atAlipay = await sandboxDispute(stack, a.sandboxId);
    assert.equal(atAlipay.state, 'RESPONDED');
    assert.equal(atAlipay.response.api, 'responseEscalation');
    assert.deepEqual(sortedDocuments(atAlipay.response.body.defenseDocumentation), documentsOf(EVIDENCE));

    const shown = await admin.get(submitted.location ?? '');
    assert.equal(noticeOf(shown.text), 'Evidence submitted to Alipay+.');
    assert.match(shown.text, /data-status="under_review">Under review</);
    assert.match(shown.text, /data-testid="response-state" data-state="accepted">Accepted by Alipay\+</);
    assert.match(shown.text, /data-testid="submission-count">1</);
    assert.doesNotMatch(shown.text, /data-testid="evidence-form"/, 'nothing more to answer');
    assert.match(shown.text, /data-testid="evidence-state">Alipay\+ is reviewing the response; nothing more can be sent now\.</);
    assert.doesNotMatch(shown.text, /data-testid="accept-form"/);
    assert.match(shown.text, /<dd data-field="shipping_tracking_number"[^>]*>SF1234567890<\/dd>/);
    assert.ok(shown.text.includes('data-type="charge.dispute.updated"'));

    // Submitting again is the core's refusal, on the dispute's page, with what was typed kept.
    const again = await admin.post(`/dashboard/disputes/${a.id}/evidence`, { csrf_token: csrf, intent: 'submit', uncategorized_text: 'one more thing' });
    assert.equal(again.status, 400, again.text);
    assert.match(noticeOf(again.text) ?? '', /review/i);
    assert.equal((await retrieveDispute(stack, stack.gateway.secretKey, a.id)).evidence.uncategorized_text, null);

    const audit = (await listAudit(deps, stack.gateway.accountId, 100)).filter((row) => row.object_id === a.id).map((row) => [row.action, row.actor_email]).reverse();
    assert.deepEqual(audit, [
      ['dispute.save_evidence', 'admin@tea.test'], ['dispute.save_evidence.succeeded', 'admin@tea.test'],
      ['dispute.submit', 'admin@tea.test'], ['dispute.submit.succeeded', 'admin@tea.test'],
      ['dispute.submit', 'admin@tea.test'], ['dispute.submit.failed', 'admin@tea.test'],
    ]);
  });

  it('accepts only with the box ticked: the escalation is lost and Alipay+ receives ACCEPT_REFUND', async () => {
    const admin = await signedIn('admin@tea.test');
    const { c } = disputes;
    const csrf = csrfTokenIn((await admin.get(`/dashboard/disputes/${c.id}`)).text);
    const unticked = await admin.post(`/dashboard/disputes/${c.id}/accept`, { csrf_token: csrf });
    assert.equal(unticked.status, 400);
    assert.equal(noticeOf(unticked.text), 'Tick the confirmation box to accept the dispute.');
    assert.equal((await retrieveDispute(stack, stack.gateway.secretKey, c.id)).status, 'needs_response');
    assert.equal((await sandboxDispute(stack, c.sandboxId)).response, null);

    const accepted = await admin.post(`/dashboard/disputes/${c.id}/accept`, { csrf_token: csrf, confirm: 'yes' });
    assert.deepEqual([accepted.status, accepted.location], [303, `/dashboard/disputes/${c.id}?done=accepted`], accepted.text);
    assert.equal((await retrieveDispute(stack, stack.gateway.secretKey, c.id)).status, 'lost');
    const atAlipay = await sandboxDispute(stack, c.sandboxId);
    assert.deepEqual([atAlipay.state, atAlipay.response.api, atAlipay.response.body.refundType, atAlipay.response.body.refundAmount], ['ACCEPTED', 'responseEscalation', 'ACCEPT_REFUND', { currency: 'HKD', value: '3000' }]);
    const shown = await admin.get(accepted.location ?? '');
    assert.equal(noticeOf(shown.text), 'Dispute accepted.');
    assert.match(shown.text, /data-status="lost">Lost</);
    assert.ok(shown.text.includes('data-type="charge.dispute.closed"'));
    assert.match(shown.text, /data-testid="evidence-state">This dispute is closed; it needs no response\.</);
    const audit = (await listAudit(deps, stack.gateway.accountId, 100)).filter((row) => row.object_id === c.id).map((row) => row.action).reverse();
    assert.deepEqual(audit, ['dispute.accept', 'dispute.accept.succeeded'], 'the unticked attempt acted on nothing');
  });

  it('refuses evidence past the deadline with the core\'s reason on the dispute\'s page, keeping what was typed', async () => {
    const admin = await signedIn('admin@tea.test');
    const { d } = disputes;
    const page = await admin.get(`/dashboard/disputes/${d.id}`);
    assert.match(page.text, /data-overdue="true"/);
    const late = await admin.post(`/dashboard/disputes/${d.id}/evidence`, { csrf_token: csrfTokenIn(page.text), intent: 'submit', uncategorized_text: 'sorry, late' });
    assert.equal(late.status, 400, late.text);
    assert.match(noticeOf(late.text) ?? '', /due|deadline|past/i);
    assert.match(late.text, />sorry, late<\/textarea>/);
    const empty = await admin.post(`/dashboard/disputes/${d.id}/evidence`, { csrf_token: csrfTokenIn(page.text), intent: 'submit' });
    assert.equal(empty.status, 400);
    assert.equal(noticeOf(empty.text), 'Fill in at least one evidence field before submitting.');
    const after = await retrieveDispute(stack, stack.gateway.secretKey, d.id);
    assert.deepEqual([after.status, after.evidence.uncategorized_text], ['needs_response', null]);
    assert.equal((await sandboxDispute(stack, d.sandboxId)).response, null);
  });

  it('shows a viewer the dispute without forms and refuses their posts with 403, changing nothing', async () => {
    const viewer = await signedIn('viewer@tea.test');
    const { b } = disputes;
    const page = await viewer.get(`/dashboard/disputes/${b.id}`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /data-testid="evidence-form"/);
    assert.doesNotMatch(page.text, /data-testid="accept-form"/);
    assert.match(page.text, /Only an admin can give evidence or accept a dispute\./);
    const csrf = csrfTokenIn(page.text);
    const evidence = await viewer.post(`/dashboard/disputes/${b.id}/evidence`, { csrf_token: csrf, intent: 'submit', product_description: 'tea' });
    const accept = await viewer.post(`/dashboard/disputes/${b.id}/accept`, { csrf_token: csrf, confirm: 'yes' });
    assert.deepEqual([evidence.status, accept.status], [403, 403]);
    const unchanged = await retrieveDispute(stack, stack.gateway.secretKey, b.id);
    assert.deepEqual([unchanged.status, unchanged.evidence.product_description], ['warning_needs_response', null]);
    assert.equal((await sandboxDispute(stack, b.sandboxId)).response, null);
    assert.deepEqual((await listAudit(deps, stack.gateway.accountId, 200)).filter((row) => row.actor_email === 'viewer@tea.test' && row.action.startsWith('dispute')), []);

    // And a form without its CSRF token is refused for an admin too.
    const admin = await signedIn('admin@tea.test');
    const forged = await admin.post(`/dashboard/disputes/${b.id}/accept`, { confirm: 'yes' });
    assert.equal(forged.status, 403);
    assert.equal((await retrieveDispute(stack, stack.gateway.secretKey, b.id)).status, 'warning_needs_response');
  });

  it('keeps accounts and modes apart: another account\'s dispute is 404 by URL and its list is empty; live shows no test disputes', async () => {
    const stranger = await signedIn('admin@other.test');
    const { a, b } = disputes;
    const list = await stranger.get('/dashboard/disputes');
    assert.deepEqual(listedIds(list.text), []);
    const page = await stranger.get(`/dashboard/disputes/${b.id}`);
    assert.equal(page.status, 404);
    assert.doesNotMatch(page.text, new RegExp(b.intentId));
    const csrf = csrfTokenIn((await stranger.get('/dashboard/disputes')).text);
    const accept = await stranger.post(`/dashboard/disputes/${b.id}/accept`, { csrf_token: csrf, confirm: 'yes' });
    const evidence = await stranger.post(`/dashboard/disputes/${b.id}/evidence`, { csrf_token: csrf, intent: 'submit', receipt: 'x' });
    assert.deepEqual([accept.status, evidence.status], [404, 404]);
    assert.equal((await retrieveDispute(stack, stack.gateway.secretKey, b.id)).status, 'warning_needs_response');
    const cursor = await stranger.get(`/dashboard/disputes?starting_after=${a.id}`);
    assert.equal(cursor.status, 400, 'another account\'s dispute is no cursor');
    assert.equal((await api(stack.gateway, 'GET', `/v1/disputes/${b.id}`, { key: otherKey })).status, 404, 'as the API answers');

    const admin = await signedIn('admin@tea.test');
    const live = await admin.get('/dashboard/disputes?mode=live');
    assert.equal(live.status, 200);
    assert.deepEqual(listedIds(live.text), []);
    assert.match(live.text, /data-testid="live-banner"/);
    assert.match(live.text, /<input type="hidden" name="mode" value="live">/, 'filtering stays in live mode');
    assert.equal((await admin.get(`/dashboard/disputes/${b.id}?mode=live`)).status, 404, 'a test dispute is not a live one');
  });

  it('answers malformed filters with a 400 page naming the problem', async () => {
    const admin = await signedIn('admin@tea.test');
    for (const [query, problem] of [
      ['status=pending', /Invalid status 'pending'/], ['order=amount', /Invalid order 'amount'/], ['due_before=2026-02-30', /Invalid due_before '2026-02-30'/],
      ['limit=0', /Invalid limit '0'/], ['limit=101', /Invalid limit '101'/], ['starting_after=dp_1&ending_before=dp_2', /only specify one/],
    ] as const) {
      const page = await admin.get(`/dashboard/disputes?${query}`);
      assert.equal(page.status, 400, `${query}: ${page.text.slice(0, 200)}`);
      assert.match(page.text.replaceAll('&#39;', "'"), problem, query);
    }
    assert.equal((await admin.get('/dashboard/disputes/dp_0000000000000000000')).status, 404);
  });

  it('says so on the page when Alipay+ refuses the submitted response, and offers the form again', async () => {
    const admin = await signedIn('admin@tea.test');
    const e = await open('escalation', 500, 8, 'GOODS_NOT_AS_DESCRIBED');
    // Alipay+ decides the case but its result notification is lost (retried later): the
    // gateway still shows the dispute open, and the response it sends is refused.
    const fault = await stack.control('POST', '/sandbox/v1/faults', { target: 'disputeNotification', kind: 'drop', count: 1 });
    assert.equal(fault.status, 201, fault.text);
    assert.equal((await stack.control('POST', `/sandbox/v1/disputes/${e.sandboxId}/judge`, { outcome: 'lost' })).status, 200);
    const page = await admin.get(`/dashboard/disputes/${e.id}`);
    const submitted = await admin.post(`/dashboard/disputes/${e.id}/evidence`, { csrf_token: csrfTokenIn(page.text), intent: 'submit', receipt: 'R-9' });
    assert.deepEqual([submitted.status, submitted.location], [303, `/dashboard/disputes/${e.id}?done=refused`], submitted.text);
    const shown = await admin.get(submitted.location ?? '');
    assert.equal(noticeOf(shown.text), 'Alipay+ refused the response (REPEAT_REQ_INCONSISTENT); correct it and submit again.');
    assert.match(shown.text, /data-testid="response-state" data-state="refused">Refused by Alipay\+ \(REPEAT_REQ_INCONSISTENT\)</);
    assert.match(shown.text, /data-status="needs_response"/);
    assert.match(shown.text, /data-testid="evidence-form"/);
    assert.match(shown.text, />R-9<\/textarea>/, 'the evidence given stays');
  });

  it('orders a dispute without a deadline last, and pages across it in both directions', async () => {
    const admin = await signedIn('admin@tea.test');
    const { a, b, c, d } = disputes;
    // Alipay+ always gives a deadline; a row without one (the column allows it) must still list.
    await stack.gateway.database.db.updateTable('disputes').set({ due_by: null }).where('id', '=', b.id).execute();
    const all = listedIds((await admin.get('/dashboard/disputes?order=deadline')).text);
    const e = all.find((id) => !Object.values(disputes).some((known) => known.id === id));
    assert.ok(e, 'the refused one of the test before');
    // Deadlines: d −1 day, a +10, e +8 (created later, so its countdown started later), c +20; b none.
    const expected = [d.id, e, a.id, c.id, b.id];
    assert.deepEqual(listedIds((await admin.get('/dashboard/disputes?order=deadline')).text), expected);
    const forwards: string[] = [];
    let page = await admin.get('/dashboard/disputes?order=deadline&limit=1');
    for (;;) {
      forwards.push(...listedIds(page.text));
      const next = pagerLink(page.text, 'next');
      if (next === null) break;
      page = await admin.get(next);
    }
    assert.deepEqual(forwards, expected);
    const backwards: string[] = [];
    for (;;) {
      const previous = pagerLink(page.text, 'prev');
      if (previous === null) break;
      page = await admin.get(previous);
      backwards.unshift(...listedIds(page.text));
    }
    assert.deepEqual(backwards, expected.slice(0, -1));
    const undated = await admin.get(`/dashboard/disputes/${b.id}`);
    assert.equal(undated.status, 200);
    assert.match(undated.text, /data-testid="dispute-deadline"><span class="muted">—<\/span>/);
  });
});
