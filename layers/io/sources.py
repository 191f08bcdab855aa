"""Locating the dataset inside an uploaded file: zipped shapefiles, sidecars and encodings.

Helpers for :func:`layers.io.vector.read_layer`. Nothing here touches coordinates; it decides which
GDAL path to open (``/vsizip/`` for a zip) and which text encoding a shapefile's DBF uses.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from layers.validate import GeometryInputError

# A zip whose members claim more than this uncompressed is refused (decompression bombs).
MAX_ZIP_UNCOMPRESSED_BYTES = 2 * 1024**3
# Chinese offices' shapefiles without a .cpg are GBK; GB18030 is its superset.
FALLBACK_ENCODING = "GB18030"


class LayerReadError(GeometryInputError):
    """A vector file that cannot be read as a whole (format, zip, layer, CRS or columns)."""


@dataclass(frozen=True)
class Source:
    """Where GDAL should read from, and the sidecar facts the reader needs."""

    gdal_path: str  # a file path or a /vsizip/ path
    kind: str  # "shapefile", "gpkg", "geojson" or "csv"
    has_cpg: bool = False
    dbf_bytes: bytes | None = None  # the shapefile's .dbf, when it has no .cpg
    label: str | None = None  # layer name to show, when GDAL's differs (GBK names in a zip)


SUFFIX_KIND = {".shp": "shapefile", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".csv": "csv"}


def open_source(path: Path, *, layer: str | None) -> Source:
    """Return the :class:`Source` for ``path``; a ``.zip`` must hold shapefile(s) only safely named."""
    if not path.is_file():
        raise LayerReadError("not_found", f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _zip_source(path, layer=layer)
    kind = SUFFIX_KIND.get(suffix)
    if kind is None:
        known = ", ".join(sorted(set(SUFFIX_KIND) | {".zip"}))
        raise LayerReadError("unsupported_format", f"unsupported file type {suffix or '(none)'}; use {known}")
    if kind != "shapefile":
        return Source(str(path), kind)
    siblings = {p.name.lower(): p for p in path.parent.iterdir()} if path.parent.is_dir() else {}
    stem = path.stem.lower()
    cpg = siblings.get(f"{stem}.cpg")
    dbf = siblings.get(f"{stem}.dbf")
    dbf_bytes = dbf.read_bytes() if dbf is not None and cpg is None else None
    return Source(str(path), kind, has_cpg=cpg is not None, dbf_bytes=dbf_bytes)


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


def _zip_source(path: Path, *, layer: str | None) -> Source:
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
        names = {i.filename.lower(): i.filename for i in infos if not i.is_dir()}
        shown = {i.filename: PurePosixPath(_display_name(i)).stem for i in infos}
        shps = sorted(n for n in names.values() if n.lower().endswith(".shp"))
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
        has_cpg = f"{base}.cpg" in names
        dbf_name = names.get(f"{base}.dbf")
        dbf_bytes = archive.read(dbf_name) if dbf_name is not None and not has_cpg else None
    gdal_path = f"/vsizip/{path.resolve()}/{shp}"
    return Source(gdal_path, "shapefile", has_cpg=has_cpg, dbf_bytes=dbf_bytes, label=shown[shp])


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
