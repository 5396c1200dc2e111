#!/usr/bin/env python3
"""Regenerate data/admin-units/ from the `vietnamadminunits` wheel.

The platform needs the post-1-July-2025 communes of every province, offline
and at build time, without a Python runtime.  This script is the only place
that touches the upstream package: it extracts what we need from the wheel's
SQLite dataset and writes small, sorted CSV files that `crates/geo` embeds.

Usage:
    python3 tools/admin-units/generate.py            # fetches the wheel with pip
    python3 tools/admin-units/generate.py --wheel vietnamadminunits-1.0.4-py3-none-any.whl
    python3 tools/admin-units/generate.py --check    # fail if the files would change

Standard library only (Python 3.11).  Output is byte-for-byte deterministic:
rows are sorted, floats are written with `repr` (shortest round-trip form),
line endings are LF.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "vietnamadminunits"
VERSION = "1.0.4"
DATASET = f"{PACKAGE}/data/dataset.db"
CONVERTER = f"{PACKAGE}/data/converter_2025.json"
LICENSE_SUFFIX = ".dist-info/licenses/LICENSE"

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "data" / "admin-units"

KINDS = {"Phường": "ward", "Xã": "commune", "Đặc khu": "special_zone"}

UNITS_HEADER = [
    "province_code",
    "province_name",
    "province_short",
    "province_lat",
    "province_lon",
    "code",
    "name",
    "short_name",
    "kind",
    "lat",
    "lon",
    "area_km2",
]
BOUNDS_HEADER = [
    "province_code",
    "legacy_province",
    "legacy_district",
    "min_lat",
    "min_lon",
    "max_lat",
    "max_lon",
]


class DataError(Exception):
    """The wheel does not look like the one this script was written for."""


def fetch_wheel(dest: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(dest),
            f"{PACKAGE}=={VERSION}",
        ],
        check=True,
    )
    wheels = sorted(dest.glob(f"{PACKAGE}-{VERSION}-*.whl"))
    if len(wheels) != 1:
        raise DataError(f"expected one wheel in {dest}, found {wheels}")
    return wheels[0]


def fmt_float(x: float | None) -> str:
    """Shortest round-trip text, so regenerating never churns the diff."""
    if x is None:
        return ""
    if not math.isfinite(x):
        raise DataError(f"non-finite number {x!r}")
    if x == 0:
        return "0.0"  # also folds -0.0
    return repr(float(x))


def check_field(value: str, what: str) -> str:
    # The Rust side splits on commas without a quoting layer; keep it that way.
    if not isinstance(value, str) or not value or value != value.strip():
        raise DataError(f"{what}: bad text {value!r}")
    if any(ch in value for ch in ',"\r\n'):
        raise DataError(f"{what}: {value!r} contains a CSV metacharacter")
    return value


def write_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    buf.write(",".join(header) + "\n")
    for row in rows:
        buf.write(",".join(row) + "\n")
    return buf.getvalue().encode("utf-8")


def parse_bounds(text: str, what: str) -> tuple[float, float, float, float]:
    """Upstream writes boxes as "lat,lon – lat,lon" (south-west – north-east)."""
    try:
        sw, ne = text.split(" – ")
        lat1, lon1 = (float(v) for v in sw.split(","))
        lat2, lon2 = (float(v) for v in ne.split(","))
    except ValueError as exc:
        raise DataError(f"{what}: unreadable bounds {text!r}") from exc
    min_lat, max_lat = sorted((lat1, lat2))
    min_lon, max_lon = sorted((lon1, lon2))
    if not (-90 <= min_lat <= max_lat <= 90 and -180 <= min_lon <= max_lon <= 180):
        raise DataError(f"{what}: bounds out of range {text!r}")
    return min_lat, min_lon, max_lat, max_lon


def build(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        licence_names = [n for n in names if n.endswith(LICENSE_SUFFIX)]
        if len(licence_names) != 1:
            raise DataError(f"licence file not found in {wheel.name}")
        licence = zf.read(licence_names[0]).decode("utf-8").strip()
        converter = json.loads(zf.read(CONVERTER))
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "dataset.db"
            db_path.write_bytes(zf.read(DATASET))
            # Read everything while the temp file exists; sqlite keeps it open.
            units, bounds = read_dataset(db_path, converter)

    if "MIT License" not in licence or "Tran Ngoc Minh Hieu" not in licence:
        raise DataError("unexpected licence text; review before regenerating")

    return {
        "units-2025.csv": write_csv(UNITS_HEADER, units),
        "legacy-bounds.csv": write_csv(BOUNDS_HEADER, bounds),
        "LICENSE-vietnamadminunits.txt": (licence + "\n").encode("utf-8"),
    }


def read_dataset(
    db_path: Path, converter: dict
) -> tuple[list[list[str]], list[list[str]]]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        unit_rows = con.execute(
            """
            SELECT provinceCode, province, provinceShort, provinceLat, provinceLon,
                   wardCode, ward, wardShort, wardType, wardLat, wardLon, wardAreaKm2,
                   provinceKey
            FROM admin_units
            """
        ).fetchall()
        legacy_rows = con.execute(
            """
            SELECT DISTINCT provinceKey, province, districtCode, district, districtBounds
            FROM admin_units_legacy
            """
        ).fetchall()
    finally:
        con.close()

    units: list[list[str]] = []
    province_of_key: dict[str, str] = {}
    province_facts: dict[str, tuple] = {}
    seen_codes: set[str] = set()
    for (
        p_code,
        p_name,
        p_short,
        p_lat,
        p_lon,
        code,
        name,
        short,
        w_type,
        lat,
        lon,
        area,
        p_key,
    ) in unit_rows:
        what = f"commune {code}"
        if code in seen_codes:
            raise DataError(f"{what}: duplicate code")
        seen_codes.add(code)
        facts = (p_name, p_short, p_lat, p_lon, p_key)
        if province_facts.setdefault(p_code, facts) != facts:
            raise DataError(f"province {p_code}: inconsistent province columns")
        province_of_key[p_key] = p_code
        if w_type not in KINDS:
            raise DataError(f"{what}: unknown wardType {w_type!r}")
        # An area of 0 km² is a gap in the upstream data, not a real value.
        if area is not None and area <= 0:
            area = None
        units.append(
            [
                check_field(p_code, what),
                check_field(p_name, what),
                check_field(p_short, what),
                fmt_float(p_lat),
                fmt_float(p_lon),
                check_field(code, what),
                check_field(name, what),
                check_field(short, what),
                KINDS[w_type],
                fmt_float(lat),
                fmt_float(lon),
                fmt_float(area),
            ]
        )
    units.sort(key=lambda r: (r[0], r[5]))

    new_to_legacy = converter["DICT_PROVINCE"]
    if set(new_to_legacy) != set(province_of_key):
        raise DataError("converter_2025.json DICT_PROVINCE keys != admin_units provinces")

    districts: dict[str, list[tuple]] = {}
    for legacy_key, legacy_name, d_code, d_name, d_bounds in legacy_rows:
        what = f"legacy district {legacy_key}/{d_code}"
        box = parse_bounds(d_bounds, what)
        districts.setdefault(legacy_key, []).append(
            (check_field(legacy_name, what), check_field(d_name, what), d_code, box)
        )

    bounds: list[list[str]] = []
    for new_key, legacy_keys in new_to_legacy.items():
        p_code = province_of_key[new_key]
        for legacy_key in legacy_keys:
            if legacy_key not in districts:
                raise DataError(f"legacy province {legacy_key} has no districts")
            for legacy_name, d_name, _d_code, box in districts[legacy_key]:
                bounds.append(
                    [p_code, legacy_name, d_name, *(fmt_float(v) for v in box)]
                )
    bounds.sort()
    keys = [tuple(r[:3]) for r in bounds]
    if len(set(keys)) != len(keys):
        raise DataError("duplicate (province, legacy province, district) rows")
    return units, bounds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help=f"a local {PACKAGE}-{VERSION} wheel")
    ap.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the committed files differ from what would be written",
    )
    args = ap.parse_args()

    try:
        if args.wheel:
            if f"-{VERSION}-" not in args.wheel.name:
                raise DataError(f"{args.wheel.name} is not version {VERSION}")
            outputs = build(args.wheel)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                outputs = build(fetch_wheel(Path(tmp)))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stale = []
    for name, content in sorted(outputs.items()):
        path = OUT_DIR / name
        if path.exists() and path.read_bytes() == content:
            continue
        stale.append(name)
        if not args.check:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    if not stale:
        print("up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
