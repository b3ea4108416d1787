import type { Metadata } from 'next';
import Link from 'next/link';
import { MessageCard } from './components/MessageCard';

export const metadata: Metadata = { title: 'Page not found' };

export default function NotFound() {
  return (
    <div className="page">
      <MessageCard
        eyebrow="404"
        title="This page does not exist"
        headingLevel={1}
        testId="not-found"
        actions={
          <>
            <Link href="/" className="btn btn-primary">
              Shorten a link
            </Link>
            <Link href="/links" className="btn btn-secondary">
              My links
            </Link>
          </>
        }
      >
        <p>The address may be mistyped, or the page has moved.</p>
      </MessageCard>
    </div>
  );
}
