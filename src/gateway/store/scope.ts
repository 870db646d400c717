/** Whose rows a query may touch: one account in one mode. Every merchant query carries it. */
export interface Scope {
  accountId: string;
  livemode: boolean;
}

export const bool = (value: boolean): number => (value ? 1 : 0);
