import type { ResultCode } from '../../alipayplus/index.js';

/**
 * The sandbox's test shoppers: who pays and who is declined, and with which result code.
 * `customerId` uses Alipay's 2088… user-id shape.
 */
export interface TestShopper {
  id: string;
  name: string;
  customerId: string;
  walletBrand: 'ALIPAY_CN' | 'ALIPAY_HK';
  walletBrandName: string;
  /** What happens when this shopper presses Pay: success, or a decline with this code. */
  declineCode: ResultCode | null;
  description: string;
}

export const TEST_SHOPPERS: readonly TestShopper[] = [
  { id: 'alice', name: '李娜 Li Na', customerId: '2088102146225135', walletBrand: 'ALIPAY_CN', walletBrandName: 'Alipay', declineCode: null, description: 'pays' },
  { id: 'henry', name: '陳浩 Chan Ho', customerId: '2088102146225142', walletBrand: 'ALIPAY_HK', walletBrandName: 'AlipayHK', declineCode: null, description: 'pays with AlipayHK' },
  { id: 'bob', name: '王波 Wang Bo', customerId: '2088102146225159', walletBrand: 'ALIPAY_CN', walletBrandName: 'Alipay', declineCode: 'USER_BALANCE_NOT_ENOUGH', description: 'too little balance' },
  { id: 'carol', name: '张蕾 Zhang Lei', customerId: '2088102146225166', walletBrand: 'ALIPAY_CN', walletBrandName: 'Alipay', declineCode: 'RISK_REJECT', description: 'refused by risk control' },
];

export const DEFAULT_SHOPPER_ID = 'alice';

export function findShopper(id: string | undefined): TestShopper | undefined {
  return TEST_SHOPPERS.find((shopper) => shopper.id === (id ?? DEFAULT_SHOPPER_ID));
}
