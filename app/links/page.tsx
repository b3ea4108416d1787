import type { Metadata } from 'next';
import { MyLinks } from '../components/MyLinks';

export const metadata: Metadata = { title: 'My links' };

export default function LinksPage() {
  return <MyLinks />;
}
