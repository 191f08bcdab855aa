from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from gridmap.accounts.forms import AdminLoginForm
from gridmap.accounts.models import Department, Profile


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


admin.site.unregister(User)


@admin.register(User)
class GridmapUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "first_name", "is_staff"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    filter_horizontal = ["categories"]


# The admin's login says when the login throttle refuses (gridmap.accounts.backends).
admin.site.login_form = AdminLoginForm
