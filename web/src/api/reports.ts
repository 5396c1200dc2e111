// Shapes of the citizen field reports API (docs/reports-api.md), and the multipart upload with
// progress that the report form and the result photos use.
import { ApiError, NetworkError } from './client';
import { csrfHeaders } from './csrf';
import type { Problem, UnitRef } from './types';

export const REPORT_STATUSES = [
  'received',
  'verified',
  'rejected',
  'merged',
  'assigned',
  'returned',
  'in_progress',
  'resolved',
  'approved',
  'published',
  'closed',
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];
/** Statuses still being worked on. */
export const OPEN_STATUSES_LIST: readonly ReportStatus[] = ['received', 'verified', 'assigned', 'returned', 'in_progress', 'resolved', 'approved', 'published'];

export const REPORT_ACTIONS = [
  'verify',
  'reject',
  'merge',
  'assign',
  'transfer',
  'accept',
  'return',
  'update',
  'resolve',
  'approve',
  'send_back',
  'publish',
  'close',
  'reopen',
] as const;
export type ReportAction = (typeof REPORT_ACTIONS)[number];

export const REPORT_CHANNELS = ['web', 'open311', 'hotline', 'in_person', 'zalo', 'email', 'staff'] as const;
export type ReportChannel = (typeof REPORT_CHANNELS)[number];
/** Channels an operator may enter by hand (`POST /api/reports`). */
export const INTAKE_CHANNELS = ['hotline', 'in_person', 'zalo', 'email', 'staff'] as const;

export type DeadlineState = 'on_track' | 'due_soon' | 'overdue' | 'met' | 'missed';

export type CategoryRule = { kind: 'by_place' } | { kind: 'by_field'; unit_id: number } | { kind: 'fixed'; unit_id: number };

export type AttributeType = 'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist';
export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'];

export interface AttributeValue {
  key: string;
  name_vi: string;
  name_en: string;
}

export interface Attribute {
  code: string;
  label_vi: string;
  label_en: string;
  datatype: AttributeType;
  required: boolean;
  values: AttributeValue[];
}

export interface Category {
  id: number;
  code: string;
  parent_id: number | null;
  name_vi: string;
  name_en: string;
  description_vi: string;
  description_en: string;
  rule: CategoryRule;
  field: string | null;
  /** Working hours on the calendar for a normal report. */
  normal_working_hours: number;
  /** Wall-clock hours for an urgent one. */
  urgent_hours: number;
  accept_within_minutes: number;
  urgent_by_default: boolean;
  attributes: Attribute[];
  active: boolean;
  keywords: string[];
  /** Not in the contract: used if the server ever sends them. */
  icon?: string;
  color?: string;
}

export interface CategoryRef {
  id: number;
  code: string;
  name_vi: string;
  name_en: string;
}

export interface Deadline {
  due_at: string;
  warn_at: string;
  clocking: 'working' | 'wall';
  state: DeadlineState;
}

export interface ReportSummary {
  id: number;
  code: string;
  status: ReportStatus;
  urgent: boolean;
  channel: ReportChannel;
  category: CategoryRef;
  title: string;
  description: string;
  lat: number;
  lon: number;
  address: string | null;
  commune: UnitRef | null;
  handler_unit: UnitRef | null;
  handler_user: { id: number; display_name: string } | null;
  coordinators: UnitRef[];
  deadline: Deadline | null;
  escalation_level: 0 | 1 | 2 | 3;
  received_at: string;
  updated_at: string;
  photos: number;
}

export interface ReportContact {
  name: string | null;
  phone: string | null;
  email: string | null;
  confidential?: boolean;
}

export interface Attachment {
  id: number;
  kind: 'image' | 'video';
  content_type: string;
  bytes: number;
  width: number | null;
  height: number | null;
  purpose: 'report' | 'result';
  published: boolean;
  url: string;
  thumb_url: string | null;
}

export interface ReportEvent {
  id: number;
  at: string;
  actor: { kind: 'user' | 'token' | 'system' | 'citizen'; name: string };
  kind: string;
  from_status: ReportStatus | null;
  to_status: ReportStatus | null;
  note: string | null;
  public: boolean;
  unit: UnitRef | null;
}

export interface ReportDetail extends ReportSummary {
  attributes: Record<string, string | string[]>;
  contact: { hidden: true } | ReportContact;
  confidential: boolean;
  result: string | null;
  public_result: string | null;
  rating: { satisfied: boolean; comment: string | null; at: string } | null;
  attachments: Attachment[];
  merged_into: number | null;
  duplicates_merged: number[];
  allowed_actions: string[];
  timeline: ReportEvent[];
}

export type DuplicateReport = ReportSummary & { distance_m: number };

export interface BulkResult {
  done: number[];
  failed: { id: number; problem: Problem }[];
}

export interface Stats {
  received: number;
  on_time: number;
  late: number;
  in_progress: number;
  overdue: number;
  resolved: number;
  rejected: number;
  satisfied: number;
  unsatisfied: number;
  satisfaction_rate: number | null;
  mean_handling_hours: number | null;
}

export interface StatsRow extends Stats {
  key: string;
  name: string;
}

export interface StatsAnswer {
  totals: Stats;
  rows: StatsRow[];
}

export interface CalendarDay {
  date: string;
  kind: 'holiday' | 'workday';
  name: string;
}

export interface WorkCalendar {
  year: number;
  office_hours: [string, string][];
  days: CalendarDay[];
}

export interface Open311Client {
  id: number;
  name: string;
  unit_id?: number | null;
  unit?: UnitRef | null;
  created_at?: string | null;
}

export interface PublicPhoto {
  id: number;
  url: string;
  /** The contract says string; the server leaves it null when no thumbnail could be made. */
  thumb_url: string | null;
  purpose: 'report' | 'result';
}

export interface PublicReport {
  id: number;
  status: ReportStatus;
  urgent: boolean;
  category: CategoryRef;
  description: string;
  lat: number;
  lon: number;
  commune: UnitRef | null;
  handler_unit: UnitRef | null;
  received_at: string;
  updated_at: string;
  published_at: string | null;
  result: string | null;
  photos: PublicPhoto[];
  rating: { satisfied: boolean; at: string } | null;
  timeline: { at: string; kind: string; to_status: ReportStatus | null; note: string | null }[];
}

export type TrackedReport = PublicReport & { can_rate: boolean };

export interface PublicConfig {
  province: { code: string; name: string };
  /** [[south, west], [north, east]] */
  bounds: [[number, number], [number, number]];
  categories: Category[];
  max_photos: number;
  max_photo_bytes: number;
  max_video_bytes: number;
  consent_vi: string;
  consent_en: string;
  tile_url: string | null;
  tile_attribution: string;
}

export interface SubmittedReport {
  code: string;
  status: ReportStatus;
  received_at: string;
}

/** Privacy lookup answer: read defensively, the contract only says "the citizen's reports and data". */
export interface PrivacyLookup {
  reports?: { id: number; code?: string; status?: ReportStatus; received_at?: string; description?: string }[];
  [key: string]: unknown;
}

/**
 * POST a multipart form with upload progress (fetch cannot report it). `onProgress` gets the
 * fraction sent, 0..1. Errors are the same ApiError / NetworkError as the JSON client's.
 */
export function uploadForm<T>(
  url: string,
  form: FormData,
  onProgress?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    for (const [k, v] of Object.entries(csrfHeaders('POST', document.cookie))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(body as T);
        return;
      }
      const problem: Problem = body && typeof body === 'object' ? (body as Problem) : {};
      if (problem.status === undefined) problem.status = xhr.status;
      const ra = xhr.getResponseHeader('Retry-After');
      reject(new ApiError(xhr.status, problem, ra && /^\d+$/.test(ra) ? Number(ra) : null));
    };
    xhr.onerror = () => reject(new NetworkError(new Error('upload failed')));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}
