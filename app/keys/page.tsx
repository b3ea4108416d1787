import type { Metadata } from 'next';
import { ApiKeys } from '../components/ApiKeys';

export const metadata: Metadata = { title: 'API keys' };

export default function KeysPage() {
  return <ApiKeys />;
}
