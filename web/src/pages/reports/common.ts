import { api } from '../../api/client';
import type { Category, PublicConfig } from '../../api/reports';
import { useAsync, type Async } from '../../app/hooks';

let categoriesCache: Promise<Category[]> | null = null;
let configCache: Promise<PublicConfig> | null = null;

/** `GET /api/report-categories`, shared by the report pages (reloaded after admin edits). */
export function useCategories(tick = 0): Async<Category[]> {
  return useAsync(() => {
    if (!categoriesCache || tick > 0) {
      categoriesCache = api.get<Category[]>('/api/report-categories');
      categoriesCache.catch(() => {
        categoriesCache = null;
      });
    }
    return categoriesCache;
  }, [tick]);
}

/** Province bounds, tiles and upload limits (the public configuration serves staff too). */
export function useReportConfig(): Async<PublicConfig> {
  return useAsync(() => {
    if (!configCache) {
      configCache = api.get<PublicConfig>('/api/public/config');
      configCache.catch(() => {
        configCache = null;
      });
    }
    return configCache;
  }, []);
}
