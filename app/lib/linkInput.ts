// Checks the UI makes before sending link inputs; the server stays the judge of everything else.

export const maxClicksLimit = 1_000_000_000;
export const maxClicksMessage = 'Max clicks must be a whole number from 1 to 1,000,000,000.';

/** Parses the max-clicks input: undefined when empty, null when it is not a valid count. */
export function parseMaxClicks(value: string): number | undefined | null {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= maxClicksLimit ? n : null;
}
