import { useEffect, useRef } from 'react';
import type { Bounds } from '../lib/reports';
import { L } from './leafletSetup';

export interface MapPoint {
  id: number;
  lat: number;
  lon: number;
  color: string;
  label: string;
  /** Marked with a ring (urgent). */
  ring?: boolean;
}

export interface BaseProps {
  tileUrl: string | null;
  tileAttribution: string;
  /** Province bounds: the initial view, and the limit for the pin. */
  bounds: Bounds | null;
  fallbackCentre: [number, number];
  testId: string;
  className?: string;
}

/** A Leaflet map in a div, created once, resized with its container, with the configured tiles. */
export function useLeaflet(base: BaseProps, opts: L.MapOptions = {}) {
  const containerRef = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const map = L.map(el, { center: base.fallbackCentre, zoom: 9, zoomSnap: 0.25, tapHold: true, ...opts });
    map.attributionControl.setPrefix(false);
    mapRef.current = map;
    let lastSize = '';
    const ro = new ResizeObserver(() => {
      const size = `${el.clientWidth}x${el.clientHeight}`;
      if (size === lastSize) return;
      lastSize = size;
      map.invalidateSize();
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      map.remove();
      mapRef.current = null;
    };
    // Created once; later props are applied by effects.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !base.tileUrl) return;
    const layer = L.tileLayer(base.tileUrl, { attribution: base.tileAttribution, maxZoom: 19, crossOrigin: true });
    layer.addTo(map);
    layer.bringToBack();
    return () => {
      layer.remove();
    };
  }, [base.tileUrl, base.tileAttribution]);
  return { containerRef, mapRef };
}

interface PointsMapProps extends BaseProps {
  points: readonly MapPoint[];
  onOpen?: (id: number) => void;
  /** Zoom used when there is a single point. */
  singleZoom?: number;
}

/** Reports as coloured circle markers (cheap enough for a few hundred); a click opens one. */
export function PointsMap(props: PointsMapProps) {
  const { points, bounds, singleZoom = 16 } = props;
  const { containerRef, mapRef } = useLeaflet(props);
  const layerRef = useRef<L.LayerGroup | null>(null);
  const onOpen = useRef(props.onOpen);
  useEffect(() => {
    onOpen.current = props.onOpen;
  });
  const key = points.map((p) => `${p.id}:${p.color}`).join(',');
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    // A new map (StrictMode mounts twice in development) needs a new layer.
    if (!layerRef.current || !map.hasLayer(layerRef.current)) layerRef.current = L.layerGroup().addTo(map);
    const layer = layerRef.current;
    layer.clearLayers();
    const b = L.latLngBounds([]);
    for (const p of points) {
      if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
      const m = L.circleMarker([p.lat, p.lon], {
        radius: p.ring ? 9 : 7,
        color: p.ring ? '#b42318' : '#ffffff',
        weight: p.ring ? 3 : 1.5,
        fillColor: p.color,
        fillOpacity: 0.9,
      });
      m.bindTooltip(p.label, { direction: 'top', className: 'map-tooltip' });
      m.on('click', () => onOpen.current?.(p.id));
      m.addTo(layer);
      const el = m.getElement();
      el?.setAttribute('data-report-id', String(p.id));
      el?.classList.add('report-marker');
      b.extend([p.lat, p.lon]);
    }
    if (points.length === 1 && b.isValid()) map.setView(b.getCenter(), singleZoom, { animate: false });
    else if (b.isValid()) map.fitBounds(b, { padding: [24, 24], maxZoom: 15, animate: false });
    else if (bounds) map.fitBounds(bounds, { animate: false });
    // `key` stands for the points.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, bounds, singleZoom]);
  return <div ref={containerRef} className={`report-map ${props.className ?? ''}`} data-testid={props.testId} />;
}

interface PinMapProps extends BaseProps {
  value: [number, number] | null;
  onChange: (lat: number, lon: number) => void;
  label: string;
}

/**
 * A draggable pin, kept inside the province bounds; a tap on the map moves it there. The map
 * itself cannot be panned out of the bounds.
 */
export function PinMap(props: PinMapProps) {
  const { value, bounds, label } = props;
  const maxBounds = bounds ? L.latLngBounds(bounds).pad(0.05) : undefined;
  const { containerRef, mapRef } = useLeaflet(props, { maxBounds, maxBoundsViscosity: 1, minZoom: 7 });
  const markerRef = useRef<L.Marker | null>(null);
  const onChange = useRef(props.onChange);
  useEffect(() => {
    onChange.current = props.onChange;
  });
  const boundsRef = useRef(bounds);
  useEffect(() => {
    boundsRef.current = bounds;
  });

  const clamp = (ll: L.LatLng): [number, number] => {
    const b = boundsRef.current;
    if (!b) return [ll.lat, ll.lng];
    return [Math.min(b[1][0], Math.max(b[0][0], ll.lat)), Math.min(b[1][1], Math.max(b[0][1], ll.lng))];
  };

  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    if (bounds) map.fitBounds(bounds, { animate: false });
    const onClick = (e: L.LeafletMouseEvent) => {
      const [lat, lon] = clamp(e.latlng);
      onChange.current(lat, lon);
    };
    map.on('click', onClick);
    return () => {
      map.off('click', onClick);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [bounds]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    if (!value) {
      markerRef.current?.remove();
      markerRef.current = null;
      return;
    }
    if (!markerRef.current) {
      const m = L.marker(value, { draggable: true, autoPan: true, title: label, alt: label, keyboard: true });
      m.on('dragend', () => {
        const [lat, lon] = clamp(m.getLatLng());
        m.setLatLng([lat, lon]);
        onChange.current(lat, lon);
      });
      m.addTo(map);
      const el = m.getElement();
      el?.setAttribute('data-testid', 'pin-marker');
      // Keyboard: the focused pin moves 10 screen pixels per arrow key (Leaflet only pans the map).
      el?.addEventListener('keydown', (e: KeyboardEvent) => {
        const step: Record<string, [number, number]> = { ArrowUp: [0, -10], ArrowDown: [0, 10], ArrowLeft: [-10, 0], ArrowRight: [10, 0] };
        const d = step[e.key];
        if (!d) return;
        e.preventDefault();
        e.stopPropagation();
        const pt = map.latLngToContainerPoint(m.getLatLng()).add(L.point(d[0], d[1]));
        const [lat, lon] = clamp(map.containerPointToLatLng(pt));
        m.setLatLng([lat, lon]);
        onChange.current(lat, lon);
      });
      markerRef.current = m;
      map.setView(value, Math.max(map.getZoom(), 15), { animate: false });
    } else {
      const cur = markerRef.current.getLatLng();
      if (cur.lat !== value[0] || cur.lng !== value[1]) {
        markerRef.current.setLatLng(value);
        if (!map.getBounds().pad(-0.1).contains(value)) map.panTo(value, { animate: false });
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value?.[0], value?.[1]]);

  return <div ref={containerRef} className={`report-map pin-map ${props.className ?? ''}`} data-testid={props.testId} />;
}
