from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from gridmap.accounts.forms import AdminLoginForm
from gridmap.accounts.models import Department, Profile
from gridmap.core.admin import Admin, CheckedInputMixin, Inline


class ProfileInline(Inline, admin.StackedInline):
    model = Profile
    can_delete = False


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class GridmapGroupAdmin(CheckedInputMixin, GroupAdmin):
    pass


@admin.register(User)
class GridmapUserAdmin(CheckedInputMixin, UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "first_name", "is_staff"]


@admin.register(Department)
class DepartmentAdmin(Admin):
    list_display = ["code", "name"]
    filter_horizontal = ["categories"]


# The admin's login says when the login throttle refuses (gridmap.accounts.backends).
admin.site.login_form = AdminLoginForm
