import { useMemo } from 'react';
import { encode } from 'uqr';

/** A QR code drawn as SVG, computed in the browser (nothing leaves the page). */
export function Qr({ text, size = 192, label, testId = 'totp-qr' }: { text: string; size?: number; label: string; testId?: string }) {
  const path = useMemo(() => {
    const { data, size: n } = encode(text, { ecc: 'M', border: 2 });
    let d = '';
    for (let y = 0; y < n; y++) {
      const row = data[y];
      if (!row) continue;
      for (let x = 0; x < n; x++) if (row[x]) d += `M${x} ${y}h1v1h-1z`;
    }
    return { d, n };
  }, [text]);
  return (
    <svg
      width={size}
      height={size}
      viewBox={`0 0 ${path.n} ${path.n}`}
      role="img"
      aria-label={label}
      shapeRendering="crispEdges"
      className="qr"
      data-testid={testId}
    >
      <rect width={path.n} height={path.n} fill="#fff" />
      <path d={path.d} fill="#000" />
    </svg>
  );
}
