/* global module */
/**
 * Layer rules of DESIGN.md, checked by `npm run lint` (dependency-cruiser): dependencies point one
 * way — HTTP → core → domain, store, connector → protocol library — with no cycles. The CLI and
 * the server wiring (src/gateway/server.ts, src/gateway/index.ts) may name concrete classes.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle means two modules are one layer in disguise; split what both need into a third.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-library-stands-alone',
      severity: 'error',
      comment: 'src/alipayplus is the Alipay+ protocol library: the gateway and the sandbox build on it, never the reverse.',
      from: { path: '^src/alipayplus/' },
      to: { path: '^src/(gateway|sandbox|cli)/' },
    },
    {
      name: 'sandbox-only-uses-protocol-library',
      severity: 'error',
      comment: 'The sandbox is the other party: it shares nothing with the gateway but the protocol library.',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/', pathNot: '^src/(sandbox|alipayplus)/' },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'Domain rules are pure: they import only other domain modules (and errors, clock, ids).',
      from: { path: '^src/gateway/domain/' },
      to: { path: '^src/', pathNot: '^src/gateway/(domain/|errors\\.ts$|clock\\.ts$|ids\\.ts$)' },
    },
    {
      name: 'store-below-core',
      severity: 'error',
      comment: 'The store persists what the core decided; it never calls up.',
      from: { path: '^src/gateway/store/' },
      to: { path: '^src/gateway/(core|http|workers|webhooks|connector)/' },
    },
    {
      name: 'connector-returns-outcomes-only',
      severity: 'error',
      comment: 'The connector maps the wallet network to outcomes; the core applies them. It never calls the core, HTTP or workers.',
      from: { path: '^src/gateway/connector/' },
      to: { path: '^src/gateway/(core|http|workers|store)/' },
    },
    {
      name: 'core-below-http-and-workers',
      severity: 'error',
      comment: 'The core serves HTTP and workers through the PaymentConnector interface, never the concrete Alipay+ connector.',
      from: { path: '^src/gateway/core/' },
      to: { path: '^src/gateway/(http|workers|webhooks)/|^src/gateway/connector/alipayplus/' },
    },
    {
      name: 'http-uses-connector-interface',
      comment: 'The HTTP layer reaches the network through the core and the PaymentConnector interface; of the Alipay+ connector it knows only the paths it serves.',
      severity: 'error',
      from: { path: '^src/gateway/http/' },
      to: { path: '^src/gateway/connector/alipayplus/', pathNot: '^src/gateway/connector/alipayplus/paths\\.ts$' },
    },
    {
      name: 'workers-use-core-and-connector-interface',
      severity: 'error',
      comment: 'Workers call the core and the PaymentConnector interface; the server wiring hands them the concrete connector.',
      from: { path: '^src/gateway/workers/' },
      to: { path: '^src/gateway/http/|^src/gateway/connector/alipayplus/' },
    },
    {
      name: 'metrics-are-counted-into',
      severity: 'error',
      comment: 'Every layer counts into src/gateway/metrics; it reads the store at scrape time but never calls HTTP, the core, workers, webhooks or the connector.',
      from: { path: '^src/gateway/metrics/' },
      to: { path: '^src/gateway/(http|core|workers|webhooks|connector)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a broken build.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
