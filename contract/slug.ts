// Slugs (docs/api.md, Links: "Inputs"): 3 to 64 of A-Z a-z 0-9 "_" "-". The one place their
// limits, pattern and schema live: the redirect fast path (server/http/app.ts), the link rules
// (server/links/rules.ts), live subscriptions, the API's request bodies and the OpenAPI
// document all use these. Which slugs are reserved is the HTTP layer's to say
// (server/http/reservedSlugs.ts).
import { z } from 'zod';

export const slugCharsMin = 3;
export const slugCharsMax = 64;
// One bounded class, so it runs in linear time on any input (see server/links/rules.ts).
export const SLUG_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${slugCharsMin},${slugCharsMax}}$`);

/** Whether a UTF-16 code unit may appear in a slug: 0-9, A-Z, a-z, "-", "_". */
export function isSlugCharCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
}

export interface SlugFormatFailure {
  code: 'slug_format' | 'slug_too_short' | 'slug_too_long';
  message: string;
}

/** What is wrong with the slug's format (length, characters), or null when it has none. */
export function slugFormatFailure(slug: unknown): SlugFormatFailure | null {
  if (typeof slug !== 'string') return { code: 'slug_format', message: 'The custom slug must be text.' };
  if (slug.length < slugCharsMin)
    return { code: 'slug_too_short', message: `Custom slugs need at least ${slugCharsMin} characters.` };
  if (slug.length > slugCharsMax) {
    return {
      code: 'slug_too_long',
      message: `Custom slugs can be at most ${slugCharsMax} characters long (this one has ${slug.length}).`,
    };
  }
  if (!SLUG_PATTERN.test(slug)) {
    return { code: 'slug_format', message: 'Custom slugs may only use letters A-Z and a-z, digits 0-9, "-" and "_".' };
  }
  return null;
}

/**
 * A slug in a request body. A failure is a custom issue whose `params.code` is the failure's
 * code and whose message is the sentence to show, so the API answers the same 422 whether the
 * schema or the link rules catch it.
 */
export const slugSchema = z
  .string()
  .superRefine((slug, ctx) => {
    const failure = slugFormatFailure(slug);
    if (failure) ctx.addIssue({ code: 'custom', message: failure.message, params: { code: failure.code } });
  })
  .meta({
    id: 'Slug',
    description: `${slugCharsMin}-${slugCharsMax} characters of A-Z a-z 0-9 _ -, not a reserved word (a page or route of the site).`,
    minLength: slugCharsMin,
    maxLength: slugCharsMax,
    pattern: SLUG_PATTERN.source,
  });
