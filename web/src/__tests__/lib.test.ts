import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../lib/csv';
import { compareValues, fold, matchesQuery } from '../lib/text';
import { matchPath } from '../router';

describe('text', () => {
  it('folds Vietnamese diacritics', () => {
    expect(fold('Phường Quy Nhơn')).toBe('phuong quy nhon');
    expect(fold('Đắk Đoa')).toBe('dak doa');
    expect(matchesQuery('Phường Quy Nhơn (21583)', 'quy nhon')).toBe(true);
    expect(matchesQuery('Phường Pleiku', 'quy nhon')).toBe(false);
  });

  it('sorts in Vietnamese order with empties last', () => {
    const names = ['Ân', 'Bình', 'An', 'Đức', 'Dũng', ''];
    expect([...names].sort(compareValues)).toEqual(['An', 'Ân', 'Bình', 'Dũng', 'Đức', '']);
    expect([10, 9, 100].sort(compareValues)).toEqual([9, 10, 100]);
  });
});

describe('csv', () => {
  it('quotes and escapes cells', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('=cmd()')).toBe("'=cmd()");
  });

  it('writes a BOM, header and CRLF rows', () => {
    expect(toCsv(['Tên', 'Mã'], [['Phường Quy Nhơn', '21583']])).toBe('\uFEFFTên,Mã\r\nPhường Quy Nhơn,21583\r\n');
  });
});

describe('router', () => {
  it('matches patterns', () => {
    expect(matchPath('/org/:id', '/org/140')).toEqual({ id: '140' });
    expect(matchPath('/org', '/org/')).toEqual({});
    expect(matchPath('/org/:id', '/org')).toBeNull();
    expect(matchPath('/admin/users', '/admin/duty')).toBeNull();
    expect(matchPath('/', '/')).toEqual({});
  });
});

describe('connectorState', () => {
  it('says whether a connector is off, never ran, failed last time or works', async () => {
    const { connectorState } = await import('../api/devices');
    expect(connectorState({ enabled: false, last_run: '2026-11-24T01:00:00Z', last_error: null })).toBe('disabled');
    expect(connectorState({ enabled: true, last_run: null, last_error: null })).toBe('never_run');
    expect(connectorState({ enabled: true, last_run: '2026-11-24T01:00:00Z', last_error: 'HTTP 500' })).toBe('failing');
    expect(connectorState({ enabled: true, last_run: '2026-11-24T01:00:00Z', last_error: null })).toBe('ok');
  });
});
