import { useEffect, useRef } from 'react';
import type { Boundary, OrgUnitType, UnitFeature, UnitFeatureCollection } from '../api/types';
import { L } from './leafletSetup';

export interface MapCentre {
  id: number;
  name: string;
  lat: number;
  lon: number;
}

export interface MapLabels {
  boundary: (b: Boundary) => string;
  type: (t: OrgUnitType) => string;
  open: string;
  code: string;
  area: (km2: number) => string;
}

interface OrgMapProps {
  /** Identifies the data set: bounds are refitted only when it changes. */
  sourceKey: string;
  features: UnitFeatureCollection | null;
  /** False while the features for `sourceKey` are still loading (no fitting then). */
  ready: boolean;
  centres: MapCentre[];
  selectedId: number | null;
  tileUrl: string | null;
  tileAttribution: string;
  fallbackCentre: [number, number];
  locateMode: boolean;
  locatePoint: [number, number] | null;
  onSelect: (id: number) => void;
  onLocate: (lat: number, lon: number) => void;
  labels: MapLabels;
  /** Whether dark colours should be used (wall mode). */
  dark: boolean;
}

const COLORS = {
  light: { line: '#1d4f7a', fill: '#4b8cc4', sel: '#c2410c', selFill: '#f97316', centre: '#0f3a5f' },
  dark: { line: '#8cc4f2', fill: '#3b82c4', sel: '#fdba74', selFill: '#fb923c', centre: '#e0f0ff' },
};

function featureStyle(f: UnitFeature | undefined, selected: boolean, dark: boolean): L.PathOptions {
  const c = dark ? COLORS.dark : COLORS.light;
  const approx = f?.properties.boundary === 'approximate';
  return {
    color: selected ? c.sel : c.line,
    weight: selected ? 3 : 1.5,
    opacity: 0.95,
    fillColor: selected ? c.selFill : c.fill,
    fillOpacity: selected ? 0.28 : 0.12,
    dashArray: approx ? '6 5' : undefined,
  };
}

function popupContent(p: UnitFeature['properties'], labels: MapLabels, onOpen: () => void): HTMLElement {
  const el = document.createElement('div');
  el.className = 'map-popup';
  el.dataset.testid = 'map-popup';
  const h = document.createElement('strong');
  h.textContent = p.name;
  el.appendChild(h);
  const meta = document.createElement('div');
  meta.className = 'small';
  meta.textContent = `${labels.type(p.type)} · ${labels.code} ${p.code}` + (p.area_km2 != null ? ` · ${labels.area(p.area_km2)}` : '');
  el.appendChild(meta);
  if (p.boundary === 'approximate' || p.boundary === 'official') {
    const b = document.createElement('div');
    b.className = `small boundary-${p.boundary}`;
    if (p.boundary === 'approximate') b.dataset.testid = 'map-popup-approximate';
    b.textContent = labels.boundary(p.boundary);
    el.appendChild(b);
  }
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.className = 'btn btn-small';
  btn.textContent = labels.open;
  btn.addEventListener('click', onOpen);
  el.appendChild(btn);
  return el;
}

/**
 * Leaflet map of unit areas (polygons) and centres (circle markers). Works with no tile server:
 * the vector layers draw on a plain background.
 */
export function OrgMap(props: OrgMapProps) {
  const {
    sourceKey,
    features,
    ready,
    centres,
    selectedId,
    tileUrl,
    tileAttribution,
    fallbackCentre,
    locateMode,
    locatePoint,
    dark,
  } = props;
  const containerRef = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  const areaLayerRef = useRef<L.GeoJSON | null>(null);
  const centreLayerRef = useRef<L.LayerGroup | null>(null);
  const locateLayerRef = useRef<L.LayerGroup | null>(null);
  const fittedKeyRef = useRef<string | null>(null);
  const boundsRef = useRef<L.LatLngBounds | null>(null);
  // Latest callbacks and flags, read from Leaflet event handlers.
  const live = useRef(props);
  useEffect(() => {
    live.current = props;
  });

  // Create the map once.
  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const map = L.map(el, {
      center: fallbackCentre,
      zoom: 8,
      zoomControl: true,
      attributionControl: true,
      preferCanvas: false,
      tapHold: true,
      zoomSnap: 0.25,
    });
    map.attributionControl.setPrefix(false);
    mapRef.current = map;
    areaLayerRef.current = L.geoJSON(undefined).addTo(map);
    centreLayerRef.current = L.layerGroup().addTo(map);
    locateLayerRef.current = L.layerGroup().addTo(map);
    map.on('click', (e: L.LeafletMouseEvent) => {
      if (live.current.locateMode) live.current.onLocate(e.latlng.lat, e.latlng.lng);
    });
    // Containers that change size (responsive layout, wall mode) need a nudge.
    // Refit the last data bounds, since the container's size decides the zoom.
    let lastSize = '';
    const ro = new ResizeObserver(() => {
      const size = `${el.clientWidth}x${el.clientHeight}`;
      if (size === lastSize) return;
      lastSize = size;
      map.invalidateSize();
      if (boundsRef.current) map.fitBounds(boundsRef.current, { padding: [24, 24], maxZoom: 12, animate: false });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      map.remove();
      mapRef.current = null;
    };
    // The map is created once; later props are applied by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Base tiles, if configured.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !tileUrl) return;
    const layer = L.tileLayer(tileUrl, { attribution: tileAttribution, maxZoom: 18, crossOrigin: true });
    layer.addTo(map);
    layer.bringToBack();
    return () => {
      layer.remove();
    };
  }, [tileUrl, tileAttribution]);

  // Areas and centres.
  useEffect(() => {
    const map = mapRef.current;
    const areas = areaLayerRef.current;
    const cl = centreLayerRef.current;
    if (!map || !areas || !cl) return;
    areas.clearLayers();
    cl.clearLayers();
    const c = dark ? COLORS.dark : COLORS.light;
    const polys: UnitFeature[] = [];
    const points: MapCentre[] = [...centres];
    for (const f of features?.features ?? []) {
      if (f.geometry?.type === 'Point') {
        const [lon, lat] = f.geometry.coordinates;
        if (typeof lat === 'number' && typeof lon === 'number' && !points.some((p) => p.id === f.properties.id)) {
          points.push({ id: f.properties.id, name: f.properties.name, lat, lon });
        }
      } else if (f.geometry) {
        polys.push(f);
      }
    }
    for (const f of polys) {
      areas.addData(f as unknown as GeoJSON.Feature);
    }
    areas.eachLayer((layer) => {
      const f = (layer as L.Path & { feature?: UnitFeature }).feature;
      if (!f) return;
      const path = layer as L.Path;
      path.setStyle(featureStyle(f, f.properties.id === live.current.selectedId, dark));
      path.bindTooltip(f.properties.name, { sticky: true, direction: 'top', className: 'map-tooltip' });
      path.on('click', (e: L.LeafletMouseEvent) => {
        if (live.current.locateMode) return; // the map's own click handler locates
        L.DomEvent.stopPropagation(e);
        const id = f.properties.id;
        live.current.onSelect(id);
        L.popup({ maxWidth: 280 })
          .setLatLng(e.latlng)
          .setContent(popupContent(f.properties, live.current.labels, () => live.current.onSelect(id)))
          .openOn(map);
      });
      const el = path.getElement?.();
      if (el) {
        el.setAttribute('data-unit-id', String(f.properties.id));
        el.setAttribute('data-boundary', f.properties.boundary);
        el.classList.add('unit-area');
      }
    });
    for (const p of points) {
      const m = L.circleMarker([p.lat, p.lon], {
        radius: p.id === live.current.selectedId ? 7 : 5,
        color: '#ffffff',
        weight: 1.5,
        fillColor: p.id === live.current.selectedId ? c.sel : c.centre,
        fillOpacity: 0.95,
      });
      m.bindTooltip(p.name, { direction: 'top', className: 'map-tooltip' });
      m.on('click', (e: L.LeafletMouseEvent) => {
        if (live.current.locateMode) return;
        L.DomEvent.stopPropagation(e);
        live.current.onSelect(p.id);
      });
      m.addTo(cl);
      m.getElement()?.setAttribute('data-unit-id', String(p.id));
      m.getElement()?.classList.add('unit-centre');
    }
    if (ready && fittedKeyRef.current !== sourceKey) {
      // Zoom to the selected unit's area if it has one, otherwise to everything shown.
      let b = L.latLngBounds([]);
      areas.eachLayer((layer) => {
        const f = (layer as L.Polygon & { feature?: UnitFeature }).feature;
        if (f && f.properties.id === live.current.selectedId) b = (layer as L.Polygon).getBounds();
      });
      if (!b.isValid()) {
        if (polys.length) b.extend(areas.getBounds());
        for (const p of points) b.extend([p.lat, p.lon]);
      }
      fittedKeyRef.current = sourceKey;
      if (b.isValid()) {
        boundsRef.current = b;
        map.fitBounds(b, { padding: [24, 24], maxZoom: 12, animate: false });
      } else {
        boundsRef.current = null;
        map.setView(fallbackCentre, 8);
      }
    }
    // `selectedId` is applied by the next effect without rebuilding the layers.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sourceKey, features, centres, dark, ready]);

  // Highlight the selected unit.
  useEffect(() => {
    const areas = areaLayerRef.current;
    const cl = centreLayerRef.current;
    if (!areas || !cl) return;
    areas.eachLayer((layer) => {
      const f = (layer as L.Path & { feature?: UnitFeature }).feature;
      if (!f) return;
      const sel = f.properties.id === selectedId;
      (layer as L.Path).setStyle(featureStyle(f, sel, dark));
      if (sel) (layer as L.Path).bringToFront();
    });
    const c = dark ? COLORS.dark : COLORS.light;
    cl.eachLayer((layer) => {
      const m = layer as L.CircleMarker;
      const id = Number(m.getElement()?.getAttribute('data-unit-id'));
      m.setStyle({ fillColor: id === selectedId ? c.sel : c.centre });
      m.setRadius(id === selectedId ? 7 : 5);
    });
  }, [selectedId, dark]);

  // The point last asked about with "which unit is here".
  useEffect(() => {
    const ll = locateLayerRef.current;
    if (!ll) return;
    ll.clearLayers();
    if (locatePoint) L.marker(locatePoint, { keyboard: false }).addTo(ll);
  }, [locatePoint]);

  useEffect(() => {
    containerRef.current?.classList.toggle('locate-mode', locateMode);
  }, [locateMode]);

  return <div ref={containerRef} className="org-map-canvas" data-testid="org-map-canvas" />;
}
