/**
 * Business categories that may not take Alipay payments through this gateway (api.md §7).
 *
 * Source: compiled for Zhifu from the categories issue 5 names (gambling, adult content, weapons,
 * drugs, counterfeit goods, unlicensed financial services) and the public prohibited-business
 * lists that Alipay+ acquirers and Stripe publish (e.g. https://stripe.com/legal/restricted-businesses,
 * "Prohibited businesses"), keeping only what those lists treat as prohibited outright rather
 * than restricted (restricted categories such as alcohol or travel need a review, not a refusal).
 * Reviewed 2026-11; a change here is a policy change: keep the reason text merchant-readable.
 *
 * An account's `business_category` is matched after normalisation (lower case, spaces and
 * hyphens as `_`) against each entry's `slug` and `aliases`.
 */
export interface ProhibitedCategory {
  slug: string;
  /** Shown to the merchant in the 400 that refuses a payment. */
  reason: string;
  aliases: readonly string[];
}

export const PROHIBITED_CATEGORIES: readonly ProhibitedCategory[] = [
  { slug: 'gambling', reason: 'gambling, betting and lotteries', aliases: ['betting', 'casino', 'casinos', 'online_gambling', 'lottery', 'lotteries', 'sports_betting', 'bookmaker', 'bookmakers'] },
  { slug: 'adult_content', reason: 'adult content and services', aliases: ['adult', 'pornography', 'adult_services', 'escort_services', 'escorts', 'adult_entertainment'] },
  { slug: 'weapons', reason: 'weapons, firearms, ammunition and explosives', aliases: ['firearms', 'guns', 'ammunition', 'explosives', 'weapon', 'arms_dealing'] },
  { slug: 'drugs', reason: 'illegal drugs, drug paraphernalia and unapproved pharmaceuticals', aliases: ['illegal_drugs', 'narcotics', 'drug_paraphernalia', 'controlled_substances', 'recreational_drugs'] },
  { slug: 'counterfeit_goods', reason: 'counterfeit or intellectual-property-infringing goods', aliases: ['counterfeit', 'counterfeits', 'replicas', 'fake_goods', 'pirated_goods', 'ip_infringement'] },
  {
    slug: 'unlicensed_financial_services',
    reason: 'unlicensed financial services (money transmission, lending, securities or currency exchange without a licence)',
    aliases: ['unlicensed_money_transmission', 'unlicensed_lending', 'money_laundering', 'unlicensed_forex', 'unlicensed_securities'],
  },
  { slug: 'virtual_currency', reason: 'virtual currency trading and initial coin offerings', aliases: ['cryptocurrency', 'crypto', 'cryptocurrency_exchange', 'ico', 'initial_coin_offering'] },
  { slug: 'pyramid_schemes', reason: 'pyramid schemes and multi-level marketing with recruitment rewards', aliases: ['pyramid_scheme', 'ponzi_scheme', 'ponzi_schemes', 'mlm'] },
  { slug: 'human_trafficking', reason: 'human trafficking and the sale of human organs or remains', aliases: ['organ_sales', 'human_organs'] },
  { slug: 'endangered_species', reason: 'endangered species and protected wildlife products', aliases: ['wildlife_trade', 'ivory'] },
  { slug: 'hacking_services', reason: 'hacking, malware and the sale of personal data', aliases: ['malware', 'stolen_data', 'personal_data_sales'] },
];

export function normaliseCategory(category: string): string {
  return category.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** The prohibited category an account's business_category falls under, or null. */
export function prohibitedCategoryOf(category: string | null): ProhibitedCategory | null {
  if (category === null) return null;
  const normalised = normaliseCategory(category);
  return PROHIBITED_CATEGORIES.find((entry) => entry.slug === normalised || entry.aliases.includes(normalised)) ?? null;
}
