import type { Metadata } from 'next';
import { ClusterDashboard } from '../components/ClusterDashboard';

export const metadata: Metadata = { title: 'Cluster' };

export default function ClusterPage() {
  return <ClusterDashboard />;
}
