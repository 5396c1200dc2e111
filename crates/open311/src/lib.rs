//! Open311 GeoReport v2 wire formats (JSON and XML), request parsing and errors.
