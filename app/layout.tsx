import type { Metadata, Viewport } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { SessionNotice } from './components/SessionNotice';
import { SessionProvider } from './components/SessionProvider';
import { SiteHeader } from './components/SiteHeader';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'ringlink', template: '%s · ringlink' },
  description: 'Shorten links and watch their views live.',
  robots: { index: false, follow: false },
};

export const viewport: Viewport = {
  themeColor: '#4338ca',
  width: 'device-width',
  initialScale: 1,
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Render every page per request: Next puts the request's CSP nonce on its scripts only when it
  // renders (a page prerendered at build time has scripts without one, which the CSP would block).
  await connection();
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <SessionProvider>
          <SiteHeader />
          <SessionNotice />
          <main id="main" tabIndex={-1}>
            {children}
          </main>
        </SessionProvider>
      </body>
    </html>
  );
}
