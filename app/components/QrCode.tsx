'use client';

import { useEffect, useState } from 'react';
import styles from './QrCode.module.css';

/** A scannable QR code of `url`, drawn as SVG (qrcode is loaded only when one is shown). */
export function QrCode({ url, size = 168 }: { url: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let current = true;
    setSrc(null);
    setFailed(false);
    import('qrcode')
      .then((qrcode) =>
        qrcode.toString(url, {
          type: 'svg',
          margin: 1,
          errorCorrectionLevel: 'M',
          color: { dark: '#111827', light: '#ffffff' },
        }),
      )
      .then((svg) => {
        if (current) setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
      })
      .catch(() => {
        if (current) setFailed(true);
      });
    return () => {
      current = false;
    };
  }, [url]);

  return (
    <figure className={styles.figure}>
      <div className={styles.frame} style={{ width: size, height: size }}>
        {src !== null ? (
          // A data: URL of generated SVG; next/image would add nothing here.
          <img src={src} width={size} height={size} alt={`QR code for ${url}`} data-testid="qr-code" />
        ) : failed ? (
          <span className={styles.failed}>QR code unavailable</span>
        ) : (
          <span className="skeleton" style={{ width: size, height: size }} aria-hidden="true" />
        )}
      </div>
      <figcaption className={styles.caption}>
        {src !== null && (
          <a href={src} download={`${url.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9_-]+/g, '-')}-qr.svg`}>
            Download SVG
          </a>
        )}
      </figcaption>
    </figure>
  );
}
