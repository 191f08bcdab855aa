"""Run inside QGIS (``qgis --code scripts/qgis_screenshot.py``) by ``scripts/qgis_screenshot.sh``.

Adds gridmap's OGC API – Features collections as QGIS "OAPIF" layers (QGIS's own client, the one
*Layer ▸ Data Source Manager ▸ WFS / OGC API – Features* uses), styles them, zooms to the grids,
waits until the map has stopped redrawing and takes a screenshot of the whole screen (the QGIS
window, layers panel and map) with ImageMagick's ``import``; then quits QGIS.

Environment: ``GRIDMAP_OGC`` (the landing page, with its final slash), ``GRIDMAP_TOKEN`` (an API
token), ``GRIDMAP_SHOT`` (the PNG to write).

The token goes in the ``Authorization: Token …`` header of every request to ``GRIDMAP_OGC`` and
to nowhere else, through QGIS's request preprocessor (``QgsNetworkAccessManager``): QGIS 3.22,
Debian 12's, has no "API Header" authentication and no ``http-header:`` in the layer URI, and the
server takes no other kind of credential (docs/gis-clients.md, "QGIS 3.22").
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsDataSourceUri,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsMarkerSymbol,
    QgsNetworkAccessManager,
    QgsPalLayerSettings,
    QgsProject,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtGui import QColor, QFont
from qgis.utils import iface

BASE = os.environ["GRIDMAP_OGC"]
TOKEN = os.environ["GRIDMAP_TOKEN"]
SHOT = os.environ["GRIDMAP_SHOT"]
WIDTH, HEIGHT = 1600, 1000
STATE: dict = {"shot": False}
PROJECT_CRS = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E: the town's plane

# bottom to top; each with its QGIS symbol
LAYERS = [
    ("grids", lambda: QgsFillSymbol.createSimple(
        {"color": "0,0,0,0", "outline_color": "30,60,160", "outline_width": "0.5"})),
    ("buildings", lambda: QgsFillSymbol.createSimple(
        {"color": "200,194,184,255", "outline_color": "150,144,134", "outline_width": "0.1"})),
    ("facilities-polygon", lambda: QgsFillSymbol.createSimple(
        {"color": "120,190,120,170", "outline_color": "40,120,40", "outline_width": "0.3"})),
    ("facilities-line", lambda: QgsLineSymbol.createSimple({"line_color": "20,120,220", "line_width": "0.6"})),
    ("facilities-point", lambda: QgsMarkerSymbol.createSimple(
        {"name": "square", "color": "0,150,140", "size": "1.4", "outline_style": "no"})),
    ("hotspots", lambda: QgsFillSymbol.createSimple(
        {"color": "255,140,0,80", "outline_color": "230,90,0", "outline_width": "0.5"})),
    ("problems", lambda: QgsMarkerSymbol.createSimple(
        {"name": "circle", "color": "220,30,40", "size": "1.3", "outline_color": "255,255,255",
         "outline_width": "0.1"})),
]  # fmt: skip


def add_token(request) -> None:
    """The token header on requests to gridmap's OGC API only."""
    if request.url().toString().startswith(BASE):
        request.setRawHeader(b"Authorization", f"Token {TOKEN}".encode("ascii"))


def titles() -> dict[str, str]:
    """Each collection's title, as the server gives it (Chinese)."""
    ask = urllib.request.Request(BASE + "collections?f=json", headers={"Authorization": f"Token {TOKEN}"})
    with urllib.request.urlopen(ask, timeout=30) as answer:
        return {c["id"]: c["title"] for c in json.load(answer)["collections"]}


def oapif_layer(collection: str, title: str) -> QgsVectorLayer:
    uri = QgsDataSourceUri()
    uri.setParam("url", BASE)
    uri.setParam("typename", collection)
    layer = QgsVectorLayer(uri.uri(False), title, "OAPIF")
    if not layer.isValid():
        raise RuntimeError(f"QGIS could not open the collection {collection!r} at {BASE}")
    return layer


def label_grids(layer: QgsVectorLayer) -> None:
    text = QgsTextFormat()
    text.setFont(QFont("Noto Sans CJK SC"))
    text.setSize(8)
    text.setColor(QColor(20, 40, 120))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    text.setBuffer(buffer)
    settings = QgsPalLayerSettings()
    settings.fieldName = "name"
    settings.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def shoot() -> None:
    if STATE["shot"]:
        return
    STATE["shot"] = True
    subprocess.run(["import", "-window", "root", SHOT], check=True)
    QgsProject.instance().setDirty(False)
    iface.actionExit().trigger()
    QTimer.singleShot(5000, lambda: os._exit(0))  # should the exit wait for anything


def main() -> None:
    QgsNetworkAccessManager.setRequestPreprocessor(add_token)
    window = iface.mainWindow()
    window.setGeometry(0, 0, WIDTH, HEIGHT)  # no window manager under Xvfb to maximise it
    project = QgsProject.instance()
    iface.layerTreeCanvasBridge().setAutoSetupOnFirstLayer(False)  # keep this CRS, not the first layer's
    project.setCrs(QgsCoordinateReferenceSystem(PROJECT_CRS))
    names = titles()
    grids = None
    for collection, symbol in LAYERS:
        layer = oapif_layer(collection, names.get(collection, collection))
        layer.renderer().setSymbol(symbol())
        if collection == "grids":
            label_grids(layer)
            grids = layer
        project.addMapLayer(layer)
    canvas = iface.mapCanvas()
    to_map = QgsCoordinateTransform(grids.crs(), project.crs(), project)
    extent = to_map.transformBoundingBox(grids.extent())
    extent.scale(1.04)
    canvas.setExtent(extent)
    canvas.refresh()
    # features arrive page by page and each page redraws the map: shoot once it has been still
    # for a while (and at the latest after three minutes)
    quiet = QTimer()
    quiet.setSingleShot(True)
    quiet.setInterval(6000)
    quiet.timeout.connect(shoot)
    canvas.mapCanvasRefreshed.connect(quiet.start)
    quiet.start()
    QTimer.singleShot(180_000, shoot)
    STATE["timer"] = quiet  # kept as long as QGIS runs


QTimer.singleShot(3000, main)  # once the main window is up
