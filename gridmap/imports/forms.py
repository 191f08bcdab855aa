"""The import page's form: the same choices as ``manage.py import_layer``, checked the same way."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gridmap.core.boundary import text_validator
from gridmap.imports.targets import TARGETS

SUFFIXES = (".gpkg", ".geojson", ".json", ".csv", ".zip", ".shp")


class ImportForm(forms.Form):
    target = forms.ChoiceField(label=_("Import into"), choices=[(t, t) for t in sorted(TARGETS)])
    file = forms.FileField(
        label=_("File"),
        help_text=_("GeoPackage, GeoJSON, CSV with lon/lat columns, or a zipped Shapefile"),
    )
    kind = forms.SlugField(label=_("Facility kind or inspection point type"), required=False, max_length=40)
    srid = forms.IntegerField(label=_("EPSG code when the file declares no CRS"), required=False,
                              min_value=1024, max_value=999_999)  # fmt: skip
    encoding = forms.CharField(label=_("Attribute encoding"), required=False, max_length=20,
                               validators=[text_validator])  # fmt: skip
    layer = forms.CharField(label=_("Layer"), required=False, max_length=100, validators=[text_validator])
    strict = forms.BooleanField(label=_("Write nothing if any row is rejected"), required=False)
    commit = forms.BooleanField(label=_("Write to the database (otherwise a dry run)"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith(SUFFIXES):
            raise forms.ValidationError(
                _("Unsupported file type: use %(kinds)s") % {"kinds": ", ".join(SUFFIXES)}
            )
        limit_mb = settings.GRIDMAP_IMPORT_MAX_MB
        if upload.size > limit_mb * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB") % {"mb": limit_mb})
        return upload
