"""The ``departments`` change stamp (gridmap.core.stamps), for the code books of departments."""

from gridmap.accounts.models import Department
from gridmap.core.stamps import watch

watch("departments", Department)
