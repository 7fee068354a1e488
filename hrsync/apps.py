from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync"
    verbose_name = "Benefits Sync"
