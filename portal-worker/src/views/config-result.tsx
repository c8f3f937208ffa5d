import { formatTime } from '../i18n/index.ts';
import type { QrPath } from '../vpn/qr.ts';
import type { UserPageContext } from './page.ts';
import { Layout } from './layout.tsx';

export interface WireguardResult {
  name: string;
  /** The whole file, private key included: shown once, never stored. */
  config: string;
  fileName: string;
  expiresAt: number;
  qr: QrPath | null;
}

/** UTF-8 safe base64, for the data: URL of the download link. */
function base64Utf8(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/**
 * The WireGuard config made in the portal: the text to copy, a download (a data: URL with
 * `download`, which the CSP allows: it governs fetches, not downloads) and a QR code for phones.
 */
export function WireguardResultPage({ page, result }: { page: UserPageContext; result: WireguardResult }) {
  const { t } = page;
  return (
    <Layout page={page} title={t('portal.result.title')}>
      <h1>{t('portal.result.title')}</h1>
      <p class="notice" role="status" id="wg-once">
        {t('portal.result.once')}
      </p>
      <p>
        <strong>{result.name}</strong> · {t('portal.result.expires', { time: formatTime(result.expiresAt) })}
      </p>
      <div class="grid2">
        <section aria-labelledby="wg-config-label">
          <h2 id="wg-config-label">{t('portal.result.config')}</h2>
          <textarea id="wg-config" class="config" readonly rows={14} cols={60} spellcheck={false} aria-labelledby="wg-config-label">
            {result.config}
          </textarea>
          <p class="toolbar">
            <button type="button" id="wg-copy" data-copy="#wg-config" data-copied-label={t('common.copied')}>
              {t('common.copy')}
            </button>
            <a id="wg-download" download={result.fileName} href={`data:text/plain;charset=utf-8;base64,${base64Utf8(result.config)}`}>
              {t('portal.result.download', { file: result.fileName })}
            </a>
          </p>
        </section>
        <section aria-labelledby="wg-qr-label" class="qr">
          <h2 id="wg-qr-label">{t('portal.result.qr')}</h2>
          {result.qr ? (
            <>
              <svg
                id="wg-qr"
                role="img"
                aria-label={t('portal.result.qrLabel', { name: result.name })}
                xmlns="http://www.w3.org/2000/svg"
                viewBox={`0 0 ${result.qr.size} ${result.qr.size}`}
                shape-rendering="crispEdges"
              >
                <rect width={result.qr.size} height={result.qr.size} fill="#fff" />
                <path d={result.qr.d} fill="#000" />
              </svg>
              <p class="muted">{t('portal.result.qrHint')}</p>
            </>
          ) : (
            <p id="wg-qr-too-big">{t('portal.result.qrTooBig')}</p>
          )}
        </section>
      </div>
      <p>
        <a href="/" id="wg-back">
          {t('portal.result.back')}
        </a>
      </p>
    </Layout>
  );
}
