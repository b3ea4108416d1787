// Copy text with the async Clipboard API, falling back to a hidden textarea where that API is
// missing or refused (plain http on a non-localhost host, older browsers).

export async function copyText(text: string): Promise<void> {
  if (typeof navigator !== 'undefined' && navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Permission denied or document not focused: try the legacy path below.
    }
  }
  copyWithTextarea(text);
}

function copyWithTextarea(text: string): void {
  const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const textarea = document.createElement('textarea');
  textarea.value = text;
  textarea.setAttribute('readonly', '');
  textarea.style.position = 'fixed';
  textarea.style.top = '0';
  textarea.style.left = '0';
  textarea.style.opacity = '0';
  document.body.appendChild(textarea);
  textarea.select();
  textarea.setSelectionRange(0, text.length);
  let copied: boolean;
  try {
    copied = document.execCommand('copy');
  } finally {
    textarea.remove();
    active?.focus();
  }
  if (!copied) throw new Error('Copying is not available in this browser. Select the text and copy it.');
}
