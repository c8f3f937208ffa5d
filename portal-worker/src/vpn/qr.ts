/**
 * A QR code of a configuration, for phones to scan (upstream's WireGuard result page). Returned
 * as one SVG path so the page stays small and needs neither an image request nor inline style.
 */
import qrcode from 'qrcode-generator';

export interface QrPath {
  /** Width and height in modules, quiet zone included (the SVG viewBox). */
  size: number;
  /** SVG path data: one rectangle per horizontal run of dark modules. */
  d: string;
}

// ISO/IEC 18004 asks for four light modules around the symbol; scanners need them to find it.
const QUIET = 4;

/**
 * The QR code of `text` (UTF-8, byte mode, error correction M), or null when the text does not
 * fit even the largest version (a profile with very many routes).
 */
export function qrPath(text: string): QrPath | null {
  const qr = qrcode(0, 'M');
  // The library's byte mode takes one char per byte: hand it the UTF-8 bytes so non-ASCII
  // profile names survive (its default keeps only the low byte of each UTF-16 unit).
  const utf8 = String.fromCharCode(...new TextEncoder().encode(text));
  try {
    qr.addData(utf8, 'Byte');
    qr.make();
  } catch {
    return null;
  }
  const n = qr.getModuleCount();
  const runs: string[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; ) {
      if (!qr.isDark(r, c)) {
        c++;
        continue;
      }
      const start = c;
      while (c < n && qr.isDark(r, c)) c++;
      runs.push(`M${start + QUIET} ${r + QUIET}h${c - start}v1h-${c - start}z`);
    }
  }
  return { size: n + 2 * QUIET, d: runs.join('') };
}
