"""Load every app's demo data (``<app>/demo.py``'s ``load``), then print the URL and the logins."""

import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the logins"

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, url, **options):
        logins = []
        for config in apps.get_app_configs():
            if "." in config.name or importlib.util.find_spec(f"{config.name}.demo") is None:
                continue  # third-party apps, and apps without demo data
            module = importlib.import_module(f"{config.name}.demo")
            result = module.load(self.stdout)
            if config.name == "accounts":
                logins = result
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"AgencyDesk is at {url}"))
        self.stdout.write(f"API docs: {url.replace('/admin/', '/api/docs/')}")
        self.stdout.write("Logins (security group: username / password):")
        for group, username, password in logins:
            self.stdout.write(f"  {group:<15} {username} / {password}")
