from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    """The operators' floor: the admin API, the audit log and the stats page. It sits
    above every other app because it acts on all of them."""

    name = "staff"
    default = True


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, served by StaffAdminSite: every ModelAdmin registered anywhere is
    audited and the site has the stats page. Listed in INSTALLED_APPS in place of
    django.contrib.admin."""

    default = False
    default_site = "staff.sites.StaffAdminSite"
