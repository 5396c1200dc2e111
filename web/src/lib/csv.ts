// CSV export of what a page shows (RFC 4180, CRLF, UTF-8 with BOM so spreadsheet programs read
// Vietnamese correctly).

export type Cell = string | number | boolean | null | undefined;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  // Defuse formula injection in spreadsheet programs.
  if (/^[=+\-@\t\r]/.test(s) && typeof value === 'string') s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = [header.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))];
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

/** Offer a file for download. */
export function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Offer a CSV string as a file download. */
export function downloadCsv(filename: string, csv: string): void {
  downloadBlob(filename, new Blob([csv], { type: 'text/csv;charset=utf-8' }));
}

/** "users-2025-01-02.csv" with today's Vietnam date. */
export function csvFilename(base: string, now = new Date(), ext = 'csv'): string {
  const v = new Date(now.getTime() + 7 * 3_600_000);
  return `${base}-${v.toISOString().slice(0, 10)}.${ext}`;
}
