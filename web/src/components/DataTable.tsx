import { useMemo, useState, type ReactNode } from 'react';
import { useApp } from '../app/AppContext';
import { csvFilename, downloadCsv, toCsv, type Cell } from '../lib/csv';
import { downloadXlsx, toXlsx } from '../lib/xlsx';
import { compareValues, matchesQuery } from '../lib/text';

export interface Column<T> {
  key: string;
  label: string;
  /** Plain value used to sort, filter and export. */
  value: (row: T) => Cell;
  /** How the cell looks (defaults to the value). */
  render?: (row: T) => ReactNode;
  sortable?: boolean;
  /** Leave this column out of the CSV export (e.g. action buttons). */
  noExport?: boolean;
  className?: string;
}

interface DataTableProps<T> {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  /** Base name of the exported CSV file. */
  exportName: string;
  testId: string;
  caption?: string;
  empty?: ReactNode;
  /** Extra content for the toolbar (left of the export button). */
  toolbar?: ReactNode;
  initialSort?: { key: string; dir: 'asc' | 'desc' };
  rowTestId?: (row: T) => string;
  rowClassName?: (row: T) => string | undefined;
}

/**
 * A table of the rows on screen with a client-side filter (diacritic-insensitive), sortable
 * columns (Vietnamese collation) and CSV/XLSX export of the filtered, sorted rows. On narrow screens
 * the stylesheet lays rows out as cards using each cell's data-label.
 */
export function DataTable<T>({
  columns,
  rows,
  rowKey,
  exportName,
  testId,
  caption,
  empty,
  toolbar,
  initialSort,
  rowTestId,
  rowClassName,
}: DataTableProps<T>) {
  const { t } = useApp();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: string; dir: 'asc' | 'desc' } | null>(initialSort ?? null);

  const shown = useMemo(() => {
    let out = rows.slice();
    if (filter.trim()) {
      out = out.filter((r) =>
        matchesQuery(
          columns
            .map((c) => c.value(r))
            .filter((v) => v !== null && v !== undefined)
            .join(' '),
          filter,
        ),
      );
    }
    if (sort) {
      const col = columns.find((c) => c.key === sort.key);
      if (col) {
        const dir = sort.dir === 'asc' ? 1 : -1;
        out.sort((a, b) => dir * compareValues(col.value(a), col.value(b)));
      }
    }
    return out;
  }, [rows, columns, filter, sort]);

  const toggleSort = (key: string) => {
    setSort((s) => (s?.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }));
  };

  const exported = () => {
    const cols = columns.filter((c) => !c.noExport);
    return { header: cols.map((c) => c.label), rows: shown.map((r) => cols.map((c) => c.value(r))) };
  };
  const exportCsv = () => {
    const { header, rows: data } = exported();
    downloadCsv(csvFilename(exportName), toCsv(header, data));
  };
  const exportXlsx = () => {
    const { header, rows: data } = exported();
    downloadXlsx(csvFilename(exportName, new Date(), 'xlsx'), toXlsx(caption ?? exportName, header, data));
  };

  return (
    <div className="datatable" data-testid={testId}>
      <div className="toolbar">
        <label className="toolbar-filter">
          <span className="visually-hidden">{t('common.filterRows')}</span>
          <input
            type="search"
            placeholder={t('common.filterRows')}
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            data-testid={`${testId}-filter`}
          />
        </label>
        <span className="muted small" data-testid={`${testId}-count`}>
          {shown.length === rows.length
            ? t('common.rows', { count: rows.length })
            : t('common.shownOf', { shown: shown.length, total: rows.length })}
        </span>
        <label className="sort-select">
          <span className="visually-hidden">{t('common.sortBy')}</span>
          <select
            value={sort ? `${sort.key}:${sort.dir}` : ''}
            onChange={(e) => {
              const [key, dir] = e.target.value.split(':');
              setSort(key ? { key, dir: dir === 'desc' ? 'desc' : 'asc' } : null);
            }}
            data-testid={`${testId}-sort`}
          >
            <option value="">{t('common.sortBy')}</option>
            {columns
              .filter((c) => c.sortable !== false)
              .flatMap((c) => [
                <option key={`${c.key}:asc`} value={`${c.key}:asc`}>
                  {c.label} ▲
                </option>,
                <option key={`${c.key}:desc`} value={`${c.key}:desc`}>
                  {c.label} ▼
                </option>,
              ])}
          </select>
        </label>
        <span className="spacer" />
        {toolbar}
        <button type="button" className="btn btn-ghost" onClick={exportCsv} data-testid={`${testId}-export`}>
          {t('common.exportCsv')}
        </button>
        <button type="button" className="btn btn-ghost" onClick={exportXlsx} data-testid={`${testId}-export-xlsx`}>
          {t('common.exportXlsx')}
        </button>
      </div>
      <div className="table-scroll">
        <table className="table">
          {caption && <caption className="visually-hidden">{caption}</caption>}
          <thead>
            <tr>
              {columns.map((c) => {
                const active = sort?.key === c.key;
                const ariaSort = active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined;
                return (
                  <th key={c.key} scope="col" aria-sort={ariaSort} className={c.className}>
                    {c.sortable === false ? (
                      c.label
                    ) : (
                      <button type="button" className="th-sort" onClick={() => toggleSort(c.key)}>
                        {c.label}
                        <span className="sort-mark" aria-hidden="true">
                          {active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕'}
                        </span>
                        {active && (
                          <span className="visually-hidden">
                            {sort.dir === 'asc' ? t('common.sortAsc') : t('common.sortDesc')}
                          </span>
                        )}
                      </button>
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={rowKey(r)} data-testid={rowTestId?.(r)} className={rowClassName?.(r)}>
                {columns.map((c) => (
                  <td key={c.key} data-label={c.label} className={c.className}>
                    {c.render ? c.render(r) : (c.value(r) ?? '')}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {shown.length === 0 && <p className="empty">{empty ?? t('common.empty')}</p>}
      </div>
    </div>
  );
}
