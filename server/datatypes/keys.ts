// Every key namespace the shortener uses on the ring. Keys are "<type>/<id>"; the type names
// the data type that merges, encodes and expires the value (riak_core's vnode behaviour: the
// ring never special-cases them; they are registered in ./index.ts).
//
//   link/<slug>        register  the link document (target, owner, options)    links/linkDoc.ts
//   owns/<owner>/<s>   2P-set    no longer written (an owner's links are the link type's secondary index);
//                                registered only so that older data directories still decode
//   session/<idHash>   register  a browser session; the ring expires it        auth/docs.ts
//   apikey/<keyHash>   register  an API key (only its hash is ever stored)     auth/docs.ts
//   keys/<accountId>   2P-set    "id:hash" of an account's API keys
//   views/<slug>       G-counter human views      bots/<slug>  G-counter bot views
//   stats/<slug>       CRDT      series, referrers, devices, unique visitors  (links/stats.ts)
//   kv/<id>, ctr/<id>  register, G-counter: the admin API's own (./kvAndCounter.ts)
//
// Compare-and-set registers (their state lives in the CAS acceptors, not in a type):
//   slug/<slug>        who claimed a slug: custom and random slugs are granted once
//   user/<username>    the account: usernames are granted once
//   budget/<slug>      max-clicks budget and the leases granted from it (links/clickBudget.ts)
//   cas/<id>           the admin API's compare-and-set registers

export const linkKey = (slug: string) => `link/${slug}`;
export const viewsKey = (slug: string) => `views/${slug}`;
export const botsKey = (slug: string) => `bots/${slug}`;
export const statsKey = (slug: string) => `stats/${slug}`;
export const slugClaimKey = (slug: string) => `slug/${slug}`;
export const userKey = (username: string) => `user/${username.toLowerCase()}`;
export const budgetKey = (slug: string) => `budget/${slug}`;
export const sessionKey = (idHash: string) => `session/${idHash}`;
export const apiKeyKey = (keyHash: string) => `apikey/${keyHash}`;
export const keysKey = (accountId: string) => `keys/${accountId}`;
