"""Pure analysis and map building for gridmap.

Nothing under ``layers/`` imports Django or ``gridmap``: functions take and return
GeoDataFrames, plain dicts and folium objects, so they can be tested without a database.
Geometries are WGS84 (EPSG:4326) longitude/latitude unless a name says otherwise;
distances are metres, computed in a projected CRS.
"""
