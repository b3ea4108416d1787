import { ShortenForm } from './components/ShortenForm';
import styles from './page.module.css';

export default function HomePage() {
  return (
    <div className="page">
      <header className={styles.hero}>
        <h1 className="page-title">Shorten a link</h1>
        <p className="page-lead">Paste a long URL, get a short one with a QR code and live view counts.</p>
      </header>
      <ShortenForm />
    </div>
  );
}
