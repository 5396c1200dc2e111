import { useEffect, useRef } from 'react';
import type { DomainId, StateKey } from '../lib/monitoring';
import { useLeaflet, type BaseProps } from './ReportMap';
import { L } from './leafletSetup';

/** One station on the monitoring map, coloured by its state. */
export interface MonitorPoint {
  id: string;
  domain: DomainId;
  lat: number;
  lon: number;
  state: StateKey;
  color: string;
  /** Drawn larger and on top. */
  alert: boolean;
  title: string;
  stateLabel: string;
  /** "PM2.5: 35 µg/m³" lines of the popup. */
  lines: string[];
  /** Extra line, e.g. "observed 5 minutes ago". */
  footnote?: string;
  badge?: string;
}

interface MonitorMapProps extends BaseProps {
  points: readonly MonitorPoint[];
  /** The view is fitted to the points once per value of this key (not on every refresh). */
  fitKey: string;
  openLabel: string;
  onOpen: (id: string) => void;
  /** Larger markers (video wall). */
  large?: boolean;
}

function popupContent(p: MonitorPoint, openLabel: string, onOpen: (id: string) => void): HTMLElement {
  const el = document.createElement('div');
  el.className = 'map-popup mon-popup';
  el.dataset.testid = 'mon-popup';
  const h = document.createElement('strong');
  h.textContent = p.title;
  el.appendChild(h);
  const state = document.createElement('div');
  state.className = `state-chip state-${p.state}`;
  const dot = document.createElement('span');
  dot.className = 'state-dot';
  dot.style.background = p.color;
  state.append(dot, p.stateLabel);
  el.appendChild(state);
  if (p.badge) {
    const b = document.createElement('div');
    b.className = 'badge badge-warn';
    b.textContent = p.badge;
    el.appendChild(b);
  }
  if (p.lines.length > 0) {
    const ul = document.createElement('ul');
    for (const line of p.lines) {
      const li = document.createElement('li');
      li.textContent = line;
      ul.appendChild(li);
    }
    el.appendChild(ul);
  }
  if (p.footnote) {
    const f = document.createElement('div');
    f.className = 'small muted';
    f.textContent = p.footnote;
    el.appendChild(f);
  }
  const a = document.createElement('a');
  a.href = `/monitoring/entity/${encodeURIComponent(p.id)}`;
  a.className = 'btn btn-small';
  a.dataset.testid = 'mon-popup-open';
  a.textContent = openLabel;
  a.addEventListener('click', (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    onOpen(p.id);
  });
  el.appendChild(a);
  return el;
}

/**
 * Stations as circle markers coloured by state (SVG, so each marker is an element with its state
 * as a class). A click opens a popup with the key figures and a link to the station's page.
 */
export function MonitorMap(props: MonitorMapProps) {
  const { points, fitKey, bounds, large = false, openLabel } = props;
  const { containerRef, mapRef } = useLeaflet(props, { preferCanvas: false });
  const layerRef = useRef<L.LayerGroup | null>(null);
  const fittedRef = useRef<string | null>(null);
  const onOpen = useRef(props.onOpen);
  useEffect(() => {
    onOpen.current = props.onOpen;
  });
  const key = points.map((p) => `${p.id}:${p.state}:${p.lines.join('|')}`).join(',');
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    // A new map (StrictMode mounts twice in development) needs a new layer.
    if (!layerRef.current || !map.hasLayer(layerRef.current)) {
      layerRef.current = L.layerGroup().addTo(map);
      fittedRef.current = null;
    }
    const layer = layerRef.current;
    // Keep the open popup's station open across a refresh.
    let reopen: string | null = null;
    layer.eachLayer((m) => {
      if (m instanceof L.CircleMarker && m.isPopupOpen()) reopen = (m.options as { stationId?: string }).stationId ?? null;
    });
    layer.clearLayers();
    const b = L.latLngBounds([]);
    // Alerts last, so they are drawn on top.
    const ordered = [...points].sort((x, y) => Number(x.alert) - Number(y.alert));
    for (const p of ordered) {
      if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
      const r = (p.alert ? 9 : 7) * (large ? 1.6 : 1);
      const m = L.circleMarker([p.lat, p.lon], {
        radius: r,
        color: p.alert ? '#111827' : '#ffffff',
        weight: p.alert ? 2.5 : 1.5,
        fillColor: p.color,
        fillOpacity: 0.92,
        stationId: p.id,
      } as L.CircleMarkerOptions);
      m.bindTooltip(p.title, { direction: 'top', className: 'map-tooltip' });
      m.bindPopup(() => popupContent(p, openLabel, (id) => onOpen.current(id)), { minWidth: 200 });
      m.addTo(layer);
      const el = m.getElement();
      if (el) {
        el.classList.add('mon-marker', `state-${p.state}`);
        el.setAttribute('data-entity-id', p.id);
        el.setAttribute('data-state', p.state);
        el.setAttribute('data-domain', p.domain);
        el.setAttribute('data-testid', 'mon-marker');
      }
      if (reopen === p.id) m.openPopup();
      b.extend([p.lat, p.lon]);
    }
    if (fittedRef.current !== fitKey) {
      // Fitted for good once there are stations; the province until then.
      if (b.isValid()) {
        fittedRef.current = fitKey;
        map.fitBounds(b, { padding: [32, 32], maxZoom: 14, animate: false });
      } else if (bounds) map.fitBounds(bounds, { animate: false });
    }
    // `key` stands for the points.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, fitKey, bounds, large, openLabel]);
  return <div ref={containerRef} className={`mon-map ${props.className ?? ''}`} data-testid={props.testId} />;
}
