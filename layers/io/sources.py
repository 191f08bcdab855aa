"""Locating the dataset inside an uploaded file: zipped shapefiles, sidecars and encodings.

Helpers for :func:`layers.io.vector.read_layer`. Nothing here touches coordinates; it decides which
file GDAL opens and which text encoding a shapefile's DBF uses, and it refuses, before GDAL sees
anything: a file larger than the limits (by its size on disk, before reading a byte), a GeoJSON
``crs`` member other than a plain EPSG name (a ``link`` makes GDAL fetch a URL), and a zip whose
members do not match their headers. A zipped shapefile's members are streamed out to a temporary
folder with the bytes actually decompressed counted, so a zip that understates its sizes is
refused after at most the size it declares (GDAL never reads the zip itself).
"""

from __future__ import annotations

import json
import mmap
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from layers.validate import GeometryInputError

# A zip whose members claim more than this uncompressed is refused (decompression bombs); the
# bytes really decompressed are counted too, while streaming.
MAX_ZIP_UNCOMPRESSED_BYTES = 2 * 1024**3
# Any other file GDAL reads (GeoPackage, Shapefile, GeoJSON), by its size on disk.
MAX_FILE_BYTES = 2 * 1024**3
# Enough of a DBF to tell its encoding; the rest is not read for that.
DBF_SNIFF_BYTES = 16 * 1024**2
# Shapefile members taken out of a zip (others are left inside).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
CHUNK = 1024**2
# Chinese offices' shapefiles without a .cpg are GBK; GB18030 is its superset.
FALLBACK_ENCODING = "GB18030"


class LayerReadError(GeometryInputError):
    """A vector file that cannot be read as a whole (format, zip, layer, CRS or columns)."""


@dataclass(frozen=True)
class Source:
    """Where GDAL should read from, and the sidecar facts the reader needs."""

    gdal_path: str  # a plain file path (a zipped shapefile is extracted first)
    kind: str  # "shapefile", "gpkg", "geojson" or "csv"
    has_cpg: bool = False
    dbf_bytes: bytes | None = None  # the shapefile's .dbf, when it has no .cpg
    label: str | None = None  # layer name to show, when GDAL's differs (GBK names in a zip)


SUFFIX_KIND = {".shp": "shapefile", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".csv": "csv"}


@contextmanager
def open_source(path: Path, *, layer: str | None) -> Iterator[Source]:
    """The :class:`Source` for ``path``, valid inside the block; a ``.zip`` must hold safely named
    shapefile(s), whose members are extracted (bounded) to a folder removed afterwards."""
    if not path.is_file():
        raise LayerReadError("not_found", f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="gridmap-import-") as folder:
            yield _zip_source(path, layer=layer, folder=Path(folder))
        return
    kind = SUFFIX_KIND.get(suffix)
    if kind is None:
        known = ", ".join(sorted(set(SUFFIX_KIND) | {".zip"}))
        raise LayerReadError("unsupported_format", f"unsupported file type {suffix or '(none)'}; use {known}")
    if kind == "csv":
        yield Source(str(path), kind)  # read by layers.io.csv_points, which checks its own limit
        return
    check_file_size(path, MAX_FILE_BYTES)
    if kind == "geojson":
        check_geojson_crs(path)
    if kind != "shapefile":
        yield Source(str(path), kind)
        return
    siblings = {p.name.lower(): p for p in path.parent.iterdir()} if path.parent.is_dir() else {}
    stem = path.stem.lower()
    cpg = siblings.get(f"{stem}.cpg")
    dbf = siblings.get(f"{stem}.dbf")
    dbf_bytes = _head(dbf) if dbf is not None and cpg is None else None
    yield Source(str(path), kind, has_cpg=cpg is not None, dbf_bytes=dbf_bytes)


def check_file_size(path: Path, limit: int) -> None:
    """Refuse a file larger than ``limit`` by its size on disk (a sparse file too), unread."""
    size = path.stat().st_size
    if size > limit:
        raise LayerReadError(
            "too_large",
            f"{path.name} is {size / 1024**2:.0f} MiB; files larger than {limit // 1024**2} MiB are refused",
        )


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(DBF_SNIFF_BYTES)


# A member named "crs" (GDAL compares member names without case and decodes \u escapes).
_CRS_KEY = re.compile(rb'"(?:[cC]|\\u00[46]3)(?:[rR]|\\u00[57]2)(?:[sS]|\\u00[57]3)"\s*:')
_EPSG_NAME = re.compile(
    r"^(?:urn:ogc:def:crs:(?:EPSG:[0-9.]*:[0-9]{4,6}|OGC:1\.3:CRS84)|EPSG:[0-9]{4,6})$", re.I
)
_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _plain_crs(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict) or not isinstance(value.get("properties"), dict):
        return False
    kind, props = str(value.get("type", "")).lower(), value["properties"]
    if kind == "name":
        return isinstance(props.get("name"), str) and bool(_EPSG_NAME.match(props["name"].strip()))
    return kind == "epsg" and isinstance(props.get("code"), int) and not isinstance(props.get("code"), bool)


def check_geojson_crs(path: Path) -> None:
    """Refuse a GeoJSON with a ``crs`` member (anywhere) that is not a plain EPSG name, before GDAL
    opens it: GDAL fetches a ``link`` crs's URL while opening the file."""
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            return
        if f.read(2) in _BOMS:
            raise LayerReadError("encoding", "a GeoJSON file must be UTF-8")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for match in _CRS_KEY.finditer(data):
                window = data[match.end() : match.end() + 4096].decode("utf-8", "replace").lstrip()
                try:
                    value, _ = json.JSONDecoder().raw_decode(window)
                except ValueError:
                    value = ...
                if not _plain_crs(value):
                    shown = json.dumps(value, ensure_ascii=False)[:120] if value is not ... else window[:80]
                    raise LayerReadError(
                        "crs_member",
                        f"the GeoJSON's crs member {shown} is not accepted: name the CRS by its EPSG code "
                        '(e.g. "urn:ogc:def:crs:EPSG::4549") or give none and use --srid; links are never fetched',
                    )


def _safe_member(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name).parts
    return ".." not in parts and not (parts and parts[0].endswith(":"))  # no C:/ drive prefix


def _display_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its writer meant it: zips from Chinese Windows store GBK names without
    the UTF-8 flag, which zipfile (and GDAL) read as CP437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode(FALLBACK_ENCODING)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _zip_source(path: Path, *, layer: str | None, folder: Path) -> Source:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerReadError("bad_zip", f"not a readable zip file: {exc}") from None
    with archive:
        infos = archive.infolist()
        unsafe = [i.filename for i in infos if not _safe_member(i.filename)]
        if unsafe:
            raise LayerReadError(
                "zip_unsafe", f"zip member names must be relative paths without '..': {unsafe[0][:80]!r}"
            )
        if sum(i.file_size for i in infos) > MAX_ZIP_UNCOMPRESSED_BYTES:
            raise LayerReadError("zip_too_large", "zip contents are larger than 2 GiB uncompressed")
        names = {i.filename.lower(): i for i in infos if not i.is_dir()}
        shown = {i.filename: PurePosixPath(_display_name(i)).stem for i in infos}
        shps = sorted(i.filename for i in names.values() if i.filename.lower().endswith(".shp"))
        if not shps:
            raise LayerReadError("zip_no_shapefile", "the zip holds no .shp file")
        if layer is not None:
            shps = [n for n in shps if layer in (shown[n], PurePosixPath(n).stem)]
            if not shps:
                raise LayerReadError("layer_missing", f"the zip holds no shapefile named {layer!r}")
        if len(shps) > 1:
            listed = ", ".join(shown[n] for n in shps)
            raise LayerReadError("layer_choice", f"the zip holds several shapefiles; choose one of: {listed}")
        shp = shps[0]
        base = shp[: -len(".shp")].lower()
        budget = MAX_ZIP_UNCOMPRESSED_BYTES
        for part in SHAPEFILE_PARTS:
            info = names.get(f"{base}{part}")
            if info is not None:
                budget -= _extract(archive, info, folder / f"layer{part}", budget)
    has_cpg = (folder / "layer.cpg").exists()
    dbf = folder / "layer.dbf"
    dbf_bytes = _head(dbf) if dbf.exists() and not has_cpg else None
    return Source(
        str(folder / "layer.shp"), "shapefile", has_cpg=has_cpg, dbf_bytes=dbf_bytes, label=shown[shp]
    )


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Stream one member to ``target``, counting the bytes really decompressed; refuse it past
    ``budget`` or when it does not match its header (size or checksum). Returns the bytes written."""
    written = 0
    name = _display_name(info)[:80]
    try:
        with archive.open(info) as src, target.open("wb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > budget:
                    raise LayerReadError("zip_too_large", "zip contents are larger than 2 GiB uncompressed")
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
        target.unlink(missing_ok=True)
        raise LayerReadError(
            "zip_corrupt", f"zip member {name!r} does not match its header (size or checksum), refused: {exc}"
        ) from None
    if written != info.file_size:  # pragma: no cover - zipfile stops at the declared size and checks the CRC
        raise LayerReadError("zip_corrupt", f"zip member {name!r} does not match its header size, refused")
    return written


def _dbf_text_bytes(dbf: bytes) -> bytes:
    """The field names and the character-field values of a DBF, joined, for encoding detection."""
    if len(dbf) < 32:
        return b""
    n_records, header_len, record_len = struct.unpack("<IHH", dbf[4:12])
    names: list[bytes] = []
    slices: list[tuple[int, int]] = []
    offset = 1  # the deletion flag
    for start in range(32, min(header_len, len(dbf)) - 31, 32):
        desc = dbf[start : start + 32]
        if desc[0] == 0x0D:
            break
        names.append(desc[:11].split(b"\x00", 1)[0])
        length = desc[16]
        if desc[11:12] == b"C":
            slices.append((offset, offset + length))
        offset += length
    chunks = list(names)
    body = dbf[header_len : header_len + n_records * record_len] if record_len else b""
    for i in range(0, len(body) - record_len + 1, record_len or 1):
        record = body[i : i + record_len]
        chunks.extend(record[a:b].rstrip(b" \x00") for a, b in slices)
    return b"\n".join(chunks)


def guess_dbf_encoding(dbf: bytes) -> str:
    """``"UTF-8"`` when the DBF's text is valid UTF-8 (plain ASCII included), else GB18030.

    A UTF-8 DBF whose writer cut a multi-byte character at a field's end is read as GB18030;
    pass the encoding explicitly for such a file.
    """
    try:
        _dbf_text_bytes(dbf).decode("utf-8")
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "UTF-8"


def decode_text_file(raw: bytes, encoding: str | None) -> str:
    """Decode a text file: ``encoding`` if given, else UTF-8 (with or without BOM), else GB18030."""
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise LayerReadError("encoding", f"the file cannot be decoded as {encoding}: {exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode(FALLBACK_ENCODING, errors="replace")
