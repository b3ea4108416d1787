'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import { api, errorMessage } from '../lib/api';
import { useSession } from './SessionProvider';
import styles from './SiteHeader.module.css';

const navItems = [
  { href: '/', label: 'Home', prefetch: null },
  { href: '/links', label: 'My links', prefetch: null },
  { href: '/keys', label: 'API keys', prefetch: null },
  { href: '/cluster', label: 'Cluster', prefetch: null },
] as const;

function isCurrent(pathname: string, href: string): boolean {
  return href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`);
}

export function SiteHeader() {
  const pathname = usePathname();
  return (
    <header className={styles.header}>
      <div className={styles.inner}>
        <Link href="/" className={styles.brand} aria-label="ringlink home">
          <span className={styles.logo} aria-hidden="true" />
          ringlink
        </Link>
        <nav className={styles.nav} aria-label="Main">
          <ul>
            {navItems.map((item) => (
              <li key={item.href}>
                <Link
                  href={item.href}
                  prefetch={item.prefetch}
                  className={styles.navLink}
                  aria-current={isCurrent(pathname, item.href) ? 'page' : undefined}
                >
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <SessionStatus />
      </div>
    </header>
  );
}

function SessionStatus() {
  const { user } = useSession();
  const [signingOut, setSigningOut] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setSigningOut(true);
    setError(null);
    try {
      await api.signOut();
      // Every page holds data of the old session; reloading refetches all of it.
      window.location.reload();
    } catch (e) {
      setError(errorMessage(e));
      setSigningOut(false);
    }
  }

  if (user === undefined) {
    return (
      <div className={styles.session} aria-hidden="true">
        <span className={`skeleton ${styles.sessionSkeleton}`} />
      </div>
    );
  }
  if (user === null) {
    return (
      <div className={styles.session}>
        <Link href="/signin" className={styles.sessionLink}>
          Sign in
        </Link>
        <span className={styles.separator} aria-hidden="true">
          /
        </span>
        <Link href="/signup" className={`btn btn-primary btn-small ${styles.signUp}`}>
          Sign up
        </Link>
      </div>
    );
  }
  return (
    <div className={styles.session}>
      <span className={styles.user} data-testid="session-user" title={`Signed in as ${user.username}`}>
        {user.username}
      </span>
      <span className={styles.separator} aria-hidden="true">
        ·
      </span>
      <button
        type="button"
        className="btn btn-ghost btn-small"
        data-testid="signout-button"
        onClick={signOut}
        disabled={signingOut}
      >
        {signingOut ? 'Signing out…' : 'Sign out'}
      </button>
      {error !== null && (
        <span role="alert" className={styles.sessionError}>
          {error}
        </span>
      )}
    </div>
  );
}
