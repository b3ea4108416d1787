import type { Metadata } from 'next';
import { LinkDetails } from '../../components/LinkDetails';

interface LinkPageProps {
  params: Promise<{ slug: string }>;
}

export async function generateMetadata({ params }: LinkPageProps): Promise<Metadata> {
  const { slug } = await params;
  return { title: `/${slug} stats` };
}

export default async function LinkPage({ params }: LinkPageProps) {
  const { slug } = await params;
  return <LinkDetails slug={slug} />;
}
