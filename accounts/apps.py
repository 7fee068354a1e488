from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # "Users and rights › Audit log entries" in the breadcrumb.
    verbose_name = "Users and rights"

    def ready(self):
        from . import receivers  # noqa: F401
