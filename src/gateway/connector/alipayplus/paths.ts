/**
 * Where Alipay+ reaches the gateway: the HTTP layer serves these paths and the connector puts
 * them in what it sends (notifyUrl, the shopper's return URL). Apart from the connector itself,
 * so the HTTP layer needs nothing of the concrete connector but its addresses.
 */
export type Mode = 'test' | 'live';

/** Inbound Alipay+ paths on the gateway; one per mode, so each is verified with that mode's key. */
export const NOTIFY_PATHS: Record<Mode, string> = { test: '/alipayplus/test/notify', live: '/alipayplus/live/notify' };
export const RETURN_PATH_PREFIX = '/alipayplus/return/';

/** Inbound dispute calls, per mode: Alipay+ posts them to `disputes/<call>` beside the notify URL. */
export const DISPUTE_PATHS = {
  test: {
    initiateRetrieval: '/alipayplus/test/disputes/initiateRetrieval',
    initiateEscalation: '/alipayplus/test/disputes/initiateEscalation',
    notifyDisputeResult: '/alipayplus/test/disputes/notifyDisputeResult',
  },
  live: {
    initiateRetrieval: '/alipayplus/live/disputes/initiateRetrieval',
    initiateEscalation: '/alipayplus/live/disputes/initiateEscalation',
    notifyDisputeResult: '/alipayplus/live/disputes/notifyDisputeResult',
  },
} as const satisfies Record<Mode, Record<'initiateRetrieval' | 'initiateEscalation' | 'notifyDisputeResult', string>>;
