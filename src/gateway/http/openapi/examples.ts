/**
 * Zhifu's examples in the reference page (`x-codeSamples` and the operation's description):
 * the seed's Direct API flow (create and confirm an Alipay PaymentIntent, retrieve it, refund it)
 * and its Checkout flow (create a session, retrieve it with its line items), each with curl, the
 * official `stripe` package for Node, and the `stripe` module for Python. `$ZHIFU_URL` is this
 * gateway's URL (http://127.0.0.1:4242 by default), `$ZHIFU_SECRET_KEY` a test secret key.
 */
export interface CodeSample {
  lang: 'Shell' | 'JavaScript' | 'Python';
  label: string;
  source: string;
}

const NODE_CLIENT = `import Stripe from 'stripe';
// Point the official SDK at Zhifu (host, port and protocol of your gateway).
const url = new URL(process.env.ZHIFU_URL ?? 'http://127.0.0.1:4242');
const stripe = new Stripe(process.env.ZHIFU_SECRET_KEY, {
  host: url.hostname, port: Number(url.port), protocol: url.protocol.slice(0, -1),
});`;

const PYTHON_CLIENT = `import os
import stripe
stripe.api_key = os.environ["ZHIFU_SECRET_KEY"]
stripe.api_base = os.environ.get("ZHIFU_URL", "http://127.0.0.1:4242")`;

const samples = (curl: string, node: string, python: string): CodeSample[] => [
  { lang: 'Shell', label: 'curl', source: curl },
  { lang: 'JavaScript', label: 'Node (stripe)', source: `${NODE_CLIENT}\n\n${node}` },
  { lang: 'Python', label: 'Python (stripe)', source: `${PYTHON_CLIENT}\n\n${python}` },
];

export const CODE_SAMPLES: Record<string, CodeSample[]> = {
  CreatePaymentIntent: samples(
    `curl "$ZHIFU_URL/v1/payment_intents" -u "$ZHIFU_SECRET_KEY:" \\
  -d amount=1000 -d currency=cny -d confirm=true \\
  -d "payment_method_types[0]=alipay" -d "payment_method_data[type]=alipay" \\
  -d "payment_method_options[alipay][terminal_type]=WEB" \\
  -d return_url=https://shop.example/return -d merchant_order_id=order-1001`,
    `const intent = await stripe.paymentIntents.create({
  amount: 1000,
  currency: 'cny',
  confirm: true,
  payment_method_types: ['alipay'],
  payment_method_data: { type: 'alipay' },
  payment_method_options: { alipay: { terminal_type: 'WEB' } },
  return_url: 'https://shop.example/return',
  merchant_order_id: 'order-1001',
});
// requires_action: send the shopper to the wallet
console.log(intent.status, intent.next_action.redirect_to_url.url);`,
    `intent = stripe.PaymentIntent.create(
    amount=1000,
    currency="cny",
    confirm=True,
    payment_method_types=["alipay"],
    payment_method_data={"type": "alipay"},
    payment_method_options={"alipay": {"terminal_type": "WEB"}},
    return_url="https://shop.example/return",
    merchant_order_id="order-1001",
)
# requires_action: send the shopper to the wallet
print(intent.status, intent.next_action.redirect_to_url.url)`,
  ),
  ConfirmPaymentIntent: samples(
    `curl "$ZHIFU_URL/v1/payment_intents/pi_1666729870215872512/confirm" -u "$ZHIFU_SECRET_KEY:" \\
  -d "payment_method_data[type]=alipay" \\
  -d "payment_method_options[alipay][terminal_type]=WAP" \\
  -d "payment_method_options[alipay][os_type]=ANDROID" \\
  -d return_url=https://shop.example/return`,
    `const intent = await stripe.paymentIntents.confirm('pi_1666729870215872512', {
  payment_method_data: { type: 'alipay' },
  payment_method_options: { alipay: { terminal_type: 'WAP', os_type: 'ANDROID' } },
  return_url: 'https://shop.example/return',
});`,
    `intent = stripe.PaymentIntent.confirm(
    "pi_1666729870215872512",
    payment_method_data={"type": "alipay"},
    payment_method_options={"alipay": {"terminal_type": "WAP", "os_type": "ANDROID"}},
    return_url="https://shop.example/return",
)`,
  ),
  RetrievePaymentIntent: samples(
    `curl "$ZHIFU_URL/v1/payment_intents/pi_1666729870215872512" -u "$ZHIFU_SECRET_KEY:"`,
    `const intent = await stripe.paymentIntents.retrieve('pi_1666729870215872512');
console.log(intent.status, intent.amount_received);`,
    `intent = stripe.PaymentIntent.retrieve("pi_1666729870215872512")
print(intent.status, intent.amount_received)`,
  ),
  CreateRefund: samples(
    `curl "$ZHIFU_URL/v1/refunds" -u "$ZHIFU_SECRET_KEY:" \\
  -d payment_intent=pi_1666729870215872512 -d amount=400 -d reason=requested_by_customer`,
    `const refund = await stripe.refunds.create({
  payment_intent: 'pi_1666729870215872512',
  amount: 400,
  reason: 'requested_by_customer',
});
console.log(refund.status);`,
    `refund = stripe.Refund.create(
    payment_intent="pi_1666729870215872512",
    amount=400,
    reason="requested_by_customer",
)
print(refund.status)`,
  ),
  CreateCheckoutSession: samples(
    `curl "$ZHIFU_URL/v1/checkout/sessions" -u "$ZHIFU_SECRET_KEY:" \\
  -d mode=payment -d success_url=https://shop.example/success -d cancel_url=https://shop.example/cart \\
  -d "payment_method_types[0]=alipay" \\
  -d "line_items[0][price_data][currency]=cny" \\
  -d "line_items[0][price_data][unit_amount]=1200" \\
  -d "line_items[0][price_data][product_data][name]=T-shirt" \\
  -d "line_items[0][quantity]=2"`,
    `const session = await stripe.checkout.sessions.create({
  mode: 'payment',
  success_url: 'https://shop.example/success',
  cancel_url: 'https://shop.example/cart',
  payment_method_types: ['alipay'],
  line_items: [{ price_data: { currency: 'cny', unit_amount: 1200, product_data: { name: 'T-shirt' } }, quantity: 2 }],
});
// Send the shopper to the hosted checkout page
console.log(session.url);`,
    `session = stripe.checkout.Session.create(
    mode="payment",
    success_url="https://shop.example/success",
    cancel_url="https://shop.example/cart",
    payment_method_types=["alipay"],
    line_items=[{"price_data": {"currency": "cny", "unit_amount": 1200, "product_data": {"name": "T-shirt"}}, "quantity": 2}],
)
# Send the shopper to the hosted checkout page
print(session.url)`,
  ),
  RetrieveCheckoutSession: samples(
    `curl -G "$ZHIFU_URL/v1/checkout/sessions/cs_1666729870215872512" -u "$ZHIFU_SECRET_KEY:" \\
  -d "expand[]=line_items"`,
    `const session = await stripe.checkout.sessions.retrieve('cs_1666729870215872512', { expand: ['line_items'] });
console.log(session.status, session.payment_status, session.line_items.data.length);`,
    `session = stripe.checkout.Session.retrieve("cs_1666729870215872512", expand=["line_items"])
print(session.status, session.payment_status, len(session.line_items.data))`,
  ),
  ListCheckoutSessionLineItems: samples(
    `curl "$ZHIFU_URL/v1/checkout/sessions/cs_1666729870215872512/line_items" -u "$ZHIFU_SECRET_KEY:"`,
    `const items = await stripe.checkout.sessions.listLineItems('cs_1666729870215872512');`,
    `items = stripe.checkout.Session.list_line_items("cs_1666729870215872512")`,
  ),
};

const FENCE: Record<CodeSample['lang'], string> = { Shell: 'bash', JavaScript: 'js', Python: 'python' };

/** The samples as Markdown, appended to the operation's description (swagger-ui shows descriptions, not x-codeSamples). */
export function samplesMarkdown(list: readonly CodeSample[]): string {
  return list.map((sample) => `**${sample.label}**\n\n\`\`\`${FENCE[sample.lang]}\n${sample.source}\n\`\`\``).join('\n\n');
}
